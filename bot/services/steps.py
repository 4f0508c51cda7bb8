"""A scheduled step after it is set: its card, snooze, reschedule and cancel, with its reminders.

Each change runs in one transaction with the step's reminder rows, its `step_events` row (the
digest's counters) and its audit entry. The step is re-read inside the transaction: a button
pressed on a step that is no longer open (done, cancelled, replaced, or moved when the button
carries the step's revision) raises AlreadyHandled instead of acting twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.services import schedule
from bot.services.dates import local_to_utc, validate_due
from bot.services.errors import DomainError
from bot.services.ownership import deny, may_act_on_client
from bot.timefmt import format_moment
from storage import audit, clients, contacts, reminders, steps, users
from storage.contacts import Contact, ContactState
from storage.db import Database, Queries, Transaction
from storage.reminders import ReminderSubject
from storage.steps import Step, StepAction, StepState
from storage.users import User

SNOOZE_CODES = ("15m", "1h", "tomorrow")
_SNOOZE_DELAYS = {"15m": dt.timedelta(minutes=15), "1h": dt.timedelta(hours=1)}
CANCEL_NAG = dt.timedelta(minutes=15)
"""How long after cancelling a step, without choosing what comes instead, the nag comes."""
MAX_REASON = 500
GONE = "That step no longer exists (the contact that set it may have been undone)."


class ReasonNeeded(DomainError):
    """A step is cancelled with a reason of 1 to MAX_REASON characters; this one was not."""


class AlreadyHandled(DomainError):
    """The step is no longer open (or has moved since the button was shown). Given the step,
    its client and the reader, it says which: "Already handled: the call with Vortex on
    Mon 7 Dec 2026, 15:00 was done." """

    def __init__(
        self, step: Step | None = None, client_name: str = "", actor: User | None = None
    ) -> None:
        if step is None or not client_name or actor is None:
            super().__init__("Already handled: this step was done, cancelled or moved.")
            return
        when = format_moment(step.due_at, actor.timezone, actor.locale)
        what = "follow-up" if step.kind.value == "other" else step.kind.value
        if step.state is StepState.OPEN:
            text = f"the {what} with {client_name} was moved to {when}"
        else:
            done = {StepState.REPLACED: "replaced by another step"}.get(
                step.state, step.state.value
            )
            text = f"the {what} with {client_name} on {when} was {done}"
        super().__init__(f"Already handled: {text}.")


@dataclass(frozen=True, slots=True)
class StepView:
    """A step with what a reminder or card shows: the client, how to reach them, last time."""

    step: Step
    client_name: str
    contact_person: str | None
    phone: str | None
    last_contact: Contact | None
    owner: User | None

    @property
    def phone_e164(self) -> str | None:
        """The client's phone in E.164 (`+441234567890`), which Telegram shows as a link."""
        return self.phone

    @property
    def last_summary(self) -> str | None:
        """The summary of the latest contact with the client, if any."""
        return None if self.last_contact is None else self.last_contact.summary


def require_open(
    step: Step,
    revision: int | None = None,
    *,
    client_name: str = "",
    actor: User | None = None,
) -> Step:
    """The step if it is still open (and at `revision`, if given); else AlreadyHandled
    (naming the step and its client for `actor`, when given)."""
    if step.state is not StepState.OPEN or (revision is not None and step.revision != revision):
        raise AlreadyHandled(step, client_name, actor)
    return step


async def step_view(db: Queries, step_id: int) -> StepView | None:
    """A step with its client, last contact and owner, whatever its state; no access check."""
    step = await steps.get_step(db, step_id)
    if step is None:
        return None
    client = await clients.get_client(db, step.client_id)
    assert client is not None
    latest = await contacts.recent_for_client(db, client.id, limit=1)
    return StepView(
        step=step,
        client_name=client.name,
        contact_person=client.contact_person,
        phone=client.phone_e164,
        last_contact=latest[0] if latest else None,
        owner=await users.get_user(db, step.manager_id),
    )


async def _require_step(
    db: Database, clock: Clock, *, actor: User, step_id: int, attempted: str
) -> Step:
    """The step, if it exists and the person may act on its client; refusals are audited."""
    step = await steps.get_step(db, step_id)
    if step is None:
        raise DomainError(GONE)
    client = await clients.get_client(db, step.client_id)
    assert client is not None
    if not await may_act_on_client(db, actor, client.owner_id, now=clock.now()):
        raise await deny(
            db, clock, actor=actor, attempted=attempted, object_type="step", object_id=step_id
        )
    return step


