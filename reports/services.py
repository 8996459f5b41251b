"""Writes of the reports module: the daily usage snapshot, the billing day, saved custom reports
and the marketplace invoices that reconciliation compares with.

The snapshot is derived data recorded by beat (like the pools' snapshots), so it records no audit
event; every write a person asks for does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Offer
from marketplace.models import MarketplaceAccount
from marketplace.providers.base import Capability, InvoiceLineRecord, ProviderError, Unsupported
from portal.accounts.models import User
from portal.accounts.types import Actor
from portal.audit.choices import AuditAction, AuditResult
from portal.audit.services import audit_record
from reports.choices import CustomDimension, CustomMeasure, InvoiceImportStatus
from reports.models import (
    MONTH_END,
    BillingDay,
    InvoiceImport,
    InvoiceLine,
    SavedReport,
    TrackedSubscription,
    UsageSnapshot,
)
from subscriptions.models import Subscription

#: Subscriptions per batch of the snapshot: two bulk upserts of this many rows each.
SNAPSHOT_BATCH = 2000
TRACKED_UPDATE_FIELDS = (
    "subscription",
    "parent",
    "customer",
    "customer_tenant",
    "offer",
    "offer_external_id",
    "product_id",
    "name",
    "billing_cycle",
    "term",
    "currency",
    "started_on",
    "trial",
    "last_seen",
)


class ReportActionRefused(Exception):
    """A request the reports module refuses, with a message for the user."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


# -- usage snapshots ------------------------------------------------------------------------------------------------


def _subscription_batches(subscriptions: QuerySet[Subscription] | None = None) -> Iterator[list[dict]]:
    rows = (
        (subscriptions if subscriptions is not None else Subscription.objects.all())
        .order_by("pk")
        .values(
            "pk",
            "account_id",
            "external_id",
            "customer_tenant_id",
            "customer_tenant__customer_id",
            "offer_id",
            "offer_external_id",
            "product_id",
            "name",
            "billing_cycle",
            "term",
            "currency",
            "started_at",
            "trial",
            "quantity",
            "assigned",
            "status",
            "add_ons",
        )
        .iterator(chunk_size=SNAPSHOT_BATCH)
    )
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == SNAPSHOT_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _started_on(moment: datetime | None) -> date | None:
    return timezone.localdate(moment) if moment is not None else None


def _tracked(row: dict, *, day: date, **fields) -> TrackedSubscription:
    values = {
        "subscription_id": row["pk"],
        "parent_id": None,
        "account_id": row["account_id"],
        "external_id": row["external_id"],
        "customer_id": row["customer_tenant__customer_id"],
        "customer_tenant_id": row["customer_tenant_id"],
        "offer_id": row["offer_id"],
        "offer_external_id": row["offer_external_id"],
        "product_id": row["product_id"],
        "name": row["name"],
        "billing_cycle": row["billing_cycle"],
        "term": row["term"],
        "currency": row["currency"],
        "started_on": _started_on(row["started_at"]),
        "trial": row["trial"],
        "first_seen": day,
        "last_seen": day,
    }
    values.update(fields)
    return TrackedSubscription(**values)


def _upsert_tracked(objects: list[TrackedSubscription]) -> list[TrackedSubscription]:
    if not objects:
        return []
    return TrackedSubscription.objects.bulk_create(
        objects,
        update_conflicts=True,
        unique_fields=["account", "external_id"],
        update_fields=TRACKED_UPDATE_FIELDS,
    )


def _add_on_offers(batch: list[dict]) -> dict[tuple[int, str], tuple[int, str, str]]:
    """{(account id, offer external id): (offer pk, billing cycle, currency)} for the batch's add-ons."""
    wanted = {(row["account_id"], add_on.get("offer_id", "")) for row in batch for add_on in row["add_ons"] or []}
    if not wanted:
        return {}
    offers = Offer.objects.filter(
        account_id__in={account_id for account_id, _ in wanted},
        external_id__in={external_id for _, external_id in wanted},
    ).values_list("account_id", "external_id", "pk", "billing_cycle", "currency")
    return {(account_id, external_id): (pk, cycle, currency) for account_id, external_id, pk, cycle, currency in offers}


