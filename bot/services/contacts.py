"""The contact log and its next-step state machine.

A contact is saved at once as `needs_next_step` (with a `missing_step` reminder row, so nothing
lives only in memory) and becomes `complete` only by one of: a scheduled next step, a closure
(won / refused / not a target) or a pause (itself a check-back step). Each of those cancels the
reminder in the same transaction.

A client may have several open steps (a meeting on Friday, an offer to send on Tuesday), and
nothing booked is dropped without the person choosing it: a contact completes the client's
only open step when that one was due by the contact's day, else the person says which one it
completed (or none); a new step within a day of another open one asks "keep both or replace
it?"; a pause asks whether the client's open steps are kept or cancelled. Undo puts back
whatever the contact retired. The database's CHECKs back every rule here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from bot.clock import Clock
from bot.services import refusal_reasons, schedule
from bot.services.dates import validate_due, validate_happened
from bot.services.errors import DomainError, NotAllowed
from bot.services.ownership import deny, may_act_on_client, require_client
from bot.services.steps import queue_step_reminders
from bot.timefmt import format_moment, local_time
from storage import audit, clients, contacts, reminders, steps, users
from storage.clients import Client
from storage.contacts import Contact, ContactKind, ContactState, Outcome, PendingContact
from storage.db import Database, Transaction
from storage.reminders import ReminderSubject
from storage.steps import Step, StepAction, StepKind, StepState
from storage.users import User

MISSING_STEP_NAG = dt.timedelta(minutes=15)
"""How long after logging a contact without a next step the person is reminded."""
UNDO_WINDOW = dt.timedelta(minutes=10)
"""How long after logging a contact it can be undone or its summary edited."""
MAX_SUMMARY = 2000
MAX_AGENDA = 1000
MAX_REASON = 500
CLOSURES = (Outcome.WON, Outcome.REFUSED, Outcome.NOT_TARGET)
REASON_REQUIRED = {
    Outcome.REFUSED: "Please say why the client refused.",
    Outcome.NOT_TARGET: "Please say why the client is not a target.",
}


class EditWindowClosed(DomainError):
    """The contact was logged too long ago for its summary to be corrected."""


NEARBY = dt.timedelta(days=1)
"""A new step this close to another open step of the client asks "keep both or replace it?"."""


class StepChoice(StrEnum):
    """What becomes of the client's other open steps when a contact concludes.

    `ASK` raises the question (StepExists, StepsOpenOnPause); `KEEP` leaves them open; `DROP`
    replaces the nearby ones with the new step, or cancels them all for a pause.
    """

    ASK = "ask"
    KEEP = "keep"
    DROP = "drop"


class StepExists(DomainError):
    """Another open step of the client is within a day of the new one: keep both or replace?"""

    def __init__(self, message: str, nearby: list[Step]) -> None:
        super().__init__(message)
        self.nearby = nearby
        self.step = nearby[0]


class StepsOpenOnPause(DomainError):
    """The client being paused has open steps: are they kept or cancelled?"""

    def __init__(self, message: str, open_steps: list[Step]) -> None:
        super().__init__(message)
        self.open_steps = open_steps


class AlreadyResolved(DomainError):
    """The contact already has its next step or closure (a stale button, a second tap).
    Given the contact, its client and the reader, it says which: "Already handled: the call
    with Vortex on Mon 7 Dec 2026, 11:20 has its next step." """

    def __init__(
        self, contact: Contact | None = None, client_name: str = "", actor: User | None = None
    ) -> None:
        if contact is None or not client_name or actor is None:
            super().__init__("Already handled: this contact has its next step or closure.")
            return
        when = format_moment(contact.happened_at, actor.timezone, actor.locale)
        how = {
            Outcome.WON: "was closed: deal won",
            Outcome.REFUSED: "was closed: the client refused",
            Outcome.NOT_TARGET: "was closed: not a target",
            Outcome.PAUSED: "paused the client",
        }.get(contact.outcome or Outcome.SCHEDULED, "has its next step")
        super().__init__(
            f"Already handled: the {contact.kind.value} with {client_name} on {when} {how}."
        )


