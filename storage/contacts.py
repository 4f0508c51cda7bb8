"""Contacts: the log of calls, meetings and messages, each ending in a next step or a closure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from storage.db import Queries, Row, Transaction, from_db_time, optional_time, to_db_time


class ContactKind(StrEnum):
    """How the manager and the client were in touch."""

    CALL = "call"
    MEETING = "meeting"
    EMAIL = "email"
    MESSAGE = "message"
    VISIT = "visit"


class ContactState(StrEnum):
    """`needs_next_step` until a step or a closure is chosen, then `complete`."""

    NEEDS_NEXT_STEP = "needs_next_step"
    COMPLETE = "complete"


class Outcome(StrEnum):
    """How a contact was concluded."""

    SCHEDULED = "scheduled"
    WON = "won"
    REFUSED = "refused"
    NOT_TARGET = "not_target"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class Contact:
    """One logged contact."""

    id: int
    client_id: int
    manager_id: int
    kind: ContactKind
    happened_at: dt.datetime
    summary: str
    state: ContactState
    outcome: Outcome | None
    outcome_reason: str | None
    logged_at: dt.datetime
    resolved_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class PendingContact:
    """A contact with its client's name, as lists of contacts waiting for a step show it."""

    contact: Contact
    client_name: str


_NAMES = (
    "id",
    "client_id",
    "manager_id",
    "kind",
    "happened_at",
    "summary",
    "state",
    "outcome",
    "outcome_reason",
    "logged_at",
    "resolved_at",
)
_COLUMNS = ", ".join(f"t.{name}" for name in _NAMES)


def contact_from_row(row: Row, *, prefix: str = "") -> Contact:
    """Build a Contact from a row whose contact columns are named `<prefix><column>`."""
    outcome = row[f"{prefix}outcome"]
    return Contact(
        id=row[f"{prefix}id"],
        client_id=row[f"{prefix}client_id"],
        manager_id=row[f"{prefix}manager_id"],
        kind=ContactKind(row[f"{prefix}kind"]),
        happened_at=from_db_time(row[f"{prefix}happened_at"]),
        summary=row[f"{prefix}summary"],
        state=ContactState(row[f"{prefix}state"]),
        outcome=None if outcome is None else Outcome(outcome),
        outcome_reason=row[f"{prefix}outcome_reason"],
        logged_at=from_db_time(row[f"{prefix}logged_at"]),
        resolved_at=optional_time(row[f"{prefix}resolved_at"]),
    )


async def insert_contact(
    tx: Transaction,
    *,
    client_id: int,
    manager_id: int,
    kind: ContactKind,
    happened_at: dt.datetime,
    summary: str,
    now: dt.datetime,
) -> Contact:
    """Store a new contact in state `needs_next_step`."""
    cursor = await tx.execute(
        "INSERT INTO contacts (client_id, manager_id, kind, happened_at, summary, logged_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (client_id, manager_id, kind.value, to_db_time(happened_at), summary, to_db_time(now)),
    )
    contact = await get_contact(tx, int(cursor.lastrowid or 0))
    assert contact is not None
    return contact


async def get_contact(db: Queries, contact_id: int) -> Contact | None:
    """The contact with this id."""
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM contacts t WHERE t.id = ?", (contact_id,))
    return None if row is None else contact_from_row(row)


async def resolve_contact(
    tx: Transaction,
    contact_id: int,
    *,
    outcome: Outcome,
    reason: str | None,
    now: dt.datetime,
    refusal_reason: str | None = None,
) -> None:
    """Mark a contact complete with its outcome (the database refuses a missing reason).

    `resolved_at` keeps the first resolution: changing a just-set step is not a new one.
    `refusal_reason`: a refusal's preset reason (price, timing, ...), beside its words.
    """
    await tx.execute(
        "UPDATE contacts SET state = 'complete', outcome = ?, outcome_reason = ?,"
        " refusal_reason = ?, resolved_at = coalesce(resolved_at, ?) WHERE id = ?",
        (outcome.value, reason, refusal_reason, to_db_time(now), contact_id),
    )


