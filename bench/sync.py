"""Sync benchmark: each marketplace's simulator (ALSO, Partner Center, Cloudmore, ALEF) with 2,000
companies and 20,000 subscriptions, all connected, one marketplace after the other.

    ./dev bench sync
    BENCH_PROVIDERS=partner_center,alef ./dev bench sync     # only some marketplaces

Measured in-process (the simulator behind httpx.WSGITransport, so the network is not measured):
(a) the floor: the provider alone fetching what a sync fetches (customers, plans and prices, the
    subscriptions of every connected tenant, as many tenants at once as the sync, drawing on the
    request budget as the sync does), measured before each sync;
(b) a first full sync into empty tables;
(c) a second sync with nothing changed, and the rows it wrote (INSERT / UPDATE / DELETE / COPY, except
    its own sync run row).
Targets (the same for every marketplace against its own floor): b/a <= 1.5, c/a <= 1.2,
(c) writes 0 rows.

Then, with latency (`BENCH_LATENCY=0` skips it, `BENCH_ROUNDS=0` runs only it): every request the
simulator answers is delayed by BENCH_LATENCY_MS (100 ms), as a marketplace across the network
answers, and the sync keeps BENCH_CONCURRENCY (8) requests in flight. Its floor is the time the
requests it made take when `concurrency` of them always overlap: requests x delay / concurrency.
Printed per marketplace: the requests, the floor, the first sync's and the repeat's wall time and
their ratios to the floor. Targets: first/floor <= 1.3, repeat/floor <= 1.3.

Creates its own partner `bench-sync` and drops it (and its schema) at the end.
"""

import logging
import os
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from catalog.models import Offer  # noqa: E402
from customers.choices import ConsentState  # noqa: E402
from customers.models import Customer, CustomerTenant  # noqa: E402
from marketplace import rate_budget  # noqa: E402
from marketplace import sync as sync_engine  # noqa: E402
from marketplace.connections import (  # noqa: E402
    override_provider_transport,
    provider_for_account,
    secret_options_encrypt,
)
from marketplace.models import MarketplaceAccount, MarketplaceCustomer, SyncRun, TenantConnection  # noqa: E402
from marketplace.providers.registry import marketplaces  # noqa: E402
from marketplace.secrets import secret_encrypt  # noqa: E402
from marketplace.sync import sync_run_execute  # noqa: E402
from portal.partners.models import Partner  # noqa: E402
from portal.partners.services import partner_create, partner_template_ensure, platform_ensure  # noqa: E402
from simulators import simulator_module  # noqa: E402
from subscriptions.models import Subscription  # noqa: E402

SLUG = "bench-sync"
COMPANIES = int(os.environ.get("BENCH_COMPANIES", "2000"))
SUBSCRIPTIONS_PER_COMPANY = int(os.environ.get("BENCH_SUBSCRIPTIONS_PER_COMPANY", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
PROVIDERS = [
    slug.strip() for slug in os.environ.get("BENCH_PROVIDERS", ",".join(marketplaces())).split(",") if slug.strip()
]
BULK_PREFIX = "Bulk Customer"
LATENCY = os.environ.get("BENCH_LATENCY", "1") not in {"0", "false", "no"}
LATENCY_SECONDS = int(os.environ.get("BENCH_LATENCY_MS", "100")) / 1000
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))

# Query logging (DEBUG) and a log line per HTTP call would be measured too; neither is the sync.
settings.DEBUG = False
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("marketplace.providers.http").setLevel(logging.WARNING)


def remove_bench_partner() -> None:
    for partner in Partner.objects.filter(slug=SLUG):
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{partner.schema_name}" CASCADE')
        # The request budgets go with the partner: the in-process rounds reserve without waiting (their
        # transport never sleeps), and a budget left in debt would make the next partner of this schema
        # name, with the same account ids, wait hours for its first request.
        client = rate_budget._redis()
        for key in client.scan_iter(match=f"{rate_budget.budget_key_prefix()}:{partner.schema_name}:*"):
            client.delete(key)
        partner.delete()


