"""Reads of customer self-registration: the partner's settings, open registrations, the verification link."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from customers.choices import CustomerRegistrationStatus
from customers.models import CustomerRegistration, CustomerRegistrationSettings
from portal.core.signed_links import signed_link_token, signed_link_value

VERIFY_SALT = "customers.registration.verify"


def customer_registration_settings_get() -> CustomerRegistrationSettings:
    row, _created = CustomerRegistrationSettings.objects.select_related("role").get_or_create(singleton=1)
    return row


def customer_registration_allowed() -> bool:
    """Whether the partner's sign-up form is open (it answers 404 otherwise); never on the public host."""
    if getattr(connection, "schema_name", None) == get_public_schema_name():
        return False
    return CustomerRegistrationSettings.objects.filter(singleton=1, allow_registration=True).exists()


def customer_registrations_open() -> QuerySet[CustomerRegistration]:
    """Registrations that hold their email address: waiting for the partner, or unverified while the link works."""
    stale = timezone.now() - timedelta(seconds=settings.CUSTOMER_REGISTRATION_VERIFY_MAX_AGE)
    return CustomerRegistration.objects.filter(
        status__in=(CustomerRegistrationStatus.AWAITING_VERIFICATION, CustomerRegistrationStatus.PENDING_APPROVAL)
    ).exclude(status=CustomerRegistrationStatus.AWAITING_VERIFICATION, created__lt=stale)


def customer_registrations_for_review() -> QuerySet[CustomerRegistration]:
    """Settings > Customer registration: those waiting for a decision first, then the latest decided."""
    return CustomerRegistration.objects.select_related("decided_by", "customer").order_by("status", "-created")


def customer_registration_verify_token(*, registration: CustomerRegistration) -> str:
    return signed_link_token(str(registration.public_id), salt=VERIFY_SALT)


def customer_registration_from_verify_token(*, token: str) -> CustomerRegistration | None:
    """The registration an emailed link names, while the link works; None otherwise."""
    public_id = signed_link_value(token, salt=VERIFY_SALT, max_age=settings.CUSTOMER_REGISTRATION_VERIFY_MAX_AGE)
    if not public_id:
        return None
    return CustomerRegistration.objects.filter(public_id=public_id).first()
