"""End-to-end: invoices by flow and in one line, overdue ones in /agenda, /invoices and the
stage reminder, the payment reminder for the client, payments, and every bad input's message."""

from __future__ import annotations

import datetime as dt

from telegram.ext import Application

from bot.app import services_of
from bot.clock import FrozenClock
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.services import clients, schedule
from storage.users import Role, User
from tests.e2e_helpers import eventually
from tests.factories import make_user

MANAGER_ID = 5005
HEAD_ID = 5009
ACTIONS = ["Suggest a reminder to the client", "Record payment", "Promise to pay", "Snooze 3 days"]
OVERDUE_LINE = "/newinvoice Acme LLC; INV-1042; 1250.00 EUR; due 2026-11-16; issued 2026-10-17"


async def setup_manager(app: Application, clock: FrozenClock) -> User:
    """A manager in London with the client Acme LLC (contact Ivan Petrov)."""
    db = services_of(app).db
    manager = await make_user(
        db, clock, MANAGER_ID, Role.MANAGER, name="Mia", timezone="Europe/London"
    )
    await clients.create_client(
        db, clock, actor=manager, name="Acme LLC", contact_person="Ivan Petrov"
    )
    return manager


async def test_guided_flow_with_every_bad_input(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """/newinvoice asks field by field; each mistake is named and asked again."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/newinvoice Acme LLC; INV-1; 10")
    await mia.expect("Invoice saved")

    await mia.send("/newinvoice")
    await mia.expect("For which client?")
    await mia.send("zzz")
    assert "No client matches “zzz”" in (await mia.reply()).text
    await mia.press("Acme LLC")
    await mia.expect("What is the invoice number?")
    await mia.send("inv 1")
    assert "Acme LLC already has an invoice inv 1" in (await mia.reply()).text
    await mia.send("INV-1042")
    await mia.expect("How much is INV-1042?")
    for bad, message in (
        ("lots", "is not an amount"),
        ("-5", "can't be negative"),
        ("12.345 EUR", "EUR amounts have at most 2 decimals"),
        ("10.5 JPY", "JPY amounts have no decimals"),
        ("100 XYZ", "“XYZ” is not a currency I know"),
    ):
        await mia.send(bad)
        assert message in (await mia.reply()).text, bad
    await mia.send("1250.00 EUR")
    await mia.expect("When was it issued?")
    await mia.send("26 Nov")  # typed, so a due date before it is a mistake
    await mia.expect("Issued on 2026-11-26. When is it due?")
    await mia.send("2026-11-01")
    assert "is before the issue date 2026-11-26" in (await mia.reply()).text
    await mia.press("Net 30")
    await mia.expect("Any note")
    await mia.press("Skip")
    card = await mia.expect("Invoice saved")
    assert "INV-1042" in card.text
    assert "Amount: €1,250.00" in card.text
    assert "Balance: €1,250.00" in card.text
    assert "due Sat 26 Dec 2026" in card.text
    assert card.labels[:4] == [
        "Record payment",
        "Promise to pay",
        "Suggest a reminder to the client",
        "Cancel invoice",
    ]


async def test_one_line_form_and_its_refusals(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """The one-line form saves at once; each bad part gets its own message."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/newinvoice Acme; INV-2; 1250.00 EUR; due 2026-12-15")
    card = await mia.expect("Invoice saved")
    assert "€1,250.00" in card.text and "due Tue 15 Dec 2026" in card.text
    await mia.send("/newinvoice acme llc; INV-3; 99; net 30")
    card = await mia.expect("Invoice saved")
    assert "$99.00" in card.text  # no currency: the configured default (USD)
    for line, message in (
        ("Nobody; INV-9; 10", "I found no client called “Nobody”"),
        ("Acme; inv-2; 10", "Acme LLC already has an invoice inv-2"),
        ("Acme; INV-9; ten", "is not an amount"),
        ("Acme; INV-9; -10 EUR", "can't be negative"),
        ("Acme; INV-9; 10.5 JPY", "JPY amounts have no decimals"),
        ("Acme; INV-9; 1.2345 KWD", "KWD amounts have at most 3 decimals"),
        ("Acme; INV-9; 10 ABC", "“ABC” is not a currency I know"),
        ("Acme; INV-9; 10; due 2026-11-01; issued 2026-11-02", "before the issue date"),
        ("Acme; INV-9; 10; due 2026-12-01; issued 2026-11-27", "can't be in the future"),
        ("Acme 10", "separated by semicolons"),
    ):
        await mia.send(f"/newinvoice {line}")
        assert message in (await mia.reply()).text, line
    db = services_of(app).db
    assert await db.fetch_value("SELECT count(*) FROM invoices") == 2


