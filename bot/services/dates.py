"""Dates people type ("fri 15:00", "yesterday 9:30") and quick picks, in their own time zone.

Everything is computed in the person's local wall time with zoneinfo and then converted to UTC,
so "tomorrow 10:00" is 10:00 on the clock even across a daylight-saving change. `dateparser`
reads the text relative to the local "now" and returns naive wall time; it is deliberately
not given its TIMEZONE setting, because its own localisation applies the offset of the
parsing moment rather than the target date (from 27 March, "in 3 days" in London came
back as GMT although 30 March is BST). Text naming a zone ("15:00 UTC") comes back aware and
is converted exactly. "In N minutes/hours" is elapsed time, so it is added to the UTC now.

A date typed without a year ("28 February", "15 Dec") is an occurrence of that day: the next
one (today included) for something ahead — a due date, a promise, a reminder — and the last
one (today included) for something that happened — a payment, an issue date, a logged call.
dateparser's PREFER_DATES_FROM alone gets this wrong at the edges (today's date typed as a
due date came back a year ahead), so the text is read twice, relative to today and to a day
some years later: when only the year moved, the text named no year, and the occurrence is
chosen here (`_year_less`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any, Literal
from zoneinfo import ZoneInfo

from dateparser.date import DateData, DateDataParser

from bot.services.errors import DomainError
from bot.timefmt import format_moment

DEFAULT_TIME = dt.time(10, 0)
"""The local time given to a due date typed without a time, and to the day quick picks."""

MAX_TEXT = 100
MAX_DAY_TEXT = 60

Prefer = Literal["future", "past"]
"""Which occurrence a date without a year means: the next one, or the last one."""

_SHIFT = dt.timedelta(days=4 * 365 + 1 + 3)
"""A second reading's base: four years (a leap day, so 29 February exists) and three days on,
so a relative text ("yesterday", "friday") moves by other than whole years."""
_DAY_MONTH = re.compile(r"^(\d{1,2})[./](\d{1,2})\.?$")
_DAY_EXAMPLES = "Send it like 2026-12-15, 15.12.2026 or 15 Dec."

_ELAPSED = re.compile(r"^in\s+(\d{1,4})\s*(minutes?|mins?|m|hours?|hrs?|h)\.?$", re.IGNORECASE)
_EXAMPLES = "Try “tomorrow 10:00”, “fri 15:00”, “in 2 hours” or “01.12.2026 14:30”."


class UnsuitableTime(DomainError):
    """A due time that was read but can't be used: in the past, or over a year ahead."""


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
        raise UnsuitableTime(f"{shown} is already in the past. Please choose a later time.")
    if due_at > one_year_after(now):
        shown = format_moment(due_at, timezone, locale)
        raise UnsuitableTime(
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


MONTH_PICKS = {"1m": 1, "3m": 3, "6m": 6}


def months_after(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or that month's last day when it has fewer days."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def quick_due(code: str, *, now: dt.datetime, timezone: str) -> dt.datetime:
    """The due time of a quick-pick button.

    `2h`: two hours from now. `tom10`: tomorrow 10:00 local. `3d`: in three days at 10:00
    local (a follow-up belongs in working hours, not at the minute the call was logged).
    `mon`: next Monday 10:00 local (a week ahead when today is Monday). `1m`, `3m`, `6m`:
    the same day one, three or six months on (the month's last day when it is shorter), at
    10:00 local: when a paused client comes back.
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
    elif code in MONTH_PICKS:
        day = months_after(today, MONTH_PICKS[code])
    else:
        raise DomainError("That quick pick is no longer available; please type a time.")
    return local_to_utc(day, DEFAULT_TIME, timezone)


def _languages(locale: str) -> list[str]:
    language = locale.replace("-", "_").split("_")[0].lower()
    return ["en"] if language in ("", "en") else [language, "en"]


def _read(text: str, *, base: dt.datetime, locale: str, prefer: str, **extra: Any) -> DateData:
    """dateparser's reading of `text` relative to the naive local `base`."""
    settings = {
        "PREFER_DATES_FROM": prefer,
        "RELATIVE_BASE": base,
        "DATE_ORDER": "DMY",
        **extra,
    }
    try:
        parser = DateDataParser(languages=_languages(locale), settings=settings)
    except ValueError:
        parser = DateDataParser(languages=["en"], settings=settings)
    return parser.get_date_data(text)


def _year_less(
    moment: dt.datetime, other: dt.datetime | None, *, today: dt.date, prefer: Prefer
) -> dt.datetime:
    """`moment`, or the occurrence `prefer` asks for when the text named no year.

    `other` is the same text read relative to a later day: an absolute date comes back the
    same, a relative one ("yesterday", "friday") moves with the base, and a date without a
    year keeps its day, month and time but changes its year.
    """
    if other is None or other == moment:
        return moment
    if (other.month, other.day, other.timetz()) != (moment.month, moment.day, moment.timetz()):
        return moment
    occurrences = []
    for year in range(today.year - 8, today.year + 9):
        try:
            occurrences.append(moment.replace(year=year))
        except ValueError:  # 29 February in a common year
            continue
    if prefer == "future":
        return min(o for o in occurrences if o.date() >= today)
    return max(o for o in occurrences if o.date() <= today)


def _parse(
    text: str, *, now: dt.datetime, timezone: str, locale: str, prefer: Prefer
) -> tuple[dt.datetime, bool]:
    """Parse relative to the local now; return (UTC moment, whether the text gave a time)."""
    cleaned = " ".join(text.split())
    # Bare numbers ("15", "2026") are ambiguous: an hour, a day or a year? Ask instead.
    if not cleaned or cleaned.isdigit() or len(cleaned) > MAX_TEXT:
        raise DomainError(f"I couldn't read that as a date and time. {_EXAMPLES}")
    zone = ZoneInfo(timezone)
    base = now.astimezone(zone).replace(tzinfo=None)
    try:
        data = _read(cleaned, base=base, locale=locale, prefer=prefer, RETURN_TIME_AS_PERIOD=True)
        moment = data.date_obj
        if moment is None:
            raise DomainError(f"I couldn't read “{cleaned}” as a date and time. {_EXAMPLES}")
        later = _read(
            cleaned,
            base=base + _SHIFT,
            locale=locale,
            prefer=prefer,
            RETURN_TIME_AS_PERIOD=True,
        ).date_obj
        moment = _year_less(moment, later, today=base.date(), prefer=prefer)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        utc = moment.astimezone(dt.UTC).replace(microsecond=0)
    except (ValueError, OverflowError) as error:
        raise DomainError(
            f"I couldn't read “{cleaned}” as a date and time. {_EXAMPLES}"
        ) from error
    return utc, data.period == "time"


def parse_day(text: str, *, today: dt.date, locale: str = "en", prefer: Prefer) -> dt.date:
    """A calendar date typed by a person: ISO, `15.12.2026`, `15.12`, `15 Dec`, `yesterday`.

    A date without a year is its next occurrence (`prefer="future"`: a due or promised day)
    or its last one (`"past"`: a payment or issue date), today included either way. A
    DomainError says what to send instead.
    """
    cleaned = " ".join(text.split())
    if not cleaned or cleaned.isdigit() or len(cleaned) > MAX_DAY_TEXT:
        raise DomainError(f"I couldn't read “{cleaned[:60]}” as a date. {_DAY_EXAMPLES}")
    try:
        return dt.date.fromisoformat(cleaned)
    except ValueError:
        pass
    if day_month := _DAY_MONTH.match(cleaned):  # "15.12" is a day here, not 15:12
        cleaned = f"{day_month.group(1)}/{day_month.group(2)}"
    base = dt.datetime.combine(today, dt.time(12))
    extra = {"PREFER_DAY_OF_MONTH": "first"}
    moment: dt.datetime | None
    try:
        moment = _read(cleaned, base=base, locale=locale, prefer=prefer, **extra).date_obj
        if moment is not None:
            later = _read(cleaned, base=base + _SHIFT, locale=locale, prefer=prefer, **extra)
            moment = _year_less(moment, later.date_obj, today=today, prefer=prefer)
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise DomainError(f"I couldn't read “{cleaned}” as a date. {_DAY_EXAMPLES}")
    return moment.date()


def parse_away(
    words: list[str], *, now: dt.datetime, timezone: str, locale: str = "en"
) -> tuple[dt.datetime, str | None]:
    """`/away <date> [deputy]`: the moment away ends, and the deputy named after the date
    (an @username, or a last word the rest reads as a date without)."""
    tagged = len(words) > 1 and words[-1].startswith("@")
    readings: list[tuple[list[str], str | None]] = [(words, None)]
    if len(words) > 1:
        # "@olga" is surely a deputy; a plain last word is one only if the rest is a date.
        readings.insert(0 if tagged else 1, (words[:-1], words[-1]))
    first_error: DomainError | None = None
    for date_words, deputy in readings:
        try:
            return parse_due(
                " ".join(date_words), now=now, timezone=timezone, locale=locale
            ), deputy
        except DomainError as exc:  # not a date: try the next way of reading the words
            first_error = first_error or exc
    assert first_error is not None
    raise first_error
