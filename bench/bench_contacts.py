"""Benchmark the hot paths at scale: client search, the card, logging a contact, /agenda.

    python -m bench.bench_contacts [--contacts 1000000] [--small 10000] [--runs 300]

Seeds two temporary databases with bulk SQL (one transaction each, no services): 200 managers,
20,000 clients, one open next step per client (20,000) and `--small` / `--contacts` contacts.
Then times each operation through the real services (storage included, no Telegram) and prints
median and p99 side by side, with the resident memory of a fresh process that has built the
Application and opened each database. Targets: every p99 under 20 ms, memory under 150 MB.

With fewer contacts than clients (the small run), the clients without a contact of their own
get a step whose `created_by_contact_id` points at another client's contact: only the foreign
key matters to these queries, and the number of open steps stays the same in both runs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.app import build_application, services_of
from bot.clock import FrozenClock
from bot.config import Settings
from bot.services import agenda, clients, contacts
from storage.db import Database, to_db_time
from storage.users import User, get_user

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
MANAGERS = 200
CLIENTS = 20_000
ADMIN_ID = 1
HEAD_IDS = (2, 3)
FIRST_MANAGER_ID = 1000
HISTORY_DAYS = 730
WARMUP = 20
TARGET_MS = 20.0
TARGET_MB = 150.0

WORDS = (
    "Acme",
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Cyberdyne",
    "Tyrell",
    "Wonka",
    "Gringotts",
    "Oscorp",
    "Aperture",
    "Monarch",
    "Blue Harbor",
    "Silver Creek",
    "Redwood",
    "Summit",
    "Pioneer",
    "Atlas",
    "Horizon",
    "Nimbus",
    "Ромашка",
    "Вектор",
    "Сибирь",
    "Ёлка",
    "Café Lumière",
    "Crème Brûlée",
    "Zoë & Søren",
    "Łódź Trade",
    "Müller",
    "ગુજરાત",
    "Señor Pepe",
    "Kraków Steel",
    "Škoda Parts",
)
TRADES = (
    "Logistics",
    "Foods",
    "Steel",
    "Pharma",
    "Retail",
    "Textiles",
    "Energy",
    "Motors",
    "Логистик",
    "Трейд",
    "Systems",
    "Consulting",
    "Printing",
    "Timber",
    "Dairy",
    "Optics",
)
SUFFIXES = ("LLC", "Ltd", "GmbH", "SARL", "ООО", "Inc", "AG", "S.A.", "plc", "")
FIRST_NAMES = ("Ivan", "Olga", "Anna", "John", "Maria", "Pierre", "Zoë", "Пётр", "Ravi", "Søren")
LAST_NAMES = ("Petrov", "Smith", "Müller", "Dubois", "Иванова", "Patel", "García", "Novák")
TAGS = ("vip", "retail", "wholesale", "export", "опт", "partner", "tender", "new")
SUMMARIES = (
    "Discussed the spring order and delivery terms",
    "Sent the price list; they compare with another supplier",
    "Meeting at their office: samples approved",
    "Asked for a discount on volume; promised to check",
    "Обсудили объёмы на следующий квартал",
)
KINDS = ("call", "meeting", "email", "message", "visit")
STEP_KINDS = ("call", "meeting", "email", "visit", "other")


@dataclass(frozen=True, slots=True)
class Stats:
    """Median and 99th percentile of one operation, in milliseconds."""

    median: float
    p99: float


@dataclass(frozen=True, slots=True)
class Run:
    """Everything measured on one database."""

    contacts: int
    seed_seconds: float
    size_mb: float
    stats: dict[str, Stats]
    rss_mb: float


# --- Seeding --------------------------------------------------------------------------------


class Seeder:
    """Generates the rows; the time strings are cached (a few thousand distinct values)."""

    def __init__(self, contacts: int) -> None:
        self.contacts = contacts
        self.rounds = max(1, math.ceil(contacts / CLIENTS))
        self.rng = random.Random(20261126)
        self._times: dict[int, str] = {}

    def at(self, minutes_ago: int) -> str:
        """NOW minus some minutes, as stored."""
        text = self._times.get(minutes_ago)
        if text is None:
            text = to_db_time(NOW - dt.timedelta(minutes=minutes_ago))
            self._times[minutes_ago] = text
        return text

    @staticmethod
    def owner(client_id: int) -> int:
        """Clients are dealt to managers in turn: each has 100."""
        return FIRST_MANAGER_ID + (client_id - 1) % MANAGERS

    def contact_count(self, client_id: int) -> int:
        """Contact `j` belongs to client `(j - 1) % CLIENTS + 1`, in rounds."""
        full, rest = divmod(self.contacts, CLIENTS)
        return full + (1 if client_id <= rest else 0)

    def contact_id(self, client_id: int, round_index: int) -> int:
        """The id of a client's contact of a given round (0 is the oldest)."""
        return round_index * CLIENTS + client_id

    def pending(self, client_id: int) -> bool:
        """Each manager's first client has a latest contact still waiting for its next step."""
        return client_id <= MANAGERS and self.contact_count(client_id) > 0

    def minutes_ago(self, client_id: int, round_index: int) -> int:
        """Contacts spread over two years, a client's rounds in order, the pending one recent."""
        if round_index == self.contact_count(client_id) - 1 and self.pending(client_id):
            return 60 + client_id
        span = HISTORY_DAYS * 24 * 60
        return (self.rounds - round_index) * span // self.rounds + client_id % 600 + 120

    def users(self) -> list[tuple[object, ...]]:
        """An admin, two heads and the managers."""
        stamp = to_db_time(NOW - dt.timedelta(days=HISTORY_DAYS + 1))
        people = [(ADMIN_ID, "Admin", "admin")]
        people += [(uid, f"Head {n}", "head") for n, uid in enumerate(HEAD_IDS, 1)]
        people += [(FIRST_MANAGER_ID + n, f"Manager {n:03d}", "manager") for n in range(MANAGERS)]
        return [
            (uid, name, role, "Europe/London", "en", stamp, stamp) for uid, name, role in people
        ]

    def clients(self) -> Iterator[tuple[object, ...]]:
        """The clients, with the folded keys the services would store."""
        created = to_db_time(NOW - dt.timedelta(days=HISTORY_DAYS + 1))
        for client_id in range(1, CLIENTS + 1):
            rng = self.rng
            name = " ".join(
                part
                for part in (rng.choice(WORDS), rng.choice(TRADES), rng.choice(SUFFIXES))
                if part
            )
            person = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            phone = f"+4420{client_id:08d}"
            tags = tuple(sorted(set(rng.sample(TAGS, rng.randint(0, 2)))))
            count = self.contact_count(client_id)
            last = self.at(self.minutes_ago(client_id, count - 1)) if count else None
            yield (
                client_id,
                self.owner(client_id),
                name,
                clients.name_key(name),
                person,
                phone,
                f"info{client_id}@example.test",
                ",".join(tags),
                ("prospect", "active", "inactive")[client_id % 3],
                None,
                clients.search_key(name, person, tags, phone),
                last,
                created,
                created,
            )

    def contact_rows(self) -> Iterator[tuple[object, ...]]:
        """All contacts, oldest round first (ids grow with time, as in real use)."""
        for contact_id in range(1, self.contacts + 1):
            round_index, client_index = divmod(contact_id - 1, CLIENTS)
            client_id = client_index + 1
            at = self.at(self.minutes_ago(client_id, round_index))
            last = round_index == self.contact_count(client_id) - 1
            if last and self.pending(client_id):
                state, outcome, resolved = "needs_next_step", None, None
            else:
                state, outcome, resolved = "complete", "scheduled", at
            yield (
                contact_id,
                client_id,
                self.owner(client_id),
                KINDS[contact_id % len(KINDS)],
                at,
                SUMMARIES[contact_id % len(SUMMARIES)],
                state,
                outcome,
                at,
                resolved,
            )

    def step_rows(self) -> Iterator[tuple[object, ...]]:
        """One open step per client, due from 10 days ago to 30 days ahead."""
        for client_id in range(1, CLIENTS + 1):
            count = self.contact_count(client_id)
            if count == 0:
                creator = (client_id - 1) % self.contacts + 1
            else:
                back = 2 if self.pending(client_id) and count >= 2 else 1
                creator = self.contact_id(client_id, count - back)
            due_in = (client_id * 7919) % (40 * 24 * 60) - 10 * 24 * 60
            yield (
                client_id,
                client_id,
                self.owner(client_id),
                creator,
                STEP_KINDS[client_id % len(STEP_KINDS)],
                self.at(-due_in),
                self.at(60 * 24),
                self.at(60 * 24),
            )

    def reminder_rows(self) -> Iterator[tuple[object, ...]]:
        """A pending reminder per open step, and a nag per contact without a next step."""
        for client_id in range(1, CLIENTS + 1):
            due_in = (client_id * 7919) % (40 * 24 * 60) - 10 * 24 * 60
            yield (self.owner(client_id), "step", client_id, self.at(-due_in), self.at(60 * 24))
        for client_id in range(1, MANAGERS + 1):
            if self.pending(client_id):
                contact = self.contact_id(client_id, self.contact_count(client_id) - 1)
                yield (self.owner(client_id), "missing_step", contact, self.at(0), self.at(60))


