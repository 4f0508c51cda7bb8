"""Invoices: creating them, payments, promises to pay, cancelling, and their reminders.

Overdue is derived, never stored: an open invoice is overdue when its due date is before
today in the owner's time zone. Reminders are rows in `reminders` like any other, delivered
by the sweep with the morning agenda:

- stage reminders (subject `invoice`) on the 1st (gentle), 7th (firm) and 30th (final) day
  overdue, at the owner's agenda time (the next working day's if that day is not one); an
  invoice entered already overdue gets its current stage at the next agenda;
- a pending promise (subject `promise`) reminds the owner on the promised day to check it,
  and the day after, if the invoice is still not paid in full, the promise is broken;
- heads are alerted (reminder rows of their own) at the final stage, or when one client's
  overdue total in a currency passes the team threshold; once per invoice.

Paying an invoice in full or cancelling it cancels its pending reminders (and its promise's)
in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from bot.clock import Clock
from bot.services import dates, schedule, team_settings
from bot.services.dates import Prefer, local_to_utc
from bot.services.errors import DomainError
from bot.services.ownership import deny, may_act_on_client, require_client
from bot.services.receivables import money
from bot.services.receivables.aging import (
    STAGE_DAYS,
    Stage,
    days_overdue,
    local_today,
    stage_for,
)
from bot.services.receivables.money import Money
from bot.services.replies.templates import InvoiceValues
from storage import audit, clients, invoices, reminders, users
from storage.db import Database, Queries, Transaction
from storage.invoices import (
    Invoice,
    InvoiceEntry,
    InvoiceState,
    PaymentHistory,
    Promise,
    PromiseState,
    TrustLevel,
)
from storage.reminders import Reminder, ReminderSubject
from storage.users import Role, User

MAX_NUMBER = 50
MAX_NOTES = 1000
MAX_NET_DAYS = 365
SNOOZE_DAYS = 3
MAX_PROMISE_DAYS = 365
ONE_LINE_EXAMPLE = "/newinvoice Acme; INV-1042; 1250.00 EUR; due 2026-12-15"
GONE = "That invoice no longer exists."


class NoticeKind(StrEnum):
    """Why an invoice is in a reminder notice."""

    STAGE = "stage"  # the owner's stage reminder (or a snoozed one)
    PROMISE_DUE = "promise_due"  # the promised day: check whether the money came
    PROMISE_BROKEN = "promise_broken"  # the day after, still unpaid
    ESCALATION = "escalation"  # a head's alert


class NotOpen(DomainError):
    """The invoice is paid or cancelled: the button was pressed on a settled invoice."""

    def __init__(self, invoice: Invoice, client_name: str = "") -> None:
        word = "paid" if invoice.state is InvoiceState.PAID else "cancelled"
        client = f" ({client_name})" if client_name else ""
        super().__init__(f"Already handled: invoice {invoice.number}{client} is {word}.")


class DuplicateNumber(DomainError):
    """The client already has an invoice with this number."""

    def __init__(self, number: str, client_name: str) -> None:
        super().__init__(
            f"{client_name} already has an invoice {number}. Send a different number."
        )


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """What recording a payment did."""

    invoice: Invoice
    paid_in_full: bool
    cancelled_reminders: int


@dataclass(frozen=True, slots=True)
class OneLineInvoice:
    """`/newinvoice Acme; INV-1042; 1250.00 EUR; due 2026-12-15` split and read."""

    client_text: str
    number: str
    money: Money
    issued_on: dt.date
    due_on: dt.date
    notes: str | None


@dataclass(slots=True)
class InvoiceItem:
    """An invoice in a reminder notice, with what the message shows, in the reader's locale."""

    entry: InvoiceEntry
    kind: NoticeKind
    days_overdue: int
    stage: Stage | None
    tone: Stage
    balance_text: str
    promise: Promise | None = None
    client_overdue: list[str] = field(default_factory=list)
    away_owner: User | None = None

    @property
    def invoice(self) -> Invoice:
        """The invoice."""
        return self.entry.invoice


# --- small rules ---------------------------------------------------------------------------


