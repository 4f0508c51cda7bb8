"""Users: everyone who may use the bot, with their role and personal settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from storage.db import Queries, Row, Transaction, from_db_time, optional_time, to_db_time

DEFAULT_AGENDA_TIME = dt.time(9, 0)
DEFAULT_WORKING_DAYS = (1, 2, 3, 4, 5)
DEFAULT_QUIET_FROM = dt.time(21, 0)
DEFAULT_QUIET_TO = dt.time(8, 0)
DEFAULT_HEADS_UP_MINUTES = 60


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
    # Reminder settings: local wall times in `timezone`, ISO weekdays (Mon=1), sorted.
    agenda_time: dt.time = DEFAULT_AGENDA_TIME
    working_days: tuple[int, ...] = DEFAULT_WORKING_DAYS
    quiet_from: dt.time = DEFAULT_QUIET_FROM
    quiet_to: dt.time = DEFAULT_QUIET_TO
    heads_up_minutes: int = DEFAULT_HEADS_UP_MINUTES
    # Away mode (UTC); it is over once `away_until` has passed, whatever the columns say.
    away_until: dt.datetime | None = None
    deputy_id: int | None = None

    @property
    def is_lead(self) -> bool:
        """Admins and heads see and act on the whole team's data."""
        return self.role in (Role.ADMIN, Role.HEAD)


_COLUMNS = (
    "telegram_id, name, username, role, timezone, locale, active, reachable, created_at,"
    " agenda_time, working_days, quiet_from, quiet_to, heads_up_minutes, away_until, deputy_id"
)


def clock_text(value: dt.time) -> str:
    """A local wall time as stored: `HH:MM`."""
    return value.strftime("%H:%M")


def _clock(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


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
        agenda_time=_clock(row["agenda_time"]),
        working_days=tuple(sorted({int(day) for day in row["working_days"].split(",") if day})),
        quiet_from=_clock(row["quiet_from"]),
        quiet_to=_clock(row["quiet_to"]),
        heads_up_minutes=row["heads_up_minutes"],
        away_until=optional_time(row["away_until"]),
        deputy_id=row["deputy_id"],
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


async def count_active_admins(db: Queries, *, besides: int | None = None) -> int:
    """How many active admins there are (not counting `besides`, if given)."""
    value = await db.fetch_value(
        "SELECT COUNT(*) FROM users WHERE active = 1 AND role = 'admin' AND telegram_id IS NOT ?",
        (besides,),
    )
    return int(value or 0)


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
    locale: str | None = None,
) -> None:
    """Change the given fields of one user (None leaves a field as it is)."""
    changes: dict[str, object] = {
        "name": name,
        "username": username,
        "role": role.value if role is not None else None,
        "timezone": timezone,
        "locale": locale,
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


async def update_prefs(
    tx: Transaction,
    telegram_id: int,
    *,
    now: dt.datetime,
    agenda_time: dt.time | None = None,
    working_days: Iterable[int] | None = None,
    quiet_from: dt.time | None = None,
    quiet_to: dt.time | None = None,
    heads_up_minutes: int | None = None,
) -> None:
    """Change some reminder settings of one user (None leaves a setting as it is)."""
    changes: dict[str, object] = {
        "agenda_time": None if agenda_time is None else clock_text(agenda_time),
        "working_days": (
            None if working_days is None else ",".join(str(d) for d in sorted(set(working_days)))
        ),
        "quiet_from": None if quiet_from is None else clock_text(quiet_from),
        "quiet_to": None if quiet_to is None else clock_text(quiet_to),
        "heads_up_minutes": heads_up_minutes,
    }
    fields = {key: value for key, value in changes.items() if value is not None}
    if not fields:
        return
    assignments = ", ".join(f"{key} = :{key}" for key in fields)
    await tx.execute(
        f"UPDATE users SET {assignments}, updated_at = :now WHERE telegram_id = :id",
        {**fields, "now": to_db_time(now), "id": telegram_id},
    )


async def set_away(
    tx: Transaction,
    telegram_id: int,
    *,
    now: dt.datetime,
    away_until: dt.datetime | None,
    deputy_id: int | None,
) -> None:
    """Set (or, with None, clear) a user's away mode and deputy."""
    await tx.execute(
        "UPDATE users SET away_until = ?, deputy_id = ?, updated_at = ? WHERE telegram_id = ?",
        (
            None if away_until is None else to_db_time(away_until),
            deputy_id,
            to_db_time(now),
            telegram_id,
        ),
    )
