"""Background work of partner sign-up: the verification email and the provisioning (default queue)."""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from signup.choices import SignUpStatus
from signup.models import PartnerSignUp


def public_url(path: str) -> str:
    """An address on the public host, from the configured domain (never from a request)."""
    port = f":{settings.PORTAL_PORT}" if settings.PORTAL_PORT else ""
    return f"{settings.PORTAL_SCHEME}://{settings.PORTAL_DOMAIN}{port}{path}"


@shared_task(name="signup.tasks.sign_up_verification_email_send", ignore_result=True)
def sign_up_verification_email_send(*, sign_up_id: int) -> None:
    """Email the link that verifies the administrator's address; nothing once it is verified."""
    from signup.selectors import sign_up_verify_token

    sign_up = PartnerSignUp.objects.filter(pk=sign_up_id, status=SignUpStatus.AWAITING_VERIFICATION).first()
    if sign_up is None:
        return
    path = reverse(
        "signup:verify", urlconf=settings.PUBLIC_SCHEMA_URLCONF, kwargs={"token": sign_up_verify_token(sign_up=sign_up)}
    )
    link = public_url(path)
    context = {"sign_up": sign_up, "verify_url": link}
    with translation.override(sign_up.language or settings.LANGUAGE_CODE):
        subject = "".join(render_to_string("signup/verify_email_subject.txt", context).splitlines())
        body = render_to_string("signup/verify_email.txt", context)
    EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [sign_up.admin_email]).send()


@shared_task(name="signup.tasks.sign_up_provision", ignore_result=True)
def sign_up_provision_task(*, sign_up_id: int) -> None:
    from signup.services import sign_up_provision

    sign_up_provision(sign_up_id=sign_up_id)
