"""The weekly digest's figures, built from a known week and checked one by one.

The main week is W48 2026 (Mon 23 – Sun 29 Nov) in Europe/London, which is UTC in winter, so
the times below read the same in both. Other tests move the team to New York, Tokyo and a
daylight-saving week.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.clock import FrozenClock
from bot.services import clients, contacts, steps
from bot.services.digest import figures as digest
from bot.services.digest import receivables as receivables_digest
from bot.services.digest.figures import (
    Attention,
    ChartRow,
    PersonWeek,
    Week,
    build_own_summary,
    build_team_digest,
    latest_due,
    silent_working_days,
    week_for_request,
)
from bot.services.errors import DomainError, NotAllowed
from bot.services.receivables import aging as receivables
from bot.services.receivables import invoices
from bot.services.receivables.aging import Bucket
from storage import digest_figures
from storage import invoices as invoice_store
from storage.clients import Client
from storage.db import Database
from storage.digest_ledger import DigestKind, DigestPrefs, Recipient
from storage.invoices import PromiseState
from storage.users import Role, User
from tests.factories import make_user

LONDON = "Europe/London"
UTC = dt.UTC


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, month: int = 11) -> dt.datetime:
    """A moment in 2026 (UTC)."""
    return dt.datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


async def new_client(db: Database, clock: FrozenClock, owner: User, name: str, when: dt.datetime):
    """A client created at `when`."""
    clock.set(when)
    return await clients.create_client(db, clock, actor=owner, name=name)


async def log(
    db: Database,
    clock: FrozenClock,
    who: User,
    client: Client,
    kind: str,
    happened: dt.datetime,
    logged: dt.datetime | None = None,
    *,
    resolved: dt.datetime | None = None,
    due: dt.datetime | None = None,
    closure: str | None = None,
    pause: dt.datetime | None = None,
) -> int:
    """Log a contact at `logged` (default: when it happened) and, at `resolved`, give it a
    next step due at `due`, a closure, or a pause; returns the contact id."""
    clock.set(logged or happened)
    contact = await contacts.log_contact(
        db, clock, actor=who, client_id=client.id, kind=kind, summary="Talk", happened_at=happened
    )
    if resolved is not None:
        clock.set(resolved)
        if due is not None:
            await contacts.schedule_next_step(
                db, clock, actor=who, contact_id=contact.id, kind="call", due_at=due
            )
        elif pause is not None:
            await contacts.pause_until(db, clock, actor=who, contact_id=contact.id, until=pause)
        else:
            assert closure is not None
            await contacts.close_contact(
                db, clock, actor=who, contact_id=contact.id, outcome=closure, reason="Because"
            )
    return contact.id


async def known_week(db: Database, clock: FrozenClock) -> dict[str, User]:
    """Three managers and a head, with every kind of event of week 48 (and around it)."""
    clock.set(at(1))
    mia = await make_user(db, clock, 1, name="Mia", timezone=LONDON)
    oscar = await make_user(db, clock, 2, name="Oscar", timezone=LONDON)
    hana = await make_user(db, clock, 3, name="Hana", timezone=LONDON)
    head = await make_user(db, clock, 9, Role.HEAD, name="Hal", timezone=LONDON)
    clock.set(at(20, month=10))
    await clients.create_client(db, clock, actor=hana, name="Idle Ltd")  # never contacted
    a, b, d, f, g = [await new_client(db, clock, mia, name, at(1)) for name in "ABDFG"]
    o1, o3 = [await new_client(db, clock, oscar, name, at(1)) for name in ("O1", "O3")]

    # Before the week: Oscar's step that he snoozes in the week; Mia's step that is overdue
    # more than 7 days by Monday; Mia's contact one minute before the week starts.
    await log(db, clock, oscar, o3, "call", at(19, 10), resolved=at(19, 10, 5), due=at(23, 10))
    await log(
        db,
        clock,
        mia,
        f,
        "call",
        at(22, 23, 59),
        resolved=at(22, 23, 59, 10),
        due=at(22, 23, 59, 40),
    )
    # The week.
    await log(db, clock, mia, a, "call", at(23, 9), resolved=at(23, 9, 5), due=at(24, 9))
    clock.set(at(23, 10))
    o3_step = await step_of(db, o3)
    await steps.snooze_step(db, clock, actor=oscar, step_id=o3_step, code="1h")
    clock.set(at(23, 11))
    await steps.snooze_step(db, clock, actor=oscar, step_id=o3_step, code="1h")
    clock.set(at(23, 12, 30))
    await steps.reschedule_step(
        db, clock, actor=oscar, step_id=o3_step, due_at=at(3, 10, month=12)
    )
    c = await new_client(db, clock, mia, "C", at(24, 9))
    await log(
        db, clock, mia, b, "meeting", at(24, 10), resolved=at(24, 10, 40), due=at(1, 10, month=12)
    )
    await log(db, clock, mia, c, "email", at(25, 9), resolved=at(26, 9), closure="won")
    await log(db, clock, mia, d, "call", at(26, 15), at(26, 17))  # never gets a next step
    o2 = await new_client(db, clock, oscar, "O2", at(27, 8))
    await log(
        db, clock, oscar, o1, "message", at(27, 10), resolved=at(27, 10, 1), closure="not_target"
    )
    await log(
        db,
        clock,
        oscar,
        o2,
        "call",
        at(27, 9),
        at(27, 12),
        resolved=at(27, 12, 2),
        pause=at(2, 10, month=12),
    )
    e = await new_client(db, clock, mia, "E", at(29, 23))
    await log(
        db,
        clock,
        mia,
        e,
        "visit",
        at(29, 23, 59),
        at(29, 23, 59, 30),
        resolved=at(29, 23, 59, 50),
        closure="refused",
    )
    # The next week starts: not in week 48.
    await log(db, clock, mia, g, "call", at(30, 0), resolved=at(30, 0, 1), due=at(30, 9))
    clock.set(at(30, 10))
    return {"mia": mia, "oscar": oscar, "hana": hana, "head": head}


async def step_of(db: Database, client: Client) -> int:
    """The client's open step id."""
    value = await db.fetch_value(
        "SELECT id FROM steps WHERE client_id = ? AND state = 'open'", (client.id,)
    )
    assert value is not None
    return int(value)


