"""Factories of the portal's accounts (users). They write to whichever schema is active."""

import factory
from django.contrib.auth import get_user_model

from tests.support import PASSWORD


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)


def user_with(
    username: str,
    levels: dict[str, int],
    *,
    kind: str = "",
    customers=(),
    groups=(),
    all_customers: bool = True,
    **fields,
):
    """A user with one role of `levels` ({module: access level}); a customer tenant admin (`kind`) is bound
    to `customers` and its role covers no others; `groups` are customer groups the role covers."""
    from portal.accounts.choices import UserKind
    from portal.accounts.models import Role

    kind = kind or UserKind.PARTNER
    role = Role.objects.create(
        name=f"{username} role",
        permissions={module: int(level) for module, level in levels.items()},
        all_customers=all_customers and kind == UserKind.PARTNER,
    )
    for group in groups:
        group.roles.add(role)
    user = UserFactory(username=username, kind=kind, **fields)
    user.roles.add(role)
    if customers:
        user.customers.add(*customers)
    return user
