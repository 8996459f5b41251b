"""A WSGI simulator of Microsoft Partner Center (REST v1) and its price sheet.

It answers as Partner Center does, as far as that is publicly documented:
- Tokens come from the one Microsoft identity authority, the identity simulator
  (`simulators/identity.py`): it knows the partner's tenant, the Partner Center app and the
  admin's refresh token, and signs RS256 JWTs; this API accepts a token only when the authority's
  published key verifies it, its `aud` is the Partner Center API, its `tid` the partner's tenant and
  it has not expired. `POST /{tenant}/oauth2/v2.0/token` reaching this server (every host name
  does) is handed to the authority, so a client pointed at one URL still signs in at Entra's.
- `/v1/...` JSON with camelCase keys, `attributes.objectType`, `links {uri, method, headers[]}`,
  collections `{totalCount, items, links}`; customers page with a `next` link carrying the
  `MS-ContinuationToken` header (`?size=N&seekOperation=Next`).
- Catalog products -> SKUs -> availabilities (`catalogItemId = product:sku:availability`, terms with
  duration and billing cycle); availability ids rotate (`/_control/rotate_availabilities`), so a
  client must re-read them before ordering.
- The NCE price sheet `GET /v1.0/sales/pricesheets(Market='DE',PricesheetView='updatedlicensebased')/$value`
  (the host is `api.partner.microsoft.com` in reality) as CSV; it needs an App+User token.
- Carts -> checkout -> `CartCheckoutResult {orders, orderErrors}`; an order is `pending` and its new
  subscriptions `pending` until provisioning finishes (after `provisioning_delay` of simulated time
  or on the `reads_to_provision`-th read of the subscription, whichever comes first).
- PATCH of the whole subscription (`quantity`, `status`, `autoRenewEnabled`, `billingCycle`,
  `friendlyName`, `scheduledNextTermInstructions`), 200 with the subscription or, when the
  `accepted` injection is armed, 202 with a `Location` to poll; `If-Match` against
  `attributes.etag` (412, code 2055, on a mismatch).
- NCE rules: cancellation (`status: deleted`) only until `cancellationAllowedUntilDate` (7 days after
  purchase or renewal) and seat decreases only within the `refundableQuantity` buckets (every
  increase opens its own 7-day bucket); both fail with 800090 outside them. Suspend/reactivate,
  auto-renew, and `scheduledNextTermInstructions` applied at the renewal.
- `MS-RequestId`: a write re-sent with the same id (same method and path) gets the stored original
  answer, business failures included, and changes nothing; a duplicate that arrives while the
  original is still running waits for it. Ids and `MS-CorrelationId` are echoed.
- Errors: the JSON envelope `{code, description, errorName, data, source}`; 429 with `Retry-After`
  and `{statusCode, message}`; 401 with an empty body and `WWW-Authenticate` for bad or expired tokens.

Inferences (no public source says): the replay window (a day); the 202
`Location` pointing at `.../subscriptions/{id}/operations/{operationId}`; a cart line's
`parentSubscriptionId` naming the base subscription of an NCE add-on; the SKU's
`dynamicAttributes.isAddon / prerequisiteSkus`; one order group per cart line; numeric codes for
errors no source names a code for (the HTTP status is used).

Each instance owns its state, so tests run isolated simulators in-process through
`httpx.WSGITransport(app=simulator)`; `python -m simulators.partner_center
--port 8202` serves one over real sockets (every host name reaches it: point the API, price sheet
and login base URLs at it).

Control endpoints (JSON bodies, for tests and demos):
    POST /_control/reset                  {"seed": true}
    POST /_control/seed                   {"kind": "demo"} | {"kind": "bulk", "customers": 2000,
                                           "subscriptions_per_customer": 10}
    POST /_control/inject                 {"kind": "throttle"|"unavailable"|"fault"|"latency"|"token_expiry"|
                                           "etag_conflict"|"accepted"|"order_error", "operation": "Checkout",
                                           "count": 1, "retry_after": 3, "status": 503, "seconds": 0.5,
                                           "code": 800002, "message": "...", "apply_first": false,
                                           "target": "CFQ7TTC0LH18:0001", "polls": 2}
    POST /_control/clear                  {}
    POST /_control/expire_tokens          {}  -> every access token issued so far is refused (401)
    POST /_control/revoke_refresh_tokens  {}  -> the authority revokes them: App+User sign-ins fail (invalid_grant)
    POST /_control/rotate_availabilities  {}  -> every availability id changes
    POST /_control/advance_clock          {"seconds": 691200}
    GET  /_control/state
"""

from __future__ import annotations

import base64
import copy
import csv
import hashlib
import io
import json
import os
import re
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote
from wsgiref.simple_server import WSGIServer

import httpx
import jwt

from marketplace.providers.base import ProviderConnection
from simulators.harness import (
    ControlAction,
    Injection,
    MarketplaceSimulator,
    SimulatedRequest,
    add_months,
    json_bytes,
    read_body,
    respond,
    simulator_arguments,
)
from simulators.identity import (
    PARTNER_CENTER_APP_ID,
    PARTNER_CENTER_APP_SECRET,
    PARTNER_DOMAIN,
    PARTNER_REFRESH_TOKEN,
    PARTNER_TENANT_ID,
    MicrosoftSimulator,
)
from simulators.pdf import minimal_pdf
from simulators.serving import serve_until_interrupted, threaded_wsgi_server

# ------------------------------------------------------------------------------------------------
# The identity authority
# ------------------------------------------------------------------------------------------------


class TokenAuthority(Protocol):
    """What this simulator needs of the Microsoft identity authority: its token endpoint (WSGI), the
    keys its tokens are signed with, and revoking refresh tokens (a control action)."""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]: ...

    def public_jwks(self) -> dict[str, Any]: ...

    def revoke_refresh_tokens(self, *, client_id: str | None = None) -> int: ...

    def reset(self) -> None: ...

    # Microsoft Online's one namespace of domains (`simulators.harness.DomainRegistry`)
    def domain_registered(self, domain: str) -> bool: ...

    def domain_register(self, *, domain: str, tenant_id: str, name: str) -> None: ...


class RemoteAuthority:
    """The identity simulator running as its own server (development): token and Graph requests are passed
    on to it, its keys are read from its JWKS endpoint."""

    def __init__(self, url: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=url.rstrip("/"), transport=transport, timeout=10.0)
        self._jwks: dict[str, Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {"Content-Type": str(environ.get("CONTENT_TYPE") or "application/x-www-form-urlencoded")}
        if environ.get("HTTP_AUTHORIZATION"):
            headers["Authorization"] = str(environ["HTTP_AUTHORIZATION"])
        path = str(environ.get("PATH_INFO") or "/")
        if environ.get("QUERY_STRING"):
            path += "?" + str(environ["QUERY_STRING"])
        response = self._http.request(str(environ.get("REQUEST_METHOD") or "GET"), path, content=body, headers=headers)
        start_response(
            f"{response.status_code} {response.reason_phrase}",
            [("Content-Type", response.headers.get("content-type", "application/json"))],
        )
        return [response.content]

    def public_jwks(self) -> dict[str, Any]:
        if self._jwks is None:  # the authority's key lives as long as its process
            self._jwks = self._http.get("/common/discovery/v2.0/keys").raise_for_status().json()
        return self._jwks

    def revoke_refresh_tokens(self, *, client_id: str | None = None) -> int:
        answer = self._http.post("/_control/revoke_refresh_tokens", json={"client_id": client_id})
        return int(answer.raise_for_status().json().get("revoked", 0))

    def reset(self) -> None:
        self._jwks = None

    def domain_registered(self, domain: str) -> bool:
        answer = self._http.get("/_control/domains", params={"domain": domain})
        return bool(answer.raise_for_status().json().get("registered"))

    def domain_register(self, *, domain: str, tenant_id: str, name: str) -> None:
        self._http.post("/_control/domains", json={"domain": domain, "tid": tenant_id, "name": name}).raise_for_status()


# ------------------------------------------------------------------------------------------------
# The demo account
# ------------------------------------------------------------------------------------------------

# The partner's tenant, its Partner Center app and the admin's refresh token live in the one Microsoft
# identity authority (the identity simulator), which issues every token this API accepts.
PARTNER_NAME = "Demo CSP Partner GmbH"
DEMO_APPLICATION_ID = PARTNER_CENTER_APP_ID
DEMO_APPLICATION_SECRET = PARTNER_CENTER_APP_SECRET
DEMO_REFRESH_TOKEN = PARTNER_REFRESH_TOKEN
DEMO_USER = f"admin@{PARTNER_DOMAIN}"
DEMO_MARKET = "de"

#: Customer tenants shared with the identity simulator (simulators/identity.py).
CONTOSO_ID = "67a08685-ba70-4922-ae8b-802ff5c44282"
FABRIKAM_ID = "d110a146-8491-4109-9dce-4139f88ec90a"
NORTHWIND_ID = "48ae22e9-4381-4526-95c4-8fb8bcdb2ec7"
ADATUM_ID = "0f6b2d84-3c1e-4a97-b5d8-6e2f9a0c4b13"
TAILSPIN_ID = "c27a9e15-7b3d-4f08-9c6a-1d4e8b2f5a60"

#: What the console stores for the demo account: App+User (the secure application model).
DEMO_CONNECTION = ProviderConnection(
    region=DEMO_MARKET,
    username=DEMO_APPLICATION_ID,
    secret=DEMO_APPLICATION_SECRET,
    options=MappingProxyType({"tenant": PARTNER_TENANT_ID, "refresh_token": DEMO_REFRESH_TOKEN}),
)

RESOURCE = "https://api.partnercenter.microsoft.com"
#: Microsoft NCE: decreases and cancellation only within 7 days (168 hours) of purchase or renewal.
CANCELLATION_WINDOW = timedelta(days=7)
CART_LIFETIME = timedelta(days=7)

# Catalog items (product id : SKU id), real NCE ids.
BUSINESS_BASIC = "CFQ7TTC0LH18:0001"
BUSINESS_STANDARD = "CFQ7TTC0LDPB:0001"
BUSINESS_PREMIUM = "CFQ7TTC0LCHC:0002"
BUSINESS_PREMIUM_TRIAL = "CFQ7TTC0LCHC:0008"
M365_E3 = "CFQ7TTC0LFLX:0001"
M365_E5 = "CFQ7TTC0LFLZ:0002"
TEAMS_PHONE = "CFQ7TTC0J1FV:0001"
COPILOT = "CFQ7TTC0MM8R:0002"

# Error codes (develop/error-codes.md; SDK CartErrorCode.cs).
ETAG_MISMATCH = 2055
INVALID_INPUT = 800002
INVALID_OFFER = 800004
CART_NOT_FOUND = 800008
NOT_ACTIVE = 800012
PENDING_CHANGE = 800014
QUANTITY_NOT_AVAILABLE = 800017
NOT_ELIGIBLE_FOR_QUANTITY = 800027
STATUS_TRANSITION = 800040
QUANTITY_CANNOT_DECREASE = 800090
CATALOG_ITEM_INVALID = 10001
INVENTORY_NOT_AVAILABLE = 10003
LINE_INVALID_INPUT = 10010
MAX_SEATS_EXCEEDED = 10015

_ERROR_NAMES = {
    ETAG_MISMATCH: "InvalidETag",
    INVALID_INPUT: "InvalidInput",
    INVALID_OFFER: "InvalidOffer",
    CART_NOT_FOUND: "CartNotFound",
    NOT_ACTIVE: "SubscriptionNotActive",
    PENDING_CHANGE: "PendingChange",
    QUANTITY_NOT_AVAILABLE: "QuantityNotAvailable",
    NOT_ELIGIBLE_FOR_QUANTITY: "NotEligibleForQuantityChange",
    STATUS_TRANSITION: "InvalidStatusTransition",
    QUANTITY_CANNOT_DECREASE: "SubscriptionQuantityCannotBeDecreased",
    CATALOG_ITEM_INVALID: "CatalogItemIdIsNotValid",
    INVENTORY_NOT_AVAILABLE: "InventoryNotAvailable",
    LINE_INVALID_INPUT: "InvalidInput",
    MAX_SEATS_EXCEEDED: "MaxAllowedSeatsPerSubscriptionExceeded",
}

#: Microsoft's licence part numbers (Graph `skuPartNumber`) of the catalog SKUs.
_SKU_PART_NUMBERS = MappingProxyType(
    {
        BUSINESS_BASIC: "O365_BUSINESS_ESSENTIALS",
        BUSINESS_STANDARD: "O365_BUSINESS_PREMIUM",
        BUSINESS_PREMIUM: "SPB",
        BUSINESS_PREMIUM_TRIAL: "SPB",
        M365_E3: "SPE_E3",
        M365_E5: "SPE_E5",
        TEAMS_PHONE: "MCOEV",
        COPILOT: "Microsoft_365_Copilot",
    }
)

_PARTNER_PRICE_FACTOR = Decimal("0.90")
_CENT = Decimal("0.01")


# ------------------------------------------------------------------------------------------------
# Catalog
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    duration: str
    billing_cycle: str

    @property
    def description(self) -> str:
        length = {"P1M": "One-Month", "P1Y": "One-Year", "P3Y": "Three-Year"}[self.duration]
        billing = "monthly" if self.duration == "P1M" else "monthly/yearly"
        return f"{length} commitment for {billing} billing"


_P1M_MONTHLY = _Term("P1M", "monthly")
_P1Y_MONTHLY = _Term("P1Y", "monthly")
_P1Y_ANNUAL = _Term("P1Y", "annual")
_TRIAL_TERM = _Term("P1M", "none")
_MONTHS = {"P1M": 1, "P1Y": 12, "P3Y": 36}
_BILLING_PLANS = {"monthly": "Monthly", "annual": "Annual", "triennial": "Triennial", "none": "None"}


@dataclass(frozen=True, kw_only=True)
class _Market:
    country: str
    currency: str
    symbol: str
    culture: str


MARKETS: Mapping[str, _Market] = MappingProxyType(
    {
        "DE": _Market(country="DE", currency="EUR", symbol="€", culture="de-DE"),
        "US": _Market(country="US", currency="USD", symbol="$", culture="en-US"),
    }
)


@dataclass(frozen=True, kw_only=True)
class _Sku:
    product_id: str
    sku_id: str
    product_title: str
    title: str
    terms: tuple[_Term, ...]
    monthly_erp: Mapping[str, Decimal]  # currency -> monthly estimated retail price with a P1Y term
    is_trial: bool = False
    is_addon: bool = False
    prerequisites: tuple[str, ...] = ()
    minimum_quantity: int = 1
    maximum_quantity: int = 300

    @property
    def key(self) -> str:
        return f"{self.product_id}:{self.sku_id}"

    def term(self, duration: Any, billing_cycle: Any) -> _Term | None:
        wanted = (str(duration or "").upper(), str(billing_cycle or "").lower())
        return next((t for t in self.terms if (t.duration, t.billing_cycle) == wanted), None)

    def price(self, term: _Term, currency: str) -> tuple[Decimal, Decimal] | None:
        """(partner unit price, estimated retail price) per billing period, or None when not sold."""
        monthly = self.monthly_erp.get(currency)
        if monthly is None or self.is_trial or term not in self.terms:
            return None
        if term.duration == "P1M":
            retail = monthly * Decimal("1.2")
        elif term.billing_cycle == "annual":
            retail = monthly * 12
        else:
            retail = monthly
        retail = retail.quantize(_CENT)
        return (retail * _PARTNER_PRICE_FACTOR).quantize(_CENT), retail


def _build_catalog() -> dict[str, _Sku]:
    base_terms = (_P1M_MONTHLY, _P1Y_MONTHLY, _P1Y_ANNUAL)
    bases = (BUSINESS_BASIC, BUSINESS_STANDARD, BUSINESS_PREMIUM, M365_E3, M365_E5)

    def sku(key: str, product_title: str, title: str, eur: str, usd: str, **extra: Any) -> _Sku:
        product_id, sku_id = key.split(":")
        return _Sku(
            product_id=product_id,
            sku_id=sku_id,
            product_title=product_title,
            title=title,
            terms=extra.pop("terms", base_terms),
            monthly_erp=MappingProxyType({"EUR": Decimal(eur), "USD": Decimal(usd)}),
            **extra,
        )

    skus = [
        sku(BUSINESS_BASIC, "Microsoft 365 Business Basic", "Microsoft 365 Business Basic", "5.60", "6.00"),
        sku(BUSINESS_STANDARD, "Microsoft 365 Business Standard", "Microsoft 365 Business Standard", "11.70", "12.50"),
        sku(BUSINESS_PREMIUM, "Microsoft 365 Business Premium", "Microsoft 365 Business Premium", "20.60", "22.00"),
        sku(
            BUSINESS_PREMIUM_TRIAL,
            "Microsoft 365 Business Premium",
            "Microsoft 365 Business Premium Trial",
            "0",
            "0",
            terms=(_TRIAL_TERM,),
            is_trial=True,
            maximum_quantity=25,
        ),
        sku(M365_E3, "Microsoft 365 E3", "Microsoft 365 E3", "33.70", "36.00"),
        sku(M365_E5, "Microsoft 365 E5", "Microsoft 365 E5", "54.70", "57.00"),
        sku(
            TEAMS_PHONE,
            "Microsoft Teams Phone Standard",
            "Microsoft Teams Phone Standard",
            "9.40",
            "10.00",
            is_addon=True,
            prerequisites=(BUSINESS_BASIC, BUSINESS_STANDARD, BUSINESS_PREMIUM, M365_E3),
        ),
        sku(
            COPILOT,
            "Microsoft 365 Copilot",
            "Microsoft 365 Copilot",
            "28.10",
            "30.00",
            terms=(_P1Y_MONTHLY, _P1Y_ANNUAL),
            is_addon=True,
            prerequisites=(BUSINESS_STANDARD, BUSINESS_PREMIUM, M365_E3, M365_E5),
        ),
    ]
    assert all(prerequisite in bases for item in skus for prerequisite in item.prerequisites)
    return {item.key: item for item in skus}


# ------------------------------------------------------------------------------------------------
# State
# ------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class _Customer:
    id: str
    commerce_id: str
    company_name: str
    domain: str
    email: str
    first_name: str
    last_name: str
    country: str
    city: str
    address_line: str
    postal_code: str
    phone: str
    created_at: datetime
    relationship: str = "reseller"
    subscription_ids: list[str] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)
    #: licences of each SKU assigned to users in the tenant (Microsoft's consumed units)
    assigned: dict[str, int] = field(default_factory=dict)

    @property
    def market(self) -> _Market:
        return MARKETS[self.country]


