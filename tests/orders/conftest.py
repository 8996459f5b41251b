"""Order tests: the ALSO and Partner Center simulators in-process, partner alpha's schema."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from marketplace.connections import override_provider_transport, provider_for_account
from marketplace.providers.registry import create_provider
from simulators import partner_center as partner_center_simulator
from simulators.also import DEMO_PASSWORD, DEMO_USERNAME, AlsoSimulator
from tests.factories.accounts import user_with
from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import account_create, connect
from tests.orders.order_support import World, offers_sync
from tests.support import PASSWORD


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def also(sleeps) -> Iterator[AlsoSimulator]:
    simulator = AlsoSimulator()
    with override_provider_transport("also", httpx.WSGITransport(app=simulator), sleep=sleeps.append):
        yield simulator


@pytest.fixture
def also_world(in_alpha, also) -> World:
    """ALSO: the demo reseller's account with its offers; a tenant connected to Alpine Ski House, a
    company without subscriptions."""
    account = account_create(marketplace="also", username=DEMO_USERNAME, secret=DEMO_PASSWORD, region="de", name="ALSO")
    provider = provider_for_account(account)
    offers_sync(account, provider)
    company = next(company for company in also.companies.values() if company.name.startswith("Alpine"))
    tenant = CustomerTenantFactory(primary_domain="alpineskihouse.onmicrosoft.com", customer__name="Alpine Ski House")
    connect(account, tenant, str(company.account_id))
    return World(simulator=also, account=account, tenant=tenant, customer_external_id=str(company.account_id))


@pytest.fixture
def partner_center(sleeps, monkeypatch):
    """A Partner Center simulator serving every provider built for a `partner_center` account (marketplace
    accounts cannot store Partner Center's App+User options yet, so the demo connection is used)."""
    simulator = partner_center_simulator.create_simulator()
    transport = httpx.WSGITransport(app=simulator)

    def provider_for(account):
        if account.marketplace != "partner_center":
            return provider_for_account(account)
        return create_provider(
            slug="partner_center",
            connection=partner_center_simulator.DEMO_CONNECTION,
            transport=transport,
            sleep=sleeps.append,
        )

    monkeypatch.setattr("orders.placement.provider_for_account", provider_for)
    simulator.provider_for = provider_for
    return simulator


@pytest.fixture
def partner_center_world(in_alpha, partner_center) -> World:
    """Partner Center: an account with the simulator's offers; a tenant connected to Contoso."""
    account = account_create(
        marketplace="partner_center", username="app", secret="secret", region="de", name="Partner Center"
    )
    provider = partner_center.provider_for(account)
    offers_sync(account, provider)
    tenant = CustomerTenantFactory(primary_domain="contosopc.onmicrosoft.com", customer__name="Contoso PC")
    customer_id = partner_center_simulator.CONTOSO_ID
    connect(account, tenant, customer_id)
    return World(simulator=partner_center, account=account, tenant=tenant, customer_external_id=customer_id)


@pytest.fixture
def buyer(in_alpha):
    from tests.orders.order_support import ORDER_MANAGE

    return user_with("buyer", ORDER_MANAGE)


@pytest.fixture
def eager_retries():
    """Let eager tasks retry as a worker would (Celery re-raises `Retry` when eager tasks propagate errors)."""
    from portal.celery import app

    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = previous


@pytest.fixture
def password() -> str:
    return PASSWORD
