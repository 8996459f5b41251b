"""Which pages the all-pages walk opens, and what it looks for on each (tests/browser/test_every_page_browser.py).

Every URL pattern of a partner's host is either walked or named here with the reason it is not a page, so
a new screen is walked from the day it is added (the walk fails on a pattern it cannot place).
"""

import re
from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, reverse

import portal.urls

# Patterns with arguments that are not screens a person reads: each with why.
NOT_SCREENS = {
    "accounts:password_reset_confirm": "an emailed link with a one-time token",
    "accounts:unlock": "an emailed link with a one-time token",
    "accounts:invitation_accept": "an emailed link with a one-time token",
    "customer_registration:verify": "an emailed link with a signed token",
    "registration_settings:decide": "the demo has no registration; tests/customers/test_customer_registration.py",
    "accounts:invitation_microsoft": "an emailed link that leaves for Microsoft",
    "accounts:totp_remove": "a POST action",
    "accounts:passkey_remove": "a POST action",
    "microsoft:trusted_directory_remove": "a POST action",
    "customers:customer_tenant_consent_start": "leaves for Microsoft",
    "marketplace:account_field": "an htmx fragment of the account page",
    "marketplace:account_field_edit": "an htmx fragment of the account page",
    "marketplace:account_sync": "a POST action",
    "marketplace:account_sync_status": "an htmx fragment of the account page",
    "marketplace:account_prices_delete": "a POST action",
    "marketplace:tenant_disconnect": "a POST action",
    "settings:user_role_remove": "a POST action",
    "settings:user_deactivate": "a POST action",
    "settings:user_reactivate": "a POST action",
    "settings:user_unlock": "a POST action",
    "settings:invitation_resend": "a POST action",
    "settings:invitation_revoke": "a POST action",
    "audit:notification_open": "a redirect to the notification's object",
    "resellers:visibility_off": "a POST action",
    "resellers:invitation_accept": "a reseller's action on a provider's invitation",
    "resellers:invitation_decline": "a reseller's action on a provider's invitation",
    "resellers:my_visibility": "a reseller's action on a provider's invitation",
    "resellers:allocation_accept": "a reseller's action on a pool allocation",
    "resellers:allocation_decline": "a reseller's action on a pool allocation",
    "resellers:assignment_create": "a reseller's screen, reached from its provider's pool",
    "resellers:assignment_end": "a POST action",
    "reports:custom_delete": "a POST action",
    "catalog:segment_member_remove": "a POST action",
    "catalog:segment_price_delete": "a POST action",
    "subscriptions:scheduled_change_cancel": "a POST action",
    "subscriptions:subscription_quantity": "an htmx fragment of the subscription page (the quantity preview)",
    "subscriptions:request_decide": "a POST action",
    "subscriptions:tenant_users_sync": "a POST action",
    "subscriptions:tenant_users_assign": "a POST action",
    "orders:order_submit": "a POST action",
    "orders:order_cancel": "a POST action",
    "orders:order_line_remove": "a POST action",
    "orders:order_line_retry": "a POST action",
    "orders:quote_accept": "a POST action",
    "orders:quote_withdraw": "a POST action",
    "customers:customer_tenant_add": "a POST action",
    "marketplace:account_prices_uniform": "a POST action",
    "settings:user_role_add": "a POST action",
    "catalog:segment_member_add": "a POST action",
    "orders:order_details": "a POST action",
    "orders:order_quote_create": "a POST action",
    "core:section": "the placeholder of a sidebar section not built yet (every section is built)",
    "customers:customer_open_as": "a POST action",
    "settings:role_user_add": "a POST action (Add existing user, on the role's page)",
    "marketplace:tenant_create_domain_check": "an htmx fragment of the new tenant form (the domain check)",
    "marketplace:account_credit": "an htmx fragment of the account page (the credit limit panel)",
    "settings:troubleshooting_remove": "a POST action",
    "settings:api_token_revoke": "a POST action",
    "settings:webhook_ping": "a POST action",
    "settings:webhook_redeliver": "a POST action",
    "subscriptions:tenant_users_import": "a POST action",
    "subscriptions:tenant_users_export": "a POST action",
    # Screens of objects the demo does not create; their own tests open them (tests/portal/webhooks,
    # tests/support_app, tests/reports/test_report_storage.py, tests/reports/test_report_invoices.py).
    "settings:webhook_detail": "the demo has no webhook endpoint",
    "settings:webhook_edit": "the demo has no webhook endpoint",
    "settings:webhook_delete": "the demo has no webhook endpoint",
    "settings:feedback_detail": "the demo has no feedback",
    "reports:storage_customer": "the demo has no storage snapshots",
    "invoices:statement_detail": "opened by tests/reports/test_report_invoices.py",
    "invoices:invoice_detail": "opened by tests/reports/test_report_invoices.py",
}
# Faults the walk found on screens the last merge brought together, not fixed yet (issue 23 stays open for
# them): each is "<language> <path>: <the start of the problem>". The walk fails on any other problem, and on
# a known one that is gone, so this list only shrinks.
KNOWN_FAULTS: tuple[str, ...] = ()

