"""Customer self-registration on the partner's host: the request, the emailed verification, and the
partner's decision (or the automatic one the settings allow).

Approval makes the customer through `customer_create` (so its name is checked like any other) and its
administrator, a customer tenant admin with the role the settings name and the password chosen on the
form (kept only as its hash). That person then accepts the terms in force like every new user.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.choices import CustomerRegistrationStatus
from customers.models import CustomerRegistration, CustomerRegistrationSettings
from customers.selectors_registration import (
    customer_registration_settings_get,
    customer_registrations_open,
)
from customers.services import CustomerActionRefused, customer_create
from customers.tasks import customer_registration_approved_email_send, customer_registration_verification_email_send
from portal.accounts.choices import UserKind
from portal.accounts.models import Role, User
from portal.accounts.selectors import administrators_active
from portal.accounts.services import username_from_email
from portal.accounts.types import Actor
from portal.audit.choices import AuditAction
from portal.audit.services import SYSTEM_ACTOR, audit_record, model_snapshot, notification_create
from portal.core.names import name_clean
from portal.core.tasks import enqueue_on_commit

REGISTRATION_AUDIT_FIELDS = (
    "company_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "country",
    "status",
    "email_verified_at",
    "decided_at",
)


class RegistrationRefused(ValidationError):
    """A decision that cannot be taken (already decided, the name or email taken meanwhile)."""


def _snapshot(registration: CustomerRegistration) -> dict[str, Any]:
    snapshot = model_snapshot(registration, REGISTRATION_AUDIT_FIELDS)
    snapshot["country"] = str(registration.country)
    return snapshot


def customer_registration_settings_update(
    *, actor: Actor, allow_registration: bool, auto_approve: bool, role: Role | None
) -> CustomerRegistrationSettings:
    """Open or close registration. An open door needs the role its customers' administrators get."""
    if allow_registration and role is None:
        raise ValidationError({"role": _("Choose the role a registered customer's administrator gets.")})
    if role is not None and role.is_builtin:
        raise ValidationError({"role": _("A customer tenant admin cannot be an administrator of the partner.")})
    with transaction.atomic():
        row = CustomerRegistrationSettings.objects.select_for_update().get(pk=customer_registration_settings_get().pk)
        before = {"allow_registration": row.allow_registration, "auto_approve": row.auto_approve, "role": row.role_id}
        row.allow_registration, row.auto_approve, row.role = allow_registration, auto_approve, role
        row.save()
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_REGISTRATION_SETTINGS_UPDATE,
            target=row,
            before=before,
            after={"allow_registration": allow_registration, "auto_approve": auto_approve, "role": row.role_id},
        )
    return row


def _email_taken(email: str) -> bool:
    return (
        User.objects.filter(email__iexact=email).exists()
        or customer_registrations_open().filter(email__iexact=email).exists()
    )


def customer_registration_start(
    *,
    company_name: str,
    first_name: str,
    last_name: str,
    email: str,
    password: str,
    country: str,
    phone: str = "",
    address_line1: str = "",
    city: str = "",
    postal_code: str = "",
    vat_number: str = "",
    language: str = "en",
) -> CustomerRegistration:
    """Record a registration and email its verification link. The caller has checked that the partner
    allows registration and counted the request against the throttle."""
    errors: dict[str, str] = {}
    email = (email or "").strip().lower()
    try:
        company_name = name_clean(company_name, max_length=200)
    except ValidationError as error:
        errors["company_name"] = error.messages[0]
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = _("Enter a valid email address.")
    else:
        if _email_taken(email):
            errors["email"] = _(
                "This email address already has an account or a registration here. Sign in, or reset your password."
            )
    try:
        validate_password(password)
    except ValidationError as error:
        errors["password"] = " ".join(error.messages)
    if not country:
        errors["country"] = _("Choose your country or region.")
    if not (first_name or "").strip() or not (last_name or "").strip():
        errors["first_name"] = _("Enter your first and last name.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        registration = CustomerRegistration.objects.create(
            company_name=company_name,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            email=email,
            phone=phone.strip(),
            address_line1=address_line1.strip(),
            city=city.strip(),
            postal_code=postal_code.strip(),
            country=country.upper(),
            vat_number=vat_number.strip(),
            password_hash=make_password(password),
            language=language,
        )
        audit_record(
            actor=SYSTEM_ACTOR,
            action=AuditAction.CUSTOMER_REGISTRATION_REQUEST,
            target=registration,
            after=_snapshot(registration),
        )
        enqueue_on_commit(customer_registration_verification_email_send, registration_id=registration.pk)
    return registration


