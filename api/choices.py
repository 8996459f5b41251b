from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.accounts.choices import PermissionModule

#: The modules an API token can be given access to: the console's permission modules the API serves.
API_MODULES: tuple[str, ...] = (
    PermissionModule.CUSTOMERS,
    PermissionModule.MARKETPLACE,
    PermissionModule.SUBSCRIPTIONS,
    PermissionModule.REPORTS,
    PermissionModule.RESELLERS,
)


class ApiAccess(models.TextChoices):
    """What a token may do in one module. Write includes read."""

    READ = "read", _("Read")
    WRITE = "write", _("Read and write")


def scope_name(module: str, access: str) -> str:
    """A scope as the token stores it and the API documents it: `subscriptions:write`."""
    return f"{module}:{access}"


def scope_choices() -> list[tuple[str, str]]:
    labels = dict(PermissionModule.choices)
    return [
        (scope_name(module, access), f"{labels[module]}: {access_label}")
        for module in API_MODULES
        for access, access_label in ApiAccess.choices
    ]
