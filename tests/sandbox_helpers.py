"""Shared by the sandbox tests: settings in a temporary folder, a clock at a set moment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import aiohttp

from bot.clock import SystemClock
from bot.config import Settings

# Thursday 10:00 in Berlin (the demo team's zone): office hours, no quiet hours.
SANDBOX_START = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
PAGE_HEADERS = {"X-NextStep-Sandbox": "1"}


def settings_in(folder: Path) -> Settings:
    """Settings whose production and sandbox databases are in `folder` (no .env read)."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite:///{folder / 'production.sqlite3'}",
        sandbox_database_url=f"sqlite:///{folder / 'sandbox.sqlite3'}",
    )


def clock_at(moment: dt.datetime) -> SystemClock:
    """A running clock that reads `moment` now (the sandbox's kind: it can fast-forward)."""
    return SystemClock(offset=moment - SystemClock().now())


async def post(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> Any:
    """POST JSON to the page's API as the page does; the answer's JSON (status checked)."""
    async with session.post(url, json=body, headers=PAGE_HEADERS) as response:
        assert response.status == 200, await response.text()
        return await response.json()
