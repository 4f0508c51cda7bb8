"""The agenda: pending contacts first, then overdue, today and the coming days, locally."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.services import clients as client_service
from bot.services import contacts as contact_service
from bot.services.agenda import build_agenda
from bot.views.agenda import render_agenda
from storage.users import Role
from tests.factories import make_user

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
NY = "America/New_York"


def ny(text: str) -> dt.datetime:
    """New York wall time as aware UTC."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(NY)).astimezone(dt.UTC)


async def _step_for(db, clock, actor, name: str, due: dt.datetime) -> None:
    """A client whose contact was concluded with a step due at `due`."""
    client = await client_service.create_client(db, clock, actor=actor, name=name)
    contact = await contact_service.log_contact(
        db, clock, actor=actor, client_id=client.id, kind="call", summary="s"
    )
    await contact_service.schedule_next_step(
        db, clock, actor=actor, contact_id=contact.id, kind="call", due_at=due
    )


async def test_agenda_sections_in_order(db, clock) -> None:
    """Pending first; overdue oldest first with how late; today by time; days grouped."""
    # The fixture's clock says Thu 26 Nov 2026 09:00 UTC = 04:00 in New York.
    manager = await make_user(db, clock, 10, timezone=NY)
    clock.set(ny("2026-11-20 09:00"))
    await _step_for(db, clock, manager, "Late A", ny("2026-11-24 11:00"))
    await _step_for(db, clock, manager, "Late B", ny("2026-11-21 11:00"))
    await _step_for(db, clock, manager, "Today late", ny("2026-11-26 23:30"))
    await _step_for(db, clock, manager, "Today early", ny("2026-11-26 09:00"))
    await _step_for(db, clock, manager, "Fri 1", ny("2026-11-27 00:30"))
    await _step_for(db, clock, manager, "Fri 2", ny("2026-11-27 16:00"))
    await _step_for(db, clock, manager, "Next Thu", ny("2026-12-03 23:59"))
    await _step_for(db, clock, manager, "Too far", ny("2026-12-04 00:00"))
    clock.set(ny("2026-11-26 04:00"))
    late = await client_service.create_client(db, clock, actor=manager, name="Pending")
    waiting = await contact_service.log_contact(
        db, clock, actor=manager, client_id=late.id, kind="meeting", summary="no step yet"
    )

    agenda = await build_agenda(db, user=manager, now=clock.now())
    assert agenda.today_date == dt.date(2026, 11, 26)
    assert [p.contact.id for p in agenda.pending] == [waiting.id]
    assert [(o.entry.client_name, o.overdue_by) for o in agenda.overdue] == [
        ("Late B", dt.timedelta(days=4, hours=17)),
        ("Late A", dt.timedelta(days=1, hours=17)),
    ]
    assert [e.client_name for e in agenda.today] == ["Today early", "Today late"]
    assert [(d.day, [e.client_name for e in d.entries]) for d in agenda.upcoming] == [
        (dt.date(2026, 11, 27), ["Fri 1", "Fri 2"]),
        (dt.date(2026, 12, 3), ["Next Thu"]),
    ]
    assert not agenda.is_empty

    short = await build_agenda(db, user=manager, now=clock.now(), days=1)
    assert [d.day for d in short.upcoming] == [dt.date(2026, 11, 27)]
    today_only = await build_agenda(db, user=manager, now=clock.now(), days=0)
    assert today_only.upcoming == [] and len(today_only.today) == 2
    with pytest.raises(ValueError):
        await build_agenda(db, user=manager, now=clock.now(), days=-1)


async def test_today_follows_the_users_zone(db, clock) -> None:
    """At 04:00 UTC "today" is still yesterday in New York; a DST week keeps day boundaries."""
    london = await make_user(db, clock, 10, timezone="Europe/London")
    newyork = await make_user(db, clock, 11, timezone=NY)
    clock.set(dt.datetime(2026, 10, 30, 12, 0, tzinfo=dt.UTC))
    # Due Sun 1 Nov 2026 23:30 New York (EST, after the switch) = Mon 04:30 UTC.
    await _step_for(db, clock, newyork, "NY Sunday", ny("2026-11-01 23:30"))
    await _step_for(
        db, clock, london, "London Monday", dt.datetime(2026, 11, 2, 4, 30, tzinfo=dt.UTC)
    )
    now = dt.datetime(2026, 10, 31, 3, 0, tzinfo=dt.UTC)  # Fri 30 Oct 23:00 in New York
    ny_agenda = await build_agenda(db, user=newyork, now=now)
    assert ny_agenda.today_date == dt.date(2026, 10, 30)
    assert [(d.day, d.entries[0].client_name) for d in ny_agenda.upcoming] == [
        (dt.date(2026, 11, 1), "NY Sunday")
    ]
    london_agenda = await build_agenda(db, user=london, now=now)
    assert london_agenda.today_date == dt.date(2026, 10, 31)
    assert [(d.day, d.entries[0].client_name) for d in london_agenda.upcoming] == [
        (dt.date(2026, 11, 2), "London Monday")
    ]


