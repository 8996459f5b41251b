"""Pages benchmark: the console's main pages for a small and a large partner, against the home page.

    ./dev bench pages
    BENCH_SIZES=2000 ./dev bench pages          # one size only
    BENCH_KEEP=1 ./dev bench pages               # keep the partners; then measure them again with
    ./dev bench pages measure-only 10 2000        # (no rebuilding)

For each size N (10 and 2,000 customers) a partner of its own (`bench-pages-<N>`, service provider
and large account reseller) with N customers x 10 subscriptions synced from the ALSO simulator's bulk
seed, a year of daily usage snapshots, the last complete billing cycle issued as statements, one
completed order and ten audit events per customer, a license change request for every fourth one.

Then, with production settings (DEBUG off, the manifest static files, HTTPS behind a proxy), every
main list, detail and report page is measured:
- in-process through Django's test client (the whole middleware stack, no network): the queries, the
  time spent in SQL, and the server time, each the median of 20 requests after two warm-up ones;
- under gunicorn (4 sync workers) over loopback: the throughput of 16 concurrent clients (threads
  in a bounded loop, BENCH_SECONDS each, default 4), as a share of the home page's.

Targets at 2,000 customers: server time <= 2 x (SQL + 20 ms) on every page; no list page above
60 ms and no report above 150 ms median; throughput >= 1/4 of the home page's; the same number of
queries at 10 and at 2,000 customers. The last line sums it up.
"""

import base64
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

SIZES = [int(size) for size in os.environ.get("BENCH_SIZES", "10,2000").split(",") if size.strip()]
SUBSCRIPTIONS_PER_CUSTOMER = 10
DAYS = int(os.environ.get("BENCH_DAYS", "365"))
RUNS = 20
CONCURRENCY = 16
SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
WORKERS = 4
LIST_LIMIT_MS = 60.0
REPORT_LIMIT_MS = 150.0

settings.DEBUG = False  # query logging would be measured too


def slug_of(size: int) -> str:
    return f"bench-pages-{size}"


def production_environment() -> dict[str, str]:
    """Production settings for the measured processes: DEBUG off, keys of their own, HTTPS behind a
    proxy; the marketplace key is the development one the build encrypted the account's secret with."""
    environment = dict(os.environ)
    environment.update(
        DJANGO_SETTINGS_MODULE="portal.settings.base",
        DEBUG="0",
        SECRET_KEY="bench-pages-" + hashlib.sha256(b"bench pages").hexdigest(),
        MARKETPLACE_SECRET_KEYS=base64.urlsafe_b64encode(
            hashlib.sha256(b"development-only marketplace secret key").digest()
        ).decode(),
        MICROSOFT_CLIENT_ID="bench-pages-client",
        MICROSOFT_CLIENT_SECRET="bench-pages-secret",
        TRUST_X_FORWARDED_PROTO="1",
        PORTAL_DOMAIN=settings.PORTAL_DOMAIN,  # the domain the partners were created under
    )
    for name in [name for name in environment if name.endswith("_SIMULATOR_URL")]:
        del environment[name]
    return environment


# -- data -----------------------------------------------------------------------------------------------------------


def remove_bench_partner(size: int) -> None:
    from portal.partners.models import Partner

    for partner in Partner.objects.filter(slug=slug_of(size)):
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{partner.schema_name}" CASCADE')
        partner.delete()


