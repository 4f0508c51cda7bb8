"""Showing UTC moments in a person's time zone and language (babel)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_date as format_date_babel
from babel.dates import format_datetime, format_timedelta


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


def format_clock(moment: dt.datetime, timezone: str) -> str:
    """Local time of day: `14:05`."""
    return local_time(moment, timezone).strftime("%H:%M")


def format_date(day: dt.date, locale: str) -> str:
    """A calendar date: `Fri 27 Nov`."""
    return format_date_babel(day, "EEE d MMM", locale=locale)


def format_span(delta: dt.timedelta, locale: str) -> str:
    """A duration in words, rounded: `3 days`, `2 hours`."""
    return format_timedelta(delta, threshold=1.5, locale=locale)
