"""A WSGI simulator of the Cloudmore API (reseller side, Microsoft CSP NCE).

It answers as Cloudmore's API does, as far as that is publicly documented,
and where nothing was found the choice made here is named in `client.py`'s
docstring: a password-grant token endpoint with Basic client authentication and 24 h tokens (401
after expiry), case-insensitive REST routes under `/api/resellers/{resellerId}`, GUID ids,
organizations -> the O365 CSP Direct service (the Microsoft tenant) -> NCE subscriptions (add-ons
have a parent), price lists per segment, an asynchronous monthly billing report, ProblemDetails
errors, 201 on create and 204 on delete.

Cloudmore's "Add O365 CSP Direct service" flow is reproduced: adding the service is refused while the
organization's address is incomplete, a taken domain is refused with Cloudmore's explanation, and
the tenant exists at once with an admin user whose credentials are "emailed" to the contact
(`simulator.sent_emails`, `GET /_control/emails`). Nothing is charged until a subscription is bought.

Each instance owns its state (no globals): tests run isolated simulators in-process through
`httpx.WSGITransport(app=simulator)`; `python -m simulators.cloudmore --port 8203`
serves one over real sockets.

Control endpoints (JSON bodies):
    POST /_control/reset           {"seed": true}
    POST /_control/seed            {"kind": "demo"}
                                   | {"kind": "bulk", "companies": 2000, "subscriptions_per_company": 10}
                                   | {"kind": "taken_domains", "domains": ["acme"]}
    POST /_control/inject          {"kind": "throttle"|"unavailable"|"latency"|"token_expiry"|"error",
                                    "operation": "list_organizations" (optional), "count": 1, "retry_after": 3,
                                    "status": 503, "seconds": 0.5, "error_code": "...", "message": "...",
                                    "apply_first": false}
    POST /_control/clear           {}  -> drop pending injections
    POST /_control/expire_tokens   {}  -> every issued token expires
    POST /_control/advance_clock   {"seconds": 691200}
    GET  /_control/state           counts, call counts, injections
    GET  /_control/emails          the emails the simulator "sent"
"""

from __future__ import annotations

import base64
import calendar
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from http import HTTPStatus
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIServer

from marketplace.providers.base import ProviderConnection
from marketplace.providers.cloudmore.client import DEFAULT_CLIENT_ID
from marketplace.providers.cloudmore.records import DOMAIN_TAKEN_EXPLANATION
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

DEMO_RESELLER_ID = "3f1c9a52-7d0e-4b8a-9c61-2a5e8b7d4f10"
DEMO_USERNAME = "api@nordic-reseller.example"
DEMO_PASSWORD = "demo-password"
DEMO_CLIENT_ID = DEFAULT_CLIENT_ID
DEMO_CLIENT_SECRET = "demo-api-secret"
OTHER_RESELLER_ID = "b7e2d4c1-0a9f-4e3b-8d72-6c1f5a9e3b20"
OTHER_USERNAME = "api@other-reseller.example"
OTHER_PASSWORD = "other-password"

#: The demo account as a marketplace account stores it; `server_url` None suits in-process use.
DEMO_CONNECTION = ProviderConnection(
    region="eu",
    username=DEMO_USERNAME,
    secret=DEMO_PASSWORD,
    options=MappingProxyType(
        {"reseller_id": DEMO_RESELLER_ID, "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
    ),
)

TOKEN_LIFETIME = timedelta(hours=24)
#: Microsoft NCE: decreases and cancellation within 7 days (168 hours) of purchase or renewal.
CANCELLATION_WINDOW = timedelta(days=7)
MAX_QUANTITY = 300
MAX_PAGE_SIZE = 1000
INCOMPLETE_ADDRESS_MESSAGE = (
    "The organization's address is incomplete ({missing}). Microsoft requires the company address "
    "to create a new tenant: complete it under the organization's properties and try again."
)
CANCELLATION_WINDOW_MESSAGE = (
    "New commerce subscriptions can only be cancelled within 7 days (168 hours) of purchase or renewal. "
    "Turn off auto-renew to end the subscription at the end of its term."
)
DECREASE_MESSAGE = (
    "Subscription quantity cannot be decreased: licenses can only be reduced within 7 days (168 hours) "
    "of their purchase or renewal."
)

_DOMAIN_PREFIX = re.compile(r"^[a-z0-9]{1,27}$")
_SUFFIX = ".onmicrosoft.com"
_CENT = Decimal("0.01")


# ------------------------------------------------------------------------------------------------
# Catalog and price lists
# ------------------------------------------------------------------------------------------------

_BILLING_MONTHS = {"Monthly": 1, "Annual": 12, "Triennial": 36}
_TERM_MONTHS = {"P1M": 1, "P1Y": 12, "P3Y": 36}
_SEGMENTS = ("commercial", "education", "charity", "government")
#: Segment price relative to the commercial retail price (simulated discounts).
_SEGMENT_FACTOR = {
    "commercial": Decimal("1"),
    "education": Decimal("0.60"),
    "charity": Decimal("0.75"),
    "government": Decimal("0.90"),
}
#: The reseller's purchase price relative to the retail price (the broker's margin).
_COST_FACTOR = Decimal("0.85")


@dataclass(frozen=True, kw_only=True)
class _Product:
    product_id: str
    sku_id: str
    name: str
    #: (term, billing frequency) -> retail price per billing period, EUR
    prices: Mapping[tuple[str, str], Decimal]
    #: product keys ("productId:skuId") an add-on attaches to; empty for a base product
    parents: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.product_id}:{self.sku_id}"

    @property
    def is_add_on(self) -> bool:
        return bool(self.parents)


def item_code(product: _Product, term: str, billing: str) -> str:
    return f"{product.key}:{term}:{billing}"


def _price(value: str) -> Decimal:
    return Decimal(value)


def _monthly_and_annual(p1m: str | None, p1y_monthly: str, *, triennial: str | None = None) -> dict:
    prices: dict[tuple[str, str], Decimal] = {}
    if p1m is not None:
        prices[("P1M", "Monthly")] = _price(p1m)
    prices[("P1Y", "Monthly")] = _price(p1y_monthly)
    prices[("P1Y", "Annual")] = _price(p1y_monthly) * 12
    if triennial is not None:
        prices[("P3Y", "Annual")] = _price(triennial)
    return prices


BASIC = "CFQ7TTC0LH18:0001"
STANDARD = "CFQ7TTC0LDPB:0001"
PREMIUM = "CFQ7TTC0LCHC:0002"
E3 = "CFQ7TTC0LFLX:0001"
EXCHANGE_1 = "CFQ7TTC0LH16:0001"
TEAMS_PHONE = "CFQ7TTC0J1FV:0001"
ARCHIVING = "CFQ7TTC0LH0R:0001"


def build_catalog() -> dict[str, _Product]:
    products = [
        _Product(
            product_id="CFQ7TTC0LH18", sku_id="0001", name="Microsoft 365 Business Basic",
            prices=_monthly_and_annual("6.72", "5.60"),
        ),
        _Product(
            product_id="CFQ7TTC0LDPB", sku_id="0001", name="Microsoft 365 Business Standard",
            prices=_monthly_and_annual("15.12", "12.60", triennial="151.20"),
        ),
        _Product(
            product_id="CFQ7TTC0LCHC", sku_id="0002", name="Microsoft 365 Business Premium",
            prices=_monthly_and_annual("24.72", "20.60"),
        ),
        _Product(
            product_id="CFQ7TTC0LFLX", sku_id="0001", name="Microsoft 365 E3",
            prices=_monthly_and_annual("40.44", "33.70"),
        ),
        _Product(
            product_id="CFQ7TTC0LH16", sku_id="0001", name="Exchange Online (Plan 1)",
            prices=_monthly_and_annual("4.80", "4.00"),
        ),
        _Product(
            product_id="CFQ7TTC0J1FV", sku_id="0001", name="Microsoft Teams Phone Standard",
            prices=_monthly_and_annual("10.08", "8.40"), parents=(E3, PREMIUM),
        ),
        _Product(
            product_id="CFQ7TTC0LH0R", sku_id="0001", name="Exchange Online Archiving",
            prices={("P1Y", "Monthly"): Decimal("3.00"), ("P1Y", "Annual"): Decimal("36.00")},
            parents=(BASIC, STANDARD, EXCHANGE_1),
        ),
    ]  # fmt: skip
    return {product.key: product for product in products}


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def segment_prices(product: _Product, term: str, billing: str, segment: str) -> tuple[Decimal, Decimal, Decimal]:
    """(cost price, sales price, retail price) per billing period for a segment."""
    retail = product.prices[(term, billing)]
    segment_retail = _money(retail * _SEGMENT_FACTOR[segment])
    return _money(segment_retail * _COST_FACTOR), segment_retail, _money(retail)


# ------------------------------------------------------------------------------------------------
# State
# ------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class _Reseller:
    id: str
    name: str
    csp_service_id: str
    currency: str = "EUR"


