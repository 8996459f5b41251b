"""The sync engine: mirror a marketplace account's customers, plans and cost prices, and the
subscriptions of the tenants connected through it, into the partner's schema.

How it stays cheap and safe:
- compare, then write: each row keeps a fingerprint of the marketplace values it was written
  from; each kind is read once (id, external id, fingerprint) and compared with what the
  marketplace answered. Only new rows are inserted (one COPY), only rows whose fingerprint differs
  are updated (one UPDATE), only vanished rows are removed. A sync that finds nothing changed
  writes nothing but its own `SyncRun` row;
- everything of one kind is fetched before anything of that kind is written, so a marketplace
  failure half-way never leaves a half-written kind (and never deletes what it did not fetch);
- one sync per account at a time: a PostgreSQL advisory lock keyed on schema and account, held for
  the whole run (session-level, since the run commits phase by phase for the live progress view);
- throttling and unavailability are retried by the Celery task; on the last attempt, and for
  every other failure, the run is marked failed with the marketplace's message, the account is
  marked failing and the administrators get a notification. Nothing is swallowed.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Offer
from catalog.services import offers_classify
from marketplace.choices import AccountStatus, SyncPhase, SyncStatus
from marketplace.connections import provider_for_account
from marketplace.marketplaces import MARKETPLACES
from marketplace.models import MarketplaceAccount, MarketplaceCustomer, SyncRun, TenantConnection
from marketplace.providers.base import (
    CustomerRecord,
    MarketplaceProvider,
    NotFound,
    OfferRecord,
    ProviderError,
    Rejected,
    SubscriptionRecord,
    Throttled,
    Unavailable,
)
from marketplace.secrets import SecretUnreadable
from portal.accounts.choices import ADMINISTRATORS_ROLE_NAME, UserKind
from portal.audit.choices import AuditResult, NotificationLevel
from portal.audit.services import audit_record, notification_create
from subscriptions.models import Subscription

logger = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 1.0

CUSTOMER_FIELDS = ("name", "email", "domains", "country", "city", "vat_id", "customer_number", "active")
OFFER_FIELDS = (
    "product_id",
    "name",
    "vendor",
    "sku",
    "billing_cycle",
    "term",
    "charge_type",
    "currency",
    "cost_price",
    "sales_price",
    "suggested_retail_price",
    "is_add_on",
    "parent_product_ids",
    "is_available",
)
SUBSCRIPTION_FIELDS = (
    "customer_tenant_id",
    "offer_id",
    "offer_external_id",
    "product_id",
    "name",
    "quantity",
    "assigned",
    "status",
    "billing_cycle",
    "term",
    "term_end",
    "auto_renew",
    "trial",
    "cancellation_allowed_until",
    "scheduled_termination_date",
    "started_at",
    "currency",
    "unit_cost_price",
    "unit_sales_price",
    "order_reference",
    "add_ons",
)


# -- record -> row ------------------------------------------------------------------------------------------------
#
# A row is a tuple of a kind's FIELDS in order, holding plain values (str, int, bool, None, Decimal,
# date, datetime; JSON already encoded as text). It is what gets fingerprinted, and, only when it
# must be written, turned into a line of PostgreSQL's COPY text format (`copy_line`).


def _text(value: Any, length: int) -> str:
    if value is None:
        return ""
    return (value if type(value) is str else str(value))[:length]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def customer_row(record: CustomerRecord) -> tuple[Any, ...]:
    return (
        _text(record.name, 255),
        _text(record.email, 254),
        _json(list(record.domains)),
        _text(record.country, 100),
        _text(record.city, 100),
        _text(record.vat_id, 64),
        _text(record.customer_number, 64),
        record.active,
    )


def offer_row(record: OfferRecord) -> tuple[Any, ...]:
    return (
        _text(record.product_id, 255),
        _text(record.name, 255),
        _text(record.vendor, 200),
        _text(record.sku, 200),
        str(record.billing_cycle),
        _text(record.term, 16),
        str(record.charge_type),
        _text(record.currency.upper(), 3),
        record.cost_price,
        record.sales_price,
        record.suggested_retail_price,
        record.is_add_on,
        _json(list(record.add_on_parent_product_ids)),
        True,  # is_available
    )


def subscription_row(record: SubscriptionRecord, *, customer_tenant_id: int, offer_id: int | None) -> tuple[Any, ...]:
    add_ons = "[]"
    if record.add_ons:
        add_ons = _json(
            [
                {
                    "external_id": add_on.external_id,
                    "offer_id": add_on.offer_id,
                    "product_id": add_on.product_id,
                    "name": add_on.name,
                    "quantity": add_on.quantity,
                    "status": str(add_on.status),
                }
                for add_on in record.add_ons
            ]
        )
    return (
        customer_tenant_id,
        offer_id,
        record.offer_id[:255],
        record.product_id[:255],
        record.name[:255],
        record.quantity,
        record.assigned,
        str(record.status),
        str(record.billing_cycle),
        record.term or "",
        record.term_end,
        record.auto_renew,
        record.trial,
        record.cancellation_allowed_until,
        record.scheduled_termination_date,
        record.started_at,
        (record.currency or "").upper()[:3],
        record.unit_cost_price,
        record.unit_sales_price,
        (record.order_reference or "")[:255],
        add_ons,
    )


# -- compare, then write ---------------------------------------------------------------------------------------------


def fingerprint(row: tuple[Any, ...]) -> str:
    """A stable hash of a row's synced values: the repr of str, int, bool, None, Decimal, date and
    datetime is fixed by Python, and so is a tuple's."""
    return hashlib.blake2b(repr(row).encode(), digest_size=16).hexdigest()


