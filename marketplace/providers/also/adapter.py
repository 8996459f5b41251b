"""ALSO implementation of `MarketplaceProvider`: maps SimpleAPI wire objects to provider records.

ALSO-specific choices, in one place:
- External ids are ALSO `AccountId`s as strings (companies and subscriptions are both "accounts").
- An offer is one billing type of one ALSO service, so its id is `"<ServiceName>|<BillingType>"`;
  that pair is exactly what `CreateSubscription` needs, and it can be read back from a
  subscription's `Fields`, so records round-trip without a catalog lookup.
- Prices come from the marketplace price list (`GetMarketplaceServiceCharges`: purchase price =
  the partner's cost, custom price = sales price, suggested retail price), joined to the billing
  options of `ListMarketplaceServices` on `MaterialNumber`.
- Add-ons are ALSO subscriptions whose parent is another subscription.
- ALSO has no idempotency key. The order line's key travels as `PurchaseOrderNumber` and
  `find_applied_order_line` looks for it among the customer's subscriptions and their add-ons.
- Only subscriptions with a `Quantity` field are licences; the Microsoft tenant account ALSO keeps
  as a subscription is not listed.
- ALSO dates carry no zone; they are read as UTC.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from marketplace.providers.also import DESCRIPTION
from marketplace.providers.also.client import AlsoClient, WireObject
from marketplace.providers.base import (
    AddOnRecord,
    BillingCycle,
    Capability,
    ChargeType,
    CreatedTenant,
    CreditLimitRecord,
    CustomerDraft,
    CustomerRecord,
    DomainAvailability,
    InvoiceChargeType,
    InvoiceLineRecord,
    InvoiceRecord,
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
    Unsupported,
    invoices_from_lines,
    tenant_address_missing,
    tenant_domain,
    term_from_months,
)
from marketplace.providers.description import MarketplaceDescription
from marketplace.providers.http import RetryPolicy, SleepFunction, Timeouts
from marketplace.providers.wire import calendar_date, instant, integer, money

logger = logging.getLogger(__name__)

OFFER_SEPARATOR = "|"
#: Microsoft NCE lets partners decrease or cancel within 168 hours of purchase or renewal.
NCE_CANCELLATION_WINDOW = timedelta(days=7)
#: NCE billing types end in the term as an ISO duration ("Prepaid (with 1-year commitment) - P1Y").
_NCE_BILLING_TYPE = re.compile(r" - P\d+[MY]$")

# A new Microsoft tenant is ALSO's tenant product, ordered under the company like any service (field-driven
# ordering: GetFieldsForService -> ValidateFields -> CreateSubscription). Its fields, as ALSO's Microsoft tenant
# service publishes them (ALSO Cloud Marketplace SimpleAPI field definitions, summarised in the console's
# research notes: "MS tenant service fields e.g. ExistingOffice365customer, MicrosoftpartnerID,
# Primarydomainname, PrimaryContactEmailAddress"); the contact's name fields are read leniently, as any
# field whose name says first or last name.
TENANT_SERVICE_PATTERN = re.compile(r"tenant", re.IGNORECASE)
TENANT_DOMAIN_FIELD = "Primarydomainname"
TENANT_EXISTING_FIELD = "ExistingOffice365customer"
TENANT_EMAIL_FIELD = "PrimaryContactEmailAddress"
#: What to do when a domain is taken: it belongs to an existing tenant, which is ordered as an existing customer's.
DOMAIN_TAKEN_MESSAGE = (
    "The domain is not available because a Microsoft tenant is already registered with it. If that tenant is "
    "the customer's, order it as an existing Office 365 customer so its admin accepts a reseller relationship "
    "with you, instead of creating a new tenant."
)

_COUNTRY_NAMES = {
    "AT": "Austria",
    "BE": "Belgium",
    "CH": "Switzerland",
    "DE": "Germany",
    "DK": "Denmark",
    "EE": "Estonia",
    "FI": "Finland",
    "FR": "France",
    "GB": "United Kingdom",
    "IT": "Italy",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "LV": "Latvia",
    "NL": "Netherlands",
    "NO": "Norway",
    "PL": "Poland",
    "SE": "Sweden",
    "SI": "Slovenia",
}
_COUNTRY_CODES = {name.lower(): code for code, name in _COUNTRY_NAMES.items()}
_CHARGE_TYPES = {
    "recurring": ChargeType.RECURRING,
    "udrc": ChargeType.RECURRING,
    "usage": ChargeType.USAGE,
    "setup": ChargeType.ONE_TIME,
    "onetime": ChargeType.ONE_TIME,
    "nonrecurring": ChargeType.ONE_TIME,
}


def offer_id_for(*, service_name: str, billing_type: str) -> str:
    return f"{service_name}{OFFER_SEPARATOR}{billing_type}"


def split_offer_id(offer_id: str) -> tuple[str, str]:
    service_name, separator, billing_type = offer_id.partition(OFFER_SEPARATOR)
    if not separator or not service_name or not billing_type:
        raise Rejected("invalid_offer", f"{offer_id!r} is not an ALSO offer id (<ServiceName>|<BillingType>)")
    return service_name, billing_type


class AlsoProvider(ProviderBase):
    description: ClassVar[MarketplaceDescription] = DESCRIPTION

    def __init__(
        self,
        *,
        connection: ProviderConnection,
        transport: httpx.BaseTransport | None = None,
        sleep: SleepFunction = time.sleep,
        timeouts: Timeouts | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.client = AlsoClient(
            region=connection.region,
            username=connection.username,
            password=connection.secret,
            server_url=connection.server_url,
            transport=transport,
            timeouts=timeouts,
            retry_policy=retry_policy,
            sleep=sleep,
        )
        self._marketplace_id: int | None = None
        self._reseller_account_id: int | None = None
        self._tenant_service_name: str | None = None

    def close(self) -> None:
        """Log out politely; the token would expire anyway, so a failed logout is not an error."""
        try:
            self.client.terminate_session_token()
        except ProviderError:
            logger.debug("ALSO logout failed", exc_info=True)
        finally:
            self.client.close()

    def digest_payload(self, *, digest: PayloadDigest) -> bool:
        """ALSO's records are made of the answers the client reads and nothing else."""
        self.client.payload_digest = digest
        return True

    def payload_scope(self, digest: PayloadDigest | None) -> AbstractContextManager[None]:
        return self.client.payload_scope(digest)

    # -- reads ------------------------------------------------------------------------------------------

    def list_customers(self) -> Iterator[CustomerRecord]:
        for company in self.client.get_companies():
            yield _customer_record(company)

    def list_offers(self) -> Iterator[OfferRecord]:
        marketplace_id = self._marketplace()
        products = {
            product.get("ProductName"): product
            for product in self.client.list_marketplace_services(marketplace_id=marketplace_id)
        }
        services = self.client.get_marketplace_service_charges(marketplace_id=marketplace_id)
        sellable = {service.get("ServiceId") for service in services if service.get("Charges")}
        for service in services:
            if str(service.get("Status", "Active")).lower() != "active":
                continue
            product = products.get(service.get("ServiceId"), {})
            billing_by_material = {
                billing.get("MaterialNumber"): billing for billing in product.get("SimpleProductBillingInfo") or []
            }
            parents = tuple(
                str(dependency["ProductName"])
                for dependency in product.get("DependencyInfo") or []
                if dependency.get("ProductName") in sellable
            )
            for charge in service.get("Charges") or []:
                billing = billing_by_material.get(charge.get("MaterialNumber"))
                if billing is None or charge.get("PurchasePrice") is None:
                    logger.info("ALSO charge %s has no orderable billing option", charge.get("PriceableItemId"))
                    continue
                yield OfferRecord(
                    offer_id=offer_id_for(
                        service_name=str(service["ServiceId"]), billing_type=str(billing["FieldValue"])
                    ),
                    product_id=str(service["ServiceId"]),
                    name=str(service.get("DisplayName") or product.get("DisplayName") or service["ServiceId"]),
                    vendor=service.get("VendorDisplayName"),
                    sku=charge.get("ProductNumber") or billing.get("VendorSku"),
                    billing_cycle=BillingCycle.from_months(
                        integer(billing.get("AdvancePaymentPeriodInMonths") or charge.get("PrepaidPeriodInMonths"))
                    ),
                    term=term_from_months(integer(charge.get("CommitementPeriodInMonths"))),
                    charge_type=_CHARGE_TYPES.get(str(charge.get("ChargeType", "")).lower(), ChargeType.OTHER),
                    currency=str(charge.get("Currency") or "EUR"),
                    cost_price=money(charge["PurchasePrice"]) or Decimal("0"),
                    sales_price=money(charge.get("CustomPrice")),
                    suggested_retail_price=money(charge.get("SuggestedRetailPrice")),
                    add_on_parent_product_ids=parents,
                )

    def list_subscriptions(self, *, customer_external_id: str | None = None) -> Iterator[SubscriptionRecord]:
        """ALSO lists subscriptions per company, so a full listing walks the companies one by one."""
        if customer_external_id is not None:
            company_ids = [_account_id(customer_external_id)]
        else:
            company_ids = [int(company["AccountId"]) for company in self.client.get_companies()]
        for company_id in company_ids:
            for wire in self.client.get_subscriptions(parent_account_id=company_id):
                if _is_licence(wire):
                    yield self._subscription_record(wire)

    def list_invoice_lines(self, *, period_start: date, period_end: date) -> Iterator[InvoiceLineRecord]:
        """The service charges of the monthly invoices the period touches, kept when their charge
        interval starts inside the period. An offer id is rebuilt from the charge's service and the
        billing type its material number stands for in the marketplace's price list."""
        billing_types = self._billing_types()
        year, month = period_start.year, period_start.month
        while (year, month) <= (period_end.year, period_end.month):
            for invoice in self.client.get_latest_invoices_for_period(year=year, month=month):
                for charge in invoice.get("Charges") or []:
                    record = _invoice_line_record(invoice, charge, billing_types)
                    if record is not None and period_start <= record.charge_start <= period_end:
                        yield record
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    def _billing_types(self) -> dict[Any, str]:
        """Material number -> billing type, from the marketplace's price list."""
        return {
            billing.get("MaterialNumber"): str(billing.get("FieldValue"))
            for product in self.client.list_marketplace_services(marketplace_id=self._marketplace())
            for billing in product.get("SimpleProductBillingInfo") or []
        }

    def list_preview_invoices(self) -> list[InvoiceRecord]:
        """GetPreviewInvoices: the current month per company as it would be invoiced if nothing changed."""
        self.require(Capability.LIST_INVOICE_LINES)
        billing_types = self._billing_types()
        invoices: list[InvoiceRecord] = []
        for invoice in self.client.get_preview_invoices():
            period = _billing_interval(invoice.get("BillingInterval"))
            lines = [
                record
                for charge in invoice.get("Charges") or []
                if (record := _invoice_line_record(invoice, charge, billing_types)) is not None
            ]
            if period is None or not lines:
                continue
            invoices.extend(invoices_from_lines(lines, period_start=period[0], period_end=period[1], preview=True))
        return invoices

    def credit_limit(self) -> CreditLimitRecord:
        """ALSO's credit limit on the reseller account (GetCreditLimit of the signed-in user's company)."""
        wire = self.client.get_credit_limit(account_id=self._reseller())
        has_limit = bool(wire.get("HasCreditLimit")) and money(wire.get("Limit")) is not None
        return CreditLimitRecord(
            limit=money(wire.get("Limit")) if has_limit else None,
            remaining=money(wire.get("RemainingCreditLimit")) if has_limit else None,
            currency=str(wire.get("Currency") or "EUR").upper(),
            set_at=instant(wire.get("Date")),
            comment=str(wire.get("Comment") or ""),
        )

    def get_subscription(self, *, subscription_external_id: str) -> SubscriptionRecord:
        wire = self.client.get_subscription_with_addons(account_id=_account_id(subscription_external_id))
        if not _is_licence(wire):
            raise NotFound(f"ALSO account {subscription_external_id} is not a licence subscription")
        return self._subscription_record(wire)

    # -- customers ------------------------------------------------------------------------------------------

    def create_customer(self, *, customer: CustomerDraft) -> CustomerRecord:
        company = self.client.create_company(
            company_account={
                "ParentAccountId": self._reseller(),
                "CompanyName": customer.name,
                "Email": customer.email,
                "Address": customer.address_line,
                "City": customer.city,
                "Zip": customer.postal_code,
                "Country": _COUNTRY_NAMES.get(customer.country.upper(), customer.country),
                "Domain": list(customer.domains),
                "Marketplaces": [self._marketplace()],
                "VATID": customer.vat_id or "",
                "CustomerId": customer.customer_number or "",
                "CreateDefaultAdminUser": False,
            }
        )
        return _customer_record(company)

    # -- new Microsoft tenants --------------------------------------------------------------------------

    def domain_availability(self, *, domain: str) -> DomainAvailability:
        """ALSO validates the tenant product's domain field (remote validation) under the reseller's account,
        before any company exists. Only new `<prefix>.onmicrosoft.com` domains can be checked there."""
        self.require(Capability.CREATE_TENANT)
        whole = tenant_domain(domain)
        prefix, _dot, suffix = whole.partition(".")
        if suffix != "onmicrosoft.com":
            raise Unsupported(
                "ALSO checks only the <prefix>.onmicrosoft.com domain of a new tenant; custom domains are added "
                "to the tenant afterwards.",
                capability=Capability.CREATE_TENANT,
            )
        validation = self.client.validate_fields(
            parent_account_id=self._reseller(),
            service_name=self._tenant_service(),
            fields={TENANT_DOMAIN_FIELD: prefix, TENANT_EXISTING_FIELD: False},
            fields_to_validate=[TENANT_DOMAIN_FIELD],
        )
        if str(validation.get("Result", "")).upper() in ("FAILED", "ERROR"):
            return DomainAvailability(domain=whole, available=False, message=_domain_refusal(validation))
        return DomainAvailability(domain=whole, available=True)

    def create_customer_tenant(self, *, customer: CustomerDraft, tenant: TenantDraft) -> CreatedTenant:
        """A company, then the tenant product ordered under it with the domain and the first admin as its
        primary contact; ALSO (Microsoft) sends that contact the admin's credentials. Nothing is charged.
        The domain is checked before the company is created, so a taken domain leaves nothing behind."""
        self.require(Capability.CREATE_TENANT)
        missing = tenant_address_missing(customer)
        if missing:
            raise Rejected("incomplete_address", f"The company address lacks: {', '.join(missing)}.")
        whole = tenant_domain(tenant.domain_prefix)
        availability = self.domain_availability(domain=whole)
        if not availability.available:
            raise Rejected("domain_taken", availability.message or DOMAIN_TAKEN_MESSAGE)
        service_name = self._tenant_service()
        company = self.create_customer(
            customer=CustomerDraft(
                name=customer.name,
                email=customer.email,
                country=customer.country,
                city=customer.city,
                address_line=customer.address_line,
                postal_code=customer.postal_code,
                domains=customer.domains or (whole,),  # ALSO requires a company domain
                vat_id=customer.vat_id,
                customer_number=customer.customer_number,
            )
        )
        parent_account_id = _account_id(company.external_id)
        definition = self.client.get_fields_for_service(parent_account_id=parent_account_id, product_name=service_name)
        fields = _tenant_fields(definition=definition, prefix=whole.partition(".")[0], tenant=tenant)
        validation = self.client.validate_fields(
            parent_account_id=parent_account_id, service_name=service_name, fields=fields
        )
        if str(validation.get("Result", "")).upper() in ("FAILED", "ERROR"):
            if str(validation.get("FieldName") or "") == TENANT_DOMAIN_FIELD:
                raise Rejected("domain_taken", _domain_refusal(validation))
            raise Rejected("invalid_fields", str(validation.get("ErrorDetails") or "ALSO refused the tenant's fields"))
        wire = self.client.create_subscription(
            parent_account_id=parent_account_id, service_name=service_name, fields=fields
        )
        reference = str(wire.get("VendorReferenceId") or "")
        return CreatedTenant(
            customer=company,
            tenant_id=reference if _GUID.match(reference) else None,
            domain=whole,
            admin_user_name=f"admin@{whole}",
            credentials_sent_to=tenant.email,
            ready=_status(wire) != SubscriptionStatus.PENDING,
        )

    def _tenant_service(self) -> str:
        """The marketplace's Microsoft tenant product, found by name among its services."""
        if self._tenant_service_name is None:
            for product in self.client.list_marketplace_services(marketplace_id=self._marketplace()):
                label = f"{product.get('ProductName') or ''} {product.get('DisplayName') or ''}"
                if TENANT_SERVICE_PATTERN.search(label) and "microsoft" in label.lower():
                    self._tenant_service_name = str(product["ProductName"])
                    break
            else:
                raise Unsupported(
                    "This ALSO marketplace offers no Microsoft tenant product.", capability=Capability.CREATE_TENANT
                )
        return self._tenant_service_name

    # -- orders -----------------------------------------------------------------------------------------

    def place_order_line(
        self, *, customer_external_id: str, offer_id: str, quantity: int, idempotency_key: str
    ) -> OrderResult:
        """Order through ALSO's field protocol. Does not look for an earlier attempt itself: a task
        that retries calls `find_applied_order_line` first, and only a fresh line pays for nothing."""
        service_name, billing_type = split_offer_id(offer_id)
        wire = self._order(
            parent_account_id=_account_id(customer_external_id),
            service_name=service_name,
            billing_type=billing_type,
            quantity=quantity,
            marker=idempotency_key,
        )
        record = self._subscription_record(wire)
        outcome = (
            OrderLineOutcome.PROVISIONING if record.status == SubscriptionStatus.PENDING else OrderLineOutcome.COMPLETED
        )
        return OrderResult(subscription=record, idempotency_key=idempotency_key, outcome=outcome)

    def find_applied_order_line(self, *, customer_external_id: str, idempotency_key: str) -> SubscriptionRecord | None:
        """The subscription whose purchase order number is the key, or that holds an add-on with it."""
        for wire in self.client.get_subscriptions(parent_account_id=_account_id(customer_external_id)):
            add_ons = wire.get("Addons") or []
            if wire.get("PurchaseOrderNumber") == idempotency_key or any(
                add_on.get("PurchaseOrderNumber") == idempotency_key for add_on in add_ons
            ):
                return self._subscription_record(wire)
        return None

    def _order(
        self, *, parent_account_id: int, service_name: str, billing_type: str, quantity: int, marker: str
    ) -> WireObject:
        definition = self.client.get_fields_for_service(parent_account_id=parent_account_id, product_name=service_name)
        fields = _order_fields(
            definition=definition, service_name=service_name, billing_type=billing_type, quantity=quantity
        )
        validation = self.client.validate_fields(
            parent_account_id=parent_account_id, service_name=service_name, fields=fields
        )
        if str(validation.get("Result", "")).upper() in ("FAILED", "ERROR"):
            field_name = validation.get("FieldName") or "fields"
            raise Rejected(f"invalid_{field_name}", str(validation.get("ErrorDetails") or "ALSO refused the fields"))
        return self.client.create_subscription(
            parent_account_id=parent_account_id, service_name=service_name, fields=fields, purchase_order_number=marker
        )

    # -- lifecycle ----------------------------------------------------------------------------------------

    def change_quantity(self, *, subscription_external_id: str, quantity: int) -> SubscriptionRecord:
        account_id = _account_id(subscription_external_id)
        wire = self.client.get_subscription(account_id=account_id)
        self.client.update_subscription(
            account_id=account_id, service_name=str(wire["ServiceName"]), fields={"Quantity": quantity}
        )
        return self.get_subscription(subscription_external_id=subscription_external_id)

    def terminate(self, *, subscription_external_id: str, reason: str | None = None) -> SubscriptionRecord:
        self.client.terminate_account(account_id=_account_id(subscription_external_id), termination_reason=reason)
        return self.get_subscription(subscription_external_id=subscription_external_id)

    def revoke_termination(self, *, subscription_external_id: str) -> SubscriptionRecord:
        """Set the period-end action back to Renew. Nothing to revoke is not an error, so a retried
        task that already succeeded does not fail."""
        account_id = _account_id(subscription_external_id)
        wire = self.client.get_subscription(account_id=account_id)
        if wire.get("AccountState") == "Terminated":
            raise Rejected("already_terminated", f"ALSO subscription {account_id} has already ended")
        if wire.get("AdvancePeriodEndAction") == "Terminate":
            self.client.update_subscription(
                account_id=account_id, service_name=str(wire["ServiceName"]), advance_period_end_action="Renew"
            )
        return self.get_subscription(subscription_external_id=subscription_external_id)

    def change_billing_cycle(self, *, subscription_external_id: str, billing_cycle: BillingCycle) -> SubscriptionRecord:
        current = self.get_subscription(subscription_external_id=subscription_external_id)
        if current.billing_cycle == billing_cycle:
            return current
        candidates = [
            offer
            for offer in self.list_offers()
            if offer.product_id == current.product_id
            and offer.billing_cycle == billing_cycle
            and offer.term == current.term
        ]
        if not candidates:
            raise Rejected(
                "billing_cycle_unavailable",
                f"{current.name} has no {billing_cycle.value} billing with the term {current.term}",
            )
        _, billing_type = split_offer_id(candidates[0].offer_id)
        self.client.configure_subscription_renew(
            account_id=_account_id(subscription_external_id), field_values={"BillingType": billing_type}
        )
        return self.get_subscription(subscription_external_id=subscription_external_id)

    # -- add-ons ------------------------------------------------------------------------------------------

    def add_add_on(
        self, *, subscription_external_id: str, offer_id: str, quantity: int, idempotency_key: str
    ) -> AddOnRecord:
        service_name, billing_type = split_offer_id(offer_id)
        wire = self._order(
            parent_account_id=_account_id(subscription_external_id),
            service_name=service_name,
            billing_type=billing_type,
            quantity=quantity,
            marker=idempotency_key,
        )
        return _add_on_record(wire)

    def change_add_on_quantity(
        self, *, subscription_external_id: str, add_on_external_id: str, quantity: int
    ) -> AddOnRecord:
        wire = self._add_on_wire(
            subscription_external_id=subscription_external_id, add_on_external_id=add_on_external_id
        )
        self.client.update_subscription(
            account_id=int(wire["AccountId"]), service_name=str(wire["ServiceName"]), fields={"Quantity": quantity}
        )
        return _add_on_record(self.client.get_subscription(account_id=int(wire["AccountId"])))

    def remove_add_on(self, *, subscription_external_id: str, add_on_external_id: str) -> None:
        wire = self._add_on_wire(
            subscription_external_id=subscription_external_id, add_on_external_id=add_on_external_id
        )
        self.client.terminate_account(account_id=int(wire["AccountId"]))

    def _add_on_wire(self, *, subscription_external_id: str, add_on_external_id: str) -> WireObject:
        wire = self.client.get_subscription(account_id=_account_id(add_on_external_id))
        if str(wire.get("ParentAccountId")) != subscription_external_id:
            raise NotFound(f"ALSO subscription {subscription_external_id} has no add-on {add_on_external_id}")
        return wire

    # -- helpers ------------------------------------------------------------------------------------------

    def _marketplace(self) -> int:
        if self._marketplace_id is None:
            marketplaces = self.client.get_marketplaces()
            if not marketplaces:
                raise Rejected("no_marketplace", "The ALSO account owns no marketplace (price list)")
            self._marketplace_id = int(marketplaces[0]["Id"])
        return self._marketplace_id

    def _reseller(self) -> int:
        if self._reseller_account_id is None:
            self._reseller_account_id = int(self.client.get_company()["AccountId"])
        return self._reseller_account_id

    def _subscription_record(self, wire: WireObject) -> SubscriptionRecord:
        add_ons = []
        for add_on in wire.get("Addons") or []:
            if "Fields" not in add_on:  # the spec's short add-on form: fetch the whole add-on
                add_on = self.client.get_subscription(account_id=int(add_on["AccountId"]))
            if _is_licence(add_on):
                add_ons.append(_add_on_record(add_on))
        return _subscription_record(wire, add_ons=tuple(add_ons))


