"""Sign-in methods, linked Microsoft identities, passkeys and sign-in throttles (partner schema).

Authenticator-app codes (TOTP) and recovery codes are django-otp's ``TOTPDevice`` and ``StaticDevice``
(django-otp 1.7: a well-kept, small library of device models with replay protection and growing delays
after wrong codes, that leaves the console's own sign-in views in place). Passkeys and security keys are
:class:`Passkey` rows verified with the ``webauthn`` package (py_webauthn): the django-otp-webauthn plugin
brings its own sign-in views and scripts, which would replace ours.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.authentication.choices import ThrottleScope
from portal.microsoft.identity import PERSONAL_ACCOUNTS_TENANT_ID


class AuthenticationSettings(models.Model):
    """How people sign in at this partner's host: one row per partner schema.

    Both methods start on, so a new partner (and the demo partner) can use either. At least one
    must stay on, or nobody could sign in; services refuse that, the check constraint backs them.
    """

    # Always 1: the partner is the schema, so there is one row; the constraint keeps it that way.
    singleton = models.PositiveSmallIntegerField(default=1, unique=True, editable=False)
    allow_local_sign_in = models.BooleanField(
        _("sign in with a username and password"),
        default=True,
        help_text=_("People sign in with their console username or email and a password."),
    )
    allow_microsoft_sign_in = models.BooleanField(
        _("sign in with Microsoft"),
        default=True,
        help_text=_("People sign in with their Microsoft work or school account (Entra ID)."),
    )
    # Off by default: anyone can make a personal Microsoft account, so a partner opens this way in on purpose.
    # A personal account signs in only once its owner linked it from My profile (never by its address).
    allow_personal_microsoft_sign_in = models.BooleanField(
        _("sign in with a personal Microsoft account"),
        default=False,
        help_text=_("People sign in with a personal Microsoft account (Outlook.com, Hotmail, Live) they linked."),
    )
    # On for every partner (Microsoft requires MFA of everyone acting on Partner Center): a person
    # without a second factor is led to enrol one before anything else at their next sign-in.
    require_mfa = models.BooleanField(
        _("require multi-factor authentication"),
        default=True,
        help_text=_(
            "Everyone signing in with a password proves a second factor: an authenticator app, a passkey "
            "or a security key. A Microsoft sign-in counts when Microsoft already asked for one."
        ),
    )
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("authentication settings")
        verbose_name_plural = _("authentication settings")
        constraints = [
            models.CheckConstraint(condition=Q(singleton=1), name="authentication_settings_single_row"),
            models.CheckConstraint(
                condition=Q(allow_local_sign_in=True) | Q(allow_microsoft_sign_in=True),
                name="authentication_settings_one_method_on",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Authentication settings"))


class MicrosoftIdentity(models.Model):
    """A console user's Microsoft account, recognised by tenant id + object id.

    The ``tid`` + ``oid`` pair is what identifies a person in Entra ID for good; email addresses
    and usernames change, and the ``email`` claim is a directory attribute any admin of any
    directory can set to anyone's address. So a link is made only by someone who proved both
    sides: a signed-in user from My profile, an invited person accepting with Microsoft, or an
    account of a directory the partner trusts (:class:`TrustedDirectory`). From then on it is the
    only thing a Microsoft sign-in is matched on. A user has at most one.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="microsoft_identities",
    )
    tid = models.CharField(_("Microsoft tenant ID"), max_length=64)
    oid = models.CharField(_("Microsoft object ID"), max_length=64)
    # What Microsoft called the account when it was linked or last used, for people to recognise it.
    username = models.CharField(_("Microsoft account"), max_length=254, blank=True)
    linked_at = models.DateTimeField(_("linked"), auto_now_add=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-linked_at"]
        verbose_name = _("Microsoft identity")
        verbose_name_plural = _("Microsoft identities")
        constraints = [
            models.UniqueConstraint(fields=["tid", "oid"], name="authentication_microsoft_identity_unique"),
            models.UniqueConstraint(fields=["user"], name="authentication_microsoft_identity_one_per_user"),
        ]

    def __str__(self) -> str:
        return self.username or f"{self.oid}@{self.tid}"

    @property
    def is_personal(self) -> bool:
        """A personal Microsoft account (Microsoft's consumer tenant), not a work or school account."""
        return self.tid == PERSONAL_ACCOUNTS_TENANT_ID


class TrustedDirectory(models.Model):
    """An Entra directory (tenant) the partner trusts to say who its people are.

    An account of a trusted directory that is not linked yet links itself, on its first Microsoft
    sign-in, to the active user whose email is the account's sign-in name (``preferred_username``,
    which Entra only gives on a domain that directory verified). Any other unlinked account is
    refused. A manager adds a directory by signing in with one of its accounts, which proves the
    directory exists and that someone at the partner holds an account there.
    """

    tid = models.CharField(_("Microsoft tenant ID"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=254, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["name", "tid"]
        verbose_name = _("trusted directory")
        verbose_name_plural = _("trusted directories")

    def __str__(self) -> str:
        return self.name or self.tid


class Passkey(models.Model):
    """A passkey or security key (WebAuthn credential) a user registered as a second factor.

    Only the public key is stored; the sign count lets us notice a cloned authenticator.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="passkeys"
    )
    name = models.CharField(_("name"), max_length=100)
    credential_id = models.BinaryField(_("credential ID"), max_length=1024)
    public_key = models.BinaryField(_("public key"), max_length=2048)
    sign_count = models.PositiveBigIntegerField(_("sign count"), default=0)
    transports = models.JSONField(_("transports"), default=list, blank=True)
    created = models.DateTimeField(_("added"), auto_now_add=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["created", "pk"]
        verbose_name = _("passkey")
        verbose_name_plural = _("passkeys")
        constraints = [
            models.UniqueConstraint(fields=["credential_id"], name="authentication_passkey_credential_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class SignInThrottle(models.Model):
    """Failures counted against one account, one address or one form, and the lock they led to.

    Kept in the partner's schema (so one partner's attackers never lock another partner's people)
    and in the database rather than the cache: a lock commits with its audit event, survives a
    cache flush, and administrators can list and lift it (Settings > Users). Each new lock lasts
    twice as long as the one before, up to an hour, until a day passes without one.
    """

    scope = models.CharField(_("scope"), max_length=20, choices=ThrottleScope.choices)
    # "user:<pk>" for a known account, "name:<typed identifier>" for an unknown one, the address, or the email.
    key = models.CharField(_("key"), max_length=254)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sign_in_throttles",
    )
    failures = models.PositiveIntegerField(_("failures"), default=0)
    window_started = models.DateTimeField(_("counting since"), null=True, blank=True)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    lock_level = models.PositiveSmallIntegerField(_("lock level"), default=0)
    last_locked_at = models.DateTimeField(_("last locked"), null=True, blank=True)

    class Meta:
        ordering = ["scope", "key"]
        verbose_name = _("sign-in throttle")
        verbose_name_plural = _("sign-in throttles")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="authentication_sign_in_throttle_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