async def days_of(db: Database, week: Week) -> list[int]:
    """Contacts per day of the week (the team's zone), all kinds."""
    counts = [0] * 7
    for row in await digest_figures.contacts_by_day(db, week.day_bounds):
        counts[row.day] += row.calls + row.meetings + row.other
    return counts


def figures(person: PersonWeek) -> dict[str, object]:
    """The comparable figures of a row."""
    return {
        "calls": person.calls,
        "meetings": person.meetings,
        "other": person.other,
        "new_clients": person.new_clients,
        "at_logging": person.at_logging,
        "later": person.later,
        "missing": person.missing,
        "disciplined": person.disciplined,
        "discipline": person.discipline,
        "won": person.won,
        "refused": person.refused,
        "not_target": person.not_target,
        "missing_overnight": person.missing_overnight,
        "overdue": person.overdue,
        "overdue_long": person.overdue_long,
        "oldest_client": person.oldest_client,
        "coming": person.coming,
        "idle_clients": person.idle_clients,
        "snoozes": person.snoozes,
        "reschedules": person.reschedules,
        "waking": person.waking,
        "silent_days": person.silent_days,
    }


# --- Weeks ---------------------------------------------------------------------------------


def test_week_bounds_parse_and_dst_lengths() -> None:
    """Monday 00:00 to Monday 00:00 local; 167 and 169 hours in DST weeks; ISO parsing."""
    week = Week.parse("2026-W48", LONDON)
    assert (week.monday, week.sunday, week.iso) == (
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 29),
        "2026-W48",
    )
    assert (week.start, week.end) == (at(23), at(30))
    assert Week.parse("2026w7", LONDON).iso == "2026-W07"
    assert Week.containing(at(29, 23, 59), LONDON) == week
    assert Week.containing(at(30), LONDON) == week.shift(1)
    autumn = Week.parse("2026-W43", LONDON)  # BST ends on Sunday 25 October
    assert autumn.start == at(18, 23, month=10) and autumn.end == at(26, month=10)
    assert autumn.end - autumn.start == dt.timedelta(hours=169)
    spring = Week.parse("2026-W13", LONDON)  # BST starts on Sunday 29 March
    assert spring.end - spring.start == dt.timedelta(hours=167)
    new_york = Week.parse("2026-W48", "America/New_York")
    assert new_york.start == at(23, 5)
    assert Week.parse("2020-W53", LONDON).monday == dt.date(2020, 12, 28)
    with pytest.raises(DomainError, match="2027 has no week 53"):
        Week.parse("2027-W53", LONDON)
    with pytest.raises(DomainError, match="/digest 2026-W47"):
        Week.parse("last tuesday", LONDON)


def test_week_for_request() -> None:
    """Empty means this week; a week that has not started is refused."""
    now = at(26, 9)
    assert week_for_request(None, now=now, timezone=LONDON).iso == "2026-W48"
    assert week_for_request(" 2026-W40 ", now=now, timezone=LONDON).iso == "2026-W40"
    with pytest.raises(DomainError, match="hasn't started yet"):
        week_for_request("2026-W49", now=now, timezone=LONDON)


# --- The known week ------------------------------------------------------------------------


