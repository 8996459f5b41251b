from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

from support.models import FeedbackReply


@shared_task(name="support.tasks.feedback_reply_email_send", ignore_result=True)
def feedback_reply_email_send(*, reply_id: int) -> None:
    """Email a reply to the feedback's author, copying the troubleshooting profile when the feedback is
    about a customer. Sends once: a redelivered message finds the reply already emailed."""
    from portal.partners.selectors import partner_current
    from support.selectors import troubleshooting_addresses

    reply = FeedbackReply.objects.select_related("feedback__author").filter(pk=reply_id, emailed_at=None).first()
    if reply is None:
        return
    feedback = reply.feedback
    partner = partner_current()
    language = getattr(feedback.author, "language", "") or getattr(partner, "default_language", "") or "en"
    context = {"reply": reply, "feedback": feedback, "partner_name": getattr(partner, "name", "")}
    with translation.override(language):
        subject = "".join(render_to_string("support/email/feedback_reply_subject.txt", context).splitlines())
        body = render_to_string("support/email/feedback_reply.txt", context)
    copies = troubleshooting_addresses() if feedback.customer_id else []
    EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [feedback.author_email], cc=copies).send()
    FeedbackReply.objects.filter(pk=reply.pk).update(emailed_at=timezone.now())
