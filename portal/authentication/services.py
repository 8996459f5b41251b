"""Writes for sign-in: the partner's sign-in methods, linked Microsoft identities, and the sign-in audit trail.

Who may sign in with Microsoft is decided here, not in views: a Microsoft account is matched on its
tenant id + object id, never on an address. The ``email`` claim is a directory attribute that an
admin of ANY Entra directory can set to anyone's address, so it links nothing. A first link needs
proof of both sides: a user signed in to the console links the account they just signed in with
(My profile), an invited person accepts the invitation with it, or the account belongs to a
directory the partner trusts and its sign-in name is a user's email. Nobody is created by signing
in (no auto-provisioning).
"""

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.accounts.models import User
from portal.accounts.types import Actor
from portal.audit.choices import AuditAction, AuditResult
from portal.audit.models import AuditEvent
from portal.audit.services import audit_record, model_snapshot
from portal.authentication.choices import SignInMethod
from portal.authentication.models import AuthenticationSettings, MicrosoftIdentity, TrustedDirectory
from portal.authentication.selectors import (
    authentication_settings_get,
    microsoft_identity_find,
    microsoft_identity_of,
    trusted_directory_find,
    user_for_sign_in_identifier,
    user_for_trusted_directory_account,
)
from portal.microsoft.identity import SignedInUser

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

SETTINGS_FIELDS = ("allow_local_sign_in", "allow_microsoft_sign_in", "allow_personal_microsoft_sign_in", "require_mfa")
# The actor of a failed sign-in nobody could be named for (a forged or cancelled Microsoft answer).
ANONYMOUS_ACTOR = "anonymous"