@dataclass(kw_only=True)
class _Bucket:
    """Seats bought together: refundable (decreasable) until `allowed_until`."""

    quantity: int
    allowed_until: datetime


@dataclass(kw_only=True)
class _Subscription:
    id: str
    customer_id: str
    sku_key: str
    availability_id: str
    friendly_name: str
    quantity: int
    status: str
    auto_renew: bool
    billing_cycle: str
    term_duration: str
    created_at: datetime
    term_start: datetime
    term_end: datetime
    cancellation_allowed_until: datetime | None
    buckets: list[_Bucket]
    order_id: str
    provision_at: datetime
    parent_id: str | None = None
    is_trial: bool = False
    suspension_reasons: list[str] = field(default_factory=list)
    next_term: dict[str, Any] | None = None
    version: int = 1
    reads: int = 0


@dataclass(kw_only=True)
class _Order:
    id: str
    customer_id: str
    currency: str
    billing_cycle: str
    created_at: datetime
    line_items: list[dict[str, Any]]
    status: str = "pending"


@dataclass(kw_only=True)
class _Cart:
    id: str
    customer_id: str
    created_at: datetime
    line_items: list[dict[str, Any]]
    status: str = "active"
    modified_at: datetime | None = None


@dataclass(kw_only=True)
class _Operation:
    id: str
    customer_id: str
    subscription_id: str
    body: dict[str, Any]
    polls_left: int


@dataclass(kw_only=True)
class _Principal:
    app_id: str
    user: str | None


@dataclass(kw_only=True)
class _Stored:
    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]]
    at: datetime


@dataclass(kw_only=True)
class _Injection(Injection):
    code: int = INVALID_INPUT
    message: str = "The service is temporarily unavailable. Please try again later."
    target: str | None = None
    polls: int = 2


_INJECTION_KINDS = frozenset(
    {"throttle", "unavailable", "fault", "latency", "token_expiry", "etag_conflict", "accepted", "order_error"}
)
_RESPONSE_KINDS = frozenset({"throttle", "unavailable", "fault", "token_expiry"})


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        description: str,
        *,
        data: list[Any] | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description
        self.data = data or []
        self.headers = headers or []


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Request(SimulatedRequest):
    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> _Request:
        return cls(
            environ=environ,
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=str(environ.get("PATH_INFO", "/") or "/"),
            query=dict(parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)),
            raw_body=read_body(environ),
        )

    def json(self) -> Any:
        return _decode_json(self.raw_body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.raw_body.decode("utf-8", "replace"), keep_blank_values=True))


def _decode_json(raw_body: bytes) -> Any:
    """Any JSON value (numbers with a fraction as Decimal); 800002 when it is not JSON."""
    if not raw_body.strip():
        return {}
    try:
        return json.loads(raw_body, parse_float=Decimal)
    except ValueError:
        raise _ApiError(400, INVALID_INPUT, "The request body is not valid JSON.") from None


_TOKEN_PATH = re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token/?$", re.IGNORECASE)
_PRICE_SHEET_PATH = re.compile(
    r"^/v1\.0/sales/pricesheets\(Market='(?P<market>[A-Za-z]{2})',PricesheetView='(?P<view>[A-Za-z_]+)'\)/\$value$",
    re.IGNORECASE,
)
_SEGMENT = r"(?P<{}>[^/]+)"
_GRAPH_PREFIX = "/v1.0/tenantrelationships/"


def _route(pattern: str) -> re.Pattern[str]:
    names = re.findall(r"\{(\w+)\}", pattern)
    regex = re.escape(pattern)
    for name in names:
        regex = regex.replace(re.escape("{" + name + "}"), _SEGMENT.format(name))
    return re.compile(f"^{regex}/?$", re.IGNORECASE)


