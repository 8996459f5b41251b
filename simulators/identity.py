"""A local stand-in for the Microsoft identity platform (Entra ID, ``login.microsoftonline.com``).

Why it exists: the console signs people in with Entra ID and asks customer admins for consent. Development, demos
and tests need that whole loop without a real Microsoft tenant or network access, and they need it to speak the
same wire protocol msal speaks (OIDC discovery, authorize, token, JWKS, admin consent), so that the code under test
is the code that runs in production. Instead of a password prompt, the sign-in page lists seeded test users.

Two base URLs matter:

* the public URL (``public_url``, ``--public-url``): what browsers use, so it is what the authorize, admin consent
  and logout endpoints in the discovery document point at;
* the back-channel base: what the server-side client called (issuer, token endpoint, JWKS). It is taken from
  ``X-Forwarded-Proto`` / ``X-Forwarded-Host`` when present. msal refuses plain-http authorities, so the console's
  http client keeps an https authority (e.g. ``https://login.microsoftonline.com``) and routes it to this
  plain-http server with those headers; the simulator then answers in the client's own https terms.
  See :mod:`portal.microsoft.identity`.

State (signing key, app registrations, directory tenants and their users, codes, consents) lives in the instance.
The signing key is generated at start, so tokens do not survive a restart; tenant and user ids are fixed, so
mappings stored by the console do.

Run as a server::

    python -m simulators.identity --port 8100 --public-url http://localhost:8100
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urljoin, urlsplit, urlunsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

GRAPH_RESOURCE = "https://graph.microsoft.com"
PARTNER_CENTER_RESOURCE = "https://api.partnercenter.microsoft.com"
DEFAULT_CLIENT_ID = "console-dev-client"
DEFAULT_CLIENT_SECRET = "console-dev-secret"
DEFAULT_PERMISSIONS = (
    f"{GRAPH_RESOURCE}/Directory.Read.All",
    f"{GRAPH_RESOURCE}/Organization.Read.All",
    f"{GRAPH_RESOURCE}/User.Read.All",
    f"{GRAPH_RESOURCE}/Reports.Read.All",
)
#: The partner's own directory (a CSP partner tenant) and its Partner Center app registration: the
#: secure application model, App+User with a long-lived refresh token of a partner admin. The
#: Partner Center simulator trusts the tokens issued here.
PARTNER_TENANT_ID = "5b7e3c1d-9a42-4f6e-8d21-c3b4a5f60718"
PARTNER_DOMAIN = "democsp.onmicrosoft.com"
PARTNER_CENTER_APP_ID = "9d3c7a51-2e84-4b6f-a1c9-7f05e2d4b836"
PARTNER_CENTER_APP_SECRET = "demo-partner-center-secret"
PARTNER_REFRESH_TOKEN = "demo-app-user-refresh-token"
#: Entra's default refresh token lifetime for web apps: 90 days, each use giving a new one.
REFRESH_TOKEN_LIFETIME = 90 * 24 * 3600
#: Entra role template ids (learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference).
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
USER_ADMINISTRATOR = "fe930be7-5e62-47db-91af-98c3a49a38b1"
HELPDESK_ADMINISTRATOR = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
LICENSE_ADMINISTRATOR = "4d6ac14f-3453-41d0-bef9-a3e0c569773a"
MULTI_TENANT_SEGMENTS = frozenset({"organizations", "common"})
#: Personal Microsoft accounts (outlook.com, hotmail.com, live.com) all live in this one tenant; the
#: "consumers" authority signs in only them, "organizations" never does, "common" both.
MSA_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
CONSUMERS_SEGMENT = "consumers"
CODE_LIFETIME = 600  # seconds; Microsoft's codes live about ten minutes
TOKEN_LIFETIME = 3600
PAGE_LIFETIME = 1800  # how long a rendered sign-in or consent page can still be submitted
_OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
_ID_NAMESPACE = uuid.UUID("5c1f0d2e-6a43-4d7e-9b7c-3f1e2a9d8c40")  # user and service principal ids are stable


# --------------------------------------------------------------------------------------------------------------------
# Directory data


@dataclass(frozen=True)
class DirectoryUser:
    oid: str
    tid: str
    name: str
    preferred_username: str
    # A directory attribute that any admin of the user's directory can set to any address (Microsoft: "unverified").
    email: str
    # Authentication methods reported in the ID token's ``amr`` claim (e.g. ``("pwd", "mfa")``); none when empty.
    amr: tuple[str, ...] = ()


@dataclass(frozen=True)
class Directory:
    """A customer's Entra tenant as far as sign-in and consent need it."""

    tid: str
    name: str
    domain: str
    users: tuple[DirectoryUser, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "tid": self.tid,
            "name": self.name,
            "domain": self.domain,
            "users": [asdict(user) for user in self.users],
        }


@dataclass(frozen=True)
class AppRegistration:
    """The console's multi-tenant app registration.

    ``permissions`` are the application permissions an admin grants through admin consent (what ``/.default``
    expands to). An empty ``redirect_uris`` accepts any http(s) redirect URI, because a developer's callback URL
    (host, port) varies; list them to get Microsoft's exact-match behaviour.
    """

    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    name: str = "MSP Console (development)"
    permissions: tuple[str, ...] = DEFAULT_PERMISSIONS
    redirect_uris: tuple[str, ...] = ()
    #: The directory the app is registered in: there its permissions need no admin consent.
    home_tid: str | None = None


PARTNER_CENTER_APP = AppRegistration(
    client_id=PARTNER_CENTER_APP_ID,
    client_secret=PARTNER_CENTER_APP_SECRET,
    name="MSP Console (Partner Center)",
    permissions=(
        f"{PARTNER_CENTER_RESOURCE}/user_impersonation",
        f"{GRAPH_RESOURCE}/DelegatedAdminRelationship.Read.All",
        f"{GRAPH_RESOURCE}/Directory.Read.All",
    ),
    home_tid=PARTNER_TENANT_ID,
)


@dataclass(frozen=True)
class Consent:
    tid: str
    client_id: str
    scopes: tuple[str, ...]
    granted_at: int


def make_user(*, tid: str, name: str, username: str, oid: str | None = None) -> DirectoryUser:
    return DirectoryUser(
        oid=oid or str(uuid.uuid5(_ID_NAMESPACE, username.lower())),
        tid=tid,
        name=name,
        preferred_username=username,
        email=username,
    )


def _seed_directory(tid: str, name: str, domain: str, people: Iterable[tuple[str, str]]) -> Directory:
    users = tuple(make_user(tid=tid, name=full, username=f"{login}@{domain}") for full, login in people)
    return Directory(tid=tid, name=name, domain=domain, users=users)


def default_directories() -> tuple[Directory, ...]:
    """Five customer tenants and the partner's own, two people each; ids are fixed so data the console
    stores survives restarts."""
    return (
        _seed_directory(
            "67a08685-ba70-4922-ae8b-802ff5c44282",
            "Contoso",
            "contoso.onmicrosoft.com",
            [("Megan Bowen", "megan"), ("Adele Vance", "adele")],
        ),
        _seed_directory(
            "d110a146-8491-4109-9dce-4139f88ec90a",
            "Fabrikam",
            "fabrikam.onmicrosoft.com",
            [("Alex Wilber", "alex"), ("Diego Siciliani", "diego")],
        ),
        _seed_directory(
            "48ae22e9-4381-4526-95c4-8fb8bcdb2ec7",
            "Northwind Traders",
            "northwind.onmicrosoft.com",
            [("Lee Gu", "lee"), ("Nestor Wilke", "nestor")],
        ),
        _seed_directory(
            "0f6b2d84-3c1e-4a97-b5d8-6e2f9a0c4b13",
            "Adatum",
            "adatum.onmicrosoft.com",
            [("Pradeep Gupta", "pradeep"), ("Isaiah Langer", "isaiah")],
        ),
        _seed_directory(
            "c27a9e15-7b3d-4f08-9c6a-1d4e8b2f5a60",
            "Tailspin Toys",
            "tailspintoys.onmicrosoft.com",
            [("Johanna Lorenz", "johanna"), ("Lynne Robbins", "lynne")],
        ),
        partner_directory(),
    )


def personal_accounts_directory() -> Directory:
    """Personal Microsoft accounts: their tenant id is always Microsoft's consumer tenant, and their
    object ids stay the same whatever the address is changed to."""
    return _seed_directory(
        MSA_TENANT_ID,
        "Microsoft accounts",
        "outlook.com",
        [("Pat Personal", "pat.personal"), ("Sam Home", "sam.home")],
    )


def partner_directory() -> Directory:
    """The CSP partner's own tenant; its admin signs in with MFA (Partner Center requires it)."""
    directory = _seed_directory(
        PARTNER_TENANT_ID,
        "Demo CSP Partner GmbH",
        PARTNER_DOMAIN,
        [("Partner Admin", "admin"), ("Sales Agent", "sales")],
    )
    return replace(directory, users=tuple(replace(user, amr=("pwd", "mfa")) for user in directory.users))


# --------------------------------------------------------------------------------------------------------------------
# Minimal WSGI plumbing (no framework: the simulator must not depend on Django)


