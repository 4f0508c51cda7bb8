"""The digest's worker processes: results, failures, a dead worker, the plan's use of them."""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import time
from collections.abc import Iterator

import pytest
from openpyxl import load_workbook

from bot.clock import FrozenClock
from bot.jobs import digest as digest_jobs
from bot.services import clients, contacts
from bot.services.digest.figures import Week
from bot.workers import digest as digest_workers
from bot.workers import pool
from bot.workers.digest import CHART_FAILED, FILE_FAILED, make_workbook, plan_parts
from bot.workers.pool import Job
from storage.db import Database
from storage.digest_ledger import DigestKind
from storage.users import Role, User
from tests.factories import make_user
from tests.test_digest_render import at

LONDON = "Europe/London"
WEEK = Week.parse("2026-W48", LONDON)


@pytest.fixture(autouse=True)
def _fresh_pool() -> Iterator[None]:
    """Each test starts and ends without worker processes."""
    digest_workers.shutdown()
    yield
    digest_workers.shutdown()
    assert multiprocessing.active_children() == []


async def a_week(db: Database, clock: FrozenClock) -> User:
    """A head, and a manager's two calls on Tuesday of week 48."""
    head = await make_user(db, clock, 9, Role.HEAD, name="Hal", timezone=LONDON)
    mia = await make_user(db, clock, 1, name="Mia", timezone=LONDON)
    clock.set(at(24, 10))
    for name in ("Acme", "Beta"):
        client = await clients.create_client(db, clock, actor=mia, name=name)
        await contacts.log_contact(
            db, clock, actor=mia, client_id=client.id, kind="call", summary="=1+2"
        )
    clock.set(at(30, 9))
    return head


async def test_jobs_run_fail_and_survive_a_dead_worker() -> None:
    """A result; a worker's exception where the result is awaited; a worker that dies fails
    its pool's jobs, which run once more in a new pool; shutdown leaves no process."""
    assert await digest_workers.start(os.getpid).result() != os.getpid()
    with pytest.raises(ValueError, match="invalid literal"):
        await digest_workers.start(int, "x").result()
    with pytest.raises(Exception, match="terminated abruptly"):
        await digest_workers.start(os._exit, 3).result()  # dies again on its second run
    assert await digest_workers.start(abs, -2).result() == 2  # a new pool
    digest_workers.shutdown()
    assert multiprocessing.active_children() == []
    assert await Job(abs, -5).result() == 5  # started when awaited, in a new pool


