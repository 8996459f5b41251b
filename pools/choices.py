from django.db import models
from django.utils.translation import gettext_lazy as _


class PoolService(models.TextChoices):
    """The services a pool can hold (the Add pool form's choices)."""

    BACKUP_M365 = "backup_m365", _("Cloud Backup for Microsoft 365")
    BACKUP_POWER_PLATFORM = "backup_power_platform", _("Cloud Backup for Microsoft 365 - Power Platform")
    CLOUD_MANAGEMENT = "cloud_management", _("Cloud Management")
    CLOUD_ARCHIVING = "cloud_archiving", _("Cloud Archiving")
    CLOUD_GOVERNANCE = "cloud_governance", _("Cloud Governance")
    INSIGHTS = "insights", _("Insights")
    POLICIES_M365 = "policies_m365", _("Policies for Microsoft 365")
    CENSE = "cense", _("Cense")
    BACKUP_GOOGLE_WORKSPACE = "backup_google_workspace", _("Cloud Backup for Google Workspace")
    BACKUP_DYNAMICS_365 = "backup_dynamics_365", _("Cloud Backup for Dynamics 365")
    BACKUP_SALESFORCE = "backup_salesforce", _("Cloud Backup for Salesforce®")
    BACKUP_IAAS_PAAS = "backup_iaas_paas", _("Cloud Backup for IaaS + PaaS")
    ENPOWER = "enpower", _("EnPower")
    TYGRAPH = "tygraph", _("tyGraph")
    OPUS = "opus", _("Opus")


class PoolUnit(models.TextChoices):
    USER_SEATS = "user_seats", _("User seats")
    OBJECTS = "objects", _("Objects")
    CAPACITY = "capacity", _("Capacity (GB)")


# What a service counts; anything not listed counts user seats.
SERVICE_UNITS: dict[str, str] = {
    PoolService.BACKUP_IAAS_PAAS: PoolUnit.CAPACITY,
    PoolService.BACKUP_SALESFORCE: PoolUnit.OBJECTS,
    PoolService.BACKUP_DYNAMICS_365: PoolUnit.OBJECTS,
}


class PoolSource(models.TextChoices):
    """Where a pool was bought: from the vendor directly, or through a distribution marketplace."""

    VENDOR = "vendor", _("Vendor (direct)")
    ALSO = "also", _("ALSO")
    ALEF = "alef", _("ALEF")
    CLOUDMORE = "cloudmore", _("Cloudmore")


class PaymentType(models.TextChoices):
    """The two payment models of pooled subscriptions; also a customer assignment's license type."""

    PREPAID = "prepaid", _("Prepaid")
    PAY_AS_YOU_GO = "pay_as_you_go", _("Pay as you go")


class PoolStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")


class AllocationStatus(models.TextChoices):
    PENDING = "pending", _("Pending acceptance")
    ACCEPTED = "accepted", _("Active")
    DECLINED = "declined", _("Declined")
    RETURNED = "returned", _("Returned to pool")
    EXPIRED = "expired", _("Expired")


# Allocations that hold seats of their pool.
HOLDING_STATUSES = (AllocationStatus.PENDING, AllocationStatus.ACCEPTED)


class ExpiryMode(models.TextChoices):
    """A reseller's subscription expiration date, as Add pool / Edit pool set it."""

    SAME_AS_POOL = "same_as_pool", _("Same as pooled subscription")
    NOW = "now", _("Expire now")
    DATE = "date", _("Specify a time")
