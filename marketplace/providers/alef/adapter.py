"""ALEF implementation of `MarketplaceProvider`, plus eligibility and asynchronous tenant creation.

ALEF-specific choices, in one place:
- The connection's `region` is the reseller's host name (`<region>.alef.cloud`); option `reseller`
  overrides it. Customers are ALEF organizations (GUIDs); the reseller's own organization, which
  ALEF lists too, is skipped.
- An offer is one row of the distributor price list: `"<productId>:<skuId>:<availabilityId>:<term>:<cycle>"`
  (Partner Center's catalog item id plus term and billing cycle); `product_id` is `"<productId>:<skuId>"`.
  Cost price = ALEF's partner price, sales price = the default customer price (partner price + 5 %),
  suggested retail price = Microsoft's ERP.
- Partner Center semantics: orders carry an `MS-RequestId` derived from the line's idempotency key,
  so a retried order replays the first answer instead of buying again; the key also travels as the
  order's `referenceNumber`, which `find_applied_order_line` looks for. Subscriptions are PATCHed
  whole with their ETag; a conflict is re-read and re-applied once.
- NCE rules: decreases need refundable quantity (bought in the last 7 days), a cancellation inside
  the window ends the subscription at once, after it terminating turns auto-renew off (ALEF answers
  800090 to the cancellation itself). Changing the billing cycle keeps the term and applies at once.
- Eligibility: an academic / government / non-profit offer for an organization without the flag is
  refused as `Rejected("not_eligible", ...)`.
- A new Microsoft tenant is a long-running operation (`create_tenant` -> `get_operation`); orders
  for the customer raise `PendingOperation` (retryable) until it is done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from marketplace.providers.alef import DESCRIPTION
from marketplace.providers.alef.client import AlefClient, EtagConflict, WireObject
from marketplace.providers.alef.records import (
    CustomerEligibility,
    OfferSegment,
    OperationStatus,
    SegmentedOffer,
    TenantDraft,
    TenantOperation,
)
from marketplace.providers.base import (
    AddOnRecord,
    BillingCycle,
    Capability,
    ChargeType,
    CreatedTenant,
    CustomerDraft,
    CustomerRecord,
    DomainAvailability,
    InvoiceChargeType,
    InvoiceLineRecord,
    NotFound,
    OfferRecord,
    OrderLineOutcome,
    OrderResult,
    PayloadDigest,
    ProviderBase,
    ProviderConnection,
    Rejected,
    SubscriptionRecord,
    SubscriptionStatus,
    tenant_address_missing,
    tenant_domain,
)
from marketplace.providers.description import MarketplaceDescription
from marketplace.providers.http import RetryPolicy, SleepFunction, Timeouts
from marketplace.providers.wire import instant, integer, money

logger = logging.getLogger(__name__)

_BILLING_CYCLES = {
    "monthly": BillingCycle.MONTHLY,
    "annual": BillingCycle.ANNUAL,
    "triennial": BillingCycle.TRIENNIAL,
    "one_time": BillingCycle.ONE_TIME,
    "none": BillingCycle.NONE,
}
_WIRE_CYCLES = {cycle: wire for wire, cycle in _BILLING_CYCLES.items()}
_STATUSES = {
    "active": SubscriptionStatus.ACTIVE,
    "suspended": SubscriptionStatus.SUSPENDED,
    "disabled": SubscriptionStatus.SUSPENDED,
    "deleted": SubscriptionStatus.TERMINATED,
    "expired": SubscriptionStatus.TERMINATED,
    "pending": SubscriptionStatus.PENDING,
    "failed": SubscriptionStatus.FAILED,
}
_SEGMENT_LABELS = {
    OfferSegment.ACADEMIC: "academic",
    OfferSegment.GOVERNMENT: "government",
    OfferSegment.NON_PROFIT: "non-profit",
}


#: What to do when a domain is taken: it belongs to an existing tenant, which ALEF links instead of creating one.
DOMAIN_TAKEN_MESSAGE = (
    "The domain is not available because a Microsoft tenant is already registered with it. If that tenant is "
    "the customer's, link it to ALEF through a delegated admin relationship the customer's admin accepts instead "
    "of creating a new tenant."
)
#: How long creating a tenant waits for ALEF's domain check within the one request: a few polls, then the
#: tenant is recorded as still being created (`CreatedTenant.ready` False).
TENANT_CREATION_POLLS = 4
TENANT_CREATION_POLL_SECONDS = 2.0


def offer_id_for(*, catalog_item_id: str, term: str, billing_cycle: str) -> str:
    return f"{catalog_item_id}:{term}:{billing_cycle}"


def split_offer_id(offer_id: str) -> tuple[str, str, str]:
    parts = offer_id.split(":")
    if len(parts) != 5 or not all(parts):
        raise Rejected(
            "invalid_offer", f"{offer_id!r} is not an ALEF offer id (<product>:<sku>:<availability>:<term>:<cycle>)"
        )
    return ":".join(parts[:3]), parts[3].upper(), parts[4].lower()


#: ALEF's `chargeType` (Partner Center's names, lower-cased) -> the console's.
_INVOICE_CHARGE_TYPES = {
    "cyclefee": InvoiceChargeType.CYCLE_FEE,
    "prorate": InvoiceChargeType.PRO_RATA,
    "prorata": InvoiceChargeType.PRO_RATA,
    "refund": InvoiceChargeType.REFUND,
    "onetime": InvoiceChargeType.ONE_TIME,
    "usage": InvoiceChargeType.USAGE,
}


class AlefProvider(ProviderBase):
    description: ClassVar[MarketplaceDescription] = DESCRIPTION
    #: A repeated `place_order_line` with the same key returns the first result and buys nothing.
    idempotent_order_lines: ClassVar[bool] = True

    def __init__(
        self,
        *,
        connection: ProviderConnection,
        transport: httpx.BaseTransport | None = None,
        sleep: SleepFunction = time.sleep,
        timeouts: Timeouts | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self._sleep = sleep
        self.client = AlefClient(
            reseller=connection.options.get("reseller") or connection.region,
            username=connection.username,
            password=connection.secret,
            server_url=connection.server_url,
            transport=transport,
            timeouts=timeouts,
            retry_policy=retry_policy,
            sleep=sleep,
        )

    def close(self) -> None:
        self.client.close()

    def digest_payload(self, *, digest: PayloadDigest) -> bool:
        """ALEF's records are made of the answers the client reads and nothing else."""
        self.client.payload_digest = digest
        return True

    def payload_scope(self, digest: PayloadDigest | None) -> AbstractContextManager[None]:
        return self.client.payload_scope(digest)

    # -- reads ------------------------------------------------------------------------------------------

    def list_customers(self) -> Iterator[CustomerRecord]:
        for wire in self.client.list_customers():
            if not wire.get("isReseller"):
                yield _customer_record(wire)

    def list_offers(self) -> Iterator[OfferRecord]:
        for row in self.client.list_price_list():
            yield _offer_record(row)

    def list_segmented_offers(self) -> Iterator[SegmentedOffer]:
        """The price list with the segment (commercial, academic, government, non-profit) of each offer."""
        for row in self.client.list_price_list():
            yield SegmentedOffer(offer=_offer_record(row), segment=_segment(row))

    def list_offers_for_customer(self, *, customer_external_id: str) -> Iterator[OfferRecord]:
        """Only the offers the organization's eligibility allows it to order."""
        for row in self.client.list_customer_offers(customer_id=customer_external_id):
            yield _offer_record(row)

    def customer_eligibility(self, *, customer_external_id: str) -> CustomerEligibility:
        return _eligibility(self.client.get_customer(customer_id=customer_external_id))

    def list_invoice_lines(self, *, period_start: date, period_end: date) -> Iterator[InvoiceLineRecord]:
        """ALEF's billing lines (partner price), one invoice a month (`ALEF-YYYYMM`)."""
        for wire in self.client.list_billing_lines(period_start=period_start, period_end=period_end):
            start = date.fromisoformat(str(wire["chargeStartDate"]))
            quantity = integer(wire.get("quantity")) or 0
            unit_price = money(wire.get("unitPrice")) or Decimal(0)
            amount = money(wire.get("amount"))
            yield InvoiceLineRecord(
                invoice_id=str(wire.get("invoiceId") or f"ALEF-{start:%Y%m}"),
                customer_external_id=str(wire.get("customerId") or ""),
                customer_name=wire.get("customerName"),
                subscription_external_id=str(wire["subscriptionId"]) if wire.get("subscriptionId") else None,
                offer_id=(
                    offer_id_for(
                        catalog_item_id=str(wire["offerId"]),
                        term=str(wire["termDuration"]),
                        billing_cycle=str(wire["billingCycle"]),
                    )
                    if wire.get("offerId") and wire.get("termDuration") and wire.get("billingCycle")
                    else wire.get("offerId")
                ),
                product_id=wire.get("productId"),
                name=str(wire.get("description") or ""),
                charge_type=_INVOICE_CHARGE_TYPES.get(
                    str(wire.get("chargeType") or "").lower(), InvoiceChargeType.OTHER
                ),
                charge_start=start,
                charge_end=date.fromisoformat(str(wire.get("chargeEndDate") or start.isoformat())),
                quantity=quantity,
                unit_price=unit_price,
                amount=amount if amount is not None else unit_price * quantity,
                currency=str(wire.get("currency") or "EUR"),
            )

    def list_subscriptions(self, *, customer_external_id: str | None = None) -> Iterator[SubscriptionRecord]:
        """Partner Center lists subscriptions per customer, so a full listing walks the customers."""
        if customer_external_id is not None:
            customer_ids = [customer_external_id]
        else:
            customer_ids = [str(w["id"]) for w in self.client.list_customers() if not w.get("isReseller")]
        for customer_id in customer_ids:
            yield from _nest(self.client.list_subscriptions(customer_id=customer_id))

    def get_subscription(self, *, subscription_external_id: str) -> SubscriptionRecord:
        wire = self.client.get_subscription(subscription_id=subscription_external_id)
        if wire.get("parentSubscriptionId"):
            raise NotFound(f"ALEF subscription {subscription_external_id} is an add-on, not a base subscription")
        add_ons = self.client.list_add_ons(customer_id=str(wire["customerId"]), subscription_id=str(wire["id"]))
        return _subscription_record(wire, add_ons=add_ons)

    # -- customers --------------------------------------------------------------------------------------

    def create_customer(self, *, customer: CustomerDraft) -> CustomerRecord:
        return self.create_organization(customer=customer, eligibility=CustomerEligibility(industry="Other"))

    def create_organization(self, *, customer: CustomerDraft, eligibility: CustomerEligibility) -> CustomerRecord:
        """An organization with its industry and eligibility flags (they decide which offers it may order)."""
        wire = self.client.create_customer(
            customer={
                "companyProfile": {
                    "companyName": customer.name,
                    "email": customer.email,
                    "domain": customer.domains[0] if customer.domains else None,
                    "vatId": customer.vat_id or "",
                },
                "billingProfile": {
                    "email": customer.email,
                    "companyName": customer.name,
                    "defaultAddress": {
                        "addressLine1": customer.address_line,
                        "city": customer.city,
                        "postalCode": customer.postal_code,
                        "country": customer.country.upper(),
                    },
                },
                "organizationProfile": {
                    "industry": eligibility.industry,
                    "isAcademic": eligibility.academic,
                    "isGovernment": eligibility.government,
                    "isNonProfit": eligibility.non_profit,
                },
            }
        )
        return _customer_record(wire)

    # -- orders -----------------------------------------------------------------------------------------

    def place_order_line(
        self, *, customer_external_id: str, offer_id: str, quantity: int, idempotency_key: str
    ) -> OrderResult:
        order = self._order(
            customer_id=customer_external_id,
            offer_id=offer_id,
            quantity=quantity,
            idempotency_key=idempotency_key,
        )
        subscription_id = str(order["lineItems"][0]["subscriptionId"])
        record = self.get_subscription(subscription_external_id=subscription_id)
        outcome = OrderLineOutcome.COMPLETED if order.get("status") == "completed" else OrderLineOutcome.PROVISIONING
        if record.status == SubscriptionStatus.PENDING:
            outcome = OrderLineOutcome.PROVISIONING
        return OrderResult(subscription=record, idempotency_key=idempotency_key, outcome=outcome)

    def _order(
        self,
        *,
        customer_id: str,
        offer_id: str,
        quantity: int,
        idempotency_key: str,
        parent_subscription_id: str | None = None,
    ) -> WireObject:
        catalog_item_id, term, cycle = split_offer_id(offer_id)
        line: dict[str, Any] = {
            "lineItemNumber": 0,
            "offerId": catalog_item_id,
            "termDuration": term,
            "billingCycle": cycle,
            "quantity": quantity,
        }
        if parent_subscription_id is not None:
            line["parentSubscriptionId"] = parent_subscription_id
        try:
            order = self.client.create_order(
                customer_id=customer_id,
                order={
                    "referenceCustomerId": customer_id,
                    "billingCycle": cycle,
                    "referenceNumber": idempotency_key,
                    "lineItems": [line],
                },
                idempotency_key=f"{customer_id}/{idempotency_key}",
            )
        except Rejected as rejected:
            if "CustomerNotEligible" in getattr(rejected, "data", ()):
                raise Rejected("not_eligible", rejected.message, reference=rejected.reference) from rejected
            raise
        if not order.get("lineItems"):
            raise Rejected("empty_order", "ALEF answered the order without line items")
        return order

    def find_applied_order_line(self, *, customer_external_id: str, idempotency_key: str) -> SubscriptionRecord | None:
        """The subscription the order with this reference number created (its base, for an add-on)."""
        for order in self.client.list_orders(customer_id=customer_external_id):
            if order.get("referenceNumber") != idempotency_key:
                continue
            for line in order.get("lineItems") or []:
                if not line.get("subscriptionId"):
                    continue
                base_id = line.get("parentSubscriptionId") or line["subscriptionId"]
                return self.get_subscription(subscription_external_id=str(base_id))
        return None

    # -- lifecycle ----------------------------------------------------------------------------------------

    def _patch(self, subscription_id: str, change: Callable[[WireObject], None]) -> WireObject:
        """Read, change, PATCH the whole object with its ETag; a conflict is re-read and re-applied once."""
        for attempt in (1, 2):
            wire = self.client.get_subscription(subscription_id=subscription_id)
            change(wire)
            try:
                return self.client.patch_subscription(customer_id=str(wire["customerId"]), subscription=wire)
            except EtagConflict:
                if attempt == 2:
                    raise
                logger.info("ALEF subscription %s changed meanwhile; re-reading", subscription_id)
        raise AssertionError("unreachable")  # pragma: no cover

    def _set(self, subscription_id: str, **fields: Any) -> WireObject:
        return self._patch(subscription_id, lambda wire: wire.update(fields))

    def change_quantity(self, *, subscription_external_id: str, quantity: int) -> SubscriptionRecord:
        self._set(subscription_external_id, quantity=quantity)
        return self.get_subscription(subscription_external_id=subscription_external_id)

    def suspend(self, *, subscription_external_id: str) -> SubscriptionRecord:
        self._set(subscription_external_id, status="suspended")
        return self.get_subscription(subscription_external_id=subscription_external_id)

    def reactivate(self, *, subscription_external_id: str) -> SubscriptionRecord:
        self._set(subscription_external_id, status="active")
        return self.get_subscription(subscription_external_id=subscription_external_id)

    def terminate(self, *, subscription_external_id: str, reason: str | None = None) -> SubscriptionRecord:
        self._end(subscription_external_id)
        return self.get_subscription(subscription_external_id=subscription_external_id)

    def _end(self, subscription_id: str) -> None:
        """Cancel inside the window; outside it (800090) stop the renewal so it ends with its term."""
        try:
            self._set(subscription_id, status="deleted")
        except Rejected as rejected:
            if rejected.code != "800090":
                raise
            self._set(subscription_id, autoRenewEnabled=False)

    def revoke_termination(self, *, subscription_external_id: str) -> SubscriptionRecord:
        current = self.get_subscription(subscription_external_id=subscription_external_id)
        if current.status == SubscriptionStatus.TERMINATED:
            raise Rejected("already_terminated", f"ALEF subscription {current.name} has already ended")
        if not current.auto_renew:
            self._set(subscription_external_id, autoRenewEnabled=True)
            return self.get_subscription(subscription_external_id=subscription_external_id)
        return current

    def change_billing_cycle(self, *, subscription_external_id: str, billing_cycle: BillingCycle) -> SubscriptionRecord:
        current = self.get_subscription(subscription_external_id=subscription_external_id)
        if current.billing_cycle == billing_cycle:
            return current
        self._set(subscription_external_id, billingCycle=_WIRE_CYCLES[billing_cycle])
        return self.get_subscription(subscription_external_id=subscription_external_id)

    # -- add-ons ------------------------------------------------------------------------------------------

    def add_add_on(
        self, *, subscription_external_id: str, offer_id: str, quantity: int, idempotency_key: str
    ) -> AddOnRecord:
        parent = self.client.get_subscription(subscription_id=subscription_external_id)
        order = self._order(
            customer_id=str(parent["customerId"]),
            offer_id=offer_id,
            quantity=quantity,
            idempotency_key=idempotency_key,
            parent_subscription_id=subscription_external_id,
        )
        add_on = self.client.get_subscription(subscription_id=str(order["lineItems"][0]["subscriptionId"]))
        return _add_on_record(add_on, order_reference=idempotency_key)

    def change_add_on_quantity(
        self, *, subscription_external_id: str, add_on_external_id: str, quantity: int
    ) -> AddOnRecord:
        self._add_on_wire(subscription_external_id=subscription_external_id, add_on_external_id=add_on_external_id)
        return _add_on_record(self._set(add_on_external_id, quantity=quantity))

    def remove_add_on(self, *, subscription_external_id: str, add_on_external_id: str) -> None:
        self._add_on_wire(subscription_external_id=subscription_external_id, add_on_external_id=add_on_external_id)
        self._end(add_on_external_id)

    def _add_on_wire(self, *, subscription_external_id: str, add_on_external_id: str) -> WireObject:
        wire = self.client.get_subscription(subscription_id=add_on_external_id)
        if str(wire.get("parentSubscriptionId")) != subscription_external_id:
            raise NotFound(f"ALEF subscription {subscription_external_id} has no add-on {add_on_external_id}")
        return wire

    # -- tenants ------------------------------------------------------------------------------------------

    def check_domain_availability(self, *, domain: str) -> bool:
        """Whether `<domain>.onmicrosoft.com` is still free (a quick check; creation re-checks it)."""
        return self.domain_availability(domain=domain).available

    def domain_availability(self, *, domain: str) -> DomainAvailability:
        """ALEF answers Partner Center's check (HEAD domains/{domain}) for a prefix or a whole domain."""
        self.require(Capability.CREATE_TENANT)
        whole = tenant_domain(domain)
        if self.client.domain_exists(domain=whole):
            return DomainAvailability(domain=whole, available=False, message=DOMAIN_TAKEN_MESSAGE)
        return DomainAvailability(domain=whole, available=True)

    def create_customer_tenant(self, *, customer: CustomerDraft, tenant: TenantDraft) -> CreatedTenant:
        """ALEF's own way: an organization, then its tenant as a long-running operation whose domain check
        ALEF runs at Microsoft; ALEF emails the admin's credentials to the contact (and the reseller) itself.
        The domain is checked before the organization is created, so a taken domain leaves nothing behind;
        one taken meanwhile fails the operation ("domain_taken")."""
        self.require(Capability.CREATE_TENANT)
        missing = tenant_address_missing(customer)
        if missing:
            raise Rejected("incomplete_address", f"The company address lacks: {', '.join(missing)}.")
        domain = tenant_domain(tenant.domain_prefix)
        availability = self.domain_availability(domain=domain)
        if not availability.available:
            raise Rejected("domain_taken", availability.message or DOMAIN_TAKEN_MESSAGE)
        organization = self.create_customer(customer=customer)
        started = self.create_tenant(customer_external_id=organization.external_id, tenant=tenant)
        operation = self.wait_for_operation(
            operation_id=started.operation_id,
            max_polls=TENANT_CREATION_POLLS,
            interval_seconds=TENANT_CREATION_POLL_SECONDS,
        )
        if operation.status == OperationStatus.FAILED:
            if operation.error_code == "DomainNotAvailable":
                raise Rejected("domain_taken", DOMAIN_TAKEN_MESSAGE)
            raise Rejected("tenant_failed", operation.message or "ALEF could not create the tenant.")
        return CreatedTenant(
            customer=organization,
            tenant_id=operation.tenant_id,
            domain=operation.domain or domain,
            admin_user_name=f"admin@{operation.domain or domain}",
            credentials_sent_to=tenant.email,
            ready=operation.status == OperationStatus.SUCCEEDED,
            operation_id=operation.operation_id,
        )

    def create_tenant(self, *, customer_external_id: str, tenant: TenantDraft) -> TenantOperation:
        """Start creating the customer's Microsoft tenant; poll `get_operation` until it is done."""
        self.require(Capability.CREATE_TENANT)
        try:
            wire = self.client.create_tenant(
                customer_id=customer_external_id,
                tenant={
                    "domainPrefix": tenant.domain_prefix,
                    "contact": {
                        "firstName": tenant.first_name,
                        "lastName": tenant.last_name,
                        "email": tenant.email,
                        "phone": tenant.phone or "",
                    },
                },
            )
        except Rejected as rejected:
            if "address is incomplete" in rejected.message:
                raise Rejected("incomplete_address", rejected.message, reference=rejected.reference) from rejected
            if rejected.code == "800003":
                raise Rejected("tenant_exists", rejected.message, reference=rejected.reference) from rejected
            raise
        return _operation_record(wire)

    def get_operation(self, *, operation_id: str) -> TenantOperation:
        self.require(Capability.CREATE_TENANT)
        return _operation_record(self.client.get_operation(operation_id=operation_id))

    def wait_for_operation(
        self, *, operation_id: str, max_polls: int = 20, interval_seconds: float = 15.0
    ) -> TenantOperation:
        """Poll until the operation is done (or `max_polls` ran out: the last, still running, state)."""
        operation = self.get_operation(operation_id=operation_id)
        for _ in range(max_polls - 1):
            if operation.done:
                break
            self._sleep(interval_seconds)
            operation = self.get_operation(operation_id=operation_id)
        return operation