async def test_a_failed_chart_is_logged_and_the_summary_still_made(
    db: Database,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The chart's worker fails: an error is logged and a note takes the chart's place."""
    head = await a_week(db, clock)
    real = digest_workers.Job

    def failing_chart(function: object, *args: object) -> Job[bytes]:
        if function is digest_workers.draw_chart:
            return real(int, "not a chart")  # type: ignore[arg-type]
        return real(function, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(digest_workers, "Job", failing_chart)
    with caplog.at_level(logging.ERROR):
        makers = await plan_parts(db, clock, head, DigestKind.TEAM, WEEK)
        parts = [await make() for make in makers]
    assert [part.kind for part in parts] == ["text", "text"]
    assert parts[1].text == CHART_FAILED
    assert parts[0].markup is not None  # the summary keeps its buttons
    assert any(
        "the chart of 2026-W48 for 9 could not be made" in r.message for r in caplog.records
    )


async def test_the_spreadsheet_is_made_on_request_in_a_worker(
    db: Database, clock: FrozenClock
) -> None:
    """The team's file and a manager's own, each written by a worker process from the
    database; the manager's holds only their own rows."""
    head = await a_week(db, clock)
    oscar = await make_user(db, clock, 2, name="Oscar", timezone=LONDON)
    clock.set(at(25, 10))
    client = await clients.create_client(db, clock, actor=oscar, name="Gamma")
    await contacts.log_contact(
        db, clock, actor=oscar, client_id=client.id, kind="call", summary="x"
    )
    clock.set(at(30, 9))
    team = await make_workbook(db, head, WEEK, own=False)
    assert team.kind == "document" and team.filename == "nextstep-2026-W48.xlsx"
    rows = list(
        load_workbook(io.BytesIO(team.content))["Contacts"].iter_rows(min_row=2, values_only=True)
    )
    assert sorted(row[1] for row in rows) == ["Mia", "Mia", "Oscar"]
    assert [row[8] for row in rows if row[1] == "Mia"] == ["=1+2", "=1+2"]  # text, not formulas
    mine = await make_workbook(db, oscar, WEEK, own=True)
    assert mine.filename == "nextstep-2026-W48-mine.xlsx" and "your week 48" in mine.text
    rows = list(
        load_workbook(io.BytesIO(mine.content))["Contacts"].iter_rows(min_row=2, values_only=True)
    )
    assert [row[1] for row in rows] == ["Oscar"]
    assert digest_workers.worker_memory()  # the workers are alive, and their RSS is known
    # A worker spawned a moment ago may still be importing: its RSS is a few MB, not zero.
    assert all(size > 1024 * 1024 for size in digest_workers.worker_memory().values())


async def test_a_failed_spreadsheet_is_a_note(
    db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that can't be made is logged and answered with a note saying to press again."""
    head = await a_week(db, clock)
    monkeypatch.setattr(digest_workers, "week_workbook", int)
    part = await make_workbook(db, head, WEEK, own=False)
    assert part.kind == "text" and part.text == FILE_FAILED


async def test_parts_already_sent_are_not_made_again(
    db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resuming after the summary went out: the chart is still drawn; after the chart, the
    delivery has nothing left and its worker never starts. No spreadsheet is ever made."""
    head = await a_week(db, clock)
    started: list[str] = []
    real = Job.start

    def start(self: Job[bytes]) -> Job[bytes]:
        if self._future is None:
            started.append(self._function.__name__)
        return real(self)

    monkeypatch.setattr(Job, "start", start)
    makers = await plan_parts(db, clock, head, DigestKind.TEAM, WEEK, skip=2)
    assert len(makers) == 2 and started == []
    fresh = await plan_parts(db, clock, head, DigestKind.TEAM, WEEK, skip=1)
    assert started == ["draw_chart"]
    assert [(await make()).kind for make in fresh] == ["text", "photo"]


async def test_a_hung_worker_is_stopped(
    db: Database,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A chart that takes too long: logged, a note in its place, the workers killed, and the
    next job works."""
    head = await a_week(db, clock)
    real = digest_workers.Job

    def hanging_chart(function: object, *args: object) -> Job[bytes]:
        if function is digest_workers.draw_chart:
            return real(time.sleep, 60)  # type: ignore[arg-type]
        return real(function, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(digest_workers, "Job", hanging_chart)
    monkeypatch.setattr(digest_workers, "WORKER_TIMEOUT", 3.0)
    makers = await plan_parts(db, clock, head, DigestKind.TEAM, WEEK)
    began = time.perf_counter()
    parts = [await make() for make in makers]
    assert time.perf_counter() - began < 20
    assert [part.kind for part in parts] == ["text", "text"]
    assert any("took over 3.0 s" in r.message for r in caplog.records)
    assert await digest_workers.start(abs, -7).result() == 7


async def test_idle_workers_are_stopped_after_ten_minutes() -> None:
    """No job for 10 minutes: the workers stop (and hold no memory); a running job or a
    recent one keeps them; the next job starts new ones. Time is given, never slept."""
    assert pool.stop_if_idle() is False  # no workers at all
    assert await digest_workers.start(abs, -1).result() == 1
    assert len(multiprocessing.active_children()) >= 1
    finished = time.monotonic()
    assert pool.stop_if_idle(now=finished + 599) is False
    assert multiprocessing.active_children() != []
    slow = digest_workers.start(time.sleep, 1.5)
    assert pool.stop_if_idle(now=time.monotonic() + 3600) is False  # a job is running
    await slow.result()
    assert pool.stop_if_idle(now=time.monotonic() + 601) is True
    assert multiprocessing.active_children() == []
    assert digest_workers.worker_memory() == {}
    assert await digest_workers.start(abs, -3).result() == 3  # started again on demand


async def test_the_idle_check_is_a_job_of_the_bot(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot's job calls the idle check (the job runs every minute; see schedule)."""
    calls: list[object] = []
    monkeypatch.setattr(digest_jobs, "stop_if_idle", lambda: calls.append(True))
    await digest_jobs.stop_idle_workers(None)  # type: ignore[arg-type]
    assert calls == [True]
    assert digest_jobs.IDLE_CHECK_SECONDS == 60 and pool.IDLE_AFTER == 600