def number_key(number: str) -> str:
    """The folded number that must be unique per client: "INV-1042", "inv 1042" and
    "INV1042" are the same invoice typed differently."""
    return "".join(number.casefold().replace("-", " ").split())


def next_stage(stage: Stage | None) -> Stage:
    """The stage after `stage` (gentle when none yet; final stays final)."""
    order = list(Stage)
    if stage is None:
        return Stage.GENTLE
    return order[min(order.index(stage) + 1, len(order) - 1)]


def tone_for(stage: Stage | None, trust: TrustLevel) -> Stage:
    """Which payment-reminder wording to suggest.

    A good payer always gets the gentlest wording, however late; a poor payer at least the
    firm one once overdue; otherwise the stage's own (gentle before it is overdue).
    """
    if trust is TrustLevel.GOOD or stage is None:
        return Stage.GENTLE
    if trust is TrustLevel.POOR and stage is Stage.GENTLE:
        return Stage.FIRM
    return stage


def suggest_trust(history: PaymentHistory) -> TrustLevel:
    """A trust level from the client's history.

    Poor: two or more broken promises, an open invoice more than 60 days overdue, or two of
    the recent paid invoices paid more than 30 days late. Good: no broken promise, nothing
    open more than 7 days overdue, and at least three paid invoices, none more than 7 days
    late. Normal otherwise (also for a new client without history).
    """
    very_late = sum(1 for days in history.late_days if days > 30)
    if (
        history.broken_promises >= 2
        or any(days > 60 for days in history.open_overdue_days)
        or very_late >= 2
    ):
        return TrustLevel.POOR
    if (
        history.broken_promises == 0
        and len(history.late_days) >= 3
        and all(days <= 7 for days in history.late_days)
        and all(days <= 7 for days in history.open_overdue_days)
    ):
        return TrustLevel.GOOD
    return TrustLevel.NORMAL


def agenda_on_or_after(day: dt.date, user: User) -> dt.datetime:
    """The person's morning agenda time on `day`, or on the next working day after it (UTC)."""
    midnight = local_to_utc(day, dt.time(0), user.timezone)
    return schedule.next_agenda_at(midnight - dt.timedelta(seconds=1), user)


def stage_times(invoice: Invoice, owner: User, now: dt.datetime) -> list[dt.datetime]:
    """When the stage reminders of an open invoice are due, from now on, earliest first.

    Each stage comes at the owner's agenda time on its day; a stage whose day has passed
    (an invoice entered already overdue) comes at the next agenda instead, once.
    """
    today = local_today(now, owner.timezone)
    times: set[dt.datetime] = set()
    if stage_for(days_overdue(invoice, today)) is not None:
        times.add(schedule.next_agenda_at(now, owner))
    for first in STAGE_DAYS.values():
        at = agenda_on_or_after(invoice.due_on + dt.timedelta(days=first), owner)
        if at > now:
            times.add(at)
    return sorted(times)


# --- reading what people type --------------------------------------------------------------

_NET = re.compile(r"^(?:net\s*|in\s+)?(\d{1,4})\s*(?:days?|d)?$", re.IGNORECASE)
_DUE_WORD = re.compile(r"^due\s+", re.IGNORECASE)


def parse_day(
    text: str, *, today: dt.date, locale: str = "en", prefer: Prefer = "past"
) -> dt.date:
    """A calendar date typed by a person: ISO, `15.12.2026`, `15 Dec`, `yesterday`.

    `prefer` decides the year of a date given without one: "past" (an issue or payment date)
    its last occurrence, "future" (a due or promised day) its next one. A DomainError says
    what to send instead.
    """
    return dates.parse_day(text, today=today, locale=locale, prefer=prefer)


def default_issue_date(today: dt.date, due_on: dt.date) -> dt.date:
    """The issue date when none was given: today, or the due date when that has passed."""
    return min(today, due_on)


