"""Commitment windows: whether a decrease or a cancellation is allowed now, until when, and what it costs.

The marketplace decides, not a guess. Three sources, in this order:
- the marketplace's own data about the subscription, mirrored by the sync: `cancellation_allowed_until`
  (the Microsoft NCE window: 7 days after purchase or renewal; None when the subscription has no
  window, such as a legacy or a non-NCE offer), `term_end` (the renewal), `trial`, `status`;
- the provider's declared capabilities and the rule text it publishes (`capability_rules`), shown to
  the user next to the verdict;
- a few provider specifics that the rule texts state and the simulators enforce, kept as data in
  each marketplace's description (`MarketplaceDescription.commitment`, checked against the rule texts
  by the tests).

Amounts are estimates from the subscription's unit cost price (per billing period, as every provider
reports it) prorated over the days left in the term; each comes with its derivation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.pricing import money_format, money_multiply, percent_text
from marketplace.providers.base import Capability, billing_cycle_months
from marketplace.providers.description import CommitmentRules
from marketplace.providers.registry import marketplaces
from portal.core.formatting import when_text
from subscriptions.choices import SubscriptionStatus
from subscriptions.choices_lifecycle import ChangeTiming
from subscriptions.models import Subscription

#: Microsoft NCE: decreases and cancellation within 7 days (168 hours) of purchase or renewal.
NCE_WINDOW = timedelta(days=7)
_TERM_MONTHS = {"P1M": 1, "P1Y": 12, "P3Y": 36}


_DEFAULT_RULES = CommitmentRules()


def commitment_rules(slug: str) -> CommitmentRules:
    """The marketplace's commitment rules (the lenient defaults for a marketplace the console does not know)."""
    description = marketplaces().get(slug)
    return description.commitment if description else _DEFAULT_RULES


def clock() -> datetime:
    """The instant the rules are judged at. One function, so tests can run the console on a simulator's clock."""
    return timezone.now()


def marketplace_capabilities(slug: str) -> frozenset[Capability]:
    description = marketplaces().get(slug)
    return description.capabilities if description else frozenset()


def marketplace_rule(slug: str, capability: Capability) -> str:
    """The marketplace's own words for a capability ("" when it states none)."""
    description = marketplaces().get(slug)
    return str(description.capability_rules.get(capability, "")) if description else ""


def marketplace_supports(slug: str, capability: Capability) -> bool:
    return capability in marketplace_capabilities(slug)


def marketplace_name(slug: str) -> str:
    description = marketplaces().get(slug)
    return description.display_name if description else slug


