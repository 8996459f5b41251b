"""Microsoft Partner Center implementation of `MarketplaceProvider`: maps Partner Center wire objects to records.

Partner Center specific choices, in one place:
- The connection: `region` is the market (the partner's country: "de" sells in EUR, "us" in USD),
  `username` the Entra application (client) id, `secret` its client secret, `options["tenant"]` the
  partner's tenant id or domain and `options["refresh_token"]` the App+User refresh token (the
  secure application model; without it the provider signs in App only, and the price sheet, which
  needs App+User, is refused).
- Subscription routes need the customer, so a subscription's (and an add-on's) external id is
  `"<customer id>:<subscription id>"`; customers keep their tenant id.
- An offer is one term and billing cycle of one catalog item, `"<productId>:<skuId>|<term>|<billing>"`
  (`"CFQ7TTC0LH18:0001|P1Y|annual"`): availability ids change over time, so the offer id leaves them
  out and ordering reads the current availability first. `product_id` is `"<productId>:<skuId>"`.
- Cost prices come from the NCE price sheet (`UnitPrice` is the partner's price per billing period,
  `ERP Price` the estimated retail price), joined to the catalog's availabilities on product, SKU,
  term and billing plan. Partner Center keeps no sales price.
- Ordering goes cart -> checkout with an `MS-RequestId` derived from the line's key, so a repeat of
  the same line (a retry after a timeout, a re-run task) gets the original order back instead of
  buying again. The key is also written into the subscription's friendly name (`"... [ref:<key>]"`),
  which is how `find_applied_order_line` finds the line after the replay window is gone, and
  `place_order_line` looks for it first.
- Changes are a PATCH of the whole subscription with `If-Match`; a 412 (someone changed it in
  between) is read again and re-applied once.
- NCE: terminating inside the 7-day window cancels (`status: deleted`); after it, auto-renew is
  turned off so the subscription ends with its term (a scheduled termination), which
  `revoke_termination` undoes. Add-ons are subscriptions with a `parentSubscriptionId`.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from marketplace.providers.base import (
    AddOnRecord,
    AuthenticationFailed,
    BillingCycle,
    Capability,
    ChargeType,
    CreatedTenant,
    CustomerDraft,
    CustomerRecord,
    DomainAvailability,
    GdapRelationshipRecord,
    InvoiceChargeType,
    InvoiceLineRecord,
    NotFound,
    OfferRecord,
    OrderLineOutcome,
    OrderResult,
    PayloadDigest,
    ProviderBase,
    ProviderConnection,
    ProviderError,
    Rejected,
    SubscriptionRecord,
    SubscriptionStatus,
    TenantDraft,
    TenantLicenceRecord,
    tenant_address_missing,
    tenant_domain,
)
from marketplace.providers.description import MarketplaceDescription
from marketplace.providers.http import RetryPolicy, SleepFunction, Timeouts
from marketplace.providers.partner_center import DESCRIPTION
from marketplace.providers.partner_center.client import PartnerCenterClient, PreconditionFailed, WireObject
from marketplace.providers.wire import calendar_date, instant, integer, money

logger = logging.getLogger(__name__)

OFFER_SEPARATOR = "|"
ID_SEPARATOR = ":"
#: Idempotency keys become MS-RequestIds through this namespace (uuid5), so a retry sends the same id.
REQUEST_ID_NAMESPACE = uuid.UUID("3f0c9a8e-1b7d-4c62-9e55-7a1f0d2b4c93")
QUANTITY_CANNOT_DECREASE = "800090"

_MARKER = re.compile(r"\s*\[ref:(?P<key>[^\[\]]+)\]$")
_STATUSES = {
    "active": SubscriptionStatus.ACTIVE,
    "pending": SubscriptionStatus.PENDING,
    "none": SubscriptionStatus.PENDING,
    "suspended": SubscriptionStatus.SUSPENDED,
    "disabled": SubscriptionStatus.SUSPENDED,
    "deleted": SubscriptionStatus.TERMINATED,
    "expired": SubscriptionStatus.TERMINATED,
    "failed": SubscriptionStatus.FAILED,
}
_BILLING_CYCLES = {
    "monthly": BillingCycle.MONTHLY,
    "annual": BillingCycle.ANNUAL,
    "triennial": BillingCycle.TRIENNIAL,
    "none": BillingCycle.NONE,
    "one_time": BillingCycle.ONE_TIME,
    "onetime": BillingCycle.ONE_TIME,
}
_WIRE_BILLING_CYCLES = {
    BillingCycle.MONTHLY: "monthly",
    BillingCycle.ANNUAL: "annual",
    BillingCycle.TRIENNIAL: "triennial",
    BillingCycle.NONE: "none",
    BillingCycle.ONE_TIME: "one_time",
}
#: What to do when a domain is taken: it belongs to an existing tenant, whose admin must accept the partner.
DOMAIN_TAKEN_MESSAGE = (
    "The domain is not available because a Microsoft tenant is already registered with it. If that tenant is "
    "the customer's, ask its admin to accept a reseller relationship with you instead of creating a new tenant."
)
_CULTURES = {"DE": "de-DE", "AT": "de-AT", "CH": "de-CH", "FR": "fr-FR", "NL": "nl-NL", "GB": "en-GB", "US": "en-US"}


@dataclass(frozen=True, kw_only=True)
class OrderLine:
    """One line of a multi-line order (`PartnerCenterProvider.place_order`)."""

    offer_id: str
    quantity: int
    idempotency_key: str


@dataclass(frozen=True, kw_only=True)
class OrderLineFailure:
    """A line the checkout refused while others in the same cart went through."""

    idempotency_key: str
    offer_id: str
    code: str
    message: str


@dataclass(frozen=True, kw_only=True)
class _Price:
    unit_price: Decimal
    retail_price: Decimal | None
    currency: str


@dataclass(frozen=True, kw_only=True)
class _PlannedLine:
    index: int
    line: OrderLine
    catalog_item_id: str
    item: dict[str, Any]


def offer_id_for(*, product_id: str, sku_id: str, term_duration: str, billing_cycle: str) -> str:
    return OFFER_SEPARATOR.join((f"{product_id}{ID_SEPARATOR}{sku_id}", term_duration.upper(), billing_cycle.lower()))


def split_offer_id(offer_id: str) -> tuple[str, str, str, str]:
    """(product id, SKU id, term duration, billing cycle) of an offer id."""
    parts = offer_id.split(OFFER_SEPARATOR)
    if len(parts) == 3 and parts[0].count(ID_SEPARATOR) == 1 and all(parts):
        product_id, sku_id = parts[0].split(ID_SEPARATOR)
        if product_id and sku_id:
            return product_id, sku_id, parts[1].upper(), parts[2].lower()
    raise Rejected("invalid_offer", f"{offer_id!r} is not a Partner Center offer id (<product>:<sku>|<term>|<billing>)")


def subscription_external_id(*, customer_id: str, subscription_id: str) -> str:
    return f"{customer_id}{ID_SEPARATOR}{subscription_id}"


def split_subscription_id(external_id: str) -> tuple[str, str]:
    customer_id, separator, subscription_id = str(external_id).partition(ID_SEPARATOR)
    if not separator or not customer_id or not subscription_id:
        raise NotFound(f"{external_id!r} is not a Partner Center subscription id (<customer id>:<subscription id>)")
    return customer_id, subscription_id


def request_id_for(*, purpose: str, customer_id: str, key: str) -> str:
    """The MS-RequestId of a write made on behalf of an idempotency key: the same every time."""
    return str(uuid.uuid5(REQUEST_ID_NAMESPACE, f"{purpose}|{customer_id.lower()}|{key}"))


class PartnerCenterProvider(ProviderBase):
    description: ClassVar[MarketplaceDescription] = DESCRIPTION
    #: Placing the same idempotency key twice returns the first result (MS-RequestId replay).
    idempotent_order_lines: ClassVar[bool] = True

    def __init__(
        self,
        *,
        connection: ProviderConnection,
        transport: httpx.BaseTransport | None = None,
        sleep: SleepFunction = time.sleep,
        timeouts: Timeouts | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        tenant = connection.options.get("tenant") or connection.options.get("tenant_id")
        if not tenant:
            raise AuthenticationFailed("The Partner Center account needs the partner's tenant id (option 'tenant')")
        self.client = PartnerCenterClient(
            tenant=tenant,
            client_id=connection.username,
            client_secret=connection.secret,
            refresh_token=connection.options.get("refresh_token") or None,
            market=connection.region,
            server_url=connection.server_url,
            transport=transport,
            timeouts=timeouts,
            retry_policy=retry_policy,
            sleep=sleep,
        )
        self.page_size = 100
        self._clock = clock
        self._prices: dict[str, dict[tuple[str, str, str, str], _Price]] = {}
        self._customer_markets: dict[str, str] = {}
        self._sku_titles: dict[tuple[str, str], str] = {}
        #: held while a market's price sheet is read, so concurrent listings read each sheet once
        self._prices_lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def digest_payload(self, *, digest: PayloadDigest) -> bool:
        """Records are made of the answers the client reads, except prices: which rows of a price
        sheet apply depends on the clock, so each market's chosen prices are fed in as well
        (`_price_index`)."""
        self.client.payload_digest = digest
        return True

    def payload_scope(self, digest: PayloadDigest | None) -> AbstractContextManager[None]:
        return self.client.payload_scope(digest)

    def list_subscriptions_prepare(self, *, customer_external_ids: Sequence[str]) -> None:
        """A subscription is priced in its customer's market: read the price sheet of every market
        among these customers, in order, before their subscriptions are listed."""
        markets = {
            self._customer_markets.get(customer_id.lower(), self.client.market) for customer_id in customer_external_ids
        }
        for market in sorted(market.upper() for market in markets):
            self._price_index(required=False, market=market)

    # -- reads ------------------------------------------------------------------------------------------

    def list_customers(self) -> Iterator[CustomerRecord]:
        for wire in self.client.iter_customers(page_size=self.page_size):
            record = _customer_record(wire)
            self._remember_market(record)
            yield record

    def list_invoice_lines(self, *, period_start: date, period_end: date) -> Iterator[InvoiceLineRecord]:
        for invoice in self.client.list_invoices():
            billed_from = calendar_date(invoice.get("billingPeriodStartDate"))
            billed_until = calendar_date(invoice.get("billingPeriodEndDate"))
            if billed_from is None or billed_until is None or billed_until < period_start or billed_from > period_end:
                continue
            for wire in self.client.iter_invoice_line_items(invoice_id=str(invoice["id"])):
                record = _invoice_line_record(wire)
                if record is not None and period_start <= record.charge_start <= period_end:
                    yield record

    def invoice_document(self, *, invoice_id: str) -> bytes | None:
        """Partner Center's PDF statement of an issued invoice."""
        return self.client.get_invoice_statement(invoice_id=invoice_id)

    def list_offers(self) -> Iterator[OfferRecord]:
        prices = self._price_index(required=True)
        skus: list[WireObject] = []
        for product in self.client.list_products():
            skus.extend(self.client.list_skus(product_id=str(product["id"])))
        known = {f"{sku.get('productId')}{ID_SEPARATOR}{sku.get('id')}" for sku in skus}
        seen: set[str] = set()
        for sku in skus:
            product_id, sku_id = str(sku["productId"]), str(sku["id"])
            self._sku_titles[(product_id.upper(), sku_id.upper())] = str(sku.get("title") or "")
            attributes = sku.get("dynamicAttributes") or {}
            parents = (
                tuple(str(parent) for parent in attributes.get("prerequisiteSkus") or [] if str(parent) in known)
                if attributes.get("isAddon")
                else ()
            )
            for availability in self.client.list_availabilities(product_id=product_id, sku_id=sku_id):
                if availability.get("isPurchasable") is False:
                    continue
                for term in availability.get("terms") or []:
                    duration = str(term.get("duration") or "").upper()
                    billing = str(term.get("billingCycle") or "").lower()
                    price = prices.get((product_id.upper(), sku_id.upper(), duration, billing))
                    offer_id = offer_id_for(
                        product_id=product_id, sku_id=sku_id, term_duration=duration, billing_cycle=billing
                    )
                    if price is None or offer_id in seen:
                        if price is None:
                            logger.info("Partner Center has no price for %s", offer_id)
                        continue
                    seen.add(offer_id)
                    yield OfferRecord(
                        offer_id=offer_id,
                        product_id=f"{product_id}{ID_SEPARATOR}{sku_id}",
                        name=str(sku.get("title") or product_id),
                        vendor="Microsoft",
                        sku=f"{product_id}{ID_SEPARATOR}{sku_id}",
                        billing_cycle=_BILLING_CYCLES.get(billing, BillingCycle.NONE),
                        term=duration or None,
                        charge_type=ChargeType.RECURRING,
                        currency=price.currency,
                        cost_price=price.unit_price,
                        sales_price=None,
                        suggested_retail_price=price.retail_price,
                        add_on_parent_product_ids=parents,
                    )

    def list_subscriptions(self, *, customer_external_id: str | None = None) -> Iterator[SubscriptionRecord]:
        """Partner Center lists subscriptions per customer (add-ons among them, carrying their parent)."""
        if customer_external_id is not None:
            customer_ids = [customer_external_id]
        else:
            customer_ids = [record.external_id for record in self.list_customers()]
        for customer_id in customer_ids:
            wires = self.client.list_subscriptions(customer_id=customer_id)
            for wire in wires:
                if not wire.get("parentSubscriptionId"):
                    yield self._record(customer_id, wire, siblings=wires)

    def get_subscription(self, *, subscription_external_id: str) -> SubscriptionRecord:
        customer_id, subscription_id = split_subscription_id(subscription_external_id)
        wire = self.client.get_subscription(customer_id=customer_id, subscription_id=subscription_id)
        return self._record(customer_id, wire)

    def provisioning_status(self, *, subscription_external_id: str) -> SubscriptionStatus:
        """From `.../subscriptions/{id}/provisioningstatus`: pending, success (ACTIVE) or failed."""
        customer_id, subscription_id = split_subscription_id(subscription_external_id)
        wire = self.client.get_subscription_provisioning_status(
            customer_id=customer_id, subscription_id=subscription_id
        )
        status = str(wire.get("status") or "").lower()
        if status == "failed":
            return SubscriptionStatus.FAILED
        return SubscriptionStatus.ACTIVE if status == "success" else SubscriptionStatus.PENDING

    def list_tenant_licences(self, *, customer_external_id: str) -> list[TenantLicenceRecord]:
        """The customer tenant's subscribed SKUs: seats bought (active units) against seats assigned."""
        records = []
        for wire in self.client.list_subscribed_skus(customer_id=customer_external_id):
            sku = wire.get("productSku") or {}
            records.append(
                TenantLicenceRecord(
                    sku_id=str(sku.get("id") or "").lower(),
                    sku_part_number=str(sku.get("skuPartNumber") or ""),
                    product_name=str(sku.get("name") or sku.get("skuPartNumber") or ""),
                    purchased=integer(wire.get("activeUnits"), default=0),
                    assigned=integer(wire.get("consumedUnits"), default=0),
                    suspended=integer(wire.get("suspendedUnits"), default=0),
                    warning=integer(wire.get("warningUnits"), default=0),
                    status=str(wire.get("capabilityStatus") or "Enabled"),
                )
            )
        return sorted(records, key=lambda record: record.product_name)

    def list_gdap_relationships(self) -> list[GdapRelationshipRecord]:
        records = []
        for wire in self.client.iter_delegated_admin_relationships():
            customer = wire.get("customer") or {}
            roles = tuple(
                str(role.get("roleDefinitionId") or "").lower()
                for role in (wire.get("accessDetails") or {}).get("unifiedRoles") or []
            )
            records.append(
                GdapRelationshipRecord(
                    relationship_id=str(wire.get("id") or ""),
                    display_name=str(wire.get("displayName") or ""),
                    customer_tenant_id=str(customer.get("tenantId") or "").lower(),
                    customer_name=str(customer.get("displayName") or ""),
                    status=str(wire.get("status") or ""),
                    roles=roles,
                    auto_extend=str(wire.get("autoExtendDuration") or "PT0S").upper() not in ("PT0S", "P0D"),
                    activated_at=instant(wire.get("activatedDateTime")),
                    ends_at=instant(wire.get("endDateTime")),
                )
            )
        return records

    # -- customers --------------------------------------------------------------------------------------

    def create_customer(self, *, customer: CustomerDraft) -> CustomerRecord:
        source = customer.domains[0] if customer.domains else customer.name
        prefix = re.sub(r"[^a-z0-9]", "", source.split(".")[0].lower())[:27]
        if not prefix:
            raise Rejected("invalid_domain", f"Cannot derive a Microsoft domain prefix from {source!r}")
        body = _customer_body(customer, domain=f"{prefix}.onmicrosoft.com", first_name="Billing", last_name="Contact")
        request_id = request_id_for(purpose="customer", customer_id=prefix, key=customer.email.lower())
        with self.client.correlation():
            return _customer_record(self.client.create_customer(customer=body, request_id=request_id))

    # -- new Microsoft tenants ----------------------------------------------------------------------------

    def domain_availability(self, *, domain: str) -> DomainAvailability:
        self.require(Capability.CREATE_TENANT)
        whole = tenant_domain(domain)
        if self.client.domain_exists(domain=whole):
            return DomainAvailability(domain=whole, available=False, message=DOMAIN_TAKEN_MESSAGE)
        return DomainAvailability(domain=whole, available=True)

    def create_customer_tenant(self, *, customer: CustomerDraft, tenant: TenantDraft) -> CreatedTenant:
        """A Partner Center customer is created with its new tenant: POST /customers with the new
        `<prefix>.onmicrosoft.com` domain answers with the tenant id and the first admin's credentials,
        which Partner Center hands to the partner (it emails nobody)."""
        self.require(Capability.CREATE_TENANT)
        missing = tenant_address_missing(customer)
        if missing:
            raise Rejected("incomplete_address", f"The company address lacks: {', '.join(missing)}.")
        domain = tenant_domain(tenant.domain_prefix)
        body = _customer_body(customer, domain=domain, first_name=tenant.first_name, last_name=tenant.last_name)
        body["billingProfile"]["email"] = tenant.email
        request_id = request_id_for(purpose="tenant", customer_id=domain, key=tenant.email.lower())
        with self.client.correlation():
            try:
                wire = self.client.create_customer(customer=body, request_id=request_id)
            except Rejected as rejected:
                if rejected.code == "409":
                    raise Rejected("domain_taken", DOMAIN_TAKEN_MESSAGE, reference=rejected.reference) from rejected
                raise
        credentials = wire.get("userCredentials") or {}
        user_name = str(credentials.get("userName") or "") or None
        if user_name and "@" not in user_name:
            user_name = f"{user_name}@{domain}"
        tenant_id = (wire.get("companyProfile") or {}).get("tenantId") or wire.get("id")
        return CreatedTenant(
            customer=_customer_record(wire),
            tenant_id=str(tenant_id) if tenant_id else None,
            domain=str((wire.get("companyProfile") or {}).get("domain") or domain),
            admin_user_name=user_name,
            admin_password=str(credentials.get("password") or "") or None,
        )

    # -- orders -----------------------------------------------------------------------------------------

    def place_order_line(
        self, *, customer_external_id: str, offer_id: str, quantity: int, idempotency_key: str
    ) -> OrderResult:
        """Buy one line. A line already applied (found by its key) is returned, not bought again."""
        with self.client.correlation():
            existing = self.find_applied_order_line(
                customer_external_id=customer_external_id, idempotency_key=idempotency_key
            )
            if existing is not None:
                return OrderResult(subscription=existing, idempotency_key=idempotency_key, outcome=_outcome(existing))
            line = OrderLine(offer_id=offer_id, quantity=quantity, idempotency_key=idempotency_key)
            (result,) = self._order(customer_id=customer_external_id, lines=[line], batch_key=idempotency_key)
            if isinstance(result, OrderLineFailure):
                raise Rejected(result.code, result.message)
            record = self._record(customer_external_id, result)
            return OrderResult(subscription=record, idempotency_key=idempotency_key, outcome=_outcome(record))

    def place_order(
        self, *, customer_external_id: str, lines: Sequence[OrderLine]
    ) -> list[OrderResult | OrderLineFailure]:
        """Buy several lines in one cart. The checkout may refuse some lines (order errors) while the
        others complete; each failed line says why. Lines already applied are not bought again."""
        if not lines:
            return []
        with self.client.correlation():
            applied = self._applied_by_key(customer_external_id)
            results: dict[str, OrderResult | OrderLineFailure] = {}
            pending: list[OrderLine] = []
            for line in lines:
                found = applied.get(line.idempotency_key)
                if found is not None:
                    results[line.idempotency_key] = OrderResult(
                        subscription=found, idempotency_key=line.idempotency_key, outcome=_outcome(found)
                    )
                else:
                    pending.append(line)
            if pending:
                batch_key = "+".join(sorted(line.idempotency_key for line in pending))
                for line, outcome in zip(
                    pending,
                    self._order(customer_id=customer_external_id, lines=pending, batch_key=batch_key),
                    strict=True,
                ):
                    if isinstance(outcome, OrderLineFailure):
                        results[line.idempotency_key] = outcome
                    else:
                        record = self._record(customer_external_id, outcome)
                        results[line.idempotency_key] = OrderResult(
                            subscription=record, idempotency_key=line.idempotency_key, outcome=_outcome(record)
                        )
            return [results[line.idempotency_key] for line in lines]

    def find_applied_order_line(self, *, customer_external_id: str, idempotency_key: str) -> SubscriptionRecord | None:
        """The subscription bought by the line with this key (the key rides in the friendly name); for
        an add-on line, the subscription it was added to."""
        return self._applied_by_key(customer_external_id).get(idempotency_key)

    def _applied_by_key(self, customer_id: str) -> dict[str, SubscriptionRecord]:
        wires = self.client.list_subscriptions(customer_id=customer_id)
        by_id = {str(wire["id"]).lower(): wire for wire in wires}
        found: dict[str, SubscriptionRecord] = {}
        for wire in wires:
            key = _order_reference(wire)
            if key is None or key in found:
                continue
            parent_id = str(wire.get("parentSubscriptionId") or "").lower()
            owner = by_id.get(parent_id, wire) if parent_id else wire
            found[key] = self._record(customer_id, owner, siblings=wires)
        return found

    def _order(
        self, *, customer_id: str, lines: Sequence[OrderLine], batch_key: str, parent_subscription_id: str | None = None
    ) -> list[WireObject | OrderLineFailure]:
        """Cart -> checkout for `lines`; each line ends as its new subscription's wire or a failure."""
        outcomes: dict[int, WireObject | OrderLineFailure] = {}
        planned: list[_PlannedLine] = []
        for index, line in enumerate(lines):
            try:
                product_id, sku_id, term, billing = split_offer_id(line.offer_id)
                catalog_item_id = self._current_catalog_item(product_id, sku_id, term, billing)
            except Rejected as refused:
                outcomes[index] = _failure(line, refused.code, refused.message)
                continue
            item: dict[str, Any] = {
                "id": index,
                "catalogItemId": catalog_item_id,
                "quantity": line.quantity,
                "billingCycle": billing,
                "termDuration": term,
                "friendlyName": _with_marker(self._sku_title(product_id, sku_id), line.idempotency_key),
                "provisioningContext": {},
            }
            if parent_subscription_id:
                item["parentSubscriptionId"] = parent_subscription_id
            planned.append(_PlannedLine(index=index, line=line, catalog_item_id=catalog_item_id, item=item))
        if planned:
            cart = self.client.create_cart(
                customer_id=customer_id,
                line_items=[entry.item for entry in planned],
                request_id=request_id_for(purpose="cart", customer_id=customer_id, key=batch_key),
            )
            checkout = self.client.checkout_cart(
                customer_id=customer_id,
                cart_id=str(cart["id"]),
                request_id=request_id_for(purpose="checkout", customer_id=customer_id, key=batch_key),
            )
            cart_lines = {int(item.get("id", -1)): item for item in cart.get("lineItems") or []}
            group_errors = {str(error.get("orderGroupId")): error for error in checkout.get("orderErrors") or []}
            bought: dict[str, str] = {}
            for order in checkout.get("orders") or []:
                for order_line in order.get("lineItems") or []:
                    key = _marker_of(str(order_line.get("friendlyName") or ""))
                    if key is not None and order_line.get("subscriptionId"):
                        bought[key] = str(order_line["subscriptionId"])
            for entry in planned:
                subscription_id = bought.get(entry.line.idempotency_key)
                if subscription_id is not None:
                    outcomes[entry.index] = self.client.get_subscription(
                        customer_id=customer_id, subscription_id=subscription_id
                    )
                    continue
                cart_line = cart_lines.get(entry.index, {})
                error = group_errors.get(str(cart_line.get("orderGroup"))) or {}
                line_error = cart_line.get("error") or {}
                code = error.get("code", line_error.get("errorCode", "not_ordered"))
                message = (
                    error.get("description")
                    or line_error.get("errorDescription")
                    or ("Partner Center did not order this line")
                )
                outcomes[entry.index] = _failure(entry.line, str(code), str(message))
        return [outcomes[index] for index in range(len(lines))]

    def _current_catalog_item(self, product_id: str, sku_id: str, term: str, billing: str) -> str:
        """The catalog item id to order now: availability ids change, so they are read every time."""
        for availability in self.client.list_availabilities(product_id=product_id, sku_id=sku_id):
            if availability.get("isPurchasable") is False:
                continue
            for offered in availability.get("terms") or []:
                if (str(offered.get("duration")).upper(), str(offered.get("billingCycle")).lower()) == (term, billing):
                    return str(availability.get("catalogItemId") or f"{product_id}:{sku_id}:{availability['id']}")
        raise Rejected(
            "offer_unavailable", f"{product_id}:{sku_id} is not sold with a {term} term and {billing} billing"
        )

    def _sku_title(self, product_id: str, sku_id: str) -> str:
        key = (product_id.upper(), sku_id.upper())
        if key not in self._sku_titles:
            for sku in self.client.list_skus(product_id=product_id):
                self._sku_titles[(str(sku.get("productId")).upper(), str(sku.get("id")).upper())] = str(
                    sku.get("title") or ""
                )
        return self._sku_titles.get(key) or f"{product_id}:{sku_id}"

    # -- lifecycle ----------------------------------------------------------------------------------------

    def change_quantity(self, *, subscription_external_id: str, quantity: int) -> SubscriptionRecord:
        return self._change(subscription_external_id, lambda wire: wire.update(quantity=quantity))

    def suspend(self, *, subscription_external_id: str) -> SubscriptionRecord:
        return self._change(subscription_external_id, lambda wire: wire.update(status="suspended"))

    def reactivate(self, *, subscription_external_id: str) -> SubscriptionRecord:
        return self._change(subscription_external_id, lambda wire: wire.update(status="active"))

    def set_auto_renew(self, *, subscription_external_id: str, enabled: bool) -> SubscriptionRecord:
        return self._change(subscription_external_id, lambda wire: wire.update(autoRenewEnabled=enabled))

    def terminate(self, *, subscription_external_id: str, reason: str | None = None) -> SubscriptionRecord:
        """Cancel inside the window; after it, stop the renewal (the subscription ends with its term).
        A subscription that has already ended is returned as it is, so a retried task does not fail."""
        customer_id, subscription_id = split_subscription_id(subscription_external_id)
        with self.client.correlation():
            self._end(customer_id, subscription_id)
            return self.get_subscription(subscription_external_id=subscription_external_id)

    def revoke_termination(self, *, subscription_external_id: str) -> SubscriptionRecord:
        customer_id, subscription_id = split_subscription_id(subscription_external_id)
        with self.client.correlation():
            wire = self.client.get_subscription(customer_id=customer_id, subscription_id=subscription_id)
            status = str(wire.get("status") or "").lower()
            if status in ("deleted", "expired"):
                raise Rejected(
                    "already_terminated", f"Partner Center subscription {subscription_id} has already ended ({status})"
                )
            if wire.get("autoRenewEnabled"):
                return self._record(customer_id, wire)
            return self._record(
                customer_id, self._patch(customer_id, subscription_id, lambda w: w.update(autoRenewEnabled=True))
            )

    def change_billing_cycle(self, *, subscription_external_id: str, billing_cycle: BillingCycle) -> SubscriptionRecord:
        wanted = _WIRE_BILLING_CYCLES[billing_cycle]
        customer_id, subscription_id = split_subscription_id(subscription_external_id)
        with self.client.correlation():
            wire = self.client.get_subscription(customer_id=customer_id, subscription_id=subscription_id)
            if str(wire.get("billingCycle") or "").lower() == wanted:
                return self._record(customer_id, wire)
            return self._record(
                customer_id, self._patch(customer_id, subscription_id, lambda w: w.update(billingCycle=wanted))
            )

    def schedule_next_term(
        self, *, subscription_external_id: str, offer_id: str | None, quantity: int | None = None
    ) -> SubscriptionRecord:
        """Set (or, with `offer_id=None`, clear) what the subscription renews into: another term,
        billing cycle or SKU of the same kind, and optionally another quantity."""
        customer_id, subscription_id = split_subscription_id(subscription_external_id)
        with self.client.correlation():
            instructions: dict[str, Any] | None = None
            if offer_id is not None:
                product_id, sku_id, term, billing = split_offer_id(offer_id)
                catalog_item_id = self._current_catalog_item(product_id, sku_id, term, billing)
                instructions = {
                    "product": {
                        "productId": product_id,
                        "skuId": sku_id,
                        "availabilityId": catalog_item_id.split(ID_SEPARATOR)[-1],
                        "billingCycle": billing,
                        "termDuration": term,
                    },
                    "quantity": quantity,
                }
            return self._record(
                customer_id,
                self._patch(
                    customer_id, subscription_id, lambda w: w.update(scheduledNextTermInstructions=instructions)
                ),
            )

    # -- add-ons ------------------------------------------------------------------------------------------

    def add_add_on(
        self, *, subscription_external_id: str, offer_id: str, quantity: int, idempotency_key: str
    ) -> AddOnRecord:
        customer_id, parent_id = split_subscription_id(subscription_external_id)
        with self.client.correlation():
            for wire in self.client.list_subscriptions(customer_id=customer_id):
                if _order_reference(wire) == idempotency_key and _same(wire.get("parentSubscriptionId"), parent_id):
                    return _add_on_record(customer_id, wire)
            line = OrderLine(offer_id=offer_id, quantity=quantity, idempotency_key=idempotency_key)
            (result,) = self._order(
                customer_id=customer_id, lines=[line], batch_key=idempotency_key, parent_subscription_id=parent_id
            )
            if isinstance(result, OrderLineFailure):
                raise Rejected(result.code, result.message)
            return _add_on_record(customer_id, result)

    def change_add_on_quantity(
        self, *, subscription_external_id: str, add_on_external_id: str, quantity: int
    ) -> AddOnRecord:
        customer_id, add_on_id = self._add_on_ids(subscription_external_id, add_on_external_id)
        with self.client.correlation():
            self._require_add_on(customer_id, add_on_id, subscription_external_id)
            return _add_on_record(
                customer_id, self._patch(customer_id, add_on_id, lambda wire: wire.update(quantity=quantity))
            )

    def remove_add_on(self, *, subscription_external_id: str, add_on_external_id: str) -> None:
        customer_id, add_on_id = self._add_on_ids(subscription_external_id, add_on_external_id)
        with self.client.correlation():
            self._require_add_on(customer_id, add_on_id, subscription_external_id)
            self._end(customer_id, add_on_id)

    def _add_on_ids(self, subscription_external_id: str, add_on_external_id: str) -> tuple[str, str]:
        customer_id, _ = split_subscription_id(subscription_external_id)
        if ID_SEPARATOR in add_on_external_id:
            add_on_customer, add_on_id = split_subscription_id(add_on_external_id)
            if not _same(add_on_customer, customer_id):
                raise NotFound(f"Add-on {add_on_external_id} does not belong to customer {customer_id}")
            return customer_id, add_on_id
        return customer_id, add_on_external_id

    def _require_add_on(self, customer_id: str, add_on_id: str, subscription_external_id: str) -> WireObject:
        _, parent_id = split_subscription_id(subscription_external_id)
        wire = self.client.get_subscription(customer_id=customer_id, subscription_id=add_on_id)
        if not _same(wire.get("parentSubscriptionId"), parent_id):
            raise NotFound(f"Partner Center subscription {parent_id} has no add-on {add_on_id}")
        return wire

    # -- helpers ------------------------------------------------------------------------------------------

    def _change(self, subscription_external_id: str, change: Callable[[WireObject], None]) -> SubscriptionRecord:
        customer_id, subscription_id = split_subscription_id(subscription_external_id)
        with self.client.correlation():
            return self._record(customer_id, self._patch(customer_id, subscription_id, change))

    def _patch(self, customer_id: str, subscription_id: str, change: Callable[[WireObject], None]) -> WireObject:
        """Read, change, PATCH with If-Match. A 412 means someone changed it in between: read it
        again and re-apply the change once; a second conflict is raised."""
        for attempt in (1, 2):
            wire = self.client.get_subscription(customer_id=customer_id, subscription_id=subscription_id)
            etag = (wire.get("attributes") or {}).get("etag")
            body = copy.deepcopy(wire)
            change(body)
            try:
                return self.client.update_subscription(customer_id=customer_id, subscription=body, etag=etag)
            except PreconditionFailed:
                if attempt == 2:
                    raise
                logger.info("Partner Center subscription %s changed meanwhile; reading it again", subscription_id)
        raise AssertionError("unreachable")  # pragma: no cover

    def _end(self, customer_id: str, subscription_id: str) -> None:
        wire = self.client.get_subscription(customer_id=customer_id, subscription_id=subscription_id)
        status = str(wire.get("status") or "").lower()
        if status in ("deleted", "expired"):
            return
        window = instant(wire.get("cancellationAllowedUntilDate"))
        if wire.get("isTrial") or (window is not None and self._clock() <= window):
            try:
                self._patch(customer_id, subscription_id, lambda w: w.update(status="deleted"))
                return
            except Rejected as refused:
                if refused.code != QUANTITY_CANNOT_DECREASE:
                    raise
                logger.info("Partner Center closed the cancellation window of %s; stopping renewal", subscription_id)
        if wire.get("autoRenewEnabled") is not False:
            self._patch(customer_id, subscription_id, lambda w: w.update(autoRenewEnabled=False))

    def _record(
        self, customer_id: str, wire: WireObject, *, siblings: Sequence[WireObject] | None = None
    ) -> SubscriptionRecord:
        if siblings is None:
            add_on_wires = self.client.list_add_ons(customer_id=customer_id, subscription_id=str(wire["id"]))
        else:
            add_on_wires = [s for s in siblings if _same(s.get("parentSubscriptionId"), wire["id"])]
        add_ons = tuple(_add_on_record(customer_id, add_on) for add_on in add_on_wires)
        return _subscription_record(customer_id, wire, add_ons=add_ons, price=self._price_of(customer_id, wire))

    def _remember_market(self, customer: CustomerRecord) -> None:
        if customer.country:
            self._customer_markets[customer.external_id.lower()] = customer.country

    def _price_of(self, customer_id: str, wire: WireObject) -> _Price | None:
        """A subscription is charged in its customer's market, which may not be the account's own."""
        if customer_id.lower() not in self._customer_markets:
            self._remember_market(_customer_record(self.client.get_customer(customer_id=customer_id)))
        market = self._customer_markets.get(customer_id.lower(), self.client.market)
        product_id, sku_id = _catalog_item(wire)
        key = (product_id.upper(), sku_id.upper(), str(wire.get("termDuration") or "").upper())
        prices = self._price_index(required=False, market=market)
        return prices.get((*key, str(wire.get("billingCycle") or "").lower()))

    def _price_index(self, *, required: bool, market: str | None = None) -> dict[tuple[str, str, str, str], _Price]:
        """A market's price sheet by (product, SKU, term, billing), the account's market by default.
        Subscriptions read without prices when the sheet is refused (an App-only account); offers cannot."""
        market = (market or self.client.market).upper()
        if market in self._prices:
            return self._prices[market]
        with self._prices_lock:
            return self._price_index_read(required=required, market=market)

    def _price_index_read(self, *, required: bool, market: str) -> dict[tuple[str, str, str, str], _Price]:
        if market not in self._prices:
            try:
                rows = self.client.get_price_sheet(market=market)
            except (Rejected, AuthenticationFailed, NotFound):
                if required:
                    raise
                logger.warning("Partner Center %s price sheet unavailable; prices left empty", market, exc_info=True)
                return self._keep_prices(market, {})
            now = self._clock()
            prices: dict[tuple[str, str, str, str], _Price] = {}
            for row in rows:
                if str(row.get("Segment") or "Commercial").lower() != "commercial":
                    continue
                start = instant(row.get("EffectiveStartDate"))
                end = instant(row.get("EffectiveEndDate"))
                if (start and start > now) or (end and end < now):
                    continue
                unit_price = money(row.get("UnitPrice"))
                if unit_price is None:
                    continue
                key = (
                    str(row.get("ProductId") or "").upper(),
                    str(row.get("SkuId") or "").upper(),
                    str(row.get("TermDuration") or "").upper(),
                    str(row.get("BillingPlan") or "").lower(),
                )
                prices.setdefault(
                    key,
                    _Price(
                        unit_price=unit_price,
                        retail_price=money(row.get("ERP Price")),
                        currency=str(row.get("Currency") or "").upper(),
                    ),
                )
            self._keep_prices(market, prices)
        return self._prices[market]

    def _keep_prices(
        self, market: str, prices: dict[tuple[str, str, str, str], _Price]
    ) -> dict[tuple[str, str, str, str], _Price]:
        """Which rows of a price sheet apply depends on the clock, not only on the sheet read: while
        the sync digests the payload, the prices chosen are fed in too (`digest_payload`)."""
        self._prices[market] = prices
        if self.client.payload_digest is not None:
            self.client.payload_digest.update(repr((market, sorted(prices.items()))).encode())
        return prices


