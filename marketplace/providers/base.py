"""The one contract between the console and every marketplace.

The rest of the console (sync engine, order and lifecycle tasks, services) only ever sees what
is defined here: typed, immutable records, the `MarketplaceProvider` protocol, the capability
vocabulary and the error taxonomy. A provider package translates its marketplace's wire format
into these and raises nothing else, so a Celery task can decide what to retry by error type alone
and a JSON body never leaks past the provider.

Money is `Decimal` with a currency, quantities are integers, instants are timezone-aware.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, runtime_checkable

if TYPE_CHECKING:
    from marketplace.providers.description import Label, MarketplaceDescription

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------


class Capability(enum.StrEnum):
    """What a provider can do; the UI hides actions a marketplace cannot perform."""

    LIST_CUSTOMERS = "list_customers"
    LIST_OFFERS = "list_offers"
    LIST_SUBSCRIPTIONS = "list_subscriptions"
    CREATE_CUSTOMER = "create_customer"
    PLACE_ORDER = "place_order"
    CHANGE_QUANTITY = "change_quantity"
    SUSPEND = "suspend"
    REACTIVATE = "reactivate"
    TERMINATE = "terminate"
    REVOKE_TERMINATION = "revoke_termination"
    CHANGE_BILLING_CYCLE = "change_billing_cycle"
    ADD_ADD_ON = "add_add_on"
    CHANGE_ADD_ON = "change_add_on"
    REMOVE_ADD_ON = "remove_add_on"
    CREATE_TENANT = "create_tenant"
    LIST_INVOICE_LINES = "list_invoice_lines"
    READ_CREDIT_LIMIT = "read_credit_limit"
    LIST_TENANT_LICENCES = "list_tenant_licences"
    LIST_GDAP_RELATIONSHIPS = "list_gdap_relationships"


class BillingCycle(enum.StrEnum):
    """How often the marketplace invoices a subscription (not how long it commits).

    The console's one billing-cycle enum: the models take their choices from it (`catalog.choices`)."""

    MONTHLY = "monthly"
    ANNUAL = "annual"
    TRIENNIAL = "triennial"
    ONE_TIME = "one_time"
    NONE = "none"

    @classmethod
    def from_months(cls, months: int | None) -> BillingCycle:
        """Map an advance-payment period in months, the unit most marketplaces use."""
        cycles = {count: cycle for cycle, count in BILLING_CYCLE_MONTHS.items()}
        return cls(cycles.get(months or 0, cls.NONE))


#: How many months one billing period of a recurring cycle covers.
BILLING_CYCLE_MONTHS: Mapping[str, int] = MappingProxyType(
    {BillingCycle.MONTHLY: 1, BillingCycle.ANNUAL: 12, BillingCycle.TRIENNIAL: 36}
)


def billing_cycle_months(billing_cycle: str) -> int | None:
    """The months one billing period covers; None for a cycle that does not recur (one time, none)."""
    return BILLING_CYCLE_MONTHS.get(billing_cycle)


class ChargeType(enum.StrEnum):
    RECURRING = "recurring"
    USAGE = "usage"
    ONE_TIME = "one_time"
    OTHER = "other"


class SubscriptionStatus(enum.StrEnum):
    """A subscription's state; a scheduled termination is still ACTIVE until it takes effect.

    The console's one subscription-status enum: the models take their choices from it (`subscriptions.choices`)."""

    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    FAILED = "failed"


class InvoiceChargeType(enum.StrEnum):
    """What an invoice line charges for (Microsoft's charge types, as marketplaces pass them on)."""

    CYCLE_FEE = "cycle_fee"
    PRO_RATA = "pro_rata"
    REFUND = "refund"
    ONE_TIME = "one_time"
    USAGE = "usage"
    OTHER = "other"


class OrderLineOutcome(enum.StrEnum):
    """Whether the marketplace finished provisioning when it answered the order.

    The console's one line-outcome enum: the models take their choices from it (`subscriptions.choices`)."""

    COMPLETED = "completed"
    PROVISIONING = "provisioning"


def term_from_months(months: int | None) -> str | None:
    """Express a commitment as an ISO 8601 duration (P1M, P1Y, P3Y), the notation Microsoft uses."""
    if not months:
        return None
    if months % 12 == 0:
        return f"P{months // 12}Y"
    return f"P{months}M"


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ProviderConnection:
    """What a marketplace account stores to reach the marketplace (region, username, secret).

    `server_url` points at a simulator (or any non-default host); when absent the provider uses the
    marketplace's public address for the region. `options` carries provider-specific extras.
    """

    region: str
    username: str
    secret: str = field(repr=False)
    server_url: str | None = None
    options: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, kw_only=True)
