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
from bot.services import clients, contacts
from bot.services.digest.figures import Week
from bot.workers import digest as digest_workers
from bot.workers.digest import CHART_FAILED, plan_parts
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


async def test_a_failed_part_is_logged_and_the_rest_still_made(
    db: Database,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The chart's worker fails: an error is logged, a note takes the chart's place and the
    spreadsheet, made by the other worker from the database, still comes."""
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
    assert [part.kind for part in parts] == ["text", "text", "document"]
    assert parts[1].text == CHART_FAILED
    assert any(
        "the chart of 2026-W48 for 9 could not be made" in r.message for r in caplog.records
    )
    book = load_workbook(io.BytesIO(parts[2].content))
    rows = list(book["Contacts"].iter_rows(min_row=2, values_only=True))
    assert [row[8] for row in rows] == ["=1+2", "=1+2"]


async def test_parts_already_sent_are_not_made_again(
    db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resuming after the chart went out: its worker never starts; the file still comes."""
    head = await a_week(db, clock)
    started: list[str] = []
    real = Job.start

    def start(self: Job[bytes]) -> Job[bytes]:
        if self._future is None:
            started.append(self._function.__name__)
        return real(self)

    monkeypatch.setattr(Job, "start", start)
    makers = await plan_parts(db, clock, head, DigestKind.TEAM, WEEK, skip=2)
    assert len(makers) == 3 and started == ["week_workbook"]
    assert (await makers[2]()).kind == "document"
    fresh = await plan_parts(db, clock, head, DigestKind.TEAM, WEEK)
    assert started == ["week_workbook", "week_workbook", "draw_chart"]
    assert [(await make()).kind for make in fresh] == ["text", "photo", "document"]


async def test_a_hung_worker_is_stopped(
    db: Database,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A chart that takes too long: logged, a note in its place, the workers killed (the file,
    failed with them, is made again in fresh ones), and the next job works."""
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
    assert [part.kind for part in parts] == ["text", "text", "document"]
    assert any("took over 3.0 s" in r.message for r in caplog.records)
    assert await digest_workers.start(abs, -7).result() == 7
