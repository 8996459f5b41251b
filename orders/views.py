"""Order screens: Buy now, the cart, Orders, order detail, Quotes. Views stay thin.

Every object is looked up through a scoped selector (404 outside the user's customers) before the
method is checked (405), so a GET never confirms that another customer's order exists. Viewing needs
Subscriptions VIEW, ordering Subscriptions MANAGE; cost prices and margins only for users who see
cost prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig

from catalog.pricing import (
    ResolvedPrice,
    default_markup_percent,
    guardrails_check,
    large_quantity_seats,
    percent_text,
    price_resolve,
)
from customers.selectors import customer_tenants_visible_to, customers_visible_to
from marketplace.providers.base import Capability
from marketplace.providers.registry import marketplace_description
from orders.choices import OrderLineKind, OrderLineStatus, OrderStatus
from orders.filters import OrderFilterSet, QuoteFilterSet
from orders.forms import OrderDetailsForm, OrderNewForm, OrderSubmitForm, QuoteCreateForm
from orders.models import Order, Quote
from orders.selectors import (
    carts_of,
    offer_add_ons,
    offer_billing_options,
    offers_orderable_by,
    order_for_detail,
    order_totals,
    orders_for_list,
    quote_for_detail,
    quotes_for_list,
    tenants_orderable_at,
)
from orders.services import (
    LineSpec,
    OrderActionRefused,
    PricesChanged,
    cart_add,
    order_cancel,
    order_create,
    order_details_update,
    order_line_remove,
    order_line_retry,
    order_submit,
    quote_accept,
    quote_create,
    quote_withdraw,
)
from orders.tables import OrderTable, QuoteTable, order_url
from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.accounts.permissions import permission_required, user_has_permission, user_sees_cost_prices
from portal.core.htmx import get_only, partial_template, post_only

VIEW = AccessLevel.VIEW
MANAGE = AccessLevel.MANAGE
SUBSCRIPTIONS = PermissionModule.SUBSCRIPTIONS
PER_PAGE = 25


def _can_order(user) -> bool:
    return user_has_permission(user, SUBSCRIPTIONS, MANAGE)


def _require_manage(request: HttpRequest) -> None:
    if not _can_order(request.user):
        raise PermissionDenied


def _order_or_404(request: HttpRequest, order_pk: int) -> Order:
    order = order_for_detail(user=request.user, pk=order_pk)
    if order is None:
        raise Http404
    return order


def _quote_or_404(request: HttpRequest, quote_pk: int) -> Quote:
    quote = quote_for_detail(user=request.user, pk=quote_pk)
    if quote is None:
        raise Http404
    return quote


def _is_cart(order: Order) -> bool:
    return order.status == OrderStatus.DRAFT and not hasattr(order, "quote")


# -- Buy now: the order page -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryRow:
    name: str
    quantity: int
    price: ResolvedPrice

    @property
    def cost_total(self) -> Decimal:
        return self.price.cost * self.quantity

    @property
    def customer_total(self) -> Decimal:
        return self.price.amount * self.quantity

    @property
    def margin_total(self) -> Decimal:
        return self.price.margin * self.quantity

    @property
    def suggested_total(self) -> Decimal | None:
        if self.price.suggested_retail is None:
            return None
        return self.price.suggested_retail * self.quantity


def _summary(form: OrderNewForm, *, plan, tenant) -> list[SummaryRow]:
    """The price summary (partner price, customer price, margin) of the form's plan and chosen add-ons."""
    data = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
    quantity = data.get("quantity") or form.initial.get("quantity") or 1
    option = form.price_option() if form.is_bound else None
    customer = tenant.customer if tenant is not None else None
    rows = [SummaryRow(plan.name, quantity, price_resolve(offer=plan, customer=customer, option=option))]
    if form.is_bound and hasattr(form, "cleaned_data"):
        for add_on, add_on_quantity in form.add_on_quantities():
            rows.append(
                SummaryRow(add_on.name, add_on_quantity, price_resolve(offer=add_on, customer=customer, option=option))
            )
    return rows