@dataclass(kw_only=True)
class _ApiUser:
    username: str
    password: str
    reseller_id: str


@dataclass(kw_only=True)
class _Token:
    username: str
    reseller_id: str
    expires_at: datetime


@dataclass(kw_only=True)
class _Organization:
    id: str
    reseller_id: str
    name: str
    segment: str
    domain: str
    notification_email: str
    contact: dict[str, Any]
    address: dict[str, Any]
    created: datetime
    registration_number: str = ""
    vat: str = ""
    customer_number: str = ""
    is_active: bool = True


@dataclass(kw_only=True)
class _CspService:
    organization_id: str
    tenant_id: str
    domain: str
    created: datetime
    admin_user_name: str | None
    contact_email: str | None
    status: str = "Active"


@dataclass(kw_only=True)
class _TenantUser:
    id: str
    organization_id: str
    user_name: str
    first_name: str
    last_name: str
    email: str | None
    is_admin: bool
    created: datetime
    subscription_ids: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class _DirectoryUser:
    """A user of Cloudmore's own portal directory for an organization (not a Microsoft 365 user)."""

    id: str
    organization_id: str
    user_name: str
    first_name: str
    last_name: str
    email: str
    created: datetime


@dataclass(kw_only=True)
class _Subscription:
    id: str
    organization_id: str
    parent_id: str | None
    product_key: str
    term: str
    billing: str
    quantity: int
    consumed: int
    term_start: datetime
    term_end: datetime
    created: datetime
    segment: str
    status: str = "Active"
    auto_renew: bool = True
    friendly_name: str = ""
    purchase_order_number: str = ""
    is_trial: bool = False
    #: licenses still refundable: (quantity, refundable until), one bucket per purchase
    refundable: list[tuple[int, datetime]] = field(default_factory=list)


@dataclass(kw_only=True)
class _ReportTask:
    id: str
    reseller_id: str
    year: int
    month: int
    organization_id: str | None
    polls_remaining: int


@dataclass(kw_only=True)
class _Injection(Injection):
    error_code: str = "Error"
    message: str = "An error occurred while processing your request."


_INJECTION_KINDS = frozenset({"throttle", "unavailable", "latency", "token_expiry", "error"})