class SignInRefused(Exception):
    """A Microsoft account that may not sign in here; ``message`` is what to tell the person.

    ``not_linked`` marks the account that is linked to nobody and may not link itself: the person gets
    the page that says how to link it rather than a one-line message.
    """

    def __init__(self, message: "str | StrPromise", *, user: User | None = None, not_linked: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.user = user
        self.not_linked = not_linked


# -- sign-in methods ---------------------------------------------------------------------------------------------------


def authentication_settings_update(
    *,
    actor: User,
    allow_local_sign_in: bool,
    allow_microsoft_sign_in: bool,
    require_mfa: bool | None = None,
    allow_personal_microsoft_sign_in: bool | None = None,
) -> AuthenticationSettings:
    """Turn sign-in methods on or off, refusing any change that would lock everyone, or the actor, out."""
    with transaction.atomic():
        authentication_settings_get()
        current = AuthenticationSettings.objects.select_for_update().get(singleton=1)
        if not allow_local_sign_in and not allow_microsoft_sign_in:
            raise ValidationError(_("Keep at least one sign-in method on, or nobody could sign in."))
        if not allow_local_sign_in and microsoft_identity_of(user=actor) is None:
            raise ValidationError(
                _(
                    "Link your own Microsoft account before turning off password sign-in, "
                    "or you could not sign in again."
                )
            )
        before = model_snapshot(current, SETTINGS_FIELDS)
        current.allow_local_sign_in = allow_local_sign_in
        current.allow_microsoft_sign_in = allow_microsoft_sign_in
        if require_mfa is not None:
            current.require_mfa = require_mfa
        if allow_personal_microsoft_sign_in is not None:
            current.allow_personal_microsoft_sign_in = allow_personal_microsoft_sign_in
        after = model_snapshot(current, SETTINGS_FIELDS)
        if before == after:
            return current
        current.save(update_fields=[*SETTINGS_FIELDS, "updated"])
        audit_record(
            actor=actor,
            action=AuditAction.AUTHENTICATION_SETTINGS_UPDATE,
            target=current,
            before=before,
            after=after,
        )
    return current


# -- linked Microsoft identities ---------------------------------------------------------------------------------------


def _link(*, actor: User | str, user: User, account: SignedInUser, message: "str | StrPromise") -> MicrosoftIdentity:
    identity = MicrosoftIdentity.objects.create(
        user=user,
        tid=account.tid,
        oid=account.oid,
        username=(account.preferred_username or account.email)[:254],
        last_used=timezone.now(),
    )
    audit_record(
        actor=actor,
        action=AuditAction.MICROSOFT_IDENTITY_LINK,
        target=user,
        after={"tid": account.tid, "oid": account.oid, "username": identity.username},
        message=message,
    )
    return identity


def _link_check(*, user: User, account: SignedInUser) -> MicrosoftIdentity | None:
    """The existing link of this very pair, or None when a new link may be made; refuses any other case."""
    existing = microsoft_identity_find(tid=account.tid, oid=account.oid)
    if existing is not None and existing.user_id == user.pk:
        return existing
    if account.personal and not authentication_settings_get().allow_personal_microsoft_sign_in:
        raise ValidationError(_("Sign-in with a personal Microsoft account is turned off for this console."))
    if existing is not None:
        raise ValidationError(_("That Microsoft account is already linked to another user of this console."))
    if microsoft_identity_of(user=user) is not None:
        raise ValidationError(_("You already have a linked Microsoft account. Unlink it first."))
    return None


def microsoft_identity_link(*, actor: User, user: User, account: SignedInUser) -> MicrosoftIdentity:
    """Link the Microsoft account a signed-in user has just signed in with to that user (My profile)."""
    with transaction.atomic():
        existing = _link_check(user=user, account=account)
        if existing is not None:
            return existing
        return _link(actor=actor, user=user, account=account, message=_("Linked from My profile"))


def microsoft_identity_link_for_invitation(*, user: User, account: SignedInUser) -> MicrosoftIdentity:
    """Link the account an invited person accepts their invitation with; the caller holds the invitation's lock."""
    existing = _link_check(user=user, account=account)
    if existing is not None:
        return existing
    return _link(actor=user, user=user, account=account, message=_("Linked when accepting the invitation"))


def microsoft_identity_unlink(*, actor: User, identity: MicrosoftIdentity) -> None:
    """Forget a linked Microsoft account; refused while it is the only way the person can sign in."""
    with transaction.atomic():
        if not authentication_settings_get().allow_local_sign_in:
            raise ValidationError(
                _("Password sign-in is off, so you could not sign in again. Turn password sign-in on first.")
            )
        user = identity.user
        snapshot = {"tid": identity.tid, "oid": identity.oid, "username": identity.username}
        identity.delete()
        audit_record(actor=actor, action=AuditAction.MICROSOFT_IDENTITY_UNLINK, target=user, before=snapshot)


def _not_linked(account: SignedInUser, *, user: User | None = None) -> SignInRefused:
    return SignInRefused(
        _("The Microsoft account %(account)s is not linked to a user of this console.")
        % {"account": account.preferred_username or account.oid},
        user=user,
        not_linked=True,
    )


def microsoft_sign_in_user(*, account: SignedInUser) -> User:
    """The console user a verified Microsoft account signs in as, or :class:`SignInRefused`.

    Matched on tenant id + object id. An account linked to nobody links itself only when its
    directory is one the partner trusts, to the active user whose email is the account's sign-in
    name (``preferred_username``) and who has no other Microsoft account. Everything else is
    "not linked": the person links the account from My profile after signing in another way, or
    accepts their invitation with it.
    """
    with transaction.atomic():
        methods = authentication_settings_get()
        if account.personal and not methods.allow_personal_microsoft_sign_in:
            raise SignInRefused(_("Sign-in with a personal Microsoft account is turned off for this console."))
        if not account.personal and not methods.allow_microsoft_sign_in:
            raise SignInRefused(_("Sign-in with Microsoft is turned off for this console."))
        identity = microsoft_identity_find(tid=account.tid, oid=account.oid)
        if identity is not None:
            linked = identity.user
            if not linked.is_active:
                raise SignInRefused(_("Your console account is deactivated. Ask an administrator."), user=linked)
            identity.last_used = timezone.now()
            identity.username = (account.preferred_username or identity.username)[:254]
            identity.save(update_fields=["last_used", "username"])
            return linked
        # Every personal account shares one tenant: a personal account is only ever linked by its owner.
        if account.personal or trusted_directory_find(tid=account.tid) is None:
            raise _not_linked(account)
        user = user_for_trusted_directory_account(username=account.preferred_username)
        if user is None:
            raise _not_linked(account)
        if not user.is_active:
            raise SignInRefused(_("Your console account is deactivated. Ask an administrator."), user=user)
        if microsoft_identity_of(user=user) is not None:
            raise _not_linked(account, user=user)
        _link(actor=user, user=user, account=account, message=_("Linked on first sign-in from a trusted directory"))
        return user


# -- trusted directories -----------------------------------------------------------------------------------------------


def trusted_directory_add(*, actor: User, account: SignedInUser) -> TrustedDirectory:
    """Trust the directory of the account a manager has just signed in with (the sign-in is the verification)."""
    with transaction.atomic():
        if account.personal:
            raise ValidationError(_("Personal Microsoft accounts have no directory of their own to trust."))
        if trusted_directory_find(tid=account.tid) is not None:
            raise ValidationError(_("That directory is already trusted."))
        username = account.preferred_username
        name = username.rsplit("@", 1)[1] if "@" in username else ""
        directory = TrustedDirectory.objects.create(tid=account.tid, name=name[:254], added_by=actor)
        audit_record(
            actor=actor,
            action=AuditAction.TRUSTED_DIRECTORY_ADD,
            target=directory,
            after={"tid": directory.tid, "name": directory.name, "verified_with": username},
        )
    return directory


def trusted_directory_remove(*, actor: User, directory: TrustedDirectory) -> None:
    """Stop trusting a directory: its accounts no longer link themselves; links already made stay."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.TRUSTED_DIRECTORY_REMOVE,
            target=directory,
            before={"tid": directory.tid, "name": directory.name},
        )
        directory.delete()


# -- the sign-in audit trail -------------------------------------------------------------------------------------------


def sign_in_record(
    *,
    method: str,
    result: str,
    user: User | None = None,
    identifier: str = "",
    message: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Record a sign-in attempt, successful or not (ASVS: log every authentication decision).

    A failed attempt names what was typed or claimed as its actor, and the account it was aimed at (if
    any) as its target: an attempt is not proof that the account's owner made it.
    """
    if user is None and identifier and method == SignInMethod.PASSWORD:
        user = user_for_sign_in_identifier(identifier=identifier)
    if result == AuditResult.SUCCESS:
        actor: Actor = user
    else:
        actor = (identifier or ANONYMOUS_ACTOR)[:254]
    with transaction.atomic():
        return audit_record(
            actor=actor,
            action=AuditAction.USER_SIGN_IN,
            target=user,
            after={"method": str(method), **(details or {})},
            result=result,
            message=message,
        )
