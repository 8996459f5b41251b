"""The console's left navigation, in one place.

A service provider sees the Services sections, a large account reseller the Licenses sections;
a partner that is both gets two tabs. An app that is built replaces its section's
`url_name` with its own list view.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portal.accounts.choices import PermissionModule, UserKind
from portal.accounts.permissions import user_has_permission


class NavigationTab(StrEnum):
    SERVICES = "services"
    LICENSES = "licenses"


@dataclass(frozen=True)
class Section:
    key: str
    label: str | Promise
    icon: str
    url_name: str
    url_kwargs: tuple[tuple[str, str], ...] = ()
    tabs: frozenset[NavigationTab] = frozenset({NavigationTab.SERVICES, NavigationTab.LICENSES})
    # The module a user needs (at least view) to see the section; None: everyone signed in.
    module: str | None = None
    # Other path prefixes whose pages belong to this section (besides /<key>/).
    extra_prefixes: tuple[str, ...] = ()
    # The module a customer tenant admin needs instead (a section that serves them differently).
    customer_module: str | None = None

    @property
    def url(self) -> str:
        return reverse(self.url_name, kwargs=dict(self.url_kwargs))


def _coming_soon(key: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return "core:section", (("section", key),)


SECTIONS: tuple[Section, ...] = (
    Section("home", _("Home"), "house", "core:home"),
    Section(
        "customers",
        _("Customers"),
        "people",
        "customers:customer_list",
        tabs=frozenset({NavigationTab.SERVICES}),
        module=PermissionModule.CUSTOMERS,
    ),
    Section(
        "marketplace",
        _("Marketplace"),
        "shop",
        "marketplace:index",
        tabs=frozenset({NavigationTab.SERVICES}),
        module=PermissionModule.MARKETPLACE,
    ),
    Section(
        "subscriptions",
        _("Subscriptions"),
        "card-checklist",
        "subscriptions:subscription_list",
        tabs=frozenset({NavigationTab.SERVICES}),
        module=PermissionModule.SUBSCRIPTIONS,
    ),
    Section(
        "license_requests",
        _("Licence change requests"),
        "inbox",
        "subscriptions:request_list",
        tabs=frozenset({NavigationTab.SERVICES}),
        module=PermissionModule.SUBSCRIPTIONS,
    ),
    Section(
        "orders",
        _("Orders"),
        "cart3",
        "orders:order_list",
        tabs=frozenset({NavigationTab.SERVICES}),
        module=PermissionModule.SUBSCRIPTIONS,
    ),
    Section(
        "catalog",
        _("Catalog"),
        "grid-3x3-gap",
        "catalog:index",
        tabs=frozenset({NavigationTab.SERVICES}),
        module=PermissionModule.CATALOG,
    ),
    Section(
        "resellers",
        _("Reseller directory"),
        "diagram-3",
        "resellers:directory",
        tabs=frozenset({NavigationTab.LICENSES}),
        module=PermissionModule.RESELLERS,
    ),
    Section(
        "my_providers",
        _("My providers"),
        "building-up",
        "resellers:my_providers",
        module=PermissionModule.RESELLERS,
        # every partner may be some large account reseller's reseller: the page says when none has invited it
        extra_prefixes=("/resellers/my-providers/",),
    ),
    Section(
        "pools",
        _("Pools"),
        "stack",
        "pools:own_pools",
        tabs=frozenset({NavigationTab.LICENSES}),
        module=PermissionModule.RESELLERS,
    ),
    Section("reports", _("Reports"), "bar-chart-line", "reports:index", module=PermissionModule.REPORTS),
    Section("help", _("Help"), "question-circle", "help:feedback"),
    Section(
        "invoices",
        _("Invoices"),
        "receipt",
        "invoices:invoice_list",
        module=PermissionModule.REPORTS,
        customer_module=PermissionModule.SUBSCRIPTIONS,
    ),
    Section(
        "settings",
        _("Settings"),
        "gear",
        "settings:index",
        module=PermissionModule.SETTINGS,
        extra_prefixes=("/microsoft/settings/",),
    ),
)

SECTION_BY_KEY = {section.key: section for section in SECTIONS}


def partner_tabs(partner) -> list[NavigationTab]:
    tabs = []
    if partner.is_service_provider:
        tabs.append(NavigationTab.SERVICES)
    if partner.is_large_account_reseller:
        tabs.append(NavigationTab.LICENSES)
    return tabs


def partner_sections(partner, user=None) -> list[Section]:
    """Every section this partner's kind allows (and, given a user, their permissions), whatever the tab."""
    tabs = set(partner_tabs(partner))
    return [section for section in SECTIONS if section.tabs & tabs and (user is None or _user_may_see(user, section))]


def _user_may_see(user, section: Section) -> bool:
    if section.customer_module is not None and user.kind == UserKind.CUSTOMER_ADMIN:
        return user_has_permission(user, section.customer_module)
    return section.module is None or user_has_permission(user, section.module)


def section_for_path(path: str) -> Section | None:
    # the longest matching prefix wins: /resellers/my-providers/ is My providers, not the directory
    found, length = None, 0
    for section in SECTIONS:
        if section.key == "home":
            continue
        for prefix in (f"/{section.key}/", *section.extra_prefixes):
            if path.startswith(prefix) and len(prefix) > length:
                found, length = section, len(prefix)
    if found is not None:
        return found
    return SECTION_BY_KEY["home"] if path == "/" else None


def navigation_for(*, partner, user, path: str, requested_tab: str | None) -> dict:
    allowed = partner_sections(partner, user)
    # a tab is offered only when it holds a section of its own for this user (not just the shared Home)
    kinds = partner_tabs(partner)
    tabs = [tab for tab in kinds if any(section.tabs == {tab} for section in allowed)] or kinds[:1]
    current = section_for_path(path)
    if requested_tab in tabs:
        active_tab = NavigationTab(requested_tab)
    elif current is not None and len(current.tabs) == 1 and next(iter(current.tabs)) in tabs:
        active_tab = next(iter(current.tabs))
    else:
        active_tab = tabs[0] if tabs else NavigationTab.SERVICES
    sections = [section for section in SECTIONS if active_tab in section.tabs and section in allowed]
    return {
        "tabs": tabs if len(tabs) > 1 else [],
        "active_tab": active_tab,
        "sections": sections,
        "current": current,
    }
