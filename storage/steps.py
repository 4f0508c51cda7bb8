"""Next steps: the follow-up each contact ends with; a client may have several open."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from storage.db import Queries, Row, Transaction, from_db_time, to_db_time


class StepKind(StrEnum):
    """What the follow-up will be."""

    CALL = "call"
    MEETING = "meeting"
    EMAIL = "email"
    VISIT = "visit"
    OTHER = "other"


class StepState(StrEnum):
    """open -> done (a contact completed it) | cancelled | replaced (a new step instead).

    A replaced step, and one cancelled when its client was paused, remember the contact that
    did it (`closed_by_contact_id`): undoing that contact opens them again.
    """

    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"
    REPLACED = "replaced"


@dataclass(frozen=True, slots=True)
class Step:
    """A scheduled next step."""

    id: int
    client_id: int
    manager_id: int
    created_by_contact_id: int
    kind: StepKind
    due_at: dt.datetime
    agenda: str | None
    state: StepState
    done_by_contact_id: int | None
    snooze_count: int
    reschedule_count: int
    cancel_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_by_contact_id: int | None = None

    @property
    def revision(self) -> int:
        """Grows with every snooze and reschedule: a button can carry it to detect staleness."""
        return self.snooze_count + self.reschedule_count


class StepAction(StrEnum):
    """What `step_events` records."""

    SNOOZE = "snooze"
    RESCHEDULE = "reschedule"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class SnoozeStats:
    """One person's postponements in a period, for the digest.

    `steps` counts the distinct steps snoozed or rescheduled; `worst` is the step with the most
    snoozes among them (its lifetime `snooze_count`), as (step id, count), if any.
    """

    snoozes: int
    reschedules: int
    cancellations: int
    steps: int
    worst: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class StepEntry:
    """An open step with its client's name, as the agenda lists it."""

    step: Step
    client_name: str


_NAMES = (
    "id",
    "client_id",
    "manager_id",
    "created_by_contact_id",
    "kind",
    "due_at",
    "agenda",
    "state",
    "done_by_contact_id",
    "snooze_count",
    "reschedule_count",
    "cancel_reason",
    "created_at",
    "updated_at",
    "closed_by_contact_id",
)
_COLUMNS = ", ".join(f"s.{name}" for name in _NAMES)


def _step(row: Row) -> Step:
    return Step(
        id=row["id"],
        client_id=row["client_id"],
        manager_id=row["manager_id"],
        created_by_contact_id=row["created_by_contact_id"],
        kind=StepKind(row["kind"]),
        due_at=from_db_time(row["due_at"]),
        agenda=row["agenda"],
        state=StepState(row["state"]),
        done_by_contact_id=row["done_by_contact_id"],
        snooze_count=row["snooze_count"],
        reschedule_count=row["reschedule_count"],
        cancel_reason=row["cancel_reason"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        closed_by_contact_id=row["closed_by_contact_id"],
    )


async def insert_step(
    tx: Transaction,
    *,
    client_id: int,
    manager_id: int,
    created_by_contact_id: int,
    kind: StepKind,
    due_at: dt.datetime,
    agenda: str | None,
    now: dt.datetime,
) -> Step:
    """Open a new step."""
    stamp = to_db_time(now)
    cursor = await tx.execute(
        "INSERT INTO steps (client_id, manager_id, created_by_contact_id, kind, due_at, agenda,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            client_id,
            manager_id,
            created_by_contact_id,
            kind.value,
            to_db_time(due_at),
            agenda,
            stamp,
            stamp,
        ),
    )
    step = await get_step(tx, int(cursor.lastrowid or 0))
    assert step is not None
    return step


async def get_step(db: Queries, step_id: int) -> Step | None:
    """The step with this id."""
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM steps s WHERE s.id = ?", (step_id,))
    return None if row is None else _step(row)


