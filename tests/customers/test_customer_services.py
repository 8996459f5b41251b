"""Rules of the customers services that the screens cannot reach yet, and the demo seeder."""

from types import SimpleNamespace

import pytest

from customers import services
from customers.choices import ConsentState
from customers.models import Customer, CustomerGroup, CustomerTenant
from customers.services import CustomerActionRefused, customer_delete, customer_tenant_remove
from demo import customers as customers_demo
from portal.audit.models import AuditEvent
from tests.factories.customers import CustomerFactory, CustomerTenantFactory


class FakeSubscriptions:
    """Stands in for subscriptions.Subscription (a later issue) and records what the rule asked for."""

    def __init__(self, active: int) -> None:
        self.active = active
        self.lookups: list[dict] = []
        self.objects = self

    def filter(self, **lookups):
        self.lookups.append(lookups)
        return self

    def count(self) -> int:
        return self.active


@pytest.fixture
def subscriptions(monkeypatch):
    def install(active: int) -> FakeSubscriptions:
        fake = FakeSubscriptions(active)

        def get_model(app_label, model_name):
            assert (app_label, model_name) == ("subscriptions", "Subscription")
            return fake

        monkeypatch.setattr(services, "apps", SimpleNamespace(get_model=get_model))
        return fake

    return install


def test_without_a_subscription_model_no_customer_has_subscriptions(in_alpha):
    customer = CustomerFactory()

    assert services.customer_active_subscription_count(customer=customer) == 0


def test_a_customer_with_active_subscriptions_cannot_be_deleted(in_alpha, subscriptions):
    customer = CustomerFactory(name="Busy Ltd")
    fake = subscriptions(active=2)

    with pytest.raises(CustomerActionRefused, match="has 2 active subscription"):
        customer_delete(actor="test", customer=customer)

    assert Customer.objects.filter(pk=customer.pk).exists()
    assert {"status": "active"} in fake.lookups
    assert {"customer_tenant__customer": customer} in fake.lookups
    assert not AuditEvent.objects.filter(action="customer.delete").exists()


def test_the_delete_page_says_why_it_is_blocked(alpha_admin_client, in_alpha, subscriptions):
    customer = CustomerFactory(name="Busy Ltd")
    subscriptions(active=1)

    page = alpha_admin_client.get(f"/customers/{customer.pk}/delete/").content.decode()
    posted = alpha_admin_client.post(f"/customers/{customer.pk}/delete/", {"confirmation": "Busy Ltd"})

    assert "has 1 active subscription" in page
    assert "has 1 active subscription" in posted.content.decode()
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_a_tenant_with_active_subscriptions_cannot_be_removed(in_alpha, subscriptions):
    tenant = CustomerTenantFactory()
    fake = subscriptions(active=1)

    with pytest.raises(CustomerActionRefused, match="cannot be removed"):
        customer_tenant_remove(actor="test", customer_tenant=tenant)

    assert CustomerTenant.objects.filter(pk=tenant.pk).exists()
    assert {"customer_tenant": tenant} in fake.lookups


def test_the_demo_seeder_runs_twice_without_duplicates(in_alpha):
    first = customers_demo.seed(in_alpha)
    counts = (Customer.objects.count(), CustomerTenant.objects.count(), CustomerGroup.objects.count())
    events = AuditEvent.objects.count()

    second = customers_demo.seed(in_alpha)

    assert counts == (12, 9, 3)
    assert (Customer.objects.count(), CustomerTenant.objects.count(), CustomerGroup.objects.count()) == counts
    assert AuditEvent.objects.count() == events
    assert "12 new" in first[0] and "0 new" in second[0]
    contoso = CustomerTenant.objects.get(primary_domain="contoso.onmicrosoft.com")
    assert contoso.consent_state == ConsentState.CONSENTED
    assert str(contoso.tenant_id) == "67a08685-ba70-4922-ae8b-802ff5c44282"
    assert Customer.objects.filter(is_academic=True).count() == 2
    assert Customer.objects.values("country").distinct().count() >= 6
