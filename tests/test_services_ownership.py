"""Who may act on a client: owners, heads and admins, and a deputy while the owner is away."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.services import clients as client_service
from bot.services import contacts as contact_service
from bot.services import ownership, schedule
from bot.services import steps as step_service
from bot.services.errors import NotAllowed
from storage import audit, users
from storage.users import Role
from tests.factories import make_user

MANAGER, DEPUTY, OTHER, HEAD = 10, 11, 12, 20
DAY = dt.timedelta(days=1)


async def _team(db, clock):
    manager = await make_user(db, clock, MANAGER)
    deputy = await make_user(db, clock, DEPUTY)
    other = await make_user(db, clock, OTHER)
    head = await make_user(db, clock, HEAD, Role.HEAD)
    client = await client_service.create_client(db, clock, actor=manager, name="Acme")
    return manager, deputy, other, head, client


async def test_plain_rules_are_unchanged(db, clock) -> None:
    """Owners and leads yes, other managers and the deactivated no."""
    manager, deputy, _, head, client = await _team(db, clock)
    assert ownership.may_act_on(manager, client.owner_id)
    assert ownership.may_act_on(head, client.owner_id)
    assert not ownership.may_act_on(deputy, client.owner_id)
    now = clock.now()
    assert await ownership.may_act_on_client(db, manager, MANAGER, now=now)
    assert await ownership.may_act_on_client(db, head, MANAGER, now=now)
    assert not await ownership.may_act_on_client(db, deputy, MANAGER, now=now)
    with pytest.raises(NotAllowed):
        await ownership.require_client(db, clock, actor=deputy, client_id=client.id, attempted="x")
    assert (await audit.recent_entries(db, action="access.denied"))[0].actor_id == DEPUTY


async def test_deputy_acts_on_the_away_managers_clients_until_the_return(db, clock) -> None:
    """Only the named deputy, only while away; a log by the deputy completes the step and the
    deputy can snooze the away manager's step."""
    manager, deputy, other, _, client = await _team(db, clock)
    contact = await contact_service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="hi"
    )
    step = await contact_service.schedule_next_step(
        db, clock, actor=manager, contact_id=contact.id, kind="call", due_at=clock.now() + DAY
    )
    until = clock.now() + 3 * DAY
    await schedule.set_away(db, clock, actor=manager, until=until, deputy_id=DEPUTY)
    now = clock.now()
    assert await ownership.may_act_on_client(db, deputy, MANAGER, now=now)
    assert not await ownership.may_act_on_client(db, other, MANAGER, now=now)
    card = await ownership.require_client(
        db, clock, actor=deputy, client_id=client.id, attempted="card"
    )
    assert card.id == client.id
    view = await step_service.get_step_view(db, clock, actor=deputy, step_id=step.id)
    assert view.owner is not None and view.owner.telegram_id == MANAGER
    clock.advance(DAY + dt.timedelta(minutes=1))
    snoozed = await step_service.snooze_step(db, clock, actor=deputy, step_id=step.id, code="1h")
    assert snoozed.manager_id == MANAGER  # still the owner's step and reminders
    logged = await contact_service.log_contact(
        db, clock, actor=deputy, client_id=client.id, kind="call", summary="covered"
    )
    assert logged.manager_id == DEPUTY
    # Back: the right ends by itself.
    clock.set(until)
    assert not await ownership.may_act_on_client(db, deputy, MANAGER, now=clock.now())
    with pytest.raises(NotAllowed):
        await step_service.get_step_view(db, clock, actor=deputy, step_id=step.id)


async def test_deputy_rights_end_with_deactivation(db, clock) -> None:
    """A deactivated away manager's clients are nobody's to cover; a deactivated deputy
    covers nobody."""
    manager, deputy, _, _, _ = await _team(db, clock)
    await schedule.set_away(db, clock, actor=manager, until=clock.now() + DAY, deputy_id=DEPUTY)
    now = clock.now()
    async with db.transaction() as tx:
        await users.update_user(tx, DEPUTY, now=now, active=False)
    gone = await users.get_user(db, DEPUTY)
    assert gone is not None
    assert not await ownership.may_act_on_client(db, gone, MANAGER, now=now)
    async with db.transaction() as tx:
        await users.update_user(tx, DEPUTY, now=now, active=True)
        await users.update_user(tx, MANAGER, now=now, active=False)
    assert not await ownership.may_act_on_client(db, deputy, MANAGER, now=now)
