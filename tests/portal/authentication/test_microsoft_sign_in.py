"""Sign in with Microsoft, through the identity simulator and the console's one public callback."""

from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import schema_context

from portal.audit.models import AuditEvent
from portal.authentication.models import AuthenticationSettings, MicrosoftIdentity
from portal.authentication.selectors import authentication_settings_get
from portal.microsoft.service import handoff_create
from tests.factories import UserFactory
from tests.portal.authentication.microsoft_support import link_identity, trust_directory
from tests.support import PASSWORD, host_of

CONTOSO = "67a08685-ba70-4922-ae8b-802ff5c44282"
MEGAN = "megan@contoso.onmicrosoft.com"
ADELE = "adele@contoso.onmicrosoft.com"


def messages_on_sign_in_page(client: Client, response) -> str:
    """Follow the redirect to the sign-in page and return what the person reads there."""
    assert response.status_code == 302, response.content.decode()[:500]
    assert urlsplit(response["Location"]).path == "/accounts/sign-in/"
    return client.get(response["Location"]).content.decode()


def is_signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def sign_in_events(partner, **filters) -> list[AuditEvent]:
    with schema_context(partner.schema_name):
        return list(AuditEvent.objects.filter(action="user.sign_in", **filters).order_by("id"))


def set_methods(partner, *, local: bool, microsoft: bool) -> None:
    with schema_context(partner.schema_name):
        authentication_settings_get()
        AuthenticationSettings.objects.update(allow_local_sign_in=local, allow_microsoft_sign_in=microsoft)


# -- success -----------------------------------------------------------------------------------------------------------


def test_the_sign_in_page_offers_microsoft_and_passwords_by_default(alpha_client):
    body = alpha_client.get("/accounts/sign-in/?next=/customers/").content.decode()

    assert "Sign in with Microsoft" in body
    assert 'action="/microsoft/sign-in/"' in body
    assert 'name="password"' in body
    assert 'name="next" value="/customers/"' in body


