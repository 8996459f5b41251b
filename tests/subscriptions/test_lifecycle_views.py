"""The lifecycle screens as users see them: the Subscriptions list (grouped, ALEF columns, manage columns,
Apply changes), details with Manage subscription, add-ons and audit logs, the commitment calendar, licence
change requests, Tenant settings > Licenses, the customer's Subscriptions tab; scope and permissions."""

import re

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from orders.models import Order
from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from subscriptions.choices_lifecycle import RequestStatus
from subscriptions.models import LicenseChangeRequest, ScheduledChange, TenantLicenseSettings
from subscriptions.selectors_subscriptions import subscription_version
from subscriptions.services_lifecycle import scheduled_decrease_create
from tests.factories.accounts import user_with
from tests.factories.customers import CustomerTenantFactory
from tests.subscriptions.lifecycle_support import (
    SUBSCRIPTIONS_MANAGE,
    SUBSCRIPTIONS_VIEW,
    host_client,
    scoped_user,
    subscription_row,
)
from tests.support import host_of

BASIC = "Microsoft 365 Business Basic"
E3 = "Microsoft 365 E3"


@pytest.fixture
def admin(partner_alpha):
    from tests.support import signed_in_client

    return signed_in_client(partner_alpha)


@pytest.fixture
def other_tenant(contoso):
    """A subscription of another customer, outside a scoped user's customers."""
    return subscription_row(CustomerTenantFactory(customer__name="Elsewhere"), contoso.account, name="Elsewhere E5")


@pytest.fixture
def tenant_admin(contoso):
    return user_with(
        "contoso-admin", SUBSCRIPTIONS_MANAGE, kind=UserKind.CUSTOMER_ADMIN, customers=[contoso.tenant.customer]
    )


def text(response) -> str:
    return response.content.decode()


# -- list ------------------------------------------------------------------------------------------------------------


def test_the_list_groups_by_product_and_domain_with_alef_columns(contoso, northwind, admin):
    body = text(admin.get("/subscriptions/"))

    assert 'data-testid="subscription-table"' in body
    # the default columns fit 1366 px: add-ons, vendor, type and yearly cost are a Manage columns choice away
    for column in ("Renewal", "Assigned", "Purchased", "Unit cost a month", "Monthly cost",
                   "Monthly price", "Yearly price", "Status"):  # fmt: skip
        assert f">{column}</th>" in body, column
    assert ">Vendor</th>" not in body and ">Yearly cost</th>" not in body and ">Add-ons</th>" not in body
    assert "contoso.onmicrosoft.com" in body and "northwind.onmicrosoft.com" in body
    assert body.count("data-product-group") >= 1 and body.count("data-domain-group") >= 2
    assert 'data-testid="trial"' in body  # Northwind's Business Premium trial
    basic = contoso.subscription(BASIC)
    assert f'name="q-{basic.pk}" value="10"' in body  # quantities edited in place
    assert 'data-testid="apply-changes"' in body


def test_search_and_filters_live_in_the_query_string(contoso, northwind, admin):
    body = text(admin.get("/subscriptions/", {"q": "contoso", "status": "active"}))
    assert "contoso.onmicrosoft.com" in body and "northwind.onmicrosoft.com" not in body

    body = text(admin.get("/subscriptions/", {"trial": "yes"}))
    assert "Microsoft 365 Business Premium" in body and E3 not in body

    response = admin.get("/subscriptions/", {"q": "nothing-like-this"}, HTTP_HX_REQUEST="true")
    assert "No subscriptions match" in text(response) and "<html" not in text(response)


def test_manage_columns_is_remembered(contoso, admin, partner_alpha):
    response = admin.post("/subscriptions/columns/", {"columns": ["renewal", "status"], "query": "q=e3"})

    assert response.status_code == 302 and response["Location"] == "/subscriptions/?q=e3"
    body = text(admin.get("/subscriptions/"))
    headers = re.findall(r'data-column="([a-z_]+)"', body)
    assert headers == ["renewal", "status"]


