"""Shared constants and helpers of the customers tests."""

from django.test import Client

from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.accounts.models import Role
from tests.factories import UserFactory
from tests.support import PASSWORD, signed_in_client

CONTOSO = "67a08685-ba70-4922-ae8b-802ff5c44282"
FABRIKAM = "d110a146-8491-4109-9dce-4139f88ec90a"
NORTHWIND = "48ae22e9-4381-4526-95c4-8fb8bcdb2ec7"
PUBLIC_HOST = "console.test"
CALLBACK_URL = f"http://{PUBLIC_HOST}/microsoft/callback/"


def make_user(*, username: str, level: int = AccessLevel.MANAGE, groups=(), kind: str = UserKind.PARTNER, customers=()):
    """A user in the active schema with one role granting `level` on customers, covering `groups`."""
    role = Role.objects.create(name=f"{username} role", permissions={PermissionModule.CUSTOMERS: int(level)})
    for group in groups:
        group.roles.add(role)
    user = UserFactory(username=username, email=f"{username}@alpha.example", kind=kind)
    user.roles.add(role)
    for customer in customers:
        customer.admin_users.add(user)
    return user


def client_for(partner, username: str) -> Client:
    return signed_in_client(partner, username=username, password=PASSWORD)
