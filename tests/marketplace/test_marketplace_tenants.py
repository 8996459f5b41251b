"""Tenants in the ALSO module: add (consent required), connect, edit connection, disconnect from
ALSO, disconnect tenant (type Yes); one connection per marketplace; scope and isolation."""

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django_tenants.utils import schema_context

from customers.choices import ConsentState
from marketplace.choices import SyncStatus
from marketplace.models import MarketplaceCustomer, SyncRun, TenantConnection
from marketplace.services import (
    MarketplaceActionRefused,
    tenant_connection_add,
    tenant_connection_connect,
    tenant_connection_disconnect,
    tenant_connection_remove,
)
from marketplace.sync import sync_run_execute
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.audit.models import AuditEvent
from subscriptions.models import Subscription
from tests.factories.accounts import user_with
from tests.factories.customers import CustomerFactory, CustomerTenantFactory
from tests.factories.marketplace import AccountFactory, company_id
from tests.support import PASSWORD, host_of, signed_in_client


def tenant_url(connection, name: str) -> str:
    return reverse(f"marketplace:{name}", kwargs={"marketplace": "also", "connection_pk": connection.pk})


@pytest.fixture
def synced_account(in_alpha, simulator):
    """An ALSO account whose first sync finished: its customers are known."""
    account = AccountFactory(demo=True, display_name="ALSO Germany")
    run = SyncRun.objects.create(account=account, trigger="manual")
    assert sync_run_execute(run_id=run.pk).status == SyncStatus.SUCCEEDED
    return account


def marketplace_customer(account, name: str) -> MarketplaceCustomer:
    return MarketplaceCustomer.objects.get(account=account, name=name)


def test_a_consented_tenant_is_added_to_the_module(in_alpha):
    tenant = CustomerTenantFactory()

    connection = tenant_connection_add(actor=None, marketplace="also", customer_tenant=tenant)

    assert connection.is_connected is False
    assert AuditEvent.objects.get(action="marketplace.tenant.add").customer_id == tenant.customer_id


@pytest.mark.parametrize("state", [ConsentState.NOT_CONSENTED, ConsentState.PENDING, ConsentState.DENIED])
def test_a_tenant_without_consent_is_refused(in_alpha, state):
    tenant = CustomerTenantFactory(consent_state=state)

    with pytest.raises(MarketplaceActionRefused, match="consent"):
        tenant_connection_add(actor=None, marketplace="also", customer_tenant=tenant)
    assert not TenantConnection.objects.exists()


def test_a_tenant_is_in_a_marketplaces_module_once(in_alpha):
    tenant = CustomerTenantFactory()
    tenant_connection_add(actor=None, marketplace="also", customer_tenant=tenant)

    with pytest.raises(MarketplaceActionRefused, match="already in the ALSO module"):
        tenant_connection_add(actor=None, marketplace="also", customer_tenant=tenant)
    with pytest.raises(IntegrityError), transaction.atomic():
        TenantConnection.objects.create(marketplace="also", customer_tenant=tenant)


def test_connecting_maps_the_tenant_and_syncs_its_subscriptions(
    synced_account, simulator, django_capture_on_commit_callbacks
):
    connection = tenant_connection_add(actor=None, marketplace="also", customer_tenant=CustomerTenantFactory())
    contoso = marketplace_customer(synced_account, "Contoso GmbH")

    with django_capture_on_commit_callbacks(execute=True):
        tenant_connection_connect(
            actor=None, connection=connection, account=synced_account, marketplace_customer=contoso
        )

    connection.refresh_from_db()
    assert connection.account == synced_account
    assert connection.external_customer_id == contoso.external_id == company_id(simulator, "Contoso GmbH")
    assert Subscription.objects.filter(customer_tenant=connection.customer_tenant).count() == 2
    assert SyncRun.objects.filter(account=synced_account, trigger="connection", status="succeeded").exists()


