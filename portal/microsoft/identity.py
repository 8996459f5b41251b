"""Entra ID sign-in, admin consent and app-only tokens for the console, on top of msal.

Why a wrapper rather than msal directly: msal reports failures as dicts with an "error" key or as bare ValueErrors,
no longer validates ID tokens (since 1.38; that is the application's job), does OIDC discovery in its constructor,
and only accepts https authorities. The console needs typed failures it can explain to people, validated claims to
map ``tid`` to a customer and ``tid``+``oid`` to a user, and one code path for production and the local simulator
(:mod:`simulators.identity`).

Configuration
=============

Production::

    IdentityClient(client_id=..., client_secret=..., authority_base="https://login.microsoftonline.com")

Everything goes to Microsoft over https; browsers are sent to the URLs in Microsoft's discovery document.

Development, against the simulator (``python -m simulators.identity --port 8100``)::

    IdentityClient(
        client_id="console-dev-client",
        client_secret="console-dev-secret",
        authority_base="https://login.microsoftonline.com",
        simulator_url="http://localhost:8100",
    )

The https problem: msal refuses plain-http authorities. ``authority.canonicalize()`` raises for any non-https URL,
and it is applied to the authority, to ``oidc_authority`` and even to the ``token_endpoint`` of the discovery
document, so neither ``oidc_authority=`` nor an http discovery document helps; only a TLS-terminating stub with
its own CA bundle would. Instead:

* msal keeps an https authority (``authority_base``) and always receives our ``http_client=``: an httpx client
  that, when ``simulator_url`` is set, rewrites every request under ``authority_base`` to ``simulator_url``, adding
  ``X-Forwarded-Proto``/``X-Forwarded-Host``. It refuses any other URL, so a development setup cannot reach the
  real Microsoft by accident.
* The simulator builds back-channel URLs (issuer, token endpoint, JWKS) from those headers, so msal sees a
  consistent https authority, and builds browser-facing URLs (authorize, admin consent, logout) from its own
  ``--public-url``, so browsers go to the plain-http address. Browser URLs are never derived from
  ``simulator_url``, so the console may reach the simulator at another address than browsers do
  (e.g. ``http://microsoft-sim:8100`` from a container, ``http://localhost:8100`` from the browser).
* ``authority_base`` is only a name in simulator mode. Keeping Microsoft's keeps issuers and authority strings
  identical to production; any https base (e.g. ``https://login.simulator.localhost``) works as well.

Tests pass ``transport=httpx.WSGITransport(app=simulator)`` to run everything in-process.
"""

from __future__ import annotations

import hmac
import re
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
import msal
from msal.exceptions import MsalServiceError

MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"
SIGN_IN_TENANT = "organizations"  # any work or school account; the console maps tid to a customer afterwards
PERSONAL_SIGN_IN_TENANT = "consumers"  # personal Microsoft accounts only (outlook.com, hotmail.com, live.com)
#: The tenant id of every personal Microsoft account: it says the account is personal, and links nothing alone.
PERSONAL_ACCOUNTS_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
_SIGN_IN_TENANTS = frozenset({SIGN_IN_TENANT, PERSONAL_SIGN_IN_TENANT})
FLOW_MAX_AGE = 600.0  # seconds a person may spend on Microsoft's pages before the callback is refused
CLOCK_SKEW = 120  # seconds of leeway on ID token times, as msal used to allow
_AUTHORIZE_PATH = re.compile(r"^(?P<base>.*)/[^/]+/oauth2/v2\.0/authorize$")
_TENANT_HINT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")


class IdentityError(Exception):
    """Sign-in or consent did not work; ``error``/``description`` carry the protocol's words when there are some."""

    def __init__(self, message: str, *, error: str = "", description: str = "", error_codes: Sequence[int] = ()):
        super().__init__(message)
        self.error = error
        self.description = description
        self.error_codes = tuple(error_codes)


class StateMismatch(IdentityError):
    """The callback does not belong to a flow this browser started (forged, replayed or mixed-up sessions)."""


