"""Subscriptions screens: the list with Apply changes, details with Manage subscription,
add-ons and audit logs, and the commitment calendar. Views stay thin: parse, call, render."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.pricing import guardrails_check
from marketplace.providers.base import Capability
from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.accounts.permissions import permission_required, user_has_permission, user_sees_cost_prices
from portal.accounts.services import user_preference_set
from portal.core.htmx import partial_for_target, partial_template
from subscriptions.choices_lifecycle import ScheduledChangeStatus
from subscriptions.commitment import (
    ChangePreview,
    commitment_window,
    marketplace_name,
    marketplace_rule,
    marketplace_supports,
    quantity_change_preview,
    termination_preview,
)
from subscriptions.filters_subscriptions import CalendarFilterForm, SubscriptionFilterSet
from subscriptions.forms_lifecycle import (
    AddOnAddForm,
    AddOnChangeForm,
    AutoRenewForm,
    BillingCycleForm,
    ColumnsForm,
    ConfirmForm,
    ConvertTrialForm,
    FriendlyNameForm,
    QuantityForm,
)
from subscriptions.models import ScheduledChange, Subscription
from subscriptions.selectors_prices import subscription_price_history
from subscriptions.selectors_subscriptions import (
    commitment_calendar,
    customer_unit_prices,
    scheduled_changes_visible_to,
    subscription_audit_events,
    subscription_friendly_name,
    subscription_get,
    subscription_money,
    subscription_po_number,
    subscription_rows_grouped,
    subscription_version,
    subscriptions_for_list,
    subscriptions_visible_to,
)
from subscriptions.services_lifecycle import (
    LifecycleConflict,
    LifecycleRefused,
    QuantityChange,
    action_availability,
    action_specs,
    add_on_add,
    add_on_change,
    add_on_find,
    add_on_offers,
    add_on_remove,
    conversion_offers,
    scheduled_change_cancel,
    subscription_action,
    subscription_friendly_name_set,
    subscription_quantity_change,
    subscription_trial_convert,
    subscriptions_quantities_change,
)
from subscriptions.services_requests import RequestRefused, license_change_requests_create
from subscriptions.tables_subscriptions import COLUMNS_PREFERENCE, chosen_columns, column_choices

VIEW = AccessLevel.VIEW
MANAGE = AccessLevel.MANAGE
SUBSCRIPTIONS = PermissionModule.SUBSCRIPTIONS
PER_PAGE = 50
AUDIT_EVENTS_SHOWN = 100
DETAIL_TABS = ("basics", "add_ons", "audit")
MANAGE_ACTIONS = (
    "terminate",
    "revoke_termination",
    "suspend",
    "reactivate",
    "billing_cycle",
    "convert_trial",
    "auto_renew",
    "friendly_name",
)


def can_act(user) -> bool:
    """Lifecycle actions are the partner's: a partner user with Subscriptions "manage"."""
    return user.kind == UserKind.PARTNER and user_has_permission(user, SUBSCRIPTIONS, MANAGE)


def can_request(user) -> bool:
    """Customer tenant admins ask for licence changes (licence change requests) instead of acting."""
    return user.kind == UserKind.CUSTOMER_ADMIN and user_has_permission(user, SUBSCRIPTIONS, MANAGE)


def _subscription_or_404(request: HttpRequest, pk: int) -> Subscription:
    try:
        return subscription_get(user=request.user, pk=pk)
    except Subscription.DoesNotExist as missing:
        raise Http404 from missing


def _form_status(request: HttpRequest, form) -> int:
    """200 for a form shown, 400 for bad input, 409 when a rule or a conflict refused valid input."""
    if request.method != "POST":
        return 200
    return 409 if not any(name for name in form.errors if name != "__all__") and form.non_field_errors() else 400


def _require_act(request: HttpRequest) -> None:
    if not can_act(request.user):
        raise PermissionDenied


# -- list --------------------------------------------------------------------------------------------------------------


