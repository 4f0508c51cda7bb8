"""Benchmark the reminder queue: the sweep's claim at scale, and a fan-out burst.

    python -m bench.bench_reminders [--rows 1000000] [--small 10000] [--runs 200]
                                    [--users 3000] [--mode jobqueue|drain|all]
                                    [--skip-claim] [--skip-fanout]

(a) Claim: two databases seeded with bulk SQL, `--small` and `--rows` reminder rows of which
100 are due (the rest sent or cancelled in the past, or pending in the future), 3,000 people.
Times, through the real `Database`, the sweep's selection (`storage.reminders.DUE_SELECT`),
the claim statement (UPDATE ... RETURNING of the 100 rows) and `claim_due` (the statement
plus decoding the rows), each rolled back after every run; `--runs` runs each; prints median
and p99 for both sizes and the query plan. Target: under 5 ms, independent of the table size.

(b) Fan-out: `--users` people, each with a step due now (client, contact, open step, step
reminder), delivered by the real Application (`bot.app.build_application`, its AIORateLimiter
included) to an in-process `FakeBotApiServer(rate_limit_per_second=30)`, which answers 429 to
any send beyond 30 in a one-second window. Modes: `jobqueue` starts the Application and lets
its JobQueue run `bot.jobs.reminders.reminder_sweep` every REMINDER_SWEEP_SECONDS=1
(production: the sweep drains everything due, claiming the next batch while 8 notices are in
flight, and the limiter spaces sends 1/TELEGRAM_MESSAGES_PER_SECOND s apart); `drain` calls
`bot.jobs.reminders.drain_due` once, directly. Reports the time from the first to the last
delivered message against the ideal ((users - 1) / 30 s) as a rate ratio (target >= 0.9), the 429
count (target 0), duplicates and the most sends the server saw in 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import datetime as dt
import logging
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bot.app import build_application, services_of
from bot.clock import FrozenClock
from bot.config import Settings
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.jobs.reminders import drain_due
from storage import reminders
from storage.db import Database, Transaction, to_db_time

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)  # Thursday, outside quiet hours
TOKEN = "123456:BENCH-TOKEN"
FIRST_USER_ID = 100_000
PEOPLE = 3000
DUE_ROWS = 100
CLAIM_LIMIT = 200
RATE = 30
TARGET_CLAIM_MS = 5.0
TARGET_RATIO = 0.9
WARMUP = 10
IN_FLIGHT = 8


@dataclass(frozen=True, slots=True)
class Timing:
    """Median and p99 of one measured operation, in milliseconds."""

    median: float
    p99: float


def _timing(samples: list[float]) -> Timing:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]
    return Timing(statistics.median(ordered) * 1000, p99 * 1000)


async def _migrated(path: Path) -> None:
    database = Database(path)
    await database.open()
    await database.close()


def _seed_users(conn: sqlite3.Connection, count: int) -> list[int]:
    stamp = to_db_time(NOW - dt.timedelta(days=800))
    ids = [FIRST_USER_ID + index for index in range(count)]
    conn.executemany(
        "INSERT INTO users (telegram_id, name, username, role, timezone, locale, created_at,"
        " updated_at) VALUES (?, ?, NULL, 'manager', 'UTC', 'en', ?, ?)",
        [(uid, f"Manager {uid}", stamp, stamp) for uid in ids],
    )
    return ids


# --- (a) the claim --------------------------------------------------------------------------


def _seed_reminders(path: Path, rows: int, rng: random.Random) -> None:
    """`rows` reminders: 100 due, 5% pending in the future, the rest settled in the past."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    users = _seed_users(conn, PEOPLE)
    future = rows // 20
    past = rows - DUE_ROWS - future
    minutes_back = 730 * 24 * 60

    def batch() -> list[tuple[object, ...]]:
        out: list[tuple[object, ...]] = []
        for _ in range(past):
            due = NOW - dt.timedelta(minutes=rng.randint(1, minutes_back))
            if rng.random() < 0.9:
                out.append(
                    (rng.choice(users), "step", 1, to_db_time(due), "sent", to_db_time(due))
                )
            else:
                out.append((rng.choice(users), "step", 1, to_db_time(due), "cancelled", None))
        for _ in range(future):
            due = NOW + dt.timedelta(minutes=rng.randint(1, 365 * 24 * 60))
            out.append((rng.choice(users), "step", 1, to_db_time(due), "pending", None))
        for _ in range(DUE_ROWS):
            due = NOW - dt.timedelta(seconds=rng.randint(0, 600))
            out.append((rng.choice(users), "step", 1, to_db_time(due), "pending", None))
        rng.shuffle(out)  # ids in no particular due order, as in real life
        return out

    conn.executemany(
        "INSERT INTO reminders (user_id, subject, subject_id, due_at, state, sent_at, created_at)"
        f" VALUES (?, ?, ?, ?, ?, ?, '{to_db_time(NOW - dt.timedelta(days=800))}')",
        batch(),
    )
    conn.execute("COMMIT")
    conn.close()


