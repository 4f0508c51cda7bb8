"""Receivables: /newinvoice, /invoices (and aging), the invoice card and its buttons.

Thin by design: parse the update, call `bot.services.receivables.invoices` / `aging`, render
with `bot.views.invoices`. Every button's action (`iv:...`) is declared in
`bot.views.actions`; its data is untrusted: the services re-check on every press that the
person may act on that invoice or client (and audit refusals). A refusal (DomainError) goes on
to the error handler, which answers it; a local catch stays only where the flow ends or goes
back a step.

One persistent conversation ("newinvoice") holds every typed input of the feature: the new
invoice's fields, a payment's amount and date, a promise's date. Starting one of them ends
any other, so a stale question never swallows an answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from markupsafe import Markup
from telegram import CallbackQuery, Message, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.services import clients, team_settings
from bot.services.errors import DomainError
from bot.services.model import InvoiceEntry, InvoiceState, TrustLevel, User
from bot.services.receivables import aging as receivables
from bot.services.receivables import invoices, money
from bot.services.receivables.aging import ListFilter, Stage
from bot.services.receivables.invoices import DuplicateNumber
from bot.services.replies import templates as replies
from bot.telegram.context import NextStepContext
from bot.timefmt import format_moment
from bot.views import invoices as invoice_views
from bot.views.actions import (
    CLIENT_OPEN,
    INVOICE_BACK,
    INVOICE_CANCEL,
    INVOICE_CANCEL_CONFIRMED,
    INVOICE_CLIENT,
    INVOICE_FULL_BALANCE,
    INVOICE_ISSUED_TODAY,
    INVOICE_LIST,
    INVOICE_NET,
    INVOICE_NEW,
    INVOICE_OPEN,
    INVOICE_PAID_DAYS_AGO,
    INVOICE_PAY,
    INVOICE_PROMISE,
    INVOICE_PROMISED_IN,
    INVOICE_SKIP_NOTES,
    INVOICE_SNOOZE,
    INVOICE_SUGGEST,
    INVOICE_THANKS,
    TRUST_MENU,
    TRUST_SET,
)
from bot.views.keyboards import button, grid, keyboard
from bot.views.render import escape, html
from handlers.common import (
    NOT_AN_ANSWER,
    NOT_VALID,
    draft_of,
    edit,
    flow_fallbacks,
    hint,
    message_text,
    new_draft,
    on_refusal,
    reply,
)
from handlers.flow import Flow

PICK_CLIENT, NUMBER, AMOUNT, ISSUED, DUE, NOTES, PAY_AMOUNT, PAY_DATE, PROMISE_DATE = range(40, 49)
DRAFT = "newinvoice"
PAGE_SIZE = 10
FLOW_GONE = "That question is closed. Open the invoice again to continue."
NET_TERMS = (14, 30, 60)
PROMISE_PICKS = (("Tomorrow", 1), ("In 3 days", 3), ("In a week", 7), ("In 2 weeks", 14))
TRUST_LABELS = {
    TrustLevel.GOOD: "👍 Good",
    TrustLevel.NORMAL: "Normal",
    TrustLevel.POOR: "⚠️ Poor",
}


# --- small helpers --------------------------------------------------------------------------


def _today(context: NextStepContext) -> dt.date:
    return receivables.local_today(context.clock.now(), context.member.timezone)


def _today_iso(context: NextStepContext) -> str:
    return _today(context).isoformat()


async def _refuse(query: CallbackQuery, message: str = NOT_VALID) -> None:
    await query.answer(message[:200], show_alert=True)


async def _settle(query: CallbackQuery, note: str) -> None:
    """Replace a pressed question's buttons with a note saying how it was answered."""
    message = query.message
    if isinstance(message, Message) and message.text:
        await edit(query, f"{message.text_html}\n<i>{escape(note)}</i>")


def _tone(entry: InvoiceEntry, today: dt.date) -> Stage:
    days = receivables.days_overdue(entry.invoice, today)
    return invoices.tone_for(receivables.stage_for(days), entry.trust_level)


async def _load(context: NextStepContext, invoice_id: int, attempted: str) -> InvoiceEntry:
    """The invoice if the person may act on it (else the service's DomainError)."""
    return await invoices.require_invoice(
        context.db, context.clock, actor=context.member, invoice_id=invoice_id, attempted=attempted
    )


async def _card(
    context: NextStepContext, invoice_id: int, notice: str | Markup | None = None
) -> tuple[str, Any]:
    """The invoice card's text and buttons for the current person."""
    user = context.member
    entry, payments, promise = await invoices.invoice_card(
        context.db, context.clock, actor=user, invoice_id=invoice_id
    )
    today = receivables.local_today(context.clock.now(), entry.owner_timezone)
    text = invoice_views.render_card(
        entry,
        payments,
        promise,
        user=user,
        days_overdue=receivables.days_overdue(entry.invoice, today),
        notice=notice,
    )
    return text, invoice_views.card_keyboard(entry, _tone(entry, today))


