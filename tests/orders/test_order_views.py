"""The order screens as users see them: Buy now, cart, orders, order detail, quotes; permissions and scope."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_tenants.utils import schema_context

from customers.models import Customer
from orders.choices import OrderLineKind, OrderLineStatus, OrderStatus, QuoteStatus
from orders.models import Order, OrderLine, Quote
from orders.services import LineSpec, cart_add, order_create, quote_create
from portal.partners.models import Partner
from tests.factories.accounts import user_with
from tests.factories.customers import CustomerTenantFactory
from tests.orders.order_support import ORDER_MANAGE, ORDER_VIEW, customer_admin_for
from tests.support import PASSWORD, host_of, signed_in_client

BASIC = "1429494_NCEMicros365BusinessBasic_12909|Monthly (no commitment) - P1M"
BASIC_ANNUAL = "1429494_NCEMicros365BusinessBasic_12909|Prepaid (with 1-year commitment) - P1Y"
ARCHIVING = "1429601_NCEExchangeOnlineArchiving_13002|Monthly (with 1-year commitment) - P1Y"


def alpha_schema():
    """Back in alpha's schema after requests (each request activates the schema of its host)."""
    return schema_context(Partner.objects.get(slug="alpha").schema_name)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def buy_url(world, offer_id: str = BASIC) -> str:
    offer = world.offer(external_id=offer_id)
    return f"{reverse('orders:order_new')}?tenant={world.tenant.pk}&offer={offer.pk}"


def new_order_form(world, *, action: str, offer_id: str = BASIC, **fields) -> dict:
    data = {
        "tenant": world.tenant.pk,
        "plan": world.offer(external_id=offer_id).pk,
        "quantity": 5,
        "price_mode": "",
        "client_token": str(uuid.uuid4()),
        "action": action,
    }
    data.update(fields)
    return data


def a_cart(world, user, quantity: int = 5) -> Order:
    spec = LineSpec(kind=OrderLineKind.NEW_SUBSCRIPTION, offer=world.offer(external_id=BASIC), quantity=quantity)
    return cart_add(actor=user, customer_tenant=world.tenant, lines=[spec])


@pytest.fixture
def admin(in_alpha):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="admin")


# -- Buy now ---------------------------------------------------------------------------------------------------------


def test_buy_now_shows_the_order_page_with_the_price_summary(also_world, alpha_admin_client):
    response = alpha_admin_client.get(buy_url(also_world))

    assert response.status_code == 200
    page = text(response)
    assert "Microsoft 365 Business Basic (NCE)" in page
    assert 'data-testid="price-options"' in page
    assert 'data-testid="add-ons"' in page  # Exchange Online Archiving can be added to Business Basic
    assert "Exchange Online Archiving (NCE add-on)" in page
    # 1 licence: cost 6.07, default markup 5% -> 6.37, margin 0.30
    assert 'data-testid="partner-price">€6.07<' in page
    assert 'data-testid="customer-price"><span title="Partner price at ALSO (ALSO)' in page
    assert "€6.37" in page
    assert 'data-testid="margin">€0.30<' in page
    assert f'value="{also_world.tenant.pk}" selected' in page


def test_the_summary_follows_the_price_option_and_quantity(also_world, alpha_admin_client):
    offer = also_world.offer(external_id=BASIC)
    query = {
        "offer": offer.pk,
        "tenant": also_world.tenant.pk,
        "plan": offer.pk,
        "quantity": 3,
        "price_mode": "markup",
        "markup_percent": "5",  # on top of the default 5 %: 10 % on the partner price
    }
    response = alpha_admin_client.get(reverse("orders:order_new"), query, HTTP_HX_REQUEST="true")

    page = text(response)
    assert page.lstrip().startswith('<div id="summary"')
    assert "€20.04" in page  # 3 × (6.07 × 1.10 = 6.68)
    assert 'data-testid="partner-price">€18.21<' in page  # 3 × 6.07, the marketplace's price to the partner
    assert 'data-testid="margin">€1.83<' in page
    assert "Markup +5% on the default 5%." in page

    query.update(price_mode="target", markup_percent="", target_price="7.00")
    page = text(alpha_admin_client.get(reverse("orders:order_new"), query, HTTP_HX_REQUEST="true"))
    assert "€21.00" in page
    assert "Markup +10.32% on the default 5%." in page  # 7.00 / 6.07 = +15.32 %


