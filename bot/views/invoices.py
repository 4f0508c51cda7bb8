"""Rendering of invoices shared by handlers and jobs: notices, cards, lists, aging, buttons.

Every invoice button's action is declared in `bot.views.actions` (prefix `iv`; `inv` is the
invitations'). The handlers in `handlers/invoices.py` parse it and re-check access on each
press.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date
from markupsafe import Markup
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.services.model import InvoiceEntry, InvoiceState, Payment, Promise, User
from bot.services.receivables.aging import (
    FILTER_LABELS,
    AgingAmounts,
    AgingReport,
    Bucket,
    InvoiceList,
    ListFilter,
    Stage,
    local_today,
)
from bot.services.receivables.invoices import InvoiceItem
from bot.services.receivables.money import format_money, format_totals
from bot.views.actions import (
    CLIENT_OPEN,
    INVOICE_CANCEL,
    INVOICE_LIST,
    INVOICE_OPEN,
    INVOICE_PAY,
    INVOICE_PROMISE,
    INVOICE_SNOOZE,
    INVOICE_SUGGEST,
    INVOICE_THANKS,
)
from bot.views.keyboards import button, grid, keyboard
from bot.views.render import render

MAX_BUTTONS = 12
SUGGEST = "Suggest a reminder to the client"
RECORD_PAYMENT = "Record payment"
PROMISE = "Promise to pay"
SNOOZE = "Snooze 3 days"
CANCEL = "Cancel invoice"
STAGE_LABELS = {
    Stage.GENTLE: "1st reminder (gentle)",
    Stage.FIRM: "2nd reminder (firm)",
    Stage.FINAL: "final reminder",
}
TRUST_LABELS = {"good": "👍 good payer", "normal": "normal payer", "poor": "⚠️ poor payer"}


def day_formatter(locale: str) -> Callable[[dt.date], str]:
    """A date as people of `locale` read it: `Tue 15 Dec 2026`."""
    return lambda day: format_date(day, "EEE d MMM yyyy", locale=locale)


def money_formatter(locale: str) -> Callable[[int, str], str]:
    """Minor units of a currency, formatted for `locale`."""
    return lambda minor, currency: format_money(minor, currency, locale)


# --- buttons ---------------------------------------------------------------------------------


def actions_keyboard(invoice_id: int, tone: Stage) -> list[list[InlineKeyboardButton]]:
    """The four actions on an overdue invoice in a reminder."""
    return [
        [button(SUGGEST, INVOICE_SUGGEST, invoice_id, tone.value)],
        [
            button(RECORD_PAYMENT, INVOICE_PAY, invoice_id),
            button(PROMISE, INVOICE_PROMISE, invoice_id),
        ],
        [button(SNOOZE, INVOICE_SNOOZE, invoice_id)],
    ]


def notice_keyboard(items: list[InvoiceItem]) -> InlineKeyboardMarkup | None:
    """One invoice: its four actions. Several: one button each to open it."""
    if len(items) == 1:
        return keyboard(actions_keyboard(items[0].invoice.id, items[0].tone))
    rows = [
        [
            button(
                f"💶 {item.entry.client_name[:28]}: {item.invoice.number[:20]}",
                INVOICE_OPEN,
                item.invoice.id,
            )
        ]
        for item in items
    ]
    return keyboard(rows[:MAX_BUTTONS])


def card_keyboard(entry: InvoiceEntry, tone: Stage) -> InlineKeyboardMarkup | None:
    """An invoice card's actions; a paid or cancelled one has none but the client card."""
    invoice = entry.invoice
    rows: list[list[InlineKeyboardButton]] = []
    if invoice.state is InvoiceState.OPEN:
        rows += [
            [
                button(RECORD_PAYMENT, INVOICE_PAY, invoice.id),
                button(PROMISE, INVOICE_PROMISE, invoice.id),
            ],
            [button(SUGGEST, INVOICE_SUGGEST, invoice.id, tone.value)],
            [button(CANCEL, INVOICE_CANCEL, invoice.id)],
        ]
    elif invoice.state is InvoiceState.PAID:
        rows.append([button("Suggest a thank-you", INVOICE_THANKS, invoice.id)])
    rows.append([button(f"🏢 {entry.client_name[:40]}", CLIENT_OPEN, invoice.client_id)])
    return keyboard(rows)


