"""The sweep's side without Telegram: what is claimed, for whom, grouped, held or dropped."""

from __future__ import annotations

import datetime as dt

from bot.services import clients as client_service
from bot.services import contacts as contact_service
from bot.services import reminders as service
from bot.services import schedule, team
from storage import audit, reminders
from storage.reminders import ReminderState, ReminderSubject
from storage.users import Role, User
from tests.factories import make_user

MANAGER, DEPUTY, ADMIN = 10, 11, 1
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


async def _step(db, clock, manager: User, name: str, due: dt.timedelta = HOUR) -> int:
    """A client of `manager` with a call logged and a call due after `due`; the step's id."""
    client = await client_service.create_client(db, clock, actor=manager, name=name)
    contact = await contact_service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="Talked"
    )
    step = await contact_service.schedule_next_step(
        db, clock, actor=manager, contact_id=contact.id, kind="call", due_at=clock.now() + due
    )
    return step.id


async def _states(db, step_id: int) -> list[ReminderState]:
    return [r.state for r in await reminders.reminders_for(db, ReminderSubject.STEP, step_id)]


async def test_nothing_is_claimed_before_it_is_due(db, clock) -> None:
    manager = await make_user(db, clock, MANAGER)
    await _step(db, clock, manager, "Acme")
    clock.advance(HOUR - MINUTE)
    assert await service.claim_due_notices(db, clock) == []


async def test_several_due_steps_make_one_notice_per_person(db, clock) -> None:
    manager = await make_user(db, clock, MANAGER)
    other = await make_user(db, clock, DEPUTY)
    ids = [await _step(db, clock, manager, name) for name in ("Acme", "Beta", "Gamma")]
    await _step(db, clock, other, "Delta")
    clock.advance(HOUR)
    notices = {n.user.telegram_id: n for n in await service.claim_due_notices(db, clock)}
    assert sorted(notices) == [MANAGER, DEPUTY]
    assert [item.view.client_name for item in notices[MANAGER].steps] == ["Acme", "Beta", "Gamma"]
    assert all(not item.heads_up and item.away_owner is None for item in notices[MANAGER].steps)
    assert [await _states(db, i) for i in ids] == [[ReminderState.SENDING]] * 3
    # Claimed rows are not claimed twice, however often the sweep runs.
    assert await service.claim_due_notices(db, clock) == []
    await service.record_delivery(db, clock, notices[MANAGER], message_id=5)
    assert [await _states(db, i) for i in ids] == [[ReminderState.SENT]] * 3


async def test_quiet_hours_postpone_to_their_end(db, clock) -> None:
    clock.set(dt.datetime(2026, 11, 26, 20, 0, tzinfo=dt.UTC))
    manager = await make_user(db, clock, MANAGER, timezone="Europe/Berlin")  # 21:00 local
    step_id = await _step(db, clock, manager, "Acme", due=30 * MINUTE)
    clock.advance(30 * MINUTE)
    assert await service.claim_due_notices(db, clock) == []
    [row] = await reminders.reminders_for(db, ReminderSubject.STEP, step_id)
    assert (row.state, row.due_at) == (
        ReminderState.PENDING,
        dt.datetime(2026, 11, 27, 7, 0, tzinfo=dt.UTC),  # 08:00 in Berlin
    )


async def test_away_manager_reminders_go_to_the_deputy_marked_as_such(db, clock) -> None:
    manager = await make_user(db, clock, MANAGER)
    await make_user(db, clock, DEPUTY)
    await _step(db, clock, manager, "Acme")
    await schedule.set_away(
        db, clock, actor=manager, until=clock.now() + 3 * 24 * HOUR, deputy_id=DEPUTY
    )
    clock.advance(HOUR)
    [notice] = await service.claim_due_notices(db, clock)
    assert notice.user.telegram_id == DEPUTY
    assert notice.steps[0].away_owner is not None
    assert notice.steps[0].away_owner.telegram_id == MANAGER


