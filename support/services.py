"""Writes of feedback and of the troubleshooting profile: atomic, audited; emails leave after commit."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from portal.accounts.choices import UserKind
from portal.accounts.selectors import administrators_active
from portal.accounts.types import Actor
from portal.audit.choices import AuditAction
from portal.audit.services import audit_record, model_snapshot, notification_create
from portal.core.tasks import enqueue_on_commit
from support.choices import FeedbackCategory, FeedbackStatus
from support.models import Feedback, FeedbackReply, TroubleshootingAddress
from support.tasks import feedback_reply_email_send


def _label(actor: Actor) -> str:
    if actor is None or isinstance(actor, str):
        return actor or ""
    return actor.email or actor.username


def feedback_submit(*, actor, category: str, subject: str, message: str, page: str = "") -> Feedback:
    """Record feedback and tell the partner's administrators. A customer tenant admin's feedback is
    filed under their customer."""
    if category not in FeedbackCategory.values:
        raise ValidationError({"category": _("Choose a category.")})
    subject, message = " ".join(subject.split()), message.strip()
    if not subject:
        raise ValidationError({"subject": _("Say in a few words what it is about.")})
    if not message:
        raise ValidationError({"message": _("Write your feedback.")})
    customer = actor.customers.order_by("name").first() if actor.kind == UserKind.CUSTOMER_ADMIN else None
    with transaction.atomic():
        feedback = Feedback.objects.create(
            author=actor,
            author_label=actor.get_full_name() or _label(actor),
            author_email=actor.email,
            author_kind=actor.kind,
            customer=customer,
            category=category,
            subject=subject[:200],
            message=message,
            page=page[:500],
        )
        audit_record(
            actor=actor,
            action=AuditAction.FEEDBACK_SUBMIT,
            target=feedback,
            customer_id=customer.pk if customer else None,
            after=model_snapshot(feedback, ("category", "subject")),
        )
        sender = feedback.author_label
        who = customer.name if customer else ""
        notification_create(
            recipients=[user for user in administrators_active() if user.pk != actor.pk],
            title=(lambda: _("Feedback from %(name)s (%(customer)s)") % {"name": sender, "customer": who})
            if who
            else (lambda: _("Feedback from %(name)s") % {"name": sender}),
            body=subject,
            url=reverse("settings:feedback_detail", kwargs={"pk": feedback.pk}),
        )
    return feedback


def feedback_status_set(*, actor: Actor, feedback: Feedback, status: str) -> Feedback:
    if status not in FeedbackStatus.values:
        raise ValidationError({"status": _("Choose a status.")})
    with transaction.atomic():
        feedback = Feedback.objects.select_for_update().get(pk=feedback.pk)
        if feedback.status == status:
            return feedback
        before = model_snapshot(feedback, ("status",))
        feedback.status = status
        feedback.save(update_fields=["status", "updated"])
        audit_record(
            actor=actor,
            action=AuditAction.FEEDBACK_STATUS_SET,
            target=feedback,
            customer_id=feedback.customer_id,
            before=before,
            after=model_snapshot(feedback, ("status",)),
        )
    return feedback


def feedback_reply(*, actor: Actor, feedback: Feedback, message: str) -> FeedbackReply:
    """Answer the author by email (the troubleshooting profile in copy when it is about a customer)."""
    message = message.strip()
    if not message:
        raise ValidationError({"message": _("Write your reply.")})
    if not feedback.author_email:
        raise ValidationError(_("The author of this feedback has no email address."))
    with transaction.atomic():
        reply = FeedbackReply.objects.create(feedback=feedback, author_label=_label(actor), message=message)
        if feedback.status == FeedbackStatus.NEW:
            feedback.status = FeedbackStatus.IN_PROGRESS
            feedback.save(update_fields=["status", "updated"])
        audit_record(
            actor=actor,
            action=AuditAction.FEEDBACK_REPLY,
            target=feedback,
            customer_id=feedback.customer_id,
            after={"reply": message[:500], "to": feedback.author_email},
        )
        enqueue_on_commit(feedback_reply_email_send, reply_id=reply.pk)
    return reply


def troubleshooting_address_add(*, actor: Actor, email: str) -> TroubleshootingAddress:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Enter a valid email address.")}) from None
    with transaction.atomic():
        if TroubleshootingAddress.objects.filter(email__iexact=email).exists():
            raise ValidationError({"email": _("%(email)s is already in the profile.") % {"email": email}})
        address = TroubleshootingAddress.objects.create(email=email, added_by=_label(actor))
        audit_record(
            actor=actor, action=AuditAction.TROUBLESHOOTING_ADDRESS_ADD, target=address, after={"email": email}
        )
    return address


def troubleshooting_address_remove(*, actor: Actor, address: TroubleshootingAddress) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.TROUBLESHOOTING_ADDRESS_REMOVE,
            target=address,
            before={"email": address.email},
        )
        address.delete()
