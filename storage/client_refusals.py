"""Clients' refusals: the contacts that ended with "client refused", with their reasons."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.db import Queries, from_db_time, to_db_time


@dataclass(frozen=True, slots=True)
class RefusalRow:
    """A refused contact: who, which client, when, the preset (None before presets existed)
    and the words as typed."""

    contact_id: int
    client_id: int
    client_name: str
    manager_id: int
    happened_at: dt.datetime
    refusal_reason: str | None
    words: str


async def refusals_between(
    db: Queries, start: dt.datetime, end: dt.datetime, *, manager_id: int | None = None
) -> list[RefusalRow]:
    """Refusals whose contact happened in [start, end), oldest first (a partial index holds
    only refusals, so this reads the period's refusals and nothing else)."""
    only = " AND t.manager_id = :only" if manager_id is not None else ""
    rows = await db.fetch_all(
        "SELECT t.id, t.client_id, c.name AS client_name, t.manager_id, t.happened_at,"
        " t.refusal_reason, coalesce(t.outcome_reason, '') AS words"
        " FROM contacts t INDEXED BY contacts_refused JOIN clients c ON c.id = t.client_id"
        " WHERE t.outcome = 'refused' AND t.happened_at >= :start AND t.happened_at < :end"
        f"{only} ORDER BY t.happened_at, t.id",
        {"start": to_db_time(start), "end": to_db_time(end), "only": manager_id},
    )
    return [
        RefusalRow(
            contact_id=row["id"],
            client_id=row["client_id"],
            client_name=row["client_name"],
            manager_id=row["manager_id"],
            happened_at=from_db_time(row["happened_at"]),
            refusal_reason=row["refusal_reason"],
            words=row["words"],
        )
        for row in rows
    ]