# ------------------------------------------------------------------------------------------------
# Wire -> record mapping
# ------------------------------------------------------------------------------------------------


def _customer_body(customer: CustomerDraft, *, domain: str, first_name: str, last_name: str) -> dict[str, Any]:
    country = customer.country.upper()
    culture = _CULTURES.get(country, "en-US")
    return {
        "companyProfile": {"domain": domain},
        "billingProfile": {
            "email": customer.email,
            "culture": culture,
            "language": culture.split("-")[0],
            "companyName": customer.name,
            "firstName": first_name,
            "lastName": last_name,
            "defaultAddress": {
                "country": country,
                "city": customer.city,
                "addressLine1": customer.address_line,
                "postalCode": customer.postal_code,
                "firstName": first_name,
                "lastName": last_name,
            },
        },
    }


def _customer_record(wire: WireObject) -> CustomerRecord:
    company = wire.get("companyProfile") or {}
    billing = wire.get("billingProfile") or {}
    address = billing.get("defaultAddress") or {}
    domain = company.get("domain")
    return CustomerRecord(
        external_id=str(wire["id"]),
        name=str(company.get("companyName") or billing.get("companyName") or ""),
        email=billing.get("email") or None,
        domains=(str(domain),) if domain else (),
        country=str(address["country"]).upper() if address.get("country") else None,
        city=address.get("city") or None,
        vat_id=None,  # Partner Center keeps no VAT id
        customer_number=None,  # nor the partner's own customer number
        active=str(wire.get("relationshipToPartner") or "reseller").lower() != "none",
    )


