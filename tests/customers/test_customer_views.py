"""The customers screens as a partner administrator uses them: list, onboarding, edit, delete, detail tabs."""

import re

import pytest
from django_tenants.utils import schema_context

from customers.choices import CustomerStatus, Industry
from customers.models import Customer
from portal.audit.models import AuditEvent
from portal.partners.models import Partner
from tests.factories.customers import CustomerFactory, CustomerGroupFactory, CustomerTenantFactory

LIST = "/customers/"


def in_alpha_schema():
    return schema_context(Partner.objects.get(slug="alpha").schema_name)


def rows(response) -> list[str]:
    """Customer names in the table, in order."""
    return re.findall(
        r'<a href="/customers/\d+/" class="fw-semibold text-decoration-none">([^<]+)</a>', response.content.decode()
    )


def header_columns(response) -> list[str]:
    return re.findall(r'<th scope="col" data-column="([a-z_]+)"', response.content.decode())


@pytest.fixture
def customers(in_alpha):
    enterprise = CustomerGroupFactory(name="Enterprise")
    public = CustomerGroupFactory(name="Public sector")
    made = {
        "acme": CustomerFactory(
            name="Acme Corp",
            contact_name="Wile Coyote",
            contact_email="wile@acme.example",
            vat_number="DE111111111",
            country="DE",
            industry=Industry.MANUFACTURING,
            groups=[enterprise],
        ),
        "globex": CustomerFactory(
            name="Globex",
            contact_name="Hank Scorpio",
            contact_email="hank@globex.example",
            vat_number="FR222222222",
            country="FR",
            industry=Industry.TECHNOLOGY,
            groups=[enterprise],
        ),
        "school": CustomerFactory(
            name="Springfield Elementary",
            contact_name="Seymour Skinner",
            contact_email="principal@springfield.example",
            country="US",
            industry=Industry.EDUCATION,
            is_academic=True,
            groups=[public],
        ),
        "closed": CustomerFactory(
            name="Initech", contact_name="Bill Lumbergh", country="US", status=CustomerStatus.INACTIVE
        ),
    }
    CustomerTenantFactory(customer=made["acme"])
    return {**made, "enterprise": enterprise, "public": public}


# -- list -------------------------------------------------------------------------------------------------------------


def test_the_list_shows_customers_sorted_by_name(alpha_admin_client, customers):
    response = alpha_admin_client.get(LIST)

    assert response.status_code == 200
    assert rows(response) == ["Acme Corp", "Globex", "Initech", "Springfield Elementary"]
    assert "Onboard customer" in response.content.decode()
    assert "<html" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("acme", ["Acme Corp"]),  # name
        ("scorpio", ["Globex"]),  # contact
        ("principal@springfield", ["Springfield Elementary"]),  # email
        ("FR2222", ["Globex"]),  # VAT number
        ("nobody-matches-this", []),
    ],
)
def test_search_covers_name_contact_email_and_vat(alpha_admin_client, customers, query, expected):
    response = alpha_admin_client.get(LIST, {"q": query})

    assert rows(response) == expected


def test_no_match_says_so_with_a_way_out(alpha_admin_client, customers):
    response = alpha_admin_client.get(LIST, {"q": "nobody-matches-this"})

    assert "No customers match" in response.content.decode()
    assert "Clear the filters" in response.content.decode()


def test_filters_by_status_country_group_industry_and_eligibility(alpha_admin_client, customers):
    assert rows(alpha_admin_client.get(LIST, {"status": "inactive"})) == ["Initech"]
    assert rows(alpha_admin_client.get(LIST, {"country": "US"})) == ["Initech", "Springfield Elementary"]
    assert rows(alpha_admin_client.get(LIST, {"group": customers["enterprise"].pk})) == ["Acme Corp", "Globex"]
    assert rows(alpha_admin_client.get(LIST, {"industry": "technology"})) == ["Globex"]
    assert rows(alpha_admin_client.get(LIST, {"eligibility": "academic"})) == ["Springfield Elementary"]
    assert rows(alpha_admin_client.get(LIST, {"country": "US", "status": "active"})) == ["Springfield Elementary"]


def test_the_country_filter_offers_the_countries_in_use(alpha_admin_client, customers):
    body = alpha_admin_client.get(LIST).content.decode()

    assert '<option value="FR">France</option>' in body
    assert '<option value="JP">' not in body


def test_sorting_follows_the_query_string(alpha_admin_client, customers):
    assert rows(alpha_admin_client.get(LIST, {"sort": "-name"})) == [
        "Springfield Elementary",
        "Initech",
        "Globex",
        "Acme Corp",
    ]
    by_tenants = rows(alpha_admin_client.get(LIST, {"sort": "-tenants"}))
    assert by_tenants[0] == "Acme Corp"


def test_sort_links_keep_the_filters(alpha_admin_client, customers):
    body = alpha_admin_client.get(LIST, {"country": "US", "sort": "name"}).content.decode()

    assert 'href="/customers/?country=US&amp;sort=-name"' in body
    assert 'hx-get="/customers/?country=US&amp;sort=-name"' in body