def _guardrails(summary: list[SummaryRow], *, sees_cost: bool) -> list:
    """What the user must confirm before ordering: a zero price, a price under the partner price (only
    for someone who sees cost prices), an unusually large quantity (catalog.pricing, one rule)."""
    seat_limit = large_quantity_seats()
    found = []
    for position, row in enumerate(summary):
        found += guardrails_check(
            currency=row.price.currency,
            price=row.price.amount,
            cost=row.price.cost if sees_cost else None,
            quantity=row.quantity,
            seat_limit=seat_limit,
            name=row.name if position else "",
        )
    return found


def _start_offer(request: HttpRequest):
    raw = request.GET.get("offer") or ""
    if not raw.isdigit():
        return None
    offer = offers_orderable_by(user=request.user).filter(pk=int(raw)).first()
    if offer is None:
        raise Http404
    return offer


def _can_create_tenant(user, offer) -> bool:
    """ "Create new tenant" on the order page: a partner user who manages marketplaces, at a marketplace
    that creates Microsoft tenants."""
    return (
        user.kind == UserKind.PARTNER
        and user_has_permission(user, PermissionModule.MARKETPLACE, AccessLevel.MANAGE)
        and Capability.CREATE_TENANT in marketplace_description(offer.account.marketplace).capabilities
    )


def _start_tenant(request: HttpRequest, tenants):
    raw = request.GET.get("tenant") or ""
    if not raw.isdigit():
        return None
    tenant = customer_tenants_visible_to(user=request.user).filter(pk=int(raw)).first()
    if tenant is None:
        raise Http404
    if not tenants.filter(pk=tenant.pk).exists():
        messages.warning(
            request, _("Tenant %(tenant)s is not connected to this marketplace account.") % {"tenant": tenant}
        )
        return None
    return tenant


def _start_customer(request: HttpRequest, tenants):
    """`?customer=<pk>`: the customer whose tenants the order page lists (one the user may see, else 404)."""
    raw = request.GET.get("customer") or ""
    if not raw.isdigit() or request.method != "GET" or request.htmx:
        return None
    customer = customers_visible_to(user=request.user).filter(pk=int(raw)).first()
    if customer is None:
        raise Http404
    return customer


@permission_required(SUBSCRIPTIONS, VIEW)
def order_new(request: HttpRequest) -> HttpResponse:
    """Buy now (`?tenant=<customer tenant pk>&offer=<offer pk>`): build the order, then Add to cart or Place now."""
    offer = _start_offer(request)
    if offer is None:
        if request.method == "POST":
            raise Http404
        return render(request, "orders/order_new.html", {"offer": None})
    tenants = tenants_orderable_at(user=request.user, account=offer.account)
    tenant = _start_tenant(request, tenants)
    customer = _start_customer(request, tenants) if tenant is None else tenant.customer
    if tenant is None and "tenant" not in request.GET:
        only = list((tenants.filter(customer=customer) if customer else tenants)[:2])
        tenant = only[0] if len(only) == 1 else None  # a customer with one tenant does not choose it
    plans = offer_billing_options(offer=offer)
    add_ons = offer_add_ons(offer=offer, user=request.user)
    price_options = user_sees_cost_prices(request.user)  # a markup on a cost one cannot see makes no sense
    initial = {"customer": customer, "tenant": tenant, "plan": offer, "quantity": 1}
    preview = request.method == "GET" and request.htmx and "plan" in request.GET
    if request.method == "POST":
        _require_manage(request)
        form = OrderNewForm(
            request.POST,
            initial=initial,
            tenants=tenants,
            plans=plans,
            add_ons=add_ons,
            price_options=price_options,
            placing=request.POST.get("action") == "place",
        )
    elif preview:
        form = OrderNewForm(
            request.GET, initial=initial, tenants=tenants, plans=plans, add_ons=add_ons, price_options=price_options
        )
    else:
        form = OrderNewForm(initial=initial, tenants=tenants, plans=plans, add_ons=add_ons, price_options=price_options)
    valid = form.is_valid() if form.is_bound else False
    plan = (form.cleaned_data.get("plan") if valid else None) or offer
    chosen_tenant = (form.cleaned_data.get("tenant") if valid else None) or tenant
    summary = _summary(form, plan=plan, tenant=chosen_tenant) if (valid or not form.is_bound) else []
    guardrails = _guardrails(summary, sees_cost=user_sees_cost_prices(request.user)) if valid else []
    if request.method == "POST" and valid and form.guardrails_enforce(guardrails):
        response = _order_new_submit(request, form)
        if response is not None:
            return response
    form.guardrails = guardrails  # a preview shows them; a POST asks for the confirmation
    context = {
        "offer": offer,
        "form": form,
        "plan": plan,
        "tenant": chosen_tenant,
        "summary": summary,
        "sees_cost": user_sees_cost_prices(request.user),
        "default_markup": percent_text(default_markup_percent()),
        "can_order": _can_order(request.user),
        "no_tenants": not tenants.exists(),
        "can_create_tenant": _can_create_tenant(request.user, offer),
    }
    template = "orders/order_new.html"
    if preview:
        template += "#summary"
    return render(request, template, context)


