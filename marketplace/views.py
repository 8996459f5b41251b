"""Marketplace screens: the marketplace tiles, a marketplace's page with its tenants,
its accounts ("resellers") with Basics and Price customization tabs, and the tenant actions.

Views stay thin: they resolve the marketplace and the object through selectors (404 outside the
user's scope), check the MARKETPLACE permission, call one service and render.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from django_tables2 import RequestConfig

from catalog.forms import PriceApplicationForm
from catalog.pricing import percent_text
from marketplace.choices import AccountStatus, SyncTrigger
from marketplace.filters import TenantConnectionFilterSet
from marketplace.forms import (
    AccountCreateForm,
    AccountFieldForm,
    ConfirmWordForm,
    ConnectForm,
    PriceAddForm,
    TenantAddForm,
    UniformPriceForm,
    plan_label,
)
from marketplace.live import account_credit as live_account_credit
from marketplace.live import account_supports, tenant_licences
from marketplace.models import GdapRelationship, MarketplaceAccount
from marketplace.providers.base import Capability
from marketplace.providers.description import MarketplaceDescription
from marketplace.providers.registry import marketplaces, region_label
from marketplace.selectors import (
    account_first_sync_finished,
    account_marketplace_wait,
    account_sync_runs,
    customer_tenants_for_add,
    customers_for_tenant_add,
    gdap_relationships_visible_to,
    licences_for_price_add,
    marketplace_account_get,
    marketplace_accounts,
    marketplace_customers_for_connection,
    plans_for_price_add,
    price_rows,
    tenant_connection_get,
    tenant_connections_of,
    tenant_connections_visible_to,
)
from marketplace.services import (
    MarketplaceActionRefused,
    marketplace_account_create,
    marketplace_account_delete,
    marketplace_account_update,
    price_customization_add,
    price_customizations_delete,
    price_customizations_save,
    price_customizations_set_uniform,
    sync_run_active,
    sync_run_request,
    tenant_connection_add,
    tenant_connection_connect,
    tenant_connection_disconnect,
    tenant_connection_remove,
)
from marketplace.services_gdap import GDAP_LIVE_STATUSES, GDAP_WARNING_DAYS, gdap_days_left
from marketplace.services_health import ERROR, WARNING, credential_health
from marketplace.tables import MarketplaceAccountTable, TenantConnectionTable
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.permissions import (
    permission_check,
    permission_required,
    user_has_permission,
    user_sees_cost_prices,
)
from portal.core.htmx import partial_template, post_only

VIEW = AccessLevel.VIEW
MANAGE = AccessLevel.MANAGE
MARKETPLACE = PermissionModule.MARKETPLACE
PER_PAGE = 25
SYNC_RUNS_SHOWN = 10
#: URL slug of an inline-editable field -> the service's field name
ACCOUNT_FIELDS = {
    "display_name": "display_name",
    "region": "region",
    "username": "username",
    "password": "secret",
    "sync_interval": "sync_interval_minutes",
    "sync_concurrency": "sync_concurrency",
    "requests_per_second": "requests_per_second",
}


def _marketplace(slug: str) -> MarketplaceDescription:
    info = marketplaces().get(slug)
    if info is None:
        raise Http404(_("No such marketplace."))
    return info


def _can_manage(user) -> bool:
    return user_has_permission(user, MARKETPLACE, MANAGE)


def _require_manage(request: HttpRequest) -> None:
    if not _can_manage(request.user):
        raise PermissionDenied


def _account_url(name: str, account: MarketplaceAccount, **extra) -> str:
    return reverse(
        f"marketplace:{name}", kwargs={"marketplace": account.marketplace, "account_pk": account.pk, **extra}
    )


# -- index and marketplace page ------------------------------------------------------------------------------------


@permission_required(MARKETPLACE, VIEW)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    tiles = []
    for info in marketplaces().values():
        accounts = marketplace_accounts(marketplace=info.slug)
        tiles.append(
            {
                "info": info,
                "accounts": accounts.count(),
                "tenants": tenant_connections_visible_to(user=request.user, marketplace=info.slug).count(),
                "failing": accounts.filter(status=AccountStatus.FAILING).count(),
            }
        )
    return render(request, "marketplace/index.html", {"tiles": tiles})


@permission_required(MARKETPLACE, VIEW)
@require_GET
def marketplace_detail(request: HttpRequest, marketplace: str) -> HttpResponse:
    """Marketplace > ALSO: the Resellers tile and the module's tenants."""
    info = _marketplace(marketplace)
    accounts = marketplace_accounts(marketplace=info.slug)
    connections = tenant_connections_visible_to(user=request.user, marketplace=info.slug)
    filterset = TenantConnectionFilterSet(request.GET or None, queryset=connections, accounts=accounts)
    table = TenantConnectionTable(filterset.qs)
    table.context = {"marketplace": info, "can_manage": _can_manage(request.user)}
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    context = {
        "marketplace": info,
        "accounts_count": accounts.count(),
        "failing_accounts": accounts.filter(status=AccountStatus.FAILING).count(),
        "connected_count": connections.filter(account__isnull=False).count(),
        "tenant_count": connections.count(),
        "filter": filterset,
        "table": table,
        "can_manage": _can_manage(request.user),
        "filtered": any(request.GET.get(name) for name in ("q", "state", "account")),
    }
    return render(request, partial_template(request, "marketplace/marketplace_detail.html", "results"), context)


