"""Invitations: one-time links, stored only as the SHA-256 of their token."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.db import Queries, Transaction, from_db_time, optional_time, to_db_time
from storage.users import Role


@dataclass(frozen=True, slots=True)
class Invite:
    """An invitation to join with a role."""

    id: int
    role: Role
    created_by: int
    created_at: dt.datetime
    expires_at: dt.datetime
    used_by: int | None
    used_at: dt.datetime | None


async def insert_invite(
    tx: Transaction,
    *,
    token_hash: str,
    role: Role,
    created_by: int,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> int:
    """Store a new invitation and return its id."""
    cursor = await tx.execute(
        "INSERT INTO invites (token_hash, role, created_by, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (token_hash, role.value, created_by, to_db_time(now), to_db_time(expires_at)),
    )
    return int(cursor.lastrowid or 0)


async def find_invite(db: Queries, token_hash: str) -> Invite | None:
    """The invitation with this token hash, used or not."""
    row = await db.fetch_one(
        "SELECT id, role, created_by, created_at, expires_at, used_by, used_at FROM invites"
        " WHERE token_hash = ?",
        (token_hash,),
    )
    if row is None:
        return None
    return Invite(
        id=row["id"],
        role=Role(row["role"]),
        created_by=row["created_by"],
        created_at=from_db_time(row["created_at"]),
        expires_at=from_db_time(row["expires_at"]),
        used_by=row["used_by"],
        used_at=optional_time(row["used_at"]),
    )


async def claim_invite(tx: Transaction, invite_id: int, *, user_id: int, now: dt.datetime) -> bool:
    """Mark the invitation used by `user_id` unless it is used or expired; True if claimed."""
    cursor = await tx.execute(
        "UPDATE invites SET used_by = ?, used_at = ? WHERE id = ? AND used_by IS NULL"
        " AND expires_at > ?",
        (user_id, to_db_time(now), invite_id, to_db_time(now)),
    )
    return cursor.rowcount == 1
