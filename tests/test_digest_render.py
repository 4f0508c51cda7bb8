"""The digest as messages, chart and spreadsheet: limits, valid Telegram HTML, real types."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from bot.clock import FrozenClock
from bot.devtools.check import check_templates
from bot.devtools.digest_samples import sample_own_summaries, sample_team_digests
from bot.devtools.invoice_samples import sample_user
from bot.devtools.sandbox.telegram_html import parse_html, utf16_len
from bot.devtools.text_samples import SAMPLE_CONTEXTS
from bot.services import clients, contacts, steps
from bot.services.digest import figures as digest
from bot.services.digest import figures as digest_rules
from bot.services.digest.chart import PHONE_WIDTH_PX, WIDTH_PX, render_chart
from bot.services.digest.figures import (
    ChartData,
    ChartRow,
    PersonWeek,
    Week,
    build_discipline,
    build_own_summary,
    build_team_digest,
)
from bot.services.digest.xlsx import build_workbook
from bot.services.receivables import invoices
from bot.views.digest import (
    MANAGERS_PER_PAGE,
    SUMMARY_LIMIT,
    person_keyboard,
    render_discipline,
    render_person,
    render_receivables,
    render_summary,
    summary_keyboard,
    visible_length,
)
from bot.views.render import telegram_length
from bot.workers.digest import chart_part, document_part, plan_parts
from storage.db import Database
from storage.digest_ledger import DigestKind
from storage.digest_rows import ContactRecord, InvoiceMovement, StepRecord
from storage.users import Role, User, get_user
from tests.factories import make_user

LONDON = "Europe/London"
WEEK = "2026-W48"
TRICKY = "Zoë <b>&amp;</b> «Ёлка» 🎄 $x$"
INJECTION = (
    '<r><t>a</t></r></is></c><c r="J2"><f>HYPERLINK("https://evil.test","x")</f></c>'
    '<c r="K2" t="inlineStr"><is><r><t>b</t></r>'
)
"""Text shaped like the sheet's XML: some writers (XlsxWriter 3.3) copy it unescaped."""


def at(day: int, hour: int = 0, minute: int = 0, month: int = 11) -> dt.datetime:
    """A moment in 2026 (UTC, which is London time in November)."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=dt.UTC)


async def big_team(db: Database, clock: FrozenClock, managers: int) -> tuple[User, list[User]]:
    """A head and `managers` managers with long, tricky names; each has clients with
    contacts all week, overdue and snoozed steps, a pause and an overdue invoice."""
    clock.set(at(1))
    head = await make_user(db, clock, 9999, Role.HEAD, name="Hal", timezone=LONDON)
    people = []
    for n in range(managers):
        person = await make_user(
            db, clock, 1000 + n, name=f"{TRICKY} Manager-{n:02d} Longsurname", timezone=LONDON
        )
        people.append(person)
        clock.set(at(1))
        owned = [
            await clients.create_client(db, clock, actor=person, name=f"{TRICKY} Client {n}-{k}")
            for k in range(4)
        ]
        clock.set(at(2))
        await invoices.create_invoice(
            db,
            clock,
            actor=person,
            client_id=owned[0].id,
            number=f"INV-{n}",
            amount_minor=1000_00 + n,
            currency="EUR",
            due_on=dt.date(2026, 8, 1 + n % 28),
            issued_on=dt.date(2026, 7, 1),
        )
        for k, client in enumerate(owned):
            day = 23 + (n + k) % 7
            clock.set(at(day, 9 + k))
            kind = ("call", "meeting", "email")[k % 3]
            summary = f"=SUM(A1) {TRICKY}"
            contact = await contacts.log_contact(
                db, clock, actor=person, client_id=client.id, kind=kind, summary=summary
            )
            if k == 3:
                continue  # left without a next step
            clock.set(at(day, 9 + k, 5))
            due = at(day + 1, 10) if k else at(day, 12)
            if k == 2:
                await contacts.pause_until(
                    db, clock, actor=person, contact_id=contact.id, until=at(2, 10, month=12)
                )
            else:
                step = await contacts.schedule_next_step(
                    db, clock, actor=person, contact_id=contact.id, kind="call", due_at=due
                )
                if k == 0:
                    clock.set(due)
                    await steps.snooze_step(db, clock, actor=person, step_id=step.id, code="1h")
    clock.set(at(30, 9))
    return head, people


def assert_valid_messages(parts: list[str]) -> None:
    """Each message within Telegram's limit and valid HTML for its parser."""
    for part in parts:
        assert telegram_length(part) <= 4096
        parsed = parse_html(part)
        assert parsed.errors == [], (parsed.errors, part[:300])
        assert 0 < utf16_len(parsed.text) <= 4096


