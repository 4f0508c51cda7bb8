"""Typed dates and quick picks, in the person's zone, across daylight-saving changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.dates import (
    one_year_after,
    parse_day,
    parse_due,
    parse_happened,
    quick_due,
    validate_due,
)
from bot.services.errors import DomainError

UTC = dt.UTC
# Thursday 26 November 2026, 09:00 UTC (09:00 in London, 04:00 in New York).
NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LONDON = "Europe/London"


def local(text: str, zone: str = LONDON) -> dt.datetime:
    """A local wall time (`2026-11-27 15:00`) as aware UTC."""
    naive = dt.datetime.fromisoformat(text)
    return naive.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fri 15:00", "2026-11-27 15:00"),
        ("next week", "2026-12-03 10:00"),
        ("1 Dec 14:30", "2026-12-01 14:30"),
        ("01.12.2026 14:30", "2026-12-01 14:30"),
        ("tomorrow 10:00", "2026-11-27 10:00"),
        ("next monday", "2026-11-30 10:00"),
        ("tomorrow", "2026-11-27 10:00"),
        ("in 3 days", "2026-11-29 10:00"),
        ("8:00", "2026-11-27 08:00"),
        ("15:00", "2026-11-26 15:00"),
    ],
)
def test_parse_due_examples(text: str, expected: str) -> None:
    """The issue's examples, read in London; a date alone is 10:00 local."""
    assert parse_due(text, now=NOW, timezone=LONDON) == local(expected)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("in 2 minutes", dt.timedelta(minutes=2)),
        ("in 2 hours", dt.timedelta(hours=2)),
        ("in 90 min", dt.timedelta(minutes=90)),
        ("In 1 h", dt.timedelta(hours=1)),
    ],
)
def test_in_minutes_and_hours_is_elapsed_time(text: str, delta: dt.timedelta) -> None:
    """Relative minutes and hours are added to the UTC now."""
    assert parse_due(text, now=NOW, timezone="America/New_York") == NOW + delta


def test_parse_due_is_read_in_the_users_zone() -> None:
    """The same words mean different UTC moments in different zones."""
    assert parse_due("tomorrow 10:00", now=NOW, timezone="America/New_York") == local(
        "2026-11-27 10:00", "America/New_York"
    )
    assert parse_due("tomorrow 10:00", now=NOW, timezone="Asia/Kolkata") == local(
        "2026-11-27 10:00", "Asia/Kolkata"
    )
    # A zone in the text wins over the person's zone.
    assert parse_due("15:00 UTC", now=NOW, timezone="America/New_York") == dt.datetime(
        2026, 11, 26, 15, 0, tzinfo=UTC
    )


def test_dst_keeps_the_wall_clock() -> None:
    """From Friday 27 March 2026 (GMT) "in 3 days" is Monday 10:00 BST, i.e. 09:00 UTC."""
    friday = dt.datetime(2026, 3, 27, 9, 0, tzinfo=UTC)
    assert parse_due("in 3 days", now=friday, timezone=LONDON) == dt.datetime(
        2026, 3, 30, 9, 0, tzinfo=UTC
    )
    assert parse_due("next monday 10:00", now=friday, timezone=LONDON) == dt.datetime(
        2026, 3, 30, 9, 0, tzinfo=UTC
    )
    assert quick_due("3d", now=friday, timezone=LONDON) == dt.datetime(
        2026, 3, 30, 9, 0, tzinfo=UTC
    )
    # Across the change "in 2 hours" is still two real hours.
    night = dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert parse_due("in 2 hours", now=night, timezone=LONDON) == night + dt.timedelta(hours=2)


