"""Writes of users, invitations and roles. Each is atomic and audited; emails leave after commit.

Refusals a user can act on (email already registered, last administrator, role still held) are
`ValidationError`s with a message for the screen; nothing is saved when one is raised.
"""

import re
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import SESSION_KEY, password_validation
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.accounts.choices import ADMINISTRATORS_ROLE_NAME, AccessLevel, PermissionModule, UserKind
from portal.accounts.models import Invitation, Role, User
from portal.accounts.permissions import forget_permissions, user_is_administrator
from portal.accounts.selectors import (
    InvitationProblem,
    administrators_active,
    invitation_problem,
    invitation_token_hash,
)
from portal.accounts.tasks import invitation_email_send
from portal.audit.choices import AuditAction
from portal.audit.services import audit_record, model_snapshot, notification_create
from portal.core.names import name_checked
from portal.core.tasks import enqueue_on_commit
from portal.partners.selectors import partner_current

PROFILE_FIELDS = ("first_name", "last_name", "organisation_name", "phone", "language", "time_zone")
USER_AUDIT_FIELDS = ("email", "kind", "is_active", "roles")
ROLE_AUDIT_FIELDS = ("name", "description", "permissions", "all_customers", "customer_groups")


class InvitationInvalid(Exception):
    """The invitation link cannot be used; `problem` is an InvitationProblem saying why."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


def user_profile_update(*, actor: User, user: User, changes: dict) -> User:
    """Save the editable profile fields. Users edit only their own profile (the view passes itself)."""
    with transaction.atomic():
        for field in PROFILE_FIELDS:
            if field in changes:
                setattr(user, field, changes[field])
        user.save(update_fields=[field for field in PROFILE_FIELDS if field in changes])
    return user


def user_preference_set(*, user: User, key: str, value) -> User:
    """Remember a screen preference (for example the columns chosen in "Manage columns")."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.preferences = {**locked.preferences, key: value}
        locked.save(update_fields=["preferences"])
    user.preferences = locked.preferences
    return user


# --- Invitations ----------------------------------------------------------------------------------


def username_from_email(email: str) -> str:
    local = re.sub(r"[^\w.@+-]", "", email.split("@")[0].lower()) or "user"
    base = local[:140]
    candidate, number = base, 2
    while User.objects.filter(username__iexact=candidate).exists():
        candidate, number = f"{base}{number}", number + 1
    return candidate


def _customer_id_for_audit(customers: Iterable) -> int | None:
    """A customer tenant admin's events belong to their customer, when there is exactly one."""
    ids = [customer.pk for customer in customers]
    return ids[0] if len(ids) == 1 else None


def _invitation_issue(*, actor: User | None, user: User) -> Invitation:
    """A new link for `user`. Only the token's hash is stored; the token itself travels once, in the
    email task's message, and then only in the email."""
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        user=user, invited_by=actor if isinstance(actor, User) else None, token_hash=invitation_token_hash(token)
    )
    enqueue_on_commit(invitation_email_send, invitation_id=invitation.pk, token=token)
    return invitation


def _check_role_grant(*, actor: User, user_kind: str, roles: Iterable[Role]) -> None:
    for role in roles:
        if not role.is_builtin:
            continue
        if user_kind == UserKind.CUSTOMER_ADMIN:
            raise ValidationError(_("A customer tenant admin cannot be an administrator of the partner."))
        if not user_is_administrator(actor):
            raise ValidationError(_("Only an administrator can grant the Administrators role."))


