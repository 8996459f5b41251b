"""Helpers shared by tests (fixtures live in conftest.py)."""

from django.test import Client

from portal.partners.models import Partner
from portal.partners.services import partner_primary_host

PASSWORD = "correct-horse-battery"


def host_of(partner: Partner) -> str:
    return partner_primary_host(partner.slug)


def signed_in_client(partner: Partner, username: str = "admin", password: str = PASSWORD) -> Client:
    client = Client(HTTP_HOST=host_of(partner))
    response = client.post("/accounts/sign-in/", {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client
