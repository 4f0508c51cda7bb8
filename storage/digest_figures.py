"""The weekly digest's SQL: per-person aggregates of a period (the raw rows behind the
spreadsheet are in storage/digest_rows.py, settings and the ledger in storage/digest_ledger.py).

Every figure is one aggregate query grouped by person; nothing here loops over rows. Queries
on the contact log read one range of `contacts_happened` (the period), however long the log
is; open steps are read per person through `steps_manager_due`, starting from `users` with a
CROSS JOIN (SQLite keeps that join order).
Periods are half-open `[start, end)` in UTC; day boundaries for "end of the day" are given
by the caller, computed in the team's zone (a DST week has a 23- or 25-hour day).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import (
    Queries,
    Row,
    from_db_time,
    to_db_time,
)

MEETING_KINDS = ("meeting", "visit")


OTHER_KINDS = ("email", "message")


FAR_FUTURE = "9999-12-31T23:59:59Z"


@dataclass(frozen=True, slots=True)
class ContactFigures:
    """One person's contacts in a period, with how and when each got its next step."""

    manager_id: int
    calls: int = 0
    meetings: int = 0
    other: int = 0
    at_logging: int = 0
    later: int = 0
    missing: int = 0
    disciplined: int = 0
    won: int = 0
    refused: int = 0
    not_target: int = 0
    missing_overnight: int = 0


@dataclass(frozen=True, slots=True)
class StepFigures:
    """One person's open steps now: overdue (and the oldest), and due in a coming period."""

    manager_id: int
    overdue: int = 0
    overdue_long: int = 0
    oldest_due: dt.datetime | None = None
    oldest_client: str | None = None
    coming: int = 0


@dataclass(frozen=True, slots=True)
class EventFigures:
    """One person's snoozes, reschedules and cancellations in a period (who pressed)."""

    manager_id: int
    snoozes: int = 0
    reschedules: int = 0
    cancellations: int = 0


@dataclass(frozen=True, slots=True)
class DayKindCount:
    """Contacts of one person on one day of the period, by kind group (chart data)."""

    manager_id: int
    day: int  # 0 = the first day (Monday)
    calls: int
    meetings: int
    other: int


@dataclass(frozen=True, slots=True)
class SnoozedStep:
    """A step snoozed in the period: how often then, and in its whole life."""

    step_id: int
    client_name: str
    manager_id: int
    snoozes: int
    lifetime_snoozes: int
    due_at: dt.datetime
    open: bool


@dataclass(frozen=True, slots=True)
class WakingClient:
    """A paused client whose check-back step falls in the coming period."""

    step_id: int
    client_id: int
    client_name: str
    manager_id: int
    due_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PlanItem:
    """An open step as a list shows it."""

    step_id: int
    client_id: int
    client_name: str
    manager_id: int
    kind: str
    due_at: dt.datetime
    agenda: str | None


def _in(values: Sequence[str]) -> str:
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


def only_manager(
    manager_id: int | None, column: str = "c.manager_id"
) -> tuple[str, dict[str, int]]:
    """An optional filter to one person."""
    if manager_id is None:
        return "", {}
    return f" AND {column} = :only", {"only": manager_id}


def _days_cte(day_bounds: Sequence[dt.datetime]) -> tuple[str, dict[str, str]]:
    """`days(day, start_at, end_at)` from consecutive boundaries (8 for a week)."""
    rows = ", ".join(f"({n}, :b{n}, :b{n + 1})" for n in range(len(day_bounds) - 1))
    params = {f"b{n}": to_db_time(moment) for n, moment in enumerate(day_bounds)}
    return f"days (day, start_at, end_at) AS (VALUES {rows})", params


