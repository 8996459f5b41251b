"""The sync engine: mirror a marketplace account's customers, plans and cost prices, and the
subscriptions of the tenants connected through it, into the partner's schema.

How it stays cheap and safe:
- skip what did not change: while it fetches, the provider feeds a digest with every answer it
  reads; a successful run records, per kind, that digest and one of the rows it left stored. A kind
  whose digest and stored rows are both still those of the previous successful run is not
  compared at all (`mirror`);
- else compare, then write: each row keeps a fingerprint of the marketplace values it was written
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

import functools
import hashlib
import io
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import import_module
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, models, transaction
from django.db.models import Count, Func, Q, Sum, Value
from django.db.models.functions import Cast
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Offer
from catalog.services import offers_classify
from marketplace import connections as provider_connections
from marketplace.choices import AccountStatus, SyncErrorKind, SyncPhase, SyncStatus
from marketplace.connections import provider_for_account
from marketplace.models import MarketplaceAccount, MarketplaceCustomer, SyncRun, TenantConnection
from marketplace.providers import base as provider_base
from marketplace.providers import http as provider_http
from marketplace.providers.base import (
    AuthenticationFailed,
    CustomerRecord,
    MarketplaceProvider,
    NotFound,
    OfferRecord,
    ProviderError,
    Rejected,
    SubscriptionRecord,
    Throttled,
    Unavailable,
    Unsupported,
)
from marketplace.providers.registry import marketplaces
from marketplace.secrets import SecretUnreadable
from portal.accounts.choices import ADMINISTRATORS_ROLE_NAME, UserKind
from portal.audit.choices import AuditAction, AuditResult, NotificationLevel
from portal.audit.services import audit_record, notification_create
from portal.core.locks import session_lock
from portal.observability.metrics import sync_run_observe
from portal.webhooks.choices import WebhookEventType
from portal.webhooks.services import webhook_event_emit
from subscriptions.models import Subscription
from subscriptions.services_prices import subscription_prices_pin_new

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
# date, datetime; JSON already encoded as text). It is fingerprinted and written as the same text:
# its values in PostgreSQL's COPY text format (`row_text`).


def _text(value: Any, length: int) -> str:
    if value is None:
        return ""
    return (value if type(value) is str else str(value))[:length]


#: json.dumps with these options builds a new encoder on every call; the sync calls it per row
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


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
    """A stable hash of a row's synced values, as the text they are written as (`row_text`)."""
    return _text_fingerprint(row_text(row))


def _text_fingerprint(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class _TextHash(Func):
    """PostgreSQL's 64-bit hash of a text, seeded by a number: the hash partitioning relies on, so it
    stays the same across PostgreSQL versions."""

    function = "hashtextextended"
    output_field = models.BigIntegerField()


def stored_digest(*, existing: models.QuerySet, columns: tuple[str, ...] = ()) -> str:
    """A digest of what a compare reads of the stored rows (external id, fingerprint and `columns`):
    how many there are and the sum of a 64-bit hash of each, computed by PostgreSQL without sending
    a row. A sum does not depend on the order rows are read in; a row's values are chained through
    the hash's seed, so two different rows hash alike only by a 1-in-2^64 accident."""
    row_hash: Any = Value(0)
    for name in (*columns, "sync_fingerprint", "external_id"):
        row_hash = _TextHash(Cast(name, models.TextField()), row_hash)
    totals = existing.aggregate(rows=Count("pk"), hashes=Cast(Sum(row_hash), models.TextField()))
    return f"{totals['rows']}:{totals['hashes'] or 0}"


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
    """What a kind needs written: new rows (external id, row), changed rows (pk, `row_text`,
    fingerprint), and the rows that vanished (pk, the `missing_columns` asked for)."""

    new: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    changed: list[tuple[int, str, str]] = field(default_factory=list)
    missing: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)
    unchanged: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.new or self.changed or self.missing)


