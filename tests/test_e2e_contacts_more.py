"""End-to-end: the rest of the log flow — finding the client, a contact that happened earlier,
forwarded messages, pausing, picking and changing the due time, a client's other open step,
editing and undoing, what becomes of a log another flow interrupts, and stale or forged
buttons."""

from __future__ import annotations

import datetime as dt

from telegram.ext import Application

from bot.app import services_of
from bot.clock import FrozenClock
from bot.devtools.sandbox.client import ChatUser
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.services import clients, contacts, steps
from storage.db import Database
from storage.users import User
from tests.test_e2e_contacts import MANAGER_ID, log_call_until_next_step, setup_manager

NEXT_STEP_LABELS = [
    "📅 Schedule follow-up",
    "🏆 Deal won",
    "🚫 Client refused",
    "❌ Not a target",
    "⏸ Pause until…",
]


async def count(db: Database, sql: str) -> int:
    """The single number a query gives."""
    return int(await db.fetch_value(sql))


async def schedule_call_tomorrow(mia: ChatUser) -> None:
    """From the next-step question: a follow-up call, "Tomorrow 10:00" (tapped: no read-back)."""
    await mia.press("📅 Schedule follow-up")
    await mia.expect("What kind of follow-up?")
    await mia.press("📞 Call")
    await mia.expect("When is the follow-up due?")
    await mia.press("Tomorrow 10:00")
    await mia.expect("📞 Call: Fri 27 Nov 2026, 10:00")


async def test_the_client_is_found_by_typed_letters(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Letters that match nobody say so and offer them as a new client; matching ones list
    the client."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/log")
    await mia.expect("Who was the contact with?")
    await mia.send("zzq")
    nobody = await mia.expect("I found no client called “zzq”.")
    assert nobody.labels == ["➕ New client “zzq”", "✏️ Another name"]
    await mia.send("acm")
    found = await mia.expect("Matching clients:")
    assert found.labels == ["Acme LLC"]
    await mia.press("Acme LLC")
    await mia.expect("What kind of contact was it?")