@dataclass
class _Request:
    environ: Mapping[str, Any]
    method: str
    path: str
    query: dict[str, str]
    body: bytes

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> _Request:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        return cls(
            environ=environ,
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            path=environ.get("PATH_INFO", "/") or "/",
            query=dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
            body=body,
        )

    @property
    def form(self) -> dict[str, str]:
        if "application/x-www-form-urlencoded" not in self.environ.get("CONTENT_TYPE", ""):
            return {}
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def header(self, name: str) -> str | None:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"))

    @property
    def own_base(self) -> str:
        scheme = self.environ.get("wsgi.url_scheme", "http")
        host = self.header("Host")
        if not host:
            port = str(self.environ.get("SERVER_PORT", ""))
            default = {"http": "80", "https": "443"}.get(scheme)
            host = self.environ.get("SERVER_NAME", "localhost") + ("" if port in ("", default) else f":{port}")
        return f"{scheme}://{host}"

    @property
    def backchannel_base(self) -> str:
        """The base the calling client believes it is talking to (see the module docstring)."""
        host = self.header("X-Forwarded-Host")
        if not host:
            return self.own_base
        scheme = self.header("X-Forwarded-Proto") or self.environ.get("wsgi.url_scheme", "http")
        return f"{scheme}://{host.split(',')[0].strip()}"


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


def _json(status: int, payload: Any) -> _Response:
    body = json.dumps(payload, indent=2).encode()
    return _Response(status, body, [("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store")])