class _Rollback(Exception):
    """Raised to undo a measured claim, so every run claims the same 100 rows."""


async def _measure_claim(path: Path, runs: int) -> tuple[Timing, Timing, Timing, list[str]]:
    """(selection, claim statement, `claim_due` with row decoding, plan) over `runs` runs."""
    db = Database(path)
    await db.open()
    stamp = to_db_time(NOW)
    plan = [
        row["detail"]
        for row in await db.fetch_all(f"EXPLAIN QUERY PLAN {reminders.DUE_SELECT}", (stamp, 1))
    ]
    select_times: list[float] = []
    for index in range(runs + WARMUP):
        started = time.perf_counter()
        selected = await db.fetch_all(reminders.DUE_SELECT, (stamp, CLAIM_LIMIT))
        took = time.perf_counter() - started
        assert len(selected) == DUE_ROWS, len(selected)
        if index >= WARMUP:
            select_times.append(took)

    async def raw(tx: Transaction) -> int:
        rows = await tx.fetch_all(
            "UPDATE reminders SET state = 'sending', claimed_at = ?"
            f" WHERE id IN ({reminders.DUE_SELECT}) RETURNING *",
            (stamp, stamp, CLAIM_LIMIT),
        )
        return len(rows)

    async def decoded(tx: Transaction) -> int:
        return len(await reminders.claim_due(tx, now=NOW, limit=CLAIM_LIMIT))

    timings = [_timing(await _rolled_back(db, claim, runs)) for claim in (raw, decoded)]
    await db.close()
    return _timing(select_times), timings[0], timings[1], plan


async def _rolled_back(
    db: Database, claim: Callable[[Transaction], Awaitable[int]], runs: int
) -> list[float]:
    """Time `claim` in a transaction that is rolled back each time (the same rows every run)."""
    samples: list[float] = []
    for index in range(runs + WARMUP):
        took = 0.0
        try:
            async with db.transaction() as tx:
                started = time.perf_counter()
                count = await claim(tx)
                took = time.perf_counter() - started
                assert count == DUE_ROWS, count
                raise _Rollback
        except _Rollback:
            pass
        if index >= WARMUP:
            samples.append(took)
    return samples


