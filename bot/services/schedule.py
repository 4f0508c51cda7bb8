"""Personal timing: the morning agenda, quiet hours, meeting heads-ups and away mode.

Every local time is a wall-clock time in the person's zone, turned into UTC with zoneinfo for
that very day, so 09:00 stays 09:00 across a daylight-saving switch. A wall time that does not
exist on a spring-forward day (02:30 in New York) is read on the offset before the switch,
i.e. it lands as much later as the clock jumped (03:30), as calendars do; an ambiguous one on
an autumn day is its first occurrence.

The morning agenda is a `reminders` row like any other: one pending per person, queued again
after each delivery, moved in the same transaction when a setting changes its time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypedDict, Unpack
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.services.dates import local_to_utc, one_year_after
from bot.services.errors import DomainError, NotAllowed
from bot.timefmt import format_moment
from storage import audit, reminders, steps, users
from storage.db import Database, Queries, Transaction
from storage.reminders import ReminderState, ReminderSubject
from storage.steps import Step, StepKind
from storage.users import Role, User, clock_text

MAX_HEADS_UP_MINUTES = 24 * 60
HEADS_UP_KINDS = frozenset({StepKind.MEETING, StepKind.VISIT})
"""Step kinds that get a heads-up before they are due (travel, preparation)."""
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SWITCHED_OFF = "Your access has been switched off; ask an admin."

_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
_CLOCK_HELP = (
    "Please send a time on the 24-hour clock as hours or hours:minutes, "
    "for example 9, 9:30 or 17:45."
)


@dataclass(frozen=True, slots=True)
class Prefs:
    """A person's reminder settings, typed: what the scheduling rules read."""

    timezone: str
    agenda_time: dt.time
    working_days: frozenset[int]
    quiet_from: dt.time
    quiet_to: dt.time
    heads_up_minutes: int

    @classmethod
    def of(cls, user: User) -> Prefs:
        """The settings stored on a user row."""
        return cls(
            timezone=user.timezone,
            agenda_time=user.agenda_time,
            working_days=frozenset(user.working_days),
            quiet_from=user.quiet_from,
            quiet_to=user.quiet_to,
            heads_up_minutes=user.heads_up_minutes,
        )

    @property
    def quiet_enabled(self) -> bool:
        """Quiet hours are off when they start and end at the same time."""
        return self.quiet_from != self.quiet_to

    @property
    def heads_up(self) -> dt.timedelta | None:
        """How long before a meeting or visit the heads-up comes; None when switched off."""
        return dt.timedelta(minutes=self.heads_up_minutes) if self.heads_up_minutes else None


def _prefs(user: User | Prefs) -> Prefs:
    return user if isinstance(user, Prefs) else Prefs.of(user)


def describe_days(days: frozenset[int] | tuple[int, ...] | set[int]) -> str:
    """Working days for people: "Mon–Fri", "Mon, Wed, Fri", "every day"."""
    ordered = sorted(set(days))
    if len(ordered) == 7:
        return "every day"
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{WEEKDAYS[ordered[0] - 1]}–{WEEKDAYS[ordered[-1] - 1]}"
    return ", ".join(WEEKDAYS[day - 1] for day in ordered)


def parse_clock(text: str | dt.time) -> dt.time:
    """A local wall time typed as "9", "9:30" or "09:30" (24-hour clock); others are refused."""
    if isinstance(text, dt.time):
        return text.replace(second=0, microsecond=0, tzinfo=None)
    match = _CLOCK.match(text.strip())
    if match is None:
        raise DomainError(_CLOCK_HELP)
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if hours > 23 or minutes > 59:
        raise DomainError(_CLOCK_HELP)
    return dt.time(hours, minutes)


def _local_after(day: dt.date, time: dt.time, timezone: str, after: dt.datetime) -> dt.datetime:
    """`time` on local `day` in UTC; on an autumn day the second occurrence if the first is
    not after `after` (so a quiet period ending 01:30 ends after the repeated hour too)."""
    first = local_to_utc(day, time, timezone)
    if first > after:
        return first
    second = dt.datetime.combine(day, time, tzinfo=ZoneInfo(timezone)).replace(fold=1)
    return max(first, second.astimezone(dt.UTC))