def _html(status: int, page: str) -> _Response:
    return _Response(
        status, page.encode(), [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
    )


def _redirect(url: str) -> _Response:
    return _Response(HTTPStatus.FOUND, b"", [("Location", url), ("Cache-Control", "no-store")])


def _with_query(url: str, fields: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(fields)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_uint(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------------------------------------
# Pages (plain English: this is a development tool)

# The primary button comes first in the markup, so Enter submits it; .actions reverses the row to show it on the right.
_CSS = """
body{font-family:"Segoe UI",system-ui,-apple-system,sans-serif;background:#f2f2f2;margin:0;color:#1b1b1b}
.card{max-width:460px;margin:48px auto;background:#fff;padding:32px 40px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
.banner{background:#fff4ce;color:#5c4400;font-size:13px;padding:6px 10px;margin:0 0 20px}
h1{font-size:24px;font-weight:600;margin:0 0 12px}
p{line-height:1.4}
fieldset{border:0;padding:0;margin:0 0 16px}
legend{font-weight:600;font-size:14px;color:#555;margin-bottom:6px}
label.choice{display:block;padding:8px 10px;border:1px solid #ddd;margin-bottom:6px;cursor:pointer}
label.choice:hover{background:#f5f9ff}
.muted{color:#666;font-size:13px}
.actions{display:flex;flex-direction:row-reverse;gap:8px;margin-top:24px}
button{min-width:108px;padding:6px 12px;font-size:15px;border:1px solid #8a8a8a;background:#e6e6e6;cursor:pointer}
button.primary{background:#0067b8;border-color:#0067b8;color:#fff}
select{width:100%;padding:6px;font-size:15px}
ul{padding-left:20px} li{margin:4px 0} code{font-size:13px}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<style>{_CSS}</style></head><body><main class="card">'
        '<div class="banner">Microsoft identity platform simulator, for development only.</div>'
        f"{body}</main></body></html>\n"
    )


def _error_page(status: int, code: int | None, message: str) -> _Response:
    detail = f"AADSTS{code}: {message}" if code else message
    body = (
        "<h1>Sorry, but we're having trouble signing you in.</h1>"
        f'<p id="error">{_e(detail)}</p>'
        '<p class="muted">The application sent a request the simulator cannot accept, so it does not send you back '
        "to it. Start again from the application.</p>"
    )
    return _html(status, _page("Sign-in error", body))


def _form_post_page(action: str, fields: Mapping[str, str]) -> str:
    """Microsoft's response_mode=form_post answer: a form that submits itself to the redirect URI."""
    inputs = "".join(f'<input type="hidden" name="{_e(k)}" value="{_e(v)}">' for k, v in fields.items())
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Working...</title></head><body>'
        f'<form method="POST" name="hiddenform" action="{_e(action)}">{inputs}'
        '<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"></noscript>'
        "</form><script>document.forms[0].submit();</script></body></html>\n"
    )


_NO_USERS = '<p class="muted">No test users.</p>'


def _graph_time(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _graph_error(status: int, code: str, message: str, *, at: datetime | None = None) -> _Response:
    """Graph's error body: `{"error": {"code", "message", "innerError": {date, request-id, client-request-id}}}`;
    `at` is the simulated time when the caller has one."""
    now = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S")
    request_id = str(uuid.uuid4())
    inner = {"date": now, "request-id": request_id, "client-request-id": request_id}
    return _json(status, {"error": {"code": code, "message": message, "innerError": inner}})


def _resource_of(scope: str) -> str:
    """The resource a scope belongs to: `https://host/Name` -> `https://host`; a bare name is Graph's."""
    if scope.startswith(("https://", "api://")):
        return scope.rsplit("/", 1)[0]
    return GRAPH_RESOURCE


def _short_permission(permission: str) -> str:
    return permission.rsplit("/", 1)[-1] if permission.startswith(("https://", "api://")) else permission


# --------------------------------------------------------------------------------------------------------------------
# The simulator


@dataclass(frozen=True)
class _Tenant:
    """An authority path segment, resolved: a single directory, or None for organizations/common."""

    segment: str
    directory: Directory | None


@dataclass(frozen=True)
class _Pending:
    """A rendered sign-in or consent page, waiting for its form to come back."""

    kind: str
    params: dict[str, str]
    tenant: _Tenant
    app: AppRegistration
    created: float


@dataclass(frozen=True)
class _Code:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    user: DirectoryUser
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float
    # Whether the person "did MFA" at Microsoft: the tokens' amr claim is ["pwd", "mfa"], else ["pwd"].
    mfa: bool = True


@dataclass(frozen=True)
class _RefreshGrant:
    client_id: str
    scopes: tuple[str, ...]
    user: DirectoryUser
    mfa: bool = True
    expires_at: float = float("inf")


class MicrosoftSimulator:
    """WSGI application playing login.microsoftonline.com for one or more app registrations.

    ``clock`` is injectable so tests can let codes expire without sleeping.
    """

    def __init__(
        self,
        *,
        public_url: str | None = None,
        apps: Iterable[AppRegistration] | None = None,
        directories: Iterable[Directory] | None = None,
        personal_accounts: Directory | None = None,
        clock: Callable[[], float] = time.time,
        refresh_token_lifetime: float | None = REFRESH_TOKEN_LIFETIME,
    ) -> None:
        self.public_url = public_url.rstrip("/") if public_url else None
        self.clock = clock
        self.refresh_token_lifetime = refresh_token_lifetime
        self._seed_apps = tuple(apps) if apps is not None else (AppRegistration(), PARTNER_CENTER_APP)
        self._seed_directories = tuple(directories) if directories is not None else default_directories()
        self._seed_personal = personal_accounts or personal_accounts_directory()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = _b64url(hashlib.sha256(public_der).digest())[:27]
        self._lock = threading.RLock()
        self.reset()

    # -- state ------------------------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the seeded apps and directories, with no codes, tokens or consents. The signing key stays."""
        with self._lock:
            self._apps = {app.client_id: app for app in self._seed_apps}
            self._directories = {d.tid: d for d in self._seed_directories}
            self._personal = self._seed_personal
            self._pending: dict[str, _Pending] = {}
            self._codes: dict[str, _Code] = {}
            self._redeemed: dict[str, float] = {}  # code -> when it may be forgotten; tells a replay from garbage
            self._refresh: dict[str, _RefreshGrant] = {}
            self._revoked: set[str] = set()
            self._consents: dict[tuple[str, str], Consent] = {}
            self._gdap: list[dict[str, Any]] = []
            self._seed_partner_refresh_token()
            self._seed_gdap()

    def _seed_partner_refresh_token(self) -> None:
        """The partner admin's refresh token for the Partner Center app, as the consent of the secure
        application model leaves it (when both the app and the partner directory are seeded)."""
        directory = self._directories.get(PARTNER_TENANT_ID)
        if PARTNER_CENTER_APP_ID not in self._apps or directory is None or not directory.users:
            return
        self._refresh[PARTNER_REFRESH_TOKEN] = _RefreshGrant(
            PARTNER_CENTER_APP_ID,
            (f"{PARTNER_CENTER_RESOURCE}/user_impersonation", "offline_access"),
            directory.users[0],
            True,
            self._refresh_token_expiry(),
        )

    def _refresh_token_expiry(self) -> float:
        return float("inf") if self.refresh_token_lifetime is None else self.clock() + self.refresh_token_lifetime

    def revoke_refresh_tokens(self, *, client_id: str | None = None) -> int:
        """Revoke every refresh token (of one app): what an admin's "revoke sessions" does."""
        with self._lock:
            tokens = [t for t, g in self._refresh.items() if client_id is None or g.client_id == client_id]
            for token in tokens:
                del self._refresh[token]
                self._revoked.add(token)
            return len(tokens)

    @property
    def directories(self) -> tuple[Directory, ...]:
        with self._lock:
            return tuple(self._directories.values())

    @property
    def consents(self) -> tuple[Consent, ...]:
        with self._lock:
            return tuple(self._consents.values())

    def directory(self, key: str) -> Directory | None:
        """Find a directory by tenant id or domain, as Microsoft accepts either in authority URLs."""
        with self._lock:
            lowered = key.lower()
            if lowered in self._directories:
                return self._directories[lowered]
            return next((d for d in self._directories.values() if d.domain.lower() == lowered), None)

    def add_users(
        self,
        *,
        domain: str | None = None,
        tid: str | None = None,
        name: str | None = None,
        users: Iterable[Mapping[str, str]] = (),
    ) -> Directory:
        """Add test users, creating the directory tenant when neither its id nor its domain is known yet."""
        with self._lock:
            directory = (tid and self.directory(tid)) or (domain and self.directory(domain)) or None
            if directory is None:
                if not domain:
                    raise ValueError("A new directory needs a domain, e.g. adatum.onmicrosoft.com.")
                new_tid = (tid or str(uuid.uuid4())).lower()
                if not _is_guid(new_tid):
                    raise ValueError(f"Tenant id {new_tid!r} is not a GUID.")
                directory = Directory(tid=new_tid, name=name or domain.split(".")[0].title(), domain=domain.lower())
            taken = {u.preferred_username.lower() for d in self._directories.values() for u in d.users}
            added = []
            for spec in users:
                full_name = (spec.get("name") or "").strip()
                if not full_name:
                    raise ValueError("Each user needs a name.")
                username = spec.get("preferred_username") or f"{full_name.split()[0].lower()}@{directory.domain}"
                if username.lower() in taken:
                    raise ValueError(f"User {username} already exists.")
                taken.add(username.lower())
                user = make_user(tid=directory.tid, name=full_name, username=username, oid=spec.get("oid"))
                amr = spec.get("amr") or ()
                amr = tuple(amr.split() if isinstance(amr, str) else (str(method) for method in amr))
                added.append(replace(user, email=spec.get("email") or username, amr=amr))
            directory = replace(directory, users=directory.users + tuple(added))
            self._directories[directory.tid] = directory
            return directory

    # -- Microsoft Online's one namespace of domains ------------------------------------------------------------------

    def domain_registered(self, domain: str) -> bool:
        """Whether a directory holds the domain (case-insensitive): a domain is unique across all of
        Microsoft Online, so every marketplace simulator asks here before it creates a tenant."""
        return self.directory(domain.strip().lower().rstrip(".")) is not None

    def domain_register(self, *, domain: str, tenant_id: str, name: str) -> None:
        """A marketplace created a tenant: it becomes a directory here (without users), so its domain is
        taken everywhere and its admin can consent. Registering a known domain again changes nothing."""
        with self._lock:
            if self.directory(domain) is None and self.directory(tenant_id) is None:
                self.add_users(domain=domain.lower(), tid=tenant_id, name=name)

    def grant_consent(self, *, tid: str, client_id: str, scopes: Iterable[str] | None = None) -> Consent:
        with self._lock:
            app = self._apps[client_id]
            directory = self.directory(tid)
            if directory is None:
                raise KeyError(tid)
            previous = self._consents.get((directory.tid, client_id))
            granted = tuple(dict.fromkeys([*(previous.scopes if previous else ()), *(scopes or app.permissions)]))
            consent = Consent(tid=directory.tid, client_id=client_id, scopes=granted, granted_at=int(self.clock()))
            self._consents[(directory.tid, client_id)] = consent
            return consent

    def revoke_consent(self, *, tid: str, client_id: str) -> bool:
        with self._lock:
            return self._consents.pop((tid.lower(), client_id), None) is not None

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "apps": [
                    {
                        "client_id": a.client_id,
                        "name": a.name,
                        "permissions": list(a.permissions),
                        "redirect_uris": list(a.redirect_uris),
                    }
                    for a in self._apps.values()
                ],
                "directories": [d.to_json() for d in self._directories.values()],
                "consents": [asdict(c) for c in self._consents.values()],
                "outstanding_codes": len(self._codes),
            }

    def public_jwks(self) -> dict[str, Any]:
        numbers = self._key.public_key().public_numbers()
        jwk = {"kty": "RSA", "use": "sig", "kid": self.kid, "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}
        return {"keys": [jwk]}

    # -- WSGI -------------------------------------------------------------------------------------------------------

    _ROUTES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
        (re.compile(pattern), handler)
        for pattern, handler in (
            (r"^/$", "_index"),
            (r"^/_control/reset$", "_control_reset"),
            (r"^/_control/users$", "_control_users"),
            (r"^/_control/domains$", "_control_domains"),
            (r"^/_control/consents$", "_control_consents"),
            (r"^/_control/state$", "_control_state"),
            (r"^/_control/revoke_refresh_tokens$", "_control_revoke_refresh_tokens"),
            (r"^/(?P<segment>[^/]+)/v2\.0/\.well-known/openid-configuration$", "_discovery"),
            (r"^/(?P<segment>[^/]+)/oauth2/v2\.0/authorize$", "_authorize"),
            (r"^/(?P<segment>[^/]+)/oauth2/v2\.0/token$", "_token"),
            (r"^/(?P<segment>[^/]+)/oauth2/v2\.0/logout$", "_logout"),
            (r"^/(?P<segment>[^/]+)/(?:v2\.0/)?adminconsent$", "_admin_consent"),
            (r"^/(?P<segment>[^/]+)/discovery/v2\.0/keys$", "_keys"),
            (r"^/discovery/v2\.0/keys$", "_keys"),
            # Microsoft Graph usage reports (storage), under /graph: see the usage-reports block below
            (r"^/graph/v1\.0/reports/(?P<report>get\w+UsageStorage)\(period='(?P<period>[^']*)'\)$", "_usage_report"),
            (
                r"^/graph/_downloads/(?P<report>get\w+UsageStorage)/(?P<tid>[0-9a-f-]+)/(?P<period>D\d+)$",
                "_usage_download",
            ),
            (r"^/v1\.0/tenantRelationships/delegatedAdminRelationships/?$", "_gdap_list"),
            (r"^/v1\.0/tenantRelationships/delegatedAdminRelationships/(?P<relationship_id>[^/]+)$", "_gdap_item"),
        )
    )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        request = _Request.from_environ(environ)
        response = self._dispatch(request)
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", headers)
        return iter([response.body])

    def _dispatch(self, request: _Request) -> _Response:
        for pattern, handler in self._ROUTES:
            match = pattern.match(request.path)
            if match:
                try:
                    return getattr(self, handler)(request, **match.groupdict())
                except json.JSONDecodeError:
                    return _json(HTTPStatus.BAD_REQUEST, {"error": "invalid_json"})
        return _json(HTTPStatus.NOT_FOUND, {"error": "not_found", "path": request.path})

    def _public_base(self, request: _Request) -> str:
        return self.public_url or request.own_base

    @property
    def personal_accounts(self) -> Directory:
        with self._lock:
            return self._personal

    def add_personal_account(self, *, name: str, username: str, amr: tuple[str, ...] = ()) -> DirectoryUser:
        """A personal Microsoft account (signs in only through the "consumers" or "common" authority)."""
        with self._lock:
            user = replace(make_user(tid=MSA_TENANT_ID, name=name, username=username), amr=amr)
            self._personal = replace(self._personal, users=(*self._personal.users, user))
            return user

    def _resolve(self, segment: str) -> _Tenant | None:
        if segment.lower() in (CONSUMERS_SEGMENT, MSA_TENANT_ID):
            return _Tenant(segment.lower(), self._personal)
        if segment.lower() in MULTI_TENANT_SEGMENTS:
            return _Tenant(segment.lower(), None)
        directory = self.directory(segment)
        return _Tenant(directory.tid, directory) if directory else None

    def _aad_error(self, request: _Request, status: int, error: str, code: int | None, message: str) -> _Response:
        """An error body shaped like Microsoft's token endpoint errors (msal surfaces it unchanged)."""
        now = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        trace_id, correlation_id = uuid.uuid4(), uuid.uuid4()
        prefix = f"AADSTS{code}: " if code else ""
        payload = {
            "error": error,
            "error_description": f"{prefix}{message} Trace ID: {trace_id} Correlation ID: {correlation_id} "
            f"Timestamp: {now}",
            "error_codes": [code] if code else [],
            "timestamp": now,
            "trace_id": str(trace_id),
            "correlation_id": str(correlation_id),
        }
        if code:
            payload["error_uri"] = f"{request.backchannel_base}/error?code={code}"
        return _json(status, payload)

    def _tenant_not_found(self, request: _Request, segment: str) -> _Response:
        return self._aad_error(
            request,
            HTTPStatus.BAD_REQUEST,
            "invalid_tenant",
            90002,
            f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into "
            "the correct cloud.",
        )

    def _redirect_allowed(self, app: AppRegistration, redirect_uri: str) -> bool:
        if app.redirect_uris:
            return redirect_uri in app.redirect_uris
        parts = urlsplit(redirect_uri)
        return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment

    def _sign(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(dict(claims), self._key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})

    def _store_pending(self, kind: str, params: dict[str, str], tenant: _Tenant, app: AppRegistration) -> str:
        request_id = secrets.token_urlsafe(24)
        now = self.clock()
        with self._lock:
            for key in [k for k, p in self._pending.items() if now - p.created > PAGE_LIFETIME]:
                del self._pending[key]
            self._pending[request_id] = _Pending(kind, params, tenant, app, now)
        return request_id

    def _pending_for(self, request_id: str, kind: str) -> _Pending | None:
        with self._lock:
            pending = self._pending.get(request_id)
        if pending is None or pending.kind != kind or self.clock() - pending.created > PAGE_LIFETIME:
            return None
        return pending

    def _check_client(self, params: Mapping[str, str], tenant: _Tenant | None, segment: str) -> _Response | str:
        """Problems Microsoft shows on its own page rather than sending to a redirect URI it cannot trust."""
        if tenant is None:
            return _error_page(HTTPStatus.BAD_REQUEST, 90002, f"Tenant '{segment}' not found.")
        client_id = params.get("client_id", "")
        app = self._apps.get(client_id)
        if app is None:
            return _error_page(
                HTTPStatus.BAD_REQUEST,
                700016,
                f"Application with identifier '{client_id}' was not found in the directory '{segment}'.",
            )
        redirect_uri = params.get("redirect_uri", "")
        if not self._redirect_allowed(app, redirect_uri):
            return _error_page(
                HTTPStatus.BAD_REQUEST,
                50011,
                f"The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs "
                f"configured for the application '{client_id}'.",
            )
        return redirect_uri

    # -- discovery and keys ----------------------------------------------------------------------------------------

    def _discovery(self, request: _Request, segment: str) -> _Response:
        tenant = self._resolve(segment)
        if tenant is None:
            return self._tenant_not_found(request, segment)
        back, front = request.backchannel_base, self._public_base(request)
        issuer_tid = tenant.directory.tid if tenant.directory else "{tenantid}"
        return _json(
            HTTPStatus.OK,
            {
                "token_endpoint": f"{back}/{tenant.segment}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "jwks_uri": f"{back}/{tenant.segment}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{back}/{issuer_tid}/v2.0",
                "request_uri_parameter_supported": False,
                "authorization_endpoint": f"{front}/{tenant.segment}/oauth2/v2.0/authorize",
                "end_session_endpoint": f"{front}/{tenant.segment}/oauth2/v2.0/logout",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "claims_supported": [
                    "sub",
                    "iss",
                    "aud",
                    "exp",
                    "iat",
                    "nonce",
                    "name",
                    "preferred_username",
                    "email",
                    "oid",
                    "tid",
                    "ver",
                ],
                "tenant_region_scope": None,
                "cloud_instance_name": "microsoftonline.com",
                "msgraph_host": "graph.microsoft.com",
            },
        )

    def _keys(self, request: _Request, segment: str = "common") -> _Response:
        return _json(HTTPStatus.OK, self.public_jwks())

    # -- sign-in ---------------------------------------------------------------------------------------------------

    def _authorize(self, request: _Request, segment: str) -> _Response:
        if request.method == "POST":
            return self._authorize_submit(request.form)
        params = request.query
        tenant = self._resolve(segment)
        checked = self._check_client(params, tenant, segment)
        if isinstance(checked, _Response):
            return checked
        assert tenant is not None
        requested_mode = params.get("response_mode") or "query"
        mode = requested_mode if requested_mode in ("query", "form_post", "fragment") else "query"
        redirect_uri, state = checked, params.get("state")

        def fail(error: str, code: int | None, message: str) -> _Response:
            description = f"AADSTS{code}: {message}" if code else message
            return self._deliver(redirect_uri, mode, {"error": error, "error_description": description, "state": state})

        if mode != requested_mode:
            return fail("invalid_request", 900144, "The 'response_mode' parameter is not supported.")
        if params.get("response_type") != "code":
            return fail("unsupported_response_type", 700054, "The simulator supports response_type=code only.")
        if params.get("code_challenge") and params.get("code_challenge_method", "plain") not in ("S256", "plain"):
            return fail("invalid_request", 501491, "Invalid code_challenge_method.")
        if "none" in params.get("prompt", "").split():
            # The simulator keeps no browser session, which is what Microsoft answers when it has none.
            return fail("login_required", 50058, "A silent sign-in request was sent but no user is signed in.")
        request_id = self._store_pending("authorize", params, tenant, self._apps[params["client_id"]])
        return _html(HTTPStatus.OK, self._sign_in_page(segment, request_id, tenant, params))

    def _sign_in_page(self, segment: str, request_id: str, tenant: _Tenant, params: Mapping[str, str]) -> str:
        app = self._apps[params["client_id"]]
        hint = (params.get("login_hint") or "").lower()
        directories = self._sign_in_directories(tenant)
        groups = []
        for directory in directories:
            choices = "".join(
                f'<label class="choice"><input type="radio" name="user" value="{_e(u.preferred_username)}" required'
                f"{' checked' if hint and hint in (u.preferred_username.lower(), u.email.lower()) else ''}> "
                f'{_e(u.name)} <span class="muted">{_e(u.preferred_username)}</span></label>'
                for u in directory.users
            )
            groups.append(
                f'<fieldset><legend>{_e(directory.name)} <span class="muted">{_e(directory.domain)}</span>'
                f"</legend>{choices or _NO_USERS}</fieldset>"
            )
        body = (
            "<h1>Pick an account</h1>"
            f"<p>to continue to <strong>{_e(app.name)}</strong></p>"
            f'<form method="post" action="/{_e(segment)}/oauth2/v2.0/authorize">'
            f'<input type="hidden" name="request_id" value="{_e(request_id)}">'
            f"{''.join(groups)}"
            '<label class="choice"><input type="checkbox" name="mfa" checked> '
            "Complete multi-factor authentication "
            '<span class="muted">(the tokens say amr: ["pwd", "mfa"]; untick for ["pwd"] only)</span></label>'
            '<div class="actions">'
            '<button type="submit" name="action" value="continue" class="primary">Continue</button>'
            '<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button></div>'
            "</form>"
        )
        return _page("Sign in to your account", body)

    def _authorize_submit(self, form: Mapping[str, str]) -> _Response:
        pending = self._pending_for(form.get("request_id", ""), "authorize")
        if pending is None:
            return _error_page(HTTPStatus.BAD_REQUEST, None, "This sign-in page has expired or was already used.")
        params = pending.params
        redirect_uri, mode, state = params["redirect_uri"], params.get("response_mode") or "query", params.get("state")
        if form.get("action") == "cancel":
            self._forget_pending(form["request_id"])
            return self._deliver(
                redirect_uri,
                mode,
                {
                    "error": "access_denied",
                    "error_description": "AADSTS65004: User declined to consent to access the app.",
                    "state": state,
                },
            )
        user = self._find_user(form.get("user", ""), pending.tenant)
        if user is None:
            return _error_page(HTTPStatus.BAD_REQUEST, None, "Pick one of the listed test users.")
        self._forget_pending(form["request_id"])
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = _Code(
                client_id=params["client_id"],
                redirect_uri=redirect_uri,
                scopes=tuple(params.get("scope", "").split()),
                user=user,
                nonce=params.get("nonce"),
                code_challenge=params.get("code_challenge") or None,
                code_challenge_method=params.get("code_challenge_method") or None,
                expires_at=self.clock() + CODE_LIFETIME,
                mfa=form.get("mfa", "") == "on",
            )
        return self._deliver(redirect_uri, mode, {"code": code, "state": state, "session_state": str(uuid.uuid4())})

    def _forget_pending(self, request_id: str) -> None:
        with self._lock:
            self._pending.pop(request_id, None)

    def _sign_in_directories(self, tenant: _Tenant) -> list[Directory]:
        """Whose accounts an authority signs in: its one directory; every work or school directory for
        "organizations"; those and the personal accounts for "common"."""
        if tenant.directory:
            return [tenant.directory]
        personal = [self.personal_accounts] if tenant.segment == "common" else []
        return [*self.directories, *personal]

    def _find_user(self, username: str, tenant: _Tenant) -> DirectoryUser | None:
        directories = self._sign_in_directories(tenant)
        wanted = username.lower()
        return next((u for d in directories for u in d.users if u.preferred_username.lower() == wanted), None)

    def _deliver(self, redirect_uri: str, mode: str, fields: Mapping[str, str | None]) -> _Response:
        """Send an authorization response back to the app the way the request asked for."""
        present = {k: v for k, v in fields.items() if v is not None}
        if mode == "form_post":
            return _html(HTTPStatus.OK, _form_post_page(redirect_uri, present))
        if mode == "fragment":
            return _redirect(f"{redirect_uri.split('#')[0]}#{urlencode(present)}")
        return _redirect(_with_query(redirect_uri, present))

    def _logout(self, request: _Request, segment: str) -> _Response:
        target = request.query.get("post_logout_redirect_uri")
        if target and urlsplit(target).scheme in ("http", "https"):
            state = request.query.get("state")
            return _redirect(_with_query(target, {"state": state}) if state else target)
        return _html(HTTPStatus.OK, _page("Signed out", "<h1>You signed out of your account</h1>"))

    # -- admin consent ---------------------------------------------------------------------------------------------

    def _admin_consent(self, request: _Request, segment: str) -> _Response:
        if request.method == "POST":
            return self._admin_consent_submit(request.form)
        params = request.query
        tenant = self._resolve(segment)
        checked = self._check_client(params, tenant, segment)
        if isinstance(checked, _Response):
            return checked
        assert tenant is not None
        app = self._apps[params["client_id"]]
        request_id = self._store_pending("consent", params, tenant, app)
        return _html(HTTPStatus.OK, self._consent_page(segment, request_id, tenant, app, params))

    def _requested_permissions(self, app: AppRegistration, scope: str) -> list[str]:
        requested = scope.split() or [f"{GRAPH_RESOURCE}/.default"]
        expanded: list[str] = []
        for item in requested:
            if item.endswith("/.default"):
                resource = item.removesuffix("/.default")
                expanded.extend(p for p in app.permissions if p.startswith(resource + "/"))
            elif item not in _OIDC_SCOPES:
                expanded.append(item)
        return list(dict.fromkeys(expanded))

    def _consent_page(
        self, segment: str, request_id: str, tenant: _Tenant, app: AppRegistration, params: Mapping[str, str]
    ) -> str:
        permissions = self._requested_permissions(app, params.get("scope", ""))
        items = "".join(f"<li><code>{_e(_short_permission(p))}</code></li>" for p in permissions)
        if tenant.directory:
            organisation = (
                f'<p>Organization: <strong>{_e(tenant.directory.name)}</strong> <span class="muted">'
                f'{_e(tenant.directory.domain)}</span></p><input type="hidden" name="tenant" '
                f'value="{_e(tenant.directory.tid)}">'
            )
        else:
            options = "".join(
                f'<option value="{_e(d.tid)}">{_e(d.name)} ({_e(d.domain)})</option>' for d in self.directories
            )
            organisation = (
                '<p><label for="tenant">Consent on behalf of</label></p>'
                f'<select id="tenant" name="tenant">{options}</select>'
            )
        body = (
            "<h1>Permissions requested</h1>"
            f"<p><strong>{_e(app.name)}</strong> (<code>{_e(app.client_id)}</code>) wants these permissions in "
            "your organization:</p>"
            f'<ul class="perms">{items or "<li>Sign you in (no other permissions)</li>"}</ul>'
            f'<form method="post" action="/{_e(segment)}/v2.0/adminconsent">'
            f'<input type="hidden" name="request_id" value="{_e(request_id)}">{organisation}'
            '<p class="muted">Accepting grants these permissions for every user in the organization.</p>'
            '<div class="actions"><button type="submit" name="action" value="accept" class="primary">Accept</button>'
            '<button type="submit" name="action" value="cancel">Cancel</button></div>'
            "</form>"
        )
        return _page("Permissions requested", body)

    def _admin_consent_submit(self, form: Mapping[str, str]) -> _Response:
        pending = self._pending_for(form.get("request_id", ""), "consent")
        if pending is None:
            return _error_page(HTTPStatus.BAD_REQUEST, None, "This consent page has expired or was already used.")
        params, app = pending.params, pending.app
        state = params.get("state")
        if form.get("action") != "accept":
            self._forget_pending(form["request_id"])
            fields = {
                "error": "access_denied",
                "error_description": "AADSTS65004: The admin declined to consent to access the app.",
                "state": state,
            }
            return self._deliver(params["redirect_uri"], "query", fields)
        directory = pending.tenant.directory or self.directory(form.get("tenant", ""))
        if directory is None:
            return _error_page(HTTPStatus.BAD_REQUEST, None, "Choose one of the listed organizations.")
        self._forget_pending(form["request_id"])
        permissions = self._requested_permissions(app, params.get("scope", ""))
        self.grant_consent(tid=directory.tid, client_id=app.client_id, scopes=permissions)
        fields = {"admin_consent": "True", "tenant": directory.tid, "state": state, "scope": " ".join(permissions)}
        return self._deliver(params["redirect_uri"], "query", fields)

    # -- token endpoint --------------------------------------------------------------------------------------------

    def _token(self, request: _Request, segment: str) -> _Response:
        if request.method != "POST":
            return self._aad_error(request, HTTPStatus.METHOD_NOT_ALLOWED, "invalid_request", 900561, "Use POST.")
        tenant = self._resolve(segment)
        if tenant is None:
            return self._tenant_not_found(request, segment)
        form = request.form
        client_id, secret = self._client_credentials(request, form)
        app = self._apps.get(client_id)
        if app is None:
            return self._aad_error(
                request,
                HTTPStatus.BAD_REQUEST,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory '{segment}'.",
            )
        if not secret:
            return self._aad_error(
                request,
                HTTPStatus.UNAUTHORIZED,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            )
        if not hmac.compare_digest(secret.encode(), app.client_secret.encode()):
            return self._aad_error(
                request,
                HTTPStatus.UNAUTHORIZED,
                "invalid_client",
                7000215,
                f"Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
                f"value, not the client secret ID, for a secret added to app '{client_id}'.",
            )
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            return self._redeem_code(request, tenant, app, form)
        if grant_type == "client_credentials":
            return self._client_credentials_grant(request, tenant, app, form)
        if grant_type == "refresh_token":
            return self._refresh_grant(request, app, form)
        return self._aad_error(
            request,
            HTTPStatus.BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant_type}'.",
        )

    @staticmethod
    def _client_credentials(request: _Request, form: Mapping[str, str]) -> tuple[str, str]:
        authorization = request.header("Authorization") or ""
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:]).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ":"
            client_id, _, secret = decoded.partition(":")
            return unquote_plus(client_id), unquote_plus(secret)
        return form.get("client_id", ""), form.get("client_secret", "")

    def _redeem_code(
        self, request: _Request, tenant: _Tenant, app: AppRegistration, form: Mapping[str, str]
    ) -> _Response:
        code_value = form.get("code", "")
        now = self.clock()
        with self._lock:
            for key in [k for k, until in self._redeemed.items() if until < now]:
                del self._redeemed[key]
            code = self._codes.pop(code_value, None)  # a code is spent by its first redemption, even a failed one
            replayed = code is None and code_value in self._redeemed
            if code is not None:
                self._redeemed[code_value] = code.expires_at + CODE_LIFETIME

        def invalid_grant(error_code: int | None, message: str) -> _Response:
            return self._aad_error(request, HTTPStatus.BAD_REQUEST, "invalid_grant", error_code, message)

        if replayed:
            return invalid_grant(
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an "
                "existing refresh token.",
            )
        if code is None:
            return invalid_grant(9002313, "Invalid request. Request is malformed or invalid.")
        if code.expires_at < now:
            return invalid_grant(
                70008, "The provided authorization code or refresh token has expired due to inactivity."
            )
        if code.client_id != app.client_id:
            return invalid_grant(70000, "The provided authorization code was issued to a different client.")
        if form.get("redirect_uri") != code.redirect_uri:
            return invalid_grant(
                500112, "The reply address does not match the reply address used to obtain the authorization code."
            )
        if tenant.directory and tenant.directory.tid != code.user.tid:
            return invalid_grant(70000, "The authorization code was issued for a different tenant.")
        if code.code_challenge and not self._pkce_matches(code, form.get("code_verifier", "")):
            return invalid_grant(
                50148,
                "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.",
            )
        return _json(
            HTTPStatus.OK, self._user_tokens(request, app, code.user, code.scopes, code.nonce, form, mfa=code.mfa)
        )

    @staticmethod
    def _pkce_matches(code: _Code, verifier: str) -> bool:
        if not verifier or not code.code_challenge:
            return False
        if (code.code_challenge_method or "plain") == "S256":
            computed = _b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
        else:
            computed = verifier
        return hmac.compare_digest(computed.encode(), code.code_challenge.encode())

    def _refresh_grant(self, request: _Request, app: AppRegistration, form: Mapping[str, str]) -> _Response:
        """Each use answers a new refresh token; the one used stays valid until it expires or is revoked
        (Entra does not revoke a refresh token when it is redeemed; the client is to keep the new one)."""
        token = form.get("refresh_token", "")
        with self._lock:
            grant = self._refresh.get(token)
            revoked = token in self._revoked
        if revoked or (grant is not None and grant.expires_at <= self.clock()):
            return self._aad_error(
                request,
                HTTPStatus.BAD_REQUEST,
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to inactivity or was revoked.",
            )
        if grant is None or grant.client_id != app.client_id:
            return self._aad_error(
                request, HTTPStatus.BAD_REQUEST, "invalid_grant", 9002313, "Invalid request. Request is malformed."
            )
        scopes = grant.scopes
        requested = [s for s in form.get("scope", "").split() if s not in _OIDC_SCOPES]
        if requested:
            resource = _resource_of(requested[0])
            if not any(_resource_of(p) == resource for p in app.permissions):
                return self._aad_error(
                    request,
                    HTTPStatus.BAD_REQUEST,
                    "invalid_grant",
                    65001,
                    f"The user or administrator has not consented to use the application with ID "
                    f"'{app.client_id}' named '{app.name}' for {resource}.",
                )
            granted = [p for p in app.permissions if _resource_of(p) == resource]
            scopes = (*granted, *(s for s in grant.scopes if s in _OIDC_SCOPES))
        return _json(HTTPStatus.OK, self._user_tokens(request, app, grant.user, scopes, None, form, mfa=grant.mfa))

    def _user_tokens(
        self,
        request: _Request,
        app: AppRegistration,
        user: DirectoryUser,
        scopes: tuple[str, ...],
        nonce: str | None,
        form: Mapping[str, str],
        *,
        mfa: bool = True,
    ) -> dict[str, Any]:
        now = int(self.clock())
        issuer = f"{request.backchannel_base}/{user.tid}/v2.0"
        delegated = [s for s in scopes if s not in _OIDC_SCOPES] or ["User.Read"]
        resource = _resource_of(delegated[0])
        base = {
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_LIFETIME,
            "tid": user.tid,
            "oid": user.oid,
            "amr": ["pwd", "mfa"] if mfa else ["pwd"],
        }
        access = {
            **base,
            "aud": resource,
            "sub": user.oid,
            "appid": app.client_id,
            "scp": " ".join(_short_permission(s) for s in delegated),
            "name": user.name,
            "upn": user.preferred_username,
            "idtyp": "user",
            "ver": "2.0",
            "uti": secrets.token_urlsafe(16),
        }
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join([*delegated, *(s for s in scopes if s in _OIDC_SCOPES - {"offline_access"})]),
            "expires_in": TOKEN_LIFETIME - 1,
            "ext_expires_in": TOKEN_LIFETIME - 1,
            "access_token": self._sign(access),
        }
        if "openid" in scopes:
            pairwise_sub = _b64url(hashlib.sha256(f"{user.oid}:{app.client_id}".encode()).digest())[:43]
            id_claims = {
                **base,
                "aud": app.client_id,
                "sub": pairwise_sub,
                "name": user.name,
                "preferred_username": user.preferred_username,
                "uti": secrets.token_urlsafe(16),
                "ver": "2.0",
            }
            if "email" in scopes:
                id_claims["email"] = user.email
            if user.amr:
                id_claims["amr"] = list(user.amr)
            if nonce:
                id_claims["nonce"] = nonce
            body["id_token"] = self._sign(id_claims)
        if "offline_access" in scopes:
            refresh_token = secrets.token_urlsafe(48)
            with self._lock:
                self._refresh[refresh_token] = _RefreshGrant(
                    app.client_id, scopes, user, mfa, self._refresh_token_expiry()
                )
            body["refresh_token"] = refresh_token
        if form.get("client_info") == "1":
            body["client_info"] = _b64url(json.dumps({"uid": user.oid, "utid": user.tid}).encode())
        return body

    def _client_credentials_grant(
        self, request: _Request, tenant: _Tenant, app: AppRegistration, form: Mapping[str, str]
    ) -> _Response:
        if tenant.directory is None:
            return self._aad_error(
                request,
                HTTPStatus.BAD_REQUEST,
                "invalid_request",
                None,
                f"The client credentials grant needs a tenant-specific authority (/{{tenant-id}}/), "
                f"not '/{tenant.segment}/'.",
            )
        scopes = form.get("scope", "").split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            return self._aad_error(
                request,
                HTTPStatus.BAD_REQUEST,
                "invalid_scope",
                1002012,
                f"The provided value for scope {' '.join(scopes)} is not valid. Client credential flows must have a "
                "scope value with /.default suffixed to the resource identifier (application ID URI).",
            )
        with self._lock:
            consent = self._consents.get((tenant.directory.tid, app.client_id))
        if consent is None and app.home_tid == tenant.directory.tid:
            # An app's permissions are granted in its own directory when it is registered there.
            consent = Consent(tid=app.home_tid, client_id=app.client_id, scopes=app.permissions, granted_at=0)
        if consent is None:
            return self._aad_error(
                request,
                HTTPStatus.BAD_REQUEST,
                "invalid_grant",
                65001,
                f"The user or administrator has not consented to use the application with ID '{app.client_id}' "
                f"named '{app.name}'. Send an interactive authorization request for this user and resource.",
            )
        resource = scopes[0].removesuffix("/.default")
        now = int(self.clock())
        service_principal = str(uuid.uuid5(_ID_NAMESPACE, f"{tenant.directory.tid}:{app.client_id}"))
        claims = {
            "aud": resource,
            "iss": f"{request.backchannel_base}/{tenant.directory.tid}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_LIFETIME,
            "tid": tenant.directory.tid,
            "appid": app.client_id,
            "oid": service_principal,
            "sub": service_principal,
            "roles": [p.removeprefix(resource + "/") for p in consent.scopes if p.startswith(resource + "/")],
            "idtyp": "app",
            "ver": "2.0",
            "uti": secrets.token_urlsafe(16),
        }
        return _json(
            HTTPStatus.OK,
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME - 1,
                "ext_expires_in": TOKEN_LIFETIME - 1,
                "access_token": self._sign(claims),
            },
        )

    # -- Microsoft Graph usage reports (storage) ---------------------------------------------------------------------
    # GET /v1.0/reports/get{Mailbox,OneDrive,SharePointSite}UsageStorage(period='D7|D30|D90|D180') with an app token
    # holding Reports.Read.All answers 302 to a pre-authenticated download, which is a CSV with a byte order mark:
    # one row per day, newest first, the data two days behind (as Microsoft's reports are).

    USAGE_REPORTS = {
        "getMailboxUsageStorage": ("Report Refresh Date,Storage Used (Byte),Report Date,Report Period", None, 6),
        "getOneDriveUsageStorage": (
            "Report Refresh Date,Site Type,Storage Used (Byte),Report Date,Report Period",
            "OneDrive",
            3,
        ),
        "getSharePointSiteUsageStorage": (
            "Report Refresh Date,Site Type,Storage Used (Byte),Report Date,Report Period",
            "All",
            9,
        ),
    }
    USAGE_PERIODS = frozenset({"D7", "D30", "D90", "D180"})

    def _graph_error(self, status: int, code: str, message: str) -> _Response:
        return _graph_error(status, code, message, at=datetime.fromtimestamp(self.clock(), tz=UTC))

    def _usage_report(self, request: _Request, report: str, period: str) -> _Response:
        if report not in self.USAGE_REPORTS:
            return self._graph_error(
                HTTPStatus.BAD_REQUEST, "BadRequest", f"Resource not found for the segment '{report}'."
            )
        token = request.environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ").strip()
        try:
            claims = jwt.decode(
                token, self._key.public_key(), algorithms=["RS256"], audience=GRAPH_RESOURCE, leeway=60,
                options={"verify_exp": True},
            )  # fmt: skip
        except jwt.PyJWTError:
            return self._graph_error(
                HTTPStatus.UNAUTHORIZED, "InvalidAuthenticationToken", "Access token validation failure."
            )
        if "Reports.Read.All" not in claims.get("roles", []):
            return self._graph_error(
                HTTPStatus.FORBIDDEN,
                "UnknownError",
                "Insufficient privileges to perform this operation: the app needs Reports.Read.All.",
            )
        if period not in self.USAGE_PERIODS:
            return self._graph_error(
                HTTPStatus.BAD_REQUEST, "BadRequest", f"Invalid value '{period}' for parameter 'period'."
            )
        tid = str(claims["tid"])
        signature = hmac.new(self.kid.encode(), f"{report}/{tid}/{period}".encode(), hashlib.sha256).hexdigest()
        base = self._public_base(request)
        return _redirect(f"{base}/graph/_downloads/{report}/{tid}/{period}?sig={signature}")

    def _usage_download(self, request: _Request, report: str, tid: str, period: str) -> _Response:
        expected = hmac.new(self.kid.encode(), f"{report}/{tid}/{period}".encode(), hashlib.sha256).hexdigest()
        if report not in self.USAGE_REPORTS or not hmac.compare_digest(request.query.get("sig", ""), expected):
            return _json(HTTPStatus.FORBIDDEN, {"error": "invalid_signature"})
        header, site_type, scale = self.USAGE_REPORTS[report]
        days = int(period[1:])
        refreshed = datetime.fromtimestamp(self.clock(), tz=UTC).date() - timedelta(days=2)
        seed = int(hashlib.sha256(f"{tid}:{report}".encode()).hexdigest()[:8], 16)
        base_bytes = (seed % 40 + 10) * scale * 1024**3 // 10
        growth = (seed % 7 + 1) * 1024**2 * scale
        lines = [header]
        for offset in range(days):
            day = refreshed - timedelta(days=offset)
            used = base_bytes - growth * offset
            cells = [refreshed.isoformat(), *([site_type] if site_type else []), str(used), day.isoformat(), str(days)]
            lines.append(",".join(cells))
        body = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")
        return _Response(
            HTTPStatus.OK,
            body,
            [
                ("Content-Type", "application/octet-stream"),
                ("Content-Disposition", f'attachment; filename="{report}.csv"'),
            ],
        )

    # -- Microsoft Graph: GDAP (delegatedAdminRelationships) -------------------------------------------------------
    #
    # `GET /v1.0/tenantRelationships/delegatedAdminRelationships` (learn.microsoft.com/graph/api/
    # tenantrelationship-list-delegatedadminrelationships): the partner's granular delegated admin
    # relationships, `$top` per page and `@odata.nextLink` to the next (a `$skiptoken`), with a Graph token of the
    # partner's tenant holding DelegatedAdminRelationship.Read.All. `PATCH .../{id}` changes `autoExtendDuration`;
    # Microsoft refuses auto-extension for a relationship that includes the Global Administrator role.

    def add_gdap_relationship(
        self,
        *,
        customer_tid: str,
        display_name: str,
        roles: Iterable[str],
        status: str = "active",
        activated: float | None = None,
        duration_days: int = 730,
        auto_extend: str = "PT0S",
    ) -> dict[str, Any]:
        """Seed a relationship (tests and demos); times in this simulator's clock (seconds)."""
        with self._lock:
            directory = self.directory(customer_tid)
            started = self.clock() if activated is None else activated
            relationship = {
                "id": f"{uuid.uuid4()}-{uuid.uuid4()}",
                "displayName": display_name,
                "duration": f"P{duration_days}D",
                "status": status,
                "autoExtendDuration": auto_extend,
                "createdDateTime": _graph_time(started - 86400),
                "activatedDateTime": _graph_time(started) if status != "approvalPending" else None,
                "lastModifiedDateTime": _graph_time(started),
                "endDateTime": _graph_time(started + duration_days * 86400) if status != "approvalPending" else None,
                "customer": {
                    "tenantId": directory.tid if directory else customer_tid,
                    "displayName": directory.name if directory else "",
                },
                "accessDetails": {"unifiedRoles": [{"roleDefinitionId": role} for role in roles]},
            }
            self._gdap.append(relationship)
            return relationship

    def _seed_gdap(self) -> None:
        """The demo partner's relationships: one expiring within a week, one in a month, one far off with
        auto-extension, one expired, one waiting for the customer's approval."""
        if PARTNER_TENANT_ID not in self._directories:
            return
        now, day = self.clock(), 86400.0
        for tid, name, roles, status, activated, auto_extend in (
            (
                "67a08685-ba70-4922-ae8b-802ff5c44282",
                "Contoso admin",
                (GLOBAL_ADMINISTRATOR,),
                "active",
                now - 725 * day,
                "PT0S",
            ),
            (
                "d110a146-8491-4109-9dce-4139f88ec90a",
                "Fabrikam helpdesk",
                (HELPDESK_ADMINISTRATOR, USER_ADMINISTRATOR),
                "active",
                now - 400 * day,
                "P180D",
            ),
            (
                "48ae22e9-4381-4526-95c4-8fb8bcdb2ec7",
                "Northwind licences",
                (LICENSE_ADMINISTRATOR,),
                "active",
                now - 706 * day,
                "PT0S",
            ),
            (
                "0f6b2d84-3c1e-4a97-b5d8-6e2f9a0c4b13",
                "Adatum (ended)",
                (USER_ADMINISTRATOR,),
                "expired",
                now - 760 * day,
                "PT0S",
            ),
            (
                "c27a9e15-7b3d-4f08-9c6a-1d4e8b2f5a60",
                "Tailspin onboarding",
                (HELPDESK_ADMINISTRATOR,),
                "approvalPending",
                now,
                "PT0S",
            ),
        ):
            self.add_gdap_relationship(
                customer_tid=tid,
                display_name=name,
                roles=roles,
                status=status,
                activated=activated,
                auto_extend=auto_extend,
            )

    def _graph_principal(self, request: _Request) -> dict[str, Any] | _Response:
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        try:
            claims = jwt.decode(
                token.strip(),
                self._key.public_key(),
                algorithms=["RS256"],
                audience=GRAPH_RESOURCE,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.InvalidTokenError:
            claims = None
        if scheme.lower() != "bearer" or claims is None or claims.get("exp", 0) <= self.clock():
            return _graph_error(
                HTTPStatus.UNAUTHORIZED, "InvalidAuthenticationToken", "Access token is empty or invalid."
            )
        granted = set(str(claims.get("scp") or "").split()) | set(claims.get("roles") or [])
        if claims.get("tid") != PARTNER_TENANT_ID or not granted & {
            "DelegatedAdminRelationship.Read.All",
            "DelegatedAdminRelationship.ReadWrite.All",
        }:
            return _graph_error(
                HTTPStatus.FORBIDDEN,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
        return claims

    def _gdap_list(self, request: _Request) -> _Response:
        principal = self._graph_principal(request)
        if isinstance(principal, _Response):
            return principal
        if request.method != "GET":
            return _graph_error(HTTPStatus.METHOD_NOT_ALLOWED, "Request_BadRequest", "Use GET.")
        try:
            top = min(int(request.query.get("$top", "100")), 300)
            skip = int(request.query.get("$skiptoken", "0"))
        except ValueError:
            return _graph_error(HTTPStatus.BAD_REQUEST, "Request_BadRequest", "$top and $skiptoken are numbers.")
        if top < 1:
            return _graph_error(HTTPStatus.BAD_REQUEST, "Request_BadRequest", "$top must be at least 1.")
        with self._lock:
            self._gdap_refresh()
            page = [dict(item) for item in self._gdap[skip : skip + top]]
            more = skip + top < len(self._gdap)
        base = f"{request.own_base}/v1.0/tenantRelationships/delegatedAdminRelationships"
        body: dict[str, Any] = {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#tenantRelationships/delegatedAdminRelationships",
            "value": page,
        }
        if more:
            body["@odata.nextLink"] = f"{base}?$top={top}&$skiptoken={skip + top}"
        return _json(HTTPStatus.OK, body)

    def _gdap_item(self, request: _Request, relationship_id: str) -> _Response:
        principal = self._graph_principal(request)
        if isinstance(principal, _Response):
            return principal
        with self._lock:
            self._gdap_refresh()
            relationship = next((r for r in self._gdap if r["id"] == relationship_id), None)
            if relationship is None:
                return _graph_error(
                    HTTPStatus.NOT_FOUND, "Request_ResourceNotFound", f"Resource '{relationship_id}' does not exist."
                )
            if request.method == "GET":
                return _json(HTTPStatus.OK, dict(relationship))
            if request.method != "PATCH":
                return _graph_error(HTTPStatus.METHOD_NOT_ALLOWED, "Request_BadRequest", "Use GET or PATCH.")
            body = request.json()
            extend = body.get("autoExtendDuration") if isinstance(body, dict) else None
            if extend not in ("PT0S", "P0D", "P180D"):
                return _graph_error(
                    HTTPStatus.BAD_REQUEST, "Request_BadRequest", "autoExtendDuration must be PT0S, P0D or P180D."
                )
            roles = {role["roleDefinitionId"] for role in relationship["accessDetails"]["unifiedRoles"]}
            if extend == "P180D" and GLOBAL_ADMINISTRATOR in roles:
                return _graph_error(
                    HTTPStatus.BAD_REQUEST,
                    "autoExtendNotSupported",
                    "Auto-extension is not supported for relationships that include the Global Administrator role.",
                )
            relationship["autoExtendDuration"] = extend
            relationship["lastModifiedDateTime"] = _graph_time(self.clock())
            return _json(HTTPStatus.OK, dict(relationship))

    def _gdap_refresh(self) -> None:
        """Relationships past their end expire, or extend by 180 days when auto-extension is on."""
        now = self.clock()
        for relationship in self._gdap:
            end = relationship.get("endDateTime")
            if relationship["status"] != "active" or not end:
                continue
            ends = datetime.fromisoformat(end.replace("Z", "+00:00")).timestamp()
            if ends > now:
                continue
            if relationship["autoExtendDuration"] == "P180D":
                relationship["endDateTime"] = _graph_time(ends + 180 * 86400)
            else:
                relationship["status"] = "expired"

    # -- control API and index -------------------------------------------------------------------------------------

    def _control_reset(self, request: _Request) -> _Response:
        if request.method != "POST":
            return _json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "use POST"})
        self.reset()
        return _json(HTTPStatus.OK, self.state())

    def _control_revoke_refresh_tokens(self, request: _Request) -> _Response:
        """POST {"client_id"?}: every refresh token (of that app) is revoked, as an admin's revoke does."""
        if request.method != "POST":
            return _json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "use POST"})
        body = request.json() if request.body else {}
        client_id = body.get("client_id") if isinstance(body, dict) else None
        return _json(HTTPStatus.OK, {"revoked": self.revoke_refresh_tokens(client_id=client_id)})

    def _control_state(self, request: _Request) -> _Response:
        return _json(HTTPStatus.OK, self.state())

    def _control_users(self, request: _Request) -> _Response:
        """GET lists directories; POST {"domain"|"tid", "name"?, "users": [{"name", "preferred_username"?, "email"?,
        "oid"?, "amr"?}]} adds. ``email`` may be any address, as a directory admin can set it to anything."""
        if request.method == "GET":
            return _json(HTTPStatus.OK, {"directories": [d.to_json() for d in self.directories]})
        if request.method != "POST":
            return _json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "use GET or POST"})
        body = request.json()
        try:
            if not isinstance(body, dict) or not isinstance(body.get("users", []), list):
                raise ValueError('Expected {"domain" or "tid", "name"?, "users": [{"name": ...}]}.')
            directory = self.add_users(
                domain=body.get("domain"), tid=body.get("tid"), name=body.get("name"), users=body.get("users", [])
            )
        except (ValueError, AttributeError) as exc:
            return _json(HTTPStatus.BAD_REQUEST, {"error": "invalid_request", "error_description": str(exc)})
        return _json(HTTPStatus.CREATED, directory.to_json())

    def _control_domains(self, request: _Request) -> _Response:
        """GET ?domain=: {"domain", "registered"}; POST {"domain", "tid", "name"} registers a new tenant's
        domain (what a marketplace simulator running as its own server does after creating one)."""
        if request.method == "GET":
            domain = request.query.get("domain", "").strip().lower()
            registered = bool(domain) and self.domain_registered(domain)
            return _json(HTTPStatus.OK, {"domain": domain, "registered": registered})
        if request.method != "POST":
            return _json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "use GET or POST"})
        body = request.json()
        try:
            if not isinstance(body, dict) or not body.get("domain") or not body.get("tid"):
                raise ValueError('Expected {"domain", "tid", "name"?}.')
            self.domain_register(
                domain=str(body["domain"]), tenant_id=str(body["tid"]), name=str(body.get("name") or "")
            )
        except ValueError as exc:
            return _json(HTTPStatus.BAD_REQUEST, {"error": "invalid_request", "error_description": str(exc)})
        return _json(HTTPStatus.CREATED, {"domain": str(body["domain"]).lower(), "registered": True})

    def _control_consents(self, request: _Request) -> _Response:
        """POST grants consent without the browser (demos); DELETE revokes it. Body: {"tid", "client_id"?}."""
        body = request.json()
        if not isinstance(body, dict):
            return _json(HTTPStatus.BAD_REQUEST, {"error": "invalid_request", "error_description": 'Expected {"tid"}.'})
        client_id = body.get("client_id") or next(iter(self._apps))
        tid = body.get("tid", "")
        if request.method == "POST":
            try:
                consent = self.grant_consent(tid=tid, client_id=client_id, scopes=body.get("scopes"))
            except KeyError:
                return _json(HTTPStatus.NOT_FOUND, {"error": "unknown tenant or client", "tid": tid})
            return _json(HTTPStatus.CREATED, asdict(consent))
        if request.method == "DELETE":
            return _json(HTTPStatus.OK, {"revoked": self.revoke_consent(tid=tid, client_id=client_id)})
        return _json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "use POST or DELETE"})

    def _index(self, request: _Request) -> _Response:
        base = self._public_base(request)
        apps = "".join(f"<li><code>{_e(a.client_id)}</code> {_e(a.name)}</li>" for a in self._apps.values())
        directories = "".join(
            f"<li><strong>{_e(d.name)}</strong> <code>{_e(d.tid)}</code> {_e(d.domain)}<ul>"
            + "".join(f"<li>{_e(u.name)}: {_e(u.preferred_username)}</li>" for u in d.users)
            + "</ul></li>"
            for d in self.directories
        )
        body = (
            "<h1>Microsoft identity platform simulator</h1>"
            f"<p>Discovery: <code>{_e(base)}/organizations/v2.0/.well-known/openid-configuration</code></p>"
            f"<h2>App registrations</h2><ul>{apps}</ul><h2>Directories and test users</h2><ul>{directories}</ul>"
        )
        return _html(HTTPStatus.OK, _page("Microsoft identity platform simulator", body))


