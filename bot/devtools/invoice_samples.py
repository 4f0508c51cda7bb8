"""Sample contexts for the receivables templates (`python -m bot check` and the tests)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from bot.devtools.samples import NOW, TRICKY
from bot.services.receivables.aging import (
    AgendaReceivables,
    ClientReceivables,
    InvoiceList,
    ListedInvoice,
    ListFilter,
    PromiseDue,
    Stage,
    build_aging,
)
from bot.services.receivables.invoices import InvoiceItem, NoticeKind
from bot.views import invoices as invoice_views
from storage.invoices import (
    Invoice,
    InvoiceEntry,
    InvoiceState,
    Payment,
    Promise,
    PromiseState,
    TrustLevel,
)
from storage.users import Role, User

TODAY = NOW.date()


def sample_user(role: Role = Role.MANAGER, locale: str = "en") -> User:
    """A reader of the texts."""
    return User(1, "Mia <M>", None, role, "Europe/London", locale, True, True, NOW)


def sample_invoice(
    state: InvoiceState = InvoiceState.OPEN,
    *,
    currency: str = "EUR",
    due_days_ago: int = 10,
    paid_minor: int = 25000,
) -> Invoice:
    """An invoice of 1,250.00 (in minor units of `currency`), partly paid."""
    amount = 125000
    paid = amount if state is InvoiceState.PAID else paid_minor
    return Invoice(
        id=7,
        client_id=3,
        number="INV-<1042>",
        currency=currency,
        amount_minor=amount,
        paid_minor=paid,
        issued_on=TODAY - dt.timedelta(days=40),
        due_on=TODAY - dt.timedelta(days=due_days_ago),
        state=state,
        notes="PO 77 & <urgent>",
        created_by=1,
        created_at=NOW,
        updated_at=NOW,
        paid_on=TODAY if state is InvoiceState.PAID else None,
        escalated_at=None,
    )


def sample_entry(invoice: Invoice | None = None, owner: str = "Mia <M>") -> InvoiceEntry:
    """An invoice with its client and owner."""
    return InvoiceEntry(
        invoice=invoice or sample_invoice(),
        client_name=TRICKY,
        contact_person="Ivan <Petrov>",
        owner_id=1,
        owner_name=owner,
        owner_timezone="Europe/London",
        trust_level=TrustLevel.POOR,
    )


def sample_promise(state: PromiseState = PromiseState.PENDING) -> Promise:
    """A promise to pay tomorrow."""
    return Promise(7, 7, TODAY + dt.timedelta(days=1), state, 1, NOW, None)


def sample_items() -> list[InvoiceItem]:
    """One notice item of every kind."""
    entry = sample_entry()
    common: dict[str, Any] = {"balance_text": "€1,000.00", "tone": Stage.FIRM}
    return [
        InvoiceItem(entry, NoticeKind.STAGE, 10, Stage.FIRM, **common),
        InvoiceItem(entry, NoticeKind.STAGE, 0, None, **common, away_owner=sample_user()),
        InvoiceItem(entry, NoticeKind.PROMISE_DUE, 10, Stage.FIRM, **common),
        InvoiceItem(
            entry,
            NoticeKind.PROMISE_BROKEN,
            10,
            Stage.FINAL,
            **common,
            promise=sample_promise(PromiseState.BROKEN),
        ),
        InvoiceItem(
            entry, NoticeKind.ESCALATION, 31, Stage.FINAL, **common, client_overdue=["€9.00"]
        ),
    ]


def invoice_samples(existing: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Contexts for the receivables templates, and for the agenda and client card with their
    receivables blocks (built from the `existing` samples of those two)."""
    manager, head = sample_user(), sample_user(Role.HEAD, "de")
    items = sample_items()
    open_entry = sample_entry()
    listed = [
        ListedInvoice(open_entry, 10),
        ListedInvoice(sample_entry(sample_invoice(due_days_ago=-3), owner="Bo"), 0),
    ]
    paid_entry = sample_entry(sample_invoice(InvoiceState.PAID))
    lists = [
        InvoiceList(ListFilter.OPEN, listed, {"EUR": 200000, "JPY": 5}, True, 12, 1, 10),
        InvoiceList(ListFilter.PAID, [ListedInvoice(paid_entry, 0)], {"EUR": 1}, False, 1),
        InvoiceList(ListFilter.OVERDUE, [], {}, False),
    ]
    report = build_aging(
        [
            open_entry,
            sample_entry(sample_invoice(currency="KWD", due_days_ago=95)),
            sample_entry(sample_invoice(currency="JPY", due_days_ago=-5), owner="Bo"),
        ],
        NOW,
    )
    payments = [Payment(1, 7, 25000, TODAY, 1, NOW)]
    samples: dict[str, list[dict[str, Any]]] = {
        invoice_views.NOTICE: [
            invoice_views.notice_context(items, manager),
            invoice_views.notice_context(items[:1], head),
        ],
        invoice_views.CARD: [
            invoice_views.card_context(
                open_entry, payments, sample_promise(), user=head, days_overdue=10, notice="✅ <"
            ),
            invoice_views.card_context(paid_entry, payments, None, user=manager, days_overdue=0),
            invoice_views.card_context(
                sample_entry(sample_invoice(InvoiceState.CANCELLED, paid_minor=0)),
                [],
                None,
                user=manager,
                days_overdue=0,
            ),
        ],
        invoice_views.LIST: [
            invoice_views.list_context(found, user) for found in lists for user in (manager, head)
        ],
        invoice_views.AGING: [
            invoice_views.aging_context(report, head, clients_shown=1),
            invoice_views.aging_context(build_aging([], NOW), manager),
        ],
    }
    block = AgendaReceivables(
        2, ["€1,000.00", "¥5"], [PromiseDue(sample_promise(), open_entry, "€1,000.00")]
    )
    samples["texts/agenda.html.j2"] = [
        {**context, "a": dataclasses.replace(context["a"], receivables=block)}
        for context in existing.get("texts/agenda.html.j2", [])[:1]
    ]
    summaries = [
        ClientReceivables(["€1,000.00", "¥5"], 2, listed[0], "€1,000.00", TrustLevel.POOR, 2),
        ClientReceivables([], 0, None, None, TrustLevel.NORMAL, 0),
    ]
    samples["texts/client_card.html.j2"] = [
        {**context, "c": dataclasses.replace(context["c"], receivables=summary)}
        for context in existing.get("texts/client_card.html.j2", [])[:1]
        for summary in summaries
    ]
    return samples
