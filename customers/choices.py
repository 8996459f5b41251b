from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")


class Industry(models.TextChoices):
    GENERAL = "general", _("General business")
    EDUCATION = "education", _("Education")
    GOVERNMENT = "government", _("Government")
    HEALTHCARE = "healthcare", _("Healthcare")
    NON_PROFIT = "non_profit", _("Non-profit")
    FINANCE = "finance", _("Finance")
    MANUFACTURING = "manufacturing", _("Manufacturing")
    RETAIL = "retail", _("Retail")
    TECHNOLOGY = "technology", _("Technology")
    OTHER = "other", _("Other")


class ConsentState(models.TextChoices):
    NOT_CONSENTED = "not_consented", _("Not consented")
    PENDING = "pending", _("Waiting for consent")
    CONSENTED = "consented", _("Consented")
    DENIED = "denied", _("Consent denied")


class CustomerRegistrationStatus(models.TextChoices):
    AWAITING_VERIFICATION = "awaiting_verification", _("Email not verified yet")
    PENDING_APPROVAL = "pending_approval", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
