"""Placing an order at its marketplace: what the order task runs, line by line.

Never buy twice. For each line:
1. claim it: mark it `sent` and COMMIT, before any call to the marketplace. From then on a worker that
   dies mid-request, or a retry after a timeout, finds the line `sent`;
2. call the marketplace with the line's idempotency key. A line that was sent before (`sent_at` set)
   first asks the marketplace whether the key was already applied (`find_applied_order_line`, or the
   subscription's state for a lifecycle change), unless the provider replays keys itself
   (`idempotent_order_lines`);
3. record the outcome in its own transaction: applied (and the resulting subscription upserted with the
   sync's fields, so it shows at once) or failed with the marketplace's message.

Only throttling and unavailability propagate, for the Celery task to retry with backoff; on the final
attempt they fail the line (its key is kept, since the marketplace may have applied it: Retry asks first).
A refusal fails that line and the rest of the order goes on. One worker per order at a time: a
session-level advisory lock, released with the connection if the worker dies.

These functions commit as they go: call them outside `transaction.atomic()` (the task does).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from catalog.models import Offer
from marketplace.connections import provider_for_account
from marketplace.models import MarketplaceAccount, TenantConnection
from marketplace.providers.base import (
    AddOnRecord,
    BillingCycle,
    MarketplaceProvider,
    ProviderError,
    Rejected,
    SubscriptionRecord,
    SubscriptionStatus,
    Throttled,
    Unavailable,
    Unsupported,
)
from marketplace.retry import PROVISIONING_CHECKS
from marketplace.secrets import SecretUnreadable
from marketplace.sync import SUBSCRIPTION_FIELDS, fingerprint, subscription_row
from orders.choices import ORDER_IN_FLIGHT, OrderLineKind, OrderLineOutcome, OrderLineStatus, OrderStatus
from orders.models import Order, OrderLine
from orders.notifications import order_notify
from orders.tasks import order_provisioning_check
from portal.audit.choices import AuditAction, AuditResult
from portal.audit.services import audit_record
from portal.core.locks import session_lock
from subscriptions.models import Subscription
from subscriptions.services_prices import subscription_order_terms_apply

logger = logging.getLogger(__name__)

#: Error codes the console itself sets on a line (the marketplace's own codes are kept as they come).
ERROR_UNAVAILABLE = "unavailable"
ERROR_THROTTLED = "throttled"
ERROR_PARENT_FAILED = "parent_failed"
ERROR_NOT_CONNECTED = "not_connected"
ERROR_CONFIGURATION = "configuration"
ERROR_UNEXPECTED = "unexpected"
#: Codes of failures after which the marketplace may have applied the line: Retry keeps the key.
UNCERTAIN_ERROR_CODES = frozenset({ERROR_UNAVAILABLE, ERROR_THROTTLED, ERROR_UNEXPECTED})
#: Lines whose order's friendly name and PO number reach the subscription they bought or changed. A new
#: subscription also takes the line's unit price from then on; a change does only with a Price Option.
ORDER_TERMS_KINDS = frozenset({OrderLineKind.NEW_SUBSCRIPTION, OrderLineKind.CHANGE_QUANTITY})


class OrderPlacementError(Exception):
    """A line cannot be sent for a reason of the console's own (not the marketplace's)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# -- idempotency keys ---------------------------------------------------------------------------------------------


def idempotency_key_for(*, line_pk: int, generation: int, schema_name: str | None = None) -> str:
    """The key a line carries to the marketplace: the partner's schema, the line and its generation.

    Stable for a line (so every retry sends the same key) and unique across partners sharing a
    marketplace. Only letters, digits and hyphens: the key rides in purchase order numbers and
    friendly names."""
    schema = (schema_name or connection.schema_name or "public").replace("_", "")
    return f"msp-{schema}-{line_pk}-{generation}"


# -- the subscription the marketplace reports, mirrored at once ---------------------------------------------------


def subscription_upsert(
    *, account: MarketplaceAccount, customer_tenant_id: int, record: SubscriptionRecord
) -> Subscription:
    """Write a subscription exactly as the sync would (same fields, same fingerprint), so it shows at
    once and the next sync sees nothing to change."""
    offer_id = Offer.objects.filter(account=account, external_id=record.offer_id).values_list("pk", flat=True).first()
    row = subscription_row(record, customer_tenant_id=customer_tenant_id, offer_id=offer_id)
    values: dict[str, Any] = dict(zip(SUBSCRIPTION_FIELDS, row, strict=True))
    values["add_ons"] = json.loads(values["add_ons"])
    values["sync_fingerprint"] = fingerprint(row)
    subscription, _created = Subscription.objects.update_or_create(
        account=account, external_id=record.external_id, defaults=values
    )
    return subscription