def usage_snapshots_take(*, day: date | None = None, subscriptions: QuerySet[Subscription] | None = None) -> int:
    """Record `day`'s (default today's) usage of every subscription and add-on (or of those given):
    taking the same day again replaces that day's rows, so the last run of a day is what the day
    keeps. Returns the rows written."""
    day = day or timezone.localdate()
    written = 0
    for batch in _subscription_batches(subscriptions):
        with transaction.atomic():
            tracked = _upsert_tracked([_tracked(row, day=day) for row in batch])
            snapshots = [
                UsageSnapshot(
                    subscription_id=tracked_row.pk,
                    day=day,
                    quantity=row["quantity"],
                    assigned=row["assigned"],
                    status=row["status"],
                )
                for tracked_row, row in zip(tracked, batch, strict=True)
            ]
            offers = _add_on_offers(batch)
            add_ons, add_on_usage = [], []
            for tracked_row, row in zip(tracked, batch, strict=True):
                for add_on in row["add_ons"] or []:
                    offer_id, cycle, currency = offers.get(
                        (row["account_id"], add_on.get("offer_id", "")), (None, row["billing_cycle"], row["currency"])
                    )
                    add_ons.append(
                        _tracked(
                            row,
                            day=day,
                            subscription_id=None,
                            parent_id=tracked_row.pk,
                            external_id=str(add_on.get("external_id", ""))[:255],
                            offer_id=offer_id,
                            offer_external_id=str(add_on.get("offer_id", ""))[:255],
                            product_id=str(add_on.get("product_id", ""))[:255],
                            name=str(add_on.get("name", ""))[:255],
                            billing_cycle=cycle,
                            term="",
                            currency=currency,
                        )
                    )
                    add_on_usage.append((int(add_on.get("quantity") or 0), str(add_on.get("status") or "active")))
            for tracked_add_on, (quantity, status) in zip(_upsert_tracked(add_ons), add_on_usage, strict=True):
                snapshots.append(
                    UsageSnapshot(subscription_id=tracked_add_on.pk, day=day, quantity=quantity, status=status)
                )
            UsageSnapshot.objects.bulk_create(
                snapshots,
                update_conflicts=True,
                unique_fields=["subscription", "day"],
                update_fields=["quantity", "assigned", "status"],
            )
        written += len(snapshots)
    return written


def usage_snapshots_refresh_today() -> int:
    """Bring today's snapshot up to now before a report of the current cycle reads it.

    Billing reads snapshots, and beat takes them every few hours: a purchase or an increase made
    since the last run (or before today's first) was missing from "Current cycle (so far)". This
    snapshots only the subscriptions whose quantity or status differs from their latest snapshot
    (or that have none yet), and marks every subscription still listed as seen today, so the others
    keep their last known quantity instead of counting as gone. Returns the rows written."""
    today = timezone.localdate()
    latest = UsageSnapshot.objects.filter(subscription_id=OuterRef("tracked__pk")).order_by("-day")
    changed = Subscription.objects.annotate(
        last_quantity=Subquery(latest.values("quantity")[:1]), last_status=Subquery(latest.values("status")[:1])
    ).filter(
        Q(tracked__isnull=True)
        | Q(last_quantity__isnull=True)
        | ~Q(last_quantity=F("quantity"))
        | ~Q(last_status=F("status"))
    )
    written = usage_snapshots_take(day=today, subscriptions=changed) if changed.exists() else 0
    TrackedSubscription.objects.filter(
        Q(subscription__isnull=False) | Q(parent__subscription__isnull=False), last_seen__lt=today
    ).update(last_seen=today)
    return written


# -- billing day ----------------------------------------------------------------------------------------------------


