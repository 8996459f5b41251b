"""Beat entries of the pools (public schema): thin adapters over the services."""

from celery import shared_task

from pools.services import pool_snapshots_record, pools_expire


@shared_task(name="pools.tasks.pools_expire", ignore_result=True)
def pools_expire_task() -> dict:
    run = pools_expire()
    return {
        "pools_expired": run.pools_expired,
        "allocations_expired": run.allocations_expired,
        "assignments_expired": run.assignments_expired,
        "warnings_sent": run.warnings_sent,
    }


@shared_task(name="pools.tasks.pool_snapshots_record", ignore_result=True)
def pool_snapshots_record_task() -> int:
    return pool_snapshots_record()