async def open_steps_for_client(db: Queries, client_id: int) -> list[Step]:
    """The client's open steps, the earliest due first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM steps s WHERE s.client_id = ? AND s.state = 'open'"
        " ORDER BY s.due_at, s.id",
        (client_id,),
    )
    return [_step(row) for row in rows]


async def steps_created_by(db: Queries, contact_id: int) -> list[Step]:
    """The steps a contact created (more than one if it replaced its own), oldest first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM steps s WHERE s.created_by_contact_id = ? ORDER BY s.id",
        (contact_id,),
    )
    return [_step(row) for row in rows]


async def last_created_by(db: Queries, contact_ids: Sequence[int]) -> dict[int, Step]:
    """The last step each of these contacts created, by contact id (none: not in the dict)."""
    if not contact_ids:
        return {}
    marks = ", ".join("?" for _ in contact_ids)
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM steps s WHERE s.created_by_contact_id IN ({marks}) ORDER BY s.id",
        tuple(contact_ids),
    )
    return {step.created_by_contact_id: step for step in map(_step, rows)}


async def step_done_by(db: Queries, contact_id: int) -> Step | None:
    """The step that logging this contact completed, if any."""
    row = await db.fetch_one(
        f"SELECT {_COLUMNS} FROM steps s WHERE s.done_by_contact_id = ?", (contact_id,)
    )
    return None if row is None else _step(row)


async def complete_step(
    tx: Transaction, step_id: int, *, contact_id: int, now: dt.datetime
) -> None:
    """Mark an open step done by a contact."""
    await tx.execute(
        "UPDATE steps SET state = 'done', done_by_contact_id = ?, updated_at = ?"
        " WHERE id = ? AND state = 'open'",
        (contact_id, to_db_time(now), step_id),
    )


async def mark_replaced(
    tx: Transaction, step_id: int, *, by_contact_id: int, now: dt.datetime
) -> None:
    """Retire an open step because the new one this contact set takes its place."""
    await tx.execute(
        "UPDATE steps SET state = 'replaced', closed_by_contact_id = ?, updated_at = ?"
        " WHERE id = ? AND state = 'open'",
        (by_contact_id, to_db_time(now), step_id),
    )


async def steps_closed_by(db: Queries, contact_id: int) -> list[Step]:
    """The steps a contact replaced or cancelled (pausing its client), oldest first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM steps s WHERE s.closed_by_contact_id = ? ORDER BY s.id",
        (contact_id,),
    )
    return [_step(row) for row in rows]


async def reopen_closed(tx: Transaction, step_id: int, *, now: dt.datetime) -> None:
    """Open again a step a contact replaced or cancelled (that contact was undone)."""
    await tx.execute(
        "UPDATE steps SET state = 'open', cancel_reason = NULL, closed_by_contact_id = NULL,"
        " updated_at = ? WHERE id = ? AND state IN ('replaced', 'cancelled')",
        (to_db_time(now), step_id),
    )


async def reopen_step(tx: Transaction, step_id: int, *, now: dt.datetime) -> None:
    """Make a done step open again (the contact that completed it was undone)."""
    await tx.execute(
        "UPDATE steps SET state = 'open', done_by_contact_id = NULL, updated_at = ?"
        " WHERE id = ? AND state = 'done'",
        (to_db_time(now), step_id),
    )


async def delete_steps_created_by(tx: Transaction, contact_id: int) -> None:
    """Remove the steps a contact created (undo)."""
    await tx.execute("DELETE FROM steps WHERE created_by_contact_id = ?", (contact_id,))


async def set_agenda(
    tx: Transaction, step_id: int, *, agenda: str | None, now: dt.datetime
) -> bool:
    """Set an open step's agenda; False if it is not open."""
    cursor = await tx.execute(
        "UPDATE steps SET agenda = ?, updated_at = ? WHERE id = ? AND state = 'open'",
        (agenda, to_db_time(now), step_id),
    )
    return cursor.rowcount == 1


async def set_manager(tx: Transaction, step_id: int, *, manager_id: int, now: dt.datetime) -> None:
    """Move a step to another manager's agenda."""
    await tx.execute(
        "UPDATE steps SET manager_id = ?, updated_at = ? WHERE id = ?",
        (manager_id, to_db_time(now), step_id),
    )