def bulk_simulator(slug: str, companies: int = COMPANIES, subscriptions_per_company: int = SUBSCRIPTIONS_PER_COMPANY):
    """The marketplace's simulator with its demo data and the bulk companies of its demo reseller."""
    simulator = simulator_module(slug).create_simulator()
    if slug == "partner_center":
        simulator.seed_bulk(customers=companies, subscriptions_per_customer=subscriptions_per_company)
    else:
        simulator.seed_bulk(companies=companies, subscriptions_per_company=subscriptions_per_company)
    return simulator


def connect_companies(slug: str) -> MarketplaceAccount:
    """The account of the simulator's demo reseller, and one consented tenant per bulk company (the
    companies as the provider lists them, so the same code serves every marketplace)."""
    demo = simulator_module(slug).DEMO_CONNECTION
    secret_names = {option.name for option in marketplaces()[slug].options if option.secret}
    account = MarketplaceAccount.objects.create(
        marketplace=slug,
        display_name=f"{marketplaces()[slug].name} bench",
        region=demo.region,
        username=demo.username,
        secret_ciphertext=secret_encrypt(demo.secret),
        options={name: value for name, value in demo.options.items() if name not in secret_names},
        secret_options_ciphertext=secret_options_encrypt(
            {name: value for name, value in demo.options.items() if name in secret_names}
        ),
    )
    provider = provider_for_account(account)
    try:
        companies = [record for record in provider.list_customers() if record.name.startswith(BULK_PREFIX)]
    finally:
        provider.close()
    customers = Customer.objects.bulk_create([Customer(name=company.name, country="DE") for company in companies])
    tenants = CustomerTenant.objects.bulk_create(
        [
            CustomerTenant(
                customer=customer,
                tenant_id=uuid.uuid4(),
                primary_domain=f"bulk{company.name.split()[2]}.onmicrosoft.com",
                consent_state=ConsentState.CONSENTED,
            )
            for customer, company in zip(customers, companies, strict=True)
        ]
    )
    TenantConnection.objects.bulk_create(
        [
            TenantConnection(
                marketplace=slug,
                customer_tenant=tenant,
                account=account,
                external_customer_id=company.external_id,
                external_customer_name=company.name,
            )
            for tenant, company in zip(tenants, companies, strict=True)
        ]
    )
    return account


def fetch_floor(account: MarketplaceAccount) -> tuple[float, int]:
    """(a): the provider alone, fetching exactly what the sync fetches."""
    external_ids = list(
        TenantConnection.objects.filter(account=account).order_by("pk").values_list("external_customer_id", flat=True)
    )
    concurrency = sync_engine.sync_concurrency(account)
    started = time.perf_counter()
    provider = provider_for_account(account, reserve_ahead=2 * concurrency)  # the budget drawn on as the sync does
    try:
        records = len(list(provider.list_customers())) + len(list(provider.list_offers()))
        provider.list_subscriptions_prepare(customer_external_ids=external_ids)
        # as many customers at once as the sync lists
        with ThreadPoolExecutor(max_workers=concurrency) as executor:
            records += sum(
                executor.map(
                    lambda external_id: len(list(provider.list_subscriptions(customer_external_id=external_id))),
                    external_ids,
                )
            )
    finally:
        provider.close()
    return time.perf_counter() - started, records