def in_quiet_hours(moment: dt.datetime, user: User | Prefs) -> bool:
    """Whether `moment` falls in the person's quiet hours (local wall time; may cross midnight).

    The period includes its start and excludes its end: with 21:00-08:00, 21:00 and 07:59 are
    quiet, 08:00 is not.
    """
    prefs = _prefs(user)
    if not prefs.quiet_enabled:
        return False
    local = moment.astimezone(ZoneInfo(prefs.timezone)).time()
    start, end = prefs.quiet_from, prefs.quiet_to
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_end(moment: dt.datetime, user: User | Prefs) -> dt.datetime:
    """When the quiet period containing `moment` ends, in UTC; `moment` itself if not quiet."""
    prefs = _prefs(user)
    if not in_quiet_hours(moment, prefs):
        return moment
    local = moment.astimezone(ZoneInfo(prefs.timezone))
    day = local.date()
    if local.time() >= prefs.quiet_to:
        # The evening part of a period that crosses midnight: it ends tomorrow.
        day += dt.timedelta(days=1)
    return _local_after(day, prefs.quiet_to, prefs.timezone, moment)


def next_agenda_at(after: dt.datetime, user: User | Prefs) -> dt.datetime:
    """The next working day's agenda time (local), strictly after `after`, in UTC.

    Each day is resolved on its own, so 09:00 stays 09:00 local across a DST switch; on an
    autumn day an agenda time in the repeated hour counts once (its first occurrence).
    """
    prefs = _prefs(user)
    days = prefs.working_days or frozenset(range(1, 8))
    day = after.astimezone(ZoneInfo(prefs.timezone)).date()
    for _ in range(8):
        if day.isoweekday() in days:
            candidate = local_to_utc(day, prefs.agenda_time, prefs.timezone)
            if candidate > after:
                return candidate
        day += dt.timedelta(days=1)
    raise AssertionError("a week always has a working day")  # pragma: no cover


def on_a_working_day(moment: dt.datetime, user: User | Prefs) -> dt.datetime:
    """`moment` moved to the same local time on the person's next working day, if it falls
    on a day off ("In 3 days" on a Thursday: Monday, not Sunday)."""
    prefs = _prefs(user)
    days = prefs.working_days or frozenset(range(1, 8))
    zone = ZoneInfo(prefs.timezone)
    local = moment.astimezone(zone)
    day = local.date()
    for _ in range(8):
        if day.isoweekday() in days:
            return local_to_utc(day, local.time().replace(tzinfo=None), prefs.timezone)
        day += dt.timedelta(days=1)
    raise AssertionError("a week always has a working day")  # pragma: no cover


def heads_up_at(step: Step, owner: User | Prefs, now: dt.datetime) -> dt.datetime | None:
    """When the heads-up of a meeting or visit is due, or None if it gets none.

    None for other kinds, when the owner switched heads-ups off, when that moment has passed,
    and when it falls in quiet hours that last until the step is due (it would arrive
    together with the due reminder, telling nothing new).
    """
    prefs = _prefs(owner)
    if step.kind not in HEADS_UP_KINDS or prefs.heads_up is None:
        return None
    at = step.due_at - prefs.heads_up
    if at <= now or quiet_end(at, prefs) >= step.due_at:
        return None
    return at


def is_away(user: User, now: dt.datetime) -> bool:
    """Whether the person is away at `now`."""
    return user.away_until is not None and now < user.away_until


async def effective_recipient(
    db: Queries, user: User, now: dt.datetime
) -> tuple[User | None, User | None]:
    """Who gets a reminder owed to `user` at `now`: (recipient, away_owner).

    Not away: (user, None). Away with an active deputy who is not away too: (deputy, user),
    the message says it is for `user`. Away otherwise: (None, user): hold it until
    `user.away_until`.
    """
    if not is_away(user, now):
        return user, None
    if user.deputy_id is not None:
        deputy = await users.get_user(db, user.deputy_id)
        if deputy is not None and deputy.active and not is_away(deputy, now):
            return deputy, user
    return None, user


