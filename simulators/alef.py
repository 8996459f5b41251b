"""A WSGI simulator of the ALEF Distribution CSP platform (reseller-scoped, Partner Center semantics).

ALEF publishes no API, so this simulator is the contract `client.py` describes: one host per
reseller (`<reseller>.alef.cloud`, or a `/<reseller>` path prefix), `/api/v1` routes shaped like
Partner Center's, `MS-RequestId` replay, continuation paging, Partner Center error codes and NCE
rules (refundable quantity per purchase, cancellation only inside the 7-day window, 800090
outside it, suspend / reactivate, auto-renew), a distributor price list per segment, organizations
whose industry and eligibility flags gate academic / government / non-profit offers, and
the creation of a new Microsoft tenant as a long-running operation: the domain check completes
after `tenant_polls` polls of the operation or once `domain_check_seconds` have passed on the
simulator's clock (`/_control/advance_clock`), and orders for that customer wait until it is done.

Each instance owns its state: tests run it in-process through `httpx.WSGITransport(app=simulator)`
(it routes on the `<reseller>.alef.cloud` host name); `python -m simulators.alef
--port 8204` serves one over real sockets (use the `/<reseller>/api/v1` prefix there).

Control endpoints (JSON bodies):
    POST /_control/reset           {"seed": true}
    POST /_control/seed            {"kind": "demo"} | {"kind": "bulk", "companies": 2000,
                                    "subscriptions_per_company": 10} | {"kind": "taken_domains", "domains": [...]}
    POST /_control/inject          {"kind": "throttle"|"unavailable"|"latency"|"token_expiry"|"error"|"etag_conflict",
                                    "operation": "create_order" (optional), "count": 1, "retry_after": 3,
                                    "status": 503, "seconds": 0.5, "code": 800002, "message": "...",
                                    "apply_first": false}
    POST /_control/clear           {}
    POST /_control/expire_tokens   {}
    POST /_control/advance_clock   {"seconds": 300}      (alias: /_control/clock_advance)
    GET  /_control/state
    GET  /_control/emails
"""

from __future__ import annotations

import calendar
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from wsgiref.simple_server import WSGIServer

from marketplace.providers.alef.client import ALEF_DOMAIN, API_PATH
from marketplace.providers.alef.records import INDUSTRIES
from marketplace.providers.base import ProviderConnection
from simulators.harness import (
    ControlAction,
    DomainRegistry,
    Injection,
    MarketplaceSimulator,
    SimulatedRequest,
    add_months,
    bearer_token,
    decode_json_object,
    domain_registry_from,
    json_bytes,
    lowercase_query,
    read_body,
    respond,
    simulator_arguments,
)
from simulators.identity import SeededDomains
from simulators.serving import serve_until_interrupted, threaded_wsgi_server

DEMO_RESELLER = "demo"
DEMO_USERNAME = "demo@alef-reseller.example"
DEMO_PASSWORD = "demo-password"
OTHER_RESELLER = "other"
OTHER_USERNAME = "admin@other-reseller.example"
OTHER_PASSWORD = "other-password"

#: The demo account as a marketplace account stores it: the region is the reseller's host name.
DEMO_CONNECTION = ProviderConnection(region=DEMO_RESELLER, username=DEMO_USERNAME, secret=DEMO_PASSWORD)

TOKEN_LIFETIME = timedelta(hours=1)
CANCELLATION_WINDOW = timedelta(days=7)
MAX_QUANTITY = 300
MAX_PAGE_SIZE = 1000
REPLAY_WINDOW = timedelta(hours=24)
DOMAIN_TAKEN_MESSAGE = (
    "The domain {domain} is not available: it already belongs to a Microsoft tenant. If the customer "
    "already has a tenant, link it to ALEF through a delegated admin relationship instead."
)
_DOMAIN_PREFIX = re.compile(r"^[a-z0-9]{1,27}$")
_SUFFIX = ".onmicrosoft.com"
_CENT = Decimal("0.01")
_PARTNER_FACTOR = Decimal("0.84")
_CUSTOMER_MARKUP = Decimal("1.05")  # ALEF's customer prices default to the partner price + 5 %
_TERM_MONTHS = {"P1M": 1, "P1Y": 12, "P3Y": 36}
_SEGMENT_FLAGS = {"academic": "academic", "government": "government", "nonprofit": "non_profit"}
_SEGMENT_INDUSTRY = {"academic": "Education", "government": "Government", "nonprofit": "NonProfit"}


# ------------------------------------------------------------------------------------------------
# Catalog
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Product:
    product_id: str
    sku_id: str
    availability_id: str
    name: str
    segment: str
    #: (term, billing cycle) -> Microsoft ERP per billing period, EUR
    prices: Mapping[tuple[str, str], Decimal]
    parents: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.product_id}:{self.sku_id}"

    @property
    def catalog_item_id(self) -> str:
        return f"{self.product_id}:{self.sku_id}:{self.availability_id}"

    @property
    def is_add_on(self) -> bool:
        return bool(self.parents)


def _prices(p1m: str | None, p1y_monthly: str, *, p3y_annual: str | None = None) -> dict[tuple[str, str], Decimal]:
    prices: dict[tuple[str, str], Decimal] = {}
    if p1m is not None:
        prices[("P1M", "monthly")] = Decimal(p1m)
    prices[("P1Y", "monthly")] = Decimal(p1y_monthly)
    prices[("P1Y", "annual")] = Decimal(p1y_monthly) * 12
    if p3y_annual is not None:
        prices[("P3Y", "annual")] = Decimal(p3y_annual)
        prices[("P3Y", "triennial")] = Decimal(p3y_annual) * 3
    return prices


BASIC = "CFQ7TTC0LH18:0001"
STANDARD = "CFQ7TTC0LDPB:0001"
PREMIUM = "CFQ7TTC0LCHC:0002"
E3 = "CFQ7TTC0LFLX:0001"
EXCHANGE_1 = "CFQ7TTC0LH16:0001"
TEAMS_PHONE = "CFQ7TTC0J1FV:0001"
ARCHIVING = "CFQ7TTC0LH0R:0001"
A3_FACULTY = "CFQ7TTC0LFMB:0001"
A3_STUDENTS = "CFQ7TTC0LFMC:0001"
E3_GOVERNMENT = "CFQ7TTC0LFLX:0009"
PREMIUM_NONPROFIT = "CFQ7TTC0LCHC:0004"


def build_catalog() -> dict[str, _Product]:
    def product(pid: str, sku: str, availability: str, name: str, segment: str, prices: dict, parents=()) -> _Product:
        return _Product(
            product_id=pid, sku_id=sku, availability_id=availability, name=name, segment=segment,
            prices=prices, parents=tuple(parents),
        )  # fmt: skip

    products = [
        product("CFQ7TTC0LH18", "0001", "CFQ7TTC0K971", "Microsoft 365 Business Basic", "commercial",
                _prices("6.72", "5.60")),
        product("CFQ7TTC0LDPB", "0001", "CFQ7TTC0K5BQ", "Microsoft 365 Business Standard", "commercial",
                _prices("15.12", "12.60", p3y_annual="151.20")),
        product("CFQ7TTC0LCHC", "0002", "CFQ7TTC0K5DJ", "Microsoft 365 Business Premium", "commercial",
                _prices("24.72", "20.60")),
        product("CFQ7TTC0LFLX", "0001", "CFQ7TTC0K5DM", "Microsoft 365 E3", "commercial", _prices("40.44", "33.70")),
        product("CFQ7TTC0LH16", "0001", "CFQ7TTC0K8P1", "Exchange Online (Plan 1)", "commercial",
                _prices("4.80", "4.00")),
        product("CFQ7TTC0J1FV", "0001", "CFQ7TTC0J3LD", "Microsoft Teams Phone Standard", "commercial",
                _prices("10.08", "8.40"), parents=(E3, PREMIUM, E3_GOVERNMENT)),
        product("CFQ7TTC0LH0R", "0001", "CFQ7TTC0K8R5", "Exchange Online Archiving", "commercial",
                {("P1Y", "monthly"): Decimal("3.00"), ("P1Y", "annual"): Decimal("36.00")},
                parents=(BASIC, STANDARD, EXCHANGE_1)),
        product("CFQ7TTC0LFMB", "0001", "CFQ7TTC0KD4F", "Microsoft 365 A3 for faculty", "academic",
                _prices(None, "3.25")),
        product("CFQ7TTC0LFMC", "0001", "CFQ7TTC0KD4G", "Microsoft 365 A3 for students", "academic",
                _prices(None, "2.50")),
        product("CFQ7TTC0LFLX", "0009", "CFQ7TTC0K5GV", "Microsoft 365 E3 (Government Pricing)", "government",
                _prices(None, "30.30")),
        product("CFQ7TTC0LCHC", "0004", "CFQ7TTC0K5F2", "Microsoft 365 Business Premium (Nonprofit Staff Pricing)",
                "nonprofit", _prices(None, "5.10")),
    ]  # fmt: skip
    return {item.key: item for item in products}


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def prices_for(product: _Product, term: str, cycle: str) -> tuple[Decimal, Decimal, Decimal]:
    """(partner price, customer price, suggested retail price) per billing period."""
    retail = product.prices[(term, cycle)]
    partner = _money(retail * _PARTNER_FACTOR)
    return partner, _money(partner * _CUSTOMER_MARKUP), _money(retail)


