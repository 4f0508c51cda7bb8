"""Plans: months in time zones, working-day pace, the one-line form, currencies kept apart,
history, and who may do what."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.clock import FrozenClock
from bot.devtools.invoice_samples import sample_user
from bot.services import clients, contacts, plans
from bot.services.errors import DomainError, NotAllowed
from bot.services.months import Month, Pace, month_so_far, parse_month, working_pace
from bot.services.plans import Metric, Status, Target, TargetProgress
from bot.services.receivables import invoices
from storage import users
from storage.db import Database
from storage.users import Role
from tests.factories import make_user

UTC = dt.UTC


# --- Months in time zones ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "start", "end"),
    [
        ("UTC", "2026-11-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00"),
        ("Pacific/Kiritimati", "2026-10-31T10:00:00+00:00", "2026-11-30T10:00:00+00:00"),
        ("America/New_York", "2026-11-01T04:00:00+00:00", "2026-12-01T05:00:00+00:00"),
        ("Europe/London", "2026-11-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00"),
        ("Asia/Kolkata", "2026-10-31T18:30:00+00:00", "2026-11-30T18:30:00+00:00"),
    ],
)
def test_a_month_runs_from_local_midnight_to_local_midnight(
    zone: str, start: str, end: str
) -> None:
    """November 2026 in each zone; New York's includes the DST change (4 h, then 5 h)."""
    first, last = Month(2026, 11).bounds(zone)
    assert (first.isoformat(), last.isoformat()) == (start, end)
    assert Month(2026, 11).first_utc_bound() <= first and last <= Month(2026, 11).last_utc_bound()


def test_the_same_moment_is_in_different_months_in_different_zones() -> None:
    """30 Nov 23:30 UTC is still November in London, already December in Tokyo and Auckland,
    and a DST-spring month (March in London) is one hour shorter."""
    moment = dt.datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert Month.containing(moment, "Europe/London") == Month(2026, 11)
    assert Month.containing(moment, "Asia/Tokyo") == Month(2026, 12)
    assert Month.containing(moment, "America/Los_Angeles") == Month(2026, 11)
    start, end = Month(2027, 3).bounds("Europe/London")
    assert end - start == dt.timedelta(days=31, hours=-1)
    assert Month(2026, 12).shift(1) == Month(2027, 1)
    assert Month(2027, 1).shift(-1) == Month(2026, 12)


def test_months_typed() -> None:
    """ISO, MM/YYYY, names (next occurrence without a year), relative words; others refused."""
    today = dt.date(2026, 11, 26)
    assert parse_month("2027-01", today=today) == Month(2027, 1)
    assert parse_month("01/2027", today=today) == Month(2027, 1)
    assert parse_month("January", today=today) == Month(2027, 1)
    assert parse_month("nov", today=today) == Month(2026, 11)
    assert parse_month("März 2027", today=today, locale="de") == Month(2027, 3)
    assert parse_month("next month", today=today) == Month(2026, 12)
    with pytest.raises(DomainError, match="as a month"):
        parse_month("soon", today=today)


# --- Working-day pace --------------------------------------------------------------------


def test_pace_counts_the_persons_working_days_before_today() -> None:
    """November 2026 has 21 weekdays; on Thu 26 Nov, 18 are over. A Mon–Wed worker has 13
    of which 12 are over; the 1st of the month nothing is gone; after it, everything."""
    month = Month(2026, 11)
    weekdays = (1, 2, 3, 4, 5)
    assert working_pace(month, today=dt.date(2026, 11, 26), days=weekdays) == Pace(21, 18)
    assert working_pace(month, today=dt.date(2026, 11, 26), days=(1, 2, 3)) == Pace(13, 12)
    assert working_pace(month, today=dt.date(2026, 11, 2), days=weekdays) == Pace(21, 0)
    assert working_pace(month, today=dt.date(2026, 12, 3), days=weekdays).over
    assert (
        month_so_far(month, dt.datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "Asia/Tokyo").days == 30
    )


def test_a_targets_status_against_its_pace() -> None:
    """With 18 of 21 working days gone, 40 contacts are due at 34.3: 12 is behind (and far
    behind), 33 on pace (within 10 %), 38 ahead, 40 done; nothing gone means on pace."""
    pace = Pace(21, 18)

    def status(actual: int, target: int = 40, pace: Pace = pace) -> Status:
        return TargetProgress(Metric.CONTACTS, "", target, actual, pace).status

    assert status(12) is Status.BEHIND
    assert TargetProgress(Metric.CONTACTS, "", 40, 12, pace).far_behind
    assert status(31) is Status.ON_PACE  # 31 ≥ 90 % of 34.3
    assert not TargetProgress(Metric.CONTACTS, "", 40, 28, pace).far_behind  # 28 ≥ 80 %
    assert TargetProgress(Metric.CONTACTS, "", 40, 27, pace).far_behind  # 27 < 27.43
    assert status(38) is Status.AHEAD
    assert status(40) is Status.DONE
    assert status(0, pace=Pace(21, 0)) is Status.ON_PACE
    assert TargetProgress(Metric.CONTACTS, "", 40, 12, pace).done_percent == 30


