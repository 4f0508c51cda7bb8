"""The SIGKILL harness: the real bot process killed at random moments under scripted load.

The fake Bot API server runs in the test's event loop; the bot runs as `python -m bot run`
pointed at it, with its own database. Scripted managers (tests/reliability/actors.py) log
contacts, close them, add clients, enter invoices and payments and snooze the reminders of
steps that fall due during the run, while the harness kills the bot with SIGKILL at random
moments and starts it again. After each restart, and at the end, it checks that every write
the bot acknowledged is in the database and that no contact is complete without a next
step or a closure; at the end, that every reminder that fell due arrived once or twice, that
each interrupted person got an answer after restarting, and that the logs hold no secret.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.clock import SystemClock
from bot.devtools.sandbox.server import FakeBotApiServer
from storage.db import Database, to_db_time
from tests.reliability import invariants
from tests.reliability.actors import Ack, ScriptedManager
from tests.reliability.seed import SeededManager, seed_managers

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "424242:CRASH-harness-token-never-logged"
FIRST_ID = 9000


@dataclass
class CrashReport:
    """The figures of one run."""

    users: int
    kills: int = 0
    restarts: int = 0
    seconds: float = 0.0
    acks: int = 0
    lost_writes: list[Ack] = field(default_factory=list)  # acknowledged but not stored
    incomplete_contacts: list[int] = field(default_factory=list)
    reminders_due: int = 0
    reminder_copies: dict[str, int] = field(default_factory=dict)  # due client -> copies
    disruptions: int = 0
    recovered_with_message: int = 0
    recovered_silently: int = 0
    lost_in_flight: int = 0  # messages fetched by a bot that was then killed: never answered
    apologies: int = 0
    scenarios: int = 0
    errors_logged: int = 0
    secrets_in_logs: int = 0
    integrity: str = ""
    violations: list[str] = field(default_factory=list)
    log_text: str = ""

    @property
    def never_delivered(self) -> list[str]:
        """Due reminders that never arrived."""
        return [name for name, n in self.reminder_copies.items() if n == 0]

    @property
    def duplicates(self) -> int:
        """Reminders that arrived twice."""
        return sum(1 for n in self.reminder_copies.values() if n == 2)

    @property
    def over_twice(self) -> list[str]:
        """Reminders that arrived more than twice."""
        return [name for name, n in self.reminder_copies.items() if n > 2]

    def summary(self) -> str:
        """One line of figures."""
        return (
            f"users={self.users} kills={self.kills} restarts={self.restarts} "
            f"seconds={self.seconds:.0f} scenarios={self.scenarios} acks={self.acks} "
            f"lost_writes={len(self.lost_writes)} incomplete={len(self.incomplete_contacts)} "
            f"reminders_due={self.reminders_due} never={len(self.never_delivered)} "
            f"twice={self.duplicates} over_twice={len(self.over_twice)} "
            f"disruptions={self.disruptions} recovered_with_message="
            f"{self.recovered_with_message} silent={self.recovered_silently} "
            f"lost_in_flight={self.lost_in_flight} "
            f"apologies={self.apologies} errors_logged={self.errors_logged} "
            f"secrets_in_logs={self.secrets_in_logs} integrity={self.integrity}"
        )


class BotProcess:
    """`python -m bot run` against the fake server, killed and restarted on demand."""

    def __init__(self, server: FakeBotApiServer, database: Path, log: Path) -> None:
        self.server = server
        self.log = log
        self.env = {
            **os.environ,
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": server.base_url,
            "DATABASE_URL": f"sqlite:///{database}",
            "REMINDER_SWEEP_SECONDS": "1",
            # The fake server has no flood limit; paced at Telegram's 30 messages/s, 200 busy
            # people would wait seconds for every answer and the run would test the pacing.
            "TELEGRAM_MESSAGES_PER_SECOND": "0",
            "PTB_TIMEDELTA": "1",
            "LOG_LEVEL": "INFO",
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the bot and wait until it long-polls (bounded: 30 s)."""
        seen = len(self.server.calls)
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        for _ in range(300):
            if any(call.method == "getUpdates" for call in self.server.calls[seen:]):
                return
            if self.process.returncode is not None:
                raise AssertionError(f"the bot exited with {self.process.returncode}")
            await asyncio.sleep(0.1)
        raise AssertionError("the bot did not start polling within 30 s")

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM and wait (the normal shutdown)."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def crash_run(
    workdir: Path,
    *,
    users: int,
    kills: int,
    seconds: float,
    seed: int = 1,
    invoices: bool = True,
) -> CrashReport:
    """Play `users` managers for `seconds`, killing the bot `kills` times at random moments."""
    rng = random.Random(seed)
    report = CrashReport(users=users)
    server = FakeBotApiServer(token=TOKEN)
    await server.start()
    database = workdir / "crash.sqlite3"
    log = workdir / "bot.log"
    bot = BotProcess(server, database, log)
    clock = SystemClock()
    start = clock.now()
    # Steps fall due through the first 70 % of the run, so the reminders meet the kills.
    offsets = {FIRST_ID + i: rng.uniform(2, seconds * 0.7) for i in range(users)}
    db = Database(database)
    await db.open()
    seeded = await seed_managers(
        db,
        clock,
        list(offsets),
        lambda telegram_id: start + dt.timedelta(seconds=30 + offsets[telegram_id]),
    )
    await db.close()
    try:
        await bot.start()
        started = time.monotonic()
        # Seeding took a while for many users: due times count from when the bot is up.
        shift = dt.timedelta(seconds=(SystemClock().now() - start).total_seconds() - 30)
        await _shift_due_times(database, seeded, shift)
        managers = [
            ScriptedManager(
                server.user(item.telegram_id, f"M{item.telegram_id}"),
                work_client=item.work_client,
                due_client=item.due_client,
                rng=random.Random(rng.random()),
                timeout=4.0,
                recover_timeout=15.0,
                invoices=invoices,
                pause=(0.2, 1.0),
            )
            for item in seeded.values()
        ]
        until = time.monotonic() + seconds

        async def killer() -> None:
            gaps = [rng.uniform(0.5, 1.5) for _ in range(kills)]
            scale = seconds * 0.9 / (sum(gaps) + kills * 3)  # ~3 s to restart each time
            for gap in gaps:
                await asyncio.sleep(gap * scale * 3)
                await bot.kill()
                report.kills += 1
                await asyncio.sleep(rng.uniform(0, 0.5))
                await bot.start()
                report.restarts += 1
                acks = [ack for m in managers for ack in m.ledger.acks]
                report.lost_writes += invariants.missing_acks(database, acks)
                report.incomplete_contacts += invariants.complete_without_next_step(database)

        await asyncio.gather(killer(), *(m.run(until) for m in managers))
        # Let the reminders that fell due near the end arrive, then check everything.
        await _await_due_reminders(database, seeded, within=20)
        report.seconds = time.monotonic() - started
        acks = [ack for m in managers for ack in m.ledger.acks]
        report.acks = len(acks)
        report.lost_writes += invariants.missing_acks(database, acks)
        report.incomplete_contacts += invariants.complete_without_next_step(database)
        report.integrity = invariants.integrity(database)
        report.reminders_due = len(seeded)
        report.reminder_copies = {m.due_client: m.reminder_copies for m in managers}
        for manager in managers:
            ledger = manager.ledger
            report.disruptions += ledger.disruptions
            report.recovered_with_message += ledger.recovered_with_message
            report.recovered_silently += ledger.recovered_silently
            report.lost_in_flight += ledger.lost_in_flight
            report.scenarios += sum(ledger.scenarios.values())
            report.apologies += manager.apologies
    finally:
        await bot.stop()
        await server.stop()
    report.violations = list(server.violations)
    report.log_text = log.read_text(errors="replace")
    report.errors_logged = report.log_text.count("Error while handling update")
    report.secrets_in_logs = report.log_text.count(TOKEN) + report.log_text.count(
        TOKEN.split(":")[1]
    )
    return report


async def _shift_due_times(
    database: Path, seeded: dict[int, SeededManager], shift: dt.timedelta
) -> None:
    """Move the seeded steps' due times (and their reminders) by `shift`."""
    if abs(shift.total_seconds()) < 1:
        return
    db = Database(database)
    await db.open()
    try:
        async with db.transaction() as tx:
            for item in seeded.values():
                due = to_db_time(item.due_at + shift)
                await tx.execute(
                    "UPDATE steps SET due_at = ? WHERE id = ?", (due, item.due_step_id)
                )
                await tx.execute(
                    "UPDATE reminders SET due_at = ? WHERE id = ? AND state = 'pending'",
                    (due, item.due_reminder_id),
                )
    finally:
        await db.close()


async def _await_due_reminders(
    database: Path, seeded: dict[int, SeededManager], *, within: float
) -> None:
    """Wait until every seeded step's reminder was sent (at most `within` seconds)."""
    ids = [item.due_reminder_id for item in seeded.values()]
    for _ in range(int(within * 2)):
        if not invariants.unsettled_reminders(database, ids):
            return
        await asyncio.sleep(0.5)
