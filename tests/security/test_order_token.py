"""Placing an order needs the form's client token.

The attack: two "Place now" requests sent at the same moment without the form's token each created an
order, because the token that makes a double click place one order was optional. Now a placement
without it is refused with a clear error, and nothing is placed.
"""

import re
import uuid

from django.urls import reverse

from orders.choices import OrderLineKind, OrderStatus
from orders.models import Order
from orders.services import LineSpec, cart_add
from tests.orders import conftest as orders
from tests.orders.test_order_views import BASIC, alpha_schema, buy_url, new_order_form, text

# The order fixtures of tests/orders: partner alpha with the ALSO simulator in-process.
sleeps = orders.sleeps
also = orders.also
also_world = orders.also_world

MISSING = "This order form was sent without its token"


def test_two_place_now_requests_without_the_token_place_nothing_and_say_why(
    also_world, alpha_admin_client, django_capture_on_commit_callbacks
):
    data = new_order_form(also_world, action="place", terms_accepted="on")
    del data["client_token"]

    with django_capture_on_commit_callbacks(execute=True):
        responses = [alpha_admin_client.post(buy_url(also_world), data) for _ in range(2)]

    for response in responses:
        assert response.status_code == 200
        assert MISSING in text(response)
    with alpha_schema():
        assert not Order.objects.exists()


def test_a_malformed_token_is_refused_the_same_way_and_the_page_carries_a_fresh_one(
    also_world, alpha_admin_client, django_capture_on_commit_callbacks
):
    data = new_order_form(also_world, action="place", terms_accepted="on", client_token="not-a-token")

    response = alpha_admin_client.post(buy_url(also_world), data)

    assert MISSING in text(response)
    fresh = re.search(r'name="client_token" value="([0-9a-f-]{36})"', text(response)).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        placed = alpha_admin_client.post(buy_url(also_world), {**data, "client_token": fresh})
    assert placed.status_code == 302
    with alpha_schema():
        assert Order.objects.get().status == OrderStatus.COMPLETED


def test_placing_the_cart_without_the_token_is_refused(also_world, alpha_admin_client, in_alpha):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.get(username="admin")
    spec = LineSpec(kind=OrderLineKind.NEW_SUBSCRIPTION, offer=also_world.offer(external_id=BASIC), quantity=2)
    cart = cart_add(actor=admin, customer_tenant=also_world.tenant, lines=[spec])
    url = reverse("orders:order_submit", kwargs={"order_pk": cart.pk})

    responses = [alpha_admin_client.post(url, {"terms_accepted": "on"}) for _ in range(2)]

    for response in responses:
        assert response.status_code == 200
        assert MISSING in text(response)
    with alpha_schema():
        cart.refresh_from_db()
        assert cart.status == OrderStatus.DRAFT


def test_with_the_token_a_double_click_still_places_one_order(
    also_world, alpha_admin_client, django_capture_on_commit_callbacks
):
    data = new_order_form(also_world, action="place", terms_accepted="on", client_token=str(uuid.uuid4()))

    with django_capture_on_commit_callbacks(execute=True):
        first = alpha_admin_client.post(buy_url(also_world), data)
        second = alpha_admin_client.post(buy_url(also_world), data)

    assert first.status_code == second.status_code == 302
    with alpha_schema():
        order = Order.objects.get()
        assert order.status == OrderStatus.COMPLETED
    assert first["Location"] == second["Location"] == reverse("orders:order_detail", kwargs={"order_pk": order.pk})


def test_adding_to_the_cart_needs_no_token(also_world, alpha_admin_client):
    data = new_order_form(also_world, action="cart")
    del data["client_token"]

    response = alpha_admin_client.post(buy_url(also_world), data)

    assert response.status_code == 302
    with alpha_schema():
        assert Order.objects.get().status == OrderStatus.DRAFT