def parse_due(
    text: str, *, issued_on: dt.date | None, today: dt.date, locale: str = "en"
) -> dt.date:
    """The due date: a date, or payment terms `net 30` / `30 days` counted from the issue date.

    Past dates are allowed (existing receivables, even overdue ones); a date without a year
    is its next occurrence. A due date before a typed issue date is refused; without one
    (`issued_on=None`) terms count from today and any date is fine.
    """
    cleaned = _DUE_WORD.sub("", " ".join(text.split()))
    if cleaned.lower().startswith("net") or (_NET.match(cleaned) and not cleaned.isdigit()):
        net = _NET.match(cleaned)
        if net is None:
            raise DomainError("Write payment terms as net and a number of days, e.g. net 30.")
        days = int(net.group(1))
        if days > MAX_NET_DAYS:
            raise DomainError(f"Payment terms can be at most net {MAX_NET_DAYS}.")
        return (issued_on or today) + dt.timedelta(days=days)
    if cleaned.isdigit():
        raise DomainError(
            f"Is “{cleaned}” a number of days? Write net {cleaned}, or send a date like "
            "2026-12-15."
        )
    due_on = parse_day(cleaned, today=today, locale=locale, prefer="future")
    if issued_on is not None:
        check_dates(issued_on, due_on)
    return due_on


def check_dates(issued_on: dt.date, due_on: dt.date) -> None:
    """A due date before the issue date is refused."""
    if due_on < issued_on:
        raise DomainError(
            f"The due date {due_on.isoformat()} is before the issue date "
            f"{issued_on.isoformat()}. Send a due date on or after the issue date."
        )


def clean_number(text: str) -> str:
    """An invoice number: one line, 1 to 50 characters."""
    printable = "".join(c for c in text if unicodedata.category(c) != "Cc" or c.isspace())
    number = " ".join(printable.split())
    if not number_key(number):
        raise DomainError("Send the invoice number, e.g. INV-1042.")
    if len(number) > MAX_NUMBER:
        raise DomainError(f"The invoice number is too long (at most {MAX_NUMBER} characters).")
    return number


def clean_notes(text: str | None) -> str | None:
    """Optional notes, at most 1000 characters."""
    notes = (text or "").strip()
    if len(notes) > MAX_NOTES:
        raise DomainError(f"The note is too long (at most {MAX_NOTES} characters).")
    return notes or None


def parse_one_line(
    text: str, *, default_currency: str, today: dt.date, locale: str = "en"
) -> OneLineInvoice:
    """Split `Acme; INV-1042; 1250.00 EUR; due 2026-12-15[; issued 2026-11-15][; notes]`.

    The first three parts are the client, the number and the amount (currency optional).
    Later parts starting with `due`/`net` or `issued` set those dates; anything else is a
    note. Without a due part the invoice is due on its issue date; without an issue date it
    was issued today, or on the due date when that has passed (an invoice entered already
    overdue), so "due before the issue date" is only said when both were typed.
    """
    parts = [" ".join(part.split()) for part in text.split(";")]
    if len(parts) < 3 or not all(parts[:3]):
        raise DomainError(
            "Write the client, the invoice number and the amount, separated by semicolons: "
            f"{ONE_LINE_EXAMPLE}"
        )
    client_text, number, amount = parts[:3]
    due_text: str | None = None
    issued_on: dt.date | None = None
    notes: list[str] = []
    for part in parts[3:]:
        lower = part.lower()
        if lower.startswith("due ") or lower.startswith("net"):
            due_text = part
        elif lower.startswith("issued "):
            issued_on = parse_day(part[len("issued ") :], today=today, locale=locale)
        elif part:
            notes.append(part)
    money_value = money.parse_money(amount, default_currency=default_currency, locale=locale)
    if issued_on is not None and issued_on > today:
        raise DomainError("The issue date can't be in the future.")
    due_on = (
        parse_due(due_text, issued_on=issued_on, today=today, locale=locale)
        if due_text
        else issued_on or today
    )
    return OneLineInvoice(
        client_text=client_text,
        number=clean_number(number),
        money=money_value,
        issued_on=issued_on or default_issue_date(today, due_on),
        due_on=due_on,
        notes=clean_notes("; ".join(notes)),
    )


