"""The catalog screens as visitors, partner users and customer tenant admins see them."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from catalog.models import CatalogSettings, CustomerPrice, CustomerSegment, Offer, SegmentMembership
from catalog.pricing import guardrails_check, guardrails_token
from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.audit.models import AuditEvent
from tests.factories.accounts import user_with
from tests.factories.catalog import CategoryFactory, OfferFactory, ProductGroupFactory, SegmentFactory, customer_price
from tests.factories.customers import CustomerFactory, CustomerTenantFactory
from tests.factories.marketplace import AccountFactory, connect
from tests.support import PASSWORD, host_of, signed_in_client

CATALOG_VIEW = {PermissionModule.CATALOG: AccessLevel.VIEW}
CATALOG_MANAGE = {PermissionModule.CATALOG: AccessLevel.MANAGE}
TENANT_ADMIN_LEVELS = {
    PermissionModule.CATALOG: AccessLevel.VIEW,
    PermissionModule.SUBSCRIPTIONS: AccessLevel.MANAGE,
    PermissionModule.CUSTOMERS: AccessLevel.VIEW,
}


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def catalog(in_alpha):
    """Contoso's tenant is connected to an ALSO account that sells Microsoft 365 E3 (cost 14.16, suggested
    retail 16.87) monthly and annually, an add-on, a hidden plan and an academic-only plan."""
    account = AccountFactory(display_name="Demo reseller")
    category = CategoryFactory(name="Productivity")
    group = ProductGroupFactory(name="Microsoft 365", category=category)
    e3 = OfferFactory(
        name="Microsoft 365 E3",
        product_id="E3",
        account=account,
        product_group=group,
        cost_price=Decimal("14.16"),
        suggested_retail_price=Decimal("16.87"),
    )
    e3_annual = OfferFactory(
        name="Microsoft 365 E3",
        product_id="E3",
        billing_cycle="annual",
        term="P1Y",
        account=account,
        product_group=group,
        cost_price=Decimal("169.92"),
        suggested_retail_price=Decimal("202.44"),
    )
    phone = OfferFactory(
        name="Teams Phone Standard",
        product_id="PHONE",
        account=account,
        product_group=group,
        is_add_on=True,
        parent_product_ids=["E3"],
        cost_price=Decimal("7.00"),
    )
    hidden = OfferFactory(name="Secret Legacy Plan", account=account, product_group=group, is_visible=False)
    faculty = OfferFactory(
        name="Microsoft 365 A3 for faculty", account=account, product_group=group, eligibility="academic"
    )
    contoso = CustomerFactory(name="Contoso")
    tenant = CustomerTenantFactory(customer=contoso, primary_domain="contoso.onmicrosoft.com")
    connect(account, tenant)
    fabrikam = CustomerFactory(name="Fabrikam")
    fabrikam_tenant = CustomerTenantFactory(customer=fabrikam, primary_domain="fabrikam.onmicrosoft.com")
    connect(account, fabrikam_tenant)
    return {
        "account": account,
        "category": category,
        "group": group,
        "e3": e3,
        "e3_annual": e3_annual,
        "phone": phone,
        "hidden": hidden,
        "faculty": faculty,
        "contoso": contoso,
        "tenant": tenant,
        "fabrikam": fabrikam,
        "fabrikam_tenant": fabrikam_tenant,
    }


@pytest.fixture
def tenant_admin_client(catalog, partner_alpha):
    """A customer tenant admin of Contoso whose role grants catalog view and subscriptions manage."""
    user = user_with("contoso-admin", TENANT_ADMIN_LEVELS, all_customers=False, kind=UserKind.CUSTOMER_ADMIN)
    user.customers.add(catalog["contoso"])
    return signed_in_client(partner_alpha, "contoso-admin", PASSWORD)


def client_for(partner, username, levels, **fields) -> Client:
    with schema_context(partner.schema_name):
        user_with(username, levels, **fields)
    return signed_in_client(partner, username, PASSWORD)


# -- the public catalog ----------------------------------------------------------------------------------------------


def test_visitors_see_categories_and_groups_without_signing_in(alpha_client, catalog):
    response = alpha_client.get("/catalog/public/")
    assert response.status_code == 200
    body = text(response)
    assert "Productivity" in body and "Microsoft 365" in body
    assert "Sign in to see your prices" in body


def test_a_public_group_shows_suggested_retail_prices_only(alpha_client, catalog):
    response = alpha_client.get(f"/catalog/public/groups/{catalog['group'].pk}/")
    body = text(response)
    assert response.status_code == 200
    assert "€16.87" in body and "€202.44" in body
    assert "14.16" not in body and "14.87" not in body  # neither cost nor partner price
    assert "Secret Legacy Plan" not in body
    assert "Academic customers only" in body


def test_a_public_offer_page_has_the_details_and_no_partner_price(alpha_client, catalog):
    response = alpha_client.get(f"/catalog/public/offers/{catalog['e3'].pk}/")
    body = text(response)
    assert response.status_code == 200
    for fact in ("SKU-", "Productivity", "Microsoft 365", "Monthly", "Annual", "Recurring", "1 month", "Teams Phone"):
        assert fact in body
    assert "€16.87" in body
    assert "14.16" not in body and "14.87" not in body and "Demo reseller" not in body


def test_hidden_offers_and_groups_are_not_public(alpha_client, catalog):
    assert alpha_client.get(f"/catalog/public/offers/{catalog['hidden'].pk}/").status_code == 404
    with schema_context("p_alpha"):
        catalog["group"].is_visible = False
        catalog["group"].save()
    assert alpha_client.get(f"/catalog/public/offers/{catalog['e3'].pk}/").status_code == 404
    assert alpha_client.get(f"/catalog/public/groups/{catalog['group'].pk}/").status_code == 404


def test_the_public_search(alpha_client, catalog):
    body = text(alpha_client.get("/catalog/public/", {"q": "E3"}))
    assert "Microsoft 365 E3" in body and "Teams Phone" not in body
    assert "No product matches" in text(alpha_client.get("/catalog/public/", {"q": "zzz"}))


def test_beta_sees_alphas_public_catalog_as_a_visitor(beta_admin_client, partner_alpha, catalog):
    intruder = Client(HTTP_HOST=host_of(partner_alpha))
    intruder.cookies["sessionid"] = beta_admin_client.cookies["sessionid"].value
    body = text(intruder.get(f"/catalog/public/offers/{catalog['e3'].pk}/"))
    assert "Sign in to see your prices" in body and "14.87" not in body
    response = intruder.get("/catalog/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/sign-in/")


# -- the partner's catalog -------------------------------------------------------------------------------------------


def test_the_administrator_sees_cost_and_partner_prices_with_their_derivation(alpha_admin_client, catalog):
    response = alpha_admin_client.get("/catalog/")
    body = text(response)
    assert response.status_code == 200
    assert "€14.16" in body and "€14.87" in body
    # "Partner price" is the marketplace's price to the partner (the cost), nothing else
    headers = dict(re.findall(r'data-column="(\w+)"[^>]*>\s*(?:<a[^>]*>)?\s*([^<]+?)\s*<', body))
    assert headers["cost_price"] == "Partner price"
    assert headers["price"] == "Default customer price"
    assert "Partner price at ALSO (Demo reseller): €14.16&#10;Default markup 5%: €14.87" in body.replace("\n", "&#10;")
    assert "Secret Legacy Plan" in body  # the partner sees hidden offers, marked as such
    assert "Hidden" in body


def test_a_partner_user_without_the_catalog_module_is_never_shown_cost(partner_alpha, catalog):
    client = client_for(partner_alpha, "seller", {PermissionModule.SUBSCRIPTIONS: AccessLevel.MANAGE})
    assert client.get("/catalog/").status_code == 403
    store = text(client.get(f"/catalog/store/{catalog['tenant'].pk}/"))
    assert "€14.87" in store and "14.16" not in store and "Default markup" not in store
    cost_tab = text(client.get(f"/catalog/store/{catalog['tenant'].pk}/offers/{catalog['e3'].pk}/", {"tab": "cost"}))
    assert "€14.87" in cost_tab and "14.16" not in cost_tab


def test_a_catalog_viewer_sees_cost_but_no_management(partner_alpha, catalog):
    client = client_for(partner_alpha, "viewer", CATALOG_VIEW)
    body = text(client.get("/catalog/"))
    assert "€14.16" in body and "€14.87" in body
    assert 'id="visibility-form"' not in body and "Customize" in body


def test_an_htmx_request_gets_the_results_only(alpha_admin_client, catalog):
    response = alpha_admin_client.get("/catalog/", {"q": "E3"}, HTTP_HX_REQUEST="true")
    body = text(response)
    assert body.lstrip().startswith('<div id="results">') and "Microsoft 365 E3" in body
    assert "<html" not in body


def test_offers_gone_from_the_marketplace_are_listed_only_on_request(alpha_admin_client, catalog):
    with schema_context("p_alpha"):
        OfferFactory(name="Retired Plan", account=catalog["account"], is_available=False)
    assert "Retired Plan" not in text(alpha_admin_client.get("/catalog/"))
    body = text(alpha_admin_client.get("/catalog/", {"visibility": "unavailable"}))
    assert "Retired Plan" in body and "Not at the marketplace" in body and "Microsoft 365 E3" not in body


def test_catalog_filters(alpha_admin_client, catalog):
    body = text(alpha_admin_client.get("/catalog/", {"visibility": "hidden"}))
    assert "Secret Legacy Plan" in body and "Teams Phone" not in body
    body = text(alpha_admin_client.get("/catalog/", {"billing_cycle": "annual"}))
    assert body.count('data-row="') == 1
    body = text(alpha_admin_client.get("/catalog/", {"q": "faculty"}))
    assert "A3 for faculty" in body and "Teams Phone" not in body


def test_the_offer_page_shows_everything(alpha_admin_client, catalog):
    response = alpha_admin_client.get(f"/catalog/offers/{catalog['e3'].pk}/")
    body = text(response)
    assert response.status_code == 200
    for fact in ("Microsoft 365 E3", "Productivity", "SKU-", "E3", "Annual", "1 year", "Teams Phone Standard"):
        assert fact in body
    assert "Default markup 5%" in body and "14.16 × 1.05 = 14.87" in body
    assert "€169.92" in body and "€178.42" in body  # the annual plan: cost and partner price


def test_the_bulk_visibility_action(alpha_admin_client, catalog):
    response = alpha_admin_client.post(
        "/catalog/offers/visibility/",
        {"offers": [catalog["e3"].pk, catalog["phone"].pk], "is_visible": "0", "next": "/catalog/?q=E3"},
    )
    assert response.status_code == 302 and response["Location"] == "/catalog/?q=E3"
    with schema_context("p_alpha"):
        assert set(Offer.objects.filter(is_visible=False).values_list("name", flat=True)) == {
            "Microsoft 365 E3",
            "Teams Phone Standard",
            "Secret Legacy Plan",
        }
    response = alpha_admin_client.post("/catalog/offers/visibility/", {"is_visible": "1"}, follow=True)
    assert "Select the offers to show or hide first." in text(response)


def test_customizing_an_offer(alpha_admin_client, catalog):
    url = f"/catalog/offers/{catalog['e3'].pk}/customize/"
    assert alpha_admin_client.get(url).status_code == 200
    response = alpha_admin_client.post(url, {"is_visible": "", "eligibility": "government", "product_group": ""})
    assert response.status_code == 200 and "This field is required." in text(response)
    response = alpha_admin_client.post(
        url, {"is_visible": "", "eligibility": "government", "product_group": catalog["group"].pk}
    )
    assert response.status_code == 302
    with schema_context("p_alpha"):
        offer = Offer.objects.get(pk=catalog["e3"].pk)
        assert (offer.is_visible, offer.eligibility) == (False, "government")
        assert AuditEvent.objects.filter(action="catalog.offer_customize", target_id=str(offer.pk)).exists()


def test_viewers_cannot_change_the_catalog(partner_alpha, catalog):
    client = client_for(partner_alpha, "viewer", CATALOG_VIEW)
    assert client.get(f"/catalog/offers/{catalog['e3'].pk}/customize/").status_code == 403
    assert (
        client.post("/catalog/offers/visibility/", {"offers": [catalog["e3"].pk], "is_visible": "0"}).status_code == 403
    )
    assert client.post("/catalog/customize/", {"default_markup_percent": "9"}).status_code == 403
    assert client.get("/catalog/customize/").status_code == 200


# -- Customize -------------------------------------------------------------------------------------------------------


def test_the_default_markup_form(alpha_admin_client, catalog):
    response = alpha_admin_client.post("/catalog/customize/", {"default_markup_percent": "abc"})
    assert response.status_code == 200 and "Enter a number." in text(response)
    response = alpha_admin_client.post("/catalog/customize/", {"default_markup_percent": "-150"})
    assert response.status_code == 200
    with schema_context("p_alpha"):
        assert not CatalogSettings.objects.exists()
    response = alpha_admin_client.post("/catalog/customize/", {"default_markup_percent": "10"})
    assert response.status_code == 302
    assert "€15.58" in text(alpha_admin_client.get("/catalog/"))  # 14.16 x 1.10
    response = alpha_admin_client.post(
        "/catalog/customize/", {"default_markup_percent": "10", "large_quantity_seats": "0"}
    )
    assert response.status_code == 200 and "is-invalid" in text(response)
    response = alpha_admin_client.post(
        "/catalog/customize/", {"default_markup_percent": "10", "large_quantity_seats": "50"}
    )
    assert response.status_code == 302
    with schema_context("p_alpha"):
        assert CatalogSettings.objects.get().large_quantity_seats == 50
        event = AuditEvent.objects.filter(action="catalog.default_markup_update").latest("pk")
        assert event.after == {"large_quantity_seats": 50}


def test_categories_and_groups_screens(alpha_admin_client, catalog):
    response = alpha_admin_client.post("/catalog/customize/categories/new/", {"name": "productivity", "position": 1})
    assert response.status_code == 200 and "A category with this name exists." in text(response)
    response = alpha_admin_client.post("/catalog/customize/categories/new/", {"name": "Security", "position": 2})
    assert response.status_code == 302
    response = alpha_admin_client.post(
        f"/catalog/customize/groups/{catalog['group'].pk}/",
        {"name": "Microsoft 365", "category": "", "description": "", "position": 3},
    )
    assert response.status_code == 302
    body = text(alpha_admin_client.get("/catalog/customize/"))
    assert "Security" in body and "Hidden" in body
    assert "Microsoft 365" not in text(alpha_admin_client.get("/catalog/public/"))
    category = catalog["category"]
    assert alpha_admin_client.get(f"/catalog/customize/categories/{category.pk}/delete/").status_code == 200
    assert alpha_admin_client.post(f"/catalog/customize/categories/{category.pk}/delete/").status_code == 302


def test_sorting_new_offers_from_customize(alpha_admin_client, in_alpha):
    OfferFactory(name="Microsoft 365 E5", product_group=None)
    assert "1 offer has no product group yet." in text(alpha_admin_client.get("/catalog/customize/"))
    response = alpha_admin_client.post("/catalog/customize/classify/", follow=True)
    assert "1 offers were placed in product groups." in text(response)
    assert Offer.objects.get().product_group.name == "Microsoft 365"


# -- segments and customer prices ------------------------------------------------------------------------------------


def test_segment_screens(alpha_admin_client, catalog):
    response = alpha_admin_client.post("/catalog/segments/new/", {"name": "Education", "description": ""})
    assert response.status_code == 302
    segment = CustomerSegment.objects.get()
    response = alpha_admin_client.post("/catalog/segments/new/", {"name": "EDUCATION", "description": ""})
    assert "A segment with this name exists." in text(response)

    detail = f"/catalog/segments/{segment.pk}/"
    alpha_admin_client.post(f"{detail}members/add/", {"customer": catalog["contoso"].pk})
    assert SegmentMembership.objects.get().customer == catalog["contoso"]
    response = alpha_admin_client.post(f"{detail}members/add/", {"customer": catalog["contoso"].pk}, follow=True)
    assert "Choose a customer that is in no segment yet." in text(response)

    response = alpha_admin_client.post(
        f"{detail}prices/new/", {"offer": catalog["e3"].pk, "kind": "markup", "value": "-150"}
    )
    assert response.status_code == 200 and "A markup must be above -100%." in text(response)
    response = alpha_admin_client.post(
        f"{detail}prices/new/", {"offer": catalog["e3"].pk, "kind": "markup", "value": "2"}
    )
    assert response.status_code == 302
    body = text(alpha_admin_client.get(detail))
    assert "Contoso" in body and "Markup 2%" in body and "€14.44" in body and "€14.87" in body

    row = segment.prices.get()
    # below the partner price (14.16): saved only with the confirmation that names the amounts
    response = alpha_admin_client.post(f"{detail}prices/{row.pk}/", {"kind": "price", "value": "13.50"})
    assert response.status_code == 200
    page = text(response)
    assert "I confirm selling below cost: €13.50 per seat, €0.66 under the partner price" in page
    assert "Tick the box to confirm these amounts, or change them." in page and "is-invalid" in page
    row.refresh_from_db()
    assert row.markup_percent == Decimal("2")
    token = guardrails_token(guardrails_check(currency="EUR", price=Decimal("13.50"), cost=Decimal("14.16")))
    response = alpha_admin_client.post(
        f"{detail}prices/{row.pk}/", {"kind": "price", "value": "13.40", "confirm_guardrails": token}
    )
    assert response.status_code == 200  # a confirmation of other amounts does not count
    response = alpha_admin_client.post(
        f"{detail}prices/{row.pk}/", {"kind": "price", "value": "13.50", "confirm_guardrails": token}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.price == Decimal("13.5") and row.markup_percent is None
    membership = SegmentMembership.objects.get()
    assert alpha_admin_client.get(f"{detail}members/{membership.pk}/remove/").status_code == 200
    assert alpha_admin_client.post(f"{detail}members/{membership.pk}/remove/").status_code == 302
    assert alpha_admin_client.post(f"{detail}prices/{row.pk}/delete/").status_code == 302
    assert alpha_admin_client.post(f"{detail}delete/").status_code == 302
    assert not CustomerSegment.objects.exists()


def test_customer_price_screens(alpha_admin_client, catalog):
    response = alpha_admin_client.post(
        "/catalog/customer-prices/new/",
        {"customer": catalog["contoso"].pk, "offer": catalog["e3"].pk, "kind": "price", "value": "-1"},
    )
    assert response.status_code == 200 and "A price cannot be negative." in text(response)
    assert not CustomerPrice.objects.exists()
    response = alpha_admin_client.post(
        "/catalog/customer-prices/new/",
        {"customer": catalog["contoso"].pk, "offer": catalog["e3"].pk, "kind": "price", "value": "15.00"},
    )
    assert response.status_code == 302
    body = text(alpha_admin_client.get("/catalog/customer-prices/"))
    assert "Contoso" in body and "€15.00" in body and "Customer price (Contoso): €15.00" in body
    row = CustomerPrice.objects.get()
    response = alpha_admin_client.post(f"/catalog/customer-prices/{row.pk}/", {"kind": "markup", "value": "7.5"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.markup_percent == Decimal("7.50")
    assert alpha_admin_client.post(f"/catalog/customer-prices/{row.pk}/delete/").status_code == 302
    assert not CustomerPrice.objects.exists()


def test_a_scoped_role_sees_only_its_customers_prices(partner_alpha, catalog):
    with schema_context(partner_alpha.schema_name):
        theirs = customer_price(catalog["fabrikam"], catalog["e3"], price=Decimal("9"))
        from customers.models import CustomerGroup

        group = CustomerGroup.objects.create(name="Contoso only")
        group.customers.add(catalog["contoso"])
        user = user_with("scoped", CATALOG_MANAGE, all_customers=False)
        group.roles.add(user.roles.get())
        segment = SegmentFactory()
        membership = SegmentMembership.objects.create(segment=segment, customer=catalog["fabrikam"])
    client = signed_in_client(partner_alpha, "scoped", PASSWORD)
    assert client.get(f"/catalog/customer-prices/{theirs.pk}/").status_code == 404
    assert client.post(f"/catalog/customer-prices/{theirs.pk}/delete/").status_code == 404
    assert "Fabrikam" not in text(client.get("/catalog/customer-prices/"))
    assert client.get(f"/catalog/segments/{segment.pk}/members/{membership.pk}/remove/").status_code == 404
    body = text(client.get(f"/catalog/segments/{segment.pk}/"))
    assert "Fabrikam" not in body and "And 1 customer you do not see." in body
    # a tenant outside the role's customers (and a module the role lacks): it does not exist for them
    assert client.get(f"/catalog/store/{catalog['fabrikam_tenant'].pk}/").status_code == 404


# -- the store -------------------------------------------------------------------------------------------------------


def test_the_store_lists_what_the_tenant_may_buy_at_its_price(alpha_admin_client, catalog):
    with schema_context("p_alpha"):
        customer_price(catalog["contoso"], catalog["e3"], price=Decimal("15.00"))
    response = alpha_admin_client.get(f"/catalog/store/{catalog['tenant'].pk}/")
    body = text(response)
    assert response.status_code == 200
    assert "Microsoft 365 E3" in body and "€15.00" in body and "€178.42" in body
    assert "Secret Legacy Plan" not in body and "A3 for faculty" not in body  # hidden; Contoso is not academic
    assert "Teams Phone" not in body  # add-ons are bought with their product
    assert body.count('data-row="') == 1  # one service, two plans
    assert 'title="Partner price at ALSO (Demo reseller): €14.16' in body  # the administrator sees how


def test_the_store_search_and_category_filter(alpha_admin_client, catalog):
    url = f"/catalog/store/{catalog['tenant'].pk}/"
    assert "No services match" in text(alpha_admin_client.get(url, {"q": "Dynamics"}))
    assert "Microsoft 365 E3" in text(alpha_admin_client.get(url, {"category": catalog["category"].pk}))
    assert "No services match" in text(alpha_admin_client.get(url, {"category": "none"}))


def test_an_academic_customer_sees_academic_offers(alpha_admin_client, catalog):
    with schema_context("p_alpha"):
        catalog["contoso"].is_academic = True
        catalog["contoso"].save()
    assert "A3 for faculty" in text(alpha_admin_client.get(f"/catalog/store/{catalog['tenant'].pk}/"))


def test_service_details_tabs(alpha_admin_client, catalog):
    base = f"/catalog/store/{catalog['tenant'].pk}/offers/{catalog['e3'].pk}/"
    body = text(alpha_admin_client.get(base))
    assert "Microsoft 365" in body and "Productivity" in body and "Microsoft" in body
    assert "Teams Phone Standard" in text(alpha_admin_client.get(base, {"tab": "dependent"}))
    body = text(alpha_admin_client.get(base, {"tab": "cost"}))
    assert "Recurring" in body and "1 month" in body and "1 year" in body and "€14.87" in body
    assert "Default markup 5%: €14.87" in body  # the derivation row
    assert "No audit events" in text(alpha_admin_client.get(base, {"tab": "audit"}))
    assert (
        alpha_admin_client.get(f"/catalog/store/{catalog['tenant'].pk}/offers/{catalog['hidden'].pk}/").status_code
        == 404
    )


def test_the_purchase_button_goes_to_the_order_page(alpha_admin_client, catalog):
    from django.urls import NoReverseMatch, reverse

    body = text(alpha_admin_client.get(f"/catalog/store/{catalog['tenant'].pk}/offers/{catalog['e3'].pk}/"))
    try:
        order_url = reverse("orders:order_new")
    except NoReverseMatch:
        assert 'data-testid="purchase"' not in body
    else:
        assert f'href="{order_url}?tenant={catalog["tenant"].pk}&amp;offer={catalog["e3"].pk}"' in body


def test_a_tenant_without_a_marketplace_has_an_empty_store(alpha_admin_client, catalog):
    with schema_context("p_alpha"):
        lonely = CustomerTenantFactory(customer=catalog["contoso"])
    assert "This tenant is not connected to a marketplace" in text(
        alpha_admin_client.get(f"/catalog/store/{lonely.pk}/")
    )


def test_a_customer_tenant_admin_never_sees_cost_prices(tenant_admin_client, catalog):
    store = text(tenant_admin_client.get(f"/catalog/store/{catalog['tenant'].pk}/"))
    assert "€14.87" in store
    assert "14.16" not in store and "Cost price" not in store and "Demo reseller" not in store
    assert "Partner price" not in store and "margin" not in store.lower()
    cost_tab = text(
        tenant_admin_client.get(f"/catalog/store/{catalog['tenant'].pk}/offers/{catalog['e3'].pk}/", {"tab": "cost"})
    )
    assert "€14.87" in cost_tab and "14.16" not in cost_tab and "Default markup" not in cost_tab
    listing = tenant_admin_client.get("/catalog/")
    assert listing.status_code == 200
    body = text(listing)
    assert "€14.87" in body and "14.16" not in body and "Secret Legacy Plan" not in body
    assert "Demo reseller" not in body and "Hide from customers" not in body
    assert "Partner price" not in body and "Your price" in body  # the partner's cost is not theirs to see
    offer_page = text(tenant_admin_client.get(f"/catalog/offers/{catalog['e3'].pk}/"))
    assert "€14.87" in offer_page and "14.16" not in offer_page and "Demo reseller" not in offer_page
    assert "Partner price" not in offer_page and "Margin" not in offer_page
    assert tenant_admin_client.get(f"/catalog/offers/{catalog['hidden'].pk}/").status_code == 404
    assert tenant_admin_client.get("/catalog/customize/").status_code == 403
    assert tenant_admin_client.get("/catalog/customer-prices/").status_code == 403
    assert tenant_admin_client.get(f"/catalog/store/{catalog['fabrikam_tenant'].pk}/").status_code == 404


# -- constant queries ------------------------------------------------------------------------------------------------


def _more_offers(catalog, count: int) -> None:
    account, group = catalog["account"], catalog["group"]
    Offer.objects.bulk_create(
        [
            Offer(
                account=account,
                external_id=f"BULK-{count}-{number}",
                product_id=f"BULK-{number // 2}",
                name=f"Bulk product {number // 2:05d}",
                billing_cycle="monthly" if number % 2 else "annual",
                charge_type="recurring",
                currency="EUR",
                cost_price=Decimal("10.00"),
                suggested_retail_price=Decimal("12.00"),
                product_group=group,
            )
            for number in range(count)
        ]
    )


@pytest.mark.parametrize(
    ("url", "limit"),
    [
        # each query after django-tenants' SET search_path: about half of these are SETs
        ("/catalog/", 30),
        ("/catalog/?q=bulk&sort=-name", 30),
        ("/catalog/public/", 16),
        ("/catalog/public/?q=bulk", 20),
        ("public_group", 20),
        ("store", 30),
        ("customer_prices", 20),
    ],
)
def test_pages_run_the_same_queries_at_10_and_1000_offers(
    alpha_admin_client, catalog, url, limit, django_assert_max_num_queries
):
    if url == "public_group":
        url = f"/catalog/public/groups/{catalog['group'].pk}/"
    elif url == "store":
        url = f"/catalog/store/{catalog['tenant'].pk}/"
    elif url == "customer_prices":
        url = "/catalog/customer-prices/"
    alpha_admin_client.get(url)  # the first request of a session does its own set-up queries
    counts = []
    for total in (10, 1000):
        _more_offers(catalog, total - Offer.objects.count())
        if url == "/catalog/customer-prices/":
            for offer in Offer.objects.filter(customer_prices__isnull=True)[: total // 10]:
                customer_price(catalog["contoso"], offer, markup_percent=Decimal("3"))
        with django_assert_max_num_queries(limit) as captured:
            response = alpha_admin_client.get(url)
        assert response.status_code == 200
        counts.append(len(captured))
    assert Offer.objects.count() == 1000
    assert counts[0] == counts[1], counts


def test_a_tenant_admin_of_two_customers_sees_no_single_price(catalog, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        user = user_with("two-admin", TENANT_ADMIN_LEVELS, all_customers=False, kind=UserKind.CUSTOMER_ADMIN)
        user.customers.add(catalog["contoso"], catalog["fabrikam"])
    client = signed_in_client(partner_alpha, "two-admin", PASSWORD)
    body = text(client.get("/catalog/"))
    assert "Microsoft 365 E3" in body and "14.87" not in body and "Demo reseller" not in body
    body = text(client.get(f"/catalog/offers/{catalog['e3'].pk}/"))
    assert "Microsoft 365 E3" in body and "14.87" not in body
    assert "€14.87" in text(client.get(f"/catalog/store/{catalog['fabrikam_tenant'].pk}/"))