def _order_new_submit(request: HttpRequest, form: OrderNewForm) -> HttpResponse | None:
    data = form.cleaned_data
    option = form.price_option()
    spec = LineSpec(
        kind=OrderLineKind.NEW_SUBSCRIPTION,
        offer=data["plan"],
        quantity=data["quantity"],
        price_option=option,
        add_ons=tuple(
            LineSpec(kind=OrderLineKind.ADD_ON_ADD, offer=add_on, quantity=quantity, price_option=option)
            for add_on, quantity in form.add_on_quantities()
        ),
    )
    action = request.POST.get("action")
    try:
        if action == "place":
            order = order_create(
                actor=request.user,
                customer_tenant=data["tenant"],
                lines=[spec],
                friendly_name=data.get("friendly_name") or "",
                po_number=data.get("po_number") or "",
                client_token=data.get("client_token"),
                submit=True,
                terms_accepted=bool(data.get("terms_accepted")),
            )
            messages.success(
                request,
                _("Order %(number)s was placed; it is being sent to the marketplace.") % {"number": order.number},
            )
            return redirect("orders:order_detail", order_pk=order.pk)
        order = cart_add(
            actor=request.user,
            customer_tenant=data["tenant"],
            lines=[spec],
            friendly_name=data.get("friendly_name") or "",
            po_number=data.get("po_number") or "",
        )
    except OrderActionRefused as refusal:
        field = refusal.field if refusal.field in form.fields else None
        form.add_error(field, refusal.message)
        return None
    messages.success(request, _("%(product)s was added to the cart.") % {"product": data["plan"].name})
    return redirect("orders:order_cart", order_pk=order.pk)


# -- cart ------------------------------------------------------------------------------------------------------------


@permission_required(SUBSCRIPTIONS, VIEW)
@require_GET
def cart_index(request: HttpRequest) -> HttpResponse:
    """The user's cart. One draft: that cart; several (one per tenant and account): the list to choose from."""
    carts = list(carts_of(user=request.user).select_related("customer_tenant__customer", "account")[:50])
    if len(carts) == 1:
        return redirect("orders:order_cart", order_pk=carts[0].pk)
    return render(request, "orders/cart_index.html", {"carts": carts})


def _cart_context(request: HttpRequest, order: Order, **extra) -> dict:
    lines = list(order.lines.all())
    return {
        "order": order,
        "lines": lines,
        "totals": order_totals(lines),
        "sees_cost": user_sees_cost_prices(request.user),
        "can_order": _can_order(request.user),
        "details_form": extra.pop("details_form", None)
        or OrderDetailsForm(initial={"friendly_name": order.friendly_name, "po_number": order.po_number}),
        "submit_form": extra.pop("submit_form", None) or OrderSubmitForm(),
        "quote_form": extra.pop("quote_form", None) or QuoteCreateForm(),
        **extra,
    }


