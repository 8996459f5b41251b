from django.db import models
from django.utils.translation import gettext_lazy as _


class SignUpStatus(models.TextChoices):
    """Where a partner sign-up stands: the address is verified, then the console is provisioned."""

    AWAITING_VERIFICATION = "awaiting_verification", _("Waiting for the email address to be verified")
    QUEUED = "queued", _("Queued")
    PROVISIONING = "provisioning", _("Provisioning")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


# Statuses whose organisation name and console address are taken until they finish or fail.
OPEN_STATUSES = (SignUpStatus.AWAITING_VERIFICATION, SignUpStatus.QUEUED, SignUpStatus.PROVISIONING)


class SignUpStep(models.TextChoices):
    """The steps the provisioning page shows, in order; each is recorded when it starts."""

    VERIFIED = "verified", _("Email address verified")
    CONSOLE = "console", _("Creating your console and its database")
    ADMINISTRATOR = "administrator", _("Setting up your administrator account")
    INVITATION = "invitation", _("Joining the reseller directory that invited you")
    READY = "ready", _("Your console is ready")


STEP_PERCENT = {
    SignUpStep.VERIFIED: 10,
    SignUpStep.CONSOLE: 30,
    SignUpStep.ADMINISTRATOR: 75,
    SignUpStep.INVITATION: 90,
    SignUpStep.READY: 100,
}
