"""Subscriptions, orders and licence change requests: reads through the screens' selectors, writes
through the screens' forms (the same validation and guardrails) and services (the same rules)."""

import uuid

from django.http import HttpRequest
from ninja import Router
from ninja.pagination import LimitOffsetPagination, paginate

from api.problems import ApiProblem, form_errors
from api.routes_read import one
from api.schemas import (
    ActionIn,
    LicenseChangeRequestOut,
    OrderIn,
    OrderOut,
    OrderSubmitIn,
    QuantityChangeOut,
    QuantityIn,
    SubscriptionOut,
    json_response,
)
from api.security import ApiTokenAuth, idempotent
from catalog.pricing import guardrails_check, guardrails_token, large_quantity_seats, price_resolve
from customers.selectors import customer_tenants_visible_to
from orders.choices import OrderLineKind
from orders.forms import OrderNewForm
from orders.selectors import (
    offer_billing_options,
    offers_orderable_by,
    order_for_detail,
    orders_for_list,
    tenants_orderable_at,
)
from orders.services import LineSpec, OrderActionRefused, PricesChanged, order_create, order_submit
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.permissions import user_has_permission, user_sees_cost_prices
from subscriptions.forms_lifecycle import QuantityForm
from subscriptions.models import ScheduledChange
from subscriptions.selectors_requests import requests_for_list
from subscriptions.selectors_subscriptions import subscriptions_visible_to
from subscriptions.services_lifecycle import (
    LifecycleConflict,
    LifecycleRefused,
    subscription_action,
    subscription_quantity_change,
)
from subscriptions.views_subscriptions import can_act

router = Router(tags=["Subscriptions and orders"], auth=ApiTokenAuth(PermissionModule.SUBSCRIPTIONS))

IDEMPOTENCY_HEADER_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": True,
            "schema": {"type": "string", "maxLength": 255},
            "description": "A unique key per intended action: a retry with the same key gets the first answer.",
        }
    ]
}


def _refused(refusal: Exception) -> ApiProblem:
    if isinstance(refusal, LifecycleConflict):
        return ApiProblem(409, slug="conflict", detail=str(refusal))
    return ApiProblem(409, slug="refused", detail=str(refusal))


def _invalid(form) -> ApiProblem:
    return ApiProblem(422, slug="invalid-request", detail="Some fields are not valid.", errors=form_errors(form))


def _confirmation_required(form) -> ApiProblem:
    return ApiProblem(
        409,
        slug="confirmation-required",
        detail="Send confirm_guardrails with the confirmation below to confirm exactly these amounts.",
        guardrails=[str(guardrail.message) for guardrail in form.guardrails],
        confirmation=guardrails_token(form.guardrails),
    )


def _require_act(request: HttpRequest) -> None:
    """Lifecycle actions and orders are the screens' "manage" actions of partner users."""
    if not can_act(request.user):
        raise ApiProblem(403, detail="The token's user may not change subscriptions.")


def _subscription(request: HttpRequest, subscription_id: int):
    return one(subscriptions_visible_to(user=request.user).select_related("account"), subscription_id)


def _order_out(request: HttpRequest, order_id: int, *, status: int = 200):
    return json_response(OrderOut, order_for_detail(user=request.user, pk=order_id), status=status)


# -- subscriptions ---------------------------------------------------------------------------------------------------


@router.get("/subscriptions", response=list[SubscriptionOut], url_name="subscription_list")
@paginate(LimitOffsetPagination)
def subscription_list(request: HttpRequest, customer_tenant_id: int | None = None, status: str | None = None):
    subscriptions = subscriptions_visible_to(user=request.user).order_by("customer_tenant_id", "name", "pk")
    if customer_tenant_id is not None:
        subscriptions = subscriptions.filter(customer_tenant_id=customer_tenant_id)
    if status:
        subscriptions = subscriptions.filter(status=status)
    return subscriptions


@router.get("/subscriptions/{subscription_id}", response=SubscriptionOut, url_name="subscription_detail")
def subscription_detail(request: HttpRequest, subscription_id: int):
    return _subscription(request, subscription_id)