# ------------------------------------------------------------------------------------------------
# Wire -> record mapping
# ------------------------------------------------------------------------------------------------


def _customer_record(wire: WireObject) -> CustomerRecord:
    domains = wire.get("Domain") or []
    country = wire.get("Country")
    return CustomerRecord(
        external_id=str(wire["AccountId"]),
        name=str(wire.get("CompanyName") or ""),
        email=wire.get("Email") or None,
        domains=tuple(str(domain) for domain in (domains if isinstance(domains, list) else [domains])),
        country=_COUNTRY_CODES.get(str(country).lower(), country) if country else None,
        city=wire.get("City") or None,
        vat_id=wire.get("VATID") or None,
        customer_number=wire.get("CustomerId") or None,
        active=wire.get("AccountState", "Active") == "Active",
    )


def _subscription_record(wire: WireObject, *, add_ons: tuple[AddOnRecord, ...]) -> SubscriptionRecord:
    fields = _fields(wire)
    billing_type = fields.get("BillingType")
    item = _priceable_item(wire)
    started_at = instant(wire.get("BillingStartDate"))
    status = _status(wire)
    nce = isinstance(billing_type, str) and bool(_NCE_BILLING_TYPE.search(billing_type))
    return SubscriptionRecord(
        external_id=str(wire["AccountId"]),
        customer_external_id=str(wire.get("CompanyAccountId") or wire.get("ParentAccountId")),
        offer_id=_offer_id_of(wire, billing_type),
        product_id=str(wire.get("ServiceName") or wire.get("ProductName")),
        name=str(wire.get("ServiceDisplayName") or wire.get("ServiceName")),
        quantity=integer(fields.get("Quantity")) or 0,
        assigned=None,  # ALSO does not report assigned seats
        status=status,
        billing_cycle=BillingCycle.from_months(integer(item.get("PrepaidPeriodInMonths"))),
        term=term_from_months(integer(item.get("CommitementPeriodInMonths"))),
        term_end=calendar_date(wire.get("ContractEndDate")),
        auto_renew=status != SubscriptionStatus.TERMINATED and wire.get("AdvancePeriodEndAction") != "Terminate",
        trial=isinstance(billing_type, str) and "trial" in billing_type.lower(),
        add_ons=add_ons,
        cancellation_allowed_until=(
            started_at + NCE_CANCELLATION_WINDOW
            if nce and started_at and status != SubscriptionStatus.TERMINATED
            else None
        ),
        scheduled_termination_date=calendar_date(wire.get("ScheduledTerminationDate")),
        started_at=started_at,
        currency=item.get("Currency"),
        unit_cost_price=money(item.get("PurchasePrice")),
        unit_sales_price=money(item.get("SalesPrice")),
        order_reference=wire.get("PurchaseOrderNumber") or None,
    )