# -- windows -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitmentWindow:
    """A subscription's window as of `now`: `closes_at` None means no window (changes any time)."""

    closes_at: datetime | None
    renewal_on: date | None
    now: datetime

    @property
    def applies(self) -> bool:
        return self.closes_at is not None

    @property
    def is_open(self) -> bool:
        return self.closes_at is None or self.now <= self.closes_at

    @property
    def opens_again_on(self) -> date | None:
        """The next window opens at the renewal."""
        return self.renewal_on

    @property
    def hours_left(self) -> int | None:
        if self.closes_at is None or not self.is_open:
            return None
        return int((self.closes_at - self.now).total_seconds() // 3600)


def commitment_window(*, subscription: Subscription, now: datetime | None = None) -> CommitmentWindow:
    return CommitmentWindow(
        closes_at=subscription.cancellation_allowed_until,
        renewal_on=subscription.term_end,
        now=now or clock(),
    )


# -- money ---------------------------------------------------------------------------------------------------------


#: The average month (365.25 / 12 days): what a day of a monthly price is worth.
DAYS_PER_MONTH = Decimal("30.4375")


def monthly_unit_cost(subscription: Subscription) -> Decimal | None:
    """The unit cost per month: providers report the price per billing period."""
    if subscription.unit_cost_price is None or subscription.trial:
        return None
    months = billing_cycle_months(subscription.billing_cycle)
    if months is None:
        return None
    return subscription.unit_cost_price / months


def term_months(subscription: Subscription) -> int | None:
    return _TERM_MONTHS.get((subscription.term or "").upper())


@dataclass(frozen=True)
class Amount:
    """Money with how it was worked out, e.g. "3 seats × €10.00 a month × 100 days left in the term /
    30.4375 days a month": the factors as printed multiply out to the value."""

    value: Decimal
    currency: str
    detail: str


def remaining_term_value(*, subscription: Subscription, seats: int, now: datetime) -> Amount | None:
    """What `seats` seats cost from now until the term ends: the prorated refund of a cancellation
    inside the window, the price of an increase (co-termed), or what unused seats cost until renewal."""
    unit = monthly_unit_cost(subscription)
    if unit is None or subscription.term_end is None or seats <= 0:
        return None
    days_left = max((subscription.term_end - now.date()).days, 0)
    currency = subscription.currency or ""
    product = money_multiply(
        quantity=seats, unit=unit, currency=currency or "EUR", days=days_left, days_per_month=DAYS_PER_MONTH
    )
    # printed as computed: "3 seats × €30.00 a month × 100 days / 30.4375 days a month" = €295.69
    detail = ngettext(
        "%(seats)s seat × %(unit)s a month × %(days)s days left in the term / %(month)s days a month",
        "%(seats)s seats × %(unit)s a month × %(days)s days left in the term / %(month)s days a month",
        seats,
    ) % {
        "seats": seats,
        "unit": money_format(product.unit, currency or "EUR"),
        "days": days_left,
        "month": percent_text(DAYS_PER_MONTH),
    }
    return Amount(value=product.amount, currency=currency, detail=detail)


# -- previews -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangePreview:
    """What the user sees before a quantity change or a cancellation: when, and at what cost or refund."""

    timing: str  # ChangeTiming
    message: str
    rule: str
    window: CommitmentWindow
    current_quantity: int
    new_quantity: int
    cost: Amount | None = None  # what the change costs (an increase)
    refund: Amount | None = None  # what it gives back (a decrease or cancellation inside the window)
    kept_cost: Amount | None = None  # what the unused seats cost until they can go (outside the window)
    can_schedule: bool = False
    warning: str = ""

    @property
    def allowed_now(self) -> bool:
        return self.timing == ChangeTiming.NOW

    @property
    def delta(self) -> int:
        return self.new_quantity - self.current_quantity


def quantity_change_preview(*, subscription: Subscription, quantity: int, now: datetime | None = None) -> ChangePreview:
    """Whether changing the quantity to `quantity` is allowed now, at renewal, or not at all, and why."""
    now = now or clock()
    slug = subscription.account.marketplace
    rules = commitment_rules(slug)
    window = commitment_window(subscription=subscription, now=now)
    rule = marketplace_rule(slug, Capability.CHANGE_QUANTITY)
    base = {"rule": rule, "window": window, "current_quantity": subscription.quantity, "new_quantity": quantity}

    def refused(message: str) -> ChangePreview:
        return ChangePreview(timing=ChangeTiming.NOT_ALLOWED, message=message, **base)

    if not marketplace_supports(slug, Capability.CHANGE_QUANTITY):
        return refused(_("%(marketplace)s does not change quantities.") % {"marketplace": marketplace_name(slug)})
    if quantity < 1:
        return refused(_("The quantity must be at least 1; terminate the subscription to end it."))
    if subscription.trial:
        return refused(_("A trial's quantity cannot change: convert it to a paid subscription first."))
    if subscription.status == SubscriptionStatus.SUSPENDED and not rules.quantity_change_while_suspended:
        return refused(
            _("%(marketplace)s does not change the quantity of a suspended subscription: reactivate it first.")
            % {"marketplace": marketplace_name(slug)}
        )
    if subscription.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED):
        return refused(
            _("The subscription is %(status)s: its quantity cannot change.")
            % {"status": subscription.get_status_display().lower()}
        )
    if quantity == subscription.quantity:
        return ChangePreview(timing=ChangeTiming.NOW, message=_("The quantity stays the same."), **base)
    if quantity > subscription.quantity:
        cost = remaining_term_value(subscription=subscription, seats=quantity - subscription.quantity, now=now)
        return ChangePreview(
            timing=ChangeTiming.NOW,
            message=_("An increase is allowed at any time; the new seats end with the term."),
            cost=cost,
            **base,
        )
    # A decrease.
    seats = subscription.quantity - quantity
    over_assigned = subscription.assigned is not None and quantity < subscription.assigned
    assigned_message = ""
    if over_assigned:
        assigned_message = _(
            "%(assigned)s seats are assigned to users: unassign %(extra)s before going down to %(quantity)s."
        ) % {"assigned": subscription.assigned, "extra": subscription.assigned - quantity, "quantity": quantity}
    if over_assigned and (not window.applies or window.is_open):
        return refused(assigned_message)
    if not window.applies:
        return ChangePreview(
            timing=ChangeTiming.NOW,
            message=_("This subscription has no commitment window: it can be decreased now."),
            **base,
        )
    if window.is_open:
        return ChangePreview(
            timing=ChangeTiming.NOW,
            message=_("Allowed now: the cancellation window is open until %(until)s.")
            % {"until": when_text(window.closes_at)},
            refund=remaining_term_value(subscription=subscription, seats=seats, now=now),
            **base,
        )
    kept = remaining_term_value(subscription=subscription, seats=seats, now=now)
    if window.renewal_on is None or not subscription.auto_renew:
        return ChangePreview(
            timing=ChangeTiming.NOT_ALLOWED,
            message=_("Not allowed: the cancellation window closed on %(closed)s and the subscription does not renew.")
            % {"closed": when_text(window.closes_at)},
            kept_cost=kept,
            **base,
        )
    return ChangePreview(
        timing=ChangeTiming.AT_RENEWAL,
        message=_(
            "Not allowed now: the cancellation window closed on %(closed)s. The decrease can be scheduled for the "
            "renewal on %(renewal)s, when the next window opens."
        )
        % {"closed": when_text(window.closes_at), "renewal": when_text(window.renewal_on)},
        kept_cost=kept,
        can_schedule=True,
        warning=(
            _("%(message)s At the renewal the change is applied only if that many seats are free by then.")
            % {"message": assigned_message}
            if over_assigned
            else ""
        ),
        **base,
    )


