"""The database handle: one writer connection for transactions, readers for queries."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import aiosqlite

from storage.migrate import apply_migrations

logger = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]
Row = sqlite3.Row
T = TypeVar("T")
P = ParamSpec("P")
BUSY_TIMEOUT_MS = 5000
CHECKPOINT_EVERY = 200  # commits between WAL checkpoints (see Database.open)
# A read on the loop's thread using more CPU than this is interrupted and re-run on the
# reader's thread, and its statement is run there from then on (see Database._read).
INLINE_BUDGET_S = 0.002
PROGRESS_STEPS = 4000  # SQLite VM steps between checks of that budget (~20-40 us)


def to_db_time(moment: dt.datetime) -> str:
    """Encode an aware datetime as sortable UTC text (`2026-11-26T09:30:00Z`)."""
    if moment.tzinfo is None:
        raise ValueError("refusing to store a naive datetime")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_db_time(value: str) -> dt.datetime:
    """Decode text written by `to_db_time` into an aware UTC datetime."""
    return dt.datetime.fromisoformat(value)  # 3.11 reads the Z; ~50x faster than strptime


def optional_time(value: str | None) -> dt.datetime | None:
    """Decode a nullable time column."""
    return None if value is None else from_db_time(value)


def read_only_connection(path: Path) -> sqlite3.Connection:
    """A plain read-only connection to the database file, for a worker thread or process of
    its own (a long export): it sees what is committed and can write nothing; close it."""
    conn = sqlite3.connect(
        f"{path.absolute().as_uri()}?mode=ro", uri=True, check_same_thread=False
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def _first_row(conn: sqlite3.Connection, sql: str, params: Params) -> Row | None:
    """Execute, take the first row, finalise the statement (on whichever thread owns `conn`)."""
    cursor = conn.execute(sql, params)
    try:
        row: Row | None = cursor.fetchone()
        return row
    finally:
        cursor.close()


def _all_rows(conn: sqlite3.Connection, sql: str, params: Params) -> list[Row]:
    """Execute and fetch every row (on whichever thread owns `conn`)."""
    return conn.execute(sql, params).fetchall()


async def _on_thread(
    conn: aiosqlite.Connection, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run `fn` on the aiosqlite connection's own thread (its private, untyped `_execute`)."""
    result: T = await conn._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
    return result


def _busy(exc: sqlite3.OperationalError) -> bool:
    """Whether another connection holds the lock (extended result codes included)."""
    return exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY


def _interrupted(exc: sqlite3.OperationalError) -> bool:
    """Whether the statement was stopped by the progress handler."""
    return exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_INTERRUPT