class _Problem(Exception):
    """An error answered as ProblemDetails."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        error_code: str | None = None,
        errors: Mapping[str, list[str]] | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.error_code = error_code
        self.errors = errors
        self.headers = headers or []


@dataclass
class _Request(SimulatedRequest):
    token: _Token | None = None

    def json(self) -> dict[str, Any]:
        return decode_json_object(self.raw_body, lambda message: _Problem(400, message))


@dataclass
class _Answer:
    status: int
    body: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)


_Handler = Callable[..., Any]
_ROUTE_PREFIX = r"^/api/resellers/(?P<reseller_id>[^/]+)"
_ORGANIZATION = _ROUTE_PREFIX + r"/organizations/(?P<organization_id>[^/]+)"
_NCE = _ORGANIZATION + r"/services/csp/nce/subscriptions"


class CloudmoreSimulator(MarketplaceSimulator[_Injection]):
    """The simulated Cloudmore API: a WSGI callable that owns all of its state."""

    injection_kinds = _INJECTION_KINDS
    sign_in_operation = "token"
    session_expiry_kind = "token_expiry"

    def __init__(
        self,
        *,
        seed: bool = True,
        token_lifetime: timedelta = TOKEN_LIFETIME,
        report_polls: int = 1,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        domains: DomainRegistry | None = None,
    ) -> None:
        super().__init__(clock=clock, sleep=sleep)
        #: Microsoft Online's domains beyond Cloudmore's own tenants (the identity simulator's directories):
        #: a domain is unique across all of them, and each tenant created here is registered there.
        self.domains: DomainRegistry = domains if domains is not None else SeededDomains(())
        self.token_lifetime = token_lifetime
        self.report_polls = report_polls
        self.catalog = build_catalog()
        self._routes = self._build_routes()
        self.reset(seed=seed)

    # -- state management ---------------------------------------------------------------------------

    def _clear_state(self) -> None:
        self.clients: dict[str, str] = {DEMO_CLIENT_ID: DEMO_CLIENT_SECRET}
        self.resellers: dict[str, _Reseller] = {}
        self.users: dict[str, _ApiUser] = {}
        self.tokens: dict[str, _Token] = {}
        self.organizations: dict[str, _Organization] = {}
        self.csp_services: dict[str, _CspService] = {}
        self.tenant_users: dict[str, list[_TenantUser]] = {}
        self.directory_users: dict[str, list[_DirectoryUser]] = {}
        self.subscriptions: dict[str, _Subscription] = {}
        self._organizations_by_reseller: dict[str, list[str]] = {}
        self._subscriptions_by_organization: dict[str, list[str]] = {}
        self._subscriptions_by_reseller: dict[str, list[str]] = {}
        self.report_tasks: dict[str, _ReportTask] = {}
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
        error_code: str = "Error",
        message: str | None = None,
        apply_first: bool = False,
    ) -> None:
        """Make the next `count` matching calls fail (or slow down) the given way."""
        self._check_injection_kind(kind)
        injection = _Injection(
            kind=kind,
            operation=operation,
            remaining=count,
            status=status or (400 if kind == "error" else 503),
            retry_after=retry_after,
            seconds=seconds,
            error_code=error_code,
            apply_first=apply_first,
        )
        self._arm(injection, message=message)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "resellers": len(self.resellers),
                "organizations": len(self.organizations),
                "tenants": len(self.csp_services),
                "subscriptions": len(self.subscriptions),
                "tokens": len(self.tokens),
                "emails": len(self.sent_emails),
                "calls": dict(self.call_counts),
                "injections": self._pending_injections(),
            }

    # -- seeding ------------------------------------------------------------------------------------

    def add_reseller(self, *, reseller_id: str, name: str) -> _Reseller:
        with self._lock:
            reseller = _Reseller(id=reseller_id, name=name, csp_service_id=str(uuid.uuid5(uuid.NAMESPACE_URL, name)))
            self.resellers[reseller.id] = reseller
            self._organizations_by_reseller[reseller.id] = []
            self._subscriptions_by_reseller[reseller.id] = []
            return reseller

    def add_user(self, *, username: str, password: str, reseller_id: str) -> _ApiUser:
        with self._lock:
            user = _ApiUser(username=username, password=password, reseller_id=reseller_id)
            self.users[username.lower()] = user
            return user

    def add_organization(
        self,
        *,
        reseller_id: str,
        name: str,
        domain: str,
        segment: str = "commercial",
        street: str = "Drottninggatan 1",
        city: str = "Stockholm",
        zip_code: str = "111 51",
        country: str = "SE",
        contact_name: str = "Alex Admin",
        organization_id: str | None = None,
        created: datetime | None = None,
    ) -> _Organization:
        with self._lock:
            organization = _Organization(
                id=organization_id or str(uuid.uuid4()),
                reseller_id=reseller_id,
                name=name,
                segment=segment,
                domain=domain,
                notification_email=f"billing@{domain}",
                contact={"name": contact_name, "email": f"it@{domain}", "phone": "+46 8 123 456", "cellPhone": ""},
                address={"street": street, "city": city, "zipCode": zip_code, "state": "", "countryCode": country},
                created=created or self.now(),
                registration_number=f"556{len(self.organizations):03d}-{secrets.randbelow(9000) + 1000}",
                customer_number=f"CM-{len(self.organizations) + 1001}",
            )
            self.organizations[organization.id] = organization
            self._organizations_by_reseller[reseller_id].append(organization.id)
            self._subscriptions_by_organization[organization.id] = []
            self.tenant_users[organization.id] = []
            first, _space, last = contact_name.partition(" ")
            self.directory_users[organization.id] = [
                _DirectoryUser(
                    id=str(uuid.uuid4()),
                    organization_id=organization.id,
                    user_name=organization.contact["email"],
                    first_name=first,
                    last_name=last,
                    email=organization.contact["email"],
                    created=organization.created,
                )
            ]
            return organization

    def add_tenant(
        self, *, organization_id: str, domain_prefix: str, tenant_id: str | None = None, created: datetime | None = None
    ) -> _CspService:
        with self._lock:
            service = _CspService(
                organization_id=organization_id,
                tenant_id=tenant_id or str(uuid.uuid4()),
                domain=f"{domain_prefix}{_SUFFIX}",
                created=created or self.now(),
                admin_user_name=f"admin@{domain_prefix}{_SUFFIX}",
                contact_email=None,
            )
            self.csp_services[organization_id] = service
            self.taken_domains.add(domain_prefix)
            return service

    def add_subscription(
        self,
        *,
        organization_id: str,
        product_key: str,
        term: str,
        billing: str,
        quantity: int,
        started: datetime | None = None,
        parent_id: str | None = None,
        purchase_order_number: str = "",
        friendly_name: str = "",
    ) -> _Subscription:
        """Create a subscription directly in state (seeding); buying goes through the API."""
        with self._lock:
            organization = self.organizations[organization_id]
            started = started or self.now()
            subscription = _Subscription(
                id=str(uuid.uuid4()),
                organization_id=organization_id,
                parent_id=parent_id,
                product_key=product_key,
                term=term,
                billing=billing,
                quantity=quantity,
                consumed=max(0, quantity - 1 - quantity // 5),
                term_start=started,
                term_end=add_months(started, _TERM_MONTHS[term]),
                created=started,
                segment=organization.segment,
                purchase_order_number=purchase_order_number,
                friendly_name=friendly_name,
                refundable=[(quantity, started + CANCELLATION_WINDOW)],
            )
            self.subscriptions[subscription.id] = subscription
            self._subscriptions_by_organization[organization_id].append(subscription.id)
            self._subscriptions_by_reseller[organization.reseller_id].append(subscription.id)
            return subscription

    def seed_demo(self) -> None:
        """A Nordic reseller with eight organizations in all four segments, and a second reseller."""
        with self._lock:
            now = self.now()
            reseller = self.add_reseller(reseller_id=DEMO_RESELLER_ID, name="Nordic Cloud Reseller AB")
            self.add_user(username=DEMO_USERNAME, password=DEMO_PASSWORD, reseller_id=reseller.id)
            days = lambda n: now - timedelta(days=n)  # noqa: E731
            # name, domain, segment, (street, city, zip, country), tenant (prefix, id) or None
            se, fi, gb, ee = "SE", "FI", "GB", "EE"
            organizations = [
                ("Contoso AB", "contoso.example", "commercial", ("Sveavägen 44", "Stockholm", "111 34", se),
                 ("contoso", "67a08685-ba70-4922-ae8b-802ff5c44282")),
                ("Fabrikam Oy", "fabrikam.example", "commercial", ("Mannerheimintie 12", "Helsinki", "00100", fi),
                 ("fabrikam", "d110a146-8491-4109-9dce-4139f88ec90a")),
                ("Northwind Traders Ltd", "northwind.example", "commercial",
                 ("1 Long Acre", "London", "WC2E 9LH", gb), ("northwind", "48ae22e9-4381-4526-95c4-8fb8bcdb2ec7")),
                ("Adatum Gymnasium", "adatum-edu.example", "education",
                 ("Dragarbrunnsgatan 5", "Uppsala", "753 20", se),
                 ("adatumedu", "0c6a6f8e-51b1-4bf4-9d83-3b8f0f1f2a11")),
                ("Litware Foundation", "litware.example", "charity", ("Narva mnt 7", "Tallinn", "10117", ee),
                 ("litwarefoundation", "4d2a7b19-8c55-4f0e-a3de-9b1c2e7f6a22")),
                ("Woodgrove Kommun", "woodgrove.example", "government", ("Kungsgatan 20", "Göteborg", "411 19", se),
                 ("woodgrovekommun", "9e8f7a6b-5c4d-4e3f-8a1b-2c3d4e5f6a33")),
                ("Tailspin Toys AB", "tailspin.example", "commercial", ("Stortorget 1", "Malmö", "211 22", se), None),
                ("Alpine Ski House", "alpineskihouse.example", "commercial", ("", "Åre", "", se), None),
            ]  # fmt: skip
            created: dict[str, _Organization] = {}
            for name, domain, segment, (street, city, zip_code, country), tenant in organizations:
                organization = self.add_organization(
                    reseller_id=reseller.id,
                    name=name,
                    domain=domain,
                    segment=segment,
                    street=street,
                    city=city,
                    zip_code=zip_code,
                    country=country,
                    organization_id=str(uuid.uuid5(uuid.NAMESPACE_DNS, f"cloudmore.{domain}")),
                    created=days(700),
                )
                created[name] = organization
                if tenant is not None:
                    self.add_tenant(
                        organization_id=organization.id, domain_prefix=tenant[0], tenant_id=tenant[1], created=days(690)
                    )

            def buy(organization: str, product: str, term: str, billing: str, quantity: int, age: int, **kw: Any):
                return self.add_subscription(
                    organization_id=created[organization].id,
                    product_key=product,
                    term=term,
                    billing=billing,
                    quantity=quantity,
                    started=days(age),
                    **kw,
                )

            contoso_e3 = buy("Contoso AB", E3, "P1Y", "Annual", 25, 200, friendly_name="Contoso E3")
            buy("Contoso AB", TEAMS_PHONE, "P1Y", "Monthly", 10, 60, parent_id=contoso_e3.id)
            buy("Contoso AB", BASIC, "P1M", "Monthly", 10, 3, purchase_order_number="PO-2024-118")
            buy("Fabrikam Oy", PREMIUM, "P1Y", "Monthly", 40, 90)
            fabrikam_exchange = buy("Fabrikam Oy", EXCHANGE_1, "P1Y", "Monthly", 5, 30)
            buy("Fabrikam Oy", ARCHIVING, "P1Y", "Monthly", 5, 20, parent_id=fabrikam_exchange.id)
            northwind_standard = buy("Northwind Traders Ltd", STANDARD, "P1Y", "Annual", 15, 300)
            northwind_standard.auto_renew = False  # ends at the end of its term
            northwind_basic = buy("Northwind Traders Ltd", BASIC, "P1Y", "Monthly", 8, 120)
            northwind_basic.status = "Suspended"
            buy("Adatum Gymnasium", BASIC, "P1Y", "Annual", 120, 50)
            buy("Litware Foundation", PREMIUM, "P1M", "Monthly", 12, 5)
            buy("Woodgrove Kommun", E3, "P1Y", "Monthly", 60, 400)
            woodgrove_exchange = buy("Woodgrove Kommun", EXCHANGE_1, "P1M", "Monthly", 20, 200)
            woodgrove_exchange.status = "Deleted"
            for organization in created.values():
                if organization.id in self.csp_services:
                    service = self.csp_services[organization.id]
                    self.tenant_users[organization.id].append(
                        _TenantUser(
                            id=str(uuid.uuid4()),
                            organization_id=organization.id,
                            user_name=service.admin_user_name or "",
                            first_name="Alex",
                            last_name="Admin",
                            email=organization.contact["email"],
                            is_admin=True,
                            created=service.created,
                        )
                    )

            other = self.add_reseller(reseller_id=OTHER_RESELLER_ID, name="Other Reseller Oy")
            self.add_user(username=OTHER_USERNAME, password=OTHER_PASSWORD, reseller_id=other.id)
            elsewhere = self.add_organization(
                reseller_id=other.id, name="Elsewhere Oy", domain="elsewhere.example", city="Espoo", country="FI"
            )
            self.add_tenant(organization_id=elsewhere.id, domain_prefix="elsewhere")
            self.add_subscription(
                organization_id=elsewhere.id, product_key=PREMIUM, term="P1Y", billing="Monthly", quantity=9
            )

    def seed_bulk(self, *, companies: int, subscriptions_per_company: int, reseller_id: str = DEMO_RESELLER_ID) -> None:
        """Many organizations, each with a tenant and subscriptions, for load tests and benchmarks."""
        with self._lock:
            now = self.now()
            sellable = [
                (product.key, term, billing)
                for product in self.catalog.values()
                if not product.is_add_on
                for term, billing in product.prices
            ]
            offset = len(self._organizations_by_reseller[reseller_id])
            for index in range(companies):
                number = offset + index + 1
                organization = self.add_organization(
                    reseller_id=reseller_id,
                    name=f"Bulk Customer {number:05d} AB",
                    domain=f"bulk{number:05d}.example",
                    created=now - timedelta(days=400),
                )
                self.add_tenant(organization_id=organization.id, domain_prefix=f"bulk{number:05d}")
                for line in range(subscriptions_per_company):
                    product_key, term, billing = sellable[(index + line) % len(sellable)]
                    self.add_subscription(
                        organization_id=organization.id,
                        product_key=product_key,
                        term=term,
                        billing=billing,
                        quantity=(index * 7 + line) % 50 + 1,
                        started=now - timedelta(days=(index + line * 13) % 330 + 8),
                    )

    # -- WSGI ---------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path.startswith("/_control/"):
            return self._control(path.removeprefix("/_control/"), method, environ, start_response)
        request = _Request(
            method=method,
            path=path.rstrip("/").lower() or "/",
            query=lowercase_query(environ),
            environ=environ,
            raw_body=read_body(environ),
        )
        if request.path == "/connect/token":
            if method != "POST":
                return _respond_problem(start_response, _Problem(405, "Use POST."))
            operation, handler, params = "token", self._token, {}
        else:
            found = self._route(request)
            if isinstance(found, _Problem):
                return _respond_problem(start_response, found)
            operation, handler, params = found

        self._count_call(operation)
        with self._lock:
            injection = self._take_injection(operation)
            if injection is not None and not injection.apply_first:
                return self._injected_failure(injection, start_response, request)
            try:
                if operation != "token":
                    request.token = self._authorize(request, params.get("reseller_id"))
                answer = handler(request, **params)
            except _Problem as problem:
                return _respond_problem(start_response, problem)
            if injection is not None:
                return self._injected_failure(injection, start_response, request)
        if not isinstance(answer, _Answer):
            answer = _Answer(200, answer)
        if answer.body is None:
            return respond(start_response, answer.status, b"", "application/json; charset=utf-8", answer.headers)
        return respond(
            start_response, answer.status, json_bytes(answer.body), "application/json; charset=utf-8", answer.headers
        )

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], str, _Handler]]:
        routes = [
            ("GET", _ROUTE_PREFIX + r"/organizations$", "list_organizations", self._list_organizations),
            ("POST", _ROUTE_PREFIX + r"/organizations$", "create_organization", self._create_organization),
            ("GET", _ORGANIZATION + r"$", "get_organization", self._get_organization),
            ("PUT", _ORGANIZATION + r"$", "update_organization", self._update_organization),
            ("GET", _ROUTE_PREFIX + r"/services$", "list_services", self._list_services),
            ("GET", _ROUTE_PREFIX + r"/services/csp/domainvalidation$", "domain_validation", self._domain_validation),
            ("GET", _ROUTE_PREFIX + r"/services/csp/nce/subscriptions$", "list_all_subscriptions", self._list_all),
            ("GET", _ROUTE_PREFIX + r"/services/(?P<service_id>[^/]+)/pricelist$", "get_pricelist", self._pricelist),
            ("GET", _ORGANIZATION + r"/services/csp$", "get_csp", self._get_csp),
            ("POST", _ORGANIZATION + r"/services/csp$", "add_csp", self._add_csp),
            ("GET", _ORGANIZATION + r"/users$", "list_organization_users", self._list_directory_users),
            ("POST", _ORGANIZATION + r"/users$", "create_organization_user", self._create_directory_user),
            ("GET", _ORGANIZATION + r"/services/csp/users$", "list_csp_users", self._list_csp_users),
            ("POST", _ORGANIZATION + r"/services/csp/users$", "create_csp_user", self._create_csp_user),
            (
                "POST",
                _ORGANIZATION + r"/services/csp/users/(?P<user_id>[^/]+)/subscriptions$",
                "assign_csp_user_subscription",
                self._assign_user_subscription,
            ),
            (
                "DELETE",
                _ORGANIZATION + r"/services/csp/users/(?P<user_id>[^/]+)/subscriptions/(?P<subscription_id>[^/]+)$",
                "unassign_csp_user_subscription",
                self._unassign_user_subscription,
            ),
            ("GET", _NCE + r"$", "list_subscriptions", self._list_subscriptions),
            ("POST", _NCE + r"$", "create_subscription", self._create_subscription),
            ("GET", _NCE + r"/(?P<subscription_id>[^/]+)$", "get_subscription", self._get_subscription),
            ("PUT", _NCE + r"/(?P<subscription_id>[^/]+)$", "update_subscription", self._update_subscription),
            ("DELETE", _NCE + r"/(?P<subscription_id>[^/]+)$", "delete_subscription", self._delete_subscription),
            (
                "POST",
                _ROUTE_PREFIX + r"/billing/reports/monthlybillingperorganizationasync$",
                "request_billing_report",
                self._request_report,
            ),
            (
                "GET",
                _ROUTE_PREFIX + r"/billing/reports/monthlybillingperorganizationasync/(?P<task_id>[^/]+)$",
                "get_billing_report",
                self._get_report,
            ),
        ]
        return [(method, re.compile(pattern), name, handler) for method, pattern, name, handler in routes]

    def _route(self, request: _Request) -> tuple[str, _Handler, dict[str, str]] | _Problem:
        allowed = False
        for method, pattern, name, handler in self._routes:
            match = pattern.match(request.path)
            if match is None:
                continue
            if method == request.method:
                return name, handler, match.groupdict()
            allowed = True
        if allowed:
            return _Problem(405, f"The method {request.method} is not allowed on this resource.")
        return _Problem(404, f"No route matches {request.path}.")

    def _injected_failure(
        self, injection: _Injection, start_response: Callable[..., Any], request: _Request
    ) -> Iterable[bytes]:
        if injection.kind == "throttle":
            problem = _Problem(
                429,
                f"Rate limit exceeded. Try again in {injection.retry_after:g} seconds.",
                error_code="TooManyRequests",
                headers=[("Retry-After", f"{injection.retry_after:g}")],
            )
            return _respond_problem(start_response, problem)
        if injection.kind == "unavailable":
            text = f"{injection.status} Service Unavailable".encode()
            return respond(start_response, injection.status, text, "text/html; charset=utf-8")
        if injection.kind == "token_expiry":
            self.tokens.pop(bearer_token(request.environ) or "", None)
            return _unauthorized(start_response, "The access token expired")
        problem = _Problem(injection.status, injection.message, error_code=injection.error_code)
        return _respond_problem(start_response, problem)

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
        content_type = str(request.environ.get("CONTENT_TYPE") or "")
        if "application/x-www-form-urlencoded" not in content_type:
            return _Answer(400, {"error": "invalid_request", "error_description": "Form encoded body expected."})
        form = {key: values[-1] for key, values in parse_qs(request.raw_body.decode()).items()}
        client_id, client_secret = _basic(request.environ)
        client_id = client_id or form.get("client_id")
        client_secret = client_secret if client_secret is not None else form.get("client_secret")
        if not client_id or self.clients.get(client_id) is None or self.clients[client_id] != client_secret:
            return _Answer(401, {"error": "invalid_client"})
        if form.get("grant_type") != "password":
            return _Answer(400, {"error": "unsupported_grant_type"})
        if "api" not in str(form.get("scope", "")).split():
            return _Answer(400, {"error": "invalid_scope"})
        user = self.users.get(str(form.get("username", "")).lower())
        if user is None or not secrets.compare_digest(user.password, str(form.get("password", ""))):
            return _Answer(400, {"error": "invalid_grant", "error_description": "invalid_username_or_password"})
        value = secrets.token_urlsafe(32)
        self.tokens[value] = _Token(
            username=user.username, reseller_id=user.reseller_id, expires_at=self.now() + self.token_lifetime
        )
        return _Answer(
            200,
            {
                "access_token": value,
                "expires_in": int(self.token_lifetime.total_seconds()),
                "token_type": "Bearer",
                "scope": "api",
            },
        )

    def _authorize(self, request: _Request, reseller_id: str | None) -> _Token:
        value = bearer_token(request.environ)
        token = self.tokens.get(value or "")
        if token is None or token.expires_at <= self.now():
            if value:
                self.tokens.pop(value, None)
            raise _Problem(401, "", headers=[("WWW-Authenticate", 'Bearer error="invalid_token"')])
        if reseller_id is not None and reseller_id != token.reseller_id.lower():
            raise _Problem(403, f"The API user has no access to reseller {reseller_id}.", error_code="Forbidden")
        return token

    # -- organizations ------------------------------------------------------------------------------

    def _organization(self, reseller_id: str, organization_id: str) -> _Organization:
        organization = self.organizations.get(organization_id)
        if organization is None or organization.reseller_id != reseller_id:
            raise _Problem(404, f"Organization {organization_id} was not found.", error_code="NotFound")
        return organization

    def _list_organizations(self, request: _Request, *, reseller_id: str) -> list[dict[str, Any]]:
        ids = self._organizations_by_reseller.get(reseller_id, [])
        organizations = [self.organizations[i] for i in ids]
        show_active = request.query.get("showactive")
        if show_active in ("true", "false"):
            organizations = [o for o in organizations if o.is_active == (show_active == "true")]
        return [self._organization_wire(o) for o in _page(request, organizations)]

    def _get_organization(self, request: _Request, *, reseller_id: str, organization_id: str) -> dict[str, Any]:
        return self._organization_wire(self._organization(reseller_id, organization_id))

    def _create_organization(self, request: _Request, *, reseller_id: str) -> _Answer:
        body = request.json()
        name = str(_key(body, "name") or "").strip()
        errors: dict[str, list[str]] = {}
        if not name:
            errors["Name"] = ["The Name field is required."]
        contact = _key(body, "contact") or {}
        if not isinstance(contact, Mapping) or not str(_key(contact, "email") or "").strip():
            errors["Contact.Email"] = ["The Email field is required."]
        segment = str(_key(body, "segment") or "commercial").lower()
        if segment not in _SEGMENTS:
            errors["Segment"] = [f"'{segment}' is not one of {', '.join(_SEGMENTS)}."]
        if any(
            self.organizations[i].name.lower() == name.lower() for i in self._organizations_by_reseller[reseller_id]
        ):
            raise _Problem(409, f"An organization named '{name}' already exists.", error_code="AlreadyExists")
        if errors:
            raise _Problem(400, "One or more validation errors occurred.", errors=errors)
        address = _key(body, "address") or {}
        organization = self.add_organization(
            reseller_id=reseller_id,
            name=name,
            domain=str(_key(body, "domain") or ""),
            segment=segment,
            street=str(_key(address, "street") or ""),
            city=str(_key(address, "city") or ""),
            zip_code=str(_key(address, "zipCode") or ""),
            country=str(_key(address, "countryCode") or ""),
        )
        organization.contact = {
            "name": str(_key(contact, "name") or ""),
            "email": str(_key(contact, "email")),
            "phone": str(_key(contact, "phone") or ""),
            "cellPhone": str(_key(contact, "cellPhone") or ""),
        }
        organization.notification_email = str(_key(body, "notificationEmail") or organization.contact["email"])
        first, _space, last = organization.contact["name"].partition(" ")
        owner = self.directory_users[organization.id][0]
        owner.user_name = owner.email = organization.contact["email"]
        owner.first_name, owner.last_name = first, last
        organization.vat = str(_key(body, "vat") or "")
        organization.registration_number = str(_key(body, "registrationNumber") or "")
        organization.customer_number = str(_key(body, "customerNumber") or "")
        return _Answer(201, self._organization_wire(organization))

    def _update_organization(self, request: _Request, *, reseller_id: str, organization_id: str) -> dict[str, Any]:
        organization = self._organization(reseller_id, organization_id)
        body = request.json()
        for wire_name, attribute in (
            ("name", "name"),
            ("vat", "vat"),
            ("registrationNumber", "registration_number"),
            ("customerNumber", "customer_number"),
            ("notificationEmail", "notification_email"),
            ("domain", "domain"),
        ):
            value = _key(body, wire_name)
            if value is not None:
                setattr(organization, attribute, str(value))
        address = _key(body, "address")
        if isinstance(address, Mapping):
            for name in ("street", "city", "zipCode", "state", "countryCode"):
                value = _key(address, name)
                if value is not None:
                    organization.address[name] = str(value)
        contact = _key(body, "contact")
        if isinstance(contact, Mapping):
            for name in ("name", "email", "phone", "cellPhone"):
                value = _key(contact, name)
                if value is not None:
                    organization.contact[name] = str(value)
        return self._organization_wire(organization)

    def _organization_wire(self, organization: _Organization) -> dict[str, Any]:
        return {
            "id": organization.id,
            "resellerId": organization.reseller_id,
            "name": organization.name,
            "registrationNumber": organization.registration_number,
            "vat": organization.vat,
            "customerNumber": organization.customer_number,
            "notificationEmail": organization.notification_email,
            "domain": organization.domain,
            "segment": organization.segment.capitalize(),
            "contact": dict(organization.contact),
            "address": dict(organization.address),
            "isActive": organization.is_active,
            "createdDate": _format(organization.created),
        }

    # -- services, price lists ------------------------------------------------------------------------

    def _list_services(self, request: _Request, *, reseller_id: str) -> list[dict[str, Any]]:
        reseller = self.resellers[reseller_id]
        return [
            {
                "id": reseller.csp_service_id,
                "name": "Microsoft O365 CSP Direct",
                "type": "Csp",
                "sellerName": "Microsoft",
                "currency": reseller.currency,
                "isActive": True,
            },
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, reseller.name + "/backup")),
                "name": "Cloud Backup",
                "type": "Custom",
                "sellerName": "Nordic Backup AB",
                "currency": reseller.currency,
                "isActive": True,
            },
        ]

    def _pricelist(self, request: _Request, *, reseller_id: str, service_id: str) -> list[dict[str, Any]]:
        reseller = self.resellers[reseller_id]
        if service_id != reseller.csp_service_id:
            raise _Problem(404, f"Service {service_id} has no price list for this reseller.", error_code="NotFound")
        segment = request.query.get("segment", "commercial").lower()
        if segment not in _SEGMENTS:
            raise _Problem(400, "One or more validation errors occurred.", errors={"segment": [f"Unknown {segment}."]})
        rows = []
        for product in self.catalog.values():
            for term, billing in product.prices:
                cost, sale, retail = segment_prices(product, term, billing, segment)
                rows.append(
                    {
                        "itemCode": item_code(product, term, billing),
                        "productId": product.product_id,
                        "skuId": product.sku_id,
                        "name": product.name,
                        "segment": segment.capitalize(),
                        "termDuration": term,
                        "billingFrequency": billing,
                        "currency": reseller.currency,
                        "costPrice": cost,
                        "price": sale,
                        "retailPrice": retail,
                        "isAddon": product.is_add_on,
                        "parentProducts": list(product.parents),
                        "publisher": "Microsoft",
                    }
                )
        return rows

    # -- the O365 CSP Direct service ---------------------------------------------------------------------

    def domain_taken(self, prefix: str) -> bool:
        """Whether `<prefix>.onmicrosoft.com` is registered: among Cloudmore's tenants or anywhere in
        Microsoft Online."""
        return prefix in self.taken_domains or self.domains.domain_registered(f"{prefix}{_SUFFIX}")

    def _domain_validation(self, request: _Request, *, reseller_id: str) -> dict[str, Any]:
        prefix = _domain_prefix(request.query.get("domain", ""))
        available = not self.domain_taken(prefix)
        return {
            "domain": f"{prefix}{_SUFFIX}",
            "isAvailable": available,
            "message": None if available else DOMAIN_TAKEN_EXPLANATION,
        }

    def _get_csp(self, request: _Request, *, reseller_id: str, organization_id: str) -> dict[str, Any]:
        self._organization(reseller_id, organization_id)
        service = self.csp_services.get(organization_id)
        if service is None:
            raise _Problem(404, "The organization has no Microsoft CSP service.", error_code="NotFound")
        return self._csp_wire(service)

    def _add_csp(self, request: _Request, *, reseller_id: str, organization_id: str) -> _Answer:
        organization = self._organization(reseller_id, organization_id)
        if organization_id in self.csp_services:
            raise _Problem(409, "The organization already has the Microsoft CSP service.", error_code="AlreadyExists")
        missing = [
            label
            for label, name in (
                ("street", "street"),
                ("city", "city"),
                ("postal code", "zipCode"),
                ("country", "countryCode"),
            )
            if not str(organization.address.get(name) or "").strip()
        ]
        if missing:
            raise _Problem(
                400, INCOMPLETE_ADDRESS_MESSAGE.format(missing=", ".join(missing)), error_code="IncompleteAddress"
            )
        body = request.json()
        contact = _key(body, "contact") or {}
        errors = {
            f"Contact.{name[0].upper()}{name[1:]}": [f"The {name} field is required."]
            for name in ("firstName", "lastName", "email")
            if not isinstance(contact, Mapping) or not str(_key(contact, name) or "").strip()
        }
        if errors:
            raise _Problem(400, "One or more validation errors occurred.", errors=errors)
        prefix = _domain_prefix(str(_key(body, "domainPrefix") or ""))
        if self.domain_taken(prefix):
            raise _Problem(409, DOMAIN_TAKEN_EXPLANATION, error_code="DomainNotAvailable")
        service = self.add_tenant(organization_id=organization_id, domain_prefix=prefix)
        self.domains.domain_register(domain=service.domain, tenant_id=service.tenant_id, name=organization.name)
        email = str(_key(contact, "email"))
        service.contact_email = email
        user = self._new_tenant_user(
            organization_id=organization_id,
            user_name=f"admin@{service.domain}",
            first_name=str(_key(contact, "firstName")),
            last_name=str(_key(contact, "lastName")),
            email=email,
            is_admin=True,
        )
        service.admin_user_name = user.user_name
        return _Answer(201, self._csp_wire(service))

    def _csp_wire(self, service: _CspService) -> dict[str, Any]:
        organization = self.organizations[service.organization_id]
        return {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, service.tenant_id)),
            "organizationId": service.organization_id,
            "serviceId": self.resellers[organization.reseller_id].csp_service_id,
            "name": "Microsoft O365 CSP Direct",
            "tenantId": service.tenant_id,
            "domain": service.domain,
            "defaultDomain": service.domain,
            "status": service.status,
            "adminUserName": service.admin_user_name,
            "contactEmail": service.contact_email,
            "createdDate": _format(service.created),
        }

    def _new_tenant_user(
        self,
        *,
        organization_id: str,
        user_name: str,
        first_name: str,
        last_name: str,
        email: str,
        is_admin: bool,
        password: str | None = None,
    ) -> _TenantUser:
        user = _TenantUser(
            id=str(uuid.uuid4()),
            organization_id=organization_id,
            user_name=user_name,
            first_name=first_name,
            last_name=last_name,
            email=email,
            is_admin=is_admin,
            created=self.now(),
        )
        self.tenant_users[organization_id].append(user)
        if password is not None:  # chosen by whoever created the user: nothing to email
            return user
        password = _generated_password()
        self.sent_emails.append(
            {
                "to": email,
                "subject": "Your Office 365 login credentials",
                "body": (
                    f"Hello {first_name},\n\nAn Office 365 account was created for you.\n"
                    f"User name: {user_name}\nPassword: {password}\n\nSign in at https://portal.office.com "
                    "and change the password at first sign-in."
                ),
                "user_name": user_name,
                "sent_at": _format(self.now()),
            }
        )
        return user

    def _list_directory_users(
        self, request: _Request, *, reseller_id: str, organization_id: str
    ) -> list[dict[str, Any]]:
        """The organization's users in Cloudmore's own directory (who signs in to the Cloudmore portal)."""
        self._organization(reseller_id, organization_id)
        return [_directory_user_wire(user) for user in self.directory_users[organization_id]]

    def _create_directory_user(self, request: _Request, *, reseller_id: str, organization_id: str) -> _Answer:
        """A Cloudmore portal user; Cloudmore emails its generated password to `email`."""
        self._organization(reseller_id, organization_id)
        body = request.json()
        errors = {
            name: [f"The {name} field is required."]
            for name in ("firstName", "lastName", "email")
            if not str(_key(body, name) or "").strip()
        }
        if errors:
            raise _Problem(400, "One or more validation errors occurred.", errors=errors)
        user_name = str(_key(body, "userName") or _key(body, "email")).strip()
        if any(u.user_name.lower() == user_name.lower() for u in self.directory_users[organization_id]):
            raise _Problem(409, f"The user {user_name} already exists.", error_code="AlreadyExists")
        user = _DirectoryUser(
            id=str(uuid.uuid4()),
            organization_id=organization_id,
            user_name=user_name,
            first_name=str(_key(body, "firstName")),
            last_name=str(_key(body, "lastName")),
            email=str(_key(body, "email")),
            created=self.now(),
        )
        self.directory_users[organization_id].append(user)
        self.sent_emails.append(
            {
                "to": user.email,
                "subject": "Your Cloudmore login credentials",
                "body": f"User name: {user.user_name}\nPassword: {_generated_password()}\n",
                "user_name": user.user_name,
                "sent_at": _format(self.now()),
            }
        )
        return _Answer(201, _directory_user_wire(user))

    def _list_csp_users(self, request: _Request, *, reseller_id: str, organization_id: str) -> list[dict[str, Any]]:
        self._organization(reseller_id, organization_id)
        if organization_id not in self.csp_services:
            raise _Problem(404, "The organization has no Microsoft CSP service.", error_code="NotFound")
        return [_user_wire(user) for user in self.tenant_users[organization_id]]

    def _create_csp_user(self, request: _Request, *, reseller_id: str, organization_id: str) -> _Answer:
        self._organization(reseller_id, organization_id)
        service = self.csp_services.get(organization_id)
        if service is None:
            raise _Problem(404, "The organization has no Microsoft CSP service.", error_code="NotFound")
        body = request.json()
        errors = {
            name: [f"The {name} field is required."]
            for name in ("userName", "firstName", "lastName", "email")
            if not str(_key(body, name) or "").strip()
        }
        if errors:
            raise _Problem(400, "One or more validation errors occurred.", errors=errors)
        user_name = str(_key(body, "userName"))
        if "@" not in user_name:
            user_name = f"{user_name}@{service.domain}"
        if any(u.user_name.lower() == user_name.lower() for u in self.tenant_users[organization_id]):
            raise _Problem(409, f"The user {user_name} already exists.", error_code="AlreadyExists")
        generate = _key(body, "generatePassword")
        password = None if generate is None or bool(generate) else str(_key(body, "password") or "")
        if password is not None:
            problem = password_problem(
                password, user_name=user_name, full_name=f"{_key(body, 'firstName')} {_key(body, 'lastName')}"
            )
            if problem:
                raise _Problem(400, problem, errors={"password": [problem]}, error_code="InvalidPassword")
        user = self._new_tenant_user(
            organization_id=organization_id,
            user_name=user_name,
            first_name=str(_key(body, "firstName")),
            last_name=str(_key(body, "lastName")),
            email=str(_key(body, "email")),
            is_admin=bool(_key(body, "isAdmin")),
            password=password,
        )
        return _Answer(201, _user_wire(user))

    def _tenant_user(self, organization_id: str, user_id: str) -> _TenantUser:
        for user in self.tenant_users.get(organization_id, []):
            if user.id == user_id:
                return user
        raise _Problem(404, f"The user {user_id} was not found.", error_code="NotFound")

    def _assign_user_subscription(
        self, request: _Request, *, reseller_id: str, organization_id: str, user_id: str
    ) -> _Answer:
        """Subscribe a user to a subscription: one seat of it is consumed."""
        self._organization(reseller_id, organization_id)
        user = self._tenant_user(organization_id, user_id)
        subscription_id = str(_key(request.json(), "subscriptionId") or "")
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None or subscription.organization_id != organization_id:
            raise _Problem(404, f"The subscription {subscription_id} was not found.", error_code="NotFound")
        if subscription_id in user.subscription_ids:
            return _Answer(200, _user_wire(user))
        if subscription.status != "Active":
            raise _Problem(400, "Only an active subscription can be assigned.", error_code="SubscriptionNotActive")
        if subscription.consumed >= subscription.quantity:
            raise _Problem(
                400,
                f"No licences available: all {subscription.quantity} of the subscription are consumed.",
                error_code="NoLicensesAvailable",
            )
        user.subscription_ids.append(subscription_id)
        subscription.consumed += 1
        return _Answer(200, _user_wire(user))

    def _unassign_user_subscription(
        self, request: _Request, *, reseller_id: str, organization_id: str, user_id: str, subscription_id: str
    ) -> _Answer:
        self._organization(reseller_id, organization_id)
        user = self._tenant_user(organization_id, user_id)
        if subscription_id in user.subscription_ids:
            user.subscription_ids.remove(subscription_id)
            subscription = self.subscriptions.get(subscription_id)
            if subscription is not None:
                subscription.consumed = max(subscription.consumed - 1, 0)
        return _Answer(200, _user_wire(user))

    # -- NCE subscriptions ----------------------------------------------------------------------------

    def _list_all(self, request: _Request, *, reseller_id: str) -> list[dict[str, Any]]:
        ids = self._subscriptions_by_reseller.get(reseller_id, [])
        return [self._subscription_wire(self.subscriptions[i]) for i in _page(request, ids)]

    def _list_subscriptions(self, request: _Request, *, reseller_id: str, organization_id: str) -> list[dict]:
        self._organization(reseller_id, organization_id)
        ids = self._subscriptions_by_organization[organization_id]
        return [self._subscription_wire(self.subscriptions[i]) for i in _page(request, ids)]

    def _subscription(self, reseller_id: str, organization_id: str, subscription_id: str) -> _Subscription:
        self._organization(reseller_id, organization_id)
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None or subscription.organization_id != organization_id:
            raise _Problem(404, f"Subscription {subscription_id} was not found.", error_code="NotFound")
        return subscription

    def _get_subscription(
        self, request: _Request, *, reseller_id: str, organization_id: str, subscription_id: str
    ) -> dict[str, Any]:
        return self._subscription_wire(self._subscription(reseller_id, organization_id, subscription_id))

    def _create_subscription(self, request: _Request, *, reseller_id: str, organization_id: str) -> _Answer:
        organization = self._organization(reseller_id, organization_id)
        if organization_id not in self.csp_services:
            raise _Problem(
                400,
                "Add the O365 CSP Direct service (a Microsoft tenant) to the organization before buying subscriptions.",
                error_code="CspServiceMissing",
            )
        body = request.json()
        code = str(_key(body, "itemCode") or "")
        parsed = self._item(code)
        if parsed is None:
            raise _Problem(400, f"Item {code or '(none)'} is not in the price list.", error_code="InvalidItemCode")
        product, term, billing = parsed
        quantity = _quantity(_key(body, "quantity"))
        parent_id = _key(body, "parentSubscriptionId")
        if product.is_add_on:
            if not parent_id:
                raise _Problem(
                    400, f"{product.name} is an add-on: name its parentSubscriptionId.", error_code="AddonParent"
                )
            parent = self._subscription(reseller_id, organization_id, str(parent_id).lower())
            self._refresh(parent)
            if parent.status != "Active":
                raise _Problem(400, f"Subscription {parent.id} is not active.", error_code="SubscriptionNotActive")
            if parent.product_key not in product.parents:
                raise _Problem(
                    400,
                    f"{product.name} cannot be added to {self.catalog[parent.product_key].name}.",
                    error_code="AddonNotCompatible",
                )
        elif parent_id:
            raise _Problem(400, f"{product.name} is not an add-on.", error_code="AddonParent")
        subscription = self.add_subscription(
            organization_id=organization.id,
            product_key=product.key,
            term=term,
            billing=billing,
            quantity=quantity,
            parent_id=str(parent_id).lower() if parent_id else None,
            purchase_order_number=str(_key(body, "purchaseOrderNumber") or ""),
            friendly_name=str(_key(body, "friendlyName") or ""),
        )
        subscription.consumed = 0
        auto_renew = _key(body, "autoRenew")
        if auto_renew is not None:
            subscription.auto_renew = bool(auto_renew)
        return _Answer(201, self._subscription_wire(subscription))

    def _update_subscription(
        self, request: _Request, *, reseller_id: str, organization_id: str, subscription_id: str
    ) -> dict[str, Any]:
        subscription = self._subscription(reseller_id, organization_id, subscription_id)
        self._refresh(subscription)
        body = request.json()
        for fixed, current in (
            ("billingFrequency", subscription.billing),
            ("termDuration", subscription.term),
            ("itemCode", item_code(self.catalog[subscription.product_key], subscription.term, subscription.billing)),
        ):
            value = _key(body, fixed)
            if value is not None and str(value) != current:
                raise _Problem(
                    400,
                    f"The {fixed} of a new commerce subscription cannot be changed; it applies for the whole term.",
                    error_code="NotChangeable",
                )
        if subscription.status not in ("Active", "Suspended"):
            raise _Problem(
                400,
                f"Subscription {subscription.id} is {subscription.status.lower()}.",
                error_code="SubscriptionNotActive",
            )
        status = _key(body, "status")
        if status is not None and str(status).capitalize() != subscription.status:
            target = str(status).capitalize()
            if target not in ("Active", "Suspended"):
                raise _Problem(
                    400,
                    f"The status cannot be changed from {subscription.status} to {status}.",
                    error_code="InvalidStatus",
                )
            if (
                subscription.parent_id
                and self.subscriptions[subscription.parent_id].status != "Active"
                and target == "Active"
            ):
                raise _Problem(400, "Reactivate the base subscription first.", error_code="InvalidStatus")
            subscription.status = target
            for child in self._add_ons(subscription):
                if child.status in ("Active", "Suspended"):
                    child.status = target
        quantity = _key(body, "quantity")
        if quantity is not None:
            new_quantity = _quantity(quantity)
            if new_quantity != subscription.quantity and subscription.status != "Active":
                raise _Problem(
                    400, "A suspended subscription's quantity cannot be changed.", error_code="InvalidStatus"
                )
            self._apply_quantity(subscription, new_quantity)
        auto_renew = _key(body, "autoRenew")
        if auto_renew is not None:
            subscription.auto_renew = bool(auto_renew)
        for wire_name, attribute in (
            ("friendlyName", "friendly_name"),
            ("purchaseOrderNumber", "purchase_order_number"),
        ):
            value = _key(body, wire_name)
            if value is not None:
                setattr(subscription, attribute, str(value))
        return self._subscription_wire(subscription)

    def _apply_quantity(self, subscription: _Subscription, quantity: int) -> None:
        now = self.now()
        if quantity > subscription.quantity:
            subscription.refundable.append((quantity - subscription.quantity, now + CANCELLATION_WINDOW))
        elif quantity < subscription.quantity:
            decrease = subscription.quantity - quantity
            buckets = [(q, until) for q, until in subscription.refundable if until > now]
            if sum(q for q, _ in buckets) < decrease:
                raise _Problem(400, DECREASE_MESSAGE, error_code="QuantityDecreaseNotAllowed")
            remaining = decrease
            kept: list[tuple[int, datetime]] = []
            for q, until in reversed(buckets):  # the newest purchases are refunded first
                taken = min(q, remaining)
                remaining -= taken
                if q - taken:
                    kept.insert(0, (q - taken, until))
            subscription.refundable = kept
        subscription.quantity = quantity
        subscription.consumed = min(subscription.consumed, quantity)

    def _delete_subscription(
        self, request: _Request, *, reseller_id: str, organization_id: str, subscription_id: str
    ) -> _Answer:
        subscription = self._subscription(reseller_id, organization_id, subscription_id)
        self._refresh(subscription)
        if subscription.status not in ("Active", "Suspended"):
            raise _Problem(
                400,
                f"Subscription {subscription.id} is {subscription.status.lower()}.",
                error_code="SubscriptionNotActive",
            )
        if self.now() >= subscription.term_start + CANCELLATION_WINDOW:
            raise _Problem(400, CANCELLATION_WINDOW_MESSAGE, error_code="CancellationWindowExpired")
        subscription.status = "Deleted"
        subscription.auto_renew = False
        for child in self._add_ons(subscription):
            child.status = "Deleted"
            child.auto_renew = False
        return _Answer(204)

    def _add_ons(self, subscription: _Subscription) -> list[_Subscription]:
        return [
            self.subscriptions[i]
            for i in self._subscriptions_by_organization[subscription.organization_id]
            if self.subscriptions[i].parent_id == subscription.id
        ]

    def _item(self, code: str) -> tuple[_Product, str, str] | None:
        parts = code.split(":")
        if len(parts) != 4:
            return None
        product = self.catalog.get(f"{parts[0]}:{parts[1]}".upper())
        term, billing = parts[2].upper(), parts[3].capitalize()
        if product is None or (term, billing) not in product.prices:
            return None
        return product, term, billing

    def _refresh(self, subscription: _Subscription) -> None:
        """Apply what the calendar did since the last look: renewals and expiries at the term end."""
        now = self.now()
        while subscription.status in ("Active", "Suspended") and subscription.term_end <= now:
            if not subscription.auto_renew:
                subscription.status = "Expired"
                break
            subscription.term_start = subscription.term_end
            subscription.term_end = add_months(subscription.term_start, _TERM_MONTHS[subscription.term])
            subscription.refundable = [(subscription.quantity, subscription.term_start + CANCELLATION_WINDOW)]

    def _subscription_wire(self, subscription: _Subscription) -> dict[str, Any]:
        self._refresh(subscription)
        product = self.catalog[subscription.product_key]
        organization = self.organizations[subscription.organization_id]
        cost, sale, retail = segment_prices(product, subscription.term, subscription.billing, subscription.segment)
        now = self.now()
        window_end = subscription.term_start + CANCELLATION_WINDOW
        return {
            "id": subscription.id,
            "organizationId": subscription.organization_id,
            "organizationName": organization.name,
            "parentSubscriptionId": subscription.parent_id,
            "isAddon": product.is_add_on,
            "productId": product.product_id,
            "skuId": product.sku_id,
            "itemCode": item_code(product, subscription.term, subscription.billing),
            "productName": product.name,
            "friendlyName": subscription.friendly_name,
            "purchaseOrderNumber": subscription.purchase_order_number,
            "quantity": subscription.quantity,
            "consumedQuantity": subscription.consumed,
            "refundableQuantity": sum(q for q, until in subscription.refundable if until > now),
            "status": subscription.status,
            "billingFrequency": subscription.billing,
            "termDuration": subscription.term,
            "startDate": _format(subscription.term_start),
            "endDate": _format(subscription.term_end),
            "cancellationAllowedUntilDate": _format(window_end),
            "autoRenew": subscription.auto_renew,
            "segment": subscription.segment.capitalize(),
            "isTrial": subscription.is_trial,
            "currency": self.resellers[organization.reseller_id].currency,
            "costPrice": cost,
            "price": sale,
            "retailPrice": retail,
            "createdDate": _format(subscription.created),
        }

    # -- billing reports ------------------------------------------------------------------------------

    def _request_report(self, request: _Request, *, reseller_id: str) -> _Answer:
        body = request.json()
        try:
            year, month = int(_key(body, "year")), int(_key(body, "month"))
            date(year, month, 1)
        except (TypeError, ValueError):
            raise _Problem(
                400, "One or more validation errors occurred.", errors={"month": ["Invalid year/month."]}
            ) from None
        organization_id = _key(body, "organizationId")
        if organization_id:
            self._organization(reseller_id, str(organization_id).lower())
        task = _ReportTask(
            id=str(uuid.uuid4()),
            reseller_id=reseller_id,
            year=year,
            month=month,
            organization_id=str(organization_id).lower() if organization_id else None,
            polls_remaining=self.report_polls,
        )
        self.report_tasks[task.id] = task
        location = f"/api/resellers/{reseller_id}/billing/reports/MonthlyBillingPerOrganizationAsync/{task.id}"
        return _Answer(202, {"taskId": task.id, "status": "InProgress"}, [("Location", location)])

    def _get_report(self, request: _Request, *, reseller_id: str, task_id: str) -> _Answer:
        task = self.report_tasks.get(task_id)
        if task is None or task.reseller_id != reseller_id:
            raise _Problem(404, f"Report task {task_id} was not found.", error_code="NotFound")
        if task.polls_remaining > 0:
            task.polls_remaining -= 1
            return _Answer(202, {"taskId": task.id, "status": "InProgress"}, [("Retry-After", "1")])
        return _Answer(200, self._report(task))

    def _report(self, task: _ReportTask) -> dict[str, Any]:
        first = date(task.year, task.month, 1)
        last = date(task.year, task.month, calendar.monthrange(task.year, task.month)[1])
        organization_ids = (
            [task.organization_id] if task.organization_id else self._organizations_by_reseller[task.reseller_id]
        )
        organizations = []
        for organization_id in organization_ids:
            organization = self.organizations[organization_id]
            subscriptions = []
            for subscription_id in self._subscriptions_by_organization[organization_id]:
                lines = self._billing_lines(self.subscriptions[subscription_id], first, last)
                if lines:
                    subscription = self.subscriptions[subscription_id]
                    product = self.catalog[subscription.product_key]
                    subscriptions.append(
                        {
                            "subscriptionId": subscription.id,
                            "productName": product.name,
                            "friendlyName": subscription.friendly_name,
                            "itemCode": item_code(product, subscription.term, subscription.billing),
                            "purchaseOrderNumber": subscription.purchase_order_number,
                            "total": sum((line["amount"] for line in lines), Decimal("0")),
                            "items": lines,
                        }
                    )
            if subscriptions or task.organization_id:
                organizations.append(
                    {
                        "organizationId": organization.id,
                        "organizationName": organization.name,
                        "total": sum((s["total"] for s in subscriptions), Decimal("0")),
                        "costTotal": sum(
                            (line["costAmount"] for s in subscriptions for line in s["items"]), Decimal("0")
                        ),
                        "subscriptions": subscriptions,
                    }
                )
        return {
            "year": task.year,
            "month": task.month,
            "currency": self.resellers[task.reseller_id].currency,
            "billingPeriodStart": first.isoformat(),
            "billingPeriodEnd": last.isoformat(),
            "organizations": organizations,
        }

    def _billing_lines(self, subscription: _Subscription, first: date, last: date) -> list[dict[str, Any]]:
        """Cycle fees for the billing periods starting in the month, pro-rata for mid-month purchases."""
        if subscription.created.date() > last or subscription.status == "Deleted":
            return []
        product = self.catalog[subscription.product_key]
        cost, sale, _ = segment_prices(product, subscription.term, subscription.billing, subscription.segment)
        quantity = subscription.quantity

        def line(kind: str, description: str, factor: Decimal, start: date, end: date) -> dict[str, Any]:
            return {
                "type": kind,
                "description": description,
                "quantity": quantity,
                "unitPrice": _money(sale * factor),
                "amount": _money(sale * factor * quantity),
                "unitCost": _money(cost * factor),
                "costAmount": _money(cost * factor * quantity),
                "fromDate": start.isoformat(),
                "toDate": end.isoformat(),
            }

        purchased = subscription.created.date()
        if subscription.billing == "Monthly":
            if first <= purchased <= last and purchased != first:
                days_in_month = (last - first).days + 1
                factor = Decimal((last - purchased).days + 1) / Decimal(days_in_month)
                return [line("ProRate", f"{product.name}, pro rata from {purchased:%d %b}", factor, purchased, last)]
            return [line("CycleFee", f"{product.name}, {first:%B %Y}", Decimal("1"), first, last)]
        period_months = _BILLING_MONTHS[subscription.billing]
        months_since_start = (first.year - purchased.year) * 12 + first.month - purchased.month
        if months_since_start >= 0 and months_since_start % period_months == 0:
            period_end = add_months(datetime.combine(first, datetime.min.time()), period_months).date()
            return [
                line(
                    "CycleFee",
                    f"{product.name}, {subscription.billing.lower()} fee",
                    Decimal("1"),
                    first,
                    period_end - timedelta(days=1),
                )
            ]
        return []


# ------------------------------------------------------------------------------------------------
# Wire helpers
# ------------------------------------------------------------------------------------------------


def _key(body: Any, name: str) -> Any:
    """Look a key up case-insensitively: ASP.NET binds JSON bodies regardless of case."""
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
        raise _Problem(
            400, "One or more validation errors occurred.", errors={"Quantity": ["Must be a number."]}
        ) from None
    if not 1 <= quantity <= MAX_QUANTITY:
        raise _Problem(
            400,
            "One or more validation errors occurred.",
            errors={"Quantity": [f"The quantity must be between 1 and {MAX_QUANTITY}."]},
        )
    return quantity


def _domain_prefix(value: str) -> str:
    prefix = value.strip().lower().removesuffix(_SUFFIX)
    if not _DOMAIN_PREFIX.match(prefix):
        raise _Problem(
            400,
            "One or more validation errors occurred.",
            errors={"domain": ["Use 1 to 27 letters and numbers only (the part before .onmicrosoft.com)."]},
        )
    return prefix


def _page(request: _Request, items: list[Any]) -> list[Any]:
    size_text = request.query.get("pagesize")
    if size_text is None:
        return list(items)
    try:
        size, page = int(size_text), int(request.query.get("page", "1"))
    except ValueError:
        raise _Problem(400, "One or more validation errors occurred.", errors={"page": ["Must be numbers."]}) from None
    if not 1 <= size <= MAX_PAGE_SIZE or page < 1:
        raise _Problem(
            400, "One or more validation errors occurred.", errors={"pageSize": [f"Use 1 to {MAX_PAGE_SIZE}."]}
        )
    start = (page - 1) * size
    return items[start : start + size]


def _directory_user_wire(user: _DirectoryUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "userName": user.user_name,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "email": user.email,
        "createdDate": _format(user.created),
    }


def _user_wire(user: _TenantUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "userName": user.user_name,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "displayName": f"{user.first_name} {user.last_name}".strip(),
        "email": user.email,
        "isAdmin": user.is_admin,
        "createdDate": _format(user.created),
        "subscriptions": list(user.subscription_ids),
    }


def password_problem(password: str, *, user_name: str, full_name: str) -> str:
    """Cloudmore's password rules: "" when the password is acceptable."""
    if len(password) < 8:
        return "Minimum password length is eight (8) characters."
    if not (
        re.search(r"[A-Z]", password)
        and re.search(r"[a-z]", password)
        and re.search(r"\d", password)
        and re.search(r"[^\w]", password)
    ):
        return "Password must contain uppercase and lowercase characters, numbers and non-word characters."
    lowered = password.lower()
    parts = [user_name.split("@")[0], *full_name.split()]
    if any(len(part) >= 3 and part.lower() in lowered for part in parts):
        return "Password cannot contain parts of the user's user name or parts of the user's full name."
    return ""


