"""The console's msal wrapper driven end to end against the simulator: in-process, and once over real sockets."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.microsoft.identity import (
    AccessDenied,
    FlowExpired,
    IdentityClient,
    IdentityError,
    InvalidIdToken,
    StateMismatch,
    TokenError,
    _HttpClient,
)
from simulators.identity import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    MicrosoftSimulator,
    SimulatedBrowser,
    make_simulator_server,
)

PUBLIC = "http://sim.test"  # what the browser uses
BACKEND = "http://microsoft-sim.internal:8100"  # where the console's http client is routed
AUTHORITY = "https://login.microsoftonline.com"
REDIRECT = "http://console.test/auth/callback"
CONSENT_REDIRECT = "http://console.test/auth/consent"
CONTOSO = "67a08685-ba70-4922-ae8b-802ff5c44282"
FABRIKAM = "d110a146-8491-4109-9dce-4139f88ec90a"
NORTHWIND = "48ae22e9-4381-4526-95c4-8fb8bcdb2ec7"
MEGAN = "megan@contoso.onmicrosoft.com"


class RecordingApp:
    """WSGI middleware keeping token endpoint answers, so a test can check the raw ID token independently."""

    def __init__(self, app: MicrosoftSimulator) -> None:
        self.app = app
        self.token_bodies: list[bytes] = []

    def __call__(self, environ, start_response):
        body = b"".join(self.app(environ, start_response))
        if environ["PATH_INFO"].endswith("/oauth2/v2.0/token"):
            self.token_bodies.append(body)
        return [body]


@pytest.fixture
def sim() -> MicrosoftSimulator:
    return MicrosoftSimulator(public_url=PUBLIC)


@pytest.fixture
def recorder(sim: MicrosoftSimulator) -> RecordingApp:
    return RecordingApp(sim)


@pytest.fixture
def transport(recorder: RecordingApp) -> httpx.WSGITransport:
    return httpx.WSGITransport(app=recorder)


@pytest.fixture
def identity(transport: httpx.WSGITransport) -> Iterator[IdentityClient]:
    client = IdentityClient(
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        authority_base=AUTHORITY,
        simulator_url=BACKEND,
        transport=transport,
    )
    yield client
    client.close()


@pytest.fixture
def browser(transport: httpx.WSGITransport) -> Iterator[SimulatedBrowser]:
    with httpx.Client(transport=transport) as client:
        yield SimulatedBrowser(client)


def sign_in(identity: IdentityClient, browser: SimulatedBrowser, **kwargs) -> tuple[dict, dict, float]:
    """Start a sign-in, pick a user on the simulator's page; return (flow, callback params, started_at)."""
    started_at = time.time()
    auth_uri, flow = identity.sign_in_start(redirect_uri=REDIRECT, state="state-123")
    callback = browser.sign_in(auth_uri, **kwargs)
    if "error" not in callback.params:
        assert (callback.method, callback.url) == ("POST", REDIRECT)  # form_post, as the console asked
    return flow, callback.params, started_at


# -- sign-in -----------------------------------------------------------------------------------------------------------


def test_sign_in_returns_the_chosen_users_claims(
    identity: IdentityClient, browser: SimulatedBrowser, recorder: RecordingApp, sim: MicrosoftSimulator
) -> None:
    flow, params, started_at = sign_in(identity, browser, username=MEGAN)

    user = identity.sign_in_complete(flow=flow, params=params, started_at=started_at)

    megan = sim.directory(CONTOSO).users[0]
    assert (user.tid, user.oid, user.name, user.preferred_username) == (CONTOSO, megan.oid, "Megan Bowen", MEGAN)
    assert user.email == MEGAN
    assert user.claims["iss"] == f"{AUTHORITY}/{CONTOSO}/v2.0"
    assert user.claims["aud"] == DEFAULT_CLIENT_ID


