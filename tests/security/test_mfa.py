"""Second factors: authenticator apps, passkeys, recovery codes, Require MFA, and Microsoft's own MFA."""

import base64
import hashlib
import json
import os
import re
import time
from urllib.parse import urlsplit

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from portal.audit.models import AuditEvent
from portal.authentication.models import AuthenticationSettings, Passkey
from portal.authentication.selectors import authentication_settings_get
from portal.authentication.services_mfa import recovery_codes_regenerate
from tests.factories import UserFactory
from tests.portal.authentication.microsoft_support import (  # noqa: F401 (fixtures)
    browser,
    identity,
    link_identity,
    microsoft,
    simulator,
)
from tests.support import PASSWORD, host_of

MEGAN = "megan@contoso.onmicrosoft.com"


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def enrolled_user(partner, username: str = "tia", *, recovery: bool = False):
    with schema_context(partner.schema_name):
        user = UserFactory(username=username, email=f"{username}@alpha.example")
        device = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
        codes = recovery_codes_regenerate(actor=user, user=user) if recovery else []
    return user, device, codes


def password_step(client: Client, username: str):
    return client.post("/accounts/sign-in/", {"username": username, "password": PASSWORD, "next": "/customers/"})


def set_require_mfa(partner, value: bool) -> None:
    with schema_context(partner.schema_name):
        authentication_settings_get()
        AuthenticationSettings.objects.update(require_mfa=value)


# -- authenticator app ---------------------------------------------------------------------------------------------


def test_a_totp_enrolled_user_needs_the_code(partner_alpha, alpha_client):
    user, device, _codes = enrolled_user(partner_alpha)

    response = password_step(alpha_client, "tia")

    assert response["Location"] == "/accounts/sign-in/verify/?next=%2Fcustomers%2F"
    assert alpha_client.get("/customers/")["Location"] == "/accounts/sign-in/verify/?next=%2Fcustomers%2F"
    hx = alpha_client.get("/customers/", HTTP_HX_REQUEST="true")
    assert hx["HX-Redirect"] == "/accounts/sign-in/verify/"
    wrong = alpha_client.post("/accounts/sign-in/verify/", {"code": "000000", "next": "/customers/"})
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.content.decode()
    # django-otp's own delay after a wrong code (1 s): let it pass
    with schema_context(partner_alpha.schema_name):
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)

    right = alpha_client.post("/accounts/sign-in/verify/", {"code": totp_code(device), "next": "/customers/"})

    assert right["Location"] == "/customers/"
    assert alpha_client.get("/accounts/profile/").status_code == 200
    with schema_context(partner_alpha.schema_name):
        results = list(
            AuditEvent.objects.filter(action="user.second_factor", target_id=str(user.pk)).values_list(
                "result", flat=True
            )
        )
    assert sorted(results) == ["failure", "success"]


def test_a_code_works_once(partner_alpha, alpha_client):
    _user, device, _codes = enrolled_user(partner_alpha)
    code = totp_code(device)
    password_step(alpha_client, "tia")
    assert alpha_client.post("/accounts/sign-in/verify/", {"code": code})["Location"] == "/"

    again = Client(HTTP_HOST=host_of(partner_alpha))
    password_step(again, "tia")
    assert again.post("/accounts/sign-in/verify/", {"code": code}).status_code == 400


def test_recovery_code_works_once(partner_alpha, alpha_client):
    _user, _device, codes = enrolled_user(partner_alpha, recovery=True)
    assert len(codes) == 10

    password_step(alpha_client, "tia")
    response = alpha_client.post("/accounts/sign-in/verify/", {"code": codes[0].upper()}, follow=True)
    assert "You used a recovery code; 9 are left" in response.content.decode()

    again = Client(HTTP_HOST=host_of(partner_alpha))
    password_step(again, "tia")
    assert again.post("/accounts/sign-in/verify/", {"code": codes[0]}).status_code == 400
    assert again.get("/").status_code == 302