def test_add_to_cart_with_an_add_on_and_the_order_details(also_world, alpha_admin_client):
    archiving = also_world.offer(external_id=ARCHIVING)
    data = new_order_form(
        also_world,
        action="cart",
        friendly_name="Ski school",
        po_number="PO-778",
        price_mode="markup",
        markup_percent="5",
        **{f"add_on_{archiving.pk}": 5},
    )

    response = alpha_admin_client.post(buy_url(also_world), data)

    with alpha_schema():
        order = Order.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("orders:order_cart", kwargs={"order_pk": order.pk})
        assert order.status == OrderStatus.DRAFT
        assert (order.friendly_name, order.po_number) == ("Ski school", "PO-778")
        base, add_on = order.lines.order_by("position")
        assert (base.quantity, base.unit_price, add_on.parent_line_id) == (5, Decimal("6.68"), base.pk)
        assert add_on.kind == OrderLineKind.ADD_ON_ADD
    page = text(alpha_admin_client.get(response["Location"]))
    assert "Microsoft 365 Business Basic (NCE)" in page
    assert "+5 licences" in page
    assert "Exchange Online Archiving" in page
    assert "Save for later" in page and "Save as quote" in page


def test_place_now_needs_the_terms_and_then_places_the_order(
    also_world, alpha_admin_client, django_capture_on_commit_callbacks
):
    response = alpha_admin_client.post(buy_url(also_world), new_order_form(also_world, action="place"))

    assert response.status_code == 200
    assert "Accept the product terms" in text(response)
    with alpha_schema():
        assert not Order.objects.exists()

    data = new_order_form(also_world, action="place", terms_accepted="on")
    with django_capture_on_commit_callbacks(execute=True):
        response = alpha_admin_client.post(buy_url(also_world), data)
        again = alpha_admin_client.post(buy_url(also_world), data)  # a double click

    with alpha_schema():
        order = Order.objects.get()
        assert (
            response["Location"] == again["Location"] == reverse("orders:order_detail", kwargs={"order_pk": order.pk})
        )
        assert order.status == OrderStatus.COMPLETED
    page = text(alpha_admin_client.get(response["Location"]))
    assert 'data-testid="order-status">Completed<' in page
    assert "Applied" in page


def test_the_order_page_without_an_offer_says_where_to_start(alpha_admin_client):
    response = alpha_admin_client.get(reverse("orders:order_new"))

    assert response.status_code == 200
    assert "Choose what to buy first" in text(response)


# -- cart -------------------------------------------------------------------------------------------------------------


def test_placing_the_cart_needs_the_terms(also_world, admin, alpha_admin_client):
    order = a_cart(also_world, admin)

    response = alpha_admin_client.post(
        reverse("orders:order_submit", kwargs={"order_pk": order.pk}), {"client_token": str(uuid.uuid4())}
    )

    assert response.status_code == 200
    assert "Accept the product terms before the order is sent" in text(response)
    with alpha_schema():
        order.refresh_from_db()
        assert order.status == OrderStatus.DRAFT


