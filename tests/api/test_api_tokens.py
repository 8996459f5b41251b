"""Settings > API tokens: a token is shown once, kept only as a hash, scoped, audited, revocable; the
OpenAPI document and the interactive docs are served by the console itself."""

import re

from api.models import ApiToken
from portal.audit.models import AuditEvent
from tests.api.api_support import api_client


def test_a_token_is_shown_once_and_stored_as_a_hash(alpha_admin_client, partner_alpha, in_alpha):
    response = alpha_admin_client.post(
        "/settings/api-tokens/new/",
        {"name": "PSA sync", "expires_on": "2027-03-01", "scope_customers": "read", "scope_subscriptions": "write"},
    )

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    plaintext = re.search(r'value="(mspc_[^"]+)"', response.content.decode()).group(1)
    token = ApiToken.objects.get(name="PSA sync")
    assert plaintext not in token.secret_hash and token.scopes == ["customers:read", "subscriptions:write"]
    assert AuditEvent.objects.filter(action="api_token.create", target_id=str(token.pk)).exists()
    assert api_client(partner_alpha, plaintext).get("/api/v1/customers").status_code == 200

    listing = alpha_admin_client.get("/settings/api-tokens/").content.decode()
    assert "PSA sync" in listing and plaintext not in listing

    alpha_admin_client.post(f"/settings/api-tokens/{token.pk}/revoke/")
    assert api_client(partner_alpha, plaintext).get("/api/v1/customers").status_code == 401


def test_a_token_form_without_a_scope_is_shown_again_with_the_error(alpha_admin_client, in_alpha):
    response = alpha_admin_client.post("/settings/api-tokens/new/", {"name": "Nothing", "expires_on": "2027-03-01"})

    assert response.status_code == 400
    assert "Choose at least one scope." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_openapi_document_and_docs_are_served_offline(alpha_admin_client):
    schema = alpha_admin_client.get("/api/v1/openapi.json").json()
    assert "/api/v1/subscriptions/{subscription_id}/quantity" in schema["paths"]

    docs = alpha_admin_client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs and "https://" not in docs
