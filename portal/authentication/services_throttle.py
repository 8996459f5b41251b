"""Brute-force protection: failures counted per account and per address, locks that grow, and unlocking.

Why our own counters rather than django-axes: axes counts in its own models through authentication
signals and answers a lock with its own response, while the console has its own sign-in views, a second
factor and a password-reset form that must share one count, and locks that administrators lift from
Settings > Users and people lift from an emailed link. The counters are rows of
:class:`~portal.authentication.models.SignInThrottle` in the partner's schema (its docstring says why
not the cache); a row is updated under ``select_for_update``, so parallel guesses cannot slip past the limit.

Policy (settings ``SIGN_IN_*``): 5 failures of one account, or 20 from one address, within 15 minutes
lock it. The first lock lasts a minute, each next one twice as long (up to an hour) until a day passes
without a lock. While locked, nothing is checked: the right password does not get in either.
"""

import datetime
import math
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.accounts.models import User
from portal.audit.choices import AuditAction, AuditResult
from portal.audit.services import SYSTEM_ACTOR, audit_record
from portal.authentication.choices import ThrottleScope
from portal.authentication.models import SignInThrottle

UNLOCK_SALT = "portal.authentication.account-unlock"
UNLOCK_LINK_MAX_AGE = 60 * 60 * 24
LEVEL_RESET_AFTER = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Lock:
    """An active lock: what is locked and until when."""

    scope: str
    until: datetime.datetime

    @property
    def wait_seconds(self) -> int:
        return max(1, math.ceil((self.until - timezone.now()).total_seconds()))

    @property
    def message(self) -> str:
        return lock_message(self)


def wait_text(seconds: int) -> str:
    if seconds < 60:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def lock_message(lock: Lock) -> str:
    wait = wait_text(lock.wait_seconds)
    if lock.scope == ThrottleScope.ADDRESS:
        return str(_("Too many failed sign-ins from your network. Try again in %(wait)s.")) % {"wait": wait}
    if lock.scope == ThrottleScope.PASSWORD_RESET:
        return str(_("Too many password reset requests. Try again in %(wait)s.")) % {"wait": wait}
    if lock.scope == ThrottleScope.REGISTRATION:
        return str(_("Too many registrations. Try again in %(wait)s.")) % {"wait": wait}
    return str(
        _(
            "Too many failed sign-ins for this account, so it is locked. Try again in %(wait)s, "
            "use the unlock link we emailed to the account's owner, or ask an administrator to unlock it."
        )
    ) % {"wait": wait}


def account_key(*, user: User | None, identifier: str = "") -> str:
    """One key per account however it was named (username or email); unknown names get theirs."""
    if user is not None:
        return f"user:{user.pk}"
    return f"name:{(identifier or '').strip().lower()[:240]}"


def _active(row: SignInThrottle | None, now: datetime.datetime) -> Lock | None:
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return Lock(scope=row.scope, until=row.locked_until)
    return None


def throttle_lock_of(*, keys: list[tuple[str, str]]) -> Lock | None:
    """The active lock, among these (scope, key) pairs, that lasts longest; None when all are free."""
    now = timezone.now()
    locks = []
    for scope, key in keys:
        if not key:
            continue
        lock = _active(SignInThrottle.objects.filter(scope=scope, key=key).first(), now)
        if lock is not None:
            locks.append(lock)
    return max(locks, key=lambda lock: lock.until, default=None)


# What a lock without a known user is recorded as, per scope.
LOCK_ACTIONS: dict[str, AuditAction] = {
    ThrottleScope.ACCOUNT: AuditAction.ACCOUNT_LOCK,
    ThrottleScope.ADDRESS: AuditAction.ADDRESS_LOCK,
    ThrottleScope.PASSWORD_RESET: AuditAction.PASSWORD_RESET_LOCK,
    ThrottleScope.REGISTRATION: AuditAction.CUSTOMER_REGISTRATION_LOCK,
}