class PartnerCenterSimulator(MarketplaceSimulator[_Injection]):
    """The simulated Partner Center: a WSGI callable that owns all of its state."""

    injection_kinds = _INJECTION_KINDS
    control_errors = (_ApiError,)

    def __init__(
        self,
        *,
        seed: bool = True,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        token_ttl: timedelta = timedelta(hours=1),
        provisioning_delay: timedelta = timedelta(seconds=60),
        reads_to_provision: int = 2,
        replay_window: timedelta = timedelta(days=1),
        page_size_limit: int = 500,
        directory_domains: Callable[[], Iterable[str]] = tuple,
        authority: TokenAuthority | None = None,
    ) -> None:
        super().__init__(clock=clock, sleep=sleep)
        #: Domains registered in Microsoft Online outside this partner's customers (other partners'
        #: customers, the identity simulator's directories): a domain is unique across all of them.
        self.directory_domains = directory_domains
        self.provisioning_delay = provisioning_delay
        self.reads_to_provision = reads_to_provision
        self.replay_window = replay_window
        self.page_size_limit = page_size_limit
        # The one Microsoft identity authority: given (shared with the console's sign-in, or a remote
        # identity simulator), else an in-process one of our own on the same simulated clock.
        self._owns_authority = authority is None
        self._clock_offset = timedelta()  # the authority reads the clock while it seeds itself
        # Its refresh tokens do not expire: this clock jumps months to reach renewals. The identity
        # simulator itself keeps Entra's 90-day lifetime.
        self.authority: TokenAuthority = authority or MicrosoftSimulator(
            clock=lambda: self.now().timestamp(), refresh_token_lifetime=None
        )
        self.catalog = _build_catalog()
        self._routes = self._build_routes()
        self.reset(seed=seed)

    # -- state management ---------------------------------------------------------------------------

    def _clear_state(self) -> None:
        if self._owns_authority:
            self.authority.reset()
        self.customers: dict[str, _Customer] = {}
        self.subscriptions: dict[str, _Subscription] = {}
        self.orders: dict[str, _Order] = {}
        self.carts: dict[str, _Cart] = {}
        self.operations: dict[str, _Operation] = {}
        self._availability_generation = 0
        self._token_floor = 0.0
        self._seen_tokens: set[str] = set()
        self._refused_tokens: set[str] = set()
        self._replays: dict[tuple[str, str, str], _Stored] = {}
        self._in_flight: dict[tuple[str, str, str], threading.Event] = {}

    def expire_tokens(self) -> None:
        """Refuse every access token issued so far, as if they had all expired."""
        with self._lock:
            self._token_floor = float(int(self.now().timestamp()))  # iat has whole seconds
            self._refused_tokens |= self._seen_tokens

    def revoke_refresh_tokens(self) -> None:
        """The authority revokes the Partner Center app's refresh tokens: App+User sign-ins fail."""
        self.authority.revoke_refresh_tokens(client_id=DEMO_APPLICATION_ID)

    def rotate_availabilities(self) -> None:
        """Availability ids are mutable: every catalog item gets a new one."""
        with self._lock:
            self._availability_generation += 1

    def availability_id(self, sku_key: str) -> str:
        digest = hashlib.sha1(f"{sku_key}:{self._availability_generation}".encode()).hexdigest()
        return "CFQ7TTC0" + digest[:4].upper()

    def catalog_item_id(self, sku_key: str) -> str:
        return f"{sku_key}:{self.availability_id(sku_key)}"

    def inject(
        self,
        *,
        kind: str,
        operation: str | None = None,
        count: int = 1,
        status: int | None = None,
        retry_after: float = 3.0,
        seconds: float = 0.0,
        code: int = INVALID_INPUT,
        message: str | None = None,
        apply_first: bool = False,
        target: str | None = None,
        polls: int = 2,
    ) -> None:
        """Make the next `count` matching calls fail, slow down or take the slow path.

        `throttle` (429 + Retry-After), `unavailable` (`status`, default 503), `fault` (`status`
        default 400 with `code` and `message`), `latency` (`seconds`), `token_expiry` (401 as if
        the token had just expired), `etag_conflict` (the subscription changes under the PATCH:
        412), `accepted` (the PATCH answers 202 + Location; done after `polls` polls),
        `order_error` (checkout fails the lines of catalog item `target` with `code`, default 10003).
        With `apply_first` a failure is answered after the call was applied (and stored for replay).
        """
        self._check_injection_kind(kind)
        if kind == "order_error" and code == INVALID_INPUT:
            code = INVENTORY_NOT_AVAILABLE
        if kind == "order_error" and message is None:
            message = "The product is not available in the inventory for this customer."
        injection = _Injection(
            kind=kind,
            operation=operation,
            remaining=count,
            status=status or {"fault": 400, "token_expiry": 401}.get(kind, 503),
            retry_after=retry_after,
            seconds=seconds,
            code=int(code),
            apply_first=apply_first,
            target=target,
            polls=polls,
        )
        self._arm(injection, message=message)

    def state(self) -> dict[str, Any]:
        with self._lock:
            statuses = Counter(subscription.status for subscription in self.subscriptions.values())
            return {
                "customers": len(self.customers),
                "subscriptions": len(self.subscriptions),
                "subscription_statuses": dict(statuses),
                "orders": len(self.orders),
                "carts": len(self.carts),
                "stored_replays": len(self._replays),
                "availability_generation": self._availability_generation,
                "calls": dict(self.call_counts),
                "injections": self._pending_injections(),
            }

    # -- seeding -------------------------------------------------------------------------------------

    def add_customer(
        self,
        *,
        customer_id: str | None = None,
        company_name: str,
        domain: str,
        country: str = "DE",
        city: str = "Berlin",
        address_line: str = "Hauptstrasse 1",
        postal_code: str = "10115",
        email: str | None = None,
        created_at: datetime | None = None,
    ) -> _Customer:
        with self._lock:
            if country not in MARKETS:
                raise ValueError(f"the simulator sells in {sorted(MARKETS)}, not {country}")
            customer = _Customer(
                id=(customer_id or str(uuid.uuid4())).lower(),
                commerce_id=str(uuid.uuid4()),
                company_name=company_name,
                domain=domain.lower(),
                email=email or f"admin@{domain.lower()}",
                first_name="Alex",
                last_name="Admin",
                country=country,
                city=city,
                address_line=address_line,
                postal_code=postal_code,
                phone="+49 30 1234567" if country == "DE" else "+1 206 555 0100",
                created_at=created_at or self.now(),
            )
            self.customers[customer.id] = customer
            return customer

    def add_subscription(
        self,
        *,
        customer_id: str,
        sku_key: str,
        term: _Term,
        quantity: int,
        started_at: datetime | None = None,
        status: str = "active",
        auto_renew: bool | None = None,
        parent_id: str | None = None,
        friendly_name: str | None = None,
        order_id: str | None = None,
    ) -> _Subscription:
        """Create a subscription directly in state (seeding); buying goes through carts and checkout."""
        with self._lock:
            sku = self.catalog[sku_key]
            customer = self.customers[customer_id]
            started = started_at or self.now()
            if order_id is None:
                order = self._new_order(customer, term.billing_cycle, created_at=started)
                order.status = "completed" if status != "pending" else "pending"
                order_id = order.id
            window = None if sku.is_trial else started + CANCELLATION_WINDOW
            subscription = _Subscription(
                id=str(uuid.uuid4()),
                customer_id=customer.id,
                sku_key=sku_key,
                availability_id=self.availability_id(sku_key),
                friendly_name=friendly_name or sku.title,
                quantity=quantity,
                status=status,
                auto_renew=(not sku.is_trial) if auto_renew is None else auto_renew,
                billing_cycle=term.billing_cycle,
                term_duration=term.duration,
                created_at=started,
                term_start=started,
                term_end=add_months(started, _MONTHS[term.duration]),
                cancellation_allowed_until=window,
                buckets=[] if window is None else [_Bucket(quantity=quantity, allowed_until=window)],
                order_id=order_id,
                provision_at=started + self.provisioning_delay,
                parent_id=parent_id,
                is_trial=sku.is_trial,
            )
            if status == "suspended":
                subscription.suspension_reasons = ["PartnerInitiated"]
            self.subscriptions[subscription.id] = subscription
            customer.subscription_ids.append(subscription.id)
            order = self.orders[order_id]
            order.line_items.append(
                self._order_line(subscription, line_number=len(order.line_items), customer=customer)
            )
            self._refresh(subscription)
            return subscription

    def seed_demo(self) -> None:
        """The demo data set: one partner, five customers, subscriptions in every interesting state."""
        with self._lock:
            now = self.now()
            long_ago = now - timedelta(days=900)
            contoso = self.add_customer(
                customer_id=CONTOSO_ID, company_name="Contoso", domain="contoso.onmicrosoft.com", created_at=long_ago
            )
            fabrikam = self.add_customer(
                customer_id=FABRIKAM_ID,
                company_name="Fabrikam",
                domain="fabrikam.onmicrosoft.com",
                city="München",
                postal_code="80331",
                created_at=long_ago,
            )
            northwind = self.add_customer(
                customer_id=NORTHWIND_ID,
                company_name="Northwind Traders",
                domain="northwind.onmicrosoft.com",
                city="Hamburg",
                postal_code="20095",
                created_at=long_ago,
            )
            adatum = self.add_customer(
                customer_id=ADATUM_ID,
                company_name="Adatum Corporation",
                domain="adatum.onmicrosoft.com",
                city="Köln",
                postal_code="50667",
                created_at=long_ago,
            )
            tailspin = self.add_customer(
                customer_id=TAILSPIN_ID,
                company_name="Tailspin Toys",
                domain="tailspintoys.onmicrosoft.com",
                country="US",
                city="Seattle",
                address_line="1 Microsoft Way",
                postal_code="98052",
                created_at=long_ago,
            )

            def days_ago(days: int) -> datetime:
                return now - timedelta(days=days)

            # Contoso: an annual E3 outside its window with a Teams Phone add-on; a new Business Basic inside it.
            e3 = self.add_subscription(
                customer_id=contoso.id, sku_key=M365_E3, term=_P1Y_ANNUAL, quantity=25, started_at=days_ago(200)
            )
            self.add_subscription(
                customer_id=contoso.id,
                sku_key=TEAMS_PHONE,
                term=_P1Y_MONTHLY,
                quantity=10,
                started_at=days_ago(25),
                parent_id=e3.id,
            )
            self.add_subscription(
                customer_id=contoso.id, sku_key=BUSINESS_BASIC, term=_P1M_MONTHLY, quantity=10, started_at=days_ago(3)
            )
            # Fabrikam: Business Premium with a Copilot add-on bought two days ago; a trial.
            premium = self.add_subscription(
                customer_id=fabrikam.id,
                sku_key=BUSINESS_PREMIUM,
                term=_P1Y_MONTHLY,
                quantity=40,
                started_at=days_ago(90),
            )
            self.add_subscription(
                customer_id=fabrikam.id,
                sku_key=COPILOT,
                term=_P1Y_ANNUAL,
                quantity=5,
                started_at=days_ago(2),
                parent_id=premium.id,
            )
            self.add_subscription(
                customer_id=fabrikam.id,
                sku_key=BUSINESS_PREMIUM_TRIAL,
                term=_TRIAL_TERM,
                quantity=25,
                started_at=days_ago(10),
            )
            # Northwind: Business Standard not renewing (ends with its term); a suspended E5.
            self.add_subscription(
                customer_id=northwind.id,
                sku_key=BUSINESS_STANDARD,
                term=_P1Y_ANNUAL,
                quantity=15,
                started_at=days_ago(300),
                auto_renew=False,
            )
            self.add_subscription(
                customer_id=northwind.id,
                sku_key=M365_E5,
                term=_P1M_MONTHLY,
                quantity=5,
                started_at=days_ago(45),
                status="suspended",
            )
            # Adatum: Business Basic inside its window, with next-term instructions; an E3 cancelled long ago.
            basic = self.add_subscription(
                customer_id=adatum.id, sku_key=BUSINESS_BASIC, term=_P1Y_MONTHLY, quantity=50, started_at=days_ago(5)
            )
            basic.next_term = self._next_term_wire(BUSINESS_BASIC, _P1Y_ANNUAL, quantity=40)
            self.add_subscription(
                customer_id=adatum.id,
                sku_key=M365_E3,
                term=_P1Y_MONTHLY,
                quantity=20,
                started_at=days_ago(150),
                status="deleted",
                auto_renew=False,
            )
            # Tailspin Toys buys in the US market, in USD.
            self.add_subscription(
                customer_id=tailspin.id,
                sku_key=BUSINESS_STANDARD,
                term=_P1Y_MONTHLY,
                quantity=20,
                started_at=days_ago(60),
            )
            # Licences given to users in each tenant (consumed units): some fully used, some with seats spare.
            for customer, sku_key, assigned in (
                (contoso, M365_E3, 23),
                (contoso, TEAMS_PHONE, 10),
                (contoso, BUSINESS_BASIC, 4),
                (fabrikam, BUSINESS_PREMIUM, 40),
                (fabrikam, COPILOT, 3),
                (northwind, BUSINESS_STANDARD, 12),
                (adatum, BUSINESS_BASIC, 31),
                (tailspin, BUSINESS_STANDARD, 20),
            ):
                customer.assigned[sku_key] = assigned

    def seed_bulk(self, *, customers: int, subscriptions_per_customer: int) -> None:
        """Many customers with many active subscriptions, for load tests and benchmarks."""
        with self._lock:
            now = self.now()
            sellable = [
                (sku.key, term)
                for sku in self.catalog.values()
                if not sku.is_addon and not sku.is_trial
                for term in sku.terms
            ]
            offset = len(self.customers)
            for index in range(customers):
                number = offset + index + 1
                customer = self.add_customer(
                    customer_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"pcsim-bulk-{number}")),
                    company_name=f"Bulk Customer {number:05d}",
                    domain=f"bulk{number:05d}.onmicrosoft.com",
                    created_at=now - timedelta(days=400),
                )
                for line in range(subscriptions_per_customer):
                    sku_key, term = sellable[(index + line) % len(sellable)]
                    self.add_subscription(
                        customer_id=customer.id,
                        sku_key=sku_key,
                        term=term,
                        quantity=(index * 7 + line) % 50 + 1,
                        started_at=now - timedelta(days=(index + line * 13) % 330 + 8),
                    )

    # -- WSGI ------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = _Request.from_environ(environ)
        try:
            response = self._dispatch(request)
        except _ApiError as error:
            response = _error_response(error)
        return respond(start_response, response.status, response.body, response.content_type, response.headers)

    def _dispatch(self, request: _Request) -> _Response:
        path = request.path
        if path.startswith("/_control/"):
            return _json_response(
                *self._control_answer(path.removeprefix("/_control/"), request.method, request.raw_body)
            )
        token_match = _TOKEN_PATH.match(path)
        if token_match:
            if request.method != "POST":
                raise _ApiError(405, 405, "The token endpoint only accepts POST.")
            return self._token_endpoint(request, token_match.group("tenant"))
        if path.lower().startswith(_GRAPH_PREFIX):
            return self._forward(request)  # graph.microsoft.com is the identity authority's too
        price_match = _PRICE_SHEET_PATH.match(unquote(path))
        if price_match:
            if request.method != "GET":
                raise _ApiError(405, 405, "The price sheet only accepts GET.")
            return self._api(request, "GetPriceSheet", self._price_sheet, price_match.groupdict())
        if not path.lower().startswith("/v1/"):
            raise _ApiError(404, 404, f"No resource matches {path}.")
        relative = path[len("/v1/") :]
        allowed: list[str] = []
        for method, pattern, operation, handler in self._routes:
            match = pattern.match(relative)
            if match is None:
                continue
            if method != request.method:
                allowed.append(method)
                continue
            return self._api(request, operation, handler, {k: v.lower() for k, v in match.groupdict().items()})
        if allowed:
            raise _ApiError(405, 405, f"{request.method} is not allowed here; use {', '.join(sorted(allowed))}.")
        raise _ApiError(404, 404, f"No resource matches {path}.")

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], str, Callable[..., Any]]]:
        customer = "customers/{customer}"
        subscription = customer + "/subscriptions/{subscription}"
        sku = "products/{product}/skus/{sku}"
        return [
            ("GET", _route("customers"), "GetCustomers", self._list_customers),
            ("POST", _route("customers"), "CreateCustomer", self._create_customer),
            ("GET", _route(customer), "GetCustomer", self._get_customer),
            ("HEAD", _route("domains/{domain}"), "CheckDomainAvailability", self._check_domain),
            ("GET", _route("products"), "GetProducts", self._list_products),
            ("GET", _route("products/{product}"), "GetProduct", self._get_product),
            ("GET", _route("products/{product}/skus"), "GetSkus", self._list_skus),
            ("GET", _route(sku), "GetSku", self._get_sku),
            ("GET", _route(sku + "/availabilities"), "GetAvailabilities", self._list_availabilities),
            ("POST", _route(customer + "/carts"), "CreateCart", self._create_cart),
            ("GET", _route(customer + "/carts/{cart}"), "GetCart", self._get_cart),
            ("PUT", _route(customer + "/carts/{cart}"), "UpdateCart", self._update_cart),
            ("POST", _route(customer + "/carts/{cart}/checkout"), "Checkout", self._checkout),
            ("GET", _route(customer + "/products"), "GetCustomerProducts", self._list_customer_products),
            ("GET", _route(customer + "/products/{product}/skus"), "GetCustomerSkus", self._list_customer_skus),
            (
                "GET",
                _route(customer + "/products/{product}/skus/{sku}/availabilities"),
                "GetCustomerAvailabilities",
                self._list_customer_availabilities,
            ),
            ("POST", _route(customer + "/orders"), "CreateOrder", self._create_order),
            ("GET", _route(customer + "/subscribedskus"), "GetSubscribedSkus", self._list_subscribed_skus),
            (
                "GET",
                _route(subscription + "/provisioningstatus"),
                "GetSubscriptionProvisioningStatus",
                self._subscription_provisioning_status,
            ),
            ("GET", _route(customer + "/orders"), "GetOrders", self._list_orders),
            ("GET", _route(customer + "/orders/{order}"), "GetOrder", self._get_order),
            ("GET", _route(customer + "/subscriptions"), "GetSubscriptions", self._list_subscriptions),
            ("GET", _route(subscription), "GetSubscription", self._get_subscription),
            ("PATCH", _route(subscription), "UpdateSubscription", self._patch_subscription),
            ("GET", _route(subscription + "/addons"), "GetSubscriptionAddOns", self._list_add_ons),
            ("GET", _route(subscription + "/operations/{operation}"), "GetSubscriptionOperation", self._get_operation),
            ("GET", _route("invoices"), "GetInvoices", self._list_invoices),
            ("GET", _route("invoices/{invoice}/lineitems"), "GetInvoiceLineItems", self._list_invoice_line_items),
            ("GET", _route("invoices/{invoice}/documents/statement"), "GetInvoiceStatement", self._invoice_statement),
        ]

    # -- the API pipeline ---------------------------------------------------------------------------

    def _api(self, request: _Request, operation: str, handler: Callable[..., Any], groups: dict[str, str]) -> _Response:
        correlation_id = request.header("MS-CorrelationId") or str(uuid.uuid4())
        explicit_request_id = request.header("MS-RequestId")
        echo = [
            ("MS-RequestId", explicit_request_id or str(uuid.uuid4())),
            ("MS-CorrelationId", correlation_id),
            ("MS-CV", base64.b64encode(secrets.token_bytes(9)).decode() + ".0"),
            ("MS-ServerId", "pcsim-01"),
        ]
        with self._lock:
            self.call_counts[operation] += 1
            delays = self._take_latency(operation)
            injection = self._take_injection(operation, groups)
        if injection is not None and not injection.apply_first:
            for delay in delays:
                self._sleep(delay)
            return _with_headers(self._injected_failure(injection), echo)
        with self._lock:
            try:
                principal = self._authenticate(request)
            except _ApiError as error:
                return _with_headers(_error_response(error), echo)

        key = None
        if explicit_request_id and request.method in ("POST", "PUT", "PATCH", "DELETE"):
            key = (explicit_request_id.lower(), request.method, request.path.lower())
            while True:
                with self._lock:
                    stored = self._stored(key)
                    if stored is not None:
                        replay = _Response(stored.status, stored.body, stored.content_type, list(stored.headers))
                        return _with_headers(replay, echo)
                    event = self._in_flight.get(key)
                    if event is None:
                        self._in_flight[key] = threading.Event()
                        break
                event.wait(timeout=30)
        try:
            for delay in delays:
                self._sleep(delay)
            with self._lock:
                try:
                    result = handler(principal, request, **groups)
                    response = result if isinstance(result, _Response) else _json_response(200, result)
                except _ApiError as error:
                    response = _error_response(error)
                if key is not None and response.status < 500 and response.status not in (401, 429):
                    self._replays[key] = _Stored(
                        status=response.status,
                        body=response.body,
                        content_type=response.content_type,
                        headers=list(response.headers),
                        at=self.now(),
                    )
        finally:
            if key is not None:
                with self._lock:
                    done = self._in_flight.pop(key, None)
                if done is not None:
                    done.set()
        if injection is not None:
            return _with_headers(self._injected_failure(injection), echo)
        return _with_headers(response, echo)

    def _stored(self, key: tuple[str, str, str]) -> _Stored | None:
        stored = self._replays.get(key)
        if stored is not None and stored.at + self.replay_window < self.now():
            del self._replays[key]
            return None
        return stored

    def _take_injection(
        self,
        operation: str,
        groups: Mapping[str, str] = MappingProxyType({}),
        *,
        kinds: frozenset[str] = _RESPONSE_KINDS,
    ) -> _Injection | None:
        """The first failure armed for this call, among `kinds`; an armed etag conflict happens on the way."""
        for injection in self._injections:
            if injection.kind not in kinds and injection.kind != "etag_conflict":
                continue
            if not injection.matches(operation):
                continue
            if injection.kind == "etag_conflict":
                if operation != "UpdateSubscription":
                    continue
                subscription = self.subscriptions.get(groups.get("subscription", ""))
                if subscription is None or (injection.target and injection.target.lower() != subscription.id):
                    continue
                injection.remaining -= 1
                subscription.version += 1  # someone else changed it a moment ago
                continue
            injection.remaining -= 1
            return injection
        return None

    def _consume(self, kind: str, operation: str, target: str | None = None) -> _Injection | None:
        for injection in self._injections:
            if injection.kind == kind and injection.matches(operation):
                if injection.target and target and injection.target.lower() != target.lower():
                    continue
                injection.remaining -= 1
                return injection
        return None

    def _injected_failure(self, injection: _Injection) -> _Response:
        if injection.kind == "throttle":
            seconds = f"{injection.retry_after:g}"
            body = {"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {seconds} seconds."}
            return _json_response(429, body, headers=[("Retry-After", seconds)])
        if injection.kind == "token_expiry":
            return _unauthorized("The access token has expired.")
        if injection.kind == "unavailable":
            return _error_response(_ApiError(injection.status, injection.status, injection.message))
        return _error_response(_ApiError(injection.status, injection.code, injection.message))

    # -- authentication -----------------------------------------------------------------------------------

    def _token_endpoint(self, request: _Request, tenant: str) -> _Response:
        """`login.microsoftonline.com` reaches this server too (every host name does): the request is the
        identity authority's to answer. Throttling and outages can be armed here like for any call."""
        with self._lock:
            self.call_counts["Token"] += 1
            delays = self._take_latency("Token")
            injection = self._take_injection("Token", {}, kinds=frozenset({"throttle", "unavailable"}))
        for delay in delays:
            self._sleep(delay)
        if injection is not None:
            return self._injected_failure(injection)
        return self._forward(request)

    def _forward(self, request: _Request) -> _Response:
        """Let the identity authority answer the request (its body already read here)."""
        environ = dict(request.environ)
        environ["wsgi.input"] = io.BytesIO(request.raw_body)
        environ["CONTENT_LENGTH"] = str(len(request.raw_body))
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answer["status"], answer["headers"] = int(status.split()[0]), headers

        body = b"".join(self.authority(environ, start_response))
        headers = [(name, value) for name, value in answer["headers"] if name.lower() != "content-length"]
        content_type = next((value for name, value in headers if name.lower() == "content-type"), "application/json")
        rest = [(name, value) for name, value in headers if name.lower() != "content-type"]
        return _Response(answer["status"], body, content_type, rest)

    def _authenticate(self, request: _Request) -> _Principal:
        """A bearer token the identity authority signed (RS256, its published keys), for this API (`aud`),
        of the partner's tenant, not expired by this simulator's clock."""
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or token.count(".") != 2:
            raise _unauthorized_error("Authorization header is missing or is not a bearer token.")
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            jwk = next(key for key in self.authority.public_jwks()["keys"] if key.get("kid") == kid)
            # Times are checked against this simulator's clock below, not the machine's.
            claims = jwt.decode(
                token,
                jwt.PyJWK(jwk).key,
                algorithms=["RS256"],
                audience=RESOURCE,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except (jwt.InvalidTokenError, StopIteration, KeyError, ValueError):
            raise _unauthorized_error("The access token is invalid.") from None
        if claims.get("tid") != PARTNER_TENANT_ID:
            raise _unauthorized_error("The access token is invalid.")
        token_id = str(claims.get("uti") or claims.get("jti") or "")
        issued_before_expiry = float(claims.get("iat", 0)) < self._token_floor
        now = self.now().timestamp()
        if float(claims.get("nbf", 0)) > now + 300:  # five minutes of clock skew, as Microsoft allows
            raise _unauthorized_error("The access token is not valid yet.")
        if claims.get("exp", 0) <= now or issued_before_expiry or token_id in self._refused_tokens:
            raise _unauthorized_error("The access token has expired.")
        self._seen_tokens.add(token_id)
        return _Principal(app_id=str(claims.get("appid")), user=claims.get("upn"))

    # -- customers ----------------------------------------------------------------------------------------

    def _customer(self, customer_id: str) -> _Customer:
        customer = self.customers.get(customer_id.lower())
        if customer is None:
            raise _ApiError(404, 404, f"Customer {customer_id} was not found.")
        return customer

    def _list_customers(self, principal: _Principal, request: _Request) -> dict[str, Any]:
        if str(request.query.get("seekOperation", "")).lower() == "next":
            token = request.header("MS-ContinuationToken")
            state = _decode_continuation(token)
            offset, size, filter_text = state["offset"], state["size"], state.get("filter")
        else:
            offset, filter_text = 0, request.query.get("filter")
            try:
                size = int(request.query.get("size", "100"))
            except ValueError:
                raise _ApiError(400, INVALID_INPUT, "size must be a whole number.") from None
        if size < 1:
            raise _ApiError(400, INVALID_INPUT, "size must be at least 1.")
        # No public source states what Partner Center does with a size above its page limit; clients
        # ask for 999 and expect a page, so (assumption) the page is capped at the limit and the
        # `next` link carries on from there, as the seek-based collections always do.
        size = min(size, self.page_size_limit)
        customers = list(self.customers.values())
        if filter_text:
            customers = _filter_customers(customers, filter_text)
        page = customers[offset : offset + size]
        links: dict[str, Any] = {"self": _link(f"/v1/customers?size={size}")}
        collection: dict[str, Any] = {
            "totalCount": len(page),
            "items": [self._customer_wire(customer) for customer in page],
            "links": links,
            "attributes": {"objectType": "Collection"},
        }
        if offset + size < len(customers):
            token = _encode_continuation({"offset": offset + size, "size": size, "filter": filter_text})
            links["next"] = _link(
                f"/v1/customers?size={size}&seekOperation=Next",
                headers=[{"key": "MS-ContinuationToken", "value": token}],
            )
            collection["continuationToken"] = token
        return collection

    def domain_taken(self, domain: str) -> bool:
        """Whether the domain is registered anywhere in Microsoft Online (case-insensitive)."""
        domain = domain.lower()
        if any(existing.domain == domain for existing in self.customers.values()):
            return True
        if any(str(other).lower() == domain for other in self.directory_domains()):
            return True
        return self.authority.domain_registered(domain)

    def _check_domain(self, principal: _Principal, request: _Request, domain: str) -> _Response:
        """Microsoft's answer to "does this domain exist?": 200 when it is registered, 404 when it is free.
        A HEAD answer carries no body."""
        return _Response(200 if self.domain_taken(domain) else 404, b"")

    def _get_customer(self, principal: _Principal, request: _Request, customer: str) -> dict[str, Any]:
        return self._customer_wire(self._customer(customer))

    def _create_customer(self, principal: _Principal, request: _Request) -> _Response:
        body = _object(request.json(), "customer")
        company = _object(_key(body, "companyProfile"), "companyProfile")
        billing = _object(_key(body, "billingProfile"), "billingProfile")
        address = _object(_key(billing, "defaultAddress"), "billingProfile.defaultAddress")
        required = {
            "companyProfile.domain": _key(company, "domain"),
            "billingProfile.email": _key(billing, "email"),
            "billingProfile.companyName": _key(billing, "companyName"),
            "defaultAddress.country": _key(address, "country"),
            "defaultAddress.city": _key(address, "city"),
            "defaultAddress.addressLine1": _key(address, "addressLine1"),
            "defaultAddress.postalCode": _key(address, "postalCode"),
        }
        missing = [name for name, value in required.items() if not str(value or "").strip()]
        if missing:
            raise _ApiError(400, INVALID_INPUT, f"Missing required fields: {', '.join(missing)}.")
        domain = str(required["companyProfile.domain"]).lower()
        prefix, _, suffix = domain.partition(".")
        if suffix != "onmicrosoft.com" or not prefix.isalnum():
            raise _ApiError(
                400, INVALID_INPUT, "The domain must be '<prefix>.onmicrosoft.com' with letters and numbers only."
            )
        if self.domain_taken(domain):
            raise _ApiError(409, 409, f"The domain {domain} is already in use by another tenant.")
        country = str(required["defaultAddress.country"]).upper()
        if country not in MARKETS:
            raise _ApiError(400, INVALID_INPUT, f"Country {country} is not supported by this partner.")
        customer = self.add_customer(
            company_name=str(required["billingProfile.companyName"]),
            domain=domain,
            country=country,
            city=str(required["defaultAddress.city"]),
            address_line=str(required["defaultAddress.addressLine1"]),
            postal_code=str(required["defaultAddress.postalCode"]),
            email=str(required["billingProfile.email"]),
        )
        customer.first_name = str(_key(billing, "firstName") or _key(address, "firstName") or customer.first_name)
        customer.last_name = str(_key(billing, "lastName") or _key(address, "lastName") or customer.last_name)
        self.authority.domain_register(domain=domain, tenant_id=customer.id, name=customer.company_name)
        wire = self._customer_wire(customer)
        wire["userCredentials"] = {"userName": "admin", "password": secrets.token_urlsafe(12)}
        return _json_response(201, wire)

    def _customer_wire(self, customer: _Customer) -> dict[str, Any]:
        uri = f"/v1/customers/{customer.id}"
        market = customer.market
        return {
            "id": customer.id,
            "commerceId": customer.commerce_id,
            "companyProfile": {
                "tenantId": customer.id,
                "domain": customer.domain,
                "companyName": customer.company_name,
                "links": {"self": _link(uri + "/profiles/company")},
                "attributes": {"objectType": "CustomerCompanyProfile"},
            },
            "billingProfile": {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, customer.id + "/billing")),
                "firstName": customer.first_name,
                "lastName": customer.last_name,
                "email": customer.email,
                "culture": market.culture,
                "language": market.culture.split("-")[0],
                "companyName": customer.company_name,
                "defaultAddress": {
                    "country": customer.country,
                    "city": customer.city,
                    "addressLine1": customer.address_line,
                    "postalCode": customer.postal_code,
                    "firstName": customer.first_name,
                    "lastName": customer.last_name,
                    "phoneNumber": customer.phone,
                },
                "links": {"self": _link(uri + "/profiles/billing")},
                "attributes": {"etag": _etag(customer.id, 1), "objectType": "CustomerBillingProfile"},
            },
            "relationshipToPartner": customer.relationship,
            "allowDelegatedAccess": True,
            "userCredentials": None,
            "links": {"self": _link(uri)},
            "attributes": {"objectType": "Customer"},
        }

    # -- catalog ------------------------------------------------------------------------------------------

    def _market(self, request: _Request) -> _Market:
        country = str(request.query.get("country") or "").upper()
        if not country:
            raise _ApiError(400, INVALID_INPUT, "The country query parameter is required.")
        market = MARKETS.get(country)
        if market is None:
            raise _ApiError(400, INVALID_INPUT, f"The catalog is not available in country {country}.")
        return market

    def _skus_of(self, product_id: str) -> list[_Sku]:
        skus = [sku for sku in self.catalog.values() if sku.product_id.lower() == product_id.lower()]
        if not skus:
            raise _ApiError(404, 404, f"Product {product_id} was not found.")
        return skus

    def _sku(self, product_id: str, sku_id: str) -> _Sku:
        sku = next((s for s in self._skus_of(product_id) if s.sku_id.lower() == sku_id.lower()), None)
        if sku is None:
            raise _ApiError(404, 404, f"SKU {sku_id} of product {product_id} was not found.")
        return sku

    def _list_products(self, principal: _Principal, request: _Request) -> dict[str, Any]:
        market = self._market(request)
        target_view = request.query.get("targetView", "OnlineServicesNCE")
        if target_view.lower() != "onlineservicesnce":
            return _collection([], f"/v1/products?country={market.country}&targetView={target_view}")
        products: dict[str, _Sku] = {}
        for sku in self.catalog.values():
            products.setdefault(sku.product_id, sku)
        return _collection(
            [self._product_wire(sku, market) for sku in products.values()],
            f"/v1/products?country={market.country}&targetView={target_view}",
        )

    def _get_product(self, principal: _Principal, request: _Request, product: str) -> dict[str, Any]:
        return self._product_wire(self._skus_of(product)[0], self._market(request))

    def _product_wire(self, sku: _Sku, market: _Market) -> dict[str, Any]:
        uri = f"/v1/products/{sku.product_id}"
        return {
            "id": sku.product_id,
            "title": sku.product_title,
            "description": f"{sku.product_title}, new commerce experience.",
            "productType": {"id": "OnlineServicesNCE", "displayName": "OnlineServicesNCE"},
            "isMicrosoftProduct": True,
            "publisherName": "Microsoft Corporation",
            "links": {
                "skus": _link(f"{uri}/skus?country={market.country}"),
                "self": _link(f"{uri}?country={market.country}"),
            },
            "attributes": {"objectType": "Product"},
        }

    def _list_skus(self, principal: _Principal, request: _Request, product: str) -> dict[str, Any]:
        market = self._market(request)
        skus = self._skus_of(product)
        return _collection([self._sku_wire(sku, market) for sku in skus], f"/v1/products/{skus[0].product_id}/skus")

    def _get_sku(self, principal: _Principal, request: _Request, product: str, sku: str) -> dict[str, Any]:
        return self._sku_wire(self._sku(product, sku), self._market(request))

    def _sku_wire(self, sku: _Sku, market: _Market) -> dict[str, Any]:
        uri = f"/v1/products/{sku.product_id}/skus/{sku.sku_id}"
        return {
            "id": sku.sku_id,
            "productId": sku.product_id,
            "title": sku.title,
            "description": f"{sku.title} ({'trial' if sku.is_trial else 'paid'}).",
            "minimumQuantity": sku.minimum_quantity,
            "maximumQuantity": sku.maximum_quantity,
            "isTrial": sku.is_trial,
            "supportedBillingCycles": sorted({term.billing_cycle for term in sku.terms}),
            "purchasePrerequisites": [],
            "inventoryVariables": [],
            "provisioningVariables": [],
            "actions": [],
            "dynamicAttributes": {
                "isAddon": sku.is_addon,
                "prerequisiteSkus": list(sku.prerequisites),
                "isMicrosoftProduct": True,
                "hasConstraints": False,
            },
            "links": {
                "availabilities": _link(f"{uri}/availabilities?country={market.country}"),
                "self": _link(f"{uri}?country={market.country}"),
            },
            "attributes": {"objectType": "Sku"},
        }

    def _list_availabilities(self, principal: _Principal, request: _Request, product: str, sku: str) -> dict[str, Any]:
        return self._availabilities(self._sku(product, sku), self._market(request))

    def _availabilities(self, item: _Sku, market: _Market) -> dict[str, Any]:
        availability_id = self.availability_id(item.key)
        uri = f"/v1/products/{item.product_id}/skus/{item.sku_id}/availabilities"
        availability = {
            "id": availability_id,
            "productId": item.product_id,
            "skuId": item.sku_id,
            "catalogItemId": f"{item.key}:{availability_id}",
            "defaultCurrency": {"code": market.currency, "symbol": market.symbol},
            "segment": "commercial",
            "country": market.country,
            "isPurchasable": True,
            "isRenewable": not item.is_trial,
            "terms": [
                {
                    "duration": term.duration,
                    "description": term.description,
                    "billingCycle": term.billing_cycle.capitalize(),
                    "cancellationPolicies": [
                        {"refundOptions": [{"sequenceId": 0, "type": "Full", "expiresAfter": "P7D"}]}
                    ],
                }
                for term in item.terms
            ],
            "links": {"self": _link(f"{uri}/{availability_id}?country={market.country}")},
            "attributes": {"objectType": "Availability"},
        }
        return _collection([availability], f"{uri}?country={market.country}")

    # -- the customer-scoped catalog ----------------------------------------------------------------------
    #
    # `GET /v1/customers/{id}/products?targetView=...`, `.../products/{product}/skus` and
    # `.../skus/{sku}/availabilities` (partner-center-sdk develop/get-a-list-of-products-by-customer.md and
    # its siblings): the catalog in the customer's own market, without a `country` parameter. An add-on
    # whose base licence the customer does not hold is listed but not purchasable for it (inference: the
    # customer-scoped views answer what this customer can buy).

    def _list_customer_products(self, principal: _Principal, request: _Request, customer: str) -> dict[str, Any]:
        owner = self._customer(customer)
        target_view = request.query.get("targetView")
        if not target_view:
            raise _ApiError(400, INVALID_INPUT, "The targetView query parameter is required.")
        uri = f"/v1/customers/{owner.id}/products?targetView={target_view}"
        if target_view.lower() != "onlineservicesnce":
            return _collection([], uri)
        products: dict[str, _Sku] = {}
        for sku in self.catalog.values():
            products.setdefault(sku.product_id, sku)
        items = []
        for sku in products.values():
            wire = self._product_wire(sku, owner.market)
            base = f"/v1/customers/{owner.id}/products/{sku.product_id}"
            wire["links"] = {"skus": _link(f"{base}/skus"), "self": _link(base)}
            items.append(wire)
        return _collection(items, uri)

    def _list_customer_skus(
        self, principal: _Principal, request: _Request, customer: str, product: str
    ) -> dict[str, Any]:
        owner = self._customer(customer)
        skus = self._skus_of(product)
        items = []
        for sku in skus:
            wire = self._sku_wire(sku, owner.market)
            base = f"/v1/customers/{owner.id}/products/{sku.product_id}/skus/{sku.sku_id}"
            wire["links"] = {"availabilities": _link(f"{base}/availabilities"), "self": _link(base)}
            items.append(wire)
        return _collection(items, f"/v1/customers/{owner.id}/products/{skus[0].product_id}/skus")

    def _list_customer_availabilities(
        self, principal: _Principal, request: _Request, customer: str, product: str, sku: str
    ) -> dict[str, Any]:
        owner = self._customer(customer)
        item = self._sku(product, sku)
        collection = self._availabilities(item, owner.market)
        base = f"/v1/customers/{owner.id}/products/{item.product_id}/skus/{item.sku_id}/availabilities"
        eligible = not item.is_addon or any(
            self.subscriptions[i].sku_key in item.prerequisites and self.subscriptions[i].status == "active"
            for i in owner.subscription_ids
        )
        for availability in collection["items"]:
            availability["isPurchasable"] = eligible
            availability["links"] = {"self": _link(f"{base}/{availability['id']}")}
        collection["links"] = {"self": _link(base)}
        return collection

    # -- ordering without a cart -------------------------------------------------------------------------

    def _create_order(self, principal: _Principal, request: _Request, customer: str) -> _Response:
        """`POST /v1/customers/{id}/orders` (partner-center-sdk develop/create-an-order.md): an Order whose line
        items name the catalog item as `offerId`; 201 with the order, `pending` until its subscriptions are
        provisioned. A line that cannot be bought refuses the whole order (inference), nothing is created."""
        owner = self._customer(customer)
        body = _object(request.json(), "order")
        reference = _key(body, "referenceCustomerId")
        if reference and str(reference).lower() != owner.id:
            raise _ApiError(400, INVALID_INPUT, "referenceCustomerId does not match the customer in the URI.")
        items = _key(body, "lineItems")
        if not isinstance(items, list) or not items:
            raise _ApiError(400, INVALID_INPUT, "An order needs at least one line item.")
        order_cycle = str(_key(body, "billingCycle") or "").lower()
        lines = []
        for index, raw in enumerate(items):
            item = _object(raw, f"lineItems[{index}]")
            offer_id = str(_key(item, "offerId") or "")
            quantity = _key(item, "quantity")
            if offer_id.count(":") != 2:
                raise _ApiError(400, INVALID_OFFER, f"lineItems[{index}].offerId must be product:sku:availability.")
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
                raise _ApiError(
                    400, INVALID_INPUT, f"lineItems[{index}].quantity must be a whole number of at least 1."
                )
            line: dict[str, Any] = {
                "catalogItemId": offer_id,
                "quantity": quantity,
                "billingCycle": str(_key(item, "billingCycle") or order_cycle or "monthly").lower(),
                "termDuration": str(_key(item, "termDuration") or "P1Y").upper(),
                "friendlyName": str(_key(item, "friendlyName") or ""),
            }
            parent = _key(item, "parentSubscriptionId")
            if parent:
                line["parentSubscriptionId"] = str(parent).lower()
            error = self._line_error(owner, line)
            if error is not None:
                code = INVALID_OFFER if error[0] == CATALOG_ITEM_INVALID else INVALID_INPUT
                raise _ApiError(400, code, f"lineItems[{index}]: {error[1]}")
            lines.append(line)
        terms = []
        for line in lines:
            sku_key = ":".join(line["catalogItemId"].split(":")[:2]).upper()
            term = self.catalog[sku_key].term(line["termDuration"], line["billingCycle"])
            assert term is not None  # _line_error checked it
            terms.append((sku_key, term))
        order = self._new_order(owner, terms[0][1].billing_cycle, created_at=self.now())
        for line, (sku_key, term) in zip(lines, terms, strict=True):
            self.add_subscription(
                customer_id=owner.id,
                sku_key=sku_key,
                term=term,
                quantity=int(line["quantity"]),
                status="pending",
                parent_id=line.get("parentSubscriptionId"),
                friendly_name=line["friendlyName"] or None,
                order_id=order.id,
            )
        return _json_response(201, self._order_wire(order))

    # -- provisioning status and subscribed SKUs -----------------------------------------------------------

    def _subscription_provisioning_status(
        self, principal: _Principal, request: _Request, customer: str, subscription: str
    ) -> dict[str, Any]:
        """`SubscriptionProvisioningStatus {skuId, status, quantity, endDate}` (partner-center-sdk
        develop/get-subscription-provisioning-status.md); status is pending, success or failed."""
        found = self._read(self._subscription(customer, subscription))
        status = {"pending": "pending", "active": "success", "suspended": "success"}.get(found.status, "failed")
        return {
            "skuId": self._graph_sku_id(found.sku_key).upper(),
            "status": status,
            "quantity": found.quantity,
            "endDate": _iso(found.term_end),
            "attributes": {"objectType": "SubscriptionProvisioningStatus"},
        }

    @staticmethod
    def _graph_sku_id(sku_key: str) -> str:
        """The licence's directory SKU id (one GUID per catalog SKU, as Graph's skuId is)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"subscribedsku:{sku_key.upper()}"))

    def assign_licences(self, *, customer_id: str, sku_key: str, assigned: int) -> None:
        """Set how many licences of a SKU the tenant has given to users (tests and demos)."""
        with self._lock:
            self.customers[customer_id.lower()].assigned[sku_key.upper()] = assigned

    def _list_subscribed_skus(self, principal: _Principal, request: _Request, customer: str) -> dict[str, Any]:
        """`GET /v1/customers/{id}/subscribedskus` (partner-center-sdk develop/get-a-list-of-available-licenses.md):
        per SKU the tenant holds, seats active (bought), suspended and consumed (assigned to users)."""
        owner = self._customer(customer)
        totals: dict[str, dict[str, int]] = {}
        for subscription_id in owner.subscription_ids:
            subscription = self._read(self.subscriptions[subscription_id])
            units = totals.setdefault(subscription.sku_key, {"active": 0, "suspended": 0})
            if subscription.status == "active":
                units["active"] += subscription.quantity
            elif subscription.status == "suspended":
                units["suspended"] += subscription.quantity
        items = []
        for sku_key, units in totals.items():
            if not units["active"] and not units["suspended"]:
                continue
            sku = self.catalog[sku_key]
            consumed = min(owner.assigned.get(sku_key, 0), units["active"] + units["suspended"])
            items.append(
                {
                    "availableUnits": max(units["active"] - consumed, 0),
                    "activeUnits": units["active"],
                    "consumedUnits": consumed,
                    "suspendedUnits": units["suspended"],
                    "totalUnits": units["active"],
                    "warningUnits": 0,
                    "productSku": {
                        "id": self._graph_sku_id(sku_key),
                        "name": sku.title,
                        "skuPartNumber": _SKU_PART_NUMBERS.get(sku_key, sku_key.replace(":", "_")),
                        "targetType": "User",
                        "licenseGroupId": "group1",
                    },
                    "servicePlans": [],
                    "capabilityStatus": "Enabled" if units["active"] else "Suspended",
                    "attributes": {"objectType": "SubscribedSku"},
                }
            )
        return _collection(items, f"/v1/customers/{owner.id}/subscribedskus")

    def _price_sheet(self, principal: _Principal, request: _Request, market: str, view: str) -> _Response:
        if principal.user is None:
            raise _ApiError(
                400,
                400,
                "The price sheet supports App+User authentication only; application-only tokens are not supported.",
            )
        found = MARKETS.get(market.upper())
        if found is None:
            raise _ApiError(400, INVALID_INPUT, f"Market {market.upper()} is not supported.")
        if view.lower() != "updatedlicensebased":
            raise _ApiError(400, INVALID_INPUT, f"Price sheet view {view} is not available in this simulator.")
        columns = [
            "ProductTitle",
            "ProductId",
            "SkuId",
            "SkuTitle",
            "Publisher",
            "SkuDescription",
            "UnitOfMeasure",
            "TermDuration",
            "BillingPlan",
            "Market",
            "Currency",
            "UnitPrice",
            "PricingTierRangeMin",
            "PricingTierRangeMax",
            "EffectiveStartDate",
            "EffectiveEndDate",
            "Tags",
            "ERP Price",
            "Segment",
        ]
        month_start = self.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(columns)
        for sku in self.catalog.values():
            for term in sku.terms:
                price = sku.price(term, found.currency)
                if price is None:
                    continue
                unit_price, retail = price
                writer.writerow(
                    [
                        sku.product_title,
                        sku.product_id,
                        sku.sku_id,
                        sku.title,
                        "Microsoft Corporation",
                        sku.title,
                        "1 License",
                        term.duration,
                        _BILLING_PLANS[term.billing_cycle],
                        found.country,
                        found.currency,
                        f"{unit_price}",
                        "",
                        "",
                        _iso(month_start),
                        "9999-12-31T23:59:59Z",
                        "License",
                        f"{retail}",
                        "Commercial",
                    ]
                )
        return _Response(
            200,
            ("\ufeff" + buffer.getvalue()).encode("utf-8"),
            "application/octet-stream",
            [("Content-Disposition", "attachment; filename=pricesheet.csv")],
        )

    # -- carts and checkout ---------------------------------------------------------------------------------

    def _create_cart(self, principal: _Principal, request: _Request, customer: str) -> _Response:
        owner = self._customer(customer)
        body = _object(request.json(), "cart")
        now = self.now()
        cart = _Cart(
            id=str(uuid.uuid4()),
            customer_id=owner.id,
            created_at=now,
            modified_at=now,
            line_items=self._cart_lines(owner, _key(body, "lineItems")),
        )
        self.carts[cart.id] = cart
        return _json_response(201, self._cart_wire(cart))

    def _update_cart(self, principal: _Principal, request: _Request, customer: str, cart: str) -> dict[str, Any]:
        found = self._cart(customer, cart)
        if found.status != "active":
            raise _ApiError(400, INVALID_INPUT, "The cart has already been checked out and cannot be changed.")
        found.line_items = self._cart_lines(
            self._customer(customer), _key(_object(request.json(), "cart"), "lineItems")
        )
        found.modified_at = self.now()
        return self._cart_wire(found)

    def _get_cart(self, principal: _Principal, request: _Request, customer: str, cart: str) -> dict[str, Any]:
        return self._cart_wire(self._cart(customer, cart))

    def _cart(self, customer_id: str, cart_id: str) -> _Cart:
        self._customer(customer_id)
        cart = self.carts.get(cart_id.lower())
        if cart is None or cart.customer_id != customer_id.lower() or cart.created_at + CART_LIFETIME < self.now():
            raise _ApiError(404, CART_NOT_FOUND, f"Cart {cart_id} was not found.")
        return cart

    def _cart_lines(self, customer: _Customer, items: Any) -> list[dict[str, Any]]:
        if not isinstance(items, list) or not items:
            raise _ApiError(400, INVALID_INPUT, "A cart needs at least one line item.")
        lines = []
        for index, raw in enumerate(items):
            item = _object(raw, f"lineItems[{index}]")
            catalog_item_id = str(_key(item, "catalogItemId") or "")
            quantity = _key(item, "quantity")
            if catalog_item_id.count(":") != 2:
                raise _ApiError(
                    400, INVALID_INPUT, f"lineItems[{index}].catalogItemId must be product:sku:availability."
                )
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
                raise _ApiError(
                    400, INVALID_INPUT, f"lineItems[{index}].quantity must be a whole number of at least 1."
                )
            billing_cycle = str(_key(item, "billingCycle") or "").lower()
            term_duration = str(_key(item, "termDuration") or "").upper()
            if not billing_cycle or not term_duration:
                raise _ApiError(400, INVALID_INPUT, f"lineItems[{index}] needs billingCycle and termDuration.")
            line_id = _key(item, "id")
            line: dict[str, Any] = {
                "id": line_id if isinstance(line_id, int) else index,
                "catalogItemId": catalog_item_id,
                "friendlyName": str(_key(item, "friendlyName") or ""),
                "quantity": quantity,
                "currencyCode": customer.market.currency,
                "billingCycle": billing_cycle,
                "termDuration": term_duration,
                "participants": [],
                "provisioningContext": dict(_key(item, "provisioningContext") or {}),
                "orderGroup": str(index),
            }
            parent = _key(item, "parentSubscriptionId")
            if parent:
                line["parentSubscriptionId"] = str(parent).lower()
            error = self._line_error(customer, line)
            if error is not None:
                line["error"] = {"errorCode": error[0], "errorDescription": error[1]}
            lines.append(line)
        return lines

    def _line_error(self, customer: _Customer, line: Mapping[str, Any]) -> tuple[int, str] | None:
        """What is wrong with a cart line at checkout time, as (line error code, description)."""
        product_id, sku_id, availability_id = str(line["catalogItemId"]).split(":")
        sku = self.catalog.get(f"{product_id}:{sku_id}".upper())
        if sku is None or availability_id.upper() != self.availability_id(sku.key):
            return CATALOG_ITEM_INVALID, f"The catalog item id {line['catalogItemId']} is not valid."
        if sku.term(line["termDuration"], line["billingCycle"]) is None:
            return (
                LINE_INVALID_INPUT,
                f"{sku.title} is not sold with a {line['termDuration']} term and {line['billingCycle']} billing.",
            )
        if not sku.minimum_quantity <= int(line["quantity"]) <= sku.maximum_quantity:
            return (
                MAX_SEATS_EXCEEDED,
                f"{sku.title} allows {sku.minimum_quantity} to {sku.maximum_quantity} seats per subscription.",
            )
        parent_id = line.get("parentSubscriptionId")
        if parent_id and not sku.is_addon:
            return LINE_INVALID_INPUT, f"{sku.title} is not an add-on and cannot have a parent subscription."
        if sku.is_addon:
            if parent_id:
                parent = self.subscriptions.get(str(parent_id))
                if parent is None or parent.customer_id != customer.id:
                    return LINE_INVALID_INPUT, f"Parent subscription {parent_id} was not found."
                if parent.status not in ("active", "pending"):
                    return LINE_INVALID_INPUT, f"Parent subscription {parent_id} is {parent.status}."
                if parent.sku_key not in sku.prerequisites:
                    return LINE_INVALID_INPUT, f"{sku.title} cannot be added to {self.catalog[parent.sku_key].title}."
            elif not any(
                self.subscriptions[i].sku_key in sku.prerequisites and self.subscriptions[i].status == "active"
                for i in customer.subscription_ids
            ):
                names = ", ".join(self.catalog[p].title for p in sku.prerequisites)
                return LINE_INVALID_INPUT, f"{sku.title} requires an active subscription to one of: {names}."
        return None

    def _checkout(self, principal: _Principal, request: _Request, customer: str, cart: str) -> _Response:
        owner = self._customer(customer)
        found = self._cart(customer, cart)
        if found.status != "active":
            raise _ApiError(400, INVALID_INPUT, f"Cart {found.id} has already been checked out.")
        orders: list[_Order] = []
        order_errors: list[dict[str, Any]] = []
        for line in found.line_items:
            error = self._line_error(owner, line)
            if error is None:
                sku_key = ":".join(str(line["catalogItemId"]).split(":")[:2]).upper()
                injected = self._consume("order_error", "Checkout", target=sku_key)
                if injected is not None:
                    error = (injected.code, injected.message)
            if error is not None:
                line["error"] = {"errorCode": error[0], "errorDescription": error[1]}
                order_errors.append({"orderGroupId": line["orderGroup"], "code": error[0], "description": error[1]})
                continue
            line.pop("error", None)
            orders.append(self._fulfil(owner, line))
        found.status = "ordered"
        found.modified_at = self.now()
        result = {
            "orders": [self._order_wire(order) for order in orders],
            "orderErrors": order_errors,
            "attributes": {"objectType": "CartCheckoutResult"},
        }
        return _json_response(201, result)

    def _fulfil(self, customer: _Customer, line: Mapping[str, Any]) -> _Order:
        sku_key = ":".join(str(line["catalogItemId"]).split(":")[:2]).upper()
        sku = self.catalog[sku_key]
        term = sku.term(line["termDuration"], line["billingCycle"])
        assert term is not None
        order = self._new_order(customer, term.billing_cycle, created_at=self.now())
        self.add_subscription(
            customer_id=customer.id,
            sku_key=sku_key,
            term=term,
            quantity=int(line["quantity"]),
            status="pending",
            parent_id=line.get("parentSubscriptionId"),
            friendly_name=str(line.get("friendlyName") or "") or None,
            order_id=order.id,
        )
        return order

    def _new_order(self, customer: _Customer, billing_cycle: str, *, created_at: datetime) -> _Order:
        order = _Order(
            id=secrets.token_hex(16),
            customer_id=customer.id,
            currency=customer.market.currency,
            billing_cycle=billing_cycle,
            created_at=created_at,
            line_items=[],
        )
        self.orders[order.id] = order
        customer.order_ids.append(order.id)
        return order

    def _order_line(self, subscription: _Subscription, *, line_number: int, customer: _Customer) -> dict[str, Any]:
        uri = f"/v1/customers/{customer.id}"
        return {
            "lineItemNumber": line_number,
            "offerId": f"{subscription.sku_key}:{subscription.availability_id}",
            "subscriptionId": subscription.id,
            "parentSubscriptionId": subscription.parent_id,
            "termDuration": subscription.term_duration,
            "transactionType": "New",
            "friendlyName": subscription.friendly_name,
            "quantity": subscription.quantity,
            "partnerIdOnRecord": None,
            "provisioningContext": {},
            "links": {
                "subscription": _link(f"{uri}/subscriptions/{subscription.id}"),
                "provisioningStatus": _link(
                    f"{uri}/orders/{subscription.order_id}/lineitems/{line_number}/provisioningstatus"
                ),
            },
        }

    def _cart_wire(self, cart: _Cart) -> dict[str, Any]:
        return {
            "id": cart.id,
            "creationTimestamp": _iso(cart.created_at),
            "lastModifiedTimestamp": _iso(cart.modified_at or cart.created_at),
            "expirationTimestamp": _iso(cart.created_at + CART_LIFETIME),
            "lastModifiedUser": DEMO_USER,
            "status": cart.status,
            "lineItems": copy.deepcopy(cart.line_items),
            "links": {"self": _link(f"/v1/customers/{cart.customer_id}/carts/{cart.id}")},
            "attributes": {"objectType": "Cart"},
        }

    # -- orders ---------------------------------------------------------------------------------------------

    def _list_orders(self, principal: _Principal, request: _Request, customer: str) -> dict[str, Any]:
        owner = self._customer(customer)
        orders = [self.orders[order_id] for order_id in owner.order_ids]
        for order in orders:
            self._refresh_order(order)
        return _collection([self._order_wire(order) for order in orders], f"/v1/customers/{owner.id}/orders")

    def _get_order(self, principal: _Principal, request: _Request, customer: str, order: str) -> dict[str, Any]:
        owner = self._customer(customer)
        found = self.orders.get(order.lower())
        if found is None or found.customer_id != owner.id:
            raise _ApiError(404, 404, f"Order {order} was not found.")
        self._refresh_order(found)
        return self._order_wire(found)

    def _refresh_order(self, order: _Order) -> None:
        for line in order.line_items:
            subscription = self.subscriptions.get(line["subscriptionId"])
            if subscription is not None:
                self._refresh(subscription)

    def _order_wire(self, order: _Order) -> dict[str, Any]:
        uri = f"/v1/customers/{order.customer_id}/orders/{order.id}"
        market = self.customers[order.customer_id].market
        return {
            "id": order.id,
            "alternateId": order.id[:12],
            "referenceCustomerId": order.customer_id,
            "billingCycle": order.billing_cycle,
            "currencyCode": order.currency,
            "currencySymbol": market.symbol,
            "lineItems": copy.deepcopy(order.line_items),
            "creationDate": _iso(order.created_at),
            "status": order.status,
            "transactionType": "UserPurchase",
            "links": {"self": _link(uri), "provisioningStatus": _link(uri + "/provisioningstatus")},
            "attributes": {"objectType": "Order"},
        }

    # -- subscriptions ----------------------------------------------------------------------------------------

    def _subscription(self, customer_id: str, subscription_id: str) -> _Subscription:
        owner = self._customer(customer_id)
        subscription = self.subscriptions.get(subscription_id.lower())
        if subscription is None or subscription.customer_id != owner.id:
            raise _ApiError(404, 404, f"Subscription {subscription_id} was not found.")
        return subscription

    def _read(self, subscription: _Subscription) -> _Subscription:
        subscription.reads += 1
        self._refresh(subscription)
        return subscription

    def _list_subscriptions(self, principal: _Principal, request: _Request, customer: str) -> dict[str, Any]:
        owner = self._customer(customer)
        order_id = str(request.query.get("order_id") or "").lower()
        subscriptions = [self.subscriptions[i] for i in owner.subscription_ids]
        if order_id:
            subscriptions = [s for s in subscriptions if s.order_id == order_id]
        return _collection(
            [self._subscription_wire(self._read(s)) for s in subscriptions], f"/v1/customers/{owner.id}/subscriptions"
        )

    def _get_subscription(
        self, principal: _Principal, request: _Request, customer: str, subscription: str
    ) -> _Response:
        found = self._read(self._subscription(customer, subscription))
        wire = self._subscription_wire(found)
        return _json_response(200, wire, headers=[("ETag", wire["attributes"]["etag"])])

    def _list_add_ons(
        self, principal: _Principal, request: _Request, customer: str, subscription: str
    ) -> dict[str, Any]:
        parent = self._subscription(customer, subscription)
        owner = self.customers[parent.customer_id]
        add_ons = [
            self.subscriptions[i] for i in owner.subscription_ids if self.subscriptions[i].parent_id == parent.id
        ]
        return _collection(
            [self._subscription_wire(self._read(s)) for s in add_ons],
            f"/v1/customers/{owner.id}/subscriptions/{parent.id}/addons",
        )

    def _patch_subscription(
        self, principal: _Principal, request: _Request, customer: str, subscription: str
    ) -> _Response:
        found = self._subscription(customer, subscription)
        self._refresh(found)
        if_match = request.header("If-Match")
        if if_match and if_match.strip() != _etag(found.id, found.version):
            raise _ApiError(
                412,
                ETAG_MISMATCH,
                "The subscription was changed by another request (the ETag does not match); read it again.",
            )
        if found.status == "pending" or any(op.subscription_id == found.id for op in self.operations.values()):
            raise _ApiError(409, PENDING_CHANGE, f"Subscription {found.id} has a pending change; try again later.")
        body = _object(request.json(), "subscription")
        slow = self._consume("accepted", "UpdateSubscription", target=found.id)
        if slow is not None:
            self._apply_patch(copy.deepcopy(found), body, dry_run=True)  # refuse bad changes at once
            operation = _Operation(
                id=str(uuid.uuid4()),
                customer_id=found.customer_id,
                subscription_id=found.id,
                body=body,
                polls_left=max(0, slow.polls),
            )
            self.operations[operation.id] = operation
            location = f"{RESOURCE}/v1/customers/{found.customer_id}/subscriptions/{found.id}/operations/{operation.id}"
            return _json_response(202, {}, headers=[("Location", location), ("Retry-After", "1")])
        self._apply_patch(found, body)
        wire = self._subscription_wire(found)
        return _json_response(200, wire, headers=[("ETag", wire["attributes"]["etag"])])

    def _get_operation(
        self, principal: _Principal, request: _Request, customer: str, subscription: str, operation: str
    ) -> _Response:
        found = self._subscription(customer, subscription)
        pending = self.operations.get(operation)
        if pending is None or pending.subscription_id != found.id:
            raise _ApiError(404, 404, f"Operation {operation} was not found.")
        if pending.polls_left > 0:
            pending.polls_left -= 1
            location = f"{RESOURCE}/v1/customers/{found.customer_id}/subscriptions/{found.id}/operations/{pending.id}"
            return _json_response(202, {"status": "running"}, headers=[("Location", location), ("Retry-After", "1")])
        del self.operations[pending.id]
        self._apply_patch(found, pending.body)
        return _json_response(200, self._subscription_wire(found))

    def _apply_patch(self, subscription: _Subscription, body: Mapping[str, Any], *, dry_run: bool = False) -> None:
        """Apply the writable fields of a whole-subscription PATCH, enforcing the NCE rules."""
        now = self.now()
        sku = self.catalog[subscription.sku_key]
        changed = False
        wanted_status = _key(body, "status")
        if wanted_status is not None and str(wanted_status).lower() != subscription.status:
            wanted = str(wanted_status).lower()
            allowed = {
                ("active", "suspended"),
                ("suspended", "active"),
                ("active", "deleted"),
                ("suspended", "deleted"),
            }
            if (subscription.status, wanted) not in allowed:
                raise _ApiError(
                    400,
                    STATUS_TRANSITION,
                    f"Subscription status cannot be changed from {subscription.status} to {wanted}.",
                )
            if wanted == "deleted":
                window = subscription.cancellation_allowed_until
                if not subscription.is_trial and (window is None or now > window):
                    raise _ApiError(
                        400,
                        QUANTITY_CANNOT_DECREASE,
                        "The subscription can no longer be cancelled: the cancellation window ended "
                        f"{_iso(window) if window else 'already'}.",
                    )
                if dry_run:
                    return
                subscription.status = "deleted"
                subscription.auto_renew = False
                subscription.next_term = None
                subscription.version += 1
                for child in self.subscriptions.values():
                    if child.parent_id == subscription.id and child.status in ("active", "suspended", "pending"):
                        child.status = "deleted"
                        child.auto_renew = False
                        child.version += 1
                return
            subscription.status = wanted
            subscription.suspension_reasons = ["PartnerInitiated"] if wanted == "suspended" else []
            changed = True
        quantity = _key(body, "quantity")
        if quantity is not None and quantity != subscription.quantity:
            self._change_quantity(subscription, sku, quantity, now)
            changed = True
        billing_cycle = _key(body, "billingCycle")
        if billing_cycle is not None and str(billing_cycle).lower() != subscription.billing_cycle:
            self._require_active(subscription)
            if subscription.is_trial:
                raise _ApiError(400, NOT_ELIGIBLE_FOR_QUANTITY, "A trial's billing cycle cannot be changed.")
            term = sku.term(subscription.term_duration, billing_cycle)
            if term is None:
                raise _ApiError(
                    400,
                    INVALID_INPUT,
                    f"{sku.title} has no {str(billing_cycle).lower()} billing "
                    f"with a {subscription.term_duration} term.",
                )
            subscription.billing_cycle = term.billing_cycle
            changed = True
        auto_renew = _key(body, "autoRenewEnabled")
        if auto_renew is not None and bool(auto_renew) != subscription.auto_renew:
            if subscription.status not in ("active", "suspended"):
                raise _ApiError(400, NOT_ACTIVE, f"Subscription {subscription.id} is {subscription.status}.")
            subscription.auto_renew = bool(auto_renew)
            changed = True
        friendly_name = _key(body, "friendlyName")
        if friendly_name is not None and str(friendly_name) != subscription.friendly_name:
            subscription.friendly_name = str(friendly_name)[:128]
            changed = True
        if _has_key(body, "scheduledNextTermInstructions"):
            instructions = _key(body, "scheduledNextTermInstructions")
            normalised = None if not instructions else self._validate_next_term(subscription, instructions)
            if normalised != subscription.next_term:
                subscription.next_term = normalised
                changed = True
        if changed and not dry_run:
            subscription.version += 1

    def _require_active(self, subscription: _Subscription) -> None:
        if subscription.status != "active":
            raise _ApiError(
                400, NOT_ACTIVE, f"Subscription {subscription.id} is {subscription.status}, not an active subscription."
            )

    def _change_quantity(self, subscription: _Subscription, sku: _Sku, quantity: Any, now: datetime) -> None:
        self._require_active(subscription)
        if subscription.is_trial:
            raise _ApiError(400, NOT_ELIGIBLE_FOR_QUANTITY, "A trial is not eligible to add or remove quantity.")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise _ApiError(400, INVALID_INPUT, "quantity must be a whole number of at least 1.")
        if quantity > sku.maximum_quantity:
            raise _ApiError(400, QUANTITY_NOT_AVAILABLE, f"{sku.title} allows at most {sku.maximum_quantity} seats.")
        current = subscription.quantity
        if quantity > current:
            subscription.buckets.append(_Bucket(quantity=quantity - current, allowed_until=now + CANCELLATION_WINDOW))
        else:
            decrease = current - quantity
            refundable = [bucket for bucket in subscription.buckets if bucket.allowed_until > now]
            available = sum(bucket.quantity for bucket in refundable)
            if decrease > available:
                raise _ApiError(
                    400,
                    QUANTITY_CANNOT_DECREASE,
                    "Subscription quantity cannot be decreased: "
                    f"{available} seat(s) are still within their 7-day cancellation window.",
                    data=[{"refundableQuantity": available}],
                )
            for bucket in sorted(refundable, key=lambda b: b.allowed_until, reverse=True):
                taken = min(bucket.quantity, decrease)
                bucket.quantity -= taken
                decrease -= taken
                if decrease == 0:
                    break
            subscription.buckets = [bucket for bucket in subscription.buckets if bucket.quantity > 0]
        subscription.quantity = quantity

    def _validate_next_term(self, subscription: _Subscription, instructions: Any) -> dict[str, Any]:
        data = _object(instructions, "scheduledNextTermInstructions")
        product = _object(_key(data, "product"), "scheduledNextTermInstructions.product")
        sku_key = f"{_key(product, 'productId')}:{_key(product, 'skuId')}".upper()
        sku = self.catalog.get(sku_key)
        if sku is None or sku.is_trial or sku.is_addon != self.catalog[subscription.sku_key].is_addon:
            raise _ApiError(400, INVALID_OFFER, f"{sku_key} cannot be the next term of this subscription.")
        availability_id = str(_key(product, "availabilityId") or "").upper()
        if availability_id and availability_id != self.availability_id(sku_key):
            raise _ApiError(400, INVALID_OFFER, f"Availability {availability_id} is not valid for {sku_key}.")
        term = sku.term(_key(product, "termDuration"), _key(product, "billingCycle"))
        if term is None:
            raise _ApiError(400, INVALID_INPUT, f"{sku.title} has no such term and billing cycle.")
        quantity = _key(data, "quantity")
        if quantity is None:
            quantity = subscription.quantity
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise _ApiError(400, INVALID_INPUT, "scheduledNextTermInstructions.quantity must be at least 1.")
        return self._next_term_wire(sku_key, term, quantity=quantity)

    def _next_term_wire(self, sku_key: str, term: _Term, *, quantity: int) -> dict[str, Any]:
        product_id, sku_id = sku_key.split(":")
        return {
            "product": {
                "productId": product_id,
                "skuId": sku_id,
                "availabilityId": self.availability_id(sku_key),
                "billingCycle": term.billing_cycle,
                "termDuration": term.duration,
                "promotionId": None,
            },
            "quantity": quantity,
            "customTermEndDate": None,
        }

    def _refresh(self, subscription: _Subscription) -> None:
        """Apply what the calendar (and the reads) did: provisioning, renewals, expiry."""
        now = self.now()
        if subscription.status == "pending" and (
            now >= subscription.provision_at or subscription.reads >= self.reads_to_provision
        ):
            subscription.status = "active"
            subscription.version += 1
            order = self.orders.get(subscription.order_id)
            if order is not None and all(
                self.subscriptions[line["subscriptionId"]].status != "pending"
                for line in order.line_items
                if line["subscriptionId"] in self.subscriptions
            ):
                order.status = "completed"
        while subscription.status in ("active", "suspended") and subscription.term_end <= now:
            if not subscription.auto_renew:
                subscription.status = "expired"
                subscription.version += 1
                break
            if subscription.next_term:
                product = subscription.next_term["product"]
                subscription.sku_key = f"{product['productId']}:{product['skuId']}".upper()
                subscription.billing_cycle = product["billingCycle"]
                subscription.term_duration = product["termDuration"]
                subscription.quantity = int(subscription.next_term["quantity"])
                subscription.next_term = None
            subscription.availability_id = self.availability_id(subscription.sku_key)
            subscription.term_start = subscription.term_end
            subscription.term_end = add_months(subscription.term_start, _MONTHS[subscription.term_duration])
            subscription.cancellation_allowed_until = subscription.term_start + CANCELLATION_WINDOW
            subscription.buckets = [
                _Bucket(quantity=subscription.quantity, allowed_until=subscription.cancellation_allowed_until)
            ]
            subscription.version += 1

    def _subscription_wire(self, subscription: _Subscription) -> dict[str, Any]:
        now = self.now()
        sku = self.catalog[subscription.sku_key]
        customer = self.customers[subscription.customer_id]
        uri = f"/v1/customers/{customer.id}/subscriptions/{subscription.id}"
        country = customer.market.country
        refundable = [bucket for bucket in subscription.buckets if bucket.allowed_until > now]
        window = subscription.cancellation_allowed_until
        in_window = window is not None and now <= window and subscription.status in ("active", "suspended")
        actions = []
        if subscription.status in ("active", "suspended"):
            actions = ["Edit", "Suspend" if subscription.status == "active" else "Reactivate"]
            if in_window or subscription.is_trial:
                actions.append("Cancel")
        wire: dict[str, Any] = {
            "id": subscription.id,
            "entitlementId": str(uuid.uuid5(uuid.NAMESPACE_URL, subscription.id)),
            "offerId": f"{subscription.sku_key}:{subscription.availability_id}",
            "offerName": sku.title,
            "friendlyName": subscription.friendly_name,
            "productType": {"id": "OnlineServicesNCE", "displayName": "OnlineServicesNCE"},
            "quantity": subscription.quantity,
            "unitType": "Licenses",
            "hasPurchasableAddons": not sku.is_addon
            and any(subscription.sku_key in other.prerequisites for other in self.catalog.values()),
            "creationDate": _iso(subscription.created_at),
            "effectiveStartDate": _iso(subscription.term_start),
            "commitmentEndDate": _iso(subscription.term_end),
            "cancellationAllowedUntilDate": _iso(window) if window else None,
            "status": subscription.status,
            "autoRenewEnabled": subscription.auto_renew,
            "isTrial": subscription.is_trial,
            "billingType": "license",
            "billingCycle": subscription.billing_cycle,
            "termDuration": subscription.term_duration,
            "renewalTermDuration": subscription.term_duration if subscription.auto_renew else None,
            "refundOptions": [{"type": "Full", "expiresAt": _iso(window)}] if in_window and window else [],
            "refundableQuantity": {
                "totalQuantity": sum(bucket.quantity for bucket in refundable),
                "details": [
                    {"quantity": bucket.quantity, "allowedUntilDateTime": _iso(bucket.allowed_until)}
                    for bucket in refundable
                ],
            },
            "suspensionReasons": list(subscription.suspension_reasons),
            "actions": actions,
            "isMicrosoftProduct": True,
            "partnerId": "",
            "attentionNeeded": False,
            "actionTaken": False,
            "contractType": "subscription",
            "publisherName": "Microsoft Corporation",
            "orderId": subscription.order_id,
            "links": {
                "product": _link(f"/v1/products/{sku.product_id}?country={country}"),
                "sku": _link(f"/v1/products/{sku.product_id}/skus/{sku.sku_id}?country={country}"),
                "availability": _link(
                    f"/v1/products/{sku.product_id}/skus/{sku.sku_id}/availabilities/{subscription.availability_id}"
                    f"?country={country}"
                ),
                "self": _link(uri),
            },
            "attributes": {"etag": _etag(subscription.id, subscription.version), "objectType": "Subscription"},
        }
        if subscription.parent_id:
            wire["parentSubscriptionId"] = subscription.parent_id
        if subscription.next_term:
            wire["scheduledNextTermInstructions"] = copy.deepcopy(subscription.next_term)
        return wire

    # -- invoices ------------------------------------------------------------------------------------
    #
    # One invoice per calendar month, from the month of the first subscription to the current one, its
    # billing line items ("onetime" provider, NCE) charged from each subscription's own state. The
    # simulator keeps no quantity history, so every month invoices the current quantity (inference):
    # monthly billing is a cycle charge for the month (pro rata, charge type "new", in the month the
    # subscription was created); annual billing is charged in full in the month its term year starts.

    def _invoice_months(self) -> list[tuple[int, int]]:
        starts = [subscription.created_at for subscription in self.subscriptions.values()]
        if not starts:
            return []
        first, now = min(starts), self.now()
        months, year, month = [], first.year, first.month
        while (year, month) <= (now.year, now.month):
            months.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months

    def _invoice_id(self, year: int, month: int) -> str:
        return f"G{year:04d}{month:02d}0001"

    def _invoice_wire(self, year: int, month: int) -> dict[str, Any]:
        start = datetime(year, month, 1, tzinfo=UTC)
        end = add_months(start, 1) - timedelta(seconds=1)
        invoice_id = self._invoice_id(year, month)
        lines = self._invoice_line_items(year, month)
        total = sum((Decimal(str(line["subtotal"])) for line in lines), Decimal(0))
        return {
            "id": invoice_id,
            "invoiceDate": _iso(add_months(start, 1) + timedelta(days=7)),
            "billingPeriodStartDate": _iso(start),
            "billingPeriodEndDate": _iso(end),
            "totalCharges": total,
            "paidAmount": Decimal(0),
            "currencyCode": "EUR",
            "currencySymbol": "€",
            "documentType": "Invoice",
            "invoiceType": "OneTime",
            "invoiceDetails": [
                {
                    "invoiceLineItemType": "billing_line_items",
                    "billingProvider": "one_time",
                    "links": {
                        "self": _link(
                            f"/v1/invoices/{invoice_id}/lineitems?provider=onetime&invoicelineitemtype=billinglineitems"
                        )
                    },
                    "attributes": {"objectType": "InvoiceDetail"},
                }
            ],
            "links": {"self": _link(f"/v1/invoices/{invoice_id}")},
            "attributes": {"objectType": "Invoice"},
        }

    def _list_invoices(self, principal: _Principal, request: _Request) -> dict[str, Any]:
        items = [self._invoice_wire(year, month) for year, month in reversed(self._invoice_months())]
        return _collection(items, "/v1/invoices")

    def _invoice_line_items(self, year: int, month: int) -> list[dict[str, Any]]:
        start = datetime(year, month, 1, tzinfo=UTC)
        end = add_months(start, 1)
        invoice_id = self._invoice_id(year, month)
        lines = []
        for customer in self.customers.values():
            for subscription_id in customer.subscription_ids:
                subscription = self.subscriptions.get(subscription_id)
                if subscription is None:
                    continue
                line = self._invoice_line(subscription, customer, invoice_id, start, end)
                if line is not None:
                    lines.append(line)
        return lines

    def _invoice_line(
        self, subscription: _Subscription, customer: _Customer, invoice_id: str, start: datetime, end: datetime
    ) -> dict[str, Any] | None:
        self._refresh(subscription)
        if subscription.is_trial or subscription.status not in ("active", "suspended"):
            return None
        if subscription.created_at >= end:
            return None
        sku = self.catalog[subscription.sku_key]
        term = sku.term(subscription.term_duration, subscription.billing_cycle)
        priced = sku.price(term, customer.market.currency) if term is not None else None
        if priced is None:
            return None
        unit_price = priced[0]
        created = subscription.created_at.replace(hour=0, minute=0, second=0, microsecond=0)
        if subscription.billing_cycle == "annual":
            months = (start.year - created.year) * 12 + start.month - created.month
            if months < 0 or months % 12:
                return None
            charge_start = add_months(created, months)
            charge_end = add_months(charge_start, 12)
            fraction = Decimal(1)
            charge_type = "new" if months == 0 else "cycleCharge"
        else:
            charge_start, charge_end = max(start, created), end
            fraction = Decimal((charge_end - charge_start).days) / Decimal((end - start).days)
            charge_type = "new" if created >= start else "cycleCharge"
        subtotal = (unit_price * subscription.quantity * fraction).quantize(_CENT)
        length = {"P1M": "1 Month", "P1Y": "1 Year", "P3Y": "3 Years"}.get(subscription.term_duration, "1 Month")
        frequency = {"monthly": "Monthly", "annual": "Annual", "triennial": "Triennial"}.get(
            subscription.billing_cycle, "OneTime"
        )
        return {
            "partnerId": PARTNER_TENANT_ID,
            "customerId": customer.id,
            "customerName": customer.company_name,
            "customerDomainName": customer.domain,
            "customerCountry": customer.country,
            "invoiceNumber": invoice_id,
            "orderId": subscription.order_id,
            "orderDate": _iso(subscription.created_at),
            "productId": sku.product_id,
            "skuId": sku.sku_id,
            "availabilityId": subscription.availability_id,
            "productName": sku.product_title,
            "skuName": sku.title,
            "chargeType": charge_type,
            "unitPrice": unit_price,
            "effectiveUnitPrice": unit_price,
            "unitType": "Licenses",
            "quantity": subscription.quantity,
            "billableQuantity": subscription.quantity,
            "subtotal": subtotal,
            "taxTotal": Decimal(0),
            "totalForCustomer": subtotal,
            "currency": customer.market.currency,
            "pricingCurrency": customer.market.currency,
            "publisherName": "Microsoft",
            "subscriptionId": subscription.id,
            "subscriptionDescription": subscription.friendly_name,
            "chargeStartDate": _iso(charge_start),
            "chargeEndDate": _iso(charge_end - timedelta(seconds=1)),
            "termAndBillingCycle": f"{length} - {frequency} Payment",
            "billingFrequency": frequency,
            "invoiceLineItemType": "billingLineItems",
            "billingProvider": "oneTime",
            "attributes": {"objectType": "OneTimeInvoiceLineItem"},
        }

    def _invoice_statement(self, principal: _Principal, request: _Request, invoice: str) -> _Response:
        """The invoice's PDF statement (`GET /v1/invoices/{id}/documents/statement`): a real, minimal PDF
        with the invoice's number, period, lines and total."""
        months = {self._invoice_id(year, month).lower(): (year, month) for year, month in self._invoice_months()}
        if invoice.lower() not in months:
            raise _ApiError(404, 404, f"Invoice {invoice} was not found.")
        wire = self._invoice_wire(*months[invoice.lower()])
        lines = [
            f"Microsoft invoice {wire['id']}",
            f"Billing period {wire['billingPeriodStartDate'][:10]} - {wire['billingPeriodEndDate'][:10]}",
            "",
        ]
        for item in self._invoice_line_items(*months[invoice.lower()]):
            lines.append(
                f"{item['customerName']}  {item['skuName']}  x{item['quantity']}  {item['subtotal']} {item['currency']}"
            )
        lines += ["", f"Total {wire['totalCharges']} {wire['currencyCode']}"]
        return _Response(200, minimal_pdf(lines, title=f"Invoice {wire['id']}"), "application/pdf", [])

    def _list_invoice_line_items(self, principal: _Principal, request: _Request, invoice: str) -> dict[str, Any]:
        months = {self._invoice_id(year, month).lower(): (year, month) for year, month in self._invoice_months()}
        if invoice.lower() not in months:
            raise _ApiError(404, 404, f"Invoice {invoice} was not found.")
        provider = str(request.query.get("provider", "")).lower()
        item_type = str(request.query.get("invoicelineitemtype", request.query.get("invoiceLineItemType", ""))).lower()
        if provider != "onetime" or item_type != "billinglineitems":
            raise _ApiError(
                400, INVALID_INPUT, "Only provider=onetime with invoicelineitemtype=billinglineitems is served."
            )
        if str(request.query.get("seekOperation", "")).lower() == "next":
            state = _decode_continuation(request.header("MS-ContinuationToken"))
            offset, size = state["offset"], state["size"]
        else:
            offset = 0
            try:
                size = int(request.query.get("size", "2000"))
            except ValueError:
                raise _ApiError(400, INVALID_INPUT, "size must be a whole number.") from None
        if not 1 <= size <= 2000:
            raise _ApiError(400, INVALID_INPUT, "size must be between 1 and 2000.")
        lines = self._invoice_line_items(*months[invoice.lower()])
        invoice_id = self._invoice_id(*months[invoice.lower()])
        base = f"/v1/invoices/{invoice_id}/lineitems?provider=onetime&invoicelineitemtype=billinglineitems&size={size}"
        page = lines[offset : offset + size]
        links: dict[str, Any] = {"self": _link(base)}
        collection: dict[str, Any] = {
            "totalCount": len(page),
            "items": page,
            "links": links,
            "attributes": {"objectType": "Collection"},
        }
        if offset + size < len(lines):
            token = _encode_continuation({"offset": offset + size, "size": size})
            links["next"] = _link(
                f"{base}&seekOperation=Next", headers=[{"key": "MS-ContinuationToken", "value": token}]
            )
            collection["continuationToken"] = token
        return collection

    # -- control endpoint ------------------------------------------------------------------------------

    def _control_json(self, raw_body: bytes) -> Any:
        return _decode_json(raw_body)

    def _control_actions(self) -> dict[str, ControlAction]:
        return {
            **super()._control_actions(),
            "expire_tokens": lambda body: self.expire_tokens(),
            "revoke_refresh_tokens": lambda body: self.revoke_refresh_tokens(),
            "rotate_availabilities": lambda body: self.rotate_availabilities(),
        }

    def _control_seeds(self) -> dict[str, ControlAction]:
        return {
            **super()._control_seeds(),
            "bulk": lambda body: self.seed_bulk(
                customers=int(body.get("customers", 2000)),
                subscriptions_per_customer=int(body.get("subscriptions_per_customer", 10)),
            ),
        }


