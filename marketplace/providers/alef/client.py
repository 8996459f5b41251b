"""httpx client for the ALEF Distribution CSP platform, speaking its wire format and nothing else.

ALEF publishes no API documentation: what is known is that
each reseller has its own host, `https://<resellername>.alef.cloud`, and that ALEF resells Microsoft
CSP. The wire here is therefore an inference, modelled on Partner Center, which ALEF's platform
wraps; the simulator in this package is its contract:
- Host per reseller: `https://<reseller>.alef.cloud/api/v1`. With a `server_url` (the simulator,
  a proxy) the reseller becomes a path prefix: `<server_url>/<reseller>/api/v1`.
- `POST auth/token {grant_type: "password", username, password}` (the platform's "account created
  here" sign-in) answers `{access_token, expires_in, token_type}`; an expired token answers 401 and
  the client signs in once more and re-sends.
- Partner Center conventions: `MS-RequestId` (a GUID; the same id on a retried write replays the
  first answer and buys nothing twice) and `MS-CorrelationId` headers, collections
  `{totalCount, items, links{next{uri, headers[{key, value}]}}, attributes{objectType}}` paged with
  `MS-ContinuationToken`, JSON errors `{code, description, data, source}` with Partner Center codes
  (800090: outside the NCE cancellation window, 800040: status transition, 2055: ETag conflict,
  800014: a pending change), subscriptions PATCHed as whole objects with `If-Match`.
- ALEF's own parts: a distributor price list with partner price, customer price and suggested
  retail price per segment; organizations with an industry and academic / government / non-profit
  flags that decide which offers they may order; tenant creation as a long-running operation
  (`POST customers/{id}/tenants` -> 202 + `Location: operations/{id}`), since checking a new domain
  against Microsoft takes minutes.

Money arrives as JSON numbers and is decoded straight to `Decimal`, never through float.
"""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
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

ALEF_DOMAIN = "alef.cloud"
API_PATH = "/api/v1"
DEFAULT_PAGE_SIZE = 500
CONTINUATION_HEADER = "MS-ContinuationToken"
TOKEN_RENEWAL_MARGIN = timedelta(minutes=2)
_RESELLER = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
#: Namespace of the MS-RequestId derived from an idempotency key (any fixed UUID would do).
REQUEST_ID_NAMESPACE = uuid.UUID("5b0e6f44-3c9e-4d0a-a8f1-2f1d6c8e9b71")

WireObject = dict[str, Any]


def base_url_for(*, reseller: str, server_url: str | None = None) -> str:
    """The reseller's API root: its own `alef.cloud` host, or a path prefix under `server_url`."""
    reseller = reseller.strip().lower()
    if not _RESELLER.match(reseller):
        raise ValueError(f"{reseller!r} is not an ALEF reseller host name (the <name> of <name>.alef.cloud)")
    if server_url:
        return f"{server_url.rstrip('/')}/{reseller}{API_PATH}"
    return f"https://{reseller}.{ALEF_DOMAIN}{API_PATH}"


def request_id_for(idempotency_key: str) -> str:
    """The MS-RequestId for a write: the same key always gives the same GUID, so a retry replays."""
    return str(uuid.uuid5(REQUEST_ID_NAMESPACE, idempotency_key))


class TokenRejected(AuthenticationFailed):
    """The access token is expired or revoked; the client signs in again once and re-sends."""


class PendingOperation(Unavailable):
    """ALEF refused the call because something is still in progress (a tenant being created, a
    pending change, code 800014). Nothing was applied; the same call later can succeed."""


class EtagConflict(Rejected):
    """The subscription changed since it was read (code 2055): read it again and re-apply."""