# --------------------------------------------------------------------------------------------------------------------
# The domain registry the marketplace simulators share (`simulators.harness.DomainRegistry`)


class SeededDomains:
    """The identity simulator's seeded directories' domains, for a marketplace simulator that runs without
    one: in memory, per marketplace simulator, with what that simulator registers."""

    def __init__(self, directories: Iterable[Directory] | None = None) -> None:
        self._lock = threading.Lock()
        self._domains = {d.domain.lower() for d in (directories if directories is not None else default_directories())}

    def domain_registered(self, domain: str) -> bool:
        with self._lock:
            return domain.strip().lower().rstrip(".") in self._domains

    def domain_register(self, *, domain: str, tenant_id: str, name: str) -> None:
        with self._lock:
            self._domains.add(domain.strip().lower())


class RemoteDirectories:
    """The identity simulator running as its own server (`./dev up`): each marketplace simulator process
    asks it whether a domain is taken and registers the tenants it creates, so the one namespace holds
    across processes."""

    def __init__(self, url: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=url.rstrip("/"), transport=transport, timeout=10.0)

    def domain_registered(self, domain: str) -> bool:
        answer = self._http.get("/_control/domains", params={"domain": domain})
        return bool(answer.raise_for_status().json().get("registered"))

    def domain_register(self, *, domain: str, tenant_id: str, name: str) -> None:
        self._http.post("/_control/domains", json={"domain": domain, "tid": tenant_id, "name": name}).raise_for_status()