async def test_away_without_deputy_waits_for_the_return(db, clock) -> None:
    manager = await make_user(db, clock, MANAGER)
    step_id = await _step(db, clock, manager, "Acme")
    until = clock.now() + 2 * 24 * HOUR
    away = await schedule.set_away(db, clock, actor=manager, until=until)
    clock.advance(HOUR)
    assert await service.claim_due_notices(db, clock) == []
    [row] = await reminders.reminders_for(db, ReminderSubject.STEP, step_id)
    assert (row.state, row.due_at) == (ReminderState.PENDING, away.away_until)


async def test_an_agenda_never_goes_to_a_deputy(db, clock) -> None:
    """An agenda queued before the manager went away is skipped; the next follows the return."""
    await make_user(db, clock, MANAGER)
    await make_user(db, clock, DEPUTY)
    async with db.transaction() as tx:
        agenda_id = await reminders.insert_reminder(
            tx,
            user_id=MANAGER,
            subject=ReminderSubject.AGENDA,
            subject_id=None,
            due_at=clock.now() + MINUTE,
            now=clock.now(),
        )
        # Away set behind the service's back, as if the row had been queued just before.
        await tx.execute(
            "UPDATE users SET away_until = ?, deputy_id = ? WHERE telegram_id = ?",
            ("2026-12-01T00:00:00Z", DEPUTY, MANAGER),
        )
    clock.advance(MINUTE)
    assert await service.claim_due_notices(db, clock) == []
    rows = await reminders.live_for_user(db, MANAGER, ReminderSubject.AGENDA)
    assert [(r.id == agenda_id, r.due_at) for r in rows] == [
        (False, dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC))
    ]
    assert await reminders.live_for_user(db, DEPUTY, ReminderSubject.AGENDA) == []


async def test_done_steps_and_deactivated_people_are_dropped(db, clock) -> None:
    admin = await make_user(db, clock, ADMIN, Role.ADMIN)
    manager = await make_user(db, clock, MANAGER)
    leaver = await make_user(db, clock, DEPUTY)
    done = await _step(db, clock, manager, "Acme")
    gone = await _step(db, clock, leaver, "Beta")
    await contact_service.log_contact(  # completes the step; its own next step is missing
        db, clock, actor=manager, client_id=1, kind="call", summary="Done early"
    )
    await team.set_active(db, clock, actor=admin, target_id=DEPUTY, active=False)
    clock.advance(HOUR)
    [notice] = await service.claim_due_notices(db, clock)
    assert (notice.user.telegram_id, notice.steps, len(notice.missing_steps)) == (MANAGER, [], 1)
    assert await _states(db, done) == [ReminderState.CANCELLED]
    assert await _states(db, gone) == [ReminderState.CANCELLED]


async def test_unreachable_people_keep_theirs_until_they_come_back(db, clock) -> None:
    manager = await make_user(db, clock, MANAGER)
    step_id = await _step(db, clock, manager, "Acme")
    await schedule.ensure_agenda_reminder(db, manager, clock.now())
    await team.set_reachable(db, clock, MANAGER, reachable=False)
    clock.advance(24 * HOUR)  # the step and Friday's agenda fall due while blocked
    assert await service.claim_due_notices(db, clock) == []
    assert await _states(db, step_id) == [ReminderState.HELD]
    clock.advance(HOUR)
    await team.set_reachable(db, clock, MANAGER, reachable=True)
    [notice] = await service.claim_due_notices(db, clock)
    assert [item.view.client_name for item in notice.steps] == ["Acme"]
    assert notice.agenda is None  # yesterday's plan is not sent late; the next one is queued
    [agenda] = await reminders.live_for_user(db, MANAGER, ReminderSubject.AGENDA)
    assert (agenda.state, agenda.due_at) == (
        ReminderState.PENDING,
        dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC),
    )
    [entry] = await audit.recent_entries(db, action="user.reachable")
    assert entry.details == {"released": 1}


