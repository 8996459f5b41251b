"""What the API answers and accepts. Money is a decimal string with its currency; dates are ISO 8601.
Cost prices appear only for users who see them on the screens (`None` otherwise)."""

import datetime
import uuid
from decimal import Decimal

from django.http import JsonResponse
from ninja import Field, Schema
from pydantic import BaseModel

from subscriptions.selectors_subscriptions import subscription_version


def json_response(schema: type[BaseModel], obj, *, status: int = 200) -> JsonResponse:
    """An answer already serialised (idempotent POSTs store exactly what they sent)."""
    data = schema.model_validate(obj, from_attributes=True).model_dump(mode="json")
    return JsonResponse(data, status=status)


class CustomerOut(Schema):
    id: int
    name: str
    status: str
    country: str = Field(..., alias="country.code")
    contact_email: str
    created: datetime.datetime


class CustomerTenantOut(Schema):
    id: int
    customer_id: int
    tenant_id: uuid.UUID
    primary_domain: str
    display_name: str
    consent_state: str
    consented_at: datetime.datetime | None


class MarketplaceAccountOut(Schema):
    """A marketplace account without any secret: the username is shown, the secret never."""

    id: int
    marketplace: str
    display_name: str
    region: str
    username: str
    status: str
    status_message: str
    sync_interval_minutes: int | None


class SubscriptionOut(Schema):
    id: int
    customer_tenant_id: int
    account_id: int
    external_id: str
    offer_external_id: str
    product_id: str
    name: str
    quantity: int
    assigned: int | None
    status: str
    billing_cycle: str
    term: str
    term_end: datetime.date | None
    auto_renew: bool
    trial: bool
    cancellation_allowed_until: datetime.datetime | None
    currency: str
    #: The value to send back as `version` so a change made meanwhile by someone else is refused.
    version: str

    @staticmethod
    def resolve_version(obj) -> str:
        return subscription_version(obj)


class OrderLineOut(Schema):
    id: int
    kind: str
    offer_name: str
    subscription_id: int | None
    quantity: int | None
    currency: str
    unit_price: Decimal | None
    status: str
    outcome: str


class OrderOut(Schema):
    id: int
    number: str | None
    customer_tenant_id: int
    account_id: int
    status: str
    friendly_name: str
    po_number: str
    submitted_at: datetime.datetime | None
    lines: list[OrderLineOut]


class ScheduledChangeOut(Schema):
    id: int
    subscription_id: int
    quantity: int
    effective_on: datetime.date
    status: str


class LicenseChangeRequestOut(Schema):
    id: int
    customer_tenant_id: int
    kind: str
    source: str
    status: str
    subscription_id: int | None
    product_name: str
    current_quantity: int | None
    requested_quantity: int
    currency: str
    amount: Decimal | None
    reason: str
    created: datetime.datetime
    decided_at: datetime.datetime | None
    order_id: int | None


class PoolOut(Schema):
    id: int
    name: str
    service: str
    unit: str
    seats: int
    allocated: int
    free: int
    starts_on: datetime.date
    expires_on: datetime.date
    status: str


class PoolAllocationOut(Schema):
    id: int
    pool_id: int
    pool_name: str = Field(..., alias="pool.name")
    #: The partner that gave the seats (a large account reseller) and the partner that holds them.
    large_account_reseller: str = Field(..., alias="pool.owner.name")
    reseller: str = Field(..., alias="reseller.name")
    payment_type: str
    seats: int
    expires_on: datetime.date
    status: str


class BillingStatementOut(Schema):
    id: int
    customer_id: int | None
    customer_name: str
    cycle_start: datetime.date
    cycle_end: datetime.date
    currency: str
    issued_at: datetime.datetime
    total: Decimal
    subscription_count: int


class QuantityIn(Schema):
    quantity: int = Field(..., ge=0)
    #: The subscription's `version` as last read; a change made since is refused with 409.
    version: str | None = None
    #: A decrease the commitment window does not allow now is scheduled for the renewal.
    schedule_if_needed: bool = False
    #: The `confirmation` of a 409 confirmation-required problem, to confirm exactly those amounts.
    confirm_guardrails: str = ""


class ActionIn(Schema):
    version: str | None = None


class OrderLineIn(Schema):
    offer_id: int
    quantity: int = Field(..., ge=1)


class OrderIn(Schema):
    customer_tenant_id: int
    line: OrderLineIn
    friendly_name: str = ""
    po_number: str = ""
    #: Place the order at once (needs `terms_accepted`); otherwise it stays a draft to submit.
    submit: bool = False
    terms_accepted: bool = False
    confirm_guardrails: str = ""


class OrderSubmitIn(Schema):
    terms_accepted: bool
    #: The `confirmation` of a 409 prices-changed problem, to accept exactly those prices.
    price_confirmation: str = ""


class QuantityChangeOut(Schema):
    """A change placed now is an order; a decrease for the renewal is a scheduled change."""

    order: OrderOut | None = None
    scheduled_change: ScheduledChangeOut | None = None
