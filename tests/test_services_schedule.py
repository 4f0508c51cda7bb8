"""Personal timing: quiet hours, the morning agenda across DST, settings, and away mode."""

from __future__ import annotations

import datetime as dt
import sqlite3
from zoneinfo import ZoneInfo

import pytest

from bot.services import schedule
from bot.services.errors import DomainError, NotAllowed
from bot.services.schedule import Prefs
from storage import audit, reminders, users
from storage.reminders import ReminderState, ReminderSubject
from storage.users import Role, User
from tests.factories import make_user

UTC = dt.UTC
MANAGER, DEPUTY, OTHER, HEAD = 10, 11, 12, 20


def at(zone: str, *args: int) -> dt.datetime:
    """A local wall time in `zone`, as an aware datetime (first occurrence if ambiguous)."""
    return dt.datetime(*args, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


def utc(*args: int) -> dt.datetime:
    """A UTC moment."""
    return dt.datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def prefs(zone: str = "UTC", **changes: object) -> Prefs:
    """The default settings in `zone`, with some changed."""
    base = {
        "timezone": zone,
        "agenda_time": dt.time(9, 0),
        "working_days": frozenset({1, 2, 3, 4, 5}),
        "quiet_from": dt.time(21, 0),
        "quiet_to": dt.time(8, 0),
        "heads_up_minutes": 60,
    }
    return Prefs(**{**base, **changes})  # type: ignore[arg-type]


async def _agenda_rows(db, user_id: int) -> list[reminders.Reminder]:
    return await reminders.live_for_user(db, user_id, ReminderSubject.AGENDA)


# --- defaults and the migration ---------------------------------------------------------------


async def test_new_users_get_the_default_settings(db, clock) -> None:
    """The migration's column defaults reach the User: 09:00, Mon-Fri, 21-08, 60 min."""
    user = await make_user(db, clock, MANAGER)
    assert (user.agenda_time, user.working_days) == (dt.time(9), (1, 2, 3, 4, 5))
    assert (user.quiet_from, user.quiet_to, user.heads_up_minutes) == (dt.time(21), dt.time(8), 60)
    assert (user.away_until, user.deputy_id) == (None, None)
    assert Prefs.of(user) == prefs()


async def test_the_database_refuses_malformed_settings(db, clock) -> None:
    """CHECKs back the services: bad clock text, weekdays, minutes, self-deputy."""
    await make_user(db, clock, MANAGER)
    for sql in [
        "UPDATE users SET agenda_time = '9:30'",
        "UPDATE users SET working_days = '1,8'",
        "UPDATE users SET working_days = ''",
        "UPDATE users SET heads_up_minutes = 1441",
        "UPDATE users SET deputy_id = telegram_id, away_until = '2027-01-01T00:00:00Z'",
    ]:
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            async with db.transaction() as tx:
                await tx.execute(sql)


# --- quiet hours --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        ((2026, 11, 26, 20, 59), False),
        ((2026, 11, 26, 21, 0), True),
        ((2026, 11, 26, 23, 59), True),
        ((2026, 11, 27, 0, 0), True),
        ((2026, 11, 27, 7, 59), True),
        ((2026, 11, 27, 8, 0), False),
        ((2026, 11, 27, 12, 0), False),
    ],
)
def test_quiet_hours_crossing_midnight(local, quiet) -> None:
    """21:00-08:00 local includes its start and excludes its end."""
    moment = at("Europe/Berlin", *local)
    assert schedule.in_quiet_hours(moment, prefs("Europe/Berlin")) is quiet


