"""A big team written with bulk SQL (no services): for the abuse run's export and import.

`seed_big` fills a migrated database with managers, clients (each with a note, so a row is
about as long as a real one), contacts spread over two years and a head who sees them all;
`import_file` makes the largest CSV an import takes (10,000 rows, up to 5 MB).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from bot.services.clients import name_key, search_key
from storage.db import to_db_time

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
FIRST_MANAGER = 30_000
KINDS = ("call", "meeting", "email", "message", "visit")
NOTE = (
    "Buys twice a year, spring and autumn; the decision is made by the owner, who wants the "
    "offer on paper. Prefers calls after 15:00. Asked about delivery to the second warehouse "
    "and about paying in two parts; promised to send the new price list first. "
)
SUMMARY = (
    "Discussed the spring order, delivery terms and the price list; they compare us with "
    "another supplier and will answer after their board meeting next week"
)


def seed_big(path: Path, *, managers: int, clients: int, contacts: int, head_id: int) -> None:
    """Managers `FIRST_MANAGER...`, `clients` dealt to them in turn, `contacts` dealt to the
    clients in turn, and the head `head_id`; the database must be migrated already."""
    stamp = to_db_time(NOW - dt.timedelta(days=800))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        people = [(head_id, "Big Head", "head")]
        people += [(FIRST_MANAGER + n, f"Manager {n:03d}", "manager") for n in range(managers)]
        conn.executemany(
            # Weekly digests off (digest_day 0): the runs using this are about files.
            "INSERT INTO users (telegram_id, name, role, timezone, locale, digest_day,"
            " created_at, updated_at) VALUES (?, ?, ?, 'Europe/London', 'en', 0, ?, ?)",
            [(uid, name, role, stamp, stamp) for uid, name, role in people],
        )
        conn.executemany(
            "INSERT INTO clients (id, owner_id, name, name_key, contact_person, phone_e164,"
            " email, tags, status, notes, search_key, last_contact_at, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, NULL, ?, ?)",
            _clients(clients, managers, stamp),
        )
        conn.executemany(
            "INSERT INTO contacts (client_id, manager_id, kind, happened_at, summary, state,"
            " outcome, logged_at, resolved_at)"
            " VALUES (?, ?, ?, ?, ?, 'complete', 'scheduled', ?, ?)",
            _contacts(contacts, clients, managers),
        )
        conn.execute(
            "UPDATE clients SET last_contact_at = (SELECT max(happened_at) FROM contacts"
            " WHERE client_id = clients.id)"
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def _clients(count: int, managers: int, stamp: str) -> Iterator[tuple[object, ...]]:
    for client_id in range(1, count + 1):
        name = f"Northwind {client_id} Logistics GmbH"
        person = f"Ivan Petrov {client_id}"
        phone = f"+4420{client_id:08d}"
        yield (
            client_id,
            FIRST_MANAGER + (client_id - 1) % managers,
            name,
            name_key(name),
            person,
            phone,
            f"info{client_id}@example.test",
            "vip,retail",
            NOTE,
            search_key(name, person, ("vip", "retail"), phone),
            stamp,
            stamp,
        )


WORDS = (
    "price list",
    "delivery",
    "discount",
    "samples",
    "invoice",
    "warehouse",
    "contract",
    "tender",
    "volumes",
    "payment terms",
    "new range",
    "complaint",
    "the board",
    "logistics",
    "spring order",
    "competitor",
)


def _contacts(count: int, clients: int, managers: int) -> Iterator[tuple[object, ...]]:
    """Contacts with summaries that vary as real ones do (so they compress like them)."""
    rng = random.Random(20261126)
    times: dict[int, str] = {}
    for number in range(count):
        detail = ", ".join(rng.choices(WORDS, k=6))
        summary = f"{SUMMARY}; {detail}; ref {rng.randrange(10**9):09d}"
        client_id = number % clients + 1
        minutes = (count - number) * 5 + 60
        at = times.get(minutes)
        if at is None:
            at = times[minutes] = to_db_time(NOW - dt.timedelta(minutes=minutes))
        manager = FIRST_MANAGER + (client_id - 1) % managers
        yield (client_id, manager, KINDS[number % len(KINDS)], at, summary, at, at)


def import_file(rows: int, *, prefix: str = "Imported") -> bytes:
    """A CSV of `rows` new clients with every column filled (10,000 rows: ~4.7 MB)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Company", "Contact person", "Phone", "E-mail", "Tags", "Notes"])
    for number in range(rows):
        writer.writerow(
            [
                f"{prefix} {number} Trading Ltd",
                f"Olga Smirnova {number}",
                f"+44 20 7946 {number % 10_000:04d}",
                f"olga{number}@example.test",
                "wholesale, export",
                NOTE + NOTE[: number % 97],
            ]
        )
    return buffer.getvalue().encode("utf-8")