# -- one worker per order -----------------------------------------------------------------------------------------


#: The order's placing lock (`portal.core.locks.session_lock`), held while a worker places its lines.
ORDER_LOCK = "subscriptions.order"


# -- what each kind of line asks of the marketplace ---------------------------------------------------------------


@dataclass(frozen=True)
class LineContext:
    provider: MarketplaceProvider
    customer_external_id: str
    #: the subscription the line acts on (for an add-on of a new subscription: its parent line's result)
    subscription_external_id: str
    #: the line's key was sent before and its outcome is unknown: ask the marketplace first
    check_first: bool


@dataclass(frozen=True)
class LineResult:
    #: the subscription as the marketplace reports it now (upserted), None if it could not be read
    subscription: SubscriptionRecord | None
    reference: str
    outcome: str = OrderLineOutcome.COMPLETED


def _outcome(record: SubscriptionRecord) -> str:
    return OrderLineOutcome.PROVISIONING if record.status == SubscriptionStatus.PENDING else OrderLineOutcome.COMPLETED


def _replays_keys(provider: MarketplaceProvider) -> bool:
    return bool(getattr(provider, "idempotent_order_lines", False))


def _offer_external_id(line: OrderLine) -> str:
    if line.offer is None:
        raise OrderPlacementError(ERROR_CONFIGURATION, _("The offer of this line no longer exists."))
    return line.offer.external_id


def _require_subscription(context: LineContext) -> str:
    if not context.subscription_external_id:
        raise OrderPlacementError(ERROR_CONFIGURATION, _("This line names no subscription to change."))
    return context.subscription_external_id


def _current(context: LineContext) -> SubscriptionRecord:
    return context.provider.get_subscription(subscription_external_id=_require_subscription(context))


def _reread(context: LineContext, fallback: SubscriptionRecord | None = None) -> SubscriptionRecord | None:
    """The subscription after a change that answered with an add-on or nothing; a failed read is not a
    failed line (the change was applied), the next sync will show it."""
    try:
        return _current(context)
    except ProviderError:
        logger.warning("Could not re-read subscription %s", context.subscription_external_id, exc_info=True)
        return fallback


def _add_on_in(record: SubscriptionRecord | None, *, key: str = "", external_id: str = "") -> AddOnRecord | None:
    if record is None:
        return None
    for add_on in record.add_ons:
        if (key and add_on.order_reference == key) or (external_id and add_on.external_id == external_id):
            return add_on
    return None


def _new_subscription(line: OrderLine, context: LineContext) -> LineResult:
    key = line.idempotency_key
    if context.check_first and not _replays_keys(context.provider):
        found = context.provider.find_applied_order_line(
            customer_external_id=context.customer_external_id, idempotency_key=key
        )
        if found is not None:
            return LineResult(subscription=found, reference=found.external_id, outcome=_outcome(found))
    result = context.provider.place_order_line(
        customer_external_id=context.customer_external_id,
        offer_id=_offer_external_id(line),
        quantity=line.quantity,
        idempotency_key=key,
    )
    outcome = (
        OrderLineOutcome.PROVISIONING if result.outcome == OrderLineOutcome.PROVISIONING else OrderLineOutcome.COMPLETED
    )
    return LineResult(subscription=result.subscription, reference=result.subscription.external_id, outcome=outcome)


def _add_on_add(line: OrderLine, context: LineContext) -> LineResult:
    key = line.idempotency_key
    parent = _require_subscription(context)
    if context.check_first and not _replays_keys(context.provider):
        found = context.provider.find_applied_order_line(
            customer_external_id=context.customer_external_id, idempotency_key=key
        )
        if found is not None:
            add_on = _add_on_in(found, key=key)
            return LineResult(subscription=found, reference=add_on.external_id if add_on else found.external_id)
    add_on = context.provider.add_add_on(
        subscription_external_id=parent, offer_id=_offer_external_id(line), quantity=line.quantity, idempotency_key=key
    )
    return LineResult(subscription=_reread(context), reference=add_on.external_id)


