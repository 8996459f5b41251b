from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portal.accounts.locale import user_locale


@shared_task(name="portal.accounts.tasks.sessions_clear_expired", ignore_result=True)
def sessions_clear_expired() -> int:
    """Delete the expired sessions of the partner this task was sent for (beat, once a day)."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@shared_task(name="portal.accounts.tasks.password_reset_email_send", ignore_result=True)
def password_reset_email_send(*, user_id: int, **_sent_by_older_versions) -> None:
    """Email a password reset link. Runs in the partner's schema: the user id only means
    something there, and the token is made from that user's current password hash. The link
    goes to the partner's configured address; older versions sent a host and scheme taken from
    the request, which are ignored."""
    from portal.partners.selectors import partner_current
    from portal.partners.services import partner_url

    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    partner = partner_current()
    if user is None or partner is None:
        return
    base = urlsplit(partner_url(partner))
    context = {
        "user": user,
        "domain": base.netloc,
        "protocol": base.scheme,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
        "partner_name": partner.name,
    }
    with user_locale(user):
        subject = "".join(render_to_string("registration/password_reset_subject.txt", context).splitlines())
        body = render_to_string("registration/password_reset_email.txt", context)
    EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]).send()


@shared_task(name="portal.accounts.tasks.invitation_email_send", ignore_result=True)
def invitation_email_send(*, invitation_id: int, token: str) -> None:
    """Email the invitation link. The token is only in this message and the email: the database
    keeps its hash. An invitation revoked or used meanwhile sends nothing."""
    from portal.accounts.models import Invitation
    from portal.partners.selectors import partner_current
    from portal.partners.services import partner_url

    invitation = (
        Invitation.objects.select_related("user", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if invitation is None:
        return
    user = invitation.user
    partner = partner_current()
    base_url = partner_url(partner).rstrip("/") if partner is not None else ""
    inviter = invitation.invited_by
    context = {
        "user": user,
        "inviter_name": (inviter.get_full_name() or inviter.email or inviter.username) if inviter else "",
        "partner_name": getattr(partner, "name", ""),
        "accept_url": base_url + reverse("accounts:invitation_accept", kwargs={"token": token}),
        "sign_in_url": base_url + reverse("accounts:login"),
        "expires_at": invitation.expires_at,
    }
    with user_locale(user):
        subject = "".join(render_to_string("accounts/invitation_subject.txt", context).splitlines())
        body = render_to_string("accounts/invitation_email.txt", context)
    EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]).send()
