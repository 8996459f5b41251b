"""httpx client for Microsoft Partner Center REST v1, speaking its wire format and nothing else.

What the wire looks like (as publicly documented):
- Base `https://api.partnercenter.microsoft.com/v1/`; the NCE price sheet lives on another host,
  `https://api.partner.microsoft.com/v1.0/sales/pricesheets(Market='DE',PricesheetView='updatedlicensebased')/$value`,
  and answers CSV. With a `server_url` (the simulator, a proxy) all three bases, login included,
  become that URL.
- Tokens come from Entra: `POST https://login.microsoftonline.com/{partner tenant}/oauth2/v2.0/token`,
  form-encoded, with the client credentials (App only) or a refresh token (App+User, the secure
  application model). An expired token answers 401: the client signs in again once and re-sends.
- Every call carries `MS-RequestId` and `MS-CorrelationId`. A request id is fixed per logical call
  and reused by every re-send of it (timeouts, 5xx, a re-authentication), because Partner Center
  answers a repeated id with the original result instead of applying the call again. That makes
  every call here safe to re-send, writes included. Callers may pass their own id (derived from an
  order line's key) to make a whole order idempotent across processes.
- Errors are a JSON envelope `{code, description, ...}`; 429 carries `Retry-After`; `If-Match`
  conflicts answer 412 (code 2055); NCE refusals such as 800090 answer 400.
- Collections are `{totalCount, items, links}`; the `next` link carries `MS-ContinuationToken` as a
  header (customers page this way).
- A PATCH of a subscription answers 200 with the subscription or 202 with a `Location` to poll.

Money in the price sheet is read as text and handed on as text; the adapter makes it `Decimal`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from marketplace.providers.base import (
    AuthenticationFailed,
    NotFound,
    ProviderError,
    Rejected,
    Throttled,
    Unavailable,
)
from marketplace.providers.http import MarketplaceHttpClient, RetryPolicy, SleepFunction, Timeouts

API_BASE_URL = "https://api.partnercenter.microsoft.com"
PRICING_BASE_URL = "https://api.partner.microsoft.com"
LOGIN_BASE_URL = "https://login.microsoftonline.com"
GRAPH_BASE_URL = "https://graph.microsoft.com"
GRAPH_SCOPE = f"{GRAPH_BASE_URL}/.default"
SCOPE = "https://api.partnercenter.microsoft.com/.default"
NCE_TARGET_VIEW = "OnlineServicesNCE"
CONTINUATION_HEADER = "MS-ContinuationToken"
PRICE_SHEET_VIEW = "updatedlicensebased"

WireObject = dict[str, Any]

#: Seconds before the stated expiry at which a token is renewed instead of used.
_TOKEN_MARGIN = 60.0
_MAX_POLLS = 30


class TokenRejected(AuthenticationFailed):
    """The API refused the access token (expired or revoked): sign in again once and re-send."""


class PreconditionFailed(Rejected):
    """The resource changed since it was read (`If-Match` did not match): read it again."""


class PartnerCenterClient(MarketplaceHttpClient):
    """One partner's session with Partner Center, as one Entra application (App or App+User)."""

    marketplace_name = "Partner Center"

    def __init__(
        self,
        *,
        tenant: str,
        client_id: str,
        client_secret: str,
        refresh_token: str | None = None,
        market: str = "US",
        server_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: SleepFunction = time.sleep,
        random_fraction: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        root = server_url.rstrip("/") if server_url else None
        super().__init__(
            base_url=f"{root or API_BASE_URL}/v1/",
            transport=transport,
            timeouts=timeouts,
            retry_policy=retry_policy,
            sleep=sleep,
            random_fraction=random_fraction,
            headers={"MS-Contract-Version": "v1", "X-Locale": "en-US"},
        )
        if not tenant:
            raise ValueError("Partner Center needs the partner's tenant id or domain")
        self.tenant = tenant
        self.market = market.upper()
        self.pricing_base_url = root or PRICING_BASE_URL
        self.graph_base_url = root or GRAPH_BASE_URL
        self.token_url = f"{root or LOGIN_BASE_URL}/{quote(tenant, safe='')}/oauth2/v2.0/token"
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._clock = clock
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._graph_token: str | None = None
        self._graph_token_expires_at = 0.0
        self._correlation_id: str | None = None

    @property
    def app_plus_user(self) -> bool:
        return bool(self._refresh_token)

    # -- errors -----------------------------------------------------------------------------------

    def error_for_response(self, *, response: httpx.Response, operation: str) -> ProviderError | None:
        status = response.status_code
        if status < 400:
            return None
        if status == 429:
            return self.throttled_error(response=response, operation=operation)
        code, description = _envelope(response)
        reference = response.headers.get("MS-CorrelationId")
        message = f"Partner Center {operation}: {description}" if description else None
        if status == 401:
            return TokenRejected(
                message or f"Partner Center refused the access token ({operation})", reference=reference
            )
        if status >= 500:
            return Unavailable(
                message or self.describe_failure(response=response, operation=operation), reference=reference
            )
        message = message or self.describe_failure(response=response, operation=operation)
        if status == 403:
            return AuthenticationFailed(message, reference=reference)
        if status == 404:
            return NotFound(message, reference=reference)
        if status == 412 or code == "2055":
            return PreconditionFailed(code or "412", message, reference=reference)
        return Rejected(code or str(status), message, reference=reference)

    # -- authentication ---------------------------------------------------------------------------

    def acquire_token(self) -> str:
        """Sign in at Entra: the refresh-token grant (App+User) when one is configured, else client credentials."""
        form = {"client_id": self._client_id, "client_secret": self._client_secret, "scope": SCOPE}
        if self._refresh_token:
            form.update(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": self._refresh_token,
                    "scope": f"{SCOPE} offline_access",
                }
            )
        else:
            form["grant_type"] = "client_credentials"
        answer = self._token_request(form)
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthenticationFailed("Entra answered the token request without an access token")
        try:
            lifetime = float(answer.get("expires_in") or 0)
        except (TypeError, ValueError):
            lifetime = 0.0
        self._token = token
        self._token_expires_at = self._clock() + max(lifetime, 0.0)
        rotated = answer.get("refresh_token")
        if self._refresh_token and isinstance(rotated, str) and rotated:
            self._refresh_token = rotated
        return token

    def _token_request(self, form: Mapping[str, str]) -> WireObject:
        """POST the form to the token endpoint; throttling and outages are retried (signing in is idempotent)."""
        policy = self.retry_policy
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                response = self._http.post(self.token_url, data=dict(form))
            except httpx.TransportError as error:
                self._log(
                    "POST", "Token", None, (time.perf_counter() - started) * 1000, attempt, error=type(error).__name__
                )
                if attempt >= policy.max_attempts:
                    raise Unavailable(f"Entra token request failed: {type(error).__name__}") from error
                self._wait(policy.backoff(attempt=attempt, random_fraction=self._random_fraction()))
                continue
            self._log("POST", "Token", response.status_code, (time.perf_counter() - started) * 1000, attempt)
            if response.status_code == 429:
                throttled = self.throttled_error(response=response, operation="Token")
                if attempt >= policy.max_attempts or throttled.retry_after > policy.max_delay:
                    raise throttled
                self._wait(throttled.retry_after)
                continue
            if response.status_code >= 500:
                if attempt >= policy.max_attempts:
                    raise Unavailable(f"Entra answered HTTP {response.status_code} to the token request")
                self._wait(policy.backoff(attempt=attempt, random_fraction=self._random_fraction()))
                continue
            answer = _decode(response)
            if response.status_code >= 400:
                description = answer.get("error_description") if isinstance(answer, dict) else None
                code = answer.get("error") if isinstance(answer, dict) else None
                raise AuthenticationFailed(
                    f"Entra refused to sign in ({code or response.status_code}): {description or response.text[:200]}",
                    reference=answer.get("correlation_id") if isinstance(answer, dict) else None,
                )
            return _as_object(answer)

    def _graph_bearer(self) -> str:
        """An app-only Microsoft Graph token of the partner's tenant (the same app, Graph's permissions)."""
        if self._graph_token is None or self._clock() >= self._graph_token_expires_at - _TOKEN_MARGIN:
            answer = self._token_request(
                {
                    "grant_type": "client_credentials",
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                    "scope": GRAPH_SCOPE,
                }
            )
            token = answer.get("access_token")
            if not isinstance(token, str) or not token:
                raise AuthenticationFailed("Entra answered the token request without an access token")
            try:
                lifetime = float(answer.get("expires_in") or 0)
            except (TypeError, ValueError):
                lifetime = 0.0
            self._graph_token, self._graph_token_expires_at = token, self._clock() + max(lifetime, 0.0)
        return self._graph_token

    def iter_delegated_admin_relationships(self, *, page_size: int = 100) -> Iterator[WireObject]:
        """The partner's GDAP relationships from Microsoft Graph
        (`/v1.0/tenantRelationships/delegatedAdminRelationships`), page by page through `@odata.nextLink`."""
        url: str | None = f"{self.graph_base_url}/v1.0/tenantRelationships/delegatedAdminRelationships?$top={page_size}"
        while url:
            response = self.send(
                method="GET",
                path=url,
                operation="GetDelegatedAdminRelationships",
                idempotent=True,
                headers={"Authorization": f"Bearer {self._graph_bearer()}"},
                payload=False,
            )
            page = _as_object(_decode(response))
            yield from _as_list(page.get("value"))
            next_link = page.get("@odata.nextLink")
            url = str(next_link) if next_link else None

    def _bearer(self) -> str:
        if self._token is None or self._clock() >= self._token_expires_at - _TOKEN_MARGIN:
            self.acquire_token()
        assert self._token is not None
        return self._token

    @contextlib.contextmanager
    def correlation(self, correlation_id: str | None = None) -> Iterator[str]:
        """Send every call inside the block with one `MS-CorrelationId` (one console action, many calls)."""
        previous = self._correlation_id
        self._correlation_id = correlation_id or str(uuid.uuid4())
        try:
            yield self._correlation_id
        finally:
            self._correlation_id = previous

    def _call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json_body: Any = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        payload: bool = True,
    ) -> httpx.Response:
        """Send an authenticated call. The request id stays the same for every re-send of this call,
        so Partner Center can recognise a repeat. A refused token is renewed once."""
        request_id = request_id or str(uuid.uuid4())
        correlation_id = self._correlation_id or str(uuid.uuid4())
        for attempt in (1, 2):
            call_headers = {
                "Authorization": f"Bearer {self._bearer()}",
                "MS-RequestId": request_id,
                "MS-CorrelationId": correlation_id,
                **(headers or {}),
            }
            try:
                return self.send(
                    method=method,
                    path=path,
                    operation=operation,
                    idempotent=True,
                    json_body=json_body,
                    headers=call_headers,
                    payload=payload,
                )
            except TokenRejected as rejected:
                self._token = None
                if attempt == 2:
                    raise AuthenticationFailed(
                        f"Partner Center refused a fresh access token ({operation}): {rejected.message}",
                        reference=rejected.reference,
                    ) from rejected
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return _decode(self._call(method, path, **kwargs))

    def _collection(
        self, path: str, *, operation: str, headers: Mapping[str, str] | None = None
    ) -> Iterator[WireObject]:
        """Yield every item of a collection, following `links.next` (and its continuation header)."""
        next_path: str | None = path
        next_headers = dict(headers or {})
        while next_path is not None:
            response = self._call("GET", next_path, operation=operation, headers=next_headers, payload=False)
            page = _as_object(_decode(response))
            next_path, next_headers = self._next_link(page)
            self.digest_page(response, cursor=next_headers.get(CONTINUATION_HEADER))
            yield from _as_list(page.get("items"))

    def _next_link(self, page: Mapping[str, Any]) -> tuple[str | None, dict[str, str]]:
        link = (page.get("links") or {}).get("next")
        if not isinstance(link, dict) or not link.get("uri"):
            return None, {}
        headers = {str(h.get("key")): str(h.get("value")) for h in link.get("headers") or [] if h.get("key")}
        return _relative(str(link["uri"])), headers

    # -- customers --------------------------------------------------------------------------------

    def get_customers_page(self, *, size: int = 100, continuation_token: str | None = None) -> WireObject:
        """One page of customers; pass the previous page's continuation token for the next one."""
        if continuation_token is None:
            return _as_object(self._json("GET", f"customers?size={size}", operation="GetCustomers"))
        return _as_object(
            self._json(
                "GET",
                f"customers?size={size}&seekOperation=Next",
                operation="GetCustomers",
                headers={"MS-ContinuationToken": continuation_token},
            )
        )

    def iter_customers(self, *, page_size: int = 100) -> Iterator[WireObject]:
        return self._collection(f"customers?size={page_size}", operation="GetCustomers")

    def get_customer(self, *, customer_id: str) -> WireObject:
        return _as_object(self._json("GET", f"customers/{_segment(customer_id)}", operation="GetCustomer"))

    def create_customer(self, *, customer: Mapping[str, Any], request_id: str | None = None) -> WireObject:
        """`customer` is Partner Center's Customer (`companyProfile`, `billingProfile`)."""
        return _as_object(
            self._json("POST", "customers", operation="CreateCustomer", json_body=dict(customer), request_id=request_id)
        )

    def domain_exists(self, *, domain: str) -> bool:
        """Whether the domain is already registered in Microsoft Online: Partner Center answers a HEAD
        with 200 when it is, 404 when it is free."""
        try:
            self._call("HEAD", f"domains/{_segment(domain)}", operation="CheckDomainAvailability", payload=False)
        except NotFound:
            return False
        return True

    # -- catalog ----------------------------------------------------------------------------------

    def list_products(self, *, target_view: str = NCE_TARGET_VIEW) -> list[WireObject]:
        return list(
            self._collection(f"products?country={self.market}&targetView={target_view}", operation="GetProducts")
        )

    def list_skus(self, *, product_id: str) -> list[WireObject]:
        return list(
            self._collection(f"products/{_segment(product_id)}/skus?country={self.market}", operation="GetSkus")
        )

    def list_availabilities(self, *, product_id: str, sku_id: str) -> list[WireObject]:
        """Availabilities of a SKU. Their ids change over time: read them again right before ordering."""
        path = f"products/{_segment(product_id)}/skus/{_segment(sku_id)}/availabilities?country={self.market}"
        return list(self._collection(path, operation="GetAvailabilities"))

    def list_customer_products(self, *, customer_id: str, target_view: str = NCE_TARGET_VIEW) -> list[WireObject]:
        """The catalog as one customer may buy it, in the customer's market (no country parameter)."""
        path = f"customers/{_segment(customer_id)}/products?targetView={quote(target_view, safe='')}"
        return list(self._collection(path, operation="GetCustomerProducts"))

    def list_customer_skus(self, *, customer_id: str, product_id: str) -> list[WireObject]:
        path = f"customers/{_segment(customer_id)}/products/{_segment(product_id)}/skus"
        return list(self._collection(path, operation="GetCustomerSkus"))

    def list_customer_availabilities(self, *, customer_id: str, product_id: str, sku_id: str) -> list[WireObject]:
        """Availabilities of a SKU for one customer: `isPurchasable` says whether this customer can buy it."""
        path = (
            f"customers/{_segment(customer_id)}/products/{_segment(product_id)}/skus/{_segment(sku_id)}/availabilities"
        )
        return list(self._collection(path, operation="GetCustomerAvailabilities"))

    def get_price_sheet(self, *, market: str | None = None, view: str = PRICE_SHEET_VIEW) -> list[dict[str, str]]:
        """The partner's price sheet (CSV) as rows of text; the NCE licence view by default. App+User only."""
        country = (market or self.market).upper()
        url = f"{self.pricing_base_url}/v1.0/sales/pricesheets(Market='{country}',PricesheetView='{view}')/$value"
        response = self._call("GET", url, operation="GetPriceSheet", headers={"Accept": "text/csv, */*"})
        text = response.content.decode("utf-8-sig")
        return [dict(row) for row in csv.DictReader(io.StringIO(text))]

    # -- carts and orders ---------------------------------------------------------------------------

    def create_cart(
        self, *, customer_id: str, line_items: Sequence[Mapping[str, Any]], request_id: str | None = None
    ) -> WireObject:
        return _as_object(
            self._json(
                "POST",
                f"customers/{_segment(customer_id)}/carts",
                operation="CreateCart",
                json_body={"lineItems": [dict(item) for item in line_items]},
                request_id=request_id,
            )
        )

    def update_cart(
        self, *, customer_id: str, cart_id: str, line_items: Sequence[Mapping[str, Any]], request_id: str | None = None
    ) -> WireObject:
        return _as_object(
            self._json(
                "PUT",
                f"customers/{_segment(customer_id)}/carts/{_segment(cart_id)}",
                operation="UpdateCart",
                json_body={"lineItems": [dict(item) for item in line_items]},
                request_id=request_id,
            )
        )

    def get_cart(self, *, customer_id: str, cart_id: str) -> WireObject:
        path = f"customers/{_segment(customer_id)}/carts/{_segment(cart_id)}"
        return _as_object(self._json("GET", path, operation="GetCart"))

    def checkout_cart(self, *, customer_id: str, cart_id: str, request_id: str | None = None) -> WireObject:
        """Buy the cart: `CartCheckoutResult {orders[], orderErrors[{orderGroupId, code, description}]}`.
        Some order groups may fail while others complete."""
        return _as_object(
            self._json(
                "POST",
                f"customers/{_segment(customer_id)}/carts/{_segment(cart_id)}/checkout",
                operation="Checkout",
                json_body={},
                request_id=request_id,
            )
        )

    def create_order(
        self,
        *,
        customer_id: str,
        line_items: Sequence[Mapping[str, Any]],
        billing_cycle: str | None = None,
        request_id: str | None = None,
    ) -> WireObject:
        """Buy without a cart: an Order whose `lineItems` are `{lineItemNumber, offerId (the catalog item id),
        quantity, termDuration, billingCycle, friendlyName}`; answers the order, `pending` while provisioning."""
        body: dict[str, Any] = {
            "referenceCustomerId": customer_id,
            "lineItems": [{"lineItemNumber": number, **dict(item)} for number, item in enumerate(line_items)],
        }
        if billing_cycle:
            body["billingCycle"] = billing_cycle
        return _as_object(
            self._json(
                "POST",
                f"customers/{_segment(customer_id)}/orders",
                operation="CreateOrder",
                json_body=body,
                request_id=request_id,
            )
        )

    def list_orders(self, *, customer_id: str) -> list[WireObject]:
        return list(self._collection(f"customers/{_segment(customer_id)}/orders", operation="GetOrders"))

    def get_order(self, *, customer_id: str, order_id: str) -> WireObject:
        path = f"customers/{_segment(customer_id)}/orders/{_segment(order_id)}"
        return _as_object(self._json("GET", path, operation="GetOrder"))

    # -- invoices ---------------------------------------------------------------------------------

    def list_invoices(self) -> list[WireObject]:
        return list(self._collection("invoices", operation="GetInvoices"))

    def iter_invoice_line_items(self, *, invoice_id: str, page_size: int = 2000) -> Iterator[WireObject]:
        """The invoice's NCE billing line items ("onetime" provider), page by page."""
        path = (
            f"invoices/{_segment(invoice_id)}/lineitems?provider=onetime&invoicelineitemtype=billinglineitems"
            f"&size={page_size}"
        )
        return self._collection(path, operation="GetInvoiceLineItems")

    def get_invoice_statement(self, *, invoice_id: str) -> bytes:
        """The invoice's PDF statement (`GET /v1/invoices/{id}/documents/statement`, application/pdf)."""
        response = self._call(
            "GET",
            f"invoices/{_segment(invoice_id)}/documents/statement",
            operation="GetInvoiceStatement",
            headers={"Accept": "application/pdf"},
            payload=False,
        )
        if not response.content.startswith(b"%PDF-"):
            raise Unavailable("Partner Center's invoice statement is not a PDF")
        return response.content

    # -- subscriptions ----------------------------------------------------------------------------

    def list_subscriptions(self, *, customer_id: str, order_id: str | None = None) -> list[WireObject]:
        """Every subscription of a customer, add-ons included (they carry `parentSubscriptionId`)."""
        path = f"customers/{_segment(customer_id)}/subscriptions"
        if order_id:
            path += f"?order_id={quote(order_id, safe='')}"
        return list(self._collection(path, operation="GetSubscriptions"))

    def get_subscription(self, *, customer_id: str, subscription_id: str) -> WireObject:
        path = f"customers/{_segment(customer_id)}/subscriptions/{_segment(subscription_id)}"
        return _as_object(self._json("GET", path, operation="GetSubscription"))

    def get_subscription_provisioning_status(self, *, customer_id: str, subscription_id: str) -> WireObject:
        """`{skuId, status: pending | success | failed, quantity, endDate}` of a subscription being provisioned."""
        path = f"customers/{_segment(customer_id)}/subscriptions/{_segment(subscription_id)}/provisioningstatus"
        return _as_object(self._json("GET", path, operation="GetSubscriptionProvisioningStatus"))

    def list_subscribed_skus(self, *, customer_id: str) -> list[WireObject]:
        """The customer tenant's licences: per SKU `activeUnits` (bought), `consumedUnits` (assigned to users),
        `suspendedUnits`, `warningUnits` and `productSku {id, name, skuPartNumber}`."""
        return list(
            self._collection(f"customers/{_segment(customer_id)}/subscribedskus", operation="GetSubscribedSkus")
        )

    def list_add_ons(self, *, customer_id: str, subscription_id: str) -> list[WireObject]:
        path = f"customers/{_segment(customer_id)}/subscriptions/{_segment(subscription_id)}/addons"
        return list(self._collection(path, operation="GetSubscriptionAddOns"))

    def update_subscription(
        self,
        *,
        customer_id: str,
        subscription: Mapping[str, Any],
        etag: str | None = None,
        request_id: str | None = None,
    ) -> WireObject:
        """PATCH the whole subscription object. With `etag` the change applies only to that version
        (a `PreconditionFailed` otherwise). A 202 is followed through its `Location` until done."""
        subscription_id = str(subscription.get("id") or "")
        if not subscription_id:
            raise ValueError("the subscription object needs its id")
        headers = {"If-Match": etag} if etag else None
        response = self._call(
            "PATCH",
            f"customers/{_segment(customer_id)}/subscriptions/{_segment(subscription_id)}",
            operation="UpdateSubscription",
            json_body=dict(subscription),
            request_id=request_id,
            headers=headers,
        )
        for _ in range(_MAX_POLLS):
            if response.status_code != 202:
                return _as_object(_decode(response))
            location = response.headers.get("Location")
            if not location:
                raise Unavailable("Partner Center accepted the subscription change without a Location to follow")
            self._wait(_retry_after(response))
            response = self._call("GET", _relative(location), operation="GetSubscriptionOperation")
        raise Unavailable(
            f"Partner Center had not finished changing subscription {subscription_id} after {_MAX_POLLS} polls; "
            "read it again later"
        )


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def _envelope(response: httpx.Response) -> tuple[str | None, str | None]:
    """(code, description) of Partner Center's error body, tolerating other shapes."""
    try:
        body = json.loads(response.content) if response.content.strip() else None
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    code = body.get("code", body.get("errorCode"))
    description = body.get("description") or body.get("message") or body.get("errorMessage")
    return (str(code) if code is not None else None), (str(description) if description else None)