def _list_context(request: HttpRequest, *, embed_customer=None) -> dict:
    data = request.GET.copy()
    if embed_customer is not None:
        data["customer"] = str(embed_customer.pk)
    filterset = SubscriptionFilterSet(
        data or None, queryset=subscriptions_for_list(user=request.user), user=request.user
    )
    sees_cost = user_sees_cost_prices(request.user)
    page = Paginator(filterset.qs, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "filterset": filterset,
        "page": page,
        "groups": subscription_rows_grouped(page.object_list),
        "columns": chosen_columns(request.user.preferences, sees_cost=sees_cost),
        "columns_form": ColumnsForm(
            initial={
                "columns": [column.key for column in chosen_columns(request.user.preferences, sees_cost=sees_cost)],
                "query": request.GET.urlencode(),
            },
            choices=column_choices(sees_cost=sees_cost),
        ),
        "sees_cost": sees_cost,
        "can_act": can_act(request.user),
        "can_request": can_request(request.user),
        "query": f"customer={embed_customer.pk}" if embed_customer is not None else query.urlencode(),
        "embed_customer": embed_customer,
    }


@permission_required(SUBSCRIPTIONS, VIEW)
@require_GET
def subscription_list(request: HttpRequest) -> HttpResponse:
    embed_customer = None
    if request.GET.get("embed") == "customer":
        from customers.selectors import customers_visible_to

        embed_customer = get_object_or_404(customers_visible_to(user=request.user), pk=request.GET.get("customer") or 0)
        return render(
            request,
            "subscriptions/subscription_list.html#results",
            _list_context(request, embed_customer=embed_customer),
        )
    template = partial_template(request, "subscriptions/subscription_list.html", "results")
    return render(request, template, _list_context(request))


@permission_required(SUBSCRIPTIONS, VIEW)
@require_POST
def subscription_columns(request: HttpRequest) -> HttpResponse:
    sees_cost = user_sees_cost_prices(request.user)
    form = ColumnsForm(request.POST, choices=column_choices(sees_cost=sees_cost))
    query = ""
    if form.is_valid():
        user_preference_set(user=request.user, key=COLUMNS_PREFERENCE, value=form.cleaned_data["columns"])
        messages.success(request, _("Your columns were saved."))
        query = form.cleaned_data["query"]
    else:
        messages.error(request, _("Those columns are not available."))
    url = reverse("subscriptions:subscription_list")
    return HttpResponseRedirect(f"{url}?{query}" if query else url)


# -- Apply changes ----------------------------------------------------------------------------------------------------


@dataclass
class ProposedChange:
    subscription: Subscription
    quantity: int
    version: str
    preview: ChangePreview
    schedule: bool = True
    conflict: str = ""

    @property
    def current_version(self) -> str:
        """What the summary shows is the current state: confirming it applies over that."""
        return subscription_version(self.subscription)


def _proposed_changes(request: HttpRequest) -> tuple[list[ProposedChange], list[str]]:
    """The rows whose quantity the user edited (`q-<pk>` differs from `o-<pk>`), in scope, with previews."""
    wanted: dict[int, tuple[int, str]] = {}
    errors = []
    for key, value in request.POST.items():
        if not key.startswith("q-"):
            continue
        try:
            pk = int(key[2:])
        except ValueError:
            continue
        original = request.POST.get(f"o-{pk}", "")
        if value.strip() == original.strip():
            continue
        try:
            quantity = int(value)
        except ValueError:
            errors.append(_("“%(value)s” is not a whole number.") % {"value": value})
            continue
        if quantity < 1:
            errors.append(_("Quantities must be at least 1; terminate a subscription to end it."))
            continue
        wanted[pk] = (quantity, request.POST.get(f"v-{pk}", ""))
    subscriptions = subscriptions_visible_to(user=request.user).select_related(
        "account", "customer_tenant__customer", "options"
    )
    proposed = []
    for subscription in subscriptions.filter(pk__in=wanted).order_by("name", "pk"):
        quantity, version = wanted[subscription.pk]
        schedule = request.POST.get(f"s-{subscription.pk}", "1" if "confirm" not in request.POST else "") == "1"
        proposed.append(
            ProposedChange(
                subscription=subscription,
                quantity=quantity,
                version=version,
                preview=quantity_change_preview(subscription=subscription, quantity=quantity),
                schedule=schedule,
                conflict=(
                    _("Changed since you loaded the list: the quantity is now %(quantity)s.")
                    % {"quantity": subscription.quantity}
                    if version and version != subscription_version(subscription)
                    else ""
                ),
            )
        )
    return proposed, errors


