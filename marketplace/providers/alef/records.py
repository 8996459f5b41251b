"""Typed records for what ALEF offers beyond the `MarketplaceProvider` protocol: organizations'
eligibility, segmented price list rows, and the asynchronous creation of a Microsoft tenant."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from marketplace.providers.base import OfferRecord
from marketplace.providers.base import TenantDraft as TenantDraft

#: The industries ALEF's organization form offers (the industry decides the offers).
INDUSTRIES = (
    "Agriculture",
    "Education",
    "Finance",
    "Government",
    "Healthcare",
    "Hospitality",
    "Manufacturing",
    "NonProfit",
    "ProfessionalServices",
    "Retail",
    "Technology",
    "Transportation",
    "Other",
)


class OfferSegment(enum.StrEnum):
    """Who may buy an offer: everyone (commercial) or organizations flagged eligible."""

    COMMERCIAL = "commercial"
    ACADEMIC = "academic"
    GOVERNMENT = "government"
    NON_PROFIT = "nonprofit"


@dataclass(frozen=True, kw_only=True)
class CustomerEligibility:
    """An organization's industry and the flags (checkboxes on its profile) that open the
    academic, government and non-profit offers to it."""

    industry: str
    academic: bool = False
    government: bool = False
    non_profit: bool = False

    @property
    def segments(self) -> frozenset[OfferSegment]:
        allowed = {OfferSegment.COMMERCIAL}
        if self.academic:
            allowed.add(OfferSegment.ACADEMIC)
        if self.government:
            allowed.add(OfferSegment.GOVERNMENT)
        if self.non_profit:
            allowed.add(OfferSegment.NON_PROFIT)
        return frozenset(allowed)

    def may_order(self, segment: OfferSegment) -> bool:
        return segment in self.segments


@dataclass(frozen=True, kw_only=True)
class SegmentedOffer:
    """A price list row: the offer (cost = partner price, sales = default customer price,
    suggested retail = Microsoft's ERP) and the segment that may buy it."""

    offer: OfferRecord
    segment: OfferSegment


class OperationStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True)
class TenantOperation:
    """The long-running creation of a tenant. Orders for the customer wait until it succeeded."""

    operation_id: str
    customer_external_id: str
    domain: str
    status: OperationStatus
    tenant_id: str | None = None
    error_code: str | None = None
    message: str | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.status != OperationStatus.RUNNING
