"""Benchmark the weekly digest: figures, text, chart and spreadsheet for a big team.

    python -m bench.bench_digest [--contacts 1000000] [--week 10000] [--managers 100]
                                 [--runs 5] [--database PATH]

Seeds a temporary database (or `--database`, kept for later runs) with bulk SQL (one
transaction, no services): `--managers` managers and a head, 200 clients per manager,
`--contacts` contacts of which `--week` happened in the reported week (Mon 23 – Sun 29 Nov
2026, Europe/London; working hours, all kinds, most concluded within minutes, some later,
some never), the rest spread over the two years before. Every contact of the last two weeks
has its step (the latest per client open, with overdue ones among them); 2,000 snoozes and
reschedules in the week; an invoice per client (a third open, aged up to 120 days), 3,000
payments and 300 settled promises in the week.

Then, `--runs` times after a warm-up run, measures the head's digest of that week:

1. Each stage alone, one after another in this process (what each costs on its own):
   figures (`build_team_digest`: every SQL aggregate, totals, the same part of the week
   before, the attention list), the summary's text and buttons, the chart (matplotlib),
   the spreadsheet's rows and its workbook (openpyxl, write-only).
2. Delivered as the bot does it (`plan_parts`, each part awaited in order, without the
   sending): when the summary is ready, when the chart (drawn by a worker process) is; the
   bot process's CPU; the event loop's longest stall (the worst lateness of a 5 ms ticker:
   what other people's updates would wait).
3. On request, as the buttons do it: the spreadsheet (`make_workbook`: a worker process
   reads the rows and writes the file; the loop watched meanwhile), a manager's week,
   Receivables and Discipline.

Then the worker processes' memory (RSS), and their stop once idle for 10 minutes (the idle
check given a moment 10 minutes on; nothing sleeps). Targets (worst of the runs): summary
≤ 0.5 s, summary + chart ≤ 1.5 s, the loop never stalls > 20 ms, the spreadsheet ≤ 3 s. The
warm-up run is the first digest after start-up, the workers starting with it; its times are
printed too. Prints the load average before and after: other work on the machine slows
every stage.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bot.clock import FrozenClock
from bot.services import clients as client_rules
from bot.services.digest.figures import (
    Week,
    build_discipline,
    build_own_summary,
    build_team_digest,
    week_records,
)
from bot.views.digest import (
    person_keyboard,
    render_discipline,
    render_person,
    render_receivables,
    render_summary,
    summary_keyboard,
    visible_length,
)
from bot.workers import digest as digest_workers
from bot.workers import pool
from bot.workers.digest import chart_part, document_part, make_workbook, plan_parts
from storage.db import Database, to_db_time
from storage.digest_ledger import DigestKind
from storage.users import User, get_user

ZONE = "Europe/London"
WEEK = Week.parse("2026-W48", ZONE)
NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)  # Monday 09:00: the digest is due
HEAD_ID = 2
FIRST_MANAGER_ID = 1000
CLIENTS_PER_MANAGER = 200
HISTORY_DAYS = 730
KINDS = ("call", "call", "call", "meeting", "email", "message", "visit")
WORDS = ("Acme", "Northwind", "Globex", "Initech", "Umbrella", "Вектор", "Café Lumière", "Zoë")
TRADES = ("Logistics", "Foods", "Steel", "Pharma", "Retail", "Трейд", "Systems")


class Seeder:
    """The rows, generated deterministically."""

    def __init__(self, managers: int, contacts: int, week: int) -> None:
        self.managers = managers
        self.clients = managers * CLIENTS_PER_MANAGER
        self.contacts = contacts
        self.week = week
        self.rng = random.Random(20261130)
        self._times: dict[int, str] = {}
        self.latest: dict[int, tuple[int, int]] = {}  # client -> (contact id, seconds)

    def stamp(self, seconds: int) -> str:
        """WEEK.start plus seconds, as stored (cached: many repeat)."""
        text = self._times.get(seconds)
        if text is None:
            text = to_db_time(WEEK.start + dt.timedelta(seconds=seconds))
            self._times[seconds] = text
        return text

    def owner(self, client_id: int) -> int:
        """Clients dealt to managers in turn."""
        return FIRST_MANAGER_ID + (client_id - 1) % self.managers

    def users(self) -> list[tuple[object, ...]]:
        """A head and the managers."""
        joined = self.stamp(-(HISTORY_DAYS + 1) * 86400)
        people = [(HEAD_ID, "Head of Sales", "head")]
        people += [
            (FIRST_MANAGER_ID + n, f"Manager {n:03d} Surname", "manager")
            for n in range(self.managers)
        ]
        return [(uid, name, role, ZONE, "en", joined, joined) for uid, name, role in people]

    def client_rows(self) -> Iterator[tuple[object, ...]]:
        """The clients."""
        created = self.stamp(-(HISTORY_DAYS + 1) * 86400)
        for client_id in range(1, self.clients + 1):
            name = f"{self.rng.choice(WORDS)} {self.rng.choice(TRADES)} {client_id}"
            yield (
                client_id,
                self.owner(client_id),
                name,
                client_rules.name_key(name),
                client_rules.search_key(name, None, (), None),
                created,
                created,
            )

    def contact_rows(self) -> Iterator[tuple[object, ...]]:
        """History first (ids grow with time), then the week; the week's contacts happen in
        working hours, Monday to Friday, and most get their next step within minutes."""
        history = self.contacts - self.week
        rng = self.rng
        span = HISTORY_DAYS * 86400
        for n in range(history):
            seconds = -span + n * span // max(history, 1)
            client = n % self.clients + 1
            self.latest[client] = (n + 1, seconds)
            at = self.stamp(seconds)
            yield (n + 1, client, self.owner(client), KINDS[n % 7], at, "Earlier talk",
                   "complete", "scheduled", at, self.stamp(seconds + 120))  # fmt: skip
        for n in range(self.week):
            contact_id = history + n + 1
            day = n % 5
            seconds = day * 86400 + 8 * 3600 + (n * 7919) % (9 * 3600)
            client = rng.randrange(1, self.clients + 1)
            self.latest[client] = (contact_id, seconds)
            roll = rng.random()
            if roll < 0.06:
                state, outcome, resolved = "needs_next_step", None, None
            else:
                delay = 60 if roll < 0.8 else (1800 if roll < 0.9 else 30000)
                state, resolved = "complete", self.stamp(seconds + delay)
                outcome = ("scheduled", "scheduled", "scheduled", "won", "paused")[n % 5]
            at = self.stamp(seconds)
            yield (contact_id, client, self.owner(client), KINDS[n % 7], at,
                   "Discussed the order", state, outcome, at, resolved)  # fmt: skip

    def step_rows(self) -> Iterator[tuple[object, ...]]:
        """A step per contact of the last two weeks; the latest per client open."""
        first = max(1, self.contacts - 2 * self.week)
        latest = {contact for contact, _ in self.latest.values()}
        step_id = 0
        for client in range(1, self.clients + 1):
            contact, seconds = self.latest[client]
            if contact < first:
                continue
            step_id += 1
            due = seconds + (self.rng.randrange(-10, 10) * 86400)
            yield (step_id, client, self.owner(client), contact, "call", self.stamp(due), "open",
                   None, self.stamp(seconds), self.stamp(seconds))  # fmt: skip
        # Done steps of the previous week's contacts, due (and done) in the week.
        for contact in range(first, self.contacts - self.week + 1):
            if contact in latest:
                continue
            client = (contact - 1) % self.clients + 1
            step_id += 1
            due = (contact - first) * 5 * 86400 // max(self.week, 1)
            yield (step_id, client, self.owner(client), contact, "meeting", self.stamp(due),
                   "done", contact, self.stamp(-7 * 86400), self.stamp(due))  # fmt: skip

    def event_rows(self, steps: int) -> Iterator[tuple[object, ...]]:
        """Snoozes and reschedules in the week."""
        for n in range(2000):
            step = n * 7 % steps + 1
            actor = FIRST_MANAGER_ID + n % self.managers
            action = "snooze" if n % 4 else "reschedule"
            yield (step, actor, actor, action, self.stamp(n * 200))

    def invoice_rows(self) -> Iterator[tuple[object, ...]]:
        """An invoice per client: a third open (due from 120 days ago to 30 ahead)."""
        for client in range(1, self.clients + 1):
            open_ = client % 3 == 0
            due = WEEK.monday + dt.timedelta(days=(client * 37) % 150 - 120)
            issued = due - dt.timedelta(days=30)
            amount = 10_000 + client * 13 % 500_000
            paid = 0 if open_ else amount
            yield (client, client, f"INV-{client}", f"inv-{client}", ("EUR", "USD")[client % 2],
                   amount, paid, issued.isoformat(), due.isoformat(),
                   "open" if open_ else "paid", None if open_ else due.isoformat(),
                   self.owner(client), self.stamp(-86400 * 200),
                   self.stamp(-86400 * 200))  # fmt: skip

    def payment_rows(self) -> Iterator[tuple[object, ...]]:
        """Payments in the week against the paid invoices."""
        for n in range(3000):
            client = (n * 3 + 1) % self.clients + 1
            if client % 3 == 0:
                client += 1
            day = WEEK.monday + dt.timedelta(days=n % 7)
            yield (client, 100, day.isoformat(), self.owner(client), self.stamp(n * 100))

    def promise_rows(self) -> Iterator[tuple[object, ...]]:
        """Promises settled in the week."""
        for n in range(300):
            invoice = (n * 3 + 3) % self.clients + 1
            state = "kept" if n % 3 else "broken"
            yield (invoice, WEEK.monday.isoformat(), state, self.owner(invoice),
                   self.stamp(-86400), self.stamp(n * 1000))  # fmt: skip


def seed(path: Path, managers: int, contacts: int, week: int) -> float:
    """Create and fill the database; returns the seconds it took."""
    started = time.perf_counter()
    asyncio.run(_migrate(path))
    seeder = Seeder(managers, contacts, week)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO users (telegram_id, name, role, timezone, locale, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            seeder.users(),
        )
        conn.executemany(
            "INSERT INTO clients (id, owner_id, name, name_key, search_key, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            seeder.client_rows(),
        )
        conn.executemany(
            "INSERT INTO contacts (id, client_id, manager_id, kind, happened_at, summary, state,"
            " outcome, logged_at, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            seeder.contact_rows(),
        )
        conn.execute(
            "UPDATE clients SET last_contact_at = (SELECT max(happened_at) FROM contacts c"
            " WHERE c.client_id = clients.id)"
        )
        conn.executemany(
            "INSERT INTO steps (id, client_id, manager_id, created_by_contact_id, kind, due_at,"
            " state, done_by_contact_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            seeder.step_rows(),
        )
        steps = conn.execute("SELECT count(*) FROM steps").fetchone()[0]
        conn.executemany(
            "INSERT INTO step_events (step_id, manager_id, actor_id, action, at)"
            " VALUES (?, ?, ?, ?, ?)",
            seeder.event_rows(steps),
        )
        conn.executemany(
            "INSERT INTO invoices (id, client_id, number, number_key, currency, amount_minor,"
            " paid_minor, issued_on, due_on, state, paid_on, created_by, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            seeder.invoice_rows(),
        )
        # Payments go straight in (the trigger would move the seeded paid totals).
        conn.execute("DROP TRIGGER payments_add")
        conn.executemany(
            "INSERT INTO payments (invoice_id, amount_minor, paid_on, recorded_by, recorded_at)"
            " VALUES (?, ?, ?, ?, ?)",
            seeder.payment_rows(),
        )
        conn.executemany(
            "INSERT INTO promises (invoice_id, promised_on, state, recorded_by, created_at,"
            " settled_at) VALUES (?, ?, ?, ?, ?, ?)",
            seeder.promise_rows(),
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    return time.perf_counter() - started


async def _migrate(path: Path) -> None:
    db = Database(path)
    await db.open()
    await db.close()


STAGES = ("figures", "summary text", "chart", "rows", "xlsx")
PIPELINE = ("summary ready", "chart ready", "bot CPU", "loop stall")
PRESTART_LEAD_S = 2.0
"""How long before the digest the workers are started in the cold-start measure (the
delivery's tick starts them up to 3 minutes ahead; "which week?" while the head chooses)."""
ON_REQUEST = ("spreadsheet", "file loop stall", "manager's week", "receivables", "discipline")
TARGETS = {
    "summary ready": 0.5,
    "chart ready": 1.5,
    "loop stall": 0.02,
    "spreadsheet": 3.0,
    "file loop stall": 0.02,
}
Samples = dict[str, list[float]]


class StallMeter:
    """The event loop's longest stall while it runs: the worst lateness of a 5 ms ticker."""

    def __init__(self) -> None:
        self.stall = 0.0
        self._ticking = False
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> StallMeter:
        self._ticking = True
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0.02)
        self.stall = 0.0
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._ticking = False
        assert self._task is not None
        await self._task

    async def _tick(self) -> None:
        while self._ticking:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            self.stall = max(self.stall, time.perf_counter() - before - 0.005)


