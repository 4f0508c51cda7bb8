"""The contact log: every contact ends in a next step or a closure, and nothing is lost."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.services import clients as client_service
from bot.services import contacts as service
from bot.services.contacts import AlreadyResolved, StepChoice, StepExists, StepsOpenOnPause
from bot.services.errors import DomainError, NotAllowed
from storage import audit, clients, contacts, reminders, steps, users
from storage.contacts import ContactState, Outcome
from storage.db import Database
from storage.reminders import ReminderState, ReminderSubject
from storage.steps import StepKind, StepState
from storage.users import Role
from tests.factories import make_user

MANAGER, OTHER, HEAD = 10, 11, 20
DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)


async def _setup(db, clock, name: str = "Acme"):
    manager = await make_user(db, clock, MANAGER, timezone="Europe/London")
    other = await make_user(db, clock, OTHER)
    head = await make_user(db, clock, HEAD, Role.HEAD)
    client = await client_service.create_client(db, clock, actor=manager, name=name)
    return manager, other, head, client


async def _live(db, subject: ReminderSubject, subject_id: int) -> list[reminders.Reminder]:
    rows = await reminders.reminders_for(db, subject, subject_id)
    return [r for r in rows if r.state is ReminderState.PENDING]


async def test_log_saves_at_once_with_a_nag_reminder(db, clock) -> None:
    """A logged contact is stored as needs_next_step with a missing_step reminder row."""
    manager, _, _, client = await _setup(db, clock)
    contact = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="  Talked prices "
    )
    assert contact.state is ContactState.NEEDS_NEXT_STEP
    assert contact.summary == "Talked prices"
    assert contact.happened_at == contact.logged_at == clock.now()
    nag = await _live(db, ReminderSubject.MISSING_STEP, contact.id)
    assert [(r.user_id, r.due_at) for r in nag] == [(MANAGER, clock.now() + 15 * MINUTE)]
    assert [p.contact.id for p in await service.pending_contacts(db, actor=manager)] == [
        contact.id
    ]
    stored = await clients.get_client(db, client.id)
    assert stored is not None and stored.last_contact_at == clock.now()
    assert (await audit.recent_entries(db, action="contact.log"))[0].object_id == str(contact.id)


async def test_log_validation(db, clock) -> None:
    """Kind, summary length and a past time are checked; the nag delay is a parameter."""
    manager, _, _, client = await _setup(db, clock)
    for kwargs, message in [
        ({"kind": "fax", "summary": "x"}, "call, meeting"),
        ({"kind": "call", "summary": "   "}, "1 to 2000"),
        ({"kind": "call", "summary": "x" * 2001}, "1 to 2000"),
        ({"kind": "call", "summary": "x", "happened_at": clock.now() + MINUTE}, "future"),
    ]:
        with pytest.raises(DomainError, match=message):
            await service.log_contact(db, clock, actor=manager, client_id=client.id, **kwargs)
    earlier = clock.now() - DAY
    contact = await service.log_contact(
        db,
        clock,
        actor=manager,
        client_id=client.id,
        kind="meeting",
        summary="x",
        happened_at=earlier,
        nag_delay=5 * MINUTE,
    )
    assert contact.happened_at == earlier
    nag = await _live(db, ReminderSubject.MISSING_STEP, contact.id)
    assert nag[0].due_at == clock.now() + 5 * MINUTE


async def test_schedule_completes_the_contact_and_cancels_the_nag(db, clock) -> None:
    """Scheduling opens a step with a reminder, completes the contact, cancels the nag."""
    manager, _, _, client = await _setup(db, clock)
    contact = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="hi"
    )
    clock.advance(2 * MINUTE)
    due = clock.now() + 2 * DAY
    step = await service.schedule_next_step(
        db, clock, actor=manager, contact_id=contact.id, kind="meeting", due_at=due, agenda="Demo"
    )
    assert (step.kind, step.due_at, step.agenda, step.state) == (
        StepKind.MEETING,
        due,
        "Demo",
        StepState.OPEN,
    )
    assert step.created_by_contact_id == contact.id and step.manager_id == MANAGER
    done = await contacts.get_contact(db, contact.id)
    assert done is not None
    assert (done.state, done.outcome, done.resolved_at) == (
        ContactState.COMPLETE,
        Outcome.SCHEDULED,
        clock.now(),
    )
    assert await _live(db, ReminderSubject.MISSING_STEP, contact.id) == []
    # A meeting: the due reminder and a heads-up an hour before (the default setting).
    assert sorted(r.due_at for r in await _live(db, ReminderSubject.STEP, step.id)) == [
        due - 60 * MINUTE,
        due,
    ]
    assert await service.pending_contacts(db, actor=manager) == []
    with pytest.raises(AlreadyResolved):
        await service.close_contact(db, clock, actor=manager, contact_id=contact.id, outcome="won")


@pytest.mark.parametrize(
    ("offset", "message"),
    [(-MINUTE, "already in the past"), (dt.timedelta(0), "past"), (400 * DAY, "year")],
)
async def test_schedule_refuses_past_and_far_future(db, clock, offset, message) -> None:
    """A due time in the past or more than a year ahead leaves the contact pending."""
    manager, _, _, client = await _setup(db, clock)
    contact = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="hi"
    )
    with pytest.raises(DomainError, match=message):
        await service.schedule_next_step(
            db,
            clock,
            actor=manager,
            contact_id=contact.id,
            kind="call",
            due_at=clock.now() + offset,
        )
    stored = await contacts.get_contact(db, contact.id)
    assert stored is not None and stored.state is ContactState.NEEDS_NEXT_STEP


async def test_logging_completes_the_previous_step(db, clock) -> None:
    """A new contact with the client completes its open step and cancels that reminder."""
    manager, _, _, client = await _setup(db, clock)
    first = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="one"
    )
    step = await service.schedule_next_step(
        db, clock, actor=manager, contact_id=first.id, kind="call", due_at=clock.now() + DAY
    )
    clock.advance(DAY)
    second = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="two"
    )
    done = await steps.get_step(db, step.id)
    assert done is not None
    assert (done.state, done.done_by_contact_id) == (StepState.DONE, second.id)
    assert await _live(db, ReminderSubject.STEP, step.id) == []
    assert await steps.open_steps_for_client(db, client.id) == []


async def test_a_step_near_another_asks_keep_both_or_replace(db, clock) -> None:
    """Another contact's open step within a day raises StepExists (replace is never the
    default); KEEP keeps both open, DROP replaces the one nearby step it takes the place of;
    a step further away is simply added next to it."""
    manager, _, _, client = await _setup(db, clock)
    older = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="one"
    )
    newer = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="email", summary="two"
    )
    kept = await service.schedule_next_step(
        db, clock, actor=manager, contact_id=newer.id, kind="meeting", due_at=clock.now() + DAY
    )
    with pytest.raises(StepExists) as caught:
        await service.schedule_next_step(
            db,
            clock,
            actor=manager,
            contact_id=older.id,
            kind="visit",
            due_at=clock.now() + DAY + dt.timedelta(hours=3),
        )
    assert caught.value.nearby == [kept]
    assert str(caught.value) == (
        "Acme already has a meeting Fri 27 Nov 2026, 09:00. Keep both, or replace it with the "
        "visit Fri 27 Nov 2026, 12:00?"
    )
    assert (await contacts.get_contact(db, older.id)).state is ContactState.NEEDS_NEXT_STEP
    assert await steps.open_steps_for_client(db, client.id) == [kept]

    both = await service.schedule_next_step(
        db,
        clock,
        actor=manager,
        contact_id=older.id,
        kind="visit",
        due_at=clock.now() + DAY + dt.timedelta(hours=3),
        others=StepChoice.KEEP,
    )
    assert await steps.open_steps_for_client(db, client.id) == [kept, both]

    third = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="three"
    )
    assert await service.steps_to_complete(db, clock, actor=manager, contact_id=third.id) == [
        kept,
        both,
    ]  # neither was due today: the person is asked, nothing was completed
    far = await service.schedule_next_step(
        db, clock, actor=manager, contact_id=third.id, kind="email", due_at=clock.now() + 5 * DAY
    )
    assert await steps.open_steps_for_client(db, client.id) == [kept, both, far]

    fourth = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="four", completes=None
    )
    new = await service.schedule_next_step(
        db,
        clock,
        actor=manager,
        contact_id=fourth.id,
        kind="call",
        due_at=clock.now() + DAY + dt.timedelta(hours=1),
        others=StepChoice.DROP,
    )
    # Only the step it takes the place of (no call nearby: the closest, the meeting) goes.
    retired = await steps.get_step(db, kept.id)
    assert retired is not None and retired.state is StepState.REPLACED
    assert retired.closed_by_contact_id == fourth.id
    assert await _live(db, ReminderSubject.STEP, kept.id) == []
    assert await steps.open_steps_for_client(db, client.id) == [new, both, far]

    await service.undo_contact(db, clock, actor=manager, contact_id=fourth.id)
    assert [s.id for s in await steps.open_steps_for_client(db, client.id)] == [
        kept.id,
        both.id,
        far.id,
    ]  # undo puts back what the contact replaced, with its reminders
    assert await _live(db, ReminderSubject.STEP, kept.id) != []


async def test_the_only_open_step_is_completed_only_when_it_was_due(db, clock) -> None:
    """A contact completes by itself the one step that was due by its day; a step due the
    next day is asked about; one further ahead is not even asked (it stays open);
    `completes` names one."""
    manager, _, _, client = await _setup(db, clock)
    first = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="one"
    )
    tomorrow = await service.schedule_next_step(
        db, clock, actor=manager, contact_id=first.id, kind="meeting", due_at=clock.now() + DAY
    )
    later = await service.schedule_next_step(
        db,
        clock,
        actor=manager,
        contact_id=(
            await service.log_contact(
                db, clock, actor=manager, client_id=client.id, kind="call", summary="x"
            )
        ).id,
        kind="email",
        due_at=clock.now() + 5 * DAY,
    )
    other = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="about invoices"
    )
    assert (await steps.get_step(db, tomorrow.id)).state is StepState.OPEN
    assert await service.steps_to_complete(db, clock, actor=manager, contact_id=other.id) == [
        tomorrow
    ]  # the email five days ahead is not asked about
    done = await service.complete_with(
        db, clock, actor=manager, contact_id=other.id, step_id=tomorrow.id
    )
    assert (done.state, done.done_by_contact_id) == (StepState.DONE, other.id)
    assert await _live(db, ReminderSubject.STEP, tomorrow.id) == []
    assert await service.steps_to_complete(db, clock, actor=manager, contact_id=other.id) == []
    with pytest.raises(DomainError, match="no longer open"):
        await service.complete_with(
            db, clock, actor=manager, contact_id=first.id, step_id=tomorrow.id
        )
    await service.undo_contact(db, clock, actor=manager, contact_id=other.id)
    assert (await steps.get_step(db, tomorrow.id)).state is StepState.OPEN

    clock.advance(DAY - dt.timedelta(hours=2))  # the meeting's day, before it
    met = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="meeting", summary="met"
    )
    assert (await steps.get_step(db, tomorrow.id)).done_by_contact_id == met.id
    assert (await steps.get_step(db, later.id)).state is StepState.OPEN


async def test_pausing_asks_about_the_open_steps_and_cancels_or_keeps_them(db, clock) -> None:
    """A pause with other open steps raises StepsOpenOnPause; DROP cancels them (with the
    reason and a digest event), KEEP leaves them; undo reopens the cancelled ones."""
    manager, _, _, client = await _setup(db, clock)
    first = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="one"
    )
    booked = await service.schedule_next_step(
        db, clock, actor=manager, contact_id=first.id, kind="meeting", due_at=clock.now() + 3 * DAY
    )
    pausing = await service.log_contact(
        db,
        clock,
        actor=manager,
        client_id=client.id,
        kind="call",
        summary="not now",
        completes=None,
    )
    with pytest.raises(StepsOpenOnPause) as caught:
        await service.pause_until(
            db, clock, actor=manager, contact_id=pausing.id, until=clock.now() + 60 * DAY
        )
    assert caught.value.open_steps == [booked]
    assert (
        str(caught.value)
        == "Acme has open steps: meeting Sun 29 Nov 2026, 09:00. Keep them or cancel them?"
    )
    await service.pause_until(
        db,
        clock,
        actor=manager,
        contact_id=pausing.id,
        until=clock.now() + 60 * DAY,
        others=StepChoice.DROP,
    )
    cancelled = await steps.get_step(db, booked.id)
    assert cancelled is not None and cancelled.state is StepState.CANCELLED
    assert cancelled.cancel_reason is not None and "Acme paused until" in cancelled.cancel_reason
    assert await _live(db, ReminderSubject.STEP, booked.id) == []
    summary = await service.describe_contact(db, clock, actor=manager, contact_id=pausing.id)
    assert summary.retired == (cancelled,) and summary.also_open == ()

    await service.undo_contact(db, clock, actor=manager, contact_id=pausing.id)
    reopened = await steps.get_step(db, booked.id)
    assert reopened is not None and reopened.state is StepState.OPEN
    assert reopened.cancel_reason is None

    again = await service.log_contact(
        db,
        clock,
        actor=manager,
        client_id=client.id,
        kind="call",
        summary="not now",
        completes=None,
    )
    check_back = await service.pause_until(
        db,
        clock,
        actor=manager,
        contact_id=again.id,
        until=clock.now() + 60 * DAY,
        others=StepChoice.KEEP,
    )
    assert await steps.open_steps_for_client(db, client.id) == [booked, check_back]


async def test_changing_a_just_set_step_replaces_it_quietly(db, clock) -> None:
    """Scheduling again for the same contact replaces its own step without asking."""
    manager, _, _, client = await _setup(db, clock)
    contact = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="hi"
    )
    first = await service.schedule_next_step(
        db, clock, actor=manager, contact_id=contact.id, kind="call", due_at=clock.now() + DAY
    )
    resolved_at = clock.now()
    clock.advance(MINUTE)
    second = await service.pause_until(
        db, clock, actor=manager, contact_id=contact.id, until=clock.now() + 30 * DAY
    )
    assert (await steps.get_step(db, first.id)).state is StepState.REPLACED
    stored = await contacts.get_contact(db, contact.id)
    assert stored.outcome is Outcome.PAUSED and stored.resolved_at == resolved_at
    assert await steps.open_steps_for_client(db, client.id) == [second]


@pytest.mark.parametrize("outcome", ["refused", "not_target"])
async def test_closure_needs_a_reason(db, clock, outcome: str) -> None:
    """Refused and not-a-target need a reason; won does not; closing cancels the nag."""
    manager, _, _, client = await _setup(db, clock)
    contact = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="hi"
    )
    with pytest.raises(DomainError, match="Please say why"):
        await service.close_contact(
            db, clock, actor=manager, contact_id=contact.id, outcome=outcome, reason="  "
        )
    with pytest.raises(DomainError, match="Choose how it ended"):
        await service.close_contact(
            db, clock, actor=manager, contact_id=contact.id, outcome="scheduled"
        )
    closed = await service.close_contact(
        db, clock, actor=manager, contact_id=contact.id, outcome=outcome, reason="Budget cut"
    )
    assert (closed.state, closed.outcome.value, closed.outcome_reason) == (
        ContactState.COMPLETE,
        outcome,
        "Budget cut",
    )
    assert await _live(db, ReminderSubject.MISSING_STEP, contact.id) == []
    won = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="meeting", summary="signed"
    )
    result = await service.close_contact(
        db, clock, actor=manager, contact_id=won.id, outcome=Outcome.WON
    )
    assert result.outcome is Outcome.WON and result.outcome_reason is None


async def test_pause_creates_a_check_back_step(db, clock) -> None:
    """Pause until a date: a step of kind other, outcome paused with the reason."""
    manager, _, _, client = await _setup(db, clock)
    contact = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="not now"
    )
    until = clock.now() + 90 * DAY
    step = await service.pause_until(
        db, clock, actor=manager, contact_id=contact.id, until=until, reason="After budget"
    )
    assert (step.kind, step.due_at, step.agenda) == (StepKind.OTHER, until, "After budget")
    stored = await contacts.get_contact(db, contact.id)
    assert (stored.outcome, stored.outcome_reason) == (Outcome.PAUSED, "After budget")
    with pytest.raises(DomainError, match="year"):
        other = await service.log_contact(
            db, clock, actor=manager, client_id=client.id, kind="call", summary="again"
        )
        await service.pause_until(
            db, clock, actor=manager, contact_id=other.id, until=clock.now() + 400 * DAY
        )


async def test_undo_restores_everything(db, clock) -> None:
    """Undo deletes the contact and its step, reopens the completed step with its reminder."""
    manager, _, _, client = await _setup(db, clock)
    first = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="one"
    )
    old_step = await service.schedule_next_step(
        db, clock, actor=manager, contact_id=first.id, kind="call", due_at=clock.now() + DAY
    )
    before = await clients.get_client(db, client.id)
    clock.advance(DAY / 2)
    second = await service.log_contact(
        db,
        clock,
        actor=manager,
        client_id=client.id,
        kind="meeting",
        summary="two",
        completes=old_step.id,
    )
    new_step = await service.schedule_next_step(
        db, clock, actor=manager, contact_id=second.id, kind="email", due_at=clock.now() + DAY
    )
    clock.advance(9 * MINUTE)
    reopened = await service.undo_contact(db, clock, actor=manager, contact_id=second.id)

    assert reopened is not None and reopened.id == old_step.id
    assert reopened.state is StepState.OPEN and reopened.done_by_contact_id is None
    assert await contacts.get_contact(db, second.id) is None
    assert await steps.get_step(db, new_step.id) is None
    assert [r.due_at for r in await _live(db, ReminderSubject.STEP, old_step.id)] == [
        old_step.due_at
    ]
    assert await _live(db, ReminderSubject.STEP, new_step.id) == []
    assert await _live(db, ReminderSubject.MISSING_STEP, second.id) == []
    after = await clients.get_client(db, client.id)
    assert after.last_contact_at == before.last_contact_at
    entry = (await audit.recent_entries(db, action="contact.undo"))[0]
    assert entry.details["summary"] == "two" and entry.details["reopened_step"] == old_step.id


async def test_undo_of_a_pending_contact(db, clock) -> None:
    """Undoing a contact that still needs its step cancels the nag and removes it."""
    manager, _, _, client = await _setup(db, clock)
    contact = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="oops"
    )
    assert await service.undo_contact(db, clock, actor=manager, contact_id=contact.id) is None
    assert await service.pending_contacts(db, actor=manager) == []
    assert await _live(db, ReminderSubject.MISSING_STEP, contact.id) == []
    assert (await clients.get_client(db, client.id)).last_contact_at is None
    with pytest.raises(DomainError, match="no longer exists"):
        await service.undo_contact(db, clock, actor=manager, contact_id=contact.id)


async def test_undo_limits(db, clock) -> None:
    """Undo only within 10 minutes, not under a later contact, not after a replace."""
    manager, _, _, client = await _setup(db, clock)
    old = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="old"
    )
    clock.advance(11 * MINUTE)
    with pytest.raises(DomainError, match="within 10 minutes"):
        await service.undo_contact(db, clock, actor=manager, contact_id=old.id)
    with pytest.raises(DomainError, match="within 10 minutes"):
        await service.edit_summary(db, clock, actor=manager, contact_id=old.id, summary="x")

    first = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="first"
    )
    second = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="second"
    )
    with pytest.raises(DomainError, match="undo that one first"):
        await service.undo_contact(db, clock, actor=manager, contact_id=first.id)

    await service.schedule_next_step(
        db, clock, actor=manager, contact_id=second.id, kind="call", due_at=clock.now() + DAY
    )
    await service.schedule_next_step(
        db,
        clock,
        actor=manager,
        contact_id=old.id,
        kind="call",
        due_at=clock.now() + DAY,
        others=StepChoice.DROP,
    )
    with pytest.raises(DomainError, match="replaced since"):
        await service.undo_contact(db, clock, actor=manager, contact_id=second.id)


async def test_edit_summary(db, clock) -> None:
    """The summary can be corrected within the undo window; the old text is audited."""
    manager, _, _, client = await _setup(db, clock)
    contact = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="Teh price"
    )
    edited = await service.edit_summary(
        db, clock, actor=manager, contact_id=contact.id, summary="The price"
    )
    assert edited.summary == "The price"
    entry = (await audit.recent_entries(db, action="contact.edit"))[0]
    assert entry.details == {"old_summary": "Teh price"}
    with pytest.raises(DomainError, match="1 to 2000"):
        await service.edit_summary(db, clock, actor=manager, contact_id=contact.id, summary="")


async def test_forged_ids_are_refused_and_audited(db, clock) -> None:
    """Another manager's client or contact: NotAllowed plus access.denied; heads may act."""
    manager, other, head, client = await _setup(db, clock)
    contact = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="hi"
    )
    due = clock.now() + DAY
    attempts = [
        service.log_contact(db, clock, actor=other, client_id=client.id, kind="call", summary="x"),
        service.schedule_next_step(
            db, clock, actor=other, contact_id=contact.id, kind="call", due_at=due
        ),
        service.close_contact(
            db, clock, actor=other, contact_id=contact.id, outcome="refused", reason="x"
        ),
        service.pause_until(db, clock, actor=other, contact_id=contact.id, until=due),
        service.undo_contact(db, clock, actor=other, contact_id=contact.id),
        service.edit_summary(db, clock, actor=other, contact_id=contact.id, summary="x"),
        service.client_history(db, clock, actor=other, client_id=client.id),
    ]
    for attempt in attempts:
        with pytest.raises(NotAllowed):
            await attempt
    denied = await audit.recent_entries(db, action="access.denied")
    assert len(denied) == len(attempts) and {e.actor_id for e in denied} == {OTHER}
    stored = await contacts.get_contact(db, contact.id)
    assert stored is not None and stored.state is ContactState.NEEDS_NEXT_STEP

    step = await service.schedule_next_step(
        db, clock, actor=head, contact_id=contact.id, kind="call", due_at=due
    )
    assert step.manager_id == MANAGER  # the step belongs to the client's owner
    history = await service.client_history(db, clock, actor=head, client_id=client.id)
    assert [c.id for c in history] == [contact.id]


