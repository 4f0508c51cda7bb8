"""End-to-end: a refused button press answers with the reason and leaves the open question
alone (the error handler answers a DomainError; the conversation keeps its state)."""

from __future__ import annotations

from telegram.ext import Application

from bot.app import services_of
from bot.clock import FrozenClock
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.services import clients
from storage.users import Role
from tests.factories import make_user

MANAGER_ID = 5105


async def test_a_stale_record_payment_press_leaves_the_new_invoice_question_open(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Mid-way through /newinvoice, "Record payment" on an older card of a cancelled invoice
    is refused with the reason; the number asked for is still taken as the answer."""
    db = services_of(app).db
    manager = await make_user(db, clock, MANAGER_ID, Role.MANAGER, name="Mia")
    await clients.create_client(db, clock, actor=manager, name="Acme LLC")
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/newinvoice Acme LLC; INV-1; 10 EUR")
    old_card = await mia.expect("Invoice saved")
    await mia.send("/invoices")
    await mia.expect("Invoices")
    await mia.press("INV-1 · Acme LLC")
    await mia.expect("INV-1")
    await mia.press("Cancel invoice")
    await mia.press("Yes, cancel it")
    await mia.expect("Acme LLC: invoice INV-1 cancelled")

    await mia.send("/newinvoice")
    await mia.expect("For which client?")
    await mia.press("Acme LLC")
    await mia.expect("What is the invoice number?")
    answer = await mia.press("Record payment", message_id=old_card.message_id)
    assert answer == "Already handled: invoice INV-1 (Acme LLC) is cancelled.", answer
    await mia.send("INV-2")
    assert "How much is INV-2?" in (await mia.reply()).text


async def test_a_refused_client_press_leaves_the_payment_question_and_its_draft(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """While a payment's amount is asked for, "Invoice" on the card of a client no longer
    the manager's is refused; the payment question (and what it holds) stays open."""
    db = services_of(app).db
    manager = await make_user(db, clock, MANAGER_ID, Role.MANAGER, name="Mia")
    other = await make_user(db, clock, MANAGER_ID + 1, Role.MANAGER, name="Max")
    admin = await make_user(db, clock, MANAGER_ID + 2, Role.ADMIN, name="Ada")
    await clients.create_client(db, clock, actor=manager, name="Acme LLC")
    globex = await clients.create_client(db, clock, actor=manager, name="Globex")
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/clients")
    await mia.press("Globex")
    globex_card = await mia.expect("Receivables")
    await clients.reassign_client(
        db, clock, actor=admin, client_id=globex.id, new_owner_id=other.telegram_id
    )

    await mia.send("/newinvoice Acme LLC; INV-1; 100 EUR")
    await mia.expect("Invoice saved")
    await mia.press("Record payment")
    await mia.expect("How much was paid?")
    answer = await mia.press("Invoice", message_id=globex_card.message_id)
    assert answer is not None and "another manager" in answer, answer
    await mia.send("40")
    assert "When was it paid?" in (await mia.reply()).text


async def test_a_typed_mistake_is_answered_once_escaped_with_what_to_send(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """The error handler answers the refusal: the sentence quotes the text escaped once, the
    hint follows, and the question is still the amount."""
    db = services_of(app).db
    manager = await make_user(db, clock, MANAGER_ID, Role.MANAGER, name="Mia")
    await clients.create_client(db, clock, actor=manager, name="Acme LLC")
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/newinvoice")
    await mia.press("Acme LLC")
    await mia.send("INV-7")
    await mia.expect("How much is INV-7?")
    await mia.send("<b>lots</b>")
    refusal = await mia.reply()
    assert "is not an amount" in refusal.text
    assert refusal.text.endswith("Please send the amount again, or /cancel.")
    assert "&lt;b&gt;lots&lt;/b&gt;" in refusal.html and "&amp;lt;" not in refusal.html
    await mia.send("12 EUR")
    await mia.expect("When was it issued?")
    await mia.send("/settings")
    await mia.press("☀️ Agenda time")
    await mia.expect("When should your morning agenda arrive?")
    await mia.send("25:00")
    refusal = await mia.expect("24-hour clock")
    assert refusal.text.endswith("/cancel leaves it unchanged.")
    await mia.send("8:45")
    await mia.expect("Morning agenda time saved")
