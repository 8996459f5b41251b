from django.db import migrations


def create_administrators(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    modules = ["customers", "marketplace", "subscriptions", "catalog", "reports", "resellers", "settings"]
    Role.objects.get_or_create(
        name="Administrators",
        defaults={
            "description": "Every permission on every customer. Built in; cannot be changed or deleted.",
            "permissions": {module: 2 for module in modules},
            "all_customers": True,
            "is_builtin": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_role_user_kind_user_preferences_user_roles")]

    operations = [migrations.RunPython(create_administrators, migrations.RunPython.noop)]
