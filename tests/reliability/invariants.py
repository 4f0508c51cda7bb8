"""What must hold in the database after faults and crashes, read with a plain sqlite3 connection.

The checks read the live file (WAL mode lets a second process read while the bot writes), so
the SIGKILL harness can run them while the bot is up again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from tests.reliability.actors import Ack


def connect(path: Path) -> sqlite3.Connection:
    """A read-only connection to the bot's database file."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    return conn


def missing_acks(path: Path, acks: Iterable[Ack]) -> list[Ack]:
    """The acknowledged writes that are not in the database (must be none)."""
    with closing(connect(path)) as conn:
        return [ack for ack in acks if not _present(conn, ack)]


def _present(conn: sqlite3.Connection, ack: Ack) -> bool:
    ending = f"%{ack.key}"
    if ack.kind == "contact":
        return _value(conn, "SELECT count(*) FROM contacts WHERE summary LIKE ?", ending) > 0
    if ack.kind == "complete":
        return (
            _value(
                conn,
                "SELECT count(*) FROM contacts WHERE summary LIKE ? AND state = 'complete'"
                " AND outcome = ?",
                ending,
                ack.detail,
            )
            > 0
        )
    if ack.kind == "client":
        return _value(conn, "SELECT count(*) FROM clients WHERE name = ?", ack.key) > 0
    if ack.kind == "invoice":
        return _value(conn, "SELECT count(*) FROM invoices WHERE number = ?", ack.key) > 0
    if ack.kind == "payment":
        paid = _value(conn, "SELECT max(paid_minor) FROM invoices WHERE number = ?", ack.key)
        return paid >= int(ack.detail)
    if ack.kind == "snooze":
        return (
            _value(
                conn,
                "SELECT max(s.snooze_count) FROM steps s JOIN clients c ON c.id = s.client_id"
                " WHERE c.name = ?",
                ack.key,
            )
            > 0
        )
    raise ValueError(f"unknown acknowledgement kind {ack.kind!r}")


def _value(conn: sqlite3.Connection, sql: str, *params: object) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0] or 0) if row is not None else 0


def complete_without_next_step(path: Path) -> list[int]:
    """Ids of contacts marked complete with neither a step nor a closure (must be none)."""
    with closing(connect(path)) as conn:
        rows = conn.execute(
            "SELECT c.id FROM contacts c WHERE c.state = 'complete' AND ("
            " c.outcome IS NULL"
            " OR (c.outcome IN ('scheduled', 'paused') AND NOT EXISTS ("
            "   SELECT 1 FROM steps s WHERE s.created_by_contact_id = c.id))"
            " OR (c.outcome IN ('refused', 'not_target')"
            "     AND coalesce(length(trim(c.outcome_reason)), 0) = 0))"
        ).fetchall()
    return [row[0] for row in rows]


def integrity(path: Path) -> str:
    """SQLite's own integrity check ("ok" when the file is sound)."""
    with closing(connect(path)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def unsettled_reminders(path: Path, reminder_ids: Iterable[int]) -> list[int]:
    """The reminders among `reminder_ids` not yet sent (nor cancelled with their subject)."""
    wanted = set(reminder_ids)
    with closing(connect(path)) as conn:
        rows = conn.execute(
            "SELECT id FROM reminders WHERE state NOT IN ('sent', 'cancelled')"
        ).fetchall()
    return sorted(wanted & {row[0] for row in rows})
