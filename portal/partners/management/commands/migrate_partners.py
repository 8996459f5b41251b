import os
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from portal.partners.schema_migrations import (
    SchemasMigrationProgress,
    partner_schemas_behind,
    partner_template_migrate,
    public_schema_is_current,
    schemas_migrate,
)
from portal.partners.services import platform_ensure


class Command(BaseCommand):
    help = (
        "The deploy's migrate: the public schema, the partner template, then only the partner schemas whose "
        "recorded migrations differ from the code's, in parallel batches, one transaction a schema. A deploy "
        "with nothing to migrate costs a few queries. Run it again to retry the schemas that failed. "
        "(migrate_schemas still migrates every schema, for anyone who wants that.)"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--stage",
            choices=["all", "public", "partners"],
            default="all",
            help="public: the public schema, the platform's host and the partner template (what the web needs "
            "to start); partners: the partner schemas; all (default): both, in that order",
        )
        parser.add_argument("--partner", action="append", default=[], help="Only this partner (slug); repeatable")
        parser.add_argument("--failed", action="store_true", help="Only the schemas whose last migration failed")
        parser.add_argument(
            "--verify",
            action="store_true",
            help="Read every partner schema's migrations instead of trusting the recorded state (after changes "
            "by hand)",
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=getattr(settings, "TENANT_MULTIPROCESSING_MAX_PROCESSES", None) or os.cpu_count() or 1,
        )
        parser.add_argument("--batch-size", type=int, default=20, help="Schemas a worker migrates per batch")
        parser.add_argument(
            "--lock-timeout",
            type=int,
            default=10_000,
            help="Milliseconds a migration waits for a table in use before that schema fails (0: wait forever)",
        )
        parser.add_argument("--dry-run", action="store_true", help="List the schemas that are behind; change nothing")

    def handle(self, *args, **options):
        started = time.perf_counter()
        verbosity = options["verbosity"]
        if options["stage"] in ("all", "public"):
            self._public(options)
        if options["stage"] in ("all", "partners"):
            self._partners(options, started)
        elif verbosity:
            self.stdout.write(
                f"Public schema and partner template are current ({time.perf_counter() - started:.1f} s)."
            )

    def _public(self, options) -> None:
        if options["dry_run"]:
            if not public_schema_is_current():
                self.stdout.write("The public schema is behind.")
            return
        if not public_schema_is_current():
            call_command("migrate_schemas", shared=True, interactive=False, verbosity=max(options["verbosity"] - 1, 0))
        platform_ensure()
        outcome = partner_template_migrate(lock_timeout_ms=options["lock_timeout"])
        if outcome is not None and not outcome.ok:
            raise CommandError(f"The partner template could not be migrated: {outcome.error}")

    def _partners(self, options, started: float) -> None:
        behind = partner_schemas_behind(verify=options["verify"], failed_only=options["failed"])
        if options["partner"]:
            from portal.partners.services import schema_name_for

            wanted = {schema_name_for(slug.strip().lower()) for slug in options["partner"]}
            behind = [name for name in behind if name in wanted]
        if options["dry_run"]:
            for name in behind:
                self.stdout.write(name)
            self.stdout.write(f"{len(behind)} partner schema(s) behind; nothing was changed.")
            return
        if not behind:
            if options["verbosity"]:
                self.stdout.write(
                    f"No partner schema is behind: nothing to migrate ({time.perf_counter() - started:.1f} s)."
                )
            return

        def progress(state: SchemasMigrationProgress) -> None:
            if options["verbosity"]:
                self.stdout.write(
                    f"  {state.done}/{state.total} partner schemas migrated, {state.failed} failed "
                    f"({state.seconds:.1f} s)"
                )

        outcomes = schemas_migrate(
            behind,
            processes=max(options["processes"], 1),
            batch_size=max(options["batch_size"], 1),
            lock_timeout_ms=options["lock_timeout"],
            on_progress=progress,
        )
        failed = [outcome for outcome in outcomes if not outcome.ok]
        for outcome in failed:
            self.stderr.write(
                f"  FAILED {outcome.schema_name}: {outcome.error.splitlines()[0] if outcome.error else ''}"
            )
        summary = (
            f"Migrated {len(outcomes) - len(failed)} of {len(outcomes)} partner schema(s) that were behind, "
            f"{len(failed)} failed ({time.perf_counter() - started:.1f} s)."
        )
        if failed:
            raise CommandError(
                summary + " The failed schemas are unchanged and their partners see the maintenance page; "
                "run `manage.py migrate_partners --failed` to retry just them."
            )
        if options["verbosity"]:
            self.stdout.write(summary)
