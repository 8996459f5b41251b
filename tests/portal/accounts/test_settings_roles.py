from django_tenants.utils import schema_context

from customers.selectors import customers_visible_to
from portal.accounts.models import Role
from portal.accounts.permissions import forget_permissions, user_has_permission
from portal.audit.models import AuditEvent

MATRIX_NONE = {
    f"permission_{module}": 0
    for module in ("customers", "marketplace", "subscriptions", "catalog", "reports", "resellers", "settings")
}


def _role_data(**overrides):
    return {**MATRIX_NONE, "name": "Support desk", "description": "First line", "scope": "groups", **overrides}


def test_the_roles_list_shows_the_matrix_and_the_built_in_role_read_only(alpha_admin_client, administrators_role):
    listing = alpha_admin_client.get("/settings/roles/").content.decode()
    assert 'data-role="Administrators"' in listing
    assert "Built-in" in listing

    page = alpha_admin_client.get(f"/settings/roles/{administrators_role.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "cannot be changed or deleted" in body
    assert 'name="permission_settings" value="2"' in body and "disabled" in body
    assert "Create role" not in body and ">Save<" not in body
    assert alpha_admin_client.post(f"/settings/roles/{administrators_role.pk}/", _role_data()).status_code == 403
    refused = alpha_admin_client.get(f"/settings/roles/{administrators_role.pk}/delete/").content.decode()
    assert "cannot be deleted" in refused
    assert alpha_admin_client.post(f"/settings/roles/{administrators_role.pk}/delete/").status_code == 302
    with schema_context("p_alpha"):
        assert Role.objects.filter(pk=administrators_role.pk).exists()


def test_create_edit_and_delete_a_custom_role(partner_alpha, alpha_admin_client, key_accounts, make_user):
    form = alpha_admin_client.get("/settings/roles/new/").content.decode()
    assert 'type="radio"' in form and "Subscriptions and orders" in form and "Key accounts" in form

    created = alpha_admin_client.post(
        "/settings/roles/new/",
        _role_data(permission_customers=1, permission_subscriptions=2, customer_groups=[key_accounts.pk]),
    )

    assert created.status_code == 302
    with schema_context(partner_alpha.schema_name):
        role = Role.objects.get(name="Support desk")
        assert role.permissions["customers"] == 1
        assert role.permissions["subscriptions"] == 2
        assert role.permissions["settings"] == 0
        assert not role.all_customers
        assert list(role.customer_groups.all()) == [key_accounts]
        assert AuditEvent.objects.filter(action="role.create", target_id=str(role.pk)).exists()

    edited = alpha_admin_client.post(
        f"/settings/roles/{role.pk}/", _role_data(name="Support", permission_customers=2, scope="all")
    )

    assert edited.status_code == 302
    with schema_context(partner_alpha.schema_name):
        role.refresh_from_db()
        assert role.name == "Support"
        assert role.permissions["customers"] == 2 and role.permissions["subscriptions"] == 0
        assert role.all_customers and not role.customer_groups.exists()
        event = AuditEvent.objects.get(action="role.update")
        assert event.before["name"] == "Support desk" and event.after["name"] == "Support"

    holder = make_user("holder", roles=[role])
    refused = alpha_admin_client.get(f"/settings/roles/{role.pk}/delete/").content.decode()
    assert "1 user(s) hold this role" in refused
    alpha_admin_client.post(f"/settings/roles/{role.pk}/delete/")
    with schema_context(partner_alpha.schema_name):
        assert Role.objects.filter(pk=role.pk).exists()
        holder.roles.clear()

    assert "Nobody holds this role" in alpha_admin_client.get(f"/settings/roles/{role.pk}/delete/").content.decode()
    deleted = alpha_admin_client.post(f"/settings/roles/{role.pk}/delete/")
    assert deleted.status_code == 302
    with schema_context(partner_alpha.schema_name):
        assert not Role.objects.filter(pk=role.pk).exists()
        assert AuditEvent.objects.filter(action="role.delete", target_label="Support").exists()


def test_bad_role_input_re_renders_with_messages_and_saves_nothing(partner_alpha, alpha_admin_client):
    duplicate = alpha_admin_client.post("/settings/roles/new/", _role_data(name="administrators", scope="all"))
    assert duplicate.status_code == 200
    assert "A role called Administrators already exists" in duplicate.content.decode()

    no_groups = alpha_admin_client.post("/settings/roles/new/", _role_data(permission_customers=1))
    assert no_groups.status_code == 200
    assert "Choose the customer groups this role covers" in no_groups.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert Role.objects.filter(is_builtin=False).count() == 0


def test_a_role_covering_a_customer_group_limits_the_customers_its_users_see(
    partner_alpha, make_role, make_user, customers_abc, key_accounts
):
    scoped = make_user("scoped", roles=[make_role("Key desk", groups=[key_accounts], customers=1)])
    everyone = make_user("everyone", roles=[make_role("All desk", all_customers=True, customers=1)])
    nobody = make_user("nobody", roles=[make_role("Settings only", settings=2)])

    with schema_context(partner_alpha.schema_name):
        assert sorted(c.name for c in customers_visible_to(user=scoped)) == ["Acme", "Bolt"]
        assert sorted(c.name for c in customers_visible_to(user=everyone)) == ["Acme", "Bolt", "Crane"]
        assert list(customers_visible_to(user=nobody)) == []
        assert user_has_permission(scoped, "customers") and not user_has_permission(scoped, "customers", 2)
        assert not user_has_permission(scoped, "settings")

        # moving Crane into the group widens the role's scope at once
        key_accounts.customers.add(customers_abc["Crane"])
        forget_permissions(scoped)
        assert sorted(c.name for c in customers_visible_to(user=scoped)) == ["Acme", "Bolt", "Crane"]


def test_role_pages_need_the_settings_permission(make_user, make_role, client_of, administrators_role):
    outsider = make_user("outsider", roles=[make_role("Customers only", all_customers=True, customers=2)])
    viewer = make_user("viewer", roles=[make_role("Settings viewers", settings=1)])

    assert client_of(outsider).get("/settings/roles/").status_code == 403
    viewer_client = client_of(viewer)
    assert viewer_client.get("/settings/roles/").status_code == 200
    assert viewer_client.get("/settings/roles/new/").status_code == 403
    assert viewer_client.get("/settings/roles/999999/").status_code == 404
