"""An account renamed in place: the page's heading, breadcrumb and window title follow without a reload."""

import pytest
from django_tenants.utils import schema_context

from portal.partners.models import Partner
from tests.browser.conftest import totp_code_of
from tests.factories.marketplace import AccountFactory
from tests.support import PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def cloudmore_account(django_db_setup, django_db_blocker):
    """A committed Cloudmore account of alpha (it shows no live credit panel, so the page asks no marketplace)."""
    with django_db_blocker.unblock():
        schema = Partner.objects.get(slug="alpha").schema_name
        with schema_context(schema):
            account = AccountFactory(marketplace="cloudmore", display_name="Cloudmore Nordic", region="se")
    yield account
    with django_db_blocker.unblock(), schema_context(schema):
        account.delete()


def test_renaming_an_account_updates_its_heading(alpha_admin_authenticator, cloudmore_account, browser, console_server):
    base = f"http://alpha.console.test:{console_server}"
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(base + f"/marketplace/cloudmore/accounts/{cloudmore_account.pk}/")
    page.get_by_label("Username or email").fill("admin@alpha.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Code").fill(totp_code_of(alpha_admin_authenticator))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + f"/marketplace/cloudmore/accounts/{cloudmore_account.pk}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Cloudmore Nordic")

    page.get_by_role("link", name="Edit Display name").click()
    page.locator("#field-display_name input[name=value]").fill("Cloudmore Sweden")
    page.locator("#field-display_name").get_by_role("button", name="Save").click()

    page.get_by_test_id("field-display_name").get_by_text("Cloudmore Sweden").wait_for()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Cloudmore Sweden")
    assert "Cloudmore Sweden" in page.locator(".console-breadcrumb").inner_text()
    assert page.title().startswith("Cloudmore Sweden")