def test_cost_columns_are_hidden_from_users_who_may_not_see_cost(contoso, partner_alpha):
    viewer = user_with("viewer", SUBSCRIPTIONS_VIEW)
    body = text(host_client(partner_alpha, viewer).get("/subscriptions/"))

    assert ">Monthly price</th>" in body
    assert ">Unit cost a month</th>" not in body and ">Monthly cost</th>" not in body
    assert 'data-testid="apply-changes"' not in body  # view only


def test_apply_changes_shows_a_summary_then_places_one_order_with_a_line_per_change(
    contoso, admin, django_capture_on_commit_callbacks
):
    basic, e3 = contoso.subscription(BASIC), contoso.subscription(E3)
    form = {
        f"q-{basic.pk}": "12",
        f"o-{basic.pk}": "10",
        f"v-{basic.pk}": subscription_version(basic),
        f"q-{e3.pk}": "27",
        f"o-{e3.pk}": "25",
        f"v-{e3.pk}": subscription_version(e3),
    }

    summary = admin.post("/subscriptions/changes/", form)

    assert summary.status_code == 200
    body = text(summary)
    assert 'data-testid="changes-summary"' in body and body.count('data-timing="now"') == 2
    assert "Costs about" in body
    assert not Order.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        done = admin.post("/subscriptions/changes/", {**form, "confirm": "1"})

    assert done.status_code == 302
    order = Order.objects.get()
    assert sorted(order.lines.values_list("quantity", flat=True)) == [12, 27]
    assert contoso.sim_subscription(basic).quantity == 12 and contoso.sim_subscription(e3).quantity == 27


def test_apply_changes_schedules_a_decrease_the_window_refuses(contoso, admin):
    e3 = contoso.subscription(E3)
    form = {f"q-{e3.pk}": "20", f"o-{e3.pk}": "25", f"v-{e3.pk}": subscription_version(e3)}

    body = text(admin.post("/subscriptions/changes/", form))
    assert 'data-timing="at_renewal"' in body and "Schedule this decrease for the renewal" in body

    admin.post("/subscriptions/changes/", {**form, "confirm": "1", f"s-{e3.pk}": "1"})

    assert ScheduledChange.objects.get(subscription=e3).quantity == 20
    assert not Order.objects.exists()
    assert "Decrease to 20 at renewal" in text(admin.get("/subscriptions/"))


def test_apply_changes_refuses_bad_input_and_saves_nothing(contoso, admin):
    basic = contoso.subscription(BASIC)

    response = admin.post("/subscriptions/changes/", {f"q-{basic.pk}": "ten", f"o-{basic.pk}": "10", "confirm": "1"})

    assert response.status_code == 200 and "is not a whole number" in text(response)
    assert not Order.objects.exists()


def test_a_customer_tenant_admins_changes_become_requests(contoso, tenant_admin, partner_alpha):
    basic = contoso.subscription(BASIC)
    client = host_client(partner_alpha, tenant_admin)
    body = text(client.get("/subscriptions/"))
    assert "Request changes" in body and "Unit cost" not in body

    response = client.post(
        "/subscriptions/changes/",
        {f"q-{basic.pk}": "12", f"o-{basic.pk}": "10", f"v-{basic.pk}": subscription_version(basic), "confirm": "1"},
    )

    assert response.status_code == 302 and response["Location"] == "/subscriptions/requests/"
    request = LicenseChangeRequest.objects.get()
    assert request.requested_by == tenant_admin and request.status == RequestStatus.PENDING
    assert not Order.objects.exists()


# -- detail ----------------------------------------------------------------------------------------------------------


def test_details_show_basics_commitment_and_the_actions_the_marketplace_offers(contoso, admin):
    e3 = contoso.subscription(E3)

    body = text(admin.get(f"/subscriptions/{e3.pk}/"))

    assert 'data-testid="basics"' in body and e3.external_id in body
    assert "Window closed" in body and "If terminated now:" in body and "without a refund" in body
    assert 'data-action="suspend"' in body and 'data-action="terminate"' in body
    # not offered, with the reason
    assert "switches auto-renew only through Terminate and Revoke termination" in body
    assert "This subscription is not a trial." in body


