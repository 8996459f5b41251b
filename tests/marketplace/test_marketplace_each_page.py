"""Every marketplace gets the ALSO module's screens (shared views and templates, by slug): the
index tile, the marketplace page with its tenants, resellers with Basics and Price customization,
adding and connecting a tenant, Sync now."""

import pytest
from django.urls import reverse
from django_tenants.utils import schema_context

from marketplace.models import MarketplaceAccount, MarketplaceCustomer, TenantConnection
from marketplace.services import marketplace_account_create, tenant_connection_add
from tests.factories.customers import CustomerTenantFactory
from tests.marketplace.conftest import OTHER_MARKETPLACES, simulator_module

NAMES = {"also": "ALSO", "partner_center": "Microsoft Partner Center", "cloudmore": "Cloudmore", "alef": "ALEF"}


def synced_account(partner, slug: str, capture) -> MarketplaceAccount:
    demo = simulator_module(slug).DEMO_CONNECTION
    with schema_context(partner.schema_name), capture(execute=True):
        return marketplace_account_create(
            actor=None,
            marketplace=slug,
            display_name=f"{NAMES[slug]} demo",
            region=demo.region,
            username=demo.username,
            secret=demo.secret,
            options=dict(demo.options),
        )


def test_the_index_shows_a_tile_per_marketplace(alpha_admin_client):
    page = alpha_admin_client.get("/marketplace/").content.decode()

    for slug, name in NAMES.items():
        assert f'data-testid="marketplace-tile-{slug}"' in page
        assert f"Open {name}" in page


@pytest.mark.parametrize("slug", OTHER_MARKETPLACES)
def test_each_marketplace_page_opens_for_the_admin(alpha_admin_client, slug):
    page = alpha_admin_client.get(f"/marketplace/{slug}/")
    accounts = alpha_admin_client.get(f"/marketplace/{slug}/accounts/")
    add = alpha_admin_client.get(f"/marketplace/{slug}/accounts/add/")
    tenant_add = alpha_admin_client.get(f"/marketplace/{slug}/tenants/add/")

    assert page.status_code == accounts.status_code == add.status_code == tenant_add.status_code == 200
    assert f"<h1>{NAMES[slug]}</h1>" in page.content.decode()
    assert 'data-testid="resellers-tile"' in page.content.decode()
    assert f"No tenant is in the {NAMES[slug]} module yet" in page.content.decode()


@pytest.mark.parametrize("slug", OTHER_MARKETPLACES)
def test_an_account_of_each_marketplace_shows_basics_prices_and_connects_a_tenant(
    alpha_admin_client, partner_alpha, in_process, slug, django_capture_on_commit_callbacks
):
    account = synced_account(partner_alpha, slug, django_capture_on_commit_callbacks)
    with schema_context(partner_alpha.schema_name):
        customer = MarketplaceCustomer.objects.filter(account=account).order_by("name").first()
        connection = tenant_connection_add(actor=None, marketplace=slug, customer_tenant=CustomerTenantFactory())
    kwargs = {"marketplace": slug, "account_pk": account.pk}

    basics = alpha_admin_client.get(reverse("marketplace:account_detail", kwargs=kwargs))
    prices = alpha_admin_client.get(reverse("marketplace:account_prices", kwargs=kwargs))
    connect_url = reverse("marketplace:tenant_connect", kwargs={"marketplace": slug, "connection_pk": connection.pk})
    connect_page = alpha_admin_client.get(connect_url)
    with django_capture_on_commit_callbacks(execute=True):
        connected = alpha_admin_client.post(connect_url, {"account": account.pk, "customer": customer.pk})
    sync = alpha_admin_client.post(reverse("marketplace:account_sync", kwargs=kwargs))

    assert basics.status_code == 200 and account.display_name in basics.content.decode()
    assert prices.status_code == 200
    assert connect_page.status_code == 200 and account.display_name in connect_page.content.decode()
    assert connected.status_code == 302
    assert sync.status_code in (200, 302)
    with schema_context(partner_alpha.schema_name):
        connection = TenantConnection.objects.get(pk=connection.pk)
        assert connection.account == account and connection.external_customer_id == customer.external_id
    detail = alpha_admin_client.get(f"/marketplace/{slug}/").content.decode()
    assert customer.name in detail


@pytest.mark.parametrize("slug", OTHER_MARKETPLACES)
def test_another_partner_does_not_see_a_marketplace_account(beta_admin_client, partner_alpha, in_process, slug):
    from tests.support import host_of

    account = synced_account(partner_alpha, slug, lambda execute: _null())
    path = reverse("marketplace:account_detail", kwargs={"marketplace": slug, "account_pk": account.pk})
    at_home = beta_admin_client.get(path)
    at_alpha = beta_admin_client.get(path, HTTP_HOST=host_of(partner_alpha))

    # at alpha's host beta's session is anonymous: sign in; at its own host alpha's account does not exist
    assert at_alpha.status_code == 302 and at_alpha["Location"].startswith("/accounts/sign-in/")
    assert at_home.status_code == 404


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_save_on_an_empty_add_tenant_says_what_is_missing(alpha_admin_client):
    page = alpha_admin_client.post("/marketplace/also/tenants/add/", {})

    assert page.status_code == 200
    html = page.content.decode()
    assert "Choose the customer whose tenant to add." in html
    assert 'class="form-select is-invalid"' in html


def test_save_without_a_tenant_says_to_choose_one(alpha_admin_client, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        tenant = CustomerTenantFactory()
    page = alpha_admin_client.post("/marketplace/also/tenants/add/", {"customer": tenant.customer_id})

    assert page.status_code == 200
    assert "Choose one of the customer&#x27;s tenants." in page.content.decode()