def test_the_id_token_signature_verifies_against_the_jwks(
    identity: IdentityClient, browser: SimulatedBrowser, recorder: RecordingApp, transport: httpx.WSGITransport
) -> None:
    flow, params, started_at = sign_in(identity, browser, username=MEGAN)
    identity.sign_in_complete(flow=flow, params=params, started_at=started_at)

    id_token = json.loads(recorder.token_bodies[-1])["id_token"]
    with httpx.Client(transport=transport) as http:
        jwks = http.get(f"{PUBLIC}/organizations/discovery/v2.0/keys").json()
    header = jwt.get_unverified_header(id_token)
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    claims = jwt.decode(
        id_token, jwt.PyJWK(jwk, algorithm="RS256").key, algorithms=["RS256"], audience=DEFAULT_CLIENT_ID
    )
    assert header["alg"] == "RS256"
    assert claims["tid"] == CONTOSO and claims["nonce"]  # msal checked the nonce; it is there to check
    with pytest.raises(jwt.InvalidSignatureError):
        other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
        jwt.decode(id_token, other_key, algorithms=["RS256"], audience=DEFAULT_CLIENT_ID)


def test_login_hint_preselects_the_user(identity: IdentityClient, browser: SimulatedBrowser) -> None:
    auth_uri, flow = identity.sign_in_start(
        redirect_uri=REDIRECT, state="state-123", login_hint="alex@fabrikam.onmicrosoft.com", prompt="select_account"
    )
    callback = browser.sign_in(auth_uri)  # no username: submits what the page preselected

    user = identity.sign_in_complete(flow=flow, params=callback.params, started_at=time.time())

    assert (user.tid, user.preferred_username) == (FABRIKAM, "alex@fabrikam.onmicrosoft.com")


def test_wrong_state_is_refused(identity: IdentityClient, browser: SimulatedBrowser) -> None:
    flow, params, started_at = sign_in(identity, browser, username=MEGAN)

    with pytest.raises(StateMismatch):
        identity.sign_in_complete(flow=flow, params={**params, "state": "forged"}, started_at=started_at)


def test_a_callback_without_a_flow_is_refused(identity: IdentityClient, browser: SimulatedBrowser) -> None:
    _, params, started_at = sign_in(identity, browser, username=MEGAN)

    with pytest.raises(StateMismatch):
        identity.sign_in_complete(flow=None, params=params, started_at=started_at)


def test_expired_flow_is_refused(identity: IdentityClient, browser: SimulatedBrowser) -> None:
    flow, params, started_at = sign_in(identity, browser, username=MEGAN)

    with pytest.raises(FlowExpired):
        identity.sign_in_complete(flow=flow, params=params, started_at=started_at, now=started_at + 601)


def test_user_who_cancels_gets_access_denied(identity: IdentityClient, browser: SimulatedBrowser) -> None:
    flow, params, started_at = sign_in(identity, browser, cancel=True)

    with pytest.raises(AccessDenied) as denied:
        identity.sign_in_complete(flow=flow, params=params, started_at=started_at)
    assert denied.value.error == "access_denied"


def test_a_code_cannot_be_redeemed_twice(identity: IdentityClient, browser: SimulatedBrowser) -> None:
    flow, params, started_at = sign_in(identity, browser, username=MEGAN)
    identity.sign_in_complete(flow=flow, params=params, started_at=started_at)

    with pytest.raises(TokenError) as refused:
        identity.sign_in_complete(flow=flow, params=params, started_at=started_at)
    assert refused.value.error == "invalid_grant"
    assert refused.value.error_codes == (54005,)


def test_query_params_from_django_style_mappings_are_accepted(
    identity: IdentityClient, browser: SimulatedBrowser
) -> None:
    class QueryDictLike(dict):  # Django's QueryDict: dict() of it gives lists, [] gives the last value
        def __getitem__(self, key):
            return super().__getitem__(key)[-1]

    flow, params, started_at = sign_in(identity, browser, username=MEGAN)
    wrapped = QueryDictLike({k: [v] for k, v in params.items()})

    assert identity.sign_in_complete(flow=flow, params=wrapped, started_at=started_at).tid == CONTOSO