def test_a_changed_cost_shows_the_new_prices_and_placing_confirms_them(
    also_world, admin, alpha_admin_client, django_capture_on_commit_callbacks
):
    order = a_cart(also_world, admin, quantity=2)
    offer = also_world.offer(external_id=BASIC)
    offer.cost_price = Decimal("8.00")
    offer.save()
    url = reverse("orders:order_submit", kwargs={"order_pk": order.pk})

    response = alpha_admin_client.post(url, {"terms_accepted": "on", "client_token": str(uuid.uuid4())})

    page = text(response)
    assert "Prices changed since this order was built" in page
    assert "cost €6.07 → €8.00" in page
    assert "customer price €6.37 → €8.40" in page
    confirmation = re.search(r'name="price_confirmation" value="([0-9a-f]+)"', page).group(1)
    token = re.search(r'name="client_token" value="([0-9a-f-]+)"', page).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        response = alpha_admin_client.post(
            url, {"terms_accepted": "on", "client_token": token, "price_confirmation": confirmation}
        )

    assert response.status_code == 302
    with alpha_schema():
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED
        assert order.lines.get().unit_price == Decimal("8.40")


def test_removing_the_last_line_discards_the_cart(also_world, admin, alpha_admin_client):
    order = a_cart(also_world, admin)
    line = order.lines.get()

    response = alpha_admin_client.post(
        reverse("orders:order_line_remove", kwargs={"order_pk": order.pk, "line_pk": line.pk})
    )

    assert response.status_code == 302
    with alpha_schema():
        assert not Order.objects.exists()


def test_save_for_later_keeps_the_draft_and_the_list_resumes_it(also_world, admin, alpha_admin_client):
    order = a_cart(also_world, admin)

    response = alpha_admin_client.post(
        reverse("orders:order_details", kwargs={"order_pk": order.pk}),
        {"friendly_name": "Later", "po_number": "", "action": "later"},
    )

    assert response["Location"] == reverse("orders:order_list")
    page = text(alpha_admin_client.get(reverse("orders:order_list"), {"status": "draft"}))
    assert reverse("orders:order_cart", kwargs={"order_pk": order.pk}) in page
    assert f"Order {order.number}" in page
    assert alpha_admin_client.get(reverse("orders:cart"))["Location"] == reverse(
        "orders:order_cart", kwargs={"order_pk": order.pk}
    )


# -- orders -----------------------------------------------------------------------------------------------------------


def test_the_orders_list_shows_id_items_change_creator_date_and_status(
    also_world, buyer, alpha_admin_client, django_capture_on_commit_callbacks
):
    spec = LineSpec(kind=OrderLineKind.NEW_SUBSCRIPTION, offer=also_world.offer(external_id=BASIC), quantity=25)
    with django_capture_on_commit_callbacks(execute=True):
        placed = order_create(
            actor=buyer, customer_tenant=also_world.tenant, lines=[spec], submit=True, terms_accepted=True
        )

    page = text(alpha_admin_client.get(reverse("orders:order_list")))

    assert f"Order {placed.number}" in page
    assert "1 item" in page
    assert (
        'Microsoft 365 Business Basic (NCE) <span class="text-body-secondary text-nowrap">+25 licences</span>' in page
    )
    assert buyer.get_full_name() in page
    assert 'data-status="completed"' in page
    assert "No orders match" in text(alpha_admin_client.get(reverse("orders:order_list"), {"q": "nothing-like-it"}))
    assert f"Order {placed.number}" in text(alpha_admin_client.get(reverse("orders:order_list"), {"q": "alpineski"}))


def test_a_failed_line_shows_the_marketplaces_reason_and_retry_places_it(
    also_world, buyer, alpha_admin_client, django_capture_on_commit_callbacks
):
    also_world.simulator.inject(
        kind="fault", operation="CreateSubscription", code="Sender", message="Tenant is locked."
    )
    spec = LineSpec(kind=OrderLineKind.NEW_SUBSCRIPTION, offer=also_world.offer(external_id=BASIC), quantity=1)
    with django_capture_on_commit_callbacks(execute=True):
        order = order_create(
            actor=buyer, customer_tenant=also_world.tenant, lines=[spec], submit=True, terms_accepted=True
        )
    detail = reverse("orders:order_detail", kwargs={"order_pk": order.pk})

    page = text(alpha_admin_client.get(detail))
    assert "Tenant is locked." in page
    assert 'data-testid="retry"' in page

    line = order.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = alpha_admin_client.post(
            reverse("orders:order_line_retry", kwargs={"order_pk": order.pk, "line_pk": line.pk})
        )

    assert response["Location"] == detail
    with alpha_schema():
        line.refresh_from_db()
        assert line.status == OrderLineStatus.APPLIED
    assert 'data-testid="order-status">Completed<' in text(alpha_admin_client.get(detail))