async def contact_figures(
    db: Queries,
    day_bounds: Sequence[dt.datetime],
    *,
    at_logging: dt.timedelta,
    discipline: dt.timedelta,
    manager_id: int | None = None,
    until: dt.datetime | None = None,
    as_of: dt.datetime | None = None,
) -> list[ContactFigures]:
    """Per person, the contacts that happened in `[day_bounds[0], until)` (`until` defaults
    to `day_bounds[-1]`), one row per contact counted.

    A contact got its next step (or closure) "at logging" when it was chosen within
    `at_logging` of logging it, "later" after that, and is "missing" while it has none. It is
    "disciplined" when the step was chosen within `discipline` of the contact itself.
    `missing_overnight` counts the contacts still without a next step at the end of the day
    (as bounded by `day_bounds`) on which they were logged. With `as_of`, the contacts are
    seen as they stood then: a step or closure chosen later is still missing, and a day that
    had not ended by then has left nothing overnight (the same part of an earlier week is
    compared fairly with this week so far).
    """
    days, params = _days_cte(day_bounds)
    only, extra = only_manager(manager_id)
    # The week's contacts as they stood at `as_of`: a resolution after it is not one yet.
    seen = (
        "seen AS (SELECT c.manager_id, c.kind, c.logged_at, c.happened_at,"
        " CASE WHEN c.resolved_at <= :as_of THEN c.resolved_at END AS resolved_at,"
        " CASE WHEN c.resolved_at <= :as_of THEN c.outcome END AS outcome"
        f" FROM contacts c WHERE c.happened_at >= :b0 AND c.happened_at < :end{only})"
    )
    rows = await db.fetch_all(
        f"WITH {days}, {seen} SELECT c.manager_id,"
        " sum(c.kind = 'call') AS calls,"
        f" sum(c.kind IN {_in(MEETING_KINDS)}) AS meetings,"
        f" sum(c.kind IN {_in(OTHER_KINDS)}) AS other,"
        " sum(c.resolved_at IS NOT NULL"
        "     AND unixepoch(c.resolved_at) - unixepoch(c.logged_at) <= :at_logging) AS at_logging,"
        " sum(c.resolved_at IS NOT NULL"
        "     AND unixepoch(c.resolved_at) - unixepoch(c.logged_at) > :at_logging) AS later,"
        " sum(c.resolved_at IS NULL) AS missing,"
        " sum(c.resolved_at IS NOT NULL"
        "     AND unixepoch(c.resolved_at) - unixepoch(c.happened_at) <= :discipline)"
        "     AS disciplined,"
        # `IS`, not `=`: the outcome is NULL until chosen, and a sum of NULLs is NULL.
        " sum(c.outcome IS 'won') AS won,"
        " sum(c.outcome IS 'refused') AS refused,"
        " sum(c.outcome IS 'not_target') AS not_target,"
        # A contact logged after the period (back-dated into it) was not left overnight in it.
        " sum(coalesce(coalesce(c.resolved_at, :far) >= (SELECT d.end_at FROM days d"
        "     WHERE c.logged_at >= d.start_at AND c.logged_at < d.end_at"
        "     AND d.end_at <= :as_of), 0))"
        "     AS missing_overnight"
        " FROM seen c GROUP BY c.manager_id",
        {
            **params,
            **extra,
            "end": to_db_time(until) if until else params[f"b{len(day_bounds) - 1}"],
            "as_of": to_db_time(as_of) if as_of else FAR_FUTURE,
            "at_logging": int(at_logging.total_seconds()),
            "discipline": int(discipline.total_seconds()),
            "far": FAR_FUTURE,
        },
    )
    return [
        ContactFigures(
            manager_id=row["manager_id"],
            calls=row["calls"],
            meetings=row["meetings"],
            other=row["other"],
            at_logging=row["at_logging"],
            later=row["later"],
            missing=row["missing"],
            disciplined=row["disciplined"],
            won=row["won"],
            refused=row["refused"],
            not_target=row["not_target"],
            missing_overnight=row["missing_overnight"],
        )
        for row in rows
    ]


async def contacts_by_day(
    db: Queries, day_bounds: Sequence[dt.datetime], *, manager_id: int | None = None
) -> list[DayKindCount]:
    """Per person and day of the period, contacts by kind group (the chart's data)."""
    days, params = _days_cte(day_bounds)
    only, extra = only_manager(manager_id)
    rows = await db.fetch_all(
        f"WITH {days} SELECT c.manager_id, d.day,"
        " sum(c.kind = 'call') AS calls,"
        f" sum(c.kind IN {_in(MEETING_KINDS)}) AS meetings,"
        f" sum(c.kind IN {_in(OTHER_KINDS)}) AS other"
        " FROM contacts c"
        " JOIN days d ON c.happened_at >= d.start_at AND c.happened_at < d.end_at"
        f" WHERE c.happened_at >= :b0 AND c.happened_at < :end{only}"
        " GROUP BY c.manager_id, d.day",
        {**params, **extra, "end": params[f"b{len(day_bounds) - 1}"]},
    )
    return [
        DayKindCount(row["manager_id"], row["day"], row["calls"], row["meetings"], row["other"])
        for row in rows
    ]


