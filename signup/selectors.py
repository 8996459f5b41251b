"""Reads of partner sign-ups: the data centre a country implies, open sign-ups, the verification link."""

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from portal.core.signed_links import signed_link_token, signed_link_value
from portal.partners.choices import DataCentre
from signup.choices import OPEN_STATUSES, SignUpStatus
from signup.models import PartnerSignUp

VERIFY_SALT = "signup.verify"


def data_centre_for_country(country: str) -> DataCentre:
    """The data centre nearest to a country/region, from the settings' table."""
    code = settings.PARTNER_DATA_CENTRE_BY_COUNTRY.get((country or "").upper(), settings.PARTNER_DATA_CENTRE_DEFAULT)
    return DataCentre(code)


def sign_ups_open() -> QuerySet[PartnerSignUp]:
    """Sign-ups that hold their organisation name and console address: verified ones until they finish,
    unverified ones while their verification link still works."""
    stale = timezone.now() - timedelta(seconds=settings.PARTNER_SIGN_UP_VERIFY_MAX_AGE)
    return PartnerSignUp.objects.filter(status__in=OPEN_STATUSES).exclude(
        status=SignUpStatus.AWAITING_VERIFICATION, created__lt=stale
    )


def sign_up_by_public_id(public_id) -> PartnerSignUp | None:
    return PartnerSignUp.objects.select_related("partner").filter(public_id=public_id).first()


def sign_up_verify_token(*, sign_up: PartnerSignUp) -> str:
    return signed_link_token(str(sign_up.public_id), salt=VERIFY_SALT)


def sign_up_from_verify_token(*, token: str) -> PartnerSignUp | None:
    """The sign-up an emailed verification link names, while the link works; None otherwise."""
    public_id = signed_link_value(token, salt=VERIFY_SALT, max_age=settings.PARTNER_SIGN_UP_VERIFY_MAX_AGE)
    return sign_up_by_public_id(public_id) if public_id else None
