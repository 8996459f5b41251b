"""A WSGI simulator of the ALSO Cloud Marketplace SimpleAPI.

It answers as ALSO's API does, as far as that is publicly documented:
POST-only RPC under `/SimpleAPI/SimpleAPIService.svc/rest/<Operation>`, a session token as a
bare JSON string, the `Authenticate: CCPSessionId <token>` header, WCF XML faults with HTTP 500 for
every error (bad logins and MFA users included), whole arrays instead of pages, quantity as a
field, no idempotency. Where no public source says, the choice made here is
noted next to it.

Each instance owns its state (no globals), so tests run isolated simulators in-process through
`httpx.WSGITransport(app=simulator)`; `python -m simulators.also --port 8201`
serves one over real sockets for development and demos.

Regions: a request reaches a country's marketplace either by host name (`marketplace.also.de`, as
in `ALSO_REGION_HOSTS`) or by a path prefix (`/de/SimpleAPI/...`). A reseller user exists in one
region only; signing in on another region's host fails like a wrong password.

Control endpoints (JSON bodies, for tests and demos):
    POST /_control/reset           {"seed": true}                         -> state cleared (and demo data)
    POST /_control/seed            {"kind": "demo"} | {"kind": "bulk", "companies": 2000,
                                    "subscriptions_per_company": 10, "username": "demo@also.example"}
    POST /_control/inject          {"kind": "throttle"|"unavailable"|"fault"|"latency"|"session_expiry",
                                    "operation": "GetCompanies" (optional, default any), "count": 1,
                                    "retry_after": 3, "status": 503, "seconds": 0.5,
                                    "code": "Receiver", "message": "...", "apply_first": false}
    POST /_control/clear           {}                                     -> drop pending injections
    POST /_control/expire_sessions {}                                     -> every session token expires
    POST /_control/advance_clock   {"seconds": 691200}                    -> move simulated time forward
    GET  /_control/state                                                  -> counts, call counts, injections
"""

from __future__ import annotations

import base64
import itertools
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from wsgiref.simple_server import WSGIServer
from xml.sax.saxutils import escape

from marketplace.providers.also.client import ALSO_REGION_HOSTS, API_PATH
from marketplace.providers.base import ProviderConnection
from simulators.harness import (
    ControlAction,
    DomainRegistry,
    Injection,
    MarketplaceSimulator,
    add_months,
    decode_json_object,
    domain_registry_from,
    json_bytes,
    read_body,
    respond,
    simulator_arguments,
)
from simulators.identity import SeededDomains
from simulators.serving import serve_until_interrupted, threaded_wsgi_server

DEMO_USERNAME = "demo@also.example"
#: The credit limit ALSO grants the demo reseller (EUR).
DEMO_CREDIT_LIMIT = Decimal("250000.00")
DEMO_PASSWORD = "demo-password"
MFA_USERNAME = "mfa@also.example"
MFA_PASSWORD = "mfa-password"
AUSTRIA_USERNAME = "austria@also.example"
AUSTRIA_PASSWORD = "austria-password"

# Reason texts seen in public ALSO clients (the MFA one verbatim; the wrong-credentials one is the
# fragment clients match on, completed into a sentence).
MFA_REASON = "Unable to get session token. Users with enabled MFA are not supported."
WRONG_CREDENTIALS_REASON = "Unable to get session token. Please check your username and password."
SESSION_EXPIRED_REASON = "The session has expired. Please request a new session token."

FAULT_NAMESPACE = "http://schemas.microsoft.com/ws/2005/05/envelope/none"
SERVICE_EXCEPTION_NAMESPACE = "http://schemas.datacontract.org/2004/07/Nervogrid.Platform.API"

#: Microsoft NCE: decreases and cancellation only within 7 days (168 hours) of purchase or renewal.
CANCELLATION_WINDOW = timedelta(days=7)

_OPERATION_PREFIX = API_PATH.strip("/")  # "SimpleAPI/SimpleAPIService.svc/rest"
_REGION_BY_HOST = {host: region for region, host in ALSO_REGION_HOSTS.items()}
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


# ------------------------------------------------------------------------------------------------
# Catalog
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _BillingOption:
    """One billing type of a service = one priceable item with its prices (EUR)."""

    value: str
    advance_months: int
    commitment_months: int
    purchase_price: Decimal
    sales_price: Decimal
    suggested_retail_price: Decimal
    priceable_item_id: int
    material_number: str


@dataclass(frozen=True, kw_only=True)
class _Service:
    name: str
    display_name: str
    sku: str
    nce: bool
    billing_options: tuple[_BillingOption, ...] = ()
    depends_on: tuple[str, ...] = ()
    max_quantity: int = 300
    tenant: bool = False

    def option(self, value: Any) -> _BillingOption | None:
        return next((option for option in self.billing_options if option.value == value), None)


TENANT_SERVICE = "141309_MicrosoftOrganizationtenant_54197"

_MONTHLY_NO_COMMITMENT = "Monthly (no commitment) - P1M"
_MONTHLY_ONE_YEAR = "Monthly (with 1-year commitment) - P1Y"
_PREPAID_ONE_YEAR = "Prepaid (with 1-year commitment) - P1Y"
_PREPAID_THREE_YEARS = "Prepaid (with 3-year commitment) - P3Y"
_LEGACY_MONTHLY = "Monthly"
_ADVANCE = {
    _MONTHLY_NO_COMMITMENT: 1,
    _MONTHLY_ONE_YEAR: 1,
    _PREPAID_ONE_YEAR: 12,
    _PREPAID_THREE_YEARS: 36,
    _LEGACY_MONTHLY: 1,
}
_COMMITMENT = {
    _MONTHLY_NO_COMMITMENT: 1,
    _MONTHLY_ONE_YEAR: 12,
    _PREPAID_ONE_YEAR: 12,
    _PREPAID_THREE_YEARS: 36,
    _LEGACY_MONTHLY: 1,
}


def _build_catalog() -> dict[str, _Service]:
    item_ids = itertools.count(300001)

    def options(*rows: tuple[str, str, str, str]) -> tuple[_BillingOption, ...]:
        built = []
        for value, purchase, sales, retail in rows:
            item_id = next(item_ids)
            built.append(
                _BillingOption(
                    value=value,
                    advance_months=_ADVANCE[value],
                    commitment_months=_COMMITMENT[value],
                    purchase_price=Decimal(purchase),
                    sales_price=Decimal(sales),
                    suggested_retail_price=Decimal(retail),
                    priceable_item_id=item_id,
                    material_number=f"{9100000 + item_id - 300000}",
                )
            )
        return tuple(built)

    e3 = "1429492_NCEMicros365E3_12907"
    business_basic = "1429494_NCEMicros365BusinessBasic_12909"
    business_standard = "1429495_NCEMicros365BusinessStandard_12910"
    exchange_plan_1 = "1429496_NCEExchangeOnlinePlan1_12911"
    services = [
        _Service(name=TENANT_SERVICE, display_name="Microsoft Organization tenant", sku="", nce=False, tenant=True),
        _Service(
            name=e3,
            display_name="Microsoft 365 E3 (NCE)",
            sku="CFQ7TTC0LFLX:0001",
            nce=True,
            depends_on=(TENANT_SERVICE,),
            billing_options=options(
                (_MONTHLY_NO_COMMITMENT, "36.40", "40.44", "40.44"),
                (_MONTHLY_ONE_YEAR, "30.33", "33.70", "33.70"),
                (_PREPAID_ONE_YEAR, "363.96", "404.40", "404.40"),
            ),
        ),
        _Service(
            name="1429493_NCEMicros365BusinessPremium_12908",
            display_name="Microsoft 365 Business Premium (NCE)",
            sku="CFQ7TTC0LCHC:0002",
            nce=True,
            depends_on=(TENANT_SERVICE,),
            billing_options=options(
                (_MONTHLY_NO_COMMITMENT, "22.25", "24.72", "24.72"),
                (_MONTHLY_ONE_YEAR, "18.54", "20.60", "20.60"),
                (_PREPAID_ONE_YEAR, "222.48", "247.20", "247.20"),
            ),
        ),
        _Service(
            name=business_basic,
            display_name="Microsoft 365 Business Basic (NCE)",
            sku="CFQ7TTC0LH18:0001",
            nce=True,
            depends_on=(TENANT_SERVICE,),
            billing_options=options(
                (_MONTHLY_NO_COMMITMENT, "6.07", "6.72", "6.72"),
                (_MONTHLY_ONE_YEAR, "5.06", "5.60", "5.60"),
                (_PREPAID_ONE_YEAR, "60.48", "67.20", "67.20"),
            ),
        ),
        _Service(
            name=business_standard,
            display_name="Microsoft 365 Business Standard (NCE)",
            sku="CFQ7TTC0LDPB:0001",
            nce=True,
            depends_on=(TENANT_SERVICE,),
            billing_options=options(
                (_MONTHLY_NO_COMMITMENT, "13.61", "15.12", "15.12"),
                (_MONTHLY_ONE_YEAR, "11.34", "12.60", "12.60"),
                (_PREPAID_ONE_YEAR, "136.08", "151.20", "151.20"),
                (_PREPAID_THREE_YEARS, "408.24", "453.60", "453.60"),
            ),
        ),
        _Service(
            name=exchange_plan_1,
            display_name="Exchange Online (Plan 1) (NCE)",
            sku="CFQ7TTC0LH16:0001",
            nce=True,
            depends_on=(TENANT_SERVICE,),
            billing_options=options(
                (_MONTHLY_NO_COMMITMENT, "4.32", "4.80", "4.80"), (_MONTHLY_ONE_YEAR, "3.60", "4.00", "4.00")
            ),
        ),
        _Service(
            name="1429600_NCETeamsPhoneStandard_13001",
            display_name="Microsoft Teams Phone Standard (NCE add-on)",
            sku="CFQ7TTC0J1FV:0001",
            nce=True,
            depends_on=(e3,),
            billing_options=options(
                (_MONTHLY_NO_COMMITMENT, "9.07", "10.08", "10.08"), (_MONTHLY_ONE_YEAR, "7.56", "8.40", "8.40")
            ),
        ),
        _Service(
            name="1429601_NCEExchangeOnlineArchiving_13002",
            display_name="Exchange Online Archiving (NCE add-on)",
            sku="CFQ7TTC0LH0R:0001",
            nce=True,
            depends_on=(business_basic, business_standard, exchange_plan_1),
            billing_options=options((_MONTHLY_ONE_YEAR, "2.70", "3.00", "3.00")),
        ),
        _Service(
            name="103714_ExchangeOnlinePlan1Oct2015_80666",
            display_name="Exchange Online (Plan 1) (legacy)",
            sku="AAA-06228",
            nce=False,
            depends_on=(TENANT_SERVICE,),
            billing_options=options((_LEGACY_MONTHLY, "3.60", "4.00", "4.00")),
        ),
    ]
    return {service.name: service for service in services}