async def new_clients(
    db: Queries, start: dt.datetime, end: dt.datetime, *, manager_id: int | None = None
) -> dict[int, int]:
    """Clients created in the period, per owner."""
    only, extra = only_manager(manager_id, "owner_id")
    rows = await db.fetch_all(
        "SELECT owner_id, count(*) AS n FROM clients"
        f" WHERE created_at >= :start AND created_at < :end{only} GROUP BY owner_id",
        {"start": to_db_time(start), "end": to_db_time(end), **extra},
    )
    return {row["owner_id"]: row["n"] for row in rows}


async def idle_clients(
    db: Queries, before: dt.datetime, *, manager_id: int | None = None
) -> dict[int, int]:
    """Per owner, clients (not inactive) with no contact since `before` (never: since created)."""
    only, extra = only_manager(manager_id, "owner_id")
    rows = await db.fetch_all(
        "SELECT owner_id, count(*) AS n FROM clients WHERE status <> 'inactive'"
        f" AND coalesce(last_contact_at, created_at) < :before{only} GROUP BY owner_id",
        {"before": to_db_time(before), **extra},
    )
    return {row["owner_id"]: row["n"] for row in rows}


async def step_figures(
    db: Queries,
    *,
    now: dt.datetime,
    long_overdue: dt.timedelta,
    coming_start: dt.datetime,
    coming_end: dt.datetime,
    manager_id: int | None = None,
) -> list[StepFigures]:
    """Per manager, open steps: overdue at `now` (and overdue longer than `long_overdue`),
    the oldest one with its client, and those due in `[coming_start, coming_end)`."""
    only, extra = only_manager(manager_id, "u.telegram_id")
    # The bare s.client_id comes from the row holding min(due_at) (an SQLite guarantee for a
    # query with a single min()); any overdue step is older than every step not yet due.
    rows = await db.fetch_all(
        "SELECT agg.*, cl.name AS oldest_client FROM ("
        " SELECT s.manager_id, sum(s.due_at < :now) AS overdue,"
        " sum(s.due_at < :long_before) AS overdue_long, min(s.due_at) AS oldest_due,"
        " s.client_id AS oldest_client_id,"
        " sum(s.due_at >= :coming_start AND s.due_at < :coming_end) AS coming"
        " FROM users u CROSS JOIN steps s ON s.manager_id = u.telegram_id AND s.state = 'open'"
        f" WHERE 1 = 1{only} GROUP BY s.manager_id"
        ") agg LEFT JOIN clients cl ON cl.id = agg.oldest_client_id",
        {
            "now": to_db_time(now),
            "long_before": to_db_time(now - long_overdue),
            "coming_start": to_db_time(coming_start),
            "coming_end": to_db_time(coming_end),
            **extra,
        },
    )
    return [
        StepFigures(
            manager_id=row["manager_id"],
            overdue=row["overdue"],
            overdue_long=row["overdue_long"],
            oldest_due=from_db_time(row["oldest_due"]) if row["overdue"] else None,
            oldest_client=row["oldest_client"] if row["overdue"] else None,
            coming=row["coming"],
        )
        for row in rows
    ]


async def event_figures(
    db: Queries, start: dt.datetime, end: dt.datetime, *, manager_id: int | None = None
) -> list[EventFigures]:
    """Per person who pressed the button: snoozes, reschedules, cancellations in the period."""
    only, extra = only_manager(manager_id, "actor_id")
    rows = await db.fetch_all(
        "SELECT actor_id, sum(action = 'snooze') AS snoozes,"
        " sum(action = 'reschedule') AS reschedules, sum(action = 'cancel') AS cancellations"
        f" FROM step_events WHERE at >= :start AND at < :end{only} GROUP BY actor_id",
        {"start": to_db_time(start), "end": to_db_time(end), **extra},
    )
    return [
        EventFigures(row["actor_id"], row["snoozes"], row["reschedules"], row["cancellations"])
        for row in rows
    ]


