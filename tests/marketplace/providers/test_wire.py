"""The wire readers every adapter uses: the union of what the four adapters' own readers accepted.

Where the adapters disagreed, the lenient reading won; each such case says which adapter was stricter.
"""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from marketplace.providers.wire import calendar_date, instant, integer, money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, 5),
        ("5", 5),
        (" 5 ", 5),
        (5.7, 5),  # truncated towards zero, as int() did in every adapter
        (-5.7, -5),
        (Decimal("12"), 12),
        ("5.0", 5),  # ALSO and Partner Center read it; ALEF's and Cloudmore's int("5.0") gave None
        ("1e3", 1000),  # as ALSO and Partner Center (through Decimal)
        (True, 1),  # as ALEF and Cloudmore (int(True)); ALSO gave None
        (None, None),
        ("", None),
        ("   ", None),
        ("five", None),
        ("NaN", None),  # ALSO raised ValueError here
        (float("inf"), None),
        ([5], None),
    ],
)
def test_integer(value, expected):
    assert integer(value) == expected


def test_integer_with_a_default_reads_like_partner_center_did():
    """Partner Center's reader answered 0 for what it could not read."""
    assert integer(None, default=0) == 0
    assert integer("", default=0) == 0
    assert integer("many", default=0) == 0
    assert integer("7", default=0) == 7


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12.345"), Decimal("12.345")),
        ("12.345", Decimal("12.345")),
        (" 12.50 ", Decimal("12.50")),  # as Partner Center (strip)
        (12, Decimal("12")),
        (0.1, Decimal("0.1")),  # through its text, not the binary fraction
        ("-3", Decimal("-3")),
        ("0", Decimal("0")),
        (None, None),
        ("", None),
        ("   ", None),  # as Partner Center; ALEF, ALSO and Cloudmore raised InvalidOperation
        ("twelve", None),  # as Partner Center; the others raised InvalidOperation
    ],
)
def test_money(value, expected):
    assert money(value) == expected


def test_money_keeps_the_decimal_it_is_given_and_its_default():
    amount = Decimal("1.10")
    assert money(amount) is amount
    assert money(None, default=Decimal(0)) == Decimal(0)  # Partner Center's invoice amounts
    assert money("n/a", default=Decimal(0)) == Decimal(0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-05-01T10:30:00Z", datetime(2026, 5, 1, 10, 30, tzinfo=UTC)),
        ("2026-05-01T10:30:00+00:00", datetime(2026, 5, 1, 10, 30, tzinfo=UTC)),
        (
            "2026-05-01T10:30:00+02:00",
            datetime(2026, 5, 1, 10, 30, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("2026-05-01T10:30:00.123456Z", datetime(2026, 5, 1, 10, 30, 0, 123456, tzinfo=UTC)),
        ("2026-05-01T10:30:00", datetime(2026, 5, 1, 10, 30, tzinfo=UTC)),  # no offset: UTC
        ("2026-05-01", datetime(2026, 5, 1, tzinfo=UTC)),
        (" 2026-05-01T10:30:00Z ", datetime(2026, 5, 1, 10, 30, tzinfo=UTC)),  # as Partner Center (strip)
        (datetime(2026, 5, 1, 10, 30, tzinfo=UTC), datetime(2026, 5, 1, 10, 30, tzinfo=UTC)),
        (None, None),
        ("", None),
        (0, None),
        ("soon", None),
        ("2026-13-01T00:00:00Z", None),
    ],
)
def test_instant(value, expected):
    moment = instant(value)
    assert moment == expected
    assert moment is None or moment.tzinfo is not None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-05-01", date(2026, 5, 1)),
        ("2026-05-01T23:30:00-05:00", date(2026, 5, 1)),  # the date as written, not converted to UTC
        ("2026-05-01T10:30:00Z", date(2026, 5, 1)),
        (" 2026-05-01 ", date(2026, 5, 1)),  # as Partner Center (strip); Cloudmore's [:10] gave None
        ("2026-05-01T25:00:00", date(2026, 5, 1)),  # as Cloudmore (the date part); the others gave None
        ("2026-05-01 (estimated)", date(2026, 5, 1)),  # as Cloudmore; the others gave None
        (date(2026, 5, 1), date(2026, 5, 1)),
        (None, None),
        ("", None),
        ("May 1st", None),
    ],
)
def test_calendar_date(value, expected):
    assert calendar_date(value) == expected
