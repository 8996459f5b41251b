"""Users of a customer tenant and licence assignment, against the Cloudmore simulator: synced
both ways, created with a generated or a chosen password, subscriptions assigned one by one and in bulk with
the available and consumed counts the marketplace reports."""

import uuid

import httpx
import pytest
from django.utils import timezone

from marketplace.providers.registry import create_provider
from portal.audit.models import AuditEvent
from simulators import cloudmore as cloudmore_simulator
from subscriptions.models import LicenseAssignment, Subscription, TenantUser
from subscriptions.services_users import (
    UsersRefused,
    licenses_assign,
    licenses_unassign,
    tenant_user_create,
    tenant_users_sync,
)
from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import account_create, connect

BASIC = "Microsoft 365 Business Basic"


@pytest.fixture
def cloudmore(in_alpha, sleeps, monkeypatch):
    """The Cloudmore simulator; marketplace accounts cannot store Cloudmore's reseller id yet, so the
    demo connection is used for the account's user calls."""
    simulator = cloudmore_simulator.create_simulator()
    transport = httpx.WSGITransport(app=simulator)
    monkeypatch.setattr(
        "subscriptions.services_users.tenant_users_provider",
        lambda account: create_provider(
            slug="cloudmore", connection=cloudmore_simulator.DEMO_CONNECTION, transport=transport, sleep=sleeps.append
        ),
    )
    account = account_create(marketplace="cloudmore", username="api", secret="secret", region="se", name="Cloudmore")
    tenant = CustomerTenantFactory(primary_domain="contoso.onmicrosoft.com", customer__name="Contoso AB")
    organization = str(uuid.uuid5(uuid.NAMESPACE_DNS, "cloudmore.contoso.example"))
    connect(account, tenant, organization, connected_at=timezone.now())
    simulator.organization_id = organization
    simulator.tenant = tenant
    return simulator


@pytest.fixture
def synced(cloudmore, manager):
    tenant_users_sync(actor=manager, customer_tenant=cloudmore.tenant)
    return cloudmore


def test_sync_pulls_users_and_subscriptions(synced):
    (admin,) = TenantUser.objects.filter(customer_tenant=synced.tenant)
    assert admin.is_admin and admin.user_name == "admin@contoso.onmicrosoft.com"
    basic = Subscription.objects.get(customer_tenant=synced.tenant, name=BASIC)
    assert (basic.quantity, basic.assigned) == (10, 7)


def test_a_user_created_at_the_marketplace_appears_after_a_sync(synced, manager):
    synced._new_tenant_user(
        organization_id=synced.organization_id,
        user_name="eva@contoso.onmicrosoft.com",
        first_name="Eva",
        last_name="E",
        email="eva@contoso.example",
        is_admin=False,
    )

    result = tenant_users_sync(actor=manager, customer_tenant=synced.tenant)

    assert result.users == 2
    assert TenantUser.objects.filter(user_name="eva@contoso.onmicrosoft.com").exists()


def test_create_a_user_with_a_generated_password_sent_by_email(synced, manager):
    user = tenant_user_create(
        actor=manager,
        customer_tenant=synced.tenant,
        user_name="lisa",
        first_name="Lisa",
        last_name="Larsson",
        email="lisa@contoso.example",
    )

    assert user.user_name == "lisa@contoso.onmicrosoft.com"
    assert any(mail["to"] == "lisa@contoso.example" and "Password:" in mail["body"] for mail in synced.sent_emails)
    assert any(u.user_name == user.user_name for u in synced.tenant_users[synced.organization_id])
    assert AuditEvent.objects.get(action="tenant_user.create").after["password"] == "generated and emailed"


def test_a_chosen_password_must_meet_the_rules(synced, manager):
    with pytest.raises(UsersRefused, match="at least 8"):
        tenant_user_create(
            actor=manager, customer_tenant=synced.tenant, user_name="bo", first_name="Bo", last_name="Berg",
            email="bo@contoso.example", password="Ab1!",
        )  # fmt: skip
    with pytest.raises(UsersRefused, match="parts of the user name"):
        tenant_user_create(
            actor=manager, customer_tenant=synced.tenant, user_name="bob", first_name="Bob", last_name="Berg",
            email="bo@contoso.example", password="Berg2024!x",
        )  # fmt: skip

    tenant_user_create(
        actor=manager, customer_tenant=synced.tenant, user_name="bob", first_name="Bob", last_name="Berg",
        email="bob@contoso.example", password="Tr0ub4dor&3",
    )  # fmt: skip

    assert not any(mail["to"] == "bob@contoso.example" for mail in synced.sent_emails)


def test_assign_in_bulk_updates_the_consumed_count_and_reports_who_got_no_seat(synced, manager):
    users = [
        tenant_user_create(
            actor=manager,
            customer_tenant=synced.tenant,
            user_name=f"user{n}",
            first_name="User",
            last_name=str(n),
            email=f"user{n}@contoso.example",
        )  # fmt: skip
        for n in range(4)
    ]
    basic = Subscription.objects.get(customer_tenant=synced.tenant, name=BASIC)

    result = licenses_assign(actor=manager, customer_tenant=synced.tenant, users=users, subscription=basic)

    assert [user.user_name for user in result.done] == [u.user_name for u in users[:3]]
    assert list(result.failed) == [users[3].user_name]
    assert "No licences available" in result.failed[users[3].user_name]
    basic.refresh_from_db()
    assert basic.assigned == 10
    assert LicenseAssignment.objects.filter(subscription=basic).count() == 3

    licenses_unassign(actor=manager, customer_tenant=synced.tenant, users=[users[0]], subscription=basic)

    basic.refresh_from_db()
    assert basic.assigned == 9
    assert not LicenseAssignment.objects.filter(user=users[0]).exists()


def test_the_users_screens(synced, manager, partner_alpha, admin_client_alpha):
    client = admin_client_alpha
    tenant = synced.tenant
    body = client.get(f"/subscriptions/tenants/{tenant.pk}/users/").content.decode()
    assert 'data-testid="users"' in body and "admin@contoso.onmicrosoft.com" in body

    response = client.post(
        f"/subscriptions/tenants/{tenant.pk}/users/new/",
        {"user_name": "kim", "first_name": "Kim", "last_name": "K", "email": "kim@contoso.example",
         "generate_password": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    kim = TenantUser.objects.get(user_name="kim@contoso.onmicrosoft.com")
    bad = client.post(
        f"/subscriptions/tenants/{tenant.pk}/users/new/",
        {"user_name": "jo", "first_name": "Jo", "last_name": "J", "email": "jo@contoso.example", "password": "short"},
    )
    assert bad.status_code == 400 and "at least 8 characters" in bad.content.decode()

    basic = Subscription.objects.get(customer_tenant=tenant, name=BASIC)
    client.post(f"/subscriptions/tenants/{tenant.pk}/users/assign/", {"users": [kim.pk], "subscription": basic.pk})
    detail = client.get(f"/subscriptions/tenants/{tenant.pk}/users/{kim.pk}/").content.decode()
    assert 'data-testid="assigned"' in detail
    client.post(f"/subscriptions/tenants/{tenant.pk}/users/{kim.pk}/", {"subscription": basic.pk, "op": "unassign"})
    assert not LicenseAssignment.objects.filter(user=kim).exists()


def test_a_marketplace_without_user_management_says_so(contoso, partner_alpha, admin_client_alpha):
    body = admin_client_alpha.get(f"/subscriptions/tenants/{contoso.tenant.pk}/users/").content.decode()

    assert 'data-testid="users-unsupported"' in body