def seed(path: Path, contacts: int) -> float:
    """Create and fill the database at `path`; returns the seconds it took."""
    started = time.perf_counter()
    asyncio.run(_migrate(path))
    seeder = Seeder(contacts)
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
            "INSERT INTO clients (id, owner_id, name, name_key, contact_person, phone_e164,"
            " email, tags, status, notes, search_key, last_contact_at, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            seeder.clients(),
        )
        conn.executemany(
            "INSERT INTO contacts (id, client_id, manager_id, kind, happened_at, summary, state,"
            " outcome, logged_at, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            seeder.contact_rows(),
        )
        conn.executemany(
            "INSERT INTO steps (id, client_id, manager_id, created_by_contact_id, kind, due_at,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            seeder.step_rows(),
        )
        conn.executemany(
            "INSERT INTO reminders (user_id, subject, subject_id, due_at, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            seeder.reminder_rows(),
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


# --- Measuring ------------------------------------------------------------------------------


def _stats(samples: list[float]) -> Stats:
    milliseconds = [sample * 1000 for sample in samples]
    p99 = statistics.quantiles(milliseconds, n=100, method="inclusive")[98]
    return Stats(median=statistics.median(milliseconds), p99=p99)


async def _time(operation: Callable[[], Awaitable[object]], runs: int) -> Stats:
    for _ in range(WARMUP):
        await operation()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await operation()
        samples.append(time.perf_counter() - started)
    return _stats(samples)


async def measure(path: Path, runs: int) -> dict[str, Stats]:
    """Time each operation `runs` times (after a warm-up) through the services."""
    db = Database(path)
    await db.open()
    clock = FrozenClock(NOW)
    rng = random.Random(7)
    try:
        people: list[User] = []
        for n in range(MANAGERS):
            person = await get_user(db, FIRST_MANAGER_ID + n)
            assert person is not None
            people.append(person)
        head = await get_user(db, HEAD_IDS[0])
        assert head is not None
        names = await db.fetch_all(
            "SELECT id, owner_id, name, contact_person, phone_e164 FROM clients"
        )

        def own_client(manager: User) -> int:
            """A random client of the manager (clients are dealt to managers in turn)."""
            first = manager.telegram_id - FIRST_MANAGER_ID + 1
            return rng.randrange(first, CLIENTS + 1, MANAGERS)

        def query_for(manager: User | None) -> str:
            """A realistic search: a name word, a surname, phone digits, a tag, or two letters."""
            row = names[own_client(manager) - 1] if manager else rng.choice(names)
            kind = rng.randrange(5)
            if kind == 0:
                return rng.choice(row["name"].split())
            if kind == 1:
                return row["contact_person"].split()[-1]
            if kind == 2:
                return row["phone_e164"][-4:]
            if kind == 3:
                return rng.choice(TAGS)
            return row["name"][:2]

        async def search() -> None:
            manager = rng.choice(people)
            await clients.search_clients(db, actor=manager, query=query_for(manager))

        async def search_all() -> None:
            await clients.search_clients(db, actor=head, query=query_for(None))

        async def card() -> None:
            manager = rng.choice(people)
            await clients.get_card(db, clock, actor=manager, client_id=own_client(manager))

        async def log() -> None:
            manager = rng.choice(people)
            client_id = own_client(manager)
            if client_id <= MANAGERS:  # keep the pending contacts pending
                client_id += MANAGERS
            contact = await contacts.log_contact(
                db, clock, actor=manager, client_id=client_id, kind="call", summary="Bench call"
            )
            await contacts.schedule_next_step(
                db,
                clock,
                actor=manager,
                contact_id=contact.id,
                kind="meeting",
                due_at=NOW + dt.timedelta(days=rng.randint(1, 20), hours=2),
            )

        async def agenda_of_one() -> None:
            await agenda.build_agenda(db, user=rng.choice(people), now=clock.now())

        operations = {
            "client search (a manager's own)": search,
            "client search (head, all 20,000)": search_all,
            "open a client card": card,
            "log a contact + its next step": log,
            "/agenda for one manager": agenda_of_one,
        }
        return {name: await _time(operation, runs) for name, operation in operations.items()}
    finally:
        await db.close()


def resident_memory(path: Path) -> float:
    """MB resident in a fresh process that built the Application and opened the database."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_contacts", "--rss-probe", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


async def _probe(path: Path) -> None:
    """The `--rss-probe` child: start-up as `bot.app` does it, then print VmRSS in MB."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, bot_token="123456:BENCH", database_url=f"sqlite:///{path}"
    )
    application = build_application(settings)
    db = services_of(application).db
    await db.open()
    print(_vm_rss_mb())
    await db.close()