def mirror_plan(
    *, existing: models.QuerySet, desired: dict[str, tuple[Any, ...]], missing_columns: tuple[str, ...] = ()
) -> MirrorPlan:
    """Compare the stored fingerprints of `existing` (keyed by external_id) with `desired` {external id: row}.

    Reading three narrow columns instead of every synced column keeps the compare cheap. A new row
    is formatted and fingerprinted only as it is copied in (`mirror_write`)."""
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
        stored = current.pop(external_id, None)
        if stored is None:
            plan.new.append((external_id, row))
            continue
        text = row_text(row)
        digest = _text_fingerprint(text)
        if stored[2] != digest:
            plan.changed.append((stored[0], text, digest))
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


def row_text(row: Iterable[Any]) -> str:
    """Values as PostgreSQL's COPY text format reads them, tab-separated."""
    return "\t".join(map(_copy_text, row))


class _CopyStream(io.TextIOBase):
    """Lines of COPY text, made as PostgreSQL reads them, so making them overlaps the server's work."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
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


def copy_rows(*, table: str, columns: list[str], lines: Iterable[str]) -> int:
    """Insert rows with COPY, each a line of COPY text ending in a newline. The ORM's bulk_create
    spends most of a 20,000-row first sync preparing values field by field in Python
    (bench/sync.py); COPY takes the rows as one text stream."""
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN", _CopyStream(lines), size=65536
        )
        return cursor.cursor.rowcount


def update_rows(*, table: str, columns: list[str], lines: Iterable[str]) -> int:
    """Update rows by id (`columns[0]`): COPY the new values into a temporary table, then one UPDATE ... FROM."""
    name = connection.ops.quote_name
    temporary = f"sync_{table}"
    selected = ", ".join(name(column) for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name(temporary)}")
        cursor.execute(f"CREATE TEMPORARY TABLE {name(temporary)} AS SELECT {selected} FROM {name(table)} WITH NO DATA")
    copy_rows(table=temporary, columns=columns, lines=lines)
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
    `remove` (which returns how many it removed). Call inside a transaction.

    A new row is formatted once, for its line and for its fingerprint, while the rows before it are
    copied in: on a first sync that work overlaps PostgreSQL's instead of preceding it."""
    meta = model._meta
    counts = MirrorCounts(unchanged=plan.unchanged)
    if plan.new or plan.changed or plan.missing:
        _relaxed_durability()
    synced = [meta.get_field(name).column for name in fields]
    stamp = _copy_text(now)
    if plan.new:
        head = "".join(f"{_copy_text(value)}\t" for value in parent.values())

        def new_lines() -> Iterator[str]:
            for external_id, row in plan.new:
                text = row_text(row)
                yield f"{head}{_copy_text(external_id)}\t{text}\t{_text_fingerprint(text)}\t{stamp}\t{stamp}\n"

        copy_rows(
            table=meta.db_table,
            columns=[
                *(meta.get_field(name).column for name in parent),
                "external_id",
                *synced,
                "sync_fingerprint",
                "created",
                "updated",
            ],
            lines=new_lines(),
        )
        counts.created = len(plan.new)
    if plan.changed:
        counts.updated = update_rows(
            table=meta.db_table,
            columns=[meta.pk.column, *synced, "sync_fingerprint", "updated"],
            lines=(f"{pk}\t{text}\t{digest}\t{stamp}\n" for pk, text, digest in plan.changed),
        )
    if plan.missing:
        counts.removed = remove([pk for pk, _extra in plan.missing])
    return counts


def _delete(model: type[models.Model]) -> Callable[[list[int]], int]:
    def remove(pks: list[int]) -> int:
        _total, per_model = model.objects.filter(pk__in=pks).delete()
        return per_model.get(model._meta.label, 0)

    return remove


_SERIALIZATION_FAILURE = "40001"  # PostgreSQL's SQLSTATE for "could not serialize access"
#: How often a kind's compare and write is tried when concurrent writes keep refusing its snapshot
SNAPSHOT_ATTEMPTS = 3