def _subscription_record(
    customer_id: str, wire: WireObject, *, add_ons: tuple[AddOnRecord, ...], price: _Price | None
) -> SubscriptionRecord:
    status = _STATUSES.get(str(wire.get("status") or "").lower(), SubscriptionStatus.PENDING)
    product_id, sku_id = _catalog_item(wire)
    ending = (
        status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED) and wire.get("autoRenewEnabled") is False
    )
    term_end = calendar_date(wire.get("commitmentEndDate"))
    return SubscriptionRecord(
        external_id=subscription_external_id(customer_id=customer_id, subscription_id=str(wire["id"])),
        customer_external_id=customer_id,
        offer_id=_offer_id_of(wire),
        product_id=f"{product_id}{ID_SEPARATOR}{sku_id}",
        name=str(wire.get("offerName") or _without_marker(str(wire.get("friendlyName") or "")) or product_id),
        quantity=integer(wire.get("quantity"), default=0),
        assigned=None,  # seat assignment lives in the customer's tenant (Graph), not in Partner Center
        status=status,
        billing_cycle=_BILLING_CYCLES.get(str(wire.get("billingCycle") or "").lower(), BillingCycle.NONE),
        term=str(wire.get("termDuration") or "").upper() or None,
        term_end=term_end,
        auto_renew=bool(wire.get("autoRenewEnabled")) and status != SubscriptionStatus.TERMINATED,
        trial=bool(wire.get("isTrial")),
        add_ons=add_ons,
        cancellation_allowed_until=(
            None if status == SubscriptionStatus.TERMINATED else instant(wire.get("cancellationAllowedUntilDate"))
        ),
        scheduled_termination_date=term_end if ending else None,
        started_at=instant(wire.get("creationDate")),
        currency=price.currency if price else None,
        unit_cost_price=price.unit_price if price else None,
        unit_sales_price=None,
        order_reference=_order_reference(wire),
    )