def list_keyboard(found: InvoiceList) -> InlineKeyboardMarkup | None:
    """Filter buttons (the chosen one ticked), a button per invoice shown, paging."""
    filters = [
        button(("✓ " if view is found.filter else "") + label, INVOICE_LIST, view.value, 0)
        for view, label in FILTER_LABELS.items()
    ]
    items = [
        button(
            f"{item.invoice.number[:20]} · {item.entry.client_name[:20]}",
            INVOICE_OPEN,
            item.invoice.id,
        )
        for item in found.items
    ]
    nav = []
    if found.page > 0:
        nav.append(button("« Prev", INVOICE_LIST, found.filter.value, found.page - 1))
    if found.page + 1 < found.pages:
        nav.append(button("Next »", INVOICE_LIST, found.filter.value, found.page + 1))
    return keyboard([*grid(filters, 2), *grid(items, 2), nav])


# --- texts -----------------------------------------------------------------------------------


NOTICE = "texts/invoice_notice.html.j2"
CARD = "texts/invoice_card.html.j2"
LIST = "texts/invoice_list.html.j2"
AGING = "texts/invoice_aging.html.j2"


def notice_context(items: list[InvoiceItem], user: User) -> dict[str, Any]:
    """What the notice template is rendered with."""
    return {"items": items, "stages": STAGE_LABELS, "fmt_day": day_formatter(user.locale)}


def render_notice(items: list[InvoiceItem], user: User) -> str:
    """The invoices part of a person's reminder notice, in their language."""
    return render(NOTICE, **notice_context(items, user))


def render_card(
    entry: InvoiceEntry,
    payments: list[Payment],
    promise: Promise | None,
    *,
    user: User,
    days_overdue: int,
    notice: str | Markup | None = None,
) -> str:
    """An invoice's card: amounts, dates, promise, payments.

    `notice`, a first line, is plain text (escaped by the template) or `Markup` made with
    `bot.views.render.html` (the bot's own tags, its values escaped once).
    """
    return render(
        CARD,
        **card_context(
            entry, payments, promise, user=user, days_overdue=days_overdue, notice=notice
        ),
    )


def card_context(
    entry: InvoiceEntry,
    payments: list[Payment],
    promise: Promise | None,
    *,
    user: User,
    days_overdue: int,
    notice: str | Markup | None = None,
) -> dict[str, Any]:
    """What the card template is rendered with."""
    return {
        "e": entry,
        "payments": payments,
        "promise": promise,
        "days_overdue": days_overdue,
        "notice": notice,
        "show_owner": user.is_lead,
        "trust": TRUST_LABELS,
        "money": money_formatter(user.locale),
        "fmt_day": day_formatter(user.locale),
    }


def render_list(found: InvoiceList, user: User) -> str:
    """One page of /invoices with totals per currency over the whole filter."""
    return render(LIST, **list_context(found, user))


def list_context(found: InvoiceList, user: User) -> dict[str, Any]:
    """What the list template is rendered with."""
    return {
        "found": found,
        "label": FILTER_LABELS[found.filter],
        "paid": found.filter is ListFilter.PAID,
        "totals": format_totals(found.totals, user.locale),
        "money": money_formatter(user.locale),
        "fmt_day": day_formatter(user.locale),
    }


@dataclass(frozen=True, slots=True)
class AgingSection:
    """One currency of the aging view: totals, then (name, amounts) per manager and client."""

    currency: str
    total: AgingAmounts
    managers: list[tuple[str, AgingAmounts]]
    clients: list[tuple[str, AgingAmounts]]
    more_clients: int


def aging_sections(report: AgingReport, *, clients_shown: int = 15) -> list[AgingSection]:
    """The report regrouped per currency, largest overdue first within each."""
    sections = []
    for code, total in report.totals.items():
        managers = [
            (r.name, r.by_currency[code]) for r in report.by_manager if code in r.by_currency
        ]
        clients = [
            (r.name, r.by_currency[code]) for r in report.by_client if code in r.by_currency
        ]
        managers.sort(key=lambda pair: -pair[1].overdue)
        clients.sort(key=lambda pair: (-pair[1].overdue, -pair[1].total))
        sections.append(
            AgingSection(
                code,
                total,
                managers,
                clients[:clients_shown],
                max(0, len(clients) - clients_shown),
            )
        )
    return sections


def render_aging(report: AgingReport, user: User, *, clients_shown: int = 15) -> str:
    """`/invoices aging`: per currency, the buckets in total, per manager and per client."""
    return render(AGING, **aging_context(report, user, clients_shown=clients_shown))


def aging_context(report: AgingReport, user: User, *, clients_shown: int = 15) -> dict[str, Any]:
    """What the aging template is rendered with."""
    return {
        "sections": aging_sections(report, clients_shown=clients_shown),
        "buckets": list(Bucket),
        "today": local_today(report.as_of, user.timezone),
        "show_managers": user.is_lead,
        "money": money_formatter(user.locale),
        "fmt_day": day_formatter(user.locale),
    }
