"""Report results kept in the cache (Redis, one key space per partner schema), so opening a large
partner's report again does not compute it again.

A key says everything the result depends on: the report and its filters, the language (gap actions
are translated when computed), the exact customers the user may see (a scope change is a new key),
and a signature of the data that can still change. An issued cycle's statements never change
("money is a record"), so reconciliation's key only carries the invoice imports' state; what a
marketplace corrects in the snapshots of a past day reaches it within `REPORT_CACHE_SECONDS`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from django.core.cache import cache
from django.utils import translation

from customers.selectors import customers_visible_to

#: How long a cached report result is used at most (data the key cannot see changing ages out).
REPORT_CACHE_SECONDS = 600
#: The same for an issued cycle's reconciliation: only a late correction of the snapshots of the
#: cycle's last day can change it unseen by its key.
ISSUED_CYCLE_CACHE_SECONDS = 3600


def scope_signature(user) -> str:
    """The customers the user may see, as a short digest (one query of ids)."""
    ids = customers_visible_to(user=user).order_by("pk").values_list("pk", flat=True)
    return hashlib.sha256(",".join(str(pk) for pk in ids).encode()).hexdigest()[:24]


def cache_key(report: str, *parts: Any) -> str:
    text = "|".join(str(part) for part in (*parts, translation.get_language()))
    return f"reports:{report}:{hashlib.sha256(text.encode()).hexdigest()[:32]}"


class CachedPages(Sequence):
    """A list of rows cut into pages kept in the cache, for Django's Paginator: the length comes from
    the cache, a slice loads only the pages it covers. A page the cache lost is computed again with
    the rest (`compute` returns every row and sets every page)."""

    def __init__(self, *, key: str, total: int, per_page: int, compute: Callable[[], list]) -> None:
        self.key, self.total, self.per_page, self.compute = key, total, per_page, compute

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop, _step = index.indices(self.total)
        first, last = start // self.per_page, max(start, stop - 1) // self.per_page
        names = [f"{self.key}:page:{number}" for number in range(first, last + 1)]
        found = cache.get_many(names)
        if len(found) < len(names):
            rows = self.compute()
            return rows[start:stop]
        rows = [row for name in names for row in found[name]]
        offset = first * self.per_page
        return rows[start - offset : stop - offset]


def cached_pages(
    *, key: str, per_page: int, compute: Callable[[], tuple[list, Any]], timeout: int = REPORT_CACHE_SECONDS
) -> tuple[CachedPages, Any]:
    """The rows `compute` returns (with its summary, e.g. counts) as cached pages, computed once per key."""
    stored = cache.get(f"{key}:summary")

    def compute_and_store() -> list:
        nonlocal stored
        rows, summary = compute()
        stored = {"total": len(rows), "summary": summary}
        entries: dict[str, Any] = {f"{key}:summary": stored}
        for number in range(0, max(len(rows), 1), per_page):
            entries[f"{key}:page:{number // per_page}"] = rows[number : number + per_page]
        cache.set_many(entries, timeout=timeout)
        return rows

    if stored is None:
        compute_and_store()
    assert stored is not None
    pages = CachedPages(key=key, total=stored["total"], per_page=per_page, compute=compute_and_store)
    return pages, stored["summary"]


def cached_value(*, key: str, compute: Callable[[], Any]) -> Any:
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=REPORT_CACHE_SECONDS)
    return value