def test_the_quantity_preview_follows_what_the_user_types(contoso, admin):
    e3 = contoso.subscription(E3)

    response = admin.get(f"/subscriptions/{e3.pk}/quantity/", {"quantity": "20"}, HTTP_HX_REQUEST="true")

    body = text(response)
    assert 'data-timing="at_renewal"' in body and "<html" not in body


def test_edit_quantity_from_the_details(contoso, admin, django_capture_on_commit_callbacks):
    basic = contoso.subscription(BASIC)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            f"/subscriptions/{basic.pk}/quantity/", {"quantity": "11", "version": subscription_version(basic)}
        )

    assert response.status_code == 302
    assert contoso.sim_subscription(basic).quantity == 11


def test_edit_quantity_refused_by_the_window_says_why(contoso, admin):
    e3 = contoso.subscription(E3)

    response = admin.post(f"/subscriptions/{e3.pk}/quantity/", {"quantity": "20", "version": subscription_version(e3)})

    assert response.status_code == 409
    assert "cancellation window closed" in text(response)
    assert not Order.objects.exists() and not ScheduledChange.objects.exists()


def test_manage_subscription_suspend_is_confirmed_first(contoso, admin, django_capture_on_commit_callbacks):
    basic = contoso.subscription(BASIC)
    page = text(admin.get(f"/subscriptions/{basic.pk}/manage/suspend/"))
    assert 'data-testid="confirm-action"' in page and "I understand what this does" in page

    response = admin.post(f"/subscriptions/{basic.pk}/manage/suspend/", {"version": subscription_version(basic)})
    assert response.status_code == 400 and not Order.objects.exists()  # not confirmed

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            f"/subscriptions/{basic.pk}/manage/suspend/", {"version": subscription_version(basic), "confirm": "on"}
        )
    assert response.status_code == 302
    assert contoso.sim_subscription(basic).status == "suspended"


def test_an_action_the_marketplace_does_not_offer_shows_the_reason(contoso, admin):
    e3 = contoso.subscription(E3)

    body = text(admin.get(f"/subscriptions/{e3.pk}/manage/auto_renew/"))

    assert 'data-testid="not-available"' in body and 'data-testid="confirm-action"' not in body
    assert admin.post(f"/subscriptions/{e3.pk}/manage/auto_renew/", {"enabled": "0"}).status_code == 409


def test_friendly_name(contoso, admin):
    e3 = contoso.subscription(E3)

    admin.post(f"/subscriptions/{e3.pk}/manage/friendly_name/", {"friendly_name": "HQ E3"})

    assert "HQ E3" in text(admin.get("/subscriptions/"))
    assert "HQ E3" in text(admin.get("/subscriptions/", {"q": "HQ"}))