async def _reply_card(
    update: Update, context: NextStepContext, invoice_id: int, notice: str | Markup | None = None
) -> None:
    text, markup = await _card(context, invoice_id, notice)
    await reply(update, text, reply_markup=markup)


# --- /newinvoice: the guided flow -----------------------------------------------------------


async def start_newinvoice(update: Update, context: NextStepContext) -> int:
    """/newinvoice: the guided flow, or the one-line form when text follows the command."""
    parts = message_text(update).split(maxsplit=1)
    if len(parts) == 2:
        return await _one_line(update, context, parts[1])
    new_draft(context, DRAFT, mode="new")
    tip = (
        "\n\n<i>Tip: next time send it in one line: "
        f"<code>{escape(invoices.ONE_LINE_EXAMPLE)}</code></i>"
    )
    return await _ask_client(update, context, f"<b>New invoice</b>\nFor which client?{tip}")


async def _ask_client(
    update: Update, context: NextStepContext, prompt: str, query: str = ""
) -> int:
    page = await clients.search_clients(context.db, actor=context.member, query=query, limit=8)
    buttons = [button(i.client.name[:40], INVOICE_CLIENT, i.client.id) for i in page.items]
    hint = "Tap a client or type a few letters of the name."
    if query and not page.items:
        hint = (
            f"No client matches “{escape(query[:100])}”. Try other letters, or add the client "
            "with /newclient first."
        )
    elif not query and not page.items:
        hint = "You have no clients yet. Add one with /newclient first."
    await reply(update, f"{prompt}\n{hint}", reply_markup=keyboard(grid(buttons, 2)))
    return PICK_CLIENT


async def search_client(update: Update, context: NextStepContext) -> int:
    """Typed letters while choosing the client."""
    return await _ask_client(update, context, "Matching clients:", message_text(update).strip())


async def chosen_client(update: Update, context: NextStepContext) -> int:
    """`iv:cl:<client id>`: a client button in the picker."""
    query = update.callback_query
    assert query is not None
    found = INVOICE_CLIENT.parse(query.data)
    if found is None:
        await _refuse(query)
        return PICK_CLIENT
    return await _use_client(update, context, query, *found)


async def start_from_card(update: Update, context: NextStepContext) -> int:
    """`iv:new:<client id>`: the client card's "Invoice" button."""
    query = update.callback_query
    assert query is not None
    found = INVOICE_NEW.parse(query.data)
    if found is None:
        await _refuse(query)
        return ConversationHandler.END
    return await _use_client(update, context, query, *found, from_card=True)


async def _use_client(
    update: Update,
    context: NextStepContext,
    query: CallbackQuery,
    client_id: int,
    *,
    from_card: bool = False,
) -> int:
    # A client the person may not see is refused before anything changes: the question that
    # was open (if any) stays open.
    card = await clients.get_card(
        context.db, context.clock, actor=context.member, client_id=client_id
    )
    await query.answer()
    if from_card:
        new_draft(context, DRAFT, mode="new")
    draft = draft_of(context, DRAFT)
    draft.update(client_id=card.client.id, client_name=card.client.name)
    if draft.get("ready"):  # the one-line form waited for this choice
        return await _save_invoice(update, context)
    await reply(
        update,
        f"New invoice for <b>{escape(card.client.name)}</b>.\n"
        "What is the invoice number? For example <code>INV-1042</code>.",
    )
    return NUMBER


async def typed_number(update: Update, context: NextStepContext) -> int:
    """The invoice number: one line, not yet used for this client."""
    draft = draft_of(context, DRAFT)
    if not draft.get("client_id"):
        await reply(update, "That invoice draft is gone. Send /newinvoice to start again.")
        return ConversationHandler.END
    with hint("Please send the number again."):
        number = invoices.clean_number(message_text(update))
    if await invoices.number_taken(context.db, client_id=draft["client_id"], number=number):
        await reply(
            update,
            f"{escape(draft.get('client_name', 'This client'))} already has an invoice "
            f"{escape(number)}. Send a different number, or /cancel.",
        )
        return NUMBER
    draft["number"] = number
    currency = context.settings.default_currency
    await reply(
        update,
        f"How much is {escape(number)}? Send the amount, e.g. <code>1250.00</code> "
        f"({escape(currency)}), or with another currency: <code>1250.00 EUR</code>.",
    )
    return AMOUNT


async def typed_amount(update: Update, context: NextStepContext) -> int:
    """The amount with an optional currency; each kind of mistake gets its own message."""
    draft = draft_of(context, DRAFT)
    user = context.member
    with hint("Please send the amount again, or /cancel."):
        value = money.parse_money(
            message_text(update),
            default_currency=context.settings.default_currency,
            locale=user.locale,
        )
    draft.update(amount_minor=value.minor, currency=value.currency)
    today = _today(context)
    await reply(
        update,
        f"Amount: <b>{escape(value.format(user.locale))}</b>. When was it issued? Tap Today, "
        "or send the date (e.g. <code>2026-11-02</code> or <code>2 Nov</code>).",
        reply_markup=keyboard([[button(f"Today, {today.isoformat()}", INVOICE_ISSUED_TODAY)]]),
    )
    return ISSUED