def _add_on_change(line: OrderLine, context: LineContext) -> LineResult:
    if context.check_first:
        current = _current(context)
        add_on = _add_on_in(current, external_id=line.add_on_external_id)
        if add_on is not None and add_on.quantity == line.quantity:
            return LineResult(subscription=current, reference=add_on.external_id)
    add_on = context.provider.change_add_on_quantity(
        subscription_external_id=_require_subscription(context),
        add_on_external_id=line.add_on_external_id,
        quantity=line.quantity,
    )
    return LineResult(subscription=_reread(context), reference=add_on.external_id)


def _add_on_remove(line: OrderLine, context: LineContext) -> LineResult:
    if context.check_first:
        current = _current(context)
        add_on = _add_on_in(current, external_id=line.add_on_external_id)
        if add_on is None or add_on.status == SubscriptionStatus.TERMINATED:
            return LineResult(subscription=current, reference=line.add_on_external_id)
    context.provider.remove_add_on(
        subscription_external_id=_require_subscription(context), add_on_external_id=line.add_on_external_id
    )
    return LineResult(subscription=_reread(context), reference=line.add_on_external_id)


def _subscription_change(
    call: Callable[[LineContext, OrderLine], SubscriptionRecord],
    done: Callable[[SubscriptionRecord, OrderLine], bool],
) -> Callable[[OrderLine, LineContext], LineResult]:
    """A lifecycle change that answers with the subscription: skipped when a retry finds it done."""

    def apply(line: OrderLine, context: LineContext) -> LineResult:
        if context.check_first:
            current = _current(context)
            if done(current, line):
                return LineResult(subscription=current, reference=current.external_id)
        record = call(context, line)
        return LineResult(subscription=record, reference=record.external_id)

    return apply


def _set_auto_renew(context: LineContext, line: OrderLine) -> SubscriptionRecord:
    # Not in the provider protocol yet: a provider that can offers `set_auto_renew`.
    method = getattr(context.provider, "set_auto_renew", None)
    if method is None:
        raise Unsupported(_("This marketplace cannot change auto-renew."))
    return method(subscription_external_id=_require_subscription(context), enabled=bool(line.auto_renew))


LINE_ACTIONS: dict[str, Callable[[OrderLine, LineContext], LineResult]] = {
    OrderLineKind.NEW_SUBSCRIPTION: _new_subscription,
    OrderLineKind.ADD_ON_ADD: _add_on_add,
    OrderLineKind.ADD_ON_CHANGE: _add_on_change,
    OrderLineKind.ADD_ON_REMOVE: _add_on_remove,
    OrderLineKind.CHANGE_QUANTITY: _subscription_change(
        lambda c, line: c.provider.change_quantity(
            subscription_external_id=_require_subscription(c), quantity=line.quantity
        ),
        lambda record, line: record.quantity == line.quantity,
    ),
    OrderLineKind.SUSPEND: _subscription_change(
        lambda c, line: c.provider.suspend(subscription_external_id=_require_subscription(c)),
        lambda record, line: record.status == SubscriptionStatus.SUSPENDED,
    ),
    OrderLineKind.REACTIVATE: _subscription_change(
        lambda c, line: c.provider.reactivate(subscription_external_id=_require_subscription(c)),
        lambda record, line: record.status == SubscriptionStatus.ACTIVE,
    ),
    OrderLineKind.TERMINATE: _subscription_change(
        lambda c, line: c.provider.terminate(
            subscription_external_id=_require_subscription(c), reason=line.parameters.get("reason") or None
        ),
        lambda record, line: (
            record.status == SubscriptionStatus.TERMINATED or record.scheduled_termination_date is not None
        ),
    ),
    OrderLineKind.REVOKE_TERMINATION: _subscription_change(
        lambda c, line: c.provider.revoke_termination(subscription_external_id=_require_subscription(c)),
        lambda record, line: record.status == SubscriptionStatus.ACTIVE and record.scheduled_termination_date is None,
    ),
    OrderLineKind.CHANGE_BILLING_CYCLE: _subscription_change(
        lambda c, line: c.provider.change_billing_cycle(
            subscription_external_id=_require_subscription(c), billing_cycle=BillingCycle(line.billing_cycle)
        ),
        lambda record, line: record.billing_cycle == line.billing_cycle,
    ),
    OrderLineKind.SET_AUTO_RENEW: _subscription_change(
        _set_auto_renew, lambda record, line: record.auto_renew == bool(line.auto_renew)
    ),
}


# -- recording outcomes -------------------------------------------------------------------------------------------