def test_other_languages_follow_the_locale() -> None:
    """A Russian speaker may type Russian; English always works."""
    moscow = "Europe/Moscow"
    expected = local("2026-11-27 10:00", moscow)
    assert parse_due("завтра 10:00", now=NOW, timezone=moscow, locale="ru") == expected
    assert parse_due("tomorrow 10:00", now=NOW, timezone=moscow, locale="ru") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("today 8:00", "already in the past"),
        ("yesterday", "already in the past"),
        ("1 Dec 2030", "more than a year ahead"),
        ("in 9000 hours", "more than a year ahead"),
        ("garbage", "couldn't read"),
        ("31.02.2027", "couldn't read"),
        ("2026", "couldn't read"),
        ("", "couldn't read"),
        ("x" * 200, "couldn't read"),
    ],
)
def test_parse_due_refusals(text: str, message: str) -> None:
    """Past, too far ahead and unreadable texts each get their own sentence."""
    with pytest.raises(DomainError, match=message):
        parse_due(text, now=NOW, timezone=LONDON)


def test_due_limits_are_exact() -> None:
    """Now itself is past; exactly one year ahead is allowed, a second more is not."""
    with pytest.raises(DomainError, match="past"):
        validate_due(NOW, now=NOW, timezone=LONDON)
    assert validate_due(one_year_after(NOW), now=NOW, timezone=LONDON) == one_year_after(NOW)
    with pytest.raises(DomainError, match="year"):
        validate_due(one_year_after(NOW) + dt.timedelta(seconds=1), now=NOW, timezone=LONDON)
    leap = dt.datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert one_year_after(leap) == dt.datetime(2029, 2, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yesterday 15:00", "2026-11-25 15:00"),
        ("today 8:30", "2026-11-26 08:30"),
        ("2026-11-20 14:00", "2026-11-20 14:00"),
        ("20.11.2026 14:00", "2026-11-20 14:00"),
        ("monday", "2026-11-23 09:00"),
        ("today", "2026-11-26 09:00"),
    ],
)
def test_parse_happened(text: str, expected: str) -> None:
    """Past times read in the person's zone; a date alone keeps the current time of day."""
    assert parse_happened(text, now=NOW, timezone=LONDON) == local(expected)


@pytest.mark.parametrize("text", ["today 9:30", "tomorrow", "tomorrow 10:00", "1 Dec 2026"])
def test_parse_happened_refuses_the_future(text: str) -> None:
    """A contact that already happened can't be in the future."""
    with pytest.raises(DomainError, match="in the future"):
        parse_happened(text, now=NOW, timezone=LONDON)


def test_quick_picks() -> None:
    """2h is elapsed; the others are 10:00 local on the right day."""
    ny = "America/New_York"
    assert quick_due("2h", now=NOW, timezone=ny) == NOW + dt.timedelta(hours=2)
    assert quick_due("tom10", now=NOW, timezone=ny) == local("2026-11-27 10:00", ny)
    assert quick_due("3d", now=NOW, timezone=ny) == local("2026-11-29 10:00", ny)
    assert quick_due("mon", now=NOW, timezone=ny) == local("2026-11-30 10:00", ny)
    monday = local("2026-11-30 08:00", ny)
    assert quick_due("mon", now=monday, timezone=ny) == local("2026-12-07 10:00", ny)
    with pytest.raises(DomainError, match="quick pick"):
        quick_due("5y", now=NOW, timezone=ny)


_WORDS = st.sampled_from(
    [
        "today",
        "tomorrow",
        "yesterday",
        "next",
        "in",
        "week",
        "month",
        "monday",
        "fri",
        "sunday",
        "at",
        "1",
        "2",
        "15",
        "31",
        "2026",
        "2027",
        "2030",
        "dec",
        "january",
        "days",
        "hours",
        "minutes",
        "10:00",
        "23:59",
        "00:00",
        "7pm",
        "01.12.2026",
        "29.02.2028",
        "12/01",
        "ago",
        "UTC",
        "noon",
    ]
)
_TEXTS = st.one_of(st.lists(_WORDS, min_size=1, max_size=4).map(" ".join), st.text(max_size=30))
_NOWS = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2035, 12, 31), timezones=st.just(UTC)
)
_ZONES = st.sampled_from(
    [LONDON, "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Kiritimati"]
)