# -- quotes -----------------------------------------------------------------------------------------------------------


def test_a_cart_saved_as_a_quote_prints_customer_prices_and_accepting_places_it(
    also_world, admin, alpha_admin_client, django_capture_on_commit_callbacks
):
    order = a_cart(also_world, admin, quantity=4)
    until = timezone.localdate() + timedelta(days=14)

    response = alpha_admin_client.post(
        reverse("orders:order_quote_create", kwargs={"order_pk": order.pk}),
        {"valid_until": until.isoformat(), "note": "Thank you for your interest."},
    )

    with alpha_schema():
        quote = Quote.objects.get()
    assert response["Location"] == reverse("orders:quote_detail", kwargs={"quote_pk": quote.pk})
    assert f"Quote {quote.number}" in text(alpha_admin_client.get(reverse("orders:quote_list")))
    # the quote's draft is not a cart any more, and not in the orders list
    assert f"Order {order.number}" not in text(alpha_admin_client.get(reverse("orders:order_list")))
    printed = text(alpha_admin_client.get(reverse("orders:quote_print", kwargs={"quote_pk": quote.pk})))
    assert 'data-testid="quote-total">€25.48<' in printed  # 4 × 6.37
    assert "6.07" not in printed  # never the cost
    assert "Thank you for your interest." in printed

    with django_capture_on_commit_callbacks(execute=True):
        response = alpha_admin_client.post(
            reverse("orders:quote_accept", kwargs={"quote_pk": quote.pk}),
            {"terms_accepted": "on", "client_token": str(uuid.uuid4())},
        )

    assert response["Location"] == reverse("orders:order_detail", kwargs={"order_pk": order.pk})
    with alpha_schema():
        quote.refresh_from_db()
        order.refresh_from_db()
        assert quote.status == QuoteStatus.ACCEPTED
        assert order.status == OrderStatus.COMPLETED


def test_an_expired_quote_cannot_be_accepted(also_world, admin, alpha_admin_client):
    quote = quote_create(actor=admin, order=a_cart(also_world, admin), valid_until=timezone.localdate())
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() - timedelta(days=1))

    response = alpha_admin_client.post(
        reverse("orders:quote_accept", kwargs={"quote_pk": quote.pk}),
        {"terms_accepted": "on", "client_token": str(uuid.uuid4())},
    )

    assert "This quote expired on" in text(response)
    with alpha_schema():
        assert Order.objects.get().status == OrderStatus.DRAFT


# -- permissions and scope -------------------------------------------------------------------------------------------


def test_a_customer_tenant_admin_orders_for_their_tenant_without_seeing_costs(
    also_world, partner_alpha, django_capture_on_commit_callbacks
):
    customer_admin_for(also_world.tenant.customer, "skiadmin")
    client = signed_in_client(partner_alpha, username="skiadmin", password=PASSWORD)

    page = text(client.get(buy_url(also_world)))
    assert "€6.37" in page
    assert 'data-testid="partner-price"' not in page
    assert 'data-testid="margin"' not in page
    assert 'data-testid="price-options"' not in page

    data = new_order_form(also_world, action="place", terms_accepted="on", price_mode="target", target_price="0")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(buy_url(also_world), data)
    assert response.status_code == 302
    with alpha_schema():
        line = OrderLine.objects.get()
        assert line.unit_price == Decimal("6.37")  # a price option from a customer is ignored
    detail = text(client.get(response["Location"]))
    assert 'data-testid="line-cost"' not in detail


