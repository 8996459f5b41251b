"""Marketplace accounts ("resellers"): add with the marketplace's verdict, secrets encrypted and never
shown, inline edits, delete rules, Sync now, permissions and partner isolation."""

import re

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django_tenants.utils import schema_context

from marketplace.choices import SyncStatus
from marketplace.models import MarketplaceAccount, SyncRun
from marketplace.rate_budget import account_rate_budget
from marketplace.secrets import secret_decrypt
from marketplace.sync import sync_concurrency
from portal.audit.models import AuditEvent
from simulators.also import (
    DEMO_PASSWORD,
    DEMO_USERNAME,
    MFA_PASSWORD,
    MFA_REASON,
    MFA_USERNAME,
    WRONG_CREDENTIALS_REASON,
)
from tests.factories.accounts import user_with
from tests.factories.customers import CustomerTenantFactory
from tests.factories.marketplace import MARKETPLACE_VIEW, AccountFactory, budget_clear, connect
from tests.support import PASSWORD, host_of, signed_in_client

ADD_URL = "/marketplace/also/accounts/add/"


def account_url(account, name="account_detail", **kwargs) -> str:
    return reverse(f"marketplace:{name}", kwargs={"marketplace": "also", "account_pk": account.pk, **kwargs})


def raw_secret(account) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_ciphertext FROM marketplace_marketplaceaccount WHERE id = %s", [account.pk])
        return cursor.fetchone()[0]


def add(client, **overrides):
    data = {"display_name": "ALSO Germany", "region": "de", "username": DEMO_USERNAME, "password": DEMO_PASSWORD}
    data.update(overrides)
    return client.post(ADD_URL, data)


def test_the_marketplace_index_shows_a_tile_for_also(alpha_admin_client):
    response = alpha_admin_client.get("/marketplace/")

    assert response.status_code == 200
    assert 'data-testid="marketplace-tile-also"' in response.content.decode()
    assert reverse("marketplace:index") == "/marketplace/"


def test_the_also_page_shows_the_resellers_tile_and_an_empty_tenant_list(alpha_admin_client):
    page = alpha_admin_client.get("/marketplace/also/").content.decode()

    assert 'data-testid="resellers-tile"' in page
    assert "View details" in page
    assert "No tenant is in the ALSO module yet" in page
    assert "Add tenant" in page


def test_an_unknown_marketplace_is_a_404(alpha_admin_client):
    assert alpha_admin_client.get("/marketplace/nowhere/").status_code == 404


def test_adding_an_account_tries_the_credentials_and_stores_the_secret_encrypted(
    alpha_admin_client, partner_alpha, simulator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = add(alpha_admin_client)

    with schema_context(partner_alpha.schema_name):
        account = MarketplaceAccount.objects.get()
        assert response.status_code == 302 and response["Location"] == account_url(account)
        assert simulator.call_counts["GetSessionToken"] >= 1
        stored = raw_secret(account)
        assert DEMO_PASSWORD not in stored
        assert secret_decrypt(stored) == DEMO_PASSWORD
        run = SyncRun.objects.get(account=account)
        assert run.status == SyncStatus.SUCCEEDED  # the first sync ran on commit
        event = AuditEvent.objects.get(action="marketplace.account.create")
        assert DEMO_PASSWORD not in str(event.after) and "secret" not in event.after


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [(DEMO_USERNAME, "wrong-password", WRONG_CREDENTIALS_REASON), (MFA_USERNAME, MFA_PASSWORD, MFA_REASON)],
)
def test_refused_credentials_show_the_marketplaces_reason_and_save_nothing(
    alpha_admin_client, partner_alpha, simulator, username, password, reason
):
    response = add(alpha_admin_client, username=username, password=password)

    page = response.content.decode()
    assert response.status_code == 200
    assert reason in page
    assert password not in page  # the password field is never filled back in
    with schema_context(partner_alpha.schema_name):
        assert not MarketplaceAccount.objects.exists()
        assert not SyncRun.objects.exists()


def test_a_user_of_another_region_is_refused_like_a_wrong_password(alpha_admin_client, partner_alpha, simulator):
    response = add(alpha_admin_client, region="at")

    assert WRONG_CREDENTIALS_REASON in response.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert not MarketplaceAccount.objects.exists()


def test_an_unavailable_marketplace_saves_nothing_and_says_so(alpha_admin_client, partner_alpha, simulator):
    simulator.inject(kind="unavailable", operation="GetSessionToken", count=10)

    response = add(alpha_admin_client)

    assert "did not answer" in response.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert not MarketplaceAccount.objects.exists()


