"""Reading numbers, amounts and instants out of marketplace answers, the same way for every adapter.

Marketplaces send the same value in different shapes (a quantity as 5, "5" or "5.0"; an amount as a
number or a string; an instant with "Z", an offset or none), so each reader is lenient in what it
accepts and answers None (or the caller's `default`) for what it cannot read, never raising: a value
the console cannot read is a missing value, not a failed sync.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, overload


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@overload
def integer(value: Any, *, default: int) -> int: ...
@overload
def integer(value: Any, *, default: None = None) -> int | None: ...
def integer(value: Any, *, default: int | None = None) -> int | None:
    """A whole number, truncated towards zero.

    Accepts an int, a bool (True is 1), a float, a Decimal, and a string holding any of them, with
    blanks around it ("5", " 5 ", "5.0", "5.7" is 5, "1e3" is 1000). None, a blank string and anything
    else (text, NaN, infinity) give `default`."""
    if _blank(value):
        return default
    if isinstance(value, bool | int):
        return int(value)
    try:
        return int(value if isinstance(value, Decimal) else Decimal(str(value).strip()))
    except (ArithmeticError, ValueError):  # InvalidOperation for text; ValueError/OverflowError for NaN/infinity
        return default


@overload
def money(value: Any, *, default: Decimal) -> Decimal: ...
@overload
def money(value: Any, *, default: None = None) -> Decimal | None: ...
def money(value: Any, *, default: Decimal | None = None) -> Decimal | None:
    """An exact amount as Decimal, unrounded.

    Accepts a Decimal (returned as it is), an int, a float (through its shortest text, so 0.1 is
    Decimal("0.1")), and a string holding a number, with blanks around it. None, a blank string and
    text that is not a number give `default`."""
    if _blank(value):
        return default
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return default


def instant(value: Any) -> datetime | None:
    """A timezone-aware datetime.

    Accepts ISO 8601 text with or without a time, fractional seconds and an offset ("Z" is UTC),
    with blanks around it, and a datetime or date (through its ISO text). An instant without an offset
    is taken as UTC. None, an empty value and text that is not ISO 8601 give None."""
    if _blank(value) or not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def calendar_date(value: Any) -> date | None:
    """A calendar date: the date part of what `instant` reads, as the marketplace wrote it (no
    conversion to UTC); failing that, an ISO date at the start of the text ("2024-05-01 …").
    None, an empty value and anything else give None."""
    moment = instant(value)
    if moment is not None:
        return moment.date()
    if _blank(value) or not value:
        return None
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None
