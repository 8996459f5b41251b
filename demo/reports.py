"""Demo data of the reports module: a year of daily usage for the demo subscriptions, so every report
has history: seats added and removed over the year (some inside the refund window, some after it),
assigned seats trailing the quantity, the partner's billing cycle ending on the 15th (a common
billing day), saved custom reports, a year of issued billing statements, and every marketplace account's
invoices of the last complete cycle for reconciliation.

Idempotent: today's snapshot is taken again (replacing today's rows), past days are only added where
missing (`ignore_conflicts`), the billing day and the saved report are created once, and a cycle
already issued is not issued again.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import httpx
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from marketplace.models import MarketplaceAccount
from reports.billing import last_complete_cycle, recent_cycles
from reports.models import BillingDay, SavedReport, TrackedSubscription, UsageSnapshot
from reports.selectors import billing_cycle_end_day
from reports.services import invoice_lines_import, usage_snapshots_take
from reports.statements import billing_cycle_close
from simulators import simulator_module

HISTORY_DAYS = 365
DEMO_BILLING_DAY = 15
BATCH = 5000
#: Complete billing cycles the demo has issued statements for: a year of them.
STATEMENT_CYCLES = 12


def _quantity_path(tracked: TrackedSubscription, current: int, start: date, today: date) -> list[tuple[date, int]]:
    """Change points from `start` to today ending at today's quantity: a deterministic walk per
    subscription, with a few increases and decreases, some decreases inside the 7-day window."""
    rng = random.Random(f"{tracked.account_id}:{tracked.external_id}")
    days = (today - start).days
    points: list[tuple[date, int]] = []
    quantity = current
    # Walk backwards from today: each step undoes a change that happened on `day`.
    day_offsets = sorted(rng.sample(range(1, max(days, 2)), k=min(max(days // 60, 1), max(days - 1, 1))), reverse=True)
    for offset in day_offsets:
        day = start + timedelta(days=offset)
        points.append((day, quantity))
        step = rng.choice((-3, -2, -1, 1, 2, 2, 3, 5))
        quantity = max(1, quantity - step)
        if rng.random() < 0.25 and offset > 4:  # an increase undone three days later: a refund
            points.append((day - timedelta(days=3), quantity + 2))
    points.append((start, quantity))
    return sorted(points)


def _history_rows(tracked: TrackedSubscription, current: int, assigned: int | None, status: str, today: date):
    # A year for every subscription: the start date a marketplace reports is often the last renewal.
    start = today - timedelta(days=HISTORY_DAYS)
    rng = random.Random(f"assigned:{tracked.external_id}")
    points = _quantity_path(tracked, current, start, today)
    index, quantity = 0, points[0][1]
    day = start
    while day < today:
        while index < len(points) and points[index][0] <= day:
            quantity = points[index][1]
            index += 1
        unassigned = rng.choice((0, 0, 0, 1, 2)) if assigned is not None else None
        yield UsageSnapshot(
            subscription_id=tracked.pk,
            day=day,
            quantity=quantity,
            assigned=None if unassigned is None else max(0, quantity - unassigned),
            status="active" if status in ("active", "suspended", "terminated") else status,
        )
        day += timedelta(days=1)


def _backfill(today: date) -> tuple[int, int]:
    """A year of snapshots before today for every tracked subscription that has none yet."""
    tracked_count, rows_written = 0, 0
    todays = {
        row["subscription_id"]: row
        for row in UsageSnapshot.objects.filter(day=today).values("subscription_id", "quantity", "assigned", "status")
    }
    for tracked in TrackedSubscription.objects.filter(pk__in=list(todays)).order_by("pk"):
        if UsageSnapshot.objects.filter(subscription=tracked, day__lt=today).exists():
            continue
        today_row = todays[tracked.pk]
        batch: list[UsageSnapshot] = []
        for snapshot in _history_rows(
            tracked, today_row["quantity"], today_row["assigned"], today_row["status"], today
        ):
            batch.append(snapshot)
            if len(batch) == BATCH:
                rows_written += len(UsageSnapshot.objects.bulk_create(batch, ignore_conflicts=True))
                batch = []
        if batch:
            rows_written += len(UsageSnapshot.objects.bulk_create(batch, ignore_conflicts=True))
        first = UsageSnapshot.objects.filter(subscription=tracked).order_by("day").values_list("day", flat=True).first()
        if first and first < tracked.first_seen:
            TrackedSubscription.objects.filter(pk=tracked.pk).update(first_seen=first)
        tracked_count += 1
    return tracked_count, rows_written


def _issue_statements(today: date) -> int:
    """Issue the year's complete cycles, oldest first, each on the day after it ended (as beat
    would have); cycles already issued are left as they are."""
    issued = 0
    for cycle in recent_cycles(today, STATEMENT_CYCLES, cycle_end_day=billing_cycle_end_day()):
        moment = timezone.make_aware(datetime.combine(cycle.report_date, time(6, 0)))
        result = billing_cycle_close(actor="demo", cycle=cycle, now=moment)
        issued += not result.already_closed
    return issued


@contextlib.contextmanager
def _simulator(slug: str) -> Iterator[None]:
    """The marketplace's running simulator if it answers, else an in-process one seeded the same way
    (the run command seeds before it starts the simulators; tests have none)."""

    from marketplace.connections import override_provider_transport, server_url_for

    url = server_url_for(slug)
    if url:
        try:
            if httpx.get(f"{url.rstrip('/')}/_control/state", timeout=1.0).status_code == 200:
                yield
                return
        except httpx.HTTPError:
            pass
    module = simulator_module(slug)
    with override_provider_transport(slug, httpx.WSGITransport(app=module.create_simulator())):
        yield


def seed(partner) -> list[str]:
    today = timezone.localdate()
    with transaction.atomic():
        usage_snapshots_take(day=today)
        tracked, rows = _backfill(today)
        if not BillingDay.objects.filter(account__isnull=True).exists():
            BillingDay.objects.create(account=None, cycle_end_day=DEMO_BILLING_DAY)
        admin = get_user_model().objects.filter(username="admin").first()
        if admin is not None:
            SavedReport.objects.get_or_create(
                owner=admin, name="Seats per customer", defaults={"dimension": "customer", "measure": "seats"}
            )
            SavedReport.objects.get_or_create(
                owner=admin, name="Revenue per marketplace", defaults={"dimension": "marketplace", "measure": "revenue"}
            )
    issued = _issue_statements(today)
    cycle = last_complete_cycle(today, cycle_end_day=billing_cycle_end_day())
    fetched = []
    for account in MarketplaceAccount.objects.order_by("display_name"):
        with _simulator(account.marketplace):
            fetch = invoice_lines_import(actor="demo", account=account, period_start=cycle.start, period_end=cycle.end)
        fetched.append(f"{account.display_name}: {fetch.invoice_import.get_status_display().lower()}")
    return [
        f"  Reports: {tracked} subscription(s) given a year of history ({rows} daily snapshots), billing cycle "
        f"ends on day {billing_cycle_end_day()}; invoices of {cycle.start}–{cycle.end} fetched "
        f"({', '.join(fetched) or 'no marketplace account'}); {issued} billing cycle(s) issued as statements"
    ]
