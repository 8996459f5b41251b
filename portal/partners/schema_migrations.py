"""Deploy-time migrations of partner schemas: migrate only the schemas that are behind.

`migrate_schemas` opens every partner schema on every deploy and runs Django's `migrate` there, even
when nothing changed: a third of a second a partner, half an hour at 5,000. Here each schema's state
is recorded in the public schema (`SchemaMigrationState.digest`, a digest of the migrations it holds
that the code knows of), written in the same transaction as its migrations. A deploy compares those
digests with the code's in one query and migrates only the schemas that differ, in parallel batches,
each schema in one transaction: a failure rolls that schema back whole, is recorded with its error,
and leaves every other schema as it is. Running again retries exactly the schemas still behind.

A web process serves a partner only when its schema holds every migration the code knows of
(`partner_schema_is_current`); a schema that is behind gets the maintenance page instead of errors.
"""

import hashlib
import multiprocessing
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import OuterRef, Q, Subquery
from django_tenants.utils import get_tenant_base_migrate_command_class, schema_exists

from portal.partners.models import Partner, SchemaMigrationState

MigrationKey = tuple[str, str]

# Schemas read per query when digests are taken from the schemas themselves.
_DIGEST_QUERY_BATCH = 200


@dataclass(frozen=True)
class SchemaMigrationOutcome:
    schema_name: str
    ok: bool
    applied: int
    seconds: float
    error: str = ""


@dataclass(frozen=True)
class SchemasMigrationProgress:
    done: int
    total: int
    failed: int
    seconds: float