def user_invite(
    *,
    actor: User,
    email: str,
    kind: str = UserKind.PARTNER,
    roles: Iterable[Role] = (),
    customers: Iterable = (),
    first_name: str = "",
    last_name: str = "",
) -> Invitation:
    """Create an active user with no password yet and email them a link to choose one.

    A partner user gets roles; a customer tenant admin gets a role and the customers they manage.
    An email that already has an account is refused: people are invited once, then managed.
    """
    email = email.strip().lower()
    roles = list(roles)
    customers = list(customers) if kind == UserKind.CUSTOMER_ADMIN else []
    if kind == UserKind.CUSTOMER_ADMIN and not customers:
        raise ValidationError({"customers": _("Choose at least one customer this admin manages.")})
    _check_role_grant(actor=actor, user_kind=kind, roles=roles)
    taken = ValidationError(
        {"email": _("%(email)s already has an account here. Find the user in the list instead.") % {"email": email}},
        code="email_taken",
    )
    if User.objects.filter(email__iexact=email).exists():
        raise taken
    partner = partner_current()
    try:
        with transaction.atomic():
            user = User(
                username=username_from_email(email),
                email=email,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                kind=kind,
                is_active=True,
                # the partner's defaults until the person chooses in My profile; the invitation email uses them
                language=partner.default_language if partner else settings.LANGUAGE_CODE,
                time_zone=partner.default_time_zone if partner else settings.TIME_ZONE,
            )
            user.set_unusable_password()
            user.save()
            user.roles.set(roles)
            if customers:
                user.customers.set(customers)
            invitation = _invitation_issue(actor=actor, user=user)
            after = model_snapshot(user, USER_AUDIT_FIELDS)
            if customers:
                after["customers"] = sorted(str(customer.pk) for customer in customers)
            audit_record(
                actor=actor,
                action=AuditAction.USER_INVITE,
                target=user,
                customer_id=_customer_id_for_audit(customers),
                after=after,
            )
    except IntegrityError as error:  # the same email invited twice at the same moment
        raise taken from error
    return invitation


def invitation_resend(*, actor: User, user: User) -> Invitation:
    """A fresh link with a fresh expiry; the links sent before stop working."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            raise ValidationError(_("Reactivate the user before sending a new invitation."))
        if user.last_login is not None:
            raise ValidationError(_("This user has already signed in; there is no invitation to resend."))
        user.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True).update(revoked_at=timezone.now())
        invitation = _invitation_issue(actor=actor, user=user)
        audit_record(actor=actor, action=AuditAction.USER_INVITATION_RESEND, target=user)
    return invitation


def invitation_revoke(*, actor: User, user: User) -> bool:
    """Withdraw a pending invitation. A user who never signed in is removed altogether (so the email
    can be invited again); one who signed in some other way keeps their account. Returns whether the
    user was removed."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        pending = user.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True)
        if not pending.exists():
            raise ValidationError(_("This user has no pending invitation."))
        audit_record(actor=actor, action=AuditAction.USER_INVITATION_REVOKE, target=user, before={"email": user.email})
        if user.last_login is None:
            user.delete()
            return True
        pending.update(revoked_at=timezone.now())
    return False


def invitation_accept(*, token: str, password: str) -> User:
    """The invited user chose their password: the link is used up, the inviter is told.

    Raises InvitationInvalid for a link that no longer works, ValidationError for a weak password.
    """
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("user", "invited_by")
            .filter(token_hash=invitation_token_hash(token))
            .first()
        )
        problem = invitation_problem(invitation)
        if problem is not None or invitation is None:
            raise InvitationInvalid(problem or InvitationProblem.UNKNOWN)
        user = invitation.user
        password_validation.validate_password(password, user)
        user.set_password(password)
        user.save(update_fields=["password"])
        _invitation_used(invitation)
    return user


def invitation_accept_with_microsoft(*, invitation_id: int, account) -> User:
    """The invited person accepted with their Microsoft account (a verified ``SignedInUser``): the
    account is linked to the invited user, who keeps no password. The invitation link is the proof
    that this person is the one invited; the account's email claim plays no part.

    Raises InvitationInvalid for a link that no longer works, ValidationError when the Microsoft
    account is already linked to someone else.
    """
    from portal.authentication.services import microsoft_identity_link_for_invitation

    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("user", "invited_by")
            .filter(pk=invitation_id)
            .first()
        )
        problem = invitation_problem(invitation)
        if problem is not None or invitation is None:
            raise InvitationInvalid(problem or InvitationProblem.UNKNOWN)
        user = invitation.user
        microsoft_identity_link_for_invitation(user=user, account=account)
        _invitation_used(invitation, method="microsoft")
    return user