def _describe(error: BaseException) -> str:
    if isinstance(error, ProviderError):
        reference = f" (reference {error.reference})" if error.reference else ""
        return f"{error.message}{reference}"
    if isinstance(error, OrderPlacementError):
        return error.message
    return f"{type(error).__name__}: {error}"


def _error_code(error: BaseException) -> str:
    if isinstance(error, Rejected):
        return str(error.code)[:100] or "rejected"
    if isinstance(error, OrderPlacementError):
        return error.code
    if isinstance(error, Throttled):
        return ERROR_THROTTLED
    if isinstance(error, Unavailable):
        return ERROR_UNAVAILABLE
    return type(error).__name__.lower()[:100]


def _line_snapshot(line: OrderLine) -> dict[str, Any]:
    return {
        "kind": line.kind,
        "product": line.offer_name,
        "quantity": line.quantity,
        "status": line.status,
        "idempotency_key": line.idempotency_key,
        "marketplace_reference": line.marketplace_reference,
    }


def line_fail(*, order: Order, line: OrderLine, code: str, message: str) -> OrderLine:
    """Record that a line failed, with the marketplace's (or the console's) reason."""
    with transaction.atomic():
        line = OrderLine.objects.select_for_update().get(pk=line.pk)
        if line.status == OrderLineStatus.APPLIED:
            return line
        line.status = OrderLineStatus.FAILED
        line.error_code = code[:100]
        line.error_message = message
        line.save(update_fields=["status", "error_code", "error_message", "updated"])
        audit_record(
            actor="system",
            action=AuditAction.ORDER_LINE_FAIL,
            target=order,
            customer_id=order.customer_tenant.customer_id,
            after=_line_snapshot(line),
            result=AuditResult.FAILURE,
            message=f"{line.offer_name}: {message}",
        )
    return line


def _line_applied(*, order: Order, line: OrderLine, result: LineResult) -> OrderLine:
    with transaction.atomic():
        line = OrderLine.objects.select_for_update().get(pk=line.pk)
        if line.status == OrderLineStatus.APPLIED:
            return line
        if result.subscription is not None:
            subscription = subscription_upsert(
                account=order.account, customer_tenant_id=order.customer_tenant_id, record=result.subscription
            )
            line.subscription = subscription
            if not line.subscription_external_id:
                line.subscription_external_id = subscription.external_id
        line.status = OrderLineStatus.APPLIED
        line.outcome = result.outcome
        line.marketplace_reference = result.reference[:255]
        line.applied_at = timezone.now()
        line.error_code = ""
        line.error_message = ""
        line.save()
        if line.subscription is not None and line.parent_line_id is None and line.kind in ORDER_TERMS_KINDS:
            line.order = order
            subscription_order_terms_apply(
                line=line,
                subscription=line.subscription,
                effective_from=line.applied_at,
                with_price=line.kind == OrderLineKind.NEW_SUBSCRIPTION or bool(line.price_option),
            )
        audit_record(
            actor="system",
            action=AuditAction.ORDER_LINE_APPLY,
            target=order,
            customer_id=order.customer_tenant.customer_id,
            after=_line_snapshot(line),
            message=f"{line.offer_name}: {line.requested_change}",
        )
    return line


def _claim(line: OrderLine) -> tuple[OrderLine, bool] | None:
    """Mark the line sent and commit; return it and whether its key was sent before (None: nothing to do)."""
    with transaction.atomic():
        line = OrderLine.objects.select_for_update(of=("self",)).select_related("offer").get(pk=line.pk)
        if line.status in (OrderLineStatus.APPLIED, OrderLineStatus.FAILED):
            return None
        check_first = line.sent_at is not None
        line.status = OrderLineStatus.SENT
        line.attempts += 1
        line.sent_at = line.sent_at or timezone.now()
        line.save(update_fields=["status", "attempts", "sent_at", "updated"])
    return line, check_first