def test_add_ons_tab_and_audit_logs_with_refresh(contoso, admin, django_capture_on_commit_callbacks):
    e3 = contoso.subscription(E3)
    body = text(admin.get(f"/subscriptions/{e3.pk}/", {"tab": "add_ons"}))
    assert "Microsoft Teams Phone Standard" in body and 'data-testid="add-add-on"' in body

    add_on = e3.add_ons[0]["external_id"]
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"/subscriptions/{e3.pk}/add-ons/{add_on}/", {"quantity": "11", "version": subscription_version(e3)})
    assert contoso.simulator.subscriptions[add_on].quantity == 11

    audit = admin.get(
        f"/subscriptions/{e3.pk}/", {"tab": "audit"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="audit-events"
    )
    assert (
        "Add-on changed" in text(audit)
        and "subscription.add_on_change" not in text(audit)
        and "<html" not in text(audit)
    )


def test_cancel_a_scheduled_decrease_from_the_details(contoso, admin, manager):
    e3 = contoso.subscription(E3)
    change = scheduled_decrease_create(actor=manager, subscription=e3, quantity=20, version=None)
    assert f'data-scheduled="{change.pk}"' in text(admin.get(f"/subscriptions/{e3.pk}/"))

    assert admin.get(f"/subscriptions/scheduled/{change.pk}/cancel/").status_code == 405
    admin.post(f"/subscriptions/scheduled/{change.pk}/cancel/")

    change.refresh_from_db()
    assert change.status == "cancelled"


# -- calendar --------------------------------------------------------------------------------------------------------


def test_the_calendar_lists_windows_and_renewals_soonest_first(contoso, northwind, admin, manager):
    scheduled_decrease_create(actor=manager, subscription=contoso.subscription(E3), quantity=20, version=None)

    body = text(admin.get("/subscriptions/calendar/"))

    dates = re.findall(r'data-subscription="(\d+)"', body)
    assert len(dates) >= 3
    assert 'data-testid="window-open"' in body  # Contoso's Business Basic, bought 3 days ago
    assert 'data-testid="calendar-scheduled"' in body and "25 → 20" in body
    first = body.index(BASIC)
    assert first < body.index(E3)

    filtered = text(admin.get("/subscriptions/calendar/", {"customer": northwind.tenant.customer_id}))
    assert "Contoso" not in filtered.split('data-testid="calendar"')[-1]


# -- requests and settings -------------------------------------------------------------------------------------------


def test_requests_list_detail_and_decision(
    contoso, tenant_admin, partner_alpha, admin, django_capture_on_commit_callbacks
):
    basic = contoso.subscription(BASIC)
    requester = host_client(partner_alpha, tenant_admin)
    response = requester.post(
        "/subscriptions/requests/new/", {"subscription": basic.pk, "quantity": "13", "reason": "Hires"}
    )
    request = LicenseChangeRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/subscriptions/requests/{request.pk}/"
    # the requester sees it, cannot decide it
    body = text(requester.get(f"/subscriptions/requests/{request.pk}/"))
    assert 'data-testid="decision-refusal"' in body

    listing = text(admin.get("/subscriptions/requests/", {"status": "pending"}))
    assert f'data-request="{request.pk}"' in listing and "10 → 13" in listing
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"/subscriptions/requests/{request.pk}/decide/", {"decision": "approve", "comment": "ok"})

    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED and contoso.sim_subscription(basic).quantity == 13


def test_tenant_license_settings(contoso, admin, tenant_admin, partner_alpha):
    url = f"/subscriptions/tenants/{contoso.tenant.pk}/licenses/"
    assert 'data-testid="license-settings"' in text(admin.get(url))

    response = admin.post(
        url,
        {
            "approval_required": "on",
            "second_approval_seats": "10",
            "second_approval_amount": "500",
            "auto_purchase_enabled": "on",
            "auto_purchase_step": "2",
            "auto_purchase_cap": "50",
            "auto_decrease_buffer": "1",
            "auto_decrease_lead_days": "2",
        },
    )

    assert response.status_code == 302
    settings = TenantLicenseSettings.objects.get(customer_tenant=contoso.tenant)
    assert settings.second_approval_seats == 10 and settings.auto_purchase_cap == 50
    bad = admin.post(url, {"auto_purchase_step": "0", "auto_decrease_buffer": "0", "auto_decrease_lead_days": "9"})
    assert bad.status_code == 400 and "7 days" in text(bad)
    # partner settings: a customer tenant admin may not change the approval rules
    assert host_client(partner_alpha, tenant_admin).get(url).status_code == 403


def test_the_customers_subscriptions_tab_loads_the_table_filtered_to_the_customer(contoso, northwind, admin):
    customer = contoso.tenant.customer
    tab = text(admin.get(f"/customers/{customer.pk}/", {"tab": "subscriptions"}))
    assert 'data-testid="customer-subscriptions"' in tab and "coming soon" not in tab

    embedded = text(admin.get("/subscriptions/", {"embed": "customer", "customer": customer.pk}))
    assert "contoso.onmicrosoft.com" in embedded and "northwind.onmicrosoft.com" not in embedded
    assert "<html" not in embedded