async def test_known_week_every_figure(db: Database, clock: FrozenClock) -> None:
    """Each figure of each manager and of the team, exactly."""
    people = await known_week(db, clock)
    result = await build_team_digest(db, week=Week.parse("2026-W48", LONDON), now=clock.now())
    rows = {person.name: person for person in result.people}
    assert list(rows) == ["Hana", "Mia", "Oscar"]  # the head logged nothing: not listed
    assert figures(rows["Mia"]) == {
        "calls": 2,  # Mon 09:00 and Thu 15:00 (Sun 22 23:59 and Mon 30 00:00 are outside)
        "meetings": 2,  # Tue meeting and the Sunday 23:59 visit
        "other": 1,
        "new_clients": 2,  # C (Tue) and E (Sun 23:00)
        "at_logging": 2,  # Mon call (5 min), Sun visit (20 s)
        "later": 2,  # Tue meeting (40 min), Wed e-mail (next day)
        "missing": 1,  # Thu call
        "disciplined": 3,  # Mon, Tue (40 min after the contact), Sun
        "discipline": 60,
        "won": 1,
        "refused": 1,
        "not_target": 0,
        "missing_overnight": 2,  # Wed e-mail (resolved Thu), Thu call (never)
        "overdue": 3,  # A (Tue 24 09:00), F (Sun 22), G (Mon 30 09:00)
        "overdue_long": 1,  # F: 7 days 10 hours
        "oldest_client": "F",
        "coming": 2,  # B (Tue 1 Dec) and G (Mon 30 09:00, already overdue)
        "idle_clients": 0,
        "snoozes": 0,
        "reschedules": 0,
        "waking": 0,
        "silent_days": 0,
    }
    assert rows["Mia"].oldest_due == at(22, 23, 59, 40)
    assert figures(rows["Oscar"]) == {
        "calls": 1,
        "meetings": 0,
        "other": 1,
        "new_clients": 1,
        "at_logging": 2,  # the backdated call got its pause 2 minutes after logging
        "later": 0,
        "missing": 0,
        "disciplined": 1,  # ... but 3 hours after the call itself
        "discipline": 50,
        "won": 0,
        "refused": 0,
        "not_target": 1,
        "missing_overnight": 0,
        "overdue": 0,
        "overdue_long": 0,
        "oldest_client": None,
        "coming": 2,  # O2's check-back (Wed 2 Dec), O3 rescheduled to Thu 3 Dec
        "idle_clients": 0,
        "snoozes": 2,
        "reschedules": 1,
        "waking": 1,
        "silent_days": 0,  # last contact Friday; Saturday and Sunday are not working days
    }
    hana = rows["Hana"]
    assert (hana.contacts, hana.idle_clients, hana.discipline) == (0, 1, None)
    assert hana.silent_days == 20  # every working day from 2 to 27 November

    totals = result.totals
    assert (totals.calls, totals.meetings, totals.other, totals.contacts) == (3, 2, 2, 7)
    assert (totals.at_logging, totals.later, totals.missing, totals.disciplined) == (4, 2, 1, 4)
    assert totals.discipline == 57  # 4 / 7 = 57.1 %
    assert (totals.won, totals.refused, totals.not_target) == (1, 1, 1)
    assert (totals.new_clients, totals.missing_overnight, totals.idle_clients) == (3, 2, 1)
    assert (totals.overdue, totals.overdue_long, totals.oldest_client, totals.coming) == (
        3,
        1,
        "F",
        4,
    )
    assert (totals.snoozes, totals.reschedules, totals.waking) == (2, 1, 1)

    previous = result.previous  # Oscar's Thursday call and Mia's Sunday 23:59 call
    assert (previous.contacts, previous.calls, previous.disciplined, previous.discipline) == (
        2,
        2,
        2,
        100,
    )
    changes = {change.key: (change.value, change.delta, change.arrow) for change in result.changes}
    assert changes == {
        "contacts": (7, 5, "▲5"),
        "calls": (3, 1, "▲1"),
        "meetings": (2, 2, "▲2"),
        "other": (2, 2, "▲2"),
        "new_clients": (3, 3, "▲3"),
        "missing": (1, 1, "▲1"),
        "discipline": (57, -43, "▼43"),
        "closures": (3, 3, "▲3"),
        "won": (1, 1, "▲1"),
        "lost": (2, 2, "▲2"),
        "postponed": (3, 3, "▲3"),
        "missing_overnight": (2, 2, "▲2"),
    }
    assert [
        (s.client_name, s.manager_name, s.snoozes, s.lifetime_snoozes) for s in result.most_snoozed
    ] == [("O3", "Oscar", 2, 2)]
    assert [(w.client_name, w.manager_name, w.due_at) for w in result.waking] == [
        ("O2", "Oscar", at(2, 10, month=12))
    ]
    assert result.waking_total == 1
    assert result.receivables is None  # the team has no invoices
    assert result.attention == (
        Attention("overdue_step", ("F (Mia, 7 days)",), 0, count=1),
        Attention("silent", ("Hana (20 days)",), 0, count=1, manager_ids=(3,)),
        Attention("discipline", ("Oscar 50%", "Mia 60%"), 0, count=2, manager_ids=(2, 1)),
    )
    assert result.chart.rows == (  # busiest first: contacts by kind, discipline, overdue
        ChartRow("Mia", 2, 2, 1, 60, True, 3, 0),
        ChartRow("Oscar", 1, 0, 1, 50, True, 0, 0),
    )
    by_day = await digest_figures.contacts_by_day(db, result.week.day_bounds)
    cells = sorted((row.manager_id, row.day, row.calls, row.meetings, row.other) for row in by_day)
    assert cells == [
        (1, 0, 1, 0, 0), (1, 1, 0, 1, 0), (1, 2, 0, 0, 1), (1, 3, 1, 0, 0), (1, 6, 0, 1, 0),
        (2, 4, 1, 0, 1),
    ]  # fmt: skip
    assert not result.no_activity and result.complete
    assert people["head"].telegram_id not in rows


async def test_own_summary_of_the_known_week(db: Database, clock: FrozenClock) -> None:
    """Mia's "Your week": the same figures as her row, her loose ends and her plan."""
    people = await known_week(db, clock)
    week = Week.parse("2026-W48", LONDON)
    summary = await build_own_summary(db, manager=people["mia"], week=week, now=clock.now())
    assert figures(summary.person) | {"silent_days": 0} == figures(
        next(
            p
            for p in (await build_team_digest(db, week=week, now=clock.now())).people
            if p.name == "Mia"
        )
    )
    assert [p.client_name for p in summary.pending] == ["D"]
    assert summary.overdue_total == 3
    assert [item.client_name for item in summary.overdue] == ["F", "A", "G"]
    assert summary.plan_total == 1  # B on Tue 1 Dec (G's is already overdue)
    assert [(item.client_name, item.due_at) for item in summary.plan] == [
        ("B", at(1, 10, month=12))
    ]
    assert {c.key: c.delta for c in summary.changes}["contacts"] == 4