def _decode(response: httpx.Response) -> Any:
    if not response.content.strip():
        return None
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError as error:
        raise Unavailable(
            f"Partner Center answered {response.request.url.path} with a body that is not JSON"
        ) from error


def _as_object(answer: Any) -> WireObject:
    if not isinstance(answer, dict):
        raise Unavailable(f"Partner Center answered {type(answer).__name__} where an object was expected")
    return answer


def _as_list(answer: Any) -> list[WireObject]:
    if answer is None:
        return []
    if not isinstance(answer, list):
        raise Unavailable(f"Partner Center answered {type(answer).__name__} where a list was expected")
    return answer


def _segment(value: str) -> str:
    return quote(str(value), safe="")


def _relative(uri: str) -> str:
    """Links are absolute or rooted at `/v1/`; either way they are API links, sent relative to the
    configured base URL (which ends in `/v1/`) so a simulator or proxy base is kept."""
    if uri.startswith(("http://", "https://")):
        parsed = httpx.URL(uri)
        uri = parsed.raw_path.decode("ascii")
    stripped = uri.lstrip("/")
    return stripped[3:] if stripped.lower().startswith("v1/") else stripped


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


__all__ = [
    "API_BASE_URL",
    "LOGIN_BASE_URL",
    "PRICING_BASE_URL",
    "PartnerCenterClient",
    "PreconditionFailed",
    "Throttled",
    "TokenRejected",
    "WireObject",
]