def labels(markup: object) -> list[str]:
    """Every button's label of a keyboard."""
    rows = getattr(markup, "inline_keyboard", ())
    return [button.text for row in rows for button in row]


def datas(markup: object) -> list[str]:
    """Every button's callback data."""
    rows = getattr(markup, "inline_keyboard", ())
    return [str(button.callback_data) for row in rows for button in row]


async def test_fifty_managers_summary_fits_one_screen(db: Database, clock: FrozenClock) -> None:
    """A 50-manager team with long, tricky names: the summary is one message of at most
    1,500 characters on screen, valid Telegram HTML, attention list first (at most five
    lines), then the team's figures; one button per manager, 8 a page."""
    head, people = await big_team(db, clock, 50)
    result = await build_team_digest(db, week=Week.parse(WEEK, LONDON), now=clock.now())
    text = render_summary(result, head)
    assert_valid_messages([text])
    shown = parse_html(text).text
    assert utf16_len(shown) <= SUMMARY_LIMIT == 1500
    assert visible_length(text) == utf16_len(shown)
    assert shown.startswith("📊 Team · week 48 (23–29 Nov 2026)")
    attention = shown.split("⚠️ Needs your attention\n")[1].split("\n\n")[0].splitlines()
    assert 1 <= len(attention) <= 5
    assert shown.index("Needs your attention") < shown.index("👥 Team")
    assert "Contacts 200" in shown and "Overdue now: €50," in shown
    assert "&lt;b&gt;" in text  # names escaped once
    markup = summary_keyboard(result)
    names = [data for data in datas(markup) if data.startswith("dg:mgr:")]
    assert len(names) == MANAGERS_PER_PAGE
    assert "Managers 9– ›" in labels(markup)
    for wanted in ("💰 Receivables", "✅ Discipline", "📊 Chart", "📎 Spreadsheet (.xlsx)"):
        assert wanted in labels(markup)
    assert all(len(data.encode()) <= 64 for data in datas(markup))
    seen = set()
    for page in range(7):
        page_names = [b for b in datas(summary_keyboard(result, page)) if b.startswith("dg:mgr:")]
        seen |= {data.split(":")[3] for data in page_names}
    assert seen == {str(person.telegram_id) for person in people}
    last = labels(summary_keyboard(result, 6))
    assert "‹ Managers 41–" in last and not any(label.endswith("›") for label in last)


async def test_sections_render_valid(db: Database, clock: FrozenClock) -> None:
    """Receivables, Discipline and a manager's week are valid messages with their buttons."""
    head, people = await big_team(db, clock, 12)
    week = Week.parse(WEEK, LONDON)
    result = await build_team_digest(db, week=week, now=clock.now())
    receivables = render_receivables(result, head)
    assert_valid_messages([receivables])
    assert "EUR" in receivables and "1. INV-" in receivables
    discipline = await build_discipline(db, week=week, now=at(9, 9, month=12))
    assert discipline.waiting_total == 12  # one contact of each manager has no next step
    assert discipline.late_total == 24 and len(discipline.late) == 6  # two steps each
    assert_valid_messages([render_discipline(discipline, head)])
    summary = await build_own_summary(db, manager=people[0], week=week, now=clock.now())
    for viewer, own in ((people[0], True), (head, False)):
        text = render_person(summary, viewer, own=own)
        assert_valid_messages([text])
        assert visible_length(text) <= SUMMARY_LIMIT
        markup = person_keyboard(summary, viewer, own=own)
        data = datas(markup)
        if own:
            assert any(d.startswith("ns:menu:") for d in data)  # the contact's next step
            assert any(d.startswith("st:open:") for d in data)  # the overdue step's card
            assert "dg:xlsx:o:2026-W48" in data
        else:
            assert any(d.startswith("cl:open:") for d in data)
            assert "dg:sum:2026-W48:0" in data
        assert any(d.startswith("iv:open:") for d in data)  # the overdue invoice


