"""Company reply templates (the built-in ones are files under templates/replies/)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.db import Queries, Row, Transaction, from_db_time, to_db_time

KEY_PREFIX = "co"


@dataclass(frozen=True, slots=True)
class CompanyTemplate:
    """A template a head or admin wrote for the whole team."""

    id: int
    key: str
    locale: str
    title: str
    situation: str
    tone: str
    body: str
    active: bool
    created_by: int
    updated_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


_COLUMNS = (
    "id, key, locale, title, situation, tone, body, active, created_by, updated_by,"
    " created_at, updated_at"
)


def _template(row: Row) -> CompanyTemplate:
    return CompanyTemplate(
        id=row["id"],
        key=row["key"],
        locale=row["locale"],
        title=row["title"],
        situation=row["situation"],
        tone=row["tone"],
        body=row["body"],
        active=bool(row["active"]),
        created_by=row["created_by"],
        updated_by=row["updated_by"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
    )


async def insert_template(
    tx: Transaction,
    *,
    locale: str,
    title: str,
    situation: str,
    tone: str,
    body: str,
    created_by: int,
    now: dt.datetime,
) -> CompanyTemplate:
    """Add an active template; its key is `co<id>`."""
    stamp = to_db_time(now)
    # The writer transaction is serialised, so the next id is known; the key is set from it
    # in the same statement and checked unique by the table.
    cursor = await tx.execute(
        "INSERT INTO reply_templates (key, locale, title, situation, tone, body, created_by,"
        " created_at, updated_at) VALUES"
        " ((SELECT ? || (COALESCE(MAX(id), 0) + 1) FROM reply_templates),"
        " ?, ?, ?, ?, ?, ?, ?, ?)",
        (KEY_PREFIX, locale, title, situation, tone, body, created_by, stamp, stamp),
    )
    template = await get_template(tx, int(cursor.lastrowid or 0))
    assert template is not None
    return template


async def update_template(
    tx: Transaction,
    template_id: int,
    *,
    title: str,
    situation: str,
    body: str,
    updated_by: int,
    now: dt.datetime,
) -> None:
    """Change a template's title, situation and text."""
    await tx.execute(
        "UPDATE reply_templates SET title = ?, situation = ?, body = ?, updated_by = ?,"
        " updated_at = ? WHERE id = ?",
        (title, situation, body, updated_by, to_db_time(now), template_id),
    )


async def set_active(
    tx: Transaction, template_id: int, *, active: bool, updated_by: int, now: dt.datetime
) -> bool:
    """Retire (or bring back) a template; False when it already was in that state."""
    cursor = await tx.execute(
        "UPDATE reply_templates SET active = ?, updated_by = ?, updated_at = ?"
        " WHERE id = ? AND active = ?",
        (int(active), updated_by, to_db_time(now), template_id, int(not active)),
    )
    return cursor.rowcount == 1


async def get_template(db: Queries, template_id: int) -> CompanyTemplate | None:
    """One template by id, active or not."""
    row = await db.fetch_one(
        f"SELECT {_COLUMNS} FROM reply_templates WHERE id = ?", (template_id,)
    )
    return None if row is None else _template(row)


async def get_by_key(db: Queries, key: str) -> CompanyTemplate | None:
    """One template by key, active or not."""
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM reply_templates WHERE key = ?", (key,))
    return None if row is None else _template(row)


async def active_templates(db: Queries, *, locale: str) -> list[CompanyTemplate]:
    """The active templates of a language, oldest first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM reply_templates WHERE locale = ? AND active = 1 ORDER BY id",
        (locale,),
    )
    return [_template(row) for row in rows]