def termination_preview(*, subscription: Subscription, now: datetime | None = None) -> ChangePreview:
    """What terminating does now: ends at once with a refund inside the window, else ends with the term."""
    now = now or clock()
    slug = subscription.account.marketplace
    rules = commitment_rules(slug)
    window = commitment_window(subscription=subscription, now=now)
    rule = marketplace_rule(slug, Capability.TERMINATE)
    base = {"rule": rule, "window": window, "current_quantity": subscription.quantity, "new_quantity": 0}
    if not marketplace_supports(slug, Capability.TERMINATE):
        return ChangePreview(
            timing=ChangeTiming.NOT_ALLOWED,
            message=_("%(marketplace)s does not terminate subscriptions.") % {"marketplace": marketplace_name(slug)},
            **base,
        )
    if subscription.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED):
        return ChangePreview(
            timing=ChangeTiming.NOT_ALLOWED,
            message=_("Only an active or suspended subscription can be terminated."),
            **base,
        )
    if subscription.scheduled_termination_date:
        return ChangePreview(
            timing=ChangeTiming.NOT_ALLOWED,
            message=_("The termination is already scheduled for %(date)s.")
            % {"date": when_text(subscription.scheduled_termination_date)},
            **base,
        )
    if subscription.trial:
        return ChangePreview(timing=ChangeTiming.NOW, message=_("A trial ends at once, free of charge."), **base)
    if not window.applies or window.is_open:
        message = (
            _("Ends at once: the cancellation window is open until %(until)s.") % {"until": when_text(window.closes_at)}
            if window.applies
            else _("Ends at once: this subscription has no commitment window.")
        )
        refund = remaining_term_value(subscription=subscription, seats=subscription.quantity, now=now)
        return ChangePreview(
            timing=ChangeTiming.NOW, message=message, refund=refund if window.applies else None, **base
        )
    kept = remaining_term_value(subscription=subscription, seats=subscription.quantity, now=now)
    if rules.termination_ends_with_term:
        return ChangePreview(
            timing=ChangeTiming.AT_RENEWAL,
            message=_(
                "The cancellation window closed on %(closed)s: the subscription stops renewing and ends with its "
                "term on %(end)s, without a refund."
            )
            % {"closed": when_text(window.closes_at), "end": when_text(window.renewal_on)},
            kept_cost=kept,
            **base,
        )
    return ChangePreview(
        timing=ChangeTiming.NOT_ALLOWED,
        message=_("The cancellation window closed on %(closed)s.") % {"closed": when_text(window.closes_at)},
        **base,
    )