def test_a_marketplace_customer_maps_to_one_tenant_only(synced_account):
    contoso = marketplace_customer(synced_account, "Contoso GmbH")
    first = tenant_connection_add(actor=None, marketplace="also", customer_tenant=CustomerTenantFactory())
    second = tenant_connection_add(actor=None, marketplace="also", customer_tenant=CustomerTenantFactory())
    tenant_connection_connect(actor=None, connection=first, account=synced_account, marketplace_customer=contoso)

    with pytest.raises(MarketplaceActionRefused, match="already connected"):
        tenant_connection_connect(actor=None, connection=second, account=synced_account, marketplace_customer=contoso)


def test_editing_a_connection_forgets_the_previous_customers_subscriptions(synced_account):
    connection = tenant_connection_add(actor=None, marketplace="also", customer_tenant=CustomerTenantFactory())
    tenant_connection_connect(
        actor=None,
        connection=connection,
        account=synced_account,
        marketplace_customer=marketplace_customer(synced_account, "Contoso GmbH"),
    )
    sync_run_execute(run_id=SyncRun.objects.filter(account=synced_account).latest("created").pk)
    assert Subscription.objects.count() == 2

    tenant_connection_connect(
        actor=None,
        connection=connection,
        account=synced_account,
        marketplace_customer=marketplace_customer(synced_account, "Fabrikam AG"),
    )

    assert Subscription.objects.count() == 0
    assert AuditEvent.objects.filter(action="marketplace.tenant.connection_edit").exists()


def test_disconnecting_from_also_keeps_the_tenant_in_the_module(synced_account):
    connection = tenant_connection_add(actor=None, marketplace="also", customer_tenant=CustomerTenantFactory())
    tenant_connection_connect(
        actor=None,
        connection=connection,
        account=synced_account,
        marketplace_customer=marketplace_customer(synced_account, "Contoso GmbH"),
    )
    sync_run_execute(run_id=SyncRun.objects.filter(account=synced_account).latest("created").pk)

    tenant_connection_disconnect(actor=None, connection=connection)

    connection.refresh_from_db()
    assert connection.is_connected is False and connection.external_customer_id == ""
    assert not Subscription.objects.exists()
    assert AuditEvent.objects.filter(action="marketplace.tenant.disconnect").exists()


def test_disconnecting_a_tenant_needs_the_word_yes(in_alpha):
    connection = tenant_connection_add(actor=None, marketplace="also", customer_tenant=CustomerTenantFactory())

    with pytest.raises(MarketplaceActionRefused, match="Type Yes"):
        tenant_connection_remove(actor=None, connection=connection, confirmation="ok")
    tenant_connection_remove(actor=None, connection=connection, confirmation="Yes")

    assert not TenantConnection.objects.exists()


def test_the_account_cannot_be_deleted_while_the_tenant_is_connected_through_it(synced_account):
    from marketplace.services import marketplace_account_delete

    connection = tenant_connection_add(actor=None, marketplace="also", customer_tenant=CustomerTenantFactory())
    tenant_connection_connect(
        actor=None,
        connection=connection,
        account=synced_account,
        marketplace_customer=marketplace_customer(synced_account, "Contoso GmbH"),
    )

    with pytest.raises(MarketplaceActionRefused, match="Disconnect them"):
        marketplace_account_delete(actor=None, account=synced_account)
    tenant_connection_disconnect(actor=None, connection=connection)
    marketplace_account_delete(actor=None, account=synced_account)


# -- screens ---------------------------------------------------------------------------------------------------------