async def test_week_boundaries_in_other_zones(db: Database, clock: FrozenClock) -> None:
    """The same UTC moments fall into different weeks for teams in New York and Tokyo."""
    clock.set(at(1))
    mia = await make_user(db, clock, 1, name="Mia", timezone="America/New_York")
    acme = await clients.create_client(db, clock, actor=mia, name="Acme")
    moments = [
        at(23, 4, 59),  # Sun 22 23:59 New York; Mon 23 13:59 Tokyo
        at(23, 5),  # Mon 23 00:00 New York
        at(29, 14, 59),  # Sun 29 23:59 Tokyo
        at(29, 15),  # Mon 30 00:00 Tokyo
        at(30, 4, 59),  # Sun 29 23:59 New York
        at(30, 5),  # Mon 30 00:00 New York
    ]
    for moment in moments:
        await log(
            db,
            clock,
            mia,
            acme,
            "call",
            moment,
            resolved=moment + dt.timedelta(minutes=1),
            closure="won",
        )
    clock.set(at(3, month=12))
    counts = {}
    for zone in ("America/New_York", "Asia/Tokyo", LONDON):
        result = await build_team_digest(db, week=Week.parse("2026-W48", zone), now=clock.now())
        counts[zone] = result.totals.calls
    # New York: 23 05:00 .. 30 04:59; Tokyo: 22 15:00 .. 29 14:59; London: 23 00:00 .. 29 23:59.
    assert counts == {"America/New_York": 4, "Asia/Tokyo": 3, LONDON: 4}
    tokyo = await build_team_digest(db, week=Week.parse("2026-W48", "Asia/Tokyo"), now=clock.now())
    # Mon 23 13:59 and 14:00 Tokyo are Monday; Sun 29 23:59 Tokyo is Sunday.
    assert await days_of(db, tokyo.week) == [2, 0, 0, 0, 0, 0, 1]


async def test_dst_week_boundaries_and_end_of_day(db: Database, clock: FrozenClock) -> None:
    """Week 43 of 2026 in London lasts 169 hours; local midnights move with the clocks."""
    clock.set(at(1, month=10))
    mia = await make_user(db, clock, 1, name="Mia", timezone=LONDON)
    names = ("Before", "First", "Sat", "Last", "After", "Late")
    a, b, c, d, e, f = [await clients.create_client(db, clock, actor=mia, name=n) for n in names]
    oct_ = 10
    # Sun 18 Oct 23:59:59 BST is 22:59:59 UTC: the week before. Monday 00:00 BST is 23:00 UTC.
    await log(
        db,
        clock,
        mia,
        a,
        "call",
        at(18, 22, 59, 59, oct_),
        resolved=at(18, 23, month=oct_),
        closure="won",
    )
    await log(
        db,
        clock,
        mia,
        b,
        "call",
        at(18, 23, month=oct_),
        resolved=at(18, 23, 10, month=oct_),
        closure="won",
    )
    # Logged Saturday 23:30 BST (22:30 UTC), resolved Sunday 00:30 BST (23:30 UTC Saturday):
    # it was left over the local midnight, although not over the UTC one.
    await log(
        db,
        clock,
        mia,
        c,
        "email",
        at(24, 22, 30, month=oct_),
        resolved=at(24, 23, 30, month=oct_),
        closure="won",
    )
    # Sunday 25 Oct is GMT again after 02:00: 23:59 GMT is 23:59 UTC, still in the week.
    await log(
        db,
        clock,
        mia,
        d,
        "meeting",
        at(25, 12, month=oct_),
        resolved=at(25, 23, 30, month=oct_),
        closure="won",
    )
    await log(
        db,
        clock,
        mia,
        e,
        "call",
        at(26, 0, month=oct_),
        resolved=at(26, 0, 1, month=oct_),
        closure="won",
    )
    await log(
        db,
        clock,
        mia,
        f,
        "call",
        at(25, 23, 59, month=oct_),
        resolved=at(26, 0, 30, month=oct_),
        closure="won",
    )
    clock.set(at(27, month=oct_))
    result = await build_team_digest(db, week=Week.parse("2026-W43", LONDON), now=clock.now())
    totals = result.totals
    assert (totals.calls, totals.meetings, totals.other) == (2, 1, 1)  # First, Last, Sat, Late
    assert totals.missing_overnight == 2  # Sat (local midnight) and Late (resolved Monday)
    assert await days_of(db, result.week) == [1, 0, 0, 0, 0, 1, 2]
    assert result.previous.calls == 1  # Before


async def test_empty_week(db: Database, clock: FrozenClock) -> None:
    """Nothing logged: a correct digest with zeros, and nothing to draw."""
    await make_user(db, clock, 1, name="Mia")
    result = await build_team_digest(
        db, week=Week.containing(clock.now(), LONDON), now=clock.now()
    )
    assert result.no_activity and not result.complete
    assert result.totals.contacts == 0 and result.totals.discipline is None
    assert result.chart.total == 0 and result.attention == ()
    assert [p.name for p in result.people] == ["Mia"]
    assert {c.key: c.delta for c in result.changes}["discipline"] is None


