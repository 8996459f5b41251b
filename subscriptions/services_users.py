"""Users of a customer tenant and their licences, for marketplaces that manage users.

Users are synced both ways with the marketplace: a sync pulls the users and what each is subscribed to;
creating a user or assigning a licence goes to the marketplace first and the answer is mirrored here,
with the subscription read again so its available and consumed counts are the marketplace's. Calls to
the marketplace happen outside database transactions; each outcome is recorded atomically and audited.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import CustomerTenant
from marketplace.models import MarketplaceAccount, TenantConnection
from marketplace.providers.base import ProviderError
from marketplace.providers.registry import UnknownMarketplace, provider_class
from orders.placement import subscription_upsert
from portal.accounts.types import Actor
from portal.audit.choices import AuditAction, AuditResult
from portal.audit.services import audit_record
from subscriptions.models import LicenseAssignment, Subscription, TenantUser

USER_METHODS = ("list_tenant_users", "create_tenant_user", "assign_license", "unassign_license")


class UsersRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def users_supported(slug: str) -> bool:
    """The marketplace's provider manages tenant users and licence assignment (Cloudmore)."""
    try:
        cls = provider_class(slug)
    except UnknownMarketplace:
        return False
    return all(callable(getattr(cls, name, None)) for name in USER_METHODS)


def users_connection(*, customer_tenant: CustomerTenant) -> TenantConnection | None:
    """The tenant's connection to a marketplace that manages its users, if any."""
    for connection in customer_tenant.marketplace_connections.filter(account__isnull=False).select_related("account"):
        if connection.account is not None and users_supported(connection.account.marketplace):
            return connection
    return None


def tenant_users_provider(account):
    """The provider for an account's user calls (one place, so tests can hand in a simulator)."""
    from marketplace.connections import provider_for_account

    return provider_for_account(account)


def password_problem(password: str, *, user_name: str, full_name: str) -> str:
    """Cloudmore's password rules for a new user: at least 8 characters; upper and lower case, digits and
    non-word characters; no part of the user name or of the full name. "" when the password is acceptable."""
    if len(password) < 8:
        return _("The password needs at least 8 characters.")
    if not (
        re.search(r"[A-Z]", password)
        and re.search(r"[a-z]", password)
        and re.search(r"\d", password)
        and re.search(r"[^\w]", password)
    ):
        return _("The password needs uppercase and lowercase letters, numbers and a non-word character.")
    lowered = password.lower()
    parts = [user_name.split("@")[0], *full_name.split()]
    if any(len(part) >= 3 and part.lower() in lowered for part in parts):
        return _("The password cannot contain parts of the user name or of the user's full name.")
    return ""


def _require_connection(customer_tenant: CustomerTenant) -> tuple[TenantConnection, MarketplaceAccount]:
    """The tenant's connection to the marketplace that manages its users, with that marketplace account; one
    refusal for a tenant without either."""
    connection = users_connection(customer_tenant=customer_tenant)
    if connection is None or connection.account is None:
        raise UsersRefused(_("This tenant is not connected to a marketplace that manages its users."))
    return connection, connection.account


def _subscriptions_by_marketplace_id(connection: TenantConnection) -> dict[str, Subscription]:
    """The tenant's subscriptions at the account, by the marketplace's own subscription id (without prefixes)."""
    return {
        subscription.external_id.split(":")[-1]: subscription
        for subscription in Subscription.objects.filter(
            customer_tenant_id=connection.customer_tenant_id, account_id=connection.account_id
        )
    }


def _mirror_user(connection: TenantConnection, record, subscriptions: dict[str, Subscription]) -> TenantUser:
    user, _created = TenantUser.objects.update_or_create(
        account_id=connection.account_id,
        external_id=record.external_id,
        defaults={
            "customer_tenant_id": connection.customer_tenant_id,
            "user_name": record.user_name[:254],
            "display_name": record.display_name[:255],
            "email": (record.email or "")[:254],
            "is_admin": record.is_admin,
            "synced_at": timezone.now(),
        },
    )
    wanted = {subscriptions[sid].pk for sid in record.subscription_ids if sid in subscriptions}
    have = set(user.assignments.values_list("subscription_id", flat=True))
    user.assignments.filter(subscription_id__in=have - wanted).delete()
    LicenseAssignment.objects.bulk_create(
        [LicenseAssignment(user=user, subscription_id=pk) for pk in wanted - have], ignore_conflicts=True
    )
    return user


