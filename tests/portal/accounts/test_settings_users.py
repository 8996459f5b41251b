import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django_tenants.utils import schema_context

from customers.selectors import customers_visible_to
from portal.accounts.choices import UserKind
from portal.accounts.services import user_deactivate, user_role_remove
from portal.audit.models import AuditEvent
from tests.support import PASSWORD, host_of

User = get_user_model()


def test_the_users_list_searches_filters_and_paginates(alpha_admin_client, make_user, make_role):
    desk = make_role("Desk", customers=1)
    make_user("zoe", roles=[desk], first_name="Zoe", last_name="Zimmer")
    make_user("yann", is_active=False)
    for number in range(30):
        make_user(f"bulk{number:02d}")

    everyone = alpha_admin_client.get("/settings/users/").content.decode()
    assert "1–25 of 33" in everyone
    assert "page=2" in everyone

    found = alpha_admin_client.get("/settings/users/?q=zimmer").content.decode()
    assert 'data-user="zoe"' in found and 'data-user="admin"' not in found
    by_role = alpha_admin_client.get(f"/settings/users/?role={desk.pk}").content.decode()
    assert 'data-user="zoe"' in by_role and 'data-user="bulk00"' not in by_role
    deactivated = alpha_admin_client.get("/settings/users/?status=deactivated").content.decode()
    assert 'data-user="yann"' in deactivated and 'data-user="zoe"' not in deactivated
    partners_only = alpha_admin_client.get("/settings/users/?kind=customer_admin").content.decode()
    assert "No users match" in partners_only

    fragment = alpha_admin_client.get("/settings/users/?q=zoe", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="user-results"' in fragment and "<html" not in fragment


def test_add_to_role_and_remove_from_role(partner_alpha, alpha_admin_client, make_user, make_role):
    desk = make_role("Desk", customers=1)
    sam = make_user("sam")

    added = alpha_admin_client.post(f"/settings/users/{sam.pk}/roles/add/", {"role": desk.pk}, follow=True)
    assert f"{sam.get_full_name()} now has the role Desk." in added.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert list(sam.roles.all()) == [desk]

    confirm = alpha_admin_client.get(f"/settings/users/{sam.pk}/roles/{desk.pk}/remove/")
    assert "Remove from role" in confirm.content.decode()
    alpha_admin_client.post(f"/settings/users/{sam.pk}/roles/{desk.pk}/remove/")
    with schema_context(partner_alpha.schema_name):
        assert not sam.roles.exists()
        assert list(AuditEvent.objects.filter(target_id=str(sam.pk)).values_list("action", flat=True)) == [
            "user.role_remove",
            "user.role_add",
        ]


def test_deactivation_ends_the_sessions_and_refuses_sign_in_until_reactivated(
    partner_alpha, alpha_admin_client, make_user, make_role, client_of
):
    sam = make_user("sam", roles=[make_role("Desk", customers=1)])
    sam_client = client_of(sam)
    assert sam_client.get("/").status_code == 200

    confirm = alpha_admin_client.get(f"/settings/users/{sam.pk}/deactivate/").content.decode()
    assert f"Deactivate {sam.get_full_name()}?" in confirm
    response = alpha_admin_client.post(f"/settings/users/{sam.pk}/deactivate/")

    assert response.status_code == 302
    with schema_context(partner_alpha.schema_name):
        sessions = [session.get_decoded().get("_auth_user_id") for session in Session.objects.all()]
        assert str(sam.pk) not in sessions
        assert not User.objects.get(pk=sam.pk).is_active
    assert sam_client.get("/")["Location"].startswith("/accounts/sign-in/")
    refused = Client(HTTP_HOST=host_of(partner_alpha)).post(
        "/accounts/sign-in/", {"username": "sam", "password": PASSWORD}
    )
    assert refused.status_code == 200
    listing = alpha_admin_client.get("/settings/users/?status=deactivated").content.decode()
    assert 'data-user="sam"' in listing

    alpha_admin_client.post(f"/settings/users/{sam.pk}/reactivate/")
    assert client_of(sam).get("/").status_code == 200


def test_nobody_deactivates_themselves_or_the_last_active_administrator(
    partner_alpha, alpha_admin, alpha_admin_client, administrators_role, make_user, make_role
):
    response = alpha_admin_client.post(f"/settings/users/{alpha_admin.pk}/deactivate/", follow=True)
    assert "You cannot deactivate yourself" in response.content.decode()

    second = make_user("second", roles=[administrators_role])
    manager = make_user("manager", roles=[make_role("Settings managers", settings=2)])
    with schema_context(partner_alpha.schema_name):
        # the second administrator takes over and deactivates the first: allowed, one remains
        user_deactivate(actor=second, user=alpha_admin)
        with pytest.raises(ValidationError, match="last active administrator"):
            user_deactivate(actor=manager, user=second)
        with pytest.raises(ValidationError, match="last active administrator"):
            user_role_remove(actor=second, user=second, role=administrators_role)
        assert User.objects.get(pk=second.pk).is_active
        assert second.roles.filter(pk=administrators_role.pk).exists()


def test_only_an_administrator_grants_the_administrators_role(
    partner_alpha, make_user, make_role, administrators_role, client_of
):
    manager = make_user("manager", roles=[make_role("Settings managers", settings=2)])
    sam = make_user("sam")

    response = client_of(manager).post(
        f"/settings/users/{sam.pk}/roles/add/", {"role": administrators_role.pk}, follow=True
    )

    assert "Only an administrator can grant the Administrators role" in response.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert not sam.roles.exists()


def test_a_customer_tenant_admin_sees_no_settings_and_only_their_customers(
    partner_alpha, alpha_admin_client, make_user, make_role, customers_abc, client_of
):
    # even a role that grants settings is capped for a customer tenant admin
    greedy = make_role("Greedy", all_customers=True, customers=2, settings=2)
    tenant_admin = make_user("it.acme", kind=UserKind.CUSTOMER_ADMIN, roles=[greedy], customers=[customers_abc["Acme"]])
    client = client_of(tenant_admin)

    for path in (
        "/settings/",
        "/settings/users/",
        "/settings/roles/",
        "/settings/customer-groups/",
        "/settings/audit-logs/",
        "/settings/audit-logs/export.csv",
    ):
        assert client.get(path).status_code == 403, path
    with schema_context(partner_alpha.schema_name):
        assert [customer.name for customer in customers_visible_to(user=tenant_admin)] == ["Acme"]

    detail = alpha_admin_client.get(f"/settings/users/{tenant_admin.pk}/").content.decode()
    assert "Customers they manage" in detail and "Acme" in detail
    # their customers can be changed; the Administrators role is not offered to them
    assert "Administrators</option>" not in detail
    alpha_admin_client.post(
        f"/settings/users/{tenant_admin.pk}/customers/",
        {"customers": [customers_abc["Bolt"].pk, customers_abc["Crane"].pk]},
    )
    with schema_context(partner_alpha.schema_name):
        assert sorted(c.name for c in customers_visible_to(user=tenant_admin)) == ["Bolt", "Crane"]


def test_the_settings_hub_needs_the_settings_permission(alpha_admin_client, make_user, make_role, client_of):
    hub = alpha_admin_client.get("/settings/")
    body = hub.content.decode()
    assert hub.status_code == 200
    for label in ("Users", "Roles", "Customer groups", "Audit logs"):
        assert label in body
    outsider = make_user("outsider", roles=[make_role("Customers only", all_customers=True, customers=2)])
    assert client_of(outsider).get("/settings/").status_code == 403


def test_beta_session_at_alpha_host_is_anonymous(partner_alpha, beta_admin_client, alpha_admin):
    intruder = Client(HTTP_HOST=host_of(partner_alpha))
    intruder.cookies["sessionid"] = beta_admin_client.cookies["sessionid"].value

    for path in (
        "/settings/",
        "/settings/users/",
        f"/settings/users/{alpha_admin.pk}/",
        "/settings/roles/",
        "/settings/audit-logs/export.csv",
        "/notifications/",
    ):
        response = intruder.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/sign-in/")
    refused = intruder.post(f"/settings/users/{alpha_admin.pk}/deactivate/")
    assert refused.status_code == 302 and refused["Location"].startswith("/accounts/sign-in/")
    with schema_context(partner_alpha.schema_name):
        assert User.objects.get(pk=alpha_admin.pk).is_active


def test_an_unknown_user_is_a_404(alpha_admin_client):
    assert alpha_admin_client.get("/settings/users/999999/").status_code == 404
