"""Dates people type ("fri 15:00", "yesterday 9:30") and quick picks, in their own time zone.

Everything is computed in the person's local wall time with zoneinfo and then converted to UTC,
so "tomorrow 10:00" is 10:00 on the clock even across a daylight-saving change. `dateparser`
reads the text relative to the local "now" and returns naive wall time; it is deliberately
not given its TIMEZONE setting, because its own localisation applies the offset of the
parsing moment rather than the target date (from 27 March, "in 3 days" in London came
back as GMT although 30 March is BST). Text naming a zone ("15:00 UTC") comes back aware and
is converted exactly. "In N minutes/hours" is elapsed time, so it is added to the UTC now.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from dateparser.date import DateDataParser

from bot.services.errors import DomainError
from bot.timefmt import format_moment

DEFAULT_TIME = dt.time(10, 0)
"""The local time given to a due date typed without a time, and to the day quick picks."""

MAX_TEXT = 100

_ELAPSED = re.compile(r"^in\s+(\d{1,4})\s*(minutes?|mins?|m|hours?|hrs?|h)\.?$", re.IGNORECASE)
_EXAMPLES = "Try “tomorrow 10:00”, “fri 15:00”, “in 2 hours” or “01.12.2026 14:30”."


def one_year_after(moment: dt.datetime) -> dt.datetime:
    """The same moment a calendar year later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:
        return moment.replace(year=moment.year + 1, day=28)


def local_to_utc(day: dt.date, time: dt.time, timezone: str) -> dt.datetime:
    """A local date and wall time in `timezone`, as an aware UTC datetime."""
    return dt.datetime.combine(day, time, tzinfo=ZoneInfo(timezone)).astimezone(dt.UTC)


def validate_due(
    due_at: dt.datetime, *, now: dt.datetime, timezone: str, locale: str = "en"
) -> dt.datetime:
    """Return `due_at` if it is after now and at most a year ahead, else a DomainError."""
    if due_at.tzinfo is None:
        raise ValueError("due_at must be an aware datetime")
    if due_at <= now:
        shown = format_moment(due_at, timezone, locale)
        raise DomainError(f"{shown} is already in the past. Please choose a later time.")
    if due_at > one_year_after(now):
        shown = format_moment(due_at, timezone, locale)
        raise DomainError(
            f"{shown} is more than a year ahead. Please choose a time within a year."
        )
    return due_at


def validate_happened(
    happened_at: dt.datetime, *, now: dt.datetime, timezone: str, locale: str = "en"
) -> dt.datetime:
    """Return `happened_at` unless it is in the future (a logged contact already happened)."""
    if happened_at.tzinfo is None:
        raise ValueError("happened_at must be an aware datetime")
    if happened_at > now:
        shown = format_moment(happened_at, timezone, locale)
        raise DomainError(
            f"{shown} is in the future; a contact you log has already happened. "
            "Please give a time up to now."
        )
    return happened_at


def parse_due(text: str, *, now: dt.datetime, timezone: str, locale: str = "en") -> dt.datetime:
    """Read a due time typed in the person's zone; a date alone means 10:00 local.

    Refuses unreadable text, the past, and more than a year ahead, with a sentence that says
    what to type instead. Returns an aware UTC datetime (whole seconds).
    """
    elapsed = _ELAPSED.match(text.strip())
    if elapsed:
        minutes = int(elapsed.group(1)) * (60 if elapsed.group(2).lower().startswith("h") else 1)
        due = (now + dt.timedelta(minutes=minutes)).replace(microsecond=0)
    else:
        due, has_time = _parse(text, now=now, timezone=timezone, locale=locale, prefer="future")
        if not has_time:
            day = due.astimezone(ZoneInfo(timezone)).date()
            due = local_to_utc(day, DEFAULT_TIME, timezone)
    return validate_due(due, now=now, timezone=timezone, locale=locale)


def parse_happened(
    text: str, *, now: dt.datetime, timezone: str, locale: str = "en"
) -> dt.datetime:
    """Read when a contact happened ("yesterday 15:00", "today 9:30", "2026-11-20 14:00").

    A date alone keeps the current local time of day (capped at now). The future is refused.
    """
    parsed, has_time = _parse(text, now=now, timezone=timezone, locale=locale, prefer="past")
    if not has_time:
        zone = ZoneInfo(timezone)
        local_now = now.astimezone(zone)
        day = parsed.astimezone(zone).date()
        parsed = local_to_utc(day, local_now.time().replace(microsecond=0), timezone)
        if day == local_now.date():
            parsed = min(parsed, now)
    return validate_happened(parsed, now=now, timezone=timezone, locale=locale)


def quick_due(code: str, *, now: dt.datetime, timezone: str) -> dt.datetime:
    """The due time of a quick-pick button.

    `2h`: two hours from now. `tom10`: tomorrow 10:00 local. `3d`: in three days at 10:00
    local (a follow-up belongs in working hours, not at the minute the call was logged).
    `mon`: next Monday 10:00 local (a week ahead when today is Monday).
    """
    if code == "2h":
        return (now + dt.timedelta(hours=2)).replace(microsecond=0)
    today = now.astimezone(ZoneInfo(timezone)).date()
    if code == "tom10":
        day = today + dt.timedelta(days=1)
    elif code == "3d":
        day = today + dt.timedelta(days=3)
    elif code == "mon":
        day = today + dt.timedelta(days=(7 - today.weekday()) or 7)
    else:
        raise DomainError("That quick pick is no longer available; please type a time.")
    return local_to_utc(day, DEFAULT_TIME, timezone)


def _languages(locale: str) -> list[str]:
    language = locale.replace("-", "_").split("_")[0].lower()
    return ["en"] if language in ("", "en") else [language, "en"]


def _parse(
    text: str, *, now: dt.datetime, timezone: str, locale: str, prefer: str
) -> tuple[dt.datetime, bool]:
    """Parse relative to the local now; return (UTC moment, whether the text gave a time)."""
    cleaned = " ".join(text.split())
    # Bare numbers ("15", "2026") are ambiguous: an hour, a day or a year? Ask instead.
    if not cleaned or cleaned.isdigit() or len(cleaned) > MAX_TEXT:
        raise DomainError(f"I couldn't read that as a date and time. {_EXAMPLES}")
    zone = ZoneInfo(timezone)
    settings = {
        "PREFER_DATES_FROM": prefer,
        "RELATIVE_BASE": now.astimezone(zone).replace(tzinfo=None),
        "DATE_ORDER": "DMY",
        "RETURN_TIME_AS_PERIOD": True,
    }
    try:
        parser = DateDataParser(languages=_languages(locale), settings=settings)
    except ValueError:
        parser = DateDataParser(languages=["en"], settings=settings)
    try:
        data = parser.get_date_data(cleaned)
        moment = data.date_obj
        if moment is None:
            raise DomainError(f"I couldn't read “{cleaned}” as a date and time. {_EXAMPLES}")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        utc = moment.astimezone(dt.UTC).replace(microsecond=0)
    except (ValueError, OverflowError) as error:
        raise DomainError(
            f"I couldn't read “{cleaned}” as a date and time. {_EXAMPLES}"
        ) from error
    return utc, data.period == "time"
