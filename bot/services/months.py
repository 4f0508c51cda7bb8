"""Calendar months in a person's time zone, and how much of one has gone by.

Telegram-free. A month is counted in the zone of the person whose figures it holds: it
starts at local midnight of its first day (resolved with zoneinfo on that very day, so a DST
change inside it shifts nothing) and ends at local midnight of the next month's first day.
The pace of a plan is measured in the person's working days (their /settings): the share of
the month's working days that have ended before today.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import get_month_names

from bot.services.dates import local_to_utc
from bot.services.errors import DomainError

_ISO = re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})$")
_MONTH_YEAR = re.compile(r"^(\d{1,2})\s*[-/.]\s*(\d{4})$")
_NAMED = re.compile(r"^([^\W\d_]+)\.?(?:\s+(\d{4}))?$")
MONTH_HELP = "Send the month as 2027-01, 01/2027 or a month's name, e.g. January 2027."
WIDEST_OFFSET = dt.timedelta(hours=14)
"""No zone is further from UTC than this (Kiritimati +14, Baker Island -12)."""


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month: `Month(2026, 11)` is November 2026."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9998:
            raise ValueError(f"no such month: {self.year}-{self.month}")

    @classmethod
    def containing(cls, moment: dt.datetime, timezone: str) -> Month:
        """The month `moment` falls in, on the zone's wall clock."""
        local = moment.astimezone(ZoneInfo(timezone))
        return cls(local.year, local.month)

    @classmethod
    def of(cls, day: dt.date) -> Month:
        """The month of a date."""
        return cls(day.year, day.month)

    @classmethod
    def from_iso(cls, text: str) -> Month:
        """`2026-11` as stored; a ValueError for anything else."""
        match = re.fullmatch(r"(\d{4})-(\d{2})", text)
        if match is None:
            raise ValueError(f"not a month: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def iso(self) -> str:
        """`2026-11`."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> dt.date:
        """Its first day."""
        return dt.date(self.year, self.month, 1)

    @property
    def length(self) -> int:
        """Its number of days."""
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def last(self) -> dt.date:
        """Its last day."""
        return dt.date(self.year, self.month, self.length)

    def shift(self, months: int) -> Month:
        """The month `months` later (earlier when negative)."""
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def contains(self, day: dt.date) -> bool:
        """Whether the date is in this month."""
        return (day.year, day.month) == (self.year, self.month)

    def bounds(self, timezone: str) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in UTC: local midnight of the 1st to local midnight of the next 1st."""
        return (
            local_to_utc(self.first, dt.time(0), timezone),
            local_to_utc(self.shift(1).first, dt.time(0), timezone),
        )

    def first_utc_bound(self) -> dt.datetime:
        """A moment before the month begins in every zone (for a query across zones)."""
        return dt.datetime.combine(self.first, dt.time(0), tzinfo=dt.UTC) - WIDEST_OFFSET

    def last_utc_bound(self) -> dt.datetime:
        """A moment after the month ends in every zone."""
        return dt.datetime.combine(self.shift(1).first, dt.time(0), tzinfo=dt.UTC) + WIDEST_OFFSET


@dataclass(frozen=True, slots=True)
class MonthSoFar:
    """How far a person is into a month: `days` of it begun (today included), `today`."""

    month: Month
    today: dt.date
    days: int  # 0 before it began, its length once it is over


def month_so_far(month: Month, now: dt.datetime, timezone: str) -> MonthSoFar:
    """The days of `month` begun by `now` in the zone (today counts as begun)."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    if today < month.first:
        days = 0
    elif today > month.last:
        days = month.length
    else:
        days = today.day
    return MonthSoFar(month, today, days)


def working_days(month: Month, days: frozenset[int] | set[int] | tuple[int, ...]) -> list[dt.date]:
    """The month's working days (ISO weekdays, Mon=1; none configured means every day)."""
    return list(_working_days(month, frozenset(days)))


@lru_cache(maxsize=256)
def _working_days(month: Month, days: frozenset[int]) -> tuple[dt.date, ...]:
    chosen = days or frozenset(range(1, 8))
    every = (month.first + dt.timedelta(days=n) for n in range(month.length))
    return tuple(day for day in every if day.isoweekday() in chosen)


@dataclass(frozen=True, slots=True)
class Pace:
    """The month's working days, and how many of them have ended (before today)."""

    total: int
    gone: int

    @property
    def over(self) -> bool:
        """Every working day has ended."""
        return self.gone >= self.total


def working_pace(
    month: Month, *, today: dt.date, days: frozenset[int] | set[int] | tuple[int, ...]
) -> Pace:
    """How much of the month's working time is gone on `today` (the person's local date):
    its working days before today (every one once the month is over)."""
    listed = working_days(month, days)
    if today > month.last:
        return Pace(len(listed), len(listed))
    return Pace(len(listed), sum(1 for day in listed if day < today))


@lru_cache(maxsize=16)
def _month_words(locale: str) -> dict[str, int]:
    """Month names (wide, abbreviated, stand-alone) in the locale and English, folded."""
    words: dict[str, int] = {}
    for place in dict.fromkeys(("en", locale)):
        try:
            for context in ("format", "stand-alone"):
                for width in ("wide", "abbreviated"):
                    for number, name in get_month_names(width, context, locale=place).items():
                        words.setdefault(name.casefold().rstrip("."), number)
        except (ValueError, LookupError):  # an unknown locale: English only
            continue
    return words


RELATIVE = {"this month": 0, "current month": 0, "next month": 1, "last month": -1}


def parse_month(text: str, *, today: dt.date, locale: str = "en") -> Month:
    """`2027-01`, `01/2027`, `January`, `jan 2027`, `next month`: the month meant.

    A month name without a year is its next occurrence (this month included). A DomainError
    says what to send instead.
    """
    cleaned = " ".join(text.strip().casefold().split())
    current = Month.of(today)
    if cleaned in RELATIVE:
        return current.shift(RELATIVE[cleaned])
    year = number = None
    if match := _ISO.match(cleaned):
        year, number = int(match.group(1)), int(match.group(2))
    elif match := _MONTH_YEAR.match(cleaned):
        number, year = int(match.group(1)), int(match.group(2))
    elif match := _NAMED.match(cleaned):
        number = _month_words(locale).get(match.group(1).rstrip("."))
        if number is not None:
            year = int(match.group(2)) if match.group(2) else None
            if year is None:
                year = today.year if number >= today.month else today.year + 1
    if number is None or year is None or not 1 <= number <= 12 or not 1900 <= year <= 9998:
        raise DomainError(f"I can't read “{text.strip()[:30]}” as a month. {MONTH_HELP}")
    return Month(year, number)


def month_name(month: Month, locale: str = "en") -> str:
    """`November 2026` in the locale (stand-alone form)."""
    try:
        names = get_month_names("wide", "stand-alone", locale=locale)
    except (ValueError, LookupError):
        names = get_month_names("wide", "stand-alone", locale="en")
    return f"{names[month.month]} {month.year}"