async def get_step_view(db: Database, clock: Clock, *, actor: User, step_id: int) -> StepView:
    """A step's card for a person who may act on its client (state not checked: see
    `require_open`). A refusal is NotAllowed with an `access.denied` audit entry."""
    await _require_step(db, clock, actor=actor, step_id=step_id, attempted="step.view")
    view = await step_view(db, step_id)
    if view is None:
        raise DomainError(GONE)
    return view


async def _current(
    tx: Transaction, step_id: int, revision: int | None, actor: User | None = None
) -> Step:
    """Re-read the step in the transaction: still open? (Another tap may have won.)"""
    step = await steps.get_step(tx, step_id)
    if step is None:
        raise DomainError(GONE)
    try:
        return require_open(step, revision)
    except AlreadyHandled:  # say which step, of which client
        client = await clients.get_client(tx, step.client_id)
        name = client.name if client is not None else ""
        raise AlreadyHandled(step, name, actor) from None


async def queue_step_reminders(
    tx: Transaction, step: Step, owner: User | None, now: dt.datetime
) -> list[int]:
    """Queue a step's reminders: at its due time, and for a meeting or visit a heads-up
    `owner.heads_up_minutes` before (if that is still ahead; see `schedule.heads_up_at`).

    The reminders go to the step's manager (`owner`); the sweep tells a heads-up from the due
    reminder by `reminder.due_at < step.due_at`. Returns the new rows' ids, due one last.
    """
    ids: list[int] = []
    early = None if owner is None else schedule.heads_up_at(step, owner, now)
    for due_at in (early, step.due_at):
        if due_at is not None:
            ids.append(
                await reminders.insert_reminder(
                    tx,
                    user_id=step.manager_id,
                    subject=ReminderSubject.STEP,
                    subject_id=step.id,
                    due_at=due_at,
                    now=now,
                )
            )
    return ids


async def _move(
    tx: Transaction,
    step: Step,
    *,
    actor: User,
    due_at: dt.datetime,
    action: StepAction,
    now: dt.datetime,
    details: dict[str, object],
) -> Step:
    """Move an open step's due time with its reminders, counter, event and audit entry."""
    await steps.move_due(tx, step.id, due_at=due_at, action=action, now=now)
    moved = await steps.get_step(tx, step.id)
    assert moved is not None
    await reminders.cancel_for_subject(tx, ReminderSubject.STEP, step.id)
    await queue_step_reminders(tx, moved, await users.get_user(tx, moved.manager_id), now)
    await steps.record_event(tx, moved, actor_id=actor.telegram_id, action=action, now=now)
    await audit.record(
        tx,
        actor_id=actor.telegram_id,
        action=f"step.{action.value}",
        now=now,
        object_type="step",
        object_id=step.id,
        details={"from": step.due_at.isoformat(), "to": due_at.isoformat(), **details},
    )
    return moved


def snooze_until(code: str, *, now: dt.datetime, user: User) -> dt.datetime:
    """The new due time of a snooze: "15m" and "1h" from now; "tomorrow" is tomorrow at the
    person's agenda time (local)."""
    if code in _SNOOZE_DELAYS:
        return (now + _SNOOZE_DELAYS[code]).replace(microsecond=0)
    if code == "tomorrow":  # the next working day, in fact
        tomorrow = now.astimezone(ZoneInfo(user.timezone)).date() + dt.timedelta(days=1)
        return schedule.on_a_working_day(
            local_to_utc(tomorrow, user.agenda_time, user.timezone), user
        )
    raise DomainError("That snooze option is no longer available; please choose another.")


async def snooze_step(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    step_id: int,
    code: str,
    revision: int | None = None,
) -> Step:
    """Snooze a step ("15m", "1h", "tomorrow"): its due time moves and `snooze_count` grows.

    A snooze only postpones: a step due later than the snooze would bring it is refused
    (that is what Reschedule is for). Its pending reminders are replaced by new ones.
    """
    await _require_step(db, clock, actor=actor, step_id=step_id, attempted="step.snooze")
    now = clock.now()
    due_at = snooze_until(code, now=now, user=actor)
    async with db.transaction() as tx:
        step = await _current(tx, step_id, revision, actor)
        if due_at <= step.due_at:
            shown = format_moment(step.due_at, actor.timezone, actor.locale)
            raise DomainError(
                f"This step is only due on {shown}; I'll remind you then. "
                "Use Reschedule to move it."
            )
        return await _move(
            tx,
            step,
            actor=actor,
            due_at=due_at,
            action=StepAction.SNOOZE,
            now=now,
            details={"code": code},
        )


