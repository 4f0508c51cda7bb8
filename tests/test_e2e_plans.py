"""End to end: a head sets a plan in one line or by buttons, a manager sees their progress
after logging, a manager can't set (or see another's) plan, and refusals by reason."""

from __future__ import annotations

from telegram.ext import Application

from bot.app import services_of
from bot.clock import FrozenClock
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.services import clients
from storage import users
from storage.db import Database
from storage.users import Role, User
from tests.e2e_helpers import eventually
from tests.factories import make_user

HEAD_ID, MARA_ID, TOM_ID = 6001, 6002, 6003


async def _team(app: Application, clock: FrozenClock) -> tuple[Database, User, User]:
    """Hanna (head), Mara and Tom (managers, London), with usernames."""
    db = services_of(app).db
    await make_user(db, clock, HEAD_ID, Role.HEAD, name="Hanna", timezone="Europe/London")
    mara = await make_user(db, clock, MARA_ID, name="Mara Lind", timezone="Europe/London")
    tom = await make_user(db, clock, TOM_ID, name="Tom Berg", timezone="Europe/London")
    async with db.transaction() as tx:
        await users.update_user(tx, MARA_ID, now=clock.now(), username="mara")
        await users.update_user(tx, TOM_ID, now=clock.now(), username="tom")
    return db, mara, tom