async def test_week_whose_contacts_all_lack_a_next_step(db: Database, clock: FrozenClock) -> None:
    """Monday morning: every contact so far still without a next step (no outcome at all),
    one of them back-dated into last week after it ended. Zeros, not a crash."""
    mia = await make_user(db, clock, 1, name="Mia", timezone=LONDON)
    acme = await new_client(db, clock, mia, "Acme", at(1))
    await log(db, clock, mia, acme, "call", at(23, 9))
    await log(db, clock, mia, acme, "visit", at(29, 17), logged=at(30, 8))
    result = await build_team_digest(db, week=Week.parse("2026-W48", LONDON), now=at(30, 9))
    (person,) = result.people
    assert (person.won, person.refused, person.not_target) == (0, 0, 0)
    assert (result.totals.contacts, result.totals.missing) == (2, 2)
    assert result.totals.missing_overnight == 1  # Monday's call; not the Sunday visit


# --- Receivables ---------------------------------------------------------------------------


async def test_receivables_section(db: Database, clock: FrozenClock) -> None:
    """Open and overdue per currency, aging, the week's payments, promises, largest overdue."""
    clock.set(at(1, month=8))
    mia = await make_user(db, clock, 1, name="Mia", timezone=LONDON)
    oscar = await make_user(db, clock, 2, name="Oscar", timezone=LONDON)
    acme = await clients.create_client(db, clock, actor=mia, name="Acme")
    beta = await clients.create_client(db, clock, actor=oscar, name="Beta")
    day = dt.date

    async def invoice(
        owner: User, client: Client, number: str, minor: int, currency: str, due: dt.date
    ):
        return await invoices.create_invoice(
            db,
            clock,
            actor=owner,
            client_id=client.id,
            number=number,
            amount_minor=minor,
            currency=currency,
            due_on=due,
            issued_on=day(2026, 8, 1),
        )

    # Aged on Mon 30 Nov (now): 100 days, 45 days, 5 days overdue, and not yet due.
    old = await invoice(mia, acme, "INV-1", 500_00, "EUR", day(2026, 8, 22))
    await invoice(oscar, beta, "INV-2", 1_200_00, "EUR", day(2026, 10, 16))
    late = await invoice(mia, acme, "INV-3", 300_00, "EUR", day(2026, 11, 25))
    await invoice(oscar, beta, "INV-4", 90_000, "JPY", day(2026, 12, 15))
    paid = await invoice(mia, acme, "INV-5", 100_00, "EUR", day(2026, 12, 1))
    clock.set(at(25, 12))
    await invoices.record_payment(db, clock, actor=mia, invoice_id=late.id, amount_minor=100_00)
    await invoices.record_payment(db, clock, actor=mia, invoice_id=paid.id, amount_minor=100_00)
    promise = await invoices.promise_to_pay(
        db, clock, actor=mia, invoice_id=old.id, promised_on=day(2026, 11, 26)
    )
    clock.set(at(27, 9))
    async with db.transaction() as tx:
        await invoice_store.settle_promise(tx, promise.id, PromiseState.BROKEN, now=clock.now())
    clock.set(at(30, 10))
    result = await build_team_digest(db, week=Week.parse("2026-W48", LONDON), now=clock.now())
    receivables = result.receivables
    assert receivables is not None
    eur, jpy = receivables.currencies
    assert (eur.currency, eur.open_minor, eur.overdue_minor) == ("EUR", 1_900_00, 1_900_00)
    assert dict(eur.buckets) == {
        Bucket.CURRENT: 0,
        Bucket.D1_30: 200_00,
        Bucket.D31_60: 1_200_00,
        Bucket.D61_90: 0,
        Bucket.D90_PLUS: 500_00,
    }
    assert (eur.paid_minor, eur.payments) == (200_00, 2)
    assert (jpy.currency, jpy.open_minor, jpy.overdue_minor, jpy.paid_minor) == (
        "JPY",
        90_000,
        0,
        0,
    )
    assert (receivables.promises_kept, receivables.promises_broken) == (0, 1)
    assert receivables.broken_labels == ("INV-1 Acme (Mia)",)
    assert [(i.number, i.manager_name, i.days_overdue) for i in receivables.largest_overdue] == [
        ("INV-2", "Oscar", 45),
        ("INV-1", "Mia", 100),
        ("INV-3", "Mia", 5),
    ]
    assert [i.number for i in receivables.final_stage] == ["INV-1", "INV-2"]
    assert result.attention[0] == Attention(
        "invoice_final", ("INV-1 Acme (Mia)", "INV-2 Beta (Oscar)"), 0, count=2
    )
    assert result.attention[-1].kind == "promise_broken"
    records = await digest.week_records(db, week=result.week)
    assert [(m.movement, m.invoice_number, m.amount_minor) for m in records.movements] == [
        ("payment", "INV-3", 100_00),
        ("payment", "INV-5", 100_00),
        ("promise_broken", "INV-1", None),
    ]
    own = await build_own_summary(db, manager=oscar, week=result.week, now=clock.now())
    assert own.receivables is not None
    assert [line.currency for line in own.receivables.currencies] == ["EUR", "JPY"]
    assert own.receivables.currencies[0].overdue_minor == 1_200_00


