"""Concurrent allocations never exceed a pool: real processes race for its seats on committed rows.

The pool and the reseller link are committed (processes see only committed data), every process
takes the same start signal, and the test deletes all it and the processes wrote.
"""

import subprocess
import sys
import uuid

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from pools.choices import AllocationStatus, PoolService, PoolStatus
from pools.models import Pool, PoolAllocation
from portal.audit.models import AuditEvent, Notification
from portal.partners.models import Partner
from resellers.choices import ResellerStatus
from resellers.models import ResellerLink
from tests.processes import ROOT, process_environment

pytestmark = pytest.mark.integration

PROCESSES = 8
POOL_SEATS = 10
SEATS_EACH = 3  # at most three of the eight fit

RACER = """
import os, sys, time
import django
django.setup()
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context
from pools.models import Pool
from pools.services import allocation_create
from resellers.models import ResellerLink

pool_id, link_id, seats, start = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
link = ResellerLink.objects.select_related("large_account_reseller", "reseller").get(pk=link_id)
pool = Pool.objects.get(pk=pool_id)
print("READY", flush=True)
while not os.path.exists(start):
    time.sleep(0.002)
with schema_context(link.large_account_reseller.schema_name):
    try:
        allocation = allocation_create(actor="race", link=link, pool=pool, payment_type="prepaid", seats=seats)
    except ValidationError as error:
        print("REFUSED", error.messages, flush=True)
    else:
        print("ALLOCATED", allocation.pk, flush=True)
"""


def test_parallel_allocations_never_exceed_the_pool(django_db_setup, django_db_blocker, tmp_path):
    start = tmp_path / "start"
    with django_db_blocker.unblock():
        beta = Partner.objects.get(slug="beta")
        alpha = Partner.objects.get(slug="alpha")
        name = f"Race pool {uuid.uuid4().hex[:8]}"
        pool = Pool.objects.create(
            owner=beta,
            name=name,
            service=PoolService.BACKUP_M365,
            seats=POOL_SEATS,
            starts_on=timezone.localdate(),
            expires_on=timezone.localdate().replace(year=timezone.localdate().year + 1),
            status=PoolStatus.ACTIVE,
        )
        link = ResellerLink.objects.create(
            large_account_reseller=beta, reseller=alpha, email=alpha.owner_email, status=ResellerStatus.MAPPED
        )
    environment = process_environment()
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(pool.pk), str(link.pk), str(SEATS_EACH), str(start)],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        ready = 0
        for racer in racers:
            line = racer.stdout.readline()
            assert line.startswith("READY"), line + racer.stdout.read()
            ready += 1
        start.touch()  # all at once
        outputs = []
        for racer in racers:
            output, _ = racer.communicate(timeout=60)
            outputs.append(output)
        assert all(racer.returncode == 0 for racer in racers), outputs

        with django_db_blocker.unblock():
            allocations = list(PoolAllocation.objects.filter(pool=pool))
        allocated = sum(allocation.seats for allocation in allocations)
        assert ready == PROCESSES
        assert allocated <= POOL_SEATS
        assert len(allocations) == POOL_SEATS // SEATS_EACH  # every seat that fits was given, no more
        assert all(allocation.status == AllocationStatus.PENDING for allocation in allocations)
        assert sum("ALLOCATED" in output for output in outputs) == len(allocations)
        assert sum("Only 1 seats of this pool are free." in output for output in outputs) == PROCESSES - len(
            allocations
        )
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
                racer.wait()
        with django_db_blocker.unblock():
            ids = [str(pk) for pk in PoolAllocation.objects.filter(pool=pool).values_list("pk", flat=True)]
            with schema_context(beta.schema_name):
                AuditEvent.objects.filter(target_type="pools.poolallocation", target_id__in=ids).delete()
            with schema_context(alpha.schema_name):
                Notification.objects.filter(title__contains=name).delete()
            PoolAllocation.objects.filter(pool=pool).delete()
            pool.delete()
            link.delete()
            assert not Pool.objects.filter(name=name).exists()