@permission_required(SUBSCRIPTIONS, VIEW)
def order_cart(request: HttpRequest, order_pk: int) -> HttpResponse:
    order = _order_or_404(request, order_pk)
    if (refused := get_only(request)) is not None:
        return refused
    if not _is_cart(order):
        return redirect(order_url(order) if order.status != OrderStatus.DRAFT else _quote_url(order))
    return render(request, "orders/order_cart.html", _cart_context(request, order))


def _quote_url(order: Order) -> str:
    return reverse("orders:quote_detail", kwargs={"quote_pk": order.quote.pk})


def _confirm_changed_prices_form(form: OrderSubmitForm, changed: PricesChanged) -> OrderSubmitForm:
    """The submit form again, carrying the confirmation of the changed prices and the same client token."""
    return OrderSubmitForm(
        initial={
            "price_confirmation": changed.confirmation,
            "client_token": form.cleaned_data.get("client_token"),
            "terms_accepted": form.cleaned_data["terms_accepted"],
        }
    )


@permission_required(SUBSCRIPTIONS, VIEW)
def order_submit_view(request: HttpRequest, order_pk: int) -> HttpResponse:
    """Place order: terms accepted, prices confirmed when they changed; one order however many clicks."""
    order = _order_or_404(request, order_pk)
    if (refused := post_only(request)) is not None:
        return refused
    _require_manage(request)
    form = OrderSubmitForm(request.POST)
    if not form.is_valid():
        return render(request, "orders/order_cart.html", _cart_context(request, order, submit_form=form))
    try:
        order = order_submit(
            actor=request.user,
            order=order,
            terms_accepted=form.cleaned_data["terms_accepted"],
            client_token=form.cleaned_data.get("client_token"),
            price_confirmation=form.cleaned_data.get("price_confirmation") or None,
        )
    except PricesChanged as changed:
        again = _confirm_changed_prices_form(form, changed)
        order = _order_or_404(request, order_pk)
        return render(
            request,
            "orders/order_cart.html",
            _cart_context(request, order, submit_form=again, price_changes=changed.changes),
        )
    except OrderActionRefused as refusal:
        form.add_error("terms_accepted" if refusal.field == "terms_accepted" else None, refusal.message)
        order = _order_or_404(request, order_pk)
        return render(request, "orders/order_cart.html", _cart_context(request, order, submit_form=form))
    messages.success(
        request, _("Order %(number)s was placed; it is being sent to the marketplace.") % {"number": order.number}
    )
    return redirect("orders:order_detail", order_pk=order.pk)


@permission_required(SUBSCRIPTIONS, VIEW)
def order_details_view(request: HttpRequest, order_pk: int) -> HttpResponse:
    """Save the cart's friendly name and PO number; "Save for later" keeps it as a draft."""
    order = _order_or_404(request, order_pk)
    if (refused := post_only(request)) is not None:
        return refused
    _require_manage(request)
    form = OrderDetailsForm(request.POST)
    if not form.is_valid():
        return render(request, "orders/order_cart.html", _cart_context(request, order, details_form=form))
    try:
        order_details_update(
            actor=request.user,
            order=order,
            friendly_name=form.cleaned_data["friendly_name"],
            po_number=form.cleaned_data["po_number"],
        )
    except OrderActionRefused as refusal:
        messages.error(request, refusal.message)
        return redirect(order_url(order))
    if request.POST.get("action") == "later":
        messages.success(
            request, _("Order %(number)s was saved for later; resume it from Orders.") % {"number": order.number}
        )
        return redirect("orders:order_list")
    messages.success(request, _("The order details were saved."))
    return redirect("orders:order_cart", order_pk=order.pk)