async def test_failures_back_off_and_a_crash_is_recovered(db, clock) -> None:
    manager = await make_user(db, clock, MANAGER)
    step_id = await _step(db, clock, manager, "Acme")
    clock.advance(HOUR)
    [notice] = await service.claim_due_notices(db, clock)
    await service.record_failure(db, clock, notice)
    [row] = await reminders.reminders_for(db, ReminderSubject.STEP, step_id)
    assert (row.state, row.attempts, row.due_at) == (
        ReminderState.PENDING,
        1,
        clock.now() + dt.timedelta(seconds=30),
    )
    clock.advance(dt.timedelta(seconds=30))
    [notice] = await service.claim_due_notices(db, clock)
    # The process dies here, mid-send; at start-up the row is due again at once.
    assert await service.recover_interrupted(db) == 1
    assert await _states(db, step_id) == [ReminderState.PENDING]
    [again] = await service.claim_due_notices(db, clock)
    assert again.reminder_ids == notice.reminder_ids


async def test_timezone_change_moves_the_morning_agenda(db, clock) -> None:
    manager = await make_user(db, clock, MANAGER)
    await schedule.ensure_agenda_reminder(db, manager, clock.now())
    await team.set_timezone(db, clock, actor=manager, timezone="America/New_York")
    [agenda] = await reminders.live_for_user(db, MANAGER, ReminderSubject.AGENDA)
    assert agenda.due_at == dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)  # 09:00 EST


async def test_heads_see_who_is_away_and_what_falls_due_meanwhile(db, clock) -> None:
    manager = await make_user(db, clock, MANAGER)
    covered = await make_user(db, clock, DEPUTY)
    await make_user(db, clock, 12)
    await _step(db, clock, manager, "Acme", due=24 * HOUR)
    await _step(db, clock, manager, "Beta", due=10 * 24 * HOUR)  # after the return
    await schedule.set_away(db, clock, actor=manager, until=clock.now() + 3 * 24 * HOUR)
    await schedule.set_away(db, clock, actor=covered, until=clock.now() + 24 * HOUR, deputy_id=12)
    people = await team.list_team(db, actor=await make_user(db, clock, 20, Role.HEAD))
    notes = await team.away_notes(db, people, clock.now())
    assert sorted(notes) == [MANAGER, DEPUTY]
    assert [e.client_name for e in notes[MANAGER].due_meanwhile] == ["Acme"]
    assert notes[MANAGER].deputy is None
    assert notes[DEPUTY].deputy is not None and notes[DEPUTY].deputy.telegram_id == 12
    assert notes[DEPUTY].due_meanwhile == []


async def test_a_heads_up_and_its_due_reminder_together_make_one_entry(db, clock) -> None:
    manager = await make_user(db, clock, MANAGER)
    client = await client_service.create_client(db, clock, actor=manager, name="Acme")
    contact = await contact_service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="Talked"
    )
    await contact_service.schedule_next_step(
        db,
        clock,
        actor=manager,
        contact_id=contact.id,
        kind="meeting",
        due_at=clock.now() + 2 * HOUR,
    )
    clock.advance(3 * HOUR)  # the bot was down through both
    [notice] = await service.claim_due_notices(db, clock)
    assert [(i.view.client_name, i.heads_up) for i in notice.steps] == [("Acme", False)]
    assert len(notice.reminder_ids) == 2


async def test_offline_only_when_the_bot_was_down_at_their_due_time(db, clock) -> None:
    """Four steps that fell due an hour ago while the bot was down are "while I was offline";
    four made already overdue (a fresh install's demo data) are not."""
    manager = await make_user(db, clock, MANAGER)
    other = await make_user(db, clock, DEPUTY)
    for name in ("Acme", "Beta", "Gamma", "Delta"):
        await _step(db, clock, manager, name)
    clock.advance(2 * HOUR)  # the bot was down when they fell due
    for name in ("Epsilon", "Zeta", "Eta", "Theta"):
        step_id = await _step(db, clock, other, name, due=MINUTE)
        async with db.transaction() as tx:  # made due in the past, as demo data is
            await tx.execute(
                "UPDATE reminders SET due_at = ? WHERE subject_id = ?",
                ((clock.now() - HOUR).strftime("%Y-%m-%dT%H:%M:%SZ"), step_id),
            )
    notices = {n.user.telegram_id: n for n in await service.claim_due_notices(db, clock)}
    assert notices[MANAGER].offline
    assert not notices[DEPUTY].offline