async def bench_claim(sizes: list[int], runs: int, workdir: Path) -> None:
    """Part (a): print the claim table."""
    print(f"\n(a) Sweep claim: {DUE_ROWS} due rows, limit {CLAIM_LIMIT}, {runs} runs each")
    results: list[tuple[int, Timing, Timing, Timing, float]] = []
    plan: list[str] = []
    for size in sizes:
        path = workdir / f"claim_{size}.sqlite3"
        await _migrated(path)
        started = time.perf_counter()
        _seed_reminders(path, size, random.Random(size))
        seeded = time.perf_counter() - started
        select, claim, decoded, plan = await _measure_claim(path, runs)
        results.append((size, select, claim, decoded, seeded))
    print(f"    plan of the selection: {' | '.join(plan)}")
    print("    median / p99 in ms; 'claim' = the UPDATE ... RETURNING statement,")
    print("    'claim_due' = storage.reminders.claim_due (the statement + decoding 100 rows)")
    print(
        f"    {'rows':>10} | {'select':>15} | {'claim':>15} | {'claim_due':>15} | {'seeded in':>9}"
    )
    for size, select, claim, decoded, seeded in results:
        cells = " | ".join(f"{t.median:>6.3f} / {t.p99:>6.3f}" for t in (select, claim, decoded))
        print(f"    {size:>10,} | {cells} | {seeded:>7.1f} s")
    for label, index in (("claim", 2), ("claim_due", 3)):
        worst = max(row[index].p99 for row in results)  # type: ignore[union-attr]
        verdict = "OK" if worst < TARGET_CLAIM_MS else "MISSED"
        print(f"    target: {label} p99 < {TARGET_CLAIM_MS} ms at every size -> {verdict}")


# --- (b) the fan-out ------------------------------------------------------------------------