# --- Attention, silence, percentages -------------------------------------------------------


def test_silent_working_days_in_the_persons_zone() -> None:
    """Working days after the last contact, before the reference day, in their own zone."""
    count = silent_working_days(
        last_contact=at(24, 23, 30),  # Wed 25 in Tokyo
        joined=at(1),
        reference=at(30),  # Mon 30 in Tokyo (09:00)
        timezone="Asia/Tokyo",
        working_days=(1, 2, 3, 4, 5),
    )
    assert count == 2  # Thu 26, Fri 27
    assert (
        silent_working_days(
            last_contact=None,
            joined=at(26, 12),
            reference=at(30),
            timezone=LONDON,
            working_days=(1, 2, 3, 4, 5, 6, 7),
        )
        == 3
    )  # Fri, Sat, Sun after joining on Thursday


def test_attention_list_is_capped_at_five_lines_and_names() -> None:
    """Names beyond five become "and N more"; at most five lines."""
    people = [
        PersonWeek(n, f"M{n:02d}", calls=10, disciplined=7, silent_days=4) for n in range(1, 8)
    ]
    totals = digest.team_totals(people)
    lines = digest.attention_list(people, totals, None, now=at(30))
    assert [line.kind for line in lines] == ["silent", "discipline"]
    assert lines[1].items == ("M01 70%", "M02 70%", "M03 70%", "M04 70%", "M05 70%")
    assert (lines[1].more, lines[1].count) == (2, 7)
    assert PersonWeek(1, "x", calls=5, disciplined=4).below_target is False  # exactly 80 %
    assert digest.percent(1, 8) == 13  # 12.5 rounds half up


# --- Schedule and ledger -------------------------------------------------------------------


def recipient(role: str, zone: str = LONDON, prefs: DigestPrefs | None = None) -> Recipient:
    """Someone who joined long ago."""
    return Recipient(1, role, zone, at(1, month=1), prefs or DigestPrefs())


def test_latest_due() -> None:
    """Heads get last week's digest on Monday 09:00 their time; managers "Your week" Friday."""
    head = recipient("head")
    assert latest_due(head, now=at(30, 8, 59), timezone=LONDON).week.iso == "2026-W47"  # type: ignore[union-attr]
    due = latest_due(head, now=at(30, 9), timezone=LONDON)
    assert due is not None and (due.kind, due.week.iso, due.due_at) == (
        DigestKind.TEAM,
        "2026-W48",
        at(30, 9),
    )
    # A head in Tokyo, team in New York: Monday 09:00 Tokyo is still Sunday in New York; the
    # digest follows once the team's week is over (Monday 00:00 New York).
    tokyo = recipient("head", "Asia/Tokyo")
    assert latest_due(tokyo, now=at(30, 4, 59), timezone="America/New_York").week.iso == "2026-W47"  # type: ignore[union-attr]
    assert latest_due(tokyo, now=at(30, 5), timezone="America/New_York").week.iso == "2026-W48"  # type: ignore[union-attr]
    manager = recipient("manager")
    assert latest_due(manager, now=at(27, 15, 59), timezone=LONDON).week.iso == "2026-W47"  # type: ignore[union-attr]
    friday = latest_due(manager, now=at(27, 16), timezone=LONDON)
    assert friday is not None and (friday.kind, friday.week.iso) == (DigestKind.OWN, "2026-W48")
    off = recipient("head", prefs=DigestPrefs(digest_day=0))
    assert latest_due(off, now=at(30, 12), timezone=LONDON) is None
    newcomer = Recipient(1, "head", LONDON, at(30, 9, 30), DigestPrefs())
    assert latest_due(newcomer, now=at(30, 10), timezone=LONDON) is None
    assert latest_due(recipient("admin"), now=at(30, 10), timezone=LONDON) is None


async def test_ledger_claims_once_and_resumes_stale_claims(
    db: Database, clock: FrozenClock
) -> None:
    """A claim is taken once; an unfinished one is taken again after a minute, resuming."""
    clock.set(at(1))
    await make_user(db, clock, 9, Role.HEAD, name="Hal", timezone=LONDON)
    clock.set(at(30, 9))
    owed = await digest.due_digests(db, now=clock.now(), timezone=LONDON)
    assert [(d.recipient.telegram_id, d.kind, d.week.iso) for d in owed] == [
        (9, DigestKind.TEAM, "2026-W48")
    ]
    first = await digest.claim_delivery(db, clock, owed[0])
    assert first is not None and (first.parts_sent, first.attempts) == (0, 1)
    assert await digest.claim_delivery(db, clock, owed[0]) is None
    await digest.record_progress(db, first, 2)
    clock.advance(dt.timedelta(seconds=30))
    assert await digest.due_digests(db, now=clock.now(), timezone=LONDON) == []
    clock.advance(dt.timedelta(seconds=31))  # the claim is stale: its sender died
    owed = await digest.due_digests(db, now=clock.now(), timezone=LONDON)
    again = await digest.claim_delivery(db, clock, owed[0])
    assert again is not None and (again.parts_sent, again.attempts) == (2, 2)
    await digest.finish_delivery(db, clock, again, delivered=True)
    clock.advance(dt.timedelta(days=1))
    assert await digest.due_digests(db, now=clock.now(), timezone=LONDON) == []


