"""Celery tasks of the subscription lifecycle: adapters that call one service each.

Beat runs `lifecycle_run_due` in every partner's schema (`portal.core.tasks.dispatch_to_partners`):
scheduled decreases whose renewal has come, the licence automation, and approved requests following
their orders. Every step is idempotent, so a repeated or overlapping run changes nothing twice.
"""

from __future__ import annotations

import logging

from celery import shared_task

from subscriptions.services_automation import auto_decrease_run, auto_purchase_run
from subscriptions.services_lifecycle import scheduled_changes_apply_due
from subscriptions.services_requests import license_change_requests_settle

logger = logging.getLogger(__name__)


@shared_task(name="subscriptions.tasks.scheduled_changes_apply", ignore_result=True)
def scheduled_changes_apply() -> dict[str, int]:
    return scheduled_changes_apply_due()


@shared_task(name="subscriptions.tasks.licence_automation_run", ignore_result=True)
def licence_automation_run() -> dict[str, int]:
    purchased = auto_purchase_run()
    decreased = auto_decrease_run()
    return {"auto_purchase": len(purchased.created), "auto_decrease": len(decreased.created)}


@shared_task(name="subscriptions.tasks.license_requests_settle", ignore_result=True)
def license_requests_settle() -> int:
    return license_change_requests_settle()


@shared_task(name="subscriptions.tasks.lifecycle_run_due", ignore_result=True)
def lifecycle_run_due() -> dict[str, object]:
    """The hourly beat entry: settle first (so automation sees finished requests), then act."""
    settled = license_change_requests_settle()
    scheduled = scheduled_changes_apply_due()
    automation = licence_automation_run()
    summary = {"settled": settled, "scheduled": scheduled, **automation}
    logger.info("Subscription lifecycle run: %s", summary)
    return summary