async def test_get_pending_and_describe(db, clock) -> None:
    """A pending contact can be concluded; afterwards it is described with its step."""
    manager, other, _, client = await _setup(db, clock)
    contact = await service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="hi"
    )
    assert (
        await service.get_pending_contact(db, clock, actor=manager, contact_id=contact.id)
    ).id == contact.id
    summary = await service.describe_contact(db, clock, actor=manager, contact_id=contact.id)
    assert (summary.client_name, summary.step) == ("Acme", None)
    step = await service.schedule_next_step(
        db, clock, actor=manager, contact_id=contact.id, kind="call", due_at=clock.now() + DAY
    )
    with pytest.raises(AlreadyResolved):
        await service.get_pending_contact(db, clock, actor=manager, contact_id=contact.id)
    summary = await service.describe_contact(db, clock, actor=manager, contact_id=contact.id)
    assert summary.step == step and summary.contact.outcome is Outcome.SCHEDULED
    for call in (service.get_pending_contact, service.describe_contact):
        with pytest.raises(NotAllowed):
            await call(db, clock, actor=other, contact_id=contact.id)
    with pytest.raises(DomainError, match="no longer exists"):
        await service.describe_contact(db, clock, actor=manager, contact_id=999)


async def test_pending_is_personal(db, clock) -> None:
    """A head logging on a manager's client must conclude it; it is in the head's list."""
    manager, _, head, client = await _setup(db, clock)
    contact = await service.log_contact(
        db, clock, actor=head, client_id=client.id, kind="visit", summary="dropped by"
    )
    assert await service.pending_contacts(db, actor=manager) == []
    pending = await service.pending_contacts(db, actor=head)
    assert [(p.contact.id, p.client_name) for p in pending] == [(contact.id, "Acme")]