def _add_on_record(wire: WireObject) -> AddOnRecord:
    fields = _fields(wire)
    return AddOnRecord(
        external_id=str(wire["AccountId"]),
        offer_id=_offer_id_of(wire, fields.get("BillingType")),
        product_id=str(wire.get("ServiceName")),
        name=str(wire.get("ServiceDisplayName") or wire.get("ServiceName")),
        quantity=integer(fields.get("Quantity")) or 0,
        status=_status(wire),
        order_reference=wire.get("PurchaseOrderNumber") or None,
    )


def _order_fields(*, definition: WireObject, service_name: str, billing_type: str, quantity: int) -> dict[str, Any]:
    """Fill ALSO's field definitions: ours where we have them, the default for other mandatory ones."""
    ours: dict[str, Any] = {"Quantity": quantity, "BillingType": billing_type}
    fields: dict[str, Any] = {}
    definitions = {str(item.get("Name")): item for item in definition.get("Fields") or []}
    if "Quantity" not in definitions:
        raise Rejected("not_quantity_based", f"ALSO service {service_name} is not ordered by quantity")
    billing_values = [member.get("Value") for member in (definitions.get("BillingType") or {}).get("EnumMembers") or []]
    if "BillingType" in definitions and billing_values and billing_type not in billing_values:
        raise Rejected("invalid_offer", f"ALSO service {service_name} has no billing type {billing_type!r}")
    for name, item in definitions.items():
        if name in ours:
            fields[name] = ours[name]
        elif item.get("DisplayType") == "Mandatory":
            default = (item.get("DefaultValue") or {}).get("Value")
            if default is None:
                raise Rejected(
                    "missing_field", f"ALSO service {service_name} needs '{item.get('DisplayName') or name}'"
                )
            fields[name] = default
    return fields


