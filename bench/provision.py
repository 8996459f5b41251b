"""Provisioning benchmark: 10 partners by cloning the template schema, 10 by running migrations.

    ./dev bench provision

Runs against the configured database and removes every partner and schema it created.
Target: cloning takes at most a quarter of the migration time.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from portal.partners import services  # noqa: E402
from portal.partners.models import Partner  # noqa: E402
from portal.partners.services import (  # noqa: E402
    ProvisioningMethod,
    partner_create,
    partner_template_ensure,
    platform_ensure,
)

# The schema step is what the method changes; the rest of partner_create (rows, and above all the
# administrator's PBKDF2 password hash, ~250 ms) costs the same either way. Both are reported.
_schema_timings: list[float] = []
_create_schema = services._create_schema


def _timed_create_schema(schema_name, method):
    started = time.perf_counter()
    try:
        return _create_schema(schema_name, method)
    finally:
        _schema_timings.append(time.perf_counter() - started)


services._create_schema = _timed_create_schema

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))


def provision(method: ProvisioningMethod, index: int) -> tuple[float, float]:
    """Returns (whole partner_create, schema step) in seconds."""
    slug = f"bench-{method.value}-{index}"
    started = time.perf_counter()
    partner_create(name=f"Bench {method.value} {index}", slug=slug, admin_email=f"a@{slug}.example", method=method)
    return time.perf_counter() - started, _schema_timings[-1]


def remove_bench_partners() -> None:
    for partner in Partner.objects.filter(slug__startswith="bench-"):
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{partner.schema_name}" CASCADE')
        partner.delete()


def main() -> None:
    platform_ensure()
    partner_template_ensure()
    remove_bench_partners()
    # interleave the two methods so neither gets a warmer cache or an emptier disk
    whole: dict[ProvisioningMethod, list[float]] = {ProvisioningMethod.CLONE: [], ProvisioningMethod.MIGRATE: []}
    schema: dict[ProvisioningMethod, list[float]] = {ProvisioningMethod.CLONE: [], ProvisioningMethod.MIGRATE: []}
    try:
        for index in range(ROUNDS):
            for method in (ProvisioningMethod.MIGRATE, ProvisioningMethod.CLONE):
                total, step = provision(method, index)
                whole[method].append(total)
                schema[method].append(step)
    finally:
        remove_bench_partners()
    print(f"partners per method: {ROUNDS}")
    for label, timings in (("schema step", schema), ("whole partner_create", whole)):
        clone = statistics.median(timings[ProvisioningMethod.CLONE])
        migrate = statistics.median(timings[ProvisioningMethod.MIGRATE])
        ratio = clone / migrate
        print(f"{label}:")
        print(f"  clone   median {clone * 1000:8.1f} ms")
        print(f"  migrate median {migrate * 1000:8.1f} ms")
        print(f"  clone / migrate {ratio:.3f}  (target <= 0.25: {'met' if ratio <= 0.25 else 'NOT met'})")


if __name__ == "__main__":
    main()