# --- The state machine, property-based ---------------------------------------------------

_ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("log"), st.integers(0, 1)),
        st.tuples(
            st.just("schedule"),
            st.integers(0, 5),
            st.sampled_from(list(StepChoice)),
            st.sampled_from([1, 3]),
        ),
        st.tuples(st.just("pause"), st.integers(0, 5), st.sampled_from(list(StepChoice))),
        st.tuples(
            st.just("close"), st.integers(0, 5), st.sampled_from(["won", "refused", "not_target"])
        ),
        st.tuples(st.just("undo"), st.integers(0, 5)),
        st.tuples(st.just("wait"), st.sampled_from([1, 6, 11, 60 * 24])),
    ),
    min_size=4,
    max_size=24,
)


async def _check_invariants(db: Database) -> None:
    """What no sequence of actions may ever break."""
    assert (
        await db.fetch_value(
            "SELECT count(*) FROM steps"
            " WHERE (state = 'replaced' AND closed_by_contact_id IS NULL)"
            " OR (state = 'cancelled' AND closed_by_contact_id IS NOT NULL"
            "     AND cancel_reason NOT LIKE '% paused until %'"
            "     AND cancel_reason NOT LIKE '% refused: %'"
            "     AND cancel_reason NOT LIKE '% is not a target: %')"
        )
        == 0
    ), "a step retired without the contact that chose it"
    assert (
        await db.fetch_value(
            "SELECT count(*) FROM steps s WHERE s.state = 'replaced'"
            " AND s.created_by_contact_id <> s.closed_by_contact_id AND NOT EXISTS ("
            "  SELECT 1 FROM audit_log a WHERE a.object_type = 'contact'"
            '  AND a.object_id = s.closed_by_contact_id AND a.details LIKE \'%"others": "drop"%\')'
        )
        == 0
    ), "another contact's step replaced without the person choosing it"
    assert (
        await db.fetch_value(
            "SELECT count(*) FROM contacts t WHERE t.state = 'complete' AND NOT ("
            " (t.outcome IN ('won', 'refused', 'not_target')"
            "  AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.created_by_contact_id = t.id))"
            " OR (t.outcome IN ('scheduled', 'paused')"
            "  AND EXISTS (SELECT 1 FROM steps s WHERE s.created_by_contact_id = t.id)))"
        )
        == 0
    ), "a complete contact without its step or closure"
    assert (
        await db.fetch_value(
            "SELECT count(*) FROM contacts t WHERE t.state = 'needs_next_step' AND ("
            " EXISTS (SELECT 1 FROM steps s WHERE s.created_by_contact_id = t.id)"
            " OR (SELECT count(*) FROM reminders r WHERE r.subject = 'missing_step'"
            "     AND r.subject_id = t.id AND r.state = 'pending') <> 1)"
        )
        == 0
    ), "a pending contact without exactly one nag, or with a step"
    assert (
        await db.fetch_value(
            "SELECT count(*) FROM reminders r WHERE r.state = 'pending' AND ("
            " (r.subject = 'missing_step' AND NOT EXISTS (SELECT 1 FROM contacts t"
            "  WHERE t.id = r.subject_id AND t.state = 'needs_next_step'))"
            " OR (r.subject = 'step' AND NOT EXISTS (SELECT 1 FROM steps s"
            "  WHERE s.id = r.subject_id AND s.state = 'open')))"
        )
        == 0
    ), "a live reminder for something already resolved"
    assert (
        await db.fetch_value(
            "SELECT count(*) FROM steps s WHERE s.state = 'open' AND (SELECT count(*)"
            " FROM reminders r WHERE r.subject = 'step' AND r.subject_id = s.id"
            " AND r.state = 'pending') <> 1"
        )
        == 0
    ), "an open step without exactly one pending reminder"


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=_ACTIONS)
async def test_no_sequence_breaks_the_next_step_rules(db, clock, actions) -> None:
    """Any mix of log / schedule / pause / close / undo, with keep / replace / ask, and waiting
    keeps the rules: no complete contact without a step or closure, no step retired unless a
    contact chose it, and a reminder row for exactly what is still open."""
    # The database lives for the whole run: each example works on two fresh clients.
    actor = await users.get_user(db, MANAGER) or await make_user(db, clock, MANAGER)
    pair = [
        await client_service.create_client(db, clock, actor=actor, name=name, allow_duplicate=True)
        for name in ("One", "Two")
    ]
    logged: list[int] = []
    # Two contacts with the same client first, so the interesting collisions come early.
    for action in [("log", 0), ("log", 0), *actions]:
        name = action[0]
        pick = logged[action[1] % len(logged)] if logged and name != "wait" else None
        try:
            if name == "log":
                contact = await service.log_contact(
                    db, clock, actor=actor, client_id=pair[action[1]].id, kind="call", summary="s"
                )
                logged.append(contact.id)
            elif name == "wait":
                clock.advance(action[1] * MINUTE)
            elif pick is None:
                continue
            elif name == "schedule":
                await service.schedule_next_step(
                    db,
                    clock,
                    actor=actor,
                    contact_id=pick,
                    kind="call",
                    due_at=clock.now() + action[3] * DAY,
                    others=action[2],
                )
            elif name == "pause":
                await service.pause_until(
                    db,
                    clock,
                    actor=actor,
                    contact_id=pick,
                    until=clock.now() + 7 * DAY,
                    others=action[2],
                )
            elif name == "close":
                await service.close_contact(
                    db, clock, actor=actor, contact_id=pick, outcome=action[2], reason="why"
                )
            elif name == "undo":
                await service.undo_contact(db, clock, actor=actor, contact_id=pick)
        except DomainError as error:
            # A refusal is a legal answer; the rules below must hold either way.
            event(f"{name}: {type(error).__name__}")
        else:
            event(f"{name}: done")
        await _check_invariants(db)