async def test_agenda_is_personal_for_heads_too(db, clock) -> None:
    """A head's agenda has the head's own items only; steps follow the client's owner."""
    manager = await make_user(db, clock, 10)
    head = await make_user(db, clock, 20, Role.HEAD)
    await _step_for(db, clock, manager, "Managed", clock.now() + HOUR)
    await _step_for(db, clock, head, "Key account", clock.now() + 2 * HOUR)
    client = await client_service.create_client(db, clock, actor=manager, name="Visited")
    await contact_service.log_contact(
        db, clock, actor=head, client_id=client.id, kind="visit", summary="dropped by"
    )
    head_agenda = await build_agenda(db, user=head, now=clock.now())
    assert [e.client_name for e in head_agenda.today] == ["Key account"]
    assert [p.client_name for p in head_agenda.pending] == ["Visited"]
    manager_agenda = await build_agenda(db, user=manager, now=clock.now())
    assert [e.client_name for e in manager_agenda.today] == ["Managed"]
    assert manager_agenda.pending == []
    empty = await build_agenda(db, user=await make_user(db, clock, 30), now=clock.now())
    assert empty.is_empty


async def test_done_and_replaced_steps_leave_the_agenda(db, clock) -> None:
    """Only open steps are listed: a new contact with the client takes its step off."""
    manager = await make_user(db, clock, 10)
    await _step_for(db, clock, manager, "Acme", clock.now() + HOUR)
    agenda = await build_agenda(db, user=manager, now=clock.now())
    client_id = agenda.today[0].step.client_id
    contact = await contact_service.log_contact(
        db, clock, actor=manager, client_id=client_id, kind="call", summary="called early"
    )
    await contact_service.close_contact(
        db, clock, actor=manager, contact_id=contact.id, outcome="won"
    )
    assert (await build_agenda(db, user=manager, now=clock.now() + DAY)).is_empty


async def test_an_empty_day_suggests_clients_gone_quiet(db, clock) -> None:
    """Nothing planned: up to five clients without a contact for 30+ days, quietest first."""
    manager = await make_user(db, clock, 10)
    never = await client_service.create_client(db, clock, actor=manager, name="Never called")
    called = await client_service.create_client(db, clock, actor=manager, name="Called")
    await contact_service.log_contact(
        db, clock, actor=manager, client_id=called.id, kind="call", summary="hello"
    )
    await _step_for(db, clock, manager, "Planned", clock.now() + 40 * DAY)
    clock.advance(31 * DAY)
    fresh = await client_service.create_client(db, clock, actor=manager, name="Just added")
    await contact_service.close_contact(  # the call needs its conclusion, or it is pending
        db,
        clock,
        actor=manager,
        contact_id=(await build_agenda(db, user=manager, now=clock.now())).pending[0].contact.id,
        outcome="won",
    )
    agenda = await build_agenda(db, user=manager, now=clock.now(), days=0)
    assert agenda.is_empty
    assert [q.client.id for q in agenda.gone_quiet] == [never.id, called.id]
    assert fresh.id not in [q.client.id for q in agenda.gone_quiet]


async def test_heads_morning_agenda_flags_contacts_left_without_a_step_overnight(
    db, clock
) -> None:
    """Logged yesterday (the manager's local day) and still waiting: flagged to heads only."""
    clock.set(dt.datetime(2026, 11, 26, 22, 30, tzinfo=dt.UTC))  # 17:30 in New York
    manager = await make_user(db, clock, 10, timezone=NY)
    head = await make_user(db, clock, 20, Role.HEAD, timezone="Europe/Berlin")
    client = await client_service.create_client(db, clock, actor=manager, name="Acme")
    await contact_service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="no step yet"
    )
    clock.set(dt.datetime(2026, 11, 27, 4, 30, tzinfo=dt.UTC))  # 23:30 in NY: same day
    assert (await build_agenda(db, user=head, now=clock.now())).team_unresolved == []
    clock.set(dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC))  # 03:00 in NY: the next day
    [flag] = (await build_agenda(db, user=head, now=clock.now())).team_unresolved
    assert (flag.manager_name, flag.pending.client_name) == ("User 10", "Acme")
    assert (await build_agenda(db, user=manager, now=clock.now())).team_unresolved == []
    agenda = await build_agenda(db, user=head, now=clock.now())
    text = render_agenda(agenda, head, detail=False, title="Today")
    assert "Team: left without a next step at the end of the day (1)" in text
    assert "• User 10 — Acme: call Thu 26 Nov 2026, 23:30" in text  # the head's zone
