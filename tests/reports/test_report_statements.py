"""Issued billing statements: a closed cycle is frozen, read back as issued by the report, its
exports, the PDF and reconciliation; late corrections become adjustment lines of the next cycle;
closing twice changes nothing; beat closes each partner's cycle after its billing day; the current
cycle counts today."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from catalog.models import CustomerPrice
from portal.audit.models import AuditEvent
from reports.billing import (
    BillingCycle,
    QuantityChange,
    billing_cycle_containing,
    billing_lines,
    last_complete_cycle,
    lines_total,
)
from reports.billing_report import billing_summary
from reports.choices import BillingLineKind
from reports.models import BillingCycleClose, BillingDay, BillingStatement, BillingStatementLine, UsageSnapshot
from reports.reconciliation import reconciliation_rows
from reports.statements import billing_cycle_close, billing_cycles_close_due
from reports.tasks import billing_cycles_close_task
from tests.factories.reports import history, scoped_viewer, track
from tests.factories.subscriptions import SubscriptionFactory
from tests.support import PASSWORD, signed_in_client

FEBRUARY = BillingCycle(start=date(2024, 2, 1), end=date(2024, 2, 29))
MARCH = BillingCycle(start=date(2024, 3, 1), end=date(2024, 3, 31))
Q1 = "preset=custom&first_month=2024-01&last_month=2024-03"
D = Decimal


def text(response) -> str:
    return response.content.decode()


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def close(cycle: BillingCycle, **kwargs):
    return billing_cycle_close(actor="test", cycle=cycle, **kwargs)


def test_closing_a_cycle_freezes_each_customers_lines_as_a_statement(billing_world, in_alpha):
    result = close(FEBRUARY)

    assert (result.statements, result.lines, result.adjustments) == (2, 4, 0)
    statements = {statement.customer_name: statement for statement in BillingStatement.objects.all()}
    assert statements["Alpine Bakery"].total == D("57.57")
    assert statements["Zenith Logistics"].total == D("31.50")
    assert statements["Alpine Bakery"].cost_total == D("54.82")  # 50.00 + 10.34 − 5.52 at 10.00 cost
    lines = BillingStatementLine.objects.filter(statement=statements["Alpine Bakery"]).order_by("position")
    assert [(line.kind, line.quantity, line.unit_price, line.amount) for line in lines] == [
        (BillingLineKind.CYCLE_FEE, 5, D("10.5000"), D("52.5000")),
        (BillingLineKind.PRO_RATA, 3, D("10.5000"), D("10.8600")),
        (BillingLineKind.REFUND, 2, D("10.5000"), D("-5.7900")),
    ]
    assert lines[0].subscription_name == billing_world.ours_subscription.name
    assert lines[0].price_steps[-1][1] == "10.50"  # the derivation as issued
    issued = BillingCycleClose.objects.get()
    assert (issued.cycle_start, issued.cycle_end, issued.statement_count) == (FEBRUARY.start, FEBRUARY.end, 2)
    assert AuditEvent.objects.filter(action="reports.billing_cycle.close").count() == 1


def test_closing_the_same_cycle_again_changes_nothing(billing_world, in_alpha):
    close(FEBRUARY)
    before = list(BillingStatementLine.objects.order_by("pk").values_list("pk", "amount"))
    CustomerPrice.objects.create(customer=billing_world.ours, offer=billing_world.ours_subscription.offer, price=D(9))

    again = close(FEBRUARY)

    assert again.already_closed and again.statements == 0
    assert "already issued" in again.summary
    assert list(BillingStatementLine.objects.order_by("pk").values_list("pk", "amount")) == before
    assert BillingCycleClose.objects.count() == 1 and BillingStatement.objects.count() == 2


def test_a_dry_run_counts_and_writes_nothing(billing_world, in_alpha):
    result = close(FEBRUARY, dry_run=True)
    assert (result.statements, result.lines) == (2, 4)
    assert result.totals == {"EUR": D("89.07")}
    assert not BillingCycleClose.objects.exists() and not BillingStatement.objects.exists()


def test_a_price_edited_after_the_close_changes_neither_the_report_nor_its_exports_nor_the_pdf(
    billing_world, alpha_admin_client, partner_alpha
):
    with schema_context(partner_alpha.schema_name):
        close(FEBRUARY)
        CustomerPrice.objects.create(
            customer=billing_world.ours, offer=billing_world.ours_subscription.offer, price=D("9.00")
        )
        billing_world.ours_subscription.name = "Renamed since"
        billing_world.ours_subscription.save(update_fields=["name"])
    page = text(alpha_admin_client.get(f"/reports/billing/?{Q1}&customer={billing_world.ours.pk}"))
    assert "5 × 10.50 = 52.50" in page  # February as issued
    assert "3 × 10.50 × 10/29 = 10.86" in page
    assert "€57.57" in page
    assert "6 × 9.00 = 54.00" in page  # March is still open: computed with today's price
    partner_view = text(alpha_admin_client.get(f"/reports/billing/?{Q1}&cycle=2024-02-01"))
    assert "€89.07" in partner_view  # the issued total, read from the statements

    rows = csv_rows(alpha_admin_client.get(f"/reports/billing/export/?{Q1}&customer={billing_world.ours.pk}"))
    header, rows = rows[0], rows[1:]
    february = [row for row in rows if row[1] == "2024-02-01"]
    assert [row[header.index("Amount")] for row in february] == ["52.5000", "10.8600", "-5.7900"]
    assert {row[header.index("Issued on")] for row in february} == {timezone.localdate().isoformat()}
    march = [row for row in rows if row[1] == "2024-03-01"]
    assert [row[header.index("Amount")] for row in march] == ["54.00"] and march[0][-1] == ""

    with schema_context(partner_alpha.schema_name):
        from django.contrib.auth import get_user_model

        admin = get_user_model().objects.get(username="admin")
        (pdf_summary,) = billing_summary(
            user=admin, cycles=[FEBRUARY], customer_id=billing_world.ours.pk, keep_bills=True
        )
    (bill,) = pdf_summary.bills  # what the PDF prints
    assert [line.formula for line in bill.lines] == [
        "5 × 10.50 = 52.50",
        "3 × 10.50 × 10/29 = 10.86",
        "−2 × 10.50 × 8/29 = -5.79",
    ]
    assert bill.name != "Renamed since" and pdf_summary.issued_at is not None
    response = alpha_admin_client.get(f"/reports/billing/pdf/?{Q1}&customer={billing_world.ours.pk}")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_the_billing_screen_says_when_each_closed_cycle_was_issued(billing_world, alpha_admin_client, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        close(FEBRUARY, now=timezone.make_aware(timezone.datetime(2024, 3, 2, 9, 0)))
    page = text(alpha_admin_client.get(f"/reports/billing/?{Q1}"))
    assert page.count('data-testid="cycle-issued"') == 1
    assert "Issued on 2 Mar 2024" in page
    page = text(alpha_admin_client.get(f"/reports/billing/?{Q1}&customer={billing_world.ours.pk}"))
    assert "Issued on 2 Mar 2024" in page


def test_a_late_correction_becomes_an_adjustment_line_of_the_next_cycle_at_the_issued_price(
    billing_world, alpha_admin_client, partner_alpha
):
    with schema_context(partner_alpha.schema_name):
        close(FEBRUARY)
        # The marketplace corrects February late: 9 seats from the 20th, not 8 (then back to 6 on the 22nd).
        UsageSnapshot.objects.filter(
            subscription=billing_world.ours_tracked, day__in=[date(2024, 2, 20), date(2024, 2, 21)]
        ).update(quantity=9)
        # And the customer's price changed since: the correction is still valued at February's 10.50.
        CustomerPrice.objects.create(
            customer=billing_world.ours, offer=billing_world.ours_subscription.offer, price=D("9.00")
        )
        result = close(MARCH)
        assert result.adjustments == 1
        adjustment = BillingStatementLine.objects.get(kind=BillingLineKind.ADJUSTMENT)
        # February now: 52.50 + 4 × 10.50 × 10/29 (14.48) − 3 × 10.50 × 8/29 (8.69) = 58.29; issued 57.57.
        assert adjustment.amount == D("0.72")
        assert (adjustment.adjusts_cycle_start, adjustment.adjusts_cycle_end) == (FEBRUARY.start, FEBRUARY.end)
        assert adjustment.issued_amount == D("57.57") and adjustment.unit_price == D("10.50")
        march = BillingStatement.objects.get(customer=billing_world.ours, cycle_start=MARCH.start)
        assert march.total == D("54.72")  # 6 × 9.00 + 0.72
        # The issued February statement is untouched.
        assert BillingStatement.objects.get(customer=billing_world.ours, cycle_start=FEBRUARY.start).total == D("57.57")
        # The next close finds nothing new: the adjustment counts as issued for February.
        assert close(BillingCycle(start=date(2024, 4, 1), end=date(2024, 4, 30))).adjustments == 0

    page = text(alpha_admin_client.get(f"/reports/billing/?{Q1}&customer={billing_world.ours.pk}"))
    assert 'data-kind="adjustment"' in page
    assert "Adjustment for 2024-02-01 – 2024-02-29: 6 → 6 seats, €57.57 → €58.29" in page
    assert "€57.57" in page  # February as issued
    rows = csv_rows(alpha_admin_client.get(f"/reports/billing/export/?{Q1}&customer={billing_world.ours.pk}"))
    assert any(row[1] == "2024-03-01" and row[7] == "Adjustment" and row[13] == "0.7200" for row in rows)


def test_reconciliation_of_a_closed_cycle_reads_the_statement(billing_world, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        from django.contrib.auth import get_user_model

        admin = get_user_model().objects.get(username="admin")
        close(FEBRUARY)
        CustomerPrice.objects.create(
            customer=billing_world.ours, offer=billing_world.ours_subscription.offer, price=D("9.00")
        )
        result = reconciliation_rows(user=admin, cycle=FEBRUARY, customer_id=billing_world.ours.pk)
    (row,) = result.rows
    assert row.billed_amount == D("57.57") and row.unit_price == D("10.50")


def test_a_scoped_role_sees_only_its_customers_statements(billing_world, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        close(FEBRUARY)
        scoped_viewer("scoped", [billing_world.ours])
    client = signed_in_client(partner_alpha, "scoped", PASSWORD)
    page = text(client.get(f"/reports/billing/?{Q1}&cycle=2024-02-01"))
    assert f'data-customer="{billing_world.ours.pk}"' in page
    assert "Zenith Logistics" not in page and "89.07" not in page and "€57.57" in page
    rows = csv_rows(client.get(f"/reports/billing/export/?{Q1}"))[1:]
    assert {row[3] for row in rows} == {"Alpine Bakery"}
    assert client.get(f"/reports/billing/pdf/?{Q1}&customer={billing_world.theirs.pk}").status_code == 404


def test_the_current_cycle_includes_a_purchase_and_an_increase_made_today(
    billing_world, alpha_admin_client, partner_alpha
):
    today = timezone.localdate()
    cycle = billing_cycle_containing(today, cycle_end_day=31)
    with schema_context(partner_alpha.schema_name):
        # Bought today, after the day's snapshot (none taken yet): no history at all.
        bought = SubscriptionFactory(
            customer_tenant=billing_world.ours_subscription.customer_tenant,
            offer=billing_world.ours_subscription.offer,
            quantity=4,
            external_id="S-TODAY",
            name="Bought today",
        )
        # Snapshotted daily at 6 seats until yesterday, raised today to 8.
        history(billing_world.ours_tracked, [(cycle.start - timedelta(days=30), 6)], until=today - timedelta(days=1))
        billing_world.ours_subscription.quantity = 8
        billing_world.ours_subscription.save(update_fields=["quantity"])
    page = text(alpha_admin_client.get(f"/reports/billing/?preset=current_cycle&customer={billing_world.ours.pk}"))

    expected_bought = billing_lines(
        cycle=cycle, changes=[QuantityChange(today, 4)], billing_cycle="monthly", unit_price=D("10.50"), currency="EUR"
    )
    expected_raised = billing_lines(
        cycle=cycle,
        changes=[QuantityChange(cycle.start - timedelta(days=30), 6), QuantityChange(today, 8)],
        billing_cycle="monthly",
        unit_price=D("10.50"),
        currency="EUR",
        anchor=date(2023, 6, 1),
    )
    assert "Bought today" in page
    for line in [*expected_bought, *expected_raised]:
        assert line.formula in page
    total = lines_total(expected_bought) + lines_total(expected_raised)
    assert f"€{total:.2f}" in page
    with schema_context(partner_alpha.schema_name):
        assert UsageSnapshot.objects.filter(subscription__subscription=bought, day=today, quantity=4).exists()


def test_beat_closes_each_partners_cycle_after_its_billing_day(billing_world, in_alpha):
    entry = settings.CELERY_BEAT_SCHEDULE["partners-billing-cycles-close"]
    assert entry["task"] == "portal.core.tasks.dispatch_to_partners"
    assert entry["args"] == ("reports.tasks.billing_cycles_close",)
    BillingDay.objects.create(account=None, cycle_end_day=15)

    # On the billing day itself the cycle ending that day is still running: the one before is due.
    billing_cycles_close_due(actor="test", today=date(2024, 3, 15))
    assert list(BillingCycleClose.objects.values_list("cycle_start", "cycle_end")) == [
        (date(2024, 1, 16), date(2024, 2, 15))
    ]
    billing_cycles_close_due(actor="test", today=date(2024, 3, 16))
    assert BillingCycleClose.objects.filter(cycle_start=date(2024, 2, 16), cycle_end=date(2024, 3, 15)).exists()

    written = billing_cycles_close_task.apply().get()  # today: the last cycle that ended on a 15th
    due = last_complete_cycle(timezone.localdate(), cycle_end_day=15)
    assert BillingCycleClose.objects.filter(cycle_start=due.start, cycle_end=due.end).exists()
    assert written == BillingStatement.objects.filter(cycle_start=due.start).count()
    assert billing_cycles_close_task.apply().get() == 0  # the next tick: already issued
    assert BillingCycleClose.objects.count() == 3


def test_the_command_closes_the_due_cycle_of_one_partner_or_only_counts_it(billing_world, partner_alpha):
    out = io.StringIO()
    call_command("close_billing_cycles", "--partner", "alpha", "--dry-run", stdout=out)
    assert "alpha:" in out.getvalue() and "would issue" in out.getvalue()
    with schema_context(partner_alpha.schema_name):
        assert not BillingCycleClose.objects.exists()
    call_command("close_billing_cycles", "--partner", "alpha", stdout=out)
    with schema_context(partner_alpha.schema_name):
        assert BillingCycleClose.objects.count() == 1
    with pytest.raises(CommandError):
        call_command("close_billing_cycles", "--partner", "nobody", stdout=out)


def test_names_are_issued_exactly_as_they_were_quotes_commas_and_all(billing_world, in_alpha):
    odd = 'Business "Standard", Plan\nfor Alpine'
    type(billing_world.ours_tracked).objects.filter(pk=billing_world.ours_tracked.pk).update(name=odd)
    close(FEBRUARY)
    line = BillingStatementLine.objects.filter(tracked=billing_world.ours_tracked).first()
    assert line.subscription_name == odd
    assert line.friendly_name == "" and line.po_number == ""  # blank while subscriptions keep neither
    assert BillingStatementLine.objects.filter(kind="").count() == 0


def test_a_subscription_without_a_price_is_issued_as_such(billing_world, alpha_admin_client, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        type(billing_world.ours_tracked).objects.filter(pk=billing_world.ours_tracked.pk).update(offer=None)
        result = close(FEBRUARY)
        line = BillingStatementLine.objects.get(tracked=billing_world.ours_tracked)
        assert (line.kind, line.amount, line.unit_price) == ("", D(0), None)
        assert BillingStatement.objects.get(customer=billing_world.ours).unpriced_count == 1
        assert result.totals == {"EUR": D("31.50")}
    page = text(alpha_admin_client.get(f"/reports/billing/?{Q1}&customer={billing_world.ours.pk}&cycle=2024-02-01"))
    assert "No price: the offer is no longer in the catalog" in page


def test_a_po_number_and_friendly_name_the_bill_carries_are_issued_and_shown(
    billing_world, alpha_admin_client, partner_alpha
):
    from reports.billing_report import EVERY_CUSTOMER, billing_bills
    from reports.statements import IssuedBill, _Writer

    with schema_context(partner_alpha.schema_name):
        (bill,) = billing_bills(user=EVERY_CUSTOMER, cycles=[FEBRUARY], customer_id=billing_world.ours.pk)
        labelled = IssuedBill(**{**bill.__dict__, "friendly_name": "Bakery office", "po_number": "PO-7"})
        issued = BillingCycleClose.objects.create(
            cycle_start=FEBRUARY.start, cycle_end=FEBRUARY.end, issued_at=timezone.now()
        )
        writer = _Writer(close=issued, cycle=FEBRUARY, issued_at=issued.issued_at)
        writer.add(customer_pk=billing_world.ours.pk, customer_name="Alpine Bakery", bills=[labelled], adjustments=[])
        writer.flush()
        assert set(BillingStatementLine.objects.values_list("friendly_name", "po_number")) == {
            ("Bakery office", "PO-7")
        }
    page = text(alpha_admin_client.get(f"/reports/billing/?{Q1}&customer={billing_world.ours.pk}"))
    assert "Bakery office" in page and "PO PO-7" in page
    rows = csv_rows(alpha_admin_client.get(f"/reports/billing/export/?{Q1}&customer={billing_world.ours.pk}"))
    header = rows[0]
    february = [row for row in rows[1:] if row[1] == "2024-02-01"]
    assert {(row[header.index("Friendly name")], row[header.index("PO number")]) for row in february} == {
        ("Bakery office", "PO-7")
    }


def test_the_database_refuses_a_second_issue_of_a_cycle_or_a_customers_statement(billing_world, in_alpha):
    from django.db import IntegrityError, transaction

    close(FEBRUARY)
    issued = BillingCycleClose.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        BillingCycleClose.objects.create(cycle_start=FEBRUARY.start, cycle_end=FEBRUARY.end, issued_at=timezone.now())
    statement = BillingStatement.objects.get(customer=billing_world.ours)
    with pytest.raises(IntegrityError), transaction.atomic():
        BillingStatement.objects.create(
            close=issued,
            customer=billing_world.ours,
            customer_name="Alpine Bakery",
            cycle_start=FEBRUARY.start,
            cycle_end=FEBRUARY.end,
            currency=statement.currency,
            issued_at=timezone.now(),
            total=D(0),
        )


def test_reconciliation_sums_an_issued_cycle_as_its_statements_lines_add_up(billing_world, in_alpha):
    """The billed leg of an issued cycle is summed in the database; it comes to what the issued bills
    rebuilt line by line come to: two currencies, a price change inside the cycle, an adjustment line."""
    from django.contrib.auth import get_user_model

    from reports.billing_report import billing_bills
    from subscriptions.models import SubscriptionPrice
    from subscriptions.selectors_prices import day_start
    from tests.factories.catalog import OfferFactory

    admin = get_user_model().objects.get(username="admin")
    dollars = OfferFactory(account=billing_world.account, name="Dollar Plan", external_id="DP|Monthly", currency="USD")
    sub = SubscriptionFactory(
        customer_tenant=billing_world.ours_subscription.customer_tenant, offer=dollars, quantity=4, external_id="S-3"
    )
    tracked = track(sub, first_seen=date(2024, 1, 1), started_on=date(2023, 6, 1))
    history(tracked, [(date(2024, 1, 1), 4), (date(2024, 3, 10), 7)], until=date(2024, 3, 31))
    for day, price in ((date(2024, 1, 1), D("20.00")), (date(2024, 3, 15), D("22.40"))):
        SubscriptionPrice.objects.create(
            subscription=sub,
            account=billing_world.account,
            external_id="S-3",
            effective_from=day_start(day),
            unit_price=price,
            cost_price=D("18.00"),
            currency="USD",
            source="manual",
        )
    close(FEBRUARY)
    UsageSnapshot.objects.filter(subscription=billing_world.ours_tracked, day=date(2024, 2, 21)).update(quantity=9)
    UsageSnapshot.objects.filter(subscription=tracked, day=date(2024, 2, 28)).update(quantity=5)
    close(MARCH)  # with adjustments of February, a price change inside March

    for cycle in (FEBRUARY, MARCH):
        expected: dict[tuple, list] = {}
        for bill in billing_bills(user=admin, cycles=[cycle], include_empty=True):
            key = (bill.customer_pk, bill.account_pk, bill.offer_external_id)
            figures = expected.setdefault(key, [0, 0, D(0), None])
            figures[0] += 1
            figures[1] += bill.billed_quantity
            figures[2] += bill.total
            figures[3] = bill.price.amount if bill.price is not None else figures[3]
        rows = reconciliation_rows(user=admin, cycle=cycle).rows
        assert {
            (row.customer_pk, row.account_pk, row.offer_external_id): [
                row.subscriptions,
                row.billed,
                row.billed_amount,
                row.unit_price,
            ]
            for row in rows
        } == expected
        assert len(expected) == 3 and {row.currency for row in rows} == {"EUR", "USD"}
    assert BillingStatementLine.objects.filter(kind=BillingLineKind.ADJUSTMENT).count() == 2
