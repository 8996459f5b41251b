import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from portal.partners.choices import Language


class User(AbstractUser):
    """A person who signs in at one partner's host.

    The table exists in every partner schema (and in public, for platform operators), so a user
    belongs to exactly one partner by where it is stored; nothing here points at the partner.
    """

    account_id = models.UUIDField(_("account ID"), default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("email address"))
    organisation_name = models.CharField(_("organisation name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.ENGLISH)

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