def test_add_tenant_screen_chooses_a_customer_then_a_consented_tenant(alpha_admin_client, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        customer = CustomerFactory(name="Contoso")
        ready = CustomerTenantFactory(customer=customer, primary_domain="contoso.onmicrosoft.com")
        waiting = CustomerTenantFactory(
            customer=customer, primary_domain="contoso-lab.onmicrosoft.com", consent_state=ConsentState.PENDING
        )

    step = alpha_admin_client.get("/marketplace/also/tenants/add/", {"customer": customer.pk}, HTTP_HX_REQUEST="true")
    page = step.content.decode()
    assert 'id="tenant-choices"' in page and "<html" not in page
    assert f'value="{ready.pk}"' in page
    assert f'id="tenant-{waiting.pk}" value="{waiting.pk}" disabled' in page

    refused = alpha_admin_client.post(
        "/marketplace/also/tenants/add/", {"customer": customer.pk, "customer_tenant": waiting.pk}
    )
    assert "not consented" in refused.content.decode() or "consent" in refused.content.decode()

    saved = alpha_admin_client.post(
        "/marketplace/also/tenants/add/", {"customer": customer.pk, "customer_tenant": ready.pk}
    )
    assert saved.status_code == 302
    listing = alpha_admin_client.get("/marketplace/also/").content.decode()
    assert "contoso.onmicrosoft.com" in listing and "Not connected" in listing and "Connect to ALSO" in listing
    with schema_context(partner_alpha.schema_name):
        assert list(TenantConnection.objects.values_list("customer_tenant_id", flat=True)) == [ready.pk]


def test_connect_screen_lists_the_accounts_customers_and_saves_the_mapping(
    alpha_admin_client, partner_alpha, synced_account, django_capture_on_commit_callbacks
):
    with schema_context(partner_alpha.schema_name):
        connection = tenant_connection_add(actor=None, marketplace="also", customer_tenant=CustomerTenantFactory())
        contoso = marketplace_customer(synced_account, "Contoso GmbH")

    step = alpha_admin_client.get(
        tenant_url(connection, "tenant_connect"), {"account": synced_account.pk}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Contoso GmbH" in step and 'id="customer-choices"' in step

    missing = alpha_admin_client.post(tenant_url(connection, "tenant_connect"), {"account": synced_account.pk})
    assert "Choose the customer" in missing.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        saved = alpha_admin_client.post(
            tenant_url(connection, "tenant_connect"), {"account": synced_account.pk, "customer": contoso.pk}
        )
    assert saved.status_code == 302
    listing = alpha_admin_client.get("/marketplace/also/?state=connected").content.decode()
    assert "Contoso GmbH" in listing and "Edit connection" in listing and "Disconnect from ALSO" in listing

    edit = alpha_admin_client.get(tenant_url(connection, "tenant_connect")).content.decode()
    assert "Edit connection" in edit and f'value="{contoso.pk}" selected' in edit


def test_disconnect_screens_confirm_first(alpha_admin_client, partner_alpha, synced_account):
    with schema_context(partner_alpha.schema_name):
        connection = tenant_connection_add(actor=None, marketplace="also", customer_tenant=CustomerTenantFactory())
        tenant_connection_connect(
            actor=None,
            connection=connection,
            account=synced_account,
            marketplace_customer=marketplace_customer(synced_account, "Contoso GmbH"),
        )

    assert "OK" in alpha_admin_client.get(tenant_url(connection, "tenant_disconnect")).content.decode()
    assert alpha_admin_client.post(tenant_url(connection, "tenant_disconnect")).status_code == 302
    wrong = alpha_admin_client.post(tenant_url(connection, "tenant_remove"), {"confirmation": "no"})
    assert "Type Yes" in wrong.content.decode()
    assert alpha_admin_client.post(tenant_url(connection, "tenant_remove"), {"confirmation": "Yes"}).status_code == 302
    with schema_context(partner_alpha.schema_name):
        assert not TenantConnection.objects.exists()


def test_the_tenant_list_searches_and_filters_in_the_query_string(alpha_admin_client, partner_alpha, synced_account):
    with schema_context(partner_alpha.schema_name):
        for domain in ("alpha-one.onmicrosoft.com", "bravo-two.onmicrosoft.com"):
            tenant_connection_add(
                actor=None, marketplace="also", customer_tenant=CustomerTenantFactory(primary_domain=domain)
            )

    found = alpha_admin_client.get("/marketplace/also/", {"q": "bravo"}, HTTP_HX_REQUEST="true").content.decode()
    assert "bravo-two" in found and "alpha-one" not in found and "<html" not in found
    none = alpha_admin_client.get("/marketplace/also/", {"state": "connected"}).content.decode()
    assert "No tenant matches" in none


def test_a_scoped_user_sees_only_their_customers_tenants_and_others_are_404(partner_alpha, synced_account):
    from customers.models import CustomerGroup

    with schema_context(partner_alpha.schema_name):
        group = CustomerGroup.objects.create(name="North")
        ours = CustomerTenantFactory(primary_domain="ours.onmicrosoft.com", customer__name="Ours")
        ours.customer.groups.add(group)
        theirs = CustomerTenantFactory(primary_domain="theirs.onmicrosoft.com", customer__name="Theirs")
        tenant_connection_add(actor=None, marketplace="also", customer_tenant=ours)
        their_connection = tenant_connection_add(actor=None, marketplace="also", customer_tenant=theirs)
        user = user_with(
            "scoped",
            {PermissionModule.MARKETPLACE: AccessLevel.MANAGE, PermissionModule.CUSTOMERS: AccessLevel.VIEW},
            all_customers=False,
            email="scoped@alpha.example",
        )
        group.roles.add(user.roles.get())
    client = signed_in_client(partner_alpha, username="scoped", password=PASSWORD)

    listing = client.get("/marketplace/also/").content.decode()
    assert "ours.onmicrosoft.com" in listing and "theirs.onmicrosoft.com" not in listing
    for name in ("tenant_connect", "tenant_disconnect", "tenant_remove"):
        assert client.get(tenant_url(their_connection, name)).status_code == 404
        assert client.post(tenant_url(their_connection, name), {"confirmation": "Yes"}).status_code == 404
    add_step = client.get("/marketplace/also/tenants/add/", {"customer": theirs.customer_id}).content.decode()
    assert "theirs.onmicrosoft.com" not in add_step
    with schema_context(partner_alpha.schema_name):
        assert TenantConnection.objects.filter(pk=their_connection.pk).exists()


def test_viewers_cannot_change_tenants(partner_alpha, in_alpha):
    connection = tenant_connection_add(actor=None, marketplace="also", customer_tenant=CustomerTenantFactory())
    user_with("tenantviewer", {PermissionModule.MARKETPLACE: AccessLevel.VIEW}, email="tv@alpha.example")
    client = signed_in_client(partner_alpha, username="tenantviewer", password=PASSWORD)

    assert client.get("/marketplace/also/").status_code == 200
    assert client.get("/marketplace/also/tenants/add/").status_code == 403
    assert client.post(tenant_url(connection, "tenant_remove"), {"confirmation": "Yes"}).status_code == 403
    assert TenantConnection.objects.exists()


def test_another_partners_session_cannot_touch_alphas_tenants(partner_alpha, beta_admin_client):
    with schema_context(partner_alpha.schema_name):
        connection = tenant_connection_add(actor=None, marketplace="also", customer_tenant=CustomerTenantFactory())
    intruder = Client(HTTP_HOST=host_of(partner_alpha))
    intruder.cookies["sessionid"] = beta_admin_client.cookies["sessionid"].value

    response = intruder.post(tenant_url(connection, "tenant_remove"), {"confirmation": "Yes"})

    assert response.status_code == 302 and response["Location"].startswith("/accounts/sign-in/")
    assert beta_admin_client.get(tenant_url(connection, "tenant_connect")).status_code == 404
    with schema_context(partner_alpha.schema_name):
        assert TenantConnection.objects.filter(pk=connection.pk).exists()
