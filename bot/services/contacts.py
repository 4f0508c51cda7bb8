"""The contact log and its next-step state machine.

A contact is saved at once as `needs_next_step` (with a `missing_step` reminder row, so nothing
lives only in memory) and becomes `complete` only by one of: a scheduled next step, a closure
(won / refused / not a target) or a pause (itself a check-back step). Each of those cancels the
reminder in the same transaction. Logging a contact completes the client's open step; a client
has at most one open step, and replacing it is an explicit choice. The database's CHECKs and
the partial unique index back every rule here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.clock import Clock
from bot.services import schedule
from bot.services.dates import validate_due, validate_happened
from bot.services.errors import DomainError, NotAllowed
from bot.services.ownership import deny, may_act_on_client, require_client
from bot.services.steps import queue_step_reminders
from bot.timefmt import format_moment
from storage import audit, clients, contacts, reminders, steps, users
from storage.clients import Client
from storage.contacts import Contact, ContactKind, ContactState, Outcome, PendingContact
from storage.db import Database, Transaction
from storage.reminders import ReminderSubject
from storage.steps import Step, StepKind, StepState
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


class StepExists(DomainError):
    """The client already has an open step from another contact; the UI asks "replace it?"."""

    def __init__(self, message: str, step: Step) -> None:
        super().__init__(message)
        self.step = step


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
    """A contact as its confirmation shows it: the client's name and the step it set."""

    contact: Contact
    client_name: str
    step: Step | None


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
) -> Contact:
    """Save a contact at once as `needs_next_step`.

    In the same transaction: the client's open step is completed by this contact, the
    client's last contact time moves forward, and a `missing_step` reminder is queued for
    `nag_delay` from now (cancelled when the next step or closure is chosen).
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
        completed = await steps.open_step_for_client(tx, client_id)
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
    replace: bool,
) -> Step:
    """Shared by scheduling and pausing: open a step created by the contact and complete it.

    A contact that already concluded with a step of its own that is still open may choose
    again: its own step is replaced without asking (the "change" after the echo).
    """
    attempted = "contact.schedule" if outcome is Outcome.SCHEDULED else "contact.pause"
    await _require_contact(db, clock, actor=actor, contact_id=contact_id, attempted=attempted)
    now = clock.now()
    validate_due(due_at, now=now, timezone=actor.timezone, locale=actor.locale)
    async with db.transaction() as tx:
        contact, client = await _current(tx, contact_id)
        open_step = await steps.open_step_for_client(tx, client.id)
        own_open = open_step is not None and open_step.created_by_contact_id == contact.id
        if contact.state is ContactState.COMPLETE and not own_open:
            raise AlreadyResolved(contact, client.name, actor)
        if open_step is not None:
            if not own_open and not replace:
                when = format_moment(open_step.due_at, actor.timezone, actor.locale)
                raise StepExists(
                    f"{client.name} already has a next step: {open_step.kind.value} on {when}. "
                    "Replace it with the new one?",
                    open_step,
                )
            await steps.mark_replaced(tx, open_step.id, now=now)
            await reminders.cancel_for_subject(tx, ReminderSubject.STEP, open_step.id)
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
                "replaced_step": open_step.id if open_step else None,
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
    replace: bool = False,
) -> Step:
    """Conclude a contact with a follow-up due at `due_at` (after now, within a year).

    If the client already has an open step from another contact, StepExists is raised
    unless `replace`, in which case the old step becomes `replaced`.
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
        replace=replace,
    )


async def pause_until(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    contact_id: int,
    until: dt.datetime,
    reason: str | None = None,
    replace: bool = False,
) -> Step:
    """Conclude a contact with "pause until": a check-back step (kind other) due at `until`."""
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
        replace=replace,
    )


async def close_contact(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    contact_id: int,
    outcome: Outcome | str,
    reason: str | None = None,
) -> Contact:
    """Conclude a contact with a closure: won, refused or not a target (these need a reason)."""
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
        await contacts.resolve_contact(
            tx, contact.id, outcome=closure, reason=clean_reason, now=now
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
            details={"outcome": closure.value, "reason": clean_reason},
        )
        closed = await contacts.get_contact(tx, contact.id)
    assert closed is not None
    return closed


async def undo_contact(db: Database, clock: Clock, *, actor: User, contact_id: int) -> Step | None:
    """Take back a contact logged less than 10 minutes ago, as if it had never been logged.

    The contact and any step it created are deleted (the audit log keeps a copy), the step it
    completed is open again (returned, else None), and their reminders follow. Refused once
    something was built on it: a later contact with the client, or its step replaced.
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
        open_step = await steps.open_step_for_client(tx, client.id)
        if reopened and open_step and open_step.created_by_contact_id != contact.id:
            raise DomainError(
                f"{client.name} has a new next step since; this contact can't be undone."
            )
        for step in created:
            await reminders.cancel_for_subject(tx, ReminderSubject.STEP, step.id)
        await steps.delete_steps_created_by(tx, contact.id)
        await reminders.cancel_for_subject(tx, ReminderSubject.MISSING_STEP, contact.id)
        if reopened is not None:
            await steps.reopen_step(tx, reopened.id, now=now)
            owner = await users.get_user(tx, reopened.manager_id)
            early = None if owner is None else schedule.heads_up_at(reopened, owner, now)
            for due in (early, reopened.due_at):
                if due is not None:
                    await reminders.ensure_reminder(
                        tx,
                        user_id=reopened.manager_id,
                        subject=ReminderSubject.STEP,
                        subject_id=reopened.id,
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
    return ContactSummary(contact=entry.contact, client_name=entry.client_name, step=step)


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