# --- the morning agenda row ----------------------------------------------------------------


def agenda_due(user: User, now: dt.datetime) -> dt.datetime:
    """When the person's next morning agenda is due: after now, and after an away period."""
    after = now
    if is_away(user, now):
        assert user.away_until is not None
        after = max(now, user.away_until - dt.timedelta(seconds=1))
    return next_agenda_at(after, user)


async def _ensure_agenda(tx: Transaction, user_id: int, now: dt.datetime) -> int | None:
    user = await users.get_user(tx, user_id)
    if user is None or not user.active:
        return None
    if await reminders.live_for_user(tx, user_id, ReminderSubject.AGENDA):
        return None
    return await reminders.insert_reminder(
        tx,
        user_id=user_id,
        subject=ReminderSubject.AGENDA,
        subject_id=None,
        due_at=agenda_due(user, now),
        now=now,
    )


async def ensure_agenda_reminder(
    tx_or_db: Transaction | Database, user: User, now: dt.datetime
) -> int | None:
    """Queue the person's next morning agenda unless one is pending; return the new row's id.

    Active people only; reads the settings afresh. Call it at start-up for everyone
    (`ensure_all_agenda_reminders`) and when someone joins or is reactivated.
    """
    if isinstance(tx_or_db, Database):
        async with tx_or_db.transaction() as tx:
            return await _ensure_agenda(tx, user.telegram_id, now)
    return await _ensure_agenda(tx_or_db, user.telegram_id, now)


async def advance_agenda_reminder(tx: Transaction, user: User, sent_at: dt.datetime) -> int | None:
    """After an agenda was sent (and marked sent), queue the next one; return its id."""
    return await _ensure_agenda(tx, user.telegram_id, sent_at)


async def restart_agenda(tx: Transaction, user: User, now: dt.datetime) -> None:
    """Drop agendas held while the person was unreachable and queue the next one."""
    for row in await reminders.live_for_user(tx, user.telegram_id, ReminderSubject.AGENDA):
        if row.state is ReminderState.HELD:
            await reminders.set_state(tx, row.id, ReminderState.CANCELLED)
    await _ensure_agenda(tx, user.telegram_id, now)


async def ensure_all_agenda_reminders(db: Database, clock: Clock) -> int:
    """At start-up: every active person gets a pending morning agenda; returns how many new."""
    now = clock.now()
    added = 0
    async with db.transaction() as tx:
        for user in await users.list_users(tx, active_only=True):
            if await _ensure_agenda(tx, user.telegram_id, now) is not None:
                added += 1
    return added


async def reschedule_agenda(tx: Transaction, user: User, now: dt.datetime) -> None:
    """Move the person's pending agenda to the time their current settings give.

    A row being sent (or held for an unreachable person) is left alone: the next one is queued
    when it is delivered. Without any live row, one is queued.
    """
    live = await reminders.live_for_user(tx, user.telegram_id, ReminderSubject.AGENDA)
    pending = [row for row in live if row.state is ReminderState.PENDING]
    if not live:
        await _ensure_agenda(tx, user.telegram_id, now)
        return
    if not pending:
        return
    await reminders.postpone(tx, pending[0].id, due_at=agenda_due(user, now))
    for extra in pending[1:]:
        await reminders.set_state(tx, extra.id, ReminderState.CANCELLED)


# --- settings ------------------------------------------------------------------------------


AfterChange = Callable[[Transaction, User, dt.datetime], Awaitable[None]]


class _PrefChanges(TypedDict, total=False):
    """Settings `users.update_prefs` changes: its keyword arguments."""

    agenda_time: dt.time
    working_days: Iterable[int]
    quiet_from: dt.time
    quiet_to: dt.time
    heads_up_minutes: int


