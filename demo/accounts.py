"""Demo users and roles: a support desk scoped to key accounts, and a customer tenant admin.

Runs after demo.customers (DEMO_SEEDERS), but also works when there are no customers yet: the group
and the tenant admin then stay empty and unbound. Idempotent; passwords are reset to the printed ones.
"""

from django.contrib.auth import get_user_model
from django.db import transaction

from customers.models import Customer, CustomerGroup
from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.accounts.models import Role
from portal.authentication.services_mfa import demo_totp_enrol

SUPPORT_EMAIL = "support@demo.example"
SUPPORT_PASSWORD = "demo-support-pass"
TENANT_ADMIN_EMAIL = "tenant.admin@demo.example"
TENANT_ADMIN_PASSWORD = "demo-tenant-pass"
KEY_ACCOUNTS = "Key accounts"
KEY_ACCOUNTS_SIZE = 3


def _role(name: str, description: str, permissions: dict[str, int]) -> Role:
    role = Role.objects.filter(name__iexact=name).first()
    if role is None:
        role = Role.objects.create(name=name, description=description, permissions=permissions)
    return role


def _user(*, username: str, email: str, password: str, kind: str, first_name: str, last_name: str):
    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=email).first()
    if user is None:
        user = user_model(username=username, email=email, first_name=first_name, last_name=last_name, kind=kind)
    user.is_active = True
    user.set_password(password)
    user.save()
    demo_totp_enrol(user=user)  # the demo's published authenticator secret (see demo.seed)
    return user


def seed(partner) -> list[str]:
    with transaction.atomic():
        group = CustomerGroup.objects.filter(name__iexact=KEY_ACCOUNTS).first()
        if group is None:
            group = CustomerGroup.objects.create(
                name=KEY_ACCOUNTS, description="The customers the support desk looks after."
            )
        if not group.customers.exists():
            group.customers.set(Customer.objects.order_by("name", "id")[:KEY_ACCOUNTS_SIZE])

        support_role = _role(
            "Support desk",
            "Sees the key accounts and manages their subscriptions.",
            {
                PermissionModule.CUSTOMERS: int(AccessLevel.VIEW),
                PermissionModule.SUBSCRIPTIONS: int(AccessLevel.MANAGE),
            },
        )
        support_role.customer_groups.add(group)
        tenant_role = _role(
            "Tenant administrators",
            "For customer tenant admins: their customers, subscriptions and the store.",
            {
                PermissionModule.CUSTOMERS: int(AccessLevel.VIEW),
                PermissionModule.SUBSCRIPTIONS: int(AccessLevel.MANAGE),
                PermissionModule.CATALOG: int(AccessLevel.VIEW),
            },
        )

        support = _user(
            username="support",
            email=SUPPORT_EMAIL,
            password=SUPPORT_PASSWORD,
            kind=UserKind.PARTNER,
            first_name="Sam",
            last_name="Support",
        )
        support.roles.add(support_role)

        tenant_admin = _user(
            username="tenant.admin",
            email=TENANT_ADMIN_EMAIL,
            password=TENANT_ADMIN_PASSWORD,
            kind=UserKind.CUSTOMER_ADMIN,
            first_name="Terry",
            last_name="Tenant",
        )
        tenant_admin.roles.add(tenant_role)
        first_customer = Customer.objects.order_by("name", "id").first()
        if first_customer is not None and not tenant_admin.customers.exists():
            tenant_admin.customers.add(first_customer)
        bound = ", ".join(tenant_admin.customers.values_list("name", flat=True)) or "no customer yet"

    return [
        f"  support desk (Key accounts: {group.customers.count()} customers): support (or {SUPPORT_EMAIL}) / "
        f"{SUPPORT_PASSWORD}",
        f"  customer tenant admin ({bound}): tenant.admin (or {TENANT_ADMIN_EMAIL}) / {TENANT_ADMIN_PASSWORD}",
    ]
