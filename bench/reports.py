"""Reports benchmark: the billing report and its XLSX export for a large partner.

    ./dev bench reports

A partner with 2,000 customers and 20,000 subscriptions (with add-ons' worth of variety: monthly and
annual plans, customer-specific prices for some customers) and 12 months of daily usage snapshots
(7.3 million rows: seats rising every two months, falling every six, and a one-seat increase
removed two days later here and there, so cycle fees, pro-rata lines, refunds and decreases without
refund all occur). Measured for the last 3, 6 and 12 billing cycles:
(a) the billing report as the screen computes it (every subscription's lines, totals per cycle and customer);
(b) its XLSX export (one row per line, written to the streamed temporary file).
Each measurement runs in a fresh process; its peak resident memory above the process's size when it
began (sampled every 20 ms) is its own. Target: memory stays flat as the months grow.
Then issued statements:
(c) closing a billing cycle: the cycle before the last complete one, then the last one (which also
    recomputes the first to look for late corrections). Target: each at most 30 s;
(d) opening the closed cycle's report from its statements (the partner view: totals per cycle and
    customer; and one customer's subscriptions and lines). Target: median at most 50 ms.

Creates its own partner `bench-reports` and drops it (and its schema) at the end.
"""

import json
import os
import resource
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

SLUG = "bench-reports"
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "2000"))
SUBSCRIPTIONS_PER_CUSTOMER = int(os.environ.get("BENCH_SUBSCRIPTIONS_PER_CUSTOMER", "10"))
DAYS = int(os.environ.get("BENCH_DAYS", "365"))
MONTHS = (3, 6, 12)

settings.DEBUG = False  # query logging would be measured too


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1024 / 1024


class RssSampler:
    """The process's resident memory sampled every 20 ms on a thread: the peak while measuring,
    above what the process held when the measurement began (ru_maxrss cannot tell: its peak may be
    an import-time transient from before the measurement)."""

    def __init__(self) -> None:
        import threading

        self.start = current_rss_mb()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, current_rss_mb())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, current_rss_mb())
        return self.peak - self.start


# -- data -----------------------------------------------------------------------------------------------------------


def remove_bench_partner() -> None:
    from portal.partners.models import Partner

    for partner in Partner.objects.filter(slug=SLUG):
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{partner.schema_name}" CASCADE')
        partner.delete()


def build(today) -> dict:
    """Customers, tenants, offers and subscriptions through the ORM; today's snapshot through the
    service itself; the year before it generated in the database (7.3 million rows are data, not
    something the console writes in one go)."""
    import uuid

    from catalog.models import CustomerPrice, Offer
    from customers.choices import ConsentState
    from customers.models import Customer, CustomerTenant
    from marketplace.models import MarketplaceAccount
    from reports.services import usage_snapshots_take
    from subscriptions.models import Subscription

    figures = {}
    account = MarketplaceAccount.objects.create(
        marketplace="also", display_name="ALSO bench", region="de", username="bench@also.example", secret_ciphertext="-"
    )
    offers = Offer.objects.bulk_create(
        [
            Offer(
                account=account,
                external_id=f"SERVICE-{index}|{'Prepaid' if index % 4 == 0 else 'Monthly'}",
                product_id=f"SERVICE-{index}",
                name=f"Bench plan {index}",
                billing_cycle="annual" if index % 4 == 0 else "monthly",
                term="P1Y",
                charge_type="recurring",
                currency="EUR",
                cost_price=Decimal(120 + index * 3) if index % 4 == 0 else Decimal("4.20") + index,
            )
            for index in range(40)
        ]
    )
    customers = Customer.objects.bulk_create(
        [Customer(name=f"Bench Customer {index:05d}", country="DE") for index in range(CUSTOMERS)], batch_size=2000
    )
    tenants = CustomerTenant.objects.bulk_create(
        [
            CustomerTenant(
                customer=customer,
                tenant_id=uuid.uuid4(),
                primary_domain=f"bench{index}.onmicrosoft.com",
                consent_state=ConsentState.CONSENTED,
            )
            for index, customer in enumerate(customers)
        ],
        batch_size=2000,
    )
    # Every 20th customer has prices of its own, so the pricing chain runs per customer for them.
    CustomerPrice.objects.bulk_create(
        [
            CustomerPrice(customer=customer, offer=offers[index % len(offers)], markup_percent=Decimal("12"))
            for index, customer in enumerate(customers)
            if index % 20 == 0
        ]
    )
    started = timezone.now() - timedelta(days=DAYS + 30)
    subscriptions = []
    for index, tenant in enumerate(tenants):
        for number in range(SUBSCRIPTIONS_PER_CUSTOMER):
            offer = offers[(index + number) % len(offers)]
            subscriptions.append(
                Subscription(
                    customer_tenant=tenant,
                    account=account,
                    external_id=f"SUB-{index}-{number}",
                    offer=offer,
                    offer_external_id=offer.external_id,
                    product_id=offer.product_id,
                    name=offer.name,
                    quantity=1 + (index + number) % 20,
                    assigned=(index + number) % 20,
                    status="active",
                    billing_cycle=offer.billing_cycle,
                    term="P1Y",
                    started_at=started + timedelta(days=(index * 7 + number) % 365),
                    currency="EUR",
                )
            )
    Subscription.objects.bulk_create(subscriptions, batch_size=5000)
    figures["subscriptions"] = len(subscriptions)
    began = time.perf_counter()
    usage_snapshots_take(day=today)
    figures["snapshot_seconds"] = time.perf_counter() - began
    began = time.perf_counter()
    figures["history_rows"] = usage_history_generate(today=today, days=DAYS)
    figures["history_seconds"] = time.perf_counter() - began
    return figures


