"""Reads of customers, always scoped to what the user may see (portal.accounts.permissions)."""

from django.db.models import Count, Q, QuerySet

from customers.choices import ConsentState
from customers.models import Customer, CustomerGroup, CustomerTenant
from portal.accounts.acting import acting_customer_id
from portal.accounts.choices import UserKind
from portal.accounts.permissions import user_sees_all_customers
from portal.audit.models import AuditEvent
from portal.audit.selectors import audit_events_for_object


def customers_visible_to(*, user) -> QuerySet[Customer]:
    """Every customer the user may see: all, their roles' customer groups, or (customer tenant
    admins) the customers bound to them. Anything else is a 404 for them."""
    if user is None or not user.is_authenticated:
        return Customer.objects.none()
    acting = acting_customer_id(user)
    if acting is not None:  # a partner user who opened this customer's account sees it alone
        return Customer.objects.filter(pk=acting)
    if user.kind == UserKind.CUSTOMER_ADMIN:
        return Customer.objects.filter(admin_users=user)
    if user_sees_all_customers(user):
        return Customer.objects.all()
    return Customer.objects.filter(groups__roles__users=user).distinct()


def customer_tenants_visible_to(*, user) -> QuerySet[CustomerTenant]:
    return CustomerTenant.objects.filter(customer__in=customers_visible_to(user=user))


def customers_for_list(*, user) -> QuerySet[Customer]:
    """The customers screen: visible customers with their tenant counts, ready to filter and sort.

    Scoped through a subquery rather than the scope's joins, so counts are not multiplied by the
    customer groups that make a customer visible.
    """
    return (
        Customer.objects.filter(pk__in=customers_visible_to(user=user).values("pk"))
        .annotate(
            tenant_count=Count("tenants", distinct=True),
            consented_tenant_count=Count(
                "tenants", filter=Q(tenants__consent_state=ConsentState.CONSENTED), distinct=True
            ),
        )
        .prefetch_related("groups")
    )


def customer_groups_visible_to(*, user) -> QuerySet[CustomerGroup]:
    """Groups a user may filter by and assign: all of them, or the groups their roles cover."""
    if user is None or not user.is_authenticated or user.kind == UserKind.CUSTOMER_ADMIN:
        return CustomerGroup.objects.none()
    if user_sees_all_customers(user):
        return CustomerGroup.objects.all()
    return CustomerGroup.objects.filter(roles__users=user).distinct()


def customer_countries(*, customers: QuerySet[Customer]) -> list[str]:
    """The country codes in use, for the country filter (a list of every country helps nobody)."""
    return sorted({code for code in customers.exclude(country="").values_list("country", flat=True)})


def customer_tenants_of(*, customer: Customer) -> QuerySet[CustomerTenant]:
    return CustomerTenant.objects.filter(customer=customer).order_by("primary_domain", "tenant_id")


def customer_audit_events(*, customer: Customer) -> QuerySet[AuditEvent]:
    """The customer's own events and every event about something of the customer (its tenants...)."""
    return (audit_events_for_object(target=customer) | AuditEvent.objects.filter(customer_id=customer.pk)).distinct()


def partner_users_managing(*, customer_id: int, module: str, level: int) -> list:
    """The active partner users with `level` on `module` whose scope covers the customer (who to tell
    about what the customer did itself)."""
    from portal.accounts.models import User
    from portal.accounts.permissions import user_has_permission

    users = User.objects.filter(is_active=True, kind=UserKind.PARTNER).prefetch_related("roles").order_by("pk")
    return [
        user
        for user in users
        if user_has_permission(user, module, level) and customers_visible_to(user=user).filter(pk=customer_id).exists()
    ]
