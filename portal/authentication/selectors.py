"""Reads of sign-in settings and linked Microsoft identities (the partner is the active schema)."""

from django.db.models import Q, QuerySet

from portal.accounts.models import User
from portal.authentication.models import AuthenticationSettings, MicrosoftIdentity, TrustedDirectory


def authentication_settings_get() -> AuthenticationSettings:
    """This partner's settings; the row is created with both methods on the first time anyone asks."""
    settings, _created = AuthenticationSettings.objects.get_or_create(singleton=1)
    return settings


def microsoft_identity_of(*, user: User) -> MicrosoftIdentity | None:
    if user is None or not user.is_authenticated:
        return None
    return MicrosoftIdentity.objects.filter(user=user).first()


def microsoft_identity_find(*, tid: str, oid: str) -> MicrosoftIdentity | None:
    return MicrosoftIdentity.objects.select_related("user").filter(tid=tid, oid=oid).first()


def user_for_sign_in_identifier(*, identifier: str) -> User | None:
    """The user a typed username or email names (case-insensitive), as the sign-in backend reads it."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    lookup = Q(email__iexact=identifier) if "@" in identifier else Q(username__iexact=identifier)
    return User.objects.filter(lookup).first()


def trusted_directories() -> QuerySet[TrustedDirectory]:
    return TrustedDirectory.objects.select_related("added_by").order_by("name", "tid")


def trusted_directory_find(*, tid: str) -> TrustedDirectory | None:
    return TrustedDirectory.objects.filter(tid=(tid or "").lower()).first()


def user_for_trusted_directory_account(*, username: str) -> User | None:
    """The user whose email is the sign-in name of an account of a trusted directory (never its email claim)."""
    username = (username or "").strip()
    if "@" not in username:
        return None
    return User.objects.filter(email__iexact=username).order_by("-is_active", "pk").first()