# --- access --------------------------------------------------------------------------------


async def require_invoice(
    db: Database, clock: Clock, *, actor: User, invoice_id: int, attempted: str
) -> InvoiceEntry:
    """The invoice with its client, if the person may act on it; a refusal is audited."""
    entry = await invoices.get_entry(db, invoice_id)
    if entry is None:
        raise DomainError(GONE)
    if not await may_act_on_client(db, actor, entry.owner_id, now=clock.now()):
        raise await deny(
            db,
            clock,
            actor=actor,
            attempted=attempted,
            object_type="invoice",
            object_id=invoice_id,
        )
    return entry


def require_open(invoice: Invoice | InvoiceEntry) -> None:
    """Refuse to act on a paid or cancelled invoice (an entry's refusal names its client)."""
    entry = invoice if isinstance(invoice, InvoiceEntry) else None
    bare = entry.invoice if entry is not None else invoice
    assert isinstance(bare, Invoice)
    if bare.state is not InvoiceState.OPEN:
        raise NotOpen(bare, entry.client_name if entry is not None else "")


async def _current_open(tx: Transaction, entry: InvoiceEntry) -> Invoice:
    """The entry's invoice re-read inside the transaction; it must still be open."""
    invoice = await invoices.get_invoice(tx, entry.invoice.id)
    if invoice is None:
        raise DomainError(GONE)
    if invoice.state is not InvoiceState.OPEN:
        raise NotOpen(invoice, entry.client_name)
    return invoice


# --- creating ------------------------------------------------------------------------------


async def create_invoice(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    client_id: int,
    number: str,
    amount_minor: int,
    currency: str,
    due_on: dt.date,
    issued_on: dt.date | None = None,
    notes: str | None = None,
    default_currency: str | None = None,
) -> Invoice:
    """Record an open invoice for a client the person may act on, and queue its reminders.

    The issue date defaults to today (the actor's zone), or to the due date when that has
    passed. Past dates are fine, also an invoice already overdue: its current stage comes
    with the next morning agenda. Refuses a number the client already has, an amount that
    is not positive, an unknown currency and a due date before the issue date.
    """
    client = await require_client(
        db, clock, actor=actor, client_id=client_id, attempted="invoice.create"
    )
    now = clock.now()
    today = local_today(now, actor.timezone)
    issued = issued_on or default_issue_date(today, due_on)
    if issued > today:
        raise DomainError("The issue date can't be in the future.")
    clean = clean_number(number)
    code = money.parse_currency(currency, default=default_currency)
    if amount_minor <= 0:
        raise DomainError("The amount must be more than zero.")
    if amount_minor > money.MAX_MINOR:
        raise DomainError("That amount is too large; please check it.")
    check_dates(issued, due_on)
    clean_note = clean_notes(notes)
    async with db.transaction() as tx:
        key = number_key(clean)
        if await invoices.find_by_number(tx, client_id=client_id, number_key=key) is not None:
            raise DuplicateNumber(clean, client.name)
        invoice = await invoices.insert_invoice(
            tx,
            client_id=client_id,
            number=clean,
            number_key=key,
            currency=code,
            amount_minor=amount_minor,
            issued_on=issued,
            due_on=due_on,
            notes=clean_note,
            created_by=actor.telegram_id,
            now=now,
        )
        await clients.activate_prospect(tx, client_id, now=now)  # an invoice: a client, active
        owner = await users.get_user(tx, client.owner_id)
        if owner is not None and owner.active:
            for at in stage_times(invoice, owner, now):
                await reminders.insert_reminder(
                    tx,
                    user_id=owner.telegram_id,
                    subject=ReminderSubject.INVOICE,
                    subject_id=invoice.id,
                    due_at=at,
                    now=now,
                )
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="invoice.create",
            now=now,
            object_type="invoice",
            object_id=invoice.id,
            details={
                "client_id": client_id,
                "number": clean,
                "amount_minor": amount_minor,
                "currency": code,
                "issued_on": issued.isoformat(),
                "due_on": due_on.isoformat(),
            },
        )
    return invoice