def _vm_rss_mb() -> float:
    """Current resident set size; falls back to the peak where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- Reporting ------------------------------------------------------------------------------


def bench(contacts: int, runs: int, workdir: Path) -> Run:
    """Seed, measure and probe one database size."""
    path = workdir / f"bench-{contacts}.sqlite3"
    print(f"Seeding {contacts:,} contacts …", end=" ", flush=True)
    seconds = seed(path, contacts)
    size = path.stat().st_size / (1024 * 1024)
    print(f"{seconds:.1f} s, {size:.0f} MB. Measuring …", flush=True)
    stats = asyncio.run(measure(path, runs))
    return Run(contacts, seconds, size, stats, resident_memory(path))


def table(runs: list[Run], repetitions: int) -> str:
    """The side-by-side table, with each p99 and the memory checked against the targets."""
    width = max(len(name) for name in runs[0].stats) + 2

    def mark(ok: bool) -> str:
        return "✓" if ok else "✗"

    def row(label: str, cells: list[str]) -> str:
        return f"{label:<{width}}" + "".join(f"  {cell:>25}" for cell in cells)

    def single(value: str, ok: bool | None = None) -> str:
        return f"{value:>23} " + ("" if ok is None else mark(ok))

    rule = "-" * (width + 27 * len(runs))
    lines = [
        f"NextStep · {MANAGERS} managers · {CLIENTS:,} clients · {CLIENTS:,} open steps · "
        f"{repetitions} timed runs per operation",
        f"Targets: every p99 under {TARGET_MS:.0f} ms; resident memory under {TARGET_MB:.0f} MB.",
        "",
        row("", [f"{run.contacts:,} contacts".center(25) for run in runs]),
        row("operation", [f"{'median':>11} {'p99':>11}  " for _ in runs]),
        rule,
    ]
    for name in runs[0].stats:
        cells = []
        for run in runs:
            stat = run.stats[name]
            cells.append(f"{stat.median:8.2f} ms {stat.p99:8.2f} ms {mark(stat.p99 < TARGET_MS)}")
        lines.append(row(name, cells))
    lines.append(rule)
    lines.append(
        row(
            "RSS after start-up",
            [single(f"{run.rss_mb:.1f} MB", run.rss_mb < TARGET_MB) for run in runs],
        )
    )
    lines.append(
        row("seeding (bulk SQL)", [single(f"{run.seed_seconds:.1f} s  ") for run in runs])
    )
    lines.append(row("database file", [single(f"{run.size_mb:.0f} MB  ") for run in runs]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, run both sizes and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000, help="the large run's contacts")
    parser.add_argument("--small", type=int, default=10_000, help="the small run's contacts")
    parser.add_argument("--runs", type=int, default=300, help="timed runs per operation (≥200)")
    parser.add_argument("--rss-probe", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_probe is not None:
        asyncio.run(_probe(args.rss_probe))
        return
    if args.runs < 200 or min(args.contacts, args.small) < 1:
        parser.error("--runs must be at least 200 and the contact counts positive")
    with tempfile.TemporaryDirectory(prefix="nextstep-bench-") as workdir:
        results = [bench(count, args.runs, Path(workdir)) for count in (args.small, args.contacts)]
    print()
    print(table(results, args.runs))


if __name__ == "__main__":
    main()