async def _ask_due(update: Update, context: NextStepContext) -> int:
    issued = draft_of(context, DRAFT)["issued_on"]
    buttons = [button(f"Net {days}", INVOICE_NET, days) for days in NET_TERMS]
    await reply(
        update,
        f"Issued on {escape(issued)}. When is it due? Tap the payment terms, or send a date "
        "(past dates are fine for invoices already overdue) or terms like "
        "<code>net 45</code>.",
        reply_markup=keyboard([buttons]),
    )
    return DUE


async def issued_today(update: Update, context: NextStepContext) -> int:
    """`iv:iss:today`."""
    query = update.callback_query
    assert query is not None
    if "amount_minor" not in draft_of(context, DRAFT):
        await _refuse(query, FLOW_GONE)
        return ConversationHandler.END
    await query.answer()
    # "Today" is the default, not a date the person typed: a due date already passed moves
    # the issue date back to it instead of being refused (see `typed_due`).
    draft_of(context, DRAFT).update(issued_on=_today(context).isoformat(), issued_typed=False)
    return await _ask_due(update, context)


async def typed_issued(update: Update, context: NextStepContext) -> int:
    """The issue date, typed (today or earlier)."""
    today = _today(context)
    with hint("Please send the issue date again, or /cancel."):
        issued = invoices.parse_day(
            message_text(update), today=today, locale=context.member.locale, prefer="past"
        )
        if issued > today:
            raise DomainError("The issue date can't be in the future.")
    draft_of(context, DRAFT).update(issued_on=issued.isoformat(), issued_typed=True)
    return await _ask_due(update, context)


async def _due_chosen(update: Update, context: NextStepContext, due_on: dt.date) -> int:
    draft = draft_of(context, DRAFT)
    draft["due_on"] = due_on.isoformat()
    issued = draft.get("issued_on", "")
    when = f"Due on {escape(due_on.isoformat())}"
    if not draft.get("issued_typed", True) and issued == due_on.isoformat() != _today_iso(context):
        when += "; as that day has passed, I take it as the issue date too"
    await reply(
        update,
        f"{when}. Any note (order number, contact in accounts)? Send it, or tap Skip.",
        reply_markup=keyboard([[button("Skip", INVOICE_SKIP_NOTES)]]),
    )
    return NOTES


async def net_terms(update: Update, context: NextStepContext) -> int:
    """`iv:net:<days>`: due that many days after the issue date."""
    query = update.callback_query
    assert query is not None
    found = INVOICE_NET.parse(query.data)
    issued = draft_of(context, DRAFT).get("issued_on")
    if found is None or not issued:
        await _refuse(query, FLOW_GONE)
        return DUE if issued else ConversationHandler.END
    await query.answer()
    due_on = dt.date.fromisoformat(issued) + dt.timedelta(days=int(found[0]))
    return await _due_chosen(update, context, due_on)


async def typed_due(update: Update, context: NextStepContext) -> int:
    """A due date or payment terms; before a typed issue date is refused.

    With the issue date left at "Today", terms count from today and a due date that has
    passed (an invoice entered already overdue) makes it the issue date as well.
    """
    draft = draft_of(context, DRAFT)
    issued = draft.get("issued_on")
    if not issued:
        await reply(update, "That invoice draft is gone. Send /newinvoice to start again.")
        return ConversationHandler.END
    typed = bool(draft.get("issued_typed", True))
    today = _today(context)
    with hint("Please send the due date again, or /cancel."):
        due_on = invoices.parse_due(
            message_text(update),
            issued_on=dt.date.fromisoformat(issued) if typed else None,
            today=today,
            locale=context.member.locale,
        )
    if not typed:
        draft["issued_on"] = invoices.default_issue_date(today, due_on).isoformat()
    return await _due_chosen(update, context, due_on)


async def typed_notes(update: Update, context: NextStepContext) -> int:
    """The note; then the invoice is saved."""
    with hint("Please send a shorter note, or tap Skip."):
        draft_of(context, DRAFT)["notes"] = invoices.clean_notes(message_text(update))
    return await _save_invoice(update, context)


async def skip_notes(update: Update, context: NextStepContext) -> int:
    """`iv:skip`: no note."""
    query = update.callback_query
    assert query is not None
    if "due_on" not in draft_of(context, DRAFT):
        await _refuse(query, FLOW_GONE)
        return ConversationHandler.END
    await query.answer()
    await _settle(query, "No note.")
    return await _save_invoice(update, context)