# ------------------------------------------------------------------------------------------------
# Wire -> record mapping
# ------------------------------------------------------------------------------------------------


def _customer_record(wire: WireObject) -> CustomerRecord:
    company = wire.get("companyProfile") or {}
    address = (wire.get("billingProfile") or {}).get("defaultAddress") or {}
    return CustomerRecord(
        external_id=str(wire["id"]),
        name=str(company.get("companyName") or ""),
        email=company.get("email") or None,
        domains=(str(company["domain"]),) if company.get("domain") else (),
        country=str(address["country"]).upper() if address.get("country") else None,
        city=address.get("city") or None,
        vat_id=company.get("vatId") or None,
        customer_number=None,
        active=str(wire.get("status") or "active").lower() == "active",
    )


def _eligibility(wire: WireObject) -> CustomerEligibility:
    profile = wire.get("organizationProfile") or {}
    return CustomerEligibility(
        industry=str(profile.get("industry") or "Other"),
        academic=bool(profile.get("isAcademic")),
        government=bool(profile.get("isGovernment")),
        non_profit=bool(profile.get("isNonProfit")),
    )


def _segment(row: WireObject) -> OfferSegment:
    try:
        return OfferSegment(str(row.get("segment") or "commercial").lower())
    except ValueError:
        return OfferSegment.COMMERCIAL


