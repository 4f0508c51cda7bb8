"""Calendar feeds (a person's secret subscription link, stored as the SHA-256 of its token),
calendar preferences (event lengths, a lead's team option) and the steps a calendar shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Queries, Row, Transaction, from_db_time, to_db_time
from storage.steps import StepKind, StepState

DEFAULT_CALL_MINUTES = 15
DEFAULT_MEETING_MINUTES = 60
DEFAULT_OTHER_MINUTES = 30


@dataclass(frozen=True, slots=True)
class CalendarPrefs:
    """How long a step's event lasts by kind, and whether a lead's feed lists the team's."""

    call_minutes: int = DEFAULT_CALL_MINUTES
    meeting_minutes: int = DEFAULT_MEETING_MINUTES
    other_minutes: int = DEFAULT_OTHER_MINUTES
    include_team: bool = False


@dataclass(frozen=True, slots=True)
class Feed:
    """A live subscription link (its token is never stored)."""

    id: int
    user_id: int
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class CalendarStep:
    """A step with what its calendar event shows: the client, who to ask for, the phone."""

    id: int
    kind: StepKind
    state: StepState
    due_at: dt.datetime
    agenda: str | None
    revision: int
    updated_at: dt.datetime
    manager_id: int
    manager_name: str
    client_name: str
    contact_person: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class FeedFingerprint:
    """What changes whenever a feed's listed steps do (their set, a step, its client, its
    manager's name): the feed's ETag is made from it without reading the steps."""

    count: int
    id_sum: int
    revision_sum: int
    steps_changed: str
    clients_changed: str
    managers_changed: str


# --- preferences ---------------------------------------------------------------------------


async def get_prefs(db: Queries, user_id: int) -> CalendarPrefs:
    """A person's calendar preferences (the defaults until they change one)."""
    row = await db.fetch_one(
        "SELECT call_minutes, meeting_minutes, other_minutes, include_team"
        " FROM calendar_prefs WHERE user_id = ?",
        (user_id,),
    )
    if row is None:
        return CalendarPrefs()
    return CalendarPrefs(
        call_minutes=row["call_minutes"],
        meeting_minutes=row["meeting_minutes"],
        other_minutes=row["other_minutes"],
        include_team=bool(row["include_team"]),
    )


async def save_prefs(
    tx: Transaction, user_id: int, prefs: CalendarPrefs, *, now: dt.datetime
) -> None:
    """Store a person's calendar preferences."""
    await tx.execute(
        "INSERT INTO calendar_prefs"
        " (user_id, call_minutes, meeting_minutes, other_minutes, include_team, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET call_minutes = excluded.call_minutes,"
        " meeting_minutes = excluded.meeting_minutes, other_minutes = excluded.other_minutes,"
        " include_team = excluded.include_team, updated_at = excluded.updated_at",
        (
            user_id,
            prefs.call_minutes,
            prefs.meeting_minutes,
            prefs.other_minutes,
            int(prefs.include_team),
            to_db_time(now),
        ),
    )


# --- feeds ---------------------------------------------------------------------------------


def _feed(row: Row) -> Feed:
    return Feed(id=row["id"], user_id=row["user_id"], created_at=from_db_time(row["created_at"]))


async def live_feed_of(db: Queries, user_id: int) -> Feed | None:
    """The person's live link, if any."""
    row = await db.fetch_one(
        "SELECT id, user_id, created_at FROM calendar_feeds"
        " WHERE user_id = ? AND revoked_at IS NULL",
        (user_id,),
    )
    return None if row is None else _feed(row)


async def find_live_feed(db: Queries, token_hash: str) -> Feed | None:
    """The live link stored under this hash (a revoked or unknown one: None)."""
    row = await db.fetch_one(
        "SELECT id, user_id, created_at FROM calendar_feeds"
        " WHERE token_hash = ? AND revoked_at IS NULL",
        (token_hash,),
    )
    return None if row is None else _feed(row)


async def revoke_for_user(tx: Transaction, user_id: int, *, now: dt.datetime) -> list[int]:
    """Revoke the person's live link; the ids revoked (none or one)."""
    rows = await tx.fetch_all(
        "UPDATE calendar_feeds SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"
        " RETURNING id",
        (to_db_time(now), user_id),
    )
    return [row["id"] for row in rows]


