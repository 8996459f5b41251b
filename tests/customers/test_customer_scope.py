"""Who sees which customers: roles covering customer groups, customer tenant admins, anonymous visitors and
another partner's administrator. An object out of scope is a 404, never a 403 that confirms it exists."""

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from customers.models import Customer
from portal.accounts.choices import AccessLevel, UserKind
from tests.customers.customer_support import client_for, make_user
from tests.factories.customers import CustomerFactory, CustomerGroupFactory, CustomerTenantFactory
from tests.support import host_of


@pytest.fixture
def world(in_alpha):
    north = CustomerGroupFactory(name="North")
    south = CustomerGroupFactory(name="South")
    ours = CustomerFactory(name="Northern Lights", groups=[north])
    theirs = CustomerFactory(name="Southern Cross", groups=[south])
    their_tenant = CustomerTenantFactory(customer=theirs)
    make_user(username="northie", groups=[north])
    make_user(username="viewer", level=AccessLevel.VIEW, groups=[north])
    make_user(username="tenantadmin", kind=UserKind.CUSTOMER_ADMIN, customers=[ours])
    return {"north": north, "south": south, "ours": ours, "theirs": theirs, "their_tenant": their_tenant}


def object_urls(world) -> list[str]:
    theirs, tenant = world["theirs"], world["their_tenant"]
    return [
        f"/customers/{theirs.pk}/",
        f"/customers/{theirs.pk}/?tab=audit",
        f"/customers/{theirs.pk}/edit/",
        f"/customers/{theirs.pk}/delete/",
        f"/customers/{theirs.pk}/tenants/add/",
        f"/customers/{theirs.pk}/tenants/{tenant.pk}/remove/",
        f"/customers/{theirs.pk}/tenants/{tenant.pk}/authenticate/",
    ]


def test_a_role_covering_a_group_sees_only_its_customers(partner_alpha, world):
    client = client_for(partner_alpha, "northie")

    listing = client.get("/customers/").content.decode()
    assert "Northern Lights" in listing
    assert "Southern Cross" not in listing
    assert client.get(f"/customers/{world['ours'].pk}/").status_code == 200
    for url in object_urls(world):
        assert client.get(url).status_code == 404, url
    for url in object_urls(world)[2:]:  # the actions
        assert client.post(url, {"confirmation": "Southern Cross"}).status_code == 404, url
    with schema_context(partner_alpha.schema_name):
        assert Customer.objects.filter(pk=world["theirs"].pk).exists()


def test_a_scoped_user_onboards_into_their_own_groups_only(partner_alpha, world):
    client = client_for(partner_alpha, "northie")

    form = client.get("/customers/new/").content.decode()
    assert ">North</label>" in form
    assert ">South</label>" not in form
    refused = client.post(
        "/customers/new/",
        {
            "name": "No Group Inc",
            "contact_name": "A",
            "contact_email": "a@example.com",
            "country": "DE",
            "status": "active",
            "industry": "general",
            "preferred_language": "en",
            "preferred_currency": "EUR",
        },
    )
    assert refused.status_code == 200
    assert "Choose at least one of your customer groups" in refused.content.decode()


def test_a_scoped_user_keeps_the_groups_they_cannot_see(partner_alpha, world):
    ours = world["ours"]
    with schema_context(partner_alpha.schema_name):
        ours.groups.add(world["south"])
    client = client_for(partner_alpha, "northie")

    client.post(
        f"/customers/{ours.pk}/edit/",
        {
            "name": "Northern Lights",
            "contact_name": "A",
            "contact_email": "a@example.com",
            "country": "DE",
            "status": "active",
            "industry": "general",
            "preferred_language": "en",
            "preferred_currency": "EUR",
            "groups": [world["north"].pk],
        },
    )

    with schema_context(partner_alpha.schema_name):
        assert set(ours.groups.values_list("name", flat=True)) == {"North", "South"}


def test_view_only_users_cannot_change_anything(partner_alpha, world):
    client = client_for(partner_alpha, "viewer")

    assert client.get(f"/customers/{world['ours'].pk}/").status_code == 200
    assert client.get("/customers/new/").status_code == 403
    assert client.get(f"/customers/{world['ours'].pk}/edit/").status_code == 403
    assert client.post(f"/customers/{world['ours'].pk}/delete/", {"confirmation": "Northern Lights"}).status_code == 403
    assert "Onboard customer" not in client.get("/customers/").content.decode()


def test_a_customer_tenant_admin_sees_only_their_customer(partner_alpha, world):
    client = client_for(partner_alpha, "tenantadmin")

    listing = client.get("/customers/").content.decode()
    assert "Northern Lights" in listing and "Southern Cross" not in listing
    assert client.get(f"/customers/{world['ours'].pk}/?tab=tenants").status_code == 200
    for url in object_urls(world):
        assert client.get(url).status_code == 404, url
    assert client.get("/customers/new/").status_code == 403  # onboarding is the partner's business
    assert client.get(f"/customers/{world['ours'].pk}/delete/").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(partner_alpha, world):
    client = Client(HTTP_HOST=host_of(partner_alpha))

    for url in ["/customers/", "/customers/new/", "/customers/tenants/consent/complete/", *object_urls(world)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/sign-in/"), url


def test_another_partners_administrator_gets_nothing(partner_alpha, partner_beta, world, beta_admin_client):
    at_beta = beta_admin_client.get("/customers/")
    assert at_beta.status_code == 200
    assert "Northern Lights" not in at_beta.content.decode()
    assert beta_admin_client.get(f"/customers/{world['ours'].pk}/").status_code == 404

    intruder = Client(HTTP_HOST=host_of(partner_alpha))
    intruder.cookies["sessionid"] = beta_admin_client.cookies["sessionid"].value
    for url in ["/customers/", f"/customers/{world['ours'].pk}/"]:
        response = intruder.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/sign-in/")
