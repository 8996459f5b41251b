"""Helpers of the API tests: tokens made through the service, clients that send them."""

from __future__ import annotations

import datetime
import itertools

from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from api.choices import API_MODULES
from api.services import api_token_create
from portal.partners.models import Partner
from tests.support import host_of

ALL_SCOPES = [f"{module}:write" for module in API_MODULES]
READ_SCOPES = [f"{module}:read" for module in API_MODULES]
_keys = itertools.count(1)


def token_for(partner: Partner, *, username: str = "admin", scopes: list[str] | None = None, **fields) -> str:
    with schema_context(partner.schema_name):
        user = get_user_model().objects.get(username=username)
        created = api_token_create(
            actor=user,
            name=f"Test token of {username}",
            scopes=ALL_SCOPES if scopes is None else scopes,
            expires_at=timezone.now() + datetime.timedelta(days=30),
        )
        if fields:
            for name, value in fields.items():
                setattr(created.token, name, value)
            created.token.save()
    return created.plaintext


def api_client(partner: Partner, token: str | None) -> Client:
    headers = {"HTTP_HOST": host_of(partner)}
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return Client(**headers)


def post(client: Client, path: str, body: dict, *, key: str | None = None):
    """A POST as an API client sends it: JSON, with a fresh Idempotency-Key unless one is given."""
    return client.post(
        path,
        body,
        content_type="application/json",
        headers={"Idempotency-Key": key if key is not None else f"test-key-{next(_keys)}"},
    )