def test_first_sign_in_from_a_trusted_directory_links_the_user_by_sign_in_name(partner_alpha, alpha_client, microsoft):
    trust_directory(partner_alpha, CONTOSO, "contoso.onmicrosoft.com")
    with schema_context(partner_alpha.schema_name):
        megan = UserFactory(username="megan", email="Megan@Contoso.onmicrosoft.com")

    response = microsoft(alpha_client).run(username=MEGAN, next="/accounts/profile/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    profile = alpha_client.get("/accounts/profile/").content.decode()
    assert "Megan@Contoso.onmicrosoft.com" in profile
    with schema_context(partner_alpha.schema_name):
        identity = MicrosoftIdentity.objects.get()
        assert (identity.user, identity.tid, identity.username) == (megan, CONTOSO, MEGAN)
        assert identity.last_used is not None
        link = AuditEvent.objects.get(action="microsoft_identity.link")
        assert (link.actor, link.target_id, link.after["tid"]) == (megan, str(megan.pk), CONTOSO)
        assert link.message == "Linked on first sign-in from a trusted directory"
    (event,) = sign_in_events(partner_alpha)
    assert (event.actor_id, event.result, event.after["method"]) == (megan.pk, "success", "microsoft")
    assert event.after["oid"] == identity.oid


def test_an_unlinked_account_of_a_directory_not_trusted_gets_the_not_linked_page(
    partner_alpha, alpha_client, microsoft
):
    with schema_context(partner_alpha.schema_name):
        UserFactory(username="megan", email=MEGAN)

    response = microsoft(alpha_client).run(username=MEGAN)

    assert response.status_code == 403
    body = response.content.decode()
    assert "This Microsoft account is not linked" in body
    assert "Link Microsoft account in My profile" in body and "Accept with Microsoft" in body
    assert not is_signed_in(alpha_client)
    with schema_context(partner_alpha.schema_name):
        assert not MicrosoftIdentity.objects.exists()
    (event,) = sign_in_events(partner_alpha)
    assert (event.result, event.actor_label, event.message) == ("failure", MEGAN, "Microsoft account not linked")
    assert event.after["tid"] == CONTOSO
    assert event.target_id == ""  # an address proves nothing: the refusal names no user


def test_a_linked_account_signs_in_by_tenant_and_object_id_after_the_email_changed(
    partner_alpha, alpha_client, microsoft, simulator
):
    with schema_context(partner_alpha.schema_name):
        megan = UserFactory(username="megan", email=MEGAN)
    link_identity(partner_alpha, megan, simulator, MEGAN)
    microsoft(alpha_client).run(username=MEGAN)
    with schema_context(partner_alpha.schema_name):
        get_user_model().objects.filter(pk=megan.pk).update(email="megan.bowen@alpha.example")

    second = Client(HTTP_HOST=host_of(partner_alpha))
    response = microsoft(second).run(username=MEGAN)

    assert response.status_code == 302 and response["Location"] == "/"
    assert "megan.bowen@alpha.example" in second.get("/accounts/profile/").content.decode()
    with schema_context(partner_alpha.schema_name):
        assert MicrosoftIdentity.objects.filter(user=megan).count() == 1
    assert [event.result for event in sign_in_events(partner_alpha)] == ["success", "success"]


def test_an_unsafe_next_goes_home_instead(partner_alpha, alpha_client, microsoft, simulator):
    with schema_context(partner_alpha.schema_name):
        megan = UserFactory(username="megan", email=MEGAN)
    link_identity(partner_alpha, megan, simulator, MEGAN)

    response = microsoft(alpha_client).run(username=MEGAN, next="https://evil.example/steal")

    assert response["Location"] == "/"


# -- refusals ----------------------------------------------------------------------------------------------------------


def test_a_trusted_directory_account_without_a_console_user_is_refused(partner_alpha, alpha_client, microsoft):
    trust_directory(partner_alpha, CONTOSO)

    response = microsoft(alpha_client).run(username=ADELE)

    assert response.status_code == 403
    assert "This Microsoft account is not linked" in response.content.decode()
    assert not is_signed_in(alpha_client)
    with schema_context(partner_alpha.schema_name):
        assert not MicrosoftIdentity.objects.exists()
        assert not get_user_model().objects.filter(email__iexact=ADELE).exists()  # no auto-provisioning
    (event,) = sign_in_events(partner_alpha)
    assert (event.result, event.actor_label, event.after["method"]) == ("failure", ADELE, "microsoft")


def test_a_deactivated_user_is_refused_even_when_linked(partner_alpha, alpha_client, microsoft, simulator):
    with schema_context(partner_alpha.schema_name):
        megan = UserFactory(username="megan", email=MEGAN)
    link_identity(partner_alpha, megan, simulator, MEGAN)
    microsoft(alpha_client).run(username=MEGAN)
    with schema_context(partner_alpha.schema_name):
        get_user_model().objects.filter(pk=megan.pk).update(is_active=False)

    again = Client(HTTP_HOST=host_of(partner_alpha))
    response = microsoft(again).run(username=MEGAN)

    assert "Your console account is deactivated" in messages_on_sign_in_page(again, response)
    assert not is_signed_in(again)
    assert sign_in_events(partner_alpha)[-1].result == "failure"
    assert sign_in_events(partner_alpha)[-1].target_id == str(megan.pk)


def test_a_deactivated_user_is_not_linked_from_a_trusted_directory(partner_alpha, alpha_client, microsoft):
    trust_directory(partner_alpha, CONTOSO)
    with schema_context(partner_alpha.schema_name):
        UserFactory(username="megan", email=MEGAN, is_active=False)

    response = microsoft(alpha_client).run(username=MEGAN)

    assert "Your console account is deactivated" in messages_on_sign_in_page(alpha_client, response)
    with schema_context(partner_alpha.schema_name):
        assert not MicrosoftIdentity.objects.exists()


def test_a_trusted_directory_does_not_take_over_a_user_linked_to_another_microsoft_account(
    partner_alpha, alpha_client, microsoft
):
    trust_directory(partner_alpha, CONTOSO)
    with schema_context(partner_alpha.schema_name):
        megan = UserFactory(username="megan", email=MEGAN)
        MicrosoftIdentity.objects.create(user=megan, tid=CONTOSO, oid="11111111-1111-1111-1111-111111111111")

    response = microsoft(alpha_client).run(username=MEGAN)

    assert response.status_code == 403
    assert "This Microsoft account is not linked" in response.content.decode()
    assert not is_signed_in(alpha_client)
    with schema_context(partner_alpha.schema_name):
        assert MicrosoftIdentity.objects.get().oid == "11111111-1111-1111-1111-111111111111"


def test_a_callback_for_a_flow_this_session_did_not_start_is_refused(partner_alpha, alpha_client, microsoft, simulator):
    """Two tabs: the answer to the first flow comes back after a second flow replaced it in the session."""
    with schema_context(partner_alpha.schema_name):
        megan = UserFactory(username="megan", email=MEGAN)
    link_identity(partner_alpha, megan, simulator, MEGAN)
    flow = microsoft(alpha_client)
    first = flow.start()
    flow.start()

    response = flow.back_at_partner(flow.at_microsoft(first, username=MEGAN))

    assert "forged or mismatched state" in messages_on_sign_in_page(alpha_client, response)
    assert not is_signed_in(alpha_client)
    assert sign_in_events(partner_alpha)[-1].message == "forged or mismatched state"


def test_another_browser_cannot_complete_someone_elses_sign_in(partner_alpha, alpha_client, microsoft, simulator):
    with schema_context(partner_alpha.schema_name):
        megan = UserFactory(username="megan", email=MEGAN)
    link_identity(partner_alpha, megan, simulator, MEGAN)
    victim = microsoft(alpha_client)
    params = victim.at_microsoft(victim.start(), username=MEGAN)

    attacker = microsoft(Client(HTTP_HOST=host_of(partner_alpha)))
    response = attacker.back_at_partner(params)

    assert "forged or mismatched state" in messages_on_sign_in_page(attacker.client, response)
    assert not is_signed_in(attacker.client)


def test_a_forged_state_stops_at_the_public_callback(alpha_client, microsoft):
    flow = microsoft(alpha_client)
    params = flow.at_microsoft(flow.start(), username=MEGAN)

    response = flow.callback({**params, "state": params["state"] + "x"})

    assert response.status_code == 400
    assert "This sign-in or consent link is not valid or has expired" in response.content.decode()


def test_a_tampered_handoff_is_refused_with_a_message(partner_alpha, alpha_client, microsoft):
    flow = microsoft(alpha_client)
    flow.start()

    response = alpha_client.get("/microsoft/sign-in/complete/?handoff=not-a-signed-token")

    assert "This Microsoft sign-in link is not valid or has expired" in messages_on_sign_in_page(alpha_client, response)
    assert sign_in_events(partner_alpha)[-1].message == "bad handoff"


def test_a_handoff_with_another_state_is_refused(alpha_client, microsoft):
    flow = microsoft(alpha_client)
    flow.start()
    token = handoff_create(params={"state": "something-else", "code": "stolen"})

    response = alpha_client.get(f"/microsoft/sign-in/complete/?handoff={token}")

    assert "forged or mismatched state" in messages_on_sign_in_page(alpha_client, response)


def test_an_answer_cannot_be_used_twice(partner_alpha, alpha_client, microsoft, simulator):
    with schema_context(partner_alpha.schema_name):
        megan = UserFactory(username="megan", email=MEGAN)
    link_identity(partner_alpha, megan, simulator, MEGAN)
    flow = microsoft(alpha_client)
    params = flow.at_microsoft(flow.start(), username=MEGAN)
    assert flow.back_at_partner(params)["Location"] == "/"
    alpha_client.post("/accounts/sign-out/")

    replay = flow.back_at_partner(params)

    assert "forged or mismatched state" in messages_on_sign_in_page(alpha_client, replay)
    assert not is_signed_in(alpha_client)


def test_an_expired_flow_is_refused(partner_alpha, alpha_client, microsoft, simulator):
    with schema_context(partner_alpha.schema_name):
        megan = UserFactory(username="megan", email=MEGAN)
    link_identity(partner_alpha, megan, simulator, MEGAN)
    flow = microsoft(alpha_client)
    auth_uri = flow.start()
    session = alpha_client.session
    session["microsoft_sign_in"] = {**session["microsoft_sign_in"], "started_at": 1_000_000.0}
    session.save()

    response = flow.back_at_partner(flow.at_microsoft(auth_uri, username=MEGAN))

    assert "took too long and has expired" in messages_on_sign_in_page(alpha_client, response)
    assert not is_signed_in(alpha_client)
    assert sign_in_events(partner_alpha)[-1].message.startswith("FlowExpired")


def test_a_person_who_cancels_at_microsoft_is_told_so(partner_alpha, alpha_client, microsoft):
    response = microsoft(alpha_client).run(cancel=True, username=None)

    assert "Microsoft sign-in was cancelled" in messages_on_sign_in_page(alpha_client, response)
    assert not is_signed_in(alpha_client)
    (event,) = sign_in_events(partner_alpha)
    assert (event.result, event.after) == ("failure", {"method": "microsoft", "error": "access_denied"})


# -- the partner's sign-in methods -------------------------------------------------------------------------------------


def test_microsoft_sign_in_turned_off_hides_the_button_and_refuses_the_start(partner_alpha, alpha_client, identity):
    set_methods(partner_alpha, local=True, microsoft=False)

    page = alpha_client.get("/accounts/sign-in/").content.decode()
    response = alpha_client.post("/microsoft/sign-in/", {"next": "/"})

    assert "Sign in with Microsoft" not in page
    assert 'name="password"' in page
    assert "Sign-in with Microsoft is turned off" in messages_on_sign_in_page(alpha_client, response)
    assert "microsoft_sign_in" not in alpha_client.session


def test_microsoft_sign_in_turned_off_during_the_flow_is_refused_at_the_end(
    partner_alpha, alpha_client, microsoft, simulator
):
    with schema_context(partner_alpha.schema_name):
        megan = UserFactory(username="megan", email=MEGAN)
    link_identity(partner_alpha, megan, simulator, MEGAN)
    flow = microsoft(alpha_client)
    auth_uri = flow.start()
    set_methods(partner_alpha, local=True, microsoft=False)

    response = flow.back_at_partner(flow.at_microsoft(auth_uri, username=MEGAN))

    assert "Sign-in with Microsoft is turned off" in messages_on_sign_in_page(alpha_client, response)
    assert not is_signed_in(alpha_client)


def test_password_sign_in_turned_off_hides_the_form_and_refuses_the_post(partner_alpha, alpha_client):
    set_methods(partner_alpha, local=False, microsoft=True)

    page = alpha_client.get("/accounts/sign-in/").content.decode()
    response = alpha_client.post("/accounts/sign-in/?next=/customers/", {"username": "admin", "password": PASSWORD})

    assert 'name="password"' not in page
    assert "Sign in with Microsoft" in page
    assert response.status_code == 302
    assert response["Location"] == "/accounts/sign-in/?next=/customers/"
    assert "Signing in with a password is turned off here" in alpha_client.get(response["Location"]).content.decode()
    assert not is_signed_in(alpha_client)
    (event,) = sign_in_events(partner_alpha)
    assert (event.result, event.actor_label, event.message) == ("failure", "admin", "Password sign-in is turned off")
