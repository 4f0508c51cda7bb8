"""Receivables read side: overdue rules, aging buckets, lists, the card and agenda summaries.

Everything here only reads. Amounts stay integers in minor units per currency and are
totalled per currency, never across currencies. "Today" is the owner's local date: an
invoice is overdue when its due date is before it.

The weekly digest uses `aging_buckets` (see its docstring); `/invoices aging` shows it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.services.receivables import money
from storage import invoices
from storage.db import Queries
from storage.invoices import (
    Invoice,
    InvoiceEntry,
    InvoiceState,
    ListView,
    OpenBalance,
    Promise,
    TrustLevel,
)
from storage.users import User

# --- overdue rules -------------------------------------------------------------------------


class Stage(StrEnum):
    """The escalation stages of an overdue invoice; also the tone of the suggested reminder."""

    GENTLE = "gentle"
    FIRM = "firm"
    FINAL = "final"


STAGE_DAYS: dict[Stage, int] = {Stage.GENTLE: 1, Stage.FIRM: 7, Stage.FINAL: 30}
"""Days overdue on which each stage's reminder comes."""


@lru_cache(maxsize=64)
def _zone(timezone: str) -> ZoneInfo:
    return ZoneInfo(timezone)


def local_today(now: dt.datetime, timezone: str) -> dt.date:
    """Today's date in the zone."""
    return now.astimezone(_zone(timezone)).date()


def days_overdue(invoice: Invoice, today: dt.date) -> int:
    """Whole days past the due date (0 when not overdue, or not open)."""
    if invoice.state is not InvoiceState.OPEN:
        return 0
    return max(0, (today - invoice.due_on).days)


def stage_for(days: int) -> Stage | None:
    """The stage an invoice is in after `days` days overdue (None before the first day)."""
    reached = [stage for stage, first in STAGE_DAYS.items() if days >= first]
    return reached[-1] if reached else None


# --- aging ---------------------------------------------------------------------------------


class Bucket(StrEnum):
    """Aging buckets by days overdue: not yet due, 1-30, 31-60, 61-90, over 90."""

    CURRENT = "current"
    D1_30 = "1-30"
    D31_60 = "31-60"
    D61_90 = "61-90"
    D90_PLUS = "90+"


BUCKETS: tuple[Bucket, ...] = tuple(Bucket)


def bucket_index(days: int) -> int:
    """The position in `BUCKETS` of an invoice `days` days overdue (0 or less: current)."""
    return 0 if days <= 0 else 1 if days <= 30 else 2 if days <= 60 else 3 if days <= 90 else 4


def bucket_for(days: int) -> Bucket:
    """The aging bucket of an invoice `days` days overdue (0 or less: current)."""
    return BUCKETS[bucket_index(days)]


@dataclass(slots=True)
class AgingAmounts:
    """Open balances of one currency per bucket, in minor units."""

    currency: str
    buckets: dict[Bucket, int] = field(default_factory=lambda: dict.fromkeys(Bucket, 0))
    invoices: int = 0

    @property
    def total(self) -> int:
        """All buckets together (one currency, so this sum is meaningful)."""
        return sum(self.buckets.values())

    @property
    def overdue(self) -> int:
        """Everything past due (all buckets but current)."""
        return self.total - self.buckets[Bucket.CURRENT]

    def add(self, bucket: Bucket, minor: int) -> None:
        """Count one invoice's balance."""
        self.buckets[bucket] += minor
        self.invoices += 1


@dataclass(slots=True)
class AgingRow:
    """Aging of one manager or one client: amounts per currency (sorted by code)."""

    id: int
    name: str
    by_currency: dict[str, AgingAmounts] = field(default_factory=dict)
    manager_id: int | None = None
    manager_name: str | None = None

    def add(self, currency: str, bucket: Bucket, minor: int) -> None:
        """Count one invoice's balance."""
        amounts = self.by_currency.get(currency)
        if amounts is None:
            amounts = self.by_currency[currency] = AgingAmounts(currency)
        amounts.add(bucket, minor)

    @property
    def currencies(self) -> list[AgingAmounts]:
        """The amounts per currency, by currency code."""
        return [self.by_currency[code] for code in sorted(self.by_currency)]


@dataclass(slots=True)
class AgingReport:
    """Receivables aging at `as_of` (UTC moment; each invoice aged on its owner's date).

    `by_manager` and `by_client` are sorted by overdue amount (largest first, across their
    currencies by code) then name; `totals` has one entry per currency.
    """

    as_of: dt.datetime
    by_manager: list[AgingRow]
    by_client: list[AgingRow]
    totals: dict[str, AgingAmounts]

    @property
    def is_empty(self) -> bool:
        """No open invoice at all."""
        return not self.totals