async def _change_prefs(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    action: str,
    before: object,
    after: object,
    then: AfterChange | None,
    **changes: Unpack[_PrefChanges],
) -> User:
    """Apply setting changes with their audit entry and `then` (e.g. moving the agenda row),
    all in one transaction; nothing happens when the value stays the same."""
    if not actor.active:
        raise NotAllowed(SWITCHED_OFF)
    if before == after:
        return actor
    now = clock.now()
    async with db.transaction() as tx:
        await users.update_prefs(tx, actor.telegram_id, now=now, **changes)
        user = await users.get_user(tx, actor.telegram_id)
        assert user is not None
        if then is not None:
            await then(tx, user, now)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action=action,
            now=now,
            object_type="user",
            object_id=actor.telegram_id,
            details={"from": before, "to": after},
        )
    return user


async def set_agenda_time(db: Database, clock: Clock, *, actor: User, text: str) -> User:
    """Set the morning agenda's local time ("9", "9:30", "09:30"); the pending agenda moves."""
    agenda_time = parse_clock(text)
    return await _change_prefs(
        db,
        clock,
        actor=actor,
        action="settings.agenda_time",
        before=clock_text(actor.agenda_time),
        after=clock_text(agenda_time),
        then=reschedule_agenda,
        agenda_time=agenda_time,
    )


async def set_working_days(db: Database, clock: Clock, *, actor: User, days: set[int]) -> User:
    """Set the days the morning agenda comes (ISO weekdays, Mon=1); the pending agenda moves."""
    chosen = set(days)
    if not chosen:
        raise DomainError("Choose at least one working day.")
    if not chosen <= set(range(1, 8)):
        raise DomainError("Working days are Monday (1) to Sunday (7).")
    return await _change_prefs(
        db,
        clock,
        actor=actor,
        action="settings.working_days",
        before=list(actor.working_days),
        after=sorted(chosen),
        then=reschedule_agenda,
        working_days=chosen,
    )


def parse_quiet_range(text: str) -> tuple[dt.time, dt.time]:
    """Quiet hours typed as "22:00-07:30" (or a button's "2200-0800"); "off" switches them off."""
    cleaned = text.strip().lower().replace("–", "-")
    if cleaned == "off":
        return dt.time(0), dt.time(0)
    parts = [part.strip() for part in cleaned.split("-")]
    if len(parts) != 2:
        raise DomainError("Please send quiet hours as a range like 22:00-07:30, or off.")
    start, end = (f"{p[:-2]}:{p[-2:]}" if p.isdigit() and len(p) == 4 else p for p in parts)
    return parse_clock(start), parse_clock(end)


async def set_quiet_hours(
    db: Database, clock: Clock, *, actor: User, start: str | dt.time, end: str | dt.time
) -> User:
    """Set quiet hours (local, may cross midnight); start == end switches them off.

    Reminders are held at delivery time, so nothing already queued needs to move.
    """
    quiet_from, quiet_to = parse_clock(start), parse_clock(end)
    return await _change_prefs(
        db,
        clock,
        actor=actor,
        action="settings.quiet_hours",
        before=[clock_text(actor.quiet_from), clock_text(actor.quiet_to)],
        after=[clock_text(quiet_from), clock_text(quiet_to)],
        then=None,
        quiet_from=quiet_from,
        quiet_to=quiet_to,
    )


async def set_heads_up(db: Database, clock: Clock, *, actor: User, minutes: int) -> User:
    """Set the heads-up before meetings and visits (0 = off, at most 24 hours).

    The heads-ups of the person's open meetings and visits are queued again to match.
    """
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise DomainError("Send the heads-up as a whole number of minutes, e.g. 30.")
    if not 0 <= minutes <= MAX_HEADS_UP_MINUTES:
        raise DomainError(
            f"The heads-up is 0 (off) to {MAX_HEADS_UP_MINUTES} minutes (24 hours) "
            "before a meeting or visit."
        )
    return await _change_prefs(
        db,
        clock,
        actor=actor,
        action="settings.heads_up",
        before=actor.heads_up_minutes,
        after=minutes,
        then=_requeue_heads_ups,
        heads_up_minutes=minutes,
    )


