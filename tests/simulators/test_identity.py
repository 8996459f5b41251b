"""The simulator on its own, spoken to over HTTP the way msal and a browser would (no msal here)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest

from simulators.identity import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    PARTNER_CENTER_APP_ID,
    PARTNER_CENTER_APP_SECRET,
    PARTNER_CENTER_RESOURCE,
    PARTNER_REFRESH_TOKEN,
    PARTNER_TENANT_ID,
    REFRESH_TOKEN_LIFETIME,
    AppRegistration,
    MicrosoftSimulator,
    SimulatedBrowser,
    parse_forms,
)

PUBLIC = "http://sim.test"
REDIRECT = "http://console.test/auth/callback"
CONTOSO = "67a08685-ba70-4922-ae8b-802ff5c44282"
FABRIKAM = "d110a146-8491-4109-9dce-4139f88ec90a"
MEGAN = "megan@contoso.onmicrosoft.com"
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "login.microsoftonline.com"}


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock) -> MicrosoftSimulator:
    return MicrosoftSimulator(public_url=PUBLIC, clock=clock)


@pytest.fixture
def http(sim: MicrosoftSimulator):
    with httpx.Client(transport=httpx.WSGITransport(app=sim), base_url=PUBLIC) as client:
        yield client


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(tenant: str = "organizations", **overrides: str) -> str:
    params = {
        "client_id": DEFAULT_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "openid profile email offline_access",
        "state": "state-1",
        "nonce": "nonce-1",
        **overrides,
    }
    return f"{PUBLIC}/{tenant}/oauth2/v2.0/authorize?{urlencode(params)}"


def redeem(http: httpx.Client, code: str, verifier: str | None, **overrides: str) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "code": code,
        "redirect_uri": REDIRECT,
        "client_info": "1",
        **({"code_verifier": verifier} if verifier else {}),
        **overrides,
    }
    return http.post("/organizations/oauth2/v2.0/token", data=data, headers=FORWARDED)


def code_for(http: httpx.Client, challenge: str, username: str = MEGAN, **overrides: str) -> str:
    url = authorize_url(code_challenge=challenge, code_challenge_method="S256", **overrides)
    callback = SimulatedBrowser(http).sign_in(url, username=username)
    return callback.params["code"]


def client_credentials(http: httpx.Client, tenant: str, scope: str = "https://graph.microsoft.com/.default"):
    data = {
        "grant_type": "client_credentials",
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "scope": scope,
    }
    return http.post(f"/{tenant}/oauth2/v2.0/token", data=data, headers=FORWARDED)


# -- discovery and keys ------------------------------------------------------------------------------------------------


def test_discovery_splits_back_channel_from_browser_urls(http: httpx.Client) -> None:
    doc = http.get("/organizations/v2.0/.well-known/openid-configuration", headers=FORWARDED).json()

    assert doc["issuer"] == "https://login.microsoftonline.com/{tenantid}/v2.0"
    assert doc["token_endpoint"] == "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"
    assert doc["jwks_uri"] == "https://login.microsoftonline.com/organizations/discovery/v2.0/keys"
    assert doc["authorization_endpoint"] == f"{PUBLIC}/organizations/oauth2/v2.0/authorize"
    assert "form_post" in doc["response_modes_supported"]


@pytest.mark.parametrize("segment", [CONTOSO, "contoso.onmicrosoft.com"])
def test_discovery_for_one_tenant_names_it_by_id(http: httpx.Client, segment: str) -> None:
    doc = http.get(f"/{segment}/v2.0/.well-known/openid-configuration").json()

    assert doc["issuer"] == f"{PUBLIC}/{CONTOSO}/v2.0"  # no forwarded headers: the simulator's own address
    assert doc["token_endpoint"] == f"{PUBLIC}/{CONTOSO}/oauth2/v2.0/token"


def test_discovery_for_common_is_multi_tenant(http: httpx.Client) -> None:
    assert http.get("/common/v2.0/.well-known/openid-configuration").json()["issuer"].endswith("/{tenantid}/v2.0")


def test_unknown_tenant_is_refused_like_microsoft(http: httpx.Client) -> None:
    response = http.get("/0b0b0b0b-0000-4000-8000-000000000000/v2.0/.well-known/openid-configuration")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_tenant"
    assert response.json()["error_codes"] == [90002]


def test_jwks_publishes_the_signing_key(http: httpx.Client, sim: MicrosoftSimulator) -> None:
    keys = http.get("/organizations/discovery/v2.0/keys").json()["keys"]

    assert [k["kid"] for k in keys] == [sim.kid]
    assert keys[0]["kty"] == "RSA" and keys[0]["use"] == "sig" and keys[0]["e"] == "AQAB"


# -- sign-in -----------------------------------------------------------------------------------------------------------


def test_sign_in_page_lists_every_seeded_user_for_organizations(http: httpx.Client, sim: MicrosoftSimulator) -> None:
    page = http.get(authorize_url())
    (form,) = parse_forms(page.text, base_url=str(page.url))

    expected = [u.preferred_username for d in sim.directories for u in d.users]
    assert form.choices["user"] == expected and len(expected) == 12  # five customer directories, the partner's
    assert form.action == f"{PUBLIC}/organizations/oauth2/v2.0/authorize"
    assert ("action", "cancel") in form.buttons and ("action", "continue") in form.buttons


def test_sign_in_page_for_a_tenant_lists_only_its_users_and_honours_login_hint(http: httpx.Client) -> None:
    page = http.get(authorize_url(FABRIKAM, login_hint="DIEGO@fabrikam.onmicrosoft.com", prompt="select_account"))
    (form,) = parse_forms(page.text, base_url=str(page.url))

    assert form.choices["user"] == ["alex@fabrikam.onmicrosoft.com", "diego@fabrikam.onmicrosoft.com"]
    assert form.fields["user"] == "diego@fabrikam.onmicrosoft.com"


def test_query_mode_code_flow_by_hand(http: httpx.Client, sim: MicrosoftSimulator, clock: Clock) -> None:
    verifier, challenge = pkce()
    page = http.get(authorize_url(code_challenge=challenge, code_challenge_method="S256"))
    (form,) = parse_forms(page.text, base_url=str(page.url))
    answer = http.post(form.action, data={**form.fields, "user": MEGAN, "action": "continue"})

    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert params["state"] == "state-1"

    tokens = redeem(http, params["code"], verifier).json()
    keys = http.get("/organizations/discovery/v2.0/keys").json()
    key = jwt.PyJWK(keys["keys"][0], algorithm="RS256").key
    claims = jwt.decode(
        tokens["id_token"],
        key,
        algorithms=["RS256"],
        audience=DEFAULT_CLIENT_ID,
        issuer=f"https://login.microsoftonline.com/{CONTOSO}/v2.0",
    )
    assert jwt.get_unverified_header(tokens["id_token"])["kid"] == sim.kid
    assert claims["nonce"] == "nonce-1"
    assert claims["tid"] == CONTOSO
    assert claims["preferred_username"] == MEGAN and claims["email"] == MEGAN
    assert claims["name"] == "Megan Bowen"
    assert claims["exp"] - claims["iat"] == 3600 and claims["iat"] == int(clock.now)
    client_info = json.loads(base64.urlsafe_b64decode(tokens["client_info"] + "=="))
    assert client_info == {"uid": claims["oid"], "utid": CONTOSO}
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]


def test_form_post_answer_submits_itself_to_the_redirect_uri(http: httpx.Client) -> None:
    page = http.get(authorize_url(response_mode="form_post"))
    (form,) = parse_forms(page.text, base_url=str(page.url))
    answer = http.post(form.action, data={**form.fields, "user": MEGAN, "action": "continue"})

    assert answer.status_code == 200
    (posted,) = parse_forms(answer.text, base_url=str(answer.url))
    assert (posted.method, posted.action) == ("POST", REDIRECT)
    assert set(posted.fields) == {"code", "state", "session_state"}
    assert "document.forms[0].submit()" in answer.text


def test_cancel_returns_access_denied_to_the_app(http: httpx.Client) -> None:
    callback = SimulatedBrowser(http).sign_in(authorize_url(), cancel=True)

    assert callback.url == REDIRECT
    assert callback.params["error"] == "access_denied"
    assert callback.params["state"] == "state-1"
    assert callback.params["error_description"].startswith("AADSTS65004")


def test_a_sign_in_page_can_be_submitted_once(http: httpx.Client) -> None:
    page = http.get(authorize_url())
    (form,) = parse_forms(page.text, base_url=str(page.url))
    first = http.post(form.action, data={**form.fields, "user": MEGAN, "action": "continue"})
    second = http.post(form.action, data={**form.fields, "user": MEGAN, "action": "continue"})

    assert first.status_code == 302
    assert second.status_code == 400 and "expired or was already used" in second.text


def test_prompt_none_answers_login_required(http: httpx.Client) -> None:
    callback = SimulatedBrowser(http).sign_in(authorize_url(prompt="none"))

    assert callback.params["error"] == "login_required"
    assert callback.params["state"] == "state-1"


def test_unknown_client_gets_an_error_page_and_no_redirect(http: httpx.Client) -> None:
    response = http.get(authorize_url(client_id="someone-else"))

    assert response.status_code == 400
    assert "AADSTS700016" in response.text
    assert "Location" not in response.headers


def test_unregistered_redirect_uri_gets_an_error_page(clock: Clock) -> None:
    app = AppRegistration(redirect_uris=("https://console.example/callback",))
    sim = MicrosoftSimulator(public_url=PUBLIC, apps=[app], clock=clock)
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as http:
        response = http.get(authorize_url())

    assert response.status_code == 400
    assert "AADSTS50011" in response.text


def test_pkce_verifier_is_checked_and_the_code_is_spent_anyway(http: httpx.Client) -> None:
    verifier, challenge = pkce()
    code = code_for(http, challenge)

    wrong = redeem(http, code, "not-the-verifier")
    retry = redeem(http, code, verifier)

    assert wrong.status_code == 400 and wrong.json()["error_codes"] == [50148]
    assert retry.status_code == 400 and retry.json()["error_codes"] == [54005]


def test_missing_pkce_verifier_is_refused(http: httpx.Client) -> None:
    _, challenge = pkce()
    response = redeem(http, code_for(http, challenge), None)

    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_codes_expire(http: httpx.Client, clock: Clock) -> None:
    verifier, challenge = pkce()
    code = code_for(http, challenge)
    clock.now += 601

    response = redeem(http, code, verifier)

    assert response.status_code == 400 and response.json()["error_codes"] == [70008]


def test_redirect_uri_must_match_the_one_used_for_the_code(http: httpx.Client) -> None:
    verifier, challenge = pkce()
    response = redeem(http, code_for(http, challenge), verifier, redirect_uri="http://console.test/other")

    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_refused(http: httpx.Client) -> None:
    verifier, challenge = pkce()
    response = redeem(http, code_for(http, challenge), verifier, client_secret="guess")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.json()["error_codes"] == [7000215]


def test_client_secret_may_come_as_basic_auth(http: httpx.Client) -> None:
    verifier, challenge = pkce()
    code = code_for(http, challenge)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}

    response = http.post("/organizations/oauth2/v2.0/token", data=data, auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))

    assert response.status_code == 200 and "id_token" in response.json()


def test_refresh_token_grant_answers_a_new_refresh_token_and_the_old_one_lives_on(
    http: httpx.Client, sim: MicrosoftSimulator
) -> None:
    verifier, challenge = pkce()
    first = redeem(http, code_for(http, challenge), verifier).json()
    data = {
        "grant_type": "refresh_token",
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "refresh_token": first["refresh_token"],
    }

    second = http.post("/organizations/oauth2/v2.0/token", data=data)
    replay = http.post("/organizations/oauth2/v2.0/token", data=data)

    # Entra does not revoke a redeemed refresh token; it lives until it expires or is revoked.
    assert second.status_code == 200 and second.json()["refresh_token"] != first["refresh_token"]
    assert replay.status_code == 200
    assert sim.revoke_refresh_tokens(client_id=DEFAULT_CLIENT_ID) == 3
    revoked = http.post("/organizations/oauth2/v2.0/token", data=data)
    assert revoked.status_code == 400 and "AADSTS70008" in revoked.json()["error_description"]


# -- the one authority: Partner Center tokens -------------------------------------------------------------------------


def partner_center_token(http: httpx.Client, **form: str) -> httpx.Response:
    data = {
        "client_id": PARTNER_CENTER_APP_ID,
        "client_secret": PARTNER_CENTER_APP_SECRET,
        "scope": f"{PARTNER_CENTER_RESOURCE}/.default",
        **form,
    }
    return http.post(f"/{PARTNER_TENANT_ID}/oauth2/v2.0/token", data=data, headers=FORWARDED)


def test_the_partners_refresh_token_gives_app_plus_user_partner_center_tokens(
    http: httpx.Client, sim: MicrosoftSimulator
) -> None:
    answer = partner_center_token(
        http,
        grant_type="refresh_token",
        refresh_token=PARTNER_REFRESH_TOKEN,
        scope=f"{PARTNER_CENTER_RESOURCE}/.default offline_access",
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["aud"] == PARTNER_CENTER_RESOURCE and claims["tid"] == PARTNER_TENANT_ID
    assert claims["idtyp"] == "user" and claims["upn"] == "admin@democsp.onmicrosoft.com"
    assert claims["amr"] == ["pwd", "mfa"] and claims["scp"] == "user_impersonation"
    assert body["refresh_token"] != PARTNER_REFRESH_TOKEN
    key = jwt.PyJWKSet.from_dict(sim.public_jwks()).keys[0].key
    verified = jwt.decode(body["access_token"], key, algorithms=["RS256"], audience=PARTNER_CENTER_RESOURCE)
    assert verified["appid"] == PARTNER_CENTER_APP_ID


def test_app_only_partner_center_tokens_need_no_consent_in_the_apps_own_directory(http: httpx.Client) -> None:
    answer = partner_center_token(http, grant_type="client_credentials")
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert (claims["aud"], claims["tid"], claims["idtyp"]) == (PARTNER_CENTER_RESOURCE, PARTNER_TENANT_ID, "app")
    # In a customer's directory the same app still needs that customer's admin consent.
    elsewhere = http.post(
        f"/{CONTOSO}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": PARTNER_CENTER_APP_ID,
            "client_secret": PARTNER_CENTER_APP_SECRET,
            "scope": "https://graph.microsoft.com/.default",
        },
    )
    assert elsewhere.status_code == 400 and "AADSTS65001" in elsewhere.json()["error_description"]


def test_a_refresh_token_expires_after_ninety_days(sim: MicrosoftSimulator) -> None:
    now = [1_800_000_000.0]
    clocked = MicrosoftSimulator(public_url=PUBLIC, clock=lambda: now[0])
    with httpx.Client(transport=httpx.WSGITransport(app=clocked), base_url=PUBLIC) as client:
        form = {"grant_type": "refresh_token", "refresh_token": PARTNER_REFRESH_TOKEN}
        assert partner_center_token(client, **form).status_code == 200
        now[0] += REFRESH_TOKEN_LIFETIME + 1
        expired = partner_center_token(client, **form)
    assert expired.status_code == 400 and "AADSTS70008" in expired.json()["error_description"]


# -- admin consent and client credentials ------------------------------------------------------------------------------


def consent_url(tenant: str = "organizations", path: str = "v2.0/adminconsent", **overrides: str) -> str:
    params = {
        "client_id": DEFAULT_CLIENT_ID,
        "scope": "https://graph.microsoft.com/.default",
        "redirect_uri": "http://console.test/consent",
        "state": "consent-state",
        **overrides,
    }
    return f"{PUBLIC}/{tenant}/{path}?{urlencode(params)}"


def test_consent_page_shows_permissions_and_offers_the_seeded_tenants(
    http: httpx.Client, sim: MicrosoftSimulator
) -> None:
    page = http.get(consent_url())
    (form,) = parse_forms(page.text, base_url=str(page.url))

    assert "Directory.Read.All" in page.text and "User.Read.All" in page.text
    assert form.choices["tenant"] == [d.tid for d in sim.directories]
    assert ("action", "accept") in form.buttons and ("action", "cancel") in form.buttons


def test_consent_for_a_tenant_in_the_url_is_forced(http: httpx.Client, sim: MicrosoftSimulator) -> None:
    browser = SimulatedBrowser(http)
    callback = browser.admin_consent(consent_url(FABRIKAM, path="adminconsent"), tenant=CONTOSO)

    assert callback.params["tenant"] == FABRIKAM
    assert [(c.tid, c.client_id) for c in sim.consents] == [(FABRIKAM, DEFAULT_CLIENT_ID)]


def test_consent_accept_redirects_like_microsoft(http: httpx.Client) -> None:
    callback = SimulatedBrowser(http).admin_consent(consent_url(), tenant=CONTOSO)

    assert callback.url == "http://console.test/consent"
    assert callback.params["admin_consent"] == "True"
    assert callback.params["tenant"] == CONTOSO
    assert callback.params["state"] == "consent-state"
    assert "https://graph.microsoft.com/Directory.Read.All" in callback.params["scope"].split()
    consents = http.get("/_control/state").json()["consents"]
    assert [(c["tid"], c["client_id"]) for c in consents] == [(CONTOSO, DEFAULT_CLIENT_ID)]


def test_consent_cancel_redirects_with_access_denied(http: httpx.Client, sim: MicrosoftSimulator) -> None:
    callback = SimulatedBrowser(http).admin_consent(consent_url(), accept=False)

    assert callback.params["error"] == "access_denied"
    assert callback.params["error_description"]
    assert callback.params["state"] == "consent-state"
    assert sim.consents == ()


def test_client_credentials_need_consent(http: httpx.Client) -> None:
    response = client_credentials(http, CONTOSO)

    body = response.json()
    assert response.status_code == 400
    assert body["error"] == "invalid_grant"
    assert body["error_codes"] == [65001]
    assert body["error_description"].startswith("AADSTS65001: ")
    assert {"trace_id", "correlation_id", "timestamp"} <= set(body)


def test_client_credentials_after_consent(http: httpx.Client, sim: MicrosoftSimulator) -> None:
    SimulatedBrowser(http).admin_consent(consent_url(), tenant=FABRIKAM)

    response = client_credentials(http, "fabrikam.onmicrosoft.com")

    assert response.status_code == 200
    token = response.json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["tid"] == FABRIKAM and claims["aud"] == "https://graph.microsoft.com"
    assert "Directory.Read.All" in claims["roles"] and claims["idtyp"] == "app"


def test_client_credentials_need_a_tenant_and_a_default_scope(http: httpx.Client, sim: MicrosoftSimulator) -> None:
    sim.grant_consent(tid=CONTOSO, client_id=DEFAULT_CLIENT_ID)

    assert client_credentials(http, "organizations").status_code == 400
    bad_scope = client_credentials(http, CONTOSO, scope="https://graph.microsoft.com/User.Read")
    assert bad_scope.json()["error"] == "invalid_scope"


# -- control API -------------------------------------------------------------------------------------------------------


def test_control_api_adds_a_directory_with_users(http: httpx.Client) -> None:
    created = http.post(
        "/_control/users",
        json={"domain": "litware.onmicrosoft.com", "name": "Litware", "users": [{"name": "Ann <b>Lee</b>"}]},
    )

    assert created.status_code == 201
    tid = created.json()["tid"]
    assert created.json()["users"][0]["preferred_username"] == "ann@litware.onmicrosoft.com"
    assert http.get(f"/{tid}/v2.0/.well-known/openid-configuration").status_code == 200
    page = http.get(authorize_url("litware.onmicrosoft.com"))
    assert "ann@litware.onmicrosoft.com" in page.text
    assert "Ann &lt;b&gt;Lee&lt;/b&gt;" in page.text  # names are escaped, not rendered


def test_control_api_adds_users_to_an_existing_directory_and_refuses_duplicates(http: httpx.Client) -> None:
    added = http.post("/_control/users", json={"tid": CONTOSO, "users": [{"name": "Grady Archie"}]})
    duplicate = http.post("/_control/users", json={"tid": CONTOSO, "users": [{"name": "Grady Again"}]})

    assert [u["name"] for u in added.json()["users"]] == ["Megan Bowen", "Adele Vance", "Grady Archie"]
    assert duplicate.status_code == 400


def test_control_api_grants_and_revokes_consent(http: httpx.Client) -> None:
    assert http.post("/_control/consents", json={"tid": CONTOSO}).status_code == 201
    assert client_credentials(http, CONTOSO).status_code == 200

    assert http.request("DELETE", "/_control/consents", json={"tid": CONTOSO}).json() == {"revoked": True}
    assert client_credentials(http, CONTOSO).status_code == 400


def test_control_reset_forgets_consents_and_added_users_but_keeps_the_key(
    http: httpx.Client, sim: MicrosoftSimulator
) -> None:
    kid = sim.kid
    http.post("/_control/users", json={"domain": "adatum.onmicrosoft.com", "users": [{"name": "Ann Lee"}]})
    http.post("/_control/consents", json={"tid": CONTOSO})

    state = http.post("/_control/reset").json()

    assert state["consents"] == []
    assert [d["domain"] for d in state["directories"]] == [
        "contoso.onmicrosoft.com",
        "fabrikam.onmicrosoft.com",
        "northwind.onmicrosoft.com",
        "adatum.onmicrosoft.com",
        "tailspintoys.onmicrosoft.com",
        "democsp.onmicrosoft.com",
    ]
    assert http.get("/common/discovery/v2.0/keys").json()["keys"][0]["kid"] == kid


def test_seeded_state(http: httpx.Client) -> None:
    state = http.get("/_control/state").json()

    assert [a["client_id"] for a in state["apps"]] == [DEFAULT_CLIENT_ID, PARTNER_CENTER_APP_ID]
    assert all(len(d["users"]) == 2 for d in state["directories"])
    assert "client_secret" not in json.dumps(state)


# -- Microsoft Graph: GDAP ---------------------------------------------------------------------------------------------


def graph_token(http: httpx.Client) -> str:
    answer = partner_center_token(http, grant_type="client_credentials", scope="https://graph.microsoft.com/.default")
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_gdap_relationships_are_listed_with_next_links(http: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {graph_token(http)}"}
    first = http.get("/v1.0/tenantRelationships/delegatedAdminRelationships?$top=3", headers=headers).json()
    assert len(first["value"]) == 3 and "@odata.nextLink" in first
    relationship = first["value"][0]
    assert set(relationship) >= {
        "id",
        "displayName",
        "duration",
        "status",
        "autoExtendDuration",
        "activatedDateTime",
        "endDateTime",
        "customer",
        "accessDetails",
    }
    rest = http.get(first["@odata.nextLink"].split("sim.test", 1)[-1], headers=headers).json()
    assert len(rest["value"]) == 2 and "@odata.nextLink" not in rest


def test_graph_refuses_missing_tokens_and_other_tenants(http: httpx.Client) -> None:
    assert http.get("/v1.0/tenantRelationships/delegatedAdminRelationships").status_code == 401


def test_auto_extension_is_refused_when_the_relationship_includes_global_administrator(
    http: httpx.Client, sim: MicrosoftSimulator
) -> None:
    headers = {"Authorization": f"Bearer {graph_token(http)}"}
    relationships = http.get("/v1.0/tenantRelationships/delegatedAdminRelationships", headers=headers).json()["value"]
    by_name = {r["displayName"]: r for r in relationships}
    url = "/v1.0/tenantRelationships/delegatedAdminRelationships/{}"
    refused = http.patch(
        url.format(by_name["Contoso admin"]["id"]), json={"autoExtendDuration": "P180D"}, headers=headers
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "autoExtendNotSupported"
    allowed = http.patch(
        url.format(by_name["Northwind licences"]["id"]), json={"autoExtendDuration": "P180D"}, headers=headers
    )
    assert allowed.status_code == 200 and allowed.json()["autoExtendDuration"] == "P180D"


def test_a_relationship_past_its_end_expires_unless_it_extends(sim: MicrosoftSimulator) -> None:
    now = [1_800_000_000.0]
    clocked = MicrosoftSimulator(public_url=PUBLIC, clock=lambda: now[0])
    with httpx.Client(transport=httpx.WSGITransport(app=clocked), base_url=PUBLIC) as client:
        headers = {"Authorization": f"Bearer {graph_token(client)}"}
        now[0] += 40 * 86400
        headers = {"Authorization": f"Bearer {graph_token(client)}"}
        listed = client.get("/v1.0/tenantRelationships/delegatedAdminRelationships", headers=headers).json()["value"]
    status = {r["displayName"]: r["status"] for r in listed}
    assert status["Contoso admin"] == "expired" and status["Northwind licences"] == "expired"
    assert status["Fabrikam helpdesk"] == "active"


def test_the_identity_simulator_holds_microsoft_onlines_domains_for_every_marketplace_process(
    sim: MicrosoftSimulator,
) -> None:
    from simulators.alef import AlefSimulator
    from simulators.identity import RemoteDirectories

    remote = RemoteDirectories("http://identity.test", transport=httpx.WSGITransport(app=sim))

    assert remote.domain_registered("contoso.onmicrosoft.com") is True  # a seeded directory
    assert remote.domain_registered("wingtiptoys.onmicrosoft.com") is False
    remote.domain_register(
        domain="wingtiptoys.onmicrosoft.com", tenant_id="0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", name="Wingtip"
    )
    assert sim.directory("wingtiptoys.onmicrosoft.com").tid == "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    # A marketplace simulator in another process sees it taken through the same registry.
    assert AlefSimulator(domains=remote).domain_taken("wingtiptoys") is True
    assert AlefSimulator(domains=remote).domain_taken("fabrikamnew") is False
