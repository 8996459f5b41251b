"""GDAP per customer tenant: read from Microsoft Graph through the Partner Center account, history kept
after Microsoft deletes a relationship, warnings 30, 7 and 1 days before the end, the screens."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from marketplace.connections import secret_options_encrypt
from marketplace.models import GdapRelationship, MarketplaceAccount
from marketplace.secrets import secret_encrypt
from marketplace.services_gdap import gdap_check, gdap_expiry_warn, gdap_relationships_sync
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.audit.models import Notification
from simulators.partner_center import CONTOSO_ID, DEMO_CONNECTION, FABRIKAM_ID
from tests.factories.accounts import user_with
from tests.factories.customers import CustomerTenantFactory
from tests.support import PASSWORD, signed_in_client


@pytest.fixture
def account(in_alpha, in_process):
    return MarketplaceAccount.objects.create(
        marketplace="partner_center",
        display_name="Microsoft direct",
        region=DEMO_CONNECTION.region,
        username=DEMO_CONNECTION.username,
        secret_ciphertext=secret_encrypt(DEMO_CONNECTION.secret),
        options={"tenant": DEMO_CONNECTION.options["tenant"]},
        secret_options_ciphertext=secret_options_encrypt({"refresh_token": DEMO_CONNECTION.options["refresh_token"]}),
    )


def test_relationships_are_stored_per_customer_tenant(account):
    contoso = CustomerTenantFactory(tenant_id=CONTOSO_ID)

    outcome = gdap_relationships_sync(account=account)

    assert outcome.created == 5
    row = GdapRelationship.objects.get(microsoft_tenant_id=CONTOSO_ID)
    assert row.customer_tenant == contoso and row.status == "active" and row.includes_global_administrator
    assert not row.auto_extend and row.ends_at > timezone.now()
    assert GdapRelationship.objects.get(microsoft_tenant_id=FABRIKAM_ID).customer_tenant is None  # not a customer here


def test_a_relationship_microsoft_deletes_stays_as_history_for_a_year(account, in_process):
    gdap_relationships_sync(account=account)
    authority = in_process["partner_center"].authority
    adatum = next(r for r in authority._gdap if r["displayName"] == "Adatum (ended)")
    authority._gdap.remove(adatum)

    later = timezone.now() + timedelta(minutes=1)
    assert gdap_relationships_sync(account=account, now=later).removed == 1
    kept = GdapRelationship.objects.get(relationship_id=adatum["id"])
    assert kept.removed_at == later

    a_year_on = kept.ends_at + timedelta(days=366)
    assert gdap_relationships_sync(account=account, now=a_year_on).purged == 1
    assert not GdapRelationship.objects.filter(relationship_id=adatum["id"]).exists()


def test_warnings_go_out_at_30_7_and_1_days_once_each(account, partner_alpha):
    gdap_relationships_sync(account=account)
    contoso = GdapRelationship.objects.get(microsoft_tenant_id=CONTOSO_ID)  # ends in 5 days, Global Administrator
    northwind_end = GdapRelationship.objects.get(display_name="Northwind licences").ends_at  # in 24 days

    assert gdap_expiry_warn() == 2
    contoso.refresh_from_db()
    assert contoso.warned_days == 7
    titles = list(Notification.objects.values_list("title", flat=True))
    assert any("ends in 5 days" in title for title in titles)
    body = Notification.objects.filter(title__contains="ends in 5 days").first().body
    assert "Global Administrator" in body and "will not extend" in body

    assert gdap_expiry_warn() == 0  # nothing new to say
    assert gdap_expiry_warn(now=contoso.ends_at - timedelta(hours=12)) == 1  # the one-day warning
    assert gdap_expiry_warn(now=northwind_end - timedelta(days=6)) == 1  # Northwind: now inside 7 days


def test_the_daily_check_reads_and_warns(account):
    assert gdap_check() == 2
    assert GdapRelationship.objects.count() == 5


def test_the_gdap_screen_shows_the_calendar_live_pending_and_history(account, alpha_admin_client):
    contoso = CustomerTenantFactory(tenant_id=CONTOSO_ID)
    gdap_relationships_sync(account=account)

    page = alpha_admin_client.get("/marketplace/gdap/").content.decode()

    live = page.split('data-testid="gdap-live"', 1)[1].split("</table>", 1)[0]
    assert "Contoso admin" in live and "Fabrikam helpdesk" in live
    assert "Not available (Global Administrator)" in live and "Every 180 days" in live
    assert 'data-days-left="5"' in live
    assert "Tailspin onboarding" in page.split('data-testid="gdap-pending"', 1)[1].split("</table>", 1)[0]
    assert "Adatum (ended)" in page.split('data-testid="gdap-history"', 1)[1].split("</table>", 1)[0]
    calendar = page.split('data-testid="gdap-calendar"', 1)[1].split('data-testid="gdap-live"', 1)[0]
    assert "Contoso admin" in calendar

    tenant_page = alpha_admin_client.get(f"/marketplace/customer-tenants/{contoso.pk}/licences/").content.decode()
    assert "Contoso admin" in tenant_page.split('data-testid="tenant-gdap"', 1)[1]


def test_relationships_of_tenants_out_of_scope_are_not_shown(partner_alpha, in_process, beta_admin_client):
    with schema_context(partner_alpha.schema_name):
        account = MarketplaceAccount.objects.create(
            marketplace="partner_center",
            display_name="Microsoft direct",
            region=DEMO_CONNECTION.region,
            username=DEMO_CONNECTION.username,
            secret_ciphertext=secret_encrypt(DEMO_CONNECTION.secret),
            options={"tenant": DEMO_CONNECTION.options["tenant"]},
            secret_options_ciphertext=secret_options_encrypt(
                {"refresh_token": DEMO_CONNECTION.options["refresh_token"]}
            ),
        )
        contoso = CustomerTenantFactory(tenant_id=CONTOSO_ID)
        gdap_relationships_sync(account=account)
        user_with(
            "narrow",
            {PermissionModule.MARKETPLACE: AccessLevel.VIEW, PermissionModule.CUSTOMERS: AccessLevel.VIEW},
            all_customers=False,
            email="narrow@alpha.example",
        )
    narrow = signed_in_client(partner_alpha, username="narrow", password=PASSWORD)
    page = narrow.get("/marketplace/gdap/").content.decode()
    assert "Contoso admin" not in page and "Northwind licences" in page  # Northwind is no customer here
    assert narrow.get(f"/marketplace/customer-tenants/{contoso.pk}/licences/").status_code == 404
    assert "Contoso admin" not in beta_admin_client.get("/marketplace/gdap/").content.decode()
