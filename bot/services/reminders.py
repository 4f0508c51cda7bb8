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
from bot.services import schedule, steps
from bot.services.agenda import Agenda, build_agenda
from bot.services.receivables import invoices
from bot.services.receivables.invoices import InvoiceItem
from bot.services.steps import StepView
from storage import contacts, reminders, users
from storage.contacts import ContactState, PendingContact
from storage.db import Database
from storage.reminders import Reminder, ReminderState, ReminderSubject
from storage.steps import StepState
from storage.users import User

MAX_ATTEMPTS_BACKOFF = dt.timedelta(minutes=30)
STALE_SENDING = dt.timedelta(minutes=1)
# Far longer than any send takes, rate-limit waits and retries included.
STUCK_SENDING = dt.timedelta(minutes=15)
OFFLINE_AFTER = dt.timedelta(minutes=2)
OFFLINE_GROUP = 3


@dataclass(frozen=True, slots=True)
class StepItem:
    """A step falling due (or, for meetings and visits, coming up: `heads_up`)."""

    view: StepView
    heads_up: bool
    away_owner: User | None


@dataclass(slots=True)
class Notice:
    """Everything due for one person right now, to be sent as one message."""

    user: User
    reminders: list[Reminder] = field(default_factory=list)
    missing_steps: list[PendingContact] = field(default_factory=list)
    steps: list[StepItem] = field(default_factory=list)
    agenda: Agenda | None = None
    offline: bool = False
    invoices: list[InvoiceItem] = field(default_factory=list)

    @property
    def reminder_ids(self) -> list[int]:
        """The claimed rows this message delivers."""
        return [reminder.id for reminder in self.reminders]


async def claim_due_notices(db: Database, clock: Clock, *, limit: int = 200) -> list[Notice]:
    """Claim due reminders and group them per recipient.

    Stale subjects are cancelled; reminders of deactivated people are cancelled, of people who
    blocked the bot held; an away manager's go to their deputy (or wait for their return);
    reminders in the recipient's quiet hours wait for the end of them, when they arrive
    together in one message.
    """
    now = clock.now()
    async with db.transaction() as tx:
        claimed = await reminders.claim_due(tx, now=now, limit=limit)
    notices: dict[int, Notice] = {}
    for reminder in claimed:
        owner = await users.get_user(db, reminder.user_id)
        if owner is None or not owner.active:
            await _settle(db, reminder.id, "cancelled")
            continue
        if reminder.subject is ReminderSubject.AGENDA and schedule.is_away(owner, now):
            # An agenda is personal: never a deputy's; the next one waits for the return.
            await _skip_agenda(db, reminder.id, owner, now)
            continue
        recipient, away_owner = await schedule.effective_recipient(db, owner, now)
        if recipient is None:
            await _postpone(db, reminder.id, owner.away_until or now + STALE_SENDING)
            continue
        if not recipient.reachable:
            await _settle(db, reminder.id, "held")
            continue
        if reminder.subject is not ReminderSubject.AGENDA and schedule.in_quiet_hours(
            now, recipient
        ):
            await _postpone(db, reminder.id, schedule.quiet_end(now, recipient))
            continue
        notice = notices.setdefault(recipient.telegram_id, Notice(recipient))
        if not await _add_subject(db, clock, notice, reminder, away_owner):
            await _settle(db, reminder.id, "cancelled")
            continue
        notice.reminders.append(reminder)
    result = [notice for notice in notices.values() if notice.reminders]
    for notice in result:
        # Late because the bot was down: due well before now, yet in the future when made (a
        # fresh install's demo data or an import made overdue is not "while I was offline").
        late = [
            r
            for r in notice.reminders
            if now - r.due_at > OFFLINE_AFTER and r.due_at > r.created_at
        ]
        notice.offline = len(late) > OFFLINE_GROUP
    return result


async def _add_subject(
    db: Database, clock: Clock, notice: Notice, reminder: Reminder, away_owner: User | None
) -> bool:
    """Load what the reminder is about into the notice; False if it no longer applies."""
    if reminder.subject is ReminderSubject.MISSING_STEP and reminder.subject_id is not None:
        pending = await contacts.pending_contact(db, reminder.subject_id)
        if pending is None or pending.contact.state is not ContactState.NEEDS_NEXT_STEP:
            return False
        notice.missing_steps.append(pending)
        return True
    if reminder.subject is ReminderSubject.STEP and reminder.subject_id is not None:
        view = await steps.step_view(db, reminder.subject_id)
        if view is None or view.step.state is not StepState.OPEN:
            return False
        heads_up = reminder.due_at < view.step.due_at
        step_item = StepItem(view, heads_up, away_owner)
        # A heads-up and the due reminder arriving together (held, or after downtime) are one
        # entry: the step is due, say so once. Both rows are marked sent with the message.
        same = [i for i, other in enumerate(notice.steps) if other.view.step.id == view.step.id]
        if not same:
            notice.steps.append(step_item)
        elif not heads_up:
            notice.steps[same[0]] = step_item
        return True
    if reminder.subject is ReminderSubject.AGENDA:
        notice.agenda = await build_agenda(db, user=notice.user, now=clock.now(), days=0)
        return True
    if reminder.subject in (ReminderSubject.INVOICE, ReminderSubject.PROMISE):
        item = await invoices.notice_item(
            db, clock, reminder, recipient=notice.user, away_owner=away_owner
        )
        if item is None:
            return False
        # Several rows about one invoice on the same morning make one entry.
        if all(other.invoice.id != item.invoice.id for other in notice.invoices):
            notice.invoices.append(item)
        return True
    return False


async def _skip_agenda(db: Database, reminder_id: int, owner: User, now: dt.datetime) -> None:
    async with db.transaction() as tx:
        if await reminders.set_state(tx, reminder_id, ReminderState.CANCELLED):
            await schedule.advance_agenda_reminder(tx, owner, now)


async def _postpone(db: Database, reminder_id: int, until: dt.datetime) -> None:
    async with db.transaction() as tx:
        await reminders.postpone(tx, reminder_id, due_at=until)


async def _settle(db: Database, reminder_id: int, state: str) -> None:
    async with db.transaction() as tx:
        await reminders.set_state(tx, reminder_id, state)


async def record_delivery(
    db: Database, clock: Clock, notice: Notice, *, message_id: int | None
) -> None:
    """Mark every reminder of a delivered notice as sent; queue the next morning agenda."""
    async with db.transaction() as tx:
        for reminder in notice.reminders:
            sent = await reminders.mark_sent(
                tx, reminder.id, now=clock.now(), message_id=message_id
            )
            if sent and reminder.subject is ReminderSubject.AGENDA:
                await schedule.advance_agenda_reminder(tx, notice.user, clock.now())


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


async def recover_interrupted(db: Database) -> int:
    """At start-up: reminders left `sending` by a crash go back to pending; returns how many.

    Only one bot process runs against a database, so every such row was interrupted, however
    recently it was claimed (a restart right after a crash must not strand them).
    """
    async with db.transaction() as tx:
        return await reminders.release_stale(tx)


async def release_stuck(db: Database, clock: Clock) -> int:
    """While running: rows claimed long ago whose send never came back go back to pending."""
    async with db.transaction() as tx:
        return await reminders.release_stale(tx, claimed_before=clock.now() - STUCK_SENDING)
