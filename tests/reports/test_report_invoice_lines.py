"""Marketplace invoices, the leg reconciliation compares with: every provider either serves typed
invoice lines from its simulator's own subscriptions (ALSO, Partner Center, Cloudmore from its
billing report) or refuses cleanly with `Unsupported` (ALEF; the optional capability's contract).
No database."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from marketplace.providers.base import Capability, InvoiceChargeType, InvoiceLineRecord, Unsupported
from marketplace.providers.registry import available_slugs, create_provider
from simulators import simulator_module

SLUGS = available_slugs()


def provider_for(slug: str):
    module = simulator_module(slug)
    return create_provider(
        slug=slug,
        connection=module.DEMO_CONNECTION,
        transport=httpx.WSGITransport(app=module.create_simulator()),
        sleep=lambda seconds: None,
    )


def this_month() -> tuple[date, date]:
    today = date.today()
    return today.replace(day=1), today


def test_also_partner_center_and_cloudmore_serve_invoices():
    for slug in ("also", "partner_center", "cloudmore"):
        provider = provider_for(slug)
        assert provider.supports(Capability.LIST_INVOICE_LINES), slug
        assert provider.rule_for(Capability.LIST_INVOICE_LINES)


@pytest.mark.parametrize("slug", SLUGS)
def test_invoice_lines_are_typed_and_match_the_marketplaces_own_subscriptions(slug):
    provider = provider_for(slug)
    start, end = this_month()
    if not provider.supports(Capability.LIST_INVOICE_LINES):
        with pytest.raises(Unsupported) as refused:
            list(provider.list_invoice_lines(period_start=start, period_end=end))
        assert refused.value.capability == Capability.LIST_INVOICE_LINES
        return
    lines = list(provider.list_invoice_lines(period_start=start, period_end=end))
    assert lines, f"{slug}'s demo data invoices something this month"
    subscriptions = {record.external_id: record for record in provider.list_subscriptions()}
    add_ons = {add_on.external_id: add_on for record in subscriptions.values() for add_on in record.add_ons}
    offers = {offer.offer_id for offer in provider.list_offers()}
    customers = {customer.external_id for customer in provider.list_customers()}
    for line in lines:
        assert isinstance(line, InvoiceLineRecord)
        assert isinstance(line.charge_type, InvoiceChargeType)
        assert isinstance(line.amount, Decimal) and isinstance(line.unit_price, Decimal)
        assert start <= line.charge_start <= end and line.charge_end >= line.charge_start
        assert line.customer_external_id in customers
        assert line.offer_id in offers
        owner = subscriptions.get(line.subscription_external_id) or add_ons.get(line.subscription_external_id)
        assert owner is not None, line
        assert owner.offer_id == line.offer_id
        assert line.quantity == owner.quantity
        # A marketplace may round its unit price after computing the amount: a cent per seat at most.
        full = line.unit_price * line.quantity
        tolerance = Decimal("0.01") * line.quantity
        if line.charge_type == InvoiceChargeType.CYCLE_FEE:
            assert abs(line.amount - full) <= tolerance
        else:
            assert line.charge_type == InvoiceChargeType.PRO_RATA
            assert 0 < line.amount < full + tolerance


@pytest.mark.parametrize("slug", ["also", "partner_center"])
def test_a_period_that_has_not_begun_has_no_invoice_lines(slug):
    start = (date.today().replace(day=1) + timedelta(days=70)).replace(day=1)
    provider = provider_for(slug)
    assert list(provider.list_invoice_lines(period_start=start, period_end=start + timedelta(days=27))) == []


def test_partner_center_invoice_line_items_are_paged_with_a_continuation_token():
    provider = provider_for("partner_center")
    invoices = provider.client.list_invoices()
    assert invoices and all(invoice["id"].startswith("G") for invoice in invoices)
    latest = invoices[0]["id"]
    everything = list(provider.client.iter_invoice_line_items(invoice_id=latest))
    paged = list(provider.client.iter_invoice_line_items(invoice_id=latest, page_size=2))
    assert len(everything) > 2
    assert [line["subscriptionId"] for line in paged] == [line["subscriptionId"] for line in everything]