# --------------------------------------------------------------------------------------------------------------------
# Driving the pages without a browser (tests and scripted demos)


@dataclass(frozen=True)
class HtmlForm:
    action: str
    method: str
    fields: dict[str, str]
    choices: dict[str, list[str]]
    buttons: list[tuple[str, str]]


class _FormParser(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url
        self.forms: list[HtmlForm] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urljoin(self.base_url, a.get("action") or self.base_url)
            self.forms.append(HtmlForm(action, (a.get("method") or "get").upper(), {}, {}, []))
        if not self.forms or not a.get("name") and tag != "option":
            return
        form, name, kind = self.forms[-1], a.get("name", ""), a.get("type", "text").lower()
        if tag == "input" and kind in ("radio", "checkbox"):
            form.choices.setdefault(name, []).append(a.get("value", "on"))
            if "checked" in a:
                form.fields[name] = a.get("value", "on")
        elif tag == "input" and kind == "submit" or tag == "button":
            form.buttons.append((name, a.get("value", "")))
        elif tag == "input":
            form.fields[name] = a.get("value", "")
        elif tag == "select":
            self._select = name
            form.choices[name] = []
        elif tag == "option" and self._select:
            form.choices[self._select].append(a.get("value", ""))
            if "selected" in a or self._select not in form.fields:
                form.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def parse_forms(page: str, *, base_url: str) -> list[HtmlForm]:
    """Read the forms of a page as a browser would submit them (hidden inputs, checked radios, selected options)."""
    parser = _FormParser(base_url)
    parser.feed(page)
    return parser.forms


@dataclass(frozen=True)
class Callback:
    """What the browser delivers to the app's redirect URI: a form_post (POST) or a redirect (GET)."""

    url: str
    method: str
    params: dict[str, str]


class SimulatedBrowser:
    """Clicks through the simulator's pages the way a person would.

    It only reads the pages' HTML forms and follows what they say, so tests exercise what a real browser sees.
    It stops at the app's redirect URI and hands back what would arrive there.
    """

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def sign_in(
        self, auth_uri: str, *, username: str | None = None, cancel: bool = False, mfa: bool = True
    ) -> Callback:
        response = self.client.get(auth_uri)
        if response.is_redirect:
            return self._callback(response)
        form = self._form_with(response, "request_id")
        fields = dict(form.fields)
        if username:
            fields["user"] = username
        fields.pop("mfa", None)
        if mfa:
            fields["mfa"] = "on"
        fields["action"] = "cancel" if cancel else "continue"
        return self._callback(self.client.post(form.action, data=fields))

    def admin_consent(self, consent_url: str, *, tenant: str | None = None, accept: bool = True) -> Callback:
        response = self.client.get(consent_url)
        if response.is_redirect:
            return self._callback(response)
        form = self._form_with(response, "request_id")
        fields = dict(form.fields)
        if tenant and "tenant" in form.choices:
            fields["tenant"] = tenant
        fields["action"] = "accept" if accept else "cancel"
        return self._callback(self.client.post(form.action, data=fields))

    @staticmethod
    def _form_with(response: httpx.Response, field_name: str) -> HtmlForm:
        if response.status_code != HTTPStatus.OK:
            raise AssertionError(f"expected a page, got {response.status_code}: {response.text[:500]}")
        for form in parse_forms(response.text, base_url=str(response.url)):
            if field_name in form.fields:
                return form
        raise AssertionError(f"no form with {field_name!r} on {response.url}")

    @staticmethod
    def _callback(response: httpx.Response) -> Callback:
        if response.is_redirect:
            location = response.headers["Location"]
            parts = urlsplit(location)
            params = dict(parse_qsl(parts.query or parts.fragment, keep_blank_values=True))
            return Callback(urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), "GET", params)
        forms = parse_forms(response.text, base_url=str(response.url)) if response.status_code == 200 else []
        if len(forms) == 1 and forms[0].method == "POST" and "request_id" not in forms[0].fields:
            return Callback(forms[0].action, "POST", dict(forms[0].fields))
        raise AssertionError(f"expected a redirect or a form_post page, got {response.status_code}: {response.text}")


