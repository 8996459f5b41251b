from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.providers.registry import marketplaces

#: The registered marketplaces as model-field choices (slug, short name), built from their descriptions
#: (marketplace.providers.registry) so a new provider package is a new choice.
MarketplaceSlug = models.TextChoices(  # type: ignore[call-overload]  # built from the registry
    "MarketplaceSlug",
    [(description.slug.upper(), (description.slug, description.name)) for description in marketplaces().values()],
)


class AccountStatus(models.TextChoices):
    NEW = "new", _("Waiting for the first sync")
    ACTIVE = "active", _("Active")
    FAILING = "failing", _("Failing")


class SyncStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    RETRYING = "retrying", _("Waiting to retry")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class SyncErrorKind(models.TextChoices):
    """Why a sync stopped, in the console's words (the marketplace's own message is kept beside it)."""

    THROTTLED = "throttled", _("The marketplace asked the console to slow down.")
    UNAVAILABLE = "unavailable", _("The marketplace did not answer properly.")
    AUTHENTICATION = "authentication", _("The marketplace refused the account's credentials.")
    REJECTED = "rejected", _("The marketplace refused the request.")
    NOT_FOUND = "not_found", _("The marketplace did not find what the console asked for.")
    UNSUPPORTED = "unsupported", _("The marketplace does not offer this.")
    SECRET = "secret", _("The stored password cannot be decrypted with the configured keys; enter it again.")
    BUSY = "busy", _("Another sync of this account was running.")
    UNEXPECTED = "unexpected", _("The sync stopped on an unexpected error.")

    @property
    def marketplace_said(self) -> bool:
        """Whether the run's message is the marketplace's answer (shown beside the console's words as theirs)."""
        return self not in (SyncErrorKind.SECRET, SyncErrorKind.BUSY, SyncErrorKind.UNEXPECTED)


class SyncTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("Schedule")
    MANUAL = "manual", _("Sync now")
    CONNECTION = "connection", _("Tenant connected")
    ACCOUNT = "account", _("Account added or changed")


class SyncPhase(models.TextChoices):
    WAITING = "waiting", _("Waiting for a worker")
    CUSTOMERS = "customers", _("Customers")
    OFFERS = "offers", _("Plans and prices")
    SUBSCRIPTIONS = "subscriptions", _("Subscriptions")
    DONE = "done", _("Done")


#: The kinds of rows a sync mirrors, in the order it syncs them (the keys of `SyncRun.counts`).
SYNC_KINDS: tuple[str, ...] = ("customers", "offers", "subscriptions")
SYNC_OUTCOMES: tuple[str, ...] = ("created", "updated", "unchanged", "removed")
