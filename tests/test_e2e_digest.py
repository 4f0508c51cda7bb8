"""End-to-end: /digest on demand, and the weekly digest delivered on schedule exactly once."""

from __future__ import annotations

import datetime as dt
import io
import multiprocessing

import pytest
from openpyxl import load_workbook
from telegram.ext import Application

from bot.app import build_application, polling, services_of
from bot.clock import FrozenClock
from bot.config import Settings
from bot.devtools.sandbox.client import ChatUser
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.jobs.digest import DIGEST_JOB
from bot.services import clients, contacts
from bot.workers import digest as digest_workers
from storage import digest_ledger
from storage.db import Database
from storage.digest_ledger import DigestKind
from storage.users import Role, User
from tests.e2e_helpers import eventually
from tests.factories import make_user
from tests.job_runs import JobRuns

HEAD_ID = 7001
MANAGER_ID = 5005
LONDON = "Europe/London"


def at(day: int, hour: int = 0, minute: int = 0, month: int = 11) -> dt.datetime:
    """A moment in 2026 (UTC, which is London time in November)."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=dt.UTC)


async def team_with_a_week(db: Database, clock: FrozenClock) -> tuple[User, User]:
    """A head and a manager who logged two calls this week (Mon 23 – Sun 29 Nov)."""
    now = clock.now()
    head = await make_user(db, clock, HEAD_ID, Role.HEAD, name="Hal", timezone=LONDON)
    mia = await make_user(db, clock, MANAGER_ID, name="Mia <M>", timezone=LONDON)
    acme = await clients.create_client(db, clock, actor=mia, name="Acme & Sons")
    beta = await clients.create_client(db, clock, actor=mia, name="Beta")
    for client in (acme, beta):
        contact = await contacts.log_contact(
            db, clock, actor=mia, client_id=client.id, kind="call", summary="Prices"
        )
        await contacts.schedule_next_step(
            db, clock, actor=mia, contact_id=contact.id, kind="call", due_at=at(1, 10, month=12)
        )
    clock.set(now)
    return head, mia


def count(person: ChatUser, text: str) -> int:
    """How many of the bot's messages in the chat contain `text`."""
    return sum(text in event.text for event in person.chat.events)


