"""Reminders: the only scheduler truth. A row per message the bot owes someone at a time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from storage.db import Queries, Row, Transaction, from_db_time, optional_time, to_db_time


class ReminderSubject(StrEnum):
    """What a reminder is about; `subject_id` points into the matching table."""

    STEP = "step"
    INVOICE = "invoice"
    PROMISE = "promise"
    MISSING_STEP = "missing_step"
    AGENDA = "agenda"
    DIGEST = "digest"


class ReminderState(StrEnum):
    """pending -> sending (claimed) -> sent; back to pending on failure; held; cancelled."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    HELD = "held"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Reminder:
    """One message owed to a person at `due_at`."""

    id: int
    user_id: int
    subject: ReminderSubject
    subject_id: int | None
    due_at: dt.datetime
    state: ReminderState
    attempts: int
    sent_at: dt.datetime | None
    message_id: int | None
    created_at: dt.datetime


_COLUMNS = (
    "id, user_id, subject, subject_id, due_at, state, attempts, sent_at, message_id, created_at"
)
# States in which a reminder may still reach its person (also the partial index
# `reminders_user_live`, which a query uses only if it repeats this exact term).
_LIVE = "('pending', 'sending', 'held')"
DUE_SELECT = (
    "SELECT id FROM reminders WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?"
)
"""The sweep's selection (parameters: now, limit): a range scan of the `(state, due_at)` index
whose entries carry the rowid, so it reads only the due rows, in order, and nothing else."""


def _reminder(row: Row) -> Reminder:
    return Reminder(
        id=row["id"],
        user_id=row["user_id"],
        subject=ReminderSubject(row["subject"]),
        subject_id=row["subject_id"],
        due_at=from_db_time(row["due_at"]),
        state=ReminderState(row["state"]),
        attempts=row["attempts"],
        sent_at=optional_time(row["sent_at"]),
        message_id=row["message_id"],
        created_at=from_db_time(row["created_at"]),
    )


async def insert_reminder(
    tx: Transaction,
    *,
    user_id: int,
    subject: ReminderSubject,
    subject_id: int | None,
    due_at: dt.datetime,
    now: dt.datetime,
) -> int:
    """Queue a pending reminder and return its id."""
    cursor = await tx.execute(
        "INSERT INTO reminders (user_id, subject, subject_id, due_at, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (user_id, subject.value, subject_id, to_db_time(due_at), to_db_time(now)),
    )
    return int(cursor.lastrowid or 0)


async def ensure_reminder(
    tx: Transaction,
    *,
    user_id: int,
    subject: ReminderSubject,
    subject_id: int,
    due_at: dt.datetime,
    now: dt.datetime,
) -> None:
    """Make sure the subject has a reminder at `due_at`, without ever sending it twice.

    A live or already sent row for that time is left alone; a cancelled one is revived;
    otherwise a new row is queued. Used when an undo brings a subject back.
    """
    due = to_db_time(due_at)
    rows = await tx.fetch_all(
        "SELECT id, state FROM reminders WHERE subject = ? AND subject_id = ? AND due_at = ?",
        (subject.value, subject_id, due),
    )
    states = {row["state"] for row in rows}
    if states - {ReminderState.CANCELLED.value}:
        return
    if rows:
        await tx.execute(
            "UPDATE reminders SET state = 'pending', user_id = ? WHERE id = ?",
            (user_id, rows[0]["id"]),
        )
        return
    await insert_reminder(
        tx, user_id=user_id, subject=subject, subject_id=subject_id, due_at=due_at, now=now
    )


async def cancel_for_subject(tx: Transaction, subject: ReminderSubject, subject_id: int) -> int:
    """Cancel every reminder of a subject that has not been sent; return how many."""
    cursor = await tx.execute(
        f"UPDATE reminders SET state = 'cancelled' WHERE subject = ? AND subject_id = ?"
        f" AND state IN {_LIVE}",
        (subject.value, subject_id),
    )
    return cursor.rowcount


async def cancel_heads_ups(tx: Transaction, step_id: int, *, due_at: dt.datetime) -> int:
    """Cancel a step's not-yet-sent reminders due before the step itself (its heads-ups)."""
    cursor = await tx.execute(
        f"UPDATE reminders SET state = 'cancelled' WHERE subject = 'step' AND subject_id = ?"
        f" AND state IN {_LIVE} AND due_at < ?",
        (step_id, to_db_time(due_at)),
    )
    return cursor.rowcount


async def reassign_for_subject(
    tx: Transaction, subject: ReminderSubject, subject_id: int, *, user_id: int
) -> int:
    """Send a subject's not-yet-sent reminders to another person; return how many."""
    cursor = await tx.execute(
        f"UPDATE reminders SET user_id = ? WHERE subject = ? AND subject_id = ?"
        f" AND state IN {_LIVE}",
        (user_id, subject.value, subject_id),
    )
    return cursor.rowcount


async def reassign_from(
    tx: Transaction, subject: ReminderSubject, subject_id: int, *, from_id: int, to_id: int
) -> int:
    """Move a subject's not-yet-sent reminders of one person to another; return how many."""
    cursor = await tx.execute(
        f"UPDATE reminders SET user_id = ? WHERE subject = ? AND subject_id = ? AND user_id = ?"
        f" AND state IN {_LIVE}",
        (to_id, subject.value, subject_id, from_id),
    )
    return cursor.rowcount