# --------------------------------------------------------------------------------------------------------------------
# Server


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def make_simulator_server(
    app: MicrosoftSimulator, *, host: str = "127.0.0.1", port: int = 8100, quiet: bool = False
) -> WSGIServer:
    """A threaded stdlib server (port 0 picks a free port); call serve_forever(), then shutdown()."""
    handler = _QuietHandler if quiet else WSGIRequestHandler
    return make_server(host, port, app, server_class=_ThreadingWSGIServer, handler_class=handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the local Microsoft identity platform simulator.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 inside containers)")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--public-url", help="URL browsers use to reach the simulator (default http://localhost:PORT)")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument(
        "--redirect-uri", action="append", default=[], help="registered redirect URI (repeat; default: accept any)"
    )
    args = parser.parse_args(argv)
    public_url = args.public_url or f"http://localhost:{args.port}"
    app_registration = AppRegistration(
        client_id=args.client_id, client_secret=args.client_secret, redirect_uris=tuple(args.redirect_uri)
    )
    simulator = MicrosoftSimulator(public_url=public_url, apps=[app_registration])
    server = make_simulator_server(simulator, host=args.host, port=args.port)
    print(f"Microsoft identity platform simulator: {public_url}", flush=True)
    print(f"  app registration: client id {args.client_id!r}, secret {args.client_secret!r}")
    for directory in simulator.directories:
        users = ", ".join(u.preferred_username for u in directory.users)
        print(f"  {directory.name}: tenant {directory.tid} ({directory.domain}): {users}")
    print(flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