async def most_snoozed(
    db: Queries,
    start: dt.datetime,
    end: dt.datetime,
    *,
    limit: int,
    manager_id: int | None = None,
) -> list[SnoozedStep]:
    """The steps snoozed most often in the period (then most in their life), up to `limit`."""
    only, extra = only_manager(manager_id, "e.actor_id")
    rows = await db.fetch_all(
        "SELECT e.step_id, count(*) AS snoozes, s.snooze_count, s.manager_id, s.due_at,"
        " s.state, cl.name AS client_name"
        " FROM step_events e JOIN steps s ON s.id = e.step_id"
        " JOIN clients cl ON cl.id = s.client_id"
        f" WHERE e.action = 'snooze' AND e.at >= :start AND e.at < :end{only}"
        " GROUP BY e.step_id ORDER BY snoozes DESC, s.snooze_count DESC, e.step_id LIMIT :limit",
        {"start": to_db_time(start), "end": to_db_time(end), "limit": limit, **extra},
    )
    return [
        SnoozedStep(
            step_id=row["step_id"],
            client_name=row["client_name"],
            manager_id=row["manager_id"],
            snoozes=row["snoozes"],
            lifetime_snoozes=row["snooze_count"],
            due_at=from_db_time(row["due_at"]),
            open=row["state"] == "open",
        )
        for row in rows
    ]


async def waking_clients(
    db: Queries,
    start: dt.datetime,
    end: dt.datetime,
    *,
    limit: int,
    manager_id: int | None = None,
) -> tuple[int, dict[int, int], list[WakingClient]]:
    """Paused clients whose check-back step is due in the period: the total, the count per
    manager, and the first `limit` by due time."""
    only, extra = only_manager(manager_id, "u.telegram_id")
    params = {"start": to_db_time(start), "end": to_db_time(end), **extra}
    source = (
        " FROM users u CROSS JOIN steps s ON s.manager_id = u.telegram_id AND s.state = 'open'"
        " AND s.due_at >= :start AND s.due_at < :end"
        " JOIN contacts ct ON ct.id = s.created_by_contact_id AND ct.outcome = 'paused'"
        f" WHERE 1 = 1{only}"
    )
    counts = await db.fetch_all(
        f"SELECT s.manager_id, count(*) AS n{source} GROUP BY s.manager_id", params
    )
    rows = await db.fetch_all(
        "SELECT s.id, s.client_id, s.manager_id, s.due_at, cl.name AS client_name"
        f"{source.replace(' WHERE', ' JOIN clients cl ON cl.id = s.client_id WHERE')}"
        " ORDER BY s.due_at, s.id LIMIT :limit",
        {**params, "limit": limit},
    )
    per_manager = {row["manager_id"]: row["n"] for row in counts}
    listed = [
        WakingClient(
            step_id=row["id"],
            client_id=row["client_id"],
            client_name=row["client_name"],
            manager_id=row["manager_id"],
            due_at=from_db_time(row["due_at"]),
        )
        for row in rows
    ]
    return sum(per_manager.values()), per_manager, listed


async def last_contacts(
    db: Queries, since: dt.datetime, before: dt.datetime, *, manager_id: int | None = None
) -> dict[int, dt.datetime]:
    """Each person's latest contact that happened in `[since, before)` (people without one
    are absent)."""
    only, extra = only_manager(manager_id)
    rows = await db.fetch_all(
        "SELECT c.manager_id, max(c.happened_at) AS last_at FROM contacts c"
        f" WHERE c.happened_at >= :since AND c.happened_at < :before{only}"
        " GROUP BY c.manager_id",
        {"since": to_db_time(since), "before": to_db_time(before), **extra},
    )
    return {row["manager_id"]: from_db_time(row["last_at"]) for row in rows}