@dataclass
class MirrorCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged, "removed": self.removed}


@dataclass
class MirrorPlan:
    """What a kind needs written: new rows (external id, row, fingerprint), changed rows (pk, row,
    fingerprint), and the rows that vanished (pk, the `missing_columns` asked for)."""

    new: list[tuple[str, tuple[Any, ...], str]] = field(default_factory=list)
    changed: list[tuple[int, tuple[Any, ...], str]] = field(default_factory=list)
    missing: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)
    unchanged: int = 0

    @property
    def is_empty(self) -> bool:
        """Nothing to write: no transaction is even opened."""
        return not (self.new or self.changed or self.missing)


def mirror_plan(
    *, existing: models.QuerySet, desired: dict[str, tuple[Any, ...]], missing_columns: tuple[str, ...] = ()
) -> MirrorPlan:
    """Compare the stored fingerprints of `existing` (keyed by external_id) with `desired` {external id: row}.

    Reading three narrow columns instead of every synced column is what keeps a sync that changes
    nothing close to the cost of fetching from the marketplace."""
    plan = MirrorPlan()
    # The ORM builds the query; the rows are read straight from the cursor: ids and short strings
    # need none of the ORM's per-row conversion, which is a third of the read at 20,000 rows.
    sql, params = existing.values_list(
        "pk", "external_id", "sync_fingerprint", *missing_columns
    ).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        current: dict[str, tuple[Any, ...]] = {row[1]: row for row in cursor.fetchall()}
    for external_id, row in desired.items():
        digest = fingerprint(row)
        stored = current.pop(external_id, None)
        if stored is None:
            plan.new.append((external_id, row, digest))
        elif stored[2] != digest:
            plan.changed.append((stored[0], row, digest))
        else:
            plan.unchanged += 1
    plan.missing = [(stored[0], stored[3:]) for stored in current.values()]
    return plan


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    kind = type(value)
    if kind is str:
        # printable and no backslash: nothing to escape (tab, newline and carriage return are not printable)
        return value if value.isprintable() and "\\" not in value else value.translate(_COPY_ESCAPES)
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if kind is datetime or kind is date:
        return value.isoformat()
    return str(value)  # int, Decimal


class _CopyStream(io.TextIOBase):
    """Rows as COPY text, formatted as PostgreSQL reads them, so formatting overlaps the server's work."""

    def __init__(self, rows: Iterable[Iterable[Any]]) -> None:
        self._lines = ("\t".join(map(_copy_text, row)) + "\n" for row in rows)
        self._pending: list[str] = []
        self._size = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:
        for line in self._lines:
            self._pending.append(line)
            self._size += len(line)
            if 0 <= size <= self._size:
                break
        chunk = "".join(self._pending)
        self._pending.clear()
        self._size = 0
        return chunk


def copy_rows(*, table: str, columns: list[str], rows: Iterable[Iterable[Any]]) -> int:
    """Insert rows with COPY. The ORM's bulk_create spends most of a 20,000-row first sync preparing
    values field by field in Python (bench/sync.py); COPY takes the rows as one text stream."""
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN", _CopyStream(rows), size=65536
        )
        return cursor.cursor.rowcount


