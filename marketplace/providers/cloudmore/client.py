"""httpx client for the Cloudmore API, speaking its wire format and nothing else.

What the wire looks like (as publicly documented; marked [I] where
no source was found and the simulator's choice stands in for it):
- OAuth2 resource-owner password grant at `POST /connect/token` (form encoded, `scope=api`), the API
  client authenticated with HTTP Basic (`client_id:client_secret`); `expires_in` in seconds
  (24 h). Every API call carries `Authorization: Bearer <token>`; an expired token answers 401,
  and the client signs in again once and re-sends (the call was refused, so nothing was applied).
- REST under `/api/resellers/{resellerId}/...` with GUID ids; routes are case-insensitive.
  Organizations -> services (`services/Csp`, the "O365 CSP Direct" service that owns the customer's
  Microsoft tenant) -> NCE subscriptions (`services/csp/nce/subscriptions`), add-ons being NCE
  subscriptions with a `parentSubscriptionId` [I].
- Price lists per reseller service and segment (commercial, education, charity, government).
- Billing: `POST …/billing/reports/MonthlyBillingPerOrganizationAsync` answers 202 with the task in
  `Location`; `GET` on it answers 202 while the report is produced, then 200 with the report.
- Errors are ASP.NET Core ProblemDetails `{type, title, status, detail, traceId, errorCode}` [I for
  the `errorCode` extension]; 201 on create, 204 on delete.
- Paging [I]: list routes accept `page` (1-based) and `pageSize` and answer a bare JSON array; a
  short page is the last one. An answer longer than the page size means the server ignored paging
  and sent everything, which the client accepts as the whole list.

Money arrives as JSON numbers and is decoded straight to `Decimal`, never through float.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from marketplace.providers.base import (
    AuthenticationFailed,
    NotFound,
    ProviderError,
    Rejected,
    Unavailable,
)
from marketplace.providers.http import MarketplaceHttpClient, RetryPolicy, SleepFunction, Timeouts

#: Region -> public API host (developer.cloudmore.com: production and the developer sandbox).
CLOUDMORE_REGION_HOSTS: dict[str, str] = {
    "eu": "api.cloudmore.com",
    "dev": "api-dev.cloudmore.com",
}
#: The client id Cloudmore's documentation names for reseller API users.
DEFAULT_CLIENT_ID = "ro.customer.client"
DEFAULT_PAGE_SIZE = 500
#: Renew the token this long before Cloudmore would refuse it.
TOKEN_RENEWAL_MARGIN = timedelta(minutes=5)

WireObject = dict[str, Any]


def base_url_for(*, region: str, server_url: str | None = None) -> str:
    """The API root: the region's public host, or `server_url` (a simulator, a proxy) as given."""
    if server_url:
        return server_url.rstrip("/")
    if region not in CLOUDMORE_REGION_HOSTS:
        known = ", ".join(sorted(CLOUDMORE_REGION_HOSTS))
        raise ValueError(f"Unknown Cloudmore region {region!r}; known regions: {known}")
    return f"https://{CLOUDMORE_REGION_HOSTS[region]}"


class TokenRejected(AuthenticationFailed):
    """The bearer token is expired or revoked; the client signs in again once and re-sends."""


