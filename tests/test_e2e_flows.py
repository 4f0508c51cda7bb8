"""End-to-end: one active question per person, and edited messages never create anything."""

from __future__ import annotations

import datetime as dt

from telegram.ext import Application

from bot.app import build_application, polling, services_of
from bot.clock import FrozenClock
from bot.config import Settings
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.services import clients
from storage.users import Role, User
from tests.factories import make_user

MANAGER_ID = 6006
STRANGER_ID = 6066


async def setup(app: Application, clock: FrozenClock) -> User:
    """A manager with the clients Beta Works and Quartz; Quartz has invoice INV-1 (100 USD)."""
    db = services_of(app).db
    manager = await make_user(db, clock, MANAGER_ID, Role.MANAGER, name="Mara")
    await clients.create_client(db, clock, actor=manager, name="Beta Works")
    await clients.create_client(db, clock, actor=manager, name="Quartz")
    return manager


async def count(app: Application, sql: str) -> int:
    """The single number a query gives."""
    return int(await services_of(app).db.fetch_value(sql))


async def test_text_answers_the_newest_question(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """`/call Beta Works` asks for the summary; Record payment on an invoice card asks for the
    amount; the typed `40` is the payment, and the call is kept (and said to be)."""
    await setup(app, clock)
    mara = server.user(MANAGER_ID, "Mara")
    await mara.send("/newinvoice Quartz; INV-1; 100 USD; net 30")
    await mara.expect("Invoice saved")
    await mara.send("/call Beta Works")
    await mara.expect("What happened? Send a short summary of the call")
    await mara.press("Record payment")
    await mara.expect("How much was paid?")
    notice = await mara.expect("kept without a summary")
    assert "The call with Beta Works is kept without a summary; it's on your /agenda" in (
        notice.text
    )
    await mara.send("40")
    await mara.expect("When was it paid?")
    await mara.press("Today, 2026-11-26")
    await mara.expect("✅ Quartz: recorded $40.00 for INV-1")
    assert await count(app, "SELECT count(*) FROM payments") == 1
    assert await count(app, "SELECT amount_minor FROM payments") == 4000
    assert await count(app, "SELECT count(*) FROM contacts") == 1
    summary = await services_of(app).db.fetch_value("SELECT summary FROM contacts")
    assert summary == "(no summary)"  # never "40"
    await mara.send("/agenda")
    agenda = await mara.expect("Beta Works")
    assert "next step" in agenda.text.lower()


async def test_a_new_flow_drops_a_half_filled_form_and_says_so(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Mid-payment, `/call Beta Works discussed prices` starts the log: the payment is said to
    be dropped, and the next answer goes to the log's question, not to the payment."""
    await setup(app, clock)
    mara = server.user(MANAGER_ID, "Mara")
    await mara.send("/newinvoice Quartz; INV-1; 100 USD; net 30")
    await mara.expect("Invoice saved")
    await mara.press("Record payment")
    await mara.expect("How much was paid?")
    await mara.send("/call Beta Works discussed prices")
    await mara.expect("What is the next step?")
    await mara.expect("The payment on INV-1 was not recorded.")
    await mara.send("/newclient")
    await mara.expect("New client")
    await mara.send("Zephyr Ltd")
    await mara.expect("Zephyr Ltd")
    await mara.send("/newinvoice")
    await mara.expect("For which client?")
    await mara.expect("The new client “Zephyr Ltd” was not saved.")
    assert await count(app, "SELECT count(*) FROM payments") == 0
    assert await count(app, "SELECT count(*) FROM clients WHERE name = 'Zephyr Ltd'") == 0


async def test_a_command_that_asks_nothing_leaves_the_question_open(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """/agenda in the middle of a payment shows the agenda; the next text is still the amount."""
    await setup(app, clock)
    mara = server.user(MANAGER_ID, "Mara")
    await mara.send("/newinvoice Quartz; INV-1; 100 USD; net 30")
    await mara.expect("Invoice saved")
    await mara.press("Record payment")
    await mara.expect("How much was paid?")
    await mara.send("/agenda")
    await mara.reply()
    await mara.send("25")
    await mara.expect("When was it paid?")


async def test_an_edited_command_creates_nothing(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Editing `/newinvoice …; INV-7; …` into INV-8, or an old /call, creates nothing; the edit
    is answered once, however often the message is edited."""
    await setup(app, clock)
    mara = server.user(MANAGER_ID, "Mara")
    sent = await mara.send("/newinvoice Quartz; INV-7; 100 USD; net 30")
    await mara.expect("Invoice saved")
    await mara.edit(sent, "/newinvoice Quartz; INV-8; 100 USD; net 30")
    answer = await mara.expect("I don't apply edits")
    assert "send it again as a new message (the whole command)" in answer.text
    await mara.edit(sent, "/newinvoice Quartz; INV-9; 100 USD; net 30")
    await mara.no_reply()
    assert await count(app, "SELECT count(*) FROM invoices") == 1

    call = await mara.send("/call Beta Works talked about the renewal")
    await mara.expect("What is the next step?")
    await mara.send("/cancel")
    await mara.reply()
    await mara.edit(call, "/call Quartz talked about the renewal")
    answer = await mara.expect("an edit can only correct its summary, so nothing was changed")
    assert "That message logged your call with Beta Works" in answer.text
    clock.advance(dt.timedelta(minutes=11))
    await mara.edit(call, "/call Beta Works talked about the renewal terms")
    answer = await mara.expect("Your edit was not applied")
    assert "within 10 minutes" in answer.text
    assert await count(app, "SELECT count(*) FROM contacts") == 1


async def test_an_edit_corrects_the_summary_or_note_it_just_saved(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Fixing a typo in the summary just sent corrects the contact's summary (and says so);
    the same for a note on a client card; after the undo window it is refused politely."""
    await setup(app, clock)
    mara = server.user(MANAGER_ID, "Mara")
    await mara.send("/call Beta Works")
    await mara.expect("What happened?")
    typed = await mara.send("Agred on a pilot")
    await mara.expect("What is the next step?")
    await mara.edit(typed, "Agreed on a pilot")
    fixed = await mara.expect("Corrected the summary")
    assert "your call with Beta Works: “Agreed on a pilot”" in fixed.text
    summary = await services_of(app).db.fetch_value("SELECT summary FROM contacts")
    assert summary == "Agreed on a pilot"
    assert await count(app, "SELECT count(*) FROM contacts") == 1

    quick = await mara.send("/call Quartz Sent teh offer")
    await mara.expect("What is the next step?")
    await mara.expect("The call with Beta Works is saved and still needs a next step")
    await mara.edit(quick, "/call Quartz Sent the offer")
    await mara.expect("Corrected the summary of your call with Quartz: “Sent the offer”")
    assert await count(app, "SELECT count(*) FROM contacts") == 2

    await mara.send("/clients Quartz")
    await mara.press("Quartz")
    await mara.press("Notes")
    await mara.press("Add a note")
    note = await mara.send("Prefers emial")
    await mara.expect("Note added")
    await mara.edit(note, "Prefers email")
    fixed = await mara.expect("Corrected the note on Quartz")
    assert fixed.text.endswith(": Prefers email”.")
    notes = await services_of(app).db.fetch_value(
        "SELECT notes FROM clients WHERE name = 'Quartz'"
    )
    assert notes.endswith(": Prefers email") and "emial" not in notes

    clock.advance(dt.timedelta(minutes=11))
    await mara.edit(typed, "Agreed on a paid pilot")
    await mara.expect("Your edit was not applied")
    summary = await services_of(app).db.fetch_value(
        "SELECT summary FROM contacts WHERE summary LIKE 'Agreed%'"
    )
    assert summary == "Agreed on a pilot"


async def test_a_strangers_edit_gets_only_the_refusal(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A stranger editing their /start gets the polite refusal and touches nothing."""
    await setup(app, clock)
    stranger = server.user(STRANGER_ID, "Sam")
    sent = await stranger.send("/start")
    await stranger.expect("invite-only")
    await stranger.edit(sent, "/start please")
    await stranger.expect("invite-only")


async def test_an_ended_flow_stays_ended_after_a_restart(
    e2e_settings: Settings, clock: FrozenClock, server: FakeBotApiServer
) -> None:
    """The log flow ended by Record payment is not revived by a restart: `40` is the payment."""
    mara = server.user(MANAGER_ID, "Mara")
    first = build_application(e2e_settings, clock=clock)
    async with polling(first, poll_timeout=1):
        await setup(first, clock)
        await mara.send("/newinvoice Quartz; INV-1; 100 USD; net 30")
        await mara.expect("Invoice saved")
        await mara.send("/call Beta Works")
        await mara.expect("What happened?")
        await mara.press("Record payment")
        await mara.expect("kept without a summary")
    second = build_application(e2e_settings, clock=clock)
    async with polling(second, poll_timeout=1):
        await mara.send("40")
        await mara.expect("When was it paid?")
        assert await count(second, "SELECT count(*) FROM contacts") == 1