def test_the_mfa_form_is_throttled(partner_alpha, alpha_client):
    _user, device, _codes = enrolled_user(partner_alpha)
    password_step(alpha_client, "tia")
    for _attempt in range(5):
        response = alpha_client.post("/accounts/sign-in/verify/", {"code": "123456"})

    assert response["Location"] == "/accounts/sign-in/"  # locked: signed out
    assert "Too many failed sign-ins for this account" in alpha_client.get("/accounts/sign-in/").content.decode()
    assert alpha_client.post("/accounts/sign-in/verify/", {"code": totp_code(device)}).status_code == 302
    assert alpha_client.get("/").status_code == 302
    # the right password does not open a new attempt either while the lock lasts
    assert password_step(Client(HTTP_HOST=host_of(partner_alpha)), "tia").status_code == 429


# -- Require MFA and enrolment -------------------------------------------------------------------------------------


def test_require_mfa_leads_to_enrolment_before_the_console(partner_alpha, alpha_client):
    with schema_context(partner_alpha.schema_name):
        UserFactory(username="newbie")

    response = password_step(alpha_client, "newbie")

    assert response["Location"] == "/accounts/sign-in/enrol/?next=%2Fcustomers%2F"
    assert alpha_client.get("/settings/users/")["Location"].startswith("/accounts/sign-in/enrol/")
    page = alpha_client.get(response["Location"])
    assert 'data-testid="totp-secret"' in page.content.decode()
    assert alpha_client.get("/accounts/second-factor/authenticator/qr.svg")["Content-Type"] == "image/svg+xml"
    with schema_context(partner_alpha.schema_name):
        device = TOTPDevice.objects.get(user__username="newbie", confirmed=False)

    done = alpha_client.post(
        response["Location"], {"code": totp_code(device), "name": "My phone", "next": "/customers/"}
    )

    assert done["Location"] == "/accounts/second-factor/recovery-codes/"
    codes_page = alpha_client.get(done["Location"]).content.decode()
    assert codes_page.count('<li class="col">') == 10
    assert alpha_client.get(done["Location"]).status_code == 302  # shown once
    assert alpha_client.get("/accounts/profile/").status_code == 200
    with schema_context(partner_alpha.schema_name):
        assert TOTPDevice.objects.get(pk=device.pk).confirmed
        assert AuditEvent.objects.filter(action="user.second_factor_add").count() == 1


def test_without_require_mfa_a_user_without_a_factor_goes_straight_in(partner_alpha, alpha_client):
    set_require_mfa(partner_alpha, False)
    with schema_context(partner_alpha.schema_name):
        UserFactory(username="plain")
    assert password_step(alpha_client, "plain")["Location"] == "/customers/"


def test_the_password_alone_cannot_add_a_factor_to_an_enrolled_account(partner_alpha, alpha_client):
    enrolled_user(partner_alpha)
    password_step(alpha_client, "tia")

    assert alpha_client.get("/accounts/sign-in/enrol/")["Location"].startswith("/accounts/sign-in/verify/")
    assert alpha_client.post("/accounts/second-factor/passkeys/register/options/").status_code == 403
    assert alpha_client.get("/accounts/second-factor/authenticator/qr.svg").status_code == 404


# -- managing factors on My profile --------------------------------------------------------------------------------


def verified_client(partner, username: str, device: TOTPDevice) -> Client:
    client = Client(HTTP_HOST=host_of(partner))
    password_step(client, username)
    assert client.post("/accounts/sign-in/verify/", {"code": totp_code(device)}).status_code == 302
    return client


