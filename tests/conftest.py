"""Shared fixtures: a migrated database, a frozen clock, and the running bot for e2e tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from storage.db import Database

START = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> FrozenClock:
    """A clock frozen at Thursday 2026-11-26 09:00 UTC."""
    return FrozenClock(START)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh, migrated database file."""
    database = Database(tmp_path / "test.sqlite3")
    await database.open()
    yield database
    await database.close()