async def number_taken(db: Queries, *, client_id: int, number: str) -> bool:
    """Whether the client already has an invoice with this number (any state)."""
    found = await invoices.find_by_number(db, client_id=client_id, number_key=number_key(number))
    return found is not None


# --- payments, promises, cancelling, snoozing ----------------------------------------------


async def _cancel_reminders(tx: Transaction, invoice_id: int, *, now: dt.datetime) -> int:
    """Cancel an invoice's pending reminders and settle its pending promise's; how many."""
    cancelled = await reminders.cancel_for_subject(tx, ReminderSubject.INVOICE, invoice_id)
    promise = await invoices.pending_promise(tx, invoice_id)
    if promise is not None:
        cancelled += await reminders.cancel_for_subject(tx, ReminderSubject.PROMISE, promise.id)
    return cancelled


def check_payment_amount(invoice: Invoice, amount_minor: int, *, locale: str = "en") -> None:
    """Refuse a payment of nothing, or of more than the balance (naming the balance)."""
    if amount_minor <= 0:
        raise DomainError("The amount must be more than zero.")
    if amount_minor > invoice.balance_minor:
        balance = money.format_money(invoice.balance_minor, invoice.currency, locale)
        raise DomainError(
            f"That's more than the balance of {balance} on {invoice.number}. "
            f"Send at most {balance}."
        )


async def record_payment(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    invoice_id: int,
    amount_minor: int,
    paid_on: dt.date | None = None,
) -> PaymentResult:
    """Record money received; partial payments are fine, more than the balance is refused.

    When the balance reaches zero the invoice is paid, a pending promise is kept, and every
    pending reminder of the invoice and its promise is cancelled, all in one transaction.
    """
    entry = await require_invoice(
        db, clock, actor=actor, invoice_id=invoice_id, attempted="invoice.pay"
    )
    require_open(entry)
    now = clock.now()
    today = local_today(now, actor.timezone)
    day = paid_on or today
    if day > today:
        raise DomainError("A payment date can't be in the future. Send today's date or earlier.")
    async with db.transaction() as tx:
        invoice = await _current_open(tx, entry)
        check_payment_amount(invoice, amount_minor, locale=actor.locale)
        await invoices.insert_payment(
            tx,
            invoice_id=invoice_id,
            amount_minor=amount_minor,
            paid_on=day,
            recorded_by=actor.telegram_id,
            now=now,
        )
        await invoices.touch(tx, invoice_id, now=now)
        after = await invoices.get_invoice(tx, invoice_id)
        assert after is not None
        cancelled = 0
        if after.state is InvoiceState.PAID:
            cancelled = await _cancel_reminders(tx, invoice_id, now=now)
            promise = await invoices.pending_promise(tx, invoice_id)
            if promise is not None:
                await invoices.settle_promise(tx, promise.id, PromiseState.KEPT, now=now)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="invoice.payment",
            now=now,
            object_type="invoice",
            object_id=invoice_id,
            details={
                "amount_minor": amount_minor,
                "paid_on": day.isoformat(),
                "balance_minor": after.balance_minor,
            },
        )
    return PaymentResult(after, after.state is InvoiceState.PAID, cancelled)