_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def _domain_refusal(validation: WireObject) -> str:
    details = str(validation.get("ErrorDetails") or "").strip()
    if details and "relationship" in details.lower():
        return details
    return f"{details} {DOMAIN_TAKEN_MESSAGE}".strip()


def _tenant_fields(*, definition: WireObject, prefix: str, tenant: TenantDraft) -> dict[str, Any]:
    """The tenant product's fields: the domain, a new (not existing) customer, and the first admin as the
    primary contact; other mandatory fields take their published default."""
    fields: dict[str, Any] = {
        TENANT_DOMAIN_FIELD: prefix,
        TENANT_EXISTING_FIELD: False,
        TENANT_EMAIL_FIELD: tenant.email,
    }
    for field in definition.get("Fields") or []:
        name = str(field.get("Name") or "")
        lowered = name.lower()
        if name in fields:
            continue
        if "first" in lowered and "name" in lowered:
            fields[name] = tenant.first_name
        elif "last" in lowered and "name" in lowered:
            fields[name] = tenant.last_name
        elif "phone" in lowered and tenant.phone:
            fields[name] = tenant.phone
        elif str(field.get("DisplayType") or "") == "Mandatory":
            default = (field.get("DefaultValue") or {}).get("Value")
            if default is not None:
                fields[name] = default
    return fields