async def stages_alone(db: Database, head: User) -> tuple[dict[str, float], dict[str, int]]:
    """Each stage once, one after another in this process, nothing else running: what each
    costs on its own. Also the digest's size."""
    begin = time.perf_counter()
    digest = await build_team_digest(db, week=WEEK, now=NOW)
    figures_done = time.perf_counter()
    text = render_summary(digest, head)
    markup = summary_keyboard(digest)
    text_done = time.perf_counter()
    png = chart_part(digest, head).content
    chart_done = time.perf_counter()
    records = await week_records(db, week=WEEK)
    rows_done = time.perf_counter()
    xlsx = document_part(WEEK, records, head).content
    end = time.perf_counter()
    times = {
        "figures": figures_done - begin,
        "summary text": text_done - figures_done,
        "chart": chart_done - text_done,
        "rows": rows_done - chart_done,
        "xlsx": end - rows_done,
    }
    sizes = {
        "contacts in the week": digest.totals.contacts,
        "managers in the digest": len(digest.people),
        "summary characters on screen": visible_length(text),
        "summary buttons": sum(len(row) for row in markup.inline_keyboard) if markup else 0,
        "chart bytes": len(png),
        "xlsx bytes": len(xlsx),
        "xlsx rows": len(records.contacts) + len(records.steps) + len(records.movements),
    }
    return times, sizes


