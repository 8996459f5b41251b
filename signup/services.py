"""Writes of partner sign-up: the request, the verification of the administrator's address, and the
provisioning that runs in the background (`signup.tasks.sign_up_provision`).

The organisation's console is made by the one partner-creation service (`partner_create`); this
module records the progress the sign-up page shows around it, copies the administrator's chosen
password hash and name, records the data centre, and accepts the reseller invitation the sign-up
came from. A sign-up is refused when its organisation name or console address is taken by a
partner or by another open sign-up.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from portal.audit.choices import AuditAction
from portal.audit.services import audit_record
from portal.core.names import name_clean, name_collision, name_collision_message, name_skeleton
from portal.core.tasks import enqueue_on_commit
from portal.partners.choices import DataCentre, Region
from portal.partners.models import Partner
from portal.partners.selectors import partner_by_slug, partners_all
from portal.partners.services import (
    partner_create,
    partner_primary_host,
    validate_partner_domain,
    validate_partner_slug,
)
from resellers.models import ResellerLink
from resellers.services import reseller_invitation_signed_up
from signup.choices import SignUpStatus, SignUpStep
from signup.models import PartnerSignUp
from signup.selectors import data_centre_for_country, sign_ups_open
from signup.tasks import sign_up_provision_task, sign_up_verification_email_send

REGION_OF_DATA_CENTRE = {
    DataCentre.EU_WEST: Region.EUROPE,
    DataCentre.UK_SOUTH: Region.EUROPE,
    DataCentre.CH_NORTH: Region.EUROPE,
    DataCentre.US_EAST: Region.NORTH_AMERICA,
    DataCentre.AP_SOUTHEAST: Region.ASIA_PACIFIC,
    DataCentre.AU_EAST: Region.ASIA_PACIFIC,
    DataCentre.JP_EAST: Region.JAPAN,
}
SIGN_UP_AUDIT_FIELDS = (
    "organisation_name",
    "slug",
    "country",
    "data_centre",
    "is_service_provider",
    "is_large_account_reseller",
    "admin_email",
    "terms_accepted_at",
    "email_verified_at",
)


def sign_up_slug_suggest(organisation_name: str) -> str:
    """A console address from the organisation's name: lower-case letters, digits and dashes."""
    slug = slugify(organisation_name)[:50].strip("-")
    if slug and not slug[0].isalpha():
        slug = f"p-{slug}"[:50].strip("-")
    return slug


def sign_up_name_problem(name: str) -> str | None:
    """Why an organisation name cannot sign up: refused characters, or a partner or an open sign-up
    that reads the same."""
    try:
        name = name_clean(name, max_length=PartnerSignUp._meta.get_field("organisation_name").max_length or 200)
    except ValidationError as error:
        return error.messages[0]
    # partners by their stored skeleton (an index lookup), the few open sign-ups by reading them
    taken = [
        *partners_all().filter(name_skeleton=name_skeleton(name)).values_list("name", flat=True)[:1],
        *sign_ups_open().values_list("organisation_name", flat=True),
    ]
    collision = name_collision(name, taken)
    if collision is not None:
        return name_collision_message(
            name, collision, duplicate_message=_("An organisation called %(name)s already has a console.")
        )
    return None


def sign_up_slug_problem(slug: str) -> str | None:
    """Why a console address cannot be used: its form, a reserved word, a partner or an open sign-up has it."""
    try:
        validate_partner_slug(slug)
        validate_partner_domain(partner_primary_host(slug))
    except ValidationError as error:
        return error.messages[0]
    if sign_ups_open().filter(slug=slug).exists():
        return _("The console address %(host)s is being set up for another organisation.") % {
            "host": partner_primary_host(slug)
        }
    return None


def sign_up_start(
    *,
    organisation_name: str,
    slug: str,
    country: str,
    is_service_provider: bool,
    is_large_account_reseller: bool,
    admin_email: str,
    password: str,
    terms_accepted: bool,
    first_name: str = "",
    last_name: str = "",
    language: str = "en",
    invitation: ResellerLink | None = None,
) -> PartnerSignUp:
    """Record a sign-up and email its verification link. When it comes from a reseller invitation sent
    to this very address, the invitation's link already proved the address: provisioning starts now."""
    errors: dict[str, str] = {}
    organisation_name = " ".join((organisation_name or "").split())
    slug = (slug or "").strip().lower() or sign_up_slug_suggest(organisation_name)
    admin_email = (admin_email or "").strip().lower()
    problem = sign_up_name_problem(organisation_name)
    if problem:
        errors["organisation_name"] = problem
    else:
        organisation_name = name_clean(organisation_name)
    problem = sign_up_slug_problem(slug)
    if problem:
        errors["slug"] = problem
    if not (is_service_provider or is_large_account_reseller):
        errors["is_service_provider"] = _("A partner is a service provider, a large account reseller, or both.")
    try:
        validate_email(admin_email)
    except ValidationError:
        errors["admin_email"] = _("Enter a valid email address.")
    try:
        validate_password(password)
    except ValidationError as error:
        errors["password"] = " ".join(error.messages)
    if not country:
        errors["country"] = _("Choose your country or region.")
    if not terms_accepted:
        errors["terms"] = _("Accept the terms of service to sign up.")
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    proven = invitation is not None and invitation.email.lower() == admin_email
    with transaction.atomic():
        # an unverified sign-up whose link expired lets go of its address
        PartnerSignUp.objects.filter(slug=slug, status=SignUpStatus.AWAITING_VERIFICATION).exclude(
            pk__in=sign_ups_open().values("pk")
        ).update(status=SignUpStatus.FAILED, error=_("The verification link expired."))
        sign_up = PartnerSignUp.objects.create(
            organisation_name=organisation_name,
            slug=slug,
            country=country.upper(),
            data_centre=data_centre_for_country(country),
            is_service_provider=is_service_provider,
            is_large_account_reseller=is_large_account_reseller,
            admin_email=admin_email,
            admin_first_name=first_name.strip(),
            admin_last_name=last_name.strip(),
            password_hash=make_password(password),
            language=language,
            terms_accepted_at=now,
            invitation=invitation,
        )
        if proven:
            _verified(sign_up)
        else:
            enqueue_on_commit(sign_up_verification_email_send, sign_up_id=sign_up.pk)
    return sign_up