def _fields(wire: WireObject) -> dict[str, Any]:
    return {str(item.get("Name")): item.get("Value") for item in wire.get("Fields") or []}


def _is_licence(wire: WireObject) -> bool:
    return "Quantity" in _fields(wire)


def _offer_id_of(wire: WireObject, billing_type: Any) -> str:
    service_name = str(wire.get("ServiceName") or wire.get("ProductName"))
    if not billing_type:
        return service_name
    return offer_id_for(service_name=service_name, billing_type=str(billing_type))


def _priceable_item(wire: WireObject) -> WireObject:
    items = wire.get("PriceableItems") or []
    for item in items:
        if item.get("IsUDRCField") or item.get("FieldName") == "Quantity":
            return item
    return items[0] if items else {}


def _status(wire: WireObject) -> SubscriptionStatus:
    if wire.get("AccountState") == "Terminated":
        return SubscriptionStatus.TERMINATED
    provisioning = str(wire.get("ProvisioningStatus") or wire.get("Status") or "").replace(" ", "").lower()
    if provisioning in ("failed", "error"):
        return SubscriptionStatus.FAILED
    if provisioning in ("inprogress", "pending", "provisioning", "new"):
        return SubscriptionStatus.PENDING
    if provisioning == "suspended":
        return SubscriptionStatus.SUSPENDED
    return SubscriptionStatus.ACTIVE


