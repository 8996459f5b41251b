"""Reads of customers, always scoped to what the user may see (portal.accounts.permissions)."""

from django.db.models import QuerySet

from customers.models import Customer, CustomerTenant
from portal.accounts.choices import UserKind
from portal.accounts.permissions import user_sees_all_customers


def customers_visible_to(*, user) -> QuerySet[Customer]:
    """Every customer the user may see: all, their roles' customer groups, or (customer tenant
    admins) the customers bound to them. Anything else is a 404 for them."""
    if user is None or not user.is_authenticated:
        return Customer.objects.none()
    if user.kind == UserKind.CUSTOMER_ADMIN:
        return Customer.objects.filter(admin_users=user)
    if user_sees_all_customers(user):
        return Customer.objects.all()
    return Customer.objects.filter(groups__roles__users=user).distinct()


def customer_tenants_visible_to(*, user) -> QuerySet[CustomerTenant]:
    return CustomerTenant.objects.filter(customer__in=customers_visible_to(user=user))
