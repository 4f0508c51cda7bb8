"""Invitations: one-time links, stored only as the SHA-256 of their token."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from storage.db import Queries, Row, Transaction, from_db_time, optional_time, to_db_time
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
    revoked_at: dt.datetime | None = None
    revoked_by: int | None = None

    def is_open(self, now: dt.datetime) -> bool:
        """Unused, not revoked and not yet expired."""
        return self.used_by is None and self.revoked_at is None and self.expires_at > now


_COLUMNS = "id, role, created_by, created_at, expires_at, used_by, used_at, revoked_at, revoked_by"
_OPEN = "used_by IS NULL AND revoked_at IS NULL AND expires_at > ?"


def _invite(row: Row) -> Invite:
    return Invite(
        id=row["id"],
        role=Role(row["role"]),
        created_by=row["created_by"],
        created_at=from_db_time(row["created_at"]),
        expires_at=from_db_time(row["expires_at"]),
        used_by=row["used_by"],
        used_at=optional_time(row["used_at"]),
        revoked_at=optional_time(row["revoked_at"]),
        revoked_by=row["revoked_by"],
    )


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
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM invites WHERE token_hash = ?", (token_hash,))
    return None if row is None else _invite(row)


async def get_invite(db: Queries, invite_id: int) -> Invite | None:
    """One invitation by id."""
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM invites WHERE id = ?", (invite_id,))
    return None if row is None else _invite(row)


async def list_open(
    db: Queries, *, now: dt.datetime, created_by: int | None = None, limit: int = 50
) -> list[Invite]:
    """Open invitations (everyone's, or one inviter's), the soonest to expire first."""
    where = _OPEN
    params: list[object] = [to_db_time(now)]
    if created_by is not None:
        where += " AND created_by = ?"
        params.append(created_by)
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM invites WHERE {where} ORDER BY expires_at, id LIMIT ?",
        (*params, limit),
    )
    return [_invite(row) for row in rows]


async def claim_invite(tx: Transaction, invite_id: int, *, user_id: int, now: dt.datetime) -> bool:
    """Mark the invitation used by `user_id` unless it is used, revoked or expired."""
    cursor = await tx.execute(
        f"UPDATE invites SET used_by = ?, used_at = ? WHERE id = ? AND {_OPEN}",
        (user_id, to_db_time(now), invite_id, to_db_time(now)),
    )
    return cursor.rowcount == 1


async def revoke_invite(tx: Transaction, invite_id: int, *, by: int, now: dt.datetime) -> bool:
    """Revoke one invitation unless it is used or revoked already; True if revoked."""
    cursor = await tx.execute(
        "UPDATE invites SET revoked_at = ?, revoked_by = ? WHERE id = ?"
        " AND used_by IS NULL AND revoked_at IS NULL",
        (to_db_time(now), by, invite_id),
    )
    return cursor.rowcount == 1


async def revoke_open_by(
    tx: Transaction,
    created_by: int,
    *,
    by: int,
    now: dt.datetime,
    roles: Iterable[Role] | None = None,
) -> list[int]:
    """Revoke the unused invitations one person made (only those for `roles`, if given)."""
    wanted = None if roles is None else [role.value for role in roles]
    if wanted == []:
        return []
    role_filter = "" if wanted is None else f" AND role IN ({', '.join('?' * len(wanted))})"
    params = (created_by, *(wanted or ()))
    rows = await tx.fetch_all(
        "SELECT id FROM invites WHERE created_by = ? AND used_by IS NULL AND revoked_at IS NULL"
        f"{role_filter} ORDER BY id",
        params,
    )
    ids = [row["id"] for row in rows]
    await tx.executemany(
        "UPDATE invites SET revoked_at = ?, revoked_by = ? WHERE id = ?",
        [(to_db_time(now), by, invite_id) for invite_id in ids],
    )
    return ids