# ------------------------------------------------------------------------------------------------
# State
# ------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class _Reseller:
    slug: str
    name: str
    own_customer_id: str


@dataclass(kw_only=True)
class _User:
    username: str
    password: str
    reseller: str


@dataclass(kw_only=True)
class _Token:
    username: str
    reseller: str
    expires_at: datetime


@dataclass(kw_only=True)
class _Customer:
    id: str
    reseller: str
    company_name: str
    email: str
    address: dict[str, str]
    industry: str
    created: datetime
    academic: bool = False
    government: bool = False
    non_profit: bool = False
    is_reseller: bool = False
    tenant_id: str | None = None
    tenant_domain: str | None = None
    vat_id: str = ""

    def eligible(self, segment: str) -> bool:
        return segment == "commercial" or bool(getattr(self, _SEGMENT_FLAGS[segment]))


@dataclass(kw_only=True)
class _Operation:
    id: str
    reseller: str
    customer_id: str
    domain_prefix: str
    contact: dict[str, str]
    created: datetime
    polls_remaining: int
    ready_at: datetime
    status: str = "running"
    tenant_id: str | None = None
    error: dict[str, str] | None = None
    completed: datetime | None = None


@dataclass(kw_only=True)
class _Order:
    id: str
    customer_id: str
    reference_number: str
    line_items: list[dict[str, Any]]
    created: datetime
    status: str = "completed"


@dataclass(kw_only=True)
class _Subscription:
    id: str
    customer_id: str
    parent_id: str | None
    product_key: str
    term: str
    cycle: str
    quantity: int
    assigned: int
    term_start: datetime
    term_end: datetime
    created: datetime
    status: str = "active"
    auto_renew: bool = True
    friendly_name: str = ""
    order_id: str | None = None
    is_trial: bool = False
    refundable: list[tuple[int, datetime]] = field(default_factory=list)
    etag: str = field(default_factory=lambda: secrets.token_hex(8))
    suspension_reasons: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class _Injection(Injection):
    code: int = 800002
    message: str = "An error occurred while processing the request."


_INJECTION_KINDS = frozenset({"throttle", "unavailable", "latency", "token_expiry", "error", "etag_conflict"})


class _ApiError(Exception):
    """A Partner Center style error `{code, description, data, source}`."""

    def __init__(self, status: int, code: int, description: str, *, data: list[str] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description
        self.data = data or []


@dataclass
class _Request(SimulatedRequest):
    reseller: str
    base: str
    token: _Token | None = None

    def json(self) -> dict[str, Any]:
        return decode_json_object(self.raw_body, lambda message: _ApiError(400, 800002, message))


@dataclass
class _Answer:
    status: int
    body: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)


_Handler = Callable[..., Any]
_CUSTOMER = r"^customers/(?P<customer_id>[^/]+)"
_SUBSCRIPTION = _CUSTOMER + r"/subscriptions/(?P<subscription_id>[^/]+)"


