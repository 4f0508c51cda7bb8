"""The pool of worker processes for CPU-bound work that must not run on the event loop.

The chart and the spreadsheet of the digest, and the big client exports and imports, hold
the GIL for their whole run; in threads they would stall the bot's event loop meanwhile, in
processes they run on other cores while the bot goes on answering. The pool is created on
first use, with at most two workers, started by "spawn" (a fresh interpreter: the bot has
threads, and forking a threaded process can copy a held lock into the child). A job that
fails raises its error where it is awaited; if a worker died (killed, out of memory) the
pool is replaced, so the next job gets a fresh one. `shutdown()` stops the workers (at
application stop, and in tests); `stop_if_idle()` stops them once no job has run for
IDLE_AFTER (a job of the bot calls it every minute), so idle workers hold no memory;
`worker_memory()` reports what each one holds (RSS).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

MAX_WORKERS = 2
IDLE_AFTER = 600.0
"""Seconds without a job after which the workers are stopped (the next job starts them)."""
T = TypeVar("T")

_pool: concurrent.futures.ProcessPoolExecutor | None = None
_lock = threading.Lock()
_running = 0  # jobs submitted and not finished
_last_active = 0.0  # time.monotonic() when a job was last submitted or finished


class Job(Generic[T]):
    """A function to run in a worker process, started at once (`start`) or when its result is
    first awaited. If a worker dies, the pool fails every job it holds: such a job runs once
    more, in a new pool."""

    def __init__(self, function: Callable[..., T], *args: object) -> None:
        self._function = function
        self._args = args
        self._future: concurrent.futures.Future[T] | None = None

    def start(self) -> Job[T]:
        """Submit it to the pool (if not yet)."""
        if self._future is None:
            self._future = _submit(self._function, self._args)
        return self

    async def result(self) -> T:
        """Wait for the result, or the worker's exception."""
        self.start()
        assert self._future is not None
        try:
            return await asyncio.wrap_future(self._future)
        except BrokenProcessPool:
            logger.warning("A digest worker died; running %s again", self._function.__name__)
            self._future = _submit(self._function, self._args)
            return await asyncio.wrap_future(self._future)

    def cancel(self) -> None:
        """Not wanted any more: dropped if it has not started (else it runs to its end)."""
        if self._future is not None:
            self._future.cancel()


def _executor() -> concurrent.futures.ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = concurrent.futures.ProcessPoolExecutor(
                MAX_WORKERS, mp_context=multiprocessing.get_context("spawn")
            )
        return _pool


def _forget(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """Drop a broken pool (a worker died: the pool has already failed its jobs and stopped
    its workers); the next job starts a new one."""
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None


def _mark(delta: int) -> None:
    global _running, _last_active
    with _lock:
        _running += delta
        _last_active = time.monotonic()


def _submit(function: Callable[..., T], args: tuple[object, ...]) -> concurrent.futures.Future[T]:
    _mark(+1)
    try:
        return _submit_counted(function, args)
    except BaseException:
        _mark(-1)
        raise


def _submit_counted(
    function: Callable[..., T], args: tuple[object, ...]
) -> concurrent.futures.Future[T]:
    pool = _executor()
    try:
        future = pool.submit(function, *args)
    except BrokenProcessPool:  # broken since the last job, before its callback ran
        _forget(pool)
        pool = _executor()
        future = pool.submit(function, *args)

    def check(done: concurrent.futures.Future[T]) -> None:
        _mark(-1)
        if not done.cancelled() and isinstance(done.exception(), BrokenProcessPool):
            _forget(pool)

    future.add_done_callback(check)
    return future


def start(function: Callable[..., T], *args: object) -> Job[T]:
    """Run `function(*args)` in a worker process now (a module-level function; its arguments
    and its result picklable)."""
    return Job(function, *args).start()


def shutdown(*, wait: bool = True, kill: bool = False) -> None:
    """Stop the workers (jobs not started yet are dropped); a later job starts new ones.
    `kill`: at once, failing the jobs they are running (one of them hangs)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is None:
        return
    if kill:
        # ProcessPoolExecutor can't kill its workers before Python 3.14 (terminate_workers);
        # once they are gone, it fails their jobs (BrokenProcessPool) and cleans up.
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
    pool.shutdown(wait=wait and not kill, cancel_futures=True)


def running() -> bool:
    """Whether worker processes are up (or being started)."""
    with _lock:
        return _pool is not None


def stop_if_idle(*, now: float | None = None, idle_after: float = IDLE_AFTER) -> bool:
    """Stop the workers if they exist, run nothing and have run nothing for `idle_after`
    seconds (`now` is a `time.monotonic()` reading, given by tests); True if stopped."""
    moment = time.monotonic() if now is None else now
    with _lock:
        idle = _pool is not None and _running == 0 and moment - _last_active >= idle_after
    if idle:
        logger.info("Worker processes idle for %.0f s: stopped", moment - _last_active)
        shutdown()
    return idle


def worker_memory() -> dict[int, int]:
    """Each live worker's resident memory in bytes, by process id (Linux /proc; empty
    without workers or elsewhere)."""
    with _lock:
        pool = _pool
    processes = dict((getattr(pool, "_processes", None) or {}) if pool else {})
    sizes: dict[int, int] = {}
    for pid in processes:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                sizes[pid] = int(line.split()[1]) * 1024
    return sizes