async def test_own_summary_renders_valid(db: Database, clock: FrozenClock) -> None:
    """A manager's "Your week" with every section is valid and one screen."""
    _, people = await big_team(db, clock, 2)
    summary = await build_own_summary(
        db, manager=people[0], week=Week.parse(WEEK, LONDON), now=clock.now()
    )
    text = parse_html(render_person(summary, people[0], own=True)).text
    assert "Your week · week 48" in text and "Without a next step: 1" in text
    assert "Next week" in text and "EUR: open" in text


async def test_empty_week_is_a_short_digest(db: Database, clock: FrozenClock) -> None:
    """No activity: one short message saying so; no chart, no spreadsheet."""
    head = await make_user(db, clock, 9, Role.HEAD, name="Hal", timezone=LONDON)
    await make_user(db, clock, 1, name="Mia", timezone=LONDON)
    makers = await plan_parts(db, clock, head, DigestKind.TEAM, Week.parse(WEEK, LONDON))
    parts = [await make() for make in makers]
    assert [part.kind for part in parts] == ["text"]
    assert "No activity logged this week" in parts[0].text
    assert len(parts[0].text) < 1500
    assert_valid_messages([parts[0].text])


def chart_row(name: str, n: int) -> ChartRow:
    """A chart row with some of everything."""
    return ChartRow(name, n % 7, n % 3, 1, (n * 13) % 101, (n * 13) % 101 < 80, n % 5, n % 4)


def test_chart_png_for_one_six_twenty_and_a_hundred_managers() -> None:
    """Up to 20 managers: the phone layout, 720 px wide and taller than wide (the panels one
    under another, read at half size on a phone); a bigger team: 1280 px, side by side.
    Odd names work; every size keeps within Telegram's limits for photos."""
    sizes = []
    for count in (1, 6, 20, 100):
        png = render_chart(
            ChartData(tuple(chart_row(f"Manager {n:03d} 王 🎄 $x$ <b>", n) for n in range(count))),
            title="Who",
        )
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(png)) as image:
            sizes.append(image.size)
    assert [width for width, _ in sizes] == [
        PHONE_WIDTH_PX,
        PHONE_WIDTH_PX,
        PHONE_WIDTH_PX,
        WIDTH_PX,
    ]
    assert sizes[1][1] > sizes[1][0]  # six managers: taller than wide, not a 4:1 strip
    assert sizes[3][1] > 44 * 100
    for width, height in sizes:
        assert width + height <= 10000 and height <= 20 * width  # Telegram's photo limits


def test_chart_marks_discipline_and_overdue() -> None:
    """The discipline marker is red under the target and green over it; overdue steps and
    invoices are drawn only for people with something overdue (beyond the legend's)."""

    def colours(rows: tuple[ChartRow, ...]) -> dict[tuple[int, int, int], int]:
        png = render_chart(ChartData(rows), title="x")
        with Image.open(io.BytesIO(png)) as image:
            found = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
        return {colour: count for count, colour in found}

    good = ChartRow("Good", 5, 0, 0, 90, False, 0, 0)
    bad = ChartRow("Bad", 5, 0, 0, 40, True, 3, 2)
    red, green, purple = (0xD6, 0x27, 0x28), (0x2E, 0x8B, 0x57), (0x8E, 0x44, 0xAD)
    alone = colours((good,))
    assert alone.get(green, 0) > 50 and alone.get(red, 0) == 0
    both = colours((good, bad))
    assert both.get(red, 0) > 50 and both.get(green, 0) > 50
    assert both.get(purple, 0) > alone.get(purple, 0) + 500  # the overdue steps' bar