def billing_day_set(*, actor: Actor, cycle_end_day: int, account: MarketplaceAccount | None = None) -> BillingDay:
    """Set the day the partner's (or one account's) marketplace billing cycle ends."""
    if not 1 <= int(cycle_end_day) <= MONTH_END:
        raise ReportActionRefused(_("Choose a day from 1 to 31."), field="cycle_end_day")
    with transaction.atomic():
        current = BillingDay.objects.select_for_update().filter(account=account).first()
        before = {"cycle_end_day": current.cycle_end_day} if current else {}
        if current is None:
            current = BillingDay(account=account)
        current.cycle_end_day = int(cycle_end_day)
        current.updated_by = actor if actor is not None and not isinstance(actor, str) else None
        current.save()
        audit_record(
            actor=actor,
            action=AuditAction.BILLING_DAY_SET,
            target=account if account is not None else current,
            target_label=str(account) if account is not None else _("Partner billing cycle"),
            before=before,
            after={"cycle_end_day": current.cycle_end_day},
        )
    return current


def billing_day_clear(*, actor: Actor, account: MarketplaceAccount) -> None:
    """An account goes back to the partner's billing day."""
    with transaction.atomic():
        current = BillingDay.objects.select_for_update().filter(account=account).first()
        if current is None:
            return
        before = {"cycle_end_day": current.cycle_end_day}
        current.delete()
        audit_record(actor=actor, action=AuditAction.BILLING_DAY_CLEAR, target=account, before=before, after={})


# -- saved custom reports -------------------------------------------------------------------------------------------


def saved_report_create(*, actor: User, name: str, dimension: str, measure: str) -> SavedReport:
    name = (name or "").strip()
    if not name:
        raise ReportActionRefused(_("Give the report a name."), field="name")
    if dimension not in CustomDimension.values:
        raise ReportActionRefused(_("Choose what to group by."), field="dimension")
    if measure not in CustomMeasure.values:
        raise ReportActionRefused(_("Choose a measure."), field="measure")
    with transaction.atomic():
        if SavedReport.objects.filter(owner=actor, name__iexact=name).exists():
            raise ReportActionRefused(_("You already have a report with this name."), field="name")
        report = SavedReport.objects.create(owner=actor, name=name[:100], dimension=dimension, measure=measure)
        audit_record(
            actor=actor,
            action=AuditAction.SAVED_REPORT_CREATE,
            target=report,
            after={"name": report.name, "dimension": dimension, "measure": measure},
        )
    return report


def saved_report_delete(*, actor: User, report: SavedReport) -> None:
    if report.owner_id != actor.pk:
        raise ReportActionRefused(_("Only the owner can delete a saved report."))
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.SAVED_REPORT_DELETE,
            target=report,
            before={"name": report.name, "dimension": report.dimension, "measure": report.measure},
        )
        report.delete()


# -- marketplace invoices -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceFetch:
    """What one account's invoice fetch brought: the import row (status, count, error)."""

    account: MarketplaceAccount
    invoice_import: InvoiceImport


def _invoice_line(record: InvoiceLineRecord, invoice_import: InvoiceImport) -> InvoiceLine:
    return InvoiceLine(
        invoice_import=invoice_import,
        invoice_id=record.invoice_id[:100],
        customer_external_id=record.customer_external_id[:255],
        customer_name=(record.customer_name or "")[:255],
        subscription_external_id=(record.subscription_external_id or "")[:255],
        offer_external_id=(record.offer_id or "")[:255],
        product_id=(record.product_id or "")[:255],
        name=record.name[:255],
        charge_type=str(record.charge_type)[:32],
        charge_start=record.charge_start,
        charge_end=record.charge_end,
        quantity=record.quantity,
        unit_price=record.unit_price,
        amount=record.amount,
        currency=record.currency.upper()[:3],
    )


