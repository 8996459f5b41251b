"""Tenancy benchmark: provisioning as partners accumulate, a deploy with nothing to migrate, a real migration.

    ./dev bench tenancy                       # 500 partners
    BENCH_PARTNERS=100 ./dev bench tenancy    # fewer
    BENCH_STEPS=provision ./dev bench tenancy # only some steps (provision, noop, migrate; default all)

Creates N partners with `partner_create` (what `create_partner` and sign-up call), timing each; then runs
the deploy's command, `manage.py migrate_partners`, as a deploy runs it (a fresh process, wall time):
once with nothing to migrate, once with settings whose code adds one column to a table of every
partner schema (`bench/tenancy_settings.py`). Then removes every partner, schema and column it created.

Prints one line:

    tenancy: 500 partners  provision p50 first 0.52 s last 0.55 s  noop deploy 4.1 s  migrate one column 38.0 s

then the 95th percentiles and the targets at 500 partners: a no-op deploy within 10 s, and the last 50
provisions no slower than 1.2 times the first 50.
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from portal.partners.models import Partner, SchemaMigrationState  # noqa: E402
from portal.partners.schema_migrations import schema_state_refresh  # noqa: E402
from portal.partners.services import partner_create, partner_template_ensure, platform_ensure  # noqa: E402

PARTNERS = int(os.environ.get("BENCH_PARTNERS", "500"))
SLUG_PREFIX = "tenancy-"
WINDOW = 50
COLUMN_APP = "tenancy_column"
STEPS = {step.strip() for step in os.environ.get("BENCH_STEPS", "provision,noop,migrate").split(",") if step.strip()}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def backend_cpu_seconds() -> float | None:
    """CPU time of this connection's PostgreSQL backend, when the server runs on this machine (else None)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def deploy(settings_module: str) -> float:
    """Wall time of the deploy's migrate command in a new process, as the compose file runs it."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate_partners"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"migrate_partners failed:\n{result.stdout}\n{result.stderr}")
    last = result.stdout.strip().splitlines()[-1:] or [""]
    print(f"  migrate_partners ({settings_module}): {last[0]}", file=sys.stderr, flush=True)
    return elapsed


def drop_schema(schema_name: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {connection.ops.quote_name(schema_name)} CASCADE")


def remove_bench_partners() -> None:
    connection.set_schema_to_public()
    partners = list(Partner.objects.filter(slug__startswith=SLUG_PREFIX).values_list("pk", "schema_name"))
    for pk, schema_name in partners:  # one schema a transaction: each holds ~400 relations' locks
        drop_schema(schema_name)
        with transaction.atomic():
            Partner.objects.filter(pk=pk).delete()
            SchemaMigrationState.objects.filter(schema_name=schema_name).delete()


def remove_bench_column() -> None:
    """Take the benchmark's column out of the schemas that stay (the template, partners of this database)."""
    connection.set_schema_to_public()
    schemas = [
        settings.PARTNER_TEMPLATE_SCHEMA,
        *Partner.objects.exclude(schema_name="public").values_list("schema_name", flat=True),
    ]
    quote = connection.ops.quote_name
    for schema_name in schemas:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {quote(schema_name)}.customers_customer DROP COLUMN IF EXISTS bench_note")
            cursor.execute(f"DELETE FROM {quote(schema_name)}.django_migrations WHERE app = %s", [COLUMN_APP])
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM public.django_migrations WHERE app = %s", [COLUMN_APP])
    schema_state_refresh(schemas)


def main() -> None:
    platform_ensure()
    partner_template_ensure()
    remove_bench_partners()
    timings: list[float] = []
    # CPU seconds per provisioning (this process + its PostgreSQL backend): on a machine other work
    # loads, wall times follow that load; CPU times show whether the work itself grows.
    cpu_timings: list[float] = []
    try:
        started = time.perf_counter()
        for index in range(PARTNERS):
            slug = f"{SLUG_PREFIX}{index:05d}"
            backend_before = backend_cpu_seconds()
            cpu_before = time.process_time()
            began = time.perf_counter()
            partner_create(name=f"Tenancy bench {index:05d}", slug=slug, admin_email=f"admin@{slug}.example")
            timings.append(time.perf_counter() - began)
            backend_after = backend_cpu_seconds()
            if backend_before is not None and backend_after is not None:
                cpu_timings.append(time.process_time() - cpu_before + backend_after - backend_before)
            if (index + 1) % WINDOW == 0 or index + 1 == PARTNERS:
                print(
                    f"  provisioned {index + 1}/{PARTNERS}, last {WINDOW}: p50 "
                    f"{statistics.median(timings[-WINDOW:]):.2f} s ({time.perf_counter() - started:.0f} s)",
                    file=sys.stderr,
                    flush=True,
                )
        noop = deploy("portal.settings.base") if "noop" in STEPS else float("nan")
        one_column = deploy("bench.tenancy_settings") if "migrate" in STEPS else float("nan")
    finally:
        # the partners first: the column then comes out of the few schemas that stay
        remove_bench_partners()
        remove_bench_column()

    window = min(WINDOW, max(1, len(timings) // 2))
    first, last = timings[:window], timings[-window:]
    first_p50, last_p50 = statistics.median(first), statistics.median(last)
    print(
        f"tenancy: {PARTNERS} partners  provision p50 first {first_p50:.2f} s last {last_p50:.2f} s  "
        f"noop deploy {noop:.1f} s  migrate one column {one_column:.1f} s"
    )
    print(
        f"tenancy: {PARTNERS} partners  provision p95 first {percentile(first, 0.95):.2f} s "
        f"last {percentile(last, 0.95):.2f} s  (first and last {window} partners)"
    )
    if len(cpu_timings) == len(timings):
        print(
            f"tenancy: {PARTNERS} partners  provision cpu (client + server) mean first "
            f"{statistics.mean(cpu_timings[:window]):.2f} s last {statistics.mean(cpu_timings[-window:]):.2f} s",
            file=sys.stderr,
        )
    ratio = last_p50 / first_p50
    print(
        f"targets: noop deploy <= 10 s {'not run' if noop != noop else 'met' if noop <= 10 else 'NOT met'}; "
        f"last {window} p50 <= 1.2 x first {window} {'met' if ratio <= 1.2 else 'NOT met'} ({ratio:.2f} x)"
        + ("" if PARTNERS >= 500 else f"  (the targets are set at 500 partners; this run had {PARTNERS})")
    )


if __name__ == "__main__":
    main()