def _verified(sign_up: PartnerSignUp) -> None:
    sign_up.status, sign_up.step, sign_up.email_verified_at = SignUpStatus.QUEUED, SignUpStep.VERIFIED, timezone.now()
    sign_up.save(update_fields=["status", "step", "email_verified_at"])
    enqueue_on_commit(sign_up_provision_task, sign_up_id=sign_up.pk)


def sign_up_verify(*, sign_up: PartnerSignUp) -> PartnerSignUp:
    """The administrator opened the emailed link: queue the provisioning (once; a second click changes nothing)."""
    with transaction.atomic():
        sign_up = PartnerSignUp.objects.select_for_update().get(pk=sign_up.pk)
        if sign_up.status == SignUpStatus.AWAITING_VERIFICATION:
            _verified(sign_up)
    return sign_up


def _step(sign_up: PartnerSignUp, step: SignUpStep, **fields) -> None:
    """Record the step now, outside any transaction, so the progress page sees it while the next runs."""
    PartnerSignUp.objects.filter(pk=sign_up.pk).update(step=step, **fields)
    sign_up.step = step
    for name, value in fields.items():
        setattr(sign_up, name, value)


def sign_up_provision(*, sign_up_id: int) -> PartnerSignUp | None:
    """Provision the console of a verified sign-up, recording each step. Idempotent: a finished sign-up
    is left alone, and a redelivered one finds the partner it already created."""
    sign_up = PartnerSignUp.objects.select_related("invitation").filter(pk=sign_up_id).first()
    if sign_up is None or sign_up.status not in (SignUpStatus.QUEUED, SignUpStatus.PROVISIONING):
        return sign_up
    _step(sign_up, SignUpStep.CONSOLE, status=SignUpStatus.PROVISIONING)
    partner = sign_up.partner or _partner_of(sign_up)
    if partner is None:
        try:
            partner = partner_create(
                name=sign_up.organisation_name,
                slug=sign_up.slug,
                admin_email=sign_up.admin_email,
                is_service_provider=sign_up.is_service_provider,
                is_large_account_reseller=sign_up.is_large_account_reseller,
                region=REGION_OF_DATA_CENTRE.get(DataCentre(sign_up.data_centre), Region.EUROPE),
                default_language=sign_up.language,
            ).partner
        except ValidationError as error:
            _step(sign_up, SignUpStep.CONSOLE, status=SignUpStatus.FAILED, error=" ".join(error.messages))
            return sign_up
        _step(sign_up, SignUpStep.CONSOLE, partner=partner)
    _step(sign_up, SignUpStep.ADMINISTRATOR)
    with transaction.atomic():
        Partner.objects.filter(pk=partner.pk).update(country=sign_up.country, data_centre=sign_up.data_centre)
        partner.country, partner.data_centre = sign_up.country, sign_up.data_centre
        with schema_context(partner.schema_name):
            administrator = get_user_model().objects.get(username="admin")
            administrator.password = sign_up.password_hash
            administrator.first_name, administrator.last_name = sign_up.admin_first_name, sign_up.admin_last_name
            administrator.save(update_fields=["password", "first_name", "last_name"])
            audit_record(
                actor=administrator,
                action=AuditAction.PARTNER_SIGN_UP,
                target=partner,
                after={field: getattr(sign_up, field) for field in SIGN_UP_AUDIT_FIELDS},
            )
    if sign_up.invitation is not None:
        _step(sign_up, SignUpStep.INVITATION)
        reseller_invitation_signed_up(actor=administrator, link=sign_up.invitation, reseller=partner)
    _step(sign_up, SignUpStep.READY, status=SignUpStatus.READY, provisioned_at=timezone.now(), error="")
    return sign_up


def _partner_of(sign_up: PartnerSignUp) -> Partner | None:
    """The partner a redelivered provisioning made before it was interrupted: this slug, this owner,
    created after the sign-up."""
    partner = partner_by_slug(slug=sign_up.slug)
    if partner and partner.owner_email == sign_up.admin_email and partner.created >= sign_up.created:
        return partner
    return None
