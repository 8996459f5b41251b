"""Settings > Authentication: who sees and changes it, lock-out protections, linking your Microsoft account."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_tenants.utils import schema_context

from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.authentication.models import AuthenticationSettings, MicrosoftIdentity, TrustedDirectory
from portal.authentication.selectors import authentication_settings_get
from portal.authentication.services import authentication_settings_update
from tests.factories import UserFactory
from tests.portal.authentication.microsoft_support import link_identity
from tests.support import host_of, signed_in_client

CONTOSO = "67a08685-ba70-4922-ae8b-802ff5c44282"
MEGAN = "megan@contoso.onmicrosoft.com"
ADELE = "adele@contoso.onmicrosoft.com"
URL = "/microsoft/settings/"
PROFILE = "/accounts/profile/"
LINK = "/accounts/profile/microsoft/link/"
UNLINK = "/accounts/profile/microsoft/unlink/"
TRUST = "/microsoft/settings/trusted-directories/add/"


def test_the_url_name():
    assert reverse("microsoft:authentication_settings") == URL


def methods(partner) -> tuple[bool, bool]:
    with schema_context(partner.schema_name):
        current = authentication_settings_get()
        return current.allow_local_sign_in, current.allow_microsoft_sign_in


def link_admin(partner, *, username: str = "admin") -> MicrosoftIdentity:
    with schema_context(partner.schema_name):
        admin = get_user_model().objects.get(username=username)
        return MicrosoftIdentity.objects.create(
            user=admin, tid=CONTOSO, oid="aaaaaaaa-0000-4000-8000-000000000001", username=MEGAN
        )


def user_with_settings_level(partner, username: str, level: int | None) -> Client:
    with schema_context(partner.schema_name):
        user = UserFactory(username=username)
        if level is not None:
            role = Role.objects.create(name=f"Settings {username}", permissions={"settings": level})
            user.roles.add(role)
    return signed_in_client(partner, username)


# -- the page ----------------------------------------------------------------------------------------------------------


def test_an_administrator_sees_methods_configuration_and_link_button(alpha_admin_client, settings):
    body = alpha_admin_client.get(URL).content.decode()

    assert "<h1>Authentication</h1>" in body
    assert 'href="/settings/"' in body  # the "← Settings" breadcrumb
    assert 'name="allow_local_sign_in"' in body and 'name="allow_microsoft_sign_in"' in body
    assert settings.MICROSOFT_CLIENT_ID in body
    assert "https://login.microsoftonline.com/organizations" in body
    assert "http://console.test/microsoft/callback/" in body  # the redirect URI to register
    assert "No Microsoft account is linked to you yet" in body and "Link it in My profile" in body
    assert "No directory is trusted" in body
    assert "Add a trusted directory" in body


def test_a_linked_identity_is_shown_in_my_profile_with_unlink(partner_alpha, alpha_admin_client):
    link_admin(partner_alpha)

    settings_page = alpha_admin_client.get(URL).content.decode()
    body = alpha_admin_client.get(PROFILE).content.decode()

    assert MEGAN in settings_page and "Manage it in My profile" in settings_page
    assert MEGAN in body and CONTOSO in body
    assert "Unlink your Microsoft account?" in body  # the confirmation
    assert "Link Microsoft account" not in body


def test_a_user_without_settings_permission_gets_403(partner_alpha):
    client = user_with_settings_level(partner_alpha, "nosettings", None)

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"allow_local_sign_in": "on"}).status_code == 403
    assert client.post(TRUST).status_code == 403
    assert "Link Microsoft account" in client.get(PROFILE).content.decode()  # anyone links their own account


def test_a_viewer_sees_the_methods_but_cannot_change_them(partner_alpha):
    client = user_with_settings_level(partner_alpha, "viewer", 1)

    body = client.get(URL).content.decode()
    response = client.post(URL, {"allow_local_sign_in": "on"})

    assert 'name="allow_local_sign_in"' not in body
    assert "Only users who manage settings can change the sign-in methods" in body
    assert "Add a trusted directory" not in body
    assert response.status_code == 403
    assert methods(partner_alpha) == (True, True)


def test_anonymous_is_sent_to_sign_in(alpha_client):
    response = alpha_client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/sign-in/?next={URL}"


def test_betas_session_is_anonymous_at_alphas_host(partner_alpha, beta_admin_client):
    intruder = Client(HTTP_HOST=host_of(partner_alpha))
    intruder.cookies["sessionid"] = beta_admin_client.cookies["sessionid"].value

    assert beta_admin_client.get(URL).status_code == 200
    for response in (intruder.get(URL), intruder.post(URL, {"allow_microsoft_sign_in": "on"})):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/sign-in/")
    assert methods(partner_alpha) == (True, True)


# -- changes and lock-out protections ----------------------------------------------------------------------------------


def test_turning_microsoft_sign_in_off_is_saved_and_audited(partner_alpha, alpha_admin_client):
    response = alpha_admin_client.post(URL, {"allow_local_sign_in": "on", "require_mfa": "on"}, follow=True)

    assert "The sign-in methods were saved" in response.content.decode()
    assert methods(partner_alpha) == (True, False)
    with schema_context(partner_alpha.schema_name):
        event = AuditEvent.objects.get(action="authentication_settings.update")
    assert (event.actor.username, event.before, event.after) == (
        "admin",
        {"allow_microsoft_sign_in": True},
        {"allow_microsoft_sign_in": False},
    )


def test_turning_both_methods_off_is_refused(partner_alpha, alpha_admin_client):
    link_admin(partner_alpha)

    response = alpha_admin_client.post(URL, {})

    assert response.status_code == 200
    assert "Keep at least one sign-in method on" in response.content.decode()
    assert methods(partner_alpha) == (True, True)
    with schema_context(partner_alpha.schema_name):
        assert not AuditEvent.objects.filter(action="authentication_settings.update").exists()


def test_turning_password_sign_in_off_without_a_linked_microsoft_account_is_refused(partner_alpha, alpha_admin_client):
    response = alpha_admin_client.post(URL, {"allow_microsoft_sign_in": "on"})

    assert response.status_code == 200
    assert "Link your own Microsoft account before turning off password sign-in" in response.content.decode()
    assert methods(partner_alpha) == (True, True)


def test_turning_password_sign_in_off_with_a_linked_microsoft_account_works(partner_alpha, alpha_admin_client):
    link_admin(partner_alpha)

    response = alpha_admin_client.post(URL, {"allow_microsoft_sign_in": "on"})

    assert response.status_code == 302
    assert methods(partner_alpha) == (False, True)


def test_an_htmx_save_returns_the_form_fragment(partner_alpha, alpha_admin_client):
    response = alpha_admin_client.post(URL, {"allow_local_sign_in": "on", "require_mfa": "on"}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="sign-in-methods">')
    assert "<html" not in body
    assert "The sign-in methods were saved" in body  # messages out of band
    assert methods(partner_alpha) == (True, False)


def test_the_service_refuses_both_off_and_the_database_too(in_alpha):
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    admin = get_user_model().objects.get(username="admin")
    with pytest.raises(ValidationError):
        authentication_settings_update(actor=admin, allow_local_sign_in=False, allow_microsoft_sign_in=False)
    authentication_settings_get()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuthenticationSettings.objects.update(allow_local_sign_in=False, allow_microsoft_sign_in=False)


# -- linking and unlinking your own Microsoft account (My profile) -----------------------------------------------------


def test_link_my_microsoft_account_then_unlink_it(partner_alpha, alpha_admin_client, microsoft):
    flow = microsoft(alpha_admin_client, start_path=LINK)

    response = flow.run(username=MEGAN)

    assert response.status_code == 302 and response["Location"] == PROFILE
    body = alpha_admin_client.get(PROFILE).content.decode()
    assert f"Your Microsoft account {MEGAN} is linked" in body
    assert "Unlink" in body
    with schema_context(partner_alpha.schema_name):
        identity = MicrosoftIdentity.objects.get()
        assert (identity.user.username, identity.tid, identity.username) == ("admin", CONTOSO, MEGAN)
        assert AuditEvent.objects.get(action="microsoft_identity.link").message == "Linked from My profile"

    response = alpha_admin_client.post(UNLINK, follow=True)

    assert "Your Microsoft account was unlinked" in response.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert not MicrosoftIdentity.objects.exists()
        actions = list(
            AuditEvent.objects.filter(action__startswith="microsoft_identity.").values_list("action", flat=True)
        )
    assert sorted(actions) == ["microsoft_identity.link", "microsoft_identity.unlink"]


def test_a_user_without_settings_permission_links_their_own_account(partner_alpha, microsoft):
    client = user_with_settings_level(partner_alpha, "plain", None)

    microsoft(client, start_path=LINK).run(username=ADELE)

    assert f"Your Microsoft account {ADELE} is linked" in client.get(PROFILE).content.decode()
    with schema_context(partner_alpha.schema_name):
        assert MicrosoftIdentity.objects.get().user.username == "plain"


def test_the_linked_account_then_signs_the_admin_in(partner_alpha, alpha_admin_client, microsoft):
    microsoft(alpha_admin_client, start_path=LINK).run(username=MEGAN)
    alpha_admin_client.post(URL, {"allow_microsoft_sign_in": "on"})  # password sign-in off: now allowed
    assert methods(partner_alpha) == (False, True)

    fresh = Client(HTTP_HOST=host_of(partner_alpha))
    response = microsoft(fresh).run(username=MEGAN)

    assert response["Location"] == "/"
    assert "Welcome, admin" in fresh.get("/").content.decode()


def test_a_microsoft_account_linked_to_someone_else_cannot_be_linked_again(
    partner_alpha, alpha_admin_client, microsoft, simulator
):
    with schema_context(partner_alpha.schema_name):
        megan = UserFactory(username="megan", email=MEGAN)
    link_identity(partner_alpha, megan, simulator, MEGAN)

    microsoft(alpha_admin_client, start_path=LINK).run(username=MEGAN)

    body = alpha_admin_client.get(PROFILE).content.decode()
    assert "already linked to another user of this console" in body
    with schema_context(partner_alpha.schema_name):
        assert MicrosoftIdentity.objects.get().user == megan


def test_a_link_answer_with_a_forged_state_is_refused(partner_alpha, alpha_admin_client, microsoft):
    flow = microsoft(alpha_admin_client, start_path=LINK)
    first = flow.start()
    flow.start()

    flow.back_at_partner(flow.at_microsoft(first, username=MEGAN))

    assert "forged or mismatched state" in alpha_admin_client.get(PROFILE).content.decode()
    with schema_context(partner_alpha.schema_name):
        assert not MicrosoftIdentity.objects.exists()


def test_unlinking_is_refused_while_password_sign_in_is_off(partner_alpha, alpha_admin_client):
    link_admin(partner_alpha)
    alpha_admin_client.post(URL, {"allow_microsoft_sign_in": "on"})

    response = alpha_admin_client.post(UNLINK, follow=True)

    assert "Password sign-in is off, so you could not sign in again" in response.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert MicrosoftIdentity.objects.exists()


# -- trusted directories -----------------------------------------------------------------------------------------------


def test_a_manager_trusts_a_directory_by_signing_in_with_one_of_its_accounts(
    partner_alpha, alpha_admin_client, microsoft
):
    response = microsoft(alpha_admin_client, start_path=TRUST).run(username=ADELE)

    assert response.status_code == 302 and response["Location"] == URL
    body = alpha_admin_client.get(URL).content.decode()
    assert f"The directory contoso.onmicrosoft.com ({CONTOSO}) is trusted now" in body
    assert 'data-testid="trusted-directory"' in body and "Stop trusting this directory?" in body
    with schema_context(partner_alpha.schema_name):
        directory = TrustedDirectory.objects.get()
        assert (directory.tid, directory.name, directory.added_by.username) == (
            CONTOSO,
            "contoso.onmicrosoft.com",
            "admin",
        )
        assert not MicrosoftIdentity.objects.exists()  # trusting links nobody
        event = AuditEvent.objects.get(action="trusted_directory.add")
        assert (event.actor.username, event.after["tid"], event.after["verified_with"]) == ("admin", CONTOSO, ADELE)

    again = microsoft(alpha_admin_client, start_path=TRUST).run(username=MEGAN)

    assert "That directory is already trusted" in alpha_admin_client.get(again["Location"]).content.decode()
    with schema_context(partner_alpha.schema_name):
        assert TrustedDirectory.objects.count() == 1


def test_removing_a_trusted_directory_is_audited_and_keeps_existing_links(partner_alpha, alpha_admin_client):
    link_admin(partner_alpha)
    with schema_context(partner_alpha.schema_name):
        directory = TrustedDirectory.objects.create(tid=CONTOSO, name="contoso.onmicrosoft.com")

    response = alpha_admin_client.post(f"/microsoft/settings/trusted-directories/{directory.pk}/remove/", follow=True)

    assert "is no longer trusted" in response.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert not TrustedDirectory.objects.exists()
        assert MicrosoftIdentity.objects.exists()
        event = AuditEvent.objects.get(action="trusted_directory.remove")
    assert (event.actor.username, event.before["tid"]) == ("admin", CONTOSO)


def test_a_viewer_cannot_remove_a_trusted_directory(partner_alpha):
    with schema_context(partner_alpha.schema_name):
        directory = TrustedDirectory.objects.create(tid=CONTOSO, name="contoso.onmicrosoft.com")
    client = user_with_settings_level(partner_alpha, "viewer", 1)

    body = client.get(URL).content.decode()
    response = client.post(f"/microsoft/settings/trusted-directories/{directory.pk}/remove/")

    assert "contoso.onmicrosoft.com" in body and "Stop trusting this directory?" not in body
    assert response.status_code == 403
    with schema_context(partner_alpha.schema_name):
        assert TrustedDirectory.objects.exists()