def test_orders_of_other_customers_are_404_for_a_customer_tenant_admin(also_world, admin, partner_alpha):
    order = a_cart(also_world, admin)
    quote = quote_create(
        actor=admin, order=a_cart(also_world, user_with("other", ORDER_MANAGE)), valid_until=timezone.localdate()
    )
    elsewhere = CustomerTenantFactory()
    customer_admin_for(elsewhere.customer, "elsewhere")
    client = signed_in_client(partner_alpha, username="elsewhere", password=PASSWORD)
    line = order.lines.get()

    for url in (
        reverse("orders:order_detail", kwargs={"order_pk": order.pk}),
        reverse("orders:order_cart", kwargs={"order_pk": order.pk}),
        reverse("orders:order_submit", kwargs={"order_pk": order.pk}),
        reverse("orders:order_line_remove", kwargs={"order_pk": order.pk, "line_pk": line.pk}),
        reverse("orders:quote_detail", kwargs={"quote_pk": quote.pk}),
        reverse("orders:quote_print", kwargs={"quote_pk": quote.pk}),
        buy_url(also_world),
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"terms_accepted": "on"}).status_code == 404, url
    assert f"Order {order.number}" not in text(client.get(reverse("orders:order_list")))
    with alpha_schema():
        assert Order.objects.get(pk=order.pk).lines.count() == 1


def test_viewers_see_orders_but_cannot_order(also_world, admin, partner_alpha):
    order = a_cart(also_world, admin)
    user_with("viewer", ORDER_VIEW)
    client = signed_in_client(partner_alpha, username="viewer", password=PASSWORD)

    assert client.get(reverse("orders:order_list")).status_code == 200
    page = text(client.get(reverse("orders:order_cart", kwargs={"order_pk": order.pk})))
    assert 'data-testid="place-order"' not in page
    assert (
        client.post(reverse("orders:order_submit", kwargs={"order_pk": order.pk}), {"terms_accepted": "on"}).status_code
        == 403
    )
    assert client.post(buy_url(also_world), new_order_form(also_world, action="cart")).status_code == 403
    with alpha_schema():
        assert Order.objects.get(pk=order.pk).status == OrderStatus.DRAFT


def test_another_partners_session_is_anonymous_on_the_order_screens(
    also_world, admin, partner_alpha, beta_admin_client
):
    with alpha_schema():  # signing in at beta left beta's schema active
        order = a_cart(also_world, admin)
    intruder = Client(HTTP_HOST=host_of(partner_alpha))
    intruder.cookies["sessionid"] = beta_admin_client.cookies["sessionid"].value

    for url in (
        reverse("orders:order_list"),
        reverse("orders:order_cart", kwargs={"order_pk": order.pk}),
        reverse("orders:order_submit", kwargs={"order_pk": order.pk}),
    ):
        response = intruder.post(url, {"terms_accepted": "on"}) if "submit" in url else intruder.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/sign-in/")
    with alpha_schema():
        assert Order.objects.get(pk=order.pk).status == OrderStatus.DRAFT


def test_the_navigation_leads_to_the_orders(alpha_admin_client):
    page = text(alpha_admin_client.get(reverse("orders:order_list")))
    assert f'href="{reverse("orders:order_list")}"' in page
    assert "No orders yet" in page


def test_a_printed_quote_speaks_the_customers_language(also_world, admin, alpha_admin_client):
    """The admin reads English; the quote is the customer's document, in the customer's language."""
    Customer.objects.filter(pk=also_world.tenant.customer_id).update(preferred_language="de")
    quote = quote_create(actor=admin, order=a_cart(also_world, admin, quantity=4), valid_until=timezone.localdate())

    printed = text(alpha_admin_client.get(reverse("orders:quote_print", kwargs={"quote_pk": quote.pk})))

    with translation.override("de"):
        heading = gettext("Total per billing period")
    assert heading != "Total per billing period"
    assert '<html lang="de">' in printed and heading in printed
    assert 'data-testid="quote-total">25,48 €<' in printed  # 4 × 6.37, written the German way
    # the console around it still speaks the admin's language
    assert '<html lang="en">' in text(alpha_admin_client.get(reverse("orders:quote_list")))
