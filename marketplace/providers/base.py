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
from collections.abc import Iterator, Mapping
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

    def create_customer(self, *, customer: CustomerDraft) -> CustomerRecord: ...

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

    def digest_payload(self, *, digest: PayloadDigest) -> bool: ...

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

    def create_customer(self, *, customer: CustomerDraft) -> CustomerRecord:
        return self._unsupported(Capability.CREATE_CUSTOMER)

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

    def digest_payload(self, *, digest: PayloadDigest) -> bool:
        """From now on, feed `digest` everything the records this provider lists are made of, and say
        whether it can (False by default).

        The sync skips comparing a listing whose digest is the one it recorded last time
        (marketplace.sync), so a provider may only say True when its records are a function of the
        answers it reads and of what it feeds in besides: its connection's region, username and
        options are fed by the sync, the answers by the HTTP client (`MarketplaceHttpClient`), and
        anything else a record depends on (the clock) by the provider itself."""
        return False

    def close(self) -> None:
        return None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