class WriteCounter:
    """Counts rows written by INSERT / UPDATE / DELETE statements and COPY, except on the sync run table."""

    active: "WriteCounter | None" = None

    def __init__(self) -> None:
        self.rows = 0
        self.statements = 0

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        verb = sql.lstrip().split(" ", 1)[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE"} and "marketplace_syncrun" not in sql:
            self.statements += 1
            self.rows += max(context["cursor"].rowcount, 0)
        return result


_copy_rows = sync_engine.copy_rows


def counted_copy_rows(**kwargs) -> int:
    copied = _copy_rows(**kwargs)
    if WriteCounter.active is not None and not kwargs["table"].startswith("sync_"):  # not the temporary table
        WriteCounter.active.statements += 1
        WriteCounter.active.rows += copied
    return copied


sync_engine.copy_rows = counted_copy_rows


def timed_sync(account: MarketplaceAccount) -> tuple[float, SyncRun, WriteCounter]:
    run = SyncRun.objects.create(account=account, trigger="manual")
    counter = WriteCounter.active = WriteCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        run = sync_run_execute(run_id=run.pk)
    elapsed = time.perf_counter() - started
    WriteCounter.active = None
    if run.status != "succeeded":
        raise SystemExit(f"sync failed: {run.error_message}")
    return elapsed, run, counter


def empty_mirror(account: MarketplaceAccount) -> None:
    Subscription.objects.filter(account=account).delete()
    Offer.objects.filter(account=account).delete()
    MarketplaceCustomer.objects.filter(account=account).delete()


def settle() -> None:
    """Do now the vacuum and analyze autovacuum would start after 20,000 inserts or deletes, so it
    does not land inside the next timing (between real syncs it has minutes to run)."""
    with connection.cursor() as cursor:
        for model in (Subscription, Offer, MarketplaceCustomer):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def bench_marketplace(slug: str) -> dict[str, float | int]:
    name = marketplaces()[slug].name
    print(f"{name}: simulator with {COMPANIES} companies x {SUBSCRIPTIONS_PER_COMPANY} subscriptions", flush=True)
    simulator = bulk_simulator(slug)
    floor: list[float] = []
    first: list[float] = []
    second: list[float] = []
    second_rows: list[int] = []
    try:
        partner = partner_create(name="Bench sync", slug=SLUG, admin_email=f"admin@{SLUG}.example").partner
        with (
            schema_context(partner.schema_name),
            override_provider_transport(slug, httpx.WSGITransport(app=simulator), sleep=lambda seconds: None),
        ):
            account = connect_companies(slug)
            for round_number in range(1, ROUNDS + 1):
                # (a) is measured before (b) and again before (c), so each sync has a floor taken
                # under the same conditions.
                empty_mirror(account)
                settle()
                elapsed, records = fetch_floor(account)
                floor.append(elapsed)
                first_elapsed, first_run, first_writes = timed_sync(account)
                first.append(first_elapsed)
                settle()
                again, _records = fetch_floor(account)
                floor.append(again)
                second_elapsed, second_run, second_writes = timed_sync(account)
                second.append(second_elapsed)
                second_rows.append(second_writes.rows)
                print(
                    f"  round {round_number}: (a) {elapsed:5.2f} s and {again:5.2f} s, {records} records | "
                    f"(b) {first_elapsed:5.2f} s, {first_writes.rows} rows written | "
                    f"(c) {second_elapsed:5.2f} s, {second_writes.rows} rows written, "
                    f"{second_run.total('unchanged')} unchanged",
                    flush=True,
                )
    finally:
        remove_bench_partner()
    a, b, c = statistics.median(floor), statistics.median(first), statistics.median(second)
    rows = max(second_rows)
    print(f"  (a) floor, client alone     median {a:6.2f} s")
    print(f"  (b) first full sync         median {b:6.2f} s  b/a {b / a:.2f}  (target <= 1.5: {verdict(b / a <= 1.5)})")
    print(f"  (c) second sync, no changes median {c:6.2f} s  c/a {c / a:.2f}  (target <= 1.2: {verdict(c / a <= 1.2)})")
    print(f"  rows written by (c): {rows}  (target 0: {verdict(rows == 0)})", flush=True)
    return {"a": a, "b": b, "c": c, "rows": rows}


class DelayingTransport(httpx.BaseTransport):
    """The simulator as across a network: every answer comes `delay` seconds after its request. The
    wait releases the interpreter, as waiting for a socket does, so requests in flight overlap."""

    def __init__(self, inner: httpx.BaseTransport, *, delay: float) -> None:
        self.inner = inner
        self.delay = delay
        self.requests = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests += 1
        time.sleep(self.delay)
        return self.inner.handle_request(request)


def latency_sync(account: MarketplaceAccount, transport: DelayingTransport) -> tuple[float, int, SyncRun]:
    before = transport.requests
    started = time.perf_counter()
    run = sync_run_execute(run_id=SyncRun.objects.create(account=account, trigger="manual").pk)
    elapsed = time.perf_counter() - started
    if run.status != "succeeded":
        raise SystemExit(f"sync failed: {run.error_message}")
    return elapsed, transport.requests - before, run


def bench_latency(slug: str) -> dict[str, float | int]:
    """A first sync into empty tables and a repeat with nothing changed, every request delayed."""
    name = marketplaces()[slug].name
    simulator = bulk_simulator(slug)
    try:
        partner = partner_create(name="Bench sync", slug=SLUG, admin_email=f"admin@{SLUG}.example").partner
        with schema_context(partner.schema_name):
            with override_provider_transport(slug, httpx.WSGITransport(app=simulator)):
                account = connect_companies(slug)
            MarketplaceAccount.objects.filter(pk=account.pk).update(sync_concurrency=CONCURRENCY)
            account.refresh_from_db()
            transport = DelayingTransport(httpx.WSGITransport(app=simulator), delay=LATENCY_SECONDS)
            with override_provider_transport(slug, transport):
                first, requests, first_run = latency_sync(account, transport)
                settle()
                repeat, repeat_requests, repeat_run = latency_sync(account, transport)
    finally:
        remove_bench_partner()
    floor = requests * LATENCY_SECONDS / CONCURRENCY
    print(
        f"latency {name}  requests {requests}  floor {floor:.1f} s  first {first:.1f} s  "
        f"first/floor {first / floor:.2f}  repeat/floor {repeat / floor:.2f}",
        flush=True,
    )
    if repeat_requests != requests or repeat_run.rows_written:
        print(f"  the repeat made {repeat_requests} requests and wrote {repeat_run.rows_written} rows")
    return {"floor": floor, "first": first, "repeat": repeat, "requests": requests}


def main() -> None:
    platform_ensure()
    partner_template_ensure()
    remove_bench_partner()
    if ROUNDS > 0:
        print(f"{ROUNDS} rounds per marketplace: {', '.join(PROVIDERS)}", flush=True)
        results = {slug: bench_marketplace(slug) for slug in PROVIDERS}
        print("summary (each marketplace against its own floor):")
        for slug, result in results.items():
            a, b, c, rows = result["a"], result["b"], result["c"], result["rows"]
            met = b / a <= 1.5 and c / a <= 1.2 and rows == 0
            print(
                f"  {marketplaces()[slug].name:<26} a {a:6.2f} s  b/a {b / a:.2f}  c/a {c / a:.2f}  rows {rows}  "
                f"targets {verdict(met)}"
            )
    if LATENCY:
        print(
            f"latency: {COMPANIES} companies x {SUBSCRIPTIONS_PER_COMPANY} subscriptions, "
            f"{LATENCY_SECONDS * 1000:.0f} ms per request, concurrency {CONCURRENCY}",
            flush=True,
        )
        latencies = {slug: bench_latency(slug) for slug in PROVIDERS}
        met = all(r["first"] / r["floor"] <= 1.3 and r["repeat"] / r["floor"] <= 1.3 for r in latencies.values())
        print(f"latency targets (first/floor <= 1.3, repeat/floor <= 1.3): {verdict(met)}")


if __name__ == "__main__":
    main()
