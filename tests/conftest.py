"""Shared fixtures: a migrated database, a frozen clock, and the running bot for e2e tests."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.app import build_application, polling
from bot.clock import FrozenClock
from bot.config import Settings
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.workers import digest as digest_workers
from storage.db import Database

os.environ.setdefault("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as timedelta, no warning

START = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True, scope="session")
def _stop_digest_workers() -> Iterator[None]:
    """No digest worker process outlives the tests (tests that plan a digest without the
    Application, whose shutdown stops them, share the pool until the end)."""
    yield
    digest_workers.shutdown()


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


# --- End-to-end: the real Application, polling the fake Bot API server over HTTP ----------

TOKEN = "123456:TEST-TOKEN-for-e2e"
ADMIN_ID = 1001


@pytest.fixture
async def server() -> AsyncIterator[FakeBotApiServer]:
    """The fake Bot API server; any request that breaks the Bot API spec fails the test."""
    fake = FakeBotApiServer(token=TOKEN)
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.violations == [], "requests that break the Bot API specification"


@pytest.fixture
def e2e_settings(tmp_path: Path, server: FakeBotApiServer) -> Settings:
    """Settings pointing the bot at the fake server and a fresh database (no .env read)."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        bot_token=TOKEN,
        database_url=f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
        telegram_base_url=server.base_url,
        admin_telegram_ids=(ADMIN_ID,),
        default_timezone="Europe/London",
        reminder_sweep_seconds=1,
    )


@pytest.fixture
async def app(e2e_settings: Settings, clock: FrozenClock) -> AsyncIterator[Application]:
    """The bot, running with long polling against the fake server."""
    application = build_application(e2e_settings, clock=clock)
    async with polling(application, poll_timeout=1):
        yield application
