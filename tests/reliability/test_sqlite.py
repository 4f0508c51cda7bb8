"""SQLite under contention: a backup while people write, the database locked by another
process, and a full disk. The person hears "Could not save — please retry", nothing is
half-written, and the bot works again as soon as the database does."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.app import services_of
from bot.clock import FrozenClock
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.services import contacts
from bot.telegram.error_handler import COULD_NOT_SAVE, storage_unavailable
from storage import db as storage_db
from storage.backup import backup_database, restore_database
from storage.contacts import Outcome
from storage.db import Database
from storage.users import get_user
from tests.conftest import START
from tests.reliability.seed import seed_managers

ROOT = Path(__file__).resolve().parents[2]
MANAGER = 7100
MOUNT, UMOUNT = shutil.which("mount") or "", shutil.which("umount") or ""
TABLES = ("users", "clients", "contacts", "steps", "reminders", "audit_log")


def counts(path: Path) -> dict[str, int]:
    """Rows per table of a database file."""
    with closing(sqlite3.connect(path)) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # noqa: S608


def consistent(path: Path) -> None:
    """A copy is sound: integrity, foreign keys, and every concluded contact is whole."""
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        orphans = conn.execute(
            "SELECT count(*) FROM contacts c WHERE c.outcome = 'scheduled' AND NOT EXISTS"
            " (SELECT 1 FROM steps s WHERE s.created_by_contact_id = c.id)"
        ).fetchone()[0]
        assert orphans == 0


async def writer(db: Database, clock: FrozenClock, stop: asyncio.Event) -> int:
    """Log contacts and their next steps as fast as the database takes them."""
    user = await get_user(db, MANAGER)
    assert user is not None
    client_id = await db.fetch_value("SELECT id FROM clients WHERE owner_id = ?", (MANAGER,))
    written = 0
    while not stop.is_set():
        contact = await contacts.log_contact(
            db, clock, actor=user, client_id=client_id, kind="call", summary=f"call {written}"
        )
        await contacts.close_contact(
            db, clock, actor=user, contact_id=contact.id, outcome=Outcome.WON, reason=None
        )
        written += 1
        await asyncio.sleep(0)
    return written


async def test_backup_while_writing_is_consistent_and_restores(
    app: Application, clock: FrozenClock, tmp_path: Path
) -> None:
    """Backups taken while a writer commits nonstop are consistent and finish; `python -m
    bot backup` works on the running bot's file; `restore` brings a copy back."""
    services = services_of(app)
    db, path = services.db, services.settings.database_path
    await seed_managers(db, clock, [MANAGER], lambda _: clock.now().replace(year=2027))
    stop = asyncio.Event()
    writing = asyncio.create_task(writer(db, clock, stop))
    await asyncio.sleep(0.3)
    copies = []
    for number in range(3):
        copy = tmp_path / f"copy{number}.sqlite3"
        pages = await asyncio.wait_for(asyncio.to_thread(backup_database, path, copy), 20)
        assert pages > 0
        copies.append(copy)
    cli_copy = tmp_path / "cli.sqlite3"
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "backup", str(cli_copy)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{path}", "BOT_TOKEN": "1:x"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    stop.set()
    written = await writing
    assert result.returncode == 0, result.stderr
    assert written > 10
    for copy in [*copies, cli_copy]:
        consistent(copy)
    assert counts(copies[0])["contacts"] <= counts(copies[-1])["contacts"] <= written + 1

    # Restore (bot stopped: a separate file here) brings back exactly the copy.
    restored = tmp_path / "restored" / "nextstep.sqlite3"
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "restore", str(cli_copy)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{restored}", "BOT_TOKEN": "1:x"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert counts(restored) == counts(cli_copy)
    consistent(restored)
    # Restoring over an older database replaces it.
    restore_database(copies[0], restored)
    assert counts(restored) == counts(copies[0])


async def logged_call(person, text: str) -> str:  # type: ignore[no-untyped-def]
    """Send a quick /call and return the bot's first answer to it.

    The one-line notice that the previous call still needs its next step (handlers/flow.py)
    follows the previous call's answer and may arrive after the cursor was set: skipped.
    """
    person.cursor = len(person.chat.events)
    await person.send(text)
    while True:
        answer = (await person.reply(timeout=15)).text
        if "is saved and still needs a next step" not in answer:
            return answer