async def _save_invoice(update: Update, context: NextStepContext) -> int:
    draft = draft_of(context, DRAFT)
    needed = ("client_id", "number", "amount_minor", "currency", "due_on")
    if any(key not in draft for key in needed):
        await reply(update, "That invoice draft is gone. Send /newinvoice to start again.")
        return ConversationHandler.END
    # Refused, the draft is dropped and the flow ends, saying what to do; a number taken
    # meanwhile is asked for again.
    with on_refusal(ConversationHandler.END, hint="Send /newinvoice to try again.", drop=DRAFT):
        try:
            invoice = await invoices.create_invoice(
                context.db,
                context.clock,
                actor=context.member,
                client_id=int(draft["client_id"]),
                number=draft["number"],
                amount_minor=int(draft["amount_minor"]),
                currency=draft["currency"],
                issued_on=dt.date.fromisoformat(draft["issued_on"])
                if draft.get("issued_on")
                else None,
                due_on=dt.date.fromisoformat(draft["due_on"]),
                notes=draft.get("notes"),
                default_currency=context.settings.default_currency,
            )
        except DuplicateNumber as exc:
            draft.pop("number", None)
            draft.pop("ready", None)
            await reply(update, f"{escape(str(exc))}")
            return NUMBER
    new_draft(context, DRAFT)
    await _reply_card(update, context, invoice.id, notice="✅ Invoice saved.")
    return ConversationHandler.END


async def _one_line(update: Update, context: NextStepContext, text: str) -> int:
    """`/newinvoice Acme; INV-1042; 1250.00 EUR; due 2026-12-15`: save at once."""
    user = context.member
    with on_refusal(ConversationHandler.END):  # the command replaced a draft: nothing to ask
        parsed = invoices.parse_one_line(
            text,
            default_currency=context.settings.default_currency,
            today=_today(context),
            locale=user.locale,
        )
    draft = new_draft(
        context,
        DRAFT,
        mode="new",
        ready=True,
        number=parsed.number,
        amount_minor=parsed.money.minor,
        currency=parsed.money.currency,
        issued_on=parsed.issued_on.isoformat(),
        due_on=parsed.due_on.isoformat(),
        notes=parsed.notes,
    )
    match = await clients.match_quick_log(context.db, actor=user, text=parsed.client_text)
    candidates = match.clients if not match.summary else []
    if not candidates:
        new_draft(context, DRAFT)
        await reply(
            update,
            f"I found no client called “{escape(parsed.client_text[:100])}”. Check the name "
            "(/clients lists them), or add the client with /newclient first.",
        )
        return ConversationHandler.END
    if len(candidates) == 1:
        draft.update(client_id=candidates[0].client.id, client_name=candidates[0].client.name)
        return await _save_invoice(update, context)
    buttons = [button(i.client.name[:40], INVOICE_CLIENT, i.client.id) for i in candidates]
    await reply(
        update,
        f"Several clients match “{escape(parsed.client_text[:100])}”. Which one?",
        reply_markup=keyboard(grid(buttons, 2)),
    )
    return PICK_CLIENT


# --- Record payment ---------------------------------------------------------------------


async def ask_payment(update: Update, context: NextStepContext) -> int:
    """`iv:pay:<id>`: how much was paid (the full balance is one tap)."""
    query = update.callback_query
    assert query is not None
    found = INVOICE_PAY.parse(query.data)
    if found is None:
        await _refuse(query)
        return ConversationHandler.END
    entry = await _load(context, found[0], "invoice.pay")
    invoice = entry.invoice
    invoices.require_open(entry)
    await query.answer()
    new_draft(context, DRAFT, mode="pay", invoice_id=invoice.id, number=invoice.number)
    balance = money.format_money(invoice.balance_minor, invoice.currency, context.member.locale)
    await reply(
        update,
        f"Payment for <b>{escape(invoice.number)}</b> ({escape(entry.client_name)}). "
        f"Balance: <b>{escape(balance)}</b>.\nHow much was paid? Send the amount, or tap "
        "the full balance.",
        reply_markup=keyboard([[button(f"Full balance: {balance}", INVOICE_FULL_BALANCE)]]),
    )
    return PAY_AMOUNT


async def _ask_pay_date(update: Update, context: NextStepContext) -> int:
    draft = draft_of(context, DRAFT)
    today = _today(context)
    yesterday = today - dt.timedelta(days=1)
    shown = money.format_money(int(draft["pay_minor"]), draft["currency"], context.member.locale)
    await reply(
        update,
        f"{escape(shown)}. When was it paid? Tap, or send the date.",
        reply_markup=keyboard(
            [
                [
                    button(f"Today, {today.isoformat()}", INVOICE_PAID_DAYS_AGO, 0),
                    button(f"Yesterday, {yesterday.isoformat()}", INVOICE_PAID_DAYS_AGO, 1),
                ]
            ]
        ),
    )
    return PAY_DATE


async def _payment_invoice(context: NextStepContext) -> InvoiceEntry:
    """The open invoice the payment question is about. Gone or no longer payable, the person
    is told and the question ends (asking again would not help)."""
    draft = draft_of(context, DRAFT)
    with on_refusal(ConversationHandler.END, drop=DRAFT):
        if draft.get("mode") != "pay" or not draft.get("invoice_id"):
            raise DomainError(FLOW_GONE)
        entry = await _load(context, int(draft["invoice_id"]), "invoice.pay")
        invoices.require_open(entry)
    return entry


async def full_balance(update: Update, context: NextStepContext) -> int:
    """`iv:full`: the whole balance was paid."""
    query = update.callback_query
    assert query is not None
    entry = await _payment_invoice(context)
    await query.answer()
    draft_of(context, DRAFT).update(
        pay_minor=entry.invoice.balance_minor, currency=entry.invoice.currency
    )
    return await _ask_pay_date(update, context)


