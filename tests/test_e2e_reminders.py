"""End-to-end: reminders fall due on the (frozen) clock and reach the right person once."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
from pathlib import Path

from telegram.ext import Application

from bot.app import services_of
from bot.clock import FrozenClock, SystemClock
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.jobs.reminders import SWEEP_JOB
from bot.services import clients, contacts, schedule
from storage.db import Database
from storage.users import Role, User
from tests.conftest import TOKEN
from tests.e2e_helpers import eventually
from tests.factories import make_user
from tests.job_runs import JobRuns

MANAGER_ID = 5005
ROOT = Path(__file__).resolve().parent.parent


async def manager_with_step(
    db: Database,
    clock,
    *,
    telegram_id: int = MANAGER_ID,
    name: str = "Acme LLC",
    due_in: dt.timedelta = dt.timedelta(hours=2),
    kind: str = "call",
) -> User:
    """A manager whose client has an open step due `due_in` from now."""
    manager = await make_user(
        db, clock, telegram_id, Role.MANAGER, name=f"M{telegram_id}", timezone="Europe/London"
    )
    client = await clients.create_client(
        db,
        clock,
        actor=manager,
        name=name,
        contact_person="Ivan Petrov",
        phone="+44 20 7946 0958",
    )
    contact = await contacts.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="Asked for prices"
    )
    await contacts.schedule_next_step(
        db,
        clock,
        actor=manager,
        contact_id=contact.id,
        kind=kind,
        due_at=clock.now() + due_in,
        agenda="Send the price list",
    )
    return manager


async def test_due_step_is_delivered_once(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """At the due time the manager gets one reminder with the client's details and actions."""
    db = services_of(app).db
    await manager_with_step(db, clock)
    mia = server.user(MANAGER_ID, "Mia")
    clock.advance(dt.timedelta(hours=2))
    reminder = await mia.expect("Due now", timeout=10)
    assert "call with Acme LLC" in reminder.text
    assert "Agenda: Send the price list" in reminder.text
    assert "Ivan Petrov, +442079460958" in reminder.text
    assert "Last time: Asked for prices" in reminder.text
    assert reminder.labels == [
        "✅ Done — log it",
        "💤 Snooze",
        "🗓 Reschedule",
        "✖️ Cancel step",
        "📅 Add to calendar",
    ]
    await eventually(db, "SELECT state FROM reminders WHERE subject = 'step'", ["sent"])


