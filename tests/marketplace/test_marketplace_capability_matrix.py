"""Settings > Marketplace capabilities: built from the providers' declared capabilities and rules."""

from django.urls import reverse
from django.utils.html import escape
from django_tenants.utils import schema_context

from marketplace.capabilities import capability_matrix, marketplace_capability
from marketplace.providers.base import Capability
from marketplace.providers.registry import provider_class
from tests.factories.accounts import user_with
from tests.support import PASSWORD, host_of, signed_in_client

URL = "/settings/marketplace-capabilities/"


def test_the_matrix_has_a_column_per_marketplace_and_a_row_per_action():
    marketplaces, rows = capability_matrix()

    assert [info.slug for info in marketplaces] == ["also", "partner_center", "cloudmore", "alef"]
    assert [row.capability for row in rows] == list(Capability)
    assert all(len(row.cells) == 4 for row in rows)


def test_a_cell_says_what_the_provider_declares():
    suspend_at_also = marketplace_capability(marketplace="also", capability=Capability.SUSPEND)
    cycle_at_cloudmore = marketplace_capability(marketplace="cloudmore", capability=Capability.CHANGE_BILLING_CYCLE)
    order_at_pc = marketplace_capability(marketplace="partner_center", capability=Capability.PLACE_ORDER)

    assert suspend_at_also.supported is (Capability.SUSPEND in provider_class("also").capabilities)
    assert cycle_at_cloudmore.supported is False
    assert cycle_at_cloudmore.rule == provider_class("cloudmore").capability_rules[Capability.CHANGE_BILLING_CYCLE]
    assert order_at_pc.supported is True and order_at_pc.rule
    assert marketplace_capability(marketplace="nowhere", capability=Capability.SUSPEND) is None


def test_settings_shows_the_matrix_with_the_rules(alpha_admin_client):
    response = alpha_admin_client.get(URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert reverse("settings:marketplace_capabilities") == URL
    assert 'data-testid="capability-matrix"' in page
    for name in ("ALSO", "Microsoft Partner Center", "Cloudmore", "ALEF"):
        assert f">{name}</th>" in page
    cell = page.split('data-testid="capability-change_billing_cycle-cloudmore"', 1)[1].split("</td>", 1)[0]
    assert "Not supported" in cell
    assert escape(provider_class("cloudmore").capability_rules[Capability.CHANGE_BILLING_CYCLE]) in cell
    supported = page.split('data-testid="capability-suspend-partner_center"', 1)[1].split("</td>", 1)[0]
    assert "Supported" in supported and "Not supported" not in supported


def test_the_settings_navigation_links_to_it(alpha_admin_client):
    page = alpha_admin_client.get("/settings/audit-logs/").content.decode()

    assert f'href="{URL}"' in page


def test_a_user_without_settings_access_is_refused(partner_alpha):
    with schema_context(partner_alpha.schema_name):
        user_with("nosettings", {}, email="nosettings@alpha.example")
    client = signed_in_client(partner_alpha, username="nosettings", password=PASSWORD)

    assert client.get(URL, HTTP_HOST=host_of(partner_alpha)).status_code == 403


def test_another_partners_session_is_sent_to_sign_in(beta_admin_client, partner_alpha):
    response = beta_admin_client.get(URL, HTTP_HOST=host_of(partner_alpha))

    assert response.status_code == 302
