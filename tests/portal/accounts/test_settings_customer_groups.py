from django_tenants.utils import schema_context

from customers.models import CustomerGroup
from portal.audit.models import AuditEvent


def test_create_edit_and_delete_a_customer_group(partner_alpha, alpha_admin_client, customers_abc, make_role):
    acme, bolt, crane = customers_abc["Acme"], customers_abc["Bolt"], customers_abc["Crane"]
    listing = alpha_admin_client.get("/settings/customer-groups/").content.decode()
    assert 'data-group="Key accounts"' in listing

    duplicate = alpha_admin_client.post("/settings/customer-groups/new/", {"name": "KEY ACCOUNTS"})
    assert "already exists" in duplicate.content.decode()

    created = alpha_admin_client.post(
        "/settings/customer-groups/new/", {"name": "Schools", "description": "", "customers": [acme.pk, crane.pk]}
    )
    assert created.status_code == 302
    with schema_context(partner_alpha.schema_name):
        group = CustomerGroup.objects.get(name="Schools")
        assert sorted(c.name for c in group.customers.all()) == ["Acme", "Crane"]
    role = make_role("Schools desk", groups=[group], customers=1)

    alpha_admin_client.post(
        f"/settings/customer-groups/{group.pk}/", {"name": "Schools and colleges", "customers": [bolt.pk]}
    )
    with schema_context(partner_alpha.schema_name):
        group.refresh_from_db()
        assert group.name == "Schools and colleges"
        assert [c.name for c in group.customers.all()] == ["Bolt"]
        event = AuditEvent.objects.get(action="customer_group.update")
        assert event.before["customers"] == sorted([str(acme.pk), str(crane.pk)])

    confirm = alpha_admin_client.get(f"/settings/customer-groups/{group.pk}/delete/").content.decode()
    assert "Schools desk" in confirm
    assert alpha_admin_client.post(f"/settings/customer-groups/{group.pk}/delete/").status_code == 302
    with schema_context(partner_alpha.schema_name):
        assert not CustomerGroup.objects.filter(pk=group.pk).exists()
        assert not role.customer_groups.exists()
        assert AuditEvent.objects.filter(action="customer_group.delete").exists()

    searched = alpha_admin_client.get("/settings/customer-groups/?q=nothing-like-this").content.decode()
    assert "No customer groups match" in searched


def test_a_settings_viewer_sees_groups_read_only(partner_alpha, key_accounts, make_user, make_role, client_of):
    viewer = client_of(make_user("viewer", roles=[make_role("Settings viewers", settings=1)]))

    page = viewer.get(f"/settings/customer-groups/{key_accounts.pk}/").content.decode()

    assert "disabled" in page and "Create group" not in page and ">Save<" not in page
    viewer.post(f"/settings/customer-groups/{key_accounts.pk}/", {"name": "Renamed"})
    assert viewer.get(f"/settings/customer-groups/{key_accounts.pk}/delete/").status_code == 403
    with schema_context(partner_alpha.schema_name):
        key_accounts.refresh_from_db()
        assert key_accounts.name == "Key accounts"