@permission_required(SUBSCRIPTIONS, VIEW)
def order_line_remove_view(request: HttpRequest, order_pk: int, line_pk: int) -> HttpResponse:
    order = _order_or_404(request, order_pk)
    line = next((item for item in order.lines.all() if item.pk == line_pk), None)
    if line is None:
        raise Http404
    if (refused := post_only(request)) is not None:
        return refused
    _require_manage(request)
    try:
        remaining = order_line_remove(actor=request.user, line=line)
    except OrderActionRefused as refusal:
        messages.error(request, refusal.message)
        return redirect(order_url(order))
    messages.success(request, _("%(product)s was removed.") % {"product": line.offer_name})
    if remaining is None:
        return redirect("orders:order_list")
    return redirect("orders:order_cart", order_pk=order.pk)


@permission_required(SUBSCRIPTIONS, VIEW)
def order_quote_create_view(request: HttpRequest, order_pk: int) -> HttpResponse:
    """Save as quote: the cart becomes a quote with an expiry, to send to the customer."""
    order = _order_or_404(request, order_pk)
    if (refused := post_only(request)) is not None:
        return refused
    _require_manage(request)
    form = QuoteCreateForm(request.POST)
    if form.is_valid():
        try:
            quote = quote_create(
                actor=request.user,
                order=order,
                valid_until=form.cleaned_data["valid_until"],
                note=form.cleaned_data["note"],
            )
        except OrderActionRefused as refusal:
            form.add_error("valid_until" if refusal.field == "valid_until" else None, refusal.message)
        else:
            messages.success(request, _("Quote %(number)s was saved.") % {"number": quote.number})
            return redirect("orders:quote_detail", quote_pk=quote.pk)
    return render(request, "orders/order_cart.html", _cart_context(request, order, quote_form=form))


@permission_required(SUBSCRIPTIONS, VIEW)
def order_cancel_view(request: HttpRequest, order_pk: int) -> HttpResponse:
    order = _order_or_404(request, order_pk)
    if (refused := post_only(request)) is not None:
        return refused
    _require_manage(request)
    try:
        order_cancel(actor=request.user, order=order)
    except OrderActionRefused as refusal:
        messages.error(request, refusal.message)
        return redirect(order_url(order))
    messages.success(request, _("Order %(number)s was cancelled.") % {"number": order.number})
    return redirect("orders:order_list")


# -- orders ------------------------------------------------------------------------------------------------------------


@permission_required(SUBSCRIPTIONS, VIEW)
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    filterset = OrderFilterSet(request.GET or None, queryset=orders_for_list(user=request.user), user=request.user)
    table = OrderTable(filterset.qs, request=request)
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    context = {
        "filterset": filterset,
        "table": table,
        "can_order": _can_order(request.user),
        "has_cart": carts_of(user=request.user).exists(),
    }
    return render(request, partial_template(request, "orders/order_list.html", "results"), context)


@permission_required(SUBSCRIPTIONS, VIEW)
def order_detail(request: HttpRequest, order_pk: int) -> HttpResponse:
    order = _order_or_404(request, order_pk)
    if (refused := get_only(request)) is not None:
        return refused
    if _is_cart(order):
        return redirect("orders:order_cart", order_pk=order.pk)
    lines = list(order.lines.all())
    context = {
        "order": order,
        "lines": lines,
        "totals": order_totals(lines),
        "sees_cost": user_sees_cost_prices(request.user),
        "can_order": _can_order(request.user),
        "can_cancel": order.status == OrderStatus.SUBMITTED
        and all(line.status == OrderLineStatus.PENDING for line in lines),
    }
    return render(request, partial_template(request, "orders/order_detail.html", "lines"), context)


@permission_required(SUBSCRIPTIONS, VIEW)
def order_line_retry_view(request: HttpRequest, order_pk: int, line_pk: int) -> HttpResponse:
    order = _order_or_404(request, order_pk)
    line = next((item for item in order.lines.all() if item.pk == line_pk), None)
    if line is None:
        raise Http404
    if (refused := post_only(request)) is not None:
        return refused
    _require_manage(request)
    try:
        order_line_retry(actor=request.user, line=line)
    except OrderActionRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("%(product)s is being sent again.") % {"product": line.offer_name})
    return redirect("orders:order_detail", order_pk=order.pk)


