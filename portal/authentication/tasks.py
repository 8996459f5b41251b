from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from portal.accounts.locale import user_locale


@shared_task(name="portal.authentication.tasks.unlock_email_send", ignore_result=True)
def unlock_email_send(*, user_id: int, token: str) -> None:
    """Tell the owner their account was locked after failed sign-ins, with a link that unlocks it.

    Runs in the partner's schema; the token only unlocks the lock it was made for.
    """
    from portal.partners.selectors import partner_current
    from portal.partners.services import partner_url

    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return
    partner = partner_current()
    base_url = partner_url(partner).rstrip("/") if partner is not None else ""
    context = {
        "user": user,
        "partner_name": getattr(partner, "name", ""),
        "unlock_url": base_url + reverse("accounts:unlock", kwargs={"token": token}),
        "reset_url": base_url + reverse("accounts:password_reset"),
    }
    with user_locale(user):
        subject = "".join(render_to_string("authentication/unlock_subject.txt", context).splitlines())
        body = render_to_string("authentication/unlock_email.txt", context)
    EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]).send()
