"""Dates and times in a sentence, in the active language and the user's time zone.

Templates use Django's `date` filter with the named formats (`DATE_FORMAT`, `SHORT_DATE_FORMAT`, ...);
Python that builds a message for a person uses this, never `isoformat()`, so a German user reads
"22. November 2026" and a Japanese one "2026年11月22日". Money has its own home: `catalog.pricing.money_format`.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format


def when_text(moment: datetime | date | None) -> str:
    """A date, or a moment in the active time zone, in the active language's long form; "" for none."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        return date_format(timezone.localtime(moment) if timezone.is_aware(moment) else moment, "DATETIME_FORMAT")
    return date_format(moment, "DATE_FORMAT")


#: A table column's cell attributes for a date or time: it never breaks inside itself ("2026-12-" / "07").
DATE_CELL = {"td": {"class": "text-nowrap"}}