# -- accounts ("resellers") ---------------------------------------------------------------------------------------


@permission_required(MARKETPLACE, VIEW)
@require_GET
def account_list(request: HttpRequest, marketplace: str) -> HttpResponse:
    info = _marketplace(marketplace)
    table = MarketplaceAccountTable(marketplace_accounts(marketplace=info.slug))
    table.context = {"marketplace": info, "can_manage": _can_manage(request.user)}
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    return render(
        request,
        "marketplace/account_list.html",
        {"marketplace": info, "table": table, "can_manage": _can_manage(request.user)},
    )


@permission_required(MARKETPLACE, MANAGE)
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest, marketplace: str) -> HttpResponse:
    info = _marketplace(marketplace)
    form = AccountCreateForm(request.POST or None, marketplace=info)
    if request.method == "POST" and form.is_valid():
        try:
            account = marketplace_account_create(
                actor=request.user,
                marketplace=info.slug,
                display_name=form.cleaned_data["display_name"],
                region=form.cleaned_data["region"],
                username=form.cleaned_data["username"],
                secret=form.cleaned_data["password"],
                options=form.options,
            )
        except MarketplaceActionRefused as refusal:
            form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
        else:
            messages.success(
                request, _("%(name)s was added. Its first sync has started.") % {"name": account.display_name}
            )
            return redirect(_account_url("account_detail", account))
    return render(request, "marketplace/account_form.html", {"marketplace": info, "form": form})


OPTION_SLUG_PREFIX = "option_"


def _service_field(info: MarketplaceDescription, slug: str) -> str | None:
    """URL slug of an inline-editable field -> the field name AccountFieldForm takes."""
    if slug.startswith(OPTION_SLUG_PREFIX):
        name = slug.removeprefix(OPTION_SLUG_PREFIX)
        return f"option:{name}" if info.option(name) else None
    return ACCOUNT_FIELDS.get(slug)