def test_the_same_login_cannot_be_added_twice(alpha_admin_client, partner_alpha, simulator):
    with schema_context(partner_alpha.schema_name):
        AccountFactory(demo=True, display_name="Existing")

    response = add(alpha_admin_client, display_name="Another name")

    assert "already added" in response.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert MarketplaceAccount.objects.count() == 1


def test_the_secret_is_never_rendered_back(alpha_admin_client, partner_alpha, simulator):
    with schema_context(partner_alpha.schema_name):
        account = AccountFactory(demo=True, display_name="ALSO Germany")

    pages = [
        alpha_admin_client.get(account_url(account)),
        alpha_admin_client.get(account_url(account, "account_field_edit", field="password")),
        alpha_admin_client.get(account_url(account, "account_field_edit", field="password"), HTTP_HX_REQUEST="true"),
        alpha_admin_client.get("/marketplace/also/accounts/"),
    ]

    for response in pages:
        assert response.status_code == 200
        page = response.content.decode()
        assert DEMO_PASSWORD not in page
        assert account.secret_ciphertext not in page


def test_a_field_is_edited_inline(alpha_admin_client, partner_alpha, simulator):
    with schema_context(partner_alpha.schema_name):
        account = AccountFactory(demo=True, display_name="ALSO Germany")

    form = alpha_admin_client.get(
        account_url(account, "account_field_edit", field="display_name"), HTTP_HX_REQUEST="true"
    )
    assert form.status_code == 200 and 'name="value"' in form.content.decode()
    assert "<html" not in form.content.decode()

    response = alpha_admin_client.post(
        account_url(account, "account_field_edit", field="display_name"), {"value": "ALSO DE"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "ALSO DE" in response.content.decode() and 'id="field-display_name"' in response.content.decode()
    # the page heading and breadcrumb follow the new name without a reload (htmx swaps them out of band)
    assert '<span id="account-name" hx-swap-oob="true">ALSO DE</span>' in response.content.decode()
    assert '<span id="account-breadcrumb-name" hx-swap-oob="true">ALSO DE</span>' in response.content.decode()
    page = alpha_admin_client.get(account_url(account, "account_detail")).content.decode()
    assert '<h1><span id="account-name">ALSO DE</span>' in page
    with schema_context(partner_alpha.schema_name):
        account.refresh_from_db()
        assert account.display_name == "ALSO DE"
        assert AuditEvent.objects.filter(action="marketplace.account.update").exists()
    assert simulator.call_counts["GetSessionToken"] == 0  # no credential changed, nothing asked


def test_a_new_password_is_tried_before_it_is_saved(alpha_admin_client, partner_alpha, simulator):
    with schema_context(partner_alpha.schema_name):
        account = AccountFactory(demo=True, display_name="ALSO Germany")
        before = account.secret_ciphertext
    url = account_url(account, "account_field_edit", field="password")

    refused = alpha_admin_client.post(url, {"value": "not-the-password"}, HTTP_HX_REQUEST="true")

    assert WRONG_CREDENTIALS_REASON in refused.content.decode()
    assert "not-the-password" not in refused.content.decode()
    with schema_context(partner_alpha.schema_name):
        account.refresh_from_db()
        assert account.secret_ciphertext == before

    simulator.users[DEMO_USERNAME].password = "rotated-at-also"
    accepted = alpha_admin_client.post(url, {"value": "rotated-at-also"})

    assert accepted.status_code == 302
    with schema_context(partner_alpha.schema_name):
        account.refresh_from_db()
        assert secret_decrypt(account.secret_ciphertext) == "rotated-at-also"
        event = AuditEvent.objects.get(action="marketplace.account.update")
        assert event.after == {"secret": "(changed)"}


def test_delete_is_refused_while_tenants_are_connected(alpha_admin_client, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        account = AccountFactory(demo=True, display_name="ALSO Germany")
        connect(account, CustomerTenantFactory(), "100002")

    confirm = alpha_admin_client.get(account_url(account, "account_delete"))
    refused = alpha_admin_client.post(account_url(account, "account_delete"))

    assert "Disconnect" in confirm.content.decode()
    assert refused.status_code == 409
    assert "still connects 1 tenant" in refused.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert MarketplaceAccount.objects.filter(pk=account.pk).exists()


def test_an_account_without_tenants_is_deleted_after_confirmation(alpha_admin_client, partner_alpha):
    with schema_context(partner_alpha.schema_name):
        account = AccountFactory(demo=True, display_name="ALSO Germany")

    confirm = alpha_admin_client.get(account_url(account, "account_delete"))
    response = alpha_admin_client.post(account_url(account, "account_delete"))

    assert "OK" in confirm.content.decode()
    assert response.status_code == 302
    with schema_context(partner_alpha.schema_name):
        assert not MarketplaceAccount.objects.exists()
        assert AuditEvent.objects.filter(action="marketplace.account.delete").exists()


def test_sync_now_answers_the_live_panel_and_the_panel_stops_polling_when_done(
    alpha_admin_client, partner_alpha, simulator, django_capture_on_commit_callbacks
):
    with schema_context(partner_alpha.schema_name):
        account = AccountFactory(demo=True, display_name="ALSO Germany")

    response = alpha_admin_client.post(account_url(account, "account_sync"), HTTP_HX_REQUEST="true")

    panel = response.content.decode()
    assert response.status_code == 200
    assert 'id="sync-panel"' in panel and 'hx-trigger="every 2s"' in panel
    assert 'data-testid="sync-progress"' in panel

    with schema_context(partner_alpha.schema_name):
        run = SyncRun.objects.get(account=account)
        from marketplace.sync import sync_run_execute

        sync_run_execute(run_id=run.pk)
    polled = alpha_admin_client.get(
        account_url(account, "account_sync_status"), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'hx-trigger="every 2s"' not in polled
    assert "Succeeded" in polled and "+8" in polled


def test_rotate_command_re_encrypts_with_the_newest_key(partner_alpha, simulator):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(MARKETPLACE_SECRET_KEYS=[old_key]), schema_context(partner_alpha.schema_name):
        account = AccountFactory(demo=True, display_name="ALSO Germany")
        original = raw_secret(account)

    with override_settings(MARKETPLACE_SECRET_KEYS=[new_key, old_key]):
        from io import StringIO

        dry = StringIO()
        call_command("rotate_marketplace_secrets", "--partner", "alpha", "--dry-run", stdout=dry)
        with schema_context(partner_alpha.schema_name):
            assert raw_secret(account) == original
        out = StringIO()
        call_command("rotate_marketplace_secrets", "--partner", "alpha", stdout=out)
        with schema_context(partner_alpha.schema_name):
            rotated = raw_secret(account)

    assert "would re-encrypt 1 secret(s)" in dry.getvalue()
    assert "re-encrypted 1 secret(s)" in out.getvalue()
    assert rotated != original
    assert Fernet(new_key.encode()).decrypt(rotated.encode()).decode() == DEMO_PASSWORD
    with override_settings(MARKETPLACE_SECRET_KEYS=[new_key]):
        assert secret_decrypt(rotated) == DEMO_PASSWORD


def test_a_missing_key_outside_development_is_a_clear_error():
    from django.core.exceptions import ImproperlyConfigured

    from marketplace.secrets import secret_encrypt

    with (
        override_settings(MARKETPLACE_SECRET_KEYS=[]),
        pytest.raises(ImproperlyConfigured, match="MARKETPLACE_SECRET_KEYS"),
    ):
        secret_encrypt("x")


# -- permissions and isolation ----------------------------------------------------------------------------------------


def test_viewers_see_accounts_but_cannot_change_them(partner_alpha, simulator):
    with schema_context(partner_alpha.schema_name):
        account = AccountFactory(demo=True, display_name="ALSO Germany")
        user_with("viewer", MARKETPLACE_VIEW, email="viewer@alpha.example")
    client = signed_in_client(partner_alpha, username="viewer", password=PASSWORD)

    assert client.get("/marketplace/also/accounts/").status_code == 200
    detail = client.get(account_url(account))
    assert detail.status_code == 200 and "bi-pencil" not in detail.content.decode()
    assert client.get(ADD_URL).status_code == 403
    assert (
        client.post(account_url(account, "account_field_edit", field="display_name"), {"value": "x"}).status_code == 403
    )
    assert client.post(account_url(account, "account_delete")).status_code == 403
    assert client.post(account_url(account, "account_sync")).status_code == 403
    assert client.get(account_url(account, "account_prices")).status_code == 403  # no cost prices without catalog


def test_users_without_the_marketplace_module_are_refused(partner_alpha):
    with schema_context(partner_alpha.schema_name):
        user_with("nomarket", {}, email="nomarket@alpha.example")
    client = signed_in_client(partner_alpha, username="nomarket", password=PASSWORD)

    assert client.get("/marketplace/").status_code == 403
    assert client.get("/marketplace/also/").status_code == 403


def test_another_partners_session_is_anonymous_and_their_accounts_do_not_exist_here(
    partner_alpha, partner_beta, beta_admin_client
):
    with schema_context(partner_beta.schema_name):
        theirs = AccountFactory(demo=True, display_name="Beta ALSO")
    from django.test import Client

    intruder = Client(HTTP_HOST=host_of(partner_alpha))
    intruder.cookies["sessionid"] = beta_admin_client.cookies["sessionid"].value
    response = intruder.get(account_url(theirs))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/sign-in/")

    alpha_admin = signed_in_client(partner_alpha)
    assert alpha_admin.get(account_url(theirs)).status_code == 404
    assert alpha_admin.get(account_url(theirs, "account_prices")).status_code == 404
    assert beta_admin_client.get(account_url(theirs)).status_code == 200


def test_rotate_command_names_secrets_no_key_can_read_and_changes_nothing_on_a_dry_run(partner_alpha, simulator):
    from io import StringIO

    lost_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(MARKETPLACE_SECRET_KEYS=[lost_key]), schema_context(partner_alpha.schema_name):
        account = AccountFactory(demo=True, display_name="Orphaned secret")
        original = raw_secret(account)
    out, err = StringIO(), StringIO()

    with override_settings(MARKETPLACE_SECRET_KEYS=[new_key]):
        call_command("rotate_marketplace_secrets", "--partner", "alpha", stdout=out, stderr=err)

    assert "re-encrypted 0 secret(s)" in out.getvalue()
    assert "alpha: Orphaned secret" in err.getvalue()
    with schema_context(partner_alpha.schema_name):
        assert raw_secret(account) == original


def test_while_the_marketplace_has_paused_the_account_the_sync_panel_says_how_long_it_waits(
    alpha_admin_client, partner_alpha, simulator, django_capture_on_commit_callbacks
):
    with schema_context(partner_alpha.schema_name):
        account = AccountFactory(demo=True, display_name="ALSO Germany")
        SyncRun.objects.create(account=account, trigger="manual", status=SyncStatus.RUNNING)
        budget = account_rate_budget(account)
    budget.pause(42)

    panel = alpha_admin_client.get(account_url(account, "account_sync_status"), HTTP_HX_REQUEST="true")

    text = panel.content.decode()
    assert 'data-testid="marketplace-wait"' in text
    assert re.search(r"waiting for the marketplace \((4[12]) s\)", text), text
    budget_clear(budget)
    calm = alpha_admin_client.get(account_url(account, "account_sync_status"), HTTP_HX_REQUEST="true").content.decode()
    assert "waiting for the marketplace" not in calm


def test_the_syncs_concurrency_and_the_accounts_request_rate_are_edited_inline_and_default_to_the_marketplaces(
    alpha_admin_client, partner_alpha, simulator
):
    with schema_context(partner_alpha.schema_name):
        account = AccountFactory(demo=True, display_name="ALSO Germany")
    page = alpha_admin_client.get(account_url(account)).content.decode()
    assert "Requests in flight during a sync" in page and "8 (the marketplace&#x27;s default)" in page

    refused = alpha_admin_client.post(
        account_url(account, "account_field_edit", field="sync_concurrency"), {"value": "64"}, HTTP_HX_REQUEST="true"
    )
    assert "is-invalid" in refused.content.decode()
    for field, value in (("sync_concurrency", "4"), ("requests_per_second", "20")):
        response = alpha_admin_client.post(
            account_url(account, "account_field_edit", field=field), {"value": value}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200

    with schema_context(partner_alpha.schema_name):
        account.refresh_from_db()
        assert (account.sync_concurrency, account.requests_per_second) == (4, 20)
        assert sync_concurrency(account) == 4
        assert account_rate_budget(account).requests_per_second == 20
        event = AuditEvent.objects.filter(action="marketplace.account.update").latest("pk")
        assert "requests_per_second" in str(event.after)


def test_a_failed_sync_says_why_in_the_readers_language_and_shows_the_marketplaces_answer_as_theirs(
    partner_alpha, alpha_admin_client
):
    answer = "ALSO answered HTTP 503 Service Unavailable to GetCompanies: upstream busy"
    with schema_context(partner_alpha.schema_name):
        account = AccountFactory(display_name="ALSO Germany", status="failing", status_message=answer)
        SyncRun.objects.create(
            account=account,
            trigger="schedule",
            status=SyncStatus.FAILED,
            error_kind="unavailable",
            error_message=answer,
        )
    alpha_admin_client.post("/language/", {"language": "de", "next": "/"})

    body = alpha_admin_client.get(account_url(account)).content.decode()

    assert "Der Marktplatz hat nicht ordnungsgemäß geantwortet." in body  # the console's words, translated
    assert f'<q translate="no">{answer}</q>' in body  # the marketplace's own words, marked as theirs
    assert "Die letzte Synchronisierung ist fehlgeschlagen." in body
