"""A large account reseller's reseller directory (public schema: a link joins two partners)."""

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from resellers.choices import ResellerStatus


class ResellerLink(models.Model):
    """One reseller in a large account reseller's (LAR's) directory.

    Until an invited address belongs to a partner, `reseller` is empty and the row is the email
    invitation (status Unmapped); mapping or accepting sets the partner. Customer data stays in the
    reseller's schema: the LAR reads it only through `resellers.selectors.reseller_customer_usage`,
    which honours `customers_visible`.
    """

    large_account_reseller = models.ForeignKey(
        "partners.Partner",
        verbose_name=_("large account reseller"),
        on_delete=models.CASCADE,
        related_name="reseller_links",
    )
    reseller = models.ForeignKey(
        "partners.Partner",
        verbose_name=_("reseller"),
        on_delete=models.CASCADE,
        related_name="provider_links",
        null=True,
        blank=True,
    )
    email = models.EmailField(_("tenant owner"), blank=True)
    organisation_name = models.CharField(_("organisation name"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ResellerStatus.choices, default=ResellerStatus.PENDING, db_index=True
    )
    # "View reseller's customers": the LAR may switch it off; only the reseller switches it back on.
    customers_visible = models.BooleanField(_("view reseller's customers"), default=True)
    invited_at = models.DateTimeField(_("invited"), auto_now_add=True)
    # Users live in partner schemas: the inviting user is kept as a label, not a foreign key.
    invited_by = models.CharField(_("invited by"), max_length=254, blank=True)
    invitation_email_sent_at = models.DateTimeField(_("invitation email sent"), null=True, blank=True)
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    mapped_at = models.DateTimeField(_("mapped"), null=True, blank=True)

    class Meta:
        ordering = ["organisation_name", "email", "id"]
        verbose_name = _("reseller")
        verbose_name_plural = _("resellers")
        constraints = [
            models.UniqueConstraint(
                fields=["large_account_reseller", "reseller"],
                condition=models.Q(reseller__isnull=False),
                name="resellers_link_unique_partner",
            ),
            models.UniqueConstraint(
                "large_account_reseller",
                Lower("email"),
                condition=models.Q(reseller__isnull=True),
                name="resellers_link_unique_unmapped_email",
            ),
            models.CheckConstraint(
                condition=~models.Q(large_account_reseller=models.F("reseller")),
                name="resellers_link_not_self",
            ),
        ]
        indexes = [models.Index(Lower("email"), name="resellers_link_email_ci")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.reseller_id is not None:
            return self.reseller.name
        return self.organisation_name or self.email

    @property
    def tenant_owner(self) -> str:
        if self.reseller_id is not None and self.reseller.owner_email:
            return self.reseller.owner_email
        return self.email

    @property
    def is_mapped(self) -> bool:
        return self.status == ResellerStatus.MAPPED and self.reseller_id is not None
