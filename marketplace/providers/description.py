"""What a marketplace is, in one value per marketplace: `MarketplaceDescription`.

Each provider package (`marketplace/providers/<slug>/__init__.py`) exposes its `DESCRIPTION`; the
registry collects them, the screens read their names, regions, account fields and capabilities, the
provider class takes its slug, name, capabilities and rule texts from it, and the commitment rules
(`subscriptions.commitment`) read its `commitment`.

Provider packages import no Django, so their user-visible words are `Text`: marked for translation
like `gettext_lazy` (`_ = Text`, extracted by makemessages) and translated when shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from marketplace.providers.base import Capability


class Text(str):
    """An English text the screens show translated: `str()` looks it up in Django's catalog for the
    active language each time (as `gettext_lazy` does), and without Django it stays English. For
    everything else (comparing, searching, hashing) it is the English string itself."""

    __slots__ = ()

    @property
    def message(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        try:
            from django.utils.translation import gettext
        except ImportError:  # pragma: no cover - Django is installed wherever the screens run
            return self.message
        return gettext(self.message)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"Text({self.message!r})"


_ = Text
Label = str | Text

#: The words the screens use for each capability (the capability matrix, the "cannot" messages).
CAPABILITY_LABELS: Mapping[Capability, Label] = MappingProxyType(
    {
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
        Capability.READ_CREDIT_LIMIT: _("Read the credit limit"),
        Capability.LIST_TENANT_LICENCES: _("Read licences assigned and purchased"),
        Capability.LIST_GDAP_RELATIONSHIPS: _("Read GDAP relationships"),
    }
)


def capability_label(capability: Capability) -> Label:
    return CAPABILITY_LABELS.get(capability, capability.value.replace("_", " "))


@dataclass(frozen=True)
class AccountOption:
    """A marketplace-specific connection field of an account (ProviderConnection.options).

    A `secret` option is stored encrypted like the password and never rendered back."""

    name: str
    label: Label
    required: bool = True
    secret: bool = False
    help_text: Label = ""
    #: (value, label) for a drop-down; empty for free text
    choices: tuple[tuple[str, Label], ...] = ()


@dataclass(frozen=True)
class CommitmentRules:
    """What a marketplace's rule texts say about commitments beyond the cancellation window itself
    (the window comes with each subscription: `SubscriptionRecord.cancellation_allowed_until`)."""

    #: whether a quantity may change while the subscription is suspended ("not while suspended" says no)
    quantity_change_while_suspended: bool = True
    #: outside the window a termination stops the renewal and the subscription ends with its term
    termination_ends_with_term: bool = True


@dataclass(frozen=True, kw_only=True)
class MarketplaceDescription:
    """Everything the console knows about a marketplace apart from its wire format."""

    #: the key stored on accounts and rows (`MarketplaceAccount.marketplace`)
    slug: str
    #: the short name the screens show (tiles, breadcrumbs, choices)
    name: str
    #: the full name messages use ("ALSO Cloud Marketplace does not support …")
    display_name: str
    #: the provider class, as "<module>.<class>" (imported only when a provider is built)
    provider: str
    #: what the provider can do, and the marketplace's own words for how, or why it cannot (shown
    #: next to the action)
    capabilities: frozenset[Capability]
    capability_rules: Mapping[Capability, Label] = field(default_factory=lambda: MappingProxyType({}))
    commitment: CommitmentRules = CommitmentRules()
    #: (region code, label) in the order the region drop-down lists them; empty: the region is free text
    regions: tuple[tuple[str, Label], ...] = ()
    customer_word: Label = ""
    description: Label = ""
    region_label: Label = _("Region")
    region_help: Label = ""
    username_label: Label = _("Username")
    username_help: Label = ""
    secret_label: Label = _("Password")
    options: tuple[AccountOption, ...] = ()
    #: how many requests a sync keeps in flight at once (an account may set its own)
    sync_concurrency: int = 8
    #: the account's request budget, shared by every worker and every kind of call: the sustained
    #: requests per second, and how many a quiet account may send at once (an account may set its own)
    requests_per_second: float = 100.0
    request_burst: int = 100

    @property
    def package(self) -> str:
        """The provider package (`marketplace.providers.<slug>`), home of its client and simulator."""
        return self.provider.rsplit(".", 2)[0]

    def option(self, name: str) -> AccountOption | None:
        return next((option for option in self.options if option.name == name), None)

    def region_label_of(self, region: str) -> str:
        """The label of a region code; a free-text region (no list) shows as entered."""
        if not self.regions:
            return str(region)
        return str(dict(self.regions).get(region, region))