# --- The one-line form -------------------------------------------------------------------

TODAY = dt.date(2026, 11, 26)


def test_the_one_line_form_reads_any_subset_and_keeps_currencies_apart() -> None:
    """The issue's line; several currencies for collected, each its own target in its minor
    units; `for 2027-01`; `team`; a name with spaces; 0 removes a target."""
    full = plans.parse_plan_text(
        "@mara contacts 40; meetings 10; new clients 5; won 3; collected 20000 EUR", today=TODAY
    )
    assert full.who == "@mara" and not full.team and full.month is None
    assert full.targets == (
        Target(Metric.CONTACTS, 40),
        Target(Metric.MEETINGS, 10),
        Target(Metric.NEW_CLIENTS, 5),
        Target(Metric.WON, 3),
        Target(Metric.COLLECTED, 2_000_000, "EUR"),
    )
    money = plans.parse_plan_text(
        "Mara Lind collected 20,000 EUR + 5000 USD + 150000 JPY; won 0 for 2027-01", today=TODAY
    )
    assert money.who == "Mara Lind" and money.month == Month(2027, 1)
    assert money.targets == (
        Target(Metric.COLLECTED, 2_000_000, "EUR"),
        Target(Metric.COLLECTED, 500_000, "USD"),
        Target(Metric.COLLECTED, 150_000, "JPY"),
    )
    assert money.cleared == ((Metric.WON, ""),)
    team = plans.parse_plan_text("team contacts 30 for January", today=TODAY)
    assert (
        team.team
        and team.month == Month(2027, 1)
        and team.targets == (Target(Metric.CONTACTS, 30),)
    )
    assert not plans.parse_plan_text("@mara", today=TODAY).changes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("@mara contacts forty", "couldn't read the number for contacts"),
        ("@mara contacts 2.5", "whole number"),
        ("@mara collected 100 EUR + 50 EUR", "EUR is given twice"),
        ("@mara contacts 4; contacts 5", "given twice"),
        ("@mara collected 100 XYZ", "not a currency I know"),
        ("@mara contacts 40 for someday", "as a month"),
        ("@mara meetings", "How many meetings?"),
    ],
)
def test_the_one_line_form_refuses_with_a_reason(text: str, message: str) -> None:
    """Each mistake gets its own sentence."""
    with pytest.raises(DomainError, match=message):
        plans.parse_plan_text(text, today=TODAY)


# --- Setting, history, progress ------------------------------------------------------------


async def _people(db: Database, clock: FrozenClock) -> tuple[users.User, users.User]:
    head = await make_user(db, clock, 1, Role.HEAD, name="Hanna")
    mara = await make_user(db, clock, 2, name="Mara Lind", timezone="Asia/Tokyo")
    return head, mara


async def test_collected_counts_each_currency_apart_in_the_managers_month(
    db: Database, clock: FrozenClock
) -> None:
    """EUR and USD payments count against their own targets, never added; a payment dated
    in another month doesn't count; contacts count in the manager's zone (Tokyo)."""
    head, mara = await _people(db, clock)
    await plans.set_plan(
        db,
        clock,
        actor=head,
        manager_ids=[mara.telegram_id],
        month=Month(2026, 11),
        targets=[
            Target(Metric.COLLECTED, 100_000, "EUR"),
            Target(Metric.COLLECTED, 100_000, "USD"),
            Target(Metric.CONTACTS, 10),
        ],
    )
    client = await clients.create_client(db, clock, actor=mara, name="Acme")
    for number, currency in (("A-1", "EUR"), ("A-2", "USD")):
        invoice = await invoices.create_invoice(
            db,
            clock,
            actor=mara,
            client_id=client.id,
            number=number,
            amount_minor=50_000,
            currency=currency,
            issued_on=dt.date(2026, 10, 1),
            due_on=dt.date(2026, 12, 20),
        )
        for paid_on in (dt.date(2026, 10, 30), dt.date(2026, 11, 20)):
            await invoices.record_payment(
                db, clock, actor=mara, invoice_id=invoice.id, amount_minor=10_000, paid_on=paid_on
            )
    # 30 Nov 16:00 UTC is 1 Dec 01:00 in Tokyo: December for Mara, so it doesn't count.
    clock.set(dt.datetime(2026, 11, 30, 16, 0, tzinfo=UTC))
    await contacts.log_contact(
        db, clock, actor=mara, client_id=client.id, kind="call", summary="x"
    )
    clock.set(dt.datetime(2026, 11, 30, 14, 0, tzinfo=UTC))  # 23:00 in Tokyo: November
    await contacts.log_contact(
        db, clock, actor=mara, client_id=client.id, kind="call", summary="y"
    )
    plan = await plans.person_plan(
        db, clock, actor=head, manager_id=mara.telegram_id, month=Month(2026, 11)
    )
    by_key = {(t.metric, t.currency): t.actual for t in plan.targets}
    assert by_key == {
        (Metric.CONTACTS, ""): 1,
        (Metric.COLLECTED, "EUR"): 10_000,
        (Metric.COLLECTED, "USD"): 10_000,
    }
    assert plan.actuals.collected == {"EUR": 10_000, "USD": 10_000}