def _in_one_snapshot(work: Callable[[], tuple[MirrorCounts, str]]) -> tuple[MirrorCounts, str]:
    """Run `work` in one REPEATABLE READ transaction: what it reads, writes and then digests of the
    stored rows is one consistent state, so a row someone else changes meanwhile is not in the digest
    and the next sync compares in full. If that someone changed a row the work also writes, PostgreSQL
    refuses the transaction; the work is done again on the rows as they are now.

    Inside a caller's transaction (the tests') the caller's isolation applies."""
    outermost = not connection.in_atomic_block
    for attempt in range(1, SNAPSHOT_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                if outermost:
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                return work()
        except OperationalError as error:
            if attempt == SNAPSHOT_ATTEMPTS or getattr(error.__cause__, "pgcode", None) != _SERIALIZATION_FAILURE:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class Mirrored:
    """A kind's counts, and the digests the run records so the next run can skip the kind if nothing
    changed (None when the next run must compare it in full)."""

    counts: MirrorCounts
    digests: dict[str, Any] | None


def mirror(
    *,
    model: type[models.Model],
    existing: models.QuerySet,
    rows: Callable[[], dict[str, tuple[Any, ...]]],
    listed: str | None,
    previous: dict[str, Any] | None,
    fields: tuple[str, ...],
    parent: dict[str, Any],
    remove: Callable[[list[int]], int],
    now: datetime,
    missing_columns: tuple[str, ...] = (),
    acts_on_missing: Callable[[tuple[Any, ...]], bool] = lambda extra: True,
) -> Mirrored:
    """Mirror one kind: skip it when nothing changed on either side, else compare and write.

    Nothing changed when the marketplace listed exactly what it listed for the previous run (the
    `listed` payload digest, see `_payload_digest`) and the stored rows are still exactly what
    that run left (a row deleted, added or rewritten by anyone changes `stored_digest`): a compare
    would find every row unchanged, so none is fingerprinted, no stored fingerprint is read and
    every row counts as unchanged. Otherwise `rows()` are compared and written; the vanished rows
    `acts_on_missing` accepts are handed to `remove`. Without a `listed` digest (a provider that
    cannot feed one) the kind is compared every time and nothing is recorded."""
    if (
        listed is not None
        and previous is not None
        and previous["listed"] == listed
        and previous["stored"] == stored_digest(existing=existing, columns=missing_columns)
    ):
        return Mirrored(counts=MirrorCounts(unchanged=previous["rows"]), digests=previous)
    desired = rows()

    def compare_and_write() -> tuple[MirrorCounts, str]:
        plan = mirror_plan(existing=existing, desired=desired, missing_columns=missing_columns)
        plan.missing = [(pk, extra) for pk, extra in plan.missing if acts_on_missing(extra)]
        counts = MirrorCounts(unchanged=plan.unchanged)
        if not plan.is_empty:
            counts = mirror_write(model=model, plan=plan, fields=fields, parent=parent, remove=remove, now=now)
        return counts, stored_digest(existing=existing, columns=missing_columns)

    counts, stored = _in_one_snapshot(compare_and_write)
    if listed is None:
        return Mirrored(counts=counts, digests=None)
    return Mirrored(counts=counts, digests={"listed": listed, "stored": stored, "rows": len(desired)})


def sync_customers(
    *,
    account: MarketplaceAccount,
    records: list[CustomerRecord],
    now: datetime,
    listed: str | None = None,
    previous: dict[str, Any] | None = None,
) -> Mirrored:
    return mirror(
        model=MarketplaceCustomer,
        existing=MarketplaceCustomer.objects.filter(account=account),
        rows=lambda: {record.external_id: customer_row(record) for record in records},
        listed=listed,
        previous=previous,
        fields=CUSTOMER_FIELDS,
        parent={"account": account.pk},
        remove=_delete(MarketplaceCustomer),
        now=now,
    )


def sync_offers(
    *,
    account: MarketplaceAccount,
    records: list[OfferRecord],
    now: datetime,
    listed: str | None = None,
    previous: dict[str, Any] | None = None,
) -> Mirrored:
    """Offers the marketplace stopped listing are flagged unavailable, not deleted (prices point at them).
    Flagging clears the fingerprint, so an offer that comes back is rewritten as available."""

    def flag_unavailable(pks: list[int]) -> int:
        return Offer.objects.filter(pk__in=pks).update(is_available=False, sync_fingerprint="", updated=now)

    return mirror(
        model=Offer,
        existing=Offer.objects.filter(account=account),
        rows=lambda: {record.offer_id: offer_row(record) for record in records},
        listed=listed,
        previous=previous,
        fields=OFFER_FIELDS,
        parent={"account": account.pk},
        remove=flag_unavailable,
        now=now,
        missing_columns=("is_available",),
        acts_on_missing=lambda extra: extra[0],
    )


@dataclass
class SubscriptionFetch:
    #: (customer tenant id, external customer id) of every connection, in the order fetched
    connections: list[tuple[int, str]]
    #: the account's offers, {external id: pk}: a subscription row links its offer
    offer_ids: dict[str, int]
    #: {external id: row}, made as the records arrive: a row of plain values is soon left alone by
    #: Python's garbage collector, whereas keeping 20,000 records would make it sweep the whole heap
    rows: dict[str, tuple[Any, ...]]
    warnings: list[str]
    #: tenants whose subscriptions could not be listed: their rows are kept as they are
    skipped_tenant_ids: set[int]


def sync_concurrency(account: MarketplaceAccount) -> int:
    """How many customers' subscriptions a sync of the account lists at once: the account's own
    setting, else its marketplace's default."""
    if account.sync_concurrency:
        return account.sync_concurrency
    description = marketplaces().get(account.marketplace)
    return description.sync_concurrency if description else 1


#: a customer's listing: its records, or the refusal that makes it a warning; and its payload digest
_Listing = tuple[list[SubscriptionRecord] | NotFound | Rejected, bytes | None]


def fetch_subscriptions(
    *,
    account: MarketplaceAccount,
    provider: MarketplaceProvider,
    on_progress: Callable[[int, int], None],
    payload: hashlib._Hash | None = None,
    concurrency: int = 1,
    while_listing: Callable[[], None] = lambda: None,
) -> SubscriptionFetch:
    """List the subscriptions of every tenant connected through the account, up to `concurrency`
    customers at a time. A customer the marketplace no longer knows is a warning for that tenant,
    not a failed sync.

    The listings run on a pool of threads that only talk to the marketplace (never to the
    database); their results are taken in the order of the connections, so the rows, the warnings
    and what each customer's answers add to `payload` come in the same order whatever answer
    arrived first. Any other error stops the fetch: listings not yet started are cancelled.

    `while_listing` runs on this thread once the listings are under way, before their results are
    taken: the database work that precedes them (writing customers and offers) overlaps their wait.
    The rows link the account's offers as they are once it has run."""
    connections = list(
        TenantConnection.objects.filter(account=account)
        .order_by("pk")
        .values_list("customer_tenant_id", "external_customer_id", "customer_tenant__primary_domain")
    )
    fetched = SubscriptionFetch(
        connections=[(tenant_id, external_customer_id) for tenant_id, external_customer_id, _domain in connections],
        offer_ids={},
        rows={},
        warnings=[],
        skipped_tenant_ids=set(),
    )
    total = len(connections)
    provider.list_subscriptions_prepare(customer_external_ids=[external_id for _tenant, external_id, _d in connections])

    def listing(external_customer_id: str) -> _Listing:
        digest = hashlib.sha256() if payload is not None else None
        with provider.payload_scope(digest):
            try:
                records = list(provider.list_subscriptions(customer_external_id=external_customer_id))
            except (NotFound, Rejected) as error:
                return error, None
        return records, digest.digest() if digest is not None else None

    last_report = time.monotonic()
    window = max(1, concurrency)
    with ThreadPoolExecutor(max_workers=window, thread_name_prefix="sync-fetch") as executor:
        # Every listing is queued at once, so the threads go from one to the next without waiting for
        # this thread, which meanwhile writes what came before and applies the results in order.
        pending: deque[tuple[tuple[int, str, str], Future[_Listing]]] = deque(
            (connection_row, executor.submit(listing, connection_row[1])) for connection_row in connections
        )
        done = 0
        try:
            while_listing()
            on_progress(0, total)
            offer_ids = fetched.offer_ids = dict(Offer.objects.filter(account=account).values_list("external_id", "pk"))
            while pending:
                (tenant_id, external_customer_id, domain), future = pending.popleft()
                while True:
                    try:
                        outcome, customer_digest = future.result(timeout=PROGRESS_EVERY_SECONDS)
                        break
                    except FutureTimeout:
                        on_progress(done, total)
                        last_report = time.monotonic()
                done += 1
                if isinstance(outcome, list):
                    for record in outcome:
                        fetched.rows[record.external_id] = subscription_row(
                            record, customer_tenant_id=tenant_id, offer_id=offer_ids.get(record.offer_id)
                        )
                    if payload is not None and customer_digest is not None:
                        payload.update(customer_digest)
                else:
                    fetched.skipped_tenant_ids.add(tenant_id)
                    fetched.warnings.append(
                        _("Tenant %(tenant)s (customer %(customer)s): %(reason)s")
                        % {"tenant": domain or tenant_id, "customer": external_customer_id, "reason": outcome.message}
                    )
                if time.monotonic() - last_report >= PROGRESS_EVERY_SECONDS:
                    on_progress(done, total)
                    last_report = time.monotonic()
        finally:
            for _connection, future in pending:
                future.cancel()
    return fetched


def sync_subscriptions(
    *,
    account: MarketplaceAccount,
    fetched: SubscriptionFetch,
    now: datetime,
    listed: str | None = None,
    previous: dict[str, Any] | None = None,
) -> Mirrored:
    """The rows of a tenant whose subscriptions could not be listed are kept as they are. Such a fetch
    is not the whole listing: it is compared in full and leaves no digest to skip the next one by."""
    skipped = fetched.skipped_tenant_ids
    return mirror(
        model=Subscription,
        existing=Subscription.objects.filter(account=account),
        rows=lambda: fetched.rows,
        listed=None if skipped else listed,
        previous=previous,
        fields=SUBSCRIPTION_FIELDS,
        parent={"account": account.pk},
        remove=_delete(Subscription),
        now=now,
        missing_columns=("customer_tenant_id",),
        acts_on_missing=lambda extra: extra[0] not in skipped,
    )


# -- one run -----------------------------------------------------------------------------------------------------------


#: The account's sync lock (`portal.core.locks.session_lock`): session-level, since the run commits phase
#: by phase; a worker that dies drops its connection and with it the lock.
SYNC_LOCK = "marketplace.sync"


def _save_run(run: SyncRun, **changes: Any) -> None:
    for name, value in changes.items():
        setattr(run, name, value)
    SyncRun.objects.filter(pk=run.pk).update(**changes)


def _finish(run: SyncRun, *, status: str, error_message: str = "", **changes: Any) -> None:
    finished = timezone.now()
    sync_run_observe(
        marketplace=run.account.marketplace,
        status=status,
        seconds=(finished - run.started_at).total_seconds() if run.started_at else None,
    )
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


def _error_kind(error: BaseException) -> str:
    """The console's own words for why a sync stopped (SyncErrorKind)."""
    kinds = (
        (Throttled, SyncErrorKind.THROTTLED),
        (Unavailable, SyncErrorKind.UNAVAILABLE),
        (AuthenticationFailed, SyncErrorKind.AUTHENTICATION),
        (NotFound, SyncErrorKind.NOT_FOUND),
        (Unsupported, SyncErrorKind.UNSUPPORTED),
        (ProviderError, SyncErrorKind.REJECTED),
        (SecretUnreadable, SyncErrorKind.SECRET),
    )
    return next((kind for error_type, kind in kinds if isinstance(error, error_type)), SyncErrorKind.UNEXPECTED)


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
    _finish(run, status=SyncStatus.FAILED, error_message=message, error_kind=_error_kind(error))
    marketplace = marketplaces().get(account.marketplace)
    with transaction.atomic():
        locked = MarketplaceAccount.objects.select_for_update().get(pk=account.pk)
        newly_failing = locked.status != AccountStatus.FAILING
        if newly_failing or locked.status_message != message:
            MarketplaceAccount.objects.filter(pk=account.pk).update(
                status=AccountStatus.FAILING, status_message=message
            )
        audit_record(
            actor="system",
            action=AuditAction.MARKETPLACE_ACCOUNT_SYNC,
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
        webhook_event_emit(
            type=WebhookEventType.SYNC_FAILED,
            data={
                "marketplace_account_id": account.pk,
                "marketplace": account.marketplace,
                "sync_run_id": run.pk,
                "message": message,
            },
        )
    logger.error("Sync of marketplace account %s failed: %s", account.pk, message)


def _succeed(run: SyncRun, account: MarketplaceAccount, outcome: SyncOutcome) -> None:
    _finish(
        run,
        status=SyncStatus.SUCCEEDED,
        counts=outcome.counts,
        warnings=outcome.warnings,
        mirror_digests=outcome.digests,
    )
    if account.status != AccountStatus.ACTIVE or account.status_message:
        MarketplaceAccount.objects.filter(pk=account.pk).update(status=AccountStatus.ACTIVE, status_message="")
    if run.rows_written:
        audit_record(
            actor="system",
            action=AuditAction.MARKETPLACE_ACCOUNT_SYNC,
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
    with session_lock(SYNC_LOCK, account.pk) as acquired:
        if not acquired:
            _finish(
                run,
                status=SyncStatus.SKIPPED,
                error_message=_("Another sync of this account was running."),
                error_kind=SyncErrorKind.BUSY,
            )
            return run
        _save_run(
            run,
            status=SyncStatus.RUNNING,
            phase=SyncPhase.CUSTOMERS,
            progress={},
            started_at=run.started_at or timezone.now(),
            attempts=run.attempts + 1,
            error_message="",
            error_kind="",
        )
        try:
            outcome = _sync(run, account)
        except (Throttled, Unavailable) as error:
            if not final_attempt:
                _save_run(
                    run, status=SyncStatus.RETRYING, error_message=_describe(error), error_kind=_error_kind(error)
                )
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
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: {kind: digests} for `SyncRun.mirror_digests`; a kind the next run must compare in full has none
    digests: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, kind: str, mirrored: Mirrored) -> None:
        self.counts[kind] = mirrored.counts.as_dict()
        if mirrored.digests is not None:
            self.digests[kind] = mirrored.digests


def _previous_digests(run: SyncRun) -> dict[str, dict[str, Any]]:
    """The digests the account's latest run before this one recorded. Only a run that succeeded
    records any, so after a failed or abandoned run every kind is compared in full; so is every kind
    of a retried run, whose earlier attempt may have written half way."""
    if run.attempts > 1:
        return {}
    latest = (
        SyncRun.objects.filter(account_id=run.account_id, started_at__isnull=False)
        .exclude(pk=run.pk)
        .order_by("-created", "-pk")
        .values_list("mirror_digests", flat=True)
        .first()
    )
    return latest or {}


@functools.cache
def _mapping_source(provider_module: str) -> bytes:
    """A hash of the source of everything that turns a marketplace's answers into rows: this module,
    how an account becomes a provider, the provider contract, the HTTP client base and the
    provider's package. Listing digests cover it, so the first sync after a deploy that changes how
    answers become rows (a field added to a row, a mapping fixed) compares in full."""
    package = import_module(provider_module.rpartition(".")[0])
    paths = [
        Path(__file__),
        Path(provider_connections.__file__),
        Path(provider_base.__file__),
        Path(provider_http.__file__),
        *sorted(Path(package.__file__).parent.glob("*.py")),
    ]
    hasher = hashlib.sha256()
    for path in paths:
        hasher.update(path.read_bytes())
    return hasher.digest()


def _payload_digest(account: MarketplaceAccount, provider: MarketplaceProvider) -> hashlib._Hash | None:
    """A running digest of everything the sync's rows are made of, or None when the provider cannot
    feed one (`MarketplaceProvider.digest_payload`): the mapping's source, the account's connection,
    then every answer the provider reads. It runs through the whole sync, so each kind's listing
    digest also covers what was read before it, which a provider may use (Partner Center prices a
    subscription in its customer's market)."""
    digest = hashlib.sha256(_mapping_source(type(provider).__module__))
    digest.update(repr((account.region, account.username, sorted(account.options.items()))).encode())
    return digest if provider.digest_payload(digest=digest) else None


def _listed(payload: hashlib._Hash | None, *inputs: Any) -> str | None:
    """The listing digest of the kind just fetched: the payload so far and the local `inputs` its rows
    are also made of."""
    if payload is None:
        return None
    listing = payload.copy()
    for value in inputs:
        listing.update(repr(value).encode())
    return listing.hexdigest()


def _list_customers_and_offers(
    provider: MarketplaceProvider, payload: hashlib._Hash | None, *, concurrency: int
) -> tuple[list[CustomerRecord], list[OfferRecord], bytes | None]:
    """The customers, and the offers with the digest of their answers (None without a `payload`).

    With room for two requests in flight, the offers are listed on a second thread once the first
    page of customers is in (so the client has signed in, once), while the other customer pages are
    read: a marketplace that pages its customers would otherwise keep the other slots idle. The
    customers' answers feed `payload` and the offers' their own digest, which the caller adds after
    them: the same bytes in the same order whichever answer came first."""
    customer_listing = iter(provider.list_customers())
    customers = list(itertools.islice(customer_listing, 1))

    def list_offers() -> tuple[list[OfferRecord], bytes | None]:
        digest = hashlib.sha256() if payload is not None else None
        with provider.payload_scope(digest):
            records = list(provider.list_offers())
        return records, digest.digest() if digest is not None else None

    if concurrency < 2:
        customers.extend(customer_listing)
        return customers, *list_offers()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-offers") as executor:
        offers_listing = executor.submit(list_offers)
        try:
            customers.extend(customer_listing)
        except BaseException:
            offers_listing.cancel()
            raise
        return customers, *offers_listing.result()


def _sync(run: SyncRun, account: MarketplaceAccount) -> SyncOutcome:
    """The three phases; the run row is written once per phase and about once a second while the
    subscriptions are fetched, for the live progress view."""
    outcome = SyncOutcome()
    previous = _previous_digests(run)
    concurrency = sync_concurrency(account)
    # every thread draws on a batch of slots reserved in one round trip (marketplace.rate_budget)
    provider = provider_for_account(account, reserve_ahead=2 * concurrency)
    try:
        payload = _payload_digest(account, provider)
        customers, offers, offers_digest = _list_customers_and_offers(provider, payload, concurrency=concurrency)
        customers_listed = _listed(payload)
        if payload is not None and offers_digest is not None:
            payload.update(offers_digest)
        offers_listed = _listed(payload)

        def write_customers_and_offers() -> None:
            """While the first subscription listings are in flight."""
            outcome.add(
                "customers",
                sync_customers(
                    account=account,
                    records=customers,
                    now=timezone.now(),
                    listed=customers_listed,
                    previous=previous.get("customers"),
                ),
            )
            _save_run(run, phase=SyncPhase.OFFERS, counts=outcome.counts)
            outcome.add(
                "offers",
                sync_offers(
                    account=account,
                    records=offers,
                    now=timezone.now(),
                    listed=offers_listed,
                    previous=previous.get("offers"),
                ),
            )
            if outcome.counts["offers"]["created"]:
                offers_classify(account=account)  # new offers into the catalog's product groups

        fetched = fetch_subscriptions(
            account=account,
            provider=provider,
            on_progress=lambda done, total: _save_run(
                run, phase=SyncPhase.SUBSCRIPTIONS, counts=outcome.counts, progress={"done": done, "total": total}
            ),
            payload=payload,
            concurrency=concurrency,
            while_listing=write_customers_and_offers,
        )
        outcome.warnings = fetched.warnings
        outcome.add(
            "subscriptions",
            sync_subscriptions(
                account=account,
                fetched=fetched,
                now=timezone.now(),
                listed=_listed(payload, fetched.connections, sorted(fetched.offer_ids.items())),
                previous=previous.get("subscriptions"),
            ),
        )
        if outcome.counts["subscriptions"]["created"]:
            subscription_prices_pin_new(account=account)
        return outcome
    finally:
        provider.close()