def test_quiet_hours_within_a_day_and_off() -> None:
    """13:00-14:00 is a lunch break; equal start and end switch quiet hours off."""
    lunch = prefs(quiet_from=dt.time(13), quiet_to=dt.time(14))
    assert schedule.in_quiet_hours(utc(2026, 11, 26, 13, 30), lunch)
    assert not schedule.in_quiet_hours(utc(2026, 11, 26, 14, 0), lunch)
    assert not schedule.in_quiet_hours(utc(2026, 11, 26, 22, 0), lunch)
    assert schedule.quiet_end(utc(2026, 11, 26, 13, 30), lunch) == utc(2026, 11, 26, 14)
    off = prefs(quiet_from=dt.time(8), quiet_to=dt.time(8))
    assert not off.quiet_enabled
    assert not schedule.in_quiet_hours(utc(2026, 11, 26, 3, 0), off)
    moment = utc(2026, 11, 26, 3, 0)
    assert schedule.quiet_end(moment, off) == moment


def test_quiet_end_evening_and_morning() -> None:
    """In the evening part the period ends tomorrow; in the morning part today."""
    p = prefs("Asia/Tokyo")
    evening = at("Asia/Tokyo", 2026, 11, 26, 22, 15)
    assert schedule.quiet_end(evening, p) == at("Asia/Tokyo", 2026, 11, 27, 8, 0)
    morning = at("Asia/Tokyo", 2026, 11, 27, 6, 0)
    assert schedule.quiet_end(morning, p) == at("Asia/Tokyo", 2026, 11, 27, 8, 0)
    daytime = at("Asia/Tokyo", 2026, 11, 27, 12, 0)
    assert schedule.quiet_end(daytime, p) == daytime


@pytest.mark.parametrize(
    ("zone", "night", "end_utc"),
    [
        # London springs forward on 29 March 2026: 08:00 BST is 07:00 UTC.
        ("Europe/London", (2026, 3, 28, 23, 0), utc(2026, 3, 29, 7, 0)),
        # ... and falls back on 25 October: 08:00 GMT is 08:00 UTC.
        ("Europe/London", (2026, 10, 24, 23, 0), utc(2026, 10, 25, 8, 0)),
        # New York: 8 March 2026 (08:00 EDT = 12:00 UTC), 1 November (08:00 EST = 13:00 UTC).
        ("America/New_York", (2026, 3, 7, 22, 0), utc(2026, 3, 8, 12, 0)),
        ("America/New_York", (2026, 11, 1, 0, 30), utc(2026, 11, 1, 13, 0)),
    ],
)
def test_quiet_end_across_dst(zone, night, end_utc) -> None:
    """A quiet night that contains a DST switch ends at 08:00 on the local clock."""
    moment = at(zone, *night)
    assert schedule.in_quiet_hours(moment, prefs(zone))
    end = schedule.quiet_end(moment, prefs(zone))
    assert end == end_utc
    assert end.astimezone(ZoneInfo(zone)).time() == dt.time(8, 0)
    assert not schedule.in_quiet_hours(end, prefs(zone))


def test_quiet_end_in_the_repeated_autumn_hour() -> None:
    """Quiet until 01:30 on New York's fall-back night: the second 01:10 still ends at the
    second 01:30, never before the moment itself."""
    p = prefs("America/New_York", quiet_from=dt.time(22), quiet_to=dt.time(1, 30))
    first = utc(2026, 11, 1, 5, 10)  # 01:10 EDT
    second = utc(2026, 11, 1, 6, 10)  # 01:10 EST, the repeated hour
    assert schedule.quiet_end(first, p) == utc(2026, 11, 1, 5, 30)
    assert schedule.in_quiet_hours(second, p)
    assert schedule.quiet_end(second, p) == utc(2026, 11, 1, 6, 30)


# --- the morning agenda time ------------------------------------------------------------------


def test_next_agenda_skips_to_the_next_working_day() -> None:
    """Strictly after: at 09:00 exactly it is tomorrow's; Friday after 09:00 gives Monday."""
    p = prefs()
    thursday = utc(2026, 11, 26, 8, 59)
    assert schedule.next_agenda_at(thursday, p) == utc(2026, 11, 26, 9, 0)
    assert schedule.next_agenda_at(utc(2026, 11, 26, 9, 0), p) == utc(2026, 11, 27, 9, 0)
    assert schedule.next_agenda_at(utc(2026, 11, 27, 9, 0), p) == utc(2026, 11, 30, 9, 0)
    weekend = prefs(working_days=frozenset({6, 7}), agenda_time=dt.time(10, 30))
    assert schedule.next_agenda_at(thursday, weekend) == utc(2026, 11, 28, 10, 30)


