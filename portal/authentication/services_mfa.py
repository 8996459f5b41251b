"""Second factors: authenticator apps (TOTP), passkeys and security keys (WebAuthn), and recovery codes.

Devices are django-otp's (``TOTPDevice``, ``StaticDevice`` for recovery codes) and our :class:`Passkey`;
every change is atomic and audited. Verifying a code uses django-otp's own checks (a code works once,
wrong codes make the next try wait), and the sign-in views add the account lock on top.
"""

import base64
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.models import User
from portal.audit.choices import AuditAction
from portal.audit.services import audit_record
from portal.authentication.choices import SecondFactor
from portal.authentication.models import Passkey
from portal.authentication.selectors import authentication_settings_get

RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: codes are read off paper
RECOVERY_DEVICE_NAME = "recovery codes"


# -- reads -------------------------------------------------------------------------------------------------------------


def totp_devices_of(*, user: User):
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("created_at", "pk")


def passkeys_of(*, user: User):
    return Passkey.objects.filter(user=user)


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def user_has_second_factor(*, user: User) -> bool:
    """An authenticator app or a passkey; recovery codes alone are a way back in, not a factor to enrol."""
    return totp_devices_of(user=user).exists() or passkeys_of(user=user).exists()


def second_factor_required(*, user: User) -> bool:
    return user_has_second_factor(user=user) or authentication_settings_get().require_mfa