async def insert_feed(tx: Transaction, user_id: int, *, token_hash: str, now: dt.datetime) -> Feed:
    """Store a new live link (revoke the old one first)."""
    cursor = await tx.execute(
        "INSERT INTO calendar_feeds (user_id, token_hash, created_at) VALUES (?, ?, ?)",
        (user_id, token_hash, to_db_time(now)),
    )
    return Feed(id=int(cursor.lastrowid or 0), user_id=user_id, created_at=now)


# --- the steps a calendar shows ------------------------------------------------------------

_STEP_COLUMNS = (
    "s.id, s.kind, s.state, s.due_at, s.agenda, s.snooze_count + s.reschedule_count AS revision,"
    " s.updated_at, s.manager_id, u.name AS manager_name, c.name AS client_name,"
    " c.contact_person, c.phone_e164"
)
_STEP_JOINS = (
    " FROM steps s JOIN clients c ON c.id = s.client_id"
    " JOIN users u ON u.telegram_id = s.manager_id"
)


CalendarRow = tuple[
    int, str, str, str, str | None, int, str, int, str, str, str | None, str | None
]
"""A step's calendar columns as stored (`_STEP_COLUMNS`, in order): cheap to fetch and to
hash, so a feed's cached events are found without decoding the rows that did not change."""


def calendar_step(row: CalendarRow) -> CalendarStep:
    """Decode a row of `open_step_rows_between`."""
    (step_id, kind, state, due_at, agenda, revision, updated_at, manager_id) = row[:8]
    return CalendarStep(
        id=step_id,
        kind=StepKind(kind),
        state=StepState(state),
        due_at=from_db_time(due_at),
        agenda=agenda,
        revision=revision,
        updated_at=from_db_time(updated_at),
        manager_id=manager_id,
        manager_name=row[8],
        client_name=row[9],
        contact_person=row[10],
        phone=row[11],
    )


def _calendar_step(row: Row) -> CalendarStep:
    return calendar_step(tuple(row))


async def calendar_steps(db: Queries, step_ids: Sequence[int]) -> list[CalendarStep]:
    """These steps, whatever their state, the earliest due first (no access check)."""
    if not step_ids:
        return []
    marks = ", ".join("?" for _ in step_ids)
    rows = await db.fetch_all(
        f"SELECT {_STEP_COLUMNS}{_STEP_JOINS} WHERE s.id IN ({marks}) ORDER BY s.due_at, s.id",
        tuple(step_ids),
    )
    return [_calendar_step(row) for row in rows]


def _window(manager_id: int | None) -> str:
    """The open steps due in [start, end), one manager's (None: everyone's)."""
    mine = " AND s.manager_id = :manager" if manager_id is not None else ""
    return f" WHERE s.state = 'open'{mine} AND s.due_at >= :start AND s.due_at < :end"


def _params(manager_id: int | None, start: dt.datetime, end: dt.datetime) -> dict[str, object]:
    return {"manager": manager_id, "start": to_db_time(start), "end": to_db_time(end)}


async def open_step_rows_between(
    db: Queries, manager_id: int | None, *, start: dt.datetime, end: dt.datetime
) -> list[CalendarRow]:
    """Open steps due in [start, end), the earliest first: one manager's, or (None) all; as
    rows (decode with `calendar_step`)."""
    rows = await db.fetch_all(
        f"SELECT {_STEP_COLUMNS}{_STEP_JOINS}{_window(manager_id)} ORDER BY s.due_at, s.id",
        _params(manager_id, start, end),
    )
    return [tuple(row) for row in rows]


async def fingerprint_between(
    db: Queries, manager_id: int | None, *, start: dt.datetime, end: dt.datetime
) -> FeedFingerprint:
    """The fingerprint of `open_step_rows_between` with the same arguments, in one aggregate."""
    row = await db.fetch_one(
        "SELECT count(*) AS n, total(s.id) AS ids,"
        " total(s.snooze_count + s.reschedule_count) AS revisions,"
        " max(s.updated_at) AS steps_changed, max(c.updated_at) AS clients_changed,"
        f" max(u.updated_at) AS managers_changed{_STEP_JOINS}{_window(manager_id)}",
        _params(manager_id, start, end),
    )
    assert row is not None
    return FeedFingerprint(
        count=row["n"],
        id_sum=int(row["ids"]),
        revision_sum=int(row["revisions"]),
        steps_changed=row["steps_changed"] or "",
        clients_changed=row["clients_changed"] or "",
        managers_changed=row["managers_changed"] or "",
    )