# Screens in English whatever the language, by design: the walk looks at their layout, not their words.
ENGLISH_BY_DESIGN = {
    "/api/v1/docs": "the API's reference (Swagger UI) renders the OpenAPI document, written for developers in English",
}

# The REST API answers JSON, not pages (tests/portal/test_access_matrix.py walks every operation).
NOT_SCREEN_PREFIXES = ("api:",)

# Argument-less patterns that answer a GET with something else than a page (actions answer 405, downloads
# a file): the walk asks each once and skips what is not HTML; these are left out before asking.
NOT_PAGES = {
    "healthz": "the load balancer's probe",
    "accounts:logout": "signs the walker out",
    "audit:notification_panel": "an htmx fragment under the bell",
    "marketplace:health_tile": "an htmx fragment of the home page (opened alone, it has no favicon: a 404)",
    "customers:customer_options": "the options a customer filter fetches as the user types (a fragment, no favicon)",
    # 404 until the partner lets customers register (tests/customers/test_customer_registration.py opens them)
    "customer_registration:register": "a public form, closed in the demo",
    "customer_registration:sent": "a public page, closed in the demo",
}


def url_patterns() -> list[tuple[str, str, bool]]:
    """(name with namespaces, route, takes arguments) of every pattern of a partner's host."""
    found = []

    def walk(patterns, route: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, route + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                full = route + str(pattern.pattern)
                found.append((namespace + pattern.name, "/" + full, "<" in full))

    walk(portal.urls.urlpatterns, "", "")
    return found


def detail_pages(marketplace_slugs: list[str]) -> dict[str, list[str]]:
    """One object of each screen that takes arguments, as URLs, by pattern name (run inside the partner's
    schema). Subscriptions, accounts and marketplaces get one per marketplace: their rule texts differ."""
    from catalog.models import Category, CustomerPrice, CustomerSegment, Offer, ProductGroup, SegmentPrice
    from customers.models import CustomerGroup, CustomerTenant
    from marketplace.models import MarketplaceAccount, TenantConnection
    from orders.models import Order, Quote
    from pools.models import PoolAllocation
    from portal.accounts.choices import UserKind
    from portal.accounts.models import Role
    from reports.models import TrackedSubscription
    from resellers.choices import ResellerStatus
    from resellers.models import ResellerLink
    from subscriptions.models import LicenseChangeRequest, Subscription, TenantUser

    def one(queryset):
        found = queryset.order_by("pk").first()
        assert found is not None, f"the demo has no {queryset.model._meta.verbose_name}"
        return found

    def url(name: str, **kwargs) -> str:
        return reverse(name, kwargs=kwargs)

    tenant = one(CustomerTenant.objects.filter(subscriptions__isnull=False).distinct())
    customer = tenant.customer
    segment = one(CustomerSegment.objects.filter(prices__isnull=False).distinct())
    segment_price = one(SegmentPrice.objects.filter(segment=segment))
    customer_price = one(CustomerPrice.objects.all())
    offer = one(Offer.objects.filter(is_visible=True, product_group__isnull=False))
    person = one(get_user_model().objects.filter(is_active=True).exclude(username="admin"))
    tenant_admin = one(get_user_model().objects.filter(kind=UserKind.CUSTOMER_ADMIN))
    role = one(Role.objects.all())
    group = one(CustomerGroup.objects.all())
    pages: dict[str, list[str]] = {
        "customers:customer_detail": [url("customers:customer_detail", pk=customer.pk)],
        "customers:customer_update": [url("customers:customer_update", pk=customer.pk)],
        "customers:customer_delete": [url("customers:customer_delete", pk=customer.pk)],
        "customers:customer_tenant_remove": [
            url("customers:customer_tenant_remove", customer_pk=customer.pk, tenant_pk=tenant.pk)
        ],
        "settings:user_detail": [url("settings:user_detail", pk=person.pk)],
        "settings:user_customers": [url("settings:user_customers", pk=tenant_admin.pk)],
        "settings:role_edit": [url("settings:role_edit", pk=role.pk)],
        "settings:role_delete": [url("settings:role_delete", pk=role.pk)],
        "settings:customer_group_edit": [url("settings:customer_group_edit", pk=group.pk)],
        "settings:customer_group_delete": [url("settings:customer_group_delete", pk=group.pk)],
        "reports:usage_detail": [url("reports:usage_detail", pk=one(TrackedSubscription.objects.all()).pk)],
        "catalog:public_group": [url("catalog:public_group", pk=one(ProductGroup.objects.all()).pk)],
        "catalog:public_offer": [url("catalog:public_offer", pk=offer.pk)],
        "catalog:offer_detail": [url("catalog:offer_detail", pk=offer.pk)],
        "catalog:offer_customize": [url("catalog:offer_customize", pk=offer.pk)],
        "catalog:category_edit": [url("catalog:category_edit", pk=one(Category.objects.all()).pk)],
        "catalog:category_delete": [url("catalog:category_delete", pk=one(Category.objects.all()).pk)],
        "catalog:group_edit": [url("catalog:group_edit", pk=one(ProductGroup.objects.all()).pk)],
        "catalog:segment_detail": [url("catalog:segment_detail", pk=segment.pk)],
        "catalog:segment_edit": [url("catalog:segment_edit", pk=segment.pk)],
        "catalog:segment_delete": [url("catalog:segment_delete", pk=segment.pk)],
        "catalog:segment_price_create": [url("catalog:segment_price_create", pk=segment.pk)],
        "catalog:segment_price_edit": [url("catalog:segment_price_edit", pk=segment.pk, price_pk=segment_price.pk)],
        "catalog:customer_price_edit": [url("catalog:customer_price_edit", pk=customer_price.pk)],
        "catalog:customer_price_delete": [url("catalog:customer_price_delete", pk=customer_price.pk)],
        "catalog:store": [url("catalog:store", tenant_pk=tenant.pk)],
        "catalog:store_offer": [url("catalog:store_offer", tenant_pk=tenant.pk, offer_pk=offer.pk)],
        "subscriptions:request_detail": [
            url("subscriptions:request_detail", pk=one(LicenseChangeRequest.objects.all()).pk)
        ],
        "subscriptions:tenant_license_settings": [url("subscriptions:tenant_license_settings", tenant_pk=tenant.pk)],
        "subscriptions:tenant_detail": [url("subscriptions:tenant_detail", tenant_pk=tenant.pk)],
        "customer_add_service": [url("customer_add_service", customer_pk=customer.pk)],
        "marketplace:tenant_create": [url("marketplace:tenant_create", customer_pk=customer.pk)],
        "marketplace:tenant_licences": [url("marketplace:tenant_licences", tenant_pk=tenant.pk)],
    }
    tenant_user = one(TenantUser.objects.filter(assignments__isnull=False))
    for name in ("tenant_user_list", "tenant_user_create"):
        pages[f"subscriptions:{name}"] = [url(f"subscriptions:{name}", tenant_pk=tenant_user.customer_tenant_id)]
    pages["subscriptions:tenant_user_detail"] = [
        url("subscriptions:tenant_user_detail", tenant_pk=tenant_user.customer_tenant_id, pk=tenant_user.pk)
    ]
    subscription = one(Subscription.objects.filter(customer_tenant=tenant))
    pages["subscriptions:subscription_options_edit"] = [
        url("subscriptions:subscription_options_edit", tenant_pk=tenant.pk, pk=subscription.pk)
    ]
    for name in ("marketplace_detail", "account_list", "account_create", "tenant_add"):
        pages[f"marketplace:{name}"] = [url(f"marketplace:{name}", marketplace=slug) for slug in marketplace_slugs]
    for name in ("account_detail", "account_delete", "account_prices", "account_prices_add"):
        pages[f"marketplace:{name}"] = [
            url(f"marketplace:{name}", marketplace=account.marketplace, account_pk=account.pk)
            for account in MarketplaceAccount.objects.order_by("pk")
        ]
    connection = one(TenantConnection.objects.all())
    for name in ("tenant_connect", "tenant_remove"):
        pages[f"marketplace:{name}"] = [
            url(f"marketplace:{name}", marketplace=connection.account.marketplace, connection_pk=connection.pk)
        ]
    # one subscription of each marketplace: the marketplaces' rule texts are on it
    per_marketplace = []
    for slug in marketplace_slugs:
        found = Subscription.objects.filter(account__marketplace=slug).order_by("pk").first()
        if found is not None:
            per_marketplace.append(found)
    pages["subscriptions:subscription_detail"] = [
        url("subscriptions:subscription_detail", pk=s.pk) for s in per_marketplace
    ]
    pages["subscriptions:subscription_manage"] = [
        url("subscriptions:subscription_manage", pk=subscription.pk, action="terminate")
    ]
    pages["subscriptions:subscription_add_on_add"] = [url("subscriptions:subscription_add_on_add", pk=subscription.pk)]
    with_add_on = next((s for s in Subscription.objects.exclude(add_ons=[]).order_by("pk") if s.add_ons), None)
    if with_add_on is not None:
        pages["subscriptions:subscription_add_on"] = [
            url("subscriptions:subscription_add_on", pk=with_add_on.pk, add_on=with_add_on.add_ons[0]["external_id"])
        ]
    order = one(Order.objects.exclude(status="draft"))
    draft = one(Order.objects.filter(status="draft"))
    quote = one(Quote.objects.all())
    pages["orders:order_detail"] = [url("orders:order_detail", order_pk=order.pk)]
    pages["orders:order_cart"] = [url("orders:order_cart", order_pk=draft.pk)]
    pages["orders:quote_detail"] = [url("orders:quote_detail", quote_pk=quote.pk)]
    pages["orders:quote_print"] = [url("orders:quote_print", quote_pk=quote.pk)]
    link = one(ResellerLink.objects.all())
    pages["resellers:map"] = [
        url("resellers:map", pk=one(ResellerLink.objects.filter(status=ResellerStatus.UNMAPPED)).pk)
    ]
    pages["resellers:delete"] = [url("resellers:delete", pk=link.pk)]
    allocation = one(PoolAllocation.objects.all())
    pages["pools:allocation_edit"] = [url("pools:allocation_edit", pk=allocation.pk)]
    pages["pools:allocation_return"] = [url("pools:allocation_return", pk=allocation.pk)]
    return pages


def english_strings(language: str) -> set[str]:
    """Source strings the language's catalog translates differently: seen on its screens, they are untranslated."""
    catalog = polib.pofile(str(Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.po"))
    entries = [entry for entry in catalog if not entry.obsolete and "fuzzy" not in entry.flags]
    # a word the language shares with English ("Position", "Type") is the translation of another message
    translations = {entry.msgstr for entry in entries if entry.msgstr}
    translations |= {text[:1].upper() + text[1:] for text in translations}
    return {
        entry.msgid
        for entry in entries
        if not entry.msgid_plural
        and entry.msgstr
        and entry.msgstr != entry.msgid
        and entry.msgid not in translations
        and re.search(r"[A-Za-z]{3}", entry.msgid)
    }


def raw_codes() -> set[str]:
    """What people must never read: the stored values of choices that have labels (audit actions, statuses),
    and the "<app>.<model>" names of object types."""
    codes = set()
    for model in apps.get_models():
        codes.add(f"{model._meta.app_label}.{model._meta.model_name}")
        for field in model._meta.get_fields():
            for value, _label in getattr(field, "flatchoices", None) or ():
                if isinstance(value, str) and re.fullmatch(r"[a-z]+([._][a-z]+)+", value):
                    codes.add(value)
    from portal.audit.choices import AuditAction

    codes.update(str(action.value) for action in AuditAction)
    return codes


def tenant_users_ensure() -> None:
    """Two Microsoft 365 users of a connected tenant, one holding a licence (the demo mirrors none: users come
    from a marketplace's user sync)."""
    from subscriptions.models import LicenseAssignment, Subscription, TenantUser

    connected = Subscription.objects.filter(customer_tenant__marketplace_connections__isnull=False).order_by("pk")
    subscription = connected.filter(account__marketplace="cloudmore").first() or connected.first()
    assert subscription is not None, "the demo has no subscription of a connected tenant"
    for number, name in ((1, "Megan Bowen"), (2, "Alex Wilber")):
        user, _created = TenantUser.objects.get_or_create(
            account=subscription.account,
            external_id=f"walk-user-{number}",
            defaults={
                "customer_tenant": subscription.customer_tenant,
                "user_name": f"{name.split()[0].lower()}@{subscription.customer_tenant.primary_domain}",
                "display_name": name,
            },
        )
        if number == 1:
            LicenseAssignment.objects.get_or_create(user=user, subscription=subscription)