@router.post(
    "/subscriptions/{subscription_id}/quantity",
    response={200: QuantityChangeOut, 201: QuantityChangeOut},
    url_name="subscription_quantity",
    openapi_extra=IDEMPOTENCY_HEADER_DOC,
)
@idempotent
def subscription_quantity(request: HttpRequest, subscription_id: int, payload: QuantityIn):
    """Change the quantity now (an order), or with `schedule_if_needed` schedule a decrease the commitment
    window does not allow now for the renewal. Large quantities need the confirmation the 409 names."""
    subscription = _subscription(request, subscription_id)
    _require_act(request)
    form = QuantityForm(
        {
            "quantity": payload.quantity,
            "version": payload.version or "",
            "schedule": "on" if payload.schedule_if_needed else "",
            "confirm_guardrails": payload.confirm_guardrails,
        }
    )
    if not form.is_valid():
        raise _invalid(form)
    quantity = form.cleaned_data["quantity"]
    guardrails = (
        guardrails_check(
            currency=subscription.currency or "EUR", quantity=quantity, current_quantity=subscription.quantity
        )
        if quantity > subscription.quantity
        else []
    )
    if not form.guardrails_enforce(guardrails):
        raise _confirmation_required(form)
    try:
        outcome = subscription_quantity_change(
            actor=request.user,
            subscription=subscription,
            quantity=quantity,
            version=form.cleaned_data["version"] or None,
            schedule_if_needed=form.cleaned_data["schedule"],
        )
    except LifecycleRefused as refusal:
        raise _refused(refusal) from None
    if isinstance(outcome, ScheduledChange):
        return json_response(QuantityChangeOut, {"scheduled_change": outcome}, status=201)
    order = order_for_detail(user=request.user, pk=outcome.pk)
    return json_response(QuantityChangeOut, {"order": order}, status=201)


def _lifecycle_action(request: HttpRequest, subscription_id: int, payload: ActionIn, key: str):
    subscription = _subscription(request, subscription_id)
    _require_act(request)
    try:
        order = subscription_action(actor=request.user, subscription=subscription, key=key, version=payload.version)
    except LifecycleRefused as refusal:
        raise _refused(refusal) from None
    return _order_out(request, order.pk, status=201)


@router.post(
    "/subscriptions/{subscription_id}/suspend",
    response={201: OrderOut},
    url_name="subscription_suspend",
    openapi_extra=IDEMPOTENCY_HEADER_DOC,
)
@idempotent
def subscription_suspend(request: HttpRequest, subscription_id: int, payload: ActionIn):
    """Suspend, when the marketplace allows it: an order of one line, placed at once."""
    return _lifecycle_action(request, subscription_id, payload, "suspend")


@router.post(
    "/subscriptions/{subscription_id}/reactivate",
    response={201: OrderOut},
    url_name="subscription_reactivate",
    openapi_extra=IDEMPOTENCY_HEADER_DOC,
)
@idempotent
def subscription_reactivate(request: HttpRequest, subscription_id: int, payload: ActionIn):
    """Reactivate a suspended subscription: an order of one line, placed at once."""
    return _lifecycle_action(request, subscription_id, payload, "reactivate")


# -- orders ----------------------------------------------------------------------------------------------------------


@router.get("/orders", response=list[OrderOut], url_name="order_list")
@paginate(LimitOffsetPagination)
def order_list(request: HttpRequest, status: str | None = None):
    orders = orders_for_list(user=request.user).order_by("-created", "-pk")
    return orders.filter(status=status) if status else orders


@router.get("/orders/{order_id}", response=OrderOut, url_name="order_detail")
def order_detail(request: HttpRequest, order_id: int):
    order = order_for_detail(user=request.user, pk=order_id)
    if order is None:
        raise ApiProblem(404)
    return order