# -- scope -----------------------------------------------------------------------------------------------------------


def test_out_of_scope_objects_are_404_for_a_scoped_role(contoso, other_tenant, partner_alpha):
    scoped = scoped_user("scoped", SUBSCRIPTIONS_MANAGE, customers=[contoso.tenant.customer])
    client = host_client(partner_alpha, scoped)
    mine = contoso.subscription(E3)

    assert client.get(f"/subscriptions/{mine.pk}/").status_code == 200
    assert client.get(f"/subscriptions/{other_tenant.pk}/").status_code == 404
    assert client.get(f"/subscriptions/{other_tenant.pk}/manage/suspend/").status_code == 404
    assert client.get(f"/subscriptions/tenants/{other_tenant.customer_tenant_id}/licenses/").status_code == 404
    assert "Elsewhere E5" not in text(client.get("/subscriptions/"))
    # a change of an out-of-scope row in Apply changes is ignored
    client.post("/subscriptions/changes/", {f"q-{other_tenant.pk}": "1", f"o-{other_tenant.pk}": "10", "confirm": "1"})
    assert not Order.objects.exists()


def test_another_partners_session_is_anonymous_here(contoso, partner_alpha, partner_beta, beta_admin_client):
    intruder = Client(HTTP_HOST=host_of(partner_alpha))
    intruder.cookies["sessionid"] = beta_admin_client.cookies["sessionid"].value
    with schema_context(partner_alpha.schema_name):  # signing in at beta left beta's schema active
        e3 = contoso.subscription(E3)

    for path in (f"/subscriptions/{e3.pk}/", "/subscriptions/", "/subscriptions/calendar/"):
        response = intruder.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/sign-in/")


def test_view_only_users_cannot_act(contoso, partner_alpha):
    viewer = user_with("viewer", {PermissionModule.SUBSCRIPTIONS: AccessLevel.VIEW})
    client = host_client(partner_alpha, viewer)
    basic = contoso.subscription(BASIC)

    assert client.get(f"/subscriptions/{basic.pk}/").status_code == 200
    assert client.post(f"/subscriptions/{basic.pk}/manage/suspend/", {"confirm": "on"}).status_code == 403
    assert client.post(f"/subscriptions/{basic.pk}/quantity/", {"quantity": "12"}).status_code == 403
    assert not Order.objects.exists()


def test_a_tenfold_quantity_increase_needs_a_confirmation(contoso, admin, django_capture_on_commit_callbacks):
    from catalog.pricing import guardrails_check, guardrails_token

    basic = contoso.subscription(BASIC)
    target = basic.quantity * 10 + 1
    data = {"quantity": str(target), "version": subscription_version(basic)}

    response = admin.post(f"/subscriptions/{basic.pk}/quantity/", data)

    assert response.status_code == 400
    assert f"I confirm {target} seats (more than ten times the current {basic.quantity})" in text(response)
    assert not Order.objects.exists()
    token = guardrails_token(
        guardrails_check(currency=basic.currency, quantity=target, current_quantity=basic.quantity, seat_limit=300)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/subscriptions/{basic.pk}/quantity/", {**data, "confirm_guardrails": token})
    assert response.status_code == 302


def test_a_customers_request_for_a_huge_quantity_needs_a_confirmation(contoso, tenant_admin, partner_alpha):
    basic = contoso.subscription(BASIC)
    requester = host_client(partner_alpha, tenant_admin)
    data = {"subscription": basic.pk, "quantity": "100000", "reason": "Typo"}

    response = requester.post(f"/subscriptions/requests/new/?subscription={basic.pk}", data)

    assert response.status_code == 400
    assert "I confirm 100000 seats (more than ten times the current 10)" in text(response)
    assert "is-invalid" in text(response)
    assert not LicenseChangeRequest.objects.exists()