def _account_fields(account: MarketplaceAccount) -> list[dict]:
    info = marketplaces().get(account.marketplace)
    stored = account.options or {}
    options = []
    for option in info.options if info else ():
        if option.secret:
            display = "••••••••" if option.required or account.secret_options_ciphertext else "—"
        else:
            value = stored.get(option.name, "")
            display = str(dict(option.choices).get(value, value)) if value else "—"
        options.append({"slug": f"{OPTION_SLUG_PREFIX}{option.name}", "label": option.label, "display": display})
    return [
        {"slug": "display_name", "label": _("Display name"), "display": account.display_name},
        {
            "slug": "region",
            "label": info.region_label if info else _("Region"),
            "display": region_label(account.marketplace, account.region),
        },
        {"slug": "username", "label": info.username_label if info else _("Username"), "display": account.username},
        {"slug": "password", "label": info.secret_label if info else _("Password"), "display": "••••••••"},
        *options,
        {
            "slug": "sync_interval",
            "label": _("Sync interval"),
            "display": _("every %(minutes)d minutes") % {"minutes": account.sync_interval_minutes},
        },
        {
            "slug": "sync_concurrency",
            "label": _("Requests in flight during a sync"),
            "display": account.sync_concurrency
            or (_("%(default)d (the marketplace's default)") % {"default": info.sync_concurrency} if info else "—"),
        },
        {
            "slug": "requests_per_second",
            "label": _("Requests per second"),
            "display": account.requests_per_second
            or (_("%(default)d (the marketplace's default)") % {"default": info.requests_per_second} if info else "—"),
        },
    ]


SYNC_KINDS_SHOWN = (
    ("customers", gettext_lazy("Customers")),
    ("offers", gettext_lazy("Plans")),
    ("subscriptions", gettext_lazy("Subscriptions")),
)


def _sync_context(account: MarketplaceAccount) -> dict:
    active_run = sync_run_active(account=account)
    return {
        "active_run": active_run,
        "marketplace_wait": account_marketplace_wait(account=account) if active_run else 0,
        "sync_runs": account_sync_runs(account=account, limit=SYNC_RUNS_SHOWN),
        "kinds": SYNC_KINDS_SHOWN,
    }


@permission_required(MARKETPLACE, VIEW)
@require_GET
def account_detail(request: HttpRequest, marketplace: str, account_pk: int) -> HttpResponse:
    """The Basics tab: the account's fields (pencil to edit), its status, its sync runs."""
    info = _marketplace(marketplace)
    account = marketplace_account_get(marketplace=info.slug, pk=account_pk)
    context = {
        "marketplace": info,
        "account": account,
        "fields": _account_fields(account),
        "can_manage": _can_manage(request.user),
        "can_see_prices": user_sees_cost_prices(request.user),
        "tab": "basics",
        "shows_credit": account_supports(account, Capability.READ_CREDIT_LIMIT) and user_sees_cost_prices(request.user),
        **_sync_context(account),
    }
    return render(request, "marketplace/account_detail.html", context)


@permission_required(MARKETPLACE, VIEW)
@require_GET
def account_credit(request: HttpRequest, marketplace: str, account_pk: int) -> HttpResponse:
    """The credit limit the marketplace grants the account and what remains (loaded into the Basics tab)."""
    info = _marketplace(marketplace)
    account = marketplace_account_get(marketplace=info.slug, pk=account_pk)
    if not account_supports(account, Capability.READ_CREDIT_LIMIT) or not user_sees_cost_prices(request.user):
        raise Http404(_("This marketplace shows no credit limit."))
    context = {"marketplace": info, "account": account, "credit": live_account_credit(account=account)}
    return render(request, "marketplace/partials/account_credit.html", context)


def _gdap_rows(relationships, now) -> list[dict]:
    return [
        {"relationship": relationship, "days_left": gdap_days_left(relationship=relationship, now=now)}
        for relationship in relationships
    ]


@permission_required(MARKETPLACE, VIEW)
@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """Credential and consent health: what failed, and what stops working within 30 days."""
    items = credential_health(user=request.user)
    return render(request, "marketplace/health.html", {"items": items})


@login_required
@require_GET
def health_tile(request: HttpRequest) -> HttpResponse:
    """The dashboard tile (loaded into the home page); empty for whoever may not see marketplaces."""
    if not user_has_permission(request.user, MARKETPLACE, VIEW):
        return HttpResponse("")
    items = credential_health(user=request.user)
    context = {
        "errors": sum(1 for item in items if item.severity == ERROR),
        "warnings": sum(1 for item in items if item.severity == WARNING),
    }
    return render(request, "marketplace/partials/health_tile.html", context)