async def typed_payment(update: Update, context: NextStepContext) -> int:
    """A typed payment amount: a number in the invoice's currency, at most the balance."""
    entry = await _payment_invoice(context)
    invoice = entry.invoice
    locale = context.member.locale
    with hint("Please send the amount again, or /cancel."):
        value = money.parse_money(
            message_text(update), default_currency=invoice.currency, locale=locale
        )
        if value.currency != invoice.currency:
            raise DomainError(
                f"{invoice.number} is in {invoice.currency}; send the amount in "
                f"{invoice.currency}."
            )
        invoices.check_payment_amount(invoice, value.minor, locale=locale)
    draft_of(context, DRAFT).update(pay_minor=value.minor, currency=invoice.currency)
    return await _ask_pay_date(update, context)


async def quick_pay_date(update: Update, context: NextStepContext) -> int:
    """`iv:pd:<days ago>`: today or yesterday."""
    query = update.callback_query
    assert query is not None
    found = INVOICE_PAID_DAYS_AGO.parse(query.data)
    if found is None or "pay_minor" not in draft_of(context, DRAFT):
        await _refuse(query, FLOW_GONE)
        return ConversationHandler.END
    await query.answer()
    return await _save_payment(update, context, _today(context) - dt.timedelta(days=found[0]))


async def typed_pay_date(update: Update, context: NextStepContext) -> int:
    """The payment date, typed (today or earlier)."""
    today = _today(context)
    with hint("Please send the date again, or /cancel."):
        day = invoices.parse_day(
            message_text(update), today=today, locale=context.member.locale, prefer="past"
        )
        if day > today:
            raise DomainError("A payment date can't be in the future.")
    return await _save_payment(update, context, day)


async def _save_payment(update: Update, context: NextStepContext, day: dt.date) -> int:
    draft = draft_of(context, DRAFT)
    if draft.get("mode") != "pay" or "pay_minor" not in draft:
        await reply(update, FLOW_GONE)
        return ConversationHandler.END
    user = context.member
    with on_refusal(ConversationHandler.END, drop=DRAFT):
        result = await invoices.record_payment(
            context.db,
            context.clock,
            actor=user,
            invoice_id=int(draft["invoice_id"]),
            amount_minor=int(draft["pay_minor"]),
            paid_on=day,
        )
    new_draft(context, DRAFT)
    invoice = result.invoice
    client = (await _load(context, invoice.id, "invoice.card")).client_name
    paid = money.format_money(int(draft["pay_minor"]), invoice.currency, user.locale)
    if result.paid_in_full:
        notice = html(
            "✅ {client}: {number} is paid in full ({paid} on {day}). Its reminders are "
            "cancelled.",
            client=client,
            number=invoice.number,
            paid=paid,
            day=day.isoformat(),
        )
    else:
        balance = money.format_money(invoice.balance_minor, invoice.currency, user.locale)
        notice = html(
            "✅ {client}: recorded {paid} for {number}. Balance: <b>{balance}</b>.",
            client=client,
            paid=paid,
            number=invoice.number,
            balance=balance,
        )
    await _reply_card(update, context, invoice.id, notice=notice)
    return ConversationHandler.END


# --- Promise to pay ---------------------------------------------------------------------


async def ask_promise(update: Update, context: NextStepContext) -> int:
    """`iv:prm:<id>`: the day the client promised to pay."""
    query = update.callback_query
    assert query is not None
    found = INVOICE_PROMISE.parse(query.data)
    if found is None:
        await _refuse(query)
        return ConversationHandler.END
    entry = await _load(context, found[0], "invoice.promise")
    invoices.require_open(entry)
    await query.answer()
    new_draft(
        context, DRAFT, mode="promise", invoice_id=entry.invoice.id, number=entry.invoice.number
    )
    buttons = [button(label, INVOICE_PROMISED_IN, days) for label, days in PROMISE_PICKS]
    await reply(
        update,
        f"By when did {escape(entry.client_name)} promise to pay "
        f"<b>{escape(entry.invoice.number)}</b>? Tap, or send the date.",
        reply_markup=keyboard(grid(buttons, 2)),
    )
    return PROMISE_DATE


async def quick_promise(update: Update, context: NextStepContext) -> int:
    """`iv:pr:<days>`: a quick pick."""
    query = update.callback_query
    assert query is not None
    found = INVOICE_PROMISED_IN.parse(query.data)
    if found is None or draft_of(context, DRAFT).get("mode") != "promise":
        await _refuse(query, FLOW_GONE)
        return ConversationHandler.END
    await query.answer()
    return await _save_promise(update, context, _today(context) + dt.timedelta(days=int(found[0])))


async def typed_promise(update: Update, context: NextStepContext) -> int:
    """The promised day, typed."""
    with hint("Please send the date again, or /cancel."):
        day = invoices.parse_day(
            message_text(update),
            today=_today(context),
            locale=context.member.locale,
            prefer="future",
        )
    return await _save_promise(update, context, day)