async def _requeue_heads_ups(tx: Transaction, user: User, now: dt.datetime) -> None:
    """Replace the heads-ups of the person's open future meetings and visits."""
    far = one_year_after(one_year_after(now))  # steps are due within a year; be generous
    for entry in await steps.open_for_manager(tx, user.telegram_id, due_before=far):
        step = entry.step
        if step.kind not in HEADS_UP_KINDS or step.due_at <= now:
            continue
        await reminders.cancel_heads_ups(tx, step.id, due_at=step.due_at)
        at = heads_up_at(step, user, now)
        if at is not None:
            await reminders.insert_reminder(
                tx,
                user_id=step.manager_id,
                subject=ReminderSubject.STEP,
                subject_id=step.id,
                due_at=at,
                now=now,
            )


# --- away mode -----------------------------------------------------------------------------


async def set_away(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    until: dt.datetime,
    deputy_id: int | None = None,
) -> User:
    """Go away until `until` (future, within a year), optionally naming a deputy.

    The deputy must be another active manager who is not away themselves (no chains, no
    cycles). Meanwhile the sweep sends the person's reminders to the deputy, or keeps them
    until `until`; the morning agenda pauses until the return.
    """
    if until.tzinfo is None:
        raise ValueError("until must be an aware datetime")
    if not actor.active:
        raise NotAllowed(SWITCHED_OFF)
    now = clock.now()
    if until <= now:
        shown = format_moment(until, actor.timezone, actor.locale)
        raise DomainError(f"{shown} is already in the past. Please choose a later return date.")
    if until > one_year_after(now):
        raise DomainError("Away mode lasts at most a year; please choose an earlier return date.")
    if deputy_id is not None:
        await _check_deputy(db, actor, deputy_id, now)
    async with db.transaction() as tx:
        await users.set_away(tx, actor.telegram_id, now=now, away_until=until, deputy_id=deputy_id)
        user = await users.get_user(tx, actor.telegram_id)
        assert user is not None
        await reschedule_agenda(tx, user, now)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="user.away",
            now=now,
            object_type="user",
            object_id=actor.telegram_id,
            details={"until": until.isoformat(), "deputy_id": deputy_id},
        )
    return user


async def _check_deputy(db: Database, actor: User, deputy_id: int, now: dt.datetime) -> None:
    if deputy_id == actor.telegram_id:
        raise DomainError("You can't be your own deputy; name another manager or nobody.")
    deputy = await users.get_user(db, deputy_id)
    if deputy is None or not deputy.active or deputy.role is not Role.MANAGER:
        raise DomainError("The deputy must be another active manager on the team.")
    if is_away(deputy, now):
        assert deputy.away_until is not None
        shown = format_moment(deputy.away_until, actor.timezone, actor.locale)
        raise DomainError(
            f"{deputy.name} is away too, until {shown}; name another deputy or nobody."
        )


async def clear_away(db: Database, clock: Clock, *, actor: User) -> User:
    """Come back early: reminders kept for the return are due now, the agenda resumes."""
    now = clock.now()
    current = await users.get_user(db, actor.telegram_id)
    if current is None or current.away_until is None:
        return current or actor
    async with db.transaction() as tx:
        await users.set_away(tx, actor.telegram_id, now=now, away_until=None, deputy_id=None)
        released = 0
        if current.away_until > now:
            released = await reminders.bring_forward(
                tx, actor.telegram_id, waiting_until=current.away_until, due_at=now
            )
        user = await users.get_user(tx, actor.telegram_id)
        assert user is not None
        await reschedule_agenda(tx, user, now)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="user.back",
            now=now,
            object_type="user",
            object_id=actor.telegram_id,
            details={"was_until": current.away_until.isoformat(), "released": released},
        )
    return user