async def test_head_summary_and_every_drill_down(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """/digest asks which week; "This week so far" brings the one-screen summary with its
    buttons, then the chart. Each button edits the summary in place (a manager's week,
    Receivables, Discipline, « Summary); Chart and 📎 Spreadsheet come as new messages, the
    file made on request ("sending a file…" shown meanwhile) and readable by openpyxl."""
    await team_with_a_week(services_of(app).db, clock)
    hal = server.user(HEAD_ID, "Hal")
    digest_workers.shutdown()
    await hal.send("/digest")
    ask = await hal.expect("which week?")
    assert ask.labels == ["This week so far", "Last week"]
    assert "/digest 2026-W47" in ask.text
    assert digest_workers.running()  # started while the head chooses
    await hal.press("This week so far")
    summary = await hal.expect("Team · week 48")
    assert (
        "This week so far, as of Thu 26 Nov 2026, 09:00; changes against last week up to Thu 09:00"
        in (summary.text)
    )
    assert "Contacts 2 (▲2): 2 calls" in summary.text and len(summary.text) <= 1500
    assert summary.labels == [
        "Mia <M> · 2 contacts · 100% on time",
        "💰 Receivables",
        "✅ Discipline",
        "📊 Chart",
        "📎 Spreadsheet (.xlsx)",
    ]
    photo = await hal.expect("Contacts per manager, discipline and what is overdue")
    assert photo.kind == "photo" and photo.photo is not None
    assert photo.photo.startswith(b"\x89PNG")
    assert count(hal, "contacts, steps and invoice movements") == 0  # no file unasked

    await hal.press("Mia <M> · 2 contacts · 100% on time", message_id=summary.message_id)
    person = await hal.expect("Mia <M> · week 48")
    assert person.message_id == summary.message_id  # edited in place
    assert "Mia &lt;M&gt;" in person.html and "Contacts 2 (▲2)" in person.text
    assert "Next week: 2 steps (Tue 1 Dec 2)" in person.text
    assert person.labels == ["« Summary"]
    await hal.press("« Summary", message_id=summary.message_id)
    await hal.expect("Team · week 48")
    await hal.press("💰 Receivables", message_id=summary.message_id)
    money = await hal.expect("Receivables · week 48")
    assert "No open invoices and no payments this week" in money.text
    assert money.labels == ["« Summary", "📎 Spreadsheet (.xlsx)"]
    await hal.press("« Summary", message_id=summary.message_id)
    await hal.expect("Team · week 48")
    await hal.press("✅ Discipline", message_id=summary.message_id)
    discipline = await hal.expect("Discipline · week 48")
    assert "Contacts without a next step now, from any week: 0" in discipline.text
    assert "Steps overdue more than 7 days: 0" in discipline.text
    await hal.press("« Summary", message_id=summary.message_id)
    await hal.expect("Team · week 48")

    assert await hal.press("📊 Chart", message_id=summary.message_id) == "Drawing the chart…"
    again = await hal.expect("Contacts per manager, discipline")
    assert again.kind == "photo" and again.message_id != summary.message_id
    calls_before = len(server.calls)
    answer = await hal.press("📎 Spreadsheet (.xlsx)", message_id=summary.message_id)
    assert answer == "Making the spreadsheet…"
    document = await hal.expect("contacts, steps and invoice movements", timeout=15)
    assert document.document is not None
    assert document.document.filename == "nextstep-2026-W48.xlsx"
    actions = [
        call.params.get("action")
        for call in server.calls[calls_before:]
        if call.method == "sendChatAction"
    ]
    assert "upload_document" in actions
    book = load_workbook(io.BytesIO(document.document.content))
    assert book["Contacts"].max_row == 3  # the header and two calls
    row = next(book["Contacts"].iter_rows(min_row=2, values_only=True))
    assert isinstance(row[0], dt.datetime) and row[1:4] == ("Mia <M>", "Acme & Sons", "call")
    assert row[4] == "scheduled" and row[8] == "Prices"

    await hal.send("/digest 2026-W47")
    last = await hal.expect("Team · week 47")
    assert "No activity logged this week" in last.text
    await hal.send("/digest 2026-W50")
    assert "hasn't started yet" in (await hal.reply()).text
    await hal.send("/digest next friday")
    assert "for example /digest 2026-W47" in (await hal.reply()).text
    await hal.send("/digest <b>&amp; W1")
    hostile = await hal.reply()
    assert "“<b>&amp; W1” as a week" in hostile.text


async def test_an_old_weeks_buttons_still_work(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A week later, the old summary's buttons show that (now complete) week; a button for
    a week that has not begun (forged) is answered clearly."""
    await team_with_a_week(services_of(app).db, clock)
    hal = server.user(HEAD_ID, "Hal")
    await hal.send("/digest 2026-W48")
    summary = await hal.expect("Team · week 48")
    clock.set(at(3, 10, month=12))
    await hal.press("💰 Receivables", message_id=summary.message_id)
    await hal.expect("Receivables · week 48")
    await hal.press("« Summary", message_id=summary.message_id)
    complete = await hal.expect("Team · week 48")
    assert "The full week (Europe/London); changes against the week before" in complete.text
    answer = await hal.press_data("dg:sum:2026-W52:0", message_id=summary.message_id)
    assert answer is not None and "hasn't started yet" in answer


async def test_manager_gets_only_their_own_week(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A manager's /digest is "Your week" on one screen, their open items as buttons and
    their own spreadsheet; team buttons and another manager's are refused politely."""
    db = services_of(app).db
    _, mia_user = await team_with_a_week(db, clock)
    beta = await db.fetch_value("SELECT id FROM clients WHERE name = 'Beta'")
    waiting = await contacts.log_contact(
        db, clock, actor=mia_user, client_id=int(beta), kind="email", summary="Sent the deck"
    )
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/digest")
    own = await mia.expect("Your week · week 48")
    assert "Contacts 3 (▲3)" in own.text and "Next week: 2 steps" in own.text  # Beta's stays
    assert "Without a next step: 1" in own.text and "Team" not in own.text
    assert own.labels == [
        "➡️ Beta: next step?",
        "📎 Spreadsheet (.xlsx)",
        "This week so far",
        "Last week",
    ]
    await mia.press("➡️ Beta: next step?", message_id=own.message_id)
    await mia.expect("What is the next step?")
    assert waiting.id  # the question is for that contact
    await mia.send("/cancel")
    await mia.press("📎 Spreadsheet (.xlsx)", message_id=own.message_id)
    document = await mia.expect("The data of your week 48", timeout=15)
    assert document.document is not None
    assert document.document.filename == "nextstep-2026-W48-mine.xlsx"
    book = load_workbook(io.BytesIO(document.document.content))
    assert book["Contacts"].max_row == 4
    for data in ("dg:sum:2026-W48:0", "dg:sec:rcv:2026-W48", "dg:chart:2026-W48",
                 "dg:xlsx:t:2026-W48", f"dg:mgr:2026-W48:{HEAD_ID}:0"):  # fmt: skip
        answer = await mia.press_data(data, message_id=own.message_id)
        assert answer is not None and (
            "Only heads of sales" in answer or "only your own" in answer
        )
    await mia.press("Last week", message_id=own.message_id)
    await mia.expect("Your week · week 47")
    answer = await mia.press_data(f"dg:mgr:2026-W48:{MANAGER_ID}:0", message_id=own.message_id)
    assert answer is None  # her own button is no refusal: her week 48, in place
    assert "Your week · week 48" in mia.chat.bot_messages[own.message_id].text
    answer = await mia.press_data("dg:t:last", message_id=own.message_id)
    assert answer is not None and "Only heads of sales" in answer
    forged = await mia.expect("Your week · week 47")
    assert "No activity logged" in forged.text and "Team" not in forged.text
    await mia.no_reply(0.3)
    assert count(mia, "Team ·") == 0 and count(mia, "Contacts per manager") == 0
    refused = await db.fetch_value(
        "SELECT count(*) FROM audit_log WHERE action = 'callback.refused' AND actor_id = ?",
        (MANAGER_ID,),
    )
    assert refused == 6


async def test_schedule_buttons_in_settings(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """/settings → Weekly digest: a head picks Tuesday and 08:00; the ledger-free part works."""
    db = services_of(app).db
    await team_with_a_week(db, clock)
    hal = server.user(HEAD_ID, "Hal")
    await hal.send("/settings")
    card = await hal.expect("Your settings")
    assert "📊 Weekly digest" in card.labels
    await hal.press("📊 Weekly digest")
    screen = await hal.expect("Weekly team digest")
    assert "Mon 09:00" in screen.text and "✅ Mon" in screen.labels
    await hal.press("Tue")
    await hal.expect("Tue 09:00")
    await hal.press("08:00")
    saved = await hal.expect("Tue 08:00")
    assert "✅ Tue" in saved.labels and "✅ 08:00" in saved.labels
    assert await digest_ledger.get_prefs(db, HEAD_ID) == digest_ledger.DigestPrefs(
        2, dt.time(8, 0)
    )
    mia = server.user(MANAGER_ID, "Mia")
    await mia.send("/settings")
    await mia.expect("Your settings")
    await mia.press("📊 Weekly digest")
    screen = await mia.expect("“Your week” summary")
    assert "Fri 16:00" in screen.text
    await mia.press("Off")
    await mia.expect("summary: off")


async def test_scheduled_delivery_exactly_once_across_restarts(
    e2e_settings: Settings, clock: FrozenClock, server: FakeBotApiServer
) -> None:
    """Friday 16:00: the manager's "Your week"; Monday 09:00 (the bot down then): the head's
    digest at start-up; further restarts send nothing again."""
    hal = server.user(HEAD_ID, "Hal")
    mia = server.user(MANAGER_ID, "Mia")
    first = build_application(e2e_settings, clock=clock)
    async with polling(first, poll_timeout=1):
        db = services_of(first).db
        await team_with_a_week(db, clock)
        await JobRuns(first, DIGEST_JOB).next_run()  # a tick on Thursday: nothing is due
        assert count(mia, "Your week") == 0 and count(hal, "Team digest") == 0
        clock.set(at(27, 16))
        week = await mia.expect("Your week · week 48", timeout=10)
        assert "So far, as of Fri 27 Nov 2026, 16:00" in week.text
        await eventually(
            db, "SELECT kind, iso_week, state FROM digest_sent", [("own", "2026-W48", "sent")]
        )
    clock.set(at(30, 10, 30))  # Monday 09:00 passed while the bot was down
    second = build_application(e2e_settings, clock=clock)
    async with polling(second, poll_timeout=1):
        digest = await hal.expect("Team · week 48", timeout=10)
        assert "The full week (Europe/London)" in digest.text
        assert "📎 Spreadsheet (.xlsx)" in digest.labels
        await hal.expect("Contacts per manager, discipline", timeout=10)
        await eventually(
            services_of(second).db,
            "SELECT user_id, kind, iso_week, state, parts_sent FROM digest_sent ORDER BY kind",
            [(MANAGER_ID, "own", "2026-W48", "sent", 1), (HEAD_ID, "team", "2026-W48", "sent", 2)],
        )
        assert count(hal, "invoice movements") == 0  # the spreadsheet only on request
    third = build_application(e2e_settings, clock=clock)
    async with polling(third, poll_timeout=1):
        runs = JobRuns(third, DIGEST_JOB)
        await runs.next_run()  # the start-up run
        clock.advance(dt.timedelta(hours=3))
        await runs.next_run()
    assert count(hal, "Team · week") == 1
    assert count(hal, "Contacts per manager") == 1
    assert count(mia, "Your week") == 1
    assert multiprocessing.active_children() == []  # the digest's workers stopped with the bot


async def test_scheduled_delivery_at_monday_nine(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """The job sends the head's digest when Monday 09:00 comes, not a minute before."""
    await team_with_a_week(services_of(app).db, clock)
    hal = server.user(HEAD_ID, "Hal")
    runs = JobRuns(app, DIGEST_JOB)
    clock.set(at(30, 8, 50))
    await runs.next_run()
    digest_workers.shutdown()  # as after 10 idle minutes
    await runs.next_run()
    assert not digest_workers.running()  # 10 minutes before: nothing started
    clock.set(at(30, 8, 59))
    await runs.next_run()
    assert digest_workers.running()  # due within 3 minutes: the chart's workers start
    assert count(hal, "Team ·") == 0
    clock.advance(dt.timedelta(minutes=1))
    await hal.expect("Team · week 48", timeout=10)
    await hal.expect("Contacts per manager", timeout=10)
    await runs.next_run()
    assert count(hal, "Team ·") == 1


async def test_interrupted_delivery_resumes_after_the_sent_parts(
    e2e_settings: Settings, clock: FrozenClock, server: FakeBotApiServer
) -> None:
    """A crash after the summary went out: the next start sends only the chart."""
    hal = server.user(HEAD_ID, "Hal")
    server.user(MANAGER_ID, "Mia")
    first = build_application(e2e_settings, clock=clock)
    async with polling(first, poll_timeout=1):
        db = services_of(first).db
        await team_with_a_week(db, clock)
        clock.set(at(30, 8))
        async with db.transaction() as tx:  # what the crashed sender left behind
            await digest_ledger.claim(
                tx,
                HEAD_ID,
                DigestKind.TEAM,
                "2026-W48",
                now=clock.now(),
                stale_before=clock.now(),
                max_attempts=5,
            )
            await digest_ledger.record_part(tx, HEAD_ID, DigestKind.TEAM, "2026-W48", parts_sent=1)
        await JobRuns(first, DIGEST_JOB).next_run()
        assert count(hal, "Contacts per manager") == 0  # not due yet, nothing sent
        clock.set(at(30, 9, 5))  # due, and the claim is more than a minute old
        await hal.expect("Contacts per manager", timeout=10)
        await eventually(
            db,
            "SELECT state, parts_sent, attempts FROM digest_sent WHERE user_id = ?",
            [("sent", 2, 2)],
            (HEAD_ID,),
        )
    assert count(hal, "Team ·") == 0  # the summary was the part already delivered


async def test_blocked_head_is_not_retried(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A head who blocked the bot: marked unreachable, the week closed as failed, no retry."""
    db = services_of(app).db
    await team_with_a_week(db, clock)
    hal = server.user(HEAD_ID, "Hal")
    server.block_chat(HEAD_ID)
    clock.set(at(30, 9))
    await eventually(db, "SELECT state FROM digest_sent WHERE user_id = ?", ["failed"], (HEAD_ID,))
    await eventually(db, "SELECT reachable FROM users WHERE telegram_id = ?", [0], (HEAD_ID,))
    runs = JobRuns(app, DIGEST_JOB)
    clock.advance(dt.timedelta(minutes=5))
    await runs.next_run()
    assert await db.fetch_value("SELECT attempts FROM digest_sent") == 1
    assert count(hal, "Team ·") == 0


async def test_failed_chart_does_not_stop_the_delivery(
    app: Application,
    server: FakeBotApiServer,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The chart's worker fails on Monday 09:00: the error is logged, a note stands in for the
    chart and the delivery is complete (never sent again)."""
    db = services_of(app).db
    await team_with_a_week(db, clock)
    real = digest_workers.Job

    def failing_chart(function: object, *args: object) -> digest_workers.Job[bytes]:
        if function is digest_workers.draw_chart:
            return real(int, "not a chart")  # type: ignore[arg-type]
        return real(function, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(digest_workers, "Job", failing_chart)
    hal = server.user(HEAD_ID, "Hal")
    clock.set(at(30, 9))
    await hal.expect("Team · week 48", timeout=10)
    await hal.expect("The chart could not be drawn", timeout=10)
    await eventually(
        db,
        "SELECT state, parts_sent FROM digest_sent WHERE user_id = ?",
        [("sent", 2)],
        (HEAD_ID,),
    )
    assert count(hal, "Contacts per manager") == 0
    assert [r.levelname for r in caplog.records if "could not be made" in r.message] == ["ERROR"]
