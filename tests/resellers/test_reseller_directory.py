"""The reseller directory: list, filters and chips, columns, map, delete, visibility, who may see it."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django_tenants.utils import schema_context

from pools.choices import AllocationStatus
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.models import Role
from portal.audit.models import AuditEvent, Notification
from resellers.choices import ResellerStatus
from resellers.models import ResellerLink
from resellers.services import reseller_customer_visibility_set
from tests.factories import UserFactory
from tests.pools.pool_support import admin_of, allocation_make, link_make, partner_make, pool_make
from tests.support import PASSWORD, host_of, signed_in_client

LAR_PAGES = [
    "/resellers/",
    "/resellers/invite/",
    "/resellers/invite/batch/",
    "/resellers/invite/batch/template.xlsx",
    "/pools/",
]


def _rows(content: str) -> list[str]:
    table = content.split('data-testid="reseller-table"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<span class="fw-semibold">([^<]+)</span>|class="fw-semibold">([^<]+)</a>', table)


def _names(content: str) -> list[str]:
    return [plain or linked for plain, linked in _rows(content)]


@pytest.fixture
def directory(partner_beta, partner_alpha):
    return {
        "mapped": link_make(partner_beta, partner_alpha),
        "unmapped": link_make(
            partner_beta,
            None,
            status=ResellerStatus.UNMAPPED,
            email="owner@northwind.example",
            organisation_name="Northwind Resale",
        ),
        "declined": link_make(
            partner_beta, None, status=ResellerStatus.UNMAPPED, email="x@contoso.example", organisation_name="Contoso"
        ),
    }


def test_the_directory_lists_searches_and_filters_with_removable_chips(directory, beta_admin_client):
    page = beta_admin_client.get("/resellers/").content.decode()
    assert _names(page) == ["Alpha IT Services", "Contoso", "Northwind Resale"]
    assert "3 resellers" in page

    page = beta_admin_client.get("/resellers/", {"q": "northwind.example"}).content.decode()
    assert _names(page) == ["Northwind Resale"]

    page = beta_admin_client.get("/resellers/", {"status": "unmapped", "q": "o"}).content.decode()
    assert _names(page) == ["Contoso", "Northwind Resale"]
    chips = page.split('data-testid="filter-chips"', 1)[1].split("</div>", 1)[0]
    assert "Status:</span> Unmapped" in chips
    assert 'href="/resellers/?q=o"' in chips  # removing the status chip keeps the search

    page = beta_admin_client.get("/resellers/", {"q": "nobody-matches"}).content.decode()
    assert "No resellers match" in page


def test_the_directory_htmx_request_gets_only_the_results(directory, beta_admin_client):
    response = beta_admin_client.get("/resellers/", {"status": "mapped"}, headers={"HX-Request": "true"})
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="results">')
    assert _names(content) == ["Alpha IT Services"]


def test_manage_columns_is_remembered(directory, beta_admin_client, partner_beta):
    response = beta_admin_client.post("/resellers/columns/", {"columns": ["status", "invited_by"], "query": "q=alpha"})
    assert response.status_code == 302 and response["Location"] == "/resellers/?q=alpha"
    page = beta_admin_client.get("/resellers/").content.decode()
    assert 'data-column="invited_by"' in page and 'data-column="status"' in page
    assert 'data-column="tenant_owner"' not in page
    with schema_context(partner_beta.schema_name):
        assert admin_of(partner_beta).preferences["resellers.directory.columns"] == ["status", "invited_by"]


def test_map_an_unmapped_reseller_to_the_partner_that_signed_up(directory, partner_beta, beta_admin_client):
    newcomer = partner_make("northwind", name="Northwind Resale GmbH")
    link = directory["unmapped"]
    page = beta_admin_client.get(f"/resellers/{link.pk}/map/").content.decode()
    assert "Northwind Resale GmbH · admin@northwind.example" in page
    # a partner the search does not offer cannot be posted in
    other = partner_make("outsider")
    response = beta_admin_client.post(f"/resellers/{link.pk}/map/", {"partner": other.pk})
    assert response.status_code == 200
    link.refresh_from_db()
    assert link.status == ResellerStatus.UNMAPPED
    response = beta_admin_client.post(f"/resellers/{link.pk}/map/", {"partner": newcomer.pk})
    assert response.status_code == 302
    link.refresh_from_db()
    assert (link.status, link.reseller) == (ResellerStatus.MAPPED, newcomer)
    with schema_context(partner_beta.schema_name):
        assert AuditEvent.objects.filter(action="reseller.map", target_id=str(link.pk)).exists()
    with schema_context(newcomer.schema_name):
        assert Notification.objects.filter(title="Beta Distribution added you to its reseller directory").exists()


def test_delete_needs_a_typed_yes_and_no_active_pooled_subscription(
    directory, partner_beta, partner_alpha, beta_admin_client
):
    link = directory["mapped"]
    pool = pool_make(partner_beta)
    active = allocation_make(pool, partner_alpha, status=AllocationStatus.ACCEPTED)
    allocation_make(pool, partner_alpha, status=AllocationStatus.EXPIRED)

    page = beta_admin_client.get(f"/resellers/{link.pk}/delete/").content.decode()
    assert "has 1 active pooled subscription" in page
    response = beta_admin_client.post(f"/resellers/{link.pk}/delete/", {"confirmation": "Yes"})
    assert response.status_code == 400
    assert "active pooled subscription(s)" in response.content.decode()
    assert ResellerLink.objects.filter(pk=link.pk).exists()

    active.status = AllocationStatus.RETURNED
    active.save()
    response = beta_admin_client.post(f"/resellers/{link.pk}/delete/", {"confirmation": "no"})
    assert response.status_code == 400 and "Type Yes to confirm" in response.content.decode()
    response = beta_admin_client.post(f"/resellers/{link.pk}/delete/", {"confirmation": "yes"})
    assert response.status_code == 302
    assert not ResellerLink.objects.filter(pk=link.pk).exists()
    with schema_context(partner_beta.schema_name):
        assert AuditEvent.objects.filter(action="reseller.delete", target_id=str(link.pk)).exists()


def test_the_lar_switches_visibility_off_and_only_the_reseller_switches_it_on(
    directory, partner_beta, partner_alpha, beta_admin_client, alpha_admin_client
):
    link = directory["mapped"]
    page = beta_admin_client.get("/resellers/").content.decode()
    assert 'data-testid="visibility-switch"' in page
    assert beta_admin_client.get(f"/resellers/{link.pk}/visibility/off/").status_code == 405
    beta_admin_client.post(f"/resellers/{link.pk}/visibility/off/")
    link.refresh_from_db()
    assert not link.customers_visible
    page = beta_admin_client.get("/resellers/").content.decode()
    assert "Only the reseller can turn this back on." in page

    with schema_context(partner_beta.schema_name), pytest.raises(ValidationError) as excinfo:
        reseller_customer_visibility_set(actor=None, partner=partner_beta, link=link, visible=True)
    assert "Only the reseller" in excinfo.value.messages[0]

    alpha_admin_client.post(f"/resellers/my-providers/{link.pk}/visibility/", {"visible": "on"})
    link.refresh_from_db()
    assert link.customers_visible
    with schema_context(partner_alpha.schema_name):
        assert AuditEvent.objects.filter(action="reseller.customer_visibility").exists()
    with schema_context(partner_beta.schema_name):
        assert Notification.objects.filter(title="Alpha IT Services lets you view its customers").exists()
    alpha_admin_client.post(f"/resellers/my-providers/{link.pk}/visibility/", {"visible": "off"})
    link.refresh_from_db()
    assert not link.customers_visible


# --- who may see the directory ------------------------------------------------------------------


@pytest.mark.parametrize("path", LAR_PAGES)
def test_a_service_provider_that_is_no_lar_gets_404(partner_alpha, alpha_admin_client, path):
    assert alpha_admin_client.get(path).status_code == 404


@pytest.mark.parametrize("path", LAR_PAGES)
def test_betas_session_at_alphas_host_is_anonymous(partner_alpha, partner_beta, beta_admin_client, path):
    intruder = Client(HTTP_HOST=host_of(partner_alpha))
    intruder.cookies["sessionid"] = beta_admin_client.cookies["sessionid"].value
    response = intruder.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/sign-in/")


def test_another_lars_reseller_is_a_404(directory, partner_alpha, beta_admin_client):
    gamma = partner_make("gamma-lar", large_account_reseller=True)
    theirs = link_make(gamma, partner_alpha)
    for path in (f"/resellers/{theirs.pk}/map/", f"/resellers/{theirs.pk}/delete/", f"/pools/?reseller={theirs.pk}"):
        assert beta_admin_client.get(path).status_code == 404, path
    assert beta_admin_client.post(f"/resellers/{theirs.pk}/visibility/off/").status_code == 404
    assert beta_admin_client.post(f"/resellers/{theirs.pk}/delete/", {"confirmation": "Yes"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.customers_visible
    page = beta_admin_client.get("/resellers/").content.decode()
    assert "gamma" not in page.lower()


def test_module_permissions_decide_view_and_manage(directory, partner_beta):
    with schema_context(partner_beta.schema_name):
        viewer_role = Role.objects.create(
            name="Reseller viewer", permissions={PermissionModule.RESELLERS: AccessLevel.VIEW}
        )
        nothing_role = Role.objects.create(
            name="Customers only", permissions={PermissionModule.CUSTOMERS: AccessLevel.MANAGE}
        )
        UserFactory(username="viewer").roles.add(viewer_role)
        UserFactory(username="outsider").roles.add(nothing_role)
    viewer = signed_in_client(partner_beta, username="viewer", password=PASSWORD)
    page = viewer.get("/resellers/")
    assert page.status_code == 200
    assert "Invite new reseller" not in page.content.decode()
    assert 'data-testid="visibility-switch"' not in page.content.decode()
    assert viewer.get("/resellers/invite/").status_code == 403
    assert viewer.post(f"/resellers/{directory['mapped'].pk}/visibility/off/").status_code == 403
    assert viewer.get("/pools/").status_code == 200
    outsider = signed_in_client(partner_beta, username="outsider", password=PASSWORD)
    assert outsider.get("/resellers/").status_code == 403
    assert outsider.get("/pools/").status_code == 403


# --- query counts -------------------------------------------------------------------------------


def test_the_directory_runs_a_constant_number_of_queries(
    directory, partner_beta, partner_alpha, beta_admin_client, django_assert_max_num_queries
):
    pool = pool_make(partner_beta)
    allocation_make(pool, partner_alpha, seats=5)
    beta_admin_client.get("/resellers/")  # the first request after sign-in also binds the session
    with django_assert_max_num_queries(16) as small:
        assert beta_admin_client.get("/resellers/").status_code == 200
    for slug in ("reseller-one", "reseller-two"):
        reseller = partner_make(slug)
        link_make(partner_beta, reseller)
        allocation_make(pool, reseller, seats=5)
    ResellerLink.objects.bulk_create(
        ResellerLink(
            large_account_reseller=partner_beta,
            email=f"owner{number}@reseller{number}.example",
            organisation_name=f"Reseller {number:03d}",
            status=ResellerStatus.UNMAPPED,
        )
        for number in range(495)
    )
    assert ResellerLink.objects.filter(large_account_reseller=partner_beta).count() == 500
    with django_assert_max_num_queries(16) as large:
        response = beta_admin_client.get("/resellers/", {"sort": "-pools"})
    assert response.status_code == 200
    assert "500 resellers" in response.content.decode()
    assert len(large) == len(small)
