"""Credential and consent health: refresh tokens before their 90 days run out, failing sign-ins,
missing or declined admin consent, GDAP ends; the daily check's notifications, the page, the tile."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from customers.choices import ConsentState
from marketplace.choices import AccountStatus
from marketplace.models import MarketplaceAccount
from marketplace.services_health import credential_health, credential_health_check
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.audit.models import Notification
from tests.factories.accounts import user_with
from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import AccountFactory
from tests.support import PASSWORD, signed_in_client


def partner_center_account(days_ago: int, **fields) -> MarketplaceAccount:
    return AccountFactory(
        marketplace="partner_center",
        display_name="Microsoft direct",
        credentials_changed_at=timezone.now() - timedelta(days=days_ago),
        **fields,
    )


@pytest.fixture
def admin(in_alpha):
    from portal.accounts.models import User

    return User.objects.get(username="admin")


def test_a_refresh_token_near_its_90_days_is_reported(in_alpha, admin):
    partner_center_account(85)
    AccountFactory(display_name="ALSO", credentials_changed_at=timezone.now() - timedelta(days=200))  # no token

    [item] = credential_health(user=admin)

    assert (item.kind, item.subject, item.severity) == ("refresh_token", "Microsoft direct", "error")
    assert "expires in 5 days" in item.problem


def test_failing_sign_ins_and_consent_are_reported(in_alpha, admin):
    AccountFactory(display_name="ALSO", status=AccountStatus.FAILING, status_message="Wrong password.")
    CustomerTenantFactory(primary_domain="declined.onmicrosoft.com", consent_state=ConsentState.DENIED)
    CustomerTenantFactory(primary_domain="waiting.onmicrosoft.com", consent_state=ConsentState.PENDING)
    CustomerTenantFactory(primary_domain="fine.onmicrosoft.com", consent_state=ConsentState.CONSENTED)

    items = {(item.kind, item.subject): item for item in credential_health(user=admin)}

    assert items[("account", "ALSO")].problem == "Wrong password." and items[("account", "ALSO")].severity == "error"
    assert items[("consent", "declined.onmicrosoft.com")].severity == "error"
    assert items[("consent", "waiting.onmicrosoft.com")].severity == "warning"
    assert ("consent", "fine.onmicrosoft.com") not in items


def test_the_daily_check_warns_at_30_7_and_1_days_once_each(in_alpha):
    account = partner_center_account(61)  # 29 days left

    assert credential_health_check() == 1
    assert credential_health_check() == 0
    assert Notification.objects.filter(title__contains="expires in 29 days").exists()
    assert credential_health_check(now=timezone.now() + timedelta(days=23)) == 1  # 6 days left
    assert credential_health_check(now=timezone.now() + timedelta(days=29, hours=1)) == 1  # under a day
    account.refresh_from_db()
    assert account.credentials_warned_days == 1


def test_the_daily_check_tells_the_partners_systems_at_the_same_moments(in_alpha, django_capture_on_commit_callbacks):
    from portal.webhooks.models import WebhookDelivery, WebhookEvent
    from portal.webhooks.services import webhook_endpoint_create

    endpoint = webhook_endpoint_create(
        actor=None, url="https://psa.example/hooks", description="PSA", events=["credential.expiring"]
    )
    account = partner_center_account(61)  # 29 days left

    with django_capture_on_commit_callbacks(execute=False):
        credential_health_check()
        credential_health_check()  # warned already: no second event
        credential_health_check(now=timezone.now() + timedelta(days=23))  # 6 days left

    events = list(WebhookEvent.objects.filter(type="credential.expiring").order_by("pk"))
    assert [event.data["days_left"] for event in events] == [29, 6]
    assert events[0].data["marketplace_account_id"] == account.pk and events[0].data["credential"] == "refresh_token"
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 2


def test_the_page_and_the_dashboard_tile(partner_alpha, alpha_admin_client):
    with schema_context(partner_alpha.schema_name):
        partner_center_account(70)  # 20 days left: a warning
        AccountFactory(display_name="ALSO", status=AccountStatus.FAILING, status_message="Wrong password.")
    page = alpha_admin_client.get("/marketplace/health/").content.decode()
    assert 'data-kind="refresh_token" data-severity="warning"' in page and "Wrong password." in page

    home = alpha_admin_client.get("/").content.decode()
    assert 'hx-get="/marketplace/health/tile/"' in home
    tile = alpha_admin_client.get("/marketplace/health/tile/").content.decode()
    assert 'data-errors="1"' in tile and 'data-warnings="1"' in tile


def test_the_tile_is_empty_for_whoever_may_not_see_marketplaces(partner_alpha):
    with schema_context(partner_alpha.schema_name):
        user_with("sales", {PermissionModule.CUSTOMERS: AccessLevel.VIEW}, email="sales@alpha.example")
    client = signed_in_client(partner_alpha, username="sales", password=PASSWORD)
    assert client.get("/marketplace/health/tile/").content == b""
    assert client.get("/marketplace/health/").status_code == 403


def test_consent_of_customers_out_of_scope_is_not_shown(partner_alpha):
    with schema_context(partner_alpha.schema_name):
        CustomerTenantFactory(primary_domain="hidden.onmicrosoft.com", consent_state=ConsentState.DENIED)
        user_with(
            "narrow",
            {PermissionModule.MARKETPLACE: AccessLevel.VIEW},
            all_customers=False,
            email="narrow@alpha.example",
        )
    client = signed_in_client(partner_alpha, username="narrow", password=PASSWORD)
    assert "hidden.onmicrosoft.com" not in client.get("/marketplace/health/").content.decode()