async def pipeline(db: Database, head: User) -> dict[str, float]:
    """The digest as the bot delivers it (`plan_parts`, then each part awaited in order, as
    a delivery does, without the sending): the summary, then the chart from a worker
    process. Wall times from the start; the bot process's CPU over the whole (the workers'
    is not in it); the event loop's longest stall."""
    async with StallMeter() as meter:
        cpu = time.process_time()
        begin = time.perf_counter()
        ready: dict[str, float] = {}
        makers = await plan_parts(db, FrozenClock(NOW), head, DigestKind.TEAM, WEEK)
        for make in makers:
            part = await make()
            at = time.perf_counter() - begin
            if part.kind == "photo":
                ready["chart ready"] = at
            elif "could not be" in part.text:
                raise SystemExit(f"a worker failed: {part.text}")
            else:
                ready["summary ready"] = at
        ready["bot CPU"] = time.process_time() - cpu
    ready["loop stall"] = meter.stall
    return ready


async def on_request(db: Database, head: User, manager: User) -> dict[str, float]:
    """What the buttons cost: the spreadsheet (made by a worker process, the loop watched),
    a manager's week, Receivables and Discipline (figures and text)."""
    times: dict[str, float] = {}
    async with StallMeter() as meter:
        begin = time.perf_counter()
        part = await make_workbook(db, head, WEEK, own=False)
        times["spreadsheet"] = time.perf_counter() - begin
    if part.kind != "document":
        raise SystemExit(f"the spreadsheet failed: {part.text}")
    times["file loop stall"] = meter.stall
    begin = time.perf_counter()
    own = await build_own_summary(db, manager=manager, week=WEEK, now=NOW)
    render_person(own, head, own=False)
    person_keyboard(own, head, own=False)
    times["manager's week"] = time.perf_counter() - begin
    begin = time.perf_counter()
    render_receivables(await build_team_digest(db, week=WEEK, now=NOW), head)
    times["receivables"] = time.perf_counter() - begin
    begin = time.perf_counter()
    render_discipline(await build_discipline(db, week=WEEK, now=NOW), head)
    times["discipline"] = time.perf_counter() - begin
    return times


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def measure(
    path: Path, runs: int
) -> tuple[Samples, Samples, Samples, dict[str, int], dict[str, str]]:
    """Every measure `runs` times after one warm-up run (caches, templates, fonts, and the
    worker processes started: how long that first digest took is reported too); then the
    workers' memory, and their stop once idle."""
    db = Database(path)
    await db.open()
    head = await get_user(db, HEAD_ID)
    manager = await get_user(db, FIRST_MANAGER_ID)
    assert head is not None and manager is not None
    alone: Samples = {name: [] for name in STAGES}
    piped: Samples = {name: [] for name in PIPELINE}
    asked: Samples = {name: [] for name in ON_REQUEST}
    sizes: dict[str, int] = {}
    memory: dict[str, str] = {}
    try:
        for run in range(runs + 1):
            if run == 0:  # the first digest after start-up: the workers start with it
                cold = await pipeline(db, head)
                cold_file = await on_request(db, head, manager)
                await stages_alone(db, head)
                digest_workers.shutdown()  # as after 10 idle minutes; then started ahead
                digest_workers.prestart()  # (the tick before it is due, or "which week?")
                await asyncio.sleep(PRESTART_LEAD_S)
                warmed = await pipeline(db, head)
                continue
            times, sizes = await stages_alone(db, head)
            for name, value in times.items():
                alone[name].append(value)
            for name, value in (await pipeline(db, head)).items():
                piped[name].append(value)
            for name, value in (await on_request(db, head, manager)).items():
                asked[name].append(value)
        workers = digest_workers.worker_memory()
        memory["bot process RSS"] = f"{_rss(os.getpid()) / 2**20:.0f} MB"
        memory["worker processes RSS"] = ", ".join(
            f"{size / 2**20:.0f} MB" for size in sorted(workers.values())
        )
        stopped = digest_workers.stop_if_idle(now=time.monotonic() + pool.IDLE_AFTER + 1)
        memory["after 10 idle minutes"] = (
            f"stopped: {stopped}, workers left: {len(digest_workers.worker_memory())}"
        )
    finally:
        await db.close()
        digest_workers.shutdown()
    sizes["workers cold (none running), summary ready, ms"] = round(cold["summary ready"] * 1000)
    sizes["workers cold (none running), chart ready, ms"] = round(cold["chart ready"] * 1000)
    sizes[f"workers started {PRESTART_LEAD_S:.0f} s ahead, chart ready, ms"] = round(
        warmed["chart ready"] * 1000
    )
    sizes["first spreadsheet after start-up, ms"] = round(cold_file["spreadsheet"] * 1000)
    return alone, piped, asked, sizes, memory