@dataclass(frozen=True, slots=True)
class ContactSummary:
    """A contact as its confirmation shows it: the client's name and the step it set.

    `completed`: the step this contact did; `retired`: the client's steps it replaced or
    cancelled (pausing); `also_open`: the client's open steps other contacts set.
    """

    contact: Contact
    client_name: str
    step: Step | None
    completed: Step | None = None
    retired: tuple[Step, ...] = ()
    also_open: tuple[Step, ...] = ()


Completes = int | Literal["due"] | None
"""Which open step a new contact completes: that step's id, none, or `"due"` — of the steps
due up to the day after the contact's, the only one, if it was due by the end of the
contact's day (else none, and the person is asked; see `steps_to_complete`)."""


ASK_AHEAD = dt.timedelta(days=1)
"""A contact may have completed a step due up to this long after its day (a call a day early);
later steps are not asked about: they stay open, and the confirmation lists them."""


def _candidates(open_steps: Sequence[Step], happened: dt.datetime, timezone: str) -> list[Step]:
    """The open steps a contact that happened then may have completed: overdue, due that
    day, or the next."""
    day = local_time(happened, timezone).date()
    return [
        step for step in open_steps if local_time(step.due_at, timezone).date() <= day + ASK_AHEAD
    ]


def _completed_step(
    open_steps: Sequence[Step], completes: Completes, happened: dt.datetime, timezone: str
) -> Step | None:
    if completes is None:
        return None
    if completes == "due":
        candidates = _candidates(open_steps, happened, timezone)
        if len(candidates) != 1:
            return None
        day = local_time(happened, timezone).date()
        only = candidates[0]
        return only if local_time(only.due_at, timezone).date() <= day else None
    for step in open_steps:
        if step.id == completes:
            return step
    raise DomainError("That step is no longer open (it was done, cancelled or moved).")


def _step_line(step: Step, actor: User) -> str:
    return f"{step.kind.value} {format_moment(step.due_at, actor.timezone, actor.locale)}"


def can_undo(contact: Contact, now: dt.datetime) -> bool:
    """Whether the Undo and Edit buttons of a just-logged contact still work."""
    return now - contact.logged_at <= UNDO_WINDOW


def _contact_kind(kind: ContactKind | str) -> ContactKind:
    try:
        return ContactKind(kind)
    except ValueError:
        raise DomainError(
            "A contact is a call, meeting, email, message or visit; please choose one."
        ) from None


def _step_kind(kind: StepKind | str) -> StepKind:
    try:
        return StepKind(kind)
    except ValueError:
        raise DomainError(
            "A next step is a call, meeting, email, visit or other; please choose one."
        ) from None


def _summary(text: str) -> str:
    # NUL is never meant in a message, and SQLite's length() stops at it (the CHECK fails).
    summary = text.replace("\x00", "").strip()
    if not 1 <= len(summary) <= MAX_SUMMARY:
        raise DomainError(f"The summary must be 1 to {MAX_SUMMARY} characters.")
    return summary


def _optional_text(text: str | None, *, limit: int, label: str) -> str | None:
    cleaned = (text or "").replace("\x00", "").strip()
    if len(cleaned) > limit:
        raise DomainError(f"The {label} is too long (at most {limit} characters).")
    return cleaned or None


async def _require_contact(
    db: Database, clock: Clock, *, actor: User, contact_id: int, attempted: str
) -> Contact:
    """The contact, if it exists and the person may act on its client; refusals are audited."""
    contact = await contacts.get_contact(db, contact_id)
    if contact is None:
        raise DomainError("That contact no longer exists (it may have been undone).")
    client = await clients.get_client(db, contact.client_id)
    assert client is not None
    if not await may_act_on_client(db, actor, client.owner_id, now=clock.now()):
        raise await deny(
            db,
            clock,
            actor=actor,
            attempted=attempted,
            object_type="contact",
            object_id=contact_id,
        )
    return contact


