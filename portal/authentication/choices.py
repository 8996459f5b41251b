from django.db import models
from django.utils.translation import gettext_lazy as _


class SignInMethod(models.TextChoices):
    PASSWORD = "password", _("Username and password")
    MICROSOFT = "microsoft", _("Microsoft")


class SecondFactor(models.TextChoices):
    """How a person proved the second factor of a sign-in (kept in the session and the audit trail)."""

    TOTP = "totp", _("Authenticator app")
    PASSKEY = "passkey", _("Passkey or security key")
    RECOVERY_CODE = "recovery_code", _("Recovery code")
    MICROSOFT = "microsoft", _("Microsoft multi-factor authentication")


class ThrottleScope(models.TextChoices):
    """What a throttle counts: failures of one account or one address, or requests of a form."""

    ACCOUNT = "account", _("Account")
    ADDRESS = "address", _("Address")
    PASSWORD_RESET = "password_reset", _("Password reset")
    REGISTRATION = "registration", _("Customer registration")