def _invitation_used(invitation: Invitation, *, method: str = "password") -> None:
    user = invitation.user
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit_record(
        actor=user,
        action=AuditAction.USER_INVITATION_ACCEPT,
        target=user,
        after={"method": method} if method != "password" else None,
    )
    inviter = invitation.invited_by
    if inviter is not None:
        notification_create(
            recipients=[inviter],
            title=lambda: _("%(email)s accepted your invitation") % {"email": user.email},
            url=reverse("settings:user_detail", kwargs={"pk": user.pk}),
        )


# --- Users: roles, customers, activation ----------------------------------------------------------


def _lock_administrators() -> None:
    """Serialise changes that could leave the partner without an administrator."""
    Role.objects.select_for_update().filter(name=ADMINISTRATORS_ROLE_NAME, is_builtin=True).first()


def _is_last_administrator(user: User) -> bool:
    admins = administrators_active()
    return admins.filter(pk=user.pk).exists() and not admins.exclude(pk=user.pk).exists()


def user_role_add(*, actor: User, user: User, role: Role) -> User:
    with transaction.atomic():
        _check_role_grant(actor=actor, user_kind=user.kind, roles=[role])
        if user.roles.filter(pk=role.pk).exists():
            return user
        before = model_snapshot(user, ["roles"])
        user.roles.add(role)
        audit_record(
            actor=actor,
            action=AuditAction.USER_ROLE_ADD,
            target=user,
            before=before,
            after=model_snapshot(user, ["roles"]),
            message=role.name,
        )
    forget_permissions(user)
    return user


def user_role_remove(*, actor: User, user: User, role: Role) -> User:
    with transaction.atomic():
        if role.is_builtin:
            if not user_is_administrator(actor):
                raise ValidationError(_("Only an administrator can take away the Administrators role."))
            _lock_administrators()
            if not user.is_superuser and _is_last_administrator(user):
                raise ValidationError(
                    _("%(user)s is the last active administrator. Make someone else an administrator first.")
                    % {"user": user}
                )
        if not user.roles.filter(pk=role.pk).exists():
            return user
        before = model_snapshot(user, ["roles"])
        user.roles.remove(role)
        audit_record(
            actor=actor,
            action=AuditAction.USER_ROLE_REMOVE,
            target=user,
            before=before,
            after=model_snapshot(user, ["roles"]),
            message=role.name,
        )
    forget_permissions(user)
    return user


def user_customers_set(*, actor: User, user: User, customers: Iterable) -> User:
    """Which customers a customer tenant admin manages."""
    customers = list(customers)
    if user.kind != UserKind.CUSTOMER_ADMIN:
        raise ValidationError(_("Only customer tenant admins are bound to customers."))
    if not customers:
        raise ValidationError({"customers": _("Choose at least one customer this admin manages.")})
    with transaction.atomic():
        before = {"customers": sorted(str(pk) for pk in user.customers.values_list("pk", flat=True))}
        user.customers.set(customers)
        audit_record(
            actor=actor,
            action=AuditAction.USER_CUSTOMERS_SET,
            target=user,
            customer_id=_customer_id_for_audit(customers),
            before=before,
            after={"customers": sorted(str(customer.pk) for customer in customers)},
        )
    return user


