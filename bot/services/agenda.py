"""The agenda: what a person must do, most urgent first, with days in their own time zone.

The agenda is personal for everyone, heads and admins included: it lists the contacts they
logged that still need a next step and the open steps on their own agenda (steps belong to
the client's owner). Seeing the team's work is the head's agenda and digest, not this one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.services.dates import local_to_utc
from bot.services.receivables.aging import AgendaReceivables, agenda_block
from storage import clients, contacts, steps
from storage.clients import ClientListItem
from storage.contacts import PendingContact, TeamPendingContact
from storage.db import Database
from storage.steps import StepEntry
from storage.users import Role, User

QUIET_CLIENT = dt.timedelta(days=30)


@dataclass(frozen=True, slots=True)
class OverdueStep:
    """An open step past its due time, and by how much."""

    entry: StepEntry
    overdue_by: dt.timedelta


@dataclass(frozen=True, slots=True)
class AgendaDay:
    """The steps due on one local date, in time order."""

    day: dt.date
    entries: list[StepEntry]


@dataclass(frozen=True, slots=True)
class Agenda:
    """One person's agenda at `now`, in the order it is shown.

    `pending`: contacts without a next step (longest-waiting first); `overdue`: open steps
    past due (oldest first); `today`: the rest of today's steps in time order; `upcoming`:
    the following days that have steps, grouped by local date.
    """

    timezone: str
    now: dt.datetime
    today_date: dt.date
    pending: list[PendingContact]
    overdue: list[OverdueStep]
    today: list[StepEntry]
    upcoming: list[AgendaDay]
    # Overdue invoices and promises to pay due today (None when there are none).
    receivables: AgendaReceivables | None = None
    # When nothing is scheduled: clients without a contact for 30+ days, to plan a call.
    gone_quiet: list[ClientListItem] = field(default_factory=list)
    # A head's agenda only: the team's contacts left without a next step at the end of the
    # day they were logged (the managers' own local day), still waiting.
    team_unresolved: list[TeamPendingContact] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """Nothing to do in the period."""
        return not (
            self.pending or self.overdue or self.today or self.upcoming or self.receivables
        )


async def build_agenda(db: Database, *, user: User, now: dt.datetime, days: int = 7) -> Agenda:
    """The person's own agenda: pending contacts, overdue steps, today, then `days` more days.

    "Today" and the day groups are local dates in the person's zone, computed with zoneinfo
    so a daylight-saving change never shifts a day boundary.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    zone = ZoneInfo(user.timezone)
    today = now.astimezone(zone).date()
    end_of_today = local_to_utc(today + dt.timedelta(days=1), dt.time(0), user.timezone)
    horizon = local_to_utc(today + dt.timedelta(days=days + 1), dt.time(0), user.timezone)
    entries = await steps.open_for_manager(db, user.telegram_id, due_before=horizon)

    overdue: list[OverdueStep] = []
    today_steps: list[StepEntry] = []
    by_day: dict[dt.date, list[StepEntry]] = {}
    for entry in entries:
        due = entry.step.due_at
        if due < now:
            overdue.append(OverdueStep(entry, now - due))
        elif due < end_of_today:
            today_steps.append(entry)
        else:
            by_day.setdefault(due.astimezone(zone).date(), []).append(entry)
    agenda = Agenda(
        timezone=user.timezone,
        now=now,
        today_date=today,
        pending=await contacts.pending_for_manager(db, user.telegram_id),
        overdue=overdue,
        today=today_steps,
        upcoming=[AgendaDay(day, items) for day, items in by_day.items()],
        receivables=await agenda_block(db, user=user, now=now),
    )
    if user.role is Role.HEAD:
        agenda.team_unresolved.extend(await left_without_step(db, now=now))
    if agenda.is_empty:
        agenda.gone_quiet.extend(
            await clients.gone_quiet(
                db, owner_id=user.telegram_id, silent_since=now - QUIET_CLIENT, limit=5
            )
        )
    return agenda


async def left_without_step(db: Database, *, now: dt.datetime) -> list[TeamPendingContact]:
    """Contacts still waiting for a next step that were logged before their manager's local
    today began: the working day ended without one. For the head's morning agenda."""
    waiting = await contacts.pending_for_team(db, logged_before=now)
    flagged = []
    for item in waiting:
        manager_today = now.astimezone(ZoneInfo(item.manager_timezone)).date()
        day_began = local_to_utc(manager_today, dt.time(0), item.manager_timezone)
        if item.pending.contact.logged_at < day_began:
            flagged.append(item)
    return flagged