async def test_overdue_invoice_from_agenda_to_paid(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """An invoice entered 10 days overdue: /agenda, /invoices, the morning stage reminder with
    its buttons, the payment reminder, a partial and a final payment cancelling reminders."""
    manager = await setup_manager(app, clock)
    db = services_of(app).db
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send(OVERDUE_LINE)
    assert "10 days overdue" in (await mia.expect("Invoice saved")).text

    await mia.send("/agenda")
    agenda = await mia.expect("Your agenda")
    assert "1 overdue invoice: €1,250.00" in agenda.text

    await mia.send("/invoices")
    listed = await mia.expect("Invoices · All open")
    assert "INV-1042 · Acme LLC — €1,250.00, 10 days overdue" in listed.text
    await mia.press("Paid")
    assert "No paid invoices yet" in (await mia.expect("Invoices · Paid")).text

    await schedule.ensure_agenda_reminder(db, manager, clock.now())
    clock.set(dt.datetime(2026, 11, 27, 9, 0, 1, tzinfo=dt.UTC))  # Friday 09:00 London
    morning = await mia.expect("Good morning! Today", timeout=10)
    assert "1 overdue invoice: €1,250.00" in morning.text
    notice = await mia.expect("Overdue 11 days", timeout=10)
    assert "INV-1042 from Acme LLC, €1,250.00 open" in notice.text
    assert "2nd reminder (firm)" in notice.text
    assert notice.labels == ACTIONS

    await mia.press("Suggest a reminder to the client")
    await mia.expect("firm payment reminder")
    text = (await mia.reply()).text
    assert "INV-1042" in text and "Ivan" in text and "Mia" in text
    await mia.press("Snooze 3 days", message_id=notice.message_id)
    snoozed = await mia.expect("💤 Acme LLC: I'll remind you about INV-1042 again")
    assert "Mon 30 Nov 2026, 09:00" in snoozed.text

    await mia.press("Record payment", message_id=notice.message_id)
    await mia.expect("How much was paid?")
    await mia.send("2000")
    assert "more than the balance of €1,250.00" in (await mia.reply()).text
    await mia.send("1000")
    await mia.press("Today, 2026-11-27")
    partial = await mia.expect("✅ Acme LLC: recorded €1,000.00 for INV-1042")
    assert "Balance: €250.00" in partial.text
    await eventually(
        db,
        "SELECT count(*) FROM reminders WHERE subject = 'invoice' AND state = 'pending'",
        [2],  # the snoozed one and the final stage (day 30) are still to come
    )
    await mia.press("Record payment")
    await mia.press("Full balance: €250.00")
    await mia.press("Yesterday, 2026-11-26")
    paid = await mia.expect("Acme LLC: INV-1042 is paid in full")
    assert "Its reminders are cancelled" in paid.text
    assert paid.labels[0] == "Suggest a thank-you"
    assert (
        await db.fetch_value(
            "SELECT count(*) FROM reminders WHERE subject = 'invoice' AND state = 'pending'"
        )
        == 0
    )
    await mia.send("/invoices paid")
    assert "INV-1042 · Acme LLC — €1,250.00, paid" in (await mia.expect("Invoices · Paid")).text


async def test_card_button_promise_snooze_aging_and_head_view(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """The client card's Invoice button, a promise, snooze, /invoices aging, and a head's
    list grouped by manager."""
    await setup_manager(app, clock)
    db = services_of(app).db
    await make_user(db, clock, HEAD_ID, Role.HEAD, name="Hal", timezone="Europe/London")
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/clients")
    await mia.press("Acme LLC")
    card = await mia.expect("Receivables")
    assert "No open invoices." in card.text
    assert "Trust: normal · broken promises: 0" in card.text
    await mia.press("Invoice")
    await mia.expect("New invoice for Acme LLC")
    await mia.send("A-7")
    await mia.send("700 EUR")
    await mia.send("2026-10-01")
    await mia.expect("When is it due?")
    await mia.send("net 14")
    await mia.expect("Any note")
    await mia.send("PO <77> & co")
    saved = await mia.expect("Invoice saved")
    assert "PO &lt;77&gt; &amp; co" in saved.html
    assert "42 days overdue" in saved.text

    await mia.press("Promise to pay")
    await mia.expect("By when did Acme LLC promise to pay")
    await mia.press("In 3 days")
    assert "Acme LLC promised to pay A-7 by Sun 29 Nov 2026" in (await mia.expect("Noted")).text

    await mia.send("/invoices aging")
    aging = await mia.expect("Receivables aging")
    assert "31-60: €700.00" in aging.text

    await mia.send("/clients")
    await mia.press("Acme LLC")
    card = await mia.expect("Oldest overdue: A-7")
    await mia.press("Trust level")
    await mia.expect("pays as a normal payer")
    await mia.press("👍 Good")
    await mia.expect("Trust level: good")

    hal = server.user(HEAD_ID, "Hal")
    await hal.send("/invoices overdue")
    listed = await hal.expect("Invoices · Overdue")
    assert "💼 Mia" in listed.text
    await hal.press("A-7 · Acme LLC")
    await hal.expect("💼 Manager: Mia")
    await hal.press("Cancel invoice")
    await hal.expect("Cancel invoice A-7")
    await hal.press("Yes, cancel it")
    await hal.expect("Acme LLC: invoice A-7 cancelled")
    assert await db.fetch_value("SELECT count(*) FROM reminders WHERE state = 'pending'") == 0


# --- dates and amounts as people write them (issue #15) ---------------------------------------


async def test_overdue_invoice_in_one_line_without_an_issue_date(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """No issue date: it is the due date when that has passed; a year-less due date is its
    next occurrence (today included); "before the issue date" only when both were typed."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/newinvoice Acme; INV-1042; 1250.00 EUR; due 2026-11-24")
    card = await mia.expect("Invoice saved")
    assert "Issued Tue 24 Nov 2026 · due Tue 24 Nov 2026 — ⚠️ 2 days overdue" in card.text
    await mia.send("/newinvoice Acme; INV-1043; 10 EUR; due 28 February")
    assert "Issued Thu 26 Nov 2026 · due Sun 28 Feb 2027" in (await mia.reply()).text
    await mia.send("/newinvoice Acme; INV-1044; 10 EUR; due 26 November")
    assert "Issued Thu 26 Nov 2026 · due Thu 26 Nov 2026" in (await mia.reply()).text
    await mia.send("/newinvoice Acme; INV-1045; 10 EUR; due 15.12")
    assert "due Tue 15 Dec 2026" in (await mia.reply()).text
    await mia.send("/newinvoice Acme; INV-9; 10; due 2026-11-01; issued 2026-11-20")
    assert (await mia.reply()).text == (
        "The due date 2026-11-01 is before the issue date 2026-11-20. Send a due date on or "
        "after the issue date."
    )


async def test_guided_flow_today_default_allows_a_past_due_date(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """ "Today" at the issued step is a default: a due date already passed becomes the issue
    date too; a typed issue date after the due date is still refused."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/newinvoice")
    await mia.press("Acme LLC")
    await mia.send("INV-7")
    await mia.send("800 EUR")
    await mia.press("Today, 2026-11-26")
    await mia.expect("When is it due?")
    await mia.send("16 Nov 2026")
    assert (
        "as that day has passed, I take it as the issue date too"
        in (await mia.expect("Due on 2026-11-16")).text
    )
    await mia.press("Skip")
    card = await mia.expect("Invoice saved")
    assert "Issued Mon 16 Nov 2026 · due Mon 16 Nov 2026 — ⚠️ 10 days overdue" in card.text

    await mia.send("/newinvoice")
    await mia.press("Acme LLC")
    await mia.send("INV-8")
    await mia.send("800 EUR")
    await mia.send("20 Nov")
    await mia.expect("Issued on 2026-11-20")
    await mia.send("16.11.2026")
    assert "is before the issue date 2026-11-20" in (await mia.reply()).text


async def test_promise_and_payment_dates_without_a_year(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A promised day without a year is its next occurrence (today included, never a year
    ahead); a payment date without a year its last one."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/newinvoice Acme; INV-1; 100 EUR; due 2026-11-20; issued 2026-11-01")
    await mia.expect("Invoice saved")
    await mia.press("Promise to pay")
    await mia.send("26 November")
    assert "Acme LLC promised to pay INV-1 by Thu 26 Nov 2026" in (await mia.expect("Noted")).text
    await mia.press("Record payment")
    await mia.send("40")
    await mia.expect("When was it paid?")
    await mia.send("25 Nov")
    paid = await mia.expect("recorded €40.00")
    assert "Tue 25 Nov 2025" not in paid.text and "• Wed 25 Nov 2026: €40.00" in paid.text


async def test_amounts_in_the_persons_locale_and_iso_exponents(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """`1.234,56 EUR`, `1 234,56`, HUF with fillér and IQD with fils are read and shown
    exactly; a German reader's `1,234` is refused naming both readings."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    for line, shown in (
        ("A-1; 1.234,56 EUR", "Amount: €1,234.56"),
        ("A-2; 1\u202f234,56 EUR", "Amount: €1,234.56"),
        ("A-3; 12,50 EUR", "Amount: €12.50"),
        ("A-4; 1250.50 HUF", "Amount: HUF1,250.50"),
        ("A-5; 1250.500 IQD", "Amount: IQD1,250.500"),
    ):
        await mia.send(f"/newinvoice Acme; {line}; net 30")
        assert shown in (await mia.expect("Invoice saved")).text, line
    db = services_of(app).db
    async with db.transaction() as tx:
        await tx.execute("UPDATE users SET locale = 'de' WHERE telegram_id = ?", (MANAGER_ID,))
    await mia.send("/newinvoice Acme; A-6; 1,234 EUR; net 30")
    refusal = (await mia.reply()).text
    assert "could be 1,234 (with “,” as the decimal sign) or 1234 (with “,” grouping" in refusal
    await mia.send("/newinvoice Acme; A-6; 1.234,56 EUR; net 30")
    assert "Amount: 1.234,56\xa0€" in (await mia.expect("Invoice saved")).text


async def test_card_notices_are_escaped_once(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """The notice above a card shows its bold balance as bold, and a number with `<` and `&`
    as typed: neither visible tags nor `&amp;amp;`."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/newinvoice Acme; R&D <1>; 12100 EUR; due 2026-12-15")
    await mia.expect("Invoice saved")
    await mia.press("Record payment")
    await mia.send("100")
    await mia.press("Today, 2026-11-26")
    partial = await mia.expect("Acme LLC: recorded €100.00 for R&D <1>. Balance: €12,000.00.")
    assert "<b>" not in partial.text and "&amp;" not in partial.text
    assert "recorded €100.00 for R&amp;D &lt;1&gt;. Balance: <b>€12,000.00</b>." in partial.html
    await mia.press("Record payment")
    await mia.press("Full balance: €12,000.00")
    await mia.press("Today, 2026-11-26")
    paid = await mia.expect("R&D <1> is paid in full (€12,000.00 on 2026-11-26)")
    assert "&lt;" not in paid.text


async def test_payment_reminder_names_what_is_still_due_and_the_promise(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """After a part payment the suggested reminder names the invoice amount, thanks for
    what came and names what is still due; after a promise it refers to the promised day
    instead of asking again when they will pay."""
    await setup_manager(app, clock)
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send(OVERDUE_LINE)
    await mia.expect("Invoice saved")
    await mia.press("Record payment")
    await mia.send("1000")
    await mia.press("Today, 2026-11-26")
    await mia.expect("recorded €1,000.00")
    await mia.press("Suggest a reminder to the client")
    await mia.expect("payment reminder for the client")
    text = (await mia.reply()).text
    assert "invoice INV-1042 for €1,250.00, which was due on November 16, 2026" in text
    assert "Thank you for the €1,000.00 already received; €250.00 is still open." in text
    assert "Could you confirm the payment date" in text

    await mia.press("Promise to pay")
    await mia.send("30 Nov")
    await mia.expect("Noted")
    await mia.press("Suggest a reminder to the client")
    await mia.expect("payment reminder for the client")
    text = (await mia.reply()).text
    assert "the payment would arrive by November 30, 2026" in text
    assert "when €250.00 will be paid?" in text
    assert "Could you confirm the payment date" not in text
