"""Auto-renew, which only Partner Center switches on its own (`set_auto_renew`), through the order machinery."""

import httpx
import pytest
from django.utils import timezone

from marketplace.providers.registry import create_provider
from orders.choices import OrderStatus
from orders.placement import subscription_upsert
from simulators import partner_center as partner_center_simulator
from subscriptions.services_lifecycle import action_availability, subscription_action
from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import account_create, connect


@pytest.fixture
def partner_center(in_alpha, sleeps, monkeypatch):
    """Marketplace accounts cannot store Partner Center's App+User options yet: the demo connection serves
    the account's calls (as in tests/orders)."""
    simulator = partner_center_simulator.create_simulator()
    transport = httpx.WSGITransport(app=simulator)

    def provider_for(account):
        return create_provider(
            slug="partner_center",
            connection=partner_center_simulator.DEMO_CONNECTION,
            transport=transport,
            sleep=sleeps.append,
        )

    monkeypatch.setattr("orders.placement.provider_for_account", provider_for)
    account = account_create(marketplace="partner_center", username="app", secret="s", region="de", name="PC")
    tenant = CustomerTenantFactory(primary_domain="contosopc.onmicrosoft.com")
    connect(account, tenant, partner_center_simulator.CONTOSO_ID, connected_at=timezone.now())
    provider = provider_for(account)
    for record in provider.list_subscriptions(customer_external_id=partner_center_simulator.CONTOSO_ID):
        subscription_upsert(account=account, customer_tenant_id=tenant.pk, record=record)
    return tenant


def test_switch_auto_renew_off_and_on(partner_center, manager, django_capture_on_commit_callbacks):
    subscription = partner_center.subscriptions.filter(status="active", auto_renew=True, trial=False).first()
    assert action_availability(subscription=subscription, key="auto_renew").available

    with django_capture_on_commit_callbacks(execute=True):
        order = subscription_action(
            actor=manager, subscription=subscription, key="auto_renew", version=None, enabled=False
        )

    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED, [line.error_message for line in order.lines.all()]
    subscription.refresh_from_db()
    assert subscription.auto_renew is False

    with django_capture_on_commit_callbacks(execute=True):
        subscription_action(actor=manager, subscription=subscription, key="auto_renew", version=None, enabled=True)
    subscription.refresh_from_db()
    assert subscription.auto_renew is True