class CustomerDraft:
    """The data needed to create a customer at a marketplace; `country` is ISO 3166 alpha-2."""

    name: str
    email: str
    country: str
    city: str
    address_line: str
    postal_code: str
    domains: tuple[str, ...] = ()
    vat_id: str | None = None
    customer_number: str | None = None


@dataclass(frozen=True, kw_only=True)
class CustomerRecord:
    external_id: str
    name: str
    email: str | None
    domains: tuple[str, ...]
    country: str | None
    city: str | None
    vat_id: str | None
    customer_number: str | None
    active: bool


@dataclass(frozen=True, kw_only=True)
class OfferRecord:
    """A sellable SKU with the partner's cost price (the marketplace account's purchase price).

    `product_id` groups the offers of one product (one per billing cycle / term); an add-on lists the
    products it can be attached to in `add_on_parent_product_ids`.
    """

    offer_id: str
    product_id: str
    name: str
    vendor: str | None
    sku: str | None
    billing_cycle: BillingCycle
    term: str | None
    charge_type: ChargeType
    currency: str
    cost_price: Decimal
    sales_price: Decimal | None
    suggested_retail_price: Decimal | None
    add_on_parent_product_ids: tuple[str, ...] = ()

    @property
    def is_add_on(self) -> bool:
        return bool(self.add_on_parent_product_ids)


@dataclass(frozen=True, kw_only=True)
class AddOnRecord:
    external_id: str
    offer_id: str
    product_id: str
    name: str
    quantity: int
    status: SubscriptionStatus
    order_reference: str | None = None


@dataclass(frozen=True, kw_only=True)
class SubscriptionRecord:
    """A customer's subscription as the marketplace reports it.

    `assigned` is None when the marketplace does not know how many seats are in use.
    `order_reference` is the marker the placing order line carried (used to answer
    "was this line already applied?"). `cancellation_allowed_until` is when the marketplace stops
    accepting decreases and cancellation (Microsoft NCE window), None when no window applies.
    """

    external_id: str
    customer_external_id: str
    offer_id: str
    product_id: str
    name: str
    quantity: int
    assigned: int | None
    status: SubscriptionStatus
    billing_cycle: BillingCycle
    term: str | None
    term_end: date | None
    auto_renew: bool
    trial: bool
    add_ons: tuple[AddOnRecord, ...] = ()
    cancellation_allowed_until: datetime | None = None
    scheduled_termination_date: date | None = None
    started_at: datetime | None = None
    currency: str | None = None
    unit_cost_price: Decimal | None = None
    unit_sales_price: Decimal | None = None
    order_reference: str | None = None


@dataclass(frozen=True, kw_only=True)
class InvoiceLineRecord:
    """A line of the marketplace's invoice to the partner: what the partner pays for a subscription
    over a charge period (both ends inclusive). A refund has a negative quantity and amount;
    `unit_price` is the partner's (cost) price per unit and billing period."""

    invoice_id: str
    customer_external_id: str
    customer_name: str | None
    subscription_external_id: str | None
    offer_id: str | None
    product_id: str | None
    name: str
    charge_type: InvoiceChargeType
    charge_start: date
    charge_end: date
    quantity: int
    unit_price: Decimal
    amount: Decimal
    currency: str


@dataclass(frozen=True, kw_only=True)
class InvoiceRecord:
    """One marketplace invoice to the partner with its lines; `total` is the sum the marketplace
    charges (its lines' amounts). A preview shows the current, unclosed period as it would be invoiced
    if nothing changed: it is not issued and changes until the period closes."""

    invoice_id: str
    period_start: date
    period_end: date
    currency: str
    total: Decimal
    lines: tuple[InvoiceLineRecord, ...]
    preview: bool = False


def invoices_from_lines(
    lines: Iterable[InvoiceLineRecord], *, period_start: date, period_end: date, preview: bool = False
) -> list[InvoiceRecord]:
    """Invoice lines grouped into their invoices (by invoice id and currency), in the order first seen."""
    grouped: dict[tuple[str, str], list[InvoiceLineRecord]] = {}
    for line in lines:
        grouped.setdefault((line.invoice_id, line.currency), []).append(line)
    return [
        InvoiceRecord(
            invoice_id=invoice_id,
            period_start=period_start,
            period_end=period_end,
            currency=currency,
            total=sum((line.amount for line in items), Decimal(0)),
            lines=tuple(items),
            preview=preview,
        )
        for (invoice_id, currency), items in grouped.items()
    ]


