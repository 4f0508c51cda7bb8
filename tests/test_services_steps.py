"""The step lifecycle: card, snooze, reschedule, cancel, heads-ups and stale buttons."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.services import clients as client_service
from bot.services import contacts as contact_service
from bot.services import schedule
from bot.services import steps as service
from bot.services.contacts import StepChoice
from bot.services.errors import DomainError, NotAllowed
from bot.services.steps import AlreadyHandled
from storage import audit, contacts, reminders, steps
from storage.contacts import ContactState, Outcome
from storage.reminders import Reminder, ReminderState, ReminderSubject
from storage.steps import StepState
from storage.users import Role
from tests.factories import make_user

MANAGER, OTHER, HEAD, DEPUTY = 10, 11, 20, 12
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
MOVED = "Already handled: the call with Acme was moved to"
DONE = "Already handled: the call with Acme on .* was done."


async def _setup(db, clock, *, kind: str = "call", due: dt.timedelta = DAY, timezone="UTC"):
    """A manager with a client, a logged call and a step of `kind` due after `due`."""
    manager = await make_user(db, clock, MANAGER, timezone=timezone)
    await make_user(db, clock, OTHER)
    await make_user(db, clock, HEAD, Role.HEAD)
    client = await client_service.create_client(
        db,
        clock,
        actor=manager,
        name="Acme",
        contact_person="Ivan Petrov",
        phone="+44 20 7946 0958",
        region="GB",
    )
    contact = await contact_service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="Asked for prices"
    )
    step = await contact_service.schedule_next_step(
        db,
        clock,
        actor=manager,
        contact_id=contact.id,
        kind=kind,
        due_at=clock.now() + due,
        agenda="Send the price list",
    )
    return manager, client, contact, step


async def _live(db, step_id: int) -> list[Reminder]:
    rows = await reminders.reminders_for(db, ReminderSubject.STEP, step_id)
    return [r for r in rows if r.state is ReminderState.PENDING]


async def _dues(db, step_id: int) -> list[dt.datetime]:
    return sorted(r.due_at for r in await _live(db, step_id))


# --- the card ---------------------------------------------------------------------------------


async def test_step_view_shows_client_reach_and_last_contact(db, clock) -> None:
    """Client name, contact person, E.164 phone, last summary and owner."""
    manager, _, _, step = await _setup(db, clock)
    view = await service.get_step_view(db, clock, actor=manager, step_id=step.id)
    assert view.step == step
    assert (view.client_name, view.contact_person) == ("Acme", "Ivan Petrov")
    assert view.phone == view.phone_e164 == "+442079460958"
    assert view.last_summary == "Asked for prices"
    assert view.owner == manager


async def test_step_view_access(db, clock) -> None:
    """Another manager is refused and audited; a head may look; a missing step is explained."""
    _, _, _, step = await _setup(db, clock)
    other = await _user(db, OTHER)
    with pytest.raises(NotAllowed):
        await service.get_step_view(db, clock, actor=other, step_id=step.id)
    entry = (await audit.recent_entries(db, action="access.denied"))[0]
    assert (entry.actor_id, entry.object_type, entry.object_id) == (OTHER, "step", str(step.id))
    assert entry.details == {"attempted": "step.view"}
    head = await _user(db, HEAD)
    assert (await service.get_step_view(db, clock, actor=head, step_id=step.id)).step == step
    with pytest.raises(DomainError, match="no longer exists"):
        await service.get_step_view(db, clock, actor=head, step_id=999)
    for call in (
        service.snooze_step(db, clock, actor=other, step_id=step.id, code="1h"),
        service.reschedule_step(db, clock, actor=other, step_id=step.id, due_at=clock.now() + DAY),
        service.cancel_step(db, clock, actor=other, step_id=step.id, reason="x"),
    ):
        with pytest.raises(NotAllowed):
            await call
    assert len(await audit.recent_entries(db, action="access.denied")) == 4


async def _user(db, telegram_id: int):
    from storage import users

    user = await users.get_user(db, telegram_id)
    assert user is not None
    return user


# --- heads-up ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "due", "expected"),
    [
        ("meeting", DAY, [DAY - HOUR, DAY]),
        ("visit", 3 * HOUR, [2 * HOUR, 3 * HOUR]),
        ("call", DAY, [DAY]),
        ("email", DAY, [DAY]),
        # The heads-up moment has already passed: only the due reminder.
        ("meeting", 30 * MINUTE, [30 * MINUTE]),
    ],
)
async def test_scheduling_queues_a_heads_up_for_meetings_and_visits(
    db, clock, kind, due, expected
) -> None:
    """The contact flow uses queue_step_reminders: due, plus due - 60 min for meetings."""
    _, _, _, step = await _setup(db, clock, kind=kind, due=due)
    assert await _dues(db, step.id) == [clock.now() + offset for offset in expected]


async def test_heads_up_follows_the_owners_setting(db, clock) -> None:
    """Off (0) means none; a longer heads-up is earlier; changing it re-queues open meetings."""
    manager, _, _, step = await _setup(db, clock, kind="meeting", due=DAY)
    changed = await schedule.set_heads_up(db, clock, actor=manager, minutes=180)
    assert await _dues(db, step.id) == [step.due_at - 3 * HOUR, step.due_at]
    await schedule.set_heads_up(db, clock, actor=changed, minutes=0)
    assert await _dues(db, step.id) == [step.due_at]


async def test_no_heads_up_that_quiet_hours_would_merge_with_the_due_reminder(db, clock) -> None:
    """A meeting at 08:00 with quiet hours until 08:00: a 07:00 heads-up would only arrive at
    08:00 together with the due reminder, so none is queued."""
    manager, client, _, booked = await _setup(db, clock)
    contact = await contact_service.log_contact(
        db,
        clock,
        actor=manager,
        client_id=client.id,
        kind="call",
        summary="again",
        completes=booked.id,
    )
    due = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)
    step = await contact_service.schedule_next_step(
        db, clock, actor=manager, contact_id=contact.id, kind="meeting", due_at=due
    )
    assert await _dues(db, step.id) == [due]


# --- snooze -----------------------------------------------------------------------------------


async def test_snooze_arithmetic(db, clock) -> None:
    """15 minutes and an hour from now; the counter grows; reminders are replaced."""
    manager, _, _, step = await _setup(db, clock, due=MINUTE)
    clock.advance(2 * MINUTE)  # the step is due and its reminder went out
    snoozed = await service.snooze_step(db, clock, actor=manager, step_id=step.id, code="15m")
    assert (snoozed.due_at, snoozed.snooze_count) == (clock.now() + 15 * MINUTE, 1)
    assert await _dues(db, step.id) == [snoozed.due_at]
    clock.advance(20 * MINUTE)
    again = await service.snooze_step(db, clock, actor=manager, step_id=step.id, code="1h")
    assert (again.due_at, again.snooze_count, again.revision) == (clock.now() + HOUR, 2, 2)
    assert await _dues(db, step.id) == [again.due_at]
    cancelled = [
        r
        for r in await reminders.reminders_for(db, ReminderSubject.STEP, step.id)
        if r.state is ReminderState.CANCELLED
    ]
    assert len(cancelled) == 2
    entry = (await audit.recent_entries(db, action="step.snooze"))[0]
    assert entry.details["code"] == "1h"
    assert entry.details["to"] == again.due_at.isoformat()


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        # Tomorrow at 09:00 local (the agenda time), in the person's own zone.
        ("UTC", dt.datetime(2026, 11, 26, 9, 0), dt.datetime(2026, 11, 27, 9, 0)),
        ("Asia/Tokyo", dt.datetime(2026, 11, 26, 16, 0), dt.datetime(2026, 11, 28, 0, 0)),
        # Snoozed on the Saturday before London springs forward: 09:00 BST is 08:00 UTC.
        ("Europe/London", dt.datetime(2026, 3, 28, 17, 0), dt.datetime(2026, 3, 29, 8, 0)),
        # ... and before New York falls back: 09:00 EST is 14:00 UTC.
        ("America/New_York", dt.datetime(2026, 10, 31, 20, 0), dt.datetime(2026, 11, 1, 14, 0)),
    ],
)
async def test_snooze_until_tomorrow_morning(db, clock, zone, now, expected) -> None:
    """ "Tomorrow" is the next local day at the person's agenda time, DST included (for a
    person who works every day)."""
    clock.set(now.replace(tzinfo=dt.UTC) - 2 * MINUTE)
    manager, _, _, step = await _setup(db, clock, due=MINUTE, timezone=zone)
    manager = await schedule.set_working_days(db, clock, actor=manager, days=set(range(1, 8)))
    clock.set(now.replace(tzinfo=dt.UTC))
    snoozed = await service.snooze_step(db, clock, actor=manager, step_id=step.id, code="tomorrow")
    assert snoozed.due_at == expected.replace(tzinfo=dt.UTC)


async def test_snooze_until_tomorrow_skips_days_off(db, clock) -> None:
    """Snoozed "tomorrow" on a Friday (Monday to Friday worked): Monday 09:00."""
    clock.set(dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC) - 2 * MINUTE)
    manager, _, _, step = await _setup(db, clock, due=MINUTE)
    clock.set(dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC))
    snoozed = await service.snooze_step(db, clock, actor=manager, step_id=step.id, code="tomorrow")
    assert snoozed.due_at == dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


async def test_snooze_uses_the_agenda_time_setting(db, clock) -> None:
    """With the agenda at 07:30, tomorrow morning is 07:30."""
    manager, _, _, step = await _setup(db, clock, due=MINUTE)
    manager = await schedule.set_agenda_time(db, clock, actor=manager, text="7:30")
    clock.advance(2 * MINUTE)
    snoozed = await service.snooze_step(db, clock, actor=manager, step_id=step.id, code="tomorrow")
    assert snoozed.due_at == dt.datetime(2026, 11, 27, 7, 30, tzinfo=dt.UTC)


async def test_snooze_refuses_to_bring_a_step_forward_and_unknown_codes(db, clock) -> None:
    """A heads-up snoozed by 15 minutes would move the meeting earlier: refused, unchanged."""
    manager, _, _, step = await _setup(db, clock, kind="meeting", due=DAY)
    with pytest.raises(DomainError, match="Use Reschedule"):
        await service.snooze_step(db, clock, actor=manager, step_id=step.id, code="15m")
    with pytest.raises(DomainError, match="no longer available"):
        await service.snooze_step(db, clock, actor=manager, step_id=step.id, code="2d")
    assert await steps.get_step(db, step.id) == step


async def test_snoozing_a_meeting_queues_its_heads_up_again(db, clock) -> None:
    """Snoozed to tomorrow 09:00, a meeting gets a heads-up at 08:00 (outside quiet hours)."""
    manager, _, _, step = await _setup(db, clock, kind="meeting", due=MINUTE)
    clock.advance(2 * MINUTE)
    snoozed = await service.snooze_step(db, clock, actor=manager, step_id=step.id, code="tomorrow")
    assert await _dues(db, step.id) == [snoozed.due_at - HOUR, snoozed.due_at]


# --- reschedule -------------------------------------------------------------------------------


async def test_reschedule(db, clock) -> None:
    """Validated like scheduling; counted; reminders replaced; the same time is a no-op."""
    manager, _, _, step = await _setup(db, clock, kind="visit")
    for due, message in [(clock.now() - MINUTE, "past"), (clock.now() + 400 * DAY, "year")]:
        with pytest.raises(DomainError, match=message):
            await service.reschedule_step(db, clock, actor=manager, step_id=step.id, due_at=due)
    new_due = clock.now() + 3 * DAY
    moved = await service.reschedule_step(
        db, clock, actor=manager, step_id=step.id, due_at=new_due
    )
    assert (moved.due_at, moved.reschedule_count, moved.snooze_count) == (new_due, 1, 0)
    assert await _dues(db, step.id) == [new_due - HOUR, new_due]
    same = await service.reschedule_step(db, clock, actor=manager, step_id=step.id, due_at=new_due)
    assert same == moved
    assert len(await audit.recent_entries(db, action="step.reschedule")) == 1


# --- stale buttons ----------------------------------------------------------------------------


async def test_stale_buttons_answer_already_handled(db, clock) -> None:
    """A done, cancelled or replaced step, or a moved one when the button carries its
    revision: AlreadyHandled, and nothing changes."""
    manager, client, _, step = await _setup(db, clock)
    # Moved since the button was shown (revision 0 -> 1).
    await service.reschedule_step(
        db, clock, actor=manager, step_id=step.id, due_at=clock.now() + 2 * DAY
    )
    with pytest.raises(AlreadyHandled, match=MOVED):
        await service.snooze_step(
            db, clock, actor=manager, step_id=step.id, code="tomorrow", revision=0
        )
    moved = await steps.get_step(db, step.id)
    assert moved is not None
    with pytest.raises(AlreadyHandled):
        service.require_open(moved, revision=0)
    assert service.require_open(moved, revision=1) == moved
    # Done: logging a new contact that completes it.
    await contact_service.log_contact(
        db,
        clock,
        actor=manager,
        client_id=client.id,
        kind="call",
        summary="done",
        completes=step.id,
    )
    for call in (
        service.snooze_step(db, clock, actor=manager, step_id=step.id, code="1h"),
        service.reschedule_step(
            db, clock, actor=manager, step_id=step.id, due_at=clock.now() + DAY
        ),
        service.cancel_step(db, clock, actor=manager, step_id=step.id, reason="no"),
    ):
        with pytest.raises(AlreadyHandled, match=DONE):
            await call
    done = await steps.get_step(db, step.id)
    assert done is not None and done.state is StepState.DONE and done.revision == 1
    view = await service.get_step_view(db, clock, actor=manager, step_id=step.id)
    with pytest.raises(AlreadyHandled):
        service.require_open(view.step)


# --- cancel -----------------------------------------------------------------------------------


async def test_cancel_sends_the_contact_back_to_needs_next_step(db, clock) -> None:
    """The step is cancelled with its reason, its reminders too; the contact that set it
    waits for a new step or a closure again, with a nag queued."""
    manager, _, contact, step = await _setup(db, clock, kind="meeting")
    for reason in ("", "   ", "x" * 501):
        with pytest.raises(DomainError, match="1 to 500"):
            await service.cancel_step(db, clock, actor=manager, step_id=step.id, reason=reason)
    contact_id = await service.cancel_step(
        db, clock, actor=manager, step_id=step.id, reason="  Client on holiday "
    )
    assert contact_id == contact.id
    cancelled = await steps.get_step(db, step.id)
    assert cancelled is not None
    assert (cancelled.state, cancelled.cancel_reason) == (StepState.CANCELLED, "Client on holiday")
    assert await _live(db, step.id) == []
    reopened = await contacts.get_contact(db, contact.id)
    assert reopened is not None
    assert (reopened.state, reopened.outcome, reopened.resolved_at) == (
        ContactState.NEEDS_NEXT_STEP,
        None,
        None,
    )
    nag = await reminders.reminders_for(db, ReminderSubject.MISSING_STEP, contact.id)
    assert [(r.state, r.due_at) for r in nag if r.state is ReminderState.PENDING] == [
        (ReminderState.PENDING, clock.now() + 15 * MINUTE)
    ]
    # The existing next-step flow takes it from here.
    new = await contact_service.schedule_next_step(
        db, clock, actor=manager, contact_id=contact.id, kind="call", due_at=clock.now() + DAY
    )
    assert new.created_by_contact_id == contact.id
    entry = (await audit.recent_entries(db, action="step.cancel"))[0]
    assert entry.details["reopened"] is True and entry.details["reason"] == "Client on holiday"


async def test_cancel_reopens_the_latest_contact_when_the_step_came_from_an_older_one(
    db, clock
) -> None:
    """An older pending contact may replace the step of a later one; cancelling that step
    reopens the later (latest) contact, whose closure the audit entry keeps."""
    manager, client, first, step = await _setup(db, clock)
    clock.advance(MINUTE)
    older = await contact_service.log_contact(
        db,
        clock,
        actor=manager,
        client_id=client.id,
        kind="email",
        summary="older",
        happened_at=clock.now() - 2 * DAY,
        completes=step.id,
    )
    clock.advance(MINUTE)
    latest = await contact_service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="meeting", summary="latest"
    )
    await contact_service.schedule_next_step(
        db, clock, actor=manager, contact_id=latest.id, kind="call", due_at=clock.now() + DAY
    )
    from_older = await contact_service.schedule_next_step(
        db,
        clock,
        actor=manager,
        contact_id=older.id,
        kind="call",
        due_at=clock.now() + DAY + dt.timedelta(hours=1),
        others=StepChoice.DROP,
    )
    contact_id = await service.cancel_step(
        db, clock, actor=manager, step_id=from_older.id, reason="wrong"
    )
    assert contact_id == latest.id
    reopened = await contacts.get_contact(db, latest.id)
    untouched = await contacts.get_contact(db, older.id)
    assert reopened is not None and reopened.state is ContactState.NEEDS_NEXT_STEP
    assert untouched is not None and untouched.outcome is Outcome.SCHEDULED
    entry = (await audit.recent_entries(db, action="step.cancel"))[0]
    assert entry.details["previous_outcome"] == "scheduled"
    assert entry.details["created_by"] == older.id
    assert first.id != latest.id and step.state is StepState.OPEN


async def test_cancel_when_the_latest_contact_already_waits(db, clock) -> None:
    """The latest contact still needs its next step: it is returned as it is."""
    manager, client, _, booked = await _setup(db, clock)
    first_pending = await contact_service.log_contact(
        db,
        clock,
        actor=manager,
        client_id=client.id,
        kind="call",
        summary="a",
        completes=booked.id,
    )
    clock.advance(MINUTE)
    waiting = await contact_service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="b"
    )
    step = await contact_service.schedule_next_step(
        db,
        clock,
        actor=manager,
        contact_id=first_pending.id,
        kind="call",
        due_at=clock.now() + DAY,
    )
    nags_before = await reminders.reminders_for(db, ReminderSubject.MISSING_STEP, waiting.id)
    contact_id = await service.cancel_step(db, clock, actor=manager, step_id=step.id, reason="no")
    assert contact_id == waiting.id
    assert (
        await reminders.reminders_for(db, ReminderSubject.MISSING_STEP, waiting.id) == nags_before
    )


# --- counters for the digest ----------------------------------------------------------------


async def test_snooze_stats(db, clock) -> None:
    """Per person and period: snoozes, reschedules, cancellations, steps, the worst step."""
    manager, client, _, step = await _setup(db, clock, due=MINUTE)
    since = clock.now()
    clock.advance(2 * MINUTE)
    for _ in range(3):
        step = await service.snooze_step(db, clock, actor=manager, step_id=step.id, code="15m")
        clock.advance(16 * MINUTE)
    await service.reschedule_step(
        db, clock, actor=manager, step_id=step.id, due_at=clock.now() + DAY
    )
    await service.cancel_step(db, clock, actor=manager, step_id=step.id, reason="dead")
    stats = await steps.snooze_stats(db, MANAGER, since)
    assert (stats.snoozes, stats.reschedules, stats.cancellations, stats.steps) == (3, 1, 1, 1)
    assert stats.worst == (step.id, 3)
    later = await steps.snooze_stats(db, MANAGER, clock.now() + MINUTE)
    assert (later.snoozes, later.steps, later.worst) == (0, 0, None)
    assert (await steps.snooze_stats(db, OTHER, since)).snoozes == 0
    window = await steps.snooze_stats(db, MANAGER, since, since + 20 * MINUTE)
    assert window.snoozes == 2  # at +2 and +18 minutes; the third came at +34
    assert client.owner_id == MANAGER


async def test_undo_removes_step_events_and_restores_heads_up(db, clock) -> None:
    """Undoing the contact that completed a meeting step revives both of its reminders;
    undoing a contact whose step was snoozed deletes the step with its events."""
    manager, client, _, step = await _setup(db, clock, kind="meeting", due=DAY)
    done_by = await contact_service.log_contact(
        db,
        clock,
        actor=manager,
        client_id=client.id,
        kind="meeting",
        summary="met early",
        completes=step.id,
    )
    assert await _dues(db, step.id) == []
    await contact_service.undo_contact(db, clock, actor=manager, contact_id=done_by.id)
    assert await _dues(db, step.id) == [step.due_at - HOUR, step.due_at]
    # A fresh contact with a snoozed step, undone within 10 minutes.
    again = await contact_service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="x", completes=step.id
    )
    own = await contact_service.schedule_next_step(
        db, clock, actor=manager, contact_id=again.id, kind="call", due_at=clock.now() + MINUTE
    )
    clock.advance(2 * MINUTE)
    await service.snooze_step(db, clock, actor=manager, step_id=own.id, code="1h")
    await contact_service.undo_contact(db, clock, actor=manager, contact_id=again.id)
    assert await steps.get_step(db, own.id) is None
    assert (
        await db.fetch_value("SELECT count(*) FROM step_events WHERE step_id = ?", (own.id,)) == 0
    )
