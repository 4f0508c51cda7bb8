"""Receivables: invoices, payments against them, promises to pay, and each client's trust level.

Amounts are integers in the currency's minor units; `issued_on`, `due_on`, `paid_on` and
`promised_on` are calendar dates. The invoice's `paid_minor` is kept by a trigger on
`payments`, which also marks the invoice paid when its balance reaches zero.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from storage.db import Queries, Row, Transaction, from_db_time, optional_time, to_db_time


class InvoiceState(StrEnum):
    """open -> paid (balance zero) | cancelled. Overdue is derived, never stored."""

    OPEN = "open"
    PAID = "paid"
    CANCELLED = "cancelled"


class PromiseState(StrEnum):
    """pending -> kept | broken | replaced (a new date) | cancelled (invoice cancelled)."""

    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"
    REPLACED = "replaced"
    CANCELLED = "cancelled"


class TrustLevel(StrEnum):
    """A client's payment discipline; it picks the tone of a suggested payment reminder."""

    GOOD = "good"
    NORMAL = "normal"
    POOR = "poor"


@dataclass(frozen=True, slots=True)
class Invoice:
    """An invoice as stored."""

    id: int
    client_id: int
    number: str
    currency: str
    amount_minor: int
    paid_minor: int
    issued_on: dt.date
    due_on: dt.date
    state: InvoiceState
    notes: str | None
    created_by: int
    created_at: dt.datetime
    updated_at: dt.datetime
    paid_on: dt.date | None
    escalated_at: dt.datetime | None

    @property
    def balance_minor(self) -> int:
        """What is left to pay (never negative: the database refuses an overpayment)."""
        return self.amount_minor - self.paid_minor


@dataclass(frozen=True, slots=True)
class InvoiceEntry:
    """An invoice with its client and the client's owner, as lists, cards and notices show it."""

    invoice: Invoice
    client_name: str
    contact_person: str | None
    owner_id: int
    owner_name: str
    owner_timezone: str
    trust_level: TrustLevel


@dataclass(frozen=True, slots=True)
class Payment:
    """Money received against an invoice."""

    id: int
    invoice_id: int
    amount_minor: int
    paid_on: dt.date
    recorded_by: int
    recorded_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Promise:
    """A client's promise to pay an invoice by a day."""

    id: int
    invoice_id: int
    promised_on: dt.date
    state: PromiseState
    recorded_by: int
    created_at: dt.datetime
    settled_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class PaymentHistory:
    """What a client's past says about their payment discipline (for the trust suggestion).

    `late_days` lists, for each paid invoice, how many days after its due date it was paid
    (0 when on time); `open_overdue_days` the days overdue of the open ones as of `today`.
    """

    broken_promises: int
    kept_promises: int
    late_days: list[int]
    open_overdue_days: list[int]


_INVOICE = (
    "i.id, i.client_id, i.number, i.currency, i.amount_minor, i.paid_minor, i.issued_on,"
    " i.due_on, i.state, i.notes, i.created_by, i.created_at, i.updated_at, i.paid_on,"
    " i.escalated_at"
)
_ENTRY = (
    f"{_INVOICE}, c.name AS client_name, c.contact_person, c.owner_id, c.trust_level,"
    " u.name AS owner_name, u.timezone AS owner_timezone"
)
_ENTRY_FROM = (
    "FROM invoices i JOIN clients c ON c.id = i.client_id"
    " JOIN users u ON u.telegram_id = c.owner_id"
)
_PROMISE = "id, invoice_id, promised_on, state, recorded_by, created_at, settled_at"


def day_text(day: dt.date) -> str:
    """A date as stored: `2026-12-15`."""
    return day.isoformat()