def _add_on_record(customer_id: str, wire: WireObject) -> AddOnRecord:
    product_id, sku_id = _catalog_item(wire)
    return AddOnRecord(
        external_id=subscription_external_id(customer_id=customer_id, subscription_id=str(wire["id"])),
        offer_id=_offer_id_of(wire),
        product_id=f"{product_id}{ID_SEPARATOR}{sku_id}",
        name=str(wire.get("offerName") or _without_marker(str(wire.get("friendlyName") or "")) or product_id),
        quantity=integer(wire.get("quantity"), default=0),
        status=_STATUSES.get(str(wire.get("status") or "").lower(), SubscriptionStatus.PENDING),
        order_reference=_order_reference(wire),
    )


def _catalog_item(wire: WireObject) -> tuple[str, str]:
    parts = str(wire.get("offerId") or "").split(ID_SEPARATOR)
    if len(parts) >= 2:
        return parts[0], parts[1]
    return parts[0], ""


_TERM_LENGTH = re.compile(r"(\d+)\s*(month|year)", re.IGNORECASE)
_REFUND_CHARGES = frozenset({"removequantity", "cancelimmediate", "cancel", "refund", "customercredit"})
_FULL_CHARGES = frozenset({"cyclecharge", "renew", "cyclefee"})


def _term_duration(text: Any) -> str:
    """ "1 Year - Monthly Payment" -> "P1Y" (the notation the offer ids use)."""
    match = _TERM_LENGTH.search(str(text or ""))
    if match is None:
        return ""
    return f"P{match.group(1)}{'Y' if match.group(2).lower() == 'year' else 'M'}"


