"""Numbered SQL migrations in `storage/migrations/`, each applied once in its own transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def migration_files() -> list[Path]:
    """The migration files in the order they apply (`0001_init.sql`, `0002_...`)."""
    return sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))


def split_statements(script: str) -> list[str]:
    """Split a SQL script into complete statements (triggers with inner `;` stay whole)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        ln.strip().startswith("--") or not ln.strip() for ln in buffer.splitlines()
    ):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buffer[:80]!r}")
    return statements


async def apply_migrations(conn: aiosqlite.Connection) -> list[str]:
    """Apply every migration not yet recorded in `schema_migrations`; return their names."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))"
    )
    rows = await conn.execute_fetchall("SELECT version FROM schema_migrations")
    done = {row[0] for row in rows}
    applied: list[str] = []
    for path in migration_files():
        version = int(path.name[:4])
        if version in done:
            continue
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in split_statements(path.read_text(encoding="utf-8")):
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, path.name)
            )
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")
        applied.append(path.name)
    return applied
