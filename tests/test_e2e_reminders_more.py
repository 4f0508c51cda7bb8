"""End-to-end: a step's card and its buttons — open, snooze, reschedule, cancel — including
the polite refusals for a bad time, a reason too long and a button pressed too late."""

from __future__ import annotations

import datetime as dt

from telegram.ext import Application

from bot.app import services_of
from bot.clock import FrozenClock
from bot.devtools.sandbox.client import ChatUser
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.services import steps
from storage.db import Database
from tests.test_e2e_reminders import MANAGER_ID, manager_with_step

CARD_LABELS = [
    "✅ Done — log it",
    "💤 Snooze",
    "🗓 Reschedule",
    "✖️ Cancel step",
    "📅 Add to calendar",
]


async def open_card(mia: ChatUser) -> None:
    """/agenda, then the step's button: its card with the step's actions."""
    await mia.send("/agenda")
    await mia.expect("Your agenda")
    assert await mia.press("📌 Acme LLC: call") is None
    card = await mia.expect("Acme LLC")
    assert card.labels == CARD_LABELS


async def due_at(db: Database) -> str:
    """The step's due time as stored."""
    return str(await db.fetch_value("SELECT due_at FROM steps"))


async def test_reschedule_from_the_agenda_with_a_quick_button(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Agenda → the step's card → Reschedule → "Tomorrow 10:00" moves the step."""
    db = services_of(app).db
    await manager_with_step(db, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await open_card(mia)
    await mia.press("🗓 Reschedule")
    question = await mia.expect("Move the call with Acme LLC to when?")
    assert question.labels == ["Tomorrow 10:00", "In 3 days", "Next Monday"]
    await mia.press("Tomorrow 10:00")
    done = await mia.expect("Acme LLC: the call is rescheduled to")
    assert "Fri 27 Nov 2026, 10:00" in done.text
    assert "Europe/London" in done.text
    assert await due_at(db) == "2026-11-27T10:00:00Z"
    assert await db.fetch_value("SELECT reschedule_count FROM steps") == 1


async def test_typed_reschedule_asks_again_until_the_time_is_usable(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """An unreadable time and a past one are refused, each saying what to send; the question
    stays open and a good time then moves the step."""
    db = services_of(app).db
    await manager_with_step(db, clock)
    before = await due_at(db)
    mia = server.user(MANAGER_ID, "Mia")
    await open_card(mia)
    await mia.press("🗓 Reschedule")
    await mia.expect("to when?")
    await mia.send("whenever suits them")
    unreadable = await mia.reply()
    assert "couldn't read" in unreadable.text
    assert "whenever suits them" in unreadable.text
    await mia.send("yesterday 10:00")
    past = await mia.reply()
    assert "past" in past.text
    assert await due_at(db) == before
    await mia.send("fri 15:00")
    done = await mia.expect("Acme LLC: the call is rescheduled to")
    assert "Fri 27 Nov 2026, 15:00" in done.text
    assert await due_at(db) == "2026-11-27T15:00:00Z"


async def test_a_snooze_never_brings_a_step_forward(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Snoozing a step due in two hours by 15 minutes is refused, pointing to Reschedule."""
    db = services_of(app).db
    await manager_with_step(db, clock)
    before = await due_at(db)
    mia = server.user(MANAGER_ID, "Mia")
    await open_card(mia)
    await mia.press("💤 Snooze")
    answer = await mia.press("15 min")
    assert answer is not None
    assert "only due on" in answer
    assert "Reschedule" in answer
    assert await due_at(db) == before
    assert await db.fetch_value("SELECT snooze_count FROM steps") == 0


async def test_a_reason_too_long_is_refused_and_asked_again(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Cancelling with a 501-character reason says the limit; a short reason then works."""
    db = services_of(app).db
    await manager_with_step(db, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await open_card(mia)
    await mia.press("✖️ Cancel step")
    await mia.expect("Why cancel the call with Acme LLC?")
    await mia.send("x" * 501)
    refused = await mia.reply()
    assert "1 to 500 characters" in refused.text
    assert await db.fetch_value("SELECT state FROM steps") == "open"
    await mia.send("They merged with another company")
    cancelled = await mia.expect("Acme LLC: the call is cancelled")
    assert "What happens with Acme LLC instead?" in cancelled.text
    assert await db.fetch_value("SELECT state FROM steps") == "cancelled"


async def test_buttons_of_a_cancelled_step_say_it_was_handled(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Once the step is cancelled, its card's buttons and the agenda's button answer
    "Already handled" and change nothing."""
    db = services_of(app).db
    manager = await manager_with_step(db, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await open_card(mia)
    step_id = int(await db.fetch_value("SELECT id FROM steps"))
    await steps.cancel_step(
        db, clock, actor=manager, step_id=step_id, reason="Done from another device"
    )
    for label in ("💤 Snooze", "🗓 Reschedule", "✖️ Cancel step", "📌 Acme LLC: call"):
        answer = await mia.press(label)
        assert answer is not None, label
        assert answer.startswith("Already handled: the call with Acme LLC on "), (label, answer)
        assert answer.endswith(" was cancelled."), (label, answer)
    await mia.no_reply(within=0.1)
    assert await db.fetch_value("SELECT reschedule_count + snooze_count FROM steps") == 0


async def test_a_step_cancelled_while_its_new_time_is_typed(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """The step is cancelled elsewhere while the person is asked for a new time: the typed
    time gets "Already handled", and the question is closed (the next text is not a time)."""
    db = services_of(app).db
    manager = await manager_with_step(db, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await open_card(mia)
    await mia.press("🗓 Reschedule")
    await mia.expect("to when?")
    step_id = int(await db.fetch_value("SELECT id FROM steps"))
    await steps.cancel_step(
        db, clock, actor=manager, step_id=step_id, reason="Done from another device"
    )
    await mia.send("fri 15:00")
    handled = (await mia.reply()).text
    assert "Already handled: the call with Acme LLC on " in handled, handled
    assert await db.fetch_value("SELECT state FROM steps") == "cancelled"
    await mia.send("/agenda")
    await mia.expect("Your agenda")


async def test_snooze_until_tomorrow_morning(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A due reminder snoozed to "Tomorrow morning" comes back at the agenda time."""
    db = services_of(app).db
    await manager_with_step(db, clock)
    mia = server.user(MANAGER_ID, "Mia")
    clock.advance(dt.timedelta(hours=2))
    await mia.expect("Due now", timeout=10)
    await mia.press("💤 Snooze")
    assert await mia.press("Tomorrow morning") == "Snoozed."
    snoozed = await mia.expect("💤 Acme LLC: I'll remind you about the call again")
    assert "Fri 27 Nov 2026, 09:00" in snoozed.text
    assert await due_at(db) == "2026-11-27T09:00:00Z"


async def test_forged_step_buttons_get_a_polite_refusal(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Button data that no button of ours carries (a bad id, an unknown snooze or quick
    choice) is answered "not valid any more", and nothing changes."""
    db = services_of(app).db
    await manager_with_step(db, clock)
    before = await due_at(db)
    mia = server.user(MANAGER_ID, "Mia")
    await open_card(mia)
    card = mia.last_message
    assert card is not None
    step_id = int(await db.fetch_value("SELECT id FROM steps"))
    for data in ("st:open:abc", f"st:sz:{step_id}:forever", f"st:rq:{step_id}:someday"):
        answer = await mia.press_data(data, message_id=card.message_id)
        assert answer is not None, data
        assert "not valid any more" in answer, (data, answer)
    assert await due_at(db) == before
