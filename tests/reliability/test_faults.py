"""The Bot API misbehaves (429, 500, 502, timeouts, late answers, resets) on a share of calls:
nothing acknowledged is lost, every due reminder arrives, retries are bounded and logged, and
the bot goes quiet once the faults stop (no spinning).

`make test` runs a short 30 % run; `make reliability` runs 10 % and 30 % with more people.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from telegram.ext import Application

from bot.app import services_of
from bot.clock import FrozenClock
from bot.devtools.sandbox.faults import Fault, FaultInjector
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.telegram import retry
from tests.conftest import TOKEN
from tests.reliability import invariants, registry
from tests.reliability.actors import ScriptedManager
from tests.reliability.seed import seed_managers

READ_TIMEOUT = 0.4  # the bot's read timeout in these tests (production: 5 s)
HOLD = 0.6  # how long a TIMEOUT or LATE answer is held: past the read timeout
FIRST_ID = 7000


@pytest.fixture
def faults() -> FaultInjector:
    """The injector in front of the fake server; off until a test sets `share`."""
    return FaultInjector(share=0.0, seed=20261126, hold=HOLD)


@pytest.fixture
async def server(faults: FaultInjector) -> AsyncIterator[FakeBotApiServer]:
    """The fake Bot API server with the fault injector installed (overrides conftest's)."""
    fake = FakeBotApiServer(token=TOKEN)
    faults.install(fake)
    await fake.start()
    yield fake
    faults.share = 0
    await fake.stop()
    assert fake.violations == [], "requests that break the Bot API specification"


@pytest.fixture(autouse=True)
def short_read_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short read timeout, so a held answer costs the test fractions of a second."""
    monkeypatch.setattr(retry, "READ_TIMEOUT", READ_TIMEOUT)


@dataclass
class FaultRun:
    """What a run under faults produced."""

    managers: list[ScriptedManager]
    injected: dict[str, int]
    calls: int
    retries_logged: int
    give_ups_logged: int
    delivered: dict[str, int]  # client with the due step -> copies of its reminder received
    max_copies: int


async def run_under_faults(
    app: Application,
    server: FakeBotApiServer,
    faults: FaultInjector,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
    *,
    share: float,
    people: int,
    seconds: float,
) -> FaultRun:
    """Seed `people` managers, play their scenarios for `seconds` under `share` faults, make
    their steps fall due midway, then switch the faults off and check what must hold."""
    caplog.set_level(logging.INFO, logger="bot.telegram.retry")
    db = services_of(app).db
    ids = list(range(FIRST_ID, FIRST_ID + people))
    seeded = await seed_managers(db, clock, ids, lambda _: clock.now() + dt.timedelta(hours=1))
    rng = random.Random(share)
    invoices = "newinvoice" in registry.commands(app)
    managers = [
        ScriptedManager(
            server.user(seed.telegram_id, f"M{seed.telegram_id}"),
            work_client=seed.work_client,
            due_client=seed.due_client,
            rng=random.Random(rng.random()),
            timeout=6.0,
            invoices=invoices,
        )
        for seed in seeded.values()
    ]
    faults.share = share
    until = time.monotonic() + seconds

    async def make_steps_due() -> None:
        await asyncio.sleep(seconds / 3)
        clock.advance(dt.timedelta(hours=1, seconds=1))

    await asyncio.gather(make_steps_due(), *(m.run(until) for m in managers))
    faults.share = 0

    # Failed reminder sends are retried with back-off on the (frozen) clock: move it on until
    # every due step's reminder went out (or the step was dealt with).
    path = services_of(app).settings.database_path
    for _ in range(40):
        if not invariants.unsettled_reminders(path, [s.due_reminder_id for s in seeded.values()]):
            break
        clock.advance(dt.timedelta(minutes=5))
        await asyncio.sleep(0.5)
    delivered = {m.due_client: m.reminder_copies for m in managers}
    retries = [
        r for r in caplog.records if r.name == "bot.telegram.retry" and "retry" in r.getMessage()
    ]
    give_ups = [
        r for r in caplog.records if r.name == "bot.telegram.retry" and "giving up" in r.message
    ]
    return FaultRun(
        managers=managers,
        injected={fault.value: count for fault, count in faults.log.injected.items()},
        calls=faults.log.total_calls,
        retries_logged=len(retries),
        give_ups_logged=len(give_ups),
        delivered=delivered,
        max_copies=max(delivered.values()),
    )


async def assert_nothing_lost(app: Application, server: FakeBotApiServer, run: FaultRun) -> None:
    """Acknowledged writes present, every contact concluded, reminders out, no spinning."""
    path = services_of(app).settings.database_path
    acks = [ack for m in run.managers for ack in m.ledger.acks]
    assert acks, "the scripted people got nothing done"
    assert invariants.missing_acks(path, acks) == []
    assert invariants.complete_without_next_step(path) == []
    assert invariants.integrity(path) == "ok"
    assert min(run.delivered.values()) >= 1, run.delivered
    # Bounded retries: at most ATTEMPTS - 1 retries per failed call, each one logged.
    failed = sum(n for kind, n in run.injected.items() if kind != Fault.RATE_LIMITED.value)
    assert run.retries_logged <= failed
    assert run.retries_logged > 0 or failed == 0
    # No spinning: with the faults gone, nobody writing and nothing falling due, the bot makes
    # no calls but its long polls (after a moment for what the last clock move made due).
    await asyncio.sleep(2)
    before = len(server.calls)
    await asyncio.sleep(1.5)
    assert [c.method for c in server.calls[before:] if c.method != "getUpdates"] == []


def report(run: FaultRun, share: float) -> str:
    """One line for the test log and the README."""
    ledgers = [m.ledger for m in run.managers]
    return (
        f"share={share:.0%} calls={run.calls} injected={run.injected} "
        f"retries_logged={run.retries_logged} give_ups={run.give_ups_logged} "
        f"scenarios={sum(sum(lg.scenarios.values()) for lg in ledgers)} "
        f"acks={sum(len(lg.acks) for lg in ledgers)} "
        f"disruptions={sum(lg.disruptions for lg in ledgers)} "
        f"apologies={sum(m.apologies for m in run.managers)} "
        f"reminders_delivered={sum(1 for n in run.delivered.values() if n)}/{len(run.delivered)} "
        f"max_copies={run.max_copies}"
    )


async def test_thirty_percent_faults_lose_nothing(
    app: Application,
    server: FakeBotApiServer,
    faults: FaultInjector,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Reduced run for `make test`: 4 people, 6 s of 30 % faults."""
    run = await run_under_faults(
        app, server, faults, clock, caplog, share=0.3, people=4, seconds=6
    )
    print(report(run, 0.3))
    await assert_nothing_lost(app, server, run)
    assert TOKEN.split(":")[1] not in caplog.text


@pytest.mark.reliability
@pytest.mark.parametrize("share", [0.1, 0.3])
async def test_faults_full(
    app: Application,
    server: FakeBotApiServer,
    faults: FaultInjector,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
    share: float,
) -> None:
    """Full run for `make reliability`: 20 people, 40 s at 10 % and at 30 %."""
    run = await run_under_faults(
        app, server, faults, clock, caplog, share=share, people=20, seconds=40
    )
    print(report(run, share))
    await assert_nothing_lost(app, server, run)
