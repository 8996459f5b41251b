"""The Subscriptions table's columns and which of them a user chose to see.

The table is grouped by product and domain, so the template renders it; this module only says which
columns exist, which are cost columns (never shown to users who may not see cost prices), and which a
user picked with Manage columns.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

COLUMNS_PREFERENCE = "subscriptions.subscription_list.columns"


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    cost: bool = False
    numeric: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("renewal", _("Renewal")),
    Column("assigned", _("Assigned"), numeric=True),
    Column("purchased", _("Purchased"), numeric=True),
    Column("add_ons", _("Add-ons")),
    Column("vendor", _("Vendor")),
    Column("type", _("Type")),
    Column("billing_cycle", _("Billing cycle")),
    Column("offer_id", _("Offer ID")),
    Column("unit_cost", _("Unit cost a month"), cost=True, numeric=True),
    Column("monthly_cost", _("Monthly cost"), cost=True, numeric=True),
    Column("yearly_cost", _("Yearly cost"), cost=True, numeric=True),
    Column("monthly_price", _("Monthly price"), numeric=True),
    Column("yearly_price", _("Yearly price"), numeric=True),
    Column("marketplace", _("Marketplace")),
    Column("customer", _("Customer")),
    Column("status", _("Status")),
)
# What fits 1366 px in German and French; add-ons, vendor, type and yearly cost are a Manage columns choice away
DEFAULT_COLUMNS = (
    "renewal",
    "assigned",
    "purchased",
    "unit_cost",
    "monthly_cost",
    "monthly_price",
    "yearly_price",
    "status",
)


def available_columns(*, sees_cost: bool) -> list[Column]:
    return [column for column in COLUMNS if sees_cost or not column.cost]


def column_choices(*, sees_cost: bool) -> list[tuple[str, str]]:
    return [(column.key, str(column.label)) for column in available_columns(sees_cost=sees_cost)]


def chosen_columns(preferences: dict, *, sees_cost: bool) -> list[Column]:
    """The columns a user chose (Manage columns), or the defaults; cost columns only for who may see cost."""
    available = {column.key: column for column in available_columns(sees_cost=sees_cost)}
    saved = preferences.get(COLUMNS_PREFERENCE) if isinstance(preferences, dict) else None
    keys = saved if isinstance(saved, list) else list(DEFAULT_COLUMNS)
    return [available[key] for key in keys if key in available]