@dataclass(frozen=True, kw_only=True)
class DomainAvailability:
    """Whether a Microsoft domain can still be registered. Domains are unique across all of Microsoft
    Online Services, so a taken one cannot be created again: the customer who owns it must grant the
    partner a relationship instead. `domain` is the whole domain (`<prefix>.onmicrosoft.com` or a custom
    one); `message` says why not, in the marketplace's words."""

    domain: str
    available: bool
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class TenantDraft:
    """A new Microsoft tenant `<domain_prefix>.onmicrosoft.com`; the contact becomes its first admin."""

    domain_prefix: str
    first_name: str
    last_name: str
    email: str
    phone: str | None = None


@dataclass(frozen=True, kw_only=True)
class CreatedTenant:
    """A Microsoft tenant a marketplace created for a customer it now holds (`customer`).

    `admin_password` is set only when the marketplace hands the first admin's password back to the
    partner (Partner Center); when the marketplace emails it itself it is None and
    `credentials_sent_to` names the address. `ready` is False while the marketplace still provisions
    the tenant (orders wait until it is)."""

    customer: CustomerRecord
    tenant_id: str | None
    domain: str
    admin_user_name: str | None
    admin_password: str | None = field(default=None, repr=False)
    credentials_sent_to: str | None = None
    ready: bool = True
    operation_id: str | None = None


#: The address fields Microsoft requires of a new tenant's company, as `CustomerDraft` names them.
TENANT_ADDRESS_FIELDS = ("address_line", "city", "postal_code", "country")
INITIAL_DOMAIN_SUFFIX = ".onmicrosoft.com"


def tenant_address_missing(customer: CustomerDraft) -> tuple[str, ...]:
    """The address fields Microsoft needs for a new tenant that the draft lacks (`TENANT_ADDRESS_FIELDS` names)."""
    return tuple(name for name in TENANT_ADDRESS_FIELDS if not str(getattr(customer, name) or "").strip())


def tenant_domain(domain: str) -> str:
    """The whole domain for a prefix ("contoso" -> "contoso.onmicrosoft.com"); a whole domain unchanged."""
    domain = domain.strip().lower().rstrip(".")
    return domain if "." in domain else domain + INITIAL_DOMAIN_SUFFIX


@dataclass(frozen=True, kw_only=True)
class CreditLimitRecord:
    """The credit the marketplace grants the partner's account: `limit` None when none is checked;
    `remaining` is the limit minus what the open billing period has used so far."""

    limit: Decimal | None
    remaining: Decimal | None
    currency: str
    set_at: datetime | None = None
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class TenantLicenceRecord:
    """A licence (SKU) a customer tenant holds: seats bought (`purchased`, Microsoft's enabled prepaid
    units) against seats given to users (`assigned`, consumed units). `status` is Microsoft's
    capability status (Enabled, Warning, Suspended, Deleted, LockedOut)."""

    sku_id: str
    sku_part_number: str
    product_name: str
    purchased: int
    assigned: int
    suspended: int = 0
    warning: int = 0
    status: str = "Enabled"

    @property
    def unassigned(self) -> int:
        """Seats bought and not given to anyone (never below zero)."""
        return max(self.purchased - self.assigned, 0)


#: Entra's Global Administrator role: Microsoft refuses to auto-extend a GDAP relationship that includes it.
GLOBAL_ADMINISTRATOR_ROLE = "62e90394-69f5-4237-9190-012177145e10"


@dataclass(frozen=True, kw_only=True)
class GdapRelationshipRecord:
    """A granular delegated admin (GDAP) relationship between the partner and a customer tenant:
    which Entra roles it grants, its status and when it ends (None while waiting for approval)."""

    relationship_id: str
    display_name: str
    customer_tenant_id: str
    customer_name: str
    status: str
    roles: tuple[str, ...]
    auto_extend: bool
    activated_at: datetime | None
    ends_at: datetime | None

    @property
    def includes_global_administrator(self) -> bool:
        return GLOBAL_ADMINISTRATOR_ROLE in self.roles