@pytest.mark.parametrize(
    ("zone", "friday", "monday", "days"),
    [
        # Spring: Friday in winter time, Monday in summer time; 09:00 local both days.
        ("Europe/London", utc(2026, 3, 27, 9), utc(2026, 3, 30, 8), None),
        ("America/New_York", utc(2026, 3, 6, 14), utc(2026, 3, 9, 13), None),
        # Autumn: the other way round.
        ("Europe/London", utc(2026, 10, 23, 8), utc(2026, 10, 26, 9), None),
        ("America/New_York", utc(2026, 10, 30, 13), utc(2026, 11, 2, 14), None),
    ],
)
def test_next_agenda_keeps_local_time_across_dst(zone, friday, monday, days) -> None:
    """09:00 stays 09:00 on the local clock across the switch (the UTC hour moves)."""
    p = prefs(zone)
    assert schedule.next_agenda_at(friday - dt.timedelta(minutes=1), p) == friday
    assert schedule.next_agenda_at(friday, p) == monday
    for moment in (friday, monday):
        assert moment.astimezone(ZoneInfo(zone)).time() == dt.time(9, 0)


@pytest.mark.parametrize(
    ("zone", "saturday", "sunday"),
    [
        ("Europe/London", utc(2026, 3, 28, 9), utc(2026, 3, 29, 8)),
        ("Europe/London", utc(2026, 10, 24, 8), utc(2026, 10, 25, 9)),
        ("America/New_York", utc(2026, 3, 7, 14), utc(2026, 3, 8, 13)),
        ("America/New_York", utc(2026, 10, 31, 13), utc(2026, 11, 1, 14)),
    ],
)
def test_next_agenda_on_the_switch_day_itself(zone, saturday, sunday) -> None:
    """Working every day: the agenda on the Sunday of the switch is at 09:00 local too."""
    p = prefs(zone, working_days=frozenset(range(1, 8)))
    assert schedule.next_agenda_at(saturday, p) == sunday
    assert sunday.astimezone(ZoneInfo(zone)).time() == dt.time(9, 0)


def test_agenda_time_in_the_repeated_hour_comes_once() -> None:
    """01:30 on New York's fall-back day happens twice; the agenda comes at the first only."""
    p = prefs("America/New_York", agenda_time=dt.time(1, 30), working_days=frozenset(range(1, 8)))
    first = schedule.next_agenda_at(utc(2026, 11, 1, 4, 0), p)
    assert first == utc(2026, 11, 1, 5, 30)  # 01:30 EDT
    assert schedule.next_agenda_at(first, p) == utc(2026, 11, 2, 6, 30)  # next day, EST


def test_agenda_time_in_the_spring_gap_moves_forward() -> None:
    """02:30 does not exist on 8 March 2026 in New York; it comes at 03:30 EDT that day."""
    p = prefs("America/New_York", agenda_time=dt.time(2, 30), working_days=frozenset(range(1, 8)))
    moment = schedule.next_agenda_at(utc(2026, 3, 8, 5, 0), p)
    assert moment == utc(2026, 3, 8, 7, 30)
    assert moment.astimezone(ZoneInfo("America/New_York")).time() == dt.time(3, 30)


# --- settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("9", dt.time(9)),
        ("9:30", dt.time(9, 30)),
        ("09:30", dt.time(9, 30)),
        (" 17:05 ", dt.time(17, 5)),
        ("0", dt.time(0)),
        ("23:59", dt.time(23, 59)),
    ],
)
def test_parse_clock_accepts(text, value) -> None:
    """Hours, or hours:minutes with two-digit minutes, on the 24-hour clock."""
    assert schedule.parse_clock(text) == value


