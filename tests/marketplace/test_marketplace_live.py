"""What the console reads from a marketplace while a screen shows it: the ALSO account's credit limit
(and what remains of it), and a customer tenant's licences at Partner Center (bought against assigned)."""

import pytest
from django.core.cache import cache
from django_tenants.utils import schema_context

from marketplace.connections import secret_options_encrypt
from marketplace.models import MarketplaceAccount
from marketplace.secrets import secret_encrypt
from portal.accounts.choices import AccessLevel, PermissionModule
from simulators.also import DEMO_CREDIT_LIMIT
from simulators.partner_center import CONTOSO_ID, DEMO_CONNECTION, M365_E3
from tests.factories.accounts import user_with
from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import MARKETPLACE_VIEW, AccountFactory, connect
from tests.support import PASSWORD, signed_in_client


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def also_account(in_alpha, simulator):
    return AccountFactory(demo=True, display_name="ALSO Germany")


def credit_url(account) -> str:
    return f"/marketplace/also/accounts/{account.pk}/credit/"


def test_the_also_account_page_loads_the_credit_limit_and_what_remains(also_account, alpha_admin_client, simulator):
    page = alpha_admin_client.get(f"/marketplace/also/accounts/{also_account.pk}/").content.decode()
    assert f'hx-get="{credit_url(also_account)}"' in page

    panel = alpha_admin_client.get(credit_url(also_account)).content.decode()
    assert 'data-testid="credit-limit"' in panel and "250,000.00" in panel
    reseller = next(iter(simulator.resellers))
    expected_remaining = simulator._credit_limit_wire(reseller)["RemainingCreditLimit"]
    assert 0 < expected_remaining < DEMO_CREDIT_LIMIT
    remaining = panel.split('data-testid="credit-remaining"', 1)[1].split("</dd>", 1)[0]
    assert f"{expected_remaining:,.2f}" in remaining
    assert simulator.call_counts["GetCreditLimit"] == 1
    alpha_admin_client.get(credit_url(also_account))
    assert simulator.call_counts["GetCreditLimit"] == 1  # a second look within minutes is answered from the cache


def test_a_marketplace_that_does_not_answer_is_said_so(also_account, alpha_admin_client, simulator):
    simulator.inject(kind="fault", operation="GetCreditLimit", message="Credit service is down.", count=9)
    panel = alpha_admin_client.get(credit_url(also_account)).content.decode()
    assert "did not answer" in panel and "Credit service is down." in panel


def test_the_credit_limit_is_for_those_who_see_cost_prices(also_account, partner_alpha, beta_admin_client):
    with schema_context(partner_alpha.schema_name):
        # No catalog access: cost prices are not theirs to see.
        user_with("viewer", MARKETPLACE_VIEW, email="viewer@alpha.example")
    viewer = signed_in_client(partner_alpha, "viewer", PASSWORD)
    page = viewer.get(f"/marketplace/also/accounts/{also_account.pk}/").content.decode()
    assert "/credit/" not in page
    assert viewer.get(credit_url(also_account)).status_code == 404
    assert beta_admin_client.get(credit_url(also_account)).status_code == 404


@pytest.fixture
def partner_center_account(in_alpha, in_process):
    return MarketplaceAccount.objects.create(
        marketplace="partner_center",
        display_name="Microsoft direct",
        region=DEMO_CONNECTION.region,
        username=DEMO_CONNECTION.username,
        secret_ciphertext=secret_encrypt(DEMO_CONNECTION.secret),
        options={"tenant": DEMO_CONNECTION.options["tenant"]},
        secret_options_ciphertext=secret_options_encrypt({"refresh_token": DEMO_CONNECTION.options["refresh_token"]}),
    )


def test_a_tenant_shows_licences_bought_against_assigned(partner_center_account, alpha_admin_client, in_process):
    tenant = CustomerTenantFactory()
    connect(partner_center_account, tenant, CONTOSO_ID, "Contoso")
    in_process["partner_center"].assign_licences(customer_id=CONTOSO_ID, sku_key=M365_E3, assigned=25)

    page = alpha_admin_client.get(f"/marketplace/customer-tenants/{tenant.pk}/licences/").content.decode()

    row = page.split('data-sku="SPE_E3"', 1)[1].split("</tr>", 1)[0]
    assert "Microsoft 365 E3" in row
    assert row.split("data-purchased>", 1)[1].startswith("25") and row.split("data-assigned>", 1)[1].startswith("25")
    assert "All assigned" in row
    basic = page.split('data-sku="O365_BUSINESS_ESSENTIALS"', 1)[1].split("</tr>", 1)[0]
    assert basic.split("data-unassigned>", 1)[1].startswith("6")  # 10 bought, 4 assigned
    detail = alpha_admin_client.get(f"/customers/{tenant.customer_id}/?tab=tenants").content.decode()
    assert f"/marketplace/customer-tenants/{tenant.pk}/licences/" in detail


def test_licences_of_a_tenant_without_such_a_marketplace_show_the_empty_state(in_alpha, alpha_admin_client):
    tenant = CustomerTenantFactory()
    page = alpha_admin_client.get(f"/marketplace/customer-tenants/{tenant.pk}/licences/").content.decode()
    assert "No marketplace reports licences for this tenant" in page


def test_licences_of_a_tenant_out_of_scope_are_not_found(partner_alpha, beta_admin_client):
    with schema_context(partner_alpha.schema_name):
        tenant = CustomerTenantFactory()
        user_with(
            "narrow", {PermissionModule.CUSTOMERS: AccessLevel.VIEW}, all_customers=False, email="narrow@alpha.example"
        )
    narrow = signed_in_client(partner_alpha, username="narrow", password=PASSWORD)
    assert narrow.get(f"/marketplace/customer-tenants/{tenant.pk}/licences/").status_code == 404
    assert beta_admin_client.get(f"/marketplace/customer-tenants/{tenant.pk}/licences/").status_code == 404