async def open_for_manager(
    db: Queries, manager_id: int, *, due_before: dt.datetime
) -> list[StepEntry]:
    """A manager's open steps due before a moment, earliest first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS}, c.name AS client_name FROM steps s"
        " JOIN clients c ON c.id = s.client_id"
        " WHERE s.manager_id = ? AND s.state = 'open' AND s.due_at < ?"
        " ORDER BY s.due_at, s.id",
        (manager_id, to_db_time(due_before)),
    )
    return [StepEntry(_step(row), row["client_name"]) for row in rows]


async def move_due(
    tx: Transaction, step_id: int, *, due_at: dt.datetime, action: StepAction, now: dt.datetime
) -> bool:
    """Move an open step's due time, counting a snooze or a reschedule; False if not open."""
    counter = {StepAction.SNOOZE: "snooze_count", StepAction.RESCHEDULE: "reschedule_count"}[
        action
    ]
    cursor = await tx.execute(
        f"UPDATE steps SET due_at = ?, {counter} = {counter} + 1, updated_at = ?"
        " WHERE id = ? AND state = 'open'",
        (to_db_time(due_at), to_db_time(now), step_id),
    )
    return cursor.rowcount == 1


async def cancel_step(
    tx: Transaction,
    step_id: int,
    *,
    reason: str,
    now: dt.datetime,
    by_contact_id: int | None = None,
) -> bool:
    """Cancel an open step with its reason; False if it was not open.

    `by_contact_id`: the contact whose pause cancelled it (undoing that contact reopens it).
    """
    cursor = await tx.execute(
        "UPDATE steps SET state = 'cancelled', cancel_reason = ?, closed_by_contact_id = ?,"
        " updated_at = ? WHERE id = ? AND state = 'open'",
        (reason, by_contact_id, to_db_time(now), step_id),
    )
    return cursor.rowcount == 1


async def record_event(
    tx: Transaction, step: Step, *, actor_id: int, action: StepAction, now: dt.datetime
) -> None:
    """Log a snooze, reschedule or cancellation for the digest (same transaction as the change)."""
    await tx.execute(
        "INSERT INTO step_events (step_id, manager_id, actor_id, action, at)"
        " VALUES (?, ?, ?, ?, ?)",
        (step.id, step.manager_id, actor_id, action.value, to_db_time(now)),
    )


async def snooze_stats(
    db: Queries, manager_id: int, since: dt.datetime, until: dt.datetime | None = None
) -> SnoozeStats:
    """What `manager_id` snoozed, rescheduled and cancelled in [since, until).

    Counted for the person who pressed the button (a deputy's snoozes are the deputy's).
    """
    end = to_db_time(until) if until else "9999-12-31T23:59:59Z"
    params = (manager_id, to_db_time(since), end)
    counts = await db.fetch_one(
        "SELECT coalesce(sum(action = 'snooze'), 0) AS snoozes,"
        " coalesce(sum(action = 'reschedule'), 0) AS reschedules,"
        " coalesce(sum(action = 'cancel'), 0) AS cancellations,"
        " count(DISTINCT CASE WHEN action <> 'cancel' THEN step_id END) AS steps"
        " FROM step_events WHERE actor_id = ? AND at >= ? AND at < ?",
        params,
    )
    assert counts is not None
    worst = await db.fetch_one(
        "SELECT s.id, s.snooze_count FROM steps s WHERE s.id IN ("
        " SELECT step_id FROM step_events WHERE actor_id = ? AND at >= ? AND at < ?"
        " AND action = 'snooze') ORDER BY s.snooze_count DESC, s.id LIMIT 1",
        params,
    )
    return SnoozeStats(
        snoozes=counts["snoozes"],
        reschedules=counts["reschedules"],
        cancellations=counts["cancellations"],
        steps=counts["steps"],
        worst=None if worst is None else (worst["id"], worst["snooze_count"]),
    )