async def reminders_for(db: Queries, subject: ReminderSubject, subject_id: int) -> list[Reminder]:
    """Every reminder of one subject, oldest first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM reminders WHERE subject = ? AND subject_id = ? ORDER BY id",
        (subject.value, subject_id),
    )
    return [_reminder(row) for row in rows]


async def claim_due(tx: Transaction, *, now: dt.datetime, limit: int = 50) -> list[Reminder]:
    """Atomically move up to `limit` due pending reminders to `sending` and return them.

    One `UPDATE ... RETURNING`: two sweeps can never claim the same row.
    """
    stamp = to_db_time(now)
    rows = await tx.fetch_all(
        f"UPDATE reminders SET state = 'sending', claimed_at = ? WHERE id IN ({DUE_SELECT})"
        f" RETURNING {_COLUMNS}",
        (stamp, stamp, limit),
    )
    return sorted((_reminder(row) for row in rows), key=lambda r: (r.due_at, r.id))


async def mark_sent(
    tx: Transaction, reminder_id: int, *, now: dt.datetime, message_id: int | None
) -> bool:
    """Record a delivered reminder; False if it was no longer being sent (e.g. cancelled)."""
    cursor = await tx.execute(
        "UPDATE reminders SET state = 'sent', sent_at = ?, message_id = ?"
        " WHERE id = ? AND state = 'sending'",
        (to_db_time(now), message_id, reminder_id),
    )
    return cursor.rowcount == 1


async def set_state(tx: Transaction, reminder_id: int, state: ReminderState | str) -> bool:
    """Move a not-yet-sent reminder to pending, held or cancelled; False if it was settled.

    `sending` is reached only through `claim_due` and `sent` only through `mark_sent`.
    """
    target = ReminderState(state)
    if target not in (ReminderState.PENDING, ReminderState.HELD, ReminderState.CANCELLED):
        raise ValueError(f"use claim_due or mark_sent to move a reminder to {target.value}")
    cursor = await tx.execute(
        f"UPDATE reminders SET state = ?, claimed_at = NULL WHERE id = ? AND state IN {_LIVE}",
        (target.value, reminder_id),
    )
    return cursor.rowcount == 1


async def release_stale(tx: Transaction, *, claimed_before: dt.datetime | None = None) -> int:
    """Put reminders left in `sending` back to pending: all of them (start-up, after a crash),
    or those claimed before the cut-off (a send that never came back).

    At most one duplicate message results, never a lost one. Returns how many.
    """
    if claimed_before is None:
        cursor = await tx.execute(
            "UPDATE reminders SET state = 'pending', claimed_at = NULL WHERE state = 'sending'"
        )
    else:
        cursor = await tx.execute(
            "UPDATE reminders SET state = 'pending', claimed_at = NULL"
            " WHERE state = 'sending' AND claimed_at < ?",
            (to_db_time(claimed_before),),
        )
    return cursor.rowcount


async def release(tx: Transaction, reminder_id: int, *, retry_at: dt.datetime) -> bool:
    """Put a failed send back in the queue for `retry_at`, counting the attempt."""
    cursor = await tx.execute(
        "UPDATE reminders SET state = 'pending', attempts = attempts + 1, due_at = ?,"
        " claimed_at = NULL WHERE id = ? AND state = 'sending'",
        (to_db_time(retry_at), reminder_id),
    )
    return cursor.rowcount == 1


async def postpone(tx: Transaction, reminder_id: int, *, due_at: dt.datetime) -> bool:
    """Put a pending or claimed reminder back in the queue for `due_at`, not counting an attempt.

    For reminders that wait on purpose (quiet hours, an away manager, a moved agenda), as
    opposed to `release`, which counts a failed send. False if it was settled meanwhile.
    """
    cursor = await tx.execute(
        "UPDATE reminders SET state = 'pending', due_at = ?, claimed_at = NULL"
        " WHERE id = ? AND state IN ('pending', 'sending')",
        (to_db_time(due_at), reminder_id),
    )
    return cursor.rowcount == 1


async def live_for_user(db: Queries, user_id: int, subject: ReminderSubject) -> list[Reminder]:
    """A person's not-yet-sent reminders of one subject (pending, sending or held), by due time."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM reminders WHERE user_id = ? AND subject = ?"
        f" AND state IN {_LIVE} ORDER BY due_at, id",
        (user_id, subject.value),
    )
    return [_reminder(row) for row in rows]


async def bring_forward(
    tx: Transaction, user_id: int, *, waiting_until: dt.datetime, due_at: dt.datetime
) -> int:
    """Move a person's pending reminders parked at exactly `waiting_until` to `due_at`.

    The sweep parks an away manager's reminders at their return time; when they come back
    early, those are due now. The morning agenda has its own schedule and is left alone.
    """
    cursor = await tx.execute(
        "UPDATE reminders SET due_at = ? WHERE user_id = ? AND state = 'pending' AND due_at = ?"
        " AND subject <> 'agenda'",
        (to_db_time(due_at), user_id, to_db_time(waiting_until)),
    )
    return cursor.rowcount


async def count_pending(db: Queries, *, due_by: dt.datetime | None = None) -> int:
    """How many reminders wait to be sent (only those due by `due_by`, if given)."""
    if due_by is None:
        value = await db.fetch_value("SELECT count(*) FROM reminders WHERE state = 'pending'")
    else:
        value = await db.fetch_value(
            "SELECT count(*) FROM reminders WHERE state = 'pending' AND due_at <= ?",
            (to_db_time(due_by),),
        )
    return int(value or 0)


async def release_held(tx: Transaction, user_id: int, *, due_at: dt.datetime) -> int:
    """A person is reachable again: their held reminders (the agenda aside) are due at `due_at`.

    Returns how many. Held agendas are the caller's to replace: yesterday's plan is stale.
    """
    cursor = await tx.execute(
        "UPDATE reminders SET state = 'pending', due_at = ?, claimed_at = NULL"
        " WHERE user_id = ? AND state = 'held' AND subject <> 'agenda'",
        (to_db_time(due_at), user_id),
    )
    return cursor.rowcount