@pytest.mark.parametrize("text", ["", "24", "9:5", "9:60", "9.30", "9am", "930", "-1", "9:30:00"])
def test_parse_clock_refuses(text) -> None:
    """Anything else is refused with a sentence saying what to send."""
    with pytest.raises(DomainError, match="for example 9, 9:30 or 17:45"):
        schedule.parse_clock(text)


async def test_set_agenda_time_moves_the_pending_agenda(db, clock) -> None:
    """The change, its audit entry and the moved agenda row happen together."""
    user = await make_user(db, clock, MANAGER, timezone="Europe/London")
    await schedule.ensure_agenda_reminder(db, user, clock.now())
    [row] = await _agenda_rows(db, MANAGER)
    assert row.due_at == utc(2026, 11, 27, 9, 0)  # Thursday 09:00 has just passed
    changed = await schedule.set_agenda_time(db, clock, actor=user, text="9:30")
    assert changed.agenda_time == dt.time(9, 30)
    [moved] = await _agenda_rows(db, MANAGER)
    assert (moved.id, moved.due_at) == (row.id, utc(2026, 11, 26, 9, 30))
    entry = (await audit.recent_entries(db, action="settings.agenda_time"))[0]
    assert entry.details == {"from": "09:00", "to": "09:30"}
    with pytest.raises(DomainError, match="24-hour clock"):
        await schedule.set_agenda_time(db, clock, actor=changed, text="half past nine")
    again = await schedule.set_agenda_time(db, clock, actor=changed, text="09:30")
    assert again == changed
    assert len(await audit.recent_entries(db, action="settings.agenda_time")) == 1


async def test_set_working_days(db, clock) -> None:
    """Non-empty, 1-7; the agenda moves to the next chosen day."""
    user = await make_user(db, clock, MANAGER)
    await schedule.ensure_agenda_reminder(db, user, clock.now())
    for days, message in [(set(), "at least one"), ({0, 1}, "Monday"), ({8}, "Sunday")]:
        with pytest.raises(DomainError, match=message):
            await schedule.set_working_days(db, clock, actor=user, days=days)
    changed = await schedule.set_working_days(db, clock, actor=user, days={1, 3})
    assert changed.working_days == (1, 3)
    [row] = await _agenda_rows(db, MANAGER)
    assert row.due_at == utc(2026, 11, 30, 9, 0)  # Monday
    assert schedule.describe_days(changed.working_days) == "Mon, Wed"
    assert schedule.describe_days((1, 2, 3, 4, 5)) == "Mon–Fri"
    assert schedule.describe_days(range(1, 8)) == "every day"  # type: ignore[arg-type]


async def test_set_quiet_hours(db, clock) -> None:
    """Text or times; equal start and end switch them off; no agenda row is touched."""
    user = await make_user(db, clock, MANAGER)
    changed = await schedule.set_quiet_hours(db, clock, actor=user, start="22", end="7:30")
    assert (changed.quiet_from, changed.quiet_to) == (dt.time(22), dt.time(7, 30))
    off = await schedule.set_quiet_hours(
        db, clock, actor=changed, start=dt.time(0), end=dt.time(0)
    )
    assert not Prefs.of(off).quiet_enabled
    assert await _agenda_rows(db, MANAGER) == []
    entry = (await audit.recent_entries(db, action="settings.quiet_hours"))[0]
    assert entry.details == {"from": ["22:00", "07:30"], "to": ["00:00", "00:00"]}


async def test_setters_refuse_a_deactivated_person(db, clock) -> None:
    """Someone switched off can't change settings (the gate normally stops them earlier)."""
    user = await make_user(db, clock, MANAGER)
    async with db.transaction() as tx:
        await users.update_user(tx, MANAGER, now=clock.now(), active=False)
    gone = await users.get_user(db, MANAGER)
    assert gone is not None
    with pytest.raises(NotAllowed):
        await schedule.set_agenda_time(db, clock, actor=gone, text="10")
    assert user.active