@permission_required(MARKETPLACE, VIEW)
@require_GET
def gdap(request: HttpRequest) -> HttpResponse:
    """GDAP relationships with customer tenants: a calendar of the ends to come, the live ones, history."""
    now = timezone.now()
    visible = gdap_relationships_visible_to(user=request.user)
    live = list(visible.filter(removed_at__isnull=True, status__in=GDAP_LIVE_STATUSES).order_by("ends_at", "pk"))
    pending = list(
        visible.filter(removed_at__isnull=True).exclude(status__in=GDAP_LIVE_STATUSES).exclude(status="expired")
    )
    history = list(visible.filter(Q(removed_at__isnull=False) | Q(status="expired")).order_by("-ends_at", "pk"))
    months: dict[tuple[int, int], list] = {}
    for relationship in live:
        if relationship.ends_at and relationship.ends_at <= now + timedelta(days=366):
            local = timezone.localtime(relationship.ends_at)
            months.setdefault((local.year, local.month), []).append(relationship)
    calendar = [
        {"month": date(year, month, 1), "relationships": rows} for (year, month), rows in sorted(months.items())
    ]
    context = {
        "live": _gdap_rows(live, now),
        "pending": _gdap_rows(pending, now),
        "history": _gdap_rows(history, now),
        "calendar": calendar,
        "warning_days": max(GDAP_WARNING_DAYS),
    }
    return render(request, "marketplace/gdap.html", context)


@permission_required(PermissionModule.CUSTOMERS, VIEW)
@require_GET
def customer_tenant_licences(request: HttpRequest, tenant_pk: int) -> HttpResponse:
    """A customer tenant's licences at each marketplace that can tell: seats purchased against assigned."""
    tenant, connections = tenant_connections_of(user=request.user, customer_tenant_pk=tenant_pk)
    now = timezone.now()
    relationships = GdapRelationship.objects.filter(customer_tenant=tenant).order_by("removed_at", "-ends_at", "pk")
    context = {
        "tenant": tenant,
        "customer": tenant.customer,
        "answers": tenant_licences(connections=connections),
        "gdap": _gdap_rows(relationships, now),
    }
    return render(request, "marketplace/tenant_licences.html", context)


@permission_required(MARKETPLACE, VIEW)
@require_GET
def account_field(request: HttpRequest, marketplace: str, account_pk: int, field: str) -> HttpResponse:
    """One field shown (what "Cancel" of an inline edit returns)."""
    info = _marketplace(marketplace)
    account = marketplace_account_get(marketplace=info.slug, pk=account_pk)
    shown = next((item for item in _account_fields(account) if item["slug"] == field), None)
    if shown is None:
        raise Http404(_("No such field."))
    if not request.htmx:
        return redirect(_account_url("account_detail", account))
    context = {"marketplace": info, "account": account, "field": shown, "can_manage": _can_manage(request.user)}
    return render(request, "marketplace/account_detail.html#field_value", context)


