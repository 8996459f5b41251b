from django.db import models
from django.utils.translation import gettext_lazy as _


class ResellerStatus(models.TextChoices):
    """Where a reseller stands in a large account reseller's directory."""

    # Invited by email: nobody in the console answers to that address yet (or the LAR has not
    # mapped the partner who signed up).
    UNMAPPED = "unmapped", _("Unmapped")
    # A registered partner was invited and has not answered yet.
    PENDING = "pending", _("Pending acceptance")
    MAPPED = "mapped", _("Mapped")
    DECLINED = "declined", _("Declined")


class CandidateMatch(models.TextChoices):
    """How the single-invite search found its candidates (owner email first, then domain and name)."""

    OWNER_EMAIL = "owner_email", _("Tenant owner's email address")
    DOMAIN_OR_NAME = "domain_or_name", _("Email domain and organisation name")
    NONE = "none", _("Nothing found")


class BatchRowResult(models.TextChoices):
    """What the batch invite will do (or did) with one row of the uploaded file."""

    INVITE = "invite", _("Will be invited")
    NOT_REGISTERED = "not_registered", _("Not registered in the console")
    DUPLICATE = "duplicate", _("Duplicate")
    ALREADY_LINKED = "already_linked", _("Already in your reseller directory")
    NOT_ALLOWED = "not_allowed", _("Cannot be invited")
    INVALID = "invalid", _("Invalid row")