async def promise_to_pay(
    db: Database, clock: Clock, *, actor: User, invoice_id: int, promised_on: dt.date
) -> Promise:
    """Record the day the client promised to pay (today or later, within a year).

    A pending earlier promise is replaced. The owner is reminded at their agenda time on the
    promised day to check, and the day after the promise is broken if the invoice is not paid.
    """
    entry = await require_invoice(
        db, clock, actor=actor, invoice_id=invoice_id, attempted="invoice.promise"
    )
    require_open(entry)
    now = clock.now()
    today = local_today(now, actor.timezone)
    if promised_on < today:
        raise DomainError("That day has passed. Send the day the client promised to pay.")
    if promised_on > today + dt.timedelta(days=MAX_PROMISE_DAYS):
        raise DomainError("A promise more than a year ahead isn't one; send an earlier date.")
    owner = await users.get_user(db, entry.owner_id)
    assert owner is not None
    async with db.transaction() as tx:
        await _current_open(tx, entry)
        previous = await invoices.pending_promise(tx, invoice_id)
        if previous is not None:
            await invoices.settle_promise(tx, previous.id, PromiseState.REPLACED, now=now)
            await reminders.cancel_for_subject(tx, ReminderSubject.PROMISE, previous.id)
        promise = await invoices.insert_promise(
            tx,
            invoice_id=invoice_id,
            promised_on=promised_on,
            recorded_by=actor.telegram_id,
            now=now,
        )
        check_at = agenda_on_or_after(promised_on, owner)
        verdict_at = agenda_on_or_after(promised_on + dt.timedelta(days=1), owner)
        for at in sorted({check_at, verdict_at}):
            if at > now:
                await reminders.insert_reminder(
                    tx,
                    user_id=owner.telegram_id,
                    subject=ReminderSubject.PROMISE,
                    subject_id=promise.id,
                    due_at=at,
                    now=now,
                )
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="invoice.promise",
            now=now,
            object_type="invoice",
            object_id=invoice_id,
            details={"promised_on": promised_on.isoformat(), "promise_id": promise.id},
        )
    return promise


async def cancel_invoice(db: Database, clock: Clock, *, actor: User, invoice_id: int) -> Invoice:
    """Cancel an open invoice (issued by mistake, credited): its reminders go with it."""
    entry = await require_invoice(
        db, clock, actor=actor, invoice_id=invoice_id, attempted="invoice.cancel"
    )
    now = clock.now()
    async with db.transaction() as tx:
        await _current_open(tx, entry)
        cancelled = await _cancel_reminders(tx, invoice_id, now=now)
        promise = await invoices.pending_promise(tx, invoice_id)
        if promise is not None:
            await invoices.settle_promise(tx, promise.id, PromiseState.CANCELLED, now=now)
        await invoices.set_state(tx, invoice_id, InvoiceState.CANCELLED, now=now)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="invoice.cancel",
            now=now,
            object_type="invoice",
            object_id=invoice_id,
            details={"reminders_cancelled": cancelled},
        )
        invoice = await invoices.get_invoice(tx, invoice_id)
    assert invoice is not None
    return invoice


async def snooze_invoice(
    db: Database, clock: Clock, *, actor: User, invoice_id: int, days: int = SNOOZE_DAYS
) -> dt.datetime:
    """Remind the person about the invoice again in `days` days, with their morning agenda."""
    entry = await require_invoice(
        db, clock, actor=actor, invoice_id=invoice_id, attempted="invoice.snooze"
    )
    now = clock.now()
    at = agenda_on_or_after(local_today(now, actor.timezone) + dt.timedelta(days=days), actor)
    async with db.transaction() as tx:
        await _current_open(tx, entry)
        await reminders.ensure_reminder(
            tx,
            user_id=actor.telegram_id,
            subject=ReminderSubject.INVOICE,
            subject_id=invoice_id,
            due_at=at,
            now=now,
        )
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="invoice.snooze",
            now=now,
            object_type="invoice",
            object_id=invoice_id,
            details={"until": at.isoformat()},
        )
    return at


# --- trust ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrustView:
    """A client's trust level, the one their history suggests, and that history."""

    client_id: int
    client_name: str
    level: TrustLevel
    suggested: TrustLevel
    history: PaymentHistory


async def trust_view(db: Database, clock: Clock, *, actor: User, client_id: int) -> TrustView:
    """The client's trust level with the suggestion from their history."""
    client = await require_client(db, clock, actor=actor, client_id=client_id, attempted="trust")
    owner = await users.get_user(db, client.owner_id)
    today = local_today(clock.now(), owner.timezone if owner else actor.timezone)
    history = await invoices.payment_history(db, client_id, today=today)
    return TrustView(
        client_id=client.id,
        client_name=client.name,
        level=await invoices.trust_level(db, client_id),
        suggested=suggest_trust(history),
        history=history,
    )