async def test_spreadsheet_sheets_and_types(db: Database, clock: FrozenClock) -> None:
    """Three sheets with a header row; dates are dates, money numbers with a currency."""
    head, _ = await big_team(db, clock, 3)
    clock.set(at(25, 12))
    entry = await db.fetch_one("SELECT id FROM invoices ORDER BY id LIMIT 1")
    assert entry is not None
    person = await db.fetch_one(
        "SELECT u.telegram_id FROM invoices i JOIN clients c ON c.id = i.client_id"
        " JOIN users u ON u.telegram_id = c.owner_id WHERE i.id = ?",
        (entry["id"],),
    )
    owner = await get_user(db, person["telegram_id"])
    assert owner is not None
    await invoices.record_payment(
        db, clock, actor=owner, invoice_id=entry["id"], amount_minor=250_50
    )
    clock.set(at(30, 9))
    result = await build_team_digest(db, week=Week.parse(WEEK, LONDON), now=clock.now())
    kinds = [
        (await make()).kind
        for make in await plan_parts(db, clock, head, DigestKind.TEAM, result.week)
    ]
    assert kinds == ["text", "photo"]  # the spreadsheet comes only on request
    assert chart_part(result, head).filename == "nextstep-2026-W48.png"
    records = await digest.week_records(db, week=result.week)
    document = document_part(result.week, records, head)
    assert document.filename == "nextstep-2026-W48.xlsx"
    book = load_workbook(io.BytesIO(document.content))
    assert book.sheetnames == ["Contacts", "Steps", "Invoice movements"]
    sheet = book["Contacts"]
    header = [cell.value for cell in sheet[1]]
    assert header[:5] == [
        "Happened (Europe/London)",
        "Manager",
        "Client",
        "Kind",
        "Next step or closure",
    ]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 12
    assert all(isinstance(row[0], dt.datetime) for row in rows)
    assert rows[0][8].startswith("=SUM(A1)")  # text, not a formula
    assert sheet.cell(row=2, column=9).data_type == "s"
    assert {row[4] for row in rows} == {"scheduled", "paused", "missing"}
    steps_sheet = list(book["Steps"].iter_rows(min_row=2, values_only=True))
    assert steps_sheet and all(isinstance(row[1], dt.datetime) for row in steps_sheet)
    money = list(book["Invoice movements"].iter_rows(values_only=True))
    assert money[0][5:7] == ("Currency", "Amount")
    assert money[1][:2] == (dt.datetime(2026, 11, 25), "payment")
    assert money[1][5] == "EUR" and money[1][6] == 250.5
    assert money[1][7] == 1000 and money[1][8] == 749.5  # invoice amount, balance now
    cell = book["Invoice movements"].cell(row=2, column=7)
    assert cell.data_type == "n" and cell.number_format == "#,##0.00"


def test_chart_of_a_huge_team_keeps_the_busiest() -> None:
    """Beyond 150 people the chart keeps the busiest, so the photo stays within limits."""
    people = [PersonWeek(n, f"P{n:03d}", calls=n) for n in range(1, 161)]
    chart = digest_rules._chart(people)
    assert (len(chart.rows), chart.omitted) == (150, 10)
    assert chart.rows[0].name == "P160" and chart.rows[-1].name == "P011"
    png = render_chart(chart, title="x")
    with Image.open(io.BytesIO(png)) as image:
        assert sum(image.size) <= 10000


SUMMER = dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC)  # 10:30 in London (BST)
WINTER = dt.datetime(2026, 11, 24, 16, 45, 30, tzinfo=dt.UTC)  # 16:45:30 (GMT)
HYPERLINK = '=HYPERLINK("https://evil.test","Click")'


def hostile_workbook() -> bytes:
    """A workbook of every cell type, with text meant to break it."""
    contacts = [
        ContactRecord(1, SUMMER, SUMMER, SUMMER + dt.timedelta(minutes=95), "@mia", "+44 Acme",
                      "call", "complete", "scheduled", None, HYPERLINK + "\x07\x00 bell"),
        ContactRecord(2, WINTER, WINTER, None, "=1+1", "<r>Beta</r>", "visit",
                      "needs_next_step", None, None, INJECTION),
        ContactRecord(3, WINTER, WINTER, None, " Mia ", "a_x0041_b", "email", "needs_next_step",
                      None, None, ""),
        ContactRecord(4, WINTER, WINTER, None, "Mia", "Ёлка & <b>", "call", "needs_next_step",
                      None, "x" * 40_000, "line 1\nline 2 🎄"),
    ]  # fmt: skip
    steps = [
        StepRecord(5, SUMMER, WINTER, "Mia", "Acme", "call", "open", 2, 1, "=cmd|' /C calc'!A0"),
    ]
    movements = [
        InvoiceMovement(dt.date(2026, 11, 25), movement, "INV-1", "Acme", "Mia", code, minor,
                        invoice, balance, dt.date(2026, 12, 1), "open")
        for movement, code, minor, invoice, balance in (
            ("payment", "EUR", 250_50, 1000_00, 749_50),
            ("payment", "JPY", 5000, 12000, 7000),
            ("promise_kept", "KWD", None, 1_234_567, 1_234_567),
        )
    ]  # fmt: skip
    return build_workbook(timezone=LONDON, contacts=contacts, steps=steps, movements=movements)