@permission_required(MARKETPLACE, VIEW)
@require_http_methods(["GET", "POST"])
def account_field_edit(request: HttpRequest, marketplace: str, account_pk: int, field: str) -> HttpResponse:
    """Edit one field inline. New credentials are tried at the marketplace before they are saved."""
    info = _marketplace(marketplace)
    account = marketplace_account_get(marketplace=info.slug, pk=account_pk)
    field_name = _service_field(info, field)
    if field_name is None:
        raise Http404(_("No such field."))
    _require_manage(request)
    form = AccountFieldForm(request.POST or None, field_name=field_name, marketplace=info, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            account = marketplace_account_update(actor=request.user, account=account, changes=form.changes)
        except MarketplaceActionRefused as refusal:
            form.add_error("value", refusal.message)
        else:
            messages.success(request, _("%(name)s was saved.") % {"name": account.display_name})
            if not request.htmx:
                return redirect(_account_url("account_detail", account))
            shown = next(item for item in _account_fields(account) if item["slug"] == field)
            context = {
                "marketplace": info,
                "account": account,
                "field": shown,
                "can_manage": True,
                "renamed": field == "display_name",
            }
            return render(request, "marketplace/account_detail.html#field_value", context)
    shown = next(item for item in _account_fields(account) if item["slug"] == field)
    context = {
        "marketplace": info,
        "account": account,
        "fields": _account_fields(account),
        "field": shown,
        "form": form,
        "editing": field,
        "can_manage": True,
        "can_see_prices": user_sees_cost_prices(request.user),
        "tab": "basics",
        **_sync_context(account),
    }
    return render(request, partial_template(request, "marketplace/account_detail.html", "field_form"), context)


@permission_required(MARKETPLACE, MANAGE)
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest, marketplace: str, account_pk: int) -> HttpResponse:
    info = _marketplace(marketplace)
    account = marketplace_account_get(marketplace=info.slug, pk=account_pk)
    refusal = None
    if request.method == "POST":
        try:
            marketplace_account_delete(actor=request.user, account=account)
        except MarketplaceActionRefused as error:
            refusal = error.message
        else:
            messages.success(request, _("%(name)s was deleted.") % {"name": account.display_name})
            return redirect("marketplace:account_list", marketplace=info.slug)
    return render(
        request,
        "marketplace/account_delete.html",
        {"marketplace": info, "account": account, "refusal": refusal},
        status=409 if refusal else 200,
    )


@permission_required(MARKETPLACE, VIEW)
@require_http_methods(["GET", "POST"])
def account_sync(request: HttpRequest, marketplace: str, account_pk: int) -> HttpResponse:
    """ "Sync now": queue a sync (or show the one running) and answer the live sync panel."""
    info = _marketplace(marketplace)
    account = marketplace_account_get(marketplace=info.slug, pk=account_pk)
    if (not_allowed := post_only(request)) is not None:
        return not_allowed
    _require_manage(request)
    sync_run_request(actor=request.user, account=account, trigger=SyncTrigger.MANUAL)
    if not request.htmx:
        messages.info(request, _("The sync of %(name)s has started.") % {"name": account.display_name})
        return redirect(_account_url("account_detail", account))
    context = {"marketplace": info, "account": account, "can_manage": True, **_sync_context(account)}
    return render(request, "marketplace/account_detail.html#sync_panel", context)


@permission_required(MARKETPLACE, VIEW)
@require_GET
def account_sync_status(request: HttpRequest, marketplace: str, account_pk: int) -> HttpResponse:
    """The sync panel alone: htmx polls it while a sync is queued or running."""
    info = _marketplace(marketplace)
    account = marketplace_account_get(marketplace=info.slug, pk=account_pk)
    context = {
        "marketplace": info,
        "account": account,
        "can_manage": _can_manage(request.user),
        **_sync_context(account),
    }
    return render(request, "marketplace/account_detail.html#sync_panel", context)


# -- price customization ----------------------------------------------------------------------------------------


def _prices_account(
    request: HttpRequest, marketplace: str, account_pk: int
) -> tuple[MarketplaceDescription, MarketplaceAccount]:
    info = _marketplace(marketplace)
    account = marketplace_account_get(marketplace=info.slug, pk=account_pk)
    if not user_sees_cost_prices(request.user):
        raise PermissionDenied  # reseller prices are the partner's cost prices
    return info, account


def _price_application_errors(form: PriceApplicationForm) -> str:
    """The apply-to-existing-subscriptions choice's errors as one message (the table has no field to mark)."""
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def _selected_rows(request: HttpRequest) -> list[tuple[int, str]]:
    rows = []
    for value in request.POST.getlist("selected"):
        offer_id, _separator, currency = value.partition(":")
        if offer_id.isdigit() and currency.isalpha() and len(currency) == 3:
            rows.append((int(offer_id), currency.upper()))
    return rows


