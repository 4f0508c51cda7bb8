"""The inbox: updates received and not yet handled, kept across a crash."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from storage.db import Queries, Transaction, to_db_time


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One stored update."""

    update_id: int
    chat_id: int | None
    payload: str
    started: bool


async def store_new(
    tx: Transaction, entries: Iterable[tuple[int, int | None, str]], now: dt.datetime
) -> set[int]:
    """Keep updates (id, chat id, JSON) not seen before; returns the ids of those.

    Update ids are only compared for equality: after a week without updates Telegram starts
    them again at a random number.
    """
    received = to_db_time(now)
    new: set[int] = set()
    for update_id, chat_id, payload in entries:
        cursor = await tx.execute(
            "INSERT OR IGNORE INTO inbox (update_id, chat_id, payload, received_at)"
            " VALUES (?, ?, ?, ?)",
            (update_id, chat_id, payload, received),
        )
        if cursor.rowcount:
            new.add(update_id)
    return new


async def mark_started(tx: Transaction, update_id: int) -> None:
    """A handler is about to act on the update: after a crash it is explained, not replayed."""
    await tx.execute("UPDATE inbox SET started = 1 WHERE update_id = ?", (update_id,))


async def mark_done(tx: Transaction, update_ids: Iterable[int]) -> None:
    """Handled: kept a day only to recognise a re-sent copy."""
    await tx.executemany(
        "UPDATE inbox SET done = 1, payload = '' WHERE update_id = ?", [(i,) for i in update_ids]
    )


async def purge(tx: Transaction, received_before: dt.datetime) -> None:
    """Forget handled updates received before the given moment."""
    await tx.execute(
        "DELETE FROM inbox WHERE done = 1 AND received_at < ?", (to_db_time(received_before),)
    )


async def pending(db: Queries) -> list[InboxEntry]:
    """Every update not yet handled, oldest first."""
    rows = await db.fetch_all(
        "SELECT update_id, chat_id, payload, started FROM inbox WHERE done = 0 ORDER BY update_id"
    )
    return [
        InboxEntry(row["update_id"], row["chat_id"], row["payload"], bool(row["started"]))
        for row in rows
    ]
