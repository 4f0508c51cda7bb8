"""The append-only audit log: who changed what, and when."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from storage.db import Queries, Transaction, from_db_time, to_db_time


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded action."""

    actor_id: int | None
    action: str
    object_type: str | None
    object_id: str | None
    details: dict[str, Any]
    at: dt.datetime


async def record(
    tx: Transaction,
    *,
    actor_id: int | None,
    action: str,
    now: dt.datetime,
    object_type: str | None = None,
    object_id: object = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append an entry; call it inside the transaction that makes the change."""
    await tx.execute(
        "INSERT INTO audit_log (actor_id, action, object_type, object_id, details, at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            actor_id,
            action,
            object_type,
            None if object_id is None else str(object_id),
            json.dumps(details or {}, ensure_ascii=False, sort_keys=True),
            to_db_time(now),
        ),
    )


async def recent_entries(
    db: Queries, *, action: str | None = None, limit: int = 50
) -> list[AuditEntry]:
    """The newest entries first, optionally only one kind of action."""
    where, params = ("WHERE action = ?", (action, limit)) if action else ("", (limit,))
    rows = await db.fetch_all(
        "SELECT actor_id, action, object_type, object_id, details, at FROM audit_log "
        f"{where} ORDER BY id DESC LIMIT ?",
        params,
    )
    return [
        AuditEntry(
            actor_id=row["actor_id"],
            action=row["action"],
            object_type=row["object_type"],
            object_id=row["object_id"],
            details=json.loads(row["details"] or "{}"),
            at=from_db_time(row["at"]),
        )
        for row in rows
    ]
