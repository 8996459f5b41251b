"""httpx client for the ALSO Cloud Marketplace SimpleAPI, speaking its wire format and nothing else.

What the wire looks like (the public
SwaggerHub spec "MarketplaceSimpleAPI 1.0.0"):
- RPC over POST: `<host>/SimpleAPI/SimpleAPIService.svc/rest/<Operation>` with a JSON body, reads
  included. Request keys are camelCase, payload objects PascalCase inside a camelCase wrapper.
- `GetSessionToken {username, password}` answers a bare JSON string; every later call carries
  `Authenticate: CCPSessionId <token>`. Users with MFA enabled cannot sign in.
- Every error is a WCF XML fault (`Fault/Reason/Text`, `Detail/ServiceException/{IsSessionExpired,
  IssueToken, Message}`), normally with HTTP 500, bad logins included.
- Quantity is a field (`Fields[Name == "Quantity"]`), not a property. Ordering goes
  `GetFieldsForService` -> `ValidateFields` -> `CreateSubscription`; `UpdateSubscription` sends
  `Fields` as a list of `{name, value}` and answers no content.
- No paging: list operations return whole arrays per parent account (companies under a reseller,
  subscriptions under a company), so "paging" is walking the account tree one parent at a time.
- No idempotency keys: the caller de-duplicates (see the adapter's use of `PurchaseOrderNumber`).

Money arrives as JSON numbers and is decoded straight to `Decimal`, never through float.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

import httpx

from marketplace.providers.base import (
    AuthenticationFailed,
    NotFound,
    ProviderError,
    Rejected,
    Unavailable,
)
from marketplace.providers.http import MarketplaceHttpClient, RetryPolicy, SleepFunction, Timeouts

API_PATH = "/SimpleAPI/SimpleAPIService.svc/rest"

#: Region -> public host of that country's ALSO marketplace (pitwch/go-also-cloud-wrapper
#: alsocloud/marketplaces.go). With a `server_url` (the simulator, a proxy) the region becomes a
#: path prefix instead: `<server_url>/<region>/SimpleAPI/SimpleAPIService.svc/rest`. The simulator
#: accepts both forms (it also routes on these host names).
ALSO_REGION_HOSTS: dict[str, str] = {
    "at": "marketplace.also.at",
    "ch": "marketplace.also.ch",
    "de": "marketplace.also.de",
    "dk": "marketplace.also.dk",
    "ee": "marketplace.also.ee",
    "fi": "marketplace.also.fi",
    "lt": "marketplace.also.lt",
    "nl": "marketplace.also.nl",
    "no": "marketplace.also.no",
    "se": "marketplace.also.se",
    "si": "marketplace.also.si",
    "fr": "marketplace.alsofrance.fr",
    "lv": "marketplace.alsolatvia.lv",
    "pl": "marketplace.alsopolska.pl",
    "test": "marketplacetest.ccpaas.net",
}

WireObject = dict[str, Any]

_NOT_FOUND_PATTERN = re.compile(r"\b(not found|does not exist)\b", re.IGNORECASE)
_MAX_FAULT_BYTES = 64 * 1024


def base_url_for(*, region: str, server_url: str | None = None) -> str:
    """Build the SimpleAPI base URL for a region (see `ALSO_REGION_HOSTS`)."""
    if region not in ALSO_REGION_HOSTS:
        known = ", ".join(sorted(ALSO_REGION_HOSTS))
        raise ValueError(f"Unknown ALSO region {region!r}; known regions: {known}")
    if server_url:
        return f"{server_url.rstrip('/')}/{region}{API_PATH}"
    return f"https://{ALSO_REGION_HOSTS[region]}{API_PATH}"


@dataclass(frozen=True, kw_only=True)
class AlsoFault:
    """A parsed WCF fault body."""

    code: str
    message: str
    is_session_expired: bool
    issue_token: str | None


def parse_fault(content: bytes) -> AlsoFault | None:
    """Read ALSO's XML fault, tolerating both the bare WCF namespace and a SOAP envelope."""
    if not content or len(content) > _MAX_FAULT_BYTES or b"<!DOCTYPE" in content[:1024].upper():
        return None
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError:
        return None

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    fault = next((element for element in root.iter() if local(element.tag) == "Fault"), None)
    if fault is None:
        return None
    texts: dict[str, str] = {}
    for element in fault.iter():
        name = local(element.tag)
        if name not in texts and element.text and element.text.strip():
            texts[name] = element.text.strip()
    message = texts.get("Message") or texts.get("Text") or "ALSO returned a fault without a message"
    return AlsoFault(
        code=texts.get("Value", "Sender").rsplit(":", 1)[-1],
        message=message,
        is_session_expired=texts.get("IsSessionExpired", "").lower() == "true",
        issue_token=texts.get("IssueToken"),
    )


