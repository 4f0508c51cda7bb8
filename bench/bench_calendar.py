"""Benchmark the calendar feed through the bot's own HTTP server (issue 21).

    python -m bench.bench_calendar [--steps 2000] [--team 20000] [--runs 300]

Seeds a temporary database with bulk SQL: one manager with `--steps` open steps inside the
feed's window (30 days back to 180 ahead; calls, meetings, emails, with agendas, contact
persons and phones), 99 other managers sharing `--team` open steps in all, and a head. Then
starts `bot/web/server.py` with the calendar route on 127.0.0.1 and times GET requests with
aiohttp (the round trip, client included), for:

- 304: the calendar app's If-None-Match is current (the common poll);
- 200, unchanged: no If-None-Match, the feed's body cached;
- 200 after one step changed: the ETag moves, 1 event is rebuilt, the rest are cached;
- 200 cold: every cache emptied first (after a restart), every event built (on a thread).

The head's team feed (every open step) is timed the same way. Targets: a feed of 2,000
steps under 50 ms p99, a 304 under 5 ms p99.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from bot.clock import FrozenClock
from bot.config import Settings
from bot.services import calendar
from bot.telegram.context import Services
from bot.web.calendar_feed import calendar_routes
from bot.web.server import WebServer
from storage.db import Database, to_db_time
from storage.users import get_user

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
MANAGER_ID = 1000
HEAD_ID = 2
OTHERS = 99
KINDS = ("call", "call", "meeting", "email", "visit", "other")
TARGET_FEED_MS = 50.0
TARGET_304_MS = 5.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


async def seed(db: Database, *, steps: int, team: int) -> None:
    """Bulk rows: users, a client, a contact and an open step per step wanted."""
    rng = random.Random(21)
    now = to_db_time(NOW)
    async with db.transaction() as tx:
        people = [(HEAD_ID, "Hana Head", "head"), (MANAGER_ID, "Mia Manager", "manager")]
        people += [(MANAGER_ID + n, f"Manager {n}", "manager") for n in range(1, OTHERS + 1)]
        await tx.executemany(
            "INSERT INTO users (telegram_id, name, role, timezone, locale, created_at,"
            " updated_at) VALUES (?, ?, ?, 'Europe/London', 'en', ?, ?)",
            [(pid, name, role, now, now) for pid, name, role in people],
        )
        owners = [MANAGER_ID] * steps + [
            MANAGER_ID + 1 + n % OTHERS for n in range(max(0, team - steps))
        ]
        for index, owner in enumerate(owners, start=1):
            name = f"Client {index:05} Outdoor GmbH"
            await tx.execute(
                "INSERT INTO clients (id, owner_id, name, name_key, contact_person, phone_e164,"
                " search_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    index,
                    owner,
                    name,
                    name.lower(),
                    f"Person {index}",
                    f"+4420794{index:05}",
                    name.lower(),
                    now,
                    now,
                ),
            )
            await tx.execute(
                "INSERT INTO contacts (id, client_id, manager_id, kind, happened_at, summary,"
                " state, outcome, logged_at, resolved_at) VALUES (?, ?, ?, 'call', ?,"
                " 'Talked prices', 'complete', 'scheduled', ?, ?)",
                (index, index, owner, now, now, now),
            )
            due = NOW + dt.timedelta(minutes=rng.randrange(-29 * 24 * 60, 179 * 24 * 60))
            await tx.execute(
                "INSERT INTO steps (id, client_id, manager_id, created_by_contact_id, kind,"
                " due_at, agenda, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    index,
                    index,
                    owner,
                    index,
                    KINDS[index % len(KINDS)],
                    to_db_time(due),
                    f"Go through the offer for order {index} and agree the delivery dates",
                    now,
                    now,
                ),
            )


async def timed(runs: int, call: Callable[[], Awaitable[int]], expect: int) -> list[float]:
    """Milliseconds per call; each must answer `expect`."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        status = await call()
        times.append((time.perf_counter() - start) * 1000)
        assert status == expect, status
    return times