async def _current(tx: Transaction, contact_id: int) -> tuple[Contact, Client]:
    """Re-read a contact and its client inside the transaction (another tap may have won)."""
    contact = await contacts.get_contact(tx, contact_id)
    if contact is None:
        raise DomainError("That contact no longer exists (it may have been undone).")
    client = await clients.get_client(tx, contact.client_id)
    assert client is not None
    return contact, client


async def log_contact(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    client_id: int,
    kind: ContactKind | str,
    summary: str,
    happened_at: dt.datetime | None = None,
    nag_delay: dt.timedelta = MISSING_STEP_NAG,
    completes: Completes = "due",
) -> Contact:
    """Save a contact at once as `needs_next_step`.

    In the same transaction: the open step it `completes` is done, the client's last contact
    time moves forward, and a `missing_step` reminder is queued for `nag_delay` from now
    (cancelled when the next step or closure is chosen).
    """
    contact_kind = _contact_kind(kind)
    text = _summary(summary)
    now = clock.now()
    happened = validate_happened(
        happened_at or now, now=now, timezone=actor.timezone, locale=actor.locale
    )
    await require_client(db, clock, actor=actor, client_id=client_id, attempted="contact.log")
    async with db.transaction() as tx:
        contact = await contacts.insert_contact(
            tx,
            client_id=client_id,
            manager_id=actor.telegram_id,
            kind=contact_kind,
            happened_at=happened,
            summary=text,
            now=now,
        )
        open_steps = await steps.open_steps_for_client(tx, client_id)
        completed = _completed_step(open_steps, completes, happened, actor.timezone)
        if completed is not None:
            await steps.complete_step(tx, completed.id, contact_id=contact.id, now=now)
            await reminders.cancel_for_subject(tx, ReminderSubject.STEP, completed.id)
        await clients.note_contact(tx, client_id, happened_at=happened)
        await reminders.insert_reminder(
            tx,
            user_id=actor.telegram_id,
            subject=ReminderSubject.MISSING_STEP,
            subject_id=contact.id,
            due_at=now + nag_delay,
            now=now,
        )
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="contact.log",
            now=now,
            object_type="contact",
            object_id=contact.id,
            details={
                "client_id": client_id,
                "kind": contact_kind.value,
                "completed_step": completed.id if completed else None,
            },
        )
    return contact


async def steps_to_complete(
    db: Database, clock: Clock, *, actor: User, contact_id: int
) -> list[Step]:
    """The client's open steps a just-logged contact may have completed — overdue, due that
    day or the next (the person is asked which one, or none); empty once it completed one or
    concluded."""
    contact = await _require_contact(
        db, clock, actor=actor, contact_id=contact_id, attempted="contact.open"
    )
    if contact.state is ContactState.COMPLETE or await steps.step_done_by(db, contact.id):
        return []
    others = [
        step
        for step in await steps.open_steps_for_client(db, contact.client_id)
        if step.created_by_contact_id != contact.id
    ]
    return _candidates(others, contact.happened_at, actor.timezone)


async def complete_with(
    db: Database, clock: Clock, *, actor: User, contact_id: int, step_id: int
) -> Step:
    """Mark the client's open step `step_id` done by this contact (the answer to "which step
    did this contact complete?"); its reminders are cancelled in the same transaction."""
    await _require_contact(
        db, clock, actor=actor, contact_id=contact_id, attempted="contact.complete"
    )
    now = clock.now()
    async with db.transaction() as tx:
        contact, client = await _current(tx, contact_id)
        done = await steps.step_done_by(tx, contact.id)
        if done is not None:
            if done.id == step_id:
                return done
            raise DomainError(
                f"Already answered: this {contact.kind.value} with {client.name} completed "
                f"the {_step_line(done, actor)}."
            )
        step = await steps.get_step(tx, step_id)
        if step is None or step.client_id != client.id or step.state is not StepState.OPEN:
            raise DomainError(
                f"That step of {client.name} is no longer open (it was done, cancelled or moved)."
            )
        await steps.complete_step(tx, step.id, contact_id=contact.id, now=now)
        await reminders.cancel_for_subject(tx, ReminderSubject.STEP, step.id)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="contact.complete",
            now=now,
            object_type="contact",
            object_id=contact.id,
            details={"step_id": step.id},
        )
        completed = await steps.get_step(tx, step.id)
    assert completed is not None
    return completed


