"""A person's language and time zone: what the console speaks to them in, wherever it speaks.

Screens get them from `UserLocaleMiddleware`; emails, notifications and documents made outside the
person's own request (a worker, another user's action) enter `user_locale(user)` for each recipient.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from django.conf import settings
from django.utils import timezone, translation


@cache
def time_zone_names() -> tuple[str, ...]:
    """The IANA zones a person can choose ("Europe/Berlin"), sorted; the legacy aliases left out."""
    return tuple(
        sorted(
            name for name in zoneinfo.available_timezones() if "/" in name and not name.startswith(("Etc/", "SystemV/"))
        )
        + ["UTC"]
    )


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in time_zone_names()]


def language_of(user) -> str:
    language = getattr(user, "language", "") or ""
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def time_zone_of(user) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(getattr(user, "time_zone", "") or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


@contextmanager
def user_locale(user) -> Iterator[None]:
    """Translate and show times as `user` reads them, for the length of the block."""
    with translation.override(language_of(user)), timezone.override(time_zone_of(user)):
        yield
