from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.audit.choices import AuditAction, AuditResult, NotificationKind, NotificationLevel


class AuditEvent(models.Model):
    """Who did what to which object, when, from where, with what result.

    Written only by `portal.audit.services.audit_record`, which every service calls. The actor
    and target are kept as labels too, so the trail survives the deletion of either.
    """

    created = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("actor"), max_length=254)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    target_type = models.CharField(_("object type"), max_length=100, db_index=True, blank=True)
    target_id = models.CharField(_("object ID"), max_length=64, db_index=True, blank=True)
    target_label = models.CharField(_("object"), max_length=255, blank=True)
    # The customer the event concerns, so scoped users see their customers' trail only. A plain
    # id, not a foreign key: the trail outlives a deleted customer.
    customer_id = models.BigIntegerField(_("customer ID"), null=True, blank=True, db_index=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    result = models.CharField(_("result"), max_length=16, choices=AuditResult.choices, default=AuditResult.SUCCESS)
    message = models.TextField(_("message"), blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["target_type", "target_id", "-created"])]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_label}"

    @property
    def action_label(self) -> str:
        """What happened, in the reader's language; an action no longer in AuditAction shows its code."""
        return action_label(self.action)

    @property
    def actor_display(self) -> str:
        """Who did it: a person's email, or the console's own actors ("automation", "system") in the reader's
        language."""
        return str(SYSTEM_ACTOR_LABELS.get(self.actor_label, self.actor_label))

    @property
    def target_type_label(self) -> str:
        """The kind of object in the reader's language ("Subscription"), never the stored "app.model"."""
        return target_type_label(self.target_type)

    @property
    def message_display(self) -> str:
        """The event's message in the reader's language when it is one of the console's own sentences (stored
        in English); anything else (a marketplace's answer, a sentence with values in it) as recorded."""
        from django.utils.translation import gettext

        return gettext(self.message) if self.message else ""


#: The console's own actors, recorded by name when no person acted.
SYSTEM_ACTOR_LABELS = {
    "automation": _("Automation"),
    "system": _("System"),
    "demo": _("Demo data"),
}


def target_type_label(target_type: str) -> str:
    if not target_type:
        return ""
    try:
        model = apps.get_model(target_type)
    except (LookupError, ValueError):
        return ""
    name = str(model._meta.verbose_name)
    return name[:1].upper() + name[1:]


def action_label(action: str) -> str:
    try:
        return str(AuditAction(action).label)
    except ValueError:
        return action


class Notification(models.Model):
    """A message for one user, shown under the bell: created by services, never by views."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    created = models.DateTimeField(_("time"), auto_now_add=True)
    level = models.CharField(
        _("level"), max_length=16, choices=NotificationLevel.choices, default=NotificationLevel.INFO
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=NotificationKind.choices, default=NotificationKind.OTHER)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created"]),
            models.Index(fields=["recipient", "kind", "-created"], name="audit_notification_kind"),
        ]

    def __str__(self) -> str:
        return self.title