@pytest.mark.parametrize(("minutes", "ok"), [(0, True), (1440, True), (-1, False), (1441, False)])
async def test_set_heads_up_limits(db, clock, minutes, ok) -> None:
    """0 switches the heads-up off; at most 24 hours."""
    user = await make_user(db, clock, MANAGER)
    if ok:
        changed = await schedule.set_heads_up(db, clock, actor=user, minutes=minutes)
        assert changed.heads_up_minutes == minutes
        assert Prefs.of(changed).heads_up == (dt.timedelta(minutes=minutes) if minutes else None)
    else:
        with pytest.raises(DomainError, match="24 hours"):
            await schedule.set_heads_up(db, clock, actor=user, minutes=minutes)


# --- the agenda row -------------------------------------------------------------------------


async def test_ensure_agenda_is_idempotent_and_advances(db, clock) -> None:
    """One pending agenda per person; after it is sent, the next working day's is queued."""
    user = await make_user(db, clock, MANAGER, timezone="America/New_York")
    first = await schedule.ensure_agenda_reminder(db, user, clock.now())
    assert first is not None
    assert await schedule.ensure_agenda_reminder(db, user, clock.now()) is None
    [row] = await _agenda_rows(db, MANAGER)
    assert row.due_at == utc(2026, 11, 26, 14, 0)  # 09:00 EST today
    clock.set(row.due_at + dt.timedelta(seconds=3))
    async with db.transaction() as tx:
        [claimed] = await reminders.claim_due(tx, now=clock.now())
        await reminders.mark_sent(tx, claimed.id, now=clock.now(), message_id=1)
        assert await schedule.advance_agenda_reminder(tx, user, clock.now()) is not None
    [following] = await _agenda_rows(db, MANAGER)
    assert following.due_at == utc(2026, 11, 27, 14, 0)


async def test_ensure_all_agenda_reminders(db, clock) -> None:
    """At start-up every active person gets one, and only once; the inactive none."""
    for telegram_id in (MANAGER, OTHER, HEAD):
        await make_user(db, clock, telegram_id)
    async with db.transaction() as tx:
        await users.update_user(tx, OTHER, now=clock.now(), active=False)
    assert await schedule.ensure_all_agenda_reminders(db, clock) == 2
    assert await schedule.ensure_all_agenda_reminders(db, clock) == 0
    assert await _agenda_rows(db, OTHER) == []
    assert len(await _agenda_rows(db, HEAD)) == 1


async def test_agenda_row_query_uses_the_partial_index(db) -> None:
    """The per-person lookup reads the small live index, not every sent agenda ever."""
    plan = await db.fetch_all(
        "EXPLAIN QUERY PLAN SELECT id FROM reminders WHERE user_id = 1 AND subject = 'agenda'"
        " AND state IN ('pending', 'sending', 'held') ORDER BY due_at, id"
    )
    assert any("reminders_user_live" in row["detail"] for row in plan), [
        row["detail"] for row in plan
    ]


# --- away mode --------------------------------------------------------------------------------


async def _team(db, clock) -> tuple[User, User, User]:
    manager = await make_user(db, clock, MANAGER)
    deputy = await make_user(db, clock, DEPUTY)
    head = await make_user(db, clock, HEAD, Role.HEAD)
    return manager, deputy, head


async def test_set_away_validation(db, clock) -> None:
    """Future, within a year; the deputy is another active manager who is not away."""
    manager, deputy, head = await _team(db, clock)
    now = clock.now()
    day = dt.timedelta(days=1)
    for until, deputy_id, message in [
        (now, None, "already in the past"),
        (now + 400 * day, None, "at most a year"),
        (now + day, MANAGER, "your own deputy"),
        (now + day, HEAD, "active manager"),
        (now + day, 999, "active manager"),
    ]:
        with pytest.raises(DomainError, match=message):
            await schedule.set_away(db, clock, actor=manager, until=until, deputy_id=deputy_id)
    await schedule.set_away(db, clock, actor=deputy, until=now + day, deputy_id=None)
    with pytest.raises(DomainError, match="is away too"):
        await schedule.set_away(db, clock, actor=manager, until=now + day, deputy_id=DEPUTY)
    async with db.transaction() as tx:
        await users.update_user(tx, DEPUTY, now=now, active=False)
    with pytest.raises(DomainError, match="active manager"):
        await schedule.set_away(db, clock, actor=manager, until=now + day, deputy_id=DEPUTY)
    assert head.is_lead