async def test_schedule_settings(db: Database, clock: FrozenClock) -> None:
    """Heads set their digest day and time; managers only their own "Your week"."""
    head = await make_user(db, clock, 9, Role.HEAD, name="Hal")
    mia = await make_user(db, clock, 1, name="Mia")
    prefs = await digest.set_schedule(
        db, clock, actor=head, kind=DigestKind.TEAM, day=2, time=dt.time(8, 30)
    )
    assert (prefs.digest_day, prefs.digest_time) == (2, dt.time(8, 30))
    prefs = await digest.set_schedule(db, clock, actor=mia, kind=DigestKind.OWN, time=dt.time(17))
    assert (prefs.week_summary_day, prefs.week_summary_time) == (5, dt.time(17))
    with pytest.raises(NotAllowed):
        await digest.set_schedule(db, clock, actor=mia, kind=DigestKind.TEAM, day=1)
    with pytest.raises(DomainError):
        await digest.set_schedule(db, clock, actor=head, kind=DigestKind.TEAM, day=9)


async def test_silence_beyond_the_lookback(db: Database, clock: FrozenClock) -> None:
    """Someone silent for months shows the lookback's working days, marked "at least"."""
    clock.set(at(1, month=6))
    await make_user(db, clock, 1, name="Ghost", timezone=LONDON)
    clock.set(at(30, 10))
    result = await build_team_digest(db, week=Week.parse("2026-W48", LONDON), now=clock.now())
    ghost = result.people[0]
    assert (ghost.silent_days, ghost.silent_more) == (30, True)  # Mon 19 Oct to Fri 27 Nov
    assert result.attention == (
        Attention("silent", ("Ghost (30+ days)",), 0, count=1, manager_ids=(1,)),
    )


async def test_receivables_agree_with_the_receivables_service(
    db: Database, clock: FrozenClock
) -> None:
    """The digest's SQL aging gives what `receivables.aging_buckets` gives, owners in zones
    on both sides of the date line, at moments around their midnights."""
    clock.set(at(1, month=6))
    owners = [
        await make_user(db, clock, n, name=f"M{n}", timezone=zone)
        for n, zone in enumerate(("Pacific/Auckland", "America/Los_Angeles", LONDON), start=1)
    ]
    for owner in owners:
        client = await clients.create_client(db, clock, actor=owner, name=f"C{owner.telegram_id}")
        for n, days in enumerate((-1, 0, 1, 29, 30, 31, 60, 61, 90, 91, 200)):
            await invoices.create_invoice(
                db,
                clock,
                actor=owner,
                client_id=client.id,
                number=f"I{n}",
                amount_minor=1000 + n,
                currency=("EUR", "JPY")[n % 2],
                due_on=dt.date(2026, 11, 30) - dt.timedelta(days=days),
                issued_on=dt.date(2026, 5, 1),
            )
    for moment in (at(29, 10), at(29, 12), at(30, 0), at(30, 8), at(30, 23, 59)):
        service = await receivables.aging_buckets(db, now=moment)
        digest_week = await receivables_digest.week_figures(
            db, week=Week.containing(moment, LONDON), now=moment, names={}
        )
        assert digest_week is not None
        ours = {
            line.currency: (line.open_minor, line.overdue_minor, dict(line.buckets))
            for line in digest_week.currencies
        }
        theirs = {
            code: (amounts.total, amounts.overdue, amounts.buckets)
            for code, amounts in service.totals.items()
        }
        assert ours == theirs, moment
        final = digest_week.final_stage_total
        expected = 0
        for entry in await invoice_store.open_entries(db):
            days = receivables.days_overdue(
                entry.invoice, receivables.local_today(moment, entry.owner_timezone)
            )
            expected += receivables.stage_for(days) is receivables.Stage.FINAL
        assert final == expected, moment


# --- The same part of the previous week --------------------------------------------------------


def test_same_point_of_the_previous_week_on_the_wall_clock() -> None:
    """Monday noon is compared with last Monday noon in the team's zone, whatever the UTC
    offsets (autumn and spring DST changes between the two weeks); a full week with the
    full week before; a moment before the week began with the previous week's start."""
    autumn = Week.parse("2026-W44", LONDON)  # Mon 26 Oct (GMT); the week before was BST
    assert autumn.same_point_before(at(26, 12, month=10)) == at(19, 11, month=10)
    spring = Week.parse("2026-W14", LONDON)  # Mon 30 Mar (BST); the week before was GMT
    assert spring.same_point_before(at(30, 11, month=3)) == at(23, 12, month=3)
    tokyo = Week.parse("2026-W48", "Asia/Tokyo")  # no DST: exactly a week earlier
    assert tokyo.same_point_before(at(25, 3)) == at(18, 3)
    assert autumn.same_point_before(at(3, month=11)) == autumn.start  # complete: full week
    assert autumn.same_point_before(at(1, month=10)) == autumn.shift(-1).start
    assert autumn.last_day_until(at(26, 12, month=10)) == dt.date(2026, 10, 26)
    assert autumn.last_day_until(at(27, 0, month=10)) == dt.date(2026, 10, 26)  # midnight
    assert autumn.last_day_until(at(9, month=11)) == autumn.sunday


