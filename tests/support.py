"""Helpers shared by tests (fixtures live in conftest.py)."""

from django.test import Client

from portal.authentication.session import SECOND_FACTOR_SESSION_KEY
from portal.partners.models import Partner
from portal.partners.services import partner_primary_host

PASSWORD = "correct-horse-battery"


def host_of(partner: Partner) -> str:
    return partner_primary_host(partner.slug)


def second_factor_skip(client: Client) -> Client:
    """Test helper only: mark the client's signed-in session as past its second factor.

    Screens' tests sign in with a password and are not about MFA (tests/security/test_mfa.py is);
    the partners' "Require MFA" stays on, as for every new partner.
    """
    session = client.session
    session[SECOND_FACTOR_SESSION_KEY] = "test"
    session.save()
    return client


def signed_in_client(partner: Partner, username: str = "admin", password: str = PASSWORD) -> Client:
    client = Client(HTTP_HOST=host_of(partner))
    response = client.post("/accounts/sign-in/", {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    return second_factor_skip(client)