async def test_a_head_sets_a_plan_in_one_line_and_the_manager_sees_progress(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """`/plan @mara contacts 40; …` (Thu 26 Nov 2026): saved with who and when; after a
    logged call Mara's /plan shows 1 / 40 with 86 % of the month's working days gone."""
    db, mara_user, _ = await _team(app, clock)
    await clients.create_client(db, clock, actor=mara_user, name="Acme")
    head = server.user(HEAD_ID, "Hanna")
    await head.send(
        "/plan @mara contacts 40; meetings 10; new clients 5; won 3; "
        "collected 20000 EUR + 5000 USD"
    )
    saved = await head.expect("Plan for Mara Lind for November 2026 saved")
    assert "Contacts 0 / 40 · 0 % with 86 % of the month gone — behind" in saved.text
    assert "Collected EUR €0.00 / €20,000.00" in saved.text
    assert "Collected USD $0.00 / $5,000.00" in saved.text
    row = await db.fetch_one("SELECT manager_id, month, set_by FROM plans")
    assert row is not None and tuple(row) == (MARA_ID, "2026-11", HEAD_ID)
    targets = await db.fetch_all(
        "SELECT metric, currency, target FROM plan_targets ORDER BY metric, currency"
    )
    assert [tuple(t) for t in targets] == [
        ("collected", "EUR", 2_000_000),
        ("collected", "USD", 500_000),
        ("contacts", "", 40),
        ("meetings", "", 10),
        ("new_clients", "", 5),
        ("won", "", 3),
    ]
    audited = await db.fetch_value("SELECT count(*) FROM audit_log WHERE action = 'plan.set'")
    assert audited == 1

    mara = server.user(MARA_ID, "Mara Lind")
    await mara.send("/call Acme talked about the spring range")
    await mara.expect("What is the next step?")
    await mara.press("🏆 Deal won")
    await mara.expect("Logged")
    await mara.send("/plan")
    own = await mara.expect("Your plan · November 2026")
    assert "Contacts 1 / 40 · 3 % with 86 % of the month gone — behind" in own.text
    assert "Deals won 1 / 3 · 33 % with 86 % of the month gone — behind" in own.text
    assert "New clients 1 / 5" in own.text  # Acme was created this month
    assert "Hanna" in own.text  # the history names who set it

    # A change mid-month keeps the history: two versions, the latest counts.
    await head.send("/plan Mara contacts 30 for November")
    changed = await head.expect("Plan for Mara Lind for November 2026 saved")
    assert "Contacts 1 / 30" in changed.text
    assert "Meetings 0 / 10" in changed.text  # the other targets stay
    assert await db.fetch_value("SELECT count(*) FROM plans") == 2
    assert "contacts 40" in changed.text and "contacts 30" in changed.text  # both versions

    await head.send("/plan")
    team = await head.expect("Team plans · November 2026")
    assert "Mara Lind: 📈 Contacts 1/30" in team.text
    assert "Tom Berg: no plan" in team.text


async def test_a_manager_can_neither_set_a_plan_nor_see_anothers(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Mara's `/plan @tom contacts 50` and `/plan @tom` are refused politely and audited."""
    db, _, _ = await _team(app, clock)
    mara = server.user(MARA_ID, "Mara Lind")
    await mara.send("/plan @tom contacts 50")
    await mara.expect("Only heads of sales and admins set plans")
    await mara.send("/plan @mara contacts 500")
    await mara.expect("Only heads of sales and admins set plans")
    await mara.send("/plan @tom")
    await mara.expect("You can see only your own plan")
    assert await db.fetch_value("SELECT count(*) FROM plans") == 0
    denied = await db.fetch_all(
        "SELECT details FROM audit_log WHERE action = 'access.denied' AND actor_id = ?",
        (MARA_ID,),
    )
    assert [row[0] for row in denied] == [
        '{"attempted": "plan.set"}',
        '{"attempted": "plan.set"}',
        '{"attempted": "plan.view"}',
    ]
    await mara.send("/plan")
    own = await mara.expect("Your plan · November 2026")
    assert "No plan is set for November 2026. Your head of sales sets it." in own.text


async def test_a_head_sets_the_team_plan_by_buttons_with_typed_answers(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """✏️ Set a plan → 👥 Whole team → typed month → a target tapped, another typed →
    ✅ Save plan: every manager gets the targets."""
    db, _, _ = await _team(app, clock)
    head = server.user(HEAD_ID, "Hanna")
    await head.send("/plan")
    await head.expect("Team plans · November 2026")
    await head.press("✏️ Set a plan")
    await head.expect("Whose plan?")
    await head.send("whole team")  # the button's label, typed
    await head.expect("For which month?")
    await head.send("2026-12")
    await head.expect("Plan for every manager · December 2026")
    await head.press("📞 Contacts")
    await head.expect("How many contacts for every manager in December 2026?")
    await head.press("40")
    await head.expect("Contacts: 40")
    await head.send("collected 1500 EUR; won 2")
    menu = await head.expect("Collected EUR: €1,500.00")
    assert "Deals won: 2" in menu.text
    await head.press("✅ Save plan")
    await head.expect("Plans for 2 managers for December 2026 saved")
    latest = await db.fetch_all(
        "SELECT p.manager_id, t.metric, t.target FROM plans p JOIN plan_targets t"
        " ON t.plan_id = p.id WHERE p.month = '2026-12' ORDER BY p.manager_id, t.metric"
    )
    assert [tuple(r) for r in latest] == [
        (MARA_ID, "collected", 150_000),
        (MARA_ID, "contacts", 40),
        (MARA_ID, "won", 2),
        (TOM_ID, "collected", 150_000),
        (TOM_ID, "contacts", 40),
        (TOM_ID, "won", 2),
    ]


async def test_two_refusals_for_price_are_grouped_in_refusals(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A tapped 💰 Price and a typed `refused: too expensive` both count under price; the
    head's /refusals groups them with their clients as buttons to the cards."""
    db, mara_user, _ = await _team(app, clock)
    for name in ("Acme", "Beta Works", "Gamma"):
        await clients.create_client(db, clock, actor=mara_user, name=name)
    mara = server.user(MARA_ID, "Mara Lind")
    await mara.send("/call Acme asked for a quote")
    await mara.expect("What is the next step?")
    await mara.press("🚫 Client refused")
    asked = await mara.expect("Why did the client refuse?")
    assert "💰 Price" in asked.labels and "✏️ Other" in asked.labels
    await mara.press("💰 Price")
    await mara.expect("Logged")

    await mara.send("/call Beta Works sent the offer")
    await mara.expect("What is the next step?")
    await mara.send("refused: too expensive")
    read_back = await mara.expect("Close the contact like this?")
    assert "🚫 Client refused: too expensive. Reason: 💰 Price." in read_back.text
    await mara.press("✅ Confirm")
    await mara.expect("Logged")

    await mara.send("/call Gamma demo done")
    await mara.expect("What is the next step?")
    await mara.press("🚫 Client refused")
    await mara.send("they went with another supplier")  # typed: matched to competitor
    await mara.expect("Logged")

    rows = await db.fetch_all("SELECT outcome_reason, refusal_reason FROM contacts ORDER BY id")
    assert [tuple(r) for r in rows] == [
        ("Price", "price"),
        ("too expensive", "price"),
        ("they went with another supplier", "competitor"),
    ]
    head = server.user(HEAD_ID, "Hanna")
    await head.send("/refusals")
    report = await head.expect("Refusals · November 2026")
    assert "3 refusals" in report.text
    assert "💰 Price — 2 (▲2): Mara Lind 2" in report.text
    assert "🥊 Competitor — 1 (▲1): Mara Lind 1" in report.text
    await head.press("💰 Price · 2")
    detail = await head.expect("💰 Price · November 2026")
    assert "Beta Works (Mara Lind)" in detail.text and "“too expensive”" in detail.text
    assert {"📇 Acme", "📇 Beta Works"} <= set(detail.labels)
    await head.press("📇 Beta Works")
    await head.expect("Beta Works")

    await mara.send("/refusals 2026-11")
    own = await mara.expect("Refusals · November 2026 (yours)")
    assert "💰 Price — 2" in own.text


async def test_the_weeks_first_morning_agenda_carries_the_plan_line(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Friday's agenda has no plan line; Monday's (the week's first working day) has one."""
    import datetime as dt

    from bot.services import plans, schedule
    from bot.services.months import Month

    db, mara_user, _ = await _team(app, clock)
    head = await users.get_user(db, HEAD_ID)
    assert head is not None
    await plans.set_plan(
        db,
        clock,
        actor=head,
        manager_ids=[MARA_ID],
        month=Month(2026, 11),
        targets=[plans.Target(plans.Metric.CONTACTS, 40)],
    )
    await clients.create_client(db, clock, actor=mara_user, name="Acme")
    await schedule.ensure_all_agenda_reminders(db, clock)
    mara = server.user(MARA_ID, "Mara Lind")
    clock.set(dt.datetime(2026, 11, 27, 9, 0, 1, tzinfo=dt.UTC))  # Friday 09:00 London
    friday = await mara.expect("Good morning! Today", timeout=10)
    assert "📈" not in friday.text
    await eventually(  # delivered and recorded before the clock moves on: Monday's is next
        db,
        "SELECT due_at FROM reminders WHERE subject = 'agenda' AND state = 'pending'"
        " AND user_id = ?",
        ["2026-11-30T09:00:00Z"],
        (MARA_ID,),
    )
    clock.set(dt.datetime(2026, 11, 30, 9, 0, 1, tzinfo=dt.UTC))  # Monday
    monday = await mara.expect("Good morning! Today · Mon", timeout=10)
    line = monday.text.split("\n")[1]
    assert line == (
        "📈 November 2026: Contacts 0/40 — 95 % of the month gone, behind on contacts."
    )


async def test_a_head_changes_one_managers_plan_from_the_team_view(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Team plans → a manager → ✏️ Change this plan → 💰 Collected typed as an amount →
    a count removed → ✅ Save plan; « Team plans and another month; `/plan @mara` alone."""
    db, _, _ = await _team(app, clock)
    head = server.user(HEAD_ID, "Hanna")
    await head.send("/plan @mara contacts 40; won 3")
    await head.expect("Plan for Mara Lind for November 2026 saved")
    await head.send("/plan")
    await head.expect("Team plans · November 2026")
    await head.press("Mara Lind")
    card = await head.expect("Mara Lind's plan · November 2026")
    assert "Deals won 0 / 3" in card.text
    await head.press("✏️ Change this plan")
    await head.expect("Now: Contacts 40 · Deals won 3")
    await head.press("💰 Collected")
    await head.expect("How much should Mara Lind collect in November 2026?")
    await head.send("2500 EUR")
    await head.expect("Collected EUR: €2,500.00")
    await head.press("🏆 Deals won")
    await head.send("remove this target")  # the button's label, typed
    menu = await head.expect("Deals won: removed")
    assert "Collected EUR: €2,500.00" in menu.text
    await head.press("✅ Save plan")
    saved = await head.expect("Plan for Mara Lind for November 2026 saved")
    assert "Collected EUR €0.00 / €2,500.00" in saved.text and "Deals won" not in saved.text
    await head.press("« Team plans")
    await head.expect("Team plans · November 2026")
    await head.press("December 2026 ›")
    december = await head.expect("Team plans · December 2026")
    assert "Mara Lind: no plan" in december.text
    await head.send("/plan @mara")
    view = await head.expect("Mara Lind's plan · November 2026")
    assert "contacts 40, deals won 3" in view.text  # the history's first version
    assert await db.fetch_value("SELECT count(*) FROM plans") == 2


async def test_refusal_reason_other_is_typed_and_refusals_buttons_re_check(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """✏️ Other asks for the words (kept, matched when they mean a preset); « All reasons;
    a month not begun is refused; a manager's press shows their own refusals only."""
    db, mara_user, tom_user = await _team(app, clock)
    await clients.create_client(db, clock, actor=mara_user, name="Acme")
    await clients.create_client(db, clock, actor=tom_user, name="Zeta")
    mara = server.user(MARA_ID, "Mara Lind")
    await mara.send("/call Acme asked for a quote")
    await mara.expect("What is the next step?")
    await mara.press("🚫 Client refused")
    await mara.press("✏️ Other")
    await mara.expect("What was the reason?")
    await mara.send("Their warehouse is full until spring")
    await mara.expect("Logged")
    tom = server.user(TOM_ID, "Tom Berg")
    await tom.send("/call Zeta follow-up")
    await tom.expect("What is the next step?")
    await tom.send("refused")
    await tom.expect("Why did the client refuse?")
    await tom.send("no budget")  # the button's label typed works as the button
    await tom.expect("Logged")
    rows = await db.fetch_all("SELECT outcome_reason, refusal_reason FROM contacts ORDER BY id")
    assert [tuple(r) for r in rows] == [
        ("Their warehouse is full until spring", "other"),
        ("No budget", "no_budget"),
    ]
    await mara.send("/refusals")
    own = await mara.expect("Refusals · November 2026 (yours)")
    assert "✏️ Other — 1" in own.text and "No budget" not in own.text
    await mara.press("✏️ Other · 1")
    detail = await mara.expect("✏️ Other · November 2026")
    assert "“Their warehouse is full until spring”" in detail.text
    await mara.press("« All reasons")
    await mara.expect("Refusals · November 2026 (yours)")
    await mara.send("/refusals 2027-02")
    await mara.expect("2027-02 hasn't begun yet")