async def test_monday_noon_compares_with_last_monday_noon_across_dst(
    db: Database, clock: FrozenClock
) -> None:
    """Monday 26 Oct 12:00 (GMT) so far: last week is counted up to Monday 19 Oct 12:00 BST
    (11:00 UTC), with what had been decided by then; the full week compares full weeks."""
    clock.set(at(1, month=10))
    mia = await make_user(db, clock, 1, name="Mia", timezone=LONDON)
    names = ("Early", "Noonish", "Wednesday", "This week")
    early, noonish, wednesday, current = [
        await clients.create_client(db, clock, actor=mia, name=n) for n in names
    ]
    oct_ = 10
    # 10:30 BST, concluded 12:30 BST: in the same part, but still missing at noon.
    await log(db, clock, mia, early, "call", at(19, 9, 30, month=oct_),
              resolved=at(19, 11, 30, month=oct_), closure="won")  # fmt: skip
    # 12:30 BST is 11:30 UTC: after last Monday noon (a plain "minus 7 days" would count it).
    await log(db, clock, mia, noonish, "call", at(19, 11, 30, month=oct_),
              resolved=at(19, 11, 31, month=oct_), closure="won")  # fmt: skip
    await log(db, clock, mia, wednesday, "meeting", at(21, 10, month=oct_),
              resolved=at(21, 10, 5, month=oct_), closure="won")  # fmt: skip
    await log(db, clock, mia, current, "call", at(26, 9, month=oct_),
              resolved=at(26, 9, 5, month=oct_), closure="won")  # fmt: skip
    week = Week.parse("2026-W44", LONDON)
    so_far = await build_team_digest(db, week=week, now=at(26, 12, month=oct_))
    assert so_far.compared_to == at(19, 11, month=oct_)
    before = so_far.previous
    assert (before.calls, before.meetings, before.missing, before.won) == (1, 0, 1, 0)
    changes = {change.key: change for change in so_far.changes}
    assert changes["contacts"].arrow == "=" and changes["won"].arrow == "▲1"
    assert changes["missing"].arrow == "▼1"
    own = await build_own_summary(db, manager=mia, week=week, now=at(26, 12, month=oct_))
    assert {c.key: c.arrow for c in own.changes}["contacts"] == "="
    full = await build_team_digest(db, week=week, now=at(2, 9, month=11))
    assert full.compared_to == week.start
    assert (full.previous.calls, full.previous.meetings, full.previous.won) == (2, 1, 3)
    assert {c.key: c.arrow for c in full.changes}["contacts"] == "▼2"


async def test_payments_compare_with_the_same_days_of_last_week(
    db: Database, clock: FrozenClock
) -> None:
    """Received so far on Tuesday is compared per currency with last Monday and Tuesday."""
    clock.set(at(1, month=8))
    mia = await make_user(db, clock, 1, name="Mia", timezone=LONDON)
    acme = await clients.create_client(db, clock, actor=mia, name="Acme")
    made = await invoices.create_invoice(
        db, clock, actor=mia, client_id=acme.id, number="INV-1", amount_minor=1_000_00,
        currency="EUR", due_on=dt.date(2026, 12, 31), issued_on=dt.date(2026, 8, 1),
    )  # fmt: skip
    for day, amount in ((17, 100_00), (18, 50_00), (19, 999_00 - 900_00), (24, 30_00)):
        clock.set(at(day, 12))
        await invoices.record_payment(
            db, clock, actor=mia, invoice_id=made.id, amount_minor=amount
        )
    result = await build_team_digest(db, week=Week.parse("2026-W48", LONDON), now=at(24, 15))
    assert result.receivables is not None
    (eur,) = result.receivables.currencies
    # This week so far (Mon 23, Tue 24): 30; last week's Mon 16 and Tue 17: 100 (not 18, 19).
    assert (eur.paid_minor, eur.paid_before_minor, eur.paid_change_minor) == (
        30_00,
        100_00,
        -70_00,
    )


async def test_largest_overdue_are_ranked_within_each_currency(
    db: Database, clock: FrozenClock
) -> None:
    """RUB 385,000 is not "larger" than €18,400: each currency keeps its own five largest,
    ranked in its own units, and a small currency's invoices are not crowded out."""
    clock.set(at(1, month=8))
    mia = await make_user(db, clock, 1, name="Mia", timezone=LONDON)
    acme = await clients.create_client(db, clock, actor=mia, name="Acme")
    amounts = [("RUB", 385_000_00), ("RUB", 900_00)] + [
        ("EUR", major * 100) for major in (18_400, 15_000, 12_000, 11_000, 10_000, 9_000)
    ]
    for n, (currency, minor) in enumerate(amounts):
        await invoices.create_invoice(
            db, clock, actor=mia, client_id=acme.id, number=f"INV-{n}", amount_minor=minor,
            currency=currency, due_on=dt.date(2026, 10, 1), issued_on=dt.date(2026, 8, 1),
        )  # fmt: skip
    clock.set(at(30, 10))
    result = await build_team_digest(db, week=Week.parse("2026-W48", LONDON), now=clock.now())
    assert result.receivables is not None
    ranked = {
        code: [item.balance_minor // 100 for item in items]
        for code, items in result.receivables.largest_by_currency
    }
    assert ranked == {"EUR": [18_400, 15_000, 12_000, 11_000, 10_000], "RUB": [385_000, 900]}
    assert [code for code, _ in result.receivables.largest_by_currency] == ["EUR", "RUB"]
    assert result.people[0].overdue_invoices == 8  # counted, never summed across currencies
