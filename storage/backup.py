"""Online backup and restore with SQLite's backup API (safe while the bot is writing)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def backup_database(source: Path, target: Path) -> int:
    """Copy a consistent snapshot of `source` to `target`; return the number of pages copied."""
    if not source.exists():
        raise FileNotFoundError(f"no database at {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.execute("PRAGMA busy_timeout = 5000")
        src.backup(dst, pages=256)
        pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
    if check != "ok":
        raise RuntimeError(f"the backup failed its integrity check: {check}")
    return pages


def restore_database(backup: Path, target: Path) -> None:
    """Replace `target` with the contents of `backup` (stop the bot first)."""
    if not backup.exists():
        raise FileNotFoundError(f"no backup at {backup}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(backup) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