async def test_quick_log_without_a_name_or_with_an_unknown_or_shared_one(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """`/call` alone asks for the client; an unknown name says none was found; a prefix two
    clients share asks which one, and the summary typed with it is kept."""
    manager = await setup_manager(app, clock)
    db = services_of(app).db
    await clients.create_client(db, clock, actor=manager, name="Acme Trading")
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/call")
    await mia.expect("Logging a call. Who was it with?")
    await mia.send("/meeting Nobodyhere talked about prices")
    assert "I found no client called “Nobodyhere”" in (await mia.expect("no client")).text
    await mia.send("/call acme asked for a discount")
    several = await mia.expect("Several clients match “acme”. Which one?")
    assert sorted(several.labels) == ["Acme LLC", "Acme Trading"]
    await mia.press("Acme Trading")
    await mia.expect("What is the next step?")
    summary = await db.fetch_value("SELECT summary FROM contacts")
    assert summary == "asked for a discount"


async def test_a_contact_that_happened_earlier(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """ "It was earlier" asks when; an unreadable time is refused and asked again; the
    summary question then names the time, and the contact is stored at it."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/log")
    await mia.press("Acme LLC")
    await mia.press("📞 Call")
    await mia.expect("What happened?")
    await mia.press("⏱ It was earlier")
    await mia.expect("When was it?")
    await mia.send("some day")
    assert "couldn't read" in (await mia.reply()).text
    await mia.send("yesterday 15:00")
    question = await mia.expect("What happened?")
    assert "Wed 25 Nov 2026, 15:00" in question.text
    await mia.send("Talked about the spring order")
    await mia.expect("What is the next step?")
    db = services_of(app).db
    assert await db.fetch_value("SELECT happened_at FROM contacts") == "2026-11-25T15:00:00Z"


async def test_a_forwarded_message_is_attached_to_the_sender_s_client(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A message forwarded from the client's contact person offers that client; one from a
    stranger asks which client; the text becomes a "message" contact."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send(
        "Can you send the offer by Friday?",
        forward_from={"id": 777, "first_name": "Ivan", "last_name": "Petrov"},
    )
    offer = await mia.expect("Attach this message from Ivan Petrov to which client?")
    assert offer.labels == ["Acme LLC"]
    await mia.press("Acme LLC")
    await mia.expect("What is the next step?")
    db = services_of(app).db
    row = await db.fetch_one("SELECT kind, summary FROM contacts")
    assert row is not None
    assert tuple(row) == ("message", "Can you send the offer by Friday?")
    await mia.press("🏆 Deal won")
    await mia.expect("Logged")
    await mia.send("Who is this?", forward_sender_name="Zed Unknown")
    await mia.expect("Attach this forwarded message to which client?")


async def test_pause_with_a_picked_and_then_changed_date(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Pause → "Pick a date" → a typed date (read back) → "Change" → a quick button (saved
    as tapped): the contact is paused until then, with a check-back step."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await log_call_until_next_step(mia)
    await mia.press("⏸ Pause until…")
    await mia.expect("Pause until when?")
    await mia.press("🗓 Pick a date")
    await mia.expect("Type the date and time")
    await mia.send("1 Dec 14:30")
    first = await mia.expect("Is that right?")
    assert "Pause until: Tue 1 Dec 2026, 14:30" in first.text
    await mia.press("Change")
    await mia.expect("When, then?")
    await mia.press("In 1 month")  # a pause offers months, not hours
    done = await mia.expect("Logged")
    assert "Paused" in done.text or "pause" in done.text.lower()
    db = services_of(app).db
    assert await db.fetch_value("SELECT outcome FROM contacts") == "paused"
    assert await db.fetch_value("SELECT due_at FROM steps WHERE state = 'open'") == (
        "2026-12-28T10:00:00Z"  # "In 1 month" is a Saturday: the Monday after
    )


async def test_a_client_s_other_open_step_is_replaced_only_when_asked(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """While the person answers the next-step question, a later contact sets the client a
    step: a follow-up within a day of it asks "keep both or replace it?" (replace is never
    the default); "Choose another next step" goes back; "Replace it" replaces."""
    manager = await setup_manager(app, clock)
    db = services_of(app).db
    mia = server.user(MANAGER_ID, "Mia")
    await log_call_until_next_step(mia, "First call")
    clock.advance(dt.timedelta(minutes=1))
    await later_step(db, clock, manager)
    await schedule_call_tomorrow(mia)
    ask = await mia.expect("Acme LLC already has a meeting Sat 28 Nov 2026, 09:01. Keep both")
    assert ask.labels == ["Keep both", "Replace it", "Choose another next step"]
    await mia.press("Choose another next step")
    back = await mia.expect("What is the next step?")
    assert back.labels == NEXT_STEP_LABELS
    await schedule_call_tomorrow(mia)
    await mia.expect("Keep both, or replace it with the call Fri 27 Nov 2026, 10:00?")
    await mia.press("Replace it")
    done = await mia.expect("Logged")
    assert "Next step: call on Fri 27 Nov 2026, 10:00" in done.text
    assert await count(db, "SELECT count(*) FROM steps WHERE state = 'open'") == 1
    assert await db.fetch_value("SELECT kind FROM steps WHERE state = 'open'") == "call"
    assert await count(db, "SELECT count(*) FROM steps WHERE state = 'replaced'") == 1


async def later_step(db: Database, clock: FrozenClock, manager: User) -> int:
    """Another contact with Acme LLC (logged elsewhere) that set a meeting in two days; the
    step's id."""
    client_id = int(await db.fetch_value("SELECT id FROM clients WHERE name = 'Acme LLC'"))
    contact = await contacts.log_contact(
        db, clock, actor=manager, client_id=client_id, kind="call", summary="Second call"
    )
    step = await contacts.schedule_next_step(
        db,
        clock,
        actor=manager,
        contact_id=contact.id,
        kind="meeting",
        due_at=clock.now() + dt.timedelta(days=2),
    )
    return step.id


async def test_edit_and_undo_within_ten_minutes_only(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Edit corrects the summary (an empty one is refused and asked again); after ten
    minutes Edit and Undo both say they are too late."""
    await setup_manager(app, clock)
    db = services_of(app).db
    mia = server.user(MANAGER_ID, "Mia")
    await log_call_until_next_step(mia)
    await mia.press("🏆 Deal won")
    logged = await mia.expect("Logged")
    await mia.press("✏️ Edit", message_id=logged.message_id)
    await mia.expect("Send the corrected summary.")
    await mia.send("x" * (contacts.MAX_SUMMARY + 1))
    refused = await mia.reply()
    assert str(contacts.MAX_SUMMARY) in refused.text
    await mia.send("Signed for 40 units")
    await mia.expect("✏️ Summary of your call with Acme LLC updated.")
    assert await db.fetch_value("SELECT summary FROM contacts") == "Signed for 40 units"

    clock.advance(dt.timedelta(minutes=11))
    answer = await mia.press("↩️ Undo", message_id=logged.message_id)
    assert answer is not None
    assert "within 10 minutes" in answer
    await mia.press("✏️ Edit", message_id=logged.message_id)
    await mia.expect("Send the corrected summary.")
    await mia.send("Too late now")
    assert "within 10 minutes" in (await mia.reply()).text
    assert await db.fetch_value("SELECT summary FROM contacts") == "Signed for 40 units"
    await mia.send("Not a summary")  # the question was closed: this is no edit
    assert await db.fetch_value("SELECT summary FROM contacts") == "Signed for 40 units"


async def test_undo_removes_the_contact_and_its_step(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Undo right after logging takes back the contact and the follow-up it set."""
    await setup_manager(app, clock)
    db = services_of(app).db
    mia = server.user(MANAGER_ID, "Mia")
    await log_call_until_next_step(mia)
    await schedule_call_tomorrow(mia)
    await mia.expect("Logged")
    assert await mia.press("↩️ Undo") == "Undone."
    await mia.expect("Undone: the call with Acme LLC and its next step were removed.")
    assert await count(db, "SELECT count(*) FROM contacts") == 0
    assert await count(db, "SELECT count(*) FROM steps WHERE state = 'open'") == 0


async def test_stale_next_step_and_done_buttons_say_already_handled(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A next-step button of a contact already concluded, and "Done — log it" on a step
    cancelled meanwhile, answer "Already handled" and start nothing."""
    manager = await setup_manager(app, clock)
    db = services_of(app).db
    mia = server.user(MANAGER_ID, "Mia")
    await log_call_until_next_step(mia)
    question = mia.last_message
    assert question is not None
    won = (question.button("🏆 Deal won") or {})["callback_data"]
    await mia.press("🚫 Client refused")
    await mia.expect("Why did the client refuse?")
    await mia.send("Budget frozen")
    await mia.expect("Logged")
    answer = await mia.press_data(won, message_id=question.message_id)
    assert answer is not None
    assert "Already handled: the call with Acme LLC on " in answer, answer
    assert "was closed: the client refused" in answer, answer
    assert await db.fetch_value("SELECT outcome FROM contacts") == "refused"

    step_id = await later_step(db, clock, manager)
    clock.advance(dt.timedelta(days=2))
    await mia.expect("Due now", timeout=10)
    await steps.cancel_step(db, clock, actor=manager, step_id=step_id, reason="Moved on")
    answer = await mia.press("✅ Done — log it")
    assert answer is not None
    assert "Already handled: the meeting with Acme LLC on " in answer, answer
    assert "was cancelled" in answer, answer
    await mia.no_reply(within=0.1)


async def test_done_on_a_step_of_another_kind_asks_the_contact_s_kind(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """ "Done — log it" on an "other" step (no contact kind of its own) asks what kind of
    contact it was; the contact then completes the step."""
    manager = await setup_manager(app, clock)
    db = services_of(app).db
    client_id = int(await db.fetch_value("SELECT id FROM clients"))
    contact = await contacts.log_contact(
        db, clock, actor=manager, client_id=client_id, kind="call", summary="First call"
    )
    await contacts.schedule_next_step(
        db,
        clock,
        actor=manager,
        contact_id=contact.id,
        kind="other",
        due_at=clock.now() + dt.timedelta(hours=1),
    )
    mia = server.user(MANAGER_ID, "Mia")
    clock.advance(dt.timedelta(hours=1))
    await mia.expect("Due now", timeout=10)
    await mia.press("✅ Done — log it")
    await mia.expect("What kind of contact was it?")
    await mia.press("✉️ Email")
    await mia.expect("What happened?")
    await mia.send("Sent the offer")
    await mia.expect("What is the next step?")
    assert await db.fetch_value("SELECT state FROM steps") == "done"


async def test_what_becomes_of_a_log_another_flow_interrupts(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """/newclient mid-log says what was kept: nothing before the kind was chosen; a forwarded
    text without a client was not saved; an edit leaves the summary as it was."""
    await setup_manager(app, clock)
    db = services_of(app).db
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/log")
    await mia.press("Acme LLC")
    await mia.expect("What kind of contact was it?")
    await mia.send("/newclient")
    await mia.expect("New client")
    await mia.expect("Logging a contact with Acme LLC was left; nothing was saved.")
    await mia.send("/cancel")
    await mia.reply()

    await mia.send("Hello from nowhere", forward_sender_name="Zed Unknown")
    await mia.expect("Attach this forwarded message to which client?")
    await mia.send("/newclient")
    await mia.expect("New client")
    await mia.expect("The message you were logging wasn't saved: no client was chosen.")
    await mia.send("/cancel")
    await mia.reply()
    assert await count(db, "SELECT count(*) FROM contacts") == 0

    await log_call_until_next_step(mia, "Talked")
    await mia.press("🏆 Deal won")
    await mia.expect("Logged")
    await mia.press("✏️ Edit")
    await mia.expect("Send the corrected summary.")
    await mia.send("/newclient")
    await mia.expect("New client")
    await mia.expect("The summary was left as it was.")
    assert await db.fetch_value("SELECT summary FROM contacts") == "Talked"


async def test_forged_log_buttons_get_a_polite_refusal(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Button data no button of ours carries — a bad client id, an unknown kind, a malformed
    next step, due time or undo — is answered "not valid any more", and nothing is saved."""
    await setup_manager(app, clock)
    db = services_of(app).db
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/log")
    picker = await mia.expect("Who was the contact with?")
    client_id = int(await db.fetch_value("SELECT id FROM clients"))
    forged = [
        "log:cl:abc",
        f"log:{client_id}:fax",
        "log:kind:fax",
        "ns:won:abc",
        "ns:kind:fax",
        "ns:due",
        "ns:ok",
        "lg:undo:abc",
        "lg:edit:abc",
    ]
    for data in forged:
        answer = await mia.press_data(data, message_id=picker.message_id)
        assert answer is not None, data
        assert "not valid any more" in answer, (data, answer)
    assert await count(db, "SELECT count(*) FROM contacts") == 0


async def test_log_from_the_client_card_and_a_summary_too_long(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """ "Log meeting" on the card skips the client and kind questions; a summary over the
    limit is refused and asked again; /cancel before saving says nothing was saved."""
    await setup_manager(app, clock)
    db = services_of(app).db
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/log")
    await mia.expect("Who was the contact with?")
    await mia.send("/cancel")
    assert "Nothing was saved" in (await mia.expect("Cancelled")).text
    await mia.send("/clients")
    listing = await mia.reply()
    await mia.press("Acme LLC", message_id=listing.message_id)
    await mia.press("Log meeting")
    await mia.expect("What happened? Send a short summary of the meeting")
    await mia.send("x" * (contacts.MAX_SUMMARY + 1))
    assert str(contacts.MAX_SUMMARY) in (await mia.reply()).text
    assert await count(db, "SELECT count(*) FROM contacts") == 0
    await mia.send("Visited their office")
    await mia.expect("What is the next step?")
    assert await db.fetch_value("SELECT kind FROM contacts") == "meeting"


async def test_a_due_time_that_passed_before_the_confirming_tap(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A follow-up "in 2 minutes" read back, confirmed three minutes later: the save is
    refused as in the past and the due time is asked again."""
    await setup_manager(app, clock)
    db = services_of(app).db
    mia = server.user(MANAGER_ID, "Mia")
    await log_call_until_next_step(mia)
    await mia.press("📅 Schedule follow-up")
    await mia.expect("What kind of follow-up?")
    await mia.press("📞 Call")
    await mia.expect("When is the follow-up due?")
    await mia.send("in 2 minutes")
    await mia.expect("Is that right?")
    clock.advance(dt.timedelta(minutes=3))
    await mia.press("✅ Confirm")
    await mia.expect("past")
    assert await count(db, "SELECT count(*) FROM steps") == 0
    await mia.send("fri 15:00")
    await mia.expect("Is that right?")


async def test_a_contact_concluded_elsewhere_mid_question(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A reason over the limit is asked again; once the contact is concluded elsewhere (another
    device), the typed reason and a confirming tap both get "Already handled"."""
    manager = await setup_manager(app, clock)
    db = services_of(app).db
    mia = server.user(MANAGER_ID, "Mia")
    await log_call_until_next_step(mia)
    await mia.press("🚫 Client refused")
    await mia.expect("Why did the client refuse?")
    await mia.send("x" * (contacts.MAX_REASON + 1))
    assert str(contacts.MAX_REASON) in (await mia.reply()).text
    contact_id = int(await db.fetch_value("SELECT id FROM contacts"))
    await contacts.close_contact(
        db, clock, actor=manager, contact_id=contact_id, outcome=contacts.Outcome.WON
    )
    await mia.send("Budget frozen")
    handled = (await mia.reply()).text
    assert "Already handled: the call with Acme LLC on " in handled, handled
    assert "was closed: deal won" in handled, handled
    assert await db.fetch_value("SELECT outcome FROM contacts") == "won"

    await log_call_until_next_step(mia, "Another call")
    await mia.send("call tomorrow 10:00")
    await mia.expect("Is that right?")
    second = int(await db.fetch_value("SELECT max(id) FROM contacts"))
    await contacts.close_contact(
        db, clock, actor=manager, contact_id=second, outcome=contacts.Outcome.WON
    )
    await mia.press("✅ Confirm")
    handled = await mia.expect("Already handled")
    assert "Already handled: the call with Acme LLC on " in handled.text, handled.text
    assert await count(db, "SELECT count(*) FROM steps") == 0