def test_an_id_token_signed_by_someone_else_is_refused(identity: IdentityClient, sim: MicrosoftSimulator) -> None:
    now = int(time.time())
    claims = {
        "aud": DEFAULT_CLIENT_ID,
        "iss": f"{AUTHORITY}/{CONTOSO}/v2.0",
        "tid": CONTOSO,
        "oid": "00000000-0000-0000-0000-000000000001",
        "iat": now,
        "exp": now + 600,
    }
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, forger, algorithm="RS256", headers={"kid": sim.kid})

    with pytest.raises(InvalidIdToken):
        identity.verify_id_token(id_token=forged)


def test_an_id_token_for_another_app_is_refused(identity: IdentityClient, sim: MicrosoftSimulator) -> None:
    now = int(time.time())
    claims = {"aud": "another-app", "iss": f"{AUTHORITY}/{CONTOSO}/v2.0", "tid": CONTOSO, "oid": "x", "iat": now}
    token = sim._sign({**claims, "exp": now + 600})  # signed with the simulator's real key: only aud is wrong

    with pytest.raises(InvalidIdToken):
        identity.verify_id_token(id_token=token)


# -- admin consent and app-only tokens ---------------------------------------------------------------------------------


def test_admin_consent_then_app_token(identity: IdentityClient, browser: SimulatedBrowser) -> None:
    url = identity.admin_consent_url(redirect_uri=CONSENT_REDIRECT, state="consent-abc")
    assert url.startswith(f"{PUBLIC}/organizations/v2.0/adminconsent?")  # the browser goes to the public URL

    callback = browser.admin_consent(url, tenant=NORTHWIND)
    tenant_id = identity.admin_consent_complete(params=callback.params, expected_state="consent-abc")
    token = identity.acquire_app_token(tenant_id=tenant_id)

    assert tenant_id == NORTHWIND
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["tid"] == NORTHWIND and claims["appid"] == DEFAULT_CLIENT_ID
    assert claims["roles"] == ["Directory.Read.All", "Organization.Read.All", "User.Read.All"]
    assert identity.acquire_app_token(tenant_id=tenant_id) == token  # msal's cache answers the second call


@pytest.mark.parametrize("hint", [FABRIKAM, "fabrikam.onmicrosoft.com"])
def test_admin_consent_with_a_tenant_hint_is_for_that_tenant(
    identity: IdentityClient, browser: SimulatedBrowser, hint: str
) -> None:
    url = identity.admin_consent_url(redirect_uri=CONSENT_REDIRECT, state="s", tenant_hint=hint)

    callback = browser.admin_consent(url, tenant=CONTOSO)  # the page does not let the admin pick another one

    assert identity.admin_consent_complete(params=callback.params, expected_state="s") == FABRIKAM


def test_denied_consent_raises_access_denied(identity: IdentityClient, browser: SimulatedBrowser) -> None:
    url = identity.admin_consent_url(redirect_uri=CONSENT_REDIRECT, state="consent-abc")
    callback = browser.admin_consent(url, accept=False)

    with pytest.raises(AccessDenied):
        identity.admin_consent_complete(params=callback.params, expected_state="consent-abc")


def test_forged_state_on_consent_callback_is_refused(
    identity: IdentityClient, browser: SimulatedBrowser, sim: MicrosoftSimulator
) -> None:
    url = identity.admin_consent_url(redirect_uri=CONSENT_REDIRECT, state="attacker-state")
    callback = browser.admin_consent(url, tenant=CONTOSO)

    with pytest.raises(StateMismatch):
        identity.admin_consent_complete(params=callback.params, expected_state="consent-abc")
    with pytest.raises(StateMismatch):
        identity.admin_consent_complete(params={**callback.params, "state": ""}, expected_state="")


