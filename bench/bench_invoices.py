"""Benchmark receivables at scale: /invoices, aging, the card and agenda blocks, writing.

    python -m bench.bench_invoices [--invoices 100000] [--runs 200]

Seeds a temporary database with bulk SQL: 200 managers, 20,000 clients and `--invoices`
invoices spread over them (two thirds open, due from 200 days ago to 60 days ahead, a third
of them partly paid; the rest paid), in EUR, USD, JPY and KWD. Then times each operation
through the real services (storage included, no Telegram) and prints median and p99 in ms.
Target: every p99 under 20 ms for a manager's views; a head's whole-team views are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from bot.clock import FrozenClock
from bot.services import clients
from bot.services.receivables import aging as receivables
from bot.services.receivables import invoices
from bot.services.receivables.aging import ListFilter
from storage.db import Database, to_db_time
from storage.users import User, get_user

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
MANAGERS = 200
CLIENTS = 20_000
HEAD_ID = 2
FIRST_MANAGER_ID = 1000
CURRENCIES = ("EUR", "EUR", "USD", "JPY", "KWD")
WARMUP = 5


def owner(client_id: int) -> int:
    """Clients are dealt to managers in turn."""
    return FIRST_MANAGER_ID + (client_id - 1) % MANAGERS


def invoice_rows(count: int, rng: random.Random) -> Iterator[tuple[object, ...]]:
    """Invoices: two thirds open (a third of those partly paid), the rest paid."""
    stamp = to_db_time(NOW)
    for invoice_id in range(1, count + 1):
        client_id = (invoice_id - 1) % CLIENTS + 1
        due = TODAY + dt.timedelta(days=rng.randint(-200, 60))
        issued = due - dt.timedelta(days=30)
        amount = rng.randint(100, 10_000_000)
        paid = invoice_id % 3 == 0
        partly = not paid and invoice_id % 3 == 1 and invoice_id % 2 == 0
        paid_minor = amount if paid else (amount // 3 if partly else 0)
        yield (
            invoice_id,
            client_id,
            f"INV-{invoice_id}",
            f"inv{invoice_id}",
            CURRENCIES[invoice_id % len(CURRENCIES)],
            amount,
            paid_minor,
            issued.isoformat(),
            due.isoformat(),
            "paid" if paid else "open",
            owner(client_id),
            stamp,
            stamp,
            min(due, TODAY).isoformat() if paid else None,
        )


async def seed(db: Database, count: int) -> None:
    """Users, clients and invoices in one transaction each."""
    rng = random.Random(20261126)
    stamp = to_db_time(NOW - dt.timedelta(days=400))
    people = [(HEAD_ID, "Head", "head")]
    people += [(FIRST_MANAGER_ID + n, f"Manager {n:03d}", "manager") for n in range(MANAGERS)]
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO users (telegram_id, name, role, timezone, locale, created_at,"
            " updated_at) VALUES (?, ?, ?, 'Europe/London', 'en', ?, ?)",
            [(uid, name, role, stamp, stamp) for uid, name, role in people],
        )
        await tx.executemany(
            "INSERT INTO clients (id, owner_id, name, name_key, search_key, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    cid,
                    owner(cid),
                    f"Client {cid}",
                    clients.name_key(f"Client {cid}"),
                    clients.search_key(f"Client {cid}"),
                    stamp,
                    stamp,
                )
                for cid in range(1, CLIENTS + 1)
            ],
        )
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO invoices (id, client_id, number, number_key, currency, amount_minor,"
            " paid_minor, issued_on, due_on, state, created_by, created_at, updated_at, paid_on)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            invoice_rows(count, rng),
        )


async def measure(action: Callable[[int], Awaitable[object]], runs: int) -> tuple[float, float]:
    """Median and p99 in milliseconds of `runs` calls (after a warm-up)."""
    for n in range(WARMUP):
        await action(n)
    times = []
    for n in range(runs):
        start = time.perf_counter()
        await action(n)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


async def run(count: int, runs: int) -> None:
    """Seed, then time each operation and print the table."""
    with tempfile.TemporaryDirectory() as folder:
        db = Database(Path(folder) / "bench.sqlite3")
        await db.open()
        started = time.perf_counter()
        await seed(db, count)
        seeded = time.perf_counter() - started
        clock = FrozenClock(NOW)
        head = await get_user(db, HEAD_ID)
        managers: list[User] = [
            user
            for n in range(MANAGERS)
            if (user := await get_user(db, FIRST_MANAGER_ID + n)) is not None
        ]
        assert head is not None

        def manager(n: int) -> User:
            return managers[n % MANAGERS]

        async def create(n: int) -> object:
            user = manager(n)
            return await invoices.create_invoice(
                db,
                clock,
                actor=user,
                client_id=user.telegram_id - FIRST_MANAGER_ID + 1,
                number=f"B-{n}",
                amount_minor=100_000,
                currency="EUR",
                due_on=TODAY - dt.timedelta(days=10),
                issued_on=TODAY - dt.timedelta(days=40),
            )

        created: list[int] = []

        async def create_and_keep(n: int) -> object:
            invoice = await create(len(created))
            created.append(invoice.id)  # type: ignore[attr-defined]
            return invoice

        async def pay(n: int) -> object:
            invoice_id = created[n % len(created)]
            entry = await invoices.require_invoice(
                db, clock, actor=head, invoice_id=invoice_id, attempted="bench"
            )
            if entry.invoice.balance_minor < 10:
                return None
            return await invoices.record_payment(
                db, clock, actor=head, invoice_id=invoice_id, amount_minor=10
            )

        operations: list[tuple[str, Callable[[int], Awaitable[object]]]] = [
            (
                "/invoices (manager, all open)",
                lambda n: receivables.list_invoices(
                    db, viewer=manager(n), now=NOW, view=ListFilter.OPEN
                ),
            ),
            (
                "/invoices aging (manager)",
                lambda n: receivables.aging_buckets(
                    db, now=NOW, manager_id=manager(n).telegram_id
                ),
            ),
            (
                "client card receivables",
                lambda n: receivables.client_summary(
                    db, client_id=n % CLIENTS + 1, timezone="Europe/London", now=NOW
                ),
            ),
            (
                "agenda receivables block",
                lambda n: receivables.agenda_block(db, user=manager(n), now=NOW),
            ),
            ("create an invoice (+ reminders)", create_and_keep),
            ("record a payment", pay),
        ]
        head_runs = max(5, runs // 20)
        head_operations: list[tuple[str, Callable[[int], Awaitable[object]]]] = [
            (
                "/invoices overdue (head, everyone)",
                lambda n: receivables.list_invoices(
                    db, viewer=head, now=NOW, view=ListFilter.OVERDUE
                ),
            ),
            ("aging (head, everyone; digest)", lambda n: receivables.aging_buckets(db, now=NOW)),
        ]
        open_count = await db.fetch_value("SELECT count(*) FROM invoices WHERE state = 'open'")
        print(
            f"{count:,} invoices ({open_count:,} open), {CLIENTS:,} clients, "
            f"{MANAGERS} managers; seeded in {seeded:.1f} s",
            flush=True,
        )
        print(f"{'operation':40} {'median ms':>10} {'p99 ms':>10} {'runs':>6}")
        for name, action in operations:
            median, p99 = await measure(action, runs)
            print(f"{name:40} {median:10.2f} {p99:10.2f} {runs:6}", flush=True)
        for name, action in head_operations:
            median, p99 = await measure(action, head_runs)
            print(f"{name:40} {median:10.2f} {p99:10.2f} {head_runs:6}", flush=True)
        await db.close()


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(run(args.invoices, args.runs))


if __name__ == "__main__":
    main()
