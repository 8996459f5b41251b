"""What the console shows about each marketplace: name, regions, whether its provider exists.

Providers know wire formats; this module knows the words and choices the screens need.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from marketplace.choices import MarketplaceSlug
from marketplace.providers.registry import available_slugs


@dataclass(frozen=True)
class MarketplaceInfo:
    slug: str
    name: str
    #: (region code, label) in the order the region drop-down lists them
    regions: tuple[tuple[str, str | Promise], ...]
    customer_word: str | Promise
    description: str | Promise


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

MARKETPLACES: dict[str, MarketplaceInfo] = {
    MarketplaceSlug.ALSO: MarketplaceInfo(
        slug=MarketplaceSlug.ALSO,
        name="ALSO",
        regions=_ALSO_REGIONS,
        customer_word=_("ALSO customer"),
        description=_("ALSO Cloud Marketplace: Microsoft 365 and cloud services through ALSO's country marketplaces."),
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
    return str(labels.get(region, region))
