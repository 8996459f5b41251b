"""A partner organisation signing up on the public host (public schema)."""

import uuid

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from portal.partners.choices import DataCentre
from signup.choices import OPEN_STATUSES, SignUpStatus, SignUpStep


class PartnerSignUp(models.Model):
    """A request for a console: what the organisation entered, the verification of the
    administrator's address, and the background provisioning's progress.

    The administrator's password is kept only as Django's hash, copied to the new administrator
    once the console exists. The public id (not the primary key) names the progress page."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    organisation_name = models.CharField(_("organisation"), max_length=200)
    slug = models.SlugField(_("console address"), max_length=50)
    country = models.CharField(_("country/region"), max_length=2)
    data_centre = models.CharField(_("data centre"), max_length=16, choices=DataCentre.choices)
    is_service_provider = models.BooleanField(_("service provider"), default=True)
    is_large_account_reseller = models.BooleanField(_("large account reseller"), default=False)
    admin_email = models.EmailField(_("administrator email"))
    admin_first_name = models.CharField(_("first name"), max_length=150, blank=True)
    admin_last_name = models.CharField(_("last name"), max_length=150, blank=True)
    password_hash = models.CharField(max_length=128)
    language = models.CharField(_("language"), max_length=8, default="en")
    terms_accepted_at = models.DateTimeField(_("terms accepted"))
    # The reseller invitation the sign-up came from: accepted once the console exists.
    invitation = models.ForeignKey(
        "resellers.ResellerLink",
        verbose_name=_("reseller invitation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sign_ups",
    )
    status = models.CharField(
        _("status"), max_length=24, choices=SignUpStatus.choices, default=SignUpStatus.AWAITING_VERIFICATION
    )
    step = models.CharField(_("step"), max_length=16, choices=SignUpStep.choices, blank=True)
    error = models.TextField(_("error"), blank=True)
    partner = models.ForeignKey(
        "partners.Partner",
        verbose_name=_("partner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sign_ups",
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    email_verified_at = models.DateTimeField(_("email verified"), null=True, blank=True)
    provisioned_at = models.DateTimeField(_("provisioned"), null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("partner sign-up")
        verbose_name_plural = _("partner sign-ups")
        constraints = [
            # two open sign-ups never race for one console address
            models.UniqueConstraint(
                "slug", condition=models.Q(status__in=OPEN_STATUSES), name="signup_open_slug_unique"
            ),
        ]
        indexes = [models.Index(Lower("organisation_name"), name="signup_name_ci")]

    def __str__(self) -> str:
        return self.organisation_name