# ------------------------------------------------------------------------------------------------
# State
# ------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class _Reseller:
    account_id: int
    name: str
    region: str
    marketplace_id: int
    country: str


@dataclass(kw_only=True)
class _User:
    username: str
    password: str
    reseller_account_id: int
    region: str
    mfa_enabled: bool = False
    account_id: int = 0
    parent_account_id: int = 0
    first_name: str = ""
    last_name: str = ""
    last_logon: datetime | None = None
    state: str = "Active"


@dataclass(kw_only=True)
class _CreditLimit:
    """A credit limit on an account (SimpleCreditLimitRecord); `limit` None means none is checked."""

    limit: Decimal | None
    comment: str
    set_at: datetime
    created_by: int
    locked: bool = False


@dataclass(kw_only=True)
class _Session:
    username: str
    reseller_account_id: int
    region: str
    expires_at: datetime


@dataclass(kw_only=True)
class _Company:
    account_id: int
    parent_account_id: int
    name: str
    email: str
    domains: list[str]
    country: str
    city: str
    address: str
    zip_code: str
    vat_id: str
    customer_id: str
    created_at: datetime
    state: str = "Active"


@dataclass(kw_only=True)
class _Subscription:
    account_id: int
    parent_account_id: int
    company_account_id: int
    service_name: str
    fields: dict[str, Any]
    billing_start: datetime
    contract_end: datetime | None
    vendor_reference: str
    state: str = "Active"
    status: str = "Provisioned"
    advance_period_end_action: str = "Renew"
    scheduled_termination: datetime | None = None
    purchase_order_number: str = ""
    contract_id: str = ""
    dependency_account_id: int | None = None
    renew_fields: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class _Injection(Injection):
    code: str = "Receiver"
    message: str = "An internal error occurred. Please try again later."


class _Fault(Exception):
    def __init__(self, message: str, *, code: str = "Sender", session_expired: bool = False, status: int = 500):
        super().__init__(message)
        self.message = message
        self.code = code
        self.session_expired = session_expired
        self.status = status


_INJECTION_KINDS = frozenset({"throttle", "unavailable", "fault", "latency", "session_expiry"})


