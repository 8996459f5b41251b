"""API tokens: create (the token is returned once), revoke, authenticate; idempotent POST answers."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.choices import API_MODULES, ApiAccess, scope_name
from api.models import ApiToken, IdempotentResponse
from portal.accounts.choices import AccessLevel, UserKind
from portal.accounts.permissions import user_level
from portal.accounts.types import Actor
from portal.audit.choices import AuditAction
from portal.audit.services import audit_record

TOKEN_PREFIX = "mspc"
#: How often a token's "last used" is written: not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_LIFETIME_DAYS = 366


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    #: The whole token, to show once: only its hash is stored.
    plaintext: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _scope_level(scope: str) -> tuple[str, int]:
    module, _separator, access = scope.partition(":")
    if module not in API_MODULES or access not in ApiAccess.values:
        raise ValidationError({"scopes": _("Unknown scope: %(scope)s") % {"scope": scope}})
    return module, AccessLevel.MANAGE if access == ApiAccess.WRITE else AccessLevel.VIEW


def api_token_create(
    *, actor, name: str, scopes: list[str], expires_at: datetime, now: datetime | None = None
) -> CreatedToken:
    """A token that acts as `actor` within `scopes`. A scope beyond what the actor's roles grant is
    refused: a token never reaches more than the person who made it."""
    now = now or timezone.now()
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name that says where it is used.")})
    if not scopes:
        raise ValidationError({"scopes": _("Choose at least one scope.")})
    if actor.kind != UserKind.PARTNER:
        raise ValidationError(_("Only partner users create API tokens."))
    if expires_at <= now or expires_at > now + timedelta(days=MAX_LIFETIME_DAYS):
        raise ValidationError(
            {"expires_at": _("Choose an expiry after today and within %(days)s days.") % {"days": MAX_LIFETIME_DAYS}}
        )
    for scope in scopes:
        module, level = _scope_level(scope)
        if user_level(actor, module) < level:
            raise ValidationError({"scopes": _("Your roles do not grant %(scope)s.") % {"scope": scope}})
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    plaintext = f"{TOKEN_PREFIX}_{prefix}_{secret}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            name=name[:100],
            prefix=prefix,
            secret_hash=_hash(plaintext),
            scopes=sorted(set(scopes)),
            user=actor,
            created=now,
            expires_at=expires_at,
        )
        audit_record(
            actor=actor,
            action=AuditAction.API_TOKEN_CREATE,
            target=token,
            after={"name": token.name, "scopes": token.scopes, "expires_at": token.expires_at},
        )
    return CreatedToken(token=token, plaintext=plaintext)


def api_token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.revoked_by = actor if actor is not None and not isinstance(actor, str) else None
        token.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(actor=actor, action=AuditAction.API_TOKEN_REVOKE, target=token, after={"revoked": True})
    return token


def api_token_authenticate(plaintext: str, *, now: datetime | None = None) -> ApiToken | None:
    """The active token this text is, in the current partner's schema, or None. A token of another
    partner is not found here: its row lives in that partner's schema."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(plaintext)):
        return None
    now = now or timezone.now()
    if not token.is_active(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_has_scope(token: ApiToken, module: str, access: str) -> bool:
    if access == ApiAccess.READ:
        return scope_name(module, ApiAccess.READ) in token.scopes or scope_name(module, ApiAccess.WRITE) in token.scopes
    return scope_name(module, ApiAccess.WRITE) in token.scopes


def token_rate_limit(token: ApiToken) -> int:
    return token.rate_limit_per_minute or settings.API_RATE_LIMIT_PER_MINUTE


def idempotent_responses_forget(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Keys are kept a day: a client retries within minutes, not days."""
    deleted, _counts = IdempotentResponse.objects.filter(created__lt=timezone.now() - older_than).delete()
    return deleted
