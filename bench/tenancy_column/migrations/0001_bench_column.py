"""The benchmark's real migration: one trivial column added to a table of every partner schema."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE customers_customer ADD COLUMN bench_note text",
            reverse_sql="ALTER TABLE customers_customer DROP COLUMN bench_note",
        )
    ]
