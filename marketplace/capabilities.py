"""The capability matrix: which marketplace supports which action, and under which rule.

Built from each provider's declared `capabilities` and `capability_rules` (marketplace.providers),
so the screens offer an action only where the marketplace can do it and show the reason otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from marketplace.marketplaces import MarketplaceInfo, marketplace_info, marketplaces_available
from marketplace.providers.base import Capability
from marketplace.providers.registry import provider_class

CAPABILITY_LABELS: dict[Capability, str | Promise] = {
    Capability.LIST_CUSTOMERS: _("List customers"),
    Capability.LIST_OFFERS: _("List offers and prices"),
    Capability.LIST_SUBSCRIPTIONS: _("List subscriptions"),
    Capability.CREATE_CUSTOMER: _("Create a customer"),
    Capability.CREATE_TENANT: _("Create a Microsoft tenant"),
    Capability.PLACE_ORDER: _("Place an order"),
    Capability.CHANGE_QUANTITY: _("Change quantity"),
    Capability.SUSPEND: _("Suspend"),
    Capability.REACTIVATE: _("Reactivate"),
    Capability.TERMINATE: _("Terminate"),
    Capability.REVOKE_TERMINATION: _("Revoke a termination"),
    Capability.CHANGE_BILLING_CYCLE: _("Change billing cycle"),
    Capability.ADD_ADD_ON: _("Add an add-on"),
    Capability.CHANGE_ADD_ON: _("Change an add-on"),
    Capability.REMOVE_ADD_ON: _("Remove an add-on"),
    Capability.LIST_INVOICE_LINES: _("Read invoice lines"),
}


@dataclass(frozen=True)
class CapabilityCell:
    marketplace: MarketplaceInfo
    supported: bool
    #: the marketplace's rule for the action, or why it cannot do it ("" when it says nothing)
    rule: str


@dataclass(frozen=True)
class CapabilityRow:
    capability: Capability
    label: str | Promise
    cells: tuple[CapabilityCell, ...]


def capability_label(capability: Capability) -> str | Promise:
    return CAPABILITY_LABELS.get(capability, capability.value.replace("_", " "))


def marketplace_capability(*, marketplace: str, capability: Capability) -> CapabilityCell | None:
    """Whether one marketplace supports one action, with its rule (None for an unknown marketplace)."""
    info = marketplace_info(marketplace)
    if info is None:
        return None
    provider = provider_class(marketplace)
    return CapabilityCell(
        marketplace=info,
        supported=capability in provider.capabilities,
        rule=str(provider.capability_rules.get(capability, "")),
    )


def capability_matrix() -> tuple[list[MarketplaceInfo], list[CapabilityRow]]:
    """(the marketplaces as columns, one row per action) for every marketplace the console can reach."""
    marketplaces = marketplaces_available()
    rows = []
    for capability in Capability:
        cells = tuple(
            cell
            for info in marketplaces
            if (cell := marketplace_capability(marketplace=info.slug, capability=capability)) is not None
        )
        rows.append(CapabilityRow(capability=capability, label=capability_label(capability), cells=cells))
    return marketplaces, rows