def _seed_fanout(path: Path, count: int) -> list[int]:
    """`count` managers, each with one client, a contact, an open call due now, a reminder."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    users = _seed_users(conn, count)
    earlier = to_db_time(NOW - dt.timedelta(days=1))
    due = to_db_time(NOW - dt.timedelta(seconds=1))
    for index, uid in enumerate(users, start=1):
        name = f"Client {index}"
        conn.execute(
            "INSERT INTO clients (id, owner_id, name, name_key, contact_person, phone_e164,"
            " search_key, last_contact_at, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 'Ivan Petrov', '+442079460958', ?, ?, ?, ?)",
            (index, uid, name, name.casefold(), name.casefold(), earlier, earlier, earlier),
        )
        conn.execute(
            "INSERT INTO contacts (id, client_id, manager_id, kind, happened_at, summary, state,"
            " outcome, logged_at, resolved_at)"
            " VALUES (?, ?, ?, 'call', ?, 'Asked for prices', 'complete', 'scheduled', ?, ?)",
            (index, index, uid, earlier, earlier, earlier),
        )
        conn.execute(
            "INSERT INTO steps (id, client_id, manager_id, created_by_contact_id, kind, due_at,"
            " agenda, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 'call', ?, 'Send the price list', ?, ?)",
            (index, index, uid, index, due, earlier, earlier),
        )
        conn.execute(
            "INSERT INTO reminders (user_id, subject, subject_id, due_at, created_at)"
            " VALUES (?, 'step', ?, ?, ?)",
            (uid, index, due, earlier),
        )
    conn.execute("COMMIT")
    conn.close()
    return users


@dataclass(frozen=True, slots=True)
class FanOut:
    """What one fan-out run measured."""

    mode: str
    users: int
    seconds: float
    delivered: int
    count_429: int
    duplicates: int
    max_per_second: int
    sweeps: int

    @property
    def ratio(self) -> float:
        """The achieved rate as a share of the limit (ideal time / actual time)."""
        ideal = (self.users - 1) / RATE  # n sends at 30/s span (n-1)/30 s from first to last
        return ideal / self.seconds if self.seconds else 0.0


def _max_in_window(stamps: list[float], window: float = 1.0) -> int:
    ordered = sorted(stamps)
    return max(
        (bisect.bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)), default=0
    )


async def _run_fanout(mode: str, count: int, workdir: Path) -> FanOut:
    path = workdir / f"fanout_{mode}.sqlite3"
    await _migrated(path)
    users = _seed_fanout(path, count)
    server = FakeBotApiServer(token=TOKEN, rate_limit_per_second=RATE)
    await server.start()
    for uid in users:
        server.user(uid, f"Manager {uid}")
    stamps: list[float] = []
    original = server.world.bot_send

    def timed_send(chat, message):  # type: ignore[no-untyped-def]
        stamps.append(time.perf_counter())
        return original(chat, message)

    server.world.bot_send = timed_send  # type: ignore[method-assign]
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        bot_token=TOKEN,
        database_url=f"sqlite:///{path}",
        telegram_base_url=server.base_url,
        reminder_sweep_seconds=1,
    )
    application = build_application(settings, clock=FrozenClock(NOW))
    db = services_of(application).db

    async def delivered() -> int:
        value = await db.fetch_value(
            "SELECT count(*) FROM reminders WHERE subject = 'step' AND state = 'sent'"
        )
        return int(value or 0)

    sweeps = 0
    await application.initialize()
    assert application.post_init is not None
    await application.post_init(application)  # opens the database, schedules the sweep
    try:
        started = time.perf_counter()
        if mode == "drain":
            await drain_due(application.bot, services_of(application))
            sweeps = 1
        else:
            await application.start()  # the JobQueue runs the sweep every second
            # Polling the database is the point: it is where "sent" is recorded.
            while await delivered() < count and time.perf_counter() - started < 600:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            await application.stop()
        sent = await delivered()
    finally:
        if application.running:
            await application.stop()
        await application.shutdown()
        assert application.post_shutdown is not None
        await application.post_shutdown(application)
        await server.stop()
    reminder_messages = list(stamps)
    duplicates = sum(max(0, len(server.user(uid, f"Manager {uid}").messages) - 1) for uid in users)
    seconds = max(reminder_messages) - min(reminder_messages) if reminder_messages else 0.0
    if server.violations:
        print(f"    !! {len(server.violations)} Bot API violations, e.g. {server.violations[0]}")
    return FanOut(
        mode=mode,
        users=count,
        seconds=seconds,
        delivered=sent,
        count_429=server.count_429,
        duplicates=duplicates,
        max_per_second=_max_in_window(reminder_messages),
        sweeps=sweeps,
    )


async def bench_fanout(modes: list[str], count: int, workdir: Path) -> None:
    """Part (b): print the fan-out table."""
    print(
        f"\n(b) Fan-out: {count:,} step reminders for {count:,} people due at once, "
        f"fake Bot API at {RATE} msg/s (ideal {count / RATE:.0f} s), the app's own limiter"
    )
    results = [await _run_fanout(mode, count, workdir) for mode in modes]
    print(
        f"    {'mode':>8} | {'delivered':>9} | {'first→last':>10} | {'rate ratio':>10} | "
        f"{'429s':>5} | {'dupes':>5} | {'max/1s':>6} | {'sweeps':>6}"
    )
    for r in results:
        print(
            f"    {r.mode:>8} | {r.delivered:>9,} | {r.seconds:>8.1f} s | {r.ratio:>10.3f} | "
            f"{r.count_429:>5} | {r.duplicates:>5} | {r.max_per_second:>6} | "
            f"{r.sweeps if r.mode != 'jobqueue' else '-':>6}"
        )
    for r in results:
        ok = r.ratio >= TARGET_RATIO and r.count_429 == 0 and r.delivered == r.users
        print(
            f"    {r.mode}: target ratio >= {TARGET_RATIO}, 0 x 429, all delivered once -> "
            f"{'OK' if ok and not r.duplicates else 'MISSED'}"
        )


async def main(argv: list[str] | None = None) -> None:
    """Run the benchmarks asked for."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--users", type=int, default=PEOPLE)
    parser.add_argument("--mode", choices=("jobqueue", "drain", "all"), default="all")
    parser.add_argument("--skip-claim", action="store_true")
    parser.add_argument("--skip-fanout", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    # A sweep that outlasts its interval makes APScheduler skip runs, noisily; that is expected.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="bench_reminders_") as tmp:
        workdir = Path(tmp)
        steps: list[Callable[[], Awaitable[None]]] = []
        if not args.skip_claim:
            steps.append(lambda: bench_claim([args.small, args.rows], args.runs, workdir))
        if not args.skip_fanout:
            modes = ["jobqueue", "drain"] if args.mode == "all" else [args.mode]
            steps.append(lambda: bench_fanout(modes, args.users, workdir))
        for step in steps:
            await step()


if __name__ == "__main__":
    asyncio.run(main())