def test_removing_a_factor_needs_the_password_and_keeps_one(partner_alpha):
    user, device, _codes = enrolled_user(partner_alpha)
    client = verified_client(partner_alpha, "tia", device)
    assert "Phone" in client.get("/accounts/profile/").content.decode()

    refused = client.post(f"/accounts/second-factor/authenticator/{device.pk}/remove/", {"password": PASSWORD})
    assert "This console requires a second factor" in refused.content.decode()
    with schema_context(partner_alpha.schema_name):
        spare = TOTPDevice.objects.create(user=user, name="Tablet", confirmed=True)

    wrong = client.post(f"/accounts/second-factor/authenticator/{spare.pk}/remove/", {"password": "nope"})
    assert wrong.status_code == 400 and "That password or code is not right" in wrong.content.decode()
    done = client.post(f"/accounts/second-factor/authenticator/{spare.pk}/remove/", {"password": PASSWORD})

    assert done["Location"] == "/accounts/profile/"
    with schema_context(partner_alpha.schema_name):
        assert not TOTPDevice.objects.filter(pk=spare.pk).exists()
        assert AuditEvent.objects.filter(action="user.second_factor_remove", target_id=str(user.pk)).exists()


def test_new_recovery_codes_replace_the_old_ones_and_are_shown_once(partner_alpha):
    _user, device, old_codes = enrolled_user(partner_alpha, recovery=True)
    client = verified_client(partner_alpha, "tia", device)

    response = client.post("/accounts/second-factor/recovery-codes/new/", {"password": PASSWORD})
    page = client.get(response["Location"]).content.decode()

    assert old_codes[0] not in page and page.count('<li class="col">') == 10
    other = Client(HTTP_HOST=host_of(partner_alpha))
    password_step(other, "tia")
    assert other.post("/accounts/sign-in/verify/", {"code": old_codes[0]}).status_code == 400


def test_another_users_factor_is_not_found(partner_alpha):
    _user, device, _codes = enrolled_user(partner_alpha)
    _other, other_device, _ = enrolled_user(partner_alpha, "uma")
    client = verified_client(partner_alpha, "tia", device)
    assert client.get(f"/accounts/second-factor/authenticator/{other_device.pk}/remove/").status_code == 404


# -- passkeys ------------------------------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    """A software security key: makes the answers a browser would send for a WebAuthn ceremony."""

    def __init__(self, rp_id: str, origin: str) -> None:
        self.rp_id, self.origin = rp_id, origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.sign_count = 0

    def _auth_data(self, flags: int, attested: bytes = b"") -> bytes:
        self.sign_count += 1
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + self.sign_count.to_bytes(4, "big") + attested

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}).encode()

    def create(self, options: dict) -> dict:
        numbers = self.key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        attested = bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id + cose
        auth_data = self._auth_data(0x01 | 0x04 | 0x40, attested)
        client_data = self._client_data("webauthn.create", options["challenge"])
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["usb"],
            },
        }

    def get(self, options: dict) -> dict:
        auth_data = self._auth_data(0x01 | 0x04)
        client_data = self._client_data("webauthn.get", options["challenge"])
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": None,
            },
        }


def post_json(client: Client, path: str, payload: dict | None = None):
    return client.post(path, json.dumps(payload or {}), content_type="application/json")


def test_a_passkey_is_enrolled_at_sign_in_and_then_signs_in(partner_alpha, alpha_client):
    with schema_context(partner_alpha.schema_name):
        UserFactory(username="kai")
    key = SoftAuthenticator(rp_id=host_of(partner_alpha), origin=f"http://{host_of(partner_alpha)}")
    password_step(alpha_client, "kai")

    options = post_json(alpha_client, "/accounts/second-factor/passkeys/register/options/").json()
    assert options["rp"]["id"] == host_of(partner_alpha)
    done = post_json(
        alpha_client,
        "/accounts/second-factor/passkeys/register/",
        {"name": "YubiKey", "next": "/customers/", "credential": key.create(options)},
    )
    assert done.status_code == 200, done.content
    assert done.json()["redirect"] == "/accounts/second-factor/recovery-codes/"
    assert alpha_client.get("/accounts/profile/").status_code == 200

    client = Client(HTTP_HOST=host_of(partner_alpha))
    assert password_step(client, "kai")["Location"].startswith("/accounts/sign-in/verify/")
    assert "Use a passkey or security key" in client.get("/accounts/sign-in/verify/").content.decode()
    options = post_json(client, "/accounts/second-factor/passkeys/authenticate/options/").json()
    signed = post_json(
        client,
        "/accounts/second-factor/passkeys/authenticate/",
        {"next": "/customers/", "credential": key.get(options)},
    )
    assert signed.json() == {"redirect": "/customers/"}
    assert client.get("/accounts/profile/").status_code == 200
    with schema_context(partner_alpha.schema_name):
        passkey = Passkey.objects.get(user__username="kai")
        assert (passkey.name, passkey.sign_count) == ("YubiKey", 2)