async def _keep_or_cancel(
    tx: Transaction,
    *,
    actor: User,
    client: Client,
    contact: Contact,
    others: Sequence[Step],
    choice: StepChoice,
    reason: str,
    now: dt.datetime,
) -> list[Step]:
    """A pause or a refusal: the client's other open steps are kept or cancelled, as asked
    (StepsOpenOnPause asks); returns those cancelled."""
    if not others or choice is StepChoice.KEEP:
        return []
    if choice is StepChoice.ASK:
        listed = "; ".join(_step_line(step, actor) for step in others)
        raise StepsOpenOnPause(
            f"{client.name} has open steps: {listed}. Keep them or cancel them?", list(others)
        )
    for step in others:
        await steps.cancel_step(tx, step.id, reason=reason, now=now, by_contact_id=contact.id)
        await reminders.cancel_for_subject(tx, ReminderSubject.STEP, step.id)
        await steps.record_event(
            tx, step, actor_id=actor.telegram_id, action=StepAction.CANCEL, now=now
        )
    return list(others)


async def _retire_others(
    tx: Transaction,
    *,
    actor: User,
    client: Client,
    contact: Contact,
    others: Sequence[Step],
    kind: StepKind,
    due_at: dt.datetime,
    outcome: Outcome,
    choice: StepChoice,
    now: dt.datetime,
) -> list[Step]:
    """Apply `choice` to the client's open steps other contacts set; returns those retired.

    A follow-up asks only about the one step within a day of it that it would take the place
    of (the same kind first, else the closest; replace never happens unasked); a pause asks
    about all of them (keep or cancel).
    """
    if outcome is Outcome.PAUSED:
        until = format_moment(due_at, actor.timezone, actor.locale)
        return await _keep_or_cancel(
            tx,
            actor=actor,
            client=client,
            contact=contact,
            others=others,
            choice=choice,
            reason=f"{client.name} paused until {until}",
            now=now,
        )
    # The one step the new one would take the place of: the same kind first, then the closest.
    nearby = sorted(
        (step for step in others if abs(step.due_at - due_at) < NEARBY),
        key=lambda step: (step.kind is not kind, abs(step.due_at - due_at), step.id),
    )[:1]
    if not nearby or choice is StepChoice.KEEP:
        return []
    if choice is StepChoice.ASK:
        raise StepExists(
            f"{client.name} already has a {_step_line(nearby[0], actor)}. "
            f"Keep both, or replace it with the {kind.value} "
            f"{format_moment(due_at, actor.timezone, actor.locale)}?",
            nearby,
        )
    for step in nearby:
        await steps.mark_replaced(tx, step.id, by_contact_id=contact.id, now=now)
        await reminders.cancel_for_subject(tx, ReminderSubject.STEP, step.id)
    return nearby