def _offer_record(row: WireObject) -> OfferRecord:
    catalog_item_id = str(row["catalogItemId"])
    product_id = f"{row.get('productId')}:{row.get('skuId')}"
    name = str(row.get("name") or catalog_item_id)
    segment = _segment(row)
    if segment in _SEGMENT_LABELS and _SEGMENT_LABELS[segment] not in name.lower():
        name = f"{name} ({_SEGMENT_LABELS[segment]})"
    return OfferRecord(
        offer_id=offer_id_for(
            catalog_item_id=catalog_item_id, term=str(row["termDuration"]), billing_cycle=str(row["billingCycle"])
        ),
        product_id=product_id,
        name=name,
        vendor=row.get("publisher") or "Microsoft",
        sku=product_id,
        billing_cycle=_billing_cycle(row.get("billingCycle")),
        term=str(row.get("termDuration") or "") or None,
        charge_type=ChargeType.RECURRING,
        currency=str(row.get("currencyCode") or "EUR"),
        cost_price=money(row.get("partnerPrice")) or Decimal("0"),
        sales_price=money(row.get("customerPrice")),
        suggested_retail_price=money(row.get("suggestedRetailPrice")),
        add_on_parent_product_ids=tuple(str(parent) for parent in row.get("parentProductIds") or ()),
    )


