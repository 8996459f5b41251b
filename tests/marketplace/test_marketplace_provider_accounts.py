"""Accounts at Partner Center, Cloudmore and ALEF: each marketplace's own connection fields, the
secret ones encrypted and never shown, credentials tried at the marketplace (its simulator) first."""

import pytest
from django.db import connection
from django.utils.html import escape
from django_tenants.utils import schema_context

from marketplace.choices import SyncStatus
from marketplace.connections import account_connection_options, provider_for_credentials
from marketplace.models import MarketplaceAccount, SyncRun
from marketplace.providers.base import AuthenticationFailed
from portal.audit.models import AuditEvent
from tests.marketplace.conftest import simulator_module


def form_data(slug: str, **overrides) -> dict:
    demo = simulator_module(slug).DEMO_CONNECTION
    data = {"display_name": f"{slug} demo", "region": demo.region, "username": demo.username, "password": demo.secret}
    data.update({f"option_{name}": value for name, value in demo.options.items()})
    data.update(overrides)
    return data


def raw_row(account) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret_ciphertext, secret_options_ciphertext FROM marketplace_marketplaceaccount WHERE id = %s",
            [account.pk],
        )
        return cursor.fetchone()


def refusal_reason(slug: str, **changes) -> str:
    demo = simulator_module(slug).DEMO_CONNECTION
    values = {"region": demo.region, "username": demo.username, "secret": demo.secret, "options": dict(demo.options)}
    values.update(changes)
    provider = provider_for_credentials(marketplace=slug, **values)
    try:
        next(iter(provider.list_customers()), None)
    except AuthenticationFailed as error:
        return error.message
    finally:
        provider.close()
    raise AssertionError("the simulator accepted the wrong credentials")


@pytest.mark.parametrize(
    ("slug", "labels"),
    [
        ("partner_center", ["Application (client) ID", "Application secret", "Partner tenant", "Refresh token"]),
        ("cloudmore", ["API user", "Reseller ID", "API secret", "API client ID", "Price list segment"]),
        ("alef", ["Reseller host", "Username", "Password"]),
    ],
)
def test_the_add_form_asks_for_the_marketplaces_own_fields(alpha_admin_client, slug, labels):
    page = alpha_admin_client.get(f"/marketplace/{slug}/accounts/add/").content.decode()

    for label in labels:
        assert label in page


@pytest.mark.parametrize("slug", ["partner_center", "cloudmore", "alef"])
def test_adding_an_account_at_each_marketplace_stores_its_options_and_syncs(
    alpha_admin_client, partner_alpha, in_process, slug, django_capture_on_commit_callbacks
):
    demo = simulator_module(slug).DEMO_CONNECTION
    with django_capture_on_commit_callbacks(execute=True):
        response = alpha_admin_client.post(f"/marketplace/{slug}/accounts/add/", form_data(slug))

    with schema_context(partner_alpha.schema_name):
        account = MarketplaceAccount.objects.get(marketplace=slug)
        assert response.status_code == 302
        assert account.region == demo.region and account.username == demo.username
        assert account_connection_options(account) == dict(demo.options)
        secret_ciphertext, options_ciphertext = raw_row(account)
        for name, value in demo.options.items():
            if name in ("refresh_token", "client_secret"):
                assert name not in account.options
                assert value not in options_ciphertext
        assert SyncRun.objects.get(account=account).status == SyncStatus.SUCCEEDED
        assert account.customers.exists()
        event = AuditEvent.objects.get(action="marketplace.account.create")
        assert demo.secret not in str(event.after)
        for name in ("refresh_token", "client_secret"):
            if name in demo.options:
                assert demo.options[name] not in str(event.after)

    page = alpha_admin_client.get(f"/marketplace/{slug}/accounts/{account.pk}/").content.decode()
    assert demo.secret not in page
    for name, value in demo.options.items():
        if name in ("refresh_token", "client_secret"):
            assert value not in page
        elif name != "client_id":
            assert value in page