@dataclass(frozen=True, kw_only=True)
class OrderResult:
    subscription: SubscriptionRecord
    idempotency_key: str
    outcome: OrderLineOutcome


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def _restore_error(error_class: type[ProviderError], args: tuple[Any, ...], state: dict[str, Any]) -> ProviderError:
    error = error_class.__new__(error_class)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ProviderError(Exception):
    """Base of everything a provider raises. `retryable` tells a task whether waiting can help.

    `reference` is the marketplace's own id for the failure (ALSO's IssueToken, a Partner Center
    correlation id) so support can find it on their side.
    """

    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, reference: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reference = reference

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor arguments would break the default pickling Celery relies on.
        return (_restore_error, (type(self), self.args, dict(self.__dict__)))


class AuthenticationFailed(ProviderError):
    """The marketplace refused the account's credentials (wrong secret, MFA, locked user)."""


class Throttled(ProviderError):
    retryable = True

    def __init__(self, message: str = "Throttled by the marketplace", *, retry_after: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Unavailable(ProviderError):
    """The marketplace did not answer usefully (5xx, timeout, network). A write may or may not
    have been applied: ask `find_applied_order_line` before placing the line again."""

    retryable = True


class Rejected(ProviderError):
    """The marketplace understood the request and refused it; retrying the same request cannot help."""

    def __init__(self, code: str, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.code = code


class NotFound(ProviderError):
    pass


class Unsupported(ProviderError):
    def __init__(self, message: str, *, capability: Capability | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.capability = capability


# --------------------------------------------------------------------------------------------
# The protocol
# --------------------------------------------------------------------------------------------


class PayloadDigest(Protocol):
    """A running hash (hashlib's) a provider feeds what its records are made of (`digest_payload`)."""

    def update(self, data: bytes, /) -> None: ...


@runtime_checkable
class MarketplaceProvider(Protocol):
    """What the console may ask of a marketplace. Implementations are constructed as
    `Provider(connection=..., transport=..., sleep=...)` (see `registry.create_provider`).

    Every method is keyword-only. A method whose capability the provider does not declare raises
    `Unsupported`; everything else raises only `ProviderError` subclasses.
    """

    slug: ClassVar[str]
    display_name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    capability_rules: ClassVar[Mapping[Capability, Label]]

    def supports(self, capability: Capability) -> bool: ...

    def rule_for(self, capability: Capability) -> str | None: ...

    def list_customers(self) -> Iterator[CustomerRecord]: ...

    def list_offers(self) -> Iterator[OfferRecord]: ...

    def list_subscriptions(self, *, customer_external_id: str | None = None) -> Iterator[SubscriptionRecord]: ...

    def get_subscription(self, *, subscription_external_id: str) -> SubscriptionRecord: ...

    def provisioning_status(self, *, subscription_external_id: str) -> SubscriptionStatus: ...

    def create_customer(self, *, customer: CustomerDraft) -> CustomerRecord: ...

    def domain_availability(self, *, domain: str) -> DomainAvailability: ...

    def create_customer_tenant(self, *, customer: CustomerDraft, tenant: TenantDraft) -> CreatedTenant: ...

    def place_order_line(
        self, *, customer_external_id: str, offer_id: str, quantity: int, idempotency_key: str
    ) -> OrderResult: ...

    def find_applied_order_line(
        self, *, customer_external_id: str, idempotency_key: str
    ) -> SubscriptionRecord | None: ...

    def change_quantity(self, *, subscription_external_id: str, quantity: int) -> SubscriptionRecord: ...

    def suspend(self, *, subscription_external_id: str) -> SubscriptionRecord: ...

    def reactivate(self, *, subscription_external_id: str) -> SubscriptionRecord: ...

    def terminate(self, *, subscription_external_id: str, reason: str | None = None) -> SubscriptionRecord: ...

    def revoke_termination(self, *, subscription_external_id: str) -> SubscriptionRecord: ...

    def change_billing_cycle(
        self, *, subscription_external_id: str, billing_cycle: BillingCycle
    ) -> SubscriptionRecord: ...

    def add_add_on(
        self, *, subscription_external_id: str, offer_id: str, quantity: int, idempotency_key: str
    ) -> AddOnRecord: ...

    def change_add_on_quantity(
        self, *, subscription_external_id: str, add_on_external_id: str, quantity: int
    ) -> AddOnRecord: ...

    def remove_add_on(self, *, subscription_external_id: str, add_on_external_id: str) -> None: ...

    def list_invoice_lines(self, *, period_start: date, period_end: date) -> Iterator[InvoiceLineRecord]: ...

    def list_invoices(self, *, period_start: date, period_end: date) -> list[InvoiceRecord]: ...

    def list_preview_invoices(self) -> list[InvoiceRecord]: ...

    def invoice_document(self, *, invoice_id: str) -> bytes | None: ...
    def credit_limit(self) -> CreditLimitRecord: ...

    def list_tenant_licences(self, *, customer_external_id: str) -> list[TenantLicenceRecord]: ...

    def list_gdap_relationships(self) -> list[GdapRelationshipRecord]: ...

    def digest_payload(self, *, digest: PayloadDigest) -> bool: ...

    def payload_scope(self, digest: PayloadDigest | None) -> AbstractContextManager[None]: ...

    def list_subscriptions_prepare(self, *, customer_external_ids: Sequence[str]) -> None: ...

    def close(self) -> None: ...


class ProviderBase:
    """Shared behaviour for providers: every capability method refuses with `Unsupported` until a
    provider overrides it, so an undeclared action fails the same clean way everywhere."""

    #: The marketplace this provider speaks to: a subclass that sets it takes its slug, display name,
    #: capabilities and rule texts from it (marketplace.providers.description).
    description: ClassVar[MarketplaceDescription | None] = None
    slug: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    capability_rules: ClassVar[Mapping[Capability, Label]] = MappingProxyType({})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        description = cls.__dict__.get("description")
        if description is not None:
            cls.slug = description.slug
            cls.display_name = description.display_name
            cls.capabilities = description.capabilities
            cls.capability_rules = description.capability_rules

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def rule_for(self, capability: Capability) -> str | None:
        rule = self.capability_rules.get(capability)
        return None if rule is None else str(rule)

    def require(self, capability: Capability) -> None:
        if capability not in self.capabilities:
            raise Unsupported(
                f"{self.display_name or self.slug} does not support {capability.value.replace('_', ' ')}",
                capability=capability,
            )

    def _unsupported(self, capability: Capability) -> Any:
        self.require(capability)
        raise Unsupported(  # declared but not implemented: a provider bug, still refused cleanly
            f"{self.display_name or self.slug} declares {capability.value} but does not implement it",
            capability=capability,
        )

    def list_customers(self) -> Iterator[CustomerRecord]:
        return self._unsupported(Capability.LIST_CUSTOMERS)

    def list_offers(self) -> Iterator[OfferRecord]:
        return self._unsupported(Capability.LIST_OFFERS)

    def list_subscriptions(self, *, customer_external_id: str | None = None) -> Iterator[SubscriptionRecord]:
        return self._unsupported(Capability.LIST_SUBSCRIPTIONS)

    def get_subscription(self, *, subscription_external_id: str) -> SubscriptionRecord:
        return self._unsupported(Capability.LIST_SUBSCRIPTIONS)

    def provisioning_status(self, *, subscription_external_id: str) -> SubscriptionStatus:
        """Where provisioning a new subscription stands: PENDING while the marketplace works on it, then
        ACTIVE (or another settled status) or FAILED. A marketplace with a provisioning-status call of its
        own answers from there; the others from the subscription itself."""
        return self.get_subscription(subscription_external_id=subscription_external_id).status

    def create_customer(self, *, customer: CustomerDraft) -> CustomerRecord:
        return self._unsupported(Capability.CREATE_CUSTOMER)

    def domain_availability(self, *, domain: str) -> DomainAvailability:
        """`domain` is a prefix ("contoso", meaning contoso.onmicrosoft.com) or a whole domain."""
        return self._unsupported(Capability.CREATE_TENANT)

    def create_customer_tenant(self, *, customer: CustomerDraft, tenant: TenantDraft) -> CreatedTenant:
        """Create a customer at the marketplace together with its new Microsoft tenant and first admin.
        Nothing is charged: a subscription is bought afterwards. A taken domain is `Rejected`
        ("domain_taken"), an incomplete address `Rejected` ("incomplete_address") before anything is sent."""
        return self._unsupported(Capability.CREATE_TENANT)

    def place_order_line(
        self, *, customer_external_id: str, offer_id: str, quantity: int, idempotency_key: str
    ) -> OrderResult:
        return self._unsupported(Capability.PLACE_ORDER)

    def find_applied_order_line(self, *, customer_external_id: str, idempotency_key: str) -> SubscriptionRecord | None:
        return self._unsupported(Capability.PLACE_ORDER)

    def change_quantity(self, *, subscription_external_id: str, quantity: int) -> SubscriptionRecord:
        return self._unsupported(Capability.CHANGE_QUANTITY)

    def suspend(self, *, subscription_external_id: str) -> SubscriptionRecord:
        return self._unsupported(Capability.SUSPEND)

    def reactivate(self, *, subscription_external_id: str) -> SubscriptionRecord:
        return self._unsupported(Capability.REACTIVATE)

    def terminate(self, *, subscription_external_id: str, reason: str | None = None) -> SubscriptionRecord:
        return self._unsupported(Capability.TERMINATE)

    def revoke_termination(self, *, subscription_external_id: str) -> SubscriptionRecord:
        return self._unsupported(Capability.REVOKE_TERMINATION)

    def change_billing_cycle(self, *, subscription_external_id: str, billing_cycle: BillingCycle) -> SubscriptionRecord:
        return self._unsupported(Capability.CHANGE_BILLING_CYCLE)

    def add_add_on(
        self, *, subscription_external_id: str, offer_id: str, quantity: int, idempotency_key: str
    ) -> AddOnRecord:
        return self._unsupported(Capability.ADD_ADD_ON)

    def change_add_on_quantity(
        self, *, subscription_external_id: str, add_on_external_id: str, quantity: int
    ) -> AddOnRecord:
        return self._unsupported(Capability.CHANGE_ADD_ON)

    def remove_add_on(self, *, subscription_external_id: str, add_on_external_id: str) -> None:
        return self._unsupported(Capability.REMOVE_ADD_ON)

    def list_invoice_lines(self, *, period_start: date, period_end: date) -> Iterator[InvoiceLineRecord]:
        """Invoice lines whose charge starts inside the period (an optional capability)."""
        return self._unsupported(Capability.LIST_INVOICE_LINES)

    def list_invoices(self, *, period_start: date, period_end: date) -> list[InvoiceRecord]:
        """The invoices whose lines are charged inside the period, each with its lines and total."""
        lines = self.list_invoice_lines(period_start=period_start, period_end=period_end)
        return invoices_from_lines(lines, period_start=period_start, period_end=period_end)

    def list_preview_invoices(self) -> list[InvoiceRecord]:
        """The current period's preview invoices, where the marketplace offers them (none by default)."""
        self.require(Capability.LIST_INVOICE_LINES)
        return []

    def invoice_document(self, *, invoice_id: str) -> bytes | None:
        """The marketplace's own PDF of an issued invoice, where it hands one out (None by default: the
        console then prints the invoice from its lines)."""
        return None

    def credit_limit(self) -> CreditLimitRecord:
        """The account's credit limit at the marketplace and what remains of it (an optional capability)."""
        return self._unsupported(Capability.READ_CREDIT_LIMIT)

    def list_tenant_licences(self, *, customer_external_id: str) -> list[TenantLicenceRecord]:
        """Per licence of a customer tenant, seats purchased against seats assigned (an optional capability)."""
        return self._unsupported(Capability.LIST_TENANT_LICENCES)

    def list_gdap_relationships(self) -> list[GdapRelationshipRecord]:
        """The partner's GDAP relationships with its customers' tenants (an optional capability)."""
        return self._unsupported(Capability.LIST_GDAP_RELATIONSHIPS)

    def digest_payload(self, *, digest: PayloadDigest) -> bool:
        """From now on, feed `digest` everything the records this provider lists are made of, and say
        whether it can (False by default).

        The sync skips comparing a listing whose digest is the one it recorded last time
        (marketplace.sync), so a provider may only say True when its records are a function of the
        answers it reads and of what it feeds in besides: its connection's region, username and
        options are fed by the sync, the answers by the HTTP client (`MarketplaceHttpClient`), and
        anything else a record depends on (the clock) by the provider itself."""
        return False

    def payload_scope(self, digest: PayloadDigest | None) -> AbstractContextManager[None]:
        """While inside, what this thread reads feeds `digest` instead of the one `digest_payload`
        named. The sync lists customers' subscriptions on several threads at once, each customer into
        its own digest, and feeds those in the order of its customers, so the listing digest does not
        depend on which answer came first. A provider that digests nothing has nothing to scope."""
        return nullcontext()

    def list_subscriptions_prepare(self, *, customer_external_ids: Sequence[str]) -> None:
        """Before the subscriptions of these customers are listed concurrently, read in a fixed order
        what their listings share (Partner Center: the price sheets of their markets), so that no
        listing reads it on another's behalf and every customer's digest is the same whatever the
        order the listings ran in. Nothing by default."""
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
