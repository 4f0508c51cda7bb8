"""Showing UTC moments in a person's time zone and language (babel)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_datetime


def local_time(moment: dt.datetime, timezone: str) -> dt.datetime:
    """The moment in the given IANA zone."""
    return moment.astimezone(ZoneInfo(timezone))


def format_moment(moment: dt.datetime, timezone: str, locale: str) -> str:
    """A moment as a person reads it: `Thu 26 Nov 2026, 14:05`."""
    return format_datetime(
        local_time(moment, timezone),
        "EEE d MMM yyyy, HH:mm",
        tzinfo=ZoneInfo(timezone),
        locale=locale,
    )


def format_day(moment: dt.datetime, timezone: str, locale: str) -> str:
    """A date as a person reads it: `Thu 26 Nov 2026`."""
    return format_datetime(
        local_time(moment, timezone), "EEE d MMM yyyy", tzinfo=ZoneInfo(timezone), locale=locale
    )
