"""Team-wide settings: a small key/value table; defaults live in the service."""

from __future__ import annotations

import datetime as dt

from storage.db import Queries, Transaction, to_db_time


async def all_values(db: Queries) -> dict[str, str]:
    """Every stored setting by key."""
    rows = await db.fetch_all("SELECT key, value FROM team_settings")
    return {row["key"]: row["value"] for row in rows}


async def set_value(
    tx: Transaction, key: str, value: str, *, actor_id: int | None, now: dt.datetime
) -> None:
    """Store one setting, replacing any earlier value."""
    await tx.execute(
        "INSERT INTO team_settings (key, value, updated_by, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
        " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        (key, value, actor_id, to_db_time(now)),
    )