def _generated_password() -> str:
    return "Cm" + secrets.token_urlsafe(9) + "7!"


def _basic(environ: Mapping[str, Any]) -> tuple[str | None, str | None]:
    scheme, _, value = str(environ.get("HTTP_AUTHORIZATION") or "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        client_id, _, secret = base64.b64decode(value.strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None, None
    return client_id, secret


def _format(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _respond_problem(start_response: Callable[..., Any], problem: _Problem) -> Iterator[bytes]:
    if problem.status == 401:
        return _unauthorized(start_response, problem.detail)
    try:
        title = HTTPStatus(problem.status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {
        "type": f"https://httpstatuses.io/{problem.status}",
        "title": title,
        "status": problem.status,
        "detail": problem.detail,
        "traceId": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00",
    }
    if problem.errors:
        body["errors"] = dict(problem.errors)
        body["title"] = problem.detail
        del body["detail"]
    if problem.error_code:
        body["errorCode"] = problem.error_code
    return respond(
        start_response, problem.status, json_bytes(body), "application/problem+json; charset=utf-8", problem.headers
    )


def _unauthorized(start_response: Callable[..., Any], description: str) -> Iterator[bytes]:
    challenge = 'Bearer error="invalid_token"' + (f', error_description="{description}"' if description else "")
    return respond(start_response, 401, b"", "application/json; charset=utf-8", [("WWW-Authenticate", challenge)])


# ------------------------------------------------------------------------------------------------
# Entry points
# ------------------------------------------------------------------------------------------------


def create_simulator() -> CloudmoreSimulator:
    """A simulator with the demo data, for the contract suite and in-process use."""
    return CloudmoreSimulator(seed=True)


def make_simulator_server(*, simulator: CloudmoreSimulator, host: str = "127.0.0.1", port: int = 8203) -> WSGIServer:
    """A threaded stdlib HTTP server around a simulator; `port=0` picks a free port."""
    return threaded_wsgi_server(simulator, host=host, port=port)


def main(argv: list[str] | None = None) -> None:
    parser = simulator_arguments(description="Serve the Cloudmore API simulator over HTTP.", port=8203)
    parser.add_argument("--bulk-companies", type=int, default=0)
    parser.add_argument("--bulk-subscriptions-per-company", type=int, default=10)
    arguments = parser.parse_args(argv)
    simulator = CloudmoreSimulator(seed=not arguments.no_seed, domains=domain_registry_from(arguments.identity_url))
    if arguments.bulk_companies:
        simulator.seed_bulk(
            companies=arguments.bulk_companies, subscriptions_per_company=arguments.bulk_subscriptions_per_company
        )
    server = make_simulator_server(simulator=simulator, host=arguments.host, port=arguments.port)
    url = f"http://{arguments.host}:{server.server_port}"
    print(f"Cloudmore API simulator on {url} (token: {url}/connect/token)", flush=True)
    print(
        f"demo API user {DEMO_USERNAME} / {DEMO_PASSWORD}, client {DEMO_CLIENT_ID} / {DEMO_CLIENT_SECRET}, "
        f"reseller {DEMO_RESELLER_ID}; control endpoints under {url}/_control/",
        flush=True,
    )
    serve_until_interrupted(server)


if __name__ == "__main__":
    main()