def _invoice_line_record(wire: WireObject) -> InvoiceLineRecord | None:
    charge_start, charge_end = calendar_date(wire.get("chargeStartDate")), calendar_date(wire.get("chargeEndDate"))
    if charge_start is None:
        return None
    charge = str(wire.get("chargeType") or "").replace(" ", "").lower()
    quantity = int(Decimal(str(wire.get("quantity") or 0)))
    amount = money(wire.get("subtotal"), default=Decimal(0))
    unit_price = money(wire.get("unitPrice"), default=Decimal(0))
    if charge in _REFUND_CHARGES or amount < 0:
        charge_type, quantity, amount = InvoiceChargeType.REFUND, -abs(quantity), -abs(amount)
    elif charge in _FULL_CHARGES:
        charge_type = InvoiceChargeType.CYCLE_FEE
    elif charge == "new" and amount == (unit_price * quantity).quantize(Decimal("0.01")):
        charge_type = InvoiceChargeType.CYCLE_FEE
    elif charge in ("new", "addquantity", "purchase"):
        charge_type = InvoiceChargeType.PRO_RATA
    else:
        charge_type = InvoiceChargeType.OTHER
    product_id, sku_id = str(wire.get("productId") or ""), str(wire.get("skuId") or "")
    customer_id, subscription_id = str(wire.get("customerId") or ""), str(wire.get("subscriptionId") or "")
    billing = str(wire.get("billingFrequency") or "").lower()
    return InvoiceLineRecord(
        invoice_id=str(wire.get("invoiceNumber") or ""),
        customer_external_id=customer_id,
        customer_name=wire.get("customerName"),
        subscription_external_id=(
            subscription_external_id(customer_id=customer_id, subscription_id=subscription_id)
            if customer_id and subscription_id
            else None
        ),
        offer_id=(
            offer_id_for(
                product_id=product_id,
                sku_id=sku_id,
                term_duration=_term_duration(wire.get("termAndBillingCycle")),
                billing_cycle=billing,
            )
            if product_id and sku_id
            else None
        ),
        product_id=product_id or None,
        name=str(wire.get("skuName") or wire.get("productName") or product_id),
        charge_type=charge_type,
        charge_start=charge_start,
        charge_end=charge_end or charge_start,
        quantity=quantity,
        unit_price=unit_price,
        amount=amount,
        currency=str(wire.get("currency") or wire.get("pricingCurrency") or "EUR").upper(),
    )


