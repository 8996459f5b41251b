"""Guardrails on the order page: a price under the partner price, a price of zero and an unusually large
quantity are placed only with an "I confirm ..." that names the amounts; invalid fields are highlighted."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from catalog.pricing import guardrails_check, guardrails_token
from orders.models import Order
from tests.orders.test_order_views import alpha_schema, buy_url, new_order_form, text

BELOW_COST = "I confirm selling below cost: €5.00 per seat, €1.07 under the partner price"


def test_a_price_under_the_partner_price_needs_a_confirmation_that_names_it(also_world, alpha_admin_client):
    data = new_order_form(also_world, action="cart", price_mode="target", target_price="5.00")

    response = alpha_admin_client.post(buy_url(also_world), data)

    assert response.status_code == 200
    page = text(response)
    assert BELOW_COST in page  # cost 6.07
    assert "Tick the box to confirm these amounts, or change them." in page
    assert 'class="form-check-input is-invalid"' in page
    with alpha_schema():
        assert not Order.objects.exists()

    other = guardrails_token(guardrails_check(currency="EUR", price=Decimal("5.50"), cost=Decimal("6.07")))
    response = alpha_admin_client.post(buy_url(also_world), {**data, "confirm_guardrails": other})
    assert response.status_code == 200  # a confirmation of other amounts does not count

    token = guardrails_token(guardrails_check(currency="EUR", price=Decimal("5.00"), cost=Decimal("6.07")))
    response = alpha_admin_client.post(buy_url(also_world), {**data, "confirm_guardrails": token})
    assert response.status_code == 302
    with alpha_schema():
        assert Order.objects.get().lines.get().unit_price == Decimal("5.00")


def test_a_price_of_zero_needs_a_confirmation(also_world, alpha_admin_client):
    data = new_order_form(also_world, action="cart", price_mode="target", target_price="0")
    page = text(alpha_admin_client.post(buy_url(also_world), data))
    assert "I confirm selling at a price of zero: €0.00 per seat" in page
    with alpha_schema():
        assert not Order.objects.exists()


def test_a_large_quantity_needs_a_confirmation_with_its_total(also_world, alpha_admin_client):
    data = new_order_form(also_world, action="cart", quantity=301)
    page = text(alpha_admin_client.post(buy_url(also_world), data))
    assert "I confirm 301 seats, €1,917.37 per billing period (more than 300)" in page  # 301 × 6.37
    with alpha_schema():
        assert not Order.objects.exists()
    assert alpha_admin_client.post(buy_url(also_world), {**data, "quantity": 300}).status_code == 302


def test_the_preview_shows_what_will_need_confirming(also_world, alpha_admin_client):
    offer = also_world.offer(external_id="1429494_NCEMicros365BusinessBasic_12909|Monthly (no commitment) - P1M")
    query = {"offer": offer.pk, "tenant": also_world.tenant.pk, "plan": offer.pk, "quantity": 1}
    query.update(price_mode="target", target_price="5.00")
    page = text(alpha_admin_client.get(reverse("orders:order_new"), query, HTTP_HX_REQUEST="true"))
    assert 'data-testid="summary-guardrails"' in page and BELOW_COST in page


def test_the_preview_of_an_invalid_field_says_which_and_marks_it(also_world, alpha_admin_client):
    offer = also_world.offer(external_id="1429494_NCEMicros365BusinessBasic_12909|Monthly (no commitment) - P1M")
    query = {"offer": offer.pk, "tenant": also_world.tenant.pk, "plan": offer.pk, "quantity": 0}
    page = text(alpha_admin_client.get(reverse("orders:order_new"), query, HTTP_HX_REQUEST="true"))
    assert "Correct the highlighted fields to see the prices." in page
    assert "<li>Number of licences: Ensure this value is greater than or equal to 1.</li>" in page
    # the error lands next to the field, out of band: the swap of the summary alone would hide it
    assert '<div id="errors-quantity" hx-swap-oob="true"><div class="invalid-feedback d-block">' in page
    full = text(alpha_admin_client.post(buy_url(also_world), new_order_form(also_world, action="cart", quantity=0)))
    assert 'class="form-control is-invalid"' in full