async def set_trust_level(
    db: Database, clock: Clock, *, actor: User, client_id: int, level: TrustLevel | str
) -> TrustLevel:
    """Set a client's trust level (good / normal / poor)."""
    try:
        chosen = TrustLevel(str(level).strip().lower())
    except ValueError:
        raise DomainError("The trust level is good, normal or poor.") from None
    await require_client(db, clock, actor=actor, client_id=client_id, attempted="trust.set")
    now = clock.now()
    async with db.transaction() as tx:
        before = await invoices.trust_level(tx, client_id)
        if before is chosen:
            return chosen
        await invoices.set_trust_level(tx, client_id, chosen, now=now)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="client.trust",
            now=now,
            object_type="client",
            object_id=client_id,
            details={"from": before.value, "to": chosen.value},
        )
    return chosen


# --- reassignment --------------------------------------------------------------------------


async def move_reminders(tx: Transaction, client_id: int, *, from_id: int, to_id: int) -> int:
    """A client changed hands: its invoices' and promises' pending reminders for the old
    owner go to the new one (heads' alerts stay with the heads). Returns how many moved."""
    moved = 0
    for invoice_id in await invoices.client_invoice_ids(tx, client_id):
        moved += await reminders.reassign_from(
            tx, ReminderSubject.INVOICE, invoice_id, from_id=from_id, to_id=to_id
        )
    for promise_id in await invoices.client_pending_promise_ids(tx, client_id):
        moved += await reminders.reassign_from(
            tx, ReminderSubject.PROMISE, promise_id, from_id=from_id, to_id=to_id
        )
    return moved


# --- reminder notices (called by the sweep) ------------------------------------------------


def _threshold_minor(value: str, currency: str) -> int | None:
    """The team threshold in minor units of `currency`; None when switched off (0)."""
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    if amount <= 0:
        return None
    return int(amount.scaleb(money.exponent(currency)))


async def client_overdue_totals(db: Queries, client_id: int, today: dt.date) -> dict[str, int]:
    """A client's overdue balance per currency as of `today` (the owner's date)."""
    totals: dict[str, int] = {}
    for entry in await invoices.open_entries(db, client_id=client_id):
        if entry.invoice.due_on < today:
            code = entry.invoice.currency
            totals[code] = totals.get(code, 0) + entry.invoice.balance_minor
    return totals


async def alert_recipients(db: Queries) -> list[User]:
    """Who hears about escalations: the active heads of sales, or the admins if none."""
    people = await users.list_users(db, active_only=True)
    heads = [person for person in people if person.role is Role.HEAD]
    return heads or [person for person in people if person.role is Role.ADMIN]


async def _escalate_if_needed(
    db: Database, entry: InvoiceEntry, stage: Stage | None, today: dt.date, now: dt.datetime
) -> None:
    """Alert the heads (once per invoice) at the final stage or over the team threshold."""
    invoice = entry.invoice
    if invoice.escalated_at is not None or stage is None:
        return
    over = False
    if stage is not Stage.FINAL:
        settings = await team_settings.load(db)
        limit = _threshold_minor(settings.get("overdue_alert_threshold"), invoice.currency)
        if limit is None:
            return
        totals = await client_overdue_totals(db, invoice.client_id, today)
        over = totals.get(invoice.currency, 0) > limit
        if not over:
            return
    recipients = [p for p in await alert_recipients(db) if p.telegram_id != entry.owner_id]
    async with db.transaction() as tx:
        if not await invoices.mark_escalated(tx, invoice.id, now=now):
            return
        for person in recipients:
            await reminders.insert_reminder(
                tx,
                user_id=person.telegram_id,
                subject=ReminderSubject.INVOICE,
                subject_id=invoice.id,
                due_at=now,
                now=now,
            )
        await audit.record(
            tx,
            actor_id=None,
            action="invoice.escalate",
            now=now,
            object_type="invoice",
            object_id=invoice.id,
            details={"stage": stage.value, "over_threshold": over},
        )


