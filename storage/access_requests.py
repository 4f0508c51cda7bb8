"""Access requests from people who wrote to the bot without an invitation.

States: `pending` until a lead decides (`approved`, `declined`), or `closed` when the person
joined by another route (an invitation, ADMIN_TELEGRAM_IDS) while the request waited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.db import Queries, Row, Transaction, from_db_time, optional_time, to_db_time
from storage.users import Role


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """A stranger asking to be let in."""

    id: int
    telegram_id: int
    name: str
    username: str | None
    state: str
    role: Role | None
    decided_by: int | None
    requested_at: dt.datetime
    decided_at: dt.datetime | None = None
    locale: str | None = None

    @property
    def pending(self) -> bool:
        """Whether no lead has decided it and its person has not joined otherwise."""
        return self.state == "pending"


_COLUMNS = (
    "id, telegram_id, name, username, state, role, decided_by, requested_at, decided_at, locale"
)


def _request(row: Row) -> AccessRequest:
    return AccessRequest(
        id=row["id"],
        telegram_id=row["telegram_id"],
        name=row["name"],
        username=row["username"],
        state=row["state"],
        role=Role(row["role"]) if row["role"] else None,
        decided_by=row["decided_by"],
        requested_at=from_db_time(row["requested_at"]),
        decided_at=optional_time(row["decided_at"]),
        locale=row["locale"],
    )


async def pending_request_for(db: Queries, telegram_id: int) -> AccessRequest | None:
    """The open request of this person, if any."""
    row = await db.fetch_one(
        f"SELECT {_COLUMNS} FROM access_requests WHERE telegram_id = ? AND state = 'pending'",
        (telegram_id,),
    )
    return None if row is None else _request(row)


async def get_request(db: Queries, request_id: int) -> AccessRequest | None:
    """One request by id."""
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM access_requests WHERE id = ?", (request_id,))
    return None if row is None else _request(row)


async def insert_request(
    tx: Transaction,
    *,
    telegram_id: int,
    name: str,
    username: str | None,
    now: dt.datetime,
    locale: str | None = None,
) -> AccessRequest:
    """Open a request for this person (`locale`: the language their Telegram is in)."""
    cursor = await tx.execute(
        "INSERT INTO access_requests (telegram_id, name, username, requested_at, locale)"
        " VALUES (?, ?, ?, ?, ?)",
        (telegram_id, name, username, to_db_time(now), locale),
    )
    request = await get_request(tx, int(cursor.lastrowid or 0))
    assert request is not None
    return request


async def decide_request(
    tx: Transaction, request_id: int, *, state: str, role: Role | None, by: int, now: dt.datetime
) -> bool:
    """Close a pending request; False if somebody else already decided it."""
    cursor = await tx.execute(
        "UPDATE access_requests SET state = ?, role = ?, decided_by = ?, decided_at = ?"
        " WHERE id = ? AND state = 'pending'",
        (state, role.value if role else None, by, to_db_time(now), request_id),
    )
    return cursor.rowcount == 1


async def close_pending_for(tx: Transaction, telegram_id: int, *, now: dt.datetime) -> int:
    """Close this person's pending request (they joined by another route); how many closed."""
    cursor = await tx.execute(
        "UPDATE access_requests SET state = 'closed', decided_at = ?"
        " WHERE telegram_id = ? AND state = 'pending'",
        (to_db_time(now), telegram_id),
    )
    return cursor.rowcount
