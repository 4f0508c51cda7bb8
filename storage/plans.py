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


async def versions_for_month(
    db: Queries, month: str, manager_ids: Sequence[int]
) -> dict[int, list[PlanVersion]]:
    """Every version of these managers' plans for a month, oldest first, by manager."""
    found: dict[int, list[PlanVersion]] = {manager_id: [] for manager_id in manager_ids}
    if not manager_ids:
        return found
    marks = ", ".join("?" for _ in manager_ids)
    rows = await db.fetch_all(
        "SELECT id, manager_id, month, set_by, set_at FROM plans"
        f" WHERE month = ? AND manager_id IN ({marks}) ORDER BY id",
        (month, *manager_ids),
    )
    for version in await _with_targets(db, rows):
        found[version.manager_id].append(version)
    return found


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


async def actuals(db: Queries, periods: Sequence[PeriodOf]) -> dict[int, Actuals]:
    """Per person, in their own period: contacts logged (all kinds), meetings (visits too),
    deals won (contacts closed as won), clients created (owned now) and payments recorded on
    their clients' invoices, per currency.

    People whose periods are the same (the same zone) are counted together: one range of
    `contacts_happened` and of `clients_created` per distinct period, not one per person."""
    found = {period.manager_id: Actuals() for period in periods}
    groups: dict[tuple[dt.datetime, dt.datetime, dt.date, dt.date], list[int]] = {}
    for period in periods:
        key = (period.start, period.end, period.first, period.last)
        groups.setdefault(key, []).append(period.manager_id)
    kinds = ", ".join(f"'{kind}'" for kind in MEETING_KINDS)
    for (start, end, first, last), ids in groups.items():
        marks = ", ".join("?" for _ in ids)
        span = (to_db_time(start), to_db_time(end))
        for row in await db.fetch_all(
            f"SELECT t.manager_id, count(*) AS n, sum(t.kind IN ({kinds})) AS meetings,"
            " sum(t.outcome IS 'won') AS won FROM contacts t INDEXED BY contacts_happened"
            f" WHERE t.happened_at >= ? AND t.happened_at < ? AND t.manager_id IN ({marks})"
            " GROUP BY t.manager_id",
            (*span, *ids),
        ):
            entry = found[row["manager_id"]]
            entry.contacts, entry.meetings, entry.won = row["n"], row["meetings"], row["won"]
        for row in await db.fetch_all(
            "SELECT c.owner_id, count(*) AS n FROM clients c INDEXED BY clients_created"
            f" WHERE c.created_at >= ? AND c.created_at < ? AND c.owner_id IN ({marks})"
            " GROUP BY c.owner_id",
            (*span, *ids),
        ):
            found[row["owner_id"]].new_clients = row["n"]
        for row in await db.fetch_all(
            "SELECT c.owner_id, i.currency, sum(p.amount_minor) AS amount FROM payments p"
            " JOIN invoices i ON i.id = p.invoice_id JOIN clients c ON c.id = i.client_id"
            f" WHERE p.paid_on BETWEEN ? AND ? AND c.owner_id IN ({marks})"
            " GROUP BY c.owner_id, i.currency ORDER BY i.currency",
            (first.isoformat(), last.isoformat(), *ids),
        ):
            found[row["owner_id"]].collected[row["currency"]] = row["amount"]
    return found
