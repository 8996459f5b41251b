from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "portal.partners"
    label = "partners"
    verbose_name = "Partners"

    def ready(self) -> None:
        from django.db.migrations.recorder import MigrationRecorder
        from django_tenants.signals import schema_migrated

        from portal.partners.schema_migrations import migrations_table_exists, schema_state_after_migrate_schemas

        # migrate_schemas, run by hand, keeps the recorded schema states true.
        schema_migrated.connect(schema_state_after_migrate_schemas, dispatch_uid="partners-schema-state")
        # Whether a schema has its migrations table, without a catalogue scan that grows with the partners.
        MigrationRecorder.has_table = migrations_table_exists  # type: ignore[method-assign]