async def reopen_contact(tx: Transaction, contact_id: int) -> None:
    """Make a complete contact wait for a next step again (its step was cancelled).

    Outcome, reason and resolution time are cleared, as the CHECKs require of that state.
    """
    await tx.execute(
        "UPDATE contacts SET state = 'needs_next_step', outcome = NULL, outcome_reason = NULL,"
        " refusal_reason = NULL, resolved_at = NULL WHERE id = ?",
        (contact_id,),
    )


async def set_summary(tx: Transaction, contact_id: int, summary: str) -> None:
    """Replace a contact's summary."""
    await tx.execute("UPDATE contacts SET summary = ? WHERE id = ?", (summary, contact_id))


async def delete_contact(tx: Transaction, contact_id: int) -> None:
    """Remove a contact (undo); steps pointing at it must be dealt with first."""
    await tx.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))


async def recent_for_client(
    db: Queries, client_id: int, *, limit: int, offset: int = 0
) -> list[Contact]:
    """A client's contacts, the latest first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM contacts t WHERE t.client_id = ?"
        " ORDER BY t.happened_at DESC, t.id DESC LIMIT ? OFFSET ?",
        (client_id, limit, offset),
    )
    return [contact_from_row(row) for row in rows]


async def has_later_contact(db: Queries, contact: Contact) -> bool:
    """Whether a contact with the same client was logged after this one."""
    value = await db.fetch_value(
        "SELECT 1 FROM contacts WHERE client_id = ? AND id > ? LIMIT 1",
        (contact.client_id, contact.id),
    )
    return value is not None


async def pending_contact(db: Queries, contact_id: int) -> PendingContact | None:
    """One contact with its client's name, whatever its state (the caller checks it)."""
    row = await db.fetch_one(
        f"SELECT {_COLUMNS}, c.name AS client_name FROM contacts t"
        " JOIN clients c ON c.id = t.client_id WHERE t.id = ?",
        (contact_id,),
    )
    return None if row is None else PendingContact(contact_from_row(row), row["client_name"])


async def pending_for_manager(db: Queries, manager_id: int) -> list[PendingContact]:
    """A manager's contacts waiting for a next step, the longest-waiting first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS}, c.name AS client_name FROM contacts t"
        " JOIN clients c ON c.id = t.client_id"
        " WHERE t.manager_id = ? AND t.state = 'needs_next_step'"
        " ORDER BY t.logged_at, t.id",
        (manager_id,),
    )
    return [PendingContact(contact_from_row(row), row["client_name"]) for row in rows]


@dataclass(frozen=True, slots=True)
class TeamPendingContact:
    """A contact waiting for a next step, with who logged it: what a head is shown."""

    pending: PendingContact
    manager_name: str
    manager_timezone: str


async def pending_for_team(db: Queries, *, logged_before: dt.datetime) -> list[TeamPendingContact]:
    """Everyone's contacts logged before a moment and still waiting for a next step, oldest
    first (a partial index holds only waiting contacts, so this stays small)."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS}, c.name AS client_name, u.name AS manager_name,"
        " u.timezone AS manager_timezone FROM contacts t"
        " JOIN clients c ON c.id = t.client_id JOIN users u ON u.telegram_id = t.manager_id"
        " WHERE t.state = 'needs_next_step' AND t.logged_at < ?"
        " ORDER BY t.logged_at, t.id",
        (to_db_time(logged_before),),
    )
    return [
        TeamPendingContact(
            PendingContact(contact_from_row(row), row["client_name"]),
            row["manager_name"],
            row["manager_timezone"],
        )
        for row in rows
    ]


async def has_pending_by(db: Queries, *, client_id: int, manager_id: int) -> bool:
    """Whether `manager_id` has a contact with this client still waiting for a next step."""
    value = await db.fetch_value(
        "SELECT 1 FROM contacts WHERE manager_id = ? AND state = 'needs_next_step'"
        " AND client_id = ? LIMIT 1",
        (manager_id, client_id),
    )
    return value is not None
