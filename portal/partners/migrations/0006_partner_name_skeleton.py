from django.db import migrations, models
from django.db.models.functions import Upper


def skeletons_fill(apps, schema_editor):
    """The skeleton of every existing partner's name, as `Partner.save` keeps it from now on."""
    from portal.core.names import name_skeleton

    Partner = apps.get_model("partners", "Partner")
    partners = list(Partner.objects.only("pk", "name"))
    for partner in partners:
        partner.name_skeleton = name_skeleton(partner.name)
    Partner.objects.bulk_update(partners, ["name_skeleton"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0005_schema_migration_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="partner",
            name="name_skeleton",
            field=models.TextField(blank=True, db_index=True, editable=False, verbose_name="name skeleton"),
        ),
        migrations.RunPython(skeletons_fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="partner",
            index=models.Index(Upper("schema_name"), name="partners_schema_name_upper"),
        ),
    ]
