"""Due reminders: claimed from the database, grouped per person, then delivered or retried.

The database is the only scheduler: a reminder is a row, claimed atomically by the sweep
(pending → sending), and marked sent only after Telegram accepted the message. A crash between
the two leaves it in `sending`; `recover_interrupted` puts such rows back at start-up, so a
reminder is delivered at least once and never lost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.clock import Clock
from storage import contacts, reminders, users
from storage.contacts import ContactState, PendingContact
from storage.db import Database
from storage.reminders import Reminder, ReminderSubject
from storage.users import User

MAX_ATTEMPTS_BACKOFF = dt.timedelta(minutes=30)
STALE_SENDING = dt.timedelta(minutes=1)


@dataclass(slots=True)
class Notice:
    """Everything due for one person right now, to be sent as one message."""

    user: User
    reminders: list[Reminder] = field(default_factory=list)
    missing_steps: list[PendingContact] = field(default_factory=list)

    @property
    def reminder_ids(self) -> list[int]:
        """The claimed rows this message delivers."""
        return [reminder.id for reminder in self.reminders]


async def claim_due_notices(db: Database, clock: Clock, *, limit: int = 200) -> list[Notice]:
    """Claim due reminders and group them per person; stale subjects are cancelled.

    Reminders of deactivated people are cancelled; those of people who blocked the bot are
    held until they are reachable again.
    """
    now = clock.now()
    async with db.transaction() as tx:
        claimed = await reminders.claim_due(tx, now=now, limit=limit)
    notices: dict[int, Notice] = {}
    for reminder in claimed:
        user = await users.get_user(db, reminder.user_id)
        if user is None or not user.active:
            await _settle(db, reminder.id, "cancelled")
            continue
        if not user.reachable:
            await _settle(db, reminder.id, "held")
            continue
        notice = notices.setdefault(user.telegram_id, Notice(user))
        if reminder.subject is ReminderSubject.MISSING_STEP and reminder.subject_id is not None:
            pending = await contacts.pending_contact(db, reminder.subject_id)
            if pending is None or pending.contact.state is not ContactState.NEEDS_NEXT_STEP:
                await _settle(db, reminder.id, "cancelled")
                continue
            notice.missing_steps.append(pending)
        notice.reminders.append(reminder)
    return [notice for notice in notices.values() if notice.reminders]


async def _settle(db: Database, reminder_id: int, state: str) -> None:
    async with db.transaction() as tx:
        await reminders.set_state(tx, reminder_id, state)


async def record_delivery(
    db: Database, clock: Clock, notice: Notice, *, message_id: int | None
) -> None:
    """Mark every reminder of a delivered notice as sent."""
    async with db.transaction() as tx:
        for reminder_id in notice.reminder_ids:
            await reminders.mark_sent(tx, reminder_id, now=clock.now(), message_id=message_id)


async def record_failure(
    db: Database, clock: Clock, notice: Notice, *, retry_after: dt.timedelta | None = None
) -> None:
    """Put a notice's reminders back for a later attempt (exponential backoff, capped)."""
    async with db.transaction() as tx:
        for reminder in notice.reminders:
            delay = retry_after or min(
                dt.timedelta(seconds=30 * 2**reminder.attempts), MAX_ATTEMPTS_BACKOFF
            )
            await reminders.release(tx, reminder.id, retry_at=clock.now() + delay)


async def hold_notice(db: Database, notice: Notice) -> None:
    """The person blocked the bot: keep their reminders until they come back."""
    async with db.transaction() as tx:
        for reminder_id in notice.reminder_ids:
            await reminders.set_state(tx, reminder_id, "held")


async def recover_interrupted(db: Database, clock: Clock) -> int:
    """At start-up: reminders left `sending` by a crash go back to pending; returns how many."""
    async with db.transaction() as tx:
        return await reminders.release_stale(tx, claimed_before=clock.now() - STALE_SENDING)