def _overdue_key(row: AgingRow) -> tuple[tuple[int, ...], str]:
    return (tuple(-amounts.overdue for amounts in row.currencies), row.name.casefold())


def build_aging(entries: Iterable[InvoiceEntry], now: dt.datetime) -> AgingReport:
    """Aging of the given open invoices (pure: no database); see `aging_buckets`."""
    return aggregate_aging(
        (
            OpenBalance(
                entry.owner_id,
                entry.owner_name,
                entry.owner_timezone,
                entry.invoice.client_id,
                entry.client_name,
                entry.invoice.currency,
                entry.invoice.due_on,
                entry.invoice.balance_minor,
            )
            for entry in entries
            if entry.invoice.state is InvoiceState.OPEN
        ),
        now,
    )


def aggregate_aging(balances: Iterable[OpenBalance], now: dt.datetime) -> AgingReport:
    """Aging of open balances (pure); each is aged on its owner's local date at `now`."""
    # Sums per bucket, then the number of invoices, in plain lists keyed by (client,
    # currency), (manager, currency) and currency: the loop runs once per open invoice of
    # the team, so the rows are built only once at the end.
    by_client: dict[tuple[int, str], list[int]] = {}
    by_manager: dict[tuple[int, str], list[int]] = {}
    by_currency: dict[str, list[int]] = {}
    names: dict[int, OpenBalance] = {}
    todays: dict[str, dt.date] = {}
    for item in balances:
        balance = item.balance_minor
        if balance <= 0:
            continue
        today = todays.get(item.owner_timezone)
        if today is None:
            today = todays[item.owner_timezone] = local_today(now, item.owner_timezone)
        index = bucket_index((today - item.due_on).days)
        code = item.currency
        sums = by_client.get((item.client_id, code))
        if sums is None:
            sums = by_client[item.client_id, code] = [0, 0, 0, 0, 0, 0]
            names[item.client_id] = item
        sums[index] += balance
        sums[5] += 1
        sums = by_manager.get((item.owner_id, code))
        if sums is None:
            sums = by_manager[item.owner_id, code] = [0, 0, 0, 0, 0, 0]
        sums[index] += balance
        sums[5] += 1
        sums = by_currency.get(code)
        if sums is None:
            sums = by_currency[code] = [0, 0, 0, 0, 0, 0]
        sums[index] += balance
        sums[5] += 1

    def amounts(code: str, sums: list[int]) -> AgingAmounts:
        return AgingAmounts(code, dict(zip(BUCKETS, sums, strict=False)), sums[5])

    client_rows: dict[int, AgingRow] = {}
    for (client_id, code), sums in by_client.items():
        row = client_rows.get(client_id)
        if row is None:
            seen = names[client_id]
            row = client_rows[client_id] = AgingRow(
                client_id, seen.client_name, manager_id=seen.owner_id, manager_name=seen.owner_name
            )
        row.by_currency[code] = amounts(code, sums)
    owner_names = {seen.owner_id: seen.owner_name for seen in names.values()}
    managers: dict[int, AgingRow] = {}
    for (owner_id, code), sums in by_manager.items():
        row = managers.get(owner_id)
        if row is None:
            row = managers[owner_id] = AgingRow(owner_id, owner_names[owner_id])
        row.by_currency[code] = amounts(code, sums)
    return AgingReport(
        as_of=now,
        by_manager=sorted(managers.values(), key=_overdue_key),
        by_client=sorted(client_rows.values(), key=_overdue_key),
        totals={code: amounts(code, by_currency[code]) for code in sorted(by_currency)},
    )


async def aging_buckets(
    db: Queries, *, now: dt.datetime, manager_id: int | None = None
) -> AgingReport:
    """Receivables aging per manager and per client, per currency, at `now`.

    Buckets: current (not yet due) / 1-30 / 31-60 / 61-90 / 90+ days overdue, each
    invoice's open balance (amount minus payments) in minor units of its currency, aged on
    its owner's local date. `manager_id` limits it to one manager's clients; None gives the
    whole team. Totals are per currency, never summed across currencies.
    """
    return aggregate_aging(await invoices.open_balances(db, owner_id=manager_id), now)


# --- /invoices -----------------------------------------------------------------------------


ListFilter = ListView
"""The filter buttons of /invoices (storage.invoices.ListView)."""

FILTER_LABELS: dict[ListFilter, str] = {
    ListFilter.OVERDUE: "Overdue",
    ListFilter.WEEK: "Due this week",
    ListFilter.OPEN: "All open",
    ListFilter.PAID: "Paid",
}


@dataclass(frozen=True, slots=True)
class ListedInvoice:
    """An invoice in a list, with the days overdue on its owner's date."""

    entry: InvoiceEntry
    days_overdue: int

    @property
    def invoice(self) -> Invoice:
        """The invoice."""
        return self.entry.invoice