def _day(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


_STATES = {state.value: state for state in InvoiceState}
_TRUST = {level.value: level for level in TrustLevel}


def _invoice(row: Row) -> Invoice:
    return Invoice(
        id=row["id"],
        client_id=row["client_id"],
        number=row["number"],
        currency=row["currency"],
        amount_minor=row["amount_minor"],
        paid_minor=row["paid_minor"],
        issued_on=_day(row["issued_on"]),
        due_on=_day(row["due_on"]),
        state=_STATES[row["state"]],
        notes=row["notes"],
        created_by=row["created_by"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        paid_on=None if row["paid_on"] is None else _day(row["paid_on"]),
        escalated_at=optional_time(row["escalated_at"]),
    )


def _entry(row: Row) -> InvoiceEntry:
    return InvoiceEntry(
        invoice=_invoice(row),
        client_name=row["client_name"],
        contact_person=row["contact_person"],
        owner_id=row["owner_id"],
        owner_name=row["owner_name"],
        owner_timezone=row["owner_timezone"],
        trust_level=_TRUST[row["trust_level"]],
    )


def _promise(row: Row) -> Promise:
    return Promise(
        id=row["id"],
        invoice_id=row["invoice_id"],
        promised_on=_day(row["promised_on"]),
        state=PromiseState(row["state"]),
        recorded_by=row["recorded_by"],
        created_at=from_db_time(row["created_at"]),
        settled_at=optional_time(row["settled_at"]),
    )


def _payment(row: Row) -> Payment:
    return Payment(
        id=row["id"],
        invoice_id=row["invoice_id"],
        amount_minor=row["amount_minor"],
        paid_on=_day(row["paid_on"]),
        recorded_by=row["recorded_by"],
        recorded_at=from_db_time(row["recorded_at"]),
    )


# --- invoices ------------------------------------------------------------------------------


async def insert_invoice(
    tx: Transaction,
    *,
    client_id: int,
    number: str,
    number_key: str,
    currency: str,
    amount_minor: int,
    issued_on: dt.date,
    due_on: dt.date,
    notes: str | None,
    created_by: int,
    now: dt.datetime,
) -> Invoice:
    """Store a new open invoice."""
    stamp = to_db_time(now)
    cursor = await tx.execute(
        "INSERT INTO invoices (client_id, number, number_key, currency, amount_minor,"
        " issued_on, due_on, notes, created_by, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            client_id,
            number,
            number_key,
            currency,
            amount_minor,
            day_text(issued_on),
            day_text(due_on),
            notes,
            created_by,
            stamp,
            stamp,
        ),
    )
    invoice = await get_invoice(tx, int(cursor.lastrowid or 0))
    assert invoice is not None
    return invoice


async def get_invoice(db: Queries, invoice_id: int) -> Invoice | None:
    """The invoice with this id."""
    row = await db.fetch_one(f"SELECT {_INVOICE} FROM invoices i WHERE i.id = ?", (invoice_id,))
    return None if row is None else _invoice(row)


async def get_entry(db: Queries, invoice_id: int) -> InvoiceEntry | None:
    """The invoice with its client and owner."""
    row = await db.fetch_one(f"SELECT {_ENTRY} {_ENTRY_FROM} WHERE i.id = ?", (invoice_id,))
    return None if row is None else _entry(row)


async def find_by_number(db: Queries, *, client_id: int, number_key: str) -> Invoice | None:
    """The client's invoice with this (folded) number, whatever its state."""
    row = await db.fetch_one(
        f"SELECT {_INVOICE} FROM invoices i WHERE i.client_id = ? AND i.number_key = ?",
        (client_id, number_key),
    )
    return None if row is None else _invoice(row)


async def open_entries(
    db: Queries, *, owner_id: int | None = None, client_id: int | None = None
) -> list[InvoiceEntry]:
    """Open invoices (of one owner's clients, one client, or everyone's), by due date."""
    where = ["i.state = 'open'"]
    params: list[object] = []
    if owner_id is not None:
        where.append("c.owner_id = ?")
        params.append(owner_id)
    if client_id is not None:
        where.append("i.client_id = ?")
        params.append(client_id)
    rows = await db.fetch_all(
        f"SELECT {_ENTRY} {_ENTRY_FROM} WHERE {' AND '.join(where)} ORDER BY i.due_on, i.id",
        params,
    )
    return [_entry(row) for row in rows]


class ListView(StrEnum):
    """Which invoices `list_page` returns."""

    OPEN = "open"
    OVERDUE = "overdue"  # due before the owner's today
    WEEK = "week"  # due from the owner's today for `WEEK_DAYS` days
    PAID = "paid"


WEEK_DAYS = 7


class OpenBalance(NamedTuple):
    """The open balance of one invoice, with what aging groups it by."""

    owner_id: int
    owner_name: str
    owner_timezone: str
    client_id: int
    client_name: str
    currency: str
    due_on: dt.date
    balance_minor: int


def _owner_today(todays: dict[str, dt.date], fallback: dt.date) -> tuple[str, list[object]]:
    """SQL for the owner's local date: `CASE u.timezone WHEN 'Asia/Tokyo' THEN ... END`."""
    whens = " ".join("WHEN ? THEN ?" for _ in todays)
    params: list[object] = [
        value for zone, day in todays.items() for value in (zone, day_text(day))
    ]
    return f"(CASE u.timezone {whens} ELSE ? END)", [*params, day_text(fallback)]


async def owner_timezones(db: Queries) -> list[str]:
    """The distinct time zones of the people (whose dates decide what is overdue)."""
    rows = await db.fetch_all("SELECT DISTINCT timezone FROM users")
    return [row["timezone"] for row in rows]


async def list_page(
    db: Queries,
    *,
    view: ListView,
    owner_id: int | None,
    todays: dict[str, dt.date],
    fallback_today: dt.date,
    by_manager: bool,
    limit: int,
    offset: int,
) -> tuple[list[InvoiceEntry], dict[str, int], int]:
    """One page of a list, the totals per currency of the whole list, and its length.

    Open views: overdue first (most overdue first), then by due date; totals of balances.
    Paid: the most recently paid first; totals of amounts. `by_manager` groups by the
    owner's name first. `todays` maps each time zone to its local date (the owner's date
    decides what is overdue); `fallback_today` serves a zone missing from it.
    """
    today, today_params = _owner_today(todays, fallback_today)
    where = ["i.state = 'paid'" if view is ListView.PAID else "i.state = 'open'"]
    params: list[object] = []
    if owner_id is not None:
        where.append("c.owner_id = ?")
        params.append(owner_id)
    if view is ListView.OVERDUE:
        where.append(f"i.due_on < {today}")
        params += today_params
    elif view is ListView.WEEK:
        where.append(f"i.due_on >= {today} AND i.due_on < date({today}, ?)")
        params += [*today_params, *today_params, f"+{WEEK_DAYS} days"]
    condition = " AND ".join(where)
    amount = "i.amount_minor" if view is ListView.PAID else "i.amount_minor - i.paid_minor"
    total_rows = await db.fetch_all(
        f"SELECT i.currency, sum({amount}) AS total, count(*) AS n {_ENTRY_FROM}"
        f" WHERE {condition} GROUP BY i.currency ORDER BY i.currency",
        params,
    )
    totals = {row["currency"]: int(row["total"]) for row in total_rows}
    count = sum(int(row["n"]) for row in total_rows)
    group = "u.name COLLATE NOCASE, c.owner_id, " if by_manager else ""
    if view is ListView.PAID:
        order, order_params = "i.paid_on DESC, i.id DESC", []
    else:
        order = f"i.due_on >= {today}, i.due_on, c.name, i.id"
        order_params = today_params
    # Ids first: the sort then carries one column, not the whole entry.
    ids = [
        row["id"]
        for row in await db.fetch_all(
            f"SELECT i.id {_ENTRY_FROM} WHERE {condition} ORDER BY {group}{order}"
            " LIMIT ? OFFSET ?",
            [*params, *order_params, limit, offset],
        )
    ]
    if not ids:
        return [], totals, count
    rows = await db.fetch_all(
        f"SELECT {_ENTRY} {_ENTRY_FROM} WHERE i.id IN ({', '.join('?' * len(ids))})", ids
    )
    by_id = {row["id"]: _entry(row) for row in rows}
    return [by_id[i] for i in ids if i in by_id], totals, count


async def open_balances(db: Queries, *, owner_id: int | None = None) -> list[OpenBalance]:
    """The balance of each open invoice with its owner, client and due date (aging input)."""
    owner = "AND c.owner_id = ?" if owner_id is not None else ""
    params = (owner_id,) if owner_id is not None else ()
    rows = await db.fetch_all(
        "SELECT c.owner_id, u.name AS owner_name, u.timezone, i.client_id, c.name AS client_name,"
        " i.currency, i.due_on, i.amount_minor - i.paid_minor AS balance"
        f" {_ENTRY_FROM} WHERE i.state = 'open' {owner}",
        params,
    )
    days: dict[str, dt.date] = {}
    result = []
    for row in rows:
        text = row[6]
        day = days.get(text)
        if day is None:
            day = days[text] = dt.date.fromisoformat(text)
        result.append(OpenBalance(row[0], row[1], row[2], row[3], row[4], row[5], day, row[7]))
    return result


async def set_state(
    tx: Transaction, invoice_id: int, state: InvoiceState, *, now: dt.datetime
) -> bool:
    """Move an open invoice to another state (cancelled); False if it was not open."""
    cursor = await tx.execute(
        "UPDATE invoices SET state = ?, updated_at = ? WHERE id = ? AND state = 'open'",
        (state.value, to_db_time(now), invoice_id),
    )
    return cursor.rowcount == 1


async def touch(tx: Transaction, invoice_id: int, *, now: dt.datetime) -> None:
    """Record that the invoice changed (after a payment)."""
    await tx.execute(
        "UPDATE invoices SET updated_at = ? WHERE id = ?", (to_db_time(now), invoice_id)
    )


async def mark_escalated(tx: Transaction, invoice_id: int, *, now: dt.datetime) -> bool:
    """Note that the heads were alerted about the invoice; False if they already were."""
    cursor = await tx.execute(
        "UPDATE invoices SET escalated_at = ? WHERE id = ? AND escalated_at IS NULL",
        (to_db_time(now), invoice_id),
    )
    return cursor.rowcount == 1


async def client_invoice_ids(db: Queries, client_id: int) -> list[int]:
    """The ids of a client's open invoices (whose reminders move with the client)."""
    rows = await db.fetch_all(
        "SELECT id FROM invoices WHERE client_id = ? AND state = 'open' ORDER BY id", (client_id,)
    )
    return [row["id"] for row in rows]


# --- payments ------------------------------------------------------------------------------


async def insert_payment(
    tx: Transaction,
    *,
    invoice_id: int,
    amount_minor: int,
    paid_on: dt.date,
    recorded_by: int,
    now: dt.datetime,
) -> int:
    """Record a payment; the trigger adds it to the invoice (and marks it paid at zero)."""
    cursor = await tx.execute(
        "INSERT INTO payments (invoice_id, amount_minor, paid_on, recorded_by, recorded_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (invoice_id, amount_minor, day_text(paid_on), recorded_by, to_db_time(now)),
    )
    return int(cursor.lastrowid or 0)


async def payments_for(db: Queries, invoice_id: int) -> list[Payment]:
    """An invoice's payments, oldest first."""
    rows = await db.fetch_all(
        "SELECT id, invoice_id, amount_minor, paid_on, recorded_by, recorded_at FROM payments"
        " WHERE invoice_id = ? ORDER BY paid_on, id",
        (invoice_id,),
    )
    return [_payment(row) for row in rows]


# --- promises ------------------------------------------------------------------------------


async def insert_promise(
    tx: Transaction, *, invoice_id: int, promised_on: dt.date, recorded_by: int, now: dt.datetime
) -> Promise:
    """Record a pending promise (settle the previous pending one first)."""
    cursor = await tx.execute(
        "INSERT INTO promises (invoice_id, promised_on, recorded_by, created_at)"
        " VALUES (?, ?, ?, ?)",
        (invoice_id, day_text(promised_on), recorded_by, to_db_time(now)),
    )
    promise = await get_promise(tx, int(cursor.lastrowid or 0))
    assert promise is not None
    return promise


async def get_promise(db: Queries, promise_id: int) -> Promise | None:
    """The promise with this id."""
    row = await db.fetch_one(f"SELECT {_PROMISE} FROM promises WHERE id = ?", (promise_id,))
    return None if row is None else _promise(row)


async def pending_promise(db: Queries, invoice_id: int) -> Promise | None:
    """The invoice's pending promise, if any."""
    row = await db.fetch_one(
        f"SELECT {_PROMISE} FROM promises WHERE invoice_id = ? AND state = 'pending'",
        (invoice_id,),
    )
    return None if row is None else _promise(row)


async def last_promise(db: Queries, invoice_id: int) -> Promise | None:
    """The invoice's pending promise, or else its latest broken one (what the client said)."""
    row = await db.fetch_one(
        f"SELECT {_PROMISE} FROM promises WHERE invoice_id = ? AND state IN ('pending', 'broken')"
        " ORDER BY state = 'pending' DESC, id DESC LIMIT 1",
        (invoice_id,),
    )
    return None if row is None else _promise(row)


async def settle_promise(
    tx: Transaction, promise_id: int, state: PromiseState, *, now: dt.datetime
) -> bool:
    """Move a pending promise to kept, broken, replaced or cancelled; False if not pending."""
    if state is PromiseState.PENDING:
        raise ValueError("a promise is settled to a final state")
    cursor = await tx.execute(
        "UPDATE promises SET state = ?, settled_at = ? WHERE id = ? AND state = 'pending'",
        (state.value, to_db_time(now), promise_id),
    )
    return cursor.rowcount == 1


async def broken_count(db: Queries, client_id: int) -> int:
    """How many promises of this client were broken."""
    value = await db.fetch_value(
        "SELECT count(*) FROM promises p JOIN invoices i ON i.id = p.invoice_id"
        " WHERE i.client_id = ? AND p.state = 'broken'",
        (client_id,),
    )
    return int(value or 0)


async def promises_on(
    db: Queries, *, owner_id: int, first: dt.date, last: dt.date
) -> list[tuple[Promise, InvoiceEntry]]:
    """Pending promises of one owner's clients falling due between two days (inclusive)."""
    rows = await db.fetch_all(
        f"SELECT {_ENTRY}, p.id AS p_id, p.promised_on AS p_promised_on, p.state AS p_state,"
        " p.recorded_by AS p_recorded_by, p.created_at AS p_created_at,"
        " p.settled_at AS p_settled_at"
        f" FROM promises p JOIN invoices i ON i.id = p.invoice_id"
        " JOIN clients c ON c.id = i.client_id JOIN users u ON u.telegram_id = c.owner_id"
        " WHERE p.state = 'pending' AND p.promised_on BETWEEN ? AND ? AND c.owner_id = ?"
        " ORDER BY p.promised_on, p.id",
        (day_text(first), day_text(last), owner_id),
    )
    return [
        (
            Promise(
                id=row["p_id"],
                invoice_id=row["id"],
                promised_on=_day(row["p_promised_on"]),
                state=PromiseState(row["p_state"]),
                recorded_by=row["p_recorded_by"],
                created_at=from_db_time(row["p_created_at"]),
                settled_at=optional_time(row["p_settled_at"]),
            ),
            _entry(row),
        )
        for row in rows
    ]


async def client_pending_promise_ids(db: Queries, client_id: int) -> list[int]:
    """The ids of the pending promises on a client's invoices."""
    rows = await db.fetch_all(
        "SELECT p.id FROM promises p JOIN invoices i ON i.id = p.invoice_id"
        " WHERE i.client_id = ? AND p.state = 'pending' ORDER BY p.id",
        (client_id,),
    )
    return [row["id"] for row in rows]


# --- the client's payment discipline -------------------------------------------------------


async def trust_level(db: Queries, client_id: int) -> TrustLevel:
    """The client's trust level (normal until someone sets it)."""
    value = await db.fetch_value("SELECT trust_level FROM clients WHERE id = ?", (client_id,))
    return TrustLevel(value or TrustLevel.NORMAL.value)


async def set_trust_level(
    tx: Transaction, client_id: int, level: TrustLevel, *, now: dt.datetime
) -> None:
    """Set the client's trust level."""
    await tx.execute(
        "UPDATE clients SET trust_level = ?, updated_at = ? WHERE id = ?",
        (level.value, to_db_time(now), client_id),
    )


async def payment_history(db: Queries, client_id: int, *, today: dt.date) -> PaymentHistory:
    """The client's kept and broken promises and how late their invoices were paid."""
    promise_rows = await db.fetch_all(
        "SELECT p.state, count(*) AS n FROM promises p JOIN invoices i ON i.id = p.invoice_id"
        " WHERE i.client_id = ? AND p.state IN ('kept', 'broken') GROUP BY p.state",
        (client_id,),
    )
    counts = {row["state"]: row["n"] for row in promise_rows}
    late = await db.fetch_all(
        "SELECT max(0, CAST(julianday(paid_on) - julianday(due_on) AS INTEGER)) AS days"
        " FROM invoices WHERE client_id = ? AND state = 'paid' ORDER BY paid_on DESC LIMIT 50",
        (client_id,),
    )
    overdue = await db.fetch_all(
        "SELECT CAST(julianday(?) - julianday(due_on) AS INTEGER) AS days"
        " FROM invoices WHERE client_id = ? AND state = 'open' AND due_on < ?",
        (day_text(today), client_id, day_text(today)),
    )
    return PaymentHistory(
        broken_promises=int(counts.get("broken", 0)),
        kept_promises=int(counts.get("kept", 0)),
        late_days=[row["days"] for row in late],
        open_overdue_days=[row["days"] for row in overdue],
    )
