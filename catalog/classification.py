"""Where a new offer goes in the catalog: its product group, the group's category, and whether it is
for academic, government or non-profit customers only. A first guess from the marketplace's own
words (name, vendor); the partner corrects it on Catalog > Customize and the guess never runs again
for that offer. Pure functions: catalog.services.offers_classify writes the result."""

import re
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from catalog.choices import Eligibility


@dataclass(frozen=True)
class DefaultCategory:
    slug: str
    name: str
    position: int


PRODUCTIVITY = DefaultCategory("productivity", _("Productivity and collaboration"), 10)
SECURITY = DefaultCategory("security", _("Security and identity"), 20)
BUSINESS = DefaultCategory("business-applications", _("Business applications"), 30)
INFRASTRUCTURE = DefaultCategory("infrastructure", _("Cloud infrastructure"), 40)
OTHER = DefaultCategory("other", _("Other products"), 90)
DEFAULT_CATEGORIES = (PRODUCTIVITY, SECURITY, BUSINESS, INFRASTRUCTURE, OTHER)
_DEFAULT_BY_SLUG = {category.slug: category for category in DEFAULT_CATEGORIES}


def default_category_label(*, slug: str, name: str) -> str:
    """`name` translated when it is still a default category's own (English) name, else as it is."""
    default = _DEFAULT_BY_SLUG.get(slug)
    if default is None:
        return name
    with translation.override("en"):
        untouched = name == str(default.name)
    return str(default.name) if untouched else name


# First match wins: the more specific product families come before the suites that contain them.
PRODUCT_FAMILIES: tuple[tuple[re.Pattern[str], str, DefaultCategory], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), group, category)
    for pattern, group, category in (
        (r"\bcopilot\b", "Microsoft Copilot", PRODUCTIVITY),
        (r"\bteams\b", "Microsoft Teams", PRODUCTIVITY),
        (r"\bexchange online\b", "Exchange Online", PRODUCTIVITY),
        (r"\b(sharepoint|onedrive)\b", "SharePoint and OneDrive", PRODUCTIVITY),
        (r"\bvisio\b", "Visio", PRODUCTIVITY),
        (r"\bproject (plan|online)\b", "Project", PRODUCTIVITY),
        (r"\bdefender\b", "Microsoft Defender", SECURITY),
        (r"\bintune\b", "Microsoft Intune", SECURITY),
        (r"\b(entra|azure (ad|active directory))\b", "Microsoft Entra", SECURITY),
        (r"\benterprise mobility\b", "Enterprise Mobility + Security", SECURITY),
        (r"\bmicrosoft 365\b", "Microsoft 365", PRODUCTIVITY),
        (r"\boffice 365\b", "Office 365", PRODUCTIVITY),
        (r"\bdynamics 365\b", "Dynamics 365", BUSINESS),
        (r"\bpower (bi|apps|automate|pages|virtual agents)\b", "Power Platform", BUSINESS),
        (r"\bazure\b", "Azure", INFRASTRUCTURE),
        (r"\bwindows\b", "Windows", INFRASTRUCTURE),
    )
)
ELIGIBILITY_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(faculty|students?|academic|education|edu)\b", re.IGNORECASE), Eligibility.ACADEMIC),
    (re.compile(r"\b(government|gcc)\b", re.IGNORECASE), Eligibility.GOVERNMENT),
    (re.compile(r"\bnon-?profit\b", re.IGNORECASE), Eligibility.NON_PROFIT),
)
GENERIC_VENDORS = {"", "microsoft", "microsoft corporation"}


def product_family(*, name: str, vendor: str = "") -> tuple[str, DefaultCategory]:
    """(product group name, default category) of an offer."""
    for pattern, group, category in PRODUCT_FAMILIES:
        if pattern.search(name):
            return group, category
    vendor = (vendor or "").strip()
    if vendor.lower() not in GENERIC_VENDORS:
        return vendor[:200], OTHER
    if vendor:
        return f"Other {vendor} products"[:200], OTHER
    return (name.split("(")[0].strip() or name)[:200], OTHER


def eligibility_guess(*, name: str) -> str:
    """The customer flag an offer's name asks for ("... for faculty", "(Government Pricing)"), or ""."""
    for pattern, eligibility in ELIGIBILITY_WORDS:
        if pattern.search(name):
            return eligibility
    return Eligibility.EVERYONE