def build(size: int, today) -> dict[str, float | int]:
    """The partner's data as the console would hold it: customers and subscriptions from a sync of
    the simulator's bulk seed, then history (snapshots, a closed cycle, orders, requests, audit
    events) written in bulk."""
    from bench.reports import usage_history_generate
    from bench.sync import bulk_simulator, connect_companies
    from marketplace.connections import override_provider_transport
    from marketplace.models import SyncRun
    from marketplace.sync import sync_run_execute
    from reports.billing import recent_cycles
    from reports.selectors import billing_cycle_end_day
    from reports.services import usage_snapshots_take
    from reports.statements import billing_cycle_close

    figures: dict[str, float | int] = {}
    began = time.perf_counter()
    simulator = bulk_simulator("also", companies=size, subscriptions_per_company=SUBSCRIPTIONS_PER_CUSTOMER)
    with override_provider_transport("also", httpx.WSGITransport(app=simulator), sleep=lambda seconds: None):
        account = connect_companies("also")
        run = sync_run_execute(run_id=SyncRun.objects.create(account=account, trigger="manual").pk)
    if run.status != "succeeded":
        raise SystemExit(f"sync failed: {run.error_message}")
    figures["sync_seconds"] = time.perf_counter() - began
    began = time.perf_counter()
    usage_snapshots_take(day=today)
    figures["history_rows"] = usage_history_generate(today=today, days=DAYS)
    figures["history_seconds"] = time.perf_counter() - began
    began = time.perf_counter()
    (cycle,) = recent_cycles(today, 1, cycle_end_day=billing_cycle_end_day())
    billing_cycle_close(actor="bench", cycle=cycle)
    figures["close_seconds"] = time.perf_counter() - began
    figures.update(history_build(account))
    with connection.cursor() as cursor:  # what autovacuum does after bulk writes: planner statistics
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return figures


def history_build(account) -> dict[str, int]:
    """One completed order per customer tenant (a quantity change of its first subscription), a
    pending license change request for every fourth, ten audit events per customer."""
    from django.contrib.auth import get_user_model

    from customers.models import CustomerTenant
    from orders.choices import OrderLineKind, OrderLineStatus, OrderStatus
    from orders.models import Order, OrderLine
    from portal.audit.choices import AuditAction
    from portal.audit.models import AuditEvent
    from subscriptions.choices_lifecycle import RequestKind, RequestStatus
    from subscriptions.models import LicenseChangeRequest, Subscription

    admin = get_user_model().objects.get(username="admin")
    now = timezone.now()
    first_subscription = {}
    for subscription in Subscription.objects.filter(account=account).order_by("-pk"):
        first_subscription[subscription.customer_tenant_id] = subscription
    tenants = list(CustomerTenant.objects.select_related("customer").order_by("pk"))
    orders = Order.objects.bulk_create(
        [
            Order(
                number=f"BENCH-{tenant.pk:06d}",
                customer_tenant=tenant,
                account=account,
                status=OrderStatus.COMPLETED,
                created_by=admin,
                submitted_by=admin,
                submitted_at=now - timedelta(days=index % 300),
                completed_at=now - timedelta(days=index % 300),
            )
            for index, tenant in enumerate(tenants)
        ],
        batch_size=2000,
    )
    lines = []
    for order, tenant in zip(orders, tenants, strict=True):
        subscription = first_subscription.get(tenant.pk)
        if subscription is None:
            continue
        lines.append(
            OrderLine(
                order=order,
                kind=OrderLineKind.CHANGE_QUANTITY,
                offer=subscription.offer,
                offer_name=subscription.name,
                subscription=subscription,
                subscription_external_id=subscription.external_id,
                quantity=subscription.quantity,
                previous_quantity=max(subscription.quantity - 1, 1),
                currency=subscription.currency or "EUR",
                unit_price=Decimal("10.50"),
                unit_cost=Decimal("10.00"),
                status=OrderLineStatus.APPLIED,
                applied_at=order.completed_at,
            )
        )
    OrderLine.objects.bulk_create(lines, batch_size=2000)
    requests = LicenseChangeRequest.objects.bulk_create(
        [
            LicenseChangeRequest(
                customer_tenant=tenant,
                kind=RequestKind.CHANGE_QUANTITY,
                status=RequestStatus.PENDING,
                subscription=first_subscription[tenant.pk],
                offer=first_subscription[tenant.pk].offer,
                product_name=first_subscription[tenant.pk].name,
                current_quantity=first_subscription[tenant.pk].quantity,
                requested_quantity=first_subscription[tenant.pk].quantity + 2,
                currency="EUR",
                requested_by=admin,
            )
            for index, tenant in enumerate(tenants)
            if index % 4 == 0 and tenant.pk in first_subscription
        ]
    )
    actions = [
        AuditAction.SUBSCRIPTION_QUANTITY_CHANGE,
        AuditAction.ORDER_SUBMIT,
        AuditAction.CUSTOMER_UPDATE,
        AuditAction.CUSTOMER_PRICE_SET,
        AuditAction.USER_SIGN_IN,
    ]
    events = AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=admin,
                actor_label=admin.username,
                action=actions[number % len(actions)],
                target_type="customers.customer",
                target_id=str(tenant.customer_id),
                target_label=tenant.customer.name,
                customer_id=tenant.customer_id,
                after={"quantity": number},
                ip_address="192.0.2.10",
            )
            for tenant in tenants
            for number in range(10)
        ],
        batch_size=5000,
    )
    return {"orders": len(orders), "requests": len(requests), "audit_events": len(events)}