async def _save_promise(update: Update, context: NextStepContext, day: dt.date) -> int:
    draft = draft_of(context, DRAFT)
    if draft.get("mode") != "promise" or not draft.get("invoice_id"):
        await reply(update, FLOW_GONE)
        return ConversationHandler.END
    user = context.member
    with hint("Please send another date, or /cancel."):
        promise = await invoices.promise_to_pay(
            context.db,
            context.clock,
            actor=user,
            invoice_id=int(draft["invoice_id"]),
            promised_on=day,
        )
    new_draft(context, DRAFT)
    shown = invoice_views.day_formatter(user.locale)(promise.promised_on)
    entry = await _load(context, promise.invoice_id, "invoice.card")
    await _reply_card(
        update,
        context,
        promise.invoice_id,
        notice=(
            f"🤝 Noted: {entry.client_name} promised to pay {entry.invoice.number} by {shown}. "
            "I'll remind you that morning to check whether the money came."
        ),
    )
    return ConversationHandler.END


async def not_text(update: Update, context: NextStepContext) -> int | None:
    """A sticker, photo or the like while a typed answer is expected."""
    await reply(update, "I need that as a text message. Please type it, or /cancel to stop.")
    return None


# --- stateless buttons ------------------------------------------------------------------


async def open_invoice(update: Update, context: NextStepContext) -> None:
    """`iv:open:<id>`: the invoice card as a new message."""
    query = update.callback_query
    assert query is not None
    found = INVOICE_OPEN.parse(query.data)
    if found is None:
        await _refuse(query)
        return
    entry = await _load(context, found[0], "invoice.card")
    await query.answer()
    await _reply_card(update, context, entry.invoice.id)


async def snooze(update: Update, context: NextStepContext) -> None:
    """`iv:snz:<id>`: remind again in three days, with the morning agenda."""
    query = update.callback_query
    assert query is not None
    found = INVOICE_SNOOZE.parse(query.data)
    if found is None:
        await _refuse(query)
        return
    user = context.member
    entry = await _load(context, found[0], "invoice.snooze")
    at = await invoices.snooze_invoice(context.db, context.clock, actor=user, invoice_id=found[0])
    await query.answer("Snoozed.")
    shown = format_moment(at, user.timezone, user.locale)
    await reply(
        update,
        html(
            "💤 {client}: I'll remind you about {number} again <b>{shown}</b>.",
            client=entry.client_name,
            number=entry.invoice.number,
            shown=shown,
        ),
    )


async def ask_cancel(update: Update, context: NextStepContext) -> None:
    """`iv:cx:<id>`: ask before cancelling."""
    query = update.callback_query
    assert query is not None
    found = INVOICE_CANCEL.parse(query.data)
    if found is None:
        await _refuse(query)
        return
    entry = await _load(context, found[0], "invoice.cancel")
    invoices.require_open(entry)
    await query.answer()
    invoice = entry.invoice
    balance = money.format_money(invoice.balance_minor, invoice.currency, context.member.locale)
    await edit(
        query,
        f"Cancel invoice <b>{escape(invoice.number)}</b> of {escape(entry.client_name)} "
        f"({escape(balance)} open)? Its reminders stop; payments recorded stay.",
        keyboard(
            [
                [
                    button("Yes, cancel it", INVOICE_CANCEL_CONFIRMED, invoice.id),
                    button("Keep it", INVOICE_BACK, invoice.id),
                ]
            ]
        ),
    )


async def confirm_cancel(update: Update, context: NextStepContext) -> None:
    """`iv:cxy:<id>`: cancel the invoice and its reminders."""
    query = update.callback_query
    assert query is not None
    found = INVOICE_CANCEL_CONFIRMED.parse(query.data)
    if found is None:
        await _refuse(query)
        return
    (invoice_id,) = found
    invoice = await invoices.cancel_invoice(
        context.db, context.clock, actor=context.member, invoice_id=invoice_id
    )
    await query.answer("Cancelled.")
    client = (await _load(context, invoice_id, "invoice.card")).client_name
    text, markup = await _card(
        context,
        invoice_id,
        html(
            "✖️ {client}: invoice {number} cancelled; its reminders stop.",
            client=client,
            number=invoice.number,
        ),
    )
    await edit(query, text, markup)


async def back_to_card(update: Update, context: NextStepContext) -> None:
    """`iv:back:<id>`: the card again, in place."""
    query = update.callback_query
    assert query is not None
    found = INVOICE_BACK.parse(query.data)
    if found is None:
        await _refuse(query)
        return
    entry = await _load(context, found[0], "invoice.card")
    await query.answer()
    text, markup = await _card(context, entry.invoice.id)
    await edit(query, text, markup)


def _reply_values(
    entry: InvoiceEntry, user: User, company: str, facts: replies.InvoiceValues
) -> replies.ReplyValues:
    return replies.ReplyValues(
        client=replies.ClientValues(entry.client_name, entry.contact_person),
        manager=replies.ManagerValues(user.name),
        company=company,
        invoice=facts,
        timezone=user.timezone,
    )


