"""Users: everyone who may use the bot, with their role and personal settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from storage.db import Queries, Row, Transaction, from_db_time, to_db_time


class Role(StrEnum):
    """What a person may do: admins run the bot, heads see the team, managers their clients."""

    ADMIN = "admin"
    HEAD = "head"
    MANAGER = "manager"


@dataclass(frozen=True, slots=True)
class User:
    """A registered person."""

    telegram_id: int
    name: str
    username: str | None
    role: Role
    timezone: str
    locale: str
    active: bool
    reachable: bool
    created_at: dt.datetime

    @property
    def is_lead(self) -> bool:
        """Admins and heads see and act on the whole team's data."""
        return self.role in (Role.ADMIN, Role.HEAD)


_COLUMNS = "telegram_id, name, username, role, timezone, locale, active, reachable, created_at"


def _user(row: Row) -> User:
    return User(
        telegram_id=row["telegram_id"],
        name=row["name"],
        username=row["username"],
        role=Role(row["role"]),
        timezone=row["timezone"],
        locale=row["locale"],
        active=bool(row["active"]),
        reachable=bool(row["reachable"]),
        created_at=from_db_time(row["created_at"]),
    )


async def get_user(db: Queries, telegram_id: int) -> User | None:
    """The user with this Telegram id, active or not."""
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM users WHERE telegram_id = ?", (telegram_id,))
    return None if row is None else _user(row)


async def list_users(db: Queries, *, active_only: bool = False) -> list[User]:
    """Everyone, admins first, then heads, then managers, by name."""
    where = "WHERE active = 1" if active_only else ""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM users {where} ORDER BY "
        "CASE role WHEN 'admin' THEN 0 WHEN 'head' THEN 1 ELSE 2 END, name COLLATE NOCASE"
    )
    return [_user(row) for row in rows]


async def list_leads(db: Queries) -> list[User]:
    """Active admins and heads: the people who approve access requests."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM users WHERE active = 1 AND role IN ('admin', 'head') "
        "ORDER BY telegram_id"
    )
    return [_user(row) for row in rows]


async def insert_user(
    tx: Transaction,
    *,
    telegram_id: int,
    name: str,
    username: str | None,
    role: Role,
    timezone: str,
    locale: str,
    now: dt.datetime,
) -> User:
    """Register a new person."""
    stamp = to_db_time(now)
    await tx.execute(
        "INSERT INTO users (telegram_id, name, username, role, timezone, locale, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (telegram_id, name, username, role.value, timezone, locale, stamp, stamp),
    )
    user = await get_user(tx, telegram_id)
    assert user is not None
    return user


async def update_user(
    tx: Transaction,
    telegram_id: int,
    *,
    now: dt.datetime,
    name: str | None = None,
    username: str | None = None,
    role: Role | None = None,
    timezone: str | None = None,
    active: bool | None = None,
    reachable: bool | None = None,
) -> None:
    """Change the given fields of one user (None leaves a field as it is)."""
    changes: dict[str, object] = {
        "name": name,
        "username": username,
        "role": role.value if role is not None else None,
        "timezone": timezone,
        "active": None if active is None else int(active),
        "reachable": None if reachable is None else int(reachable),
    }
    fields = {key: value for key, value in changes.items() if value is not None}
    if not fields:
        return
    assignments = ", ".join(f"{key} = :{key}" for key in fields)
    await tx.execute(
        f"UPDATE users SET {assignments}, updated_at = :now WHERE telegram_id = :id",
        {**fields, "now": to_db_time(now), "id": telegram_id},
    )