@permission_required(SUBSCRIPTIONS, MANAGE)
@require_POST
def subscription_changes(request: HttpRequest) -> HttpResponse:
    """Apply changes: a summary to confirm first, then one order (per tenant and account), one line per change.
    Customer tenant admins send licence change requests instead."""
    if not (can_act(request.user) or can_request(request.user)):
        raise PermissionDenied
    proposed, errors = _proposed_changes(request)
    back = request.POST.get("back") or reverse("subscriptions:subscription_list")
    if not back.startswith("/"):
        back = reverse("subscriptions:subscription_list")
    context = {"proposed": proposed, "errors": errors, "back": back, "can_act": can_act(request.user)}
    if not proposed and not errors:
        messages.info(request, _("No quantity was changed: there is nothing to apply."))
        return HttpResponseRedirect(back)
    if request.POST.get("confirm") != "1" or errors:
        return render(request, "subscriptions/subscription_changes.html", context)
    if can_request(request.user):
        try:
            created = license_change_requests_create(
                actor=request.user, changes=[(change.subscription, change.quantity) for change in proposed]
            )
        except RequestRefused as refused:
            context["errors"] = [str(refused)]
            return render(request, "subscriptions/subscription_changes.html", context)
        messages.success(
            request,
            _("%(count)d licence change request(s) were sent to your provider for approval.") % {"count": len(created)},
        )
        return redirect("subscriptions:request_list")
    try:
        result = subscriptions_quantities_change(
            actor=request.user,
            changes=[
                QuantityChange(
                    subscription_id=change.subscription.pk,
                    quantity=change.quantity,
                    version=change.version or None,
                    schedule_if_needed=change.schedule,
                )
                for change in proposed
            ],
        )
    except LifecycleRefused as refused:
        context["errors"] = [str(refused)]
        # Show the current state, keeping the user's values.
        proposed, _errors = _proposed_changes(request)
        context["proposed"] = proposed
        return render(request, "subscriptions/subscription_changes.html", context, status=409)
    if result.orders:
        messages.success(
            request,
            _("%(orders)s placed: the marketplace applies the changes in the background.")
            % {"orders": ", ".join(str(order) for order in result.orders)},
        )
    if result.scheduled:
        messages.success(
            request, _("%(count)d decrease(s) scheduled for the renewal.") % {"count": len(result.scheduled)}
        )
    return HttpResponseRedirect(back)


# -- detail ------------------------------------------------------------------------------------------------------------


def _manage_actions(subscription: Subscription) -> list:
    return [action_availability(subscription=subscription, key=key) for key in MANAGE_ACTIONS]