def create_simulator() -> PartnerCenterSimulator:
    """A simulator seeded with the demo data (the convention every marketplace simulator follows)."""
    return PartnerCenterSimulator()


# ------------------------------------------------------------------------------------------------
# Wire helpers
# ------------------------------------------------------------------------------------------------


def _key(body: Any, name: str) -> Any:
    """Bodies bind case-insensitively (clients send `CompanyProfile` as well as `companyProfile`)."""
    if not isinstance(body, Mapping):
        return None
    if name in body:
        return body[name]
    lowered = name.lower()
    for key, value in body.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return None


def _has_key(body: Mapping[str, Any], name: str) -> bool:
    return any(isinstance(key, str) and key.lower() == name.lower() for key in body)


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _ApiError(400, INVALID_INPUT, f"{name} must be a JSON object.")
    return value


def _link(uri: str, *, method: str = "GET", headers: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"uri": uri, "method": method, "headers": headers or []}


def _collection(items: list[dict[str, Any]], uri: str) -> dict[str, Any]:
    return {
        "totalCount": len(items),
        "items": items,
        "links": {"self": _link(uri)},
        "attributes": {"objectType": "Collection"},
    }


def _filter_customers(customers: list[_Customer], filter_text: str) -> list[_Customer]:
    try:
        spec = json.loads(filter_text)
    except ValueError:
        raise _ApiError(400, INVALID_INPUT, "filter must be a JSON object.") from None
    field_name = str(_key(spec, "Field") or "")
    value = str(_key(spec, "Value") or "").lower()
    if str(_key(spec, "Operator") or "").lower() != "starts_with" or field_name.lower() not in (
        "companyname",
        "domain",
    ):
        raise _ApiError(400, INVALID_INPUT, "Only starts_with on CompanyName or Domain is supported.")
    if field_name.lower() == "domain":
        return [customer for customer in customers if customer.domain.startswith(value)]
    return [customer for customer in customers if customer.company_name.lower().startswith(value)]