def update_rows(*, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> int:
    """Update rows by id (`columns[0]`): COPY the new values into a temporary table, then one UPDATE ... FROM."""
    name = connection.ops.quote_name
    temporary = f"sync_{table}"
    selected = ", ".join(name(column) for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name(temporary)}")
        cursor.execute(f"CREATE TEMPORARY TABLE {name(temporary)} AS SELECT {selected} FROM {name(table)} WITH NO DATA")
    copy_rows(table=temporary, columns=columns, rows=rows)
    assignments = ", ".join(f"{name(column)} = source.{name(column)}" for column in columns[1:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {name(table)} AS target SET {assignments} FROM {name(temporary)} AS source "
            f"WHERE target.{name(columns[0])} = source.{name(columns[0])}"
        )
        updated = cursor.rowcount
        cursor.execute(f"DROP TABLE {name(temporary)}")
    return updated


def _relaxed_durability() -> None:
    """Mirrored rows can always be fetched again: the sync's commits need not wait for the disk."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")


def mirror_write(
    *,
    model: type[models.Model],
    plan: MirrorPlan,
    fields: tuple[str, ...],
    parent: dict[str, Any],
    remove: Callable[[list[int]], int],
    now: datetime,
) -> MirrorCounts:
    """Write a plan: new rows copied in, changed rows updated in one statement, vanished rows handed to
    `remove` (which returns how many it removed). Call inside a transaction."""
    meta = model._meta
    counts = MirrorCounts(unchanged=plan.unchanged)
    if plan.new or plan.changed or plan.missing:
        _relaxed_durability()
    synced = [meta.get_field(name).column for name in fields]
    if plan.new:
        head = [meta.get_field(name).column for name in parent]
        tail = list(parent.values())
        copy_rows(
            table=meta.db_table,
            columns=[*head, "external_id", *synced, "sync_fingerprint", "created", "updated"],
            rows=((*tail, external_id, *row, digest, now, now) for external_id, row, digest in plan.new),
        )
        counts.created = len(plan.new)
    if plan.changed:
        counts.updated = update_rows(
            table=meta.db_table,
            columns=[meta.pk.column, *synced, "sync_fingerprint", "updated"],
            rows=[(pk, *row, digest, now) for pk, row, digest in plan.changed],
        )
    if plan.missing:
        counts.removed = remove([pk for pk, _extra in plan.missing])
    return counts


def _delete(model: type[models.Model]) -> Callable[[list[int]], int]:
    def remove(pks: list[int]) -> int:
        _total, per_model = model.objects.filter(pk__in=pks).delete()
        return per_model.get(model._meta.label, 0)

    return remove


def sync_customers(*, account: MarketplaceAccount, records: list[CustomerRecord], now: datetime) -> MirrorCounts:
    plan = mirror_plan(
        existing=MarketplaceCustomer.objects.filter(account=account),
        desired={record.external_id: customer_row(record) for record in records},
    )
    if plan.is_empty:
        return MirrorCounts(unchanged=plan.unchanged)
    with transaction.atomic():
        return mirror_write(
            model=MarketplaceCustomer,
            plan=plan,
            fields=CUSTOMER_FIELDS,
            parent={"account": account.pk},
            remove=_delete(MarketplaceCustomer),
            now=now,
        )


def sync_offers(*, account: MarketplaceAccount, records: list[OfferRecord], now: datetime) -> MirrorCounts:
    """Offers the marketplace stopped listing are flagged unavailable, not deleted (prices point at them).
    Flagging clears the fingerprint, so an offer that comes back is rewritten as available."""
    plan = mirror_plan(
        existing=Offer.objects.filter(account=account),
        desired={record.offer_id: offer_row(record) for record in records},
        missing_columns=("is_available",),
    )
    plan.missing = [(pk, extra) for pk, extra in plan.missing if extra[0]]

    def flag_unavailable(pks: list[int]) -> int:
        return Offer.objects.filter(pk__in=pks).update(is_available=False, sync_fingerprint="", updated=now)

    if plan.is_empty:
        return MirrorCounts(unchanged=plan.unchanged)
    with transaction.atomic():
        return mirror_write(
            model=Offer,
            plan=plan,
            fields=OFFER_FIELDS,
            parent={"account": account.pk},
            remove=flag_unavailable,
            now=now,
        )


@dataclass
class SubscriptionFetch:
    records: dict[str, tuple[Any, ...]]
    warnings: list[str]
    #: tenants whose subscriptions could not be listed: their rows are kept as they are
    skipped_tenant_ids: set[int]


def fetch_subscriptions(
    *, account: MarketplaceAccount, provider: MarketplaceProvider, on_progress: Callable[[int, int], None]
) -> SubscriptionFetch:
    """List the subscriptions of every tenant connected through the account, one customer at a time.
    A customer the marketplace no longer knows is a warning for that tenant, not a failed sync."""
    connections = list(
        TenantConnection.objects.filter(account=account)
        .order_by("pk")
        .values_list("customer_tenant_id", "external_customer_id", "customer_tenant__primary_domain")
    )
    offer_ids = dict(Offer.objects.filter(account=account).values_list("external_id", "pk"))
    fetched = SubscriptionFetch(records={}, warnings=[], skipped_tenant_ids=set())
    total = len(connections)
    last_report = time.monotonic()
    on_progress(0, total)
    for index, (tenant_id, external_customer_id, domain) in enumerate(connections, start=1):
        try:
            for record in provider.list_subscriptions(customer_external_id=external_customer_id):
                fetched.records[record.external_id] = subscription_row(
                    record, customer_tenant_id=tenant_id, offer_id=offer_ids.get(record.offer_id)
                )
        except (NotFound, Rejected) as error:
            fetched.skipped_tenant_ids.add(tenant_id)
            fetched.warnings.append(
                _("Tenant %(tenant)s (customer %(customer)s): %(reason)s")
                % {"tenant": domain or tenant_id, "customer": external_customer_id, "reason": error.message}
            )
        if time.monotonic() - last_report >= PROGRESS_EVERY_SECONDS:
            on_progress(index, total)
            last_report = time.monotonic()
    return fetched


def sync_subscriptions(*, account: MarketplaceAccount, fetched: SubscriptionFetch, now: datetime) -> MirrorCounts:
    plan = mirror_plan(
        existing=Subscription.objects.filter(account=account),
        desired=fetched.records,
        missing_columns=("customer_tenant_id",),
    )
    if fetched.skipped_tenant_ids:
        plan.missing = [(pk, extra) for pk, extra in plan.missing if extra[0] not in fetched.skipped_tenant_ids]
    if plan.is_empty:
        return MirrorCounts(unchanged=plan.unchanged)
    with transaction.atomic():
        return mirror_write(
            model=Subscription,
            plan=plan,
            fields=SUBSCRIPTION_FIELDS,
            parent={"account": account.pk},
            remove=_delete(Subscription),
            now=now,
        )


# -- one run -----------------------------------------------------------------------------------------------------------


def _lock_key(account: MarketplaceAccount) -> int:
    digest = hashlib.blake2b(f"marketplace.sync:{connection.schema_name}:{account.pk}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


@contextmanager
def account_sync_lock(account: MarketplaceAccount) -> Iterator[bool]:
    """Yield whether this process holds the account's sync lock (never waits for it).

    A session-level advisory lock: the run commits phase by phase, and a worker that dies drops
    its connection and with it the lock."""
    key = _lock_key(account)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError:  # the connection is broken; closing it released the lock
                logger.warning("Could not release the sync lock of account %s", account.pk, exc_info=True)


def _save_run(run: SyncRun, **changes: Any) -> None:
    for name, value in changes.items():
        setattr(run, name, value)
    SyncRun.objects.filter(pk=run.pk).update(**changes)


def _finish(run: SyncRun, *, status: str, error_message: str = "", **changes: Any) -> None:
    finished = timezone.now()
    _save_run(
        run,
        status=status,
        phase=SyncPhase.DONE,
        finished_at=finished,
        duration=finished - run.started_at if run.started_at else None,
        error_message=error_message,
        **changes,
    )


def _administrators() -> models.QuerySet:
    return (
        get_user_model()
        .objects.filter(is_active=True, kind=UserKind.PARTNER)
        .filter(Q(is_superuser=True) | Q(roles__is_builtin=True, roles__name=ADMINISTRATORS_ROLE_NAME))
        .distinct()
    )


def _account_url(account: MarketplaceAccount) -> str:
    try:
        return reverse("marketplace:account_detail", kwargs={"marketplace": account.marketplace, "pk": account.pk})
    except NoReverseMatch:
        return ""


def _describe(error: BaseException) -> str:
    if isinstance(error, ProviderError):
        reference = f" (reference {error.reference})" if error.reference else ""
        return f"{error.message}{reference}"
    if isinstance(error, SecretUnreadable):
        return _("The stored password cannot be decrypted with the configured keys; enter it again.")
    return _("Unexpected error: %(error)s") % {"error": f"{type(error).__name__}: {error}"}


def _fail(run: SyncRun, account: MarketplaceAccount, error: BaseException) -> None:
    """Record the failure where people look: the run, the account's status, a notification."""
    message = _describe(error)
    _finish(run, status=SyncStatus.FAILED, error_message=message)
    marketplace = MARKETPLACES.get(account.marketplace)
    with transaction.atomic():
        locked = MarketplaceAccount.objects.select_for_update().get(pk=account.pk)
        newly_failing = locked.status != AccountStatus.FAILING
        if newly_failing or locked.status_message != message:
            MarketplaceAccount.objects.filter(pk=account.pk).update(
                status=AccountStatus.FAILING, status_message=message
            )
        audit_record(
            actor="system",
            action="marketplace.account.sync",
            target=account,
            result=AuditResult.FAILURE,
            message=message,
        )
        recipients = set(_administrators())
        if run.requested_by_id and run.requested_by.is_active:
            recipients.add(run.requested_by)
        if newly_failing or run.requested_by_id:
            notification_create(
                recipients=recipients,
                title=lambda: _("Sync of %(account)s failed") % {"account": account.display_name},
                body=lambda: (
                    _("%(marketplace)s: %(message)s")
                    % {"marketplace": marketplace.name if marketplace else account.marketplace, "message": message}
                ),
                url=_account_url(account),
                level=NotificationLevel.ERROR,
            )
    logger.error("Sync of marketplace account %s failed: %s", account.pk, message)


def _succeed(run: SyncRun, account: MarketplaceAccount, outcome: SyncOutcome) -> None:
    _finish(run, status=SyncStatus.SUCCEEDED, counts=outcome.counts, warnings=outcome.warnings)
    if account.status != AccountStatus.ACTIVE or account.status_message:
        MarketplaceAccount.objects.filter(pk=account.pk).update(status=AccountStatus.ACTIVE, status_message="")
    if run.rows_written:
        audit_record(
            actor="system",
            action="marketplace.account.sync",
            target=account,
            after={"counts": run.counts},
            message=_("%(written)d row(s) written, %(unchanged)d unchanged.")
            % {"written": run.rows_written, "unchanged": run.total("unchanged")},
        )


def sync_run_execute(*, run_id: int, final_attempt: bool = True) -> SyncRun | None:
    """Run one queued sync. Idempotent: a finished run is left alone, so a redelivered task does nothing.

    Throttling and unavailability are re-raised for the task to retry, unless this is the final
    attempt; then, like every other failure, they fail the run.
    """
    run = SyncRun.objects.select_related("account", "requested_by").filter(pk=run_id).first()
    if run is None:  # its account was deleted while the task waited
        logger.info("Sync run %s no longer exists", run_id)
        return None
    if run.status in (SyncStatus.SUCCEEDED, SyncStatus.FAILED, SyncStatus.SKIPPED):
        return run
    account = run.account
    with account_sync_lock(account) as acquired:
        if not acquired:
            _finish(run, status=SyncStatus.SKIPPED, error_message=_("Another sync of this account was running."))
            return run
        _save_run(
            run,
            status=SyncStatus.RUNNING,
            phase=SyncPhase.CUSTOMERS,
            progress={},
            started_at=run.started_at or timezone.now(),
            attempts=run.attempts + 1,
            error_message="",
        )
        try:
            outcome = _sync(run, account)
        except (Throttled, Unavailable) as error:
            if not final_attempt:
                _save_run(run, status=SyncStatus.RETRYING, error_message=_describe(error))
                raise
            _fail(run, account, error)
        except (ProviderError, SecretUnreadable) as error:
            _fail(run, account, error)
        except Exception as error:
            _fail(run, account, error)
            raise
        else:
            _succeed(run, account, outcome)
    return run


@dataclass
class SyncOutcome:
    counts: dict[str, dict[str, int]]
    warnings: list[str]


def _sync(run: SyncRun, account: MarketplaceAccount) -> SyncOutcome:
    """The three phases; the run row is written once per phase and about once a second while the
    subscriptions are fetched, for the live progress view."""
    counts: dict[str, dict[str, int]] = {}
    provider = provider_for_account(account)
    try:
        customers = list(provider.list_customers())
        counts["customers"] = sync_customers(account=account, records=customers, now=timezone.now()).as_dict()

        _save_run(run, phase=SyncPhase.OFFERS, counts=counts)
        offers = list(provider.list_offers())
        counts["offers"] = sync_offers(account=account, records=offers, now=timezone.now()).as_dict()
        if counts["offers"].get("created"):
            offers_classify(account=account)  # new offers into the catalog's product groups

        fetched = fetch_subscriptions(
            account=account,
            provider=provider,
            on_progress=lambda done, total: _save_run(
                run, phase=SyncPhase.SUBSCRIPTIONS, counts=counts, progress={"done": done, "total": total}
            ),
        )
        counts["subscriptions"] = sync_subscriptions(account=account, fetched=fetched, now=timezone.now()).as_dict()
        return SyncOutcome(counts=counts, warnings=fetched.warnings)
    finally:
        provider.close()
