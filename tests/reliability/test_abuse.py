"""The abuse run: one person imports and exports the largest files allowed while others work.

A head imports a 10,000-row CSV (the most an import takes) into their own list, which brings
the team to 20,000 clients with 200,000 contacts, and then exports all of it. Meanwhile other
managers keep listing and searching their clients, opening /agenda and adding clients (writes
that interleave with the import's chunks). The run measures how long each of their replies
took, and the event loop's longest stall (a task that sleeps 5 ms and notes how late it
wakes). It runs in the test's process, with the fake Bot API server and the simulated people
on the same loop as the bot, so the stall is an upper bound for the bot's own.

`make reliability` runs it at full size; `make test` a reduced version (fewer rows, and a
low upload limit so that the export comes in several ZIP parts). Target: no other person's
reply waits over 250 ms.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from io import BytesIO

import pytest
from telegram.ext import Application

from bot.app import build_application, polling, services_of
from bot.clock import FrozenClock
from bot.config import Settings
from bot.devtools.sandbox.client import ChatUser
from bot.devtools.sandbox.server import FakeBotApiServer
from tests.reliability.big_seed import FIRST_MANAGER, import_file, seed_big

HEAD = 777
TARGET_MS = 250.0
COMMANDS = ("/clients", "/agenda", "/clients walk-in", "/newclient")


@dataclass(frozen=True)
class Size:
    """One run's size."""

    managers: int
    clients: int  # seeded; the import adds `import_rows` more
    contacts: int
    import_rows: int
    others: int  # people working meanwhile
    think_s: tuple[float, float]  # between one person's actions
    part_limit: int | None = None  # a lower upload limit, to force several parts


@dataclass
class Figures:
    """What one run measured."""

    import_s: float = 0.0
    export_s: float = 0.0
    export_rows: int = 0
    parts: list[int] = field(default_factory=list)  # each part's size in bytes
    csv_bytes: int = 0
    stalls: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def summary(self) -> str:
        """The figures as one line per measure."""
        lat = sorted(self.latencies)
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        return (
            f"import {self.import_s:.1f} s; export {self.export_s:.1f} s, "
            f"{self.export_rows:,} rows, {self.csv_bytes / 1e6:.1f} MB of CSV in "
            f"{len(self.parts)} file(s) of {', '.join(f'{p / 1e6:.2f}' for p in self.parts)} MB\n"
            f"longest loop stall {max(self.stalls) * 1000:.1f} ms\n"
            f"other people: {len(lat)} replies, p50 {statistics.median(lat) * 1000:.1f} ms, "
            f"p99 {p99 * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms"
        )