async def notice_item(
    db: Database,
    clock: Clock,
    reminder: Reminder,
    *,
    recipient: User,
    away_owner: User | None = None,
) -> InvoiceItem | None:
    """What an `invoice` or `promise` reminder says now; None when it no longer applies.

    Called by the sweep for each claimed row. A paid or cancelled invoice, a settled promise
    and a stage reminder while a promise is pending (the promise's own reminder covers it)
    give None, and the caller cancels the row. A promise reminder after the promised day
    marks the promise broken. An owner's stage reminder may alert the heads.
    """
    now = clock.now()
    promise: Promise | None = None
    if reminder.subject is ReminderSubject.PROMISE and reminder.subject_id is not None:
        promise = await invoices.get_promise(db, reminder.subject_id)
        if promise is None or promise.state is not PromiseState.PENDING:
            return None
        invoice_id = promise.invoice_id
    elif reminder.subject is ReminderSubject.INVOICE and reminder.subject_id is not None:
        invoice_id = reminder.subject_id
    else:
        return None
    entry = await invoices.get_entry(db, invoice_id)
    if entry is None or entry.invoice.state is not InvoiceState.OPEN:
        return None
    today = local_today(now, entry.owner_timezone)
    days = days_overdue(entry.invoice, today)
    stage = stage_for(days)
    is_owner_side = reminder.user_id == entry.owner_id or not recipient.is_lead
    if promise is not None:
        due_day = local_today(reminder.due_at, entry.owner_timezone)
        if due_day <= promise.promised_on:
            kind = NoticeKind.PROMISE_DUE
        else:
            async with db.transaction() as tx:
                await invoices.settle_promise(tx, promise.id, PromiseState.BROKEN, now=now)
                await audit.record(
                    tx,
                    actor_id=None,
                    action="invoice.promise_broken",
                    now=now,
                    object_type="invoice",
                    object_id=invoice_id,
                    details={"promise_id": promise.id},
                )
            kind = NoticeKind.PROMISE_BROKEN
            stage = next_stage(stage)
    elif is_owner_side:
        pending = await invoices.pending_promise(db, invoice_id)
        if pending is not None and pending.promised_on >= today:
            return None
        kind = NoticeKind.STAGE
        if reminder.user_id == entry.owner_id:
            await _escalate_if_needed(db, entry, stage, today, now)
    else:
        kind = NoticeKind.ESCALATION
    locale = recipient.locale
    overdue: list[str] = []
    if kind is NoticeKind.ESCALATION:
        totals = await client_overdue_totals(db, entry.invoice.client_id, today)
        overdue = money.format_totals(totals, locale)
    return InvoiceItem(
        entry=entry,
        kind=kind,
        days_overdue=days,
        stage=stage,
        tone=tone_for(stage, entry.trust_level),
        balance_text=money.format_money(
            entry.invoice.balance_minor, entry.invoice.currency, locale
        ),
        promise=promise,
        client_overdue=overdue,
        away_owner=away_owner,
    )


# --- reading -------------------------------------------------------------------------------


async def reply_facts(db: Queries, entry: InvoiceEntry, *, today: dt.date) -> InvoiceValues:
    """What a message to the client about this (already checked) invoice names: the amount,
    what was paid and is still due, how late it is on `today` (the owner's date), and the
    day the client promised to pay (a pending promise, else the last broken one)."""
    invoice = entry.invoice
    promise = await invoices.last_promise(db, invoice.id)
    return InvoiceValues(
        number=invoice.number,
        amount_minor=invoice.amount_minor,
        currency=invoice.currency,
        due_date=invoice.due_on,
        days_overdue=days_overdue(invoice, today),
        paid_minor=invoice.paid_minor,
        promised_on=promise.promised_on if promise is not None else None,
    )


async def invoice_card(
    db: Database, clock: Clock, *, actor: User, invoice_id: int
) -> tuple[InvoiceEntry, list[invoices.Payment], Promise | None]:
    """An invoice with its payments and pending promise, if the person may see it."""
    entry = await require_invoice(
        db, clock, actor=actor, invoice_id=invoice_id, attempted="invoice.card"
    )
    return (
        entry,
        await invoices.payments_for(db, invoice_id),
        await invoices.pending_promise(db, invoice_id),
    )
