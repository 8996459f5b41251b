import uuid

from django.db import migrations, models


def tenant_ids_fill(apps, schema_editor):
    Partner = apps.get_model("partners", "Partner")
    for partner in Partner.objects.all().only("pk"):
        Partner.objects.filter(pk=partner.pk).update(tenant_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0003_partner_country_data_centre"),
    ]

    operations = [
        migrations.AddField(
            model_name="partner",
            name="tenant_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, null=True, verbose_name="tenant ID"),
        ),
        migrations.RunPython(tenant_ids_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="partner",
            name="tenant_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name="tenant ID"),
        ),
    ]
