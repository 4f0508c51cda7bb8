"""The database: migrations apply once, transactions are all-or-nothing, times stay UTC."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from storage import audit, users
from storage.backup import backup_database, restore_database
from storage.db import Database, Queries, from_db_time, to_db_time
from storage.migrate import migration_files, split_statements
from storage.users import Role


async def test_migrations_apply_once(tmp_path: Path) -> None:
    """Opening the database twice applies nothing the second time."""
    path = tmp_path / "twice.sqlite3"
    first = Database(path)
    await first.open()
    versions = await first.fetch_all("SELECT version, name FROM schema_migrations")
    await first.close()
    second = Database(path)
    await second.open()
    again = await second.fetch_all("SELECT version, name FROM schema_migrations")
    await second.close()
    assert [tuple(row) for row in again] == [tuple(row) for row in versions]
    assert len(versions) == len(migration_files())


async def test_pragmas(db: Database) -> None:
    """WAL, foreign keys and a busy timeout are on; only the reader's thread waits for
    another process's lock, the loop's thread never does (storage/db.py)."""
    assert await db.fetch_value("PRAGMA journal_mode") == "wal"
    assert await db.fetch_value("PRAGMA foreign_keys") == 1
    assert (await Queries.fetch_all(db, "PRAGMA busy_timeout"))[0][0] == 5000
    assert await db.fetch_value("PRAGMA busy_timeout") == 0
    assert (await db.fetch_all("PRAGMA busy_timeout"))[0][0] == 0


async def test_slow_read_moves_to_the_readers_thread(db: Database) -> None:
    """A read over its time budget on the loop's thread is re-run on the reader's thread,
    with the same answer, and its statement runs there from then on; quick ones stay."""
    slow = (
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?)"
        " SELECT count(*), sum(x) FROM n"
    )
    rows = await db.fetch_all(slow, (300_000,))
    assert tuple(rows[0]) == (300_000, 300_000 * 300_001 // 2)
    assert slow in db._slow_statements
    row = await db.fetch_one(slow, (10,))
    assert row is not None and tuple(row) == (10, 55)
    quick = "SELECT count(*) FROM schema_migrations"
    assert await db.fetch_value(quick) == len(migration_files())
    assert quick not in db._slow_statements


async def test_failed_transaction_leaves_nothing(db: Database, clock) -> None:
    """An exception inside a transaction rolls back every statement in it."""
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await users.insert_user(
                tx,
                telegram_id=1,
                name="Ann",
                username=None,
                role=Role.ADMIN,
                timezone="UTC",
                locale="en",
                now=clock.now(),
            )
            await audit.record(tx, actor_id=1, action="test", now=clock.now())
            raise RuntimeError("boom")
    assert await users.get_user(db, 1) is None
    assert await db.fetch_value("SELECT count(*) FROM audit_log") == 0


async def test_constraints_refuse_bad_rows(db: Database, clock) -> None:
    """The schema itself refuses an unknown role."""
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO users (telegram_id, name, role, timezone, locale, created_at,"
                " updated_at) VALUES (1, 'x', 'boss', 'UTC', 'en', 'a', 'a')"
            )


def test_time_round_trip() -> None:
    """Times are stored as sortable UTC text and come back aware."""
    moment = dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert to_db_time(moment) == "2026-03-28T23:30:00Z"
    assert from_db_time(to_db_time(moment)) == moment
    with pytest.raises(ValueError, match="naive"):
        to_db_time(dt.datetime(2026, 1, 1))


def test_split_statements_keeps_triggers_whole() -> None:
    """A trigger body's inner semicolons do not split it."""
    script = (
        "CREATE TABLE a (x);\n-- comment\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n"
        "  UPDATE a SET x = 1;\n  UPDATE a SET x = 2;\nEND;\n"
    )
    statements = split_statements(script)
    assert len(statements) == 2
    assert statements[1].endswith("END;")


async def test_backup_and_restore(db: Database, clock, tmp_path: Path) -> None:
    """A backup taken while the database is open restores the same rows."""
    async with db.transaction() as tx:
        await users.insert_user(
            tx,
            telegram_id=7,
            name="Ann",
            username="ann",
            role=Role.HEAD,
            timezone="UTC",
            locale="en",
            now=clock.now(),
        )
    copy = tmp_path / "backup" / "copy.sqlite3"
    assert backup_database(db.path, copy) > 0
    restored = tmp_path / "restored.sqlite3"
    restore_database(copy, restored)
    other = Database(restored)
    await other.open()
    user = await users.get_user(other, 7)
    await other.close()
    assert user is not None and user.name == "Ann" and user.role is Role.HEAD
