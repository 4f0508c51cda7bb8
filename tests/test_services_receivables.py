"""Receivables read side: aging buckets at their edges, per manager, client and currency;
the /invoices filters; the client card and agenda summaries."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.services import clients
from bot.services.receivables import aging as receivables
from bot.services.receivables import invoices
from bot.services.receivables.aging import Bucket, ListFilter
from storage.db import Database
from storage.invoices import TrustLevel
from storage.users import Role, User
from tests.factories import make_user

TODAY = dt.date(2026, 11, 26)


async def client_of(db: Database, clock, owner: User, name: str) -> int:
    return (await clients.create_client(db, clock, actor=owner, name=name)).id


async def invoice(
    db: Database,
    clock,
    owner: User,
    client_id: int,
    number: str,
    *,
    days_overdue: int,
    amount: int = 10000,
    currency: str = "EUR",
) -> int:
    due = TODAY - dt.timedelta(days=days_overdue)
    created = await invoices.create_invoice(
        db,
        clock,
        actor=owner,
        client_id=client_id,
        number=number,
        amount_minor=amount,
        currency=currency,
        due_on=due,
        issued_on=min(due, TODAY),
    )
    return created.id


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-10, Bucket.CURRENT),
        (0, Bucket.CURRENT),
        (1, Bucket.D1_30),
        (30, Bucket.D1_30),
        (31, Bucket.D31_60),
        (60, Bucket.D31_60),
        (61, Bucket.D61_90),
        (90, Bucket.D61_90),
        (91, Bucket.D90_PLUS),
        (1000, Bucket.D90_PLUS),
    ],
)
def test_bucket_edges(days: int, bucket: Bucket) -> None:
    assert receivables.bucket_for(days) is bucket


async def test_aging_at_the_edges_per_manager_client_and_currency(db, clock) -> None:
    mia = await make_user(db, clock, 10, name="Mia")
    bo = await make_user(db, clock, 11, name="Bo")
    acme = await client_of(db, clock, mia, "Acme")
    zeta = await client_of(db, clock, bo, "Zeta")
    for days in (0, 1, 30, 31, 60, 61, 90, 91):
        await invoice(db, clock, mia, acme, f"A{days}", days_overdue=days, amount=100 + days)
    await invoice(db, clock, mia, acme, "J1", days_overdue=45, amount=5000, currency="JPY")
    await invoice(db, clock, bo, zeta, "Z1", days_overdue=-5, amount=777)
    paid = await invoice(db, clock, bo, zeta, "Z2", days_overdue=100, amount=999)
    await invoices.record_payment(db, clock, actor=bo, invoice_id=paid, amount_minor=999)
    partly = await invoice(db, clock, bo, zeta, "Z3", days_overdue=5, amount=1000)
    await invoices.record_payment(db, clock, actor=bo, invoice_id=partly, amount_minor=400)

    report = await receivables.aging_buckets(db, now=clock.now())
    eur = report.totals["EUR"]
    assert eur.buckets == {
        Bucket.CURRENT: 100 + 777,
        Bucket.D1_30: 101 + 130 + 600,
        Bucket.D31_60: 131 + 160,
        Bucket.D61_90: 161 + 190,
        Bucket.D90_PLUS: 191,
    }
    assert eur.total == sum(eur.buckets.values())
    assert eur.overdue == eur.total - eur.buckets[Bucket.CURRENT]
    # Never summed across currencies: the yen are a total of their own.
    assert report.totals["JPY"].buckets[Bucket.D31_60] == 5000
    assert report.totals["JPY"].total == 5000
    assert list(report.totals) == ["EUR", "JPY"]

    by_manager = {row.name: row for row in report.by_manager}
    assert set(by_manager) == {"Mia", "Bo"}
    assert by_manager["Bo"].by_currency["EUR"].buckets[Bucket.D1_30] == 600
    assert "JPY" not in by_manager["Bo"].by_currency
    assert report.by_manager[0].name == "Mia"  # the larger overdue amount first
    by_client = {row.name: row for row in report.by_client}
    assert by_client["Zeta"].manager_name == "Bo"
    assert by_client["Zeta"].by_currency["EUR"].total == 777 + 600

    mine = await receivables.aging_buckets(db, now=clock.now(), manager_id=bo.telegram_id)
    assert [row.name for row in mine.by_manager] == ["Bo"]
    assert mine.totals["EUR"].total == 777 + 600


async def test_aging_uses_the_owners_date(db, clock) -> None:
    """Just before midnight UTC it is already tomorrow in Tokyo: due today is overdue there."""
    clock.set(dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.UTC))
    utc = await make_user(db, clock, 10, name="Utc")
    tokyo = await make_user(db, clock, 11, name="Tokyo", timezone="Asia/Tokyo")
    for owner in (utc, tokyo):
        client_id = await client_of(db, clock, owner, f"C {owner.name}")
        await invoices.create_invoice(
            db,
            clock,
            actor=owner,
            client_id=client_id,
            number="1",
            amount_minor=100,
            currency="EUR",
            due_on=TODAY,
            issued_on=TODAY,
        )
    report = await receivables.aging_buckets(db, now=clock.now())
    rows = {row.name: row.by_currency["EUR"] for row in report.by_manager}
    assert rows["Utc"].buckets[Bucket.CURRENT] == 100
    assert rows["Tokyo"].buckets[Bucket.D1_30] == 100


async def test_list_filters_and_totals(db, clock) -> None:
    mia = await make_user(db, clock, 10, name="Mia")
    bo = await make_user(db, clock, 11, name="Bo")
    head = await make_user(db, clock, 20, Role.HEAD)
    acme = await client_of(db, clock, mia, "Acme")
    zeta = await client_of(db, clock, bo, "Zeta")
    await invoice(db, clock, mia, acme, "OLD", days_overdue=20, amount=1000)
    await invoice(db, clock, mia, acme, "NEW", days_overdue=2, amount=2000, currency="USD")
    await invoice(db, clock, mia, acme, "SOON", days_overdue=-3, amount=300)
    await invoice(db, clock, mia, acme, "LATER", days_overdue=-30, amount=400)
    paid = await invoice(db, clock, bo, zeta, "PAID", days_overdue=-1, amount=500)
    await invoices.record_payment(db, clock, actor=bo, invoice_id=paid, amount_minor=500)
    await invoice(db, clock, bo, zeta, "ZZ", days_overdue=1, amount=50)
    now = clock.now()

    found = await receivables.list_invoices(db, viewer=mia, now=now, view=ListFilter.OPEN)
    assert [i.invoice.number for i in found.items] == ["OLD", "NEW", "SOON", "LATER"]
    assert found.totals == {"EUR": 1700, "USD": 2000}
    assert [i.days_overdue for i in found.items][:2] == [20, 2]
    overdue = await receivables.list_invoices(db, viewer=mia, now=now, view=ListFilter.OVERDUE)
    assert [i.invoice.number for i in overdue.items] == ["OLD", "NEW"]
    week = await receivables.list_invoices(db, viewer=mia, now=now, view=ListFilter.WEEK)
    assert [i.invoice.number for i in week.items] == ["SOON"]
    assert (
        await receivables.list_invoices(db, viewer=mia, now=now, view=ListFilter.PAID)
    ).items == []

    everyone = await receivables.list_invoices(db, viewer=head, now=now, view=ListFilter.OVERDUE)
    assert everyone.by_manager
    assert [(i.entry.owner_name, i.invoice.number) for i in everyone.items] == [
        ("Bo", "ZZ"),
        ("Mia", "OLD"),
        ("Mia", "NEW"),
    ]
    assert everyone.totals == {"EUR": 1050, "USD": 2000}
    paid_list = await receivables.list_invoices(db, viewer=head, now=now, view=ListFilter.PAID)
    assert [i.invoice.number for i in paid_list.items] == ["PAID"]
    assert paid_list.totals == {"EUR": 500}


async def test_client_summary_and_agenda_block(db, clock) -> None:
    mia = await make_user(db, clock, 10, name="Mia")
    acme = await client_of(db, clock, mia, "Acme")
    await invoice(db, clock, mia, acme, "A", days_overdue=3, amount=1000)
    oldest = await invoice(db, clock, mia, acme, "B", days_overdue=40, amount=2500)
    await invoice(db, clock, mia, acme, "C", days_overdue=-10, amount=100, currency="JPY")
    await invoices.promise_to_pay(db, clock, actor=mia, invoice_id=oldest, promised_on=TODAY)
    await invoices.set_trust_level(db, clock, actor=mia, client_id=acme, level="poor")

    card = await clients.get_card(db, clock, actor=mia, client_id=acme)
    summary = card.receivables
    assert summary is not None
    assert summary.open_balance == ["€35.00", "¥100"]
    assert summary.open_count == 3
    assert summary.oldest_overdue is not None
    assert summary.oldest_overdue.invoice.number == "B"
    assert summary.oldest_overdue_balance == "€25.00"
    assert (summary.trust_level, summary.broken_promises) == (TrustLevel.POOR, 0)

    block = await receivables.agenda_block(db, user=mia, now=clock.now())
    assert block is not None
    assert (block.overdue_count, block.overdue_totals) == (2, ["€35.00"])
    assert [p.entry.invoice.number for p in block.promises_today] == ["B"]
    other = await make_user(db, clock, 11)
    assert await receivables.agenda_block(db, user=other, now=clock.now()) is None


async def test_list_pages_with_totals_over_the_whole_list(db, clock) -> None:
    mia = await make_user(db, clock, 10, name="Mia")
    acme = await client_of(db, clock, mia, "Acme")
    for n in range(12):
        await invoice(db, clock, mia, acme, f"N{n:02d}", days_overdue=20 - n, amount=100)
    now = clock.now()
    last = await receivables.list_invoices(
        db, viewer=mia, now=now, view=ListFilter.OPEN, page=2, page_size=5
    )
    assert (last.count, last.pages, last.page) == (12, 3, 2)
    assert [i.invoice.number for i in last.items] == ["N10", "N11"]
    assert last.totals == {"EUR": 1200}
    beyond = await receivables.list_invoices(
        db, viewer=mia, now=now, view=ListFilter.OPEN, page=9, page_size=5
    )
    assert beyond.page == 2 and [i.invoice.number for i in beyond.items] == ["N10", "N11"]
    first = await receivables.list_invoices(
        db, viewer=mia, now=now, view=ListFilter.OVERDUE, page=0, page_size=5
    )
    assert first.count == 12 and first.items[0].days_overdue == 20