def _limit_for(scope: str) -> int:
    limits: dict[str, int] = {
        ThrottleScope.ACCOUNT: settings.SIGN_IN_ACCOUNT_FAILURES,
        ThrottleScope.ADDRESS: settings.SIGN_IN_ADDRESS_FAILURES,
    }
    return limits[scope]


def throttle_count(*, scope: str, key: str, limit: int, user: User | None = None, subject: str = "") -> Lock | None:
    """Count one failure (or, for a form, one request); lock when the limit is reached. Returns the new lock.

    Inside the caller's transaction or its own; the lock is audited with the system as its actor.
    """
    if not key:
        return None
    now = timezone.now()
    window = datetime.timedelta(seconds=settings.SIGN_IN_FAILURE_WINDOW)
    with transaction.atomic():
        row, _created = SignInThrottle.objects.select_for_update().get_or_create(
            scope=scope, key=key, defaults={"user": user}
        )
        if _active(row, now) is not None:
            return None  # attempts during a lock are refused before they are counted
        if row.window_started is None or now - row.window_started > window:
            row.failures, row.window_started = 0, now
        row.failures += 1
        lock = None
        if row.failures >= limit:
            if row.last_locked_at is None or now - row.last_locked_at > LEVEL_RESET_AFTER:
                row.lock_level = 0
            row.lock_level += 1
            seconds = min(settings.SIGN_IN_LOCK_SECONDS * 2 ** (row.lock_level - 1), settings.SIGN_IN_LOCK_MAX_SECONDS)
            row.locked_until = now + datetime.timedelta(seconds=seconds)
            row.last_locked_at = now
            row.failures, row.window_started = 0, None
            lock = Lock(scope=scope, until=row.locked_until)
            audit_record(
                actor=SYSTEM_ACTOR,
                action=AuditAction.USER_LOCK if user is not None else LOCK_ACTIONS[scope],
                target=user,
                target_label=None if user is not None else (subject or key)[:254],
                after={"scope": scope, "locked_until": row.locked_until, "level": row.lock_level, "seconds": seconds},
                result=AuditResult.FAILURE,
                message=str(_("Locked after too many failed attempts")),
            )
            if user is not None and scope == ThrottleScope.ACCOUNT:
                _send_unlock_email(user=user, row=row)
        if user is not None and row.user_id is None:
            row.user = user
        row.save()
    return lock


def sign_in_failure_record(*, user: User | None, identifier: str, address: str | None) -> Lock | None:
    """Count a wrong password or second factor against the account and the address; the lock it caused."""
    account = throttle_count(
        scope=ThrottleScope.ACCOUNT,
        key=account_key(user=user, identifier=identifier),
        limit=_limit_for(ThrottleScope.ACCOUNT),
        user=user,
        subject=identifier,
    )
    network = throttle_count(
        scope=ThrottleScope.ADDRESS, key=address or "", limit=_limit_for(ThrottleScope.ADDRESS), subject=address or ""
    )
    return account or network


def sign_in_lock_of(*, user: User | None, identifier: str, address: str | None) -> Lock | None:
    return throttle_lock_of(
        keys=[
            (ThrottleScope.ACCOUNT, account_key(user=user, identifier=identifier)),
            (ThrottleScope.ADDRESS, address or ""),
        ]
    )


def sign_in_success_record(*, user: User) -> None:
    """A full sign-in forgets the account's failures (not the address's: one good account must not hide a spray)."""
    SignInThrottle.objects.filter(scope=ThrottleScope.ACCOUNT, key=account_key(user=user), locked_until=None).update(
        failures=0, window_started=None
    )


def _form_requests_count(*, scope: str, email: str, address: str | None, limits: tuple[int, int]) -> Lock | None:
    """Count one request of a public form per email and per address; the lock that refuses it (this one
    included), or None to go ahead."""
    email_key = f"email:{(email or '').strip().lower()[:240]}"
    address_key = f"address:{address}" if address else ""
    lock = throttle_lock_of(keys=[(scope, email_key), (scope, address_key)])
    if lock is not None:
        return lock
    refused = None
    for key, limit in ((email_key, limits[0]), (address_key, limits[1])):
        # the request one past the limit is the one that locks, and is refused with it
        refused = throttle_count(scope=scope, key=key, limit=limit + 1, subject=key) or refused
    return refused


