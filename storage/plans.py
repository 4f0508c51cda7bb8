"""Monthly plans (each change a new version, so the history stays) and the figures counted
against them: contacts, meetings, clients created, deals won and payments per currency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from storage.db import Queries, Row, Transaction, from_db_time, to_db_time

MEETING_KINDS = ("meeting", "visit")


@dataclass(frozen=True, slots=True)
class TargetRow:
    """One target of a plan: a metric, its currency ('' unless collected), the number
    (minor units for collected)."""

    metric: str
    currency: str
    target: int


@dataclass(frozen=True, slots=True)
class PlanVersion:
    """A plan as set once: whose, which month ('YYYY-MM'), by whom, when, its targets."""

    id: int
    manager_id: int
    month: str
    set_by: int
    set_at: dt.datetime
    targets: tuple[TargetRow, ...]


async def insert_plan(
    tx: Transaction,
    *,
    manager_id: int,
    month: str,
    set_by: int,
    now: dt.datetime,
    targets: Iterable[TargetRow],
) -> int:
    """Store a new version of a manager's plan for a month; returns its id."""
    cursor = await tx.execute(
        "INSERT INTO plans (manager_id, month, set_by, set_at) VALUES (?, ?, ?, ?)",
        (manager_id, month, set_by, to_db_time(now)),
    )
    plan_id = int(cursor.lastrowid or 0)
    await tx.executemany(
        "INSERT INTO plan_targets (plan_id, metric, currency, target) VALUES (?, ?, ?, ?)",
        [(plan_id, t.metric, t.currency, t.target) for t in targets],
    )
    return plan_id


async def _with_targets(db: Queries, rows: Sequence[Row]) -> list[PlanVersion]:
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    marks = ", ".join("?" for _ in ids)
    found: dict[int, list[TargetRow]] = {plan_id: [] for plan_id in ids}
    for target in await db.fetch_all(
        f"SELECT plan_id, metric, currency, target FROM plan_targets WHERE plan_id IN ({marks})"
        " ORDER BY plan_id, metric, currency",
        ids,
    ):
        found[target["plan_id"]].append(
            TargetRow(target["metric"], target["currency"], target["target"])
        )
    return [
        PlanVersion(
            id=row["id"],
            manager_id=row["manager_id"],
            month=row["month"],
            set_by=row["set_by"],
            set_at=from_db_time(row["set_at"]),
            targets=tuple(found[row["id"]]),
        )
        for row in rows
    ]


async def versions(db: Queries, manager_id: int, month: str) -> list[PlanVersion]:
    """Every version of a manager's plan for a month, oldest first (the last one counts)."""
    rows = await db.fetch_all(
        "SELECT id, manager_id, month, set_by, set_at FROM plans"
        " WHERE manager_id = ? AND month = ? ORDER BY id",
        (manager_id, month),
    )
    return await _with_targets(db, rows)


async def latest_for_month(db: Queries, month: str) -> dict[int, PlanVersion]:
    """Each manager's current plan (latest version) for a month, by manager id."""
    rows = await db.fetch_all(
        "SELECT p.id, p.manager_id, p.month, p.set_by, p.set_at FROM plans p"
        " WHERE p.month = :month AND p.id = (SELECT max(q.id) FROM plans q"
        " WHERE q.month = :month AND q.manager_id = p.manager_id) ORDER BY p.manager_id",
        {"month": month},
    )
    return {version.manager_id: version for version in await _with_targets(db, rows)}


# --- The figures counted against a plan --------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeriodOf:
    """One person's period: [start, end) in UTC for what happened, first..last local dates
    for what is dated (payments)."""

    manager_id: int
    start: dt.datetime
    end: dt.datetime
    first: dt.date
    last: dt.date


@dataclass(slots=True)
class Actuals:
    """What a person did in their period; money per currency, never summed across them."""

    contacts: int = 0
    meetings: int = 0
    new_clients: int = 0
    won: int = 0
    collected: dict[str, int] = field(default_factory=dict)


def _periods_cte(periods: Sequence[PeriodOf]) -> tuple[str, list[object]]:
    values = ", ".join("(?, ?, ?, ?, ?)" for _ in periods)
    params: list[object] = []
    for period in periods:
        params += [
            period.manager_id,
            to_db_time(period.start),
            to_db_time(period.end),
            period.first.isoformat(),
            period.last.isoformat(),
        ]
    return (
        f"WITH b(manager_id, start_at, end_at, first_day, last_day) AS (VALUES {values})",
        params,
    )


async def actuals(db: Queries, periods: Sequence[PeriodOf]) -> dict[int, Actuals]:
    """Per person, in their own period: contacts logged (all kinds), meetings (visits too),
    deals won (contacts closed as won), clients created (owned now) and payments recorded on
    their clients' invoices, per currency."""
    found = {period.manager_id: Actuals() for period in periods}
    if not periods:
        return found
    cte, params = _periods_cte(periods)
    kinds = ", ".join(f"'{kind}'" for kind in MEETING_KINDS)
    for row in await db.fetch_all(
        f"{cte} SELECT b.manager_id, count(*) AS n, sum(t.kind IN ({kinds})) AS meetings,"
        " sum(t.outcome IS 'won') AS won FROM b CROSS JOIN contacts t"
        " WHERE t.happened_at >= b.start_at AND t.happened_at < b.end_at"
        " AND t.manager_id = b.manager_id GROUP BY b.manager_id",
        params,
    ):
        entry = found[row["manager_id"]]
        entry.contacts, entry.meetings, entry.won = row["n"], row["meetings"], row["won"]
    for row in await db.fetch_all(
        f"{cte} SELECT b.manager_id, count(*) AS n FROM b CROSS JOIN clients c"
        " WHERE c.created_at >= b.start_at AND c.created_at < b.end_at"
        " AND c.owner_id = b.manager_id GROUP BY b.manager_id",
        params,
    ):
        found[row["manager_id"]].new_clients = row["n"]
    for row in await db.fetch_all(
        f"{cte} SELECT b.manager_id, i.currency, sum(p.amount_minor) AS amount"
        " FROM b JOIN clients c ON c.owner_id = b.manager_id"
        " JOIN invoices i ON i.client_id = c.id JOIN payments p ON p.invoice_id = i.id"
        " WHERE p.paid_on BETWEEN b.first_day AND b.last_day"
        " GROUP BY b.manager_id, i.currency ORDER BY i.currency",
        params,
    ):
        found[row["manager_id"]].collected[row["currency"]] = row["amount"]
    return found
