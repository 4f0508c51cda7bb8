"""The inbox: updates received and not yet fully handled, kept across a crash."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from storage.db import Queries, Transaction, to_db_time


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One stored update."""

    update_id: int
    chat_id: int | None
    payload: str
    started: bool


async def last_update_id(db: Queries) -> int:
    """The newest update id ever received (0 before the first)."""
    value = await db.fetch_value("SELECT last_update_id FROM inbox_cursor WHERE id = 1")
    return int(value or 0)


async def store(
    tx: Transaction, entries: Sequence[tuple[int, int | None, str]], now: dt.datetime
) -> None:
    """Keep new updates (id, chat id, JSON) and move the cursor to the newest."""
    received = to_db_time(now)
    await tx.executemany(
        "INSERT OR IGNORE INTO inbox (update_id, chat_id, payload, received_at)"
        " VALUES (?, ?, ?, ?)",
        [(update_id, chat_id, payload, received) for update_id, chat_id, payload in entries],
    )
    await tx.execute(
        "INSERT INTO inbox_cursor (id, last_update_id) VALUES (1, ?)"
        " ON CONFLICT (id) DO UPDATE SET"
        " last_update_id = max(last_update_id, excluded.last_update_id)",
        (max(update_id for update_id, _, _ in entries),),
    )


async def mark_started(tx: Transaction, update_id: int) -> None:
    """A handler is about to act on the update: after a crash it is explained, not replayed."""
    await tx.execute("UPDATE inbox SET started = 1 WHERE update_id = ?", (update_id,))


async def remove(tx: Transaction, update_ids: Iterable[int]) -> None:
    """Forget handled updates."""
    await tx.executemany("DELETE FROM inbox WHERE update_id = ?", [(i,) for i in update_ids])


async def pending(db: Queries) -> list[InboxEntry]:
    """Every update left over, oldest first."""
    rows = await db.fetch_all(
        "SELECT update_id, chat_id, payload, started FROM inbox ORDER BY update_id"
    )
    return [
        InboxEntry(row["update_id"], row["chat_id"], row["payload"], bool(row["started"]))
        for row in rows
    ]