def _offer_id_of(wire: WireObject) -> str:
    product_id, sku_id = _catalog_item(wire)
    return offer_id_for(
        product_id=product_id,
        sku_id=sku_id,
        term_duration=str(wire.get("termDuration") or ""),
        billing_cycle=str(wire.get("billingCycle") or ""),
    )


def _with_marker(name: str, key: str) -> str:
    return f"{name} [ref:{key}]"


def _marker_of(friendly_name: str) -> str | None:
    match = _MARKER.search(friendly_name)
    return match.group("key") if match else None


def _without_marker(friendly_name: str) -> str:
    return _MARKER.sub("", friendly_name)


def _order_reference(wire: WireObject) -> str | None:
    return _marker_of(str(wire.get("friendlyName") or ""))


def _outcome(record: SubscriptionRecord) -> OrderLineOutcome:
    return OrderLineOutcome.PROVISIONING if record.status == SubscriptionStatus.PENDING else OrderLineOutcome.COMPLETED


def _failure(line: OrderLine, code: str, message: str) -> OrderLineFailure:
    return OrderLineFailure(idempotency_key=line.idempotency_key, offer_id=line.offer_id, code=code, message=message)


def _same(left: Any, right: Any) -> bool:
    return bool(left) and bool(right) and str(left).lower() == str(right).lower()


__all__ = [
    "OrderLine",
    "OrderLineFailure",
    "PartnerCenterProvider",
    "ProviderError",
    "offer_id_for",
    "request_id_for",
    "split_offer_id",
    "split_subscription_id",
    "subscription_external_id",
]
