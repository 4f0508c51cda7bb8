"""Invoices: creating, payments, promises, cancelling, stages, escalation and their reminders."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from bot.clock import FrozenClock
from bot.services import clients, reminders, team_settings
from bot.services.errors import DomainError, NotAllowed
from bot.services.receivables import invoices
from bot.services.receivables.invoices import DuplicateNumber, NoticeKind, NotOpen, Stage
from storage import invoices as invoice_store
from storage import reminders as reminder_store
from storage.db import Database
from storage.invoices import InvoiceState, PaymentHistory, PromiseState, TrustLevel
from storage.reminders import ReminderSubject
from storage.users import Role, User
from tests.factories import make_user

TODAY = dt.date(2026, 11, 26)  # the clock fixture's Thursday


def at9(day: dt.date) -> dt.datetime:
    """09:00 UTC, the default agenda time of a UTC user."""
    return dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)


async def manager_with_client(db: Database, clock, telegram_id: int = 10) -> tuple[User, int]:
    manager = await make_user(db, clock, telegram_id, name="Mia")
    client = await clients.create_client(
        db, clock, actor=manager, name=f"Acme {telegram_id}", contact_person="Ivan Petrov"
    )
    return manager, client.id


async def new_invoice(
    db: Database,
    clock,
    actor: User,
    client_id: int,
    *,
    number: str = "INV-1",
    amount: int = 125000,
    currency: str = "EUR",
    due: dt.date = dt.date(2026, 12, 15),
    issued: dt.date | None = None,
):
    return await invoices.create_invoice(
        db,
        clock,
        actor=actor,
        client_id=client_id,
        number=number,
        amount_minor=amount,
        currency=currency,
        due_on=due,
        issued_on=issued or min(TODAY, due),
    )


async def states(db: Database, subject: ReminderSubject, subject_id: int) -> list[str]:
    return [r.state.value for r in await reminder_store.reminders_for(db, subject, subject_id)]


# --- pure rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "stage"),
    [
        (-3, None),
        (0, None),
        (1, Stage.GENTLE),
        (6, Stage.GENTLE),
        (7, Stage.FIRM),
        (29, Stage.FIRM),
        (30, Stage.FINAL),
        (400, Stage.FINAL),
    ],
)
def test_stage_selection_at_the_edges(days: int, stage: Stage | None) -> None:
    assert invoices.stage_for(days) == stage


def test_tone_follows_trust() -> None:
    assert invoices.tone_for(Stage.FINAL, TrustLevel.GOOD) is Stage.GENTLE
    assert invoices.tone_for(Stage.FIRM, TrustLevel.NORMAL) is Stage.FIRM
    assert invoices.tone_for(Stage.GENTLE, TrustLevel.POOR) is Stage.FIRM
    assert invoices.tone_for(Stage.FINAL, TrustLevel.POOR) is Stage.FINAL
    assert invoices.tone_for(None, TrustLevel.POOR) is Stage.GENTLE
    assert invoices.next_stage(None) is Stage.GENTLE
    assert invoices.next_stage(Stage.GENTLE) is Stage.FIRM
    assert invoices.next_stage(Stage.FINAL) is Stage.FINAL


@pytest.mark.parametrize(
    ("history", "level"),
    [
        (PaymentHistory(0, 0, [], []), TrustLevel.NORMAL),
        (PaymentHistory(2, 0, [0, 0, 0], []), TrustLevel.POOR),
        (PaymentHistory(0, 1, [0, 3, 7], [2]), TrustLevel.GOOD),
        (PaymentHistory(0, 0, [0, 3, 8], []), TrustLevel.NORMAL),
        (PaymentHistory(0, 0, [40, 35], []), TrustLevel.POOR),
        (PaymentHistory(0, 0, [0, 0, 0], [61]), TrustLevel.POOR),
        (PaymentHistory(1, 3, [0, 0, 0], []), TrustLevel.NORMAL),
    ],
)
def test_trust_suggestion(history: PaymentHistory, level: TrustLevel) -> None:
    assert invoices.suggest_trust(history) is level


def test_number_key_folds_case_and_spaces() -> None:
    assert invoices.number_key(" INV 1042 ") == invoices.number_key("inv1042")


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("net 30", dt.date(2026, 12, 1)),
        ("NET30", dt.date(2026, 12, 1)),
        ("30 days", dt.date(2026, 12, 1)),
        ("2026-12-15", dt.date(2026, 12, 15)),
        ("due 15.12.2026", dt.date(2026, 12, 15)),
        ("15 Dec 2026", dt.date(2026, 12, 15)),
        ("2026-11-02", dt.date(2026, 11, 2)),
    ],
)
def test_parse_due(text: str, due: dt.date) -> None:
    assert invoices.parse_due(text, issued_on=dt.date(2026, 11, 1), today=TODAY) == due


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("30", "net 30"),
        ("2026-10-01", "before the issue date"),
        ("someday", "couldn't read"),
        ("net soon", "net 30"),
        ("net 999", "at most net 365"),
    ],
)
def test_parse_due_refusals(text: str, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        invoices.parse_due(text, issued_on=dt.date(2026, 11, 1), today=TODAY)


def test_one_line_form() -> None:
    parsed = invoices.parse_one_line(
        "Acme; INV-1042; 1250.00 EUR; due 2026-12-15", default_currency="USD", today=TODAY
    )
    assert (parsed.client_text, parsed.number) == ("Acme", "INV-1042")
    assert (parsed.money.minor, parsed.money.currency) == (125000, "EUR")
    assert (parsed.issued_on, parsed.due_on, parsed.notes) == (TODAY, dt.date(2026, 12, 15), None)
    other = invoices.parse_one_line(
        "Acme; 77; 990; net 30; issued 2026-11-01; PO 12", default_currency="USD", today=TODAY
    )
    assert other.money.currency == "USD"
    assert (other.issued_on, other.due_on, other.notes) == (
        dt.date(2026, 11, 1),
        dt.date(2026, 12, 1),
        "PO 12",
    )
    with pytest.raises(DomainError, match="separated by semicolons"):
        invoices.parse_one_line("Acme 1250", default_currency="USD", today=TODAY)


# --- creating --------------------------------------------------------------------------------


async def test_create_schedules_the_three_stages_at_agenda_time(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    invoice = await new_invoice(db, clock, manager, client_id, due=dt.date(2026, 12, 15))
    assert invoice.state is InvoiceState.OPEN
    assert invoice.issued_on == TODAY
    rows = await reminder_store.reminders_for(db, ReminderSubject.INVOICE, invoice.id)
    # Day 1 Wed 16 Dec, day 7 Tue 22 Dec, day 30 Thu 14 Jan; each at 09:00 (UTC user).
    assert [r.due_at for r in rows] == [
        at9(dt.date(2026, 12, 16)),
        at9(dt.date(2026, 12, 22)),
        at9(dt.date(2027, 1, 14)),
    ]
    assert {r.user_id for r in rows} == {manager.telegram_id}


async def test_stage_on_a_weekend_comes_with_mondays_agenda(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    # Due Fri 4 Dec: day 1 is Saturday, so the gentle stage comes on Monday 7 Dec.
    invoice = await new_invoice(db, clock, manager, client_id, due=dt.date(2026, 12, 4))
    rows = await reminder_store.reminders_for(db, ReminderSubject.INVOICE, invoice.id)
    assert rows[0].due_at == at9(dt.date(2026, 12, 7))


async def test_already_overdue_invoice_gets_its_stage_at_the_next_agenda(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    invoice = await new_invoice(
        db, clock, manager, client_id, due=dt.date(2026, 11, 16), issued=dt.date(2026, 10, 17)
    )
    rows = await reminder_store.reminders_for(db, ReminderSubject.INVOICE, invoice.id)
    # 09:00 today is not after now (09:00), so Friday; the final stage on day 30 (16 Dec).
    assert [r.due_at for r in rows] == [at9(dt.date(2026, 11, 27)), at9(dt.date(2026, 12, 16))]


async def test_create_refusals(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    await new_invoice(db, clock, manager, client_id, number="INV-1042")
    with pytest.raises(DuplicateNumber, match="already has an invoice inv 1042"):
        await new_invoice(db, clock, manager, client_id, number="inv 1042")
    with pytest.raises(DomainError, match="before the issue date"):
        await new_invoice(
            db, clock, manager, client_id, number="X", due=TODAY - dt.timedelta(1), issued=TODAY
        )
    with pytest.raises(DomainError, match="more than zero"):
        await new_invoice(db, clock, manager, client_id, number="Y", amount=0)
    with pytest.raises(DomainError, match="Send the invoice number"):
        await new_invoice(db, clock, manager, client_id, number=" - ")
    with pytest.raises(DomainError, match="issue date can't be in the future"):
        await new_invoice(
            db, clock, manager, client_id, number="F", issued=TODAY + dt.timedelta(1)
        )
    with pytest.raises(DomainError, match="not a currency I know"):
        await new_invoice(db, clock, manager, client_id, number="Z", currency="XYZ")
    assert len(await invoice_store.open_entries(db, client_id=client_id)) == 1


async def test_only_the_owner_or_a_lead_may_invoice_a_client(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    other = await make_user(db, clock, 11)
    head = await make_user(db, clock, 20, Role.HEAD)
    with pytest.raises(NotAllowed):
        await new_invoice(db, clock, other, client_id)
    invoice = await new_invoice(db, clock, head, client_id)
    # The reminders go to the client's owner, not to the head who typed it in.
    rows = await reminder_store.reminders_for(db, ReminderSubject.INVOICE, invoice.id)
    assert {r.user_id for r in rows} == {manager.telegram_id}


# --- payments --------------------------------------------------------------------------------


async def test_partial_then_final_payment_cancels_reminders(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    invoice = await new_invoice(db, clock, manager, client_id, amount=125000)
    first = await invoices.record_payment(
        db, clock, actor=manager, invoice_id=invoice.id, amount_minor=100000
    )
    assert (first.paid_in_full, first.invoice.balance_minor) == (False, 25000)
    assert first.invoice.state is InvoiceState.OPEN
    assert await states(db, ReminderSubject.INVOICE, invoice.id) == ["pending"] * 3

    with pytest.raises(DomainError, match=r"more than the balance of €250\.00"):
        await invoices.record_payment(
            db, clock, actor=manager, invoice_id=invoice.id, amount_minor=25001
        )
    final = await invoices.record_payment(
        db,
        clock,
        actor=manager,
        invoice_id=invoice.id,
        amount_minor=25000,
        paid_on=TODAY - dt.timedelta(days=1),
    )
    assert final.paid_in_full
    assert final.invoice.state is InvoiceState.PAID
    assert final.invoice.balance_minor == 0
    assert final.invoice.paid_on == TODAY
    assert final.cancelled_reminders == 3
    assert await states(db, ReminderSubject.INVOICE, invoice.id) == ["cancelled"] * 3
    with pytest.raises(NotOpen, match="is paid"):
        await invoices.record_payment(
            db, clock, actor=manager, invoice_id=invoice.id, amount_minor=1
        )


async def test_payment_date_cannot_be_in_the_future(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    invoice = await new_invoice(db, clock, manager, client_id)
    with pytest.raises(DomainError, match="future"):
        await invoices.record_payment(
            db,
            clock,
            actor=manager,
            invoice_id=invoice.id,
            amount_minor=100,
            paid_on=TODAY + dt.timedelta(days=1),
        )


async def test_balance_never_negative(db, clock) -> None:
    """Any sequence of attempts: accepted payments sum to at most the amount; the database
    itself refuses an overpayment that bypasses the service."""
    manager, client_id = await manager_with_client(db, clock)
    invoice = await new_invoice(db, clock, manager, client_id, amount=1000, currency="JPY")
    accepted = 0
    for attempt in (300, 800, 700, 1, 1000, 0, 699, 5):
        try:
            await invoices.record_payment(
                db, clock, actor=manager, invoice_id=invoice.id, amount_minor=attempt
            )
        except DomainError:
            continue
        accepted += attempt
        current = await invoice_store.get_invoice(db, invoice.id)
        assert current is not None
        assert current.balance_minor == 1000 - accepted >= 0
    assert accepted == 1000
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await invoice_store.insert_payment(
                tx,
                invoice_id=invoice.id,
                amount_minor=1,
                paid_on=TODAY,
                recorded_by=manager.telegram_id,
                now=clock.now(),
            )
    paid = await invoice_store.get_invoice(db, invoice.id)
    assert paid is not None and paid.balance_minor == 0


async def test_cancelling_cancels_reminders_and_the_promise(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    invoice = await new_invoice(db, clock, manager, client_id)
    promise = await invoices.promise_to_pay(
        db, clock, actor=manager, invoice_id=invoice.id, promised_on=TODAY + dt.timedelta(days=2)
    )
    cancelled = await invoices.cancel_invoice(db, clock, actor=manager, invoice_id=invoice.id)
    assert cancelled.state is InvoiceState.CANCELLED
    assert set(await states(db, ReminderSubject.INVOICE, invoice.id)) == {"cancelled"}
    assert set(await states(db, ReminderSubject.PROMISE, promise.id)) == {"cancelled"}
    stored = await invoice_store.get_promise(db, promise.id)
    assert stored is not None and stored.state is PromiseState.CANCELLED
    with pytest.raises(NotOpen):
        await invoices.cancel_invoice(db, clock, actor=manager, invoice_id=invoice.id)


# --- promises --------------------------------------------------------------------------------


async def test_promise_reminds_on_the_day_and_checks_the_day_after(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    invoice = await new_invoice(db, clock, manager, client_id)
    with pytest.raises(DomainError, match="passed"):
        await invoices.promise_to_pay(
            db, clock, actor=manager, invoice_id=invoice.id, promised_on=TODAY - dt.timedelta(1)
        )
    promise = await invoices.promise_to_pay(
        db, clock, actor=manager, invoice_id=invoice.id, promised_on=dt.date(2026, 11, 30)
    )
    rows = await reminder_store.reminders_for(db, ReminderSubject.PROMISE, promise.id)
    assert [r.due_at for r in rows] == [at9(dt.date(2026, 11, 30)), at9(dt.date(2026, 12, 1))]
    again = await invoices.promise_to_pay(
        db, clock, actor=manager, invoice_id=invoice.id, promised_on=dt.date(2026, 12, 2)
    )
    old = await invoice_store.get_promise(db, promise.id)
    assert old is not None and old.state is PromiseState.REPLACED
    assert await states(db, ReminderSubject.PROMISE, promise.id) == ["cancelled"] * 2
    await invoices.record_payment(
        db, clock, actor=manager, invoice_id=invoice.id, amount_minor=125000
    )
    kept = await invoice_store.get_promise(db, again.id)
    assert kept is not None and kept.state is PromiseState.KEPT
    assert await states(db, ReminderSubject.PROMISE, again.id) == ["cancelled"] * 2


async def due_notices(db: Database, clock: FrozenClock, when: dt.datetime):
    clock.set(when)
    return {n.user.telegram_id: n for n in await reminders.claim_due_notices(db, clock)}


async def test_promise_broken_the_day_after_if_unpaid(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    invoice = await new_invoice(
        db, clock, manager, client_id, due=dt.date(2026, 11, 20), issued=dt.date(2026, 11, 1)
    )
    await invoices.promise_to_pay(
        db, clock, actor=manager, invoice_id=invoice.id, promised_on=dt.date(2026, 11, 30)
    )
    # Friday 27: the stage reminder is swallowed by the pending promise.
    notices = await due_notices(db, clock, at9(dt.date(2026, 11, 27)))
    assert notices.get(manager.telegram_id) is None or not notices[manager.telegram_id].invoices

    # Monday 30, the promised day: a reminder to check.
    notices = await due_notices(db, clock, at9(dt.date(2026, 11, 30)))
    [item] = notices[manager.telegram_id].invoices
    assert item.kind is NoticeKind.PROMISE_DUE

    # A partial payment does not keep the promise.
    await invoices.record_payment(
        db, clock, actor=manager, invoice_id=invoice.id, amount_minor=1000
    )
    notices = await due_notices(db, clock, at9(dt.date(2026, 12, 1)))
    [item] = notices[manager.telegram_id].invoices
    assert item.kind is NoticeKind.PROMISE_BROKEN
    assert item.days_overdue == 11
    assert item.stage is Stage.FINAL  # 11 days overdue is firm; a broken promise: the next
    assert await invoice_store.broken_count(db, client_id) == 1
    summary = (await clients.get_card(db, clock, actor=manager, client_id=client_id)).receivables
    assert summary is not None and summary.broken_promises == 1


async def test_one_message_for_several_invoices_on_one_morning(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    for number in ("A-1", "A-2"):
        await new_invoice(db, clock, manager, client_id, number=number, due=dt.date(2026, 11, 20))
    notices = await due_notices(db, clock, at9(dt.date(2026, 11, 27)))
    notice = notices[manager.telegram_id]
    assert sorted(item.invoice.number for item in notice.invoices) == ["A-1", "A-2"]
    assert {item.kind for item in notice.invoices} == {NoticeKind.STAGE}
    assert {item.stage for item in notice.invoices} == {Stage.FIRM}  # 7 days overdue


async def test_paid_invoice_reminder_no_longer_applies(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    invoice = await new_invoice(db, clock, manager, client_id, due=dt.date(2026, 11, 20))
    async with db.transaction() as tx:  # as if the row had been claimed before the payment
        await invoice_store.set_state(tx, invoice.id, InvoiceState.CANCELLED, now=clock.now())
    notices = await due_notices(db, clock, at9(dt.date(2026, 11, 27)))
    assert manager.telegram_id not in notices
    assert "cancelled" in await states(db, ReminderSubject.INVOICE, invoice.id)


# --- escalation ------------------------------------------------------------------------------


async def test_final_stage_alerts_the_heads_once(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    head = await make_user(db, clock, 20, Role.HEAD, name="Hal")
    invoice = await new_invoice(
        db, clock, manager, client_id, due=dt.date(2026, 10, 20), issued=dt.date(2026, 10, 1)
    )
    notices = await due_notices(db, clock, at9(dt.date(2026, 11, 27)))
    [item] = notices[manager.telegram_id].invoices
    assert (item.stage, item.days_overdue) == (Stage.FINAL, 38)
    alerts = [
        r
        for r in await reminder_store.reminders_for(db, ReminderSubject.INVOICE, invoice.id)
        if r.user_id == head.telegram_id
    ]
    assert len(alerts) == 1
    notices = await due_notices(db, clock, at9(dt.date(2026, 11, 27)) + dt.timedelta(minutes=1))
    [alert] = notices[head.telegram_id].invoices
    assert alert.kind is NoticeKind.ESCALATION
    assert alert.client_overdue == ["€1,250.00"]
    # A snoozed final reminder does not alert again.
    await invoices.snooze_invoice(db, clock, actor=manager, invoice_id=invoice.id)
    await due_notices(db, clock, at9(dt.date(2026, 12, 2)))
    rows = await reminder_store.reminders_for(db, ReminderSubject.INVOICE, invoice.id)
    assert sum(1 for r in rows if r.user_id == head.telegram_id) == 1


async def test_client_over_the_team_threshold_alerts_the_heads(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    head = await make_user(db, clock, 20, Role.HEAD)
    await team_settings.change(db, clock, actor=head, key="overdue_alert_threshold", value="2000")
    await new_invoice(db, clock, manager, client_id, number="S", due=dt.date(2026, 11, 20))
    small = await due_notices(db, clock, at9(dt.date(2026, 11, 27)))
    assert head.telegram_id not in small  # €1,250 overdue: under the threshold
    big = await new_invoice(
        db, clock, manager, client_id, number="B", due=dt.date(2026, 11, 20), amount=100000
    )
    await due_notices(db, clock, at9(dt.date(2026, 11, 30)))  # B's stage reminder
    alerts = [
        r
        for r in await reminder_store.reminders_for(db, ReminderSubject.INVOICE, big.id)
        if r.user_id == head.telegram_id
    ]
    assert len(alerts) == 1


# --- snooze, trust, reassignment -------------------------------------------------------------


async def test_snooze_three_days_lands_on_the_next_agenda(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    invoice = await new_invoice(db, clock, manager, client_id, due=dt.date(2026, 11, 20))
    at = await invoices.snooze_invoice(db, clock, actor=manager, invoice_id=invoice.id)
    assert at == at9(dt.date(2026, 11, 30))  # Sunday 29 → Monday's agenda
    again = await invoices.snooze_invoice(db, clock, actor=manager, invoice_id=invoice.id)
    assert again == at
    rows = await reminder_store.reminders_for(db, ReminderSubject.INVOICE, invoice.id)
    assert sum(1 for r in rows if r.due_at == at) == 1


async def test_trust_level_set_and_suggested(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    view = await invoices.trust_view(db, clock, actor=manager, client_id=client_id)
    assert (view.level, view.suggested) == (TrustLevel.NORMAL, TrustLevel.NORMAL)
    assert (
        await invoices.set_trust_level(db, clock, actor=manager, client_id=client_id, level="good")
        is TrustLevel.GOOD
    )
    with pytest.raises(DomainError, match="good, normal or poor"):
        await invoices.set_trust_level(db, clock, actor=manager, client_id=client_id, level="x")
    other = await make_user(db, clock, 11)
    with pytest.raises(NotAllowed):
        await invoices.set_trust_level(db, clock, actor=other, client_id=client_id, level="poor")
    assert (await invoice_store.trust_level(db, client_id)) is TrustLevel.GOOD


async def test_reassigning_the_client_moves_invoice_reminders(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    other = await make_user(db, clock, 11)
    head = await make_user(db, clock, 20, Role.HEAD)
    invoice = await new_invoice(db, clock, manager, client_id)
    promise = await invoices.promise_to_pay(
        db, clock, actor=manager, invoice_id=invoice.id, promised_on=TODAY + dt.timedelta(3)
    )
    await invoices.snooze_invoice(db, clock, actor=head, invoice_id=invoice.id)
    await clients.reassign_client(
        db, clock, actor=head, client_id=client_id, new_owner_id=other.telegram_id
    )
    rows = await reminder_store.reminders_for(db, ReminderSubject.INVOICE, invoice.id)
    assert {r.user_id for r in rows} == {other.telegram_id, head.telegram_id}
    promised = await reminder_store.reminders_for(db, ReminderSubject.PROMISE, promise.id)
    assert {r.user_id for r in promised} == {other.telegram_id}


def test_one_line_without_an_issue_date_takes_the_earlier_of_today_and_the_due_date() -> None:
    """An invoice entered already overdue is not refused for a due date before "today"."""
    overdue = invoices.parse_one_line(
        "Quartz; INV-1042; 1250.00 EUR; due 2026-11-24", default_currency="USD", today=TODAY
    )
    assert (overdue.issued_on, overdue.due_on) == (dt.date(2026, 11, 24), dt.date(2026, 11, 24))
    ahead = invoices.parse_one_line(
        "Quartz; INV-1043; 10; due 28 February", default_currency="USD", today=TODAY
    )
    assert (ahead.issued_on, ahead.due_on) == (TODAY, dt.date(2027, 2, 28))
    with pytest.raises(DomainError, match="before the issue date 2026-11-20"):
        invoices.parse_one_line(
            "Quartz; X; 10; due 2026-11-01; issued 2026-11-20", default_currency="USD", today=TODAY
        )


def test_parse_due_without_an_issue_date_counts_terms_from_today() -> None:
    assert invoices.parse_due("net 30", issued_on=None, today=TODAY) == TODAY + dt.timedelta(30)
    assert invoices.parse_due("2026-10-01", issued_on=None, today=TODAY) == dt.date(2026, 10, 1)
    assert invoices.parse_due("due friday", issued_on=None, today=TODAY) == dt.date(2026, 11, 27)


async def test_create_without_an_issue_date_and_a_past_due_date(db, clock) -> None:
    manager, client_id = await manager_with_client(db, clock)
    invoice = await invoices.create_invoice(
        db,
        clock,
        actor=manager,
        client_id=client_id,
        number="Q-1",
        amount_minor=100,
        currency="EUR",
        due_on=dt.date(2026, 11, 24),
    )
    assert (invoice.issued_on, invoice.due_on) == (dt.date(2026, 11, 24), dt.date(2026, 11, 24))
