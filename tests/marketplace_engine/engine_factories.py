"""Factories and helpers for the marketplace engine tests. They write to the active schema."""

from customers.models import CustomerTenant
from marketplace.models import MarketplaceAccount, TenantConnection
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.models import Role
from tests.factories import UserFactory


def company_id(simulator, name: str) -> str:
    return str(next(company.account_id for company in simulator.companies.values() if company.name == name))


def connect(account: MarketplaceAccount, tenant: CustomerTenant, external_id: str, name: str = "") -> TenantConnection:
    return TenantConnection.objects.create(
        marketplace=account.marketplace,
        customer_tenant=tenant,
        account=account,
        external_customer_id=external_id,
        external_customer_name=name or external_id,
    )


def user_with(username: str, levels: dict[str, int], *, all_customers: bool = True, **user_fields):
    role = Role.objects.create(
        name=f"{username} role",
        permissions={module: int(level) for module, level in levels.items()},
        all_customers=all_customers,
    )
    user = UserFactory(username=username, **user_fields)
    user.roles.add(role)
    return user


MARKETPLACE_VIEW = {PermissionModule.MARKETPLACE: AccessLevel.VIEW}
MARKETPLACE_MANAGE = {PermissionModule.MARKETPLACE: AccessLevel.MANAGE, PermissionModule.CATALOG: AccessLevel.VIEW}


def budget_clear(budget) -> None:
    """Forget an account's request budget in Redis: its tokens and any pause."""
    from marketplace import rate_budget

    rate_budget._redis().delete(budget.key)