def customer_registration_verify(*, registration: CustomerRegistration) -> CustomerRegistration:
    """The emailed link was opened: the registration waits for the partner, or is approved at once when
    the settings say so. A second click changes nothing."""
    with transaction.atomic():
        registration = CustomerRegistration.objects.select_for_update().get(pk=registration.pk)
        if registration.status != CustomerRegistrationStatus.AWAITING_VERIFICATION:
            return registration
        registration.status = CustomerRegistrationStatus.PENDING_APPROVAL
        registration.email_verified_at = timezone.now()
        registration.save(update_fields=["status", "email_verified_at"])
        audit_record(
            actor=SYSTEM_ACTOR,
            action=AuditAction.CUSTOMER_REGISTRATION_VERIFY,
            target=registration,
            after=_snapshot(registration),
        )
        options = customer_registration_settings_get()
        if options.allow_registration and options.auto_approve and options.role is not None:
            try:
                return customer_registration_approve(actor=SYSTEM_ACTOR, registration=registration)
            except ValidationError:
                pass  # a name taken meanwhile: the registration waits for a person to decide
        name = registration.company_name
        notification_create(
            recipients=list(administrators_active()),
            title=lambda: _("%(name)s registered as a customer and waits for approval") % {"name": name},
            body=registration.email,
            url=reverse("registration_settings:index"),
        )
    return registration


def customer_registration_approve(*, actor: Actor, registration: CustomerRegistration) -> CustomerRegistration:
    """Create the customer and its administrator (who signs in with the password chosen on the form)."""
    options = customer_registration_settings_get()
    if options.role is None:
        raise RegistrationRefused(_("Choose the role a registered customer's administrator gets, then approve."))
    with transaction.atomic():
        registration = CustomerRegistration.objects.select_for_update().get(pk=registration.pk)
        if registration.status != CustomerRegistrationStatus.PENDING_APPROVAL:
            raise RegistrationRefused(_("This registration was already decided or its email is not verified yet."))
        if User.objects.filter(email__iexact=registration.email).exists():
            raise RegistrationRefused(
                _("%(email)s already has an account here: reject this registration.") % {"email": registration.email}
            )
        try:
            customer = customer_create(
                actor=actor,
                fields={
                    "name": registration.company_name,
                    "contact_name": f"{registration.first_name} {registration.last_name}".strip(),
                    "contact_email": registration.email,
                    "contact_phone": registration.phone,
                    "address_line1": registration.address_line1,
                    "city": registration.city,
                    "postal_code": registration.postal_code,
                    "country": registration.country,
                    "vat_number": registration.vat_number,
                },
            )
        except (ValidationError, CustomerActionRefused) as error:
            words = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            raise RegistrationRefused(words) from error
        user = User(
            username=username_from_email(registration.email),
            email=registration.email,
            first_name=registration.first_name,
            last_name=registration.last_name,
            organisation_name=registration.company_name,
            phone=registration.phone,
            kind=UserKind.CUSTOMER_ADMIN,
            is_active=True,
            language=registration.language,
            password=registration.password_hash,
        )
        user.save()
        user.roles.set([options.role])
        user.customers.set([customer])
        registration.status = CustomerRegistrationStatus.APPROVED
        registration.decided_at = timezone.now()
        registration.decided_by = actor if isinstance(actor, User) else None
        registration.customer = customer
        registration.save(update_fields=["status", "decided_at", "decided_by", "customer"])
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_REGISTRATION_APPROVE,
            target=registration,
            customer_id=customer.pk,
            after={**_snapshot(registration), "customer": customer.pk, "user": user.pk, "role": options.role.pk},
        )
        enqueue_on_commit(customer_registration_approved_email_send, registration_id=registration.pk)
    return registration


def customer_registration_reject(*, actor: Actor, registration: CustomerRegistration) -> CustomerRegistration:
    with transaction.atomic():
        registration = CustomerRegistration.objects.select_for_update().get(pk=registration.pk)
        if registration.status not in (
            CustomerRegistrationStatus.PENDING_APPROVAL,
            CustomerRegistrationStatus.AWAITING_VERIFICATION,
        ):
            raise RegistrationRefused(_("This registration was already decided."))
        before = _snapshot(registration)
        registration.status = CustomerRegistrationStatus.REJECTED
        registration.decided_at = timezone.now()
        registration.decided_by = actor if isinstance(actor, User) else None
        registration.password_hash = ""
        registration.save(update_fields=["status", "decided_at", "decided_by", "password_hash"])
        audit_record(
            actor=actor,
            action=AuditAction.CUSTOMER_REGISTRATION_REJECT,
            target=registration,
            before=before,
            after=_snapshot(registration),
        )
    return registration