async def test_locked_database_asks_to_retry_then_works(
    app: Application,
    server: FakeBotApiServer,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another process holds the write lock past the busy timeout: "Could not save", no row;
    a shorter lock is waited out; after it is released the same request succeeds."""
    services = services_of(app)
    db, path = services.db, services.settings.database_path
    await seed_managers(db, clock, [MANAGER], lambda _: clock.now().replace(year=2027))
    person = server.user(MANAGER, f"M{MANAGER}")
    await lock_and_check(db, path, person, hold=0.6, busy_ms=300)


async def lock_and_check(db: Database, path: Path, person, *, hold: float, busy_ms: int) -> None:  # type: ignore[no-untyped-def]
    """Hold the lock `hold` s (> busy timeout) during a write, then again briefly."""
    await db.close()  # reopen with the busy timeout under test
    original = storage_db.BUSY_TIMEOUT_MS
    storage_db.BUSY_TIMEOUT_MS = busy_ms
    try:
        await db.open()
    finally:
        storage_db.BUSY_TIMEOUT_MS = original
    before = counts(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's write lock
    try:
        answer = await logged_call(person, f"/call Acme {MANAGER} locked out")
        assert COULD_NOT_SAVE in answer
        await asyncio.sleep(hold)
    finally:
        other.execute("ROLLBACK")
    assert counts(path) == before, "nothing may be half-written"

    # A lock shorter than the busy timeout is simply waited for.
    other.execute("BEGIN IMMEDIATE")
    asyncio.get_running_loop().call_later(busy_ms / 3000, other.execute, "ROLLBACK")
    answer = await logged_call(person, f"/call Acme {MANAGER} waited")
    assert "What is the next step?" in answer
    other.close()
    answer = await logged_call(person, f"/call Acme {MANAGER} after the lock")
    assert "What is the next step?" in answer


@pytest.mark.reliability
async def test_locked_five_seconds_with_the_real_busy_timeout(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """The same with production numbers: a 5 s busy timeout, a lock held 6 s."""
    services = services_of(app)
    db, path = services.db, services.settings.database_path
    await seed_managers(db, clock, [MANAGER], lambda _: clock.now().replace(year=2027))
    person = server.user(MANAGER, f"M{MANAGER}")
    await lock_and_check(db, path, person, hold=6.0, busy_ms=storage_db.BUSY_TIMEOUT_MS)


async def test_disk_full_asks_to_retry_and_recovers(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """The database may not grow (max_page_count, as a full disk): "Could not save — please
    retry", nothing half-written; once it may grow again the same request succeeds."""
    services = services_of(app)
    db, path = services.db, services.settings.database_path
    await seed_managers(db, clock, [MANAGER], lambda _: clock.now().replace(year=2027))
    person = server.user(MANAGER, f"M{MANAGER}")
    await logged_call(person, "/agenda")
    writer_conn = db._writer
    assert writer_conn is not None
    # The bot's transactions use this connection from the loop's thread: hold the write lock.
    async with db._write_lock:
        await writer_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = (await (await writer_conn.execute("PRAGMA page_count")).fetchone())[0]
        await writer_conn.execute(f"PRAGMA max_page_count = {pages}")
    long_summary = "x" * 1900  # fills the free room in the existing pages quickly
    for _ in range(40):
        before = counts(path)
        answer = await logged_call(person, f"/call Acme {MANAGER} {long_summary}")
        if COULD_NOT_SAVE in answer:
            break
        assert "What is the next step?" in answer
    assert COULD_NOT_SAVE in answer
    assert counts(path) == before, "nothing may be half-written"

    async with db._write_lock:
        await writer_conn.execute("PRAGMA max_page_count = 1073741823")
    answer = await logged_call(person, f"/call Acme {MANAGER} {long_summary}")
    assert "What is the next step?" in answer
    assert counts(path)["contacts"] == before["contacts"] + 1


@pytest.mark.reliability
@pytest.mark.skipif(os.geteuid() != 0 or not MOUNT or not UMOUNT, reason="needs root")
async def test_real_full_file_system(tmp_path: Path) -> None:
    """On a 4 MB tmpfs: writes fail with SQLITE_FULL while a filler takes the space, the
    transaction leaves nothing behind, and writing works again once the filler is gone."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = await asyncio.to_thread(
        subprocess.run,
        [MOUNT, "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr!r}")
    try:
        clock = FrozenClock(START)
        db = Database(mount / "db.sqlite3")
        await db.open()
        await seed_managers(db, clock, [MANAGER], lambda _: clock.now().replace(year=2027))
        user = await get_user(db, MANAGER)
        assert user is not None
        client_id = await db.fetch_value("SELECT id FROM clients WHERE owner_id = ?", (MANAGER,))
        filler = mount / "filler"
        with filler.open("wb") as out:
            try:
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
            except OSError:
                pass
        before = counts(mount / "db.sqlite3")
        failures = 0
        for number in range(200):
            try:
                await contacts.log_contact(
                    db, clock, actor=user, client_id=client_id, kind="call", summary="y" * 1900
                )
            except sqlite3.OperationalError as error:
                assert storage_unavailable(error), error
                failures += 1
                break
            del number
        assert failures == 1
        after_failure = counts(mount / "db.sqlite3")
        assert after_failure["audit_log"] - before["audit_log"] == (
            after_failure["contacts"] - before["contacts"]
        ), "a contact without its audit entry: half-written"
        filler.unlink()
        await contacts.log_contact(
            db, clock, actor=user, client_id=client_id, kind="call", summary="after"
        )
        await db.close()
    finally:
        await asyncio.to_thread(subprocess.run, [UMOUNT, str(mount)], check=False)
