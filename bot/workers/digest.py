"""Worker processes for the digest's CPU-bound parts: the chart (matplotlib, sent with every
delivery) and the spreadsheet (its rows read, then written with openpyxl; made only when its
button is pressed).

Both hold the GIL for their whole run (0.7 s and 2.7 s for a 100-manager week), so in a
thread they would stall the bot's event loop; in processes they run on other cores while
the bot goes on answering (bot/workers/pool.py). A worker imports matplotlib once and then
stays until it has been idle for 10 minutes; `prestart` starts the workers ahead of a digest
(a cold start adds ~0.8 s to the chart).

The spreadsheet's worker reads the week's rows itself through a read-only connection of its
own (`storage.digest_rows.read_only`), so the 27,000 records of a big week are never
pickled across (that alone would cost the bot ~0.3 s of CPU).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from telegram import InlineKeyboardMarkup

from bot.clock import Clock
from bot.services.digest import figures as digest
from bot.services.digest.figures import ChartData, TeamDigest, Week, WeekRecords, week_records
from bot.services.model import DigestKind, User
from bot.views.digest import (
    person_keyboard,
    render_person,
    render_summary,
    summary_keyboard,
    week_range,
)
from bot.workers.pool import (
    MAX_WORKERS,
    Job,
    running,
    shutdown,
    start,
    stop_if_idle,
    worker_memory,
)
from storage.db import Database
from storage.digest_rows import read_only

logger = logging.getLogger(__name__)

__all__ = [
    "Job",
    "draw_chart",
    "prestart",
    "running",
    "shutdown",
    "start",
    "stop_if_idle",
    "week_workbook",
    "worker_memory",
]


# --- The jobs (run in a worker process) ------------------------------------------------------


def draw_chart(data: ChartData, title: str) -> bytes:
    """The digest's chart as PNG bytes."""
    from bot.services.digest.chart import render_chart

    return render_chart(data, title=title)


def warm_chart() -> None:
    """Import the chart's code (matplotlib) in a worker, so its first chart is quick."""
    import bot.services.digest.chart  # noqa: F401


def prestart() -> None:
    """Start the worker processes now, each importing the chart's code, if none is running:
    done when a digest is about to be asked for (a head's "which week?") or due, so its
    chart is drawn by a warm worker (a cold one adds ~0.8 s)."""
    if not running():
        for _ in range(MAX_WORKERS):
            start(warm_chart)


def week_workbook(
    database: Path, monday: dt.date, timezone: str, manager_id: int | None = None
) -> bytes:
    """The week's spreadsheet as .xlsx bytes (the team's, or one manager's), its rows read
    from the database file."""
    from bot.services.digest.xlsx import build_workbook

    week = Week(monday, timezone)

    async def read() -> WeekRecords:
        async with read_only(database) as db:
            return await week_records(db, week=week, manager_id=manager_id)

    records = asyncio.run(read())
    return build_workbook(
        timezone=timezone,
        contacts=records.contacts,
        steps=records.steps,
        movements=records.movements,
    )


# --- Everything a digest delivery sends -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Part:
    """One message of a delivery: Telegram HTML text (with its buttons), or a photo or
    document with a caption."""

    kind: str  # text | photo | document
    text: str
    content: bytes = b""
    filename: str = ""
    markup: InlineKeyboardMarkup | None = None


PartMaker = Callable[[], Awaitable[Part]]
"""Gives one part when it is its turn to be sent (the chart may still be in the making)."""
WORKER_TIMEOUT = 300.0
"""Seconds a chart or file may take (a 100-manager week takes about 2) before its worker is
taken for hung."""
CHART_FAILED = "⚠️ The chart could not be drawn this time; the 📊 Chart button tries again."
FILE_FAILED = "⚠️ The spreadsheet could not be made this time; press 📎 Spreadsheet to try again."


def _ready(part: Part) -> PartMaker:
    async def make() -> Part:
        return part

    return make


def _label(week: Week, viewer: User) -> str:
    return f"week {week.number} ({week_range(week, viewer.locale)})"


def _chart_title(figures: TeamDigest, viewer: User) -> str:
    omitted = f" · the {len(figures.chart.rows)} busiest" if figures.chart.omitted else ""
    return f"Who is doing the work · {_label(figures.week, viewer)}{omitted}"


def _chart(figures: TeamDigest, viewer: User, png: bytes) -> Part:
    return Part(
        "photo",
        f"📊 Contacts per manager, discipline and what is overdue, {_label(figures.week, viewer)}",
        png,
        f"nextstep-{figures.week.iso}.png",
    )