def test_a_passkey_answer_for_another_challenge_is_refused(partner_alpha, alpha_client):
    with schema_context(partner_alpha.schema_name):
        UserFactory(username="kai")
    key = SoftAuthenticator(rp_id=host_of(partner_alpha), origin=f"http://{host_of(partner_alpha)}")
    password_step(alpha_client, "kai")
    options = post_json(alpha_client, "/accounts/second-factor/passkeys/register/options/").json()
    post_json(alpha_client, "/accounts/second-factor/passkeys/register/", {"credential": key.create(options)})

    client = Client(HTTP_HOST=host_of(partner_alpha))
    password_step(client, "kai")
    post_json(client, "/accounts/second-factor/passkeys/authenticate/options/")
    forged = post_json(
        client,
        "/accounts/second-factor/passkeys/authenticate/",
        {"credential": key.get({"challenge": b64url(b"not the challenge")})},
    )
    assert forged.status_code == 400
    assert client.get("/customers/").status_code == 302


# -- Microsoft sign-in ---------------------------------------------------------------------------------------------


@pytest.fixture
def megan(partner_alpha, simulator):  # noqa: F811
    """A console user whose Microsoft account was linked earlier (from My profile)."""
    with schema_context(partner_alpha.schema_name):
        user = UserFactory(username="megan", email=MEGAN)
    link_identity(partner_alpha, user, simulator, MEGAN)
    return user


def test_a_microsoft_token_without_mfa_asks_for_the_consoles_factor(partner_alpha, alpha_client, microsoft, megan):  # noqa: F811
    flow = microsoft(alpha_client)
    callback = flow.browser.sign_in(flow.start(next="/customers/"), username=MEGAN, mfa=False)
    response = flow.back_at_partner(callback.params)

    assert response["Location"] == "/customers/"
    assert urlsplit(alpha_client.get("/customers/")["Location"]).path == "/accounts/sign-in/enrol/"


def test_a_microsoft_token_with_mfa_counts_as_the_second_factor(partner_alpha, alpha_client, microsoft, megan):  # noqa: F811
    flow = microsoft(alpha_client)
    callback = flow.browser.sign_in(flow.start(next="/customers/"), username=MEGAN, mfa=True)
    response = flow.back_at_partner(callback.params)

    assert response["Location"] == "/customers/"
    assert alpha_client.get("/accounts/profile/").status_code == 200


def test_the_simulator_issues_tokens_with_and_without_mfa(identity, browser, simulator):  # noqa: F811
    for mfa, expected in ((True, ["pwd", "mfa"]), (False, ["pwd"])):
        auth_uri, flow = identity.sign_in_start(redirect_uri="http://console.test/microsoft/callback/", state="s")
        callback = browser.sign_in(auth_uri, username=MEGAN, mfa=mfa)
        account = identity.sign_in_complete(flow=flow, params=callback.params, started_at=time.time())
        assert account.claims["amr"] == expected


def test_require_mfa_is_on_for_a_new_partner_and_turning_it_off_is_audited(partner_alpha, alpha_admin_client):
    page = alpha_admin_client.get("/microsoft/settings/").content.decode()
    (checkbox,) = re.findall(r'<input[^>]*name="require_mfa"[^>]*>', page)
    assert "checked" in checkbox

    alpha_admin_client.post("/microsoft/settings/", {"allow_local_sign_in": "on", "allow_microsoft_sign_in": "on"})

    with schema_context(partner_alpha.schema_name):
        assert authentication_settings_get().require_mfa is False
        event = AuditEvent.objects.get(action="authentication_settings.update")
        assert (event.before, event.after) == ({"require_mfa": True}, {"require_mfa": False})