def invoice_lines_import(
    *, actor: Actor, account: MarketplaceAccount, period_start: date, period_end: date, provider=None
) -> InvoiceFetch:
    """Fetch the account's invoice lines charged inside the period and keep them (replacing an
    earlier fetch of the same period). A marketplace without invoices, or a failure, is recorded on
    the import row and in the audit trail, never raised: reconciliation shows it."""
    from marketplace.connections import provider_for_account

    records: list[InvoiceLineRecord] = []
    status, error = InvoiceImportStatus.SUCCEEDED, ""
    try:
        provider = provider or provider_for_account(account)
        try:
            if not provider.supports(Capability.LIST_INVOICE_LINES):
                raise Unsupported("no invoices", capability=Capability.LIST_INVOICE_LINES)
            records = list(provider.list_invoice_lines(period_start=period_start, period_end=period_end))
        finally:
            provider.close()
    except Unsupported:
        status, error = InvoiceImportStatus.UNSUPPORTED, _("This marketplace does not offer invoice lines.")
    except ProviderError as failure:
        status, error = InvoiceImportStatus.FAILED, str(failure)
    except Exception as failure:  # a secret that cannot be read, a provider bug: recorded, not raised
        status, error = InvoiceImportStatus.FAILED, str(failure) or failure.__class__.__name__
    with transaction.atomic():
        invoice_import, _created = InvoiceImport.objects.update_or_create(
            account=account,
            period_start=period_start,
            period_end=period_end,
            preview=False,
            defaults={
                "status": status,
                "error_message": error,
                "fetched_at": timezone.now(),
                "requested_by": actor if actor is not None and not isinstance(actor, str) else None,
                "line_count": len(records),
            },
        )
        invoice_import.lines.all().delete()
        InvoiceLine.objects.bulk_create([_invoice_line(record, invoice_import) for record in records], batch_size=2000)
        audit_record(
            actor=actor,
            action=AuditAction.INVOICES_FETCH,
            target=account,
            after={"period_start": period_start, "period_end": period_end, "lines": len(records), "status": status},
            result=AuditResult.SUCCESS if status == InvoiceImportStatus.SUCCEEDED else AuditResult.FAILURE,
            message=error,
        )
    return InvoiceFetch(account=account, invoice_import=invoice_import)


def invoice_previews_import(*, actor: Actor, account: MarketplaceAccount, provider=None) -> InvoiceFetch | None:
    """Fetch the account's preview invoices (the current period as it would be invoiced) and keep them
    in place of the previous preview. None where the marketplace offers no previews; a failure is
    recorded on the import row and audited, never raised."""
    from marketplace.connections import provider_for_account

    records: list[InvoiceLineRecord] = []
    status, error = InvoiceImportStatus.SUCCEEDED, ""
    today = timezone.localdate()
    period_start, period_end = today.replace(day=1), today
    try:
        provider = provider or provider_for_account(account)
        try:
            if not provider.supports(Capability.LIST_INVOICE_LINES):
                return None
            previews = provider.list_preview_invoices()
        finally:
            provider.close()
    except Unsupported:
        return None
    except ProviderError as failure:
        previews, status, error = [], InvoiceImportStatus.FAILED, str(failure)
    except Exception as failure:  # a secret that cannot be read, a provider bug: recorded, not raised
        previews, status, error = [], InvoiceImportStatus.FAILED, str(failure) or failure.__class__.__name__
    for preview in previews:
        records.extend(preview.lines)
    if previews:
        period_start = min(preview.period_start for preview in previews)
        period_end = max(preview.period_end for preview in previews)
    with transaction.atomic():
        InvoiceImport.objects.filter(account=account, preview=True).delete()
        invoice_import = InvoiceImport.objects.create(
            account=account,
            period_start=period_start,
            period_end=period_end,
            preview=True,
            status=status,
            error_message=error,
            fetched_at=timezone.now(),
            requested_by=actor if actor is not None and not isinstance(actor, str) else None,
            line_count=len(records),
        )
        InvoiceLine.objects.bulk_create([_invoice_line(record, invoice_import) for record in records], batch_size=2000)
        audit_record(
            actor=actor,
            action=AuditAction.INVOICES_FETCH,
            target=account,
            after={"preview": True, "period_start": period_start, "period_end": period_end, "lines": len(records)},
            result=AuditResult.SUCCESS if status == InvoiceImportStatus.SUCCEEDED else AuditResult.FAILURE,
            message=error,
        )
    return InvoiceFetch(account=account, invoice_import=invoice_import)