async def test_nul_characters_are_dropped_from_summaries(db, clock) -> None:
    """SQLite's length() stops at NUL: such text must not reach the CHECK as is."""
    from bot.services import clients as client_service
    from bot.services import contacts as contact_service
    from tests.factories import make_user

    manager = await make_user(db, clock, 10)
    client = await client_service.create_client(db, clock, actor=manager, name="Acme")
    contact = await contact_service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="\x00\x01 hi\x00"
    )
    assert contact.summary == "\x01 hi"


async def test_a_won_deal_or_an_invoice_makes_a_prospect_active(db, clock) -> None:
    """The status follows the history: prospect → active on a won deal or a first invoice;
    an inactive client is not woken by either."""
    from bot.services.receivables import invoices as invoice_service

    manager = await make_user(db, clock, 501, Role.MANAGER)
    won = await client_service.create_client(db, clock, actor=manager, name="Won Ltd")
    billed = await client_service.create_client(db, clock, actor=manager, name="Billed Ltd")
    asleep = await client_service.create_client(
        db, clock, actor=manager, name="Asleep Ltd", status="inactive"
    )
    assert won.status.value == "prospect"
    contact = await service.log_contact(
        db, clock, actor=manager, client_id=won.id, kind="call", summary="Signed"
    )
    await service.close_contact(
        db, clock, actor=manager, contact_id=contact.id, outcome=Outcome.WON, reason=None
    )
    for client in (billed, asleep):
        await invoice_service.create_invoice(
            db,
            clock,
            actor=manager,
            client_id=client.id,
            number="INV-1",
            amount_minor=100_00,
            currency="EUR",
            due_on=dt.date(2026, 12, 31),
        )
    statuses = {
        name: (await clients.get_client(db, client.id)).status.value  # type: ignore[union-attr]
        for name, client in (("won", won), ("billed", billed), ("asleep", asleep))
    }
    assert statuses == {"won": "active", "billed": "active", "asleep": "inactive"}
