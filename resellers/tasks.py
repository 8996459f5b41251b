from urllib.parse import urlencode

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

from resellers.choices import ResellerStatus
from resellers.models import ResellerLink
from resellers.selectors import reseller_invitation_token


def _console_url() -> str:
    port = f":{settings.PORTAL_PORT}" if settings.PORTAL_PORT else ""
    return f"{settings.PORTAL_SCHEME}://{settings.PORTAL_DOMAIN}{port}/"


@shared_task(name="resellers.tasks.reseller_invitation_email_send", ignore_result=True)
def reseller_invitation_email_send(*, link_id: int) -> None:
    """Email an address that is not registered in the console, inviting it to sign up and become the
    LAR's reseller. Sends nothing when the invitation was mapped or deleted meanwhile; idempotent."""
    link = ResellerLink.objects.select_related("large_account_reseller").filter(pk=link_id).first()
    if link is None or link.status != ResellerStatus.UNMAPPED or link.invitation_email_sent_at is not None:
        return
    large_account_reseller = link.large_account_reseller
    context = {
        "link": link,
        "large_account_reseller": large_account_reseller,
        "console_url": _console_url(),
        "sign_up_url": f"{_console_url()}sign-up/?{urlencode({'invitation': reseller_invitation_token(link=link)})}",
    }
    with translation.override(large_account_reseller.default_language or settings.LANGUAGE_CODE):
        subject = "".join(render_to_string("resellers/invitation_email_subject.txt", context).splitlines())
        body = render_to_string("resellers/invitation_email.txt", context)
    EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [link.email]).send()
    ResellerLink.objects.filter(pk=link.pk).update(invitation_email_sent_at=timezone.now())