def _nest(wires: list[WireObject]) -> Iterator[SubscriptionRecord]:
    add_ons: dict[str, list[WireObject]] = {}
    for wire in wires:
        if wire.get("parentSubscriptionId"):
            add_ons.setdefault(str(wire["parentSubscriptionId"]), []).append(wire)
    for wire in wires:
        if not wire.get("parentSubscriptionId"):
            yield _subscription_record(wire, add_ons=add_ons.get(str(wire["id"]), []))


def _subscription_record(wire: WireObject, *, add_ons: list[WireObject]) -> SubscriptionRecord:
    status = _status(wire)
    live = status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED)
    end = instant(wire.get("commitmentEndDate"))
    auto_renew = bool(wire.get("autoRenewEnabled"))
    return SubscriptionRecord(
        external_id=str(wire["id"]),
        customer_external_id=str(wire["customerId"]),
        offer_id=offer_id_for(
            catalog_item_id=str(wire["offerId"]),
            term=str(wire.get("termDuration")),
            billing_cycle=str(wire.get("billingCycle")),
        ),
        product_id=f"{wire.get('productId')}:{wire.get('skuId')}",
        name=str(wire.get("offerName") or wire.get("friendlyName") or ""),
        quantity=int(wire.get("quantity") or 0),
        assigned=integer(wire.get("assignedLicenses")),
        status=status,
        billing_cycle=_billing_cycle(wire.get("billingCycle")),
        term=wire.get("termDuration") or None,
        term_end=end.date() if end else None,
        auto_renew=auto_renew and live,
        trial=bool(wire.get("isTrial")),
        add_ons=tuple(_add_on_record(child) for child in add_ons),
        cancellation_allowed_until=instant(wire.get("cancellationAllowedUntilDate")) if live else None,
        scheduled_termination_date=end.date() if live and end and not auto_renew else None,
        started_at=instant(wire.get("creationDate")),
        currency=wire.get("currencyCode") or None,
        unit_cost_price=money(wire.get("partnerPrice")),
        unit_sales_price=money(wire.get("customerPrice")),
        order_reference=wire.get("orderReferenceNumber") or None,
    )