def _detail_context(request: HttpRequest, subscription: Subscription, *, tab: str, quantity_form=None) -> dict:
    prices = customer_unit_prices([subscription])
    sees_cost = user_sees_cost_prices(request.user)
    context = {
        "subscription": subscription,
        "tab": tab,
        "tabs": DETAIL_TABS,
        "friendly_name": subscription_friendly_name(subscription),
        "po_number": subscription_po_number(subscription),
        "price_history": subscription_price_history(subscription=subscription)[:24],
        "money": subscription_money(subscription, prices.get(subscription.pk)),
        "sees_cost": sees_cost,
        "window": commitment_window(subscription=subscription),
        "termination": termination_preview(subscription=subscription),
        "marketplace_name": marketplace_name(subscription.account.marketplace),
        "quantity_rule": marketplace_rule(subscription.account.marketplace, Capability.CHANGE_QUANTITY),
        "can_change_quantity": marketplace_supports(subscription.account.marketplace, Capability.CHANGE_QUANTITY),
        "can_act": can_act(request.user),
        "can_request": can_request(request.user),
        "is_partner": request.user.kind == UserKind.PARTNER,
        "version": subscription_version(subscription),
        "scheduled": getattr(subscription, "pending_scheduled_changes", []),
        "scheduled_history": subscription.scheduled_changes.exclude(status=ScheduledChangeStatus.SCHEDULED)[:10],
        "actions": _manage_actions(subscription),
        "quantity_form": quantity_form
        or QuantityForm(initial={"quantity": subscription.quantity, "version": subscription_version(subscription)}),
    }
    if tab == "add_ons":
        context["add_ons"] = subscription.add_ons or []
        context["add_on_offers_available"] = add_on_offers(subscription=subscription).exists()
        context["add_on_capabilities"] = {
            "add": marketplace_supports(subscription.account.marketplace, Capability.ADD_ADD_ON),
            "change": marketplace_supports(subscription.account.marketplace, Capability.CHANGE_ADD_ON),
            "remove": marketplace_supports(subscription.account.marketplace, Capability.REMOVE_ADD_ON),
        }
    if tab == "audit":
        context["events"] = subscription_audit_events(subscription=subscription)[:AUDIT_EVENTS_SHOWN]
    return context


@permission_required(SUBSCRIPTIONS, VIEW)
@require_GET
def subscription_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription_or_404(request, pk)
    tab = request.GET.get("tab", "basics")
    if tab not in DETAIL_TABS:
        tab = "basics"
    template = partial_for_target(
        request, "subscriptions/subscription_detail.html", {"audit-events": "audit"}, default="tab_content"
    )
    return render(request, template, _detail_context(request, subscription, tab=tab))


