"""The digest's receivables section: balances and aging by the rules of
`bot.services.receivables.aging`, computed as SQL aggregates; the week's money movements.

Open and overdue balances and the aging buckets are as of now (each invoice aged on its
owner's local date, exactly as `/invoices aging` shows them); payments, invoices issued and
promises kept or broken are the reported week's (its Monday to Sunday dates; a promise counts
in the week it was settled). Amounts stay integers in minor units, per currency.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.services.receivables import money
from bot.services.receivables.aging import STAGE_DAYS, Bucket, Stage, bucket_for, local_today
from storage import digest_figures, digest_rows
from storage.db import Queries

if TYPE_CHECKING:  # the digest imports this module; only its Week type is needed here
    from bot.services.digest.figures import Week

LARGEST_OVERDUE = 5
BUCKETS = tuple(Bucket)


@dataclass(frozen=True, slots=True)
class CurrencyLine:
    """One currency's receivables: open and overdue now, by bucket, and paid in the week."""

    currency: str
    open_minor: int = 0
    overdue_minor: int = 0
    buckets: tuple[tuple[Bucket, int], ...] = tuple((bucket, 0) for bucket in BUCKETS)
    paid_minor: int = 0
    payments: int = 0
    issued_minor: int = 0
    issued: int = 0
    paid_before_minor: int = 0
    """Received in the same part of the previous week (in this currency)."""

    @property
    def paid_change_minor(self) -> int:
        """Received this week minus the same part of the previous week."""
        return self.paid_minor - self.paid_before_minor


@dataclass(frozen=True, slots=True)
class OverdueInvoice:
    """An overdue invoice with its client and manager."""

    invoice_id: int
    number: str
    client_name: str
    manager_id: int
    manager_name: str
    currency: str
    balance_minor: int
    days_overdue: int

    @property
    def label(self) -> str:
        """`INV-7 Acme (Mia)`."""
        return f"{self.number} {self.client_name} ({self.manager_name})"


@dataclass(frozen=True, slots=True)
class ReceivablesWeek:
    """The receivables section of a digest."""

    currencies: tuple[CurrencyLine, ...]
    open_invoices: int
    overdue_invoices: int
    promises_kept: int
    promises_broken: int
    broken_labels: tuple[str, ...]
    largest_overdue: tuple[OverdueInvoice, ...]
    final_stage_total: int
    final_stage: tuple[OverdueInvoice, ...]  # the most overdue few of them
    overdue_per_manager: tuple[tuple[int, int], ...] = ()
    """(manager id, overdue invoices): counts, comparable across currencies."""

    @property
    def largest_by_currency(self) -> tuple[tuple[str, tuple[OverdueInvoice, ...]], ...]:
        """The largest overdue invoices, ranked within each currency (never across)."""
        groups: dict[str, list[OverdueInvoice]] = {}
        for item in self.largest_overdue:
            groups.setdefault(item.currency, []).append(item)
        return tuple((code, tuple(items)) for code, items in sorted(groups.items()))

    @property
    def overdue_currencies(self) -> tuple[CurrencyLine, ...]:
        """The currencies with an overdue balance."""
        return tuple(line for line in self.currencies if line.overdue_minor)

    @property
    def moved(self) -> bool:
        """Money or promises moved in the week."""
        return bool(
            any(line.payments or line.issued for line in self.currencies)
            or self.promises_kept
            or self.promises_broken
        )

    @property
    def payments(self) -> int:
        """Payments received in the week, all currencies."""
        return sum(line.payments for line in self.currencies)


def _age_edges() -> tuple[int, ...]:
    """The last day of each overdue age range (30, 60, 90), read off `bucket_for`."""
    edges = [days for days in range(1, 3660) if bucket_for(days) is not bucket_for(days + 1)]
    return tuple(edges)


AGE_EDGES = _age_edges()
FINAL_STAGE_DAYS = STAGE_DAYS[Stage.FINAL]
LISTED = 5


def _overdue(item: digest_figures.AgedInvoice) -> OverdueInvoice:
    return OverdueInvoice(
        invoice_id=item.invoice_id,
        number=item.number,
        client_name=item.client_name,
        manager_id=item.manager_id,
        manager_name=item.manager_name,
        currency=item.currency,
        balance_minor=item.balance_minor,
        days_overdue=item.days_overdue,
    )


