"""Digest settings on the user row, and the `digest_sent` ledger: each digest is sent exactly
once per person and week, resumed after the parts already sent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from storage.db import (
    Queries,
    Row,
    Transaction,
    from_db_time,
    optional_time,
    to_db_time,
)


class DigestKind(StrEnum):
    """A head's digest of the team's week, or a manager's own "Your week"."""

    TEAM = "team"
    OWN = "own"


class DeliveryState(StrEnum):
    """`sending` from the claim until the last message is out, then `sent`; `failed` is final."""

    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DigestPrefs:
    """When a person's digest and "Your week" arrive (ISO weekday, 0 = off; local time)."""

    digest_day: int = 1
    digest_time: dt.time = dt.time(9, 0)
    week_summary_day: int = 5
    week_summary_time: dt.time = dt.time(16, 0)


@dataclass(frozen=True, slots=True)
class Recipient:
    """An active person the scheduler considers, with what it needs to decide."""

    telegram_id: int
    role: str
    timezone: str
    created_at: dt.datetime
    prefs: DigestPrefs


@dataclass(frozen=True, slots=True)
class Delivery:
    """A `digest_sent` row."""

    user_id: int
    kind: DigestKind
    iso_week: str
    state: DeliveryState
    parts_sent: int
    attempts: int
    claimed_at: dt.datetime
    sent_at: dt.datetime | None


def _clock(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


def _prefs(row: Row) -> DigestPrefs:
    return DigestPrefs(
        digest_day=row["digest_day"],
        digest_time=_clock(row["digest_time"]),
        week_summary_day=row["week_summary_day"],
        week_summary_time=_clock(row["week_summary_time"]),
    )


_PREF_COLUMNS = "digest_day, digest_time, week_summary_day, week_summary_time"


async def get_prefs(db: Queries, user_id: int) -> DigestPrefs:
    """A person's digest settings (the defaults for an unknown id)."""
    row = await db.fetch_one(
        f"SELECT {_PREF_COLUMNS} FROM users WHERE telegram_id = ?", (user_id,)
    )
    return DigestPrefs() if row is None else _prefs(row)


async def set_prefs(
    tx: Transaction,
    user_id: int,
    *,
    now: dt.datetime,
    digest_day: int | None = None,
    digest_time: dt.time | None = None,
    week_summary_day: int | None = None,
    week_summary_time: dt.time | None = None,
) -> None:
    """Change some digest settings of one person (None leaves a setting as it is)."""
    changes: dict[str, object] = {
        "digest_day": digest_day,
        "digest_time": None if digest_time is None else digest_time.strftime("%H:%M"),
        "week_summary_day": week_summary_day,
        "week_summary_time": (
            None if week_summary_time is None else week_summary_time.strftime("%H:%M")
        ),
    }
    fields = {key: value for key, value in changes.items() if value is not None}
    if not fields:
        return
    assignments = ", ".join(f"{key} = :{key}" for key in fields)
    await tx.execute(
        f"UPDATE users SET {assignments}, updated_at = :now WHERE telegram_id = :id",
        {**fields, "now": to_db_time(now), "id": user_id},
    )


async def recipients(db: Queries) -> list[Recipient]:
    """Active, reachable heads and managers with their digest settings."""
    rows = await db.fetch_all(
        f"SELECT telegram_id, role, timezone, created_at, {_PREF_COLUMNS} FROM users"
        " WHERE active = 1 AND reachable = 1 AND role IN ('head', 'manager')"
        " ORDER BY telegram_id"
    )
    return [
        Recipient(
            telegram_id=row["telegram_id"],
            role=row["role"],
            timezone=row["timezone"],
            created_at=from_db_time(row["created_at"]),
            prefs=_prefs(row),
        )
        for row in rows
    ]


def _delivery(row: Row) -> Delivery:
    return Delivery(
        user_id=row["user_id"],
        kind=DigestKind(row["kind"]),
        iso_week=row["iso_week"],
        state=DeliveryState(row["state"]),
        parts_sent=row["parts_sent"],
        attempts=row["attempts"],
        claimed_at=from_db_time(row["claimed_at"]),
        sent_at=optional_time(row["sent_at"]),
    )


async def get_delivery(
    db: Queries, user_id: int, kind: DigestKind, iso_week: str
) -> Delivery | None:
    """The ledger row of one person's digest of one week, if any."""
    row = await db.fetch_one(
        "SELECT * FROM digest_sent WHERE user_id = ? AND kind = ? AND iso_week = ?",
        (user_id, kind.value, iso_week),
    )
    return None if row is None else _delivery(row)


async def ledger(
    db: Queries, kind: DigestKind, iso_weeks: Sequence[str]
) -> dict[tuple[int, str], Delivery]:
    """The ledger rows of this kind for these weeks, by (person, week)."""
    if not iso_weeks:
        return {}
    marks = ", ".join("?" for _ in iso_weeks)
    rows = await db.fetch_all(
        f"SELECT * FROM digest_sent WHERE kind = ? AND iso_week IN ({marks})",
        (kind.value, *iso_weeks),
    )
    return {(row["user_id"], row["iso_week"]): _delivery(row) for row in rows}


async def claim(
    tx: Transaction,
    user_id: int,
    kind: DigestKind,
    iso_week: str,
    *,
    now: dt.datetime,
    stale_before: dt.datetime,
    max_attempts: int,
) -> Delivery | None:
    """Take the right to deliver one digest: a new row, or a `sending` row whose claim is
    older than `stale_before` (its sender crashed or failed) and has attempts left.
    Returns the claimed row (its `parts_sent` says where to resume), or None."""
    stamp = to_db_time(now)
    cursor = await tx.execute(
        "INSERT INTO digest_sent (user_id, kind, iso_week, claimed_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (user_id, kind.value, iso_week, stamp),
    )
    if cursor.rowcount != 1:
        cursor = await tx.execute(
            "UPDATE digest_sent SET claimed_at = ?, attempts = attempts + 1"
            " WHERE user_id = ? AND kind = ? AND iso_week = ? AND state = 'sending'"
            " AND claimed_at <= ? AND attempts < ?",
            (stamp, user_id, kind.value, iso_week, to_db_time(stale_before), max_attempts),
        )
        if cursor.rowcount != 1:
            return None
    return await get_delivery(tx, user_id, kind, iso_week)


async def record_part(
    tx: Transaction, user_id: int, kind: DigestKind, iso_week: str, *, parts_sent: int
) -> None:
    """Note that the first `parts_sent` messages of a delivery are out."""
    await tx.execute(
        "UPDATE digest_sent SET parts_sent = max(parts_sent, ?)"
        " WHERE user_id = ? AND kind = ? AND iso_week = ?",
        (parts_sent, user_id, kind.value, iso_week),
    )


async def finish(
    tx: Transaction,
    user_id: int,
    kind: DigestKind,
    iso_week: str,
    *,
    state: DeliveryState,
    now: dt.datetime,
) -> None:
    """Close a delivery as sent or failed."""
    await tx.execute(
        "UPDATE digest_sent SET state = ?, sent_at = ? WHERE user_id = ? AND kind = ?"
        " AND iso_week = ?",
        (
            state.value,
            to_db_time(now) if state is DeliveryState.SENT else None,
            user_id,
            kind.value,
            iso_week,
        ),
    )