@permission_required(MARKETPLACE, VIEW)
@require_http_methods(["GET", "POST"])
def account_prices(request: HttpRequest, marketplace: str, account_pk: int) -> HttpResponse:
    """The Price customization tab: plans with the reseller price and an editable Price column."""
    info, account = _prices_account(request, marketplace, account_pk)
    search = request.GET.get("q", "").strip()
    if request.method == "POST":
        _require_manage(request)
        prices = {}
        for key, value in request.POST.items():
            if key.startswith("price-"):
                offer_id, _separator, currency = key.removeprefix("price-").partition(":")
                if offer_id.isdigit() and len(currency) == 3:
                    prices[(int(offer_id), currency)] = value
        apply_form = PriceApplicationForm(request.POST)
        try:
            if not apply_form.is_valid():
                raise MarketplaceActionRefused(_price_application_errors(apply_form))
            changed = price_customizations_save(
                actor=request.user, account=account, prices=prices, apply=apply_form.price_apply()
            )
        except MarketplaceActionRefused as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, _("%(count)d price(s) saved.") % {"count": changed})
            return redirect(_account_url("account_prices", account))
    retrieved = account_first_sync_finished(account=account)
    rows = price_rows(account=account, search=search) if retrieved else []
    context = {
        "marketplace": info,
        "account": account,
        "rows": rows,
        "retrieved": retrieved,
        "active_run": sync_run_active(account=account),
        "search": search,
        "can_manage": _can_manage(request.user),
        "can_see_prices": True,
        "uniform_form": UniformPriceForm(),
        "apply_form": PriceApplicationForm(),
        "tab": "prices",
    }
    return render(request, partial_template(request, "marketplace/account_prices.html", "price_table"), context)


@permission_required(MARKETPLACE, VIEW)
@require_http_methods(["GET", "POST"])
def account_prices_uniform(request: HttpRequest, marketplace: str, account_pk: int) -> HttpResponse:
    """ "Set a uniform price" for the selected plans: a percentage over the reseller price."""
    _info, account = _prices_account(request, marketplace, account_pk)
    if (not_allowed := post_only(request)) is not None:
        return not_allowed
    _require_manage(request)
    form = UniformPriceForm(request.POST)
    apply_form = PriceApplicationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the increase as a percentage, for example 15."))
    elif not apply_form.is_valid():
        messages.error(request, _price_application_errors(apply_form))
    else:
        try:
            saved = price_customizations_set_uniform(
                actor=request.user,
                account=account,
                rows=_selected_rows(request),
                percentage=form.cleaned_data["percentage"],
                apply=apply_form.price_apply(),
            )
        except MarketplaceActionRefused as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(
                request,
                _("%(count)d price(s) set to the reseller price %(percentage)s %%.")
                % {"count": len(saved), "percentage": percent_text(form.cleaned_data["percentage"], signed=True)},
            )
    return redirect(_account_url("account_prices", account))


@permission_required(MARKETPLACE, VIEW)
@require_http_methods(["GET", "POST"])
def account_prices_delete(request: HttpRequest, marketplace: str, account_pk: int) -> HttpResponse:
    """Delete the selected price records, after a confirmation that lists them."""
    info, account = _prices_account(request, marketplace, account_pk)
    if (not_allowed := post_only(request)) is not None:
        return not_allowed
    _require_manage(request)
    rows = _selected_rows(request)
    if not rows:
        messages.error(request, _("Select the records to delete first."))
        return redirect(_account_url("account_prices", account))
    apply_form = PriceApplicationForm(request.POST if request.POST.get("confirmed") == "1" else None)
    if request.POST.get("confirmed") != "1" or not apply_form.is_valid():
        keys = {f"{offer_id}:{currency}" for offer_id, currency in rows}
        chosen = [row for row in price_rows(account=account) if row.key in keys and row.customization]
        context = {"marketplace": info, "account": account, "rows": chosen, "form": apply_form}
        return render(request, "marketplace/account_prices_delete.html", context)
    deleted = price_customizations_delete(
        actor=request.user, account=account, rows=rows, apply=apply_form.price_apply()
    )
    messages.success(request, _("%(count)d price record(s) deleted.") % {"count": deleted})
    return redirect(_account_url("account_prices", account))


