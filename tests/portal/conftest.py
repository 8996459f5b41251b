"""Fixtures of the Settings screens' tests: users with roles in alpha, signed in."""

import re

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from customers.models import Customer, CustomerGroup
from portal.accounts.choices import ADMINISTRATORS_ROLE_NAME, AccessLevel, PermissionModule, UserKind
from portal.accounts.models import Role
from tests.factories import UserFactory
from tests.support import signed_in_client

INVITATION_LINK = re.compile(r"https?://[^/\s]+(/accounts/invitation/[^/\s]+/)")


def invitation_path_from_mail(message) -> str:
    match = INVITATION_LINK.search(message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture
def make_user(partner_alpha):
    """A user in alpha with the given roles (and customers, for a customer tenant admin)."""

    def make(username: str, *, roles=(), kind=UserKind.PARTNER, customers=(), **fields):
        with schema_context(partner_alpha.schema_name):
            user = UserFactory(username=username, kind=kind, **fields)
            user.roles.set(roles)
            if customers:
                user.customers.set(customers)
            return user

    return make


@pytest.fixture
def make_role(partner_alpha):
    def make(name: str, *, groups=(), all_customers=False, **levels):
        with schema_context(partner_alpha.schema_name):
            role = Role.objects.create(
                name=name,
                permissions={module: int(levels.get(module, AccessLevel.NONE)) for module in PermissionModule.values},
                all_customers=all_customers,
            )
            role.customer_groups.set(groups)
            return role

    return make


@pytest.fixture
def administrators_role(partner_alpha) -> Role:
    with schema_context(partner_alpha.schema_name):
        return Role.objects.get(name=ADMINISTRATORS_ROLE_NAME, is_builtin=True)


@pytest.fixture
def alpha_admin(partner_alpha):
    with schema_context(partner_alpha.schema_name):
        return get_user_model().objects.get(username="admin")


@pytest.fixture
def customers_abc(partner_alpha) -> dict[str, Customer]:
    """Three customers; "Key accounts" holds Acme and Bolt."""
    with schema_context(partner_alpha.schema_name):
        customers = {name: Customer.objects.create(name=name) for name in ("Acme", "Bolt", "Crane")}
        group = CustomerGroup.objects.create(name="Key accounts")
        group.customers.set([customers["Acme"], customers["Bolt"]])
        return customers


@pytest.fixture
def key_accounts(partner_alpha, customers_abc) -> CustomerGroup:
    with schema_context(partner_alpha.schema_name):
        return CustomerGroup.objects.get(name="Key accounts")


@pytest.fixture
def client_of(partner_alpha):
    def client(user):
        return signed_in_client(partner_alpha, user.username)

    return client