async def _conclude_with_step(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    contact_id: int,
    kind: StepKind,
    due_at: dt.datetime,
    agenda: str | None,
    outcome: Outcome,
    reason: str | None,
    others: StepChoice,
) -> Step:
    """Shared by scheduling and pausing: open a step created by the contact and complete it.

    A contact that already concluded with a step of its own that is still open may choose
    again: its own step gives way without asking (the "change" after the read-back). The
    client's steps from other contacts are kept, replaced or cancelled as `others` says.
    """
    attempted = "contact.schedule" if outcome is Outcome.SCHEDULED else "contact.pause"
    await _require_contact(db, clock, actor=actor, contact_id=contact_id, attempted=attempted)
    now = clock.now()
    validate_due(due_at, now=now, timezone=actor.timezone, locale=actor.locale)
    async with db.transaction() as tx:
        contact, client = await _current(tx, contact_id)
        open_steps = await steps.open_steps_for_client(tx, client.id)
        own = [step for step in open_steps if step.created_by_contact_id == contact.id]
        if contact.state is ContactState.COMPLETE and not own:
            raise AlreadyResolved(contact, client.name, actor)
        retired = await _retire_others(
            tx,
            actor=actor,
            client=client,
            contact=contact,
            others=[step for step in open_steps if step.created_by_contact_id != contact.id],
            kind=kind,
            due_at=due_at,
            outcome=outcome,
            choice=others,
            now=now,
        )
        for step in own:
            await steps.mark_replaced(tx, step.id, by_contact_id=contact.id, now=now)
            await reminders.cancel_for_subject(tx, ReminderSubject.STEP, step.id)
        step = await steps.insert_step(
            tx,
            client_id=client.id,
            manager_id=client.owner_id,
            created_by_contact_id=contact.id,
            kind=kind,
            due_at=due_at,
            agenda=agenda,
            now=now,
        )
        await queue_step_reminders(tx, step, await users.get_user(tx, client.owner_id), now)
        await contacts.resolve_contact(tx, contact.id, outcome=outcome, reason=reason, now=now)
        await reminders.cancel_for_subject(tx, ReminderSubject.MISSING_STEP, contact.id)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action=attempted,
            now=now,
            object_type="contact",
            object_id=contact.id,
            details={
                "step_id": step.id,
                "kind": kind.value,
                "replaced_own": [old.id for old in own],
                "retired": [old.id for old in retired],
                "others": others.value,
            },
        )
    return step


async def schedule_next_step(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    contact_id: int,
    kind: StepKind | str,
    due_at: dt.datetime,
    agenda: str | None = None,
    others: StepChoice = StepChoice.ASK,
) -> Step:
    """Conclude a contact with a follow-up due at `due_at` (after now, within a year).

    If another open step of the client is due within a day of it, StepExists is raised
    unless `others` says to keep both (KEEP) or replace the nearby one (DROP).
    """
    return await _conclude_with_step(
        db,
        clock,
        actor=actor,
        contact_id=contact_id,
        kind=_step_kind(kind),
        due_at=due_at,
        agenda=_optional_text(agenda, limit=MAX_AGENDA, label="agenda"),
        outcome=Outcome.SCHEDULED,
        reason=None,
        others=others,
    )


async def pause_until(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    contact_id: int,
    until: dt.datetime,
    reason: str | None = None,
    others: StepChoice = StepChoice.ASK,
) -> Step:
    """Conclude a contact with "pause until": a check-back step (kind other) due at `until`.

    If the client has other open steps, StepsOpenOnPause is raised unless `others` says to
    keep them (KEEP) or cancel them (DROP).
    """
    clean_reason = _optional_text(reason, limit=MAX_REASON, label="reason")
    return await _conclude_with_step(
        db,
        clock,
        actor=actor,
        contact_id=contact_id,
        kind=StepKind.OTHER,
        due_at=until,
        agenda=clean_reason,
        outcome=Outcome.PAUSED,
        reason=clean_reason,
        others=others,
    )


