"""The Django side of Microsoft identity: configuration, the client, and one public callback.

Entra redirect URIs must match exactly, so the console registers ONE callback on the public host
(`<PORTAL_DOMAIN>/microsoft/callback/`) for every partner and every purpose (sign-in, admin
consent). The flow starts on a partner's host, which signs a `state` naming the partner schema and
the partner-side path that completes the flow, and keeps the same `state` in its session. The
public callback verifies the signature, then hands the callback's parameters to that path on the
partner's host in a short-lived signed token. The partner-side view checks that the state in the
token is the one in its session: a forged or replayed state is refused there.
"""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured

from portal.microsoft.identity import IdentityClient

STATE_SALT = "portal.microsoft.state"
HANDOFF_SALT = "portal.microsoft.handoff"
STATE_MAX_AGE = 15 * 60
HANDOFF_MAX_AGE = 2 * 60

_client: IdentityClient | None = None


def identity_client() -> IdentityClient:
    """The process-wide client (msal apps are built lazily inside). Tests replace it."""
    global _client
    if _client is None:
        if settings.MICROSOFT_SIMULATOR_URL and not settings.SIMULATORS_ENABLED:
            raise ImproperlyConfigured("MICROSOFT_SIMULATOR_URL is set with DEBUG off: production must use Microsoft.")
        _client = IdentityClient(
            client_id=settings.MICROSOFT_CLIENT_ID,
            client_secret=settings.MICROSOFT_CLIENT_SECRET,
            authority_base=settings.MICROSOFT_AUTHORITY,
            simulator_url=settings.MICROSOFT_SIMULATOR_URL or None,
        )
    return _client


def set_identity_client(client: IdentityClient | None) -> None:
    global _client
    _client = client


def public_callback_url() -> str:
    port = f":{settings.PORTAL_PORT}" if settings.PORTAL_PORT else ""
    return f"{settings.PORTAL_SCHEME}://{settings.PORTAL_DOMAIN}{port}/microsoft/callback/"


@dataclass(frozen=True)
class CallbackState:
    schema_name: str
    return_path: str
    purpose: str
    nonce: str


def state_create(*, schema_name: str, return_path: str, purpose: str) -> str:
    """A signed state for a flow started on a partner host; keep it in that host's session too."""
    if not return_path.startswith("/") or return_path.startswith("//"):
        raise ValueError("return_path must be a path on the partner's host")
    return signing.dumps(
        {"s": schema_name, "r": return_path, "p": purpose, "n": secrets.token_urlsafe(16)}, salt=STATE_SALT
    )


def state_read(state: str) -> CallbackState:
    """Raises signing.BadSignature (including SignatureExpired) for a forged or stale state."""
    data = signing.loads(state, salt=STATE_SALT, max_age=STATE_MAX_AGE)
    return CallbackState(schema_name=data["s"], return_path=data["r"], purpose=data["p"], nonce=data["n"])


def handoff_create(*, params: dict[str, str]) -> str:
    return signing.dumps(params, salt=HANDOFF_SALT, compress=True)


def handoff_read(token: str) -> dict[str, str]:
    """The callback parameters; raises signing.BadSignature for a forged or stale handoff."""
    return signing.loads(token, salt=HANDOFF_SALT, max_age=HANDOFF_MAX_AGE)
