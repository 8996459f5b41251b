"""Background work of customers: the email that verifies a customer's self-registration."""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation


@shared_task(name="customers.tasks.customer_registration_verification_email_send", ignore_result=True)
def customer_registration_verification_email_send(*, registration_id: int) -> None:
    """Email the link that verifies a registration's address, built from the partner's configured
    address (never from a request); nothing once it is verified or decided."""
    from customers.choices import CustomerRegistrationStatus
    from customers.models import CustomerRegistration
    from customers.selectors_registration import customer_registration_verify_token
    from portal.partners.selectors import partner_current
    from portal.partners.services import partner_url

    registration = CustomerRegistration.objects.filter(
        pk=registration_id, status=CustomerRegistrationStatus.AWAITING_VERIFICATION
    ).first()
    partner = partner_current()
    if registration is None or partner is None:
        return
    path = reverse(
        "customer_registration:verify",
        kwargs={"token": customer_registration_verify_token(registration=registration)},
    )
    context = {
        "registration": registration,
        "partner_name": partner.name,
        "verify_url": partner_url(partner).rstrip("/") + path,
    }
    with translation.override(registration.language or settings.LANGUAGE_CODE):
        subject = "".join(render_to_string("customers/registration_verify_subject.txt", context).splitlines())
        body = render_to_string("customers/registration_verify_email.txt", context)
    EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [registration.email]).send()


@shared_task(name="customers.tasks.customer_registration_approved_email_send", ignore_result=True)
def customer_registration_approved_email_send(*, registration_id: int) -> None:
    """Tell the new customer's administrator they can sign in (the link from the partner's configured address)."""
    from customers.choices import CustomerRegistrationStatus
    from customers.models import CustomerRegistration
    from portal.partners.selectors import partner_current
    from portal.partners.services import partner_url

    registration = CustomerRegistration.objects.filter(
        pk=registration_id, status=CustomerRegistrationStatus.APPROVED
    ).first()
    partner = partner_current()
    if registration is None or partner is None:
        return
    context = {
        "registration": registration,
        "partner_name": partner.name,
        "sign_in_url": partner_url(partner).rstrip("/") + reverse("accounts:login"),
    }
    with translation.override(registration.language or settings.LANGUAGE_CODE):
        subject = "".join(render_to_string("customers/registration_approved_subject.txt", context).splitlines())
        body = render_to_string("customers/registration_approved_email.txt", context)
    EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [registration.email]).send()