async def open_steps_between(
    db: Queries, manager_id: int, start: dt.datetime | None, end: dt.datetime, *, limit: int
) -> tuple[int, list[PlanItem]]:
    """A manager's open steps due in `[start, end)` (from the beginning when `start` is None):
    how many, and the first `limit` by due time."""
    params = {
        "manager": manager_id,
        "start": to_db_time(start) if start else "",
        "end": to_db_time(end),
        "limit": limit,
    }
    where = (
        "s.manager_id = :manager AND s.state = 'open' AND s.due_at >= :start AND s.due_at < :end"
    )
    total = await db.fetch_value(f"SELECT count(*) FROM steps s WHERE {where}", params)
    rows = await db.fetch_all(
        "SELECT s.id, s.client_id, s.manager_id, s.kind, s.due_at, s.agenda,"
        " cl.name AS client_name FROM steps s JOIN clients cl ON cl.id = s.client_id"
        f" WHERE {where} ORDER BY s.due_at, s.id LIMIT :limit",
        params,
    )
    return int(total or 0), [
        PlanItem(
            step_id=row["id"],
            client_id=row["client_id"],
            client_name=row["client_name"],
            manager_id=row["manager_id"],
            kind=row["kind"],
            due_at=from_db_time(row["due_at"]),
            agenda=row["agenda"],
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class MoneyMoved:
    """Payments (or invoices issued) in one currency in a period."""

    currency: str
    count: int
    amount_minor: int


@dataclass(frozen=True, slots=True)
class PromiseSettled:
    """A promise to pay kept or broken in the period."""

    state: str
    invoice_number: str
    client_name: str
    manager_id: int


INVOICE_OWNER = (
    " JOIN invoices i ON i.id = {ref} JOIN clients c ON c.id = i.client_id"
    " JOIN users u ON u.telegram_id = c.owner_id"
)


@dataclass(frozen=True, slots=True)
class AgingTotals:
    """Open invoices of one currency: balances now, overdue, and by age bucket."""

    currency: str
    invoices: int
    open_minor: int
    overdue_invoices: int
    overdue_minor: int
    buckets: tuple[int, ...]  # not due, then one per age range (see `aging_totals`)


@dataclass(frozen=True, slots=True)
class AgedInvoice:
    """An open invoice with its days overdue on its owner's date."""

    invoice_id: int
    number: str
    client_name: str
    manager_id: int
    manager_name: str
    currency: str
    balance_minor: int
    days_overdue: int


async def timezones(db: Queries) -> list[str]:
    """Every zone someone on the team is in."""
    rows = await db.fetch_all("SELECT DISTINCT timezone FROM users ORDER BY timezone")
    return [row["timezone"] for row in rows]


def _aged(todays: dict[str, dt.date], manager_id: int | None) -> tuple[str, dict[str, object]]:
    """`aged`: open invoices with their balance and days overdue on the owner's local date
    (`todays` maps each zone to its date now)."""
    only, extra = only_manager(manager_id, "c.owner_id")
    zones = ", ".join(f"(:z{n}, :d{n})" for n in range(len(todays)))
    params: dict[str, object] = {**extra}
    for n, (zone, day) in enumerate(sorted(todays.items())):
        params[f"z{n}"], params[f"d{n}"] = zone, day.isoformat()
    sql = (
        f"zones (tz, today) AS (VALUES {zones}),"
        " aged AS (SELECT i.id, i.number, i.currency, i.amount_minor - i.paid_minor AS balance,"
        " c.name AS client_name, c.owner_id, u.name AS owner_name,"
        " CAST(julianday(z.today) - julianday(i.due_on) AS INTEGER) AS days"
        " FROM invoices i JOIN clients c ON c.id = i.client_id"
        " JOIN users u ON u.telegram_id = c.owner_id JOIN zones z ON z.tz = u.timezone"
        f" WHERE i.state = 'open'{only})"
    )
    return sql, params


def _aged_invoice(row: Row) -> AgedInvoice:
    return AgedInvoice(
        invoice_id=row["id"],
        number=row["number"],
        client_name=row["client_name"],
        manager_id=row["owner_id"],
        manager_name=row["owner_name"],
        currency=row["currency"],
        balance_minor=row["balance"],
        days_overdue=max(0, row["days"]),
    )


async def aging_totals(
    db: Queries,
    todays: dict[str, dt.date],
    edges: Sequence[int],
    *,
    manager_id: int | None = None,
) -> list[AgingTotals]:
    """Per currency, the open balance, the overdue part, and the balance by age: not yet due,
    then 1..edges[0], edges[0]+1..edges[1], ..., over edges[-1] days overdue."""
    aged, params = _aged(todays, manager_id)
    ranges = [(1, edges[0])] + [(low + 1, high) for low, high in itertools.pairwise(edges)]
    columns = ["sum(CASE WHEN days <= 0 THEN balance ELSE 0 END)"]
    columns += [
        f"sum(CASE WHEN days BETWEEN {low} AND {high} THEN balance ELSE 0 END)"
        for low, high in ranges
    ]
    columns.append(f"sum(CASE WHEN days > {edges[-1]} THEN balance ELSE 0 END)")
    buckets = ", ".join(f"{column} AS b{n}" for n, column in enumerate(columns))
    rows = await db.fetch_all(
        f"WITH {aged} SELECT currency, count(*) AS n, sum(balance) AS open_minor,"
        " sum(days > 0) AS overdue_n, sum(CASE WHEN days > 0 THEN balance ELSE 0 END)"
        f" AS overdue_minor, {buckets} FROM aged GROUP BY currency ORDER BY currency",
        params,
    )
    return [
        AgingTotals(
            currency=row["currency"],
            invoices=row["n"],
            open_minor=row["open_minor"],
            overdue_invoices=row["overdue_n"],
            overdue_minor=row["overdue_minor"],
            buckets=tuple(row[f"b{n}"] for n in range(len(columns))),
        )
        for row in rows
    ]


async def largest_overdue(
    db: Queries, todays: dict[str, dt.date], *, per_currency: int, manager_id: int | None = None
) -> list[AgedInvoice]:
    """The largest overdue invoices of each currency (up to `per_currency` each)."""
    aged, params = _aged(todays, manager_id)
    rows = await db.fetch_all(
        f"WITH {aged}, ranked AS (SELECT *, row_number() OVER (PARTITION BY currency"
        " ORDER BY balance DESC, days DESC, id) AS place FROM aged WHERE days > 0)"
        " SELECT * FROM ranked WHERE place <= :per ORDER BY currency, place",
        {**params, "per": per_currency},
    )
    return [_aged_invoice(row) for row in rows]


async def overdue_at_least(
    db: Queries,
    todays: dict[str, dt.date],
    *,
    days: int,
    limit: int,
    manager_id: int | None = None,
) -> tuple[int, list[AgedInvoice]]:
    """Invoices overdue `days` days or more: how many, and the `limit` most overdue."""
    aged, params = _aged(todays, manager_id)
    params = {**params, "days": days, "limit": limit}
    total = await db.fetch_value(
        f"WITH {aged} SELECT count(*) FROM aged WHERE days >= :days", params
    )
    rows = await db.fetch_all(
        f"WITH {aged} SELECT * FROM aged WHERE days >= :days ORDER BY days DESC, id LIMIT :limit",
        params,
    )
    return int(total or 0), [_aged_invoice(row) for row in rows]


async def has_invoices(db: Queries) -> bool:
    """Whether the team has ever recorded an invoice."""
    return bool(await db.fetch_value("SELECT EXISTS (SELECT 1 FROM invoices)"))


async def payments_received(
    db: Queries, first: dt.date, last: dt.date, *, manager_id: int | None = None
) -> list[MoneyMoved]:
    """Payments dated `first`..`last` (inclusive), per currency."""
    only, extra = only_manager(manager_id, "c.owner_id")
    rows = await db.fetch_all(
        "SELECT i.currency, count(*) AS n, sum(p.amount_minor) AS amount FROM payments p"
        + INVOICE_OWNER.format(ref="p.invoice_id")
        + f" WHERE p.paid_on BETWEEN :first AND :last{only} GROUP BY i.currency"
        " ORDER BY i.currency",
        {"first": first.isoformat(), "last": last.isoformat(), **extra},
    )
    return [MoneyMoved(row["currency"], row["n"], row["amount"]) for row in rows]


async def invoices_issued(
    db: Queries, first: dt.date, last: dt.date, *, manager_id: int | None = None
) -> list[MoneyMoved]:
    """Invoices issued `first`..`last` (inclusive, not cancelled), per currency."""
    only, extra = only_manager(manager_id, "c.owner_id")
    rows = await db.fetch_all(
        "SELECT i.currency, count(*) AS n, sum(i.amount_minor) AS amount"
        " FROM invoices i JOIN clients c ON c.id = i.client_id"
        f" WHERE i.issued_on BETWEEN :first AND :last AND i.state <> 'cancelled'{only}"
        " GROUP BY i.currency ORDER BY i.currency",
        {"first": first.isoformat(), "last": last.isoformat(), **extra},
    )
    return [MoneyMoved(row["currency"], row["n"], row["amount"]) for row in rows]


async def promises_settled(
    db: Queries, start: dt.datetime, end: dt.datetime, *, manager_id: int | None = None
) -> tuple[dict[str, int], list[PromiseSettled]]:
    """Promises kept and broken in the period: counts by state, and the broken ones."""
    only, extra = only_manager(manager_id, "c.owner_id")
    params = {"start": to_db_time(start), "end": to_db_time(end), **extra}
    where = (
        " WHERE p.state IN ('kept', 'broken') AND p.settled_at >= :start"
        f" AND p.settled_at < :end{only}"
    )
    joins = INVOICE_OWNER.format(ref="p.invoice_id")
    counts = await db.fetch_all(
        f"SELECT p.state, count(*) AS n FROM promises p{joins}{where} GROUP BY p.state", params
    )
    broken = await db.fetch_all(
        "SELECT p.state, i.number, c.name AS client_name, c.owner_id FROM promises p"
        f"{joins}{where} AND p.state = 'broken' ORDER BY p.settled_at, p.id",
        params,
    )
    return {row["state"]: row["n"] for row in counts}, [
        PromiseSettled(row["state"], row["number"], row["client_name"], row["owner_id"])
        for row in broken
    ]


async def overdue_invoices_per_owner(
    db: Queries, todays: dict[str, dt.date], *, manager_id: int | None = None
) -> dict[int, int]:
    """Per owner, how many open invoices are overdue on the owner's date (a count: amounts
    in different currencies are never added up)."""
    aged, params = _aged(todays, manager_id)
    rows = await db.fetch_all(
        f"WITH {aged} SELECT owner_id, count(*) AS n FROM aged WHERE days > 0 GROUP BY owner_id",
        params,
    )
    return {row["owner_id"]: row["n"] for row in rows}


@dataclass(frozen=True, slots=True)
class WaitingContact:
    """A contact still waiting for its next step (one row per contact, not per client)."""

    contact_id: int
    client_id: int
    client_name: str
    manager_id: int
    kind: str
    happened_at: dt.datetime
    logged_at: dt.datetime


async def contacts_waiting(
    db: Queries, *, limit: int, manager_id: int | None = None
) -> tuple[dict[int, int], list[WaitingContact]]:
    """Contacts without a next step now: how many per manager, and the `limit` that have
    waited longest (the partial index `contacts_pending` holds only these)."""
    only, extra = only_manager(manager_id, "t.manager_id")
    counts = await db.fetch_all(
        "SELECT t.manager_id, count(*) AS n FROM contacts t"
        f" WHERE t.state = 'needs_next_step'{only} GROUP BY t.manager_id",
        extra,
    )
    rows = await db.fetch_all(
        "SELECT t.id, t.client_id, t.manager_id, t.kind, t.happened_at, t.logged_at,"
        " c.name AS client_name FROM contacts t JOIN clients c ON c.id = t.client_id"
        f" WHERE t.state = 'needs_next_step'{only} ORDER BY t.logged_at, t.id LIMIT :limit",
        {**extra, "limit": limit},
    )
    return {row["manager_id"]: row["n"] for row in counts}, [
        WaitingContact(
            contact_id=row["id"],
            client_id=row["client_id"],
            client_name=row["client_name"],
            manager_id=row["manager_id"],
            kind=row["kind"],
            happened_at=from_db_time(row["happened_at"]),
            logged_at=from_db_time(row["logged_at"]),
        )
        for row in rows
    ]


async def steps_overdue_before(
    db: Queries, before: dt.datetime, *, limit: int, manager_id: int | None = None
) -> tuple[int, list[PlanItem]]:
    """Open steps due before `before` (one row per step): how many, and the `limit` oldest.
    Read per person through `steps_manager_due`."""
    only, extra = only_manager(manager_id, "u.telegram_id")
    source = (
        " FROM users u CROSS JOIN steps s ON s.manager_id = u.telegram_id AND s.state = 'open'"
        f" AND s.due_at < :before WHERE 1 = 1{only}"
    )
    params = {"before": to_db_time(before), **extra}
    total = await db.fetch_value(f"SELECT count(*){source}", params)
    rows = await db.fetch_all(
        "SELECT s.id, s.client_id, s.manager_id, s.kind, s.due_at, s.agenda,"
        " cl.name AS client_name"
        f"{source.replace(' WHERE', ' JOIN clients cl ON cl.id = s.client_id WHERE')}"
        " ORDER BY s.due_at, s.id LIMIT :limit",
        {**params, "limit": limit},
    )
    return int(total or 0), [
        PlanItem(
            step_id=row["id"],
            client_id=row["client_id"],
            client_name=row["client_name"],
            manager_id=row["manager_id"],
            kind=row["kind"],
            due_at=from_db_time(row["due_at"]),
            agenda=row["agenda"],
        )
        for row in rows
    ]