async def close_contact(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    contact_id: int,
    outcome: Outcome | str,
    reason: str | None = None,
    others: StepChoice = StepChoice.ASK,
    preset: str | None = None,
) -> Contact:
    """Conclude a contact with a closure: won, refused or not a target (these need a reason).

    A refusal or "not a target" with other open steps of the client raises StepsOpenOnPause
    (keep them or cancel them?) unless `others` says; a won deal keeps them. A refusal is
    kept with its words and a preset reason (bot/services/refusal_reasons.py): `preset` when
    one was tapped, else the one the words clearly mean, else "other".
    """
    try:
        closure = Outcome(outcome)
    except ValueError:
        closure = None
    if closure not in CLOSURES:
        raise DomainError("Choose how it ended: deal won, client refused or not a target.")
    assert closure is not None
    clean_reason = _optional_text(reason, limit=MAX_REASON, label="reason")
    if closure in REASON_REQUIRED and clean_reason is None:
        raise DomainError(REASON_REQUIRED[closure])
    await _require_contact(
        db, clock, actor=actor, contact_id=contact_id, attempted="contact.close"
    )
    now = clock.now()
    async with db.transaction() as tx:
        contact, client = await _current(tx, contact_id)
        if contact.state is ContactState.COMPLETE:
            raise AlreadyResolved(contact, client.name, actor)
        if closure is not Outcome.WON:
            open_steps = await steps.open_steps_for_client(tx, client.id)
            word = "refused" if closure is Outcome.REFUSED else "is not a target"
            await _keep_or_cancel(
                tx,
                actor=actor,
                client=client,
                contact=contact,
                others=open_steps,
                choice=others,
                reason=f"{client.name} {word}: {clean_reason}",
                now=now,
            )
        refusal = None
        if closure is Outcome.REFUSED:
            refusal = refusal_reasons.read_preset(preset) or refusal_reasons.preset_for(
                clean_reason, locale=actor.locale
            )
        await contacts.resolve_contact(
            tx,
            contact.id,
            outcome=closure,
            reason=clean_reason,
            now=now,
            refusal_reason=None if refusal is None else refusal.value,
        )
        await reminders.cancel_for_subject(tx, ReminderSubject.MISSING_STEP, contact.id)
        if closure is Outcome.WON:  # the history decides: a won deal makes a client active
            await clients.activate_prospect(tx, contact.client_id, now=now)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="contact.close",
            now=now,
            object_type="contact",
            object_id=contact.id,
            details={
                "outcome": closure.value,
                "reason": clean_reason,
                "refusal_reason": None if refusal is None else refusal.value,
            },
        )
        closed = await contacts.get_contact(tx, contact.id)
    assert closed is not None
    return closed


async def undo_contact(db: Database, clock: Clock, *, actor: User, contact_id: int) -> Step | None:
    """Take back a contact logged less than 10 minutes ago, as if it had never been logged.

    The contact and any step it created are deleted (the audit log keeps a copy), the step it
    completed is open again (returned, else None), so are the steps it replaced or cancelled,
    and their reminders follow. Refused once something was built on it: a later contact with
    the client, or its step replaced.
    """
    await _require_contact(db, clock, actor=actor, contact_id=contact_id, attempted="contact.undo")
    now = clock.now()
    async with db.transaction() as tx:
        contact, client = await _current(tx, contact_id)
        if not can_undo(contact, now):
            raise DomainError("Undo works within 10 minutes of logging; this one is older.")
        if await contacts.has_later_contact(tx, contact):
            raise DomainError(
                f"A later contact with {client.name} was logged since; undo that one first."
            )
        created = await steps.steps_created_by(tx, contact.id)
        if created and not any(step.state is StepState.OPEN for step in created):
            raise DomainError(
                "The next step set by this contact was replaced since; it can't be undone."
            )
        reopened = await steps.step_done_by(tx, contact.id)
        retired = [
            step
            for step in await steps.steps_closed_by(tx, contact.id)
            if step.created_by_contact_id != contact.id
        ]
        for step in created:
            await reminders.cancel_for_subject(tx, ReminderSubject.STEP, step.id)
        await steps.delete_steps_created_by(tx, contact.id)
        await reminders.cancel_for_subject(tx, ReminderSubject.MISSING_STEP, contact.id)
        if reopened is not None:
            await steps.reopen_step(tx, reopened.id, now=now)
        for step in retired:
            await steps.reopen_closed(tx, step.id, now=now)
        for step in ([reopened] if reopened else []) + retired:
            owner = await users.get_user(tx, step.manager_id)
            early = None if owner is None else schedule.heads_up_at(step, owner, now)
            for due in (early, step.due_at):
                if due is not None:
                    await reminders.ensure_reminder(
                        tx,
                        user_id=step.manager_id,
                        subject=ReminderSubject.STEP,
                        subject_id=step.id,
                        due_at=due,
                        now=now,
                    )
        await contacts.delete_contact(tx, contact.id)
        await clients.recompute_last_contact(tx, client.id)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="contact.undo",
            now=now,
            object_type="contact",
            object_id=contact.id,
            details={
                "client_id": client.id,
                "kind": contact.kind.value,
                "happened_at": contact.happened_at.isoformat(),
                "summary": contact.summary,
                "outcome": contact.outcome.value if contact.outcome else None,
                "deleted_steps": [step.id for step in created],
                "reopened_step": reopened.id if reopened else None,
                "restored_steps": [step.id for step in retired],
            },
        )
        return None if reopened is None else await steps.get_step(tx, reopened.id)


