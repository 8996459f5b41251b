"""Reconciliation per billing cycle: for each customer and offer, four legs
side by side: what the marketplace invoiced the partner, the subscription's quantity, the seats
assigned in the tenant, and what the customer is billed. Every gap is classified with the action
that closes it.

`reconciliation_gaps` is the pure classification (tested on crafted cases); `reconciliation_rows`
gathers the legs: invoice lines fetched from the marketplace (`InvoiceLine`), the daily snapshots
at the cycle's end, and the billing report's own lines for the cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.selectors import customers_visible_to
from marketplace.models import MarketplaceAccount, TenantConnection
from portal.accounts.permissions import user_sees_all_customers
from reports.billing import BillingCycle
from reports.billing_report import billing_bills
from reports.choices import GapKind, InvoiceImportStatus
from reports.models import InvoiceImport, InvoiceLine, UsageSnapshot
from reports.selectors import snapshot_day_for, tracked_subscriptions_visible_to
from reports.statements import IssuedBillTotal, issued_bill_totals, issued_cycles

ZERO = Decimal(0)


@dataclass(frozen=True)
class Gap:
    kind: GapKind
    seats: int
    action: str
    amount: Decimal | None = None  # at the customer's unit price, for one billing period

    @property
    def label(self) -> str:
        return str(GapKind(self.kind).label)


def reconciliation_gaps(
    *,
    invoiced: int | None,
    quantity: int | None,
    assigned: int | None,
    billed: int,
    customer_known: bool = True,
    unit_price: Decimal | None = None,
) -> list[Gap]:
    """Classify what does not match. `invoiced` is None when the marketplace's invoice was not
    fetched (only the tenant leg can be checked then); `quantity` / `assigned` None when unknown.

    - unbilled: the marketplace charges seats and the customer is billed none;
    - under-billed: the marketplace charges more seats than the customer is billed;
    - over-billed: the customer is billed more seats than the marketplace charges;
    - unassigned seats: the subscription holds more seats than the tenant has assigned.
    """
    gaps: list[Gap] = []

    def money(seats: int) -> Decimal | None:
        return None if unit_price is None else unit_price * seats

    if invoiced is not None:
        if invoiced > 0 and billed <= 0:
            if customer_known:
                action = ngettext(
                    "Bill the customer for %(seats)s seat.", "Bill the customer for %(seats)s seats.", invoiced
                ) % {"seats": invoiced}
            else:
                action = _("Connect this marketplace customer to a customer tenant, then bill the customer.")
            gaps.append(Gap(GapKind.UNBILLED, invoiced, action, money(invoiced)))
        elif invoiced > billed:
            seats = invoiced - billed
            action = ngettext(
                "Bill the customer for %(seats)s more seat (supplementary invoice).",
                "Bill the customer for %(seats)s more seats (supplementary invoice).",
                seats,
            ) % {"seats": seats}
            gaps.append(Gap(GapKind.UNDER_BILLED, seats, action, money(seats)))
        elif billed > invoiced:
            seats = billed - invoiced
            action = ngettext(
                "Issue a credit note for %(seats)s seat, or check the subscription at the marketplace.",
                "Issue a credit note for %(seats)s seats, or check the subscription at the marketplace.",
                seats,
            ) % {"seats": seats}
            gaps.append(Gap(GapKind.OVER_BILLED, seats, action, money(seats)))
    if quantity is not None and assigned is not None and quantity > assigned:
        seats = quantity - assigned
        action = ngettext(
            "Assign %(seats)s seat in the tenant, or decrease by %(seats)s at the next cancellation window.",
            "Assign %(seats)s seats in the tenant, or decrease by %(seats)s at the next cancellation window.",
            seats,
        ) % {"seats": seats}
        gaps.append(Gap(GapKind.UNASSIGNED_SEATS, seats, action, money(seats)))
    return gaps


@dataclass
class ReconciliationRow:
    """One customer × offer at one marketplace account in one cycle."""

    customer_pk: int | None
    customer_name: str
    account_pk: int
    account_name: str
    offer_external_id: str
    name: str
    currency: str = ""
    invoice_fetched: bool = False
    invoiced: int = 0
    invoiced_amount: Decimal = ZERO
    quantity: int | None = None
    assigned: int | None = None
    billed: int = 0
    billed_amount: Decimal = ZERO
    unit_price: Decimal | None = None
    subscriptions: int = 0
    gaps: list[Gap] = field(default_factory=list)

    @property
    def gap_kinds(self) -> set[str]:
        return {str(gap.kind) for gap in self.gaps}

    @property
    def margin(self) -> Decimal | None:
        if not self.invoice_fetched:
            return None
        return self.billed_amount - self.invoiced_amount


@dataclass
class Reconciliation:
    cycle: BillingCycle
    rows: list[ReconciliationRow]
    imports: list[InvoiceImport]
    accounts_missing: list[MarketplaceAccount]

    def counts(self) -> dict[str, int]:
        counts = {kind: 0 for kind in GapKind.values}
        for row in self.rows:
            for kind in row.gap_kinds:
                counts[kind] += 1
        return counts


def invoice_imports_for(*, cycle: BillingCycle, accounts: Iterable[MarketplaceAccount]) -> dict[int, InvoiceImport]:
    return {
        invoice_import.account_id: invoice_import
        for invoice_import in InvoiceImport.objects.select_related("account").filter(
            period_start=cycle.start, period_end=cycle.end, account__in=list(accounts), preview=False
        )
    }


def reconciliation_rows(
    *, user, cycle: BillingCycle, customer_id: int | None = None, account_id: int | None = None, gap: str = ""
) -> Reconciliation:
    accounts = list(MarketplaceAccount.objects.order_by("display_name", "pk"))
    if account_id:
        accounts = [account for account in accounts if account.pk == account_id]
    account_names = {account.pk: account.display_name for account in accounts}
    imports = invoice_imports_for(cycle=cycle, accounts=accounts)
    fetched = {pk for pk, item in imports.items() if item.status == InvoiceImportStatus.SUCCEEDED}
    rows: dict[tuple, ReconciliationRow] = {}

    def row_for(customer_pk, customer_name, account_pk, offer_external_id, name) -> ReconciliationRow:
        key = (customer_pk, account_pk, offer_external_id)
        row = rows.get(key)
        if row is None:
            row = rows[key] = ReconciliationRow(
                customer_pk=customer_pk,
                customer_name=customer_name,
                account_pk=account_pk,
                account_name=account_names.get(account_pk, ""),
                offer_external_id=offer_external_id,
                name=name,
                invoice_fetched=account_pk in fetched,
            )
        return row

    # Our side: what the customer is billed for the cycle (the billing report's lines).
    # An issued cycle is summed from its statements in the database (one query, whatever the number of
    # customers); an open one is computed bill by bill.
    tracked_offer: dict[int, tuple] = {}
    billed: Iterable[IssuedBillTotal]
    if issued_cycles([cycle]):
        billed = issued_bill_totals(user=user, cycle=cycle, customer_id=customer_id, account_id=account_id)
    else:
        billed = (
            IssuedBillTotal(
                tracked_pk=bill.tracked_pk,
                customer_pk=bill.customer_pk,
                customer_name=bill.customer_name,
                account_pk=bill.account_pk,
                offer_external_id=bill.offer_external_id,
                name=bill.name,
                currency=bill.currency,
                billed_quantity=bill.billed_quantity,
                total=bill.total,
                unit_price=bill.price.amount if bill.price is not None else None,
            )
            for bill in billing_bills(
                user=user, cycles=[cycle], customer_id=customer_id, account_id=account_id, include_empty=True
            )
        )
    for bill in billed:
        if bill.account_pk not in account_names:
            continue
        row = row_for(bill.customer_pk, bill.customer_name, bill.account_pk, bill.offer_external_id, bill.name)
        row.subscriptions += 1
        row.billed += bill.billed_quantity
        row.billed_amount += bill.total
        row.currency = row.currency or bill.currency
        if bill.unit_price is not None:
            row.unit_price = bill.unit_price
        tracked_offer[bill.tracked_pk] = (bill.customer_pk, bill.account_pk, bill.offer_external_id)

    # The tenant leg: quantity and assigned seats on the cycle's last day.
    day = snapshot_day_for(cycle.end)
    if day is not None and tracked_offer:
        snapshots = UsageSnapshot.objects.filter(day=day, subscription__in=tracked_subscriptions_visible_to(user=user))
        if account_id:
            snapshots = snapshots.filter(subscription__account_id=account_id)
        for tracked_pk, quantity, assigned in snapshots.values_list("subscription_id", "quantity", "assigned"):
            key = tracked_offer.get(tracked_pk)
            if key is None or key not in rows:
                continue
            row = rows[key]
            row.quantity = (row.quantity or 0) + quantity
            if assigned is not None:
                row.assigned = (row.assigned or 0) + assigned

    # The marketplace leg: invoice lines charged inside the cycle, mapped to customers through the
    # tenant connections (a line of an unconnected marketplace customer has no customer).
    if fetched:
        customers_by_external = {
            (account_pk, external_id): (customer_pk, customer_name)
            for account_pk, external_id, customer_pk, customer_name in TenantConnection.objects.filter(
                account_id__in=fetched
            ).values_list(
                "account_id",
                "external_customer_id",
                "customer_tenant__customer_id",
                "customer_tenant__customer__name",
            )
        }
        visible = set(customers_visible_to(user=user).values_list("pk", flat=True))
        sees_all = user_sees_all_customers(user)
        lines = (
            InvoiceLine.objects.filter(invoice_import__in=[imports[pk] for pk in fetched])
            .values(
                "invoice_import__account_id",
                "customer_external_id",
                "customer_name",
                "offer_external_id",
                "name",
                "currency",
            )
            .annotate(quantity=Sum("quantity"), amount=Sum("amount"))
            .order_by()
        )
        for line in lines:
            account_pk = line["invoice_import__account_id"]
            customer_pk, customer_name = customers_by_external.get(
                (account_pk, line["customer_external_id"]),
                (None, line["customer_name"] or line["customer_external_id"]),
            )
            if customer_pk is None and not sees_all:
                continue
            if customer_pk is not None and customer_pk not in visible:
                continue
            if customer_id and customer_pk != customer_id:
                continue
            row = row_for(customer_pk, customer_name, account_pk, line["offer_external_id"], line["name"])
            row.invoiced += line["quantity"] or 0
            row.invoiced_amount += line["amount"] or ZERO
            row.currency = row.currency or line["currency"]

    result = []
    for row in rows.values():
        row.gaps = reconciliation_gaps(
            invoiced=row.invoiced if row.invoice_fetched else None,
            quantity=row.quantity,
            assigned=row.assigned,
            billed=row.billed,
            customer_known=row.customer_pk is not None,
            unit_price=row.unit_price,
        )
        if gap == "any" and not row.gaps:
            continue
        if gap and gap != "any" and gap not in row.gap_kinds:
            continue
        result.append(row)
    result.sort(key=lambda row: (row.customer_name.lower(), row.account_name.lower(), row.name.lower()))
    missing = [account for account in accounts if account.pk not in imports]
    return Reconciliation(
        cycle=cycle,
        rows=result,
        imports=[imports[account.pk] for account in accounts if account.pk in imports],
        accounts_missing=missing,
    )


def reconciliation_screen(
    *, user, cycle: BillingCycle, per_page: int, customer_id: int | None = None, account_id: int | None = None, gap=""
) -> tuple[Reconciliation, dict[str, int]]:
    """The reconciliation screen's rows and gap counts. An issued cycle's rows are computed once and
    kept in the cache page by page (`reports.report_cache`): its billed leg never changes, and the key
    carries the invoice imports' state, the user's customers, the filters and the language. The
    rows come back as a list a paginator reads one page of. An open cycle is computed each time."""
    from reports.report_cache import ISSUED_CYCLE_CACHE_SECONDS, cache_key, cached_pages, scope_signature

    issued = issued_cycles([cycle])
    if not issued:
        result = reconciliation_rows(user=user, cycle=cycle, customer_id=customer_id, account_id=account_id, gap=gap)
        return result, result.counts()
    accounts = list(MarketplaceAccount.objects.order_by("display_name", "pk"))
    if account_id:
        accounts = [account for account in accounts if account.pk == account_id]
    imports = invoice_imports_for(cycle=cycle, accounts=accounts)
    key = cache_key(
        "reconciliation",
        cycle.start,
        cycle.end,
        [(close.pk, close.issued_at) for close in issued.values()],
        customer_id,
        account_id,
        gap,
        per_page,
        [account.pk for account in accounts],
        sorted((item.pk, item.status, item.fetched_at, item.line_count) for item in imports.values()),
        scope_signature(user),
    )

    def compute() -> tuple[list[ReconciliationRow], dict[str, int]]:
        result = reconciliation_rows(user=user, cycle=cycle, customer_id=customer_id, account_id=account_id, gap=gap)
        return result.rows, result.counts()

    rows, counts = cached_pages(key=key, per_page=per_page, compute=compute, timeout=ISSUED_CYCLE_CACHE_SECONDS)
    screen = Reconciliation(
        cycle=cycle,
        rows=rows,  # type: ignore[arg-type]  # a sequence that loads one page
        imports=[imports[account.pk] for account in accounts if account.pk in imports],
        accounts_missing=[account for account in accounts if account.pk not in imports],
    )
    return screen, counts