@cache
def code_migration_keys() -> tuple[MigrationKey, ...]:
    """Every migration row a fully migrated schema holds: each migration in the code's graph, and for a
    squashed one also the migrations it replaces (Django records both)."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    keys: set[MigrationKey] = set(graph.nodes)
    for key in list(keys):
        keys.update(graph.nodes[key].replaces or ())
    return tuple(sorted(keys))


def migration_digest(keys: Iterable[MigrationKey]) -> str:
    """The digest of a set of migrations; the SQL in `schemas_applied_digests` computes the same one."""
    text = "\n".join(f"{app}.{name}" for app, name in sorted(keys))
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


@cache
def code_migration_digest() -> str:
    return migration_digest(code_migration_keys())


def _known_names() -> list[str]:
    return [f"{app}.{name}" for app, name in code_migration_keys()]


def schemas_applied_digests(schema_names: Sequence[str]) -> dict[str, str]:
    """The digest of the known migrations each schema actually holds, read from the schemas (a schema
    without a migrations table holds none). A couple of queries per 200 schemas."""
    digests: dict[str, str] = {}
    known = _known_names()
    with connection.cursor() as cursor:
        for start in range(0, len(schema_names), _DIGEST_QUERY_BATCH):
            batch = list(schema_names[start : start + _DIGEST_QUERY_BATCH])
            # One catalogue-cache lookup per schema. A join of pg_class on relname = 'django_migrations'
            # read that table's row of every schema (one per partner) to keep the few asked for.
            cursor.execute(
                "SELECT name FROM unnest(%s::text[]) AS name "
                "WHERE to_regclass(quote_ident(name) || '.django_migrations') IS NOT NULL",
                [batch],
            )
            with_table = {row[0] for row in cursor.fetchall()}
            for schema_name in batch:
                digests[schema_name] = migration_digest(())
            if not with_table:
                continue
            selects = [
                "SELECT %s, md5(coalesce(string_agg(app || '.' || name, E'\\n' "
                'ORDER BY app COLLATE "C", name COLLATE "C"), \'\')) '
                f"FROM {connection.ops.quote_name(schema_name)}.django_migrations "
                "WHERE app || '.' || name = ANY(%s)"
                for schema_name in sorted(with_table)
            ]
            parameters: list[object] = []
            for schema_name in sorted(with_table):
                parameters += [schema_name, known]
            cursor.execute(" UNION ALL ".join(selects), parameters)
            digests.update(dict(cursor.fetchall()))
    return digests


def schema_state_record(*, schema_name: str, digest: str | None, error: str = "") -> None:
    """Write a schema's state in the public schema (inside the caller's transaction); a None digest
    keeps the recorded one, as after a failure."""
    defaults: dict[str, object] = {"error": error}
    if digest is not None:
        defaults["digest"] = digest
    SchemaMigrationState.objects.update_or_create(schema_name=schema_name, defaults=defaults)


def schema_state_refresh(schema_names: Sequence[str]) -> dict[str, str]:
    """Record what the schemas actually hold (for schemas migrated by other means, or never recorded)."""
    digests = schemas_applied_digests(schema_names)
    existing = set(
        SchemaMigrationState.objects.filter(schema_name__in=schema_names).values_list("schema_name", flat=True)
    )
    SchemaMigrationState.objects.bulk_create(
        [
            SchemaMigrationState(schema_name=name, digest=digest)
            for name, digest in digests.items()
            if name not in existing
        ]
    )
    for name in existing:
        SchemaMigrationState.objects.filter(schema_name=name).exclude(digest=digests[name]).update(digest=digests[name])
    return digests


def partner_schemas_behind(*, verify: bool = False, failed_only: bool = False) -> list[str]:
    """Partner schemas whose recorded digest is not the code's, in one query.

    A schema with no recorded state is read once from the schema itself and recorded; `verify` reads
    every schema (a few queries per 200), for when migrations were changed by hand."""
    partners = Partner.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
    if verify:
        schema_state_refresh(list(partners.values_list("schema_name", flat=True)))
    state = SchemaMigrationState.objects.filter(schema_name=OuterRef("schema_name"))
    rows = partners.annotate(
        recorded=Subquery(state.values("digest")[:1]), recorded_error=Subquery(state.values("error")[:1])
    ).filter(Q(recorded__isnull=True) | ~Q(recorded=code_migration_digest()))
    if failed_only:
        rows = rows.exclude(Q(recorded_error="") | Q(recorded_error__isnull=True))
    behind = list(rows.order_by("schema_name").values_list("schema_name", "recorded"))
    unrecorded = [name for name, recorded in behind if recorded is None]
    if unrecorded:
        found = schema_state_refresh(unrecorded)
        current = {name for name, digest in found.items() if digest == code_migration_digest()}
        behind = [(name, recorded) for name, recorded in behind if name not in current]
    return [name for name, _recorded in behind]


def public_schema_is_current() -> bool:
    connection.set_schema_to_public()  # type: ignore[attr-defined]  # django-tenants' DatabaseWrapper
    executor = MigrationExecutor(connection)
    return not executor.migration_plan(executor.loader.graph.leaf_nodes())


def schema_migrate(schema_name: str, *, lock_timeout_ms: int = 0) -> SchemaMigrationOutcome:
    """Migrate one schema to the code's migrations in one transaction, recording its state with it.

    On failure nothing of the schema changes (PostgreSQL DDL is transactional) and the error is recorded
    for the retry. `lock_timeout_ms` makes a migration that waits for a busy table fail instead of
    queueing every request of that partner behind it.
    """
    started = time.perf_counter()
    applied = 0
    try:
        with transaction.atomic():
            if lock_timeout_ms:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{lock_timeout_ms}ms"])
            # The migrations table must be created in the schema itself, not found in public.
            connection.set_schema(schema_name, include_public=False)  # type: ignore[attr-defined]
            MigrationRecorder(connection).ensure_schema()
            connection.set_schema(schema_name)  # type: ignore[attr-defined]
            applied_before = len(MigrationRecorder(connection).applied_migrations())
            command = get_tenant_base_migrate_command_class()(stdout=StringIO(), stderr=StringIO())
            call_command(command, interactive=False, verbosity=0)
            applied = len(MigrationRecorder(connection).applied_migrations()) - applied_before
            digest = schemas_applied_digests([schema_name])[schema_name]
            connection.set_schema_to_public()  # type: ignore[attr-defined]
            schema_state_record(schema_name=schema_name, digest=digest)
    except Exception as error:  # noqa: BLE001 - any failure is this schema's, named and retried
        connection.set_schema_to_public()  # type: ignore[attr-defined]
        message = f"{type(error).__name__}: {error}".strip()
        with transaction.atomic():
            schema_state_record(schema_name=schema_name, digest=None, error=message[:2000])
        return SchemaMigrationOutcome(schema_name, False, 0, time.perf_counter() - started, message)
    finally:
        connection.set_schema_to_public()  # type: ignore[attr-defined]
    return SchemaMigrationOutcome(schema_name, True, applied, time.perf_counter() - started)


def _migrate_batch(arguments: tuple[list[str], int]) -> list[SchemaMigrationOutcome]:
    schema_names, lock_timeout_ms = arguments
    try:
        return [schema_migrate(name, lock_timeout_ms=lock_timeout_ms) for name in schema_names]
    finally:
        connections.close_all()


def schemas_migrate(
    schema_names: Sequence[str],
    *,
    processes: int = 1,
    batch_size: int = 20,
    lock_timeout_ms: int = 0,
    on_progress: Callable[[SchemasMigrationProgress], None] | None = None,
) -> list[SchemaMigrationOutcome]:
    """Migrate the schemas in batches over `processes` worker processes; every schema is attempted."""
    started = time.perf_counter()
    batches = [
        (list(schema_names[i : i + batch_size]), lock_timeout_ms) for i in range(0, len(schema_names), batch_size)
    ]
    outcomes: list[SchemaMigrationOutcome] = []

    def collect(batch: list[SchemaMigrationOutcome]) -> None:
        outcomes.extend(batch)
        if on_progress:
            failed = sum(1 for outcome in outcomes if not outcome.ok)
            on_progress(
                SchemasMigrationProgress(len(outcomes), len(schema_names), failed, time.perf_counter() - started)
            )

    if processes <= 1 or len(batches) <= 1:
        for batch in batches:
            collect([schema_migrate(name, lock_timeout_ms=lock_timeout_ms) for name in batch[0]])
        return outcomes
    # Forked workers inherit the loaded apps; none may share the parent's database connection.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with context.Pool(processes=min(processes, len(batches))) as pool:
        for batch_outcomes in pool.imap_unordered(_migrate_batch, batches):
            collect(batch_outcomes)
    return outcomes


def partner_template_migrate(*, lock_timeout_ms: int = 0) -> SchemaMigrationOutcome | None:
    """Bring the partner template to the code's migrations when its recorded state says it is behind
    (creating it if missing); None when it was current."""
    template = settings.PARTNER_TEMPLATE_SCHEMA
    recorded = SchemaMigrationState.objects.filter(schema_name=template).values_list("digest", flat=True).first()
    if recorded == code_migration_digest() and schema_exists(template):
        return None
    if not schema_exists(template):
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA {connection.ops.quote_name(template)}")
    return schema_migrate(template, lock_timeout_ms=lock_timeout_ms)


# Schemas this process found to hold every known migration under a digest other than the code's (a
# schema ahead of this process's code during a rolling deploy, or recorded by an older run).
_found_current: set[str] = set()


def partner_schema_is_current(schema_name: str, recorded_digest: str | None) -> bool:
    """Whether a web process may serve this partner: its schema holds every migration the code knows of.

    `recorded_digest` comes with the partner's own lookup, so a current partner costs no query; any
    other digest costs one query on the schema itself (and then none, once found current)."""
    if recorded_digest == code_migration_digest() or schema_name in _found_current:
        return True
    known = _known_names()
    table = f"{connection.ops.quote_name(schema_name)}.django_migrations"
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [table])
        if cursor.fetchone()[0] is None:
            return False
        cursor.execute(
            f"SELECT count(DISTINCT app || '.' || name) FROM {table} WHERE app || '.' || name = ANY(%s)",
            [known],
        )
        holds_all = cursor.fetchone()[0] == len(known)
    if holds_all:
        _found_current.add(schema_name)
    return holds_all


def schema_state_after_migrate_schemas(sender: object, schema_name: str, **kwargs: object) -> None:
    """django-tenants' `migrate_schemas` knows nothing of the recorded states: after it migrated a
    schema, record what that schema now holds."""
    if schema_name == settings.PUBLIC_SCHEMA_NAME:
        return
    schema_state_record(schema_name=schema_name, digest=schemas_applied_digests([schema_name])[schema_name])


def migrations_table_exists(recorder: MigrationRecorder) -> bool:
    """`MigrationRecorder.has_table`, answered by one index lookup instead of listing the schema's tables.

    Django lists every table visible on the search path, which on PostgreSQL is a scan of the whole
    catalogue with a visibility test per row: ~400 rows per partner schema, so each call grows with
    the number of partners, and `migrate` calls it about eight times per schema, making a deploy over
    N schemas cost N squared. The answer is the same: the table in the connection's own schema (the
    one django-tenants' introspection looks in), not one found further down the search path.
    """
    if recorder._has_table:
        return True
    quote = recorder.connection.ops.quote_name
    schema_name = getattr(recorder.connection, "schema_name", None) or "public"
    with recorder.connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regclass(%s) IS NOT NULL", [f"{quote(schema_name)}.{quote(recorder.Migration._meta.db_table)}"]
        )
        recorder._has_table = bool(cursor.fetchone()[0])
    return recorder._has_table