async def bench(steps: int, team: int, runs: int) -> None:
    """Seed, serve, time, print the table."""
    with tempfile.TemporaryDirectory() as folder:
        db = Database(Path(folder) / "bench.sqlite3")
        await db.open()
        await seed(db, steps=steps, team=team)
        clock = FrozenClock(NOW)
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        services = Services(settings=settings, db=db, clock=clock)
        web = WebServer(
            calendar_routes(services),
            host="127.0.0.1",
            port=0,
            public_url=None,
            port_variable="CALENDAR_PORT",
        )
        await web.start()
        mia = await get_user(db, MANAGER_ID)
        head = await get_user(db, HEAD_ID)
        assert mia is not None and head is not None
        mine = await calendar.new_feed_link(db, clock, actor=mia)
        hers = await calendar.new_feed_link(db, clock, actor=head)
        await calendar.set_include_team(db, clock, actor=head, include=True)
        rows: list[tuple[str, list[float], float | None]] = []
        counter = [0]
        async with aiohttp.ClientSession() as session:

            async def get(token: str, etag: str | None = None) -> int:
                headers = {"If-None-Match": etag} if etag else {}
                url = f"{web.public_url}/calendar/{token}.ics"
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    return response.status

            async def first(token: str) -> tuple[str, int]:
                url = f"{web.public_url}/calendar/{token}.ics"
                async with session.get(url) as response:
                    body = await response.read()
                    return response.headers["ETag"], body.count(b"BEGIN:VEVENT")

            async def touch_one(owner: int) -> None:
                counter[0] += 1
                async with db.transaction() as tx:
                    await tx.execute(
                        "UPDATE steps SET agenda = ?, updated_at = ? WHERE id = ("
                        " SELECT id FROM steps WHERE manager_id = ? ORDER BY id LIMIT 1)",
                        (
                            f"Changed {counter[0]}",
                            to_db_time(NOW + dt.timedelta(seconds=counter[0])),
                            owner,
                        ),
                    )

            for label, token, owner, size in (
                (f"manager's feed ({steps:,} steps)", mine.token, MANAGER_ID, steps),
                (f"head's team feed ({team:,} steps)", hers.token, MANAGER_ID, team),
            ):
                etag, events = await first(token)
                assert events == size, (events, size)
                for _ in range(20):  # warm-up
                    await get(token)
                rows.append(
                    (
                        f"{label}: 304 (If-None-Match current)",
                        await timed(runs, lambda t=token, e=etag: get(t, e), 304),
                        TARGET_304_MS,
                    )
                )
                rows.append(
                    (
                        f"{label}: 200 unchanged",
                        await timed(runs, lambda t=token: get(t), 200),
                        TARGET_FEED_MS,
                    )
                )

                async def changed(t: str = token, o: int = owner) -> int:
                    await touch_one(o)
                    return await get(t)

                rows.append(
                    (
                        f"{label}: 200 after one step changed",
                        await timed(max(20, runs // 5), changed, 200),
                        TARGET_FEED_MS,
                    )
                )

                async def cold(t: str = token) -> int:
                    calendar.clear_caches()
                    return await get(t)

                rows.append(
                    (
                        f"{label}: 200 cold (caches empty)",
                        await timed(max(5, runs // 30), cold, 200),
                        None,
                    )
                )
        await web.stop()
        await db.close()
    print(f"\nCalendar feed through HTTP (127.0.0.1, aiohttp client), {runs} runs:\n")
    print("| request | median | p99 | max | target |")
    print("|---|---|---|---|---|")
    for label, times, target in rows:
        p99 = _pct(times, 0.99)
        verdict = "—" if target is None else f"< {target:g} ms " + ("✓" if p99 < target else "✗")
        print(
            f"| {label} | {statistics.median(times):.2f} ms | {p99:.2f} ms | "
            f"{max(times):.2f} ms | {verdict} |"
        )


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--team", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(bench(args.steps, args.team, args.runs))


if __name__ == "__main__":
    main()