def error_body(response: httpx.Response) -> WireObject:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class AlefClient(MarketplaceHttpClient):
    """One reseller user's session with the reseller's ALEF platform."""

    marketplace_name = "ALEF"

    def __init__(
        self,
        *,
        reseller: str,
        username: str,
        password: str,
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
            base_url=base_url_for(reseller=reseller, server_url=server_url),
            transport=transport,
            timeouts=timeouts,
            retry_policy=retry_policy,
            sleep=sleep,
            random_fraction=random_fraction,
        )
        self.reseller = reseller.strip().lower()
        self.page_size = page_size
        self._username = username
        self._password = password
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
        body = error_body(response)
        code = body.get("code")
        message = str(
            body.get("description")
            or body.get("message")
            or body.get("error_description")
            or self.describe_failure(response=response, operation=operation)
        )
        reference = response.headers.get("MS-CorrelationId")
        if operation == "token":
            return AuthenticationFailed(f"ALEF refused the sign-in: {message}", reference=reference)
        if status == 401:
            return TokenRejected(message, reference=reference)
        if status == 403:
            return AuthenticationFailed(message, reference=reference)
        if status == 404:
            return NotFound(message, reference=reference)
        if status == 412 or code == 2055:
            error: Rejected = EtagConflict("2055", message, reference=reference)
        elif status == 409 and code == 800014:
            return PendingOperation(message, reference=reference)
        else:
            error = Rejected(str(code if code is not None else status), message, reference=reference)
        error.data = tuple(str(item) for item in body.get("data") or ())  # type: ignore[attr-defined]
        return error

    # -- token --------------------------------------------------------------------------------------

    def authenticate(self) -> str:
        response = self.send(
            method="POST",
            path="auth/token",
            operation="token",
            idempotent=True,
            json_body={"grant_type": "password", "username": self._username, "password": self._password},
            payload=False,
        )
        answer = _decode(response)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthenticationFailed("ALEF answered the sign-in without an access token")
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
        headers: Mapping[str, str] | None = None,
        request_id: str | None = None,
        payload: bool = True,
    ) -> httpx.Response:
        """Send an authenticated call with Partner Center's request headers. A write keeps its
        MS-RequestId across the re-send after a new token, so even a doubtful first attempt replays."""
        url = path
        if query:
            url += "?" + urlencode({key: value for key, value in query.items() if value is not None})
        request_id = request_id or str(uuid.uuid4())
        for attempt in (1, 2):
            token = self._valid_token()
            try:
                return self.send(
                    method=method,
                    path=url,
                    operation=operation,
                    idempotent=idempotent,
                    json_body=body,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "MS-RequestId": request_id,
                        "MS-CorrelationId": str(uuid.uuid4()),
                        **(headers or {}),
                    },
                    payload=payload,
                )
            except TokenRejected as rejected:
                self._token = None
                if attempt == 2:
                    raise AuthenticationFailed(
                        f"ALEF refused a fresh token right after signing in ({operation}): {rejected.message}",
                        reference=rejected.reference,
                    ) from rejected
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, path: str, *, operation: str, query: Mapping[str, Any] | None = None) -> Any:
        return _decode(self._call("GET", path, operation=operation, idempotent=True, query=query))

    def _collection(self, path: str, *, operation: str, query: Mapping[str, Any] | None = None) -> Iterator[WireObject]:
        """Every item of a collection, following `links.next` with its MS-ContinuationToken."""
        response = self._call("GET", path, operation=operation, idempotent=True, query=query, payload=False)
        while True:
            page = _as_object(_decode(response))
            following = (page.get("links") or {}).get("next") or {}
            headers = {str(h["key"]): str(h["value"]) for h in following.get("headers") or [] if "key" in h}
            self.digest_page(response, cursor=headers.get(CONTINUATION_HEADER))
            yield from page.get("items") or []
            if not following.get("uri"):
                return
            response = self._call(
                str(following.get("method") or "GET"),
                str(following["uri"]),
                operation=operation,
                idempotent=True,
                headers=headers,
                payload=False,
            )

    @staticmethod
    def _segment(value: str) -> str:
        return quote(value, safe="")

    # -- customers (organizations) ------------------------------------------------------------------

    def list_customers(self) -> Iterator[WireObject]:
        """The reseller's organizations, the reseller's own included (`isReseller`)."""
        return self._collection("customers", operation="list_customers", query={"size": self.page_size})

    def get_customer(self, *, customer_id: str) -> WireObject:
        return _as_object(self._get(f"customers/{self._segment(customer_id)}", operation="get_customer"))

    def create_customer(self, *, customer: Mapping[str, Any], idempotency_key: str | None = None) -> WireObject:
        response = self._call(
            "POST",
            "customers",
            operation="create_customer",
            idempotent=False,
            body=dict(customer),
            request_id=request_id_for(idempotency_key) if idempotency_key else None,
        )
        return _as_object(_decode(response))

    # -- catalog ------------------------------------------------------------------------------------

    def list_price_list(self, *, segment: str | None = None) -> list[WireObject]:
        """The distributor price list: partner price, customer price, suggested retail price."""
        query = {"segment": segment} if segment else None
        return list(self._collection("pricelist", operation="get_pricelist", query=query))

    def list_customer_offers(self, *, customer_id: str) -> list[WireObject]:
        """The price list rows the organization is eligible to order."""
        return list(
            self._collection(f"customers/{self._segment(customer_id)}/offers", operation="list_customer_offers")
        )

    # -- tenants and operations ------------------------------------------------------------------------

    def domain_exists(self, *, domain: str) -> bool:
        """Partner Center's check: HEAD domains/{domain} answers 200 when a tenant has it, 404 when free."""
        try:
            self._call("HEAD", f"domains/{self._segment(domain)}", operation="check_domain", idempotent=True)
        except NotFound:
            return False
        return True

    def create_tenant(
        self, *, customer_id: str, tenant: Mapping[str, Any], idempotency_key: str | None = None
    ) -> WireObject:
        """Start creating a Microsoft tenant: answers 202 with the operation to poll."""
        response = self._call(
            "POST",
            f"customers/{self._segment(customer_id)}/tenants",
            operation="create_tenant",
            idempotent=False,
            body=dict(tenant),
            request_id=request_id_for(idempotency_key) if idempotency_key else None,
        )
        return _as_object(_decode(response))

    def get_operation(self, *, operation_id: str) -> WireObject:
        return _as_object(self._get(f"operations/{self._segment(operation_id)}", operation="get_operation"))

    # -- orders -------------------------------------------------------------------------------------

    def create_order(self, *, customer_id: str, order: Mapping[str, Any], idempotency_key: str) -> WireObject:
        """Place an order. The MS-RequestId derives from the key: a retry replays the first order."""
        response = self._call(
            "POST",
            f"customers/{self._segment(customer_id)}/orders",
            operation="create_order",
            idempotent=False,
            body=dict(order),
            request_id=request_id_for(idempotency_key),
        )
        return _as_object(_decode(response))

    def list_orders(self, *, customer_id: str) -> list[WireObject]:
        return list(self._collection(f"customers/{self._segment(customer_id)}/orders", operation="list_orders"))

    def get_order(self, *, customer_id: str, order_id: str) -> WireObject:
        return _as_object(
            self._get(f"customers/{self._segment(customer_id)}/orders/{self._segment(order_id)}", operation="get_order")
        )

    # -- subscriptions ------------------------------------------------------------------------------

    def list_subscriptions(self, *, customer_id: str, order_id: str | None = None) -> list[WireObject]:
        """A customer's subscriptions, add-ons included (they name their `parentSubscriptionId`)."""
        query = {"order_id": order_id} if order_id else None
        return list(
            self._collection(
                f"customers/{self._segment(customer_id)}/subscriptions", operation="list_subscriptions", query=query
            )
        )

    def get_subscription(self, *, subscription_id: str) -> WireObject:
        """Reseller-wide lookup by subscription id (the answer names its `customerId`)."""
        return _as_object(self._get(f"subscriptions/{self._segment(subscription_id)}", operation="get_subscription"))

    def list_billing_lines(self, *, period_start: date, period_end: date) -> list[WireObject]:
        """The reseller's billing lines whose charge starts inside the period, at partner price."""
        return list(
            self._collection(
                "billing/lineitems",
                operation="list_billing_lines",
                query={"periodStart": period_start.isoformat(), "periodEnd": period_end.isoformat()},
            )
        )

    def list_add_ons(self, *, customer_id: str, subscription_id: str) -> list[WireObject]:
        return list(
            self._collection(
                f"customers/{self._segment(customer_id)}/subscriptions/{self._segment(subscription_id)}/addons",
                operation="list_addons",
            )
        )

    def patch_subscription(self, *, customer_id: str, subscription: Mapping[str, Any]) -> WireObject:
        """PATCH the whole subscription object; `If-Match` carries the ETag it was read with."""
        etag = (subscription.get("attributes") or {}).get("etag")
        response = self._call(
            "PATCH",
            f"customers/{self._segment(customer_id)}/subscriptions/{self._segment(str(subscription['id']))}",
            operation="patch_subscription",
            idempotent=False,
            body=_jsonable(dict(subscription)),
            headers={"If-Match": str(etag)} if etag else None,
        )
        return _as_object(_decode(response))


def _jsonable(value: Any) -> Any:
    """A read object sent back (PATCH): its Decimal amounts become JSON numbers again."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def _decode(response: httpx.Response) -> Any:
    if not response.content.strip():
        return None
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError as error:
        raise Unavailable(f"ALEF answered {response.request.url.path} with a body that is not JSON") from error


def _as_object(answer: Any) -> WireObject:
    if not isinstance(answer, dict):
        raise Unavailable(f"ALEF answered {type(answer).__name__} where an object was expected")
    return answer