# -- quotes ------------------------------------------------------------------------------------------------------------


@permission_required(SUBSCRIPTIONS, VIEW)
@require_GET
def quote_list(request: HttpRequest) -> HttpResponse:
    filterset = QuoteFilterSet(request.GET or None, queryset=quotes_for_list(user=request.user))
    table = QuoteTable(filterset.qs, request=request)
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    context = {"filterset": filterset, "table": table}
    return render(request, partial_template(request, "orders/quote_list.html", "results"), context)


def _quote_context(request: HttpRequest, quote: Quote, **extra) -> dict:
    lines = list(quote.order.lines.all())
    return {
        "quote": quote,
        "order": quote.order,
        "lines": lines,
        "totals": order_totals(lines),
        "sees_cost": user_sees_cost_prices(request.user),
        "can_order": _can_order(request.user),
        "accept_form": extra.pop("accept_form", None) or OrderSubmitForm(),
        **extra,
    }


@permission_required(SUBSCRIPTIONS, VIEW)
def quote_detail(request: HttpRequest, quote_pk: int) -> HttpResponse:
    quote = _quote_or_404(request, quote_pk)
    if (refused := get_only(request)) is not None:
        return refused
    return render(request, "orders/quote_detail.html", _quote_context(request, quote))


@permission_required(SUBSCRIPTIONS, VIEW)
def quote_print(request: HttpRequest, quote_pk: int) -> HttpResponse:
    """The quote as the customer sees it: customer prices only, ready to print or save as PDF."""
    quote = _quote_or_404(request, quote_pk)
    if (refused := get_only(request)) is not None:
        return refused
    context = _quote_context(request, quote)
    context["sees_cost"] = False
    context["partner"] = getattr(request, "tenant", None)
    customer = quote.order.customer_tenant.customer
    with translation.override(customer.preferred_language):  # a customer document speaks the customer's language
        return render(request, "orders/quote_print.html", context)


@permission_required(SUBSCRIPTIONS, VIEW)
def quote_accept_view(request: HttpRequest, quote_pk: int) -> HttpResponse:
    quote = _quote_or_404(request, quote_pk)
    if (refused := post_only(request)) is not None:
        return refused
    _require_manage(request)
    form = OrderSubmitForm(request.POST)
    if not form.is_valid():
        return render(request, "orders/quote_detail.html", _quote_context(request, quote, accept_form=form))
    try:
        order = quote_accept(
            actor=request.user,
            quote=quote,
            terms_accepted=form.cleaned_data["terms_accepted"],
            client_token=form.cleaned_data.get("client_token"),
            price_confirmation=form.cleaned_data.get("price_confirmation") or None,
        )
    except PricesChanged as changed:
        again = _confirm_changed_prices_form(form, changed)
        return render(
            request,
            "orders/quote_detail.html",
            _quote_context(request, _quote_or_404(request, quote_pk), accept_form=again, price_changes=changed.changes),
        )
    except OrderActionRefused as refusal:
        form.add_error("terms_accepted" if refusal.field == "terms_accepted" else None, refusal.message)
        return render(request, "orders/quote_detail.html", _quote_context(request, quote, accept_form=form))
    messages.success(
        request,
        _("Quote %(quote)s was accepted: order %(number)s is being placed.")
        % {"quote": quote.number, "number": order.number},
    )
    return redirect("orders:order_detail", order_pk=order.pk)


@permission_required(SUBSCRIPTIONS, VIEW)
def quote_withdraw_view(request: HttpRequest, quote_pk: int) -> HttpResponse:
    quote = _quote_or_404(request, quote_pk)
    if (refused := post_only(request)) is not None:
        return refused
    _require_manage(request)
    try:
        quote_withdraw(actor=request.user, quote=quote)
    except OrderActionRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("Quote %(number)s was withdrawn.") % {"number": quote.number})
    return redirect("orders:quote_detail", quote_pk=quote.pk)