class _FormBody:
    """Marks a request body to be sent form encoded (the token endpoint) instead of as JSON."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)


class _FormAwareHttp:
    """Wraps the base class's httpx client so `send` can post a form without a second retry loop."""

    def __init__(self, inner: httpx.Client) -> None:
        self._inner = inner

    def request(self, method: str, url: str, *, json: Any = None, headers: Any = None) -> httpx.Response:
        if isinstance(json, _FormBody):
            return self._inner.request(method, url, data=json.fields, headers=headers)
        return self._inner.request(method, url, json=json, headers=headers)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def problem_of(response: httpx.Response) -> WireObject:
    """The JSON error body (ProblemDetails or OAuth error), or an empty dict."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def problem_message(problem: Mapping[str, Any]) -> str | None:
    """ProblemDetails' `detail`, else the validation `errors`, else `title`; OAuth's description."""
    if problem.get("detail"):
        return str(problem["detail"])
    errors = problem.get("errors")
    if isinstance(errors, Mapping) and errors:
        parts = []
        for field_name, messages in errors.items():
            texts = messages if isinstance(messages, list) else [messages]
            parts.append(f"{field_name}: {' '.join(str(text) for text in texts)}")
        return "; ".join(parts)
    for key in ("title", "error_description", "message", "error"):
        if problem.get(key):
            return str(problem[key])
    return None


class CloudmoreClient(MarketplaceHttpClient):
    """One API user's session with Cloudmore, scoped to one reseller (broker) id."""

    marketplace_name = "Cloudmore"

    def __init__(
        self,
        *,
        region: str,
        username: str,
        password: str,
        reseller_id: str,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = "",
        server_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: SleepFunction = time.sleep,
        random_fraction: Callable[[], float] = random.random,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        super().__init__(
            base_url=base_url_for(region=region, server_url=server_url),
            transport=transport,
            timeouts=timeouts,
            retry_policy=retry_policy,
            sleep=sleep,
            random_fraction=random_fraction,
        )
        self._http = _FormAwareHttp(self._http)  # type: ignore[assignment]
        self.region = region
        self.reseller_id = reseller_id
        self.page_size = page_size
        self._username = username
        self._password = password
        self._client_id = client_id
        self._client_secret = client_secret
        self._clock = clock
        self._token: str | None = None
        self._token_expires_at: datetime | None = None

    # -- errors -----------------------------------------------------------------------------------

    def error_for_response(self, *, response: httpx.Response, operation: str) -> ProviderError | None:
        status = response.status_code
        if status < 400:
            return None
        if status == 429:
            return self.throttled_error(response=response, operation=operation)
        if status >= 500:
            return Unavailable(self.describe_failure(response=response, operation=operation))
        problem = problem_of(response)
        message = problem_message(problem) or self.describe_failure(response=response, operation=operation)
        reference = problem.get("traceId")
        if operation == "token":
            return AuthenticationFailed(f"Cloudmore refused the sign-in: {message}", reference=reference)
        if status == 401:
            return TokenRejected(message, reference=reference)
        if status == 403:
            return AuthenticationFailed(message, reference=reference)
        if status == 404:
            return NotFound(message, reference=reference)
        return Rejected(str(problem.get("errorCode") or status), message, reference=reference)

    # -- token --------------------------------------------------------------------------------------

    def authenticate(self) -> str:
        """Password grant with the API client in a Basic header; keeps the token until near expiry."""
        credentials = base64.b64encode(f"{self._client_id}:{self._client_secret}".encode()).decode()
        authorization = f"Basic {credentials}"
        response = self.send(
            method="POST",
            path="/connect/token",
            operation="token",
            idempotent=True,
            json_body=_FormBody(
                {"grant_type": "password", "username": self._username, "password": self._password, "scope": "api"}
            ),
            headers={"Authorization": authorization},
            payload=False,
        )
        answer = _decode(response)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthenticationFailed("Cloudmore answered the token request without an access token")
        expires_in = answer.get("expires_in")
        lifetime = timedelta(seconds=float(expires_in)) if expires_in is not None else timedelta(hours=1)
        self._token = token
        self._token_expires_at = self._clock() + lifetime - TOKEN_RENEWAL_MARGIN
        return token

    def _valid_token(self) -> str:
        if self._token is None or self._token_expires_at is None or self._clock() >= self._token_expires_at:
            return self.authenticate()
        return self._token

    def _call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        idempotent: bool,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """Send an authenticated call. A 401 gets one new token and one re-send: Cloudmore refused
        the call before doing anything, so re-sending it, even a write, cannot apply it twice."""
        url = path
        if query:
            url += "?" + urlencode({key: value for key, value in query.items() if value is not None})
        for attempt in (1, 2):
            token = self._valid_token()
            try:
                return self.send(
                    method=method,
                    path=url,
                    operation=operation,
                    idempotent=idempotent,
                    json_body=body,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except TokenRejected as rejected:
                self._token = None
                if attempt == 2:
                    raise AuthenticationFailed(
                        f"Cloudmore refused a fresh token right after signing in ({operation}): {rejected.message}",
                        reference=rejected.reference,
                    ) from rejected
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, path: str, *, operation: str, query: Mapping[str, Any] | None = None) -> Any:
        return _decode(self._call("GET", path, operation=operation, idempotent=True, query=query))

    def _pages(self, path: str, *, operation: str, query: Mapping[str, Any] | None = None) -> Iterator[WireObject]:
        page = 1
        first_of_previous: Any = None
        while True:
            items = _as_list(
                self._get(path, operation=operation, query={**(query or {}), "page": page, "pageSize": self.page_size})
            )
            if page > 1 and items and items[0].get("id") == first_of_previous:
                return  # the server ignored paging and sent the same whole list again
            yield from items
            if len(items) != self.page_size:  # short page: the last; longer: paging was ignored
                return
            first_of_previous = items[0].get("id")
            page += 1

    def _reseller_path(self, suffix: str = "") -> str:
        return f"/api/resellers/{quote(self.reseller_id, safe='')}{suffix}"

    def _organization_path(self, organization_id: str, suffix: str = "") -> str:
        return self._reseller_path(f"/organizations/{quote(organization_id, safe='')}{suffix}")

    # -- organizations ------------------------------------------------------------------------------

    def list_organizations(self, *, show_active: bool | None = None) -> Iterator[WireObject]:
        query = {} if show_active is None else {"showActive": str(show_active).lower()}
        return self._pages(self._reseller_path("/organizations"), operation="list_organizations", query=query)

    def get_organization(self, *, organization_id: str) -> WireObject:
        return _as_object(self._get(self._organization_path(organization_id), operation="get_organization"))

    def create_organization(self, *, organization: Mapping[str, Any]) -> WireObject:
        response = self._call(
            "POST",
            self._reseller_path("/organizations"),
            operation="create_organization",
            idempotent=False,
            body=dict(organization),
        )
        return _as_object(_decode(response))

    def update_organization(self, *, organization_id: str, organization: Mapping[str, Any]) -> WireObject:
        response = self._call(
            "PUT",
            self._organization_path(organization_id),
            operation="update_organization",
            idempotent=True,
            body=dict(organization),
        )
        return _as_object(_decode(response))

    # -- services and price lists ----------------------------------------------------------------------

    def list_services(self) -> list[WireObject]:
        return _as_list(self._get(self._reseller_path("/services"), operation="list_services"))

    def csp_service_id(self) -> str:
        """The reseller's Microsoft CSP service (the e-store's "O365 CSP Direct")."""
        for service in self.list_services():
            if str(service.get("type", "")).lower() == "csp":
                return str(service["id"])
        raise Rejected("no_csp_service", "The Cloudmore reseller has no Microsoft CSP service in its e-store")

    def get_price_list(self, *, service_id: str, segment: str = "commercial") -> list[WireObject]:
        """The reseller's products of a service with cost, sales and retail prices for one segment."""
        return _as_list(
            self._get(
                self._reseller_path(f"/services/{quote(service_id, safe='')}/pricelist"),
                operation="get_pricelist",
                query={"segment": segment},
            )
        )

    # -- the O365 CSP Direct service: domain check, tenant, users -----------------------------------------

    def validate_domain(self, *, domain: str) -> WireObject:
        """`{domain, isAvailable, message}` for a tenant domain prefix (`contoso` -> contoso.onmicrosoft.com)."""
        return _as_object(
            self._get(
                self._reseller_path("/services/csp/domainvalidation"),
                operation="domain_validation",
                query={"domain": domain},
            )
        )

    def get_csp_service(self, *, organization_id: str) -> WireObject:
        """The organization's CSP service with its Microsoft tenant; NotFound when it has none."""
        return _as_object(self._get(self._organization_path(organization_id, "/services/Csp"), operation="get_csp"))

    def add_csp_service(self, *, organization_id: str, service: Mapping[str, Any]) -> WireObject:
        """Add O365 CSP Direct: creates the Microsoft tenant and its admin user at once (201)."""
        response = self._call(
            "POST",
            self._organization_path(organization_id, "/services/Csp"),
            operation="add_csp",
            idempotent=False,
            body=dict(service),
        )
        return _as_object(_decode(response))

    def list_organization_users(self, *, organization_id: str) -> list[WireObject]:
        """The organization's users in Cloudmore's own directory."""
        return _as_list(
            self._get(self._organization_path(organization_id, "/users"), operation="list_organization_users")
        )

    def create_organization_user(self, *, organization_id: str, user: Mapping[str, Any]) -> WireObject:
        response = self._call(
            "POST",
            self._organization_path(organization_id, "/users"),
            operation="create_organization_user",
            idempotent=False,
            body=dict(user),
        )
        return _as_object(_decode(response))

    def list_csp_users(self, *, organization_id: str) -> list[WireObject]:
        return _as_list(
            self._get(self._organization_path(organization_id, "/services/csp/users"), operation="list_csp_users")
        )

    def create_csp_user(self, *, organization_id: str, user: Mapping[str, Any]) -> WireObject:
        response = self._call(
            "POST",
            self._organization_path(organization_id, "/services/csp/users"),
            operation="create_csp_user",
            idempotent=False,
            body=dict(user),
        )
        return _as_object(_decode(response))

    def assign_csp_user_subscription(self, *, organization_id: str, user_id: str, subscription_id: str) -> WireObject:
        response = self._call(
            "POST",
            self._organization_path(organization_id, f"/services/csp/users/{user_id}/subscriptions"),
            operation="assign_csp_user_subscription",
            idempotent=True,  # assigning twice leaves one assignment
            body={"subscriptionId": subscription_id},
        )
        return _as_object(_decode(response))

    def unassign_csp_user_subscription(self, *, organization_id: str, user_id: str, subscription_id: str) -> WireObject:
        response = self._call(
            "DELETE",
            self._organization_path(organization_id, f"/services/csp/users/{user_id}/subscriptions/{subscription_id}"),
            operation="unassign_csp_user_subscription",
            idempotent=True,
        )
        return _as_object(_decode(response))

    # -- NCE subscriptions ----------------------------------------------------------------------------

    def list_reseller_nce_subscriptions(self) -> Iterator[WireObject]:
        """Every NCE subscription of the reseller's organizations, add-ons included, page by page."""
        return self._pages(self._reseller_path("/services/csp/nce/subscriptions"), operation="list_all_subscriptions")

    def list_nce_subscriptions(self, *, organization_id: str) -> Iterator[WireObject]:
        return self._pages(
            self._organization_path(organization_id, "/services/csp/nce/subscriptions"),
            operation="list_subscriptions",
        )

    def get_nce_subscription(self, *, organization_id: str, subscription_id: str) -> WireObject:
        return _as_object(
            self._get(
                self._organization_path(
                    organization_id, f"/services/csp/nce/subscriptions/{quote(subscription_id, safe='')}"
                ),
                operation="get_subscription",
            )
        )

    def create_nce_subscription(self, *, organization_id: str, subscription: Mapping[str, Any]) -> WireObject:
        """Buy: `{itemCode, quantity, friendlyName, purchaseOrderNumber, parentSubscriptionId, autoRenew}`."""
        response = self._call(
            "POST",
            self._organization_path(organization_id, "/services/csp/nce/subscriptions"),
            operation="create_subscription",
            idempotent=False,
            body=dict(subscription),
        )
        return _as_object(_decode(response))

    def update_nce_subscription(
        self, *, organization_id: str, subscription_id: str, changes: Mapping[str, Any]
    ) -> WireObject:
        """PUT the changed fields (`quantity`, `status` Active|Suspended, `autoRenew`, `friendlyName`)."""
        response = self._call(
            "PUT",
            self._organization_path(
                organization_id, f"/services/csp/nce/subscriptions/{quote(subscription_id, safe='')}"
            ),
            operation="update_subscription",
            idempotent=False,
            body=dict(changes),
        )
        return _as_object(_decode(response))

    def delete_nce_subscription(self, *, organization_id: str, subscription_id: str) -> None:
        """Cancel (204); Microsoft allows it only inside the cancellation window."""
        self._call(
            "DELETE",
            self._organization_path(
                organization_id, f"/services/csp/nce/subscriptions/{quote(subscription_id, safe='')}"
            ),
            operation="delete_subscription",
            idempotent=False,
        )

    # -- billing ------------------------------------------------------------------------------------

    def monthly_billing_per_organization(
        self, *, year: int, month: int, organization_id: str | None = None, max_polls: int = 30
    ) -> WireObject:
        """Request the asynchronous report and poll its task until it is ready (waits Retry-After)."""
        body: dict[str, Any] = {"year": year, "month": month}
        if organization_id is not None:
            body["organizationId"] = organization_id
        requested = self._call(
            "POST",
            self._reseller_path("/billing/reports/MonthlyBillingPerOrganizationAsync"),
            operation="request_billing_report",
            idempotent=True,  # asking for a report twice costs nothing
            body=body,
        )
        location = requested.headers.get("Location")
        if not location:
            raise Unavailable("Cloudmore accepted the billing report request without a task location")
        path = httpx.URL(location).path if location.startswith("http") else location
        for _ in range(max_polls):
            response = self._call("GET", path, operation="get_billing_report", idempotent=True)
            if response.status_code == 200:
                return _as_object(_decode(response))
            retry_after = response.headers.get("Retry-After")
            self._wait(float(retry_after) if retry_after else 1.0)
        raise Unavailable(f"Cloudmore's billing report for {year}-{month:02d} was not ready after {max_polls} polls")


def _decode(response: httpx.Response) -> Any:
    if not response.content.strip():
        return None
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError as error:
        raise Unavailable(f"Cloudmore answered {response.request.url.path} with a body that is not JSON") from error


def _as_list(answer: Any) -> list[WireObject]:
    if answer is None:
        return []
    if not isinstance(answer, list):
        raise Unavailable(f"Cloudmore answered {type(answer).__name__} where a list was expected")
    return answer


def _as_object(answer: Any) -> WireObject:
    if not isinstance(answer, dict):
        raise Unavailable(f"Cloudmore answered {type(answer).__name__} where an object was expected")
    return answer