def _refresh_subscriptions(
    connection: TenantConnection, account: MarketplaceAccount, provider, external_ids: Iterable[str]
) -> None:
    """Read the subscriptions again so their consumed counts are the marketplace's."""
    for external_id in set(external_ids):
        try:
            record = provider.get_subscription(subscription_external_id=external_id)
        except ProviderError:
            continue  # the next sync shows it
        subscription_upsert(account=account, customer_tenant_id=connection.customer_tenant_id, record=record)


@dataclass
class UsersSyncResult:
    users: int = 0
    removed: int = 0


def tenant_users_sync(*, actor: Actor, customer_tenant: CustomerTenant) -> UsersSyncResult:
    """Pull the tenant's users and their licences from the marketplace (users created there show here)."""
    connection, account = _require_connection(customer_tenant)
    provider = tenant_users_provider(account)
    try:
        records = provider.list_tenant_users(customer_external_id=connection.external_customer_id)
        subscription_records = list(provider.list_subscriptions(customer_external_id=connection.external_customer_id))
    except ProviderError as error:
        raise UsersRefused(error.message) from error
    finally:
        provider.close()
    with transaction.atomic():
        for record in subscription_records:
            subscription_upsert(account=account, customer_tenant_id=customer_tenant.pk, record=record)
        subscriptions = _subscriptions_by_marketplace_id(connection)
        kept = [_mirror_user(connection, record, subscriptions).pk for record in records]
        removed, _detail = (
            TenantUser.objects.filter(customer_tenant=customer_tenant, account_id=connection.account_id)
            .exclude(pk__in=kept)
            .delete()
        )
        audit_record(
            actor=actor,
            action=AuditAction.TENANT_USERS_SYNC,
            target=customer_tenant,
            customer_id=customer_tenant.customer_id,
            after={"users": len(kept)},
        )
    return UsersSyncResult(users=len(kept), removed=removed)


def directory_exchange_supported(connection: TenantConnection) -> bool:
    """The marketplace keeps its own user directory to import users from and export them to (Cloudmore)."""
    if connection.account is None:
        return False
    cls = provider_class(connection.account.marketplace)
    return callable(getattr(cls, "import_directory_users", None)) and callable(
        getattr(cls, "export_tenant_users", None)
    )


def tenant_users_exchange(*, actor: Actor, customer_tenant: CustomerTenant, direction: str, recipient: str) -> int:
    """User import (the marketplace's directory -> Microsoft 365 users) or export (Microsoft 365 users -> the
    directory); the marketplace emails the new passwords to `recipient`. Then the users are synced."""
    connection, account = _require_connection(customer_tenant)
    if direction not in ("import", "export") or not directory_exchange_supported(connection):
        raise UsersRefused(_("This marketplace keeps no user directory to import from or export to."))
    provider = tenant_users_provider(account)
    try:
        if direction == "import":
            created = provider.import_directory_users(
                customer_external_id=connection.external_customer_id, password_recipient=recipient
            )
        else:
            created = provider.export_tenant_users(
                customer_external_id=connection.external_customer_id, password_recipient=recipient
            )
    except ProviderError as error:
        raise UsersRefused(error.message) from error
    finally:
        provider.close()
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.TENANT_USERS_IMPORT if direction == "import" else AuditAction.TENANT_USERS_EXPORT,
            target=customer_tenant,
            customer_id=customer_tenant.customer_id,
            after={"users": [record.user_name for record in created], "passwords_sent_to": recipient},
        )
    if direction == "import":
        tenant_users_sync(actor=actor, customer_tenant=customer_tenant)
    return len(created)