async def test_a_change_mid_month_keeps_the_history_and_only_leads_set_plans(
    db: Database, clock: FrozenClock
) -> None:
    """Two versions, each with who and when; the other targets stay; the same again stores
    nothing; a manager is refused (audited); a past month is refused."""
    head, mara = await _people(db, clock)
    month = Month(2026, 11)
    await plans.set_plan(
        db, clock, actor=head, manager_ids=[2], month=month,
        targets=[Target(Metric.CONTACTS, 40), Target(Metric.WON, 3)],
    )  # fmt: skip
    clock.advance(dt.timedelta(days=2))
    changes = await plans.set_plan(
        db, clock, actor=head, manager_ids=[2], month=month, targets=[Target(Metric.CONTACTS, 30)]
    )
    assert changes[0].after == (Target(Metric.CONTACTS, 30), Target(Metric.WON, 3))
    again = await plans.set_plan(
        db, clock, actor=head, manager_ids=[2], month=month, targets=[Target(Metric.CONTACTS, 30)]
    )
    assert not again[0].changed
    plan = await plans.person_plan(db, clock, actor=mara, manager_id=2, month=month)
    assert [len(v.targets) for v in plan.history] == [2, 2]
    assert [v.set_at.day for v in plan.history] == [26, 28]
    assert plan.setters == {1: "Hanna"}
    with pytest.raises(NotAllowed, match="Only heads of sales and admins set plans"):
        await plans.set_plan(
            db, clock, actor=mara, manager_ids=[2], month=month, targets=[Target(Metric.WON, 9)]
        )
    denied = await db.fetch_value(
        "SELECT details FROM audit_log WHERE action = 'access.denied' AND actor_id = 2"
    )
    assert denied == '{"attempted": "plan.set"}'
    with pytest.raises(DomainError, match="is over"):
        await plans.set_plan(
            db, clock, actor=head, manager_ids=[2], month=Month(2026, 10),
            targets=[Target(Metric.WON, 1)],
        )  # fmt: skip
    assert await db.fetch_value("SELECT count(*) FROM plans") == 2


async def test_find_manager_by_username_name_or_its_start(
    db: Database, clock: FrozenClock
) -> None:
    """@username, a full name, a first name; ambiguity and a head are refused by name."""
    await _people(db, clock)
    await make_user(db, clock, 3, name="Marek Nowak")
    async with db.transaction() as tx:
        await users.update_user(tx, 2, now=clock.now(), username="mara")
    assert (await plans.find_manager(db, "@MARA")).telegram_id == 2
    assert (await plans.find_manager(db, "mara lind")).telegram_id == 2
    assert (await plans.find_manager(db, "Nowak")).telegram_id == 3
    with pytest.raises(DomainError, match="Several managers match"):
        await plans.find_manager(db, "Mar")
    with pytest.raises(DomainError, match="not a manager"):
        await plans.find_manager(db, "Hanna")
    with pytest.raises(DomainError, match="no manager called"):
        await plans.find_manager(db, "Zed")


def test_the_first_working_day_of_the_week() -> None:
    """Monday for a Mon–Fri week, Tuesday for a Tue–Sat one; a weekend day never."""
    mon_fri = sample_user()
    monday = dt.datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert plans.first_working_day_of_week(mon_fri, monday)
    assert not plans.first_working_day_of_week(mon_fri, monday + dt.timedelta(days=1))
    tue_sat = dataclasses.replace(mon_fri, working_days=(2, 3, 4, 5, 6))
    assert plans.first_working_day_of_week(tue_sat, monday + dt.timedelta(days=1))
    assert not plans.first_working_day_of_week(tue_sat, monday)
