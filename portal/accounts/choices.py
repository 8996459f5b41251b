from django.db import models
from django.utils.translation import gettext_lazy as _


class PermissionModule(models.TextChoices):
    """The console's modules a role grants access to."""

    CUSTOMERS = "customers", _("Customers")
    MARKETPLACE = "marketplace", _("Marketplace")
    SUBSCRIPTIONS = "subscriptions", _("Subscriptions and orders")
    CATALOG = "catalog", _("Catalog and prices")
    REPORTS = "reports", _("Reports")
    RESELLERS = "resellers", _("Resellers and pools")
    SETTINGS = "settings", _("Settings")


class AccessLevel(models.IntegerChoices):
    NONE = 0, _("No access")
    VIEW = 1, _("View")
    MANAGE = 2, _("Manage")


class UserKind(models.TextChoices):
    PARTNER = "partner", _("Partner user")
    CUSTOMER_ADMIN = "customer_admin", _("Customer tenant admin")


# What a customer tenant admin can ever be granted, whatever their roles say: their customers,
# those customers' subscriptions, store and requests; never partner settings or cost prices.
CUSTOMER_ADMIN_MODULE_CEILING: dict[str, int] = {
    PermissionModule.CUSTOMERS: AccessLevel.MANAGE,
    PermissionModule.SUBSCRIPTIONS: AccessLevel.MANAGE,
    PermissionModule.CATALOG: AccessLevel.VIEW,
}

ADMINISTRATORS_ROLE_NAME = "Administrators"
