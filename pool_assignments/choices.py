from django.db import models
from django.utils.translation import gettext_lazy as _


class AssignmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    # A newer assignment of the same service to the same customer prevails; this one runs until
    # its 31-day minimum is over, then expires.
    SUPERSEDED = "superseded", _("Superseded")
    EXPIRED = "expired", _("Expired")


# Assignments that still hold seats of their allocation.
HOLDING_STATUSES = (AssignmentStatus.ACTIVE, AssignmentStatus.SUPERSEDED)

# A customer assignment lasts at least this long from its first assignment, unless the pool ends sooner.
MINIMUM_TERM_DAYS = 31