def _encode_continuation(state: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(dict(state)).encode()).decode()


def _decode_continuation(token: str | None) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode((token or "").encode()))
        if not isinstance(state.get("offset"), int) or not isinstance(state.get("size"), int):
            raise ValueError
        return state
    except (ValueError, TypeError, AttributeError):
        raise _ApiError(400, INVALID_INPUT, "The MS-ContinuationToken header is missing or invalid.") from None


def _etag(identifier: str, version: int) -> str:
    return base64.b64encode(json.dumps({"id": identifier, "v": version}).encode()).decode()


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError("not base64url") from error


def _json_response(status: int, body: Any, *, headers: list[tuple[str, str]] | None = None) -> _Response:
    return _Response(status, json_bytes(body), "application/json; charset=utf-8", list(headers or []))


def _error_response(error: _ApiError) -> _Response:
    body = {
        "code": error.code,
        "description": error.description,
        "errorName": _ERROR_NAMES.get(error.code, HTTPStatus(error.status).phrase.replace(" ", "")),
        "data": error.data,
        "source": "PartnerFD",
    }
    return _json_response(error.status, body, headers=error.headers)


def _unauthorized_error(description: str) -> _ApiError:
    error = _ApiError(401, 401, description)
    error.headers = [("WWW-Authenticate", f'Bearer error="invalid_token", error_description="{description}"')]
    return error


