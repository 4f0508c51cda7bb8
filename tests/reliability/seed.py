"""A team for the reliability runs, written through the real services before the bot starts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from bot.clock import Clock
from bot.services import clients, contacts
from storage import users
from storage.db import Database
from storage.users import Role
from tests.factories import make_user

NO_QUIET = dt.time(0, 0)


@dataclass(frozen=True)
class SeededManager:
    """A manager with a client to log with and a client whose step falls due during the run."""

    telegram_id: int
    work_client: str
    due_client: str
    due_step_id: int
    due_reminder_id: int  # the step's reminder at its due time
    due_at: dt.datetime


async def seed_managers(
    db: Database,
    clock: Clock,
    telegram_ids: list[int],
    due_at: Callable[[int], dt.datetime],
) -> dict[int, SeededManager]:
    """Managers (quiet hours off) with two clients each; `due_at(id)` dates the due step."""
    seeded: dict[int, SeededManager] = {}
    for telegram_id in telegram_ids:
        manager = await make_user(db, clock, telegram_id, Role.MANAGER, name=f"M{telegram_id}")
        async with db.transaction() as tx:
            await users.update_prefs(
                tx, telegram_id, now=clock.now(), quiet_from=NO_QUIET, quiet_to=NO_QUIET
            )
        work = f"Acme {telegram_id}"
        due_name = f"Due {telegram_id}"
        await clients.create_client(db, clock, actor=manager, name=work, contact_person="Ivan")
        due_client = await clients.create_client(
            db, clock, actor=manager, name=due_name, contact_person="Olga"
        )
        contact = await contacts.log_contact(
            db, clock, actor=manager, client_id=due_client.id, kind="call", summary="Intro call"
        )
        when = due_at(telegram_id)
        await contacts.schedule_next_step(
            db,
            clock,
            actor=manager,
            contact_id=contact.id,
            kind="call",
            due_at=when,
            agenda="Send the offer",
        )
        step_id = await db.fetch_value(
            "SELECT id FROM steps WHERE client_id = ? AND state = 'open'", (due_client.id,)
        )
        reminder_id = await db.fetch_value(
            "SELECT min(id) FROM reminders WHERE subject = 'step' AND subject_id = ?", (step_id,)
        )
        seeded[telegram_id] = SeededManager(
            telegram_id, work, due_name, int(step_id), int(reminder_id), when
        )
    return seeded