@dataclass(frozen=True, slots=True)
class InvoiceList:
    """One page of invoices of one filter, in display order, with the totals per currency
    and the length of the whole filtered list.

    Open filters total the balances; Paid totals the invoice amounts. `by_manager` says the
    list is a lead's (everyone's, grouped by manager).
    """

    filter: ListFilter
    items: list[ListedInvoice]
    totals: dict[str, int]
    by_manager: bool
    count: int = 0
    page: int = 0
    page_size: int = 10

    @property
    def pages(self) -> int:
        """How many pages the whole list has (at least one)."""
        return max(1, -(-self.count // self.page_size))


async def list_invoices(
    db: Queries,
    *,
    viewer: User,
    now: dt.datetime,
    view: ListFilter,
    page: int = 0,
    page_size: int = 10,
) -> InvoiceList:
    """One page of the viewer's invoices for a filter (a lead sees everyone's, by manager).

    Open filters: overdue first (most overdue first), then by due date. A page past the end
    gives the last page.
    """
    owner_id = None if viewer.is_lead else viewer.telegram_id
    zones = set(await invoices.owner_timezones(db)) | {viewer.timezone}
    todays = {zone: local_today(now, zone) for zone in sorted(zones)}
    fallback = local_today(now, viewer.timezone)
    page = max(page, 0)
    for _ in range(2):
        entries, totals, count = await invoices.list_page(
            db,
            view=view,
            owner_id=owner_id,
            todays=todays,
            fallback_today=fallback,
            by_manager=viewer.is_lead,
            limit=page_size,
            offset=page * page_size,
        )
        if entries or page == 0 or count == 0:
            break
        page = (count - 1) // page_size  # the list shrank since the button was made
    items = [
        ListedInvoice(
            entry, days_overdue(entry.invoice, todays.get(entry.owner_timezone, fallback))
        )
        for entry in entries
    ]
    return InvoiceList(view, items, totals, viewer.is_lead, count, page, page_size)


# --- the client card -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientReceivables:
    """What the client card shows about money: formatted in the viewer's locale."""

    open_balance: list[str]
    open_count: int
    oldest_overdue: ListedInvoice | None
    oldest_overdue_balance: str | None
    trust_level: TrustLevel
    broken_promises: int


async def client_summary(
    db: Queries, *, client_id: int, timezone: str, now: dt.datetime, locale: str = "en"
) -> ClientReceivables:
    """Open balance per currency, the oldest overdue invoice, trust level, broken promises.

    `timezone` is the client owner's (their date decides what is overdue).
    """
    today = local_today(now, timezone)
    totals: dict[str, int] = {}
    oldest: ListedInvoice | None = None
    entries = await invoices.open_entries(db, client_id=client_id)
    for entry in entries:
        code = entry.invoice.currency
        totals[code] = totals.get(code, 0) + entry.invoice.balance_minor
        days = days_overdue(entry.invoice, today)
        if days > 0 and (oldest is None or days > oldest.days_overdue):
            oldest = ListedInvoice(entry, days)
    return ClientReceivables(
        open_balance=money.format_totals(totals, locale),
        open_count=len(entries),
        oldest_overdue=oldest,
        oldest_overdue_balance=(
            money.format_money(oldest.invoice.balance_minor, oldest.invoice.currency, locale)
            if oldest
            else None
        ),
        trust_level=await invoices.trust_level(db, client_id),
        broken_promises=await invoices.broken_count(db, client_id),
    )


# --- the agenda block ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PromiseDue:
    """A promise to pay falling due today, with the balance still open (formatted)."""

    promise: Promise
    entry: InvoiceEntry
    balance: str


@dataclass(frozen=True, slots=True)
class AgendaReceivables:
    """The agenda's receivables block: overdue count and totals per currency (formatted),
    and the promises to pay due today."""

    overdue_count: int
    overdue_totals: list[str]
    promises_today: list[PromiseDue]


async def agenda_block(db: Queries, *, user: User, now: dt.datetime) -> AgendaReceivables | None:
    """The person's receivables for their agenda (own clients); None when nothing is due."""
    today = local_today(now, user.timezone)
    _, totals, count = await invoices.list_page(  # the totals only: no page
        db,
        view=ListView.OVERDUE,
        owner_id=user.telegram_id,
        todays={user.timezone: today},
        fallback_today=today,
        by_manager=False,
        limit=0,
        offset=0,
    )
    promises = [
        PromiseDue(
            promise,
            entry,
            money.format_money(entry.invoice.balance_minor, entry.invoice.currency, user.locale),
        )
        for promise, entry in await invoices.promises_on(
            db, owner_id=user.telegram_id, first=today, last=today
        )
        if entry.invoice.state is InvoiceState.OPEN
    ]
    if not count and not promises:
        return None
    return AgendaReceivables(count, money.format_totals(totals, user.locale), promises)
