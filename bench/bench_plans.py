"""Benchmark plans and refusals for a big team.

    python -m bench.bench_plans [--contacts 300000] [--week 10000] [--managers 100] [--runs 5]

Seeds the digest benchmark's database (bench/bench_digest.py: `--managers` managers with
200 clients each, `--contacts` contacts, `--week` of them in week 48 of 2026, invoices and
payments), then gives every manager a November plan with six targets (two currencies) and
makes every 20th contact of November a refusal with typed words (a tenth of them without a
stored preset, as refusals recorded before presets existed). Then, `--runs` times after a
warm-up, measures: a head's `/plan` (every manager's progress and the text), a manager's
own `/plan`, the head's `/refusals` (report and text), and what the weekly digest adds (the
plans as of the week's end and the week's refusals with the four weeks before), and the
whole `build_team_digest` with them.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.bench_digest import FIRST_MANAGER_ID, HEAD_ID, NOW, WEEK, seed
from bot.clock import FrozenClock
from bot.services import plans, refusal_reasons
from bot.services.digest.figures import build_team_digest
from bot.services.months import Month
from bot.views.plans import render_person_plan, render_team_plan
from bot.views.refusal_reasons import render_report
from storage.db import Database
from storage.users import get_user

PHRASES = ("too expensive", "not now", "went with a competitor", "no budget", "they said no")


def add_plans_and_refusals(path: Path, managers: int) -> tuple[int, int]:
    """Plans for every manager and refusals among November's contacts; returns the counts."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for index in range(managers):
            manager_id = FIRST_MANAGER_ID + index
            cursor = conn.execute(
                "INSERT INTO plans (manager_id, month, set_by, set_at) VALUES (?, ?, ?, ?)",
                (manager_id, "2026-11", HEAD_ID, "2026-11-02T08:00:00Z"),
            )
            conn.executemany(
                "INSERT INTO plan_targets (plan_id, metric, currency, target) VALUES (?,?,?,?)",
                [
                    (cursor.lastrowid, "contacts", "", 120),
                    (cursor.lastrowid, "meetings", "", 30),
                    (cursor.lastrowid, "new_clients", "", 5),
                    (cursor.lastrowid, "won", "", 10),
                    (cursor.lastrowid, "collected", "EUR", 5_000_000),
                    (cursor.lastrowid, "collected", "USD", 2_000_000),
                ],
            )
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM contacts WHERE happened_at >= '2026-11-01' AND"
                " happened_at < '2026-12-01' AND state = 'complete' AND id % 20 = 0"
            )
        ]
        for number, contact_id in enumerate(ids):
            words = PHRASES[number % len(PHRASES)]
            preset = None if number % 10 == 0 else refusal_reasons.preset_for(words).value
            conn.execute(
                "UPDATE contacts SET outcome = 'refused', outcome_reason = ?,"
                " refusal_reason = ? WHERE id = ?",
                (words, preset, contact_id),
            )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return managers, len(ids)


async def timed(fn: Callable[[], Awaitable[object]], runs: int) -> tuple[float, float]:
    """(median, worst) seconds of `runs` runs after a warm-up."""
    await fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), max(samples)


async def measure(path: Path, runs: int) -> list[tuple[str, float, float]]:
    """Each operation's median and worst."""
    db = Database(path)
    await db.open()
    clock = FrozenClock(NOW)
    head = await get_user(db, HEAD_ID)
    manager = await get_user(db, FIRST_MANAGER_ID)
    assert head is not None and manager is not None
    month = Month(2026, 11)

    async def head_plan() -> None:
        team = await plans.team_plan(db, clock, actor=head, month=month)
        render_team_plan(team, head)

    async def own_plan() -> None:
        plan = await plans.own_plan(db, clock, actor=manager, month=month)
        render_person_plan(plan, manager, own=True)

    async def head_refusals() -> None:
        report = await refusal_reasons.refusal_report(db, clock, actor=head, month=month)
        render_report(report, head)

    async def digest_plans() -> None:
        await plans.digest_plans(db, as_of=WEEK.end, until_cutoff=True)

    async def digest_refusals() -> None:
        await refusal_reasons.digest_refusals(db, start=WEEK.start, end=WEEK.end)

    async def whole_digest() -> None:
        await build_team_digest(db, week=WEEK, now=NOW)

    results = []
    try:
        for name, fn in (
            ("head's /plan (every manager, text)", head_plan),
            ("manager's own /plan", own_plan),
            ("head's /refusals (report, text)", head_refusals),
            ("digest: plans as of the week's end", digest_plans),
            ("digest: the week's refusals + 4 weeks", digest_refusals),
            ("digest: build_team_digest, all of it", whole_digest),
        ):
            median, worst = await timed(fn, runs)
            results.append((name, median, worst))
    finally:
        await db.close()
    return results


def main(argv: list[str] | None = None) -> None:
    """Seed, measure, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=300_000)
    parser.add_argument("--week", type=int, default=10_000)
    parser.add_argument("--managers", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        seconds = seed(path, args.managers, args.contacts, args.week)
        managers, refused = add_plans_and_refusals(path, args.managers)
        print(
            f"{args.managers} managers, {args.contacts:,} contacts ({args.week:,} in the week), "
            f"{managers} plans, {refused:,} refusals in November; seeded in {seconds:.1f} s"
        )
        print("| operation | median | worst |\n|---|---|---|")
        for name, median, worst in asyncio.run(measure(path, args.runs)):
            print(f"| {name} | {median * 1000:.0f} ms | {worst * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