class Queries:
    """Read helpers shared by the database handle and a transaction."""

    _conn: aiosqlite.Connection

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """Run a query and return its first row, if any.

        In one step on the connection's thread: a statement left open across an await would
        pin its snapshot for every other coroutine's query on the shared reader connection,
        which would then miss writes committed meanwhile (seen under concurrent updates).
        """
        # The raw sqlite3 connection (private API), used on aiosqlite's thread.
        return await _on_thread(self._conn, _first_row, self._conn._conn, sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a query and return all rows."""
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        """Run a query and return the first column of its first row (None if no row)."""
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]


class Transaction(Queries):
    """An open write transaction; reads through it see its own writes.

    Its statements run at once, on the event loop's thread, on the writer connection held
    under the write lock: no thread hop and no loop turn per statement. Through aiosqlite's
    thread each statement waited for a turn of a busy event loop while the transaction held
    the write lock, and every other writer queued behind it (bench/bench_load.py: lock waits
    of 100+ ms at 160 updates/s). Statements inside a transaction are short indexed writes.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._raw = conn

    async def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        """Run one statement; the cursor tells `lastrowid` and `rowcount`."""
        return self._raw.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for many parameter rows."""
        self._raw.executemany(sql, rows)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """Run a query and return its first row, if any."""
        return _first_row(self._raw, sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a query and return all rows."""
        return _all_rows(self._raw, sql, params)


class Database(Queries):
    """The application's database.

    Writes go through `transaction()`, which serialises them on one writer connection with a
    lock (coroutines must not interleave statements in one SQLite transaction). Reads outside a
    transaction use separate read connections (inline, or aiosqlite's reader thread for slow
    ones; see `_read`), which in WAL mode only see committed data.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._busy_ms = BUSY_TIMEOUT_MS
        self._checkpointer: aiosqlite.Connection | None = None
        self._lookup: sqlite3.Connection | None = None
        self._lookup_deadline = 0.0
        self._slow_statements: set[str] = set()
        self._checkpoint: asyncio.Task[None] | None = None
        self._commits = 0
        self._open_lock = asyncio.Lock()

    @property
    def is_open(self) -> bool:
        """Whether `open()` has completed."""
        return self._reader is not None

    async def open(self) -> None:
        """Connect, set the pragmas and apply pending migrations; calling it again does nothing."""
        async with self._open_lock:
            if self._reader is not None:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            writer = await self._connect()
            applied = await apply_migrations(writer)
            if applied:
                logger.info("Applied migrations: %s", ", ".join(applied))
            # The writer never waits for a lock on the loop's thread (see `transaction`).
            self._busy_ms = BUSY_TIMEOUT_MS
            await writer.execute("PRAGMA busy_timeout = 0")
            # Commits run on the loop's thread; SQLite's automatic checkpoint (copying the WAL
            # into the database, with fsyncs) would run inside one of them and stall the bot
            # for tens of ms. A connection of its own checkpoints on its thread instead.
            await writer.execute("PRAGMA wal_autocheckpoint = 0")
            self._checkpointer = await self._connect()
            self._lookup = sqlite3.connect(self.path, isolation_level=None)
            self._lookup.row_factory = sqlite3.Row
            self._lookup.execute("PRAGMA busy_timeout = 0")  # never wait on the loop's thread
            self._lookup.execute("PRAGMA foreign_keys = ON")
            self._lookup.set_progress_handler(self._over_budget, PROGRESS_STEPS)
            self._writer = writer
            self._reader = await self._connect()
            self._conn = self._reader

    async def _connect(self) -> aiosqlite.Connection:
        # Not bound to aiosqlite's thread: a transaction's statements run on the loop's
        # thread, never at the same time as the connection's thread (the write lock).
        conn = await aiosqlite.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode keeps every commit across a process crash; only a power loss
        # can lose the last commits.
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        return conn

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """Run a query and return its first row, if any (see `_read`)."""
        return await self._read(_first_row, super().fetch_one, sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a query and return all rows (see `_read`)."""
        return await self._read(_all_rows, super().fetch_all, sql, params)

    async def _read(
        self,
        inline: Callable[[sqlite3.Connection, str, Params], T],
        on_thread: Callable[[str, Params], Awaitable[T]],
        sql: str,
        params: Params,
    ) -> T:
        """Run a read at once on the loop's thread, on a read connection of its own.

        Through aiosqlite's thread each read waited for two turns of a busy event loop and
        for the GIL (0.3–0.9 ms a query instead of 0.01–0.1 ms, several per update, queued
        behind each other on the one thread; bench/bench_load.py). A read that uses more
        than INLINE_BUDGET_S of CPU (an export, a digest's aggregates) is interrupted and
        re-run on the reader's thread (`on_thread`), and its statement goes there directly
        from then on. A read that finds the database locked (a WAL recovery after a crash,
        say) is re-run there too, where it may wait for the lock.
        """
        if self._lookup is None or sql in self._slow_statements:
            return await on_thread(sql, params)
        # CPU time of this thread, not wall time: a quick read must not be sent to the
        # thread for good because the machine paused this one for a few ms.
        self._lookup_deadline = time.thread_time() + INLINE_BUDGET_S
        try:
            return inline(self._lookup, sql, params)
        except sqlite3.OperationalError as exc:
            if _interrupted(exc):
                self._slow_statements.add(sql)
                logger.info(
                    "Read over %.0f ms of CPU, run on the reader's thread from now: %.80s",
                    INLINE_BUDGET_S * 1000,
                    " ".join(sql.split()),
                )
            elif not _busy(exc):
                raise
        finally:
            self._lookup_deadline = 0.0
        return await on_thread(sql, params)

    def _over_budget(self) -> int:
        """SQLite's progress handler on the inline connection: non-zero stops the statement."""
        return int(self._lookup_deadline and time.thread_time() > self._lookup_deadline)

    def _after_commit(self) -> None:
        """Every CHECKPOINT_EVERY commits, checkpoint the WAL on the checkpointer's thread."""
        self._commits += 1
        if self._commits < CHECKPOINT_EVERY or (
            self._checkpoint is not None and not self._checkpoint.done()
        ):
            return
        self._commits = 0
        self._checkpoint = asyncio.get_running_loop().create_task(self._checkpoint_wal())

    async def _checkpoint_wal(self) -> None:
        conn = self._checkpointer
        if conn is None:
            return
        try:
            # PASSIVE: copies what no reader still needs, never waits for anyone.
            await conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:  # a full disk, say: the WAL keeps everything meanwhile
            logger.warning("WAL checkpoint failed: %s", exc)

    async def close(self) -> None:
        """Close the connections (after a last checkpoint)."""
        if self._checkpoint is not None:
            await self._checkpoint
            self._checkpoint = None
        if self._checkpointer is not None and self._writer is not None:
            await self._checkpoint_wal()
        for conn in (self._reader, self._writer, self._checkpointer):
            if conn is not None:
                await conn.close()
        if self._lookup is not None:
            self._lookup.close()
            self._lookup = None
        self._reader = self._writer = self._checkpointer = None

    @asynccontextmanager
    async def transaction(self, *, wait: bool = True) -> AsyncIterator[Transaction]:
        """Run the block in one IMMEDIATE transaction: all of it is saved, or none of it.

        `wait=False`: if another process holds the lock, fail at once instead of waiting up
        to the busy timeout (for bookkeeping that must not delay the person's answer).

        BEGIN, the block's statements and COMMIT run on the loop's thread, so a block without
        other awaits holds the write lock for one step of its task, and writers never queue
        behind one another's thread hops. Only when another process holds the database's
        write lock is BEGIN retried on the connection's thread, which waits up to the busy
        timeout without blocking the bot.
        """
        if self._writer is None:
            raise RuntimeError("the database is not open")
        async with self._write_lock:
            writer = self._writer
            raw = writer._conn  # the raw sqlite3 connection (private API)
            try:
                raw.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if not wait or not _busy(exc):
                    raise
                await _on_thread(writer, _begin_waiting, raw, self._busy_ms)
            try:
                yield Transaction(raw)
                raw.execute("COMMIT")
                self._after_commit()
            except BaseException:
                # SQLite has already rolled back after some errors (a full disk, an I/O
                # error); a second ROLLBACK would fail and hide the real error. A failed
                # COMMIT leaves the transaction open: roll it back, or every later BEGIN fails.
                if raw.in_transaction:
                    raw.execute("ROLLBACK")
                raise


def _begin_waiting(raw: sqlite3.Connection, busy_ms: int) -> None:
    """On the connection's thread: BEGIN IMMEDIATE, waiting up to `busy_ms` for the lock."""
    raw.execute(f"PRAGMA busy_timeout = {busy_ms}")
    try:
        raw.execute("BEGIN IMMEDIATE")
    finally:
        raw.execute("PRAGMA busy_timeout = 0")