@permission_required(MARKETPLACE, VIEW)
@require_http_methods(["GET", "POST"])
def account_prices_add(request: HttpRequest, marketplace: str, account_pk: int) -> HttpResponse:
    """ "Add licence and configure price": license, then one of its plans at the marketplace, then currency."""
    info, account = _prices_account(request, marketplace, account_pk)
    _require_manage(request)
    data = request.POST if request.method == "POST" else request.GET
    licences = licences_for_price_add(account=account)
    licence = data.get("licence", "")
    plans = plans_for_price_add(account=account, product_id=licence) if licence else []
    form = PriceAddForm(
        data if request.method == "POST" else None, licences=licences, plans=plans, initial={"licence": licence}
    )
    if request.method == "POST" and form.is_valid():
        try:
            price_customization_add(
                actor=request.user,
                account=account,
                offer_id=form.cleaned_data["offer"],
                currency=form.cleaned_data["currency"],
                price=form.cleaned_data["price"],
            )
        except MarketplaceActionRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, _("The price record was added."))
            return redirect(_account_url("account_prices", account))
    context = {
        "marketplace": info,
        "account": account,
        "form": form,
        "licence": licence,
        "plans": [(plan.pk, plan_label(plan), plan.cost_price, plan.currency) for plan in plans],
        "retrieved": bool(licences),
    }
    return render(request, partial_template(request, "marketplace/account_prices_add.html", "plan_choices"), context)


# -- tenants ------------------------------------------------------------------------------------------------------


@permission_required(MARKETPLACE, MANAGE)
@require_http_methods(["GET", "POST"])
def tenant_add(request: HttpRequest, marketplace: str) -> HttpResponse:
    """ "Add tenant": choose a customer, then one of its consented tenants."""
    info = _marketplace(marketplace)
    customers = customers_for_tenant_add(user=request.user)
    data = request.POST if request.method == "POST" else request.GET
    customer = None
    if data.get("customer", "").isdigit():
        customer = customers.filter(pk=int(data["customer"])).first()
    tenants = customer_tenants_for_add(user=request.user, marketplace=info.slug, customer=customer) if customer else []
    # a Save with nothing chosen is bound too, so the customer field says what is missing
    bound = request.method == "POST" or bool(data.get("customer"))
    form = TenantAddForm(data if bound else None, customers=customers, tenants=tenants)
    if request.method == "POST" and form.is_valid():
        chosen = next((tenant for tenant in tenants if tenant.pk == form.cleaned_data["customer_tenant"]), None)
        if chosen is None:
            form.add_error("customer_tenant", _("Choose one of the customer's tenants."))
        else:
            try:
                tenant_connection_add(actor=request.user, marketplace=info.slug, customer_tenant=chosen)
            except MarketplaceActionRefused as refusal:
                form.add_error("customer_tenant", refusal.message)
            else:
                messages.success(
                    request,
                    _("Tenant %(tenant)s was added to %(marketplace)s. Connect it to a customer there next.")
                    % {"tenant": chosen, "marketplace": info.name},
                )
                return redirect("marketplace:marketplace_detail", marketplace=info.slug)
    context = {"marketplace": info, "form": form, "customer": customer, "tenants": tenants}
    return render(request, partial_template(request, "marketplace/tenant_add.html", "tenant_choices"), context)


