from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0002_account_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="syncrun",
            name="mirror_digests",
            field=models.JSONField(blank=True, default=dict, editable=False, verbose_name="mirror digests"),
        ),
    ]
