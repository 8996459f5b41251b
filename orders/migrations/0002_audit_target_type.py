"""Audit events name their target by its model label; orders' label changed from `subscriptions.order` to
`orders.order` (and the line's and quote's with it) when orders became their own app. The events keep
their wording and their target; only the pointer to the model follows the move, so filtering the audit log
by object type finds an order's whole history."""

from django.db import migrations

RENAMES = {
    "subscriptions.order": "orders.order",
    "subscriptions.orderline": "orders.orderline",
    "subscriptions.quote": "orders.quote",
}


def forwards(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    for old, new in RENAMES.items():
        AuditEvent.objects.filter(target_type=old).update(target_type=new)


def backwards(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    for old, new in RENAMES.items():
        AuditEvent.objects.filter(target_type=new).update(target_type=old)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("audit", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
