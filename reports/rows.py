"""The rows of each report's export: (header, row generator) pairs. Generators, so a streamed export
never holds more than the row it is writing (and whatever chunk its selector reads)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.choices import BILLING_CYCLE_CHOICES
from catalog.pricing import money_round
from reports.billing_report import SubscriptionBill
from reports.choices import BillingLineKind
from subscriptions.choices import SUBSCRIPTION_STATUS_CHOICES

_CYCLES = dict(BILLING_CYCLE_CHOICES)
_STATUSES = dict(SUBSCRIPTION_STATUS_CHOICES)


def _label(choices: dict, value) -> str:
    return str(choices.get(value, value or ""))


def usage_header(view: str) -> list[str]:
    if view == "customers":
        return [_("Customer"), _("Subscriptions"), _("Seats"), _("Assigned"), _("Unassigned")]
    return [
        _("Customer"),
        _("Subscription"),
        _("Marketplace account"),
        _("Quantity"),
        _("Assigned"),
        _("Unassigned"),
        _("Status"),
        _("Billing cycle"),
        # At the end, so the columns before keep their places for whoever reads the files.
        _("Friendly name"),
        _("PO number"),
    ]


def usage_subscription_rows(rows) -> Iterator[list]:
    for row in rows.order_by("customer_name", "name").iterator(chunk_size=2000):
        yield [
            row["customer_name"],
            row["name"],
            row["account_name"],
            row["quantity"],
            row["assigned"],
            row["unassigned"],
            _label(_STATUSES, row["status"]),
            _label(_CYCLES, row["billing_cycle"]),
            row["friendly_name"] or "",
            row["po_number"] or "",
        ]


def usage_customer_rows(rows) -> Iterator[list]:
    for row in rows.order_by("customer_name").iterator(chunk_size=2000):
        yield [row["customer_name"], row["subscriptions"], row["seats"], row["assigned_seats"], row["unassigned_seats"]]


def operations(rows, statuses: dict[str, list[tuple[str, str]]]) -> tuple[list[str], Iterator[list]]:
    kind_labels = {"orders": _("Orders"), "requests": _("Licence requests")}
    header = [_("Customer")]
    for kind, choices in statuses.items():
        header.append(f"{kind_labels.get(kind, kind)}: {_('total')}")
        header += [f"{kind_labels.get(kind, kind)}: {label}" for _status, label in choices]

    def lines() -> Iterator[list]:
        for row in rows:
            line = [row.customer_name]
            for kind, choices in statuses.items():
                counts = getattr(row, kind)
                line.append(sum(counts.values()))
                line += [counts.get(status, 0) for status, _label in choices]
            yield line

    return header, lines()


def activity(rows) -> tuple[list[str], Iterator[list]]:
    header = [_("User"), _("Events"), _("Kinds of action"), _("Failures"), _("Last activity")]
    return header, ([row["actor_label"], row["events"], row["actions"], row["failures"], row["last"]] for row in rows)


def activity_events(events) -> tuple[list[str], Iterator[list]]:
    header = [
        _("Time"),
        _("User"),
        _("Action"),
        _("Object type"),
        _("Object"),
        _("Result"),
        _("IP address"),
        _("Message"),
    ]

    def lines() -> Iterator[list]:
        for event in events.iterator(chunk_size=2000):
            yield [
                event.created,
                event.actor_label,
                event.action,
                event.target_type,
                event.target_label,
                event.result,
                event.ip_address,
                event.message,
            ]

    return header, lines()


def cost(overview, *, sees_cost: bool) -> tuple[list[str], Iterator[list]]:
    header = [_("Group"), _("Name"), _("Currency"), _("Subscriptions"), _("Seats"), _("Monthly revenue")]
    if sees_cost:
        header += [_("Monthly cost"), _("Margin"), _("Margin %")]
    header.append(_("Without price"))

    def lines() -> Iterator[list]:
        for group, rows in ((_("Customer"), overview.by_customer), (_("Marketplace account"), overview.by_account)):
            for row in rows:
                line = [group, row.label, row.currency, row.subscriptions, row.seats, row.revenue]
                if sees_cost:
                    line += [row.cost, row.margin, row.margin_percent]
                line.append(row.unpriced)
                yield line

    return header, lines()


def custom(report, dimension_label: str, measure_label: str) -> tuple[list[str], Iterator[list]]:
    header = [str(dimension_label), str(measure_label), _("Share %")]
    if report.currency:
        header.insert(2, _("Currency"))

    def lines() -> Iterator[list]:
        for row in report.rows:
            line = [row.label, row.value, row.share]
            if report.currency:
                line.insert(2, report.currency)
            yield line

    return header, lines()


def billing(bills: Iterable[SubscriptionBill], *, sees_cost: bool) -> tuple[list[str], Iterator[list]]:
    """One row per line; a subscription without a price gets one row saying so."""
    header = [
        _("Report date"),
        _("Cycle start"),
        _("Cycle end"),
        _("Customer"),
        _("Subscription"),
        _("Marketplace account"),
        _("Billing cycle"),
        _("Line"),
        _("Effective"),
        _("Seats"),
        _("Days"),
        _("Days in period"),
        _("Unit price"),
        _("Amount"),
        _("Currency"),
        _("Computation"),
        _("Price derivation"),
    ]
    if sees_cost:
        header += [_("Unit cost"), _("Cost"), _("Margin")]
    # At the end, so the columns before keep their places for whoever reads the files.
    labels = [_("Friendly name"), _("PO number"), _("Issued on")]
    header += labels
    kinds = {kind: str(label) for kind, label in BillingLineKind.choices}
    cycles = {cycle: str(label) for cycle, label in BILLING_CYCLE_CHOICES}

    def lines() -> Iterator[list]:
        for bill in bills:
            cycle = bill.cycle
            start = [
                cycle.report_date,
                cycle.start,
                cycle.end,
                bill.customer_name,
                bill.name,
                bill.account_name,
                cycles.get(bill.billing_cycle, bill.billing_cycle),
            ]
            issued_at = getattr(bill, "issued_at", None)
            end = [
                bill.friendly_name,
                bill.po_number,
                timezone.localdate(issued_at) if issued_at else "",
            ]
            if bill.price is None:
                padding = [""] * (len(header) - len(start) - 1 - len(labels))
                yield start + [_("No price: the offer is no longer in the catalog.")] + padding + end
                continue
            derivation = " → ".join(f"{step.label}: {step.amount}" for step in bill.price.steps)
            for line in bill.lines:
                row = start + [
                    kinds.get(line.kind, line.kind),
                    line.day,
                    line.quantity,
                    line.days,
                    line.period_days,
                    line.unit_price,
                    line.amount,
                    line.currency,
                    line.formula,
                    derivation,
                ]
                if sees_cost:
                    margin = None if line.cost_amount is None else line.amount - line.cost_amount
                    row += [line.unit_cost, line.cost_amount, margin]
                yield row + end

    return header, lines()


def reconciliation(result, *, sees_cost: bool) -> tuple[list[str], Iterator[list]]:
    header = [
        _("Cycle start"),
        _("Cycle end"),
        _("Customer"),
        _("Marketplace account"),
        _("Offer"),
        _("Offer ID"),
        _("Invoiced seats"),
        _("Subscription quantity"),
        _("Assigned seats"),
        _("Billed seats"),
        _("Billed amount"),
        _("Currency"),
        _("Gaps"),
        _("Actions"),
    ]
    if sees_cost:
        header.insert(7, _("Invoiced amount"))

    def lines() -> Iterator[list]:
        for row in result.rows:
            line = [
                result.cycle.start,
                result.cycle.end,
                row.customer_name,
                row.account_name,
                row.name,
                row.offer_external_id,
                row.invoiced if row.invoice_fetched else _("not fetched"),
                row.quantity,
                row.assigned,
                row.billed,
                money_round(row.billed_amount, row.currency) if row.currency else row.billed_amount,
                row.currency,
                "; ".join(gap.label for gap in row.gaps),
                " ".join(gap.action for gap in row.gaps),
            ]
            if sees_cost:
                line.insert(7, row.invoiced_amount if row.invoice_fetched else Decimal(0))
            yield line

    return header, lines()