@pytest.mark.parametrize(
    ("slug", "overrides", "changes"),
    [
        ("partner_center", {"password": "wrong-secret"}, {"secret": "wrong-secret"}),
        ("cloudmore", {"password": "wrong-password"}, {"secret": "wrong-password"}),
        ("alef", {"password": "wrong-password"}, {"secret": "wrong-password"}),
    ],
)
def test_wrong_credentials_are_refused_with_the_marketplaces_reason(
    alpha_admin_client, partner_alpha, in_process, slug, overrides, changes
):
    reason = refusal_reason(slug, **changes)

    response = alpha_admin_client.post(f"/marketplace/{slug}/accounts/add/", form_data(slug, **overrides))

    page = response.content.decode()
    assert response.status_code == 200
    assert "refused the sign-in" in page
    assert escape(reason.split(" Trace ID")[0]) in page  # the marketplace's own words (ids differ per request)
    assert overrides["password"] not in page
    with schema_context(partner_alpha.schema_name):
        assert not MarketplaceAccount.objects.exists()


def test_a_missing_required_option_is_refused_on_its_field(alpha_admin_client, partner_alpha, in_process):
    response = alpha_admin_client.post(
        "/marketplace/cloudmore/accounts/add/", form_data("cloudmore", option_reseller_id="")
    )

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert not MarketplaceAccount.objects.exists()


def test_a_wrong_cloudmore_client_secret_is_refused(alpha_admin_client, partner_alpha, in_process):
    response = alpha_admin_client.post(
        "/marketplace/cloudmore/accounts/add/", form_data("cloudmore", option_client_secret="not-the-secret")
    )

    assert response.status_code == 200
    assert "Cloudmore refused" in response.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert not MarketplaceAccount.objects.exists()


def test_editing_a_secret_option_tries_it_first_and_keeps_it_encrypted(
    alpha_admin_client, partner_alpha, in_process, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alpha_admin_client.post("/marketplace/cloudmore/accounts/add/", form_data("cloudmore"))
    with schema_context(partner_alpha.schema_name):
        account = MarketplaceAccount.objects.get()
    url = f"/marketplace/cloudmore/accounts/{account.pk}/fields/option_client_secret/edit/"

    refused = alpha_admin_client.post(url, {"value": "not-the-secret"})
    with django_capture_on_commit_callbacks(execute=True):
        segment = alpha_admin_client.post(
            f"/marketplace/cloudmore/accounts/{account.pk}/fields/option_segment/edit/", {"value": "education"}
        )

    assert refused.status_code == 200 and "Cloudmore refused" in refused.content.decode()
    assert segment.status_code == 302
    with schema_context(partner_alpha.schema_name):
        account.refresh_from_db()
        options = account_connection_options(account)
        assert options["client_secret"] == simulator_module("cloudmore").DEMO_CONNECTION.options["client_secret"]
        assert account.options["segment"] == "education"
    assert (
        alpha_admin_client.get(f"/marketplace/cloudmore/accounts/{account.pk}/fields/option_nope/edit/").status_code
        == 404
    )


def test_rotating_keys_re_encrypts_the_secret_options_too(partner_alpha):
    from cryptography.fernet import Fernet
    from django.test import override_settings

    from marketplace.connections import secret_options_encrypt
    from marketplace.secrets import secret_encrypt
    from marketplace.services import marketplace_secrets_rotate

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(MARKETPLACE_SECRET_KEYS=[old_key]), schema_context(partner_alpha.schema_name):
        account = MarketplaceAccount.objects.create(
            marketplace="cloudmore",
            display_name="Cloudmore",
            region="eu",
            username="api@example.test",
            secret_ciphertext=secret_encrypt("pw"),
            options={"reseller_id": "r-1"},
            secret_options_ciphertext=secret_options_encrypt({"client_secret": "s3cret"}),
        )

    with override_settings(MARKETPLACE_SECRET_KEYS=[new_key, old_key]), schema_context(partner_alpha.schema_name):
        result = marketplace_secrets_rotate()
        account.refresh_from_db()

    assert result.rotated == 1
    with override_settings(MARKETPLACE_SECRET_KEYS=[new_key]):
        assert account_connection_options(account) == {"reseller_id": "r-1", "client_secret": "s3cret"}