def _add_on_record(wire: WireObject, *, order_reference: str | None = None) -> AddOnRecord:
    return AddOnRecord(
        external_id=str(wire["id"]),
        offer_id=offer_id_for(
            catalog_item_id=str(wire["offerId"]),
            term=str(wire.get("termDuration")),
            billing_cycle=str(wire.get("billingCycle")),
        ),
        product_id=f"{wire.get('productId')}:{wire.get('skuId')}",
        name=str(wire.get("offerName") or ""),
        quantity=int(wire.get("quantity") or 0),
        status=_status(wire),
        order_reference=order_reference or wire.get("orderReferenceNumber") or None,
    )


def _operation_record(wire: WireObject) -> TenantOperation:
    error = wire.get("error") or {}
    try:
        status = OperationStatus(str(wire.get("status") or "running").lower())
    except ValueError:
        status = OperationStatus.RUNNING
    return TenantOperation(
        operation_id=str(wire["id"]),
        customer_external_id=str(wire.get("customerId") or ""),
        domain=str(wire.get("domain") or ""),
        status=status,
        tenant_id=wire.get("tenantId") or None,
        error_code=error.get("code") or None,
        message=error.get("message") or None,
        created_at=instant(wire.get("createdDateTime")),
        completed_at=instant(wire.get("lastActionDateTime")) if status != OperationStatus.RUNNING else None,
    )


def _status(wire: WireObject) -> SubscriptionStatus:
    return _STATUSES.get(str(wire.get("status") or "").lower(), SubscriptionStatus.ACTIVE)


def _billing_cycle(value: Any) -> BillingCycle:
    return _BILLING_CYCLES.get(str(value or "").lower(), BillingCycle.NONE)
