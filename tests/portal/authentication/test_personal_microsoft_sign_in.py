"""Personal Microsoft accounts as a way in: the consumer authority (simulated), a setting per partner,
linking from My profile by tenant id + object id only, refusal of an unlinked account with a clear
page, throttling per address, the MFA policy as for work accounts, and the audit trail."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from django.test import Client
from django_tenants.utils import schema_context

from portal.audit.models import AuditEvent
from portal.authentication.choices import ThrottleScope
from portal.authentication.models import AuthenticationSettings, MicrosoftIdentity, SignInThrottle
from portal.authentication.selectors import authentication_settings_get
from portal.authentication.services import trusted_directory_add
from portal.microsoft.identity import PERSONAL_ACCOUNTS_TENANT_ID, SignedInUser
from simulators.identity import MSA_TENANT_ID, SimulatedBrowser
from tests.portal.authentication.microsoft_support import CALLBACK_URL, PUBLIC_HOST
from tests.support import host_of, signed_in_client

PAT = "pat.personal@outlook.com"
LINK = "/accounts/profile/microsoft/link/"


def allow_personal(partner, allowed: bool = True) -> None:
    with schema_context(partner.schema_name):
        authentication_settings_get()
        AuthenticationSettings.objects.update(allow_personal_microsoft_sign_in=allowed)


def personal_flow(client: Client, browser: SimulatedBrowser, *, start: str = "/microsoft/sign-in/", mfa=True):
    response = client.post(start, {"personal": "1"})
    assert response.status_code == 302, response.content.decode()[:300]
    assert response["Location"].startswith("http://simulator.test/consumers/oauth2/v2.0/authorize?")
    callback = browser.sign_in(response["Location"], username=PAT, mfa=mfa)
    assert (callback.method, callback.url) == ("POST", CALLBACK_URL)
    handed = Client(HTTP_HOST=PUBLIC_HOST).post("/microsoft/callback/", callback.params)
    assert handed.status_code == 302
    location = urlsplit(handed["Location"])
    return client.get(f"{location.path}?{location.query}")


def test_the_simulator_signs_in_personal_accounts_only_at_the_consumer_authority(simulator, browser):
    assert MSA_TENANT_ID == PERSONAL_ACCOUNTS_TENANT_ID
    with httpx.Client(transport=httpx.WSGITransport(app=simulator), base_url="http://simulator.test") as http:
        consumers = http.get("/consumers/v2.0/.well-known/openid-configuration").json()
        assert consumers["issuer"].endswith(f"/{MSA_TENANT_ID}/v2.0")
        assert consumers["authorization_endpoint"].endswith("/consumers/oauth2/v2.0/authorize")
        query = "client_id=console-dev-client&response_type=code&redirect_uri=http://x.test/cb&scope=openid"
        work_page = http.get(f"/organizations/oauth2/v2.0/authorize?{query}").text
        personal_page = http.get(f"/consumers/oauth2/v2.0/authorize?{query}").text
    assert PAT in personal_page and "megan@contoso.onmicrosoft.com" not in personal_page
    assert PAT not in work_page and "megan@contoso.onmicrosoft.com" in work_page


def test_off_by_default_no_button_and_the_start_is_refused(partner_alpha, alpha_client, identity):
    page = alpha_client.get("/accounts/sign-in/").content.decode()
    assert 'data-testid="personal-microsoft-sign-in"' not in page
    response = alpha_client.post("/microsoft/sign-in/", {"personal": "1"})
    assert response.status_code == 302 and urlsplit(response["Location"]).path == "/accounts/sign-in/"
    assert "personal Microsoft account is turned off" in alpha_client.get(response["Location"]).content.decode()


def test_an_unlinked_personal_account_is_refused_clearly_audited_and_counted(
    partner_alpha, alpha_client, identity, browser
):
    allow_personal(partner_alpha)
    assert 'data-testid="personal-microsoft-sign-in"' in alpha_client.get("/accounts/sign-in/").content.decode()

    response = personal_flow(alpha_client, browser)

    assert response.status_code == 403
    body = response.content.decode()
    assert 'data-testid="personal-not-linked"' in body and PAT in body
    assert alpha_client.get("/").status_code == 302  # not signed in
    with schema_context(partner_alpha.schema_name):
        event = AuditEvent.objects.get(action="user.sign_in")
        assert (event.result, event.after["method"], event.after["tid"]) == ("failure", "microsoft", MSA_TENANT_ID)
        assert SignInThrottle.objects.get(scope=ThrottleScope.ADDRESS).failures == 1
        assert not MicrosoftIdentity.objects.exists()


def test_linked_from_my_profile_then_signs_in_by_tenant_and_object_id(partner_alpha, identity, browser, simulator):
    allow_personal(partner_alpha)
    admin = signed_in_client(partner_alpha)
    assert 'data-testid="link-personal-account"' in admin.get("/accounts/profile/").content.decode()

    linked = personal_flow(admin, browser, start=LINK)

    assert linked.status_code == 302
    pat = next(user for user in simulator.personal_accounts.users if user.preferred_username == PAT)
    with schema_context(partner_alpha.schema_name):
        identity_row = MicrosoftIdentity.objects.get()
        assert (identity_row.tid, identity_row.oid, identity_row.user.username) == (MSA_TENANT_ID, pat.oid, "admin")
        assert AuditEvent.objects.filter(action="microsoft_identity.link").count() == 1
    assert 'data-testid="personal-account"' in admin.get("/accounts/profile/").content.decode()

    client = Client(HTTP_HOST=host_of(partner_alpha))
    signed_in = personal_flow(client, browser)
    assert signed_in.status_code == 302
    assert client.get("/").status_code == 200  # the simulator's MFA counted as the second factor
    with schema_context(partner_alpha.schema_name):
        success = AuditEvent.objects.filter(action="user.sign_in", result="success").latest("id")
        assert success.after["personal"] is True and success.after["oid"] == pat.oid


def test_without_microsofts_mfa_the_console_asks_for_its_own_second_factor(partner_alpha, identity, browser, simulator):
    allow_personal(partner_alpha)
    personal_flow(signed_in_client(partner_alpha), browser, start=LINK)
    client = Client(HTTP_HOST=host_of(partner_alpha))
    personal_flow(client, browser, mfa=False)
    home = client.get("/")
    # the admin has no factor enrolled yet: the console leads them to enrol one before anything else
    assert home.status_code == 302 and urlsplit(home["Location"]).path == "/accounts/sign-in/enrol/"


def test_turning_the_setting_off_stops_linked_personal_accounts(partner_alpha, identity, browser):
    allow_personal(partner_alpha)
    personal_flow(signed_in_client(partner_alpha), browser, start=LINK)
    client = Client(HTTP_HOST=host_of(partner_alpha))
    allow_personal(partner_alpha, False)
    response = client.post("/microsoft/sign-in/", {"personal": "1"})
    assert urlsplit(response["Location"]).path == "/accounts/sign-in/"
    assert client.get("/").status_code == 302


def test_the_address_lock_stops_personal_sign_in(partner_alpha, alpha_client, identity, browser, settings):
    settings.SIGN_IN_ADDRESS_FAILURES = 2
    allow_personal(partner_alpha)
    personal_flow(alpha_client, browser)
    personal_flow(alpha_client, browser)
    refused = alpha_client.post("/microsoft/sign-in/", {"personal": "1"})
    assert urlsplit(refused["Location"]).path == "/accounts/sign-in/"
    assert "Too many failed sign-ins from your network" in alpha_client.get(refused["Location"]).content.decode()


def test_the_consumer_tenant_can_never_be_a_trusted_directory(partner_alpha):
    account = SignedInUser(tid=PERSONAL_ACCOUNTS_TENANT_ID, oid="x", name="Pat", preferred_username=PAT)
    with schema_context(partner_alpha.schema_name):
        from portal.accounts.models import User

        with pytest.raises(Exception, match="no directory of their own"):
            trusted_directory_add(actor=User.objects.get(username="admin"), account=account)