def password_reset_count(*, email: str, address: str | None) -> Lock | None:
    """Count a password reset request; the lock that refuses it (this one included), or None to go ahead."""
    return _form_requests_count(
        scope=ThrottleScope.PASSWORD_RESET,
        email=email,
        address=address,
        limits=(settings.PASSWORD_RESET_REQUESTS, settings.PASSWORD_RESET_ADDRESS_REQUESTS),
    )


def registration_count(*, email: str, address: str | None) -> Lock | None:
    """Count a customer registration sent from the partner's public form, like password resets."""
    return _form_requests_count(
        scope=ThrottleScope.REGISTRATION,
        email=email,
        address=address,
        limits=(settings.CUSTOMER_REGISTRATION_REQUESTS, settings.CUSTOMER_REGISTRATION_ADDRESS_REQUESTS),
    )


# -- locked accounts and unlocking -------------------------------------------------------------------------------------


def locked_account_of(*, user: User) -> SignInThrottle | None:
    return (
        SignInThrottle.objects.filter(
            scope=ThrottleScope.ACCOUNT, key=account_key(user=user), locked_until__gt=timezone.now()
        )
        .select_related("user")
        .first()
    )


def locked_accounts() -> list[SignInThrottle]:
    """Accounts of this partner that are locked now, the longest lock first (Settings > Users)."""
    return list(
        SignInThrottle.objects.filter(scope=ThrottleScope.ACCOUNT, user__isnull=False, locked_until__gt=timezone.now())
        .select_related("user")
        .order_by("-locked_until")
    )


def account_unlock(*, actor: User | str, user: User, message: str = "") -> bool:
    """Lift an account's lock and forget its failures (an administrator, or the owner's emailed link)."""
    with transaction.atomic():
        row = (
            SignInThrottle.objects.select_for_update()
            .filter(scope=ThrottleScope.ACCOUNT, key=account_key(user=user))
            .first()
        )
        if row is None or row.locked_until is None or row.locked_until <= timezone.now():
            return False
        before = {"locked_until": row.locked_until}
        row.locked_until, row.failures, row.window_started = None, 0, None
        row.save(update_fields=["locked_until", "failures", "window_started"])
        audit_record(
            actor=actor,
            action=AuditAction.USER_UNLOCK,
            target=user,
            before=before,
            after={"locked_until": None},
            message=message,
        )
    return True


def unlock_token_make(*, row: SignInThrottle) -> str:
    assert row.last_locked_at is not None, "only a locked row has an unlock link"
    return signing.dumps({"u": row.user_id, "at": row.last_locked_at.isoformat()}, salt=UNLOCK_SALT, compress=True)


def account_unlock_by_link(*, token: str) -> User:
    """Unlock the account an emailed link names, if the link is for its current lock; ValidationError otherwise."""
    try:
        data = signing.loads(token, salt=UNLOCK_SALT, max_age=UNLOCK_LINK_MAX_AGE)
    except signing.BadSignature as error:
        raise ValidationError(_("This unlock link is not valid or has expired."), code="invalid") from error
    row = locked_account_of(user=User(pk=data.get("u")))
    if (
        row is None
        or row.user is None
        or row.last_locked_at is None
        or row.last_locked_at.isoformat() != data.get("at")
    ):
        raise ValidationError(
            _("This account is not locked any more, or the link is for an earlier lock."), code="not_locked"
        )
    account_unlock(actor=row.user, user=row.user, message=str(_("Unlocked with the emailed link")))
    return row.user


def _send_unlock_email(*, user: User, row: SignInThrottle) -> None:
    from portal.authentication.tasks import unlock_email_send
    from portal.core.tasks import enqueue_on_commit

    if user.is_active and user.email:
        enqueue_on_commit(unlock_email_send, user_id=user.pk, token=unlock_token_make(row=row))
