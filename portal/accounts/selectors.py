"""Reads of users, invitations and roles for the Settings screens.

Users live in the partner's schema, so "all users" already means this partner's users. The
status of a user (active, invited, invitation expired, deactivated) is computed in SQL, so the
users list can filter and sort on it.
"""

import hashlib

from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.db.models import CharField as CharFieldType
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import CustomerGroup
from portal.accounts.choices import ADMINISTRATORS_ROLE_NAME, UserKind
from portal.accounts.models import Invitation, Role, User


class UserStatus:
    ACTIVE = "active"
    INVITED = "invited"
    INVITATION_EXPIRED = "invitation_expired"
    DEACTIVATED = "deactivated"

    choices = (
        (ACTIVE, _("Active")),
        (INVITED, _("Invited")),
        (INVITATION_EXPIRED, _("Invitation expired")),
        (DEACTIVATED, _("Deactivated")),
    )


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _pending_invitations():
    """Invitations still waiting to be accepted, of users who never signed in some other way."""
    return Invitation.objects.filter(
        user=OuterRef("pk"), accepted_at__isnull=True, revoked_at__isnull=True, user__last_login__isnull=True
    )


def users_with_status() -> QuerySet:
    """Every user of this partner with `status` (UserStatus) annotated, roles and customers prefetched."""
    now = timezone.now()
    return (
        User.objects.annotate(
            status=Case(
                When(is_active=False, then=Value(UserStatus.DEACTIVATED)),
                When(Exists(_pending_invitations().filter(expires_at__gt=now)), then=Value(UserStatus.INVITED)),
                When(Exists(_pending_invitations()), then=Value(UserStatus.INVITATION_EXPIRED)),
                default=Value(UserStatus.ACTIVE),
                output_field=CharFieldType(),
            )
        )
        .prefetch_related("roles", "customers")
        .order_by("username")
    )


def user_status(*, user) -> str:
    return users_with_status().values_list("status", flat=True).get(pk=user.pk)


def user_pending_invitation(*, user) -> Invitation | None:
    """The invitation whose link currently works (or last worked, if it expired), if any."""
    if user.last_login is not None:
        return None
    return user.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True).order_by("-created").first()


def invitation_by_token(*, token: str) -> Invitation | None:
    """The invitation a link names, whatever its state (the page says why a link no longer works)."""
    if not token:
        return None
    return (
        Invitation.objects.select_related("user", "invited_by").filter(token_hash=invitation_token_hash(token)).first()
    )


def administrators_active() -> QuerySet:
    """Users who can sign in and administer: active, not waiting on an invitation, superuser or in
    the built-in Administrators role."""
    return (
        User.objects.filter(is_active=True, kind=UserKind.PARTNER)
        .filter(Q(is_superuser=True) | Q(roles__name=ADMINISTRATORS_ROLE_NAME, roles__is_builtin=True))
        .exclude(password__startswith="!", last_login__isnull=True)
        .distinct()
    )


def roles_with_user_counts() -> QuerySet[Role]:
    return (
        Role.objects.annotate(
            user_count=Count("users", distinct=True), group_count=Count("customer_groups", distinct=True)
        )
        .prefetch_related("customer_groups")
        .order_by("-is_builtin", "name")
    )


def roles_assignable(*, kind: str = UserKind.PARTNER) -> QuerySet[Role]:
    """Roles a user of that kind may hold: customer tenant admins never hold the built-in role."""
    roles = Role.objects.all()
    if kind == UserKind.CUSTOMER_ADMIN:
        roles = roles.filter(is_builtin=False)
    return roles


def customer_groups_with_counts() -> QuerySet[CustomerGroup]:
    """Customer groups with how many customers and roles each has."""
    return CustomerGroup.objects.annotate(
        customer_count=Count("customers", distinct=True), role_count=Count("roles", distinct=True)
    ).order_by("name")


class InvitationProblem:
    """Why an invitation link no longer works (None when it does)."""

    UNKNOWN = "unknown"
    USED = "used"
    REVOKED = "revoked"
    EXPIRED = "expired"
    DEACTIVATED = "deactivated"


def invitation_problem(invitation: Invitation | None) -> str | None:
    if invitation is None:
        return InvitationProblem.UNKNOWN
    if invitation.accepted_at is not None:
        return InvitationProblem.USED
    if invitation.revoked_at is not None:
        return InvitationProblem.REVOKED
    if not invitation.user.is_active:
        return InvitationProblem.DEACTIVATED
    if invitation.is_expired:
        return InvitationProblem.EXPIRED
    return None
