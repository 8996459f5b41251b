"""Lifecycle tests: the ALEF simulator in-process (NCE windows, assigned seats, suspend, add-ons, trials),
partner alpha's schema, and the console judging commitment rules on the simulator's clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from django.utils import timezone

from marketplace.connections import override_provider_transport
from simulators.alef import DEMO_PASSWORD, DEMO_RESELLER, DEMO_USERNAME, AlefSimulator
from subscriptions import commitment
from tests.factories.accounts import user_with
from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import account_create, connect
from tests.portal.test_access_matrix import world  # noqa: F401  (the access matrix's objects, for test_lifecycle_access)
from tests.subscriptions.lifecycle_support import SUBSCRIPTIONS_MANAGE, World, run_sync


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def alef(sleeps, monkeypatch) -> Iterator[AlefSimulator]:
    simulator = AlefSimulator()
    monkeypatch.setattr(commitment, "clock", simulator.now)
    with override_provider_transport("alef", httpx.WSGITransport(app=simulator), sleep=sleeps.append):
        yield simulator


def alef_customer_id(domain: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"alef.{domain}"))


@pytest.fixture
def alef_account(in_alpha, alef):
    return account_create(
        marketplace="alef", username=DEMO_USERNAME, secret=DEMO_PASSWORD, region=DEMO_RESELLER, name="ALEF Romania"
    )


def _world(alef, account, domain: str, customer: str) -> World:
    tenant = CustomerTenantFactory(primary_domain=f"{domain.split('.')[0]}.onmicrosoft.com", customer__name=customer)
    external_id = alef_customer_id(domain)
    connect(account, tenant, external_id, connected_at=timezone.now())
    return World(simulator=alef, account=account, tenant=tenant, customer_external_id=external_id)


@pytest.fixture
def contoso(alef, alef_account) -> World:
    """Contoso at ALEF: an annual E3 outside its window with a Teams Phone add-on; a monthly Business Basic
    bought 3 days ago (window open)."""
    found = _world(alef, alef_account, "contoso.example", "Contoso")
    run_sync(alef_account)
    return found


@pytest.fixture
def northwind(alef, alef_account) -> World:
    """Northwind at ALEF: a Business Standard that does not renew and a Business Premium trial."""
    found = _world(alef, alef_account, "northwind.example", "Northwind")
    run_sync(alef_account)
    return found


@pytest.fixture
def woodgrove(alef, alef_account) -> World:
    """Woodgrove at ALEF: an E3 (government) and a suspended Business Basic."""
    found = _world(alef, alef_account, "woodgrove.example", "Woodgrove")
    run_sync(alef_account)
    return found


@pytest.fixture
def manager(in_alpha):
    return user_with("manager", SUBSCRIPTIONS_MANAGE, email="manager@alpha.example")


@pytest.fixture
def second_manager(in_alpha):
    return user_with("manager2", SUBSCRIPTIONS_MANAGE, email="manager2@alpha.example")


@pytest.fixture
def admin_client_alpha(partner_alpha):
    from tests.support import signed_in_client

    return signed_in_client(partner_alpha)