def _place_line(
    *, order: Order, line: OrderLine, provider: MarketplaceProvider, customer_external_id: str, final_attempt: bool
) -> OrderLine:
    subscription_external_id = line.subscription_external_id
    if line.parent_line_id is not None:
        parent = OrderLine.objects.get(pk=line.parent_line_id)
        if parent.status != OrderLineStatus.APPLIED:
            return line_fail(
                order=order,
                line=line,
                code=ERROR_PARENT_FAILED,
                message=_("Not sent: the subscription this add-on belongs to was not bought."),
            )
        subscription_external_id = parent.subscription_external_id or parent.marketplace_reference
    claimed = _claim(line)
    if claimed is None:
        return OrderLine.objects.get(pk=line.pk)
    line, check_first = claimed
    # The line is committed as `sent`: from here a crash or a timeout can never make a retry buy twice.
    context = LineContext(
        provider=provider,
        customer_external_id=customer_external_id,
        subscription_external_id=subscription_external_id,
        check_first=check_first,
    )
    try:
        result = LINE_ACTIONS[line.kind](line, context)
    except (Throttled, Unavailable) as error:
        if final_attempt:
            return line_fail(order=order, line=line, code=_error_code(error), message=_describe(error))
        waiting = _("Waiting to retry: %(reason)s") % {"reason": _describe(error)}
        OrderLine.objects.filter(pk=line.pk).update(error_code=_error_code(error), error_message=waiting)
        raise
    except (ProviderError, OrderPlacementError) as error:
        return line_fail(order=order, line=line, code=_error_code(error), message=_describe(error))
    except Exception as error:  # a provider bug: the request may have gone out, so Retry keeps the key
        logger.exception("Placing line %s of order %s failed unexpectedly", line.pk, order.pk)
        return line_fail(
            order=order,
            line=line,
            code=ERROR_UNEXPECTED,
            message=_("Unexpected error: %(error)s") % {"error": _describe(error)},
        )
    return _line_applied(order=order, line=line, result=result)


# -- one order ------------------------------------------------------------------------------------------------------


def _customer_external_id(order: Order) -> str | None:
    return (
        TenantConnection.objects.filter(account_id=order.account_id, customer_tenant_id=order.customer_tenant_id)
        .values_list("external_customer_id", flat=True)
        .first()
    )


def _fail_open_lines(order: Order, *, code: str, message: str) -> None:
    for line in order.lines.filter(status__in=(OrderLineStatus.PENDING, OrderLineStatus.SENT)).order_by("pk"):
        if line.status == OrderLineStatus.SENT and code not in UNCERTAIN_ERROR_CODES:
            code_for_line = ERROR_UNAVAILABLE  # it was sent: keep its key, Retry asks the marketplace first
        else:
            code_for_line = code
        line_fail(order=order, line=line, code=code_for_line, message=message)