class AlefSimulator(MarketplaceSimulator[_Injection]):
    """The simulated ALEF platform: a WSGI callable that owns all of its state."""

    injection_kinds = _INJECTION_KINDS
    sign_in_operation = "token"
    session_expiry_kind = "token_expiry"

    def __init__(
        self,
        *,
        seed: bool = True,
        token_lifetime: timedelta = TOKEN_LIFETIME,
        tenant_polls: int = 3,
        domain_check_seconds: float = 240.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        domains: DomainRegistry | None = None,
    ) -> None:
        super().__init__(clock=clock, sleep=sleep)
        #: Microsoft Online's domains beyond ALEF's own customers (the identity simulator's directories):
        #: a domain is unique across all of them, and each tenant created here is registered there.
        self.domains: DomainRegistry = domains if domains is not None else SeededDomains(())
        self.token_lifetime = token_lifetime
        self.tenant_polls = tenant_polls
        self.domain_check_seconds = domain_check_seconds
        self.catalog = build_catalog()
        self._routes = self._build_routes()
        self.reset(seed=seed)

    # -- state management ---------------------------------------------------------------------------

    def _clear_state(self) -> None:
        self.resellers: dict[str, _Reseller] = {}
        self.users: dict[str, _User] = {}
        self.tokens: dict[str, _Token] = {}
        self.customers: dict[str, _Customer] = {}
        self._customers_by_reseller: dict[str, list[str]] = {}
        self.operations: dict[str, _Operation] = {}
        self.orders: dict[str, _Order] = {}
        self._orders_by_customer: dict[str, list[str]] = {}
        self.subscriptions: dict[str, _Subscription] = {}
        self._subscriptions_by_customer: dict[str, list[str]] = {}
        self._replays: dict[tuple[str, str, str, str], tuple[datetime, _Answer]] = {}
        self._continuations: dict[str, int] = {}
        self.taken_domains: set[str] = {"microsoft", "contoso", "fabrikam", "northwind", "adatum", "taken"}
        self.sent_emails: list[dict[str, str]] = []

    def expire_tokens(self) -> None:
        with self._lock:
            self._expire(self.tokens.values())

    def inject(
        self,
        *,
        kind: str,
        operation: str | None = None,
        count: int = 1,
        status: int | None = None,
        retry_after: float = 3.0,
        seconds: float = 0.0,
        code: int = 800002,
        message: str | None = None,
        apply_first: bool = False,
    ) -> None:
        self._check_injection_kind(kind)
        injection = _Injection(
            kind=kind,
            operation=operation,
            remaining=count,
            status=status or (400 if kind == "error" else 503),
            retry_after=retry_after,
            seconds=seconds,
            code=int(code),
            apply_first=apply_first,
        )
        self._arm(injection, message=message)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "resellers": len(self.resellers),
                "customers": len(self.customers),
                "subscriptions": len(self.subscriptions),
                "orders": len(self.orders),
                "operations": {
                    status: sum(1 for o in self.operations.values() if o.status == status)
                    for status in ("running", "succeeded", "failed")
                },
                "tokens": len(self.tokens),
                "emails": len(self.sent_emails),
                "calls": dict(self.call_counts),
                "injections": self._pending_injections(),
            }

    # -- seeding ------------------------------------------------------------------------------------

    def add_reseller(self, *, slug: str, name: str, city: str = "București") -> _Reseller:
        with self._lock:
            self._customers_by_reseller.setdefault(slug, [])
            own = self.add_customer(
                reseller=slug,
                name=name,
                email=f"office@{slug}.example",
                industry="Technology",
                city=city,
                customer_id=str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{slug}.{ALEF_DOMAIN}")),
            )
            own.is_reseller = True
            reseller = _Reseller(slug=slug, name=name, own_customer_id=own.id)
            self.resellers[slug] = reseller
            return reseller

    def add_user(self, *, username: str, password: str, reseller: str) -> _User:
        with self._lock:
            user = _User(username=username, password=password, reseller=reseller)
            self.users[username.lower()] = user
            return user

    def add_customer(
        self,
        *,
        reseller: str,
        name: str,
        email: str,
        industry: str = "Other",
        academic: bool = False,
        government: bool = False,
        non_profit: bool = False,
        street: str = "Strada Victoriei 1",
        city: str = "București",
        postal_code: str = "010061",
        country: str = "RO",
        tenant: tuple[str, str] | None = None,
        customer_id: str | None = None,
        created: datetime | None = None,
    ) -> _Customer:
        with self._lock:
            customer = _Customer(
                id=customer_id or str(uuid.uuid4()),
                reseller=reseller,
                company_name=name,
                email=email,
                address={"addressLine1": street, "city": city, "postalCode": postal_code, "country": country},
                industry=industry,
                academic=academic,
                government=government,
                non_profit=non_profit,
                created=created or self.now(),
                vat_id=f"RO{secrets.randbelow(90000000) + 10000000}",
            )
            if tenant is not None:
                customer.tenant_domain, customer.tenant_id = f"{tenant[0]}{_SUFFIX}", tenant[1]
                self.taken_domains.add(tenant[0])
            self.customers[customer.id] = customer
            self._customers_by_reseller.setdefault(reseller, []).append(customer.id)
            self._subscriptions_by_customer[customer.id] = []
            self._orders_by_customer[customer.id] = []
            return customer

    def add_subscription(
        self,
        *,
        customer_id: str,
        product_key: str,
        term: str,
        cycle: str,
        quantity: int,
        started: datetime | None = None,
        parent_id: str | None = None,
        order_id: str | None = None,
    ) -> _Subscription:
        with self._lock:
            started = started or self.now()
            subscription = _Subscription(
                id=str(uuid.uuid4()),
                customer_id=customer_id,
                parent_id=parent_id,
                product_key=product_key,
                term=term,
                cycle=cycle,
                quantity=quantity,
                assigned=max(0, quantity - 2 - quantity // 6),
                term_start=started,
                term_end=add_months(started, _TERM_MONTHS[term]),
                created=started,
                order_id=order_id,
                refundable=[(quantity, started + CANCELLATION_WINDOW)],
            )
            self.subscriptions[subscription.id] = subscription
            self._subscriptions_by_customer[customer_id].append(subscription.id)
            return subscription

    def seed_demo(self) -> None:
        """A Romanian reseller with eight organizations (commercial, academic, government, non-profit)."""
        with self._lock:
            now = self.now()
            days = lambda n: now - timedelta(days=n)  # noqa: E731
            self.add_reseller(slug=DEMO_RESELLER, name="Demo Reseller SRL")
            self.add_user(username=DEMO_USERNAME, password=DEMO_PASSWORD, reseller=DEMO_RESELLER)
            rows: list[tuple[str, str, str, dict[str, bool], str, tuple[str, str] | None]] = [
                ("Contoso SRL", "contoso.example", "Manufacturing", {}, "București",
                 ("contoso", "67a08685-ba70-4922-ae8b-802ff5c44282")),
                ("Fabrikam SRL", "fabrikam.example", "Retail", {}, "Cluj-Napoca",
                 ("fabrikam", "d110a146-8491-4109-9dce-4139f88ec90a")),
                ("Northwind Traders SRL", "northwind.example", "Transportation", {}, "Timișoara",
                 ("northwind", "48ae22e9-4381-4526-95c4-8fb8bcdb2ec7")),
                ("Universitatea Adatum", "adatum.example", "Education", {"academic": True}, "Iași",
                 ("adatumuniv", "1f3b5d7e-9a2c-4e6f-8b1d-3c5e7a9b2d44")),
                ("Primăria Woodgrove", "woodgrove.example", "Government", {"government": True}, "Brașov",
                 ("woodgroveprimaria", "2a4c6e8f-0b3d-4f5a-9c2e-4d6f8a0c3e55")),
                ("Fundația Litware", "litware.example", "NonProfit", {"non_profit": True}, "Sibiu",
                 ("litwarefundatia", "3b5d7f9a-1c4e-4a6b-8d3f-5e7a9b1d4f66")),
                ("Tailspin Toys SRL", "tailspin.example", "Retail", {}, "Constanța", None),
                ("Alpine Ski House SRL", "alpineskihouse.example", "Hospitality", {}, "Sinaia", None),
            ]  # fmt: skip
            created: dict[str, _Customer] = {}
            for name, domain, industry, flags, city, tenant in rows:
                created[name] = self.add_customer(
                    reseller=DEMO_RESELLER,
                    name=name,
                    email=f"it@{domain}",
                    industry=industry,
                    city=city,
                    tenant=tenant,
                    customer_id=str(uuid.uuid5(uuid.NAMESPACE_DNS, f"alef.{domain}")),
                    created=days(700),
                    **flags,
                )

            def buy(customer: str, product: str, term: str, cycle: str, quantity: int, age: int, **kw: Any):
                return self.add_subscription(
                    customer_id=created[customer].id,
                    product_key=product,
                    term=term,
                    cycle=cycle,
                    quantity=quantity,
                    started=days(age),
                    **kw,
                )

            contoso_e3 = buy("Contoso SRL", E3, "P1Y", "monthly", 25, 200)
            buy("Contoso SRL", TEAMS_PHONE, "P1Y", "monthly", 10, 60, parent_id=contoso_e3.id)
            buy("Contoso SRL", BASIC, "P1M", "monthly", 10, 3)
            buy("Fabrikam SRL", PREMIUM, "P1Y", "annual", 40, 90)
            fabrikam_exchange = buy("Fabrikam SRL", EXCHANGE_1, "P1Y", "monthly", 5, 30)
            buy("Fabrikam SRL", ARCHIVING, "P1Y", "monthly", 5, 20, parent_id=fabrikam_exchange.id)
            northwind_standard = buy("Northwind Traders SRL", STANDARD, "P1Y", "annual", 15, 300)
            northwind_standard.auto_renew = False
            northwind_trial = buy("Northwind Traders SRL", PREMIUM, "P1M", "monthly", 25, 10)
            northwind_trial.is_trial = True
            buy("Universitatea Adatum", A3_FACULTY, "P1Y", "annual", 80, 45)
            buy("Primăria Woodgrove", E3_GOVERNMENT, "P1Y", "monthly", 30, 400)
            woodgrove_basic = buy("Primăria Woodgrove", BASIC, "P1Y", "monthly", 5, 100)
            woodgrove_basic.status = "suspended"
            woodgrove_basic.suspension_reasons = ["PartnerInitiated"]
            buy("Fundația Litware", PREMIUM_NONPROFIT, "P1Y", "monthly", 10, 15)
            litware_exchange = buy("Fundația Litware", EXCHANGE_1, "P1M", "monthly", 3, 60)
            litware_exchange.status = "deleted"
            litware_exchange.auto_renew = False

            self.add_reseller(slug=OTHER_RESELLER, name="Other Reseller SRL", city="Cluj-Napoca")
            self.add_user(username=OTHER_USERNAME, password=OTHER_PASSWORD, reseller=OTHER_RESELLER)
            elsewhere = self.add_customer(
                reseller=OTHER_RESELLER,
                name="Elsewhere SRL",
                email="it@elsewhere.example",
                tenant=("elsewhere", str(uuid.uuid4())),
            )
            self.add_subscription(
                customer_id=elsewhere.id, product_key=PREMIUM, term="P1Y", cycle="monthly", quantity=4
            )

    def seed_bulk(self, *, companies: int, subscriptions_per_company: int, reseller: str = DEMO_RESELLER) -> None:
        """Many organizations, each with a tenant and subscriptions, for load tests and benchmarks."""
        with self._lock:
            now = self.now()
            sellable = [
                (product.key, term, cycle)
                for product in self.catalog.values()
                if not product.is_add_on and product.segment == "commercial"
                for term, cycle in product.prices
            ]
            offset = len(self._customers_by_reseller[reseller])
            for index in range(companies):
                number = offset + index + 1
                customer = self.add_customer(
                    reseller=reseller,
                    name=f"Bulk Customer {number:05d} SRL",
                    email=f"it@bulk{number:05d}.example",
                    industry="Retail",
                    tenant=(f"bulk{number:05d}", str(uuid.uuid4())),
                    created=now - timedelta(days=400),
                )
                for line in range(subscriptions_per_company):
                    product_key, term, cycle = sellable[(index + line) % len(sellable)]
                    self.add_subscription(
                        customer_id=customer.id,
                        product_key=product_key,
                        term=term,
                        cycle=cycle,
                        quantity=(index * 7 + line) % 50 + 1,
                        started=now - timedelta(days=(index + line * 13) % 330 + 8),
                    )

    # -- WSGI ---------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path.startswith("/_control/"):
            return self._control(path.removeprefix("/_control/"), method, environ, start_response)
        host = (environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "").split(":")[0].lower()
        segments = [segment for segment in path.split("/") if segment]
        reseller = host.removesuffix("." + ALEF_DOMAIN) if host.endswith("." + ALEF_DOMAIN) else None
        base = ""
        if reseller is None and segments and segments[0].lower() in self.resellers:
            reseller = segments.pop(0).lower()
            base = f"/{reseller}"
        api = API_PATH.strip("/").split("/")
        if reseller not in self.resellers or segments[: len(api)] != api:
            return _respond_error(start_response, _ApiError(404, 404, "No such resource."), method)
        request = _Request(
            method=method,
            path="/".join(segments[len(api) :]).lower(),
            query=lowercase_query(environ),
            environ=environ,
            raw_body=read_body(environ),
            reseller=reseller,
            base=base,
        )
        found = self._route(request)
        if isinstance(found, _ApiError):
            return _respond_error(start_response, found, method)
        operation, handler, params = found

        self._count_call(operation)
        extra = [
            (name, value)
            for name, value in (
                ("MS-RequestId", request.header("MS-RequestId")),
                ("MS-CorrelationId", request.header("MS-CorrelationId") or str(uuid.uuid4())),
            )
            if value
        ]
        with self._lock:
            injection = self._take_injection(operation)
            if injection is not None and not injection.apply_first:
                return self._injected_failure(injection, start_response, request, extra)
            try:
                if operation != "token":
                    request.token = self._authorize(request)
                answer = self._replayed_or_handled(request, operation, handler, params)
            except _ApiError as error:
                return _respond_error(start_response, error, method, extra)
            if injection is not None:
                return self._injected_failure(injection, start_response, request, extra)
        if not isinstance(answer, _Answer):
            answer = _Answer(200, answer)
        body = b"" if answer.body is None or method == "HEAD" else json_bytes(answer.body)
        return respond(start_response, answer.status, body, "application/json; charset=utf-8", answer.headers + extra)

    def _replayed_or_handled(
        self, request: _Request, operation: str, handler: _Handler, params: dict[str, str]
    ) -> _Answer:
        """Partner Center idempotency: a write with an MS-RequestId already answered replays that answer."""
        request_id = request.header("MS-RequestId")
        key = (request.reseller, request.method, request.path, request_id or "")
        if request.method in ("POST", "PATCH") and request_id and operation != "token":
            remembered = self._replays.get(key)
            if remembered is not None and remembered[0] > self.now():
                return remembered[1]
        answer = handler(request, **params)
        if not isinstance(answer, _Answer):
            answer = _Answer(200, answer)
        if request.method in ("POST", "PATCH") and request_id and operation != "token":
            self._replays[key] = (self.now() + REPLAY_WINDOW, answer)
        return answer

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], str, _Handler]]:
        routes = [
            ("POST", r"^auth/token$", "token", self._token),
            ("GET", r"^customers$", "list_customers", self._list_customers),
            ("POST", r"^customers$", "create_customer", self._create_customer),
            ("GET", _CUSTOMER + r"$", "get_customer", self._get_customer),
            ("GET", _CUSTOMER + r"/offers$", "list_customer_offers", self._customer_offers),
            ("POST", _CUSTOMER + r"/tenants$", "create_tenant", self._create_tenant),
            ("GET", r"^operations/(?P<operation_id>[^/]+)$", "get_operation", self._get_operation),
            ("HEAD", r"^domains/(?P<domain>[^/]+)$", "check_domain", self._check_domain),
            ("GET", r"^domains/(?P<domain>[^/]+)$", "check_domain", self._check_domain),
            ("GET", r"^pricelist$", "get_pricelist", self._pricelist),
            ("GET", _CUSTOMER + r"/orders$", "list_orders", self._list_orders),
            ("POST", _CUSTOMER + r"/orders$", "create_order", self._create_order),
            ("GET", _CUSTOMER + r"/orders/(?P<order_id>[^/]+)$", "get_order", self._get_order),
            ("GET", _CUSTOMER + r"/subscriptions$", "list_subscriptions", self._list_subscriptions),
            ("GET", _SUBSCRIPTION + r"$", "get_customer_subscription", self._get_customer_subscription),
            ("PATCH", _SUBSCRIPTION + r"$", "patch_subscription", self._patch_subscription),
            ("GET", _SUBSCRIPTION + r"/addons$", "list_addons", self._list_addons),
            ("GET", r"^subscriptions/(?P<subscription_id>[^/]+)$", "get_subscription", self._get_subscription),
            ("GET", r"^billing/lineitems$", "list_billing_lines", self._billing_lines),
        ]
        return [(method, re.compile(pattern), name, handler) for method, pattern, name, handler in routes]

    def _route(self, request: _Request) -> tuple[str, _Handler, dict[str, str]] | _ApiError:
        allowed = False
        for method, pattern, name, handler in self._routes:
            match = pattern.match(request.path)
            if match is None:
                continue
            if method == request.method:
                return name, handler, match.groupdict()
            allowed = True
        if allowed:
            return _ApiError(405, 405, f"The method {request.method} is not allowed here.")
        return _ApiError(404, 404, "No such resource.")

    def _injected_failure(
        self,
        injection: _Injection,
        start_response: Callable[..., Any],
        request: _Request,
        extra: list[tuple[str, str]],
    ) -> Iterable[bytes]:
        if injection.kind == "throttle":
            body = {
                "statusCode": 429,
                "message": f"Rate limit is exceeded. Try again in {injection.retry_after:g} seconds.",
            }
            headers = [("Retry-After", f"{injection.retry_after:g}"), *extra]
            return respond(start_response, 429, json_bytes(body), "application/json", headers)
        if injection.kind == "unavailable":
            return respond(start_response, injection.status, b"Service Unavailable", "text/plain", extra)
        if injection.kind == "token_expiry":
            self.tokens.pop(bearer_token(request.environ) or "", None)
            return _respond_error(
                start_response, _ApiError(401, 401, "The access token has expired."), request.method, extra
            )
        if injection.kind == "etag_conflict":
            error = _ApiError(412, 2055, "The subscription was changed by someone else (ETag mismatch); read it again.")
            return _respond_error(start_response, error, request.method, extra)
        error = _ApiError(injection.status, injection.code, injection.message)
        return _respond_error(start_response, error, request.method, extra)

    # -- control ------------------------------------------------------------------------------------

    def _control_reads(self) -> dict[str, Callable[[], Any]]:
        return {**super()._control_reads(), "emails": self._emails}

    def _emails(self) -> list[dict[str, str]]:
        with self._lock:
            return list(self.sent_emails)

    def _control_actions(self) -> dict[str, ControlAction]:
        actions = super()._control_actions()
        return {
            **actions,
            "expire_tokens": lambda body: self.expire_tokens(),
            "clock_advance": actions["advance_clock"],
        }

    def _control_seeds(self) -> dict[str, ControlAction]:
        return {
            **super()._control_seeds(),
            "bulk": lambda body: self.seed_bulk(
                companies=int(body.get("companies", 2000)),
                subscriptions_per_company=int(body.get("subscriptions_per_company", 10)),
            ),
            "taken_domains": self._seed_taken_domains,
        }

    def _seed_taken_domains(self, body: dict[str, Any]) -> None:
        with self._lock:
            self.taken_domains.update(str(domain).lower() for domain in body.get("domains", []))

    # -- authentication -----------------------------------------------------------------------------

    def _token(self, request: _Request) -> _Answer:
        body = request.json()
        if body.get("grant_type") != "password":
            return _Answer(400, {"error": "unsupported_grant_type", "error_description": "Use grant_type=password."})
        user = self.users.get(str(body.get("username", "")).lower())
        if (
            user is None
            or user.reseller != request.reseller
            or not secrets.compare_digest(user.password, str(body.get("password", "")))
        ):
            return _Answer(
                400, {"error": "invalid_grant", "error_description": "The user name or password is incorrect."}
            )
        value = secrets.token_urlsafe(32)
        self.tokens[value] = _Token(
            username=user.username, reseller=user.reseller, expires_at=self.now() + self.token_lifetime
        )
        return _Answer(
            200,
            {"access_token": value, "token_type": "Bearer", "expires_in": int(self.token_lifetime.total_seconds())},
        )

    def _authorize(self, request: _Request) -> _Token:
        value = bearer_token(request.environ)
        token = self.tokens.get(value or "")
        if token is None or token.expires_at <= self.now() or token.reseller != request.reseller:
            if value and token is not None and token.expires_at <= self.now():
                self.tokens.pop(value, None)
            raise _ApiError(401, 401, "The access token is missing, invalid or expired.")
        return token

    # -- customers ----------------------------------------------------------------------------------

    def _customer(self, request: _Request, customer_id: str) -> _Customer:
        customer = self.customers.get(customer_id)
        if customer is None or customer.reseller != request.reseller:
            raise _ApiError(404, 800001, f"Customer {customer_id} was not found.")
        return customer

    def _list_customers(self, request: _Request) -> dict[str, Any]:
        ids = self._customers_by_reseller.get(request.reseller, [])
        try:
            size = int(request.query.get("size", "100"))
        except ValueError:
            raise _ApiError(400, 800002, "size must be a number.") from None
        size = max(1, min(size, MAX_PAGE_SIZE))
        offset = 0
        if request.query.get("seekoperation", "").lower() == "next":
            token = request.header("MS-ContinuationToken")
            if token is None or token not in self._continuations:
                raise _ApiError(400, 800002, "The continuation token is missing or has expired.")
            offset = self._continuations.pop(token)
        page = [self._customer_wire(self.customers[i]) for i in ids[offset : offset + size]]
        body: dict[str, Any] = {
            "totalCount": len(page),
            "items": page,
            "links": {"self": {"uri": f"customers?size={size}", "method": "GET", "headers": []}},
            "attributes": {"objectType": "Collection"},
        }
        if offset + size < len(ids):
            token = secrets.token_urlsafe(24)
            self._continuations[token] = offset + size
            body["continuationToken"] = token
            body["links"]["next"] = {
                "uri": f"customers?size={size}&seekOperation=Next",
                "method": "GET",
                "headers": [{"key": "MS-ContinuationToken", "value": token}],
            }
        return body

    def _get_customer(self, request: _Request, *, customer_id: str) -> dict[str, Any]:
        return self._customer_wire(self._customer(request, customer_id))

    def _create_customer(self, request: _Request) -> _Answer:
        body = request.json()
        company = _key(body, "companyProfile") or {}
        billing = _key(body, "billingProfile") or {}
        organization = _key(body, "organizationProfile") or {}
        address = _key(billing, "defaultAddress") or {}
        name = str(_key(company, "companyName") or "").strip()
        email = str(_key(company, "email") or _key(billing, "email") or "").strip()
        if not name or not email:
            raise _ApiError(400, 800002, "companyProfile.companyName and an email are required.")
        industry = str(_key(organization, "industry") or "Other")
        if industry not in INDUSTRIES:
            raise _ApiError(400, 800002, f"Unknown industry {industry!r}; choose one of {', '.join(INDUSTRIES)}.")
        flags = {
            "academic": bool(_key(organization, "isAcademic")),
            "government": bool(_key(organization, "isGovernment")),
            "non_profit": bool(_key(organization, "isNonProfit")),
        }
        for segment, flag in _SEGMENT_FLAGS.items():
            if flags[flag] and industry != _SEGMENT_INDUSTRY[segment]:
                raise _ApiError(
                    400,
                    800002,
                    f"Only organizations in the {_SEGMENT_INDUSTRY[segment]} industry can be marked "
                    f"{segment.replace('nonprofit', 'non-profit')}.",
                )
        if any(
            self.customers[i].company_name.lower() == name.lower()
            for i in self._customers_by_reseller[request.reseller]
        ):
            raise _ApiError(409, 800003, f"An organization named {name} already exists.")
        customer = self.add_customer(
            reseller=request.reseller,
            name=name,
            email=email,
            industry=industry,
            street=str(_key(address, "addressLine1") or ""),
            city=str(_key(address, "city") or ""),
            postal_code=str(_key(address, "postalCode") or ""),
            country=str(_key(address, "country") or ""),
            **flags,
        )
        customer.vat_id = str(_key(company, "vatId") or "")
        return _Answer(201, self._customer_wire(customer))

    def _customer_wire(self, customer: _Customer) -> dict[str, Any]:
        return {
            "id": customer.id,
            "commerceId": str(uuid.uuid5(uuid.NAMESPACE_OID, customer.id)),
            "companyProfile": {
                "tenantId": customer.tenant_id,
                "domain": customer.tenant_domain,
                "companyName": customer.company_name,
                "email": customer.email,
                "vatId": customer.vat_id,
            },
            "billingProfile": {
                "email": customer.email,
                "companyName": customer.company_name,
                "culture": "ro-RO",
                "language": "ro",
                "defaultAddress": dict(customer.address),
            },
            "organizationProfile": {
                "industry": customer.industry,
                "isAcademic": customer.academic,
                "isGovernment": customer.government,
                "isNonProfit": customer.non_profit,
            },
            "relationshipToPartner": "self" if customer.is_reseller else "reseller",
            "isReseller": customer.is_reseller,
            "tenantStatus": self._tenant_status(customer),
            "createdDate": _format(customer.created),
            "attributes": {"objectType": "Customer"},
        }

    def _tenant_status(self, customer: _Customer) -> str:
        if customer.tenant_id:
            return "active"
        if self._running_operation(customer.id) is not None:
            return "provisioning"
        return "none"

    # -- catalog ------------------------------------------------------------------------------------

    def _price_rows(self, segments: Iterable[str] | None = None) -> list[dict[str, Any]]:
        allowed = set(segments) if segments is not None else None
        rows = []
        for product in self.catalog.values():
            if allowed is not None and product.segment not in allowed:
                continue
            for term, cycle in product.prices:
                partner, customer_price, retail = prices_for(product, term, cycle)
                rows.append(
                    {
                        "catalogItemId": product.catalog_item_id,
                        "productId": product.product_id,
                        "skuId": product.sku_id,
                        "availabilityId": product.availability_id,
                        "name": product.name,
                        "publisher": "Microsoft",
                        "segment": product.segment,
                        "termDuration": term,
                        "billingCycle": cycle,
                        "currencyCode": "EUR",
                        "partnerPrice": partner,
                        "customerPrice": customer_price,
                        "suggestedRetailPrice": retail,
                        "isAddOn": product.is_add_on,
                        "parentProductIds": list(product.parents),
                        "unitType": "Licenses",
                    }
                )
        return rows

    def _pricelist(self, request: _Request) -> dict[str, Any]:
        segment = request.query.get("segment")
        rows = self._price_rows([segment] if segment else None)
        return {"totalCount": len(rows), "items": rows, "attributes": {"objectType": "Collection"}}

    def _customer_offers(self, request: _Request, *, customer_id: str) -> dict[str, Any]:
        customer = self._customer(request, customer_id)
        segments = [segment for segment in ("commercial", *_SEGMENT_FLAGS) if customer.eligible(segment)]
        rows = self._price_rows(segments)
        return {"totalCount": len(rows), "items": rows, "attributes": {"objectType": "Collection"}}

    # -- tenants ------------------------------------------------------------------------------------

    def domain_taken(self, domain: str) -> bool:
        """Whether a prefix or a whole domain is registered: among ALEF's tenants or anywhere in Microsoft Online."""
        whole = domain.strip().lower().rstrip(".")
        whole = whole if "." in whole else whole + _SUFFIX
        if whole.endswith(_SUFFIX) and whole.removesuffix(_SUFFIX) in self.taken_domains:
            return True
        return self.domains.domain_registered(whole)

    def _check_domain(self, request: _Request, *, domain: str) -> _Answer:
        """HEAD/GET domains/{domain}: 200 when the prefix (or a whole custom domain) is registered, 404 when free."""
        value = domain.strip().lower()
        whole = value if "." in value and not value.endswith(_SUFFIX) else f"{_domain_prefix(value)}{_SUFFIX}"
        if self.domain_taken(whole):
            return _Answer(200, {"domain": whole, "exists": True})
        raise _ApiError(404, 600050, f"The domain {whole} does not exist.")

    def _running_operation(self, customer_id: str) -> _Operation | None:
        for operation in self.operations.values():
            if operation.customer_id == customer_id and operation.status == "running":
                self._advance_operation(operation, poll=False)
                if operation.status == "running":
                    return operation
        return None

    def _create_tenant(self, request: _Request, *, customer_id: str) -> _Answer:
        customer = self._customer(request, customer_id)
        if customer.is_reseller:
            raise _ApiError(400, 800002, "The reseller's own organization cannot get a customer tenant.")
        if customer.tenant_id:
            raise _ApiError(409, 800003, f"{customer.company_name} already has the tenant {customer.tenant_domain}.")
        running = self._running_operation(customer.id)
        if running is not None:
            raise _ApiError(
                409, 800014, f"A tenant is already being created for this customer (operation {running.id})."
            )
        required = (("street", "addressLine1"), ("city", "city"), ("postal code", "postalCode"), ("country", "country"))
        missing = [label for label, name in required if not customer.address.get(name)]
        if missing:
            raise _ApiError(
                400,
                800002,
                f"The organization's address is incomplete ({', '.join(missing)}); "
                "Microsoft needs it for a new tenant.",
            )
        body = request.json()
        contact = _key(body, "contact") or {}
        if not all(str(_key(contact, name) or "").strip() for name in ("firstName", "lastName", "email")):
            raise _ApiError(400, 800002, "contact.firstName, contact.lastName and contact.email are required.")
        prefix = _domain_prefix(str(_key(body, "domainPrefix") or ""))
        now = self.now()
        operation = _Operation(
            id=str(uuid.uuid4()),
            reseller=request.reseller,
            customer_id=customer.id,
            domain_prefix=prefix,
            contact={name: str(_key(contact, name) or "") for name in ("firstName", "lastName", "email", "phone")},
            created=now,
            polls_remaining=self.tenant_polls,
            ready_at=now + timedelta(seconds=self.domain_check_seconds),
        )
        self.operations[operation.id] = operation
        location = f"{request.base}{API_PATH}/operations/{operation.id}"
        return _Answer(202, self._operation_wire(operation), [("Location", location), ("Retry-After", "60")])

    def _get_operation(self, request: _Request, *, operation_id: str) -> _Answer:
        operation = self.operations.get(operation_id)
        if operation is None or operation.reseller != request.reseller:
            raise _ApiError(404, 800001, f"Operation {operation_id} was not found.")
        self._advance_operation(operation, poll=True)
        headers = [("Retry-After", "60")] if operation.status == "running" else []
        return _Answer(200, self._operation_wire(operation), headers)

    def _advance_operation(self, operation: _Operation, *, poll: bool) -> None:
        """The domain check finishes after enough polls or enough (simulated) time."""
        if operation.status != "running":
            return
        if poll and operation.polls_remaining > 0:
            operation.polls_remaining -= 1
        if operation.polls_remaining > 0 and self.now() < operation.ready_at:
            return
        operation.completed = self.now()
        domain = f"{operation.domain_prefix}{_SUFFIX}"
        if self.domain_taken(domain):
            operation.status = "failed"
            operation.error = {"code": "DomainNotAvailable", "message": DOMAIN_TAKEN_MESSAGE.format(domain=domain)}
            return
        customer = self.customers[operation.customer_id]
        operation.status = "succeeded"
        operation.tenant_id = str(uuid.uuid4())
        customer.tenant_id, customer.tenant_domain = operation.tenant_id, domain
        self.taken_domains.add(operation.domain_prefix)
        self.domains.domain_register(domain=domain, tenant_id=operation.tenant_id, name=customer.company_name)
        reseller = self.resellers[operation.reseller]
        password = "Al" + secrets.token_urlsafe(9) + "3#"
        for recipient in (self.customers[reseller.own_customer_id].email, operation.contact["email"]):
            self.sent_emails.append(
                {
                    "to": recipient,
                    "subject": f"New Microsoft tenant {domain} for {customer.company_name}",
                    "body": (
                        f"The tenant {domain} (id {operation.tenant_id}) was created.\n"
                        f"Administrator: admin@{domain}\nTemporary password: {password}\n"
                    ),
                    "sent_at": _format(self.now()),
                }
            )

    def _operation_wire(self, operation: _Operation) -> dict[str, Any]:
        return {
            "id": operation.id,
            "status": operation.status,
            "customerId": operation.customer_id,
            "domain": f"{operation.domain_prefix}{_SUFFIX}",
            "tenantId": operation.tenant_id,
            "createdDateTime": _format(operation.created),
            "lastActionDateTime": _format(operation.completed or self.now()),
            "error": operation.error,
            "attributes": {"objectType": "Operation"},
        }

    # -- orders -------------------------------------------------------------------------------------

    def _list_orders(self, request: _Request, *, customer_id: str) -> dict[str, Any]:
        self._customer(request, customer_id)
        orders = [self._order_wire(self.orders[i]) for i in self._orders_by_customer[customer_id]]
        return {"totalCount": len(orders), "items": orders, "attributes": {"objectType": "Collection"}}

    def _get_order(self, request: _Request, *, customer_id: str, order_id: str) -> dict[str, Any]:
        self._customer(request, customer_id)
        order = self.orders.get(order_id)
        if order is None or order.customer_id != customer_id:
            raise _ApiError(404, 800001, f"Order {order_id} was not found.")
        return self._order_wire(order)

    def _create_order(self, request: _Request, *, customer_id: str) -> _Answer:
        customer = self._customer(request, customer_id)
        if customer.is_reseller:
            raise _ApiError(400, 800002, "Orders are placed for customers, not for the reseller's own organization.")
        if not customer.tenant_id:
            running = self._running_operation(customer.id)
            if running is not None:
                raise _ApiError(
                    409,
                    800014,
                    f"The customer's Microsoft tenant is still being created (operation {running.id}); "
                    "the order can be placed once the domain check is done.",
                )
            raise _ApiError(400, 800002, f"{customer.company_name} has no Microsoft tenant yet: create one first.")
        body = request.json()
        lines = _key(body, "lineItems")
        if not isinstance(lines, list) or not lines:
            raise _ApiError(400, 800002, "An order needs at least one line item.")
        planned = [self._check_line(customer, line) for line in lines]
        now = self.now()
        order = _Order(
            id=str(uuid.uuid4()),
            customer_id=customer.id,
            reference_number=str(_key(body, "referenceNumber") or ""),
            line_items=[],
            created=now,
        )
        for number, (product, term, cycle, quantity, parent, friendly_name) in enumerate(planned):
            subscription = self.add_subscription(
                customer_id=customer.id,
                product_key=product.key,
                term=term,
                cycle=cycle,
                quantity=quantity,
                started=now,
                parent_id=parent.id if parent else None,
                order_id=order.id,
            )
            subscription.assigned = 0
            subscription.friendly_name = friendly_name
            partner, customer_price, _ = prices_for(product, term, cycle)
            order.line_items.append(
                {
                    "lineItemNumber": number,
                    "offerId": product.catalog_item_id,
                    "subscriptionId": subscription.id,
                    "parentSubscriptionId": subscription.parent_id,
                    "termDuration": term,
                    "billingCycle": cycle,
                    "quantity": quantity,
                    "friendlyName": friendly_name or product.name,
                    "transactionType": "New",
                    "pricing": {"partnerPrice": partner, "customerPrice": customer_price, "currencyCode": "EUR"},
                }
            )
        self.orders[order.id] = order
        self._orders_by_customer[customer.id].append(order.id)
        return _Answer(201, self._order_wire(order))

    def _check_line(self, customer: _Customer, line: Any) -> tuple[_Product, str, str, int, _Subscription | None, str]:
        catalog_item = str(_key(line, "offerId") or "").upper()
        product = next((p for p in self.catalog.values() if p.catalog_item_id == catalog_item), None)
        if product is None:
            raise _ApiError(400, 800004, f"The offer {catalog_item or '(none)'} is not valid.")
        term = str(_key(line, "termDuration") or "").upper()
        cycle = str(_key(line, "billingCycle") or "").lower()
        if (term, cycle) not in product.prices:
            raise _ApiError(400, 800002, f"{product.name} is not sold with term {term} billed {cycle or '(none)'}.")
        if not customer.eligible(product.segment):
            label = {"academic": "academic", "government": "government", "nonprofit": "non-profit"}[product.segment]
            raise _ApiError(
                400,
                800004,
                f"{product.name} is for {label} organizations only; {customer.company_name} "
                f"({customer.industry}) is not marked {label}.",
                data=["CustomerNotEligible", f"segment:{product.segment}"],
            )
        quantity = _quantity(_key(line, "quantity"))
        parent_id = _key(line, "parentSubscriptionId")
        parent = None
        if product.is_add_on:
            if not parent_id:
                raise _ApiError(400, 800002, f"{product.name} is an add-on: name its parentSubscriptionId.")
            parent = self.subscriptions.get(str(parent_id).lower())
            if parent is None or parent.customer_id != customer.id:
                raise _ApiError(404, 800001, f"Subscription {parent_id} was not found.")
            self._refresh(parent)
            if parent.status != "active":
                raise _ApiError(400, 800012, f"Subscription {parent.id} is not an active subscription.")
            if parent.product_key not in product.parents:
                raise _ApiError(
                    400, 800004, f"{product.name} cannot be added to {self.catalog[parent.product_key].name}."
                )
        elif parent_id:
            raise _ApiError(400, 800002, f"{product.name} is not an add-on.")
        return product, term, cycle, quantity, parent, str(_key(line, "friendlyName") or "")

    def _order_wire(self, order: _Order) -> dict[str, Any]:
        return {
            "id": order.id,
            "alternateId": order.id.replace("-", "")[:12],
            "referenceCustomerId": order.customer_id,
            "referenceNumber": order.reference_number,
            "currencyCode": "EUR",
            "currencySymbol": "€",
            "lineItems": [dict(line) for line in order.line_items],
            "creationDate": _format(order.created),
            "status": order.status,
            "transactionType": "UserPurchase",
            "attributes": {"objectType": "Order"},
        }

    # -- subscriptions ------------------------------------------------------------------------------

    def _subscription(self, request: _Request, customer_id: str | None, subscription_id: str) -> _Subscription:
        subscription = self.subscriptions.get(subscription_id)
        if (
            subscription is None
            or self.customers[subscription.customer_id].reseller != request.reseller
            or (customer_id is not None and subscription.customer_id != customer_id)
        ):
            raise _ApiError(404, 800001, f"Subscription {subscription_id} was not found.")
        self._refresh(subscription)
        return subscription

    def _list_subscriptions(self, request: _Request, *, customer_id: str) -> dict[str, Any]:
        self._customer(request, customer_id)
        order_id = request.query.get("order_id")
        items = [
            self._subscription_wire(self.subscriptions[i])
            for i in self._subscriptions_by_customer[customer_id]
            if order_id is None or self.subscriptions[i].order_id == order_id
        ]
        return {"totalCount": len(items), "items": items, "attributes": {"objectType": "Collection"}}

    def _get_customer_subscription(self, request: _Request, *, customer_id: str, subscription_id: str) -> dict:
        return self._subscription_wire(self._subscription(request, customer_id, subscription_id))

    def _get_subscription(self, request: _Request, *, subscription_id: str) -> dict[str, Any]:
        return self._subscription_wire(self._subscription(request, None, subscription_id))

    def _list_addons(self, request: _Request, *, customer_id: str, subscription_id: str) -> dict[str, Any]:
        subscription = self._subscription(request, customer_id, subscription_id)
        items = [self._subscription_wire(child) for child in self._add_ons(subscription)]
        return {"totalCount": len(items), "items": items, "attributes": {"objectType": "Collection"}}

    def _add_ons(self, subscription: _Subscription) -> list[_Subscription]:
        return [
            self.subscriptions[i]
            for i in self._subscriptions_by_customer[subscription.customer_id]
            if self.subscriptions[i].parent_id == subscription.id
        ]

    def _patch_subscription(self, request: _Request, *, customer_id: str, subscription_id: str) -> dict[str, Any]:
        subscription = self._subscription(request, customer_id, subscription_id)
        body = request.json()
        etag = request.header("If-Match") or (_key(body, "attributes") or {}).get("etag")
        if etag and etag.strip('"') != subscription.etag:
            raise _ApiError(412, 2055, "The subscription was changed by someone else (ETag mismatch); read it again.")
        product = self.catalog[subscription.product_key]
        wanted_status = str(_key(body, "status") or subscription.status).lower()
        wanted_quantity = _key(body, "quantity")
        wanted_cycle = str(_key(body, "billingCycle") or subscription.cycle).lower()
        wanted_renew = _key(body, "autoRenewEnabled")
        friendly_name = _key(body, "friendlyName")
        changes_anything = (
            wanted_status != subscription.status
            or (wanted_quantity is not None and int(wanted_quantity) != subscription.quantity)
            or wanted_cycle != subscription.cycle
            or (wanted_renew is not None and bool(wanted_renew) != subscription.auto_renew)
        )
        if subscription.status in ("deleted", "expired") and changes_anything:
            raise _ApiError(400, 800012, f"Subscription {subscription.id} is not an active subscription.")
        if wanted_status != subscription.status:
            self._change_status(subscription, wanted_status)
        if wanted_quantity is not None and int(wanted_quantity) != subscription.quantity:
            if subscription.status != "active":
                raise _ApiError(400, 800012, f"Subscription {subscription.id} is not an active subscription.")
            self._apply_quantity(subscription, _quantity(wanted_quantity))
        if wanted_cycle != subscription.cycle:
            if (subscription.term, wanted_cycle) not in product.prices:
                raise _ApiError(
                    400, 800002, f"{product.name} with term {subscription.term} cannot be billed {wanted_cycle}."
                )
            subscription.cycle = wanted_cycle
        if wanted_renew is not None and subscription.status in ("active", "suspended"):
            subscription.auto_renew = bool(wanted_renew)
        if friendly_name is not None:
            subscription.friendly_name = str(friendly_name)
        subscription.etag = secrets.token_hex(8)
        return self._subscription_wire(subscription)

    def _change_status(self, subscription: _Subscription, wanted: str) -> None:
        current = subscription.status
        if (current, wanted) in (("active", "suspended"), ("suspended", "active")):
            if wanted == "active" and subscription.parent_id:
                parent = self.subscriptions[subscription.parent_id]
                if parent.status != "active":
                    raise _ApiError(400, 800040, "Reactivate the base subscription before its add-on.")
            subscription.status = wanted
            subscription.suspension_reasons = ["PartnerInitiated"] if wanted == "suspended" else []
            for child in self._add_ons(subscription):
                if child.status in ("active", "suspended"):
                    child.status = wanted
                    child.etag = secrets.token_hex(8)
            return
        if wanted == "deleted" and current in ("active", "suspended"):
            if self.now() >= subscription.term_start + CANCELLATION_WINDOW:
                raise _ApiError(
                    400,
                    800090,
                    "The subscription can only be cancelled until its cancellationAllowedUntilDate "
                    f"({_format(subscription.term_start + CANCELLATION_WINDOW)}); turn off auto-renew instead.",
                )
            subscription.status = "deleted"
            subscription.auto_renew = False
            for child in self._add_ons(subscription):
                child.status = "deleted"
                child.auto_renew = False
                child.etag = secrets.token_hex(8)
            return
        raise _ApiError(400, 800040, f"Subscription status cannot be changed from {current} to {wanted}.")

    def _apply_quantity(self, subscription: _Subscription, quantity: int) -> None:
        now = self.now()
        if quantity > subscription.quantity:
            subscription.refundable.append((quantity - subscription.quantity, now + CANCELLATION_WINDOW))
        else:
            decrease = subscription.quantity - quantity
            buckets = [(q, until) for q, until in subscription.refundable if until > now]
            if sum(q for q, _ in buckets) < decrease:
                raise _ApiError(400, 800090, "Subscription quantity cannot be decreased.")
            remaining = decrease
            kept: list[tuple[int, datetime]] = []
            for q, until in reversed(buckets):
                taken = min(q, remaining)
                remaining -= taken
                if q - taken:
                    kept.insert(0, (q - taken, until))
            subscription.refundable = kept
        subscription.quantity = quantity
        subscription.assigned = min(subscription.assigned, quantity)

    def _refresh(self, subscription: _Subscription) -> None:
        """Renewals and expiries at the end of the term, applied when the subscription is looked at."""
        now = self.now()
        while subscription.status in ("active", "suspended") and subscription.term_end <= now:
            if not subscription.auto_renew or subscription.is_trial:
                subscription.status = "expired"
                break
            subscription.term_start = subscription.term_end
            subscription.term_end = add_months(subscription.term_start, _TERM_MONTHS[subscription.term])
            subscription.refundable = [(subscription.quantity, subscription.term_start + CANCELLATION_WINDOW)]
            subscription.etag = secrets.token_hex(8)

    def _billing_lines(self, request: _Request) -> dict[str, Any]:
        """The reseller's billing lines at partner price, one per subscription and billing period whose
        charge starts inside `periodStart`..`periodEnd` (ISO dates). ALEF publishes no API reference
        (marketplace-apis.md 5): this is its Partner Center semantics (an invoice per month, cycle fees
        per billing period), as the rest of this simulator; `invoiceId` is the month."""
        try:
            start = date.fromisoformat(str(request.query.get("periodstart") or ""))
            end = date.fromisoformat(str(request.query.get("periodend") or ""))
        except ValueError:
            raise _ApiError(400, 400, "periodStart and periodEnd are required ISO dates (YYYY-MM-DD).") from None
        if end < start:
            raise _ApiError(400, 400, "periodEnd is before periodStart.")
        items = []
        for subscription in list(self.subscriptions.values()):
            if subscription.is_trial or self.customers[subscription.customer_id].reseller != request.reseller:
                continue
            product = self.catalog[subscription.product_key]
            partner, _customer_price, _retail = prices_for(product, subscription.term, subscription.cycle)
            step = 12 if subscription.cycle == "annual" else 36 if subscription.cycle == "triennial" else 1
            first = subscription.term_start.date()
            months = 0
            while True:
                charge_start = _add_months(first, months)
                if charge_start > end or charge_start > subscription.term_end.date():
                    break
                charge_end = _add_months(first, months + step) - timedelta(days=1)
                months += step
                if charge_start < start or subscription.status == "deleted":
                    continue
                items.append(
                    {
                        "invoiceId": f"ALEF-{charge_start:%Y%m}",
                        "customerId": subscription.customer_id,
                        "customerName": self.customers[subscription.customer_id].company_name,
                        "subscriptionId": subscription.id,
                        "offerId": product.catalog_item_id,
                        "productId": product.product_id,
                        "termDuration": subscription.term,
                        "billingCycle": subscription.cycle,
                        "description": product.name,
                        "chargeType": "cycleFee",
                        "chargeStartDate": charge_start.isoformat(),
                        "chargeEndDate": charge_end.isoformat(),
                        "quantity": subscription.quantity,
                        "unitPrice": str(partner),
                        "amount": str(_money(partner * subscription.quantity)),
                        "currency": "EUR",
                    }
                )
        items.sort(key=lambda item: (item["chargeStartDate"], item["customerId"], item["subscriptionId"]))
        return {"totalCount": len(items), "items": items, "attributes": {"objectType": "Collection"}}

    def _subscription_wire(self, subscription: _Subscription) -> dict[str, Any]:
        self._refresh(subscription)
        product = self.catalog[subscription.product_key]
        customer = self.customers[subscription.customer_id]
        partner, customer_price, retail = prices_for(product, subscription.term, subscription.cycle)
        now = self.now()
        refundable = [(q, until) for q, until in subscription.refundable if until > now]
        order = self.orders.get(subscription.order_id or "")
        return {
            "id": subscription.id,
            "customerId": subscription.customer_id,
            "offerId": product.catalog_item_id,
            "productId": product.product_id,
            "skuId": product.sku_id,
            "offerName": product.name,
            "friendlyName": subscription.friendly_name or product.name,
            "productType": {"id": "OnlineServicesNCE", "displayName": "OnlineServicesNCE"},
            "quantity": subscription.quantity,
            "assignedLicenses": subscription.assigned,
            "unitType": "Licenses",
            "parentSubscriptionId": subscription.parent_id,
            "creationDate": _format(subscription.created),
            "effectiveStartDate": _format(subscription.term_start),
            "commitmentEndDate": _format(subscription.term_end),
            "cancellationAllowedUntilDate": _format(subscription.term_start + CANCELLATION_WINDOW),
            "status": subscription.status,
            "autoRenewEnabled": subscription.auto_renew,
            "billingType": "license",
            "billingCycle": subscription.cycle,
            "termDuration": subscription.term,
            "refundableQuantity": {
                "totalQuantity": sum(q for q, _ in refundable),
                "details": [{"quantity": q, "allowedUntilDateTime": _format(until)} for q, until in refundable],
            },
            "suspensionReasons": list(subscription.suspension_reasons),
            "isTrial": subscription.is_trial,
            "orderId": subscription.order_id,
            "orderReferenceNumber": order.reference_number if order else None,
            "segment": product.segment,
            "tenantDomain": customer.tenant_domain,
            "currencyCode": "EUR",
            "partnerPrice": partner,
            "customerPrice": customer_price,
            "suggestedRetailPrice": retail,
            "contractType": "subscription",
            "publisherName": "Microsoft Corporation",
            "links": {
                "self": {
                    "uri": f"customers/{subscription.customer_id}/subscriptions/{subscription.id}",
                    "method": "GET",
                    "headers": [],
                }
            },
            "attributes": {"etag": subscription.etag, "objectType": "Subscription"},
        }