@settings(max_examples=150, deadline=None)
@given(text=_TEXTS, now=_NOWS, zone=_ZONES)
def test_any_accepted_due_is_future_and_within_a_year(
    text: str, now: dt.datetime, zone: str
) -> None:
    """Whatever is typed, parse_due returns a time after now and at most a year ahead, or
    refuses with a DomainError (never another exception)."""
    try:
        due = parse_due(text, now=now, timezone=zone)
    except DomainError:
        return
    assert due.tzinfo is not None
    assert now < due <= one_year_after(now)


@settings(max_examples=100, deadline=None)
@given(text=_TEXTS, now=_NOWS, zone=_ZONES)
def test_any_accepted_happened_is_not_in_the_future(
    text: str, now: dt.datetime, zone: str
) -> None:
    """parse_happened never returns a future time."""
    try:
        happened = parse_happened(text, now=now, timezone=zone)
    except DomainError:
        return
    assert happened <= now


@settings(max_examples=100, deadline=None)
@given(now=_NOWS, zone=_ZONES, code=st.sampled_from(["2h", "tom10", "3d", "mon"]))
def test_quick_picks_are_always_acceptable(now: dt.datetime, zone: str, code: str) -> None:
    """Every quick pick is a valid due time, whatever the moment and zone."""
    due = quick_due(code, now=now, timezone=zone)
    assert validate_due(due, now=now, timezone=zone) == due


# --- dates without a year: the next occurrence ahead, the last one behind ------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("28 February", "2027-02-28 10:00"),
        ("26 Nov", "2026-11-26 10:00"),  # today is the next occurrence, not a year ahead
        ("26 Nov 15:00", "2026-11-26 15:00"),
        ("1 Jan 9:00", "2027-01-01 09:00"),
    ],
)
def test_due_without_a_year_is_the_next_occurrence(text: str, expected: str) -> None:
    assert parse_due(text, now=NOW, timezone=LONDON) == local(expected)


def test_due_today_at_an_hour_gone_is_the_past_not_next_year() -> None:
    with pytest.raises(DomainError, match="already in the past"):
        parse_due("26 Nov 08:00", now=NOW, timezone=LONDON)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("27 Nov 10:00", "2025-11-27 10:00"), ("25 Nov 14:00", "2026-11-25 14:00")],
)
def test_happened_without_a_year_is_the_last_occurrence(text: str, expected: str) -> None:
    assert parse_happened(text, now=NOW, timezone=LONDON) == local(expected)


@pytest.mark.parametrize(
    ("text", "prefer", "day"),
    [
        ("28 February", "future", dt.date(2027, 2, 28)),
        ("28 February", "past", dt.date(2026, 2, 28)),
        ("26 November", "future", dt.date(2026, 11, 26)),
        ("26 November", "past", dt.date(2026, 11, 26)),
        ("27 Nov", "past", dt.date(2025, 11, 27)),
        ("25 Nov", "future", dt.date(2027, 11, 25)),
        ("29 Feb", "future", dt.date(2028, 2, 29)),
        ("29 Feb", "past", dt.date(2024, 2, 29)),
        ("15.12", "future", dt.date(2026, 12, 15)),  # a day, not 15:12
        ("15.12.", "past", dt.date(2025, 12, 15)),
        ("yesterday", "future", dt.date(2026, 11, 25)),  # relative words keep their meaning
        ("tomorrow", "past", dt.date(2026, 11, 27)),
        ("friday", "future", dt.date(2026, 11, 27)),
        ("friday", "past", dt.date(2026, 11, 20)),
        ("15.12.2025", "future", dt.date(2025, 12, 15)),  # a year given is kept
        ("2026-01-05", "future", dt.date(2026, 1, 5)),
    ],
)
def test_parse_day_occurrence(text: str, prefer: str, day: dt.date) -> None:
    assert parse_day(text, today=dt.date(2026, 11, 26), prefer=prefer) == day  # type: ignore[arg-type]


def test_months_after_keeps_the_day_or_takes_the_months_last() -> None:
    """31 Jan + 1 month is 28 Feb (29 in a leap year); 30 Nov + 3 months is 28 Feb."""
    from bot.services.dates import months_after

    assert months_after(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert months_after(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)
    assert months_after(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert months_after(dt.date(2026, 8, 15), 6) == dt.date(2027, 2, 15)
