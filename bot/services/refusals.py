"""Refused button presses go to the audit log: forged or stale callback data leaves a trace."""

from __future__ import annotations

import logging
import sqlite3

from bot.clock import Clock
from storage import audit
from storage.db import Database

logger = logging.getLogger(__name__)

MAX_DATA = 128  # characters of the pressed data kept in the entry (Telegram sends <= 64 bytes)


async def record_refused_press(
    db: Database, clock: Clock, *, actor_id: int, data: str | None, answer: str | None
) -> None:
    """Append a `callback.refused` entry; a database that can't take it is only logged."""
    try:
        async with db.transaction() as tx:
            await audit.record(
                tx,
                actor_id=actor_id,
                action="callback.refused",
                now=clock.now(),
                object_type="callback",
                details={"data": (data or "")[:MAX_DATA], "answer": (answer or "")[:200]},
            )
    except sqlite3.Error as error:
        logger.warning("Could not audit a refused press by %s: %s", actor_id, error)