@permission_required(MARKETPLACE, VIEW)
@require_http_methods(["GET", "POST"])
def tenant_connect(request: HttpRequest, marketplace: str, connection_pk: int) -> HttpResponse:
    """ "Connect to ALSO" and "Edit connection": choose an account, then the customer at the marketplace."""
    info = _marketplace(marketplace)
    connection = tenant_connection_get(user=request.user, marketplace=info.slug, pk=connection_pk)
    permission_check(request.user, MARKETPLACE, MANAGE)  # after the scoped lookup: out of scope is 404
    accounts = marketplace_accounts(marketplace=info.slug)
    data = request.POST if request.method == "POST" else request.GET
    account = None
    account_value = data.get("account") or (str(connection.account_id) if connection.account_id else "")
    if account_value.isdigit():
        account = accounts.filter(pk=int(account_value)).first()
    customers = marketplace_customers_for_connection(account=account, connection=connection) if account else None
    initial = {"account": account, "customer": None}
    if account is not None and connection.account_id == account.pk and customers is not None:
        initial["customer"] = customers.filter(external_id=connection.external_customer_id).first()
    form = ConnectForm(
        request.POST if request.method == "POST" else None,
        accounts=accounts,
        customers=customers if customers is not None else accounts.none(),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            tenant_connection_connect(
                actor=request.user,
                connection=connection,
                account=form.cleaned_data["account"],
                marketplace_customer=form.cleaned_data["customer"],
            )
        except MarketplaceActionRefused as refusal:
            form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
        else:
            messages.success(
                request,
                _("Tenant %(tenant)s is connected to %(customer)s. Its subscriptions are being synced.")
                % {"tenant": connection.customer_tenant, "customer": form.cleaned_data["customer"].name},
            )
            return redirect("marketplace:marketplace_detail", marketplace=info.slug)
    context = {
        "marketplace": info,
        "connection": connection,
        "form": form,
        "account": account,
        "customers": customers,
        "account_synced": account_first_sync_finished(account=account) if account else False,
    }
    return render(request, partial_template(request, "marketplace/tenant_connect.html", "customer_choices"), context)


@permission_required(MARKETPLACE, VIEW)
@require_http_methods(["GET", "POST"])
def tenant_disconnect(request: HttpRequest, marketplace: str, connection_pk: int) -> HttpResponse:
    """ "Disconnect from ALSO": confirm, and the tenant stays in the module unmapped."""
    info = _marketplace(marketplace)
    connection = tenant_connection_get(user=request.user, marketplace=info.slug, pk=connection_pk)
    permission_check(request.user, MARKETPLACE, MANAGE)  # after the scoped lookup: out of scope is 404
    if request.method == "POST":
        try:
            tenant_connection_disconnect(actor=request.user, connection=connection)
        except MarketplaceActionRefused as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(
                request,
                _("Tenant %(tenant)s was disconnected from %(marketplace)s.")
                % {"tenant": connection.customer_tenant, "marketplace": info.name},
            )
        return redirect("marketplace:marketplace_detail", marketplace=info.slug)
    return render(request, "marketplace/tenant_disconnect.html", {"marketplace": info, "connection": connection})


@permission_required(MARKETPLACE, VIEW)
@require_http_methods(["GET", "POST"])
def tenant_remove(request: HttpRequest, marketplace: str, connection_pk: int) -> HttpResponse:
    """ "Disconnect tenant": take the tenant out of the module; the user types Yes."""
    info = _marketplace(marketplace)
    connection = tenant_connection_get(user=request.user, marketplace=info.slug, pk=connection_pk)
    permission_check(request.user, MARKETPLACE, MANAGE)  # after the scoped lookup: out of scope is 404
    form = ConfirmWordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tenant_connection_remove(
                actor=request.user, connection=connection, confirmation=form.cleaned_data["confirmation"]
            )
        except MarketplaceActionRefused as refusal:
            form.add_error("confirmation", refusal.message)
        else:
            messages.success(
                request,
                _("Tenant %(tenant)s was removed from %(marketplace)s.")
                % {"tenant": connection.customer_tenant, "marketplace": info.name},
            )
            return redirect("marketplace:marketplace_detail", marketplace=info.slug)
    return render(
        request, "marketplace/tenant_remove.html", {"marketplace": info, "connection": connection, "form": form}
    )
