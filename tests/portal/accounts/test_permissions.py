from portal.accounts.choices import ADMINISTRATORS_ROLE_NAME, AccessLevel, PermissionModule, UserKind
from portal.accounts.models import Role
from portal.accounts.permissions import (
    user_has_permission,
    user_is_administrator,
    user_sees_all_customers,
    user_sees_cost_prices,
)
from tests.factories import UserFactory


def test_a_customer_tenant_admin_is_never_an_administrator_whatever_their_roles(in_alpha):
    administrators = Role.objects.get(name=ADMINISTRATORS_ROLE_NAME, is_builtin=True)
    partner_user = UserFactory(username="ops")
    partner_user.roles.add(administrators)
    tenant_admin = UserFactory(username="tenant", kind=UserKind.CUSTOMER_ADMIN)
    tenant_admin.roles.add(administrators)

    assert user_is_administrator(partner_user)
    assert not user_is_administrator(tenant_admin)
    # the ceiling caps even the built-in role
    assert user_has_permission(tenant_admin, PermissionModule.CUSTOMERS, AccessLevel.MANAGE)
    assert not user_has_permission(tenant_admin, PermissionModule.SETTINGS)
    assert not user_has_permission(tenant_admin, PermissionModule.CATALOG, AccessLevel.MANAGE)
    assert not user_sees_all_customers(tenant_admin)
    assert not user_sees_cost_prices(tenant_admin)
    assert user_sees_cost_prices(partner_user)


def test_levels_are_the_highest_any_role_grants(in_alpha):
    viewer = Role.objects.create(name="Viewer", permissions={PermissionModule.REPORTS: AccessLevel.VIEW})
    manager = Role.objects.create(name="Manager", permissions={PermissionModule.REPORTS: AccessLevel.MANAGE})
    user = UserFactory(username="both")
    user.roles.add(viewer, manager)

    assert user_has_permission(user, PermissionModule.REPORTS, AccessLevel.MANAGE)
    assert not user_has_permission(user, PermissionModule.CUSTOMERS)
    assert not user_sees_all_customers(user)