def table(title: str, samples: Samples) -> list[str]:
    """Median and worst per line, against the targets."""
    lines = [title, f"{'':<16} {'median':>10} {'worst':>10}  target", "-" * 52]
    for name, values in samples.items():
        median, worst = statistics.median(values), max(values)
        target = TARGETS.get(name)
        mark = (
            ""
            if target is None
            else f"≤ {target * 1000:.0f} ms " + ("✓" if worst <= target else "✗")
        )
        lines.append(f"{name:<16} {median * 1000:8.0f} ms {worst * 1000:7.0f} ms  {mark}")
    lines.append("-" * 52)
    return lines


def report(
    alone: Samples,
    piped: Samples,
    asked: Samples,
    sizes: dict[str, int],
    memory: dict[str, str],
    header: str,
) -> str:
    """The tables, the digest's size and the workers' memory."""
    lines = [header, ""]
    lines += table("Each stage alone, one after another in one process:", alone)
    lines.append("")
    lines += table("Delivered as the bot does it (chart in a worker); from the start:", piped)
    lines.append("")
    lines += table("On request (the buttons):", asked)
    lines += [f"{name}: {value:,}" for name, value in sizes.items()]
    lines += [f"{name}: {value}" for name, value in memory.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Seed, measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--week", type=int, default=10_000)
    parser.add_argument("--managers", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--database",
        type=Path,
        help="seed this file and keep it (if it exists, use it as it is: the figures above"
        " then describe what it was seeded with)",
    )
    args = parser.parse_args(argv)
    if not 0 < args.week <= args.contacts or args.managers < 1 or args.runs < 1:
        parser.error("need 0 < --week <= --contacts, --managers >= 1 and --runs >= 1")
    with tempfile.TemporaryDirectory(prefix="nextstep-digest-") as workdir:
        path = args.database or Path(workdir) / "digest.sqlite3"
        if path.exists():
            print(f"Using {path} as it is.", flush=True)
        else:
            print(f"Seeding {args.contacts:,} contacts …", end=" ", flush=True)
            seconds = seed(path, args.managers, args.contacts, args.week)
            size = path.stat().st_size / (1024 * 1024)
            print(f"{seconds:.1f} s, {size:.0f} MB. Measuring …", flush=True)
        load_before = os.getloadavg()
        alone, piped, asked, sizes, memory = asyncio.run(measure(path, args.runs))
        load_after = os.getloadavg()
    header = (
        f"NextStep digest · {args.managers} managers · {args.week:,} contacts in the week · "
        f"{args.contacts:,} in the database · {args.runs} timed runs\n"
        f"Load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f} "
        f"on {os.cpu_count()} CPUs"
    )
    print()
    print(report(alone, piped, asked, sizes, memory, header))


if __name__ == "__main__":
    main()
