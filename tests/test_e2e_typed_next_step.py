"""End-to-end: the next step typed where the bot asks for it, read back for one tap."""

from __future__ import annotations

from telegram.ext import Application

from bot.app import services_of
from bot.clock import FrozenClock
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.services import clients
from storage.users import Role
from tests.factories import make_user

MANAGER_ID = 7007


async def mara_with(app: Application, server: FakeBotApiServer, clock: FrozenClock, client: str):  # type: ignore[no-untyped-def]
    """Mara, a manager in London with one client."""
    db = services_of(app).db
    manager = await make_user(
        db, clock, MANAGER_ID, Role.MANAGER, name="Mara", timezone="Europe/London"
    )
    await clients.create_client(db, clock, actor=manager, name=client)
    return server.user(MANAGER_ID, "Mara")


async def logged_call(app: Application, server: FakeBotApiServer, clock: FrozenClock):  # type: ignore[no-untyped-def]
    """Mara (London) has logged a call with Tundra Outdoor and is asked for the next step."""
    mara = await mara_with(app, server, clock, "Tundra Outdoor")
    await mara.send("/call Tundra Outdoor talked about the spring range")
    await mara.expect("What is the next step?")
    return mara


async def test_a_typed_meeting_is_read_back_and_saved_in_one_tap(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """`meeting next friday 15:00` (the clock: Thu 26 Nov 2026, 09:00 UTC) → one tap."""
    mara = await logged_call(app, server, clock)
    await mara.send("meeting next friday 15:00 about the samples")
    await mara.expect("🤝 Meeting (about the samples): Fri 27 Nov 2026, 15:00 (Europe/London)")
    await mara.press("✅ Confirm")
    await mara.expect("Logged")
    db = services_of(app).db
    row = await db.fetch_one("SELECT kind, agenda, due_at FROM steps WHERE state = 'open'")
    assert row is not None
    assert (row["kind"], row["agenda"]) == ("meeting", "about the samples")
    assert row["due_at"].startswith("2026-11-27T15:00")
    await mara.send("/clients Tundra")
    await mara.press("Tundra Outdoor")
    await mara.press("History")
    history = await mara.expect("History · Tundra Outdoor")
    assert "→ meeting Fri 27 Nov 2026, 15:00, open" in history.text


async def test_typed_closures_and_what_is_missing(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """`call` asks when; `refused: too expensive` closes after one tap, reason kept."""
    mara = await logged_call(app, server, clock)
    await mara.send("call")
    await mara.expect("When is the call?")
    await mara.send("in 2 weeks")
    await mara.expect("📞 Call: Thu 10 Dec 2026, 10:00 (Europe/London). Is that right?")
    await mara.press("Change")
    await mara.send("/cancel")
    await mara.reply()

    await mara.send("/call Tundra Outdoor they said no")
    await mara.expect("What is the next step?")
    await mara.send("refused: too expensive")
    asked = await mara.expect("Close the contact like this?")
    assert "🚫 Client refused: too expensive." in asked.text
    await mara.press("✅ Confirm")
    await mara.expect("Logged")
    db = services_of(app).db
    row = await db.fetch_one(
        "SELECT outcome, outcome_reason FROM contacts WHERE summary = 'they said no'"
    )
    assert row is not None and (row["outcome"], row["outcome_reason"]) == (
        "refused",
        "too expensive",
    )


async def test_a_time_without_a_kind_asks_the_kind(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """`tomorrow 10:00` asks what kind of step; typing `email` then reads the time again."""
    mara = await logged_call(app, server, clock)
    await mara.send("tomorrow 10:00")
    await mara.expect("What kind of step: a call, a meeting or an email?")
    await mara.send("email tomorrow 11:00")
    await mara.expect("✉️ Email: Fri 27 Nov 2026, 11:00 (Europe/London). Is that right?")


async def test_one_message_logs_the_call_and_its_next_step(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """`/call <client> <summary> next: <step>` plus one tap: the call and its step saved."""
    db = services_of(app).db
    mara = await mara_with(app, server, clock, "Acme")
    await mara.send("/call Acme discussed prices Next: call Tuesday 15:00")
    await mara.expect("📞 Call: Tue 1 Dec 2026, 15:00 (Europe/London). Is that right?")
    await mara.press("✅ Confirm")
    await mara.expect("Logged")
    read_back = next(m for m in mara.messages if "Is that right?" in m.text)
    assert read_back.labels == []  # answered: its buttons are gone
    contact = await db.fetch_one("SELECT summary, outcome FROM contacts")
    assert contact is not None and contact["summary"] == "discussed prices"
    assert contact["outcome"] == "scheduled"
    step = await db.fetch_one("SELECT kind, due_at FROM steps WHERE state = 'open'")
    assert step is not None and step["kind"] == "call"
    assert step["due_at"].startswith("2026-12-01T15:00")


async def test_the_next_step_question_names_the_contact(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """ "Saved your call with Tundra Outdoor. What is the next step?" names its subject."""
    mara = await logged_call(app, server, clock)
    asked = mara.chat.events[-1]
    assert asked.text.startswith("Saved your call with Tundra Outdoor. What is the next step?")


async def test_pause_offers_months_not_hours(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """ "Pause until…" offers 1, 3 or 6 months; "In 3 months" is kept as a date."""
    mara = await logged_call(app, server, clock)
    await mara.press("⏸ Pause until…")
    asked = await mara.expect("Pause until when?")
    assert asked.labels[:3] == ["In 1 month", "In 3 months", "In 6 months"]
    assert "In 2 hours" not in asked.labels
    await mara.press("In 3 months")
    await mara.expect("Pause until: Fri 26 Feb 2027, 10:00 (Europe/London).")
    await mara.expect("Logged")
    await mara.send("/clients Tundra")
    await mara.press("Tundra Outdoor")
    card = await mara.expect("Next step")
    assert "⏸ Paused until Fri 26 Feb 2027, 10:00" in card.text
    assert "other on" not in card.text