async def _send_reply_text(
    update: Update,
    context: NextStepContext,
    query: CallbackQuery,
    *,
    invoice_id: int,
    template_id: str,
    intro: str,
    paid: bool = False,
) -> None:
    entry = await _load(context, invoice_id, "invoice.reply")
    if not paid and entry.invoice.state is not InvoiceState.OPEN:
        raise invoices.NotOpen(entry.invoice, entry.client_name)
    user = context.member
    settings = await team_settings.load(context.db)
    today = receivables.local_today(context.clock.now(), entry.owner_timezone)
    facts = await invoices.reply_facts(context.db, entry, today=today)
    values = _reply_values(entry, user, settings.company_name, facts)
    text = replies.render_reply(template_id, values, user.locale)
    await query.answer()
    await reply(update, intro)
    await reply(update, escape(text))


async def suggest_reminder(update: Update, context: NextStepContext) -> None:
    """`iv:sug:<id>:<tone>`: the payment reminder for the client, ready to copy or forward."""
    query = update.callback_query
    assert query is not None
    found = INVOICE_SUGGEST.parse(query.data)
    if found is None:
        await _refuse(query)
        return
    invoice_id, tone = found[0], Stage(found[1])
    await _send_reply_text(
        update,
        context,
        query,
        invoice_id=invoice_id,
        template_id=f"payment_{tone.value}",
        intro=(
            f"✉️ A {tone.value} payment reminder for the client. Copy the next message or "
            "forward it, and adjust anything you like:"
        ),
    )


async def suggest_thanks(update: Update, context: NextStepContext) -> None:
    """`iv:thx:<id>`: a thank-you for the payment, ready to send."""
    query = update.callback_query
    assert query is not None
    found = INVOICE_THANKS.parse(query.data)
    if found is None:
        await _refuse(query)
        return
    await _send_reply_text(
        update,
        context,
        query,
        invoice_id=found[0],
        template_id="payment_thanks",
        intro="✉️ A thank-you for the payment. Copy the next message or forward it:",
        paid=True,
    )


# --- /invoices ----------------------------------------------------------------------------


async def _list_view(context: NextStepContext, view: ListFilter, page: int) -> tuple[str, Any]:
    user = context.member
    found = await receivables.list_invoices(
        context.db, viewer=user, now=context.clock.now(), view=view, page=page, page_size=PAGE_SIZE
    )
    return invoice_views.render_list(found, user), invoice_views.list_keyboard(found)


async def list_invoices(update: Update, context: NextStepContext) -> None:
    """/invoices: open invoices, overdue first; `/invoices aging` the aging table."""
    args = [arg.lower() for arg in context.args or []]
    if args and args[0] == "aging":
        await show_aging(update, context)
        return
    aliases = {"overdue": ListFilter.OVERDUE, "week": ListFilter.WEEK, "paid": ListFilter.PAID}
    view = aliases.get(args[0], ListFilter.OPEN) if args else ListFilter.OPEN
    text, markup = await _list_view(context, view, 0)
    await reply(update, text, reply_markup=markup)


async def list_page(update: Update, context: NextStepContext) -> None:
    """`iv:ls:<filter>:<page>`: another filter or page, in place."""
    query = update.callback_query
    assert query is not None
    found = INVOICE_LIST.parse(query.data)
    if found is None:
        await _refuse(query)
        return
    await query.answer()
    text, markup = await _list_view(context, ListFilter(found[0]), found[1])
    await edit(query, text, markup)


async def show_aging(update: Update, context: NextStepContext) -> None:
    """`/invoices aging`: per currency, by bucket, per manager (leads) and per client."""
    user = context.member
    report = await receivables.aging_buckets(
        context.db,
        now=context.clock.now(),
        manager_id=None if user.is_lead else user.telegram_id,
    )
    await reply(update, invoice_views.render_aging(report, user))


# --- trust level --------------------------------------------------------------------------


def _history_line(view: invoices.TrustView) -> str:
    history = view.history
    parts = [f"{history.broken_promises} broken and {history.kept_promises} kept promises"]
    if history.late_days:
        late = sum(1 for days in history.late_days if days > 0)
        parts.append(f"{late} of {len(history.late_days)} paid invoices paid late")
    if history.open_overdue_days:
        parts.append(f"open invoices up to {max(history.open_overdue_days)} days overdue")
    return "; ".join(parts)


async def trust_menu(update: Update, context: NextStepContext) -> None:
    """`iv:tr:<client id>`: the trust level with the one the history suggests."""
    query = update.callback_query
    assert query is not None
    found = TRUST_MENU.parse(query.data)
    if found is None:
        await _refuse(query)
        return
    (client_id,) = found
    view = await invoices.trust_view(
        context.db, context.clock, actor=context.member, client_id=client_id
    )
    await query.answer()
    buttons = [
        button(("✓ " if level is view.level else "") + label, TRUST_SET, client_id, level.value)
        for level, label in TRUST_LABELS.items()
    ]
    await reply(
        update,
        f"<b>{escape(view.client_name)}</b> pays as a <b>{view.level.value}</b> payer.\n"
        f"Their history suggests <b>{view.suggested.value}</b>: {escape(_history_line(view))}.\n"
        "The trust level picks the tone of suggested payment reminders: a good payer always "
        "gets the gentlest wording.",
        reply_markup=keyboard([buttons]),
    )