def _sessions_end(user: User) -> int:
    """Delete the user's sessions in this partner's schema (sessions are signed, not indexed by user)."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get(SESSION_KEY) == str(user.pk):
            session.delete()
            ended += 1
    return ended


def user_deactivate(*, actor: User, user: User) -> User:
    """The user can no longer sign in, and is signed out everywhere now. Their history stays."""
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot deactivate yourself."))
    with transaction.atomic():
        _lock_administrators()
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            return user
        if _is_last_administrator(user):
            raise ValidationError(
                _("%(user)s is the last active administrator and cannot be deactivated.") % {"user": user}
            )
        user.is_active = False
        user.save(update_fields=["is_active"])
        ended = _sessions_end(user)
        audit_record(
            actor=actor,
            action=AuditAction.USER_DEACTIVATE,
            target=user,
            before={"is_active": True},
            after={"is_active": False},
            message=_("%(count)d session(s) ended") % {"count": ended},
        )
    return user


def user_reactivate(*, actor: User, user: User) -> User:
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_active:
            return user
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action=AuditAction.USER_REACTIVATE,
            target=user,
            before={"is_active": False},
            after={"is_active": True},
        )
    return user


# --- Roles ----------------------------------------------------------------------------------------


def _permissions_clean(permissions: dict) -> dict[str, int]:
    """Every module with a valid level; anything unknown is dropped, anything missing is no access."""
    cleaned = {}
    for module in PermissionModule.values:
        level = int(permissions.get(module, AccessLevel.NONE) or 0)
        cleaned[module] = level if level in AccessLevel.values else int(AccessLevel.NONE)
    return cleaned


def _role_name_check(name: str, *, exclude_pk: int | None = None) -> str:
    """Normalised, free of invisible and control characters, and unlike every other role's name
    (a look-alike of "Administrators" would pass for the built-in role)."""
    if not name.strip():
        raise ValidationError({"name": _("Give the role a name.")})
    return name_checked(
        name,
        queryset=Role.objects.all(),
        exclude_pk=exclude_pk,
        max_length=Role._meta.get_field("name").max_length,
        duplicate_message=_("A role called %(name)s already exists."),
    )


def role_create(
    *,
    actor: User,
    name: str,
    description: str = "",
    permissions: dict,
    all_customers: bool,
    customer_groups: Iterable = (),
) -> Role:
    """A custom role: a level per module, and the customers it covers (all, or some groups)."""
    with transaction.atomic():
        role = Role.objects.create(
            name=_role_name_check(name),
            description=description.strip(),
            permissions=_permissions_clean(permissions),
            all_customers=all_customers,
        )
        role.customer_groups.set([] if all_customers else list(customer_groups))
        audit_record(
            actor=actor, action=AuditAction.ROLE_CREATE, target=role, after=model_snapshot(role, ROLE_AUDIT_FIELDS)
        )
    return role


def role_update(
    *,
    actor: User,
    role: Role,
    name: str,
    description: str = "",
    permissions: dict,
    all_customers: bool,
    customer_groups: Iterable = (),
) -> Role:
    if role.is_builtin:
        raise ValidationError(_("The built-in %(name)s role cannot be changed.") % {"name": role.name})
    with transaction.atomic():
        role = Role.objects.select_for_update().get(pk=role.pk)
        before = model_snapshot(role, ROLE_AUDIT_FIELDS)
        role.name = _role_name_check(name, exclude_pk=role.pk)
        role.description = description.strip()
        role.permissions = _permissions_clean(permissions)
        role.all_customers = all_customers
        role.save(update_fields=["name", "description", "permissions", "all_customers"])
        role.customer_groups.set([] if all_customers else list(customer_groups))
        audit_record(
            actor=actor,
            action=AuditAction.ROLE_UPDATE,
            target=role,
            before=before,
            after=model_snapshot(role, ROLE_AUDIT_FIELDS),
        )
    return role


def role_delete(*, actor: User, role: Role) -> None:
    """Only an unused custom role can go: taking permissions from people is done user by user."""
    if role.is_builtin:
        raise ValidationError(_("The built-in %(name)s role cannot be deleted.") % {"name": role.name})
    with transaction.atomic():
        role = Role.objects.select_for_update().get(pk=role.pk)
        holders = role.users.count()
        if holders:
            raise ValidationError(
                _("%(count)d user(s) hold the role %(name)s. Remove it from them first.")
                % {"count": holders, "name": role.name}
            )
        audit_record(
            actor=actor, action=AuditAction.ROLE_DELETE, target=role, before=model_snapshot(role, ROLE_AUDIT_FIELDS)
        )
        role.delete()