async def week_figures(
    db: Queries,
    *,
    week: Week,
    now: dt.datetime,
    names: dict[int, str],
    manager_id: int | None = None,
    compare_with: tuple[dt.date, dt.date] | None = None,
) -> ReceivablesWeek | None:
    """The receivables section for the team (or one manager); None if the team has never
    recorded an invoice.

    Balances and aging are SQL aggregates with the rules of `bot.services.receivables.aging`
    (its buckets and final stage; each invoice aged on its owner's local date), so a team
    with thousands of open invoices costs milliseconds; a test keeps both in agreement.
    Payments count from Monday to the week's last day so far; `compare_with` (first, last
    date) is the same part of the previous week, for the change in what was received. The
    largest overdue invoices are ranked within each currency (exchange rates are unknown).
    """
    if not await digest_figures.has_invoices(db):
        return None
    todays = {zone: local_today(now, zone) for zone in await digest_figures.timezones(db)}
    aging = {
        row.currency: row
        for row in await digest_figures.aging_totals(db, todays, AGE_EDGES, manager_id=manager_id)
    }
    paid = {
        row.currency: row
        for row in await digest_figures.payments_received(
            db, week.monday, week.last_day_until(now), manager_id=manager_id
        )
    }
    paid_before = (
        {
            row.currency: row.amount_minor
            for row in await digest_figures.payments_received(
                db, *compare_with, manager_id=manager_id
            )
        }
        if compare_with
        else {}
    )
    issued = {
        row.currency: row
        for row in await digest_figures.invoices_issued(
            db, week.monday, week.sunday, manager_id=manager_id
        )
    }
    counts, broken = await digest_figures.promises_settled(
        db, week.start, week.end, manager_id=manager_id
    )
    largest = await digest_figures.largest_overdue(
        db, todays, per_currency=LARGEST_OVERDUE, manager_id=manager_id
    )
    final_total, final = await digest_figures.overdue_at_least(
        db, todays, days=FINAL_STAGE_DAYS, limit=LISTED, manager_id=manager_id
    )
    overdue_counts = await digest_figures.overdue_invoices_per_owner(
        db, todays, manager_id=manager_id
    )
    lines = []
    for code in sorted(set(aging) | set(paid) | set(issued) | set(paid_before)):
        amounts = aging.get(code)
        lines.append(
            CurrencyLine(
                currency=code,
                open_minor=amounts.open_minor if amounts else 0,
                overdue_minor=amounts.overdue_minor if amounts else 0,
                buckets=tuple(
                    zip(BUCKETS, amounts.buckets if amounts else (0,) * len(BUCKETS), strict=True)
                ),
                paid_minor=paid[code].amount_minor if code in paid else 0,
                payments=paid[code].count if code in paid else 0,
                issued_minor=issued[code].amount_minor if code in issued else 0,
                issued=issued[code].count if code in issued else 0,
                paid_before_minor=paid_before.get(code, 0),
            )
        )

    def place(item: digest_figures.AgedInvoice) -> tuple[str, Decimal, int, int]:
        # Within its own currency only: amounts in two currencies are never compared.
        major = money.to_decimal(item.balance_minor, item.currency)
        return (item.currency, -major, -item.days_overdue, item.invoice_id)

    return ReceivablesWeek(
        currencies=tuple(lines),
        open_invoices=sum(row.invoices for row in aging.values()),
        overdue_invoices=sum(row.overdue_invoices for row in aging.values()),
        promises_kept=counts.get("kept", 0),
        promises_broken=counts.get("broken", 0),
        broken_labels=tuple(
            f"{item.invoice_number} {item.client_name} ({names.get(item.manager_id, '?')})"
            for item in broken[:LISTED]
        ),
        largest_overdue=tuple(_overdue(item) for item in sorted(largest, key=place)),
        final_stage_total=final_total,
        final_stage=tuple(_overdue(item) for item in final),
        overdue_per_manager=tuple(sorted(overdue_counts.items())),
    )


async def movements(
    db: Queries, *, week: Week, manager_id: int | None = None
) -> list[digest_rows.InvoiceMovement]:
    """The week's invoice movements for the spreadsheet (empty without invoices)."""
    if not await digest_figures.has_invoices(db):
        return []
    return await digest_rows.invoice_movements(
        db, week.monday, week.sunday, week.start, week.end, manager_id=manager_id
    )