async def reschedule_step(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    step_id: int,
    due_at: dt.datetime,
    revision: int | None = None,
) -> Step:
    """Move a step to `due_at` (after now, within a year): `reschedule_count` grows and its
    reminders are queued anew. The same time again changes nothing."""
    await _require_step(db, clock, actor=actor, step_id=step_id, attempted="step.reschedule")
    now = clock.now()
    validate_due(due_at, now=now, timezone=actor.timezone, locale=actor.locale)
    async with db.transaction() as tx:
        step = await _current(tx, step_id, revision, actor)
        if due_at == step.due_at:
            return step
        return await _move(
            tx,
            step,
            actor=actor,
            due_at=due_at,
            action=StepAction.RESCHEDULE,
            now=now,
            details={},
        )


MAX_AGENDA = 1000


async def set_agenda(
    db: Database, clock: Clock, *, actor: User, step_id: int, agenda: str
) -> Step:
    """Add (or change) what to prepare or discuss at an open step (1-1000 characters)."""
    text = (agenda or "").replace("\x00", "").strip()
    if not 1 <= len(text) <= MAX_AGENDA:
        raise DomainError(f"The agenda must be 1 to {MAX_AGENDA} characters.")
    await _require_step(db, clock, actor=actor, step_id=step_id, attempted="step.agenda")
    now = clock.now()
    async with db.transaction() as tx:
        step = await _current(tx, step_id, None)
        await steps.set_agenda(tx, step.id, agenda=text, now=now)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="step.agenda",
            now=now,
            object_type="step",
            object_id=step.id,
            details={"old_agenda": step.agenda},
        )
        updated = await steps.get_step(tx, step.id)
    assert updated is not None
    return updated


async def cancel_step(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    step_id: int,
    reason: str,
    revision: int | None = None,
) -> int | None:
    """Cancel a step with a reason (1-500 characters). Returns the id of the contact that now
    waits for a new step or closure, or None when the latest contact still has its own.

    That contact is the client's latest (by when it happened, as the card shows it), which is
    normally the one that set the step. If a later contact exists (the step was set from an
    older contact), the later one is reopened: the next step follows the most recent
    conversation — unless it still has an open step of its own (a client may have several).
    Reopening clears its outcome (the audit entry keeps it) and queues a `missing_step` nag;
    a latest contact still waiting is left as it is.
    """
    text = (reason or "").strip()
    if not 1 <= len(text) <= MAX_REASON:
        raise ReasonNeeded(
            f"Please give the reason for cancelling in 1 to {MAX_REASON} characters."
        )
    await _require_step(db, clock, actor=actor, step_id=step_id, attempted="step.cancel")
    now = clock.now()
    async with db.transaction() as tx:
        step = await _current(tx, step_id, revision, actor)
        await steps.cancel_step(tx, step.id, reason=text, now=now)
        await reminders.cancel_for_subject(tx, ReminderSubject.STEP, step.id)
        latest = (await contacts.recent_for_client(tx, step.client_id, limit=1))[0]
        still_open = [
            other
            for other in await steps.open_steps_for_client(tx, step.client_id)
            if other.created_by_contact_id == latest.id
        ]
        reopened = latest.state is ContactState.COMPLETE and not still_open
        if reopened:
            await contacts.reopen_contact(tx, latest.id)
            await reminders.insert_reminder(
                tx,
                user_id=latest.manager_id,
                subject=ReminderSubject.MISSING_STEP,
                subject_id=latest.id,
                due_at=now + CANCEL_NAG,
                now=now,
            )
        await steps.record_event(
            tx, step, actor_id=actor.telegram_id, action=StepAction.CANCEL, now=now
        )
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="step.cancel",
            now=now,
            object_type="step",
            object_id=step.id,
            details={
                "reason": text,
                "contact_id": latest.id,
                "created_by": step.created_by_contact_id,
                "reopened": reopened,
                "previous_outcome": latest.outcome.value if latest.outcome else None,
                "previous_reason": latest.outcome_reason,
            },
        )
    return None if still_open else latest.id
