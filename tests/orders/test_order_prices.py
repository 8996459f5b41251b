"""End to end: what the order said is kept, and a price edit never reaches back.

Bought with Price Options, the subscription is billed at the price its order line recorded (whatever the
markup rule that produced it); a customer price edited afterwards and not applied changes nothing; applied
from the next cycle, it changes the next cycle only. The friendly name and PO number typed on the order
reach the subscription list, its detail, the user-assignment dropdown and the billing export.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from catalog.pricing import PriceOption
from catalog.services import customer_price_set
from demo import accounts as accounts_demo
from demo import catalog as catalog_demo
from demo import customers as customers_demo
from demo import marketplace as marketplace_demo
from demo import orders as orders_demo
from orders.choices import OrderLineKind, OrderStatus
from orders.models import Order
from orders.services import LineSpec, order_create
from reports.billing import billing_cycle_containing
from reports.billing_report import billing_bills
from reports.services import usage_snapshots_take
from subscriptions.choices import PriceApplication, PriceSource
from subscriptions.models import LicenseAssignment, Subscription, SubscriptionOptions, SubscriptionPrice, TenantUser
from subscriptions.selectors_prices import subscription_price_at
from subscriptions.services_prices import NOT_APPLIED, PriceApply
from tests.factories.marketplace import account_create, connect

ALSO_BASIC_MONTHLY = "1429494_NCEMicros365BusinessBasic_12909|Monthly (no commitment) - P1M"
MONTH_END = 31  # no billing day set: calendar-month cycles


def _buy_with_price_option(world, buyer, callbacks) -> Order:
    line = LineSpec(
        kind=OrderLineKind.NEW_SUBSCRIPTION,
        offer=world.offer(external_id=ALSO_BASIC_MONTHLY),
        quantity=4,
        price_option=PriceOption(markup_percent=Decimal("10")),
    )
    with callbacks(execute=True):
        order = order_create(
            actor=buyer,
            customer_tenant=world.tenant,
            lines=[line],
            friendly_name="Front desk",
            po_number="PO-4711",
            submit=True,
            terms_accepted=True,
        )
    order.refresh_from_db()
    return order


def _unit_prices(admin, cycle) -> set[Decimal]:
    bills = [bill for bill in billing_bills(user=admin, cycles=[cycle]) if bill.name.startswith("Microsoft 365")]
    assert bills, "the subscription is billed in that cycle"
    return {line.unit_price for bill in bills for line in bill.lines}


def test_the_order_price_is_billed_until_an_edit_is_applied_from_the_next_cycle(
    also_world, buyer, django_capture_on_commit_callbacks
):
    admin = get_user_model().objects.get(username="admin")
    order = _buy_with_price_option(also_world, buyer, django_capture_on_commit_callbacks)
    assert order.status == OrderStatus.COMPLETED
    line = order.lines.get()
    subscription = Subscription.objects.get(pk=line.subscription_id)
    ordered = line.unit_price
    assert line.price_option  # the line recorded the Price Option, and its price
    price = subscription_price_at(subscription=subscription, moment=timezone.now())
    assert (price.unit_price, price.source, price.order_line_id) == (ordered, PriceSource.ORDER, line.pk)
    today = timezone.localdate()
    current = billing_cycle_containing(today, cycle_end_day=MONTH_END)
    following = billing_cycle_containing(current.end + timedelta(days=1), cycle_end_day=MONTH_END)
    usage_snapshots_take(day=today)
    usage_snapshots_take(day=following.start)  # the daily snapshot, once the next cycle has begun
    assert _unit_prices(admin, current) == {ordered}

    # The next day the partner gives this customer another price, without applying it to what was bought.
    new_price = (ordered + Decimal("3.17")).quantize(Decimal("0.01"))
    customer_price_set(
        actor=admin, customer=also_world.tenant.customer, offer=line.offer, price=new_price, apply=NOT_APPLIED
    )
    assert _unit_prices(admin, current) == {ordered}
    assert _unit_prices(admin, following) == {ordered}

    # Applied from the next cycle: that cycle is billed at the new price, the current one is not.
    customer_price_set(
        actor=admin,
        customer=also_world.tenant.customer,
        offer=line.offer,
        price=new_price,
        apply=PriceApply(application=PriceApplication.NEXT_CYCLE),
    )
    assert _unit_prices(admin, current) == {ordered}
    assert _unit_prices(admin, following) == {new_price}
    edit = SubscriptionPrice.objects.get(external_id=subscription.external_id, source=PriceSource.PRICE_EDIT)
    assert timezone.localdate(edit.effective_from) == following.start
    assert edit.actor == admin


def test_the_friendly_name_and_po_number_of_the_order_show_wherever_the_subscription_does(
    also_world, buyer, alpha_admin_client, django_capture_on_commit_callbacks
):
    order = _buy_with_price_option(also_world, buyer, django_capture_on_commit_callbacks)
    subscription = Subscription.objects.get(pk=order.lines.get().subscription_id)
    assert (subscription.options.friendly_name, subscription.options.po_number) == ("Front desk", "PO-4711")

    listing = alpha_admin_client.get(reverse("subscriptions:subscription_list")).content.decode()
    assert "Front desk" in listing and "PO-4711" in listing
    detail = alpha_admin_client.get(
        reverse("subscriptions:subscription_detail", args=[subscription.pk])
    ).content.decode()
    assert "Front desk" in detail and "PO-4711" in detail
    assert "Price history" in detail and "Order" in detail

    usage_snapshots_take(day=timezone.localdate())
    month = timezone.localdate().strftime("%Y-%m")
    response = alpha_admin_client.get(
        f"/reports/billing/export/?preset=custom&first_month={month}&last_month={month}&format=csv"
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header = rows[0]
    ours = [row for row in rows[1:] if row[header.index("PO number")] == "PO-4711"]
    assert ours and all(row[header.index("Friendly name")] == "Front desk" for row in ours)


def test_the_user_assignment_dropdown_shows_the_friendly_name(also_world, alpha_admin_client):
    """The assignment screen lists the subscriptions of a marketplace that manages users (Cloudmore)."""
    account = account_create(marketplace="cloudmore", username="cm", secret="secret", region="de", name="Cloudmore")
    connect(account, also_world.tenant, "cm-customer")
    twin = dict(customer_tenant=also_world.tenant, account=account, offer_external_id="O", product_id="P")
    named = Subscription.objects.create(
        external_id="S1", name="Microsoft 365 Business Basic", quantity=5, status="active", **twin
    )
    Subscription.objects.create(
        external_id="S2", name="Microsoft 365 Business Basic", quantity=3, status="active", **twin
    )
    SubscriptionOptions.objects.create(subscription=named, friendly_name="Sales team", po_number="PO-1")
    user = TenantUser.objects.create(
        customer_tenant=also_world.tenant, account=account, external_id="U1", user_name="a@example.com"
    )
    LicenseAssignment.objects.create(user=user, subscription=named)

    page = alpha_admin_client.get(
        reverse("subscriptions:tenant_user_list", args=[also_world.tenant.pk])
    ).content.decode()
    dropdown = page[page.index('id="bulk-subscription"') : page.index("</select>")]
    assert f'<option value="{named.pk}">Sales team · Microsoft 365 Business Basic' in dropdown
    assert dropdown.count("Microsoft 365 Business Basic") == 2  # the two are told apart by the friendly name


@override_settings(ALSO_SIMULATOR_URL="")
def test_the_demo_has_named_subscriptions_with_po_numbers_and_a_price_history(
    in_alpha, django_capture_on_commit_callbacks
):
    customers_demo.seed(in_alpha)
    accounts_demo.seed(in_alpha)
    marketplace_demo.seed(in_alpha)
    catalog_demo.seed(in_alpha)
    with django_capture_on_commit_callbacks(execute=False):
        orders_demo.seed(in_alpha)

    bought = Order.objects.get(po_number="DEMO-COMPLETED").lines.get(parent_line__isnull=True).subscription
    assert (bought.options.friendly_name, bought.options.po_number) == ("Front office", "DEMO-COMPLETED")
    assert SubscriptionPrice.objects.get(subscription=bought, source=PriceSource.ORDER).unit_price is not None
    named = SubscriptionOptions.objects.get(po_number="PO-2026-0142")
    assert named.friendly_name == "Sales team"
    changes = SubscriptionPrice.objects.filter(subscription=named.subscription, source=PriceSource.PRICE_EDIT)
    assert changes.count() == 3
    assert changes.filter(effective_from__gt=timezone.now()).count() == 1  # one applied from the next cycle

    with django_capture_on_commit_callbacks(execute=False):
        orders_demo.seed(in_alpha)
    assert SubscriptionPrice.objects.filter(source=PriceSource.PRICE_EDIT).count() == 3


def test_the_issued_statement_keeps_the_order_price_and_a_second_close_changes_nothing(
    also_world, buyer, django_capture_on_commit_callbacks
):
    """Buy with Price Options, change the customer's price the next day without applying it, close the
    cycle: the statement bills the order's price. Applied from the next cycle, the new price reaches only
    that cycle, and closing the issued cycle again writes nothing."""
    from reports.models import BillingCycleClose, BillingStatementLine
    from reports.statements import billing_cycle_close

    admin = get_user_model().objects.get(username="admin")
    order = _buy_with_price_option(also_world, buyer, django_capture_on_commit_callbacks)
    line = order.lines.get()
    ordered = line.unit_price
    today = timezone.localdate()
    current = billing_cycle_containing(today, cycle_end_day=MONTH_END)
    following = billing_cycle_containing(current.end + timedelta(days=1), cycle_end_day=MONTH_END)
    usage_snapshots_take(day=today)
    usage_snapshots_take(day=following.start)

    new_price = (ordered + Decimal("3.17")).quantize(Decimal("0.01"))
    customer_price_set(
        actor=admin, customer=also_world.tenant.customer, offer=line.offer, price=new_price, apply=NOT_APPLIED
    )
    billing_cycle_close(actor=admin, cycle=current)
    issued = BillingStatementLine.objects.filter(subscription_name__startswith="Microsoft 365")
    assert issued.exists()
    assert {row.unit_price for row in issued} == {ordered}
    assert {row.po_number for row in issued} == {"PO-4711"}
    assert _unit_prices(admin, current) == {ordered}  # the closed cycle reads its statement
    assert _unit_prices(admin, following) == {ordered}  # not applied: the next cycle keeps the order's price

    customer_price_set(
        actor=admin,
        customer=also_world.tenant.customer,
        offer=line.offer,
        price=new_price,
        apply=PriceApply(application=PriceApplication.NEXT_CYCLE),
    )
    assert _unit_prices(admin, following) == {new_price}
    before = list(BillingStatementLine.objects.order_by("pk").values_list("pk", "unit_price", "amount"))
    again = billing_cycle_close(actor=admin, cycle=current)
    assert again.already_closed
    assert list(BillingStatementLine.objects.order_by("pk").values_list("pk", "unit_price", "amount")) == before
    assert BillingCycleClose.objects.count() == 1
    assert _unit_prices(admin, current) == {ordered}
