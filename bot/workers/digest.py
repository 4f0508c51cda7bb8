"""Worker processes for the digest's CPU-bound parts: the chart (matplotlib) and the
spreadsheet (its rows read, then written with openpyxl).

Both hold the GIL for their whole run (0.7 s and 2.8 s for a 100-manager week), so in
threads they would take turns with each other and stall the bot's event loop meanwhile; in
processes they run side by side on other cores while the bot goes on answering
(bot/workers/pool.py). A worker imports matplotlib once, on its first chart, and then stays.

The spreadsheet's worker reads the week's rows itself through a read-only connection of its
own (`storage.digest_rows.read_only`): the query overlaps with the figures being computed in the
bot, and the 27,000 records of a big week are never pickled across (that alone would cost
the bot ~0.3 s of CPU).

"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from babel.dates import format_date as babel_date

from bot.clock import Clock
from bot.services.digest import figures as digest
from bot.services.digest.figures import ChartData, TeamDigest, Week, WeekRecords, week_records
from bot.services.model import DigestKind, User
from bot.views.digest import render_own_summary, render_team_digest, week_range
from bot.workers.pool import Job, shutdown, start
from storage.db import Database
from storage.digest_rows import read_only

logger = logging.getLogger(__name__)

__all__ = ["Job", "draw_chart", "shutdown", "start", "week_workbook"]


# --- The jobs (run in a worker process) ------------------------------------------------------


def draw_chart(data: ChartData, title: str, day_labels: Sequence[str]) -> bytes:
    """The digest's chart as PNG bytes."""
    from bot.services.digest.chart import render_chart

    return render_chart(data, title=title, day_labels=day_labels)


def week_workbook(database: Path, monday: dt.date, timezone: str) -> bytes:
    """The week's spreadsheet as .xlsx bytes, its rows read from the database file."""
    from bot.services.digest.xlsx import build_workbook

    week = Week(monday, timezone)

    async def read() -> WeekRecords:
        async with read_only(database) as db:
            return await week_records(db, week=week)

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
    """One message of a delivery: Telegram HTML text, or a photo or document with a caption."""

    kind: str  # text | photo | document
    text: str
    content: bytes = b""
    filename: str = ""


def day_labels(week: Week, locale: str) -> list[str]:
    """The chart's column headings: `Mon 23` ... `Sun 29`."""
    return [babel_date(week.day(n), "EEE d", locale=locale) for n in range(7)]


PartMaker = Callable[[], Awaitable[Part]]
"""Gives one part when it is its turn to be sent (the chart and the file may still be in the
making then)."""
WORKER_TIMEOUT = 300.0
"""Seconds a chart or file may take (a 100-manager week takes about 2) before its worker is
taken for hung."""
CHART_FAILED = "⚠️ The chart could not be drawn this time."
FILE_FAILED = (
    "⚠️ The spreadsheet could not be made this time; <code>/digest {week}</code> tries again."
)


def _ready(part: Part) -> PartMaker:
    async def make() -> Part:
        return part

    return make


def _label(figures: TeamDigest, viewer: User) -> str:
    return f"week {figures.week.number} ({week_range(figures.week, viewer.locale)})"


def _chart_title(figures: TeamDigest, viewer: User) -> str:
    omitted = f" · the {len(figures.chart.names)} busiest" if figures.chart.omitted else ""
    return f"Contacts per day · {_label(figures, viewer)}{omitted}"


def _chart(figures: TeamDigest, viewer: User, png: bytes) -> Part:
    return Part(
        "photo",
        f"📊 Contacts per manager and day, {_label(figures, viewer)}",
        png,
        f"nextstep-{figures.week.iso}.png",
    )


def _document(figures: TeamDigest, viewer: User, xlsx: bytes) -> Part:
    return Part(
        "document",
        f"📎 The data of {_label(figures, viewer)}: contacts, steps and invoice movements "
        f"(times in {figures.week.timezone}).",
        xlsx,
        f"nextstep-{figures.week.iso}.xlsx",
    )


def chart_part(figures: TeamDigest, viewer: User) -> Part:
    """The chart as a photo with its caption, drawn in this process (matplotlib: CPU-bound;
    the bot draws it in a worker process, see `team_plan`)."""
    # Imported here: matplotlib adds ~0.7 s to every start-up, and most runs draw no chart.
    from bot.services.digest.chart import render_chart

    png = render_chart(
        figures.chart,
        title=_chart_title(figures, viewer),
        day_labels=day_labels(figures.week, viewer.locale),
    )
    return _chart(figures, viewer, png)


def document_part(figures: TeamDigest, records: WeekRecords, viewer: User) -> Part:
    """The spreadsheet as a document with its caption, written in this process (CPU-bound;
    the bot writes it in a worker process, see `plan_parts`)."""
    from bot.services.digest.xlsx import build_workbook  # lazily, as in chart_part

    xlsx = build_workbook(
        timezone=figures.week.timezone,
        contacts=records.contacts,
        steps=records.steps,
        movements=records.movements,
    )
    return _document(figures, viewer, xlsx)


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


def team_plan(
    figures: TeamDigest, viewer: User, workbook: Job[bytes], *, skip: int = 0
) -> list[PartMaker]:
    """The head's digest, part by part: the text messages (rendered now), then the chart
    (if anyone logged a contact) and the spreadsheet (unless nothing happened; `workbook` is
    its job, already running, cancelled when not wanted).

    The chart's worker starts now, unless the chart is among the first `skip` parts (sent by
    an interrupted delivery): it is drawn while the text goes out."""
    week = figures.week
    makers = [_ready(Part("text", text)) for text in render_team_digest(figures, viewer)]
    if figures.chart.total:
        chart = Job(
            draw_chart,
            figures.chart,
            _chart_title(figures, viewer),
            day_labels(week, viewer.locale),
        )
        if len(makers) >= skip:
            chart.start()
        makers.append(
            _from_worker(
                chart,
                lambda png: _chart(figures, viewer, png),
                CHART_FAILED,
                f"chart of {week.iso} for {viewer.telegram_id}",
            )
        )
    if figures.no_activity:
        workbook.cancel()
    else:
        makers.append(
            _from_worker(
                workbook,
                lambda xlsx: _document(figures, viewer, xlsx),
                FILE_FAILED.format(week=week.iso),
                f"spreadsheet of {week.iso} for {viewer.telegram_id}",
            )
        )
    return makers


async def plan_parts(
    db: Database, clock: Clock, viewer: User, kind: DigestKind, week: Week, *, skip: int = 0
) -> list[PartMaker]:
    """Everything one delivery sends, in order: a head's team digest (text, chart, file) or
    a manager's "Your week" (text). The number of parts is fixed here, so a delivery can
    resume after the parts already sent (`skip` of them: their work is not started).

    The spreadsheet's worker starts first: it reads the week's rows from the database while
    the figures are computed here."""
    now = clock.now()
    if kind is DigestKind.TEAM:
        workbook = start(week_workbook, db.path, week.monday, week.timezone)
        try:
            figures = await digest.build_team_digest(db, week=week, now=now)
        except BaseException:
            workbook.cancel()
            raise
        return team_plan(figures, viewer, workbook, skip=skip)
    summary = await digest.build_own_summary(db, manager=viewer, week=week, now=now)
    return [_ready(Part("text", text)) for text in render_own_summary(summary, viewer)]


# --- Buttons -------------------------------------------------------------------------------