# -- measurements (a process with production settings) ---------------------------------------------------------------


@dataclass
class Page:
    name: str
    path: str
    kind: str  # "home", "list", "detail", "report" or "settings"


def pages(schema_name: str) -> list[Page]:
    """The pages, each with a representative object: the middle customer, its first subscription, ..."""
    from catalog.models import Offer
    from customers.models import Customer
    from marketplace.models import MarketplaceAccount
    from orders.models import Order
    from subscriptions.models import LicenseChangeRequest, Subscription

    with schema_context(schema_name):
        customers = Customer.objects.order_by("name")
        customer = customers[customers.count() // 2]
        tenant = customer.tenants.order_by("pk").first()
        subscription = Subscription.objects.filter(customer_tenant=tenant).order_by("pk").first()
        order = Order.objects.filter(customer_tenant=tenant).first()
        account = MarketplaceAccount.objects.get()
        offer = Offer.objects.filter(account=account).order_by("pk").first()
        request = LicenseChangeRequest.objects.order_by("pk").first()
    return [
        Page("home", "/", "home"),
        Page("customers", "/customers/", "list"),
        Page("customer detail", f"/customers/{customer.pk}/", "detail"),
        Page("subscriptions", "/subscriptions/", "list"),
        Page("subscription detail", f"/subscriptions/{subscription.pk}/", "detail"),
        Page("renewal calendar", "/subscriptions/calendar/", "list"),
        Page("tenant users", f"/subscriptions/tenants/{tenant.pk}/users/", "list"),
        Page("license change requests", "/subscriptions/requests/", "list"),
        Page("license change request", f"/subscriptions/requests/{request.pk}/", "detail"),
        Page("orders", "/orders/", "list"),
        Page("order detail", f"/orders/{order.pk}/", "detail"),
        Page("quotes", "/orders/quotes/", "list"),
        Page("catalog", "/catalog/", "list"),
        Page("offer detail", f"/catalog/offers/{offer.pk}/", "detail"),
        Page("customize catalog", "/catalog/customize/", "list"),
        Page("customer prices", "/catalog/customer-prices/", "list"),
        Page("store", f"/catalog/store/{tenant.pk}/", "list"),
        Page("marketplace", "/marketplace/", "list"),
        Page("marketplace tenants", "/marketplace/also/", "list"),
        Page("marketplace accounts", "/marketplace/also/accounts/", "list"),
        Page("marketplace account", f"/marketplace/also/accounts/{account.pk}/", "detail"),
        Page("account prices", f"/marketplace/also/accounts/{account.pk}/prices/", "list"),
        Page("reseller directory", "/resellers/", "list"),
        Page("my providers", "/resellers/my-providers/", "list"),
        Page("pools (reseller dashboard)", "/pools/", "list"),
        Page("audit log", "/settings/audit-logs/", "list"),
        Page("reports", "/reports/", "report"),
        Page("usage report", "/reports/usage/", "report"),
        Page("usage detail", f"/reports/usage/{subscription.pk}/", "report"),
        Page("operations report", "/reports/operations/", "report"),
        Page("activity report", "/reports/activity/", "report"),
        Page("cost report", "/reports/cost/", "report"),
        Page("custom report", "/reports/custom/", "report"),
        Page("billing report", "/reports/billing/", "report"),
        Page("reconciliation", "/reports/reconciliation/", "report"),
        Page("profile", "/accounts/profile/", "settings"),
        Page("settings", "/settings/", "settings"),
        Page("users", "/settings/users/", "settings"),
        Page("roles", "/settings/roles/", "settings"),
        Page("customer groups", "/settings/customer-groups/", "settings"),
        Page("language and region", "/settings/language-and-region/", "settings"),
    ]


class SqlTimer:
    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - began
            self.queries += 1


def signed_in(schema_name: str, host: str):
    """A test client signed in as the partner's administrator, past the second factor, and its cookie."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from portal.authentication.session import SECOND_FACTOR_SESSION_KEY

    client = Client(HTTP_HOST=host, HTTP_X_FORWARDED_PROTO="https")
    with schema_context(schema_name):
        client.force_login(get_user_model().objects.get(username="admin"))
        session = client.session
        session[SECOND_FACTOR_SESSION_KEY] = "bench"
        session.save()
    return client, client.cookies[settings.SESSION_COOKIE_NAME].value


def in_process(client, page: Page) -> dict:
    for _ in range(2):
        response = client.get(page.path, secure=True)
        if response.status_code != 200:
            raise SystemExit(f"{page.name} {page.path}: HTTP {response.status_code} {response.get('Location', '')}")
    queries, sql_ms, server_ms = [], [], []
    for _ in range(RUNS):
        timer = SqlTimer()
        with connection.execute_wrapper(timer):
            began = time.perf_counter()
            response = client.get(page.path, secure=True)
            server_ms.append((time.perf_counter() - began) * 1000)
        queries.append(timer.queries)
        sql_ms.append(timer.seconds * 1000)
    return {
        "queries": queries[-1],
        "sql_ms": statistics.median(sql_ms),
        "server_ms": statistics.median(server_ms),
        "kb": len(response.content) / 1024,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_start(port: int, host: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "portal.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={WORKERS}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=os.environ,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"Host": host}, timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def throughput(port: int, host: str, cookie: str, page: Page, seconds: float = SECONDS) -> dict:
    """CONCURRENCY threads requesting the page for `seconds`; requests finished per second and their p50."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client_loop() -> None:
        nonlocal failures
        headers = {"Host": host, "X-Forwarded-Proto": "https", "Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
            while time.monotonic() < stop_at:
                began = time.perf_counter()
                try:
                    status = client.get(page.path).status_code
                except httpx.HTTPError:
                    status = 0
                elapsed = time.perf_counter() - began
                with lock:
                    if status == 200:
                        latencies.append(elapsed)
                    else:
                        failures += 1

    began = time.perf_counter()
    threads = [threading.Thread(target=client_loop) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "failures": failures,
    }


def measure(size: int) -> dict:
    from portal.partners.models import Partner
    from portal.partners.services import partner_primary_host

    partner = Partner.objects.get(slug=slug_of(size))
    host = partner_primary_host(partner.slug)
    client, cookie = signed_in(partner.schema_name, host)
    results = {}
    for page in pages(partner.schema_name):
        results[page.name] = {"path": page.path, "kind": page.kind, **in_process(client, page)}
    port = free_port()
    server = gunicorn_start(port, host)
    try:
        for page in pages(partner.schema_name):  # every worker loads its code and templates first
            throughput(port, host, cookie, page, seconds=0.5)
        for page in pages(partner.schema_name):
            results[page.name].update(throughput(port, host, cookie, page))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def run_measurement(size: int) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "measure", str(size)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
        env=production_environment(),
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def static_files_collect() -> None:
    """The manifest of hashed static files production serves (whitenoise refuses to render without it)."""
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
        check=True,
        env=production_environment(),
        cwd=ROOT,
    )


def ratio(result: dict) -> float:
    return result["server_ms"] / (result["sql_ms"] + 20)


def report(size: int, results: dict, queries_at: dict[int, dict[str, int]]) -> None:
    home = results["home"]["per_second"]
    print(f"{size} customers x {SUBSCRIPTIONS_PER_CUSTOMER} subscriptions:")
    for name, result in results.items():
        counts = " / ".join(f"{queries_at[other][name]}" for other in sorted(queries_at) if name in queries_at[other])
        limit = {"list": LIST_LIMIT_MS, "report": REPORT_LIMIT_MS}.get(result["kind"])
        flags = []
        if ratio(result) > 2:
            flags.append("ratio")
        if limit is not None and result["server_ms"] > limit:
            flags.append(f"over {limit:.0f} ms")
        if result["per_second"] < home / 4:
            flags.append("throughput")
        if len({queries_at[other].get(name) for other in queries_at}) > 1:
            flags.append("queries differ")
        failed = f", {result['failures']} failed" if result["failures"] else ""
        print(
            f"  {name:<27} {result['kind']:<8} queries {result['queries']:3d} ({counts:>9}) "
            f"SQL {result['sql_ms']:6.1f} ms  server {result['server_ms']:6.1f} ms  "
            f"x{ratio(result):4.2f}  {result['kb']:6.1f} KB  "
            f"{result['per_second']:6.1f} req/s ({result['per_second'] / home:4.2f} of home, "
            f"p50 {result['p50_ms']:5.0f} ms{failed})"
            f"{'  <- ' + ', '.join(flags) if flags else ''}",
            flush=True,
        )


def summary(results: dict, queries_at: dict[int, dict[str, int]]) -> str:
    home = results["home"]["per_second"]
    worst_ratio = max(results, key=lambda name: ratio(results[name]))
    worst_throughput = min((name for name in results if name != "home"), key=lambda name: results[name]["per_second"])
    sizes = sorted(queries_at)
    differing = [name for name in results if len({queries_at[size].get(name) for size in sizes}) > 1]
    equality = "equal" if not differing else "differ on " + ", ".join(differing)
    return (
        f"pages: {len(results)} pages, worst server/(SQL+20 ms) {ratio(results[worst_ratio]):.1f} ({worst_ratio}), "
        f"worst throughput vs home {results[worst_throughput]['per_second'] / home:.2f} ({worst_throughput}), "
        f"queries {' vs '.join(str(size) for size in sizes)} rows {equality}"
    )


def main(arguments: list[str]) -> None:
    from portal.partners.services import partner_create, partner_template_ensure, platform_ensure

    measure_only = arguments[:1] == ["measure-only"]
    sizes = [int(size) for size in arguments[1:]] if measure_only else SIZES
    static_files_collect()
    queries_at: dict[int, dict[str, int]] = {}
    results: dict = {}
    if not measure_only:
        platform_ensure()
        partner_template_ensure()
    today = timezone.localdate()
    try:
        for size in sizes:
            if not measure_only:
                remove_bench_partner(size)
                began = time.perf_counter()
                partner = partner_create(
                    name=f"Bench pages {size}",
                    slug=slug_of(size),
                    admin_email=f"admin@{slug_of(size)}.example",
                    is_large_account_reseller=True,
                ).partner
                with schema_context(partner.schema_name):
                    figures = build(size, today)
                print(
                    f"data for {size} customers: sync {figures['sync_seconds']:.0f} s, "
                    f"{figures['history_rows']:,} snapshot rows in {figures['history_seconds']:.0f} s, "
                    f"a cycle closed in {figures['close_seconds']:.0f} s, {figures['orders']:,} orders, "
                    f"{figures['requests']:,} requests, {figures['audit_events']:,} audit events; "
                    f"built in {time.perf_counter() - began:.0f} s",
                    flush=True,
                )
            results = run_measurement(size)
            queries_at[size] = {name: result["queries"] for name, result in results.items()}
            report(size, results, queries_at)
    finally:
        if not os.environ.get("BENCH_KEEP") and not measure_only:
            for size in sizes:
                remove_bench_partner(size)
    print(summary(results, queries_at))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "measure":
        print(json.dumps(measure(int(sys.argv[2]))))
    else:
        main(sys.argv[1:])