def test_pagination(alpha_admin_client, in_alpha):
    for number in range(30):
        CustomerFactory(name=f"Customer {number:02d}")

    first = alpha_admin_client.get(LIST)
    second = alpha_admin_client.get(LIST, {"page": 2})

    assert rows(first) == [f"Customer {n:02d}" for n in range(25)]
    assert rows(second) == [f"Customer {n:02d}" for n in range(25, 30)]
    assert "Page 2 of 2" in second.content.decode()
    assert 'href="/customers/?page=2"' in first.content.decode()


def test_an_htmx_request_gets_only_the_results(alpha_admin_client, customers):
    response = alpha_admin_client.get(LIST, {"q": "globex"}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="results">')
    assert rows(response) == ["Globex"]


def test_an_empty_console_invites_onboarding(alpha_admin_client, in_alpha):
    body = alpha_admin_client.get(LIST).content.decode()

    assert "No customers yet" in body


def test_manage_columns_is_saved_for_the_user(alpha_admin_client, customers):
    assert header_columns(alpha_admin_client.get(LIST)) == [
        "name",
        "status",
        "contact",
        "country",
        "industry",
        "groups",
        "tenants",
        "created",
    ]

    response = alpha_admin_client.post(
        "/customers/columns/", {"columns": ["vat_number", "contact_email"], "query": "country=DE"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/customers/?country=DE"
    with in_alpha_schema():
        from django.contrib.auth import get_user_model

        admin = get_user_model().objects.get(username="admin")
        assert admin.preferences["customers.customer_list.columns"] == ["vat_number", "contact_email"]
    listed = alpha_admin_client.get(LIST)
    assert header_columns(listed) == ["name", "contact_email", "vat_number"]
    assert "DE111111111" in listed.content.decode()


def test_manage_columns_refuses_unknown_columns(alpha_admin_client, customers):
    alpha_admin_client.post("/customers/columns/", {"columns": ["password"]})

    assert "password" not in header_columns(alpha_admin_client.get(LIST))
    assert len(header_columns(alpha_admin_client.get(LIST))) == 8


# -- onboarding -------------------------------------------------------------------------------------------------------

VALID = {
    "name": "Umbrella Corporation",
    "status": "active",
    "industry": "healthcare",
    "vat_number": "de 123 456 789",
    "contact_name": "Albert Wesker",
    "contact_email": "wesker@umbrella.example",
    "contact_phone": "+49 30 1234567",
    "address_line1": "Raccoon Street 1",
    "address_line2": "",
    "city": "Raccoon City",
    "postal_code": "12345",
    "state": "",
    "country": "DE",
    "is_academic": "",
    "is_non_profit": "on",
    "preferred_language": "de",
    "preferred_currency": "EUR",
}


def test_the_onboarding_form_has_every_section(alpha_admin_client, customers):
    body = alpha_admin_client.get("/customers/new/").content.decode()

    for label in ("Organisation", "Contact", "Address", "Eligibility", "Preferences", "Public sector"):
        assert label in body


def test_onboarding_saves_the_customer_and_audits_it(alpha_admin_client, customers):
    response = alpha_admin_client.post("/customers/new/", {**VALID, "groups": [customers["public"].pk]})

    with in_alpha_schema():
        customer = Customer.objects.get(name="Umbrella Corporation")
        assert response.status_code == 302
        assert response["Location"] == f"/customers/{customer.pk}/"
        assert customer.vat_number == "DE123456789"
        assert customer.is_non_profit and not customer.is_academic
        assert customer.preferred_language == "de"
        assert list(customer.groups.all()) == [customers["public"]]
        assert customer.created_by.username == "admin"
        event = AuditEvent.objects.get(action="customer.create")
        assert event.customer_id == customer.pk
        assert event.after["name"] == "Umbrella Corporation"
    page = alpha_admin_client.get(response["Location"]).content.decode()
    assert "Umbrella Corporation was onboarded." in page


def test_invalid_onboarding_shows_the_problems_and_saves_nothing(alpha_admin_client, customers):
    response = alpha_admin_client.post(
        "/customers/new/",
        {**VALID, "name": "", "contact_email": "not-an-email", "contact_phone": "call me", "country": ""},
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "The customer was not saved." in body
    assert "This field is required." in body
    assert "Enter a valid email address." in body
    assert "Enter a phone number" in body
    assert 'value="Albert Wesker"' in body  # what was typed stays
    with in_alpha_schema():
        assert Customer.objects.count() == 4
        assert not AuditEvent.objects.filter(action="customer.create").exists()


def test_onboarding_refuses_a_name_that_exists(alpha_admin_client, customers):
    response = alpha_admin_client.post("/customers/new/", {**VALID, "name": "  globex "})

    assert response.status_code == 200
    assert "A customer called “Globex” already exists." in response.content.decode()  # the name it collides with
    with in_alpha_schema():
        assert Customer.objects.filter(name__iexact="globex").count() == 1


# -- edit and delete --------------------------------------------------------------------------------------------------


def test_edit_saves_and_records_what_changed(alpha_admin_client, customers):
    acme = customers["acme"]
    response = alpha_admin_client.get(f"/customers/{acme.pk}/edit/")
    assert 'value="Acme Corp"' in response.content.decode()

    response = alpha_admin_client.post(
        f"/customers/{acme.pk}/edit/",
        {**VALID, "name": "Acme Corporation", "groups": [customers["enterprise"].pk, customers["public"].pk]},
    )

    assert response.status_code == 302
    with in_alpha_schema():
        acme.refresh_from_db()
        assert acme.name == "Acme Corporation"
        assert acme.groups.count() == 2
        event = AuditEvent.objects.get(action="customer.update")
        assert event.before["name"] == "Acme Corp"
        assert event.after["name"] == "Acme Corporation"
        assert "contact_email" in event.after


def test_invalid_edit_keeps_the_customer(alpha_admin_client, customers):
    acme = customers["acme"]
    response = alpha_admin_client.post(f"/customers/{acme.pk}/edit/", {**VALID, "name": "Acme 2", "contact_email": "x"})

    assert response.status_code == 200
    assert "The changes were not saved." in response.content.decode()
    with in_alpha_schema():
        acme.refresh_from_db()
        assert acme.name == "Acme Corp"


def test_delete_needs_the_customers_name_typed(alpha_admin_client, customers):
    globex = customers["globex"]
    page = alpha_admin_client.get(f"/customers/{globex.pk}/delete/").content.decode()
    assert "Type <strong>Globex</strong> to confirm" in page

    response = alpha_admin_client.post(f"/customers/{globex.pk}/delete/", {"confirmation": "globex"})

    assert response.status_code == 200
    assert "Type “Globex” exactly to confirm." in response.content.decode()
    assert "Nothing was deleted" in response.content.decode()
    with in_alpha_schema():
        assert Customer.objects.filter(pk=globex.pk).exists()


def test_delete_removes_the_customer_and_its_tenants(alpha_admin_client, customers):
    acme = customers["acme"]

    response = alpha_admin_client.post(f"/customers/{acme.pk}/delete/", {"confirmation": "Acme Corp"})

    assert response.status_code == 302
    assert response["Location"] == LIST
    with in_alpha_schema():
        assert not Customer.objects.filter(pk=acme.pk).exists()
        event = AuditEvent.objects.get(action="customer.delete")
        assert event.customer_id == acme.pk
        assert len(event.before["tenants"]) == 1
    assert "Acme Corp was deleted." in alpha_admin_client.get(LIST).content.decode()


# -- detail -----------------------------------------------------------------------------------------------------------


def test_the_overview_tab(alpha_admin_client, customers):
    school = customers["school"]

    body = alpha_admin_client.get(f"/customers/{school.pk}/").content.decode()

    assert "Springfield Elementary" in body
    assert "Academic" in body
    assert "principal@springfield.example" in body
    for tab in ("Overview", "Tenants", "Subscriptions", "Orders", "Audit log"):
        assert tab in body


@pytest.mark.parametrize("tab", ["orders"])
def test_subscriptions_and_orders_are_honestly_not_there_yet(alpha_admin_client, customers, tab):
    body = alpha_admin_client.get(f"/customers/{customers['acme'].pk}/", {"tab": tab}).content.decode()

    assert 'data-testid="coming-soon"' in body
    assert "coming soon" in body


def test_a_tab_loaded_by_htmx_is_a_fragment(alpha_admin_client, customers):
    response = alpha_admin_client.get(
        f"/customers/{customers['acme'].pk}/",
        {"tab": "tenants"},
        headers={"HX-Request": "true", "HX-Target": "tab-content"},
    )

    body = response.content.decode()
    assert "<html" not in body
    assert 'id="tab-content"' in body
    assert "tenant0.onmicrosoft.com" in body or "onmicrosoft.com" in body


def test_the_audit_tab_shows_the_customers_events_and_refreshes(alpha_admin_client, customers):
    acme = customers["acme"]
    alpha_admin_client.post(f"/customers/{acme.pk}/edit/", {**VALID, "name": "Acme Renamed"})

    page = alpha_admin_client.get(f"/customers/{acme.pk}/", {"tab": "audit"}).content.decode()
    assert "Customer changed" in page and ">customer.update<" not in page
    assert 'data-testid="audit-refresh"' in page

    with in_alpha_schema():
        # an event about something of the customer's, recorded with its customer id
        from portal.audit.services import audit_record

        audit_record(actor="automation", action="customer_tenant.sync", customer_id=acme.pk, target_label="x")
        audit_record(actor="automation", action="other.thing", customer_id=customers["globex"].pk)
    refreshed = alpha_admin_client.get(
        f"/customers/{acme.pk}/", {"tab": "audit"}, headers={"HX-Request": "true", "HX-Target": "audit-events"}
    ).content.decode()
    assert refreshed.lstrip().startswith('<div id="audit-events">')
    assert "customer_tenant.sync" in refreshed
    assert "other.thing" not in refreshed


def test_the_consent_return_page_without_a_consent_in_progress(alpha_admin_client, customers):
    response = alpha_admin_client.get("/customers/tenants/consent/complete/")

    assert response.status_code == 200
    assert "No consent was started in this browser" in response.content.decode()