class SessionExpired(AuthenticationFailed):
    """The session token is no longer valid; the client signs in again once and re-sends."""


class AlsoClient(MarketplaceHttpClient):
    """One reseller user's session with one country's ALSO marketplace."""

    marketplace_name = "ALSO"

    def __init__(
        self,
        *,
        region: str,
        username: str,
        password: str,
        server_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: SleepFunction = time.sleep,
        random_fraction: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(
            base_url=base_url_for(region=region, server_url=server_url),
            transport=transport,
            timeouts=timeouts,
            retry_policy=retry_policy,
            sleep=sleep,
            random_fraction=random_fraction,
        )
        self.region = region
        self._username = username
        self._password = password
        self._token: str | None = None

    # -- errors -----------------------------------------------------------------------------------

    def error_for_response(self, *, response: httpx.Response, operation: str) -> ProviderError | None:
        if response.status_code < 400:
            return None
        if response.status_code == 429:
            return self.throttled_error(response=response, operation=operation)
        fault = parse_fault(response.content)
        if fault is None:
            return super().error_for_response(response=response, operation=operation)
        if fault.is_session_expired:
            return SessionExpired(fault.message, reference=fault.issue_token)
        if fault.code == "Receiver":
            return Unavailable(f"ALSO {operation} failed: {fault.message}", reference=fault.issue_token)
        if operation == "GetSessionToken":
            return AuthenticationFailed(fault.message, reference=fault.issue_token)
        if _NOT_FOUND_PATTERN.search(fault.message):
            return NotFound(fault.message, reference=fault.issue_token)
        return Rejected(fault.code, fault.message, reference=fault.issue_token)

    # -- session ----------------------------------------------------------------------------------

    def authenticate(self) -> str:
        """Sign in and keep the session token; the answer is a JSON string literal."""
        response = self.send(
            method="POST",
            path="GetSessionToken",
            operation="GetSessionToken",
            idempotent=True,
            json_body={"username": self._username, "password": self._password},
            payload=False,
        )
        token = _decode(response)
        if not isinstance(token, str) or not token:
            raise AuthenticationFailed("ALSO answered GetSessionToken without a session token")
        self._token = token
        return token

    def terminate_session_token(self) -> None:
        """Log out. An already expired session is as good as logged out: no sign-in just to leave."""
        if self._token is None:
            return
        try:
            self.send(
                method="POST",
                path="TerminateSessionToken",
                operation="TerminateSessionToken",
                idempotent=True,
                json_body={},
                headers={"Authenticate": f"CCPSessionId {self._token}"},
                payload=False,
            )
        except SessionExpired:
            pass
        finally:
            self._token = None

    def ping_pong(self) -> None:
        self._call("PingPong", {}, idempotent=True)

    def _call(self, operation: str, body: Mapping[str, Any], *, idempotent: bool) -> Any:
        """Send an authenticated call. An expired session is renewed once: ALSO refused the call
        before doing anything, so re-sending it, even a write, cannot apply it twice."""
        if self._token is None:
            self.authenticate()
        for attempt in (1, 2):
            try:
                response = self.send(
                    method="POST",
                    path=operation,
                    operation=operation,
                    idempotent=idempotent,
                    json_body=dict(body),
                    headers={"Authenticate": f"CCPSessionId {self._token}"},
                )
            except SessionExpired as expired:
                self._token = None
                if attempt == 2:
                    raise AuthenticationFailed(
                        f"ALSO session expired again right after signing in ({operation}): {expired.message}",
                        reference=expired.reference,
                    ) from expired
                self.authenticate()
                continue
            return _decode(response)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- catalog ----------------------------------------------------------------------------------

    def get_marketplaces(self) -> list[WireObject]:
        return _as_list(self._call("GetMarketplaces", {}, idempotent=True))

    def list_marketplace_services(self, *, marketplace_id: int) -> list[WireObject]:
        """Products of a marketplace with their billing options (`SimpleProductBillingInfo`)."""
        return _as_list(self._call("ListMarketplaceServices", {"marketplaceId": marketplace_id}, idempotent=True))

    def get_marketplace_service_charges(self, *, marketplace_id: int) -> list[WireObject]:
        """The price list: per service, `Charges` with purchase, custom and suggested retail prices."""
        return _as_list(self._call("GetMarketplaceServiceCharges", {"marketplaceId": marketplace_id}, idempotent=True))

    def get_possible_services_for_parent(self, *, parent_account_id: int) -> list[WireObject]:
        return _as_list(
            self._call("GetPossibleServicesForParent", {"parentAccountId": parent_account_id}, idempotent=True)
        )

    # -- companies --------------------------------------------------------------------------------

    def get_company(self, *, account_id: int | None = None) -> WireObject:
        """One company; without `account_id`, the signed-in user's own company (the reseller)."""
        body = {} if account_id is None else {"accountId": account_id}
        answer = self._call("GetCompany", body, idempotent=True)
        if isinstance(answer, list):  # the spec declares an array of one
            if not answer:
                raise NotFound(f"ALSO has no company {account_id}")
            answer = answer[0]
        return _as_object(answer)

    def get_companies(self, *, parent_account_id: int | None = None) -> list[WireObject]:
        """First-level companies under a parent; without one, under the signed-in reseller."""
        body = {} if parent_account_id is None else {"parentAccountId": parent_account_id}
        return _as_list(self._call("GetCompanies", body, idempotent=True))

    def create_company(self, *, company_account: Mapping[str, Any]) -> WireObject:
        """`company_account` is ALSO's PascalCase CompanyAccount (ParentAccountId, CompanyName, ...)."""
        return _as_object(self._call("CreateCompany", {"companyAccount": dict(company_account)}, idempotent=False))

    # -- credit limits and users -----------------------------------------------------------------

    def get_credit_limit(self, *, account_id: int) -> WireObject:
        """`SimpleCreditLimitRecord {Limit, RemainingCreditLimit, HasCreditLimit, Currency, Comment, Date, ...}`
        of the reseller itself (ALSO's limit on it) or of one of its companies."""
        return _as_object(self._call("GetCreditLimit", {"accountId": account_id}, idempotent=True))

    def set_credit_limit(self, *, account_id: int, limit: Decimal | None, comment: str) -> None:
        """Limit a company's spending; `limit=None` removes the limit (the spec: an empty limit)."""
        body: dict[str, Any] = {"accountId": account_id, "comment": comment}
        if limit is not None:
            body["limit"] = float(limit)  # a JSON number; float prints the shortest exact decimal of cents
        self._call("SetCreditLimit", body, idempotent=True)

    def get_users(self, *, company_account_id: int) -> list[WireObject]:
        return _as_list(self._call("GetUsers", {"companyAccountId": company_account_id}, idempotent=True))

    def get_user(self, *, account_id: int | None = None) -> WireObject:
        """One user; without `account_id`, the signed-in one."""
        body = {} if account_id is None else {"accountId": account_id}
        return _as_object(self._call("GetUser", body, idempotent=True))

    def get_service_information(self, *, service_name: str) -> WireObject:
        """`ServiceInformation {DisplayName, Description, TermsConditions}` of a service."""
        return _as_object(self._call("GetServiceInformation", {"serviceName": service_name}, idempotent=True))

    # -- subscriptions ----------------------------------------------------------------------------

    def get_subscriptions(self, *, parent_account_id: int, exclude_user_level: bool | None = None) -> list[WireObject]:
        body: dict[str, Any] = {"parentAccountId": parent_account_id}
        if exclude_user_level is not None:
            body["excludeUserLevel"] = exclude_user_level
        return _as_list(self._call("GetSubscriptions", body, idempotent=True))

    def get_subscription(self, *, account_id: int) -> WireObject:
        return _as_object(self._call("GetSubscription", {"accountId": account_id}, idempotent=True))

    def get_subscription_with_addons(self, *, account_id: int) -> WireObject:
        return _as_object(self._call("GetSubscriptionWithAddons", {"accountId": account_id}, idempotent=True))

    def get_fields_for_service(
        self, *, parent_account_id: int, product_name: str, secondary_parent_id: int | None = None
    ) -> WireObject:
        """Field definitions (`Fields[]` with DisplayType, EnumMembers, DefaultValue, Min/MaxValue)."""
        body: dict[str, Any] = {"parentAccountId": parent_account_id, "productName": product_name}
        if secondary_parent_id is not None:
            body["secondaryParentId"] = secondary_parent_id
        return _as_object(self._call("GetFieldsForService", body, idempotent=True))

    def validate_fields(
        self,
        *,
        parent_account_id: int,
        service_name: str,
        fields: Mapping[str, Any],
        account_id: int | None = None,
        fields_to_validate: Sequence[str] | None = None,
    ) -> WireObject:
        """Dry-run validation; answers one `ValidationResult {Result, ErrorDetails, FieldName}`."""
        account: dict[str, Any] = {
            "ParentAccountId": parent_account_id,
            "ServiceName": service_name,
            "Fields": dict(fields),
        }
        if account_id is not None:
            account["AccountId"] = account_id
        if fields_to_validate:
            account["FieldsToValidate"] = list(fields_to_validate)
        return _as_object(self._call("ValidateFields", {"subscriptionAccount": account}, idempotent=True))

    def create_subscription(
        self,
        *,
        parent_account_id: int,
        service_name: str,
        fields: Mapping[str, Any],
        purchase_order_number: str | None = None,
        contract_id: str | None = None,
        dependency_account_id: int | None = None,
    ) -> WireObject:
        """Order. `fields` is the `{FieldName: value}` object, Quantity included."""
        account: dict[str, Any] = {
            "ParentAccountId": parent_account_id,
            "ServiceName": service_name,
            "Fields": dict(fields),
        }
        if purchase_order_number is not None:
            account["PurchaseOrderNumber"] = purchase_order_number
        if contract_id is not None:
            account["ContractId"] = contract_id
        if dependency_account_id is not None:
            account["DependencyAccountId"] = dependency_account_id
        return _as_object(self._call("CreateSubscription", {"subscriptionAccount": account}, idempotent=False))

    def update_subscription(
        self,
        *,
        account_id: int,
        service_name: str,
        fields: Mapping[str, Any] | None = None,
        advance_period_end_action: str | None = None,
        purchase_order_number: str | None = None,
    ) -> None:
        """Change fields (Quantity) and/or what happens at the period end (Renew | Terminate).
        Here `Fields` travels as a list of lower-case `{name, value}` pairs with string values."""
        subscription: dict[str, Any] = {
            "AccountId": account_id,
            "ServiceName": service_name,
            "Fields": [{"name": name, "value": str(value)} for name, value in (fields or {}).items()],
        }
        if advance_period_end_action is not None:
            subscription["AdvancePeriodEndAction"] = advance_period_end_action
        if purchase_order_number is not None:
            subscription["PurchaseOrderNumber"] = purchase_order_number
        self._call("UpdateSubscription", {"subscription": subscription}, idempotent=False)

    def configure_subscription_renew(self, *, account_id: int, field_values: Mapping[str, Any]) -> None:
        """Field values ALSO applies when the subscription renews at its contract end date."""
        self._call(
            "ConfigureSubscriptionRenew", {"accountId": account_id, "fieldValues": dict(field_values)}, idempotent=False
        )

    def terminate_account(self, *, account_id: int, termination_reason: str | None = None) -> None:
        body: dict[str, Any] = {"accountId": account_id}
        if termination_reason:
            body["terminationReason"] = termination_reason
        self._call("TerminateAccount", body, idempotent=False)

    def get_latest_invoices(self) -> list[WireObject]:
        """The invoices of the last closed billing interval (the last full month)."""
        return _as_list(self._call("GetLatestInvoices", {}, idempotent=True))

    def get_preview_invoices(self) -> list[WireObject]:
        """The current month's preview invoices (none before ALSO generates the first one)."""
        return _as_list(self._call("GetPreviewInvoices", {}, idempotent=True))

    def get_latest_invoices_for_period(self, *, year: int, month: int) -> list[WireObject]:
        """The invoices of the reseller's companies for a calendar month (one per company, with `Charges`)."""
        return _as_list(self._call("GetLatestInvoicesForPeriod", {"year": year, "month": month}, idempotent=True))


def _decode(response: httpx.Response) -> Any:
    if not response.content.strip():
        return None
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError as error:
        raise Unavailable(f"ALSO answered {response.request.url.path} with a body that is not JSON") from error


def _as_list(answer: Any) -> list[WireObject]:
    if answer is None:
        return []
    if not isinstance(answer, list):
        raise Unavailable(f"ALSO answered {type(answer).__name__} where a list was expected")
    return answer


def _as_object(answer: Any) -> WireObject:
    if not isinstance(answer, dict):
        raise Unavailable(f"ALSO answered {type(answer).__name__} where an object was expected")
    return answer