def _document(week: Week, viewer: User, xlsx: bytes, *, own: bool) -> Part:
    whose = "your " if own else ""
    suffix = "-mine" if own else ""
    return Part(
        "document",
        f"📎 The data of {whose}{_label(week, viewer)}: contacts, steps and invoice movements "
        f"(times in {week.timezone}).",
        xlsx,
        f"nextstep-{week.iso}{suffix}.xlsx",
    )


def chart_part(figures: TeamDigest, viewer: User) -> Part:
    """The chart as a photo with its caption, drawn in this process (matplotlib: CPU-bound;
    the bot draws it in a worker process, see `chart_job`)."""
    # Imported here: matplotlib adds ~0.7 s to every start-up, and most runs draw no chart.
    from bot.services.digest.chart import render_chart

    return _chart(
        figures, viewer, render_chart(figures.chart, title=_chart_title(figures, viewer))
    )


def document_part(week: Week, records: WeekRecords, viewer: User, *, own: bool = False) -> Part:
    """The spreadsheet as a document with its caption, written in this process (CPU-bound;
    the bot writes it in a worker process, see `make_workbook`)."""
    from bot.services.digest.xlsx import build_workbook  # lazily, as in chart_part

    xlsx = build_workbook(
        timezone=week.timezone,
        contacts=records.contacts,
        steps=records.steps,
        movements=records.movements,
    )
    return _document(week, viewer, xlsx, own=own)


def _from_worker(
    job: Job[bytes], part: Callable[[bytes], Part], failed: str, what: str
) -> PartMaker:
    """The part a worker's job makes; if the job fails, the error is logged and a short note
    takes the part's place, so the rest of the digest still goes out."""

    async def make() -> Part:
        try:
            return part(await asyncio.wait_for(job.result(), WORKER_TIMEOUT))
        except TimeoutError:
            logger.error("Digest: the %s took over %s s; workers stopped", what, WORKER_TIMEOUT)
            shutdown(kill=True)  # the next digest gets fresh ones
        except Exception:
            logger.exception("Digest: the %s could not be made", what)
        return Part("text", failed)

    return make


def chart_maker(figures: TeamDigest, viewer: User, *, start_now: bool = True) -> PartMaker:
    """The chart, drawn by a worker process (started now unless `start_now` is False)."""
    job = Job(draw_chart, figures.chart, _chart_title(figures, viewer))
    if start_now:
        job.start()
    return _from_worker(
        job,
        lambda png: _chart(figures, viewer, png),
        CHART_FAILED,
        f"chart of {figures.week.iso} for {viewer.telegram_id}",
    )


def team_plan(figures: TeamDigest, viewer: User, *, skip: int = 0) -> list[PartMaker]:
    """The head's digest, part by part: the summary (one screen, with its buttons), then the
    chart if there is anything to draw. The spreadsheet comes only when asked for (its
    button). The chart's worker starts now, unless the chart was sent already (`skip`)."""
    text = render_summary(figures, viewer)
    makers = [_ready(Part("text", text, markup=summary_keyboard(figures)))]
    if not figures.chart.empty:
        makers.append(chart_maker(figures, viewer, start_now=len(makers) >= skip))
    return makers


async def own_part(db: Database, clock: Clock, viewer: User, week: Week) -> Part:
    """A manager's "Your week" on one screen, their open items as buttons."""
    summary = await digest.build_own_summary(db, manager=viewer, week=week, now=clock.now())
    return Part(
        "text",
        render_person(summary, viewer, own=True),
        markup=person_keyboard(summary, viewer, own=True),
    )


async def plan_parts(
    db: Database, clock: Clock, viewer: User, kind: DigestKind, week: Week, *, skip: int = 0
) -> list[PartMaker]:
    """Everything one delivery sends, in order: a head's summary and chart, or a manager's
    "Your week". The number of parts is fixed here, so a delivery can resume after the parts
    already sent (`skip` of them: their work is not started)."""
    if kind is DigestKind.TEAM:
        figures = await digest.build_team_digest(db, week=week, now=clock.now())
        return team_plan(figures, viewer, skip=skip)
    return [_ready(await own_part(db, clock, viewer, week))]


async def make_workbook(db: Database, viewer: User, week: Week, *, own: bool) -> Part:
    """The week's spreadsheet on request (the team's, or the viewer's own), written by a
    worker process that reads the rows itself; a failure is logged and a note returned."""
    job = start(
        week_workbook, db.path, week.monday, week.timezone, viewer.telegram_id if own else None
    )
    make = _from_worker(
        job,
        lambda xlsx: _document(week, viewer, xlsx, own=own),
        FILE_FAILED,
        f"spreadsheet of {week.iso} for {viewer.telegram_id}",
    )
    return await make()