async def edit_summary(
    db: Database, clock: Clock, *, actor: User, contact_id: int, summary: str
) -> Contact:
    """Correct the summary of a contact logged less than 10 minutes ago."""
    text = _summary(summary)
    await _require_contact(db, clock, actor=actor, contact_id=contact_id, attempted="contact.edit")
    now = clock.now()
    async with db.transaction() as tx:
        contact, _ = await _current(tx, contact_id)
        if not can_undo(contact, now):
            raise EditWindowClosed("A summary can be edited within 10 minutes of logging.")
        if contact.summary == text:
            return contact
        await contacts.set_summary(tx, contact.id, text)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="contact.edit",
            now=now,
            object_type="contact",
            object_id=contact.id,
            details={"old_summary": contact.summary},
        )
        edited = await contacts.get_contact(tx, contact.id)
    assert edited is not None
    return edited


async def get_pending_contact(
    db: Database, clock: Clock, *, actor: User, contact_id: int
) -> Contact:
    """A contact the person may conclude now; AlreadyResolved if it has its step or closure."""
    contact = await _require_contact(
        db, clock, actor=actor, contact_id=contact_id, attempted="contact.open"
    )
    if contact.state is ContactState.COMPLETE:
        client = await clients.get_client(db, contact.client_id)
        raise AlreadyResolved(contact, client.name if client else "", actor)
    return contact


async def describe_contact(
    db: Database, clock: Clock, *, actor: User, contact_id: int
) -> ContactSummary:
    """A contact with its client's name and the step it set (its open one, else its last)."""
    await _require_contact(db, clock, actor=actor, contact_id=contact_id, attempted="contact.view")
    entry = await contacts.pending_contact(db, contact_id)
    if entry is None:
        raise DomainError("That contact no longer exists (it may have been undone).")
    created = await steps.steps_created_by(db, contact_id)
    open_steps = [step for step in created if step.state is StepState.OPEN]
    step = open_steps[-1] if open_steps else (created[-1] if created else None)
    retired = [
        old
        for old in await steps.steps_closed_by(db, contact_id)
        if old.created_by_contact_id != contact_id
    ]
    also_open = [
        other
        for other in await steps.open_steps_for_client(db, entry.contact.client_id)
        if other.created_by_contact_id != contact_id
    ]
    return ContactSummary(
        contact=entry.contact,
        client_name=entry.client_name,
        step=step,
        completed=await steps.step_done_by(db, contact_id),
        retired=tuple(retired),
        also_open=tuple(also_open),
    )


async def pending_contacts(db: Database, *, actor: User) -> list[PendingContact]:
    """The actor's own contacts still waiting for a next step, the longest-waiting first."""
    if not actor.active:
        raise NotAllowed("Your access has been switched off; ask an admin.")
    return await contacts.pending_for_manager(db, actor.telegram_id)


async def client_history(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    client_id: int,
    limit: int = 10,
    offset: int = 0,
) -> list[Contact]:
    """A page of a client's contacts, the latest first (the card's History button)."""
    await require_client(db, clock, actor=actor, client_id=client_id, attempted="contact.history")
    return await contacts.recent_for_client(
        db, client_id, limit=max(1, min(limit, 50)), offset=max(0, offset)
    )


async def steps_set_by(db: Database, found: Sequence[Contact]) -> dict[int, Step]:
    """The step each of these contacts set (its last one), by contact id, for the History."""
    return await steps.last_created_by(db, [contact.id for contact in found])
