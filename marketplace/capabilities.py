"""The capability matrix: which marketplace supports which action, and under which rule.

Built from each marketplace's description (its `capabilities` and `capability_rules`,
marketplace.providers.description), so the screens offer an action only where the marketplace can do
it and show the reason otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise

from marketplace.providers.base import Capability
from marketplace.providers.description import MarketplaceDescription, capability_label
from marketplace.providers.registry import marketplaces


@dataclass(frozen=True)
class CapabilityCell:
    marketplace: MarketplaceDescription
    supported: bool
    #: the marketplace's rule for the action, or why it cannot do it ("" when it says nothing)
    rule: str


@dataclass(frozen=True)
class CapabilityRow:
    capability: Capability
    label: str | Promise
    cells: tuple[CapabilityCell, ...]


def marketplace_capability(*, marketplace: str, capability: Capability) -> CapabilityCell | None:
    """Whether one marketplace supports one action, with its rule (None for an unknown marketplace)."""
    description = marketplaces().get(marketplace)
    if description is None:
        return None
    return CapabilityCell(
        marketplace=description,
        supported=capability in description.capabilities,
        rule=str(description.capability_rules.get(capability, "")),
    )


def capability_matrix() -> tuple[list[MarketplaceDescription], list[CapabilityRow]]:
    """(the marketplaces as columns, one row per action) for every marketplace the console can reach."""
    columns = list(marketplaces().values())
    rows = []
    for capability in Capability:
        cells = tuple(
            cell
            for description in columns
            if (cell := marketplace_capability(marketplace=description.slug, capability=capability)) is not None
        )
        rows.append(CapabilityRow(capability=capability, label=capability_label(capability), cells=cells))
    return columns, rows
