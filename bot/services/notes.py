"""A client's notes: dated lines appended one at a time, and a quick correction of the last."""

from __future__ import annotations

import datetime as dt

from bot.clock import Clock
from bot.services import clients
from bot.services.errors import DomainError
from bot.services.ownership import require_client
from bot.timefmt import local_time
from storage.clients import Client
from storage.db import Database
from storage.users import User

CORRECTION_WINDOW = dt.timedelta(minutes=10)
"""How long after adding a note an edit of the message that carried it is applied."""


def _clean(note: str) -> str:
    text = note.replace("\x00", "").strip()
    if not text:
        raise DomainError("The note is empty. Please type it.")
    return text


def _fitting(client: Client, notes: str, note: str) -> str:
    if len(notes) > clients.MAX_NOTES:
        room = clients.MAX_NOTES - len(notes) + len(note)
        raise DomainError(
            f"The notes can hold {clients.MAX_NOTES} characters and this note doesn't fit "
            f"({max(room, 0)} left). Send a shorter note."
        )
    return notes


async def add_note(
    db: Database, clock: Clock, *, actor: User, client_id: int, note: str
) -> tuple[Client, str]:
    """Append `note` as a line dated today in the person's zone; returns the client and line."""
    text = _clean(note)
    client = await require_client(
        db, clock, actor=actor, client_id=client_id, attempted="client.update"
    )
    day = local_time(clock.now(), actor.timezone).date().isoformat()
    line = f"{day}: {text}"
    notes = _fitting(client, f"{client.notes}\n{line}" if client.notes else line, text)
    updated = await clients.update_client(db, clock, actor=actor, client_id=client_id, notes=notes)
    return updated, line


async def correct_note(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    client_id: int,
    line: str,
    note: str,
    noted_at: dt.datetime,
) -> tuple[Client, str]:
    """Replace the line added at `noted_at` with the corrected note (within 10 minutes)."""
    text = _clean(note)
    if clock.now() - noted_at > CORRECTION_WINDOW:
        raise DomainError("A note can be corrected by editing it within 10 minutes of adding it.")
    client = await require_client(
        db, clock, actor=actor, client_id=client_id, attempted="client.update"
    )
    lines = (client.notes or "").split("\n")
    if line not in lines:
        raise DomainError("That note has changed since. Open the client's notes to see them.")
    day = line.split(": ", 1)[0]
    new_line = f"{day}: {text}"
    index = len(lines) - 1 - lines[::-1].index(line)
    lines[index] = new_line
    notes = _fitting(client, "\n".join(lines), text)
    updated = await clients.update_client(db, clock, actor=actor, client_id=client_id, notes=notes)
    return updated, new_line