async def test_snooze_redelivers_and_done_logs(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Snooze moves the reminder; "Done — log it" opens the log flow for that client."""
    db = services_of(app).db
    await manager_with_step(db, clock)
    mia = server.user(MANAGER_ID, "Mia")
    clock.advance(dt.timedelta(hours=2))
    await mia.expect("Due now", timeout=10)
    await mia.press("💤 Snooze")
    await mia.press("15 min")
    assert "💤 Acme LLC: I'll remind you" in (await mia.expect("again")).text
    clock.advance(dt.timedelta(minutes=16))
    await mia.expect("Due now", timeout=10)
    await mia.press("✅ Done — log it")
    await mia.expect("What happened?")
    await mia.send("Sent the price list, they will decide by Friday")
    await mia.expect("What is the next step?")
    snoozes = await db.fetch_value("SELECT snooze_count FROM steps WHERE state = 'done'")
    assert snoozes == 1


async def test_cancel_step_asks_for_a_new_step(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Cancelling needs a reason and then a new step or a closure."""
    db = services_of(app).db
    await manager_with_step(db, clock)
    mia = server.user(MANAGER_ID, "Mia")
    clock.advance(dt.timedelta(hours=2))
    await mia.expect("Due now", timeout=10)
    await mia.press("✖️ Cancel step")
    await mia.expect("Why cancel")
    await mia.send("The buyer left the company")
    await mia.expect("What happens with Acme LLC instead?")
    await mia.press("❌ Not a target")
    await mia.expect("Why not a target?")
    await mia.send("No budget holder any more")
    assert "Not a target" in (await mia.expect("Logged")).text


async def test_blocked_user_does_not_stop_others(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A person who blocked the bot is marked unreachable; the others still get theirs."""
    db = services_of(app).db
    await manager_with_step(db, clock)
    await manager_with_step(db, clock, telegram_id=5006, name="Beta GmbH")
    blocked = server.user(MANAGER_ID, "Mia")
    other = server.user(5006, "Oscar")
    server.block_chat(blocked.chat_id)
    clock.advance(dt.timedelta(hours=2))
    assert "Beta GmbH" in (await other.expect("Due now", timeout=10)).text
    await eventually(
        db,
        "SELECT user_id, state FROM reminders WHERE subject = 'step' ORDER BY user_id",
        [(MANAGER_ID, "held"), (5006, "sent")],
    )
    await eventually(db, "SELECT reachable FROM users WHERE telegram_id = ?", [0], (MANAGER_ID,))


async def test_quiet_hours_hold_until_morning(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A step due at 22:30 London time arrives at 08:00, not at night."""
    db = services_of(app).db
    clock.set(dt.datetime(2026, 11, 26, 20, 0, tzinfo=dt.UTC))
    await manager_with_step(db, clock, due_in=dt.timedelta(hours=2, minutes=30))
    mia = server.user(MANAGER_ID, "Mia")
    sweep = JobRuns(app, SWEEP_JOB)
    clock.advance(dt.timedelta(hours=2, minutes=31))
    await sweep.next_run()  # the step is due: the sweep has seen it and held it
    await mia.no_reply(within=0.05)
    due = await db.fetch_value("SELECT due_at FROM reminders WHERE subject = 'step'")
    assert due == "2026-11-27T08:00:00Z"
    clock.set(dt.datetime(2026, 11, 27, 8, 0, 5, tzinfo=dt.UTC))
    assert "Acme LLC" in (await mia.expect("Due now", timeout=10)).text


async def test_morning_agenda(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """On a working day at 09:00 local the manager gets the day's plan."""
    db = services_of(app).db
    await manager_with_step(db, clock, due_in=dt.timedelta(days=1))
    await schedule.ensure_all_agenda_reminders(db, clock)
    mia = server.user(MANAGER_ID, "Mia")
    clock.set(dt.datetime(2026, 11, 27, 9, 0, 1, tzinfo=dt.UTC))  # Friday 09:00 London
    agenda = await mia.expect("Good morning! Today", timeout=10)
    assert "Acme LLC — call" in agenda.text
    await eventually(  # Monday: the weekend is not a working day
        db,
        "SELECT due_at FROM reminders WHERE subject = 'agenda' AND state = 'pending'",
        ["2026-11-30T09:00:00Z"],
    )


async def test_due_while_down_arrives_once_after_sigkill(
    server: FakeBotApiServer, tmp_path: Path
) -> None:
    """The bot process is killed; a step that fell due meanwhile arrives once after restart."""
    database = tmp_path / "crash.sqlite3"
    env = dict(
        os.environ,
        BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=server.base_url,
        DATABASE_URL=f"sqlite:///{database}",
        REMINDER_SWEEP_SECONDS="1",
        PTB_TIMEDELTA="1",
    )

    async def start_bot() -> asyncio.subprocess.Process:
        calls = len(server.calls)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(200):  # wait until it polls (bounded: 20 s)
            if any(c.method == "getUpdates" for c in server.calls[calls:]):
                return process
            await asyncio.sleep(0.1)
        raise AssertionError("the bot did not start polling")

    first = await start_bot()
    first.send_signal(signal.SIGKILL)
    await first.wait()

    # Scheduled "two minutes ago" for one minute later: it fell due a minute ago, while down.
    two_minutes_ago = FrozenClock(SystemClock().now() - dt.timedelta(minutes=2))
    db = Database(database)
    await db.open()
    manager = await manager_with_step(db, two_minutes_ago, due_in=dt.timedelta(minutes=1))
    # Real time of day decides here: no quiet hours, or a night-time run would wait for 08:00.
    await schedule.set_quiet_hours(db, two_minutes_ago, actor=manager, start="00:00", end="00:00")
    await db.close()

    async def due_now_for_oscar() -> None:
        """Oscar's step, due now: its delivery proves a sweep ran after Mia's."""
        minute_ago = FrozenClock(SystemClock().now() - dt.timedelta(minutes=1))
        db = Database(database)
        await db.open()
        oscar = await manager_with_step(
            db, minute_ago, telegram_id=5006, name="Beta GmbH", due_in=dt.timedelta(minutes=1)
        )
        await schedule.set_quiet_hours(db, minute_ago, actor=oscar, start="00:00", end="00:00")
        await db.close()

    mia = server.user(MANAGER_ID, "Mia")
    second = await start_bot()
    try:
        await mia.expect("Due now", timeout=15)
        await due_now_for_oscar()
        assert "Beta GmbH" in (await server.user(5006, "Oscar").expect("Due now", timeout=15)).text
    finally:
        second.send_signal(signal.SIGTERM)
        await second.wait()
    assert sum("Due now" in m.text for m in mia.messages) == 1


async def test_away_with_a_deputy_and_the_heads_view(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """/away 30 Nov Oscar: the step's reminder reaches Oscar, marked; the head sees it in /team."""
    db = services_of(app).db
    await manager_with_step(db, clock)
    await make_user(db, clock, 5006, Role.MANAGER, name="Oscar")
    await make_user(db, clock, 5007, Role.HEAD, name="Hanna")
    mia, oscar, hanna = (
        server.user(MANAGER_ID, "Mia"),
        server.user(5006, "Oscar"),
        server.user(5007, "Hanna"),
    )
    await mia.send("/away 30 Nov Oscar")
    confirmed = await mia.expect("You're away until")
    assert "Your reminders go to Oscar" in confirmed.text
    await hanna.send("/team")
    assert "away until" in (await hanna.expect("Team")).text
    assert "deputy Oscar" in hanna.last_message.text  # type: ignore[union-attr]
    sweep = JobRuns(app, SWEEP_JOB)
    clock.advance(dt.timedelta(hours=2))
    covered = await oscar.expect("Due now", timeout=10)
    assert "(for Mia, who is away)" in covered.text
    await sweep.next_run()  # a whole sweep after Oscar's: nothing for Mia in it either
    await mia.no_reply(within=0.05)
    await mia.press("I'm back")
    await mia.expect("Welcome back")