def _unauthorized(description: str) -> _Response:
    return _Response(
        401,
        b"",
        "text/plain; charset=utf-8",
        [("WWW-Authenticate", f'Bearer error="invalid_token", error_description="{description}"')],
    )


def _entra_error(status: int, error: str, code: int, description: str) -> _Response:
    trace_id = str(uuid.uuid4())
    correlation_id = str(uuid.uuid4())
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace_id} Correlation ID: {correlation_id}",
        "error_codes": [code],
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
        "trace_id": trace_id,
        "correlation_id": correlation_id,
    }
    return _json_response(status, body)


def _with_headers(response: _Response, headers: list[tuple[str, str]]) -> _Response:
    present = {name.lower() for name, _ in response.headers}
    response.headers = [*response.headers, *((n, v) for n, v in headers if n.lower() not in present)]
    return response


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ------------------------------------------------------------------------------------------------
# Real server
# ------------------------------------------------------------------------------------------------


def make_simulator_server(
    *, simulator: PartnerCenterSimulator, host: str = "127.0.0.1", port: int = 8202
) -> WSGIServer:
    """A threaded stdlib HTTP server around a simulator; `port=0` picks a free port."""
    return threaded_wsgi_server(simulator, host=host, port=port)


def main(argv: list[str] | None = None) -> None:
    parser = simulator_arguments(description="Serve the Microsoft Partner Center simulator over HTTP.", port=8202)
    parser.add_argument("--bulk-customers", type=int, default=0)
    parser.add_argument("--bulk-subscriptions-per-customer", type=int, default=10)
    arguments = parser.parse_args(argv)
    arguments.identity_url = arguments.identity_url or os.environ.get("MICROSOFT_SIMULATOR_URL", "")
    authority = RemoteAuthority(arguments.identity_url) if arguments.identity_url else None
    simulator = PartnerCenterSimulator(seed=not arguments.no_seed, authority=authority)
    if arguments.bulk_customers:
        simulator.seed_bulk(
            customers=arguments.bulk_customers, subscriptions_per_customer=arguments.bulk_subscriptions_per_customer
        )
    server = make_simulator_server(simulator=simulator, host=arguments.host, port=arguments.port)
    url = f"http://{arguments.host}:{server.server_port}"
    issuer = arguments.identity_url or "an in-process identity simulator"
    print(f"Partner Center simulator on {url} (API {url}/v1/, tokens from {issuer})", flush=True)
    print(
        f"demo partner tenant {PARTNER_TENANT_ID}, application {DEMO_APPLICATION_ID} / {DEMO_APPLICATION_SECRET}, "
        f"refresh token {DEMO_REFRESH_TOKEN}; control endpoints under {url}/_control/",
        flush=True,
    )
    serve_until_interrupted(server)


if __name__ == "__main__":
    main()