def tenant_user_create(
    *,
    actor: Actor,
    customer_tenant: CustomerTenant,
    user_name: str,
    first_name: str,
    last_name: str,
    email: str,
    password: str | None = None,
    is_admin: bool = False,
) -> TenantUser:
    """Create a Microsoft 365 user at the marketplace: with a generated password emailed to `email`, or with
    `password` (checked against the rules first)."""
    connection, account = _require_connection(customer_tenant)
    if password is not None:
        problem = password_problem(password, user_name=user_name, full_name=f"{first_name} {last_name}")
        if problem:
            raise UsersRefused(problem)
    provider = tenant_users_provider(account)
    try:
        record = provider.create_tenant_user(
            customer_external_id=connection.external_customer_id,
            user_name=user_name.strip(),
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            email=email.strip(),
            is_admin=is_admin,
            password=password,
        )
    except ProviderError as error:
        raise UsersRefused(error.message) from error
    finally:
        provider.close()
    with transaction.atomic():
        user = _mirror_user(connection, record, _subscriptions_by_marketplace_id(connection))
        audit_record(
            actor=actor,
            action=AuditAction.TENANT_USER_CREATE,
            target=user,
            customer_id=customer_tenant.customer_id,
            after={
                "user_name": user.user_name,
                "email": user.email,
                "is_admin": user.is_admin,
                "password": "generated and emailed" if password is None else "set by the creator",
            },
        )
    return user


@dataclass
class AssignResult:
    done: list[TenantUser] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # user name -> the marketplace's reason


def _assignment_change(
    *,
    actor: Actor,
    customer_tenant: CustomerTenant,
    users: Iterable[TenantUser],
    subscription: Subscription,
    assign: bool,
) -> AssignResult:
    connection, account = _require_connection(customer_tenant)
    if subscription.customer_tenant_id != customer_tenant.pk or subscription.account_id != connection.account_id:
        raise UsersRefused(_("That subscription is not one of this tenant's at its marketplace."))
    users = [user for user in users if user.customer_tenant_id == customer_tenant.pk]
    if not users:
        raise UsersRefused(_("Choose at least one user."))
    result = AssignResult()
    provider = tenant_users_provider(account)
    try:
        for user in users:
            call = provider.assign_license if assign else provider.unassign_license
            try:
                record = call(
                    customer_external_id=connection.external_customer_id,
                    user_external_id=user.external_id,
                    subscription_external_id=subscription.external_id,
                )
            except ProviderError as error:
                result.failed[user.user_name] = error.message
                continue
            with transaction.atomic():
                _mirror_user(connection, record, _subscriptions_by_marketplace_id(connection))
                audit_record(
                    actor=actor,
                    action=AuditAction.TENANT_USER_LICENSE_ASSIGN
                    if assign
                    else AuditAction.TENANT_USER_LICENSE_UNASSIGN,
                    target=user,
                    customer_id=customer_tenant.customer_id,
                    after={"subscription": subscription.name, "assigned": assign},
                )
            result.done.append(user)
        with transaction.atomic():
            _refresh_subscriptions(connection, account, provider, [subscription.external_id])
            if result.failed:
                audit_record(
                    actor=actor,
                    action=AuditAction.TENANT_USER_LICENSE_ASSIGN
                    if assign
                    else AuditAction.TENANT_USER_LICENSE_UNASSIGN,
                    target=subscription,
                    customer_id=customer_tenant.customer_id,
                    result=AuditResult.FAILURE,
                    message="; ".join(f"{name}: {reason}" for name, reason in result.failed.items()),
                )
    finally:
        provider.close()
    return result


def licenses_assign(
    *, actor: Actor, customer_tenant: CustomerTenant, users: Iterable[TenantUser], subscription: Subscription
) -> AssignResult:
    """Subscribe users to a subscription, one by one or in bulk; each user that cannot be (no seat left)
    is reported with the marketplace's reason while the others go on."""
    return _assignment_change(
        actor=actor, customer_tenant=customer_tenant, users=users, subscription=subscription, assign=True
    )


def licenses_unassign(
    *, actor: Actor, customer_tenant: CustomerTenant, users: Iterable[TenantUser], subscription: Subscription
) -> AssignResult:
    return _assignment_change(
        actor=actor, customer_tenant=customer_tenant, users=users, subscription=subscription, assign=False
    )