def test_workbook_types_formats_and_hostile_text() -> None:
    """Read back by openpyxl (an independent reader): bold frozen headers and column widths;
    date-times on the team's wall clock (BST and GMT), dates and money as typed numbers with
    their formats (0, 2 and 3 decimals); text that looks like a formula stays a string, and
    characters XML cannot hold are dropped; text shaped like the sheet's XML injects
    nothing; text longer than a cell holds is cut; leading spaces and line breaks stay."""
    book = load_workbook(io.BytesIO(hostile_workbook()))
    assert book.sheetnames == ["Contacts", "Steps", "Invoice movements"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.b for cell in sheet[1])
        assert sheet.column_dimensions["A"].width >= 12
    sheet = book["Contacts"]
    assert sheet.column_dimensions["I"].width >= 60  # the summary
    first, second, third, fourth = list(sheet.iter_rows(min_row=2))
    assert first[0].value == dt.datetime(2026, 7, 1, 10, 30)
    assert first[0].is_date  # openpyxl's date-time format: a style per cell costs 2x
    assert first[5].value == dt.datetime(2026, 7, 1, 12, 5)
    assert first[6].value == 95 and first[6].data_type == "n"
    assert (first[1].value, first[2].value) == ("@mia", "+44 Acme")
    assert first[8].value == HYPERLINK + " bell" and first[8].data_type == "s"
    assert second[0].value == dt.datetime(2026, 11, 24, 16, 45, 30)
    assert second[1].value == "=1+1" and second[1].data_type == "s"
    assert second[2].value == "<r>Beta</r>" and second[8].value == INJECTION
    assert sheet.max_column == 9  # nothing injected beside it
    assert not [
        c for s in book.worksheets for row in s.iter_rows() for c in row if c.data_type == "f"
    ]
    assert third[4].value == "missing" and third[5].value is None and third[8].value is None
    assert third[1].value == " Mia "
    assert fourth[2].value == "Ёлка & <b>" and fourth[8].value == "line 1\nline 2 🎄"
    assert fourth[7].value == "x" * 32_767  # Excel's limit for a cell
    step = next(book["Steps"].iter_rows(min_row=2))
    assert step[1].value == dt.datetime(2026, 11, 24, 16, 45, 30)
    assert [step[6].value, step[7].value] == [2, 1]
    assert step[8].value == "=cmd|' /C calc'!A0" and step[8].data_type == "s"
    money = list(book["Invoice movements"].iter_rows(min_row=2))
    assert [row[0].value for row in money] == [dt.datetime(2026, 11, 25)] * 3
    assert money[0][0].number_format == "yyyy-mm-dd" and money[0][9].is_date
    assert [row[1].value for row in money] == ["payment", "payment", "promise kept"]
    assert [row[5].value for row in money] == ["EUR", "JPY", "KWD"]
    assert [row[6].value for row in money] == [250.5, 5000, None]
    assert [row[8].value for row in money] == [749.5, 7000, 1234.567]
    assert [row[8].number_format for row in money] == ["#,##0.00", "#,##0", "#,##0.000"]
    assert all(row[8].data_type == "n" for row in money)


def test_empty_workbook_has_its_headers() -> None:
    """No rows: three sheets with their header row only."""
    book = load_workbook(
        io.BytesIO(build_workbook(timezone=LONDON, contacts=[], steps=[], movements=[]))
    )
    assert [sheet.max_row for sheet in book.worksheets] == [1, 1, 1]
    assert book["Steps"]["B1"].value == "Due (Europe/London)"