# -- authenticator apps ------------------------------------------------------------------------------------------------


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """A fresh, unconfirmed authenticator secret for the QR code; earlier unfinished ones are dropped."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=str(_("Authenticator app")), confirmed=False)


def totp_enrolment_pending(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def totp_enrolment_confirm(*, actor: User, device: TOTPDevice, code: str, name: str = "") -> list[str]:
    """Confirm the secret with a code from the app. Returns new recovery codes when the user had none."""
    code = "".join((code or "").split())
    if not code.isdigit() or not device.verify_token(code):
        raise ValidationError(_("That code is not right. Check the time on your phone and type the current code."))
    with transaction.atomic():
        device.confirmed = True
        device.name = (name or "").strip()[:64] or str(_("Authenticator app"))
        device.save(update_fields=["confirmed", "name"])
        audit_record(
            actor=actor,
            action=AuditAction.USER_SECOND_FACTOR_ADD,
            target=device.user,
            after={"factor": SecondFactor.TOTP},
        )
        if not recovery_codes_left(user=device.user):
            return _recovery_codes_replace(actor=actor, user=device.user)
    return []


def totp_remove(*, actor: User, device: TOTPDevice) -> None:
    with transaction.atomic():
        _refuse_removing_last_factor(user=device.user, removing_totp=device.pk)
        device.delete()
        audit_record(
            actor=actor,
            action=AuditAction.USER_SECOND_FACTOR_REMOVE,
            target=device.user,
            before={"factor": SecondFactor.TOTP, "name": device.name},
        )


# -- passkeys ----------------------------------------------------------------------------------------------------------


def passkey_add(
    *, actor: User, user: User, name: str, credential_id: bytes, public_key: bytes, sign_count: int, transports: list
) -> tuple[Passkey, list[str]]:
    """Keep a verified WebAuthn credential; returns it and new recovery codes when the user had none."""
    with transaction.atomic():
        if Passkey.objects.filter(credential_id=credential_id).exists():
            raise ValidationError(_("This passkey is already registered."))
        passkey = Passkey.objects.create(
            user=user,
            name=(name or "").strip()[:100] or str(_("Passkey")),
            credential_id=credential_id,
            public_key=public_key,
            sign_count=sign_count,
            transports=list(transports or []),
        )
        audit_record(
            actor=actor,
            action=AuditAction.USER_SECOND_FACTOR_ADD,
            target=user,
            after={"factor": SecondFactor.PASSKEY, "name": passkey.name},
        )
        codes = [] if recovery_codes_left(user=user) else _recovery_codes_replace(actor=actor, user=user)
    return passkey, codes


def passkey_used(*, passkey: Passkey, sign_count: int) -> None:
    passkey.sign_count = sign_count
    passkey.last_used = timezone.now()
    passkey.save(update_fields=["sign_count", "last_used"])


def passkey_remove(*, actor: User, passkey: Passkey) -> None:
    with transaction.atomic():
        _refuse_removing_last_factor(user=passkey.user, removing_passkey=passkey.pk)
        passkey.delete()
        audit_record(
            actor=actor,
            action=AuditAction.USER_SECOND_FACTOR_REMOVE,
            target=passkey.user,
            before={"factor": SecondFactor.PASSKEY, "name": passkey.name},
        )


def _refuse_removing_last_factor(*, user: User, removing_totp: int | None = None, removing_passkey: int | None = None):
    if not authentication_settings_get().require_mfa:
        return
    left = totp_devices_of(user=user).exclude(pk=removing_totp).count()
    left += passkeys_of(user=user).exclude(pk=removing_passkey).count()
    if left == 0:
        raise ValidationError(
            _(
                "This console requires a second factor. "
                "Add another authenticator app or passkey before removing this one."
            )
        )


# -- recovery codes ----------------------------------------------------------------------------------------------------


def _recovery_code() -> str:
    return "".join(secrets.choice(RECOVERY_ALPHABET) for _index in range(10))


def recovery_code_display(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def _recovery_codes_replace(*, actor: User, user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [_recovery_code() for _index in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    audit_record(actor=actor, action=AuditAction.USER_RECOVERY_CODES_CREATE, target=user, after={"count": len(codes)})
    return [recovery_code_display(code) for code in codes]


def recovery_codes_regenerate(*, actor: User, user: User) -> list[str]:
    """New recovery codes, shown once; the old ones stop working."""
    with transaction.atomic():
        if not user_has_second_factor(user=user):
            raise ValidationError(_("Add an authenticator app or a passkey first."))
        return _recovery_codes_replace(actor=actor, user=user)


# -- verifying ---------------------------------------------------------------------------------------------------------


def second_factor_verify_code(*, user: User, code: str) -> str | None:
    """The factor that accepts this code (an authenticator app's or a recovery code, used up), or None."""
    cleaned = "".join((code or "").split()).replace("-", "").lower()
    if not cleaned:
        return None
    if cleaned.isdigit():
        for device in totp_devices_of(user=user):
            with transaction.atomic():
                device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
                if device.verify_token(cleaned):
                    return SecondFactor.TOTP
        return None
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        with transaction.atomic():
            device = StaticDevice.objects.select_for_update().get(pk=device.pk)
            if device.verify_token(cleaned):
                return SecondFactor.RECOVERY_CODE
    return None


def user_handle(user: User) -> bytes:
    """The WebAuthn user handle: the account id, never the username or email."""
    return user.account_id.bytes


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# -- the demo --------------------------------------------------------------------------------------------------------

# The demo's published authenticator secret (README): demo users keep Require MFA's real flow and their
# printed passwords, and anyone can add this one key to an authenticator app, or ask `manage.py totp_code`.
DEMO_TOTP_KEY = hashlib.sha1(b"msp-console demo authenticator, public on purpose").hexdigest()


def demo_totp_enrol(*, user: User) -> str:
    """Give a demo user the published authenticator secret (idempotent); returns it in base32 for the app."""
    device = TOTPDevice.objects.filter(user=user, name="Demo authenticator").first()
    if device is None:
        device = TOTPDevice(user=user, name="Demo authenticator")
    device.key, device.confirmed = DEMO_TOTP_KEY, True
    device.save()
    return base64.b32encode(device.bin_key).decode()


def totp_code_now(*, user: User) -> str | None:
    """The current code of the user's demo authenticator (development and demos only: see the command)."""
    from django_otp.oath import TOTP

    device = TOTPDevice.objects.filter(user=user, confirmed=True, key=DEMO_TOTP_KEY).first()
    if device is None:
        return None
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"
