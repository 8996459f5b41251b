import datetime
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.partners.choices import Language


class Role(models.Model):
    """A set of module permissions plus the customers it covers (all, or some customer groups).

    The built-in Administrators role has every permission on every customer and cannot be changed.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    # {module: AccessLevel}; a missing module is no access.
    permissions = models.JSONField(_("permissions"), default=dict, blank=True)
    all_customers = models.BooleanField(_("all customers"), default=False)
    # `role.customer_groups` is declared on CustomerGroup.roles: this app is also in the public
    # schema (platform operators), which has no customer tables to point at.
    is_builtin = models.BooleanField(_("built-in"), default=False, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-is_builtin", "name"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.name

    def level_for(self, module: str) -> int:
        if self.is_builtin:
            return AccessLevel.MANAGE
        return int(self.permissions.get(module, AccessLevel.NONE))

    @classmethod
    def full_permissions(cls) -> dict[str, int]:
        return {module: int(AccessLevel.MANAGE) for module in PermissionModule.values}


class User(AbstractUser):
    """A person who signs in at one partner's host.

    The table exists in every partner schema (and in public, for platform operators), so a user
    belongs to exactly one partner by where it is stored; nothing here points at the partner.
    """

    account_id = models.UUIDField(_("account ID"), default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("email address"))
    organisation_name = models.CharField(_("organisation name"), max_length=200, blank=True)
    # How the partner reaches this person besides email (shown in My profile as contact information).
    phone = models.CharField(_("phone number"), max_length=40, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.ENGLISH)
    # An IANA name ("Europe/Berlin"); dates and times on screens and in emails are shown in it.
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    kind = models.CharField(_("kind"), max_length=20, choices=UserKind.choices, default=UserKind.PARTNER)
    roles = models.ManyToManyField(Role, verbose_name=_("roles"), blank=True, related_name="users")
    # A customer tenant admin's customers are `user.customers`, declared on Customer.admin_users
    # (this app is also in the public schema, which has no customer tables).
    # Per-user screen preferences, such as the columns chosen in "Manage columns": {screen: value}.
    preferences = models.JSONField(_("preferences"), default=dict, blank=True)

    objects = UserManager()

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


INVITATION_VALIDITY = datetime.timedelta(days=7)


def invitation_expiry_default() -> datetime.datetime:
    return timezone.now() + INVITATION_VALIDITY


class Invitation(models.Model):
    """An emailed link that lets an invited user choose their password, once, before it expires.

    Only a hash of the token is stored: whoever reads the database cannot accept an invitation.
    Resending revokes the earlier links, so only the latest email works.
    """

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), default=invitation_expiry_default)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return self.user.email

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class TermsVersion(models.Model):
    """A published version of the partner's terms and conditions. The newest one is in force: every
    user (new or existing) accepts it before going on. Published versions never change."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    text = models.TextField(_("terms and conditions"))
    published_at = models.DateTimeField(_("published"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-version"]
        verbose_name = _("terms and conditions version")
        verbose_name_plural = _("terms and conditions versions")

    def __str__(self) -> str:
        return f"v{self.version}"


class TermsAcceptance(models.Model):
    """Who accepted which version of the terms, and when."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="terms_acceptances")
    terms = models.ForeignKey(
        TermsVersion, verbose_name=_("version"), on_delete=models.PROTECT, related_name="acceptances"
    )
    accepted_at = models.DateTimeField(_("accepted at"), auto_now_add=True)

    class Meta:
        ordering = ["-accepted_at"]
        verbose_name = _("terms acceptance")
        verbose_name_plural = _("terms acceptances")
        constraints = [models.UniqueConstraint(fields=["user", "terms"], name="accounts_terms_accepted_once")]

    def __str__(self) -> str:
        return f"{self.user} accepted {self.terms}"