def test_samples_cover_the_digest_templates() -> None:
    """`python -m bot check` renders the digest templates from samples with every section;
    they are valid Telegram HTML too, and the summary fits one screen."""
    assert {
        "digest/summary.html.j2",
        "digest/receivables.html.j2",
        "digest/discipline.html.j2",
        "digest/person.html.j2",
    } <= set(SAMPLE_CONTEXTS)
    assert check_templates() == []
    head = sample_user(Role.HEAD)
    full, complete, empty = sample_team_digests()
    for team in (full, complete, empty):
        text = render_summary(team, head)
        assert_valid_messages([text, render_receivables(team, head)])
        assert visible_length(text) <= SUMMARY_LIMIT
    text = render_summary(full, head)
    for heading in ("Needs your attention", "👥 Team", "Overdue now", "Received"):
        assert heading in text
    assert "No activity logged" in render_summary(empty, head)
    busy, quiet = sample_own_summaries()
    for summary in (busy, quiet):
        assert_valid_messages([render_person(summary, sample_user(), own=True)])
    assert "Without a next step: 3" in render_person(busy, sample_user(), own=True)


SOFFICE = shutil.which("soffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed")
def test_workbook_as_libreoffice_reads_it(tmp_path: Path) -> None:
    """A second independent reader, closer to Excel: LibreOffice opens the file and shows
    every value as formatted (dates, money with its decimals), text as text, nothing else."""
    (tmp_path / "week.xlsx").write_bytes(hostile_workbook())
    assert SOFFICE is not None
    subprocess.run(  # noqa: S603 - LibreOffice on our own file
        [
            SOFFICE,
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1",
            "--outdir",
            str(tmp_path),
            str(tmp_path / "week.xlsx"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )

    def rows(sheet: str) -> list[list[str]]:
        text = (tmp_path / f"week-{sheet}.csv").read_text(encoding="utf-8")
        return list(csv.reader(io.StringIO(text)))

    contacts = rows("Contacts")
    assert contacts[1][:7] == [
        "2026-07-01 10:30:00", "@mia", "+44 Acme", "call", "scheduled",
        "2026-07-01 12:05:00", "95",
    ]  # fmt: skip
    assert contacts[1][8] == HYPERLINK + " bell"
    assert contacts[2][1:3] == ["=1+1", "<r>Beta</r>"] and contacts[2][8] == INJECTION
    assert contacts[3][1:3] == [" Mia ", "a_x0041_b"]  # Excel's escapes stay literal text
    assert len(contacts) == 5 and all(len(row) == 9 for row in contacts)
    assert rows("Steps")[1][8] == "=cmd|' /C calc'!A0"
    money = rows("Invoice movements")
    assert [row[6:9] for row in money[1:]] == [
        ["250.50", "1,000.00", "749.50"],
        ["5,000", "12,000", "7,000"],
        ["", "1,234.567", "1,234.567"],
    ]
    assert money[1][0] == "2026-11-25" and money[1][9] == "2026-12-01"


def test_chart_fonts_cover_cyrillic_devanagari_and_gujarati_names() -> None:
    """Every letter of names in Russian, Hindi and Gujarati has a glyph in one of the chart's
    fonts (Debian's fonts-noto-core, which `make` installs), so none is drawn as a box."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    from bot.services.digest.chart import FONT_FAMILIES

    assert FONT_FAMILIES[1:] == ["Noto Sans", "Noto Sans Devanagari", "Noto Sans Gujarati"]
    charmaps = [
        set(FT2Font(font_manager.findfont(family, fallback_to_default=False)).get_charmap())
        for family in FONT_FAMILIES
    ]
    for name in ("Мария Ёлкина", "प्रिया शर्मा हिन्दी क्ष", "શ્રી ક્ષમા પટેલ"):
        missing = [c for c in name if not c.isspace() and all(ord(c) not in m for m in charmaps)]
        assert missing == [], name
    png = render_chart(ChartData((chart_row("શ્રી ક્ષમા પટેલ", 3),)), title="સપ્તાહ")
    assert png.startswith(b"\x89PNG")
