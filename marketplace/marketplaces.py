"""What the console shows about each marketplace: name, regions, whether its provider exists.

Providers know wire formats; this module knows the words and choices the screens need.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from marketplace.choices import MarketplaceSlug
from marketplace.providers.registry import available_slugs


@dataclass(frozen=True)
class AccountOption:
    """A marketplace-specific connection field of an account (ProviderConnection.options).

    A `secret` option is stored encrypted like the password and never rendered back."""

    name: str
    label: str | Promise
    required: bool = True
    secret: bool = False
    help_text: str | Promise = ""
    #: (value, label) for a drop-down; empty for free text
    choices: tuple[tuple[str, str | Promise], ...] = ()


@dataclass(frozen=True)
class MarketplaceInfo:
    slug: str
    name: str
    #: (region code, label) in the order the region drop-down lists them; empty: the region is free text
    regions: tuple[tuple[str, str | Promise], ...]
    customer_word: str | Promise
    description: str | Promise
    region_label: str | Promise = _("Region")
    region_help: str | Promise = ""
    username_label: str | Promise = _("Username")
    username_help: str | Promise = ""
    secret_label: str | Promise = _("Password")
    options: tuple[AccountOption, ...] = ()

    def option(self, name: str) -> AccountOption | None:
        return next((option for option in self.options if option.name == name), None)


_ALSO_REGIONS: tuple[tuple[str, str | Promise], ...] = (
    ("at", _("Austria")),
    ("dk", _("Denmark")),
    ("ee", _("Estonia")),
    ("fi", _("Finland")),
    ("fr", _("France")),
    ("de", _("Germany")),
    ("lv", _("Latvia")),
    ("lt", _("Lithuania")),
    ("nl", _("Netherlands")),
    ("no", _("Norway")),
    ("pl", _("Poland")),
    ("si", _("Slovenia")),
    ("se", _("Sweden")),
    ("ch", _("Switzerland")),
    ("test", _("ALSO test marketplace")),
)

_PARTNER_CENTER_MARKETS: tuple[tuple[str, str | Promise], ...] = (
    ("de", _("Germany")),
    ("us", _("United States")),
)

_CLOUDMORE_REGIONS: tuple[tuple[str, str | Promise], ...] = (
    ("eu", _("Cloudmore (api.cloudmore.com)")),
    ("dev", _("Cloudmore developer sandbox")),
)

_CLOUDMORE_SEGMENTS: tuple[tuple[str, str | Promise], ...] = (
    ("commercial", _("Commercial")),
    ("education", _("Education")),
    ("charity", _("Charity")),
    ("government", _("Government")),
)

_ALSO_USERNAME_HELP = _(
    "The user at the marketplace. Multi-factor authentication must be off for it, and it needs the roles "
    "Reseller Admin (Limited), Reseller Admin (Sales), Customer Admin (Read-only), Customer Admin (Modify) "
    "and Customer Admin (Advanced)."
)

MARKETPLACES: dict[str, MarketplaceInfo] = {
    MarketplaceSlug.ALSO: MarketplaceInfo(
        slug=MarketplaceSlug.ALSO,
        name="ALSO",
        regions=_ALSO_REGIONS,
        customer_word=_("ALSO customer"),
        description=_("ALSO Cloud Marketplace: Microsoft 365 and cloud services through ALSO's country marketplaces."),
        username_help=_ALSO_USERNAME_HELP,
    ),
    MarketplaceSlug.PARTNER_CENTER: MarketplaceInfo(
        slug=MarketplaceSlug.PARTNER_CENTER,
        name="Microsoft Partner Center",
        regions=_PARTNER_CENTER_MARKETS,
        customer_word=_("Partner Center customer"),
        description=_("Microsoft Partner Center: sell Microsoft CSP (NCE) subscriptions directly as a CSP partner."),
        region_label=_("Market"),
        username_label=_("Application (client) ID"),
        username_help=_("The Microsoft Entra application registered for Partner Center (App+User)."),
        secret_label=_("Application secret"),
        options=(
            AccountOption(
                name="tenant",
                label=_("Partner tenant"),
                help_text=_("Your partner tenant's ID or primary domain."),
            ),
            AccountOption(
                name="refresh_token",
                label=_("Refresh token"),
                required=False,
                secret=True,
                help_text=_("The App+User refresh token of a Partner Center admin agent, if you use one."),
            ),
        ),
    ),
    MarketplaceSlug.CLOUDMORE: MarketplaceInfo(
        slug=MarketplaceSlug.CLOUDMORE,
        name="Cloudmore",
        regions=_CLOUDMORE_REGIONS,
        customer_word=_("Cloudmore organization"),
        description=_("Cloudmore: Microsoft CSP Direct and cloud services for your organizations."),
        username_label=_("API user"),
        username_help=_("The Cloudmore API user of your reseller."),
        options=(
            AccountOption(name="reseller_id", label=_("Reseller ID"), help_text=_("Your reseller's ID at Cloudmore.")),
            AccountOption(
                name="client_secret",
                label=_("API secret"),
                secret=True,
                help_text=_("The API client secret Cloudmore gave you."),
            ),
            AccountOption(
                name="client_id",
                label=_("API client ID"),
                required=False,
                help_text=_("Leave empty for Cloudmore's default client."),
            ),
            AccountOption(
                name="segment",
                label=_("Price list segment"),
                required=False,
                choices=_CLOUDMORE_SEGMENTS,
            ),
        ),
    ),
    MarketplaceSlug.ALEF: MarketplaceInfo(
        slug=MarketplaceSlug.ALEF,
        name="ALEF",
        regions=(),
        customer_word=_("ALEF organization"),
        description=_("ALEF Distribution: Microsoft CSP through ALEF's reseller marketplace."),
        region_label=_("Reseller host"),
        region_help=_("The <name> of your reseller address <name>.alef.cloud."),
    ),
}


def marketplaces_available() -> list[MarketplaceInfo]:
    """Marketplaces the console can talk to: described here and with a provider package present."""
    present = set(available_slugs())
    return [info for slug, info in MARKETPLACES.items() if slug in present]


def marketplace_info(slug: str) -> MarketplaceInfo | None:
    return next((info for info in marketplaces_available() if info.slug == slug), None)


def region_label(slug: str, region: str) -> str:
    info = MARKETPLACES.get(slug)
    labels = dict(info.regions) if info else {}
    if info is not None and not info.regions and region:
        return str(region)
    return str(labels.get(region, region))
