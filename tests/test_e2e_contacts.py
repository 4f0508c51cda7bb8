"""End-to-end: logging calls and meetings, and the next step every contact must end with."""

from __future__ import annotations

import datetime as dt

from telegram.ext import Application

from bot.app import services_of
from bot.clock import FrozenClock
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.services import clients
from storage import audit
from storage.users import Role, User
from tests.factories import make_user

MANAGER_ID = 5005
OTHER_ID = 5006


async def setup_manager(
    app: Application, clock: FrozenClock, telegram_id: int = MANAGER_ID
) -> User:
    """A manager with the client Acme LLC (as an invitation and /newclient would leave it)."""
    db = services_of(app).db
    manager = await make_user(
        db, clock, telegram_id, Role.MANAGER, name="Mia", timezone="Europe/London"
    )
    await clients.create_client(
        db,
        clock,
        actor=manager,
        name=f"Acme LLC {telegram_id}" if telegram_id != MANAGER_ID else "Acme LLC",
        contact_person="Ivan Petrov",
        phone="+44 20 7946 0958",
    )
    return manager


async def log_call_until_next_step(user, summary: str = "Discussed the spring order") -> None:
    """/log → Acme LLC → Call → summary, up to the next-step question."""
    await user.send("/log")
    await user.expect("Who was the contact with?")
    await user.press("Acme LLC")
    await user.expect("What kind of contact")
    await user.press("📞 Call")
    await user.expect("What happened?")
    await user.send(summary)
    await user.expect("What is the next step?")


async def test_log_call_with_buttons(app: Application, server: FakeBotApiServer, clock) -> None:
    """A call logged by buttons: a tapped time is saved at once (no read-back to confirm);
    the confirmation offers Edit, Undo and 📝 Add agenda."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await log_call_until_next_step(mia)
    await mia.press("📅 Schedule follow-up")
    await mia.expect("What kind of follow-up?")
    await mia.press("🤝 Meeting")
    await mia.expect("When is the follow-up due?")
    await mia.press("Tomorrow 10:00")
    record = await mia.expect("🤝 Meeting: Fri 27 Nov 2026, 10:00 (Europe/London).")
    assert record.labels == []  # the question became its record, without buttons
    done = await mia.expect("Logged")
    assert "call with Acme LLC" in done.text
    assert "Next step: meeting on Fri 27 Nov 2026, 10:00" in done.text
    assert done.labels == ["✏️ Edit", "↩️ Undo", "📝 Add agenda", "📅 Add to calendar"]
    await mia.press("📝 Add agenda")
    await mia.expect("What to prepare or discuss at the meeting with Acme LLC on Fri 27 Nov")
    await mia.send("x" * 1001)
    await mia.expect("The agenda must be 1 to 1000 characters.")
    await mia.send("Bring the <price list> & terms")
    saved = await mia.expect("📝 Agenda saved for the meeting with Acme LLC")
    assert "Bring the &lt;price list&gt; &amp; terms" in saved.html

    await mia.send("/agenda")
    agenda = await mia.expect("Your agenda")
    assert "Acme LLC — meeting" in agenda.text
    assert "Need a next step" not in agenda.text


async def test_quick_call_with_typed_due_and_past_refused(
    app: Application, server: FakeBotApiServer, clock
) -> None:
    """`/call Acme …` logs at once; a due time in the past is refused with a clear message."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/call acme asked for a discount on 40 units")
    await mia.expect("What is the next step?")
    await mia.press("📅 Schedule follow-up")
    await mia.expect("What kind of follow-up?")
    await mia.press("📞 Call")
    await mia.expect("When is the follow-up due?")
    await mia.send("yesterday 10:00")
    refused = await mia.reply()
    assert "past" in refused.text
    await mia.send("fri 15:00")
    confirm = await mia.expect("Is that right?")
    assert "Fri 27 Nov 2026, 15:00" in confirm.text
    await mia.press("✅ Confirm")
    done = await mia.expect("Logged")
    assert "asked for a discount on 40 units" in done.text
    assert "Next step: call on Fri 27 Nov 2026, 15:00" in done.text


async def test_closure_with_reason(app: Application, server: FakeBotApiServer, clock) -> None:
    """ "Client refused" needs a reason, and the contact is then complete."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await log_call_until_next_step(mia)
    await mia.press("🚫 Client refused")
    await mia.expect("Why did the client refuse?")
    await mia.send("Budget frozen until Q3")
    done = await mia.expect("Logged")
    assert "Client refused: Budget frozen until Q3" in done.text


async def test_abandoned_flow_is_reminded_and_resolved_from_agenda(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A contact left without a next step is nagged after 15 minutes and resolved later."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await log_call_until_next_step(mia)
    await mia.send("/cancel")
    assert "still needs a next step" in (await mia.reply()).text

    await mia.send("/agenda")
    agenda = await mia.expect("Your agenda")
    assert "Need a next step (1)" in agenda.text

    clock.advance(dt.timedelta(minutes=16))
    nag = await mia.expect("has no next step yet", timeout=10)
    assert nag.labels == ["➡️ Acme LLC: set next step"]

    await mia.press("➡️ Acme LLC: set next step")
    await mia.expect("What is the next step?")
    await mia.press("🏆 Deal won")
    assert "Deal won" in (await mia.expect("Logged")).text
    await mia.send("/agenda")
    assert "Need a next step" not in (await mia.expect("Your agenda")).text


async def test_undo_removes_the_contact(app: Application, server: FakeBotApiServer, clock) -> None:
    """Undo within 10 minutes removes the contact and its step."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await log_call_until_next_step(mia)
    await mia.press("🏆 Deal won")
    await mia.expect("Logged")
    await mia.press("↩️ Undo")
    assert "Undone" in (await mia.expect("Undone")).text
    db = services_of(app).db
    assert await db.fetch_value("SELECT count(*) FROM contacts") == 0


async def test_forged_next_step_button_is_refused(
    app: Application, server: FakeBotApiServer, clock
) -> None:
    """Another manager pressing a button with Mia's contact id is refused and audited."""
    await setup_manager(app, clock)
    await setup_manager(app, clock, OTHER_ID)
    mia = server.user(MANAGER_ID, "Mia")
    await log_call_until_next_step(mia)
    db = services_of(app).db
    contact_id = await db.fetch_value("SELECT id FROM contacts")
    oscar = server.user(OTHER_ID, "Oscar")
    sent = await oscar.send("hi")
    await oscar.reply()
    answer = await oscar.press_data(f"ns:won:{contact_id}", message_id=sent["message_id"])
    assert answer is not None and "belongs to another manager" in answer
    denied = await audit.recent_entries(db, action="access.denied")
    assert [entry.actor_id for entry in denied] == [OTHER_ID]
    assert await db.fetch_value("SELECT state FROM contacts") == "needs_next_step"