async def set_trust(update: Update, context: NextStepContext) -> None:
    """`iv:trs:<client id>:<level>`."""
    query = update.callback_query
    assert query is not None
    found = TRUST_SET.parse(query.data)
    if found is None:
        await _refuse(query)
        return
    client_id, chosen = found
    level = await invoices.set_trust_level(
        context.db, context.clock, actor=context.member, client_id=client_id, level=chosen
    )
    await query.answer("Saved.")
    await edit(
        query,
        f"✅ Trust level: <b>{level.value}</b>.",
        keyboard([[button("« Back to the card", CLIENT_OPEN, client_id)]]),
    )


async def park_invoice(context: NextStepContext, state: object, restart: bool) -> str | None:
    """Another flow took over: say which half-filled invoice, payment or promise was left."""
    draft = draft_of(context, DRAFT)
    new_draft(context, DRAFT)
    if restart and draft.get("mode") == "new":  # /newinvoice again replaces the unsaved one
        return None
    number = escape(str(draft.get("number") or ""))
    if draft.get("mode") == "pay" and number:
        return f"The payment on {number} was not recorded."
    if draft.get("mode") == "promise" and number:
        return f"The promise to pay {number} was not recorded."
    if draft.get("mode") == "new" and draft.get("client_name"):
        what = f" {number}" if number else ""
        return f"The new invoice{what} for {escape(draft['client_name'])} was not saved."
    return None


# --- wiring -------------------------------------------------------------------------------


def handlers() -> list[tuple[object, int]]:
    """The typed inputs as one persistent conversation, then the stateless buttons."""
    text = filters.TEXT & ~filters.COMMAND
    conversation = Flow(
        name="newinvoice",
        entry_points=[
            CommandHandler("newinvoice", start_newinvoice),
            CallbackQueryHandler(start_from_card, pattern=INVOICE_NEW.pattern),
            CallbackQueryHandler(ask_payment, pattern=INVOICE_PAY.pattern),
            CallbackQueryHandler(ask_promise, pattern=INVOICE_PROMISE.pattern),
        ],
        states={
            PICK_CLIENT: [
                MessageHandler(text, search_client),
                CallbackQueryHandler(chosen_client, pattern=INVOICE_CLIENT.pattern),
            ],
            NUMBER: [MessageHandler(text, typed_number)],
            AMOUNT: [MessageHandler(text, typed_amount)],
            ISSUED: [
                MessageHandler(text, typed_issued),
                CallbackQueryHandler(issued_today, pattern=INVOICE_ISSUED_TODAY.pattern),
            ],
            DUE: [
                MessageHandler(text, typed_due),
                CallbackQueryHandler(net_terms, pattern=INVOICE_NET.pattern),
            ],
            NOTES: [
                MessageHandler(text, typed_notes),
                CallbackQueryHandler(skip_notes, pattern=INVOICE_SKIP_NOTES.pattern),
            ],
            PAY_AMOUNT: [
                MessageHandler(text, typed_payment),
                CallbackQueryHandler(full_balance, pattern=INVOICE_FULL_BALANCE.pattern),
            ],
            PAY_DATE: [
                MessageHandler(text, typed_pay_date),
                CallbackQueryHandler(quick_pay_date, pattern=INVOICE_PAID_DAYS_AGO.pattern),
            ],
            PROMISE_DATE: [
                MessageHandler(text, typed_promise),
                CallbackQueryHandler(quick_promise, pattern=INVOICE_PROMISED_IN.pattern),
            ],
        },
        fallbacks=[
            *flow_fallbacks(),
            MessageHandler(NOT_AN_ANSWER, not_text),
        ],
        park=park_invoice,
    )
    return [
        (conversation, 0),
        (CommandHandler("invoices", list_invoices), 0),
        (CallbackQueryHandler(list_page, pattern=INVOICE_LIST.pattern), 0),
        (CallbackQueryHandler(open_invoice, pattern=INVOICE_OPEN.pattern), 0),
        (CallbackQueryHandler(back_to_card, pattern=INVOICE_BACK.pattern), 0),
        (CallbackQueryHandler(snooze, pattern=INVOICE_SNOOZE.pattern), 0),
        (CallbackQueryHandler(ask_cancel, pattern=INVOICE_CANCEL.pattern), 0),
        (CallbackQueryHandler(confirm_cancel, pattern=INVOICE_CANCEL_CONFIRMED.pattern), 0),
        (CallbackQueryHandler(suggest_reminder, pattern=INVOICE_SUGGEST.pattern), 0),
        (CallbackQueryHandler(suggest_thanks, pattern=INVOICE_THANKS.pattern), 0),
        (CallbackQueryHandler(trust_menu, pattern=TRUST_MENU.pattern), 0),
        (CallbackQueryHandler(set_trust, pattern=TRUST_SET.pattern), 0),
    ]
