"""Cloudmore implementation of `MarketplaceProvider`, plus the tenant creation flow and billing reports.

Cloudmore-specific choices, in one place:
- Customers are Cloudmore organizations (GUID ids). Cloudmore addresses a subscription under its
  organization, so a subscription's (and an add-on's) external id is `"<organizationId>:<subscriptionId>"`.
- An offer is one price list item: `itemCode` = `"<productId>:<skuId>:<term>:<billingFrequency>"`
  (one per term and billing frequency); `product_id` is `"<productId>:<skuId>"`. Prices come from the
  reseller's CSP service price list for the account's segment (option `segment`, default
  commercial): cost price, sales price and retail price.
- Add-ons are NCE subscriptions with a `parentSubscriptionId`; listings nest them under their base.
- Cloudmore has no idempotency key. The order line's key travels as the subscription's purchase
  order number; `place_order_line` and `add_add_on` look for it first and return what an earlier
  attempt bought instead of buying again.
- Microsoft NCE rules: a cancellation inside the 7-day window ends the subscription at once; after
  it, terminating turns auto-renew off so it ends with its term (revoking turns it back on).
  Decreases outside the window are refused by Cloudmore. The billing frequency is fixed for the
  term, so changing the billing cycle is not offered.
- Connection options: `reseller_id` (required), `client_id` (default "ro.customer.client"),
  `client_secret` (the API secret), `segment`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from marketplace.providers.base import (
    AddOnRecord,
    BillingCycle,
    Capability,
    ChargeType,
    CreatedTenant,
    CustomerDraft,
    CustomerRecord,
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
from marketplace.providers.cloudmore import DESCRIPTION
from marketplace.providers.cloudmore.client import DEFAULT_CLIENT_ID, CloudmoreClient, WireObject
from marketplace.providers.cloudmore.records import (
    DOMAIN_TAKEN_EXPLANATION,
    BillingChargeType,
    BillingReport,
    BillingReportLine,
    DirectoryUserRecord,
    DomainAvailability,
    Segment,
    TenantDraft,
    TenantRecord,
    TenantUserRecord,
)
from marketplace.providers.description import MarketplaceDescription
from marketplace.providers.http import RetryPolicy, SleepFunction, Timeouts
from marketplace.providers.wire import calendar_date, instant, integer, money

logger = logging.getLogger(__name__)

ID_SEPARATOR = ":"
_BILLING_CYCLES = {"monthly": BillingCycle.MONTHLY, "annual": BillingCycle.ANNUAL, "triennial": BillingCycle.TRIENNIAL}
_STATUSES = {
    "active": SubscriptionStatus.ACTIVE,
    "suspended": SubscriptionStatus.SUSPENDED,
    "deleted": SubscriptionStatus.TERMINATED,
    "expired": SubscriptionStatus.TERMINATED,
    "cancelled": SubscriptionStatus.TERMINATED,
    "disabled": SubscriptionStatus.SUSPENDED,
    "pending": SubscriptionStatus.PENDING,
    "inprogress": SubscriptionStatus.PENDING,
    "failed": SubscriptionStatus.FAILED,
}
_CHARGE_TYPES = {
    "cyclefee": BillingChargeType.CYCLE_FEE,
    "prorate": BillingChargeType.PRO_RATA,
    "prorata": BillingChargeType.PRO_RATA,
}
#: The address fields Microsoft needs to create a tenant, as (wire name, label).
TENANT_ADDRESS_FIELDS = (("street", "street"), ("city", "city"), ("zipCode", "postal code"), ("countryCode", "country"))


def subscription_external_id(*, organization_id: str, subscription_id: str) -> str:
    return f"{organization_id}{ID_SEPARATOR}{subscription_id}"


def split_subscription_id(external_id: str) -> tuple[str, str]:
    organization_id, separator, subscription_id = external_id.partition(ID_SEPARATOR)
    if not separator or not organization_id or not subscription_id:
        raise NotFound(f"{external_id!r} is not a Cloudmore subscription id (<organizationId>:<subscriptionId>)")
    return organization_id, subscription_id


class CloudmoreTenantCreation:
    """Cloudmore's "Add O365 CSP Direct service": the Microsoft tenant for an organization.

    The form is pre-filled from the organization (`tenant_form_defaults`), refused while its address
    is incomplete (`missing_address_fields`), the domain is checked (`domain_availability`), then
    the tenant is created at once with an admin user whose credentials Cloudmore emails to the
    contact. Nothing is charged until a subscription is bought.
    """

    client: CloudmoreClient
    require: Callable[[Capability], None]  # ProviderBase's: refuses an undeclared capability
    create_customer: Callable[..., CustomerRecord]  # the provider's: an organization

    def check_domain_availability(self, *, domain: str) -> bool:
        return self.domain_availability(domain=domain).available

    def create_customer_tenant(self, *, customer: CustomerDraft, tenant: TenantDraft) -> CreatedTenant:
        """A new organization, then its O365 CSP Direct service: Cloudmore emails the admin's
        credentials to the contact itself. The domain is checked before the organization is created,
        so a taken domain leaves nothing behind."""
        self.require(Capability.CREATE_TENANT)
        missing = tenant_address_missing(customer)
        if missing:
            raise Rejected("incomplete_address", f"The company address lacks: {', '.join(missing)}.")
        availability = self.domain_availability(domain=tenant.domain_prefix)
        if not availability.available:
            raise Rejected("domain_taken", availability.message or DOMAIN_TAKEN_EXPLANATION)
        organization = self.create_customer(customer=customer)
        record = self.create_tenant(customer_external_id=organization.external_id, tenant=tenant)
        return CreatedTenant(
            customer=organization,
            tenant_id=record.tenant_id,
            domain=record.domain or tenant_domain(tenant.domain_prefix),
            admin_user_name=record.admin_user_name,
            credentials_sent_to=record.credentials_sent_to or tenant.email,
        )

    def domain_availability(self, *, domain: str) -> DomainAvailability:
        """`domain` is the prefix ("contoso") or the whole "contoso.onmicrosoft.com"."""
        self.require(Capability.CREATE_TENANT)
        answer = self.client.validate_domain(domain=domain)
        available = bool(answer.get("isAvailable"))
        return DomainAvailability(
            domain=str(answer.get("domain") or domain),
            available=available,
            message=None if available else str(answer.get("message") or DOMAIN_TAKEN_EXPLANATION),
        )

    def missing_address_fields(self, *, customer_external_id: str) -> tuple[str, ...]:
        """The address fields Microsoft needs that the organization lacks (labels, for messages)."""
        organization = self.client.get_organization(organization_id=customer_external_id)
        address = organization.get("address") or {}
        return tuple(label for name, label in TENANT_ADDRESS_FIELDS if not str(address.get(name) or "").strip())

    def tenant_form_defaults(self, *, customer_external_id: str) -> TenantDraft:
        """The form pre-filled from the organization's properties (contact name, address, domain)."""
        organization = self.client.get_organization(organization_id=customer_external_id)
        contact = organization.get("contact") or {}
        first_name, _, last_name = str(contact.get("name") or "").strip().partition(" ")
        source = str(organization.get("domain") or organization.get("name") or "")
        prefix = "".join(character for character in source.split(".")[0].lower() if character.isalnum())[:27]
        return TenantDraft(
            domain_prefix=prefix,
            first_name=first_name,
            last_name=last_name,
            email=str(contact.get("email") or organization.get("notificationEmail") or ""),
            phone=contact.get("phone") or None,
        )

    def get_tenant(self, *, customer_external_id: str) -> TenantRecord | None:
        self.require(Capability.CREATE_TENANT)
        try:
            wire = self.client.get_csp_service(organization_id=customer_external_id)
        except NotFound:
            return None
        return _tenant_record(wire)

    def create_tenant(self, *, customer_external_id: str, tenant: TenantDraft) -> TenantRecord:
        """Create the Microsoft tenant (O365 CSP Direct service) and its admin user, at once."""
        self.require(Capability.CREATE_TENANT)
        missing = self.missing_address_fields(customer_external_id=customer_external_id)
        if missing:
            raise Rejected(
                "incomplete_address",
                f"Complete the organization's address before creating a Microsoft tenant: {', '.join(missing)} "
                "missing. Microsoft requires the company address for new tenants.",
            )
        try:
            wire = self.client.add_csp_service(
                organization_id=customer_external_id,
                service={
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
            if rejected.code == "DomainNotAvailable":
                raise Rejected("domain_taken", rejected.message, reference=rejected.reference) from rejected
            if rejected.code == "IncompleteAddress":
                raise Rejected("incomplete_address", rejected.message, reference=rejected.reference) from rejected
            if rejected.code == "AlreadyExists":
                raise Rejected("tenant_exists", rejected.message, reference=rejected.reference) from rejected
            raise
        return _tenant_record(wire)

    def list_directory_users(self, *, customer_external_id: str) -> tuple[DirectoryUserRecord, ...]:
        self.require(Capability.CREATE_TENANT)
        return tuple(
            _directory_user_record(wire)
            for wire in self.client.list_organization_users(organization_id=customer_external_id)
        )

    def import_directory_users(
        self, *, customer_external_id: str, password_recipient: str
    ) -> tuple[TenantUserRecord, ...]:
        """User import: every Cloudmore directory user without a Microsoft 365 user gets one, named after the
        local part of their address in the tenant's domain; the generated passwords go to `password_recipient`."""
        self.require(Capability.CREATE_TENANT)
        existing = {
            user.user_name.split("@")[0].lower()
            for user in self.list_tenant_users(customer_external_id=customer_external_id)
        }
        created = []
        for person in self.list_directory_users(customer_external_id=customer_external_id):
            local = person.email.split("@")[0]
            if local.lower() in existing:
                continue
            created.append(
                self.create_tenant_user(
                    customer_external_id=customer_external_id,
                    user_name=local,
                    first_name=person.first_name or local,
                    last_name=person.last_name or local,
                    email=password_recipient,
                )
            )
            existing.add(local.lower())
        return tuple(created)

    def export_tenant_users(
        self, *, customer_external_id: str, password_recipient: str
    ) -> tuple[DirectoryUserRecord, ...]:
        """User export: every Microsoft 365 user without a Cloudmore directory user gets one (their user name
        as the Cloudmore user name); Cloudmore emails the passwords to `password_recipient`."""
        self.require(Capability.CREATE_TENANT)
        directory = {
            person.user_name.lower() for person in self.list_directory_users(customer_external_id=customer_external_id)
        }
        created = []
        for user in self.list_tenant_users(customer_external_id=customer_external_id):
            if user.user_name.lower() in directory:
                continue
            first, _space, last = (user.display_name or user.user_name).partition(" ")
            wire = self.client.create_organization_user(
                organization_id=customer_external_id,
                user={
                    "userName": user.user_name,
                    "firstName": first or user.user_name,
                    "lastName": last or first or user.user_name,
                    "email": password_recipient,
                },
            )
            created.append(_directory_user_record(wire))
            directory.add(user.user_name.lower())
        return tuple(created)

    def list_tenant_users(self, *, customer_external_id: str) -> tuple[TenantUserRecord, ...]:
        self.require(Capability.CREATE_TENANT)
        return tuple(_user_record(wire) for wire in self.client.list_csp_users(organization_id=customer_external_id))

    def create_tenant_user(
        self,
        *,
        customer_external_id: str,
        user_name: str,
        first_name: str,
        last_name: str,
        email: str,
        is_admin: bool = False,
        password: str | None = None,
    ) -> TenantUserRecord:
        """A Microsoft 365 user: with a generated password Cloudmore emails to `email`, or with `password`
        (which must meet Cloudmore's rules: Rejected "InvalidPassword" otherwise)."""
        self.require(Capability.CREATE_TENANT)
        user: dict[str, Any] = {
            "userName": user_name,
            "firstName": first_name,
            "lastName": last_name,
            "email": email,
            "isAdmin": is_admin,
            "generatePassword": password is None,
        }
        if password is not None:
            user["password"] = password
        wire = self.client.create_csp_user(organization_id=customer_external_id, user=user)
        return _user_record(wire)

    def assign_license(
        self, *, customer_external_id: str, user_external_id: str, subscription_external_id: str
    ) -> TenantUserRecord:
        """Subscribe a user to a subscription: one of its seats is consumed at once."""
        self.require(Capability.CREATE_TENANT)
        wire = self.client.assign_csp_user_subscription(
            organization_id=customer_external_id,
            user_id=user_external_id,
            subscription_id=subscription_external_id.split(ID_SEPARATOR)[-1],
        )
        return _user_record(wire)

    def unassign_license(
        self, *, customer_external_id: str, user_external_id: str, subscription_external_id: str
    ) -> TenantUserRecord:
        self.require(Capability.CREATE_TENANT)
        wire = self.client.unassign_csp_user_subscription(
            organization_id=customer_external_id,
            user_id=user_external_id,
            subscription_id=subscription_external_id.split(ID_SEPARATOR)[-1],
        )
        return _user_record(wire)


class CloudmoreProvider(CloudmoreTenantCreation, ProviderBase):
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
        reseller_id = connection.options.get("reseller_id")
        if not reseller_id:
            raise ValueError("A Cloudmore account needs its reseller id (connection option 'reseller_id')")
        self.segment = Segment(str(connection.options.get("segment") or Segment.COMMERCIAL).lower())
        self.client = CloudmoreClient(
            region=connection.region,
            username=connection.username,
            password=connection.secret,
            reseller_id=reseller_id,
            client_id=connection.options.get("client_id") or DEFAULT_CLIENT_ID,
            client_secret=connection.options.get("client_secret") or "",
            server_url=connection.server_url,
            transport=transport,
            timeouts=timeouts,
            retry_policy=retry_policy,
            sleep=sleep,
        )
        self._csp_service_id: str | None = None

    def close(self) -> None:
        self.client.close()

    def digest_payload(self, *, digest: PayloadDigest) -> bool:
        """Cloudmore's records are made of the answers the client reads and nothing else."""
        self.client.payload_digest = digest
        return True

    def payload_scope(self, digest: PayloadDigest | None) -> AbstractContextManager[None]:
        return self.client.payload_scope(digest)

    # -- reads ------------------------------------------------------------------------------------------

    def list_customers(self) -> Iterator[CustomerRecord]:
        for organization in self.client.list_organizations():
            yield _customer_record(organization)

    def list_offers(self) -> Iterator[OfferRecord]:
        return self.list_offers_for_segment(segment=self.segment)

    def list_offers_for_segment(self, *, segment: str) -> Iterator[OfferRecord]:
        """The price list of one segment (commercial, education, charity, government)."""
        rows = self.client.get_price_list(service_id=self._csp_service(), segment=Segment(segment.lower()).value)
        for row in rows:
            if row.get("costPrice") is None:
                logger.info("Cloudmore price list item %s has no cost price", row.get("itemCode"))
                continue
            yield OfferRecord(
                offer_id=str(row["itemCode"]),
                product_id=f"{row['productId']}:{row['skuId']}",
                name=str(row.get("name") or row["itemCode"]),
                vendor=row.get("publisher") or "Microsoft",
                sku=f"{row['productId']}:{row['skuId']}",
                billing_cycle=_billing_cycle(row.get("billingFrequency")),
                term=row.get("termDuration") or None,
                charge_type=ChargeType.RECURRING,
                currency=str(row.get("currency") or "EUR"),
                cost_price=money(row["costPrice"]) or Decimal("0"),
                sales_price=money(row.get("price")),
                suggested_retail_price=money(row.get("retailPrice")),
                add_on_parent_product_ids=tuple(str(parent) for parent in row.get("parentProducts") or ()),
            )

    def list_subscriptions(self, *, customer_external_id: str | None = None) -> Iterator[SubscriptionRecord]:
        """Without a customer, the reseller-wide listing (paged), add-ons nested under their base."""
        if customer_external_id is None:
            wires = self.client.list_reseller_nce_subscriptions()
        else:
            wires = self.client.list_nce_subscriptions(organization_id=customer_external_id)
        bases: list[WireObject] = []
        add_ons: dict[str, list[WireObject]] = {}
        for wire in wires:
            parent = wire.get("parentSubscriptionId")
            if parent:
                add_ons.setdefault(str(parent), []).append(wire)
            else:
                bases.append(wire)
        for wire in bases:
            yield _subscription_record(wire, add_ons=add_ons.get(str(wire["id"]), []))

    def get_subscription(self, *, subscription_external_id: str) -> SubscriptionRecord:
        organization_id, subscription_id = split_subscription_id(subscription_external_id)
        wire = self.client.get_nce_subscription(organization_id=organization_id, subscription_id=subscription_id)
        if wire.get("parentSubscriptionId"):
            raise NotFound(f"Cloudmore subscription {subscription_id} is an add-on, not a base subscription")
        return self._with_add_ons(organization_id, wire)

    def _with_add_ons(self, organization_id: str, wire: WireObject) -> SubscriptionRecord:
        children = [
            child
            for child in self.client.list_nce_subscriptions(organization_id=organization_id)
            if str(child.get("parentSubscriptionId") or "") == str(wire["id"])
        ]
        return _subscription_record(wire, add_ons=children)

    # -- customers --------------------------------------------------------------------------------------

    def create_customer(self, *, customer: CustomerDraft) -> CustomerRecord:
        organization = self.client.create_organization(
            organization={
                "name": customer.name,
                "notificationEmail": customer.email,
                "contact": {"name": customer.name, "email": customer.email},
                "address": {
                    "street": customer.address_line,
                    "city": customer.city,
                    "zipCode": customer.postal_code,
                    "countryCode": customer.country.upper(),
                },
                "domain": customer.domains[0] if customer.domains else "",
                "vat": customer.vat_id or "",
                "customerNumber": customer.customer_number or "",
                "segment": self.segment.value,
            }
        )
        return _customer_record(organization)

    # -- orders -----------------------------------------------------------------------------------------

    def place_order_line(
        self, *, customer_external_id: str, offer_id: str, quantity: int, idempotency_key: str
    ) -> OrderResult:
        """Buy, unless a subscription already carries the key: then return it and buy nothing."""
        applied = self.find_applied_order_line(
            customer_external_id=customer_external_id, idempotency_key=idempotency_key
        )
        if applied is not None:
            return OrderResult(subscription=applied, idempotency_key=idempotency_key, outcome=_outcome(applied))
        wire = self._buy(organization_id=customer_external_id, item=offer_id, quantity=quantity, marker=idempotency_key)
        record = _subscription_record(wire, add_ons=[])
        return OrderResult(subscription=record, idempotency_key=idempotency_key, outcome=_outcome(record))

    def find_applied_order_line(self, *, customer_external_id: str, idempotency_key: str) -> SubscriptionRecord | None:
        """The subscription whose purchase order number is the key, or whose add-on carries it."""
        wires = list(self.client.list_nce_subscriptions(organization_id=customer_external_id))
        for wire in wires:
            if wire.get("purchaseOrderNumber") != idempotency_key:
                continue
            parent_id = wire.get("parentSubscriptionId")
            base = next((w for w in wires if str(w["id"]) == str(parent_id)), None) if parent_id else wire
            if base is None:
                continue
            children = [w for w in wires if str(w.get("parentSubscriptionId") or "") == str(base["id"])]
            return _subscription_record(base, add_ons=children)
        return None

    def _buy(
        self, *, organization_id: str, item: str, quantity: int, marker: str, parent_id: str | None = None
    ) -> WireObject:
        body: dict[str, Any] = {"itemCode": item, "quantity": quantity, "purchaseOrderNumber": marker}
        if parent_id is not None:
            body["parentSubscriptionId"] = parent_id
        return self.client.create_nce_subscription(organization_id=organization_id, subscription=body)

    # -- lifecycle ----------------------------------------------------------------------------------------

    def _update(self, external_id: str, changes: Mapping[str, Any]) -> WireObject:
        organization_id, subscription_id = split_subscription_id(external_id)
        return self.client.update_nce_subscription(
            organization_id=organization_id, subscription_id=subscription_id, changes=changes
        )

    def change_quantity(self, *, subscription_external_id: str, quantity: int) -> SubscriptionRecord:
        self._update(subscription_external_id, {"quantity": quantity})
        return self.get_subscription(subscription_external_id=subscription_external_id)

    def suspend(self, *, subscription_external_id: str) -> SubscriptionRecord:
        self._update(subscription_external_id, {"status": "Suspended"})
        return self.get_subscription(subscription_external_id=subscription_external_id)

    def reactivate(self, *, subscription_external_id: str) -> SubscriptionRecord:
        self._update(subscription_external_id, {"status": "Active"})
        return self.get_subscription(subscription_external_id=subscription_external_id)

    def terminate(self, *, subscription_external_id: str, reason: str | None = None) -> SubscriptionRecord:
        self._end(subscription_external_id)
        return self.get_subscription(subscription_external_id=subscription_external_id)

    def _end(self, external_id: str) -> None:
        """Cancel inside the window; outside it, stop the renewal so it ends with its term."""
        organization_id, subscription_id = split_subscription_id(external_id)
        try:
            self.client.delete_nce_subscription(organization_id=organization_id, subscription_id=subscription_id)
        except Rejected as rejected:
            if rejected.code != "CancellationWindowExpired":
                raise
            self._update(external_id, {"autoRenew": False})

    def revoke_termination(self, *, subscription_external_id: str) -> SubscriptionRecord:
        """Turn auto-renew back on. Nothing to revoke is not an error, so a retried task succeeds."""
        current = self.get_subscription(subscription_external_id=subscription_external_id)
        if current.status == SubscriptionStatus.TERMINATED:
            raise Rejected("already_terminated", f"Cloudmore subscription {current.name} has already ended")
        if not current.auto_renew:
            self._update(subscription_external_id, {"autoRenew": True})
            return self.get_subscription(subscription_external_id=subscription_external_id)
        return current

    # -- add-ons ------------------------------------------------------------------------------------------

    def add_add_on(
        self, *, subscription_external_id: str, offer_id: str, quantity: int, idempotency_key: str
    ) -> AddOnRecord:
        organization_id, parent_id = split_subscription_id(subscription_external_id)
        for wire in self.client.list_nce_subscriptions(organization_id=organization_id):
            if (
                wire.get("purchaseOrderNumber") == idempotency_key
                and str(wire.get("parentSubscriptionId")) == parent_id
            ):
                return _add_on_record(wire)
        wire = self._buy(
            organization_id=organization_id,
            item=offer_id,
            quantity=quantity,
            marker=idempotency_key,
            parent_id=parent_id,
        )
        return _add_on_record(wire)

    def change_add_on_quantity(
        self, *, subscription_external_id: str, add_on_external_id: str, quantity: int
    ) -> AddOnRecord:
        self._add_on_wire(subscription_external_id=subscription_external_id, add_on_external_id=add_on_external_id)
        return _add_on_record(self._update(add_on_external_id, {"quantity": quantity}))

    def remove_add_on(self, *, subscription_external_id: str, add_on_external_id: str) -> None:
        self._add_on_wire(subscription_external_id=subscription_external_id, add_on_external_id=add_on_external_id)
        self._end(add_on_external_id)

    def _add_on_wire(self, *, subscription_external_id: str, add_on_external_id: str) -> WireObject:
        organization_id, parent_id = split_subscription_id(subscription_external_id)
        add_on_organization_id, add_on_id = split_subscription_id(add_on_external_id)
        if add_on_organization_id == organization_id:
            wire = self.client.get_nce_subscription(organization_id=organization_id, subscription_id=add_on_id)
            if str(wire.get("parentSubscriptionId")) == parent_id:
                return wire
        raise NotFound(f"Cloudmore subscription {subscription_external_id} has no add-on {add_on_external_id}")

    # -- billing ------------------------------------------------------------------------------------------

    def list_invoice_lines(self, *, period_start: date, period_end: date) -> Iterator[InvoiceLineRecord]:
        """The monthly billing reports of every organization, at cost (what the partner pays), kept
        when the line's period starts inside `period_start`..`period_end`."""
        year, month = period_start.year, period_start.month
        while (year, month) <= (period_end.year, period_end.month):
            wire = self.client.monthly_billing_per_organization(year=year, month=month)
            currency = str(wire.get("currency") or "EUR")
            for organization in wire.get("organizations") or []:
                customer_id = str(organization.get("organizationId") or "")
                for subscription in organization.get("subscriptions") or []:
                    for item in subscription.get("items") or []:
                        start = calendar_date(item.get("fromDate")) or date(year, month, 1)
                        if not period_start <= start <= period_end:
                            continue
                        kind = _CHARGE_TYPES.get(str(item.get("type", "")).lower(), BillingChargeType.OTHER)
                        quantity = int(item.get("quantity") or 0)
                        amount = money(item.get("costAmount"))
                        if amount is None:
                            amount = money(item.get("amount")) or Decimal("0")
                        yield InvoiceLineRecord(
                            invoice_id=f"{year:04d}-{month:02d}/{customer_id}",
                            customer_external_id=customer_id,
                            customer_name=organization.get("organizationName"),
                            subscription_external_id=subscription_external_id(
                                organization_id=customer_id, subscription_id=str(subscription["subscriptionId"])
                            ),
                            offer_id=subscription.get("itemCode") or None,
                            product_id=None,
                            name=str(subscription.get("productName") or item.get("description") or ""),
                            charge_type=(
                                InvoiceChargeType.REFUND
                                if amount < 0
                                else {
                                    BillingChargeType.CYCLE_FEE: InvoiceChargeType.CYCLE_FEE,
                                    BillingChargeType.PRO_RATA: InvoiceChargeType.PRO_RATA,
                                }.get(kind, InvoiceChargeType.OTHER)
                            ),
                            charge_start=start,
                            charge_end=calendar_date(item.get("toDate")) or start,
                            quantity=-abs(quantity) if amount < 0 else quantity,
                            unit_price=money(item.get("unitCost")) or money(item.get("unitPrice")) or Decimal("0"),
                            amount=amount,
                            currency=currency,
                        )
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    def billing_report(self, *, customer_external_id: str, month: date) -> BillingReport:
        """The organization's monthly billing report (cycle fees, pro-rata lines) for `month`."""
        wire = self.client.monthly_billing_per_organization(
            year=month.year, month=month.month, organization_id=customer_external_id
        )
        currency = str(wire.get("currency") or "EUR")
        organization = next(
            (o for o in wire.get("organizations") or [] if str(o.get("organizationId")) == customer_external_id), None
        )
        if organization is None:
            return BillingReport(
                customer_external_id=customer_external_id,
                customer_name="",
                month=month.replace(day=1),
                currency=currency,
                total=Decimal("0"),
                cost_total=Decimal("0"),
                lines=(),
            )
        lines = []
        for subscription in organization.get("subscriptions") or []:
            for item in subscription.get("items") or []:
                lines.append(
                    BillingReportLine(
                        subscription_external_id=subscription_external_id(
                            organization_id=customer_external_id, subscription_id=str(subscription["subscriptionId"])
                        ),
                        product_name=str(subscription.get("productName") or ""),
                        offer_id=subscription.get("itemCode") or None,
                        charge_type=_CHARGE_TYPES.get(str(item.get("type", "")).lower(), BillingChargeType.OTHER),
                        description=str(item.get("description") or ""),
                        quantity=int(item.get("quantity") or 0),
                        unit_price=money(item.get("unitPrice")) or Decimal("0"),
                        amount=money(item.get("amount")) or Decimal("0"),
                        unit_cost_price=money(item.get("unitCost")),
                        cost_amount=money(item.get("costAmount")),
                        period_start=calendar_date(item.get("fromDate")),
                        period_end=calendar_date(item.get("toDate")),
                    )
                )
        return BillingReport(
            customer_external_id=customer_external_id,
            customer_name=str(organization.get("organizationName") or ""),
            month=month.replace(day=1),
            currency=currency,
            total=money(organization.get("total")) or Decimal("0"),
            cost_total=money(organization.get("costTotal")),
            lines=tuple(lines),
        )

    # -- helpers ------------------------------------------------------------------------------------------

    def _csp_service(self) -> str:
        if self._csp_service_id is None:
            self._csp_service_id = self.client.csp_service_id()
        return self._csp_service_id


# ------------------------------------------------------------------------------------------------
# Wire -> record mapping
# ------------------------------------------------------------------------------------------------


def _customer_record(wire: WireObject) -> CustomerRecord:
    address = wire.get("address") or {}
    contact = wire.get("contact") or {}
    domain = wire.get("domain")
    return CustomerRecord(
        external_id=str(wire["id"]),
        name=str(wire.get("name") or ""),
        email=wire.get("notificationEmail") or contact.get("email") or None,
        domains=(str(domain),) if domain else (),
        country=(str(address["countryCode"]).upper() or None) if address.get("countryCode") else None,
        city=address.get("city") or None,
        vat_id=wire.get("vat") or None,
        customer_number=wire.get("customerNumber") or None,
        active=bool(wire.get("isActive", True)),
    )


def _subscription_record(wire: WireObject, *, add_ons: list[WireObject]) -> SubscriptionRecord:
    organization_id = str(wire["organizationId"])
    status = _status(wire)
    live = status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED)
    auto_renew = bool(wire.get("autoRenew")) and live
    end = instant(wire.get("endDate"))
    return SubscriptionRecord(
        external_id=subscription_external_id(organization_id=organization_id, subscription_id=str(wire["id"])),
        customer_external_id=organization_id,
        offer_id=str(wire.get("itemCode") or ""),
        product_id=f"{wire.get('productId')}:{wire.get('skuId')}",
        name=str(wire.get("productName") or wire.get("friendlyName") or ""),
        quantity=int(wire.get("quantity") or 0),
        assigned=integer(wire.get("consumedQuantity")),
        status=status,
        billing_cycle=_billing_cycle(wire.get("billingFrequency")),
        term=wire.get("termDuration") or None,
        term_end=end.date() if end else None,
        auto_renew=auto_renew,
        trial=bool(wire.get("isTrial")),
        add_ons=tuple(_add_on_record(child) for child in add_ons),
        cancellation_allowed_until=instant(wire.get("cancellationAllowedUntilDate")) if live else None,
        scheduled_termination_date=end.date() if live and end and not wire.get("autoRenew") else None,
        started_at=instant(wire.get("createdDate")),
        currency=wire.get("currency") or None,
        unit_cost_price=money(wire.get("costPrice")),
        unit_sales_price=money(wire.get("price")),
        order_reference=wire.get("purchaseOrderNumber") or None,
    )


def _add_on_record(wire: WireObject) -> AddOnRecord:
    return AddOnRecord(
        external_id=subscription_external_id(
            organization_id=str(wire["organizationId"]), subscription_id=str(wire["id"])
        ),
        offer_id=str(wire.get("itemCode") or ""),
        product_id=f"{wire.get('productId')}:{wire.get('skuId')}",
        name=str(wire.get("productName") or ""),
        quantity=int(wire.get("quantity") or 0),
        status=_status(wire),
        order_reference=wire.get("purchaseOrderNumber") or None,
    )


def _tenant_record(wire: WireObject) -> TenantRecord:
    return TenantRecord(
        customer_external_id=str(wire.get("organizationId") or ""),
        tenant_id=str(wire["tenantId"]),
        domain=str(wire.get("defaultDomain") or wire.get("domain") or ""),
        status=str(wire.get("status") or "Active"),
        admin_user_name=wire.get("adminUserName") or None,
        credentials_sent_to=wire.get("contactEmail") or None,
        created_at=instant(wire.get("createdDate")),
    )


def _directory_user_record(wire: WireObject) -> DirectoryUserRecord:
    return DirectoryUserRecord(
        external_id=str(wire["id"]),
        user_name=str(wire.get("userName") or ""),
        first_name=str(wire.get("firstName") or ""),
        last_name=str(wire.get("lastName") or ""),
        email=str(wire.get("email") or ""),
    )


def _user_record(wire: WireObject) -> TenantUserRecord:
    return TenantUserRecord(
        external_id=str(wire["id"]),
        user_name=str(wire.get("userName") or ""),
        display_name=str(wire.get("displayName") or ""),
        email=wire.get("email") or None,
        is_admin=bool(wire.get("isAdmin")),
        subscription_ids=tuple(str(item) for item in wire.get("subscriptions") or ()),
    )


def _outcome(record: SubscriptionRecord) -> OrderLineOutcome:
    return OrderLineOutcome.PROVISIONING if record.status == SubscriptionStatus.PENDING else OrderLineOutcome.COMPLETED


def _status(wire: WireObject) -> SubscriptionStatus:
    return _STATUSES.get(str(wire.get("status") or "").replace(" ", "").lower(), SubscriptionStatus.ACTIVE)


def _billing_cycle(value: Any) -> BillingCycle:
    return _BILLING_CYCLES.get(str(value or "").lower(), BillingCycle.NONE)