class AlsoSimulator(MarketplaceSimulator[_Injection]):
    """The simulated ALSO marketplace: a WSGI callable that owns all of its state."""

    injection_kinds = _INJECTION_KINDS
    sign_in_operation = "GetSessionToken"
    session_expiry_kind = "session_expiry"
    control_errors = (_Fault,)

    def __init__(
        self,
        *,
        seed: bool = True,
        session_ttl: timedelta = timedelta(minutes=30),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        domains: DomainRegistry | None = None,
    ) -> None:
        super().__init__(clock=clock, sleep=sleep)
        #: Microsoft Online's domains beyond the tenants ordered here (the identity simulator's directories):
        #: a domain is unique across all of them, and each tenant ordered here is registered there.
        self.domains: DomainRegistry = domains if domains is not None else SeededDomains(())
        self._session_ttl = session_ttl
        self.catalog = _build_catalog()
        self._operations = self._handlers()
        self.reset(seed=seed)

    # -- state management ---------------------------------------------------------------------------

    def _clear_state(self) -> None:
        self._next_account_id = itertools.count(100001)
        # Users draw from their own range so that company and subscription ids stay where they always were.
        self._next_user_account_id = itertools.count(700001)
        self.resellers: dict[int, _Reseller] = {}
        self.users: dict[str, _User] = {}
        self.credit_limits: dict[int, _CreditLimit] = {}
        self.sessions: dict[str, _Session] = {}
        self.companies: dict[int, _Company] = {}
        self.subscriptions: dict[int, _Subscription] = {}
        self._companies_by_parent: dict[int, list[int]] = {}
        self._subscriptions_by_parent: dict[int, list[int]] = {}

    def expire_sessions(self) -> None:
        with self._lock:
            self._expire(self.sessions.values())

    def inject(
        self,
        *,
        kind: str,
        operation: str | None = None,
        count: int = 1,
        status: int | None = None,
        retry_after: float = 3.0,
        seconds: float = 0.0,
        code: str = "Receiver",
        message: str | None = None,
        apply_first: bool = False,
    ) -> None:
        """Make the next `count` matching calls fail (or slow down) the given way."""
        self._check_injection_kind(kind)
        injection = _Injection(
            kind=kind,
            operation=operation,
            remaining=count,
            status=status or (500 if kind == "fault" else 503),
            retry_after=float(retry_after),  # the control endpoint decodes JSON numbers as Decimal
            seconds=float(seconds),
            code=code,
            apply_first=apply_first,
        )
        self._arm(injection, message=message)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "resellers": len(self.resellers),
                "users": len(self.users),
                "companies": len(self.companies),
                "subscriptions": len(self.subscriptions),
                "sessions": len(self.sessions),
                "calls": dict(self.call_counts),
                "injections": self._pending_injections(),
            }

    # -- seeding -------------------------------------------------------------------------------------

    def add_reseller(self, *, name: str, region: str, country: str, marketplace_id: int) -> _Reseller:
        with self._lock:
            reseller = _Reseller(
                account_id=next(self._next_account_id),
                name=name,
                region=region,
                marketplace_id=marketplace_id,
                country=country,
            )
            self.resellers[reseller.account_id] = reseller
            self._companies_by_parent[reseller.account_id] = []
            return reseller

    def add_user(
        self,
        *,
        username: str,
        password: str,
        reseller_account_id: int,
        mfa_enabled: bool = False,
        parent_account_id: int | None = None,
        first_name: str = "Alex",
        last_name: str = "Admin",
    ) -> _User:
        """A user under the reseller (who may sign in to the API) or under one of its companies."""
        with self._lock:
            reseller = self.resellers[reseller_account_id]
            user = _User(
                username=username,
                password=password,
                reseller_account_id=reseller_account_id,
                region=reseller.region,
                mfa_enabled=mfa_enabled,
                account_id=next(self._next_user_account_id),
                parent_account_id=parent_account_id or reseller_account_id,
                first_name=first_name,
                last_name=last_name,
            )
            self.users[username.lower()] = user
            return user

    def set_credit_limit(self, *, account_id: int, limit: Decimal | None, comment: str, created_by: int) -> None:
        with self._lock:
            self.credit_limits[account_id] = _CreditLimit(
                limit=limit, comment=comment, set_at=self.now(), created_by=created_by
            )

    def add_company(
        self,
        *,
        reseller_account_id: int,
        name: str,
        domain: str,
        city: str = "Berlin",
        country: str = "Germany",
        created_at: datetime | None = None,
    ) -> _Company:
        with self._lock:
            account_id = next(self._next_account_id)
            company = _Company(
                account_id=account_id,
                parent_account_id=reseller_account_id,
                name=name,
                email=f"it@{domain}",
                domains=[domain],
                country=country,
                city=city,
                address="Hauptstrasse 1",
                zip_code="10115",
                vat_id=f"DE{account_id:09d}",
                customer_id=f"C{account_id}",
                created_at=created_at or self.now(),
            )
            self.companies[account_id] = company
            self._companies_by_parent[reseller_account_id].append(account_id)
            self._subscriptions_by_parent[account_id] = []
            return company

    def add_subscription(
        self,
        *,
        parent_account_id: int,
        service_name: str,
        fields: Mapping[str, Any],
        started_at: datetime | None = None,
        purchase_order_number: str = "",
    ) -> _Subscription:
        """Create a subscription directly in state (seeding); ordering goes through CreateSubscription."""
        with self._lock:
            service = self.catalog[service_name]
            started = started_at or self.now()
            company_account_id = (
                parent_account_id
                if parent_account_id in self.companies
                else self.subscriptions[parent_account_id].company_account_id
            )
            option = service.option(fields.get("BillingType"))
            subscription = _Subscription(
                account_id=next(self._next_account_id),
                parent_account_id=parent_account_id,
                company_account_id=company_account_id,
                service_name=service_name,
                fields=dict(fields),
                billing_start=started,
                contract_end=add_months(started, option.commitment_months) if option else None,
                vendor_reference=str(uuid.uuid4()),
                purchase_order_number=purchase_order_number,
                dependency_account_id=self._tenant_subscription_of(company_account_id) if not service.tenant else None,
            )
            self.subscriptions[subscription.account_id] = subscription
            self._subscriptions_by_parent.setdefault(parent_account_id, []).append(subscription.account_id)
            self._subscriptions_by_parent[subscription.account_id] = []
            return subscription

    def seed_demo(self) -> None:
        """The demo data set: a German reseller with eight customers, an MFA user, an Austrian reseller."""
        with self._lock:
            now = self.now()
            demo = self.add_reseller(name="Demo Reseller GmbH", region="de", country="Germany", marketplace_id=101)
            self.add_user(username=DEMO_USERNAME, password=DEMO_PASSWORD, reseller_account_id=demo.account_id)
            self.add_user(
                username=MFA_USERNAME, password=MFA_PASSWORD, reseller_account_id=demo.account_id, mfa_enabled=True
            )
            # ALSO's own limit on the reseller, set by ALSO's credit management (account 100000).
            self.set_credit_limit(
                account_id=demo.account_id, limit=DEMO_CREDIT_LIMIT, comment="Annual credit review", created_by=100000
            )
            e3 = "1429492_NCEMicros365E3_12907"
            premium = "1429493_NCEMicros365BusinessPremium_12908"
            basic = "1429494_NCEMicros365BusinessBasic_12909"
            standard = "1429495_NCEMicros365BusinessStandard_12910"
            exchange = "1429496_NCEExchangeOnlinePlan1_12911"
            teams_phone = "1429600_NCETeamsPhoneStandard_13001"
            archiving = "1429601_NCEExchangeOnlineArchiving_13002"
            legacy_exchange = "103714_ExchangeOnlinePlan1Oct2015_80666"
            # (company name, domain, city, [(service, quantity, billing type, days ago, add-ons)])
            customers: list[tuple[str, str, str, list[tuple[str, int, str, int, list[tuple[str, int, str]]]]]] = [
                (
                    "Contoso GmbH",
                    "contoso.example",
                    "Berlin",
                    [
                        (e3, 25, _PREPAID_ONE_YEAR, 200, [(teams_phone, 10, _MONTHLY_ONE_YEAR)]),
                        (basic, 10, _MONTHLY_NO_COMMITMENT, 12, []),
                    ],
                ),
                (
                    "Fabrikam AG",
                    "fabrikam.example",
                    "München",
                    [
                        (premium, 40, _MONTHLY_ONE_YEAR, 90, []),
                        (exchange, 5, _MONTHLY_ONE_YEAR, 30, [(archiving, 5, _MONTHLY_ONE_YEAR)]),
                    ],
                ),
                (
                    "Northwind Traders GmbH",
                    "northwind.example",
                    "Hamburg",
                    [(standard, 15, _PREPAID_ONE_YEAR, 300, [])],
                ),
                (
                    "Adatum Solutions KG",
                    "adatum.example",
                    "Köln",
                    [(basic, 50, _MONTHLY_NO_COMMITMENT, 20, []), (legacy_exchange, 8, _LEGACY_MONTHLY, 400, [])],
                ),
                ("Tailspin Toys GmbH", "tailspin.example", "Frankfurt am Main", [(e3, 100, _MONTHLY_ONE_YEAR, 3, [])]),
                (
                    "Woodgrove Steuerberatung",
                    "woodgrove.example",
                    "Stuttgart",
                    [(premium, 12, _MONTHLY_ONE_YEAR, 150, [])],
                ),
                ("Alpine Ski House e.U.", "alpineskihouse.example", "Dresden", []),
                (
                    "Litware Consulting GmbH",
                    "litware.example",
                    "Leipzig",
                    [(standard, 7, _PREPAID_THREE_YEARS, 500, [])],
                ),
            ]
            created: dict[str, list[_Subscription]] = {}
            for name, domain, city, lines in customers:
                company = self.add_company(
                    reseller_account_id=demo.account_id,
                    name=name,
                    domain=domain,
                    city=city,
                    created_at=now - timedelta(days=600),
                )
                tenant_prefix = domain.split(".")[0]
                self.add_user(
                    username=f"admin@{domain}",
                    password=secrets.token_urlsafe(12),
                    reseller_account_id=demo.account_id,
                    parent_account_id=company.account_id,
                )
                self.add_subscription(
                    parent_account_id=company.account_id,
                    service_name=TENANT_SERVICE,
                    fields={
                        "Primarydomainname": tenant_prefix,
                        "ExistingOffice365customer": False,
                        "PrimaryContactEmailAddress": f"admin@{domain}",
                        "Primarycontactfirstname": "Alex",
                        "Primarycontactlastname": "Admin",
                    },
                    started_at=now - timedelta(days=600),
                )
                created[name] = []
                for service_name, quantity, billing_type, days_ago, add_ons in lines:
                    subscription = self.add_subscription(
                        parent_account_id=company.account_id,
                        service_name=service_name,
                        fields={"Quantity": quantity, "BillingType": billing_type},
                        started_at=now - timedelta(days=days_ago),
                    )
                    created[name].append(subscription)
                    for add_on_service, add_on_quantity, add_on_billing in add_ons:
                        self.add_subscription(
                            parent_account_id=subscription.account_id,
                            service_name=add_on_service,
                            fields={"Quantity": add_on_quantity, "BillingType": add_on_billing},
                            started_at=now - timedelta(days=min(days_ago, 25)),
                        )
            northwind = created["Northwind Traders GmbH"][0]
            self._refresh(northwind)
            northwind.advance_period_end_action = "Terminate"
            northwind.scheduled_termination = northwind.contract_end
            woodgrove = created["Woodgrove Steuerberatung"][0]
            woodgrove.state = "Terminated"
            woodgrove.advance_period_end_action = "Terminate"

            austria = self.add_reseller(
                name="Alpen IT Partner GmbH", region="at", country="Austria", marketplace_id=102
            )
            self.add_user(username=AUSTRIA_USERNAME, password=AUSTRIA_PASSWORD, reseller_account_id=austria.account_id)
            for name, domain, city in (
                ("Wiener Werkstätten GmbH", "wienerwerk.example", "Wien"),
                ("Grazer Logistik AG", "grazlog.example", "Graz"),
            ):
                company = self.add_company(
                    reseller_account_id=austria.account_id, name=name, domain=domain, city=city, country="Austria"
                )
                self.add_subscription(
                    parent_account_id=company.account_id,
                    service_name=premium,
                    fields={"Quantity": 20, "BillingType": _MONTHLY_ONE_YEAR},
                    started_at=now - timedelta(days=45),
                )

    def seed_bulk(self, *, companies: int, subscriptions_per_company: int, username: str = DEMO_USERNAME) -> None:
        """Add many companies with many subscriptions to a reseller, for load tests and benchmarks."""
        with self._lock:
            user = self.users[username.lower()]
            now = self.now()
            sellable = [
                (service.name, option.value)
                for service in self.catalog.values()
                if service.billing_options and service.depends_on == (TENANT_SERVICE,)
                for option in service.billing_options
            ]
            offset = len(self._companies_by_parent[user.reseller_account_id])
            for index in range(companies):
                number = offset + index + 1
                company = self.add_company(
                    reseller_account_id=user.reseller_account_id,
                    name=f"Bulk Customer {number:05d} GmbH",
                    domain=f"bulk{number:05d}.example",
                    created_at=now - timedelta(days=400),
                )
                for line in range(subscriptions_per_company):
                    service_name, billing_type = sellable[(index + line) % len(sellable)]
                    self.add_subscription(
                        parent_account_id=company.account_id,
                        service_name=service_name,
                        fields={"Quantity": (index * 7 + line) % 50 + 1, "BillingType": billing_type},
                        started_at=now - timedelta(days=(index + line * 13) % 330 + 8),
                    )

    # -- WSGI ------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path.startswith("/_control/"):
            return self._control(path.removeprefix("/_control/"), method, environ, start_response)

        host = (environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "").split(":")[0].lower()
        segments = [segment for segment in path.split("/") if segment]
        region = _REGION_BY_HOST.get(host)
        if region is None and segments and segments[0] in ALSO_REGION_HOSTS:
            region = segments.pop(0)
        remainder = "/".join(segments)
        if region is None or not remainder.startswith(_OPERATION_PREFIX + "/"):
            return respond(start_response, 404, _html("Endpoint not found."), "text/html; charset=utf-8")
        operation = remainder.removeprefix(_OPERATION_PREFIX + "/")
        if method != "POST":
            return respond(start_response, 405, _html("Method not allowed."), "text/html; charset=utf-8")
        handler = self._operations.get(operation)
        if handler is None:
            return respond(start_response, 404, _html("Endpoint not found."), "text/html; charset=utf-8")

        self._count_call(operation)
        with self._lock:
            injection = self._take_injection(operation)
            if injection is not None and not injection.apply_first:
                return self._injected_failure(injection, start_response, environ)
            try:
                body = decode_json_object(read_body(environ), _Fault)
                if operation == "GetSessionToken":
                    result: Any = self._get_session_token(region, body)
                else:
                    session = self._session_for(environ, region)
                    result = handler(session, body)
            except _Fault as fault:
                return respond(start_response, fault.status, _fault_xml(fault), "text/xml; charset=utf-8")
            if injection is not None:
                return self._injected_failure(injection, start_response, environ)
        if result is _NO_CONTENT:
            return respond(start_response, 200, b"", "application/json; charset=utf-8")
        return respond(start_response, 200, json_bytes(result), "application/json; charset=utf-8")

    def _injected_failure(
        self, injection: _Injection, start_response: Callable[..., Any], environ: Mapping[str, Any]
    ) -> Iterable[bytes]:
        if injection.kind == "throttle":
            fault = _Fault("Too many requests. Please retry later.", status=429)
            retry_after = f"{injection.retry_after:g}"
            return respond(
                start_response, 429, _fault_xml(fault), "text/xml; charset=utf-8", [("Retry-After", retry_after)]
            )
        if injection.kind == "unavailable":
            text = f"{injection.status} Service Unavailable: the ALSO marketplace is temporarily unavailable."
            return respond(start_response, injection.status, text.encode(), "text/plain; charset=utf-8")
        if injection.kind == "session_expiry":
            self.sessions.pop(_token_from(environ) or "", None)
            fault = _Fault(SESSION_EXPIRED_REASON, session_expired=True)
            return respond(start_response, 500, _fault_xml(fault), "text/xml; charset=utf-8")
        fault = _Fault(injection.message, code=injection.code, status=injection.status)
        return respond(start_response, fault.status, _fault_xml(fault), "text/xml; charset=utf-8")

    # -- control endpoint ------------------------------------------------------------------------------

    def _control_body(self, raw_body: bytes) -> dict[str, Any]:
        return decode_json_object(raw_body, _Fault)

    def _control_actions(self) -> dict[str, ControlAction]:
        return {**super()._control_actions(), "expire_sessions": lambda body: self.expire_sessions()}

    def _control_seeds(self) -> dict[str, ControlAction]:
        return {
            **super()._control_seeds(),
            "bulk": lambda body: self.seed_bulk(
                companies=int(body.get("companies", 2000)),
                subscriptions_per_company=int(body.get("subscriptions_per_company", 10)),
                username=str(body.get("username", DEMO_USERNAME)),
            ),
        }

    # -- authentication ----------------------------------------------------------------------------------

    def _get_session_token(self, region: str, body: Mapping[str, Any]) -> str:
        username = str(_key(body, "username") or "")
        password = str(_key(body, "password") or "")
        user = self.users.get(username.lower())
        if user is None or user.region != region or not secrets.compare_digest(user.password, password):
            raise _Fault(WRONG_CREDENTIALS_REASON)
        if user.mfa_enabled:
            raise _Fault(MFA_REASON)
        user.last_logon = self.now()
        token = base64.b64encode(secrets.token_bytes(30)).decode()
        self.sessions[token] = _Session(
            username=user.username,
            reseller_account_id=user.reseller_account_id,
            region=region,
            expires_at=self.now() + self._session_ttl,
        )
        return token

    def _session_for(self, environ: Mapping[str, Any], region: str) -> _Session:
        token = _token_from(environ)
        session = self.sessions.get(token or "")
        if session is None or session.region != region or session.expires_at <= self.now():
            if token:
                self.sessions.pop(token, None)
            raise _Fault(SESSION_EXPIRED_REASON, session_expired=True)
        return session

    # -- operations ----------------------------------------------------------------------------------------

    def _handlers(self) -> dict[str, Callable[[_Session, Mapping[str, Any]], Any]]:
        return {
            "GetSessionToken": lambda session, body: None,  # handled before the session check
            # The spec says PingPong "returns nothing" while the session is valid; the wire carries JSON null.
            "PingPong": lambda session, body: None,
            "TerminateSessionToken": self._terminate_session_token,
            "GetMarketplaces": self._get_marketplaces,
            "ListMarketplaceServices": self._list_marketplace_services,
            "GetMarketplaceServiceCharges": self._get_marketplace_service_charges,
            "GetPossibleServicesForParent": self._get_possible_services_for_parent,
            "GetCompany": self._get_company,
            "GetCompanies": self._get_companies,
            "CreateCompany": self._create_company,
            "GetSubscriptions": self._get_subscriptions,
            "GetSubscription": lambda session, body: self._get_subscription(session, body, with_addons=False),
            "GetSubscriptionWithAddons": lambda session, body: self._get_subscription(session, body, with_addons=True),
            "GetFieldsForService": self._get_fields_for_service,
            "ValidateFields": self._validate_fields,
            "CreateSubscription": self._create_subscription,
            "UpdateSubscription": self._update_subscription,
            "ConfigureSubscriptionRenew": self._configure_subscription_renew,
            "TerminateAccount": self._terminate_account,
            "GetLatestInvoicesForPeriod": self._get_latest_invoices_for_period,
            "GetLatestInvoices": self._get_latest_invoices,
            "GetPreviewInvoices": self._get_preview_invoices,
            "GetCreditLimit": self._get_credit_limit,
            "SetCreditLimit": self._set_credit_limit,
            "GetUsers": self._get_users,
            "GetUser": self._get_user,
            "GetServiceInformation": self._get_service_information,
        }

    def _terminate_session_token(self, session: _Session, body: Mapping[str, Any]) -> Any:
        for token, candidate in list(self.sessions.items()):
            if candidate is session:
                del self.sessions[token]
        return _NO_CONTENT

    def _get_marketplaces(self, session: _Session, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        reseller = self.resellers[session.reseller_account_id]
        return [
            {
                "Id": reseller.marketplace_id,
                "Name": f"{reseller.name} Marketplace",
                "ServiceCount": len(self.catalog),
                "HiddenServiceCount": 0,
                "AssigneeCount": len(self._companies_by_parent[reseller.account_id]),
                "Priority": 1,
                "PricingMode": "dynamic",
            }
        ]

    def _marketplace_of(self, session: _Session, body: Mapping[str, Any]) -> _Reseller:
        reseller = self.resellers[session.reseller_account_id]
        if _int_key(body, "marketplaceId") != reseller.marketplace_id:
            raise _Fault(f"Marketplace {_key(body, 'marketplaceId')} was not found.")
        return reseller

    def _list_marketplace_services(self, session: _Session, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        self._marketplace_of(session, body)
        return [self._product_info(service) for service in self.catalog.values()]

    def _get_marketplace_service_charges(self, session: _Session, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        reseller = self._marketplace_of(session, body)
        return [
            {
                "ServiceId": service.name,
                "DisplayName": service.display_name,
                "MarketplaceId": reseller.marketplace_id,
                "Status": "Active",
                "VendorDisplayName": "Microsoft",
                "Charges": [_charge(service, option) for option in service.billing_options],
            }
            for service in self.catalog.values()
        ]

    def _get_possible_services_for_parent(self, session: _Session, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        parent_id = _int_key(body, "parentAccountId")
        if parent_id in self.companies:
            self._company(session, parent_id)
            return [self._product_info(s) for s in self.catalog.values() if self._orderable_under_company(s)]
        parent = self._subscription(session, parent_id)
        return [self._product_info(s) for s in self.catalog.values() if parent.service_name in s.depends_on]

    def _orderable_under_company(self, service: _Service) -> bool:
        return service.tenant or service.depends_on == (TENANT_SERVICE,)

    def _product_info(self, service: _Service) -> dict[str, Any]:
        return {
            "ProductName": service.name,
            "DisplayName": service.display_name,
            "Description": f"{service.display_name} from Microsoft, billed through ALSO.",
            "Icon": "",
            "OwnerName": "ALSO",
            "IsTCAccepted": True,
            "DependencyInfo": [
                {
                    "DependentProductAdded": False,
                    "IndirectDependencyInfoAccount": [],
                    "ProductDisplayname": self.catalog[name].display_name,
                    "ProductName": name,
                }
                for name in service.depends_on
            ],
            "IndirectDependencies": [],
            "SimpleProductBillingInfo": [
                {
                    "BillableTimeUnit": "Month",
                    "ChargeFirstTimeUnit": True,
                    "ChargeLastTimeUnit": False,
                    "AdvancePaymentPeriodInMonths": option.advance_months,
                    "FieldDisplayName": "Billing type",
                    "FieldDisplayValue": option.value,
                    "FieldName": "BillingType",
                    "FieldValue": option.value,
                    "VendorSku": service.sku,
                    "MaterialNumber": option.material_number,
                }
                for option in service.billing_options
            ],
        }

    # companies

    def _company(self, session: _Session, account_id: int | None) -> _Company:
        company = self.companies.get(account_id or 0)
        if company is None or company.parent_account_id != session.reseller_account_id:
            raise _Fault(f"Account {account_id} was not found.")
        return company

    def _get_company(self, session: _Session, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        account_id = _int_key(body, "accountId", required=False)
        if account_id is None or account_id == session.reseller_account_id:
            return [self._reseller_wire(self.resellers[session.reseller_account_id])]
        return [self._company_wire(self._company(session, account_id))]

    def _get_companies(self, session: _Session, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        parent_id = _int_key(body, "parentAccountId", required=False) or session.reseller_account_id
        if parent_id != session.reseller_account_id:
            self._company(session, parent_id)
            return []  # companies have no sub-companies here
        return [self._company_wire(self.companies[i]) for i in self._companies_by_parent[parent_id]]

    def _create_company(self, session: _Session, body: Mapping[str, Any]) -> dict[str, Any]:
        account = _key(body, "companyAccount")
        if not isinstance(account, Mapping):
            raise _Fault("The companyAccount object is required.")
        for required in (
            "Address",
            "City",
            "CompanyName",
            "Country",
            "Domain",
            "Email",
            "Marketplaces",
            "ParentAccountId",
            "Zip",
        ):
            if _key(account, required) in (None, "", []):
                raise _Fault(f"The field '{required}' is required.")
        reseller = self.resellers[session.reseller_account_id]
        if _int_key(account, "ParentAccountId") != reseller.account_id:
            raise _Fault(f"Account {_key(account, 'ParentAccountId')} was not found.")
        if reseller.marketplace_id not in [int(m) for m in _key(account, "Marketplaces")]:
            raise _Fault(f"Marketplaces must include {reseller.marketplace_id}.")
        domains = _key(account, "Domain")
        company = self.add_company(
            reseller_account_id=reseller.account_id,
            name=str(_key(account, "CompanyName")),
            domain=str(domains[0] if isinstance(domains, list) else domains),
            city=str(_key(account, "City")),
            country=str(_key(account, "Country")),
        )
        company.email = str(_key(account, "Email"))
        company.domains = [str(d) for d in domains] if isinstance(domains, list) else [str(domains)]
        company.address = str(_key(account, "Address"))
        company.zip_code = str(_key(account, "Zip"))
        company.vat_id = str(_key(account, "VATID") or "")
        company.customer_id = str(_key(account, "CustomerId") or company.customer_id)
        return self._company_wire(company)

    def _company_wire(self, company: _Company) -> dict[str, Any]:
        reseller = self.resellers[company.parent_account_id]
        return {
            "AccountId": company.account_id,
            "ParentAccountId": company.parent_account_id,
            "AccountState": company.state,
            "AccountType": "Company",
            "CompanyName": company.name,
            "VATID": company.vat_id,
            "Domain": list(company.domains),
            "BillingStartDate": _format_date(company.created_at),
            "ContractId": "",
            "PurchaseOrderNumber": "",
            "CustomerId": company.customer_id,
            "Currency": "EUR",
            "Address": company.address,
            "City": company.city,
            "Country": company.country,
            "Zip": company.zip_code,
            "Email": company.email,
            "Marketplace": reseller.marketplace_id,
            "Marketplaces": [reseller.marketplace_id],
        }

    def _reseller_wire(self, reseller: _Reseller) -> dict[str, Any]:
        return {
            "AccountId": reseller.account_id,
            "ParentAccountId": 100000,
            "AccountState": "Active",
            "AccountType": "Reseller",
            "CompanyName": reseller.name,
            "Country": reseller.country,
            "Currency": "EUR",
            "Marketplace": reseller.marketplace_id,
            "Marketplaces": [reseller.marketplace_id],
        }

    # subscriptions

    def _subscription(self, session: _Session, account_id: int | None) -> _Subscription:
        subscription = self.subscriptions.get(account_id or 0)
        if subscription is None or self.companies[subscription.company_account_id].parent_account_id != (
            session.reseller_account_id
        ):
            raise _Fault(f"Account {account_id} was not found.")
        self._refresh(subscription)
        return subscription

    def _get_subscriptions(self, session: _Session, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        parent_id = _int_key(body, "parentAccountId")
        if parent_id in self.companies:
            self._company(session, parent_id)
        else:
            self._subscription(session, parent_id)
        children = [self.subscriptions[i] for i in self._subscriptions_by_parent.get(parent_id, [])]
        for child in children:
            self._refresh(child)
        return [self._subscription_wire(child, with_addons=True) for child in children]

    def _get_subscription(self, session: _Session, body: Mapping[str, Any], *, with_addons: bool) -> dict[str, Any]:
        return self._subscription_wire(
            self._subscription(session, _int_key(body, "accountId")), with_addons=with_addons
        )

    def _subscription_wire(self, subscription: _Subscription, *, with_addons: bool) -> dict[str, Any]:
        service = self.catalog[subscription.service_name]
        option = service.option(subscription.fields.get("BillingType"))
        parent_subscription = self.subscriptions.get(subscription.parent_account_id)
        wire: dict[str, Any] = {
            "AccountId": subscription.account_id,
            "AccountState": subscription.state,
            "ParentAccountId": subscription.parent_account_id,
            "CompanyAccountId": subscription.company_account_id,
            "ParentType": parent_subscription.service_name if parent_subscription else "Company",
            "ServiceName": service.name,
            "ProductName": service.name,
            "ServiceDisplayName": service.display_name,
            "VendorDisplayName": "Microsoft",
            "Status": subscription.status,
            "ProvisioningStatus": subscription.status,
            "ErrorDetails": "",
            "VendorReferenceId": subscription.vendor_reference,
            "SecondVendorReferenceId": "",
            "BillingStartDate": _format_date(subscription.billing_start),
            "ContractEndDate": _format_date(subscription.contract_end),
            "PriceProtectionEndDate": _format_date(subscription.contract_end),
            "AdvancePeriodEndDate": _format_date(subscription.contract_end),
            "AdvancePeriodEndAction": subscription.advance_period_end_action,
            "ScheduledTerminationDate": _format_date(subscription.scheduled_termination),
            "HasRenewActionValuesConfigured": bool(subscription.renew_fields),
            "RenewFields": [
                {"Name": name, "DisplayName": _display_name(name), "Value": value}
                for name, value in subscription.renew_fields.items()
            ],
            "RemainingCreditLimit": None,
            "PurchaseOrderNumber": subscription.purchase_order_number,
            "ContractId": subscription.contract_id,
            "DependencyAccountId": subscription.dependency_account_id,
            "DependencyServiceName": TENANT_SERVICE if subscription.dependency_account_id else None,
            "Fields": [
                {"Name": name, "DisplayName": _display_name(name), "Value": value}
                for name, value in subscription.fields.items()
            ],
            "PriceableItems": [_priceable_item(service, option)] if option else [],
        }
        if with_addons:
            # The spec lists only ParentAccountId, AccountId, AccountState and ServiceName for an add-on;
            # serving the whole add-on subscription is a superset (inference) that spares a call per add-on.
            add_ons = [self.subscriptions[i] for i in self._subscriptions_by_parent.get(subscription.account_id, [])]
            for add_on in add_ons:
                self._refresh(add_on)
            wire["Addons"] = [self._subscription_wire(add_on, with_addons=False) for add_on in add_ons]
        return wire

    def _refresh(self, subscription: _Subscription) -> None:
        """Apply what the calendar did since the last look: renewals and scheduled terminations."""
        now = self.now()
        service = self.catalog[subscription.service_name]
        while subscription.state == "Active" and subscription.contract_end and subscription.contract_end <= now:
            if subscription.advance_period_end_action == "Terminate":
                subscription.state = "Terminated"
                subscription.scheduled_termination = None
                break
            if subscription.renew_fields:
                subscription.fields.update(subscription.renew_fields)
                subscription.renew_fields = {}
            option = service.option(subscription.fields.get("BillingType"))
            months = option.commitment_months if option else 1
            subscription.billing_start = subscription.contract_end
            subscription.contract_end = add_months(subscription.contract_end, months)

    def _parent_for_order(
        self, session: _Session, parent_id: int | None, service: _Service
    ) -> _Company | _Subscription:
        if parent_id in self.companies:
            company = self._company(session, parent_id)
            if company.state != "Active":
                raise _Fault(f"Account {parent_id} is terminated.")
            if not self._orderable_under_company(service):
                raise _Fault(f"Service {service.name} must be added under one of: {', '.join(service.depends_on)}.")
            return company
        parent = self._subscription(session, parent_id)
        if parent.state != "Active":
            raise _Fault(f"Account {parent_id} is terminated.")
        if parent.service_name not in service.depends_on:
            raise _Fault(f"Service {service.name} cannot be added under {parent.service_name}.")
        return parent

    def _service_for(self, name: Any) -> _Service:
        service = self.catalog.get(str(name))
        if service is None:
            raise _Fault(f"Service {name} was not found in the marketplace.")
        return service

    def _get_fields_for_service(self, session: _Session, body: Mapping[str, Any]) -> dict[str, Any]:
        service = self._service_for(_key(body, "productName"))
        parent_id = _int_key(body, "parentAccountId")
        self._parent_for_order(session, parent_id, service)
        return {"Fields": _field_definitions(service), "ParentAccountId": parent_id, "ServiceName": service.name}

    def _validate_fields(self, session: _Session, body: Mapping[str, Any]) -> dict[str, Any]:
        account = _key(body, "subscriptionAccount")
        if not isinstance(account, Mapping):
            raise _Fault("The subscriptionAccount object is required.")
        service = self._service_for(_key(account, "ServiceName"))
        account_id = _int_key(account, "AccountId", required=False)
        parent_id = _int_key(account, "ParentAccountId", required=account_id is None)
        if account_id is not None:
            self._subscription(session, account_id)
        elif not (service.tenant and parent_id == session.reseller_account_id):
            # The tenant product may be validated under the reseller's own account, before the company
            # it will be ordered for exists: the console checks a new domain as the user types (inference;
            # ALSO documents ValidateFields as a dry run of CreateSubscription with remote validation).
            self._parent_for_order(session, parent_id, service)
        fields = _key(account, "Fields") or {}
        partial = account_id is not None or bool(_key(account, "FieldsToValidate"))
        problem = _field_problem(service, fields, partial=partial) or self._tenant_domain_problem(service, fields)
        if problem is None:
            return {"Result": "OK", "ErrorDetails": "", "FieldName": ""}
        field_name, details = problem
        return {"Result": "FAILED", "ErrorDetails": details, "FieldName": field_name}

    def domain_taken(self, prefix: str) -> bool:
        """Whether `<prefix>.onmicrosoft.com` is registered: a tenant ordered here or anywhere in Microsoft Online."""
        prefix = prefix.strip().lower()
        for subscription in self.subscriptions.values():
            if (
                subscription.service_name == TENANT_SERVICE
                and subscription.state == "Active"
                and str(subscription.fields.get("Primarydomainname") or "").lower() == prefix
            ):
                return True
        return self.domains.domain_registered(f"{prefix}.onmicrosoft.com")

    def _tenant_domain_problem(self, service: _Service, fields: Mapping[str, Any]) -> tuple[str, str] | None:
        """A new tenant's domain must be free across Microsoft Online; an existing customer's tenant is linked."""
        prefix = str(fields.get("Primarydomainname") or "").strip()
        if not service.tenant or not prefix or _truthy(fields.get("ExistingOffice365customer")):
            return None
        if self.domain_taken(prefix):
            return (
                "Primarydomainname",
                f"The domain {prefix.lower()}.onmicrosoft.com is already in use. If it is your customer's tenant, "
                "order the tenant as an existing Office 365 customer, so its admin accepts a reseller "
                "relationship with you.",
            )
        return None

    def _create_subscription(self, session: _Session, body: Mapping[str, Any]) -> dict[str, Any]:
        account = _key(body, "subscriptionAccount")
        if not isinstance(account, Mapping):
            raise _Fault("The subscriptionAccount object is required.")
        service = self._service_for(_key(account, "ServiceName"))
        parent_id = _int_key(account, "ParentAccountId")
        self._parent_for_order(session, parent_id, service)
        fields = dict(_key(account, "Fields") or {})
        problem = _field_problem(service, fields, partial=False) or self._tenant_domain_problem(service, fields)
        if problem is not None:
            raise _Fault(problem[1])
        if "Quantity" in fields:
            fields["Quantity"] = int(fields["Quantity"])
        subscription = self.add_subscription(
            parent_account_id=parent_id,
            service_name=service.name,
            fields=fields,
            purchase_order_number=str(_key(account, "PurchaseOrderNumber") or ""),
        )
        subscription.contract_id = str(_key(account, "ContractId") or "")
        if service.tenant and not _truthy(fields.get("ExistingOffice365customer")):
            # A new tenant: its id is the subscription's vendor reference (inference), its domain now taken.
            self.domains.domain_register(
                domain=f"{str(fields['Primarydomainname']).lower()}.onmicrosoft.com",
                tenant_id=subscription.vendor_reference,
                name=self.companies[subscription.company_account_id].name,
            )
        return self._subscription_wire(subscription, with_addons=True)

    def _update_subscription(self, session: _Session, body: Mapping[str, Any]) -> Any:
        wire = _key(body, "subscription")
        if not isinstance(wire, Mapping):
            raise _Fault("The subscription object is required.")
        subscription = self._subscription(session, _int_key(wire, "AccountId"))
        service = self.catalog[subscription.service_name]
        if _key(wire, "ServiceName") != service.name:
            raise _Fault(f"ServiceName does not match account {subscription.account_id}.")
        if subscription.state != "Active":
            raise _Fault(f"Account {subscription.account_id} is terminated and cannot be changed.")
        changes: dict[str, Any] = {}
        for item in _key(wire, "Fields") or []:
            name, value = _key(item, "name"), _key(item, "value")
            if name != "Quantity":
                raise _Fault(f"Field '{name}' cannot be changed on an existing subscription.")
            changes[name] = value
        problem = _field_problem(service, changes, partial=True)
        if problem is not None:
            raise _Fault(problem[1])
        if "Quantity" in changes:
            quantity = int(changes["Quantity"])
            current = int(subscription.fields.get("Quantity", 0))
            if quantity < current and service.nce and not self._inside_cancellation_window(subscription):
                raise _Fault("The quantity can only be decreased within 7 days (168 hours) after purchase or renewal.")
            subscription.fields["Quantity"] = quantity
        action = _key(wire, "AdvancePeriodEndAction")
        if action is not None:
            if action not in ("Renew", "Terminate"):
                raise _Fault("AdvancePeriodEndAction must be Renew or Terminate.")
            subscription.advance_period_end_action = action
            subscription.scheduled_termination = subscription.contract_end if action == "Terminate" else None
        order_number = _key(wire, "PurchaseOrderNumber")
        if order_number is not None:
            subscription.purchase_order_number = str(order_number)
        return _NO_CONTENT

    def _configure_subscription_renew(self, session: _Session, body: Mapping[str, Any]) -> Any:
        subscription = self._subscription(session, _int_key(body, "accountId"))
        service = self.catalog[subscription.service_name]
        if subscription.state != "Active":
            raise _Fault(f"Account {subscription.account_id} is terminated.")
        values = dict(_key(body, "fieldValues") or {})
        for name, value in values.items():
            if name != "BillingType":
                raise _Fault(f"Field '{name}' cannot be configured for renewal.")
            if service.option(value) is None:
                raise _Fault(f"'{value}' is not a valid value for Billing type.")
        subscription.renew_fields.update(values)
        return _NO_CONTENT

    def _terminate_account(self, session: _Session, body: Mapping[str, Any]) -> Any:
        account_id = _int_key(body, "accountId")
        if account_id in self.companies:
            company = self._company(session, account_id)
            if any(self.subscriptions[i].state == "Active" for i in self._subscriptions_by_parent[account_id]):
                raise _Fault(f"Account {account_id} still has active subscriptions.")
            company.state = "Terminated"
            return _NO_CONTENT
        subscription = self._subscription(session, account_id)
        if subscription.state != "Active":
            raise _Fault(f"Account {account_id} is already terminated.")
        service = self.catalog[subscription.service_name]
        if service.nce and not self._inside_cancellation_window(subscription):
            # Outside the window Microsoft only stops the renewal: ALSO schedules the termination.
            subscription.advance_period_end_action = "Terminate"
            subscription.scheduled_termination = subscription.contract_end
            return _NO_CONTENT
        subscription.state = "Terminated"
        subscription.advance_period_end_action = "Terminate"
        subscription.scheduled_termination = None
        for add_on_id in self._subscriptions_by_parent.get(account_id, []):
            self.subscriptions[add_on_id].state = "Terminated"
        return _NO_CONTENT

    def _get_latest_invoices_for_period(self, session: _Session, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The reseller's invoices for a calendar month, one per company, charged from each licence's own
        state (inference: the simulator keeps no history, so the current quantity is invoiced): a monthly
        billing type for the month, pro rata from its billing start when it started that month; a
        prepaid one in full in the month its term starts. A month that has not begun has no invoice."""
        year, month = _int_key(body, "year"), _int_key(body, "month")
        if not year or not month or not 1 <= month <= 12:
            raise _Fault("Year and month are required; month is 1 to 12.")
        return self._month_invoices(session, year, month)

    def _get_latest_invoices(self, session: _Session, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The invoices of the last closed billing interval: the last full month."""
        now = self.now()
        year, month = (now.year - 1, 12) if now.month == 1 else (now.year, now.month - 1)
        return self._month_invoices(session, year, month)

    def _get_preview_invoices(self, session: _Session, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The current, unclosed month as it would be invoiced if nothing changed until its end. ALSO
        generates previews on Friday mornings: before the month's first Friday at 06:00 there is none.
        A preview is not issued, so its charges carry no SAP invoice number."""
        now = self.now()
        first = datetime(now.year, now.month, 1, 6, tzinfo=UTC)
        first_friday = first + timedelta(days=(4 - first.weekday()) % 7)
        if now < first_friday:
            return []
        invoices = self._month_invoices(session, now.year, now.month)
        for invoice in invoices:
            for charge in invoice["Charges"]:
                charge["SAPInvoiceNumber"] = ""
        return invoices

    def _month_invoices(self, session: _Session, year: int, month: int) -> list[dict[str, Any]]:
        start = datetime(year, month, 1, tzinfo=UTC)
        if start > self.now():
            return []
        end = add_months(start, 1)
        by_company: dict[int, list[_Subscription]] = {}
        for subscription in self.subscriptions.values():
            by_company.setdefault(subscription.company_account_id, []).append(subscription)
        invoices = []
        for company_id in self._companies_by_parent.get(session.reseller_account_id, []):
            company = self.companies[company_id]
            charges = []
            for subscription in sorted(by_company.get(company_id, []), key=lambda item: item.account_id):
                self._refresh(subscription)
                charge = self._invoice_charge(subscription, company, start, end)
                if charge is not None:
                    charge["SAPInvoiceLineNumber"] = Decimal(len(charges) + 1)
                    charges.append(charge)
            if charges:
                for charge in charges:
                    charge["SAPInvoiceNumber"] = f"9{year:04d}{month:02d}{company.account_id}"
                invoices.append(
                    {
                        "CompanyName": company.name,
                        "CompanyAccountId": company.account_id,
                        "CompanyVatId": company.vat_id,
                        "BillingInterval": f"{month:02d}/{year:04d}",
                        "Charges": charges,
                    }
                )
        return invoices

    # -- credit limits ---------------------------------------------------------------------------------------

    def _credit_account(self, session: _Session, account_id: int | None) -> int:
        """The reseller itself or one of its companies; anything else is not found."""
        if account_id == session.reseller_account_id:
            return account_id
        return self._company(session, account_id).account_id

    def _month_charges(self, account_id: int) -> Decimal:
        """What the current month has charged so far: purchase costs for the reseller (what ALSO invoices
        it), sales prices for a company (what the reseller invoices it). Inference: ALSO's credit check
        counts the open billing interval; the spec only names `Limit` and `RemainingCreditLimit`."""
        start = self.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = add_months(start, 1)
        if account_id in self.resellers:
            company_ids, key = self._companies_by_parent.get(account_id, []), "Costs"
        else:
            company_ids, key = [account_id], "SalesPrice"
        total = Decimal(0)
        for subscription in self.subscriptions.values():
            if subscription.company_account_id not in company_ids:
                continue
            charge = self._invoice_charge(subscription, self.companies[subscription.company_account_id], start, end)
            if charge is not None:
                total += charge[key]
        return total

    def _credit_limit_wire(self, account_id: int) -> dict[str, Any]:
        record = self.credit_limits.get(account_id)
        if record is None or record.limit is None:
            return {
                "Comment": record.comment if record else "",
                "Currency": "EUR",
                "Date": _format_date(record.set_at) if record else None,
                "Limit": None,
                "RemainingCreditLimit": None,
                "HasCreditLimit": False,
                "CreatedByAccountId": record.created_by if record else None,
                "IsLocked": False,
            }
        return {
            "Comment": record.comment,
            "Currency": "EUR",
            "Date": _format_date(record.set_at),
            "Limit": record.limit,
            "RemainingCreditLimit": record.limit - self._month_charges(account_id),
            "HasCreditLimit": True,
            "CreatedByAccountId": record.created_by,
            "IsLocked": record.locked,
        }

    def _get_credit_limit(self, session: _Session, body: Mapping[str, Any]) -> dict[str, Any]:
        account_id = self._credit_account(session, _int_key(body, "accountId"))
        return self._credit_limit_wire(account_id)

    def _set_credit_limit(self, session: _Session, body: Mapping[str, Any]) -> Any:
        """A reseller limits its companies; its own limit is ALSO's to set. An empty limit removes it."""
        account_id = _int_key(body, "accountId")
        if account_id == session.reseller_account_id:
            raise _Fault(f"The credit limit of account {account_id} can only be changed by its parent.")
        company = self._company(session, account_id)
        comment = str(_key(body, "comment") or "").strip()
        if not comment:
            raise _Fault("The parameter 'comment' is required.")
        raw = _key(body, "limit")
        limit: Decimal | None = None
        if raw not in (None, ""):
            try:
                limit = Decimal(str(raw))
            except ArithmeticError:
                raise _Fault("The parameter 'limit' must be a number.") from None
            if not limit.is_finite() or limit < 0:
                raise _Fault("The parameter 'limit' must be zero or more.")
        user = self.users.get(session.username.lower())
        self.credit_limits[company.account_id] = _CreditLimit(
            limit=limit, comment=comment, set_at=self.now(), created_by=user.account_id if user else 0
        )
        return _NO_CONTENT

    # -- users and services ----------------------------------------------------------------------------------

    def _user_wire(self, user: _User) -> dict[str, Any]:
        return {
            "AccountId": user.account_id,
            "AccountState": user.state,
            "Email": user.username,
            "FirstName": user.first_name,
            "LastName": user.last_name,
            "ParentAccountId": user.parent_account_id,
            "Username": user.username,
            "LastLogon": _format_date(user.last_logon),
        }

    def _get_users(self, session: _Session, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        account_id = self._credit_account(session, _int_key(body, "companyAccountId"))
        users = [user for user in self.users.values() if user.parent_account_id == account_id]
        return [self._user_wire(user) for user in sorted(users, key=lambda user: user.account_id)]

    def _get_user(self, session: _Session, body: Mapping[str, Any]) -> dict[str, Any]:
        """Without an account id, the session's own user (as the spec says)."""
        account_id = _int_key(body, "accountId", required=False)
        if account_id is None:
            return self._user_wire(self.users[session.username.lower()])
        for user in self.users.values():
            if user.account_id == account_id and (
                user.parent_account_id == session.reseller_account_id
                or self.companies.get(user.parent_account_id, None) is not None
                and self.companies[user.parent_account_id].parent_account_id == session.reseller_account_id
            ):
                return self._user_wire(user)
        raise _Fault(f"Account {account_id} was not found.")

    def _get_service_information(self, session: _Session, body: Mapping[str, Any]) -> dict[str, Any]:
        name = _key(body, "serviceName")
        if not name:
            raise _Fault("The parameter 'serviceName' is required.")
        service = self._service_for(name)
        return {
            "DisplayName": service.display_name,
            "Description": f"{service.display_name} from Microsoft, billed through ALSO.",
            "TermsConditions": (
                "The Microsoft Customer Agreement applies. New commerce subscriptions can be cancelled or reduced "
                "only within 7 days (168 hours) of purchase or renewal."
                if service.nce
                else "The Microsoft Customer Agreement applies."
            ),
        }

    def _invoice_charge(
        self, subscription: _Subscription, company: _Company, start: datetime, end: datetime
    ) -> dict[str, Any] | None:
        service = self.catalog[subscription.service_name]
        option = service.option(subscription.fields.get("BillingType"))
        if option is None or "Quantity" not in subscription.fields or subscription.state != "Active":
            return None
        if subscription.billing_start >= end:
            return None
        quantity = int(subscription.fields.get("Quantity") or 0)
        if option.advance_months <= 1:
            charged_from = max(start, subscription.billing_start.replace(hour=0, minute=0, second=0, microsecond=0))
            charged_until = end
            fraction = Decimal((charged_until - charged_from).days) / Decimal((end - start).days)
        else:
            term_start = subscription.billing_start
            months = (start.year - term_start.year) * 12 + start.month - term_start.month
            if months < 0 or months % option.advance_months:
                return None
            charged_from = add_months(term_start, months).replace(hour=0, minute=0, second=0, microsecond=0)
            charged_until = add_months(charged_from, option.advance_months)
            fraction = Decimal(1)
        cent = Decimal("0.01")
        costs = (option.purchase_price * quantity * fraction).quantize(cent)
        sales = (option.sales_price * quantity * fraction).quantize(cent)
        return {
            "AccountId": subscription.account_id,
            "ServiceId": service.name,
            "ServiceName": service.display_name,
            "VendorName": "Microsoft",
            "PriceableItemId": option.priceable_item_id,
            "PriceableItemType": "UDRC",
            "PriceableItemDescription": (
                f"{service.display_name} with Billing Type {option.value} per unit of Quantity"
            ),
            "MaterialNumber": option.material_number,
            "ProductNumber": service.sku,
            "BillableParameter": f"Billing Type={option.value} Quantity={quantity}",
            "ContractId": subscription.contract_id,
            "PurchaseOrderNumber": subscription.purchase_order_number,
            "VendorReference": subscription.vendor_reference,
            "BillingStartDate": _format_date(subscription.billing_start),
            "ActualChargeInterval": f"{charged_from:%d.%m.%Y} - {charged_until:%d.%m.%Y}",
            "UDRCValue": Decimal(quantity),
            "CostsOfUnit": option.purchase_price,
            "Costs": costs,
            "SalesPriceOfUnit": option.sales_price,
            "SalesPrice": sales,
            "Currency": "EUR",
            "EndCustomerName": company.name,
        }

    def _inside_cancellation_window(self, subscription: _Subscription) -> bool:
        return self.now() < subscription.billing_start + CANCELLATION_WINDOW

    def _tenant_subscription_of(self, company_account_id: int) -> int | None:
        for account_id in self._subscriptions_by_parent.get(company_account_id, []):
            if self.subscriptions[account_id].service_name == TENANT_SERVICE:
                return account_id
        return None


#: The demo reseller user's credentials and region (the convention every marketplace simulator follows).
DEMO_CONNECTION = ProviderConnection(region="de", username=DEMO_USERNAME, secret=DEMO_PASSWORD)


def create_simulator() -> AlsoSimulator:
    """A simulator seeded with the demo data."""
    return AlsoSimulator()


# ------------------------------------------------------------------------------------------------
# Wire helpers
# ------------------------------------------------------------------------------------------------

_NO_CONTENT = object()
_FIELD_DISPLAY_NAMES = {
    "Quantity": "Quantity",
    "BillingType": "Billing type",
    "Primarydomainname": "Primary domain name",
    "ExistingOffice365customer": "Existing Office 365 customer",
    "PrimaryContactEmailAddress": "Primary contact e-mail address",
    "Primarycontactfirstname": "Primary contact first name",
    "Primarycontactlastname": "Primary contact last name",
}


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def _display_name(name: str) -> str:
    return _FIELD_DISPLAY_NAMES.get(name, name)


def _field_definitions(service: _Service) -> list[dict[str, Any]]:
    def definition(name: str, *, display_type: str, template: str, value_type: str, **extra: Any) -> dict[str, Any]:
        return {
            "Name": name,
            "DisplayName": _display_name(name),
            "DisplayTemplate": template,
            "DisplayType": display_type,
            "Type": value_type,
            "EnumMembers": extra.get("enum", []),
            "DefaultValue": {"Value": extra.get("default")},
            "Hint": extra.get("hint", ""),
            "IsList": False,
            "IsPartialValidation": False,
            "IsRemoteValidation": False,
            "IsUnique": False,
            "MinValue": extra.get("minimum"),
            "MaxValue": extra.get("maximum"),
            "Validator": extra.get("validator", ""),
            "CustomProperties": {},
        }

    if service.tenant:
        return [
            definition(
                "Primarydomainname",
                display_type="Mandatory",
                template="TextBox",
                value_type="string",
                validator="^[a-zA-Z0-9]+$",
                hint="Your client will use <DomainName>.onmicrosoft.com to sign in. Letters and numbers only.",
            ),
            definition(
                "ExistingOffice365customer",
                display_type="Optional",
                template="CheckBox",
                value_type="bool",
                default=False,
            ),
            definition(
                "PrimaryContactEmailAddress",
                display_type="Mandatory",
                template="TextBox",
                value_type="string",
                validator=r"[-0-9a-zA-Z.+_]+@[-0-9a-zA-Z.+_]+\.[a-zA-Z]{2,4}",
            ),
            definition("Primarycontactfirstname", display_type="Mandatory", template="TextBox", value_type="string"),
            definition("Primarycontactlastname", display_type="Mandatory", template="TextBox", value_type="string"),
        ]
    return [
        definition(
            "Quantity",
            display_type="Mandatory",
            template="Numeric",
            value_type="int32",
            default=1,
            minimum=1,
            maximum=service.max_quantity,
        ),
        definition(
            "BillingType",
            display_type="Mandatory",
            template="DropDown",
            value_type="string",
            default=service.billing_options[0].value if service.billing_options else None,
            enum=[{"DisplayName": o.value, "Value": o.value, "Hint": ""} for o in service.billing_options],
        ),
    ]


def _field_problem(service: _Service, fields: Mapping[str, Any], *, partial: bool) -> tuple[str, str] | None:
    """The first invalid field as (field name, reason), or None. Every field is checked against its own
    definition, as GetFieldsForService publishes it: mandatory, `Validator` (a regular expression),
    numeric type and range, true/false, enumerated values. `partial` checks only what is given."""
    for definition in _field_definitions(service):
        name, label = definition["Name"], definition["DisplayName"]
        present = name in fields and str(fields.get(name) if fields.get(name) is not None else "").strip() != ""
        if not present:
            if partial or definition["DisplayType"] != "Mandatory":
                continue
            if definition["DefaultValue"]["Value"] is not None or definition["EnumMembers"]:
                # Quantity and billing type: a missing value is as invalid as a wrong one.
                return _value_problem(definition, fields.get(name))
            return name, f"The field '{label}' is mandatory."
        problem = _value_problem(definition, fields.get(name))
        if problem is not None:
            return problem
    return None


def _value_problem(definition: Mapping[str, Any], raw: Any) -> tuple[str, str] | None:
    name, label = definition["Name"], definition["DisplayName"]
    if definition["Type"] == "int32":
        try:
            number = int(str(raw))
        except ValueError:
            return name, f"The field '{label}' must be a whole number, got {raw!r}."
        if isinstance(raw, bool) or (str(number) != str(raw).strip() and not isinstance(raw, int)):
            return name, f"The field '{label}' must be a whole number, got {raw!r}."
        minimum, maximum = definition["MinValue"], definition["MaxValue"]
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            return name, f"The field '{label}' must be between {minimum} and {maximum}."
        return None
    if definition["Type"] == "bool":
        if isinstance(raw, bool) or str(raw).lower() in ("true", "false"):
            return None
        return name, f"The field '{label}' must be true or false, got {raw!r}."
    if definition["EnumMembers"]:
        if raw not in [member["Value"] for member in definition["EnumMembers"]]:
            return name, f"'{raw}' is not a valid value for {label}."
        return None
    validator = definition["Validator"]
    # Validators are applied as written: anchored ones (^...$) test the whole value, others search in it.
    if validator and re.search(validator, str(raw)) is None:
        if name == "Primarydomainname":
            return name, "Only letters and numbers are allowed. No hyphens, periods or underscores."
        return name, f"'{raw}' is not a valid value for the field '{label}'."
    return None


def _charge(service: _Service, option: _BillingOption) -> dict[str, Any]:
    # PrepaidPeriodInMonths / CommitementPeriodInMonths are documented on SubscriptionPriceableItem;
    # serving them on the price list too is an inference that lets the console know each offer's term.
    return {
        "PriceableItemId": option.priceable_item_id,
        "PriceableItem": f"{service.display_name} with Billing Type {option.value} per unit of Quantity",
        "PriceableItemType": "UDRC",
        "ChargeType": "Recurring",
        "Currency": "EUR",
        "PurchasePrice": option.purchase_price,
        "SuggestedRetailPrice": option.suggested_retail_price,
        "CustomPrice": option.sales_price,
        "PreviousCustomPrice": option.sales_price,
        "MaterialNumber": option.material_number,
        "ProductNumber": service.sku,
        "PrepaidPeriodInMonths": option.advance_months,
        "CommitementPeriodInMonths": option.commitment_months,
    }


def _priceable_item(service: _Service, option: _BillingOption) -> dict[str, Any]:
    return {
        "ChargeType": "Recurring",
        "Currency": "EUR",
        "FieldName": "Quantity",
        "IsUDRCField": True,
        "PriceableItemDescription": f"{service.display_name} with Billing Type {option.value} per unit of Quantity",
        "PriceableItemType": "UDRC",
        "PurchasePrice": option.purchase_price,
        "SalesPrice": option.sales_price,
        "SuggestedRetailPrice": option.suggested_retail_price,
        "MaterialNumber": option.material_number,
        "ProductNumber": service.sku,
        "PrepaidPeriodInMonths": option.advance_months,
        "CommitementPeriodInMonths": option.commitment_months,
        "PriceableItemId": option.priceable_item_id,
    }


def _key(body: Mapping[str, Any], name: str) -> Any:
    """Look a request key up case-insensitively: public clients send both camelCase and PascalCase."""
    if name in body:
        return body[name]
    lowered = name.lower()
    for key, value in body.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return None


def _int_key(body: Mapping[str, Any], name: str, *, required: bool = True) -> int | None:
    value = _key(body, name)
    if value is None or value == "":
        if required:
            raise _Fault(f"The parameter '{name}' is required.")
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _Fault(f"The parameter '{name}' must be an integer.") from None


def _token_from(environ: Mapping[str, Any]) -> str | None:
    header = str(environ.get("HTTP_AUTHENTICATE") or "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme == "CCPSessionId" and token.strip() else None


def _fault_xml(fault: _Fault) -> bytes:
    message = escape(fault.message)
    return (
        f'<Fault xmlns="{FAULT_NAMESPACE}"><Code><Value>{fault.code}</Value></Code>'
        f'<Reason><Text xml:lang="en-US">{message}</Text></Reason>'
        f'<Detail><ServiceException xmlns="{SERVICE_EXCEPTION_NAMESPACE}" '
        f'xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
        f"<IsSessionExpired>{'true' if fault.session_expired else 'false'}</IsSessionExpired>"
        f"<IssueToken>{secrets.randbelow(900000) + 100000}</IssueToken>"
        f"<Message>{message}</Message></ServiceException></Detail></Fault>"
    ).encode()


def _html(text: str) -> bytes:
    return f"<html><body><p>{escape(text)}</p></body></html>".encode()


def _format_date(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime(_DATE_FORMAT) if moment else None


# ------------------------------------------------------------------------------------------------
# Real server
# ------------------------------------------------------------------------------------------------


def make_simulator_server(*, simulator: AlsoSimulator, host: str = "127.0.0.1", port: int = 8201) -> WSGIServer:
    """A threaded stdlib HTTP server around a simulator; `port=0` picks a free port."""
    return threaded_wsgi_server(simulator, host=host, port=port)


def main(argv: list[str] | None = None) -> None:
    parser = simulator_arguments(description="Serve the ALSO SimpleAPI simulator over HTTP.", port=8201)
    parser.add_argument("--bulk-companies", type=int, default=0)
    parser.add_argument("--bulk-subscriptions-per-company", type=int, default=10)
    arguments = parser.parse_args(argv)
    simulator = AlsoSimulator(seed=not arguments.no_seed, domains=domain_registry_from(arguments.identity_url))
    if arguments.bulk_companies:
        simulator.seed_bulk(
            companies=arguments.bulk_companies, subscriptions_per_company=arguments.bulk_subscriptions_per_company
        )
    server = make_simulator_server(simulator=simulator, host=arguments.host, port=arguments.port)
    url = f"http://{arguments.host}:{server.server_port}"
    print(f"ALSO SimpleAPI simulator on {url} (e.g. {url}/de{API_PATH}/GetSessionToken)", flush=True)
    print(f"demo user {DEMO_USERNAME} / {DEMO_PASSWORD}; control endpoints under {url}/_control/", flush=True)
    serve_until_interrupted(server)


if __name__ == "__main__":
    main()