# ------------------------------------------------------------------------------------------------
# Wire helpers
# ------------------------------------------------------------------------------------------------


def _key(body: Any, name: str) -> Any:
    """Bodies are bound case-insensitively, as Partner Center does."""
    if not isinstance(body, Mapping):
        return None
    if name in body:
        return body[name]
    lowered = name.lower()
    for key, value in body.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return None


def _quantity(value: Any) -> int:
    try:
        quantity = int(str(value))
    except (TypeError, ValueError):
        raise _ApiError(400, 800002, "The quantity must be a whole number.") from None
    if not 1 <= quantity <= MAX_QUANTITY:
        raise _ApiError(400, 800017, f"The quantity must be between 1 and {MAX_QUANTITY}.")
    return quantity


def _domain_prefix(value: str) -> str:
    prefix = value.strip().lower().removesuffix(_SUFFIX)
    if not _DOMAIN_PREFIX.match(prefix):
        raise _ApiError(400, 800002, "The domain must be 1 to 27 letters and numbers (before .onmicrosoft.com).")
    return prefix


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _format(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment else None


def _respond_error(
    start_response: Callable[..., Any],
    error: _ApiError,
    method: str,
    extra: list[tuple[str, str]] | None = None,
) -> Iterator[bytes]:
    body = {"code": error.code, "description": error.description, "data": error.data, "source": "ALEF"}
    headers = list(extra or [])
    if error.status == 401:
        headers.append(("WWW-Authenticate", 'Bearer error="invalid_token"'))
    payload = b"" if method == "HEAD" else json_bytes(body)
    return respond(start_response, error.status, payload, "application/json; charset=utf-8", headers)


# ------------------------------------------------------------------------------------------------
# Entry points
# ------------------------------------------------------------------------------------------------


def create_simulator() -> AlefSimulator:
    """A simulator with the demo data, for the contract suite and in-process use."""
    return AlefSimulator(seed=True)


def make_simulator_server(*, simulator: AlefSimulator, host: str = "127.0.0.1", port: int = 8204) -> WSGIServer:
    """A threaded stdlib HTTP server around a simulator; `port=0` picks a free port."""
    return threaded_wsgi_server(simulator, host=host, port=port)


def main(argv: list[str] | None = None) -> None:
    parser = simulator_arguments(description="Serve the ALEF CSP platform simulator over HTTP.", port=8204)
    parser.add_argument("--bulk-companies", type=int, default=0)
    parser.add_argument("--bulk-subscriptions-per-company", type=int, default=10)
    arguments = parser.parse_args(argv)
    simulator = AlefSimulator(seed=not arguments.no_seed, domains=domain_registry_from(arguments.identity_url))
    if arguments.bulk_companies:
        simulator.seed_bulk(
            companies=arguments.bulk_companies, subscriptions_per_company=arguments.bulk_subscriptions_per_company
        )
    server = make_simulator_server(simulator=simulator, host=arguments.host, port=arguments.port)
    url = f"http://{arguments.host}:{server.server_port}"
    print(
        f"ALEF CSP platform simulator on {url} (reseller '{DEMO_RESELLER}': {url}/{DEMO_RESELLER}{API_PATH}/)",
        flush=True,
    )
    print(f"demo user {DEMO_USERNAME} / {DEMO_PASSWORD}; control endpoints under {url}/_control/", flush=True)
    serve_until_interrupted(server)


if __name__ == "__main__":
    main()