class FlowExpired(IdentityError):
    """The person took longer than the flow may live; start again."""


class TenantNotFound(IdentityError):
    """Microsoft knows no tenant by that id or domain (AADSTS90002)."""


class AccessDenied(IdentityError):
    """The person (or the admin) cancelled, or declined consent."""


class TokenError(IdentityError):
    """The token endpoint refused, or its answer could not be used."""


class InvalidIdToken(TokenError):
    """The ID token failed validation (signature, issuer, audience, times)."""


@dataclass(frozen=True)
class SignedInUser:
    """Validated ID token claims; ``tid`` maps to a customer, ``tid`` + ``oid`` to a person."""

    tid: str
    oid: str
    name: str
    preferred_username: str
    email: str = ""
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def personal(self) -> bool:
        """A personal Microsoft account (its tenant is Microsoft's consumer tenant), not a work or school one."""
        return self.tid == PERSONAL_ACCOUNTS_TENANT_ID


class _NoStoreTokenCache(msal.TokenCache):
    """The console keeps the signed-in person in its own session, so msal must not collect every user's tokens in
    process memory for the life of the worker."""

    def add(self, event: dict[str, Any], **kwargs: Any) -> None:
        return None


class _HttpClient:
    """The ``http_client`` msal calls: httpx underneath (timeouts, test transports), plus simulator routing."""

    def __init__(self, client: httpx.Client, *, authority_base: str, simulator_url: str | None) -> None:
        self._client = client
        self._authority = urlsplit(authority_base)
        self._simulator = urlsplit(simulator_url.rstrip("/")) if simulator_url else None

    def _route(self, url: str, params: Mapping[str, Any] | None) -> tuple[httpx.URL, dict[str, str]]:
        # Merge params here: httpx's params= replaces a query already in the URL, and msal sometimes keeps one there.
        merged = httpx.URL(url).copy_merge_params(self._clean(params))
        if self._simulator is None:
            return merged, {}
        if (merged.scheme, merged.netloc.decode()) != (self._authority.scheme, self._authority.netloc):
            raise IdentityError(f"Refusing to call {url}: in simulator mode only {self._authority.netloc} is routed.")
        routed = merged.copy_with(
            scheme=self._simulator.scheme,
            netloc=self._simulator.netloc.encode(),
            path=self._simulator.path + merged.path,
        )
        return routed, {"X-Forwarded-Proto": merged.scheme, "X-Forwarded-Host": merged.netloc.decode()}

    @staticmethod
    def _clean(values: Mapping[str, Any] | None) -> dict[str, Any]:
        return {k: v for k, v in (values or {}).items() if v is not None}

    def get(
        self, url: str, params: Mapping[str, Any] | None = None, headers: Mapping[str, Any] | None = None, **_: Any
    ) -> httpx.Response:
        routed, extra = self._route(url, params)
        return self._client.get(routed, headers={**self._clean(headers), **extra})

    def post(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | str | bytes | None = None,
        headers: Mapping[str, Any] | None = None,
        **_: Any,
    ) -> httpx.Response:
        routed, extra = self._route(url, params)
        body: dict[str, Any] = {"data": self._clean(data)} if isinstance(data, Mapping) else {"content": data}
        return self._client.post(routed, headers={**self._clean(headers), **extra}, **body)

    def close(self) -> None:
        self._client.close()


def _flat(params: Mapping[str, Any]) -> dict[str, str]:
    """Accept a plain dict or Django's QueryDict (whose dict() would give lists)."""
    return {key: str(params[key]) for key in params}


def _same(expected: str | None, received: str | None) -> bool:
    return bool(expected) and bool(received) and hmac.compare_digest(str(expected), str(received))