async def test_effective_recipient(db, clock) -> None:
    """Away with a deputy: the deputy; away alone: nobody (hold); back: the person again."""
    manager, deputy, _ = await _team(db, clock)
    now = clock.now()
    assert await schedule.effective_recipient(db, manager, now) == (manager, None)
    until = now + dt.timedelta(days=3)
    away = await schedule.set_away(db, clock, actor=manager, until=until, deputy_id=DEPUTY)
    assert (away.away_until, away.deputy_id) == (until, DEPUTY)
    assert await schedule.effective_recipient(db, away, now) == (deputy, away)
    assert await schedule.effective_recipient(db, away, until) == (away, None)
    alone = await schedule.set_away(db, clock, actor=away, until=until, deputy_id=None)
    assert await schedule.effective_recipient(db, alone, now) == (None, alone)
    # A deputy who has been switched off meanwhile doesn't receive anything.
    with_deputy = await schedule.set_away(db, clock, actor=alone, until=until, deputy_id=DEPUTY)
    async with db.transaction() as tx:
        await users.update_user(tx, DEPUTY, now=now, active=False)
    assert await schedule.effective_recipient(db, with_deputy, now) == (None, with_deputy)
    entry = (await audit.recent_entries(db, action="user.away"))[0]
    assert entry.details == {"until": until.isoformat(), "deputy_id": DEPUTY}


async def test_away_pauses_the_agenda_and_coming_back_releases_held_reminders(db, clock) -> None:
    """The agenda moves past the return; back early, reminders parked for it are due now."""
    manager, _, _ = await _team(db, clock)
    await schedule.ensure_agenda_reminder(db, manager, clock.now())
    until = utc(2026, 12, 2, 0, 0)  # back on Wednesday
    away = await schedule.set_away(db, clock, actor=manager, until=until)
    [agenda] = await _agenda_rows(db, MANAGER)
    assert agenda.due_at == utc(2026, 12, 2, 9, 0)
    # The sweep parked a reminder at the return time (no deputy).
    async with db.transaction() as tx:
        parked = await reminders.insert_reminder(
            tx,
            user_id=MANAGER,
            subject=ReminderSubject.MISSING_STEP,
            subject_id=1,
            due_at=until,
            now=clock.now(),
        )
        later = await reminders.insert_reminder(
            tx,
            user_id=MANAGER,
            subject=ReminderSubject.MISSING_STEP,
            subject_id=2,
            due_at=until + dt.timedelta(hours=5),
            now=clock.now(),
        )
    clock.advance(dt.timedelta(days=2))  # Saturday
    back = await schedule.clear_away(db, clock, actor=away)
    assert (back.away_until, back.deputy_id) == (None, None)
    rows = {r.id: r for r in await reminders.reminders_for(db, ReminderSubject.MISSING_STEP, 1)}
    assert rows[parked].due_at == clock.now()
    [untouched] = await reminders.reminders_for(db, ReminderSubject.MISSING_STEP, 2)
    assert (untouched.id, untouched.due_at) == (later, until + dt.timedelta(hours=5))
    [agenda] = await _agenda_rows(db, MANAGER)
    assert agenda.due_at == utc(2026, 11, 30, 9, 0)  # Monday again
    assert agenda.state is ReminderState.PENDING
    entry = (await audit.recent_entries(db, action="user.back"))[0]
    assert entry.details["released"] == 1
    assert await schedule.clear_away(db, clock, actor=back) == back