def usage_history_generate(*, today, days: int) -> int:
    """The `days` before `today` of daily usage snapshots for every tracked subscription, generated in
    the database: seats rising every two months, falling every six, and a one-seat increase removed
    two days later here and there. Returns the rows written."""
    from reports.models import TrackedSubscription

    first = today - timedelta(days=days)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO reports_usagesnapshot (subscription_id, day, quantity, assigned, status)
            SELECT t.id, d.day::date, q.quantity, greatest(q.quantity - t.id %% 3, 0), 'active'
            FROM generate_series(%s::date, %s::date, interval '1 day') AS d(day)
            CROSS JOIN reports_trackedsubscription t
            CROSS JOIN LATERAL (
                SELECT 1 + t.id %% 20
                     + 2 * ((((d.day::date - %s::date) + (t.id * 7) %% 60) / 60) %% 3)
                     + CASE WHEN ((d.day::date - %s::date) + t.id) %% 97 IN (0, 1) THEN 1 ELSE 0 END AS quantity
            ) q
            ORDER BY d.day, t.id
            ON CONFLICT DO NOTHING
            """,
            [first, today - timedelta(days=1), first, first],
        )
        written = cursor.rowcount
        cursor.execute("ANALYZE reports_usagesnapshot")
    TrackedSubscription.objects.update(first_seen=first)
    return written


# -- measurements (each in its own process) --------------------------------------------------------------------------


def measure(schema_name: str, kind: str, months: int) -> dict:
    from django.contrib.auth import get_user_model

    from reports import rows as export_rows
    from reports.billing import recent_cycles
    from reports.billing_report import billing_bills, billing_summary
    from reports.exports import xlsx_file
    from reports.selectors import billing_cycle_end_day

    with schema_context(schema_name):
        user = get_user_model().objects.get(username="admin")
        if kind in ("close", "open"):
            return measure_statements(user, kind, months)
        cycles = recent_cycles(timezone.localdate(), months, cycle_end_day=billing_cycle_end_day())
        sampler = RssSampler()
        began = time.perf_counter()
        if kind == "report":
            summaries = billing_summary(user=user, cycles=cycles, customers_of=cycles[-1])
            result = {
                "bills": sum(summary.subscriptions for summary in summaries),
                "total": str(sum((summary.total.amounts.get("EUR", Decimal(0)) for summary in summaries), Decimal(0))),
            }
        else:
            header, rows = export_rows.billing(billing_bills(user=user, cycles=cycles), sees_cost=True)
            counted = 0

            def counting():
                nonlocal counted
                for row in rows:
                    counted += 1
                    yield row

            spooled = xlsx_file(sheet_title="Billing", header=header, rows=counting())
            size = spooled.seek(0, os.SEEK_END)
            spooled.close()
            result = {"lines": counted, "bytes": size}
        result["seconds"] = time.perf_counter() - began
        result["peak_mb"] = sampler.stop()
        result["baseline_mb"] = sampler.start
        return result


def measure_statements(user, kind: str, which: int) -> dict:
    """(c) close the cycle `which` of the last two complete ones (0: the earlier); (d) open the last
    complete cycle's report from its statements, `which` times, and take the median."""
    import statistics

    from customers.models import Customer
    from reports.billing import recent_cycles
    from reports.billing_report import billing_summary
    from reports.selectors import billing_cycle_end_day
    from reports.statements import billing_cycle_close

    cycles = recent_cycles(timezone.localdate(), 2, cycle_end_day=billing_cycle_end_day())
    sampler = RssSampler()
    if kind == "close":
        began = time.perf_counter()
        closed = billing_cycle_close(actor="bench", cycle=cycles[which])
        result = {
            "seconds": time.perf_counter() - began,
            "statements": closed.statements,
            "lines": closed.lines,
            "adjustments": closed.adjustments,
            "total": str(closed.totals.get("EUR", Decimal(0))),
        }
    else:
        cycle = cycles[-1]
        customer = Customer.objects.order_by("name").values_list("pk", flat=True)[CUSTOMERS // 2]
        partner_ms, customer_ms = [], []
        for _ in range(which):
            began = time.perf_counter()
            (summary,) = billing_summary(user=user, cycles=[cycle], customers_of=cycle)
            partner_ms.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            (own,) = billing_summary(user=user, cycles=[cycle], customer_id=customer, keep_bills=True)
            customer_ms.append((time.perf_counter() - began) * 1000)
        result = {
            "partner_ms": statistics.median(partner_ms),
            "customer_ms": statistics.median(customer_ms),
            "customers": len(summary.customers),
            "subscriptions": summary.subscriptions,
            "total": str(summary.total.amounts.get("EUR", Decimal(0))),
            "issued": summary.issued_at is not None and own.issued_at is not None,
            "customer_bills": len(own.bills),
        }
    result["peak_mb"] = sampler.stop()
    return result


def run_measurement(schema_name: str, kind: str, months: int) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "measure", schema_name, kind, str(months)],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "measure-only":  # BENCH_KEEP left the partner: measure again
        for months in MONTHS:
            print(months, run_measurement(sys.argv[2], "report", months), flush=True)
        return
    from portal.partners.services import partner_create, partner_template_ensure, platform_ensure

    platform_ensure()
    partner_template_ensure()
    remove_bench_partner()
    today = timezone.localdate()
    print(
        f"partner: {CUSTOMERS} customers x {SUBSCRIPTIONS_PER_CUSTOMER} subscriptions, {DAYS} days of snapshots",
        flush=True,
    )
    try:
        partner = partner_create(name="Bench reports", slug=SLUG, admin_email=f"admin@{SLUG}.example").partner
        with schema_context(partner.schema_name):
            began = time.perf_counter()
            figures = build(today)
        print(
            f"data: {figures['subscriptions']} subscriptions; today's snapshot (the service) "
            f"{figures['snapshot_seconds']:.1f} s; {figures['history_rows']:,} history rows in "
            f"{figures['history_seconds']:.1f} s; built in {time.perf_counter() - began:.0f} s",
            flush=True,
        )
        results = {}
        # BENCH_ONLY=statements measures (c) and (d) alone (the same data, without the long (a) and (b)).
        for months in () if os.environ.get("BENCH_ONLY") == "statements" else MONTHS:
            report = run_measurement(partner.schema_name, "report", months)
            export = run_measurement(partner.schema_name, "xlsx", months)
            results[months] = (report, export)
            print(
                f"{months:2d} months | (a) billing report {report['seconds']:6.1f} s, "
                f"peak +{report['peak_mb']:6.1f} MB, "
                f"{report['bills']:,} subscription bills, total {Decimal(report['total']):,.2f} EUR | "
                f"(b) XLSX export {export['seconds']:6.1f} s, peak +{export['peak_mb']:6.1f} MB, "
                f"{export['lines']:,} lines, {export['bytes'] / 1024 / 1024:.1f} MB file",
                flush=True,
            )
        for which, label in ((0, "the cycle before the last"), (1, "the last cycle, checking the one before")):
            closed = run_measurement(partner.schema_name, "close", which)
            print(
                f"(c) closing {label}: {closed['seconds']:6.1f} s (target <= 30 s), peak +{closed['peak_mb']:6.1f} MB, "
                f"{closed['statements']:,} statements, {closed['lines']:,} lines, {closed['adjustments']:,} "
                f"adjustments, total {Decimal(closed['total']):,.2f} EUR",
                flush=True,
            )
        opened = run_measurement(partner.schema_name, "open", 21)
        print(
            f"(d) opening the closed cycle from its statements (median of 21): partner view "
            f"{opened['partner_ms']:.1f} ms (target <= 50 ms, {opened['customers']:,} customers, "
            f"{opened['subscriptions']:,} subscriptions, total {Decimal(opened['total']):,.2f} EUR); one customer "
            f"{opened['customer_ms']:.1f} ms ({opened['customer_bills']} bills); issued on shown: {opened['issued']}",
            flush=True,
        )
    finally:
        if not os.environ.get("BENCH_KEEP"):
            remove_bench_partner()
    if not results:
        return
    report_growth = results[12][0]["peak_mb"] / max(results[3][0]["peak_mb"], 1)
    export_growth = results[12][1]["peak_mb"] / max(results[3][1]["peak_mb"], 1)
    print(f"memory 12 months / 3 months: report {report_growth:.2f}x, export {export_growth:.2f}x (flat: ~1)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "measure":
        print(json.dumps(measure(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    else:
        main()