async def _watch_loop(stalls: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(0.005)
        stalls.append(max(loop.time() - before - 0.005, 0.0))


async def _ask(person: ChatUser, text: str) -> float:
    """Send `text` and wait for the bot's first answer to it; the seconds it took."""
    loop = asyncio.get_running_loop()
    person.cursor = len(person.chat.events)
    started = loop.time()
    await person.send(text)
    await person.reply(timeout=30)
    return loop.time() - started


async def _keep_working(
    person: ChatUser,
    latencies: list[float],
    stop: asyncio.Event,
    seed: int,
    think_s: tuple[float, float],
) -> None:
    """List, search, /agenda and add clients, `think_s` apart, until `stop`."""
    rng = random.Random(seed)
    count = 0
    while not stop.is_set():
        command = COMMANDS[count % len(COMMANDS)]
        if command == "/newclient":
            command = f"/newclient Walk-in {person.id}-{count}; Anna"
        latencies.append(await _ask(person, command))
        count += 1
        await asyncio.sleep(rng.uniform(*think_s))


async def run_abuse(
    app: Application, server: FakeBotApiServer, size: Size, monkeypatch: pytest.MonkeyPatch
) -> Figures:
    """Seed, start the others, import then export as the head; the figures."""
    if size.part_limit is not None:
        monkeypatch.setattr("handlers.clients.EXPORT_PART_LIMIT", size.part_limit)
    db = services_of(app).db
    await asyncio.to_thread(
        seed_big,
        db.path,
        managers=size.managers,
        clients=size.clients,
        contacts=size.contacts,
        head_id=HEAD,
    )
    data = await asyncio.to_thread(import_file, size.import_rows)
    others = [server.user(FIRST_MANAGER + n, f"Manager {n:03d}") for n in range(size.others)]
    for person in others:  # first answers compile templates and warm caches: not counted
        await _ask(person, "/clients")
    figures = Figures()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    watch = asyncio.create_task(_watch_loop(figures.stalls, stop))
    work = [
        asyncio.create_task(_keep_working(person, figures.latencies, stop, n, size.think_s))
        for n, person in enumerate(others)
    ]
    head = server.user(HEAD, "Big Head")
    try:
        started = loop.time()
        await head.send_document("biggest.csv", data)
        report = await head.expect("Import of biggest.csv", timeout=300)
        figures.import_s = loop.time() - started
        assert f"Imported: {size.import_rows}" in report.text, report.text
        started = loop.time()
        await head.send("/export")
        first = await head.expect("and their contacts", timeout=300)
        documents = [first]
        if "Part 1 of " in first.text:
            count = int(first.text.split("Part 1 of ")[1].split(":")[0])
            for number in range(2, count + 1):
                documents.append(await head.expect(f"Part {number} of {count}", timeout=300))
        figures.export_s = loop.time() - started
    finally:
        stop.set()
        await asyncio.gather(*work)
        await watch
    for document in documents:
        assert document.document is not None
        content = document.document.content
        figures.parts.append(len(content))
        with zipfile.ZipFile(BytesIO(content)) as archive:
            info = archive.infolist()[0]
            figures.csv_bytes += info.file_size
            with archive.open(info) as member:
                figures.export_rows += sum(1 for _ in member) - 1  # without the header
    return figures


def _check(figures: Figures, size: Size) -> None:
    print("\nabuse run:", figures.summary())
    total = size.clients + size.import_rows
    assert figures.export_rows >= size.contacts  # (notes span lines: counted as lines)
    assert figures.latencies, "the others got no reply at all"
    assert max(figures.latencies) * 1000 < TARGET_MS, figures.summary()
    assert max(figures.stalls) * 1000 < TARGET_MS, figures.summary()
    assert total > 0


# Five people acting every 0.1 s on average (the run lasts under a second); twenty every
# 0.75 s (~27 updates/s, a busy team) for the full run's ten seconds.
REDUCED = Size(
    managers=20,
    clients=1_000,
    contacts=10_000,
    import_rows=1_000,
    others=5,
    think_s=(0.05, 0.15),
    part_limit=300_000,
)
FULL = Size(
    managers=200,
    clients=10_000,
    contacts=200_000,
    import_rows=10_000,
    others=20,
    think_s=(0.3, 1.2),
)


@pytest.fixture
async def unpaced(e2e_settings: Settings, clock: FrozenClock) -> AsyncIterator[Application]:
    """The bot with its pacing off (as in bench/bench_load.py): the others' load is above
    Telegram's 30 messages/s, and the run measures the bot's work, not the pacing's queue."""
    settings = e2e_settings.model_copy(update={"telegram_messages_per_second": 0})
    async with polling(build_application(settings, clock=clock), poll_timeout=1) as running:
        yield running


async def test_abuse_reduced(
    unpaced: Application, server: FakeBotApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make test`: a 1,000-row import and an export of 10,000 rows in several parts while
    five others work; nobody else waits over 250 ms."""
    figures = await run_abuse(unpaced, server, REDUCED, monkeypatch)
    assert len(figures.parts) >= 2 and all(p <= 300_000 for p in figures.parts)
    _check(figures, REDUCED)


@pytest.mark.reliability
async def test_abuse_full_size(
    unpaced: Application, server: FakeBotApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make reliability`: a 10,000-row import, then the export of 20,000 clients with
    200,000 contacts, while twenty others work; nobody else waits over 250 ms."""
    _check(await run_abuse(unpaced, server, FULL, monkeypatch), FULL)