@permission_required(SUBSCRIPTIONS, VIEW)
@require_http_methods(["GET", "POST"])
def subscription_quantity(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the commitment preview for a quantity (htmx, as the user types). POST: change it, or schedule it."""
    subscription = _subscription_or_404(request, pk)
    if request.method == "GET":
        form = QuantityForm(request.GET or None)
        preview = None
        if form.is_valid():
            preview = quantity_change_preview(subscription=subscription, quantity=form.cleaned_data["quantity"])
        return render(
            request,
            "subscriptions/subscription_detail.html#quantity_preview",
            {"subscription": subscription, "preview": preview, "form": form},
        )
    if can_request(request.user):
        return redirect(f"{reverse('subscriptions:request_create')}?subscription={subscription.pk}")
    _require_act(request)
    form = QuantityForm(request.POST)
    if form.is_valid() and form.guardrails_enforce(
        guardrails_check(
            currency=subscription.currency or "EUR",
            quantity=form.cleaned_data["quantity"],
            current_quantity=subscription.quantity,
        )
        if form.cleaned_data["quantity"] > subscription.quantity
        else []
    ):
        try:
            outcome = subscription_quantity_change(
                actor=request.user,
                subscription=subscription,
                quantity=form.cleaned_data["quantity"],
                version=form.cleaned_data["version"] or None,
                schedule_if_needed=form.cleaned_data["schedule"],
            )
        except LifecycleConflict as conflict:
            form.add_error(None, str(conflict))
            subscription = _subscription_or_404(request, pk)
        except LifecycleRefused as refused:
            form.add_error(None, str(refused))
        else:
            if isinstance(outcome, ScheduledChange):
                messages.success(
                    request,
                    _("The decrease to %(quantity)s is scheduled for the renewal on %(date)s.")
                    % {"quantity": outcome.quantity, "date": outcome.effective_on},
                )
            else:
                messages.success(request, _("%(order)s placed: the quantity changes shortly.") % {"order": outcome})
            return redirect("subscriptions:subscription_detail", pk=subscription.pk)
    context = _detail_context(request, subscription, tab="basics", quantity_form=form)
    context["preview"] = (
        quantity_change_preview(subscription=subscription, quantity=form.cleaned_data["quantity"])
        if "quantity" in form.cleaned_data
        else None
    )
    return render(request, "subscriptions/subscription_detail.html", context, status=_form_status(request, form))


# -- Manage subscription -----------------------------------------------------------------------------------------------


def _action_form(key: str, subscription: Subscription, data=None):
    initial = {"version": subscription_version(subscription)}
    if key == "billing_cycle":
        return BillingCycleForm(data, initial=initial)
    if key == "auto_renew":
        return AutoRenewForm(data, initial={**initial, "enabled": "0" if subscription.auto_renew else "1"})
    if key == "convert_trial":
        return ConvertTrialForm(data, initial=initial, offers=conversion_offers(subscription=subscription))
    if key == "friendly_name":
        return FriendlyNameForm(data, initial={"friendly_name": subscription_friendly_name(subscription)})
    return ConfirmForm(data, initial=initial)


@permission_required(SUBSCRIPTIONS, VIEW)
@require_http_methods(["GET", "POST"])
def subscription_manage(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    subscription = _subscription_or_404(request, pk)
    if action not in MANAGE_ACTIONS:
        raise Http404
    _require_act(request)
    availability = action_availability(subscription=subscription, key=action)
    form = _action_form(action, subscription, request.POST if request.method == "POST" else None)
    context = {
        "subscription": subscription,
        "action": action,
        "spec": action_specs()[action],
        "availability": availability,
        "form": form,
        "termination": termination_preview(subscription=subscription) if action == "terminate" else None,
        "rule": marketplace_rule(subscription.account.marketplace, availability.spec.capability)
        if availability.spec.capability
        else "",
        "marketplace_name": marketplace_name(subscription.account.marketplace),
    }
    if request.method == "POST" and form.is_valid():
        try:
            if action == "friendly_name":
                subscription_friendly_name_set(
                    actor=request.user, subscription=subscription, friendly_name=form.cleaned_data["friendly_name"]
                )
                messages.success(request, _("The friendly name was saved."))
                return redirect("subscriptions:subscription_detail", pk=subscription.pk)
            version = form.cleaned_data.get("version") or None
            if action == "convert_trial":
                order = subscription_trial_convert(
                    actor=request.user, subscription=subscription, offer=form.cleaned_data["offer"], version=version
                )
            else:
                order = subscription_action(
                    actor=request.user,
                    subscription=subscription,
                    key=action,
                    version=version,
                    billing_cycle=form.cleaned_data.get("billing_cycle", ""),
                    enabled=form.cleaned_data.get("enabled"),
                )
        except LifecycleRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                _("%(order)s placed: %(action)s is applied by the marketplace shortly.")
                % {"order": order, "action": availability.spec.label},
            )
            return redirect("subscriptions:subscription_detail", pk=subscription.pk)
    return render(request, "subscriptions/subscription_manage.html", context, status=_form_status(request, form))


# -- add-ons -----------------------------------------------------------------------------------------------------------


@permission_required(SUBSCRIPTIONS, VIEW)
@require_http_methods(["GET", "POST"])
def subscription_add_on_add(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription_or_404(request, pk)
    _require_act(request)
    offers = add_on_offers(subscription=subscription)
    form = AddOnAddForm(
        request.POST if request.method == "POST" else None,
        offers=offers,
        initial={"version": subscription_version(subscription)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            order = add_on_add(
                actor=request.user,
                subscription=subscription,
                offer=form.cleaned_data["offer"],
                quantity=form.cleaned_data["quantity"],
                version=form.cleaned_data["version"] or None,
            )
        except LifecycleRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, _("%(order)s placed: the add-on is added shortly.") % {"order": order})
            return redirect(f"{reverse('subscriptions:subscription_detail', args=[subscription.pk])}?tab=add_ons")
    context = {
        "subscription": subscription,
        "form": form,
        "mode": "add",
        "supported": marketplace_supports(subscription.account.marketplace, Capability.ADD_ADD_ON),
        "rule": marketplace_rule(subscription.account.marketplace, Capability.ADD_ADD_ON),
        "marketplace_name": marketplace_name(subscription.account.marketplace),
        "offers_available": offers.exists(),
    }
    return render(request, "subscriptions/subscription_add_on.html", context, status=_form_status(request, form))


@permission_required(SUBSCRIPTIONS, VIEW)
@require_http_methods(["GET", "POST"])
def subscription_add_on(request: HttpRequest, pk: int, add_on: str) -> HttpResponse:
    """Change an add-on's quantity, or remove it (`op=remove`)."""
    subscription = _subscription_or_404(request, pk)
    current = add_on_find(subscription, add_on)
    if current is None:
        raise Http404
    _require_act(request)
    removing = (request.POST.get("op") or request.GET.get("op")) == "remove"
    data = request.POST if request.method == "POST" else None
    initial = {"version": subscription_version(subscription), "quantity": current.get("quantity")}
    form = ConfirmForm(data, initial=initial) if removing else AddOnChangeForm(data, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if removing:
                order = add_on_remove(
                    actor=request.user,
                    subscription=subscription,
                    add_on_external_id=add_on,
                    version=form.cleaned_data["version"] or None,
                )
            else:
                order = add_on_change(
                    actor=request.user,
                    subscription=subscription,
                    add_on_external_id=add_on,
                    quantity=form.cleaned_data["quantity"],
                    version=form.cleaned_data["version"] or None,
                )
        except LifecycleRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, _("%(order)s placed: the marketplace applies it shortly.") % {"order": order})
            return redirect(f"{reverse('subscriptions:subscription_detail', args=[subscription.pk])}?tab=add_ons")
    capability = Capability.REMOVE_ADD_ON if removing else Capability.CHANGE_ADD_ON
    context = {
        "subscription": subscription,
        "add_on": current,
        "form": form,
        "mode": "remove" if removing else "change",
        "supported": marketplace_supports(subscription.account.marketplace, capability),
        "rule": marketplace_rule(subscription.account.marketplace, capability),
        "marketplace_name": marketplace_name(subscription.account.marketplace),
        "window": commitment_window(subscription=subscription),
    }
    return render(request, "subscriptions/subscription_add_on.html", context, status=_form_status(request, form))


# -- scheduled changes -------------------------------------------------------------------------------------------------


@permission_required(SUBSCRIPTIONS, VIEW)
def scheduled_change_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    change = get_object_or_404(scheduled_changes_visible_to(user=request.user), pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _require_act(request)
    try:
        scheduled_change_cancel(actor=request.user, change=change)
    except LifecycleRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("The scheduled decrease was cancelled."))
    return redirect("subscriptions:subscription_detail", pk=change.subscription_id)


# -- commitment calendar -----------------------------------------------------------------------------------------------


@permission_required(SUBSCRIPTIONS, VIEW)
@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    form = CalendarFilterForm(request.GET or None, user=request.user)
    customer_id = marketplace = None
    if form.is_valid():
        customer_id = form.cleaned_data["customer"].pk if form.cleaned_data["customer"] else None
        marketplace = form.cleaned_data["marketplace"] or None
    entries = commitment_calendar(user=request.user, customer_id=customer_id, marketplace=marketplace)
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "is_filtered": bool(customer_id or marketplace),
        "query": query.urlencode(),
    }
    return render(request, partial_template(request, "subscriptions/calendar.html", "results"), context)