def test_consent_callback_must_confirm_consent(identity: IdentityClient) -> None:
    with pytest.raises(IdentityError):
        identity.admin_consent_complete(params={"state": "s", "tenant": CONTOSO}, expected_state="s")
    with pytest.raises(IdentityError):
        identity.admin_consent_complete(params={"state": "s", "admin_consent": "True"}, expected_state="s")


def test_app_token_without_consent_fails_like_microsoft_then_works_once_consented(
    identity: IdentityClient, sim: MicrosoftSimulator
) -> None:
    with pytest.raises(TokenError) as refused:
        identity.acquire_app_token(tenant_id=CONTOSO)
    assert refused.value.error == "invalid_grant"
    assert refused.value.error_codes == (65001,)
    assert refused.value.description.startswith("AADSTS65001: The user or administrator has not consented")

    sim.grant_consent(tid=CONTOSO, client_id=DEFAULT_CLIENT_ID)  # e.g. the admin consents in another tab

    assert identity.acquire_app_token(tenant_id=CONTOSO)  # not msal's remembered 400


def test_app_token_for_an_unknown_tenant_or_a_non_guid(identity: IdentityClient) -> None:
    with pytest.raises(TokenError):
        identity.acquire_app_token(tenant_id="0b0b0b0b-0000-4000-8000-000000000000")
    with pytest.raises(ValueError):
        identity.acquire_app_token(tenant_id="../common")


# -- configuration -----------------------------------------------------------------------------------------------------


def test_authority_base_must_be_https() -> None:
    with pytest.raises(ValueError):
        IdentityClient(client_id="c", client_secret="s", authority_base="http://localhost:8100")


def test_simulator_mode_only_talks_to_the_authority() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"url": str(request.url), "host": request.headers["X-Forwarded-Host"]})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        http = _HttpClient(client, authority_base=AUTHORITY, simulator_url=BACKEND)
        routed = http.get(f"{AUTHORITY}/organizations/v2.0/.well-known/openid-configuration?x=1").json()
        assert routed == {
            "url": f"{BACKEND}/organizations/v2.0/.well-known/openid-configuration?x=1",
            "host": "login.microsoftonline.com",
        }
        with pytest.raises(IdentityError):
            http.get("https://graph.microsoft.com/v1.0/me")


def test_any_https_name_works_as_the_simulated_authority(
    transport: httpx.WSGITransport, browser: SimulatedBrowser
) -> None:
    identity = IdentityClient(
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        authority_base="https://login.simulator.localhost",
        simulator_url=BACKEND,
        transport=transport,
    )
    flow, params, started_at = sign_in(identity, browser, username=MEGAN)

    user = identity.sign_in_complete(flow=flow, params=params, started_at=started_at)

    assert user.claims["iss"] == f"https://login.simulator.localhost/{CONTOSO}/v2.0"


# -- over real sockets -------------------------------------------------------------------------------------------------


def test_against_the_simulator_as_a_real_http_server() -> None:
    simulator = MicrosoftSimulator()
    server = make_simulator_server(simulator, host="127.0.0.1", port=0, quiet=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    simulator.public_url = base_url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    identity = IdentityClient(
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        authority_base="https://login.simulator.localhost",
        simulator_url=base_url,
    )
    try:
        with httpx.Client(timeout=10) as http:
            discovery = http.get(f"{base_url}/organizations/v2.0/.well-known/openid-configuration").json()
            assert discovery["authorization_endpoint"] == f"{base_url}/organizations/oauth2/v2.0/authorize"

            auth_uri, flow = identity.sign_in_start(redirect_uri=REDIRECT, state="real-socket")
            assert auth_uri.startswith(discovery["authorization_endpoint"])
            callback = SimulatedBrowser(http).sign_in(auth_uri, username="lee@northwind.onmicrosoft.com")
            user = identity.sign_in_complete(flow=flow, params=callback.params, started_at=time.time())
    finally:
        identity.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    assert (user.tid, user.name) == (NORTHWIND, "Lee Gu")
    assert not thread.is_alive()
