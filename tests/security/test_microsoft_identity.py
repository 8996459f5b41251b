"""Account takeover through Microsoft sign-in (critical).

The attack: anyone can create an Entra directory and set one of its users' ``email`` attribute to any
address, say a console user's. Microsoft then puts that address in the ID token's ``email`` claim, signed
and valid. The console used to link the first Microsoft sign-in to the user with that address (or with the
token's ``preferred_username``), so the attacker signed in as them, administrators included. Now a
Microsoft account is linked by tenant id + object id only, and a first link needs proof of both sides:
My profile, an invitation, or a directory the partner trusts.
"""

import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import schema_context

from portal.accounts.models import Invitation
from portal.accounts.selectors import invitation_token_hash
from portal.audit.models import AuditEvent
from portal.authentication.models import MicrosoftIdentity
from tests.factories import UserFactory
from tests.portal.authentication import microsoft_support
from tests.portal.authentication.microsoft_support import trust_directory
from tests.support import host_of

CONTOSO = "67a08685-ba70-4922-ae8b-802ff5c44282"
ATTACKER_DOMAIN = "totally-legit.onmicrosoft.com"
SUPPORT = "support@alpha.example"
ADMIN = "admin@alpha.example"

# The Microsoft sign-in fixtures of tests/portal/authentication: the simulator in-process, the client, the flows.
simulator = microsoft_support.simulator
identity = microsoft_support.identity
browser = microsoft_support.browser
microsoft = microsoft_support.microsoft


def attacker_account(simulator, *, email: str, preferred_username: str | None = None) -> str:
    """A user of the attacker's own directory whose attributes name the victim; returns its sign-in name."""
    spec = {"name": "Eve Attacker", "email": email}
    if preferred_username:
        spec["preferred_username"] = preferred_username
    directory = simulator.add_users(domain=ATTACKER_DOMAIN, name="Attacker Ltd", users=[spec])
    return directory.users[-1].preferred_username


def is_signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def test_the_simulator_issues_the_attack_token(simulator, identity, browser):
    """The premise: a foreign directory's valid ID token carries the victim's address as its ``email`` claim."""
    username = attacker_account(simulator, email=SUPPORT)

    auth_uri, flow = identity.sign_in_start(redirect_uri="http://console.test/microsoft/callback/", state="s")
    callback = browser.sign_in(auth_uri, username=username)
    account = identity.sign_in_complete(flow=flow, params=callback.params, started_at=time.time())

    assert (account.email, account.preferred_username) == (SUPPORT, f"eve@{ATTACKER_DOMAIN}")
    assert account.tid != CONTOSO


@pytest.mark.parametrize("victim_email", [SUPPORT, ADMIN], ids=["support user", "administrator"])
def test_an_email_claim_from_a_foreign_directory_does_not_sign_in_as_the_user(
    partner_alpha, alpha_client, microsoft, simulator, victim_email
):
    with schema_context(partner_alpha.schema_name):
        if not get_user_model().objects.filter(email=victim_email).exists():
            UserFactory(username="support", email=victim_email)
    username = attacker_account(simulator, email=victim_email)

    response = microsoft(alpha_client).run(username=username)

    assert response.status_code == 403
    assert "This Microsoft account is not linked" in response.content.decode()
    assert not is_signed_in(alpha_client)
    with schema_context(partner_alpha.schema_name):
        assert not MicrosoftIdentity.objects.exists()
        assert not AuditEvent.objects.filter(action="microsoft_identity.link").exists()
        (event,) = AuditEvent.objects.filter(action="user.sign_in")
    assert (event.result, event.message, event.target_id) == ("failure", "Microsoft account not linked", "")
    assert event.after["email_claim"] == victim_email  # the attempt is on record with what it claimed


def test_a_sign_in_name_from_a_foreign_directory_does_not_sign_in_either(
    partner_alpha, alpha_client, microsoft, simulator
):
    """Even a directory that calls its user by the victim's address (an unverified domain) links nothing."""
    with schema_context(partner_alpha.schema_name):
        UserFactory(username="support", email=SUPPORT)
    username = attacker_account(simulator, email=SUPPORT, preferred_username=SUPPORT)

    response = microsoft(alpha_client).run(username=username)

    assert response.status_code == 403
    assert not is_signed_in(alpha_client)
    with schema_context(partner_alpha.schema_name):
        assert not MicrosoftIdentity.objects.exists()


def test_trusting_one_directory_does_not_trust_the_attackers(partner_alpha, alpha_client, microsoft, simulator):
    trust_directory(partner_alpha, CONTOSO, "contoso.onmicrosoft.com")
    with schema_context(partner_alpha.schema_name):
        UserFactory(username="support", email=SUPPORT)
    username = attacker_account(simulator, email=SUPPORT, preferred_username=SUPPORT)

    response = microsoft(alpha_client).run(username=username)

    assert response.status_code == 403
    assert not is_signed_in(alpha_client)


def test_in_a_trusted_directory_the_email_claim_still_links_nobody(partner_alpha, alpha_client, microsoft, simulator):
    """Only the sign-in name counts there: a directory admin setting someone's email attribute gains nothing."""
    trust_directory(partner_alpha, CONTOSO, "contoso.onmicrosoft.com")
    with schema_context(partner_alpha.schema_name):
        UserFactory(username="support", email=SUPPORT)
    simulator.add_users(tid=CONTOSO, users=[{"name": "Mallory Insider", "email": SUPPORT}])

    response = microsoft(alpha_client).run(username="mallory@contoso.onmicrosoft.com")

    assert response.status_code == 403
    assert not is_signed_in(alpha_client)


def test_an_invited_person_accepts_with_microsoft_and_the_account_is_linked(
    partner_alpha, alpha_client, microsoft, simulator
):
    """The invitation link is the proof of who was invited, whatever the Microsoft account's addresses say."""
    token = "invitation-token-for-the-test"
    with schema_context(partner_alpha.schema_name):
        invited = UserFactory(username="new.person", email="new.person@alpha.example")
        invited.set_unusable_password()
        invited.save()
        admin = get_user_model().objects.get(username="admin")
        Invitation.objects.create(user=invited, invited_by=admin, token_hash=invitation_token_hash(token))
    page = alpha_client.get(f"/accounts/invitation/{token}/").content.decode()
    assert f'action="/accounts/invitation/{token}/microsoft/"' in page

    flow = microsoft(alpha_client, start_path=f"/accounts/invitation/{token}/microsoft/")
    response = flow.run(username="adele@contoso.onmicrosoft.com")

    assert response.status_code == 302 and response["Location"] == "/"
    assert "is linked and you are signed in" in alpha_client.get("/").content.decode()
    with schema_context(partner_alpha.schema_name):
        identity = MicrosoftIdentity.objects.get()
        assert (identity.user, identity.tid) == (invited, CONTOSO)
        assert Invitation.objects.get(user=invited).accepted_at is not None
        accepted = AuditEvent.objects.get(action="user.invitation_accept")
        assert accepted.after == {"method": "microsoft"}
    used = Client(HTTP_HOST=host_of(partner_alpha)).post(f"/accounts/invitation/{token}/microsoft/")
    assert used.status_code == 410  # the link is used up

    fresh = Client(HTTP_HOST=host_of(partner_alpha))
    assert microsoft(fresh).run(username="adele@contoso.onmicrosoft.com")["Location"] == "/"
    assert is_signed_in(fresh)