def _account_id(external_id: str) -> int:
    try:
        return int(external_id)
    except (TypeError, ValueError):
        raise NotFound(f"{external_id!r} is not an ALSO account id") from None


def _charge_interval(text: Any) -> tuple[date, date] | None:
    """ALSO's "01.01.2021 - 01.02.2021" (the end is the first day not charged) as inclusive dates."""
    parts = [part.strip() for part in str(text or "").split(" - ")]
    if len(parts) != 2:
        return None
    try:
        start, end = (datetime.strptime(part, "%d.%m.%Y").date() for part in parts)
    except ValueError:
        return None
    return start, max(start, end - timedelta(days=1))


def _billing_interval(value: Any) -> tuple[date, date] | None:
    """ "MM/YYYY" -> the month's first and last day."""
    month_text, _, year_text = str(value or "").partition("/")
    if not (month_text.isdigit() and year_text.isdigit()) or not 1 <= int(month_text) <= 12:
        return None
    start = date(int(year_text), int(month_text), 1)
    following = date(start.year + 1, 1, 1) if start.month == 12 else date(start.year, start.month + 1, 1)
    return start, following - timedelta(days=1)


def _invoice_line_record(
    invoice: WireObject, charge: WireObject, billing_types: Mapping[Any, str]
) -> InvoiceLineRecord | None:
    interval = _charge_interval(charge.get("ActualChargeInterval"))
    if interval is None:
        return None
    quantity = integer(charge.get("UDRCValue")) or 0
    unit_price = money(charge.get("CostsOfUnit")) or Decimal("0")
    amount = money(charge.get("Costs")) or Decimal("0")
    item_type = str(charge.get("PriceableItemType") or "").lower()
    if item_type == "usage":
        charge_type = InvoiceChargeType.USAGE
    elif item_type in ("setup", "onetime", "nonrecurring"):
        charge_type = InvoiceChargeType.ONE_TIME
    elif amount < 0:
        charge_type = InvoiceChargeType.REFUND
    elif amount == (unit_price * quantity).quantize(Decimal("0.01")):
        charge_type = InvoiceChargeType.CYCLE_FEE
    else:
        charge_type = InvoiceChargeType.PRO_RATA
    billing_type = billing_types.get(charge.get("MaterialNumber"))
    service = charge.get("ServiceId")
    return InvoiceLineRecord(
        invoice_id=str(
            charge.get("SAPInvoiceNumber") or f"{invoice.get('BillingInterval')}/{invoice.get('CompanyAccountId')}"
        ),
        customer_external_id=str(invoice.get("CompanyAccountId")),
        customer_name=invoice.get("CompanyName") or charge.get("EndCustomerName"),
        subscription_external_id=str(charge["AccountId"]) if charge.get("AccountId") is not None else None,
        offer_id=offer_id_for(service_name=str(service), billing_type=billing_type)
        if service and billing_type
        else None,
        product_id=str(service) if service else None,
        name=str(charge.get("ServiceName") or service or ""),
        charge_type=charge_type,
        charge_start=interval[0],
        charge_end=interval[1],
        quantity=-abs(quantity) if charge_type == InvoiceChargeType.REFUND else quantity,
        unit_price=unit_price,
        amount=amount,
        currency=str(charge.get("Currency") or "EUR"),
    )