def _start(order: Order) -> bool:
    """Submitted -> Provisioning; False when the order is no longer in flight (cancelled, finished)."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status not in ORDER_IN_FLIGHT:
            return False
        if locked.status == OrderStatus.SUBMITTED:
            locked.status = OrderStatus.PROVISIONING
            locked.save(update_fields=["status", "updated"])
        order.status = locked.status
    return True


def order_execute(*, order_id: int, final_attempt: bool = True) -> Order:
    """Place every open line of an order (the order task). Idempotent: applied and failed lines are
    left alone, and a finished or cancelled order is not touched. Raises Throttled / Unavailable for
    the task to retry, unless `final_attempt`."""
    order = Order.objects.select_related("account", "customer_tenant").get(pk=order_id)
    if order.status not in ORDER_IN_FLIGHT:
        return order
    with session_lock(ORDER_LOCK, order.pk) as acquired:
        if not acquired:
            logger.info("Order %s is being placed by another worker", order.pk)
            return order
        if not _start(order):
            return order
        customer_external_id = _customer_external_id(order)
        if not customer_external_id:
            _fail_open_lines(
                order,
                code=ERROR_NOT_CONNECTED,
                message=_("Tenant %(tenant)s is not connected to %(account)s.")
                % {"tenant": order.customer_tenant, "account": order.account},
            )
            return order_finish(order_id=order.pk)
        try:
            provider = provider_for_account(order.account)
        except (SecretUnreadable, ProviderError, ValueError) as error:
            message = (
                _("The stored password of the marketplace account cannot be decrypted; enter it again.")
                if isinstance(error, SecretUnreadable)
                else _describe(error)
            )
            _fail_open_lines(order, code=ERROR_CONFIGURATION, message=message)
            return order_finish(order_id=order.pk)
        try:
            lines = list(
                order.lines.filter(status__in=(OrderLineStatus.PENDING, OrderLineStatus.SENT)).order_by(
                    "position", "pk"
                )
            )
            for line in lines:
                _place_line(
                    order=order,
                    line=line,
                    provider=provider,
                    customer_external_id=customer_external_id,
                    final_attempt=final_attempt,
                )
        finally:
            provider.close()
    return order_finish(order_id=order.pk)


def order_finish(*, order_id: int, provisioning_check: int = 0) -> Order:
    """Settle an order's status from its lines: still open lines leave it as it is; lines the marketplace
    is still provisioning keep it Provisioning (and queue a check); otherwise Completed, or Failed when
    a line failed. Notifies and emails the people who placed it.

    `provisioning_check` is how many provisioning checks ran before; after the last one the order
    stops waiting for the marketplace: it completes, and the sync shows the subscriptions when ready."""
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",)).select_related("customer_tenant", "account").get(pk=order_id)
        )
        if order.status not in ORDER_IN_FLIGHT:
            return order
        statuses = list(order.lines.values_list("status", "outcome"))
        if any(status in (OrderLineStatus.PENDING, OrderLineStatus.SENT) for status, _outcome in statuses):
            return order
        provisioning = any(
            status == OrderLineStatus.APPLIED and outcome == OrderLineOutcome.PROVISIONING
            for status, outcome in statuses
        )
        if provisioning and provisioning_check < PROVISIONING_CHECKS.max_retries:
            if order.status != OrderStatus.PROVISIONING:
                order.status = OrderStatus.PROVISIONING
                order.save(update_fields=["status", "updated"])
            _enqueue_provisioning_check(order, check=provisioning_check + 1)
            return order
        failed = sum(1 for status, _outcome in statuses if status == OrderLineStatus.FAILED)
        order.status = OrderStatus.FAILED if failed else OrderStatus.COMPLETED
        if not failed:
            order.completed_at = timezone.now()
        order.save(update_fields=["status", "completed_at", "updated"])
        audit_record(
            actor="system",
            action=AuditAction.ORDER_FAIL if failed else AuditAction.ORDER_COMPLETE,
            target=order,
            customer_id=order.customer_tenant.customer_id,
            after={"status": order.status},
            result=AuditResult.FAILURE if failed else AuditResult.SUCCESS,
            message=_("%(failed)d of %(total)d line(s) failed.") % {"failed": failed, "total": len(statuses)}
            if failed
            else "",
        )
        order_notify(order=order, event="failed" if failed else "provisioned")
    return order


def provisioning_check_countdown(check: int) -> int:
    """The wait before provisioning check `check` (1 for the first): the policy's backoff, no jitter."""
    return int(PROVISIONING_CHECKS.delay(check - 1))


def _enqueue_provisioning_check(order: Order, *, check: int) -> None:
    schema_name = connection.schema_name
    order_id = order.pk

    def send() -> None:
        with schema_context(schema_name):
            order_provisioning_check.apply_async(
                kwargs={"order_id": order_id, "check": check}, countdown=provisioning_check_countdown(check)
            )

    transaction.on_commit(send)


def order_provisioning_refresh(*, order_id: int, check: int = 1) -> Order:
    """Ask the marketplace about the lines it was still provisioning (Partner Center's pending
    subscriptions), then settle the order (which queues the next check while some are still pending).
    Throttling or unavailability skips this check; the next one asks again."""
    order = Order.objects.select_related("account", "customer_tenant").get(pk=order_id)
    if order.status != OrderStatus.PROVISIONING:
        return order
    lines = list(
        order.lines.filter(status=OrderLineStatus.APPLIED, outcome=OrderLineOutcome.PROVISIONING).order_by("pk")
    )
    if lines:
        provider = provider_for_account(order.account)
        try:
            for line in lines:
                reference = line.subscription_external_id or line.marketplace_reference
                try:
                    record = provider.get_subscription(subscription_external_id=reference)
                except (Throttled, Unavailable) as error:
                    logger.info("Provisioning check of order %s deferred: %s", order.pk, error)
                    break
                except ProviderError as error:
                    logger.warning("Could not read subscription %s of order %s: %s", reference, order.pk, error)
                    continue
                with transaction.atomic():
                    subscription_upsert(
                        account=order.account, customer_tenant_id=order.customer_tenant_id, record=record
                    )
                    if record.status == SubscriptionStatus.FAILED:
                        OrderLine.objects.filter(pk=line.pk).update(
                            status=OrderLineStatus.FAILED,
                            error_code="provisioning_failed",
                            error_message=_("The marketplace could not provision this subscription."),
                        )
                    elif record.status != SubscriptionStatus.PENDING:
                        OrderLine.objects.filter(pk=line.pk).update(outcome=OrderLineOutcome.COMPLETED)
        finally:
            provider.close()
    return order_finish(order_id=order.pk, provisioning_check=check)
