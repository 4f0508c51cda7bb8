"""Migration 0009 on a database that already holds people, requests and invitations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from storage.db import Database
from storage.migrate import migration_files, split_statements

T = "2026-11-20T09:00:00Z"


async def test_migration_closes_members_requests_and_keeps_the_rest(tmp_path: Path) -> None:
    """A request still pending for someone who is already a member is closed; a stranger's
    stays pending, decided ones keep their state, and invitations gain the revoked columns."""
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path) as conn:
        await conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL DEFAULT 'then')"
        )
        for migration in migration_files():
            if int(migration.name[:4]) >= 9:
                continue
            for statement in split_statements(migration.read_text(encoding="utf-8")):
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                (int(migration.name[:4]), migration.name),
            )
        await conn.execute(
            "INSERT INTO users (telegram_id, name, role, timezone, locale, created_at,"
            " updated_at) VALUES (1, 'Ann', 'admin', 'UTC', 'en', ?, ?),"
            " (2, 'Bo', 'manager', 'UTC', 'en', ?, ?)",
            (T, T, T, T),
        )
        await conn.execute("UPDATE users SET active = 0 WHERE telegram_id = 2")
        await conn.execute(
            "INSERT INTO access_requests (id, telegram_id, name, state, requested_at, role,"
            " decided_by, decided_at) VALUES (10, 2, 'Bo', 'pending', ?, NULL, NULL, NULL),"
            " (11, 3, 'Cy', 'pending', ?, NULL, NULL, NULL),"
            " (12, 4, 'Di', 'approved', ?, 'manager', 1, ?)",
            (T, T, T, T),
        )
        await conn.execute(
            "INSERT INTO invites (token_hash, role, created_by, created_at, expires_at)"
            " VALUES ('h', 'manager', 1, ?, ?)",
            (T, T),
        )
        await conn.commit()
    db = Database(path)
    await db.open()
    try:
        rows = await db.fetch_all("SELECT id, state FROM access_requests ORDER BY id")
        assert [tuple(row) for row in rows] == [(10, "closed"), (11, "pending"), (12, "approved")]
        invite = await db.fetch_one("SELECT revoked_at, revoked_by FROM invites")
        assert invite is not None and tuple(invite) == (None, None)
        with pytest.raises(sqlite3.IntegrityError):  # still one pending request per person
            async with db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO access_requests (telegram_id, name, requested_at)"
                    " VALUES (3, 'Cy', ?)",
                    (T,),
                )
    finally:
        await db.close()