def _guid(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        return None


class IdentityClient:
    """One app registration against one authority (Microsoft, or the simulator behind an https name).

    msal applications are built lazily (msal does discovery in its constructor) and kept per authority tenant:
    ``organizations`` for sign-in, one per customer tenant for app-only tokens, so msal's cache serves repeated
    client-credential calls. Thread-safe; meant to be shared by a process.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        authority_base: str = MICROSOFT_AUTHORITY,
        simulator_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        flow_max_age: float = FLOW_MAX_AGE,
    ) -> None:
        if urlsplit(authority_base).scheme != "https":
            raise ValueError("authority_base must be https (msal refuses anything else); use simulator_url to route.")
        self.client_id = client_id
        self.authority_base = authority_base.rstrip("/")
        self.flow_max_age = flow_max_age
        self._client_secret = client_secret
        self._http = _HttpClient(
            httpx.Client(transport=transport, timeout=timeout),
            authority_base=self.authority_base,
            simulator_url=simulator_url,
        )
        self._apps: dict[str, msal.ConfidentialClientApplication] = {}
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._jwks: dict[str, dict[str, Any]] = {}

    # -- sign-in ---------------------------------------------------------------------------------------------------

    def sign_in_start(
        self,
        *,
        redirect_uri: str,
        state: str,
        login_hint: str | None = None,
        prompt: str | None = None,
        domain_hint: str | None = None,
        personal: bool = False,
    ) -> tuple[str, dict[str, Any]]:
        """Return the URL to send the browser to and the flow to keep (with its start time) in the session.

        The answer comes back as a POST (form_post), so codes never sit in URLs, logs or Referer headers.
        ``personal`` signs in at the consumer authority (personal Microsoft accounts only).
        """
        flow = self._app(PERSONAL_SIGN_IN_TENANT if personal else SIGN_IN_TENANT).initiate_auth_code_flow(
            ["email"],
            redirect_uri=redirect_uri,
            state=state,
            login_hint=login_hint,
            prompt=prompt,
            domain_hint=domain_hint,
            response_mode="form_post",
        )
        return flow["auth_uri"], flow

    def sign_in_complete(
        self,
        *,
        flow: Mapping[str, Any] | None,
        params: Mapping[str, Any],
        started_at: float,
        now: float | None = None,
        personal: bool = False,
    ) -> SignedInUser:
        """Turn the callback into a validated person, or raise an :class:`IdentityError` subclass. The
        account must be of the kind the flow asked for: personal at the consumer authority, else work or school."""
        flow = dict(flow or {})  # msal mutates the flow; the session's copy stays intact
        received = _flat(params)
        if not _same(flow.get("state"), received.get("state")):
            raise StateMismatch("The sign-in response does not match a sign-in started here.")
        if (time.time() if now is None else now) - started_at > self.flow_max_age:
            raise FlowExpired("The sign-in took too long; please start again.")
        self._raise_for_callback_error(received, what="Sign-in")
        try:
            authority_tenant = PERSONAL_SIGN_IN_TENANT if personal else SIGN_IN_TENANT
            result = self._app(authority_tenant).acquire_token_by_auth_code_flow(flow, received)
        except ValueError as exc:  # state was checked above, so this is a malformed response
            raise IdentityError(f"The sign-in response was rejected: {exc}") from exc
        except RuntimeError as exc:  # msal's nonce check
            raise InvalidIdToken(f"The ID token does not belong to this sign-in: {exc}") from exc
        except (httpx.HTTPError, MsalServiceError) as exc:
            raise TokenError(f"The identity provider is unreachable or failing: {exc}") from exc
        self._raise_for_token_error(result)
        if "id_token" not in result:
            raise TokenError("The identity provider returned no ID token.")
        account = self.verify_id_token(id_token=result["id_token"])
        if account.personal != personal:
            raise InvalidIdToken("The ID token is not of the kind of account this sign-in asked for.")
        return account

    def verify_id_token(self, *, id_token: str) -> SignedInUser:
        """Check signature (JWKS), issuer (per tenant), audience and times; msal no longer does."""
        try:
            header = jwt.get_unverified_header(id_token)
            unverified = jwt.decode(id_token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise InvalidIdToken(f"The ID token is malformed: {exc}") from exc
        tid = _guid(str(unverified.get("tid", "")))
        if tid is None:
            raise InvalidIdToken("The ID token has no tenant id.")
        issuer = str(self._discovery()["issuer"]).replace("{tenantid}", tid)
        key = self._signing_key(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                id_token,
                key,
                algorithms=["RS256"],
                audience=self.client_id,
                issuer=issuer,
                leeway=CLOCK_SKEW,
                options={"require": ["exp", "iat", "iss", "aud", "tid", "oid"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidIdToken(f"The ID token is not valid: {exc}") from exc
        return SignedInUser(
            tid=tid,
            oid=str(claims["oid"]),
            name=str(claims.get("name", "")),
            preferred_username=str(claims.get("preferred_username", "")),
            email=str(claims.get("email", "")),
            claims=claims,
        )

    # -- tenants ---------------------------------------------------------------------------------------------------

    def resolve_tenant(self, *, domain_or_id: str) -> tuple[str, str | None]:
        """The tenant id behind a tenant id or a verified domain, and the domain (None when given an id).

        Microsoft resolves either in authority URLs; its OpenID discovery document for that authority names the
        tenant in ``issuer``. Raises ValueError for text that is neither a GUID nor a domain name,
        :class:`TenantNotFound` when Microsoft answers that no such tenant exists.
        """
        value = (domain_or_id or "").strip().lower()
        guid = _guid(value) if value else None
        if guid is None and not _DOMAIN.match(value):
            raise ValueError(f"Not a tenant id or domain: {domain_or_id!r}")
        try:
            response = self._http.get(f"{self.authority_base}/{guid or value}/v2.0/.well-known/openid-configuration")
        except httpx.HTTPError as exc:
            raise TokenError(f"The identity provider is unreachable or failing: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if response.status_code in (400, 404):
            raise TenantNotFound(
                f"No Microsoft tenant {guid or value!r}.",
                error=str(body.get("error", "")),
                description=str(body.get("error_description", "")),
                error_codes=[int(c) for c in body.get("error_codes", []) if str(c).isdigit()],
            )
        if response.status_code != 200:
            raise TokenError(f"Discovery for {guid or value!r} failed with HTTP {response.status_code}.")
        issuer_path = urlsplit(str(body.get("issuer", ""))).path.strip("/").split("/")
        tenant_id = _guid(issuer_path[0]) if issuer_path else None
        if tenant_id is None or (guid is not None and tenant_id != guid):
            raise TokenError(f"The discovery document for {guid or value!r} names no usable tenant.")
        return tenant_id, None if guid else value

    # -- admin consent and app-only tokens -------------------------------------------------------------------------

    def admin_consent_url(
        self,
        *,
        redirect_uri: str,
        state: str,
        tenant_hint: str | None = None,
        scope: str = GRAPH_DEFAULT_SCOPE,
    ) -> str:
        """Where to send a customer's admin so they grant the app's permissions in their tenant.

        ``tenant_hint`` (tenant id or verified domain) pins the tenant; without it the admin's own tenant is used.
        The base comes from the discovery document's authorize endpoint: that is the browser-facing host, which in
        development is the simulator's public URL rather than ``authority_base``.
        """
        tenant = tenant_hint or SIGN_IN_TENANT
        if not _TENANT_HINT.match(tenant):
            raise ValueError(f"Not a tenant id or domain: {tenant!r}")
        match = _AUTHORIZE_PATH.match(str(self._discovery()["authorization_endpoint"]))
        base = match["base"] if match else self.authority_base
        query = urlencode({"client_id": self.client_id, "scope": scope, "redirect_uri": redirect_uri, "state": state})
        return f"{base}/{tenant}/v2.0/adminconsent?{query}"

    def admin_consent_complete(self, *, params: Mapping[str, Any], expected_state: str) -> str:
        """Return the consenting tenant id from the admin consent callback, or raise."""
        received = _flat(params)
        if not _same(expected_state, received.get("state")):
            raise StateMismatch("The consent response does not match a consent request started here.")
        self._raise_for_callback_error(received, what="Admin consent")
        tenant_id = _guid(received.get("tenant", ""))
        if received.get("admin_consent", "").lower() != "true" or tenant_id is None:
            raise IdentityError("The consent response did not confirm admin consent for a tenant.")
        return tenant_id

    def acquire_app_token(self, *, tenant_id: str, scopes: Sequence[str] = (GRAPH_DEFAULT_SCOPE,)) -> str:
        """An app-only access token in a customer's tenant; works only once that tenant's admin has consented."""
        tid = _guid(tenant_id)
        if tid is None:
            raise ValueError(f"Not a tenant id: {tenant_id!r}")
        try:
            result = self._app(tid).acquire_token_for_client(list(scopes))
        except (httpx.HTTPError, MsalServiceError) as exc:
            raise TokenError(f"The identity provider is unreachable or failing: {exc}") from exc
        if "access_token" not in result:
            # msal remembers HTTP 400 answers for a minute; forget this tenant's app so that a retry right after the
            # admin consents reaches the token endpoint instead of replaying the old refusal.
            with self._lock:
                self._apps.pop(tid, None)
            self._raise_for_token_error(result)
            raise TokenError("The token endpoint returned no access token.")
        return str(result["access_token"])

    def close(self) -> None:
        self._http.close()

    # -- internals -------------------------------------------------------------------------------------------------

    def _app(self, tenant: str) -> msal.ConfidentialClientApplication:
        with self._lock:
            app = self._apps.get(tenant)
            if app is None:
                try:
                    app = msal.ConfidentialClientApplication(
                        self.client_id,
                        client_credential=self._client_secret,
                        authority=f"{self.authority_base}/{tenant}",
                        http_client=self._http,
                        instance_discovery=False,
                        token_cache=_NoStoreTokenCache()
                        if tenant in (SIGN_IN_TENANT, PERSONAL_SIGN_IN_TENANT)
                        else None,
                        exclude_scopes=["offline_access"],  # sign-in needs no refresh tokens; app-only gets none
                    )
                except ValueError as exc:  # discovery failed: unknown tenant, or not an identity provider
                    raise TokenError(f"Cannot use authority {self.authority_base}/{tenant}: {exc}") from exc
                except (httpx.HTTPError, MsalServiceError) as exc:
                    raise TokenError(f"The identity provider is unreachable or failing: {exc}") from exc
                self._apps[tenant] = app
            return app

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise TokenError(f"Cannot read {url}: {exc}") from exc

    def _discovery(self) -> dict[str, Any]:
        if self._metadata is None:
            url = f"{self.authority_base}/{SIGN_IN_TENANT}/v2.0/.well-known/openid-configuration"
            self._metadata = self._get_json(url)
        return self._metadata

    def _signing_key(self, kid: str) -> Any:
        if kid not in self._jwks:  # unknown kid: keys rotate (and the simulator makes a new one per start)
            keys = self._get_json(str(self._discovery()["jwks_uri"])).get("keys", [])
            self._jwks = {str(k.get("kid")): k for k in keys if k.get("kid")}
        if kid not in self._jwks:
            raise InvalidIdToken(f"The ID token was signed with an unknown key {kid!r}.")
        try:
            return jwt.PyJWK(self._jwks[kid], algorithm="RS256").key
        except jwt.PyJWTError as exc:
            raise InvalidIdToken(f"The signing key {kid!r} is unusable: {exc}") from exc

    @staticmethod
    def _raise_for_callback_error(params: Mapping[str, str], *, what: str) -> None:
        error = params.get("error")
        if not error:
            return
        description = params.get("error_description", "")
        if error == "access_denied":
            raise AccessDenied(f"{what} was cancelled or declined.", error=error, description=description)
        raise IdentityError(f"{what} failed: {error}: {description}", error=error, description=description)

    @staticmethod
    def _raise_for_token_error(result: Mapping[str, Any]) -> None:
        if "error" in result:
            error, description = str(result["error"]), str(result.get("error_description", ""))
            raise TokenError(
                f"The token endpoint refused: {error}: {description}",
                error=error,
                description=description,
                error_codes=[int(c) for c in result.get("error_codes", []) if str(c).isdigit()],
            )
