"""The demo data: a believable team and history, made through the services."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.clock import FrozenClock
from bot.devtools.demo import (
    CLIENTS,
    INVOICES,
    MANAGERS,
    PERSONAS,
    SOON,
    persona,
    seed_demo,
    team_is_empty,
)
from bot.services import agenda
from bot.services.receivables import aging as receivables
from bot.services.receivables.aging import Bucket
from storage import users
from storage.db import Database, to_db_time
from storage.users import Role


async def test_demo_team_and_history(db: Database, clock: FrozenClock) -> None:
    """Five people with the personas' ids, 40 clients, four weeks of contacts, agendas with
    upcoming and overdue steps and contacts missing a next step, and a call due soon."""
    assert await team_is_empty(db)
    summary = await seed_demo(db, clock)
    team = await users.list_users(db)
    assert {(u.telegram_id, u.role) for u in team} == {
        (p.telegram_id, p.role) for p in PERSONAS if p.role is not None
    }
    assert all(u.timezone == "Europe/Berlin" for u in team)
    assert summary.people == 5
    assert summary.clients == len(CLIENTS) == 40
    assert 120 <= summary.contacts <= 260
    first = await db.fetch_value("SELECT min(happened_at) FROM contacts")
    assert first < to_db_time(clock.now() - dt.timedelta(days=21))
    kinds = {row[0] for row in await db.fetch_all("SELECT DISTINCT kind FROM contacts")}
    assert kinds == {"call", "meeting"}
    outcomes = {row[0] for row in await db.fetch_all("SELECT DISTINCT outcome FROM contacts")}
    assert outcomes >= {"scheduled", "won", "refused", "not_target", "paused", None}
    # Contacts were logged after they happened, some of them late (the digest's discipline).
    late = await db.fetch_value(
        "SELECT count(*) FROM contacts WHERE julianday(logged_at) - julianday(happened_at) > 0.1"
    )
    assert late > 0
    assert await db.fetch_value("SELECT count(*) FROM step_events WHERE action = 'snooze'") > 0

    overdue = pending = 0
    for member in MANAGERS:
        user = await users.get_user(db, member.telegram_id)
        assert user is not None and user.role is Role.MANAGER
        seen = await agenda.build_agenda(db, user=user, now=clock.now(), days=14)
        assert seen.upcoming or seen.today
        overdue += len(seen.overdue)
        pending += len(seen.pending)
    assert overdue >= 3
    assert pending >= 2
    doubled = await db.fetch_value(
        "SELECT count(*) FROM (SELECT client_id FROM steps WHERE state = 'open' "
        "GROUP BY client_id HAVING count(*) > 1)"
    )
    assert doubled == 0

    # So that "+1 hour" on the page brings the first manager a reminder at once.
    soonest = await db.fetch_all(
        "SELECT kind, due_at FROM steps WHERE state = 'open' AND manager_id = ? AND due_at > ? "
        "ORDER BY due_at LIMIT 1",
        (persona("manager1").telegram_id, to_db_time(clock.now())),
    )
    assert tuple(soonest[0]) == ("call", to_db_time(clock.now() + SOON))


async def test_demo_receivables(db: Database, clock: FrozenClock) -> None:
    """Open invoices in every aging bucket, several currencies, payments and promises."""
    summary = await seed_demo(db, clock)
    assert summary.invoices == len(INVOICES)
    aging = await receivables.aging_buckets(db, now=clock.now())
    assert len(aging.totals) >= 4
    filled = {
        bucket for amounts in aging.totals.values() for bucket, v in amounts.buckets.items() if v
    }
    assert filled == set(Bucket)
    assert {row.id for row in aging.by_manager} == {m.telegram_id for m in MANAGERS}
    paid = await db.fetch_value("SELECT count(*) FROM invoices WHERE state = 'paid'")
    partly = await db.fetch_value(
        "SELECT count(DISTINCT invoice_id) FROM payments "
        "JOIN invoices ON invoices.id = invoice_id WHERE invoices.state = 'open'"
    )
    assert paid >= 2 and partly >= 2
    assert await db.fetch_value("SELECT count(*) FROM promises WHERE state = 'pending'") == 2


async def test_demo_at_night_and_only_once(db: Database) -> None:
    """Seeded late on a Friday, the "soon" call is due on Monday morning; never seeded twice."""
    friday_night = FrozenClock(dt.datetime(2026, 11, 27, 22, 30, tzinfo=dt.UTC))
    await seed_demo(db, friday_night)
    soonest = await db.fetch_value(
        "SELECT min(due_at) FROM steps WHERE state = 'open' AND manager_id = ? AND due_at > ?",
        (persona("manager1").telegram_id, to_db_time(friday_night.now())),
    )
    assert soonest == "2026-11-30T08:40:00Z"  # 09:40 in Berlin
    with pytest.raises(ValueError, match="already"):
        await seed_demo(db, friday_night)
    assert not await team_is_empty(db)