@router.post("/orders", response={201: OrderOut}, url_name="order_create", openapi_extra=IDEMPOTENCY_HEADER_DOC)
@idempotent
def order_create_endpoint(request: HttpRequest, payload: OrderIn):
    """A new subscription for a customer tenant: a draft to submit later, or with `submit` placed at once.
    The tenant must be connected to the offer's marketplace account; the price is the customer's price."""
    tenant = one(customer_tenants_visible_to(user=request.user).select_related("customer"), payload.customer_tenant_id)
    offer = one(offers_orderable_by(user=request.user), payload.line.offer_id)
    _require_act(request)
    form = OrderNewForm(
        {
            "tenant": tenant.pk,
            "plan": offer.pk,
            "quantity": payload.line.quantity,
            "friendly_name": payload.friendly_name,
            "po_number": payload.po_number,
            "terms_accepted": "on" if payload.terms_accepted else "",
            # One order per Idempotency-Key, even past the key's lifetime: the form's double-click token.
            "client_token": str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"api:{request.auth.pk}:{request.path}:{_key(request)}")
            ),
            "confirm_guardrails": payload.confirm_guardrails,
        },
        tenants=tenants_orderable_at(user=request.user, account=offer.account),
        plans=offer_billing_options(offer=offer),
        add_ons=[],
        price_options=False,
        placing=payload.submit,
    )
    if not form.is_valid():
        raise _invalid(form)
    price = price_resolve(offer=form.cleaned_data["plan"], customer=tenant.customer)
    guardrails = guardrails_check(
        currency=price.currency,
        price=price.amount,
        cost=price.cost if user_sees_cost_prices(request.user) else None,
        quantity=form.cleaned_data["quantity"],
        seat_limit=large_quantity_seats(),
    )
    if not form.guardrails_enforce(guardrails):
        raise _confirmation_required(form)
    spec = LineSpec(
        kind=OrderLineKind.NEW_SUBSCRIPTION, offer=form.cleaned_data["plan"], quantity=form.cleaned_data["quantity"]
    )
    try:
        order = order_create(
            actor=request.user,
            customer_tenant=tenant,
            lines=[spec],
            friendly_name=form.cleaned_data.get("friendly_name") or "",
            po_number=form.cleaned_data.get("po_number") or "",
            client_token=form.cleaned_data["client_token"],
            submit=payload.submit,
            terms_accepted=bool(form.cleaned_data.get("terms_accepted")),
        )
    except OrderActionRefused as refusal:
        raise ApiProblem(409, slug="refused", detail=refusal.message, field=refusal.field) from None
    return _order_out(request, order.pk, status=201)


def _key(request: HttpRequest) -> str:
    return (request.headers.get("Idempotency-Key") or "").strip()


@router.post(
    "/orders/{order_id}/submit",
    response={200: OrderOut},
    url_name="order_submit",
    openapi_extra=IDEMPOTENCY_HEADER_DOC,
)
@idempotent
def order_submit_endpoint(request: HttpRequest, order_id: int, payload: OrderSubmitIn):
    """Place a draft order: the product terms accepted; when a cost changed since the order was priced,
    a 409 prices-changed problem lists the changes and the `price_confirmation` that accepts them."""
    order = order_for_detail(user=request.user, pk=order_id)
    if order is None:
        raise ApiProblem(404)
    if not user_has_permission(request.user, PermissionModule.SUBSCRIPTIONS, AccessLevel.MANAGE):
        raise ApiProblem(403, detail="The token's user may not place orders.")
    try:
        order = order_submit(
            actor=request.user,
            order=order,
            terms_accepted=payload.terms_accepted,
            price_confirmation=payload.price_confirmation or None,
        )
    except PricesChanged as changed:
        raise ApiProblem(
            409,
            slug="prices-changed",
            detail=changed.message,
            confirmation=changed.confirmation,
            changes=[
                {"line_id": change.line.pk, "currency": change.currency, "new_price": str(change.new_price)}
                for change in changed.changes
            ],
        ) from None
    except OrderActionRefused as refusal:
        raise ApiProblem(409, slug="refused", detail=refusal.message, field=refusal.field) from None
    return _order_out(request, order.pk)


# -- licence change requests -------------------------------------------------------------------------------------------


@router.get("/license-change-requests", response=list[LicenseChangeRequestOut], url_name="license_change_request_list")
@paginate(LimitOffsetPagination)
def license_change_request_list(request: HttpRequest, status: str | None = None):
    requests = requests_for_list(user=request.user)
    return requests.filter(status=status) if status else requests


@router.get(
    "/license-change-requests/{request_id}",
    response=LicenseChangeRequestOut,
    url_name="license_change_request_detail",
)
def license_change_request_detail(request: HttpRequest, request_id: int):
    return one(requests_for_list(user=request.user), request_id)
