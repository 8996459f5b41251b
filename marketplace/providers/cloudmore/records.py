"""Typed records for what Cloudmore offers beyond the `MarketplaceProvider` protocol.

Cloudmore's flow "Add O365 CSP Direct service" (domain check, Microsoft tenant creation with an
admin user) and the monthly billing report per organization. Immutable, Decimal money, aware instants.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

# The domain check and the new tenant's draft are the protocol's (every marketplace that creates tenants).
from marketplace.providers.base import DomainAvailability as DomainAvailability
from marketplace.providers.base import TenantDraft as TenantDraft

#: Cloudmore's explanation for a taken domain ("Add O365 CSP Direct service"), word for word.
DOMAIN_TAKEN_EXPLANATION = (
    "The domain is not available because it already has a Microsoft tenant registered against it. "
    "If another supplier provides this, you will need to request a CSP relationship via the partner center."
)


class Segment(enum.StrEnum):
    """Cloudmore's price list segments."""

    COMMERCIAL = "commercial"
    EDUCATION = "education"
    CHARITY = "charity"
    GOVERNMENT = "government"


@dataclass(frozen=True, kw_only=True)
class TenantRecord:
    customer_external_id: str
    tenant_id: str
    domain: str
    status: str
    admin_user_name: str | None
    credentials_sent_to: str | None
    created_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class DirectoryUserRecord:
    """A user of Cloudmore's own directory (who signs in to the Cloudmore portal), not a Microsoft 365 user."""

    external_id: str
    user_name: str
    first_name: str
    last_name: str
    email: str


@dataclass(frozen=True, kw_only=True)
class TenantUserRecord:
    external_id: str
    user_name: str
    display_name: str
    email: str | None
    is_admin: bool
    #: ids of the subscriptions (without the organization prefix) the user is subscribed to
    subscription_ids: tuple[str, ...] = ()


class BillingChargeType(enum.StrEnum):
    """Cloudmore's billing line types: the cycle fee, pro-rata charges and refunds, anything else."""

    CYCLE_FEE = "cycle_fee"
    PRO_RATA = "pro_rata"
    OTHER = "other"


@dataclass(frozen=True, kw_only=True)
class BillingReportLine:
    subscription_external_id: str
    product_name: str
    offer_id: str | None
    charge_type: BillingChargeType
    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    unit_cost_price: Decimal | None
    cost_amount: Decimal | None
    period_start: date | None
    period_end: date | None


@dataclass(frozen=True, kw_only=True)
class BillingReport:
    """One organization's billing for one month (the month's first day in `month`)."""

    customer_external_id: str
    customer_name: str
    month: date
    currency: str
    total: Decimal
    cost_total: Decimal | None
    lines: tuple[BillingReportLine, ...]
