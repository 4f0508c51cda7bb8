"""End-to-end: clients through the real bot — /newclient, /clients, the card, import, export."""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
import zipfile
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.app import build_application, polling, services_of
from bot.clock import FrozenClock
from bot.config import Settings
from bot.devtools.sandbox.client import ChatUser
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.services import clients, contacts, team
from storage import audit
from tests.e2e_helpers import join, start_admin
from tests.reliability.big_seed import import_file, seed_big

MIA = 5005
OSCAR = 5006
HANA = 5007
CARD_BUTTONS = [
    "Log call",
    "Log meeting",
    "Edit",
    "Notes",
    "History",
    "Templates",
    "Invoice",
    "Trust level",
]


async def manager(server: FakeBotApiServer, user_id: int = MIA, name: str = "Mia") -> ChatUser:
    """The admin starts the bot and invites a manager, who joins."""
    admin = await start_admin(server)
    return await join(server, admin, user_id, name)


async def new_client(user: ChatUser, line: str) -> str:
    """`/newclient <one line>`; returns the saved card's text."""
    await user.send(f"/newclient {line}")
    return (await user.expect("Client saved")).text


async def client_id(app: Application, name: str) -> int:
    """The id of the (first) client with this name."""
    db = services_of(app).db
    value = await db.fetch_value("SELECT id FROM clients WHERE name = ? ORDER BY id", (name,))
    assert value is not None, name
    return int(value)


async def test_newclient_flow_with_skip_and_phone_asked_again(
    app: Application, server: FakeBotApiServer
) -> None:
    """Name first, every other field skippable; a bad phone gets the reason and is re-asked."""
    mia = await manager(server)
    await mia.send("/newclient")
    await mia.expect("What is the client's name?")
    await mia.send("Acme LLC")
    ask = await mia.expect("contact person at Acme LLC")
    assert ask.labels == ["Skip"]
    await mia.press("Skip")
    await mia.expect("Their phone number?")
    await mia.send("12")
    again = await mia.expect("phone number")
    assert "Please send it again, or tap Skip." in again.text
    assert again.labels == ["Skip"]
    await mia.send("+44 20 7946 0958")
    await mia.expect("e-mail address?")
    await mia.send("ivan@acme")
    bad_email = await mia.expect("doesn't look like an e-mail address")
    assert bad_email.labels == ["Skip"]
    await mia.send("ivan@acme.test")
    await mia.expect("Tags or segment")
    await mia.send("VIP, retail")
    card = await mia.expect("Client saved")
    assert "Acme LLC" in card.text
    assert "👤" not in card.text  # the contact person was skipped
    assert "+44 20 7946 0958" in card.text
    assert "ivan@acme.test" in card.text and "vip, retail" in card.text
    assert "No contacts yet" in card.text and "None scheduled" in card.text
    assert card.labels == CARD_BUTTONS
    client = await client_id(app, "Acme LLC")
    assert card.button("Log call")["callback_data"] == f"log:new:{client}:call"
    assert card.button("Log meeting")["callback_data"] == f"log:new:{client}:meeting"


async def test_newclient_flow_survives_a_restart(
    e2e_settings: Settings, clock: FrozenClock, server: FakeBotApiServer
) -> None:
    """Half-way through /newclient when the bot restarts: the next answer carries on."""
    first = build_application(e2e_settings, clock=clock)
    async with polling(first, poll_timeout=1):
        admin = await start_admin(server)
        await admin.send("/newclient")
        await admin.expect("What is the client's name?")
        await admin.send("Acme LLC")
        await admin.expect("contact person at Acme LLC")
    second = build_application(e2e_settings, clock=clock)
    async with polling(second, poll_timeout=1):
        await admin.press("Skip")
        await admin.expect("phone number?")
        await admin.send("+44 20 7946 0958")
        await admin.expect("e-mail address?")
        await admin.press("Skip")
        await admin.expect("Tags or")
        await admin.send("/cancel")
        assert "Nothing was changed" in (await admin.reply()).text
        await admin.send("/clients")
        assert "Nobody on the team has clients yet" in (await admin.reply()).text


async def test_one_line_form_duplicates_and_create_anyway(
    app: Application, server: FakeBotApiServer
) -> None:
    """The one-line form saves at once; a duplicate name offers Open and Create anyway."""
    mia = await manager(server)
    card = await new_client(mia, "Acme LLC; Ivan Petrov; +44 20 7946 0958; ivan@acme.test")
    assert "Ivan Petrov" in card and "+44 20 7946 0958" in card and "ivan@acme.test" in card

    await mia.send("/newclient acme llc; Olga")
    duplicate = await mia.expect("Acme LLC already exists")
    assert duplicate.labels == ["Open Acme LLC", "Create anyway"]
    await mia.press("Create anyway")
    second = await mia.expect("Client saved")
    assert "Olga" in second.text

    await mia.send("/newclient")
    await mia.expect("What is the client's name?")
    await mia.send("ACME LLC")
    for question in ("contact person at", "phone number?", "e-mail address?", "Tags or"):
        await mia.expect(question)
        await mia.press("Skip")
    await mia.expect("Acme LLC already exists")
    await mia.press("Open Acme LLC")
    opened = await mia.expect("Ivan Petrov")
    assert opened.labels == CARD_BUTTONS
    await mia.send("hello")  # the flow ended when the card was opened
    await mia.expect("didn't understand")
    db = services_of(app).db
    assert await db.fetch_value("SELECT count(*) FROM clients") == 2


async def test_one_line_bad_email_is_asked_again(
    app: Application, server: FakeBotApiServer
) -> None:
    """A refused part of the one-line form is asked again; the rest is kept."""
    mia = await manager(server)
    await mia.send("/newclient Beta GmbH; Hans Weber; not-an-email@")
    ask = await mia.expect("doesn't look like an e-mail address")
    assert ask.labels == ["Skip"]
    await mia.press("Skip")
    card = await mia.expect("Client saved")
    assert "Beta GmbH" in card.text and "Hans Weber" in card.text
    await mia.send("/newclient ; Nobody")
    assert "Start with the client's name" in (await mia.reply()).text


async def test_clients_search_unicode_and_pages(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """/clients searches case- and accent-insensitively and pages with Prev / Next."""
    mia = await manager(server)
    await new_client(mia, "Acme LLC; Ivan Petrov; +44 20 7946 0958")
    await new_client(mia, "Ёлочка ООО; Пётр Иванов")
    await new_client(mia, "Café Crème; Zoë")

    await mia.send("/clients acme")
    found = await mia.expect("Your clients")
    assert "matching “acme”" in found.text and "Acme LLC" in found.text
    assert "Ёлочка" not in found.text
    assert found.labels == ["Acme LLC"]
    await mia.send("/clients ЕЛОЧКА")
    assert (await mia.expect("Your clients")).labels == ["Ёлочка ООО"]
    await mia.send("/clients петр")
    assert (await mia.expect("Your clients")).labels == ["Ёлочка ООО"]
    await mia.send("/clients cafe creme")
    assert (await mia.expect("Your clients")).labels == ["Café Crème"]
    await mia.send("/clients 7946")
    assert (await mia.expect("Your clients")).labels == ["Acme LLC"]
    await mia.send("/clients zzz")
    assert "No client matches “zzz”" in (await mia.reply()).text

    await mia.send("/clients acme")
    await mia.expect("Your clients")
    await mia.press("Acme LLC")
    card = await mia.expect("Ivan Petrov")
    assert card.labels == CARD_BUTTONS

    db = services_of(app).db
    me = await team.get_member(db, MIA)
    for number in range(7):
        await clients.create_client(db, clock, actor=me, name=f"Bulk {number}")
    await mia.send("/clients")
    first = await mia.expect("page 1")
    assert len(first.labels) == 9 and first.labels[-1] == "Next »"
    await mia.press("Next »")
    second = await mia.expect("page 2")
    assert second.labels[-1] == "« Prev" and len(second.labels) == 3
    await mia.press("« Prev")
    await mia.expect("page 1")


async def test_card_edit_status_notes_and_history(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Edit a field (validated), set the status, add a note and page through the history."""
    mia = await manager(server)
    await new_client(mia, "Acme LLC; Ivan Petrov; +44 20 7946 0958")
    await mia.press("Edit")
    menu = await mia.expect("What would you like to change for Acme LLC?")
    assert "Phone number" in menu.labels and "Status" in menu.labels
    await mia.press("Phone number")
    await mia.expect("Send the new phone number")
    await mia.send("555")
    assert "Please send it again" in (await mia.expect("phone number")).text
    await mia.send("+44 20 7946 0123")
    updated = await mia.expect("Phone number updated")
    assert "+44 20 7946 0123" in updated.text

    await mia.press("Edit")
    await mia.expect("What would you like to change")
    await mia.press("Status")
    await mia.expect("Status of Acme LLC")
    await mia.press("active")
    assert "Acme LLC · active" in (await mia.expect("Status: active")).text

    await mia.press("Notes")
    await mia.expect("No notes yet")
    await mia.press("Add a note")
    await mia.expect("Send the note for Acme LLC")
    await mia.send("Prefers calls after 15:00")
    notes = await mia.expect("Note added")
    assert "2026-11-26: Prefers calls after 15:00" in notes.text

    db = services_of(app).db
    me = await team.get_member(db, MIA)
    acme = await client_id(app, "Acme LLC")
    for number in range(12):
        await contacts.log_contact(
            db, clock, actor=me, client_id=acme, kind="call", summary=f"Call number {number}"
        )
    await mia.press("« Back to the card")
    card = await mia.expect("Acme LLC")
    assert "Call number 11" in card.text and "needs a next step" in card.text
    await mia.press("History")
    history = await mia.expect("History · Acme LLC")
    assert "Call number 11" in history.text and "Call number 2" in history.text
    assert "Call number 1\n" not in history.text
    assert "Older »" in history.labels
    await mia.press("Older »")
    older = await mia.expect("page 2")
    assert "Call number 0" in older.text and "« Newer" in older.labels


async def test_import_csv_reports_good_duplicate_and_bad_rows(
    app: Application, server: FakeBotApiServer
) -> None:
    """A UTF-8-with-BOM, semicolon CSV: imported, duplicates and rejects with row numbers."""
    mia = await manager(server)
    await new_client(mia, "Acme LLC")
    rows = [
        "Company;Contact person;Phone;E-mail;Tags;Fax",
        "Beta GmbH;Hans Weber;+49 30 901820;hans@beta.test;vip, retail;1",
        "ACME llc;Someone;;;;",
        "Gamma Ltd;Gina;12;;;",
        "Delta;Dan;;dan@@delta;;",
        "Ёлка;Пётр;;;опт;",
    ]
    data = "\ufeff" + "\r\n".join(rows) + "\r\n"
    await mia.send_document("clients.csv", data.encode("utf-8"))
    report = await mia.expect("Import of clients.csv")
    assert "Imported: 2" in report.text
    assert "Skipped as duplicates: 1 — ACME llc (row 3)" in report.text
    assert "Rejected: 2" in report.text
    assert "Row 4 (Gamma Ltd):" in report.text and "phone number" in report.text
    assert "Row 5 (Delta):" in report.text and "e-mail address" in report.text
    assert "ignored: Fax" in report.text
    await mia.send("/clients елка")
    assert (await mia.expect("Your clients")).labels == ["Ёлка"]


async def test_import_refusals(app: Application, server: FakeBotApiServer) -> None:
    """Not a CSV, too big (refused before downloading) or unreadable: a specific answer."""
    mia = await manager(server)
    await mia.send_document("photo.png", b"\x89PNG", mime_type="image/png")
    assert "from a .csv file only" in (await mia.reply()).text
    huge = b"name\n" + b"x" * clients.MAX_IMPORT_BYTES
    await mia.send_document("huge.csv", huge)
    assert "I can import files up to 5 MB" in (await mia.reply()).text
    assert not [call for call in server.calls if call.method == "getFile"]
    await mia.send_document("latin1.csv", "name\nCafé\n".encode("latin-1"))
    assert "not UTF-8" in (await mia.reply()).text
    await mia.send_document("nameless.csv", b"phone\n+44 20 7946 0958\n")
    assert "including one for the client's name" in (await mia.reply()).text


async def test_import_report_fits_one_message(app: Application, server: FakeBotApiServer) -> None:
    """Hundreds of bad rows with long names: the report is cut to one message."""
    mia = await manager(server)
    lines = ["name,phone"] + [f"{'Long name ' * 15}{n},12345" for n in range(300)]
    await mia.send_document("bad.csv", "\n".join(lines).encode())
    report = await mia.expect("Import of bad.csv")
    assert "Rejected: 300" in report.text and "more rejected rows" in report.text
    assert len(report.html) <= 4096


async def test_export_sends_csv_with_formulas_neutralised(
    app: Application, server: FakeBotApiServer
) -> None:
    """/export returns clients.csv with the client, and a formula-like cell made inert."""
    mia = await manager(server)
    await new_client(mia, "Acme LLC; Ivan Petrov; +44 20 7946 0958")
    await new_client(mia, '=HYPERLINK("http://evil.test","x"); Eve')
    await mia.send("/export")
    message = await mia.expect("Your clients and their contacts")
    document = message.document
    assert document is not None and document.filename == "clients.csv"
    table = list(csv.reader(io.StringIO(document.content.decode("utf-8-sig"))))
    names = [row[1] for row in table[1:]]
    assert "Acme LLC" in names
    assert '\'=HYPERLINK("http://evil.test","x")' in names
    assert "+442079460958" not in [row[3] for row in table[1:]]  # the + is guarded too
    assert "'+442079460958" in [row[3] for row in table[1:]]


async def test_forged_card_button_is_refused_and_audited(
    app: Application, server: FakeBotApiServer
) -> None:
    """A manager pressing a button with another manager's client id is refused and audited."""
    admin = await start_admin(server)
    mia = await join(server, admin, MIA, "Mia")
    oscar = await join(server, admin, OSCAR, "Oscar")
    await new_client(oscar, "Oscar Corp; Olga")
    theirs = await client_id(app, "Oscar Corp")
    sent = await mia.send("hi")
    await mia.reply()
    for data in (f"cl:open:{theirs}", f"cl:hist:{theirs}:0", f"cl:rto:{theirs}:{MIA}"):
        answer = await mia.press_data(data, message_id=sent["message_id"])
        assert answer is not None
        assert "belongs to another manager" in answer or "Only admins and heads" in answer
    answer = await mia.press_data("cl:open:abc", message_id=sent["message_id"])
    assert answer == "That button is not valid any more."
    db = services_of(app).db
    denied = await audit.recent_entries(db, action="access.denied")
    assert {entry.actor_id for entry in denied} == {MIA}
    assert {entry.object_id for entry in denied} == {str(theirs)}
    await mia.send("/clients")
    assert "You have no clients yet" in (await mia.reply()).text
    assert await db.fetch_value("SELECT owner_id FROM clients WHERE id = ?", (theirs,)) == OSCAR


async def test_head_sees_everyone_and_reassigns(
    app: Application, server: FakeBotApiServer
) -> None:
    """A head lists everyone's clients with their owner, and hands one to another manager."""
    admin = await start_admin(server)
    mia = await join(server, admin, MIA, "Mia")
    oscar = await join(server, admin, OSCAR, "Oscar")
    hana = await join(server, admin, HANA, "Hana", role_label="Head of sales")
    await new_client(mia, "Acme LLC; Ivan")
    await new_client(oscar, "Oscar Corp; Olga")

    await hana.send("/clients")
    listing = await hana.expect("All clients")
    assert "💼 Mia" in listing.text and "💼 Oscar" in listing.text
    assert sorted(listing.labels) == ["Acme LLC", "Oscar Corp"]
    await hana.press("Acme LLC")
    card = await hana.expect("Manager: Mia")
    assert card.labels == [*CARD_BUTTONS, "Reassign"]
    await hana.press("Reassign")
    await hana.expect("Hand Acme LLC (now with Mia) to whom?")
    await hana.press("Oscar (manager)")
    moved = await hana.expect("Now managed by Oscar")
    assert "Manager: Oscar" in moved.text

    await oscar.send("/clients")
    assert sorted((await oscar.expect("Your clients")).labels) == ["Acme LLC", "Oscar Corp"]
    await mia.send("/clients")
    assert "You have no clients yet" in (await mia.reply()).text


# --- big files: export in parts, imports in chunks, the per-manager limit -----------------


def _parts_table(parts: list[bytes]) -> list[list[list[str]]]:
    """Each ZIP part's single CSV, as rows (header first)."""
    tables = []
    for content in parts:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            (name,) = archive.namelist()
            text = archive.read(name).decode("utf-8-sig")
        tables.append(list(csv.reader(io.StringIO(text))))
    return tables


def _left_in(folder: Path) -> list[str]:
    return [path.name for path in folder.iterdir()]


async def _emptied(folder: Path, within: float = 5.0) -> list[str]:
    """What is left in `folder` once the bot has cleaned up (it does so just after sending)."""
    for _ in range(int(within / 0.02)):
        if not _left_in(folder):
            break
        await asyncio.sleep(0.02)
    return _left_in(folder)


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder the bot's exports go to (empty again once each is sent)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


async def test_big_export_is_zipped_in_parts_under_the_upload_limit(
    app: Application,
    server: FakeBotApiServer,
    private_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An export over the upload limit comes as ZIP parts, each under the limit and each a
    whole CSV with the column titles, made by a worker process while "sending a file…" shows;
    formula cells stay neutralised and the temporary files are gone afterwards."""
    limit = 160 * 1024
    monkeypatch.setattr("handlers.clients.EXPORT_PART_LIMIT", limit, raising=False)
    # The worker process, as at full size.
    monkeypatch.setattr("bot.workers.files.THREAD_EXPORT_ROWS", 0, raising=False)
    admin = await start_admin(server)
    db = services_of(app).db
    seed_big(db.path, managers=3, clients=1_000, contacts=12_000, head_id=HANA)
    await new_client(admin, '=HYPERLINK("http://evil.test","x"); Eve')
    hana = server.user(HANA, "Hana")
    await hana.send("/export")
    first = await hana.expect("Part 1 of", timeout=60)
    count = int(first.text.split("Part 1 of ")[1].split(":")[0])
    assert count >= 2
    documents = [first]
    for number in range(2, count + 1):
        documents.append(await hana.expect(f"Part {number} of {count}", timeout=30))
    assert [d.document.filename for d in documents if d.document] == [
        f"clients-part{n}.zip" for n in range(1, count + 1)
    ]
    contents = [d.document.content for d in documents if d.document]
    assert all(len(content) <= limit for content in contents)
    tables = _parts_table(contents)
    assert all(table[0] == tables[0][0] for table in tables)
    assert tables[0][0][:2] == ["client_id", "name"]
    rows = [row for table in tables for row in table[1:]]
    assert len(rows) == 12_001 and "12,001 rows" in first.text
    assert '\'=HYPERLINK("http://evil.test","x")' in {row[1] for row in rows}
    actions = [c.params.get("action") for c in server.calls if c.method == "sendChatAction"]
    assert "upload_document" in actions
    assert await _emptied(private_tmp) == []


async def test_export_too_big_for_telegram_is_refused_with_the_reason(
    app: Application,
    server: FakeBotApiServer,
    private_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When even the parts would be too many files, the person is told why; nothing is sent
    and nothing is left behind."""
    monkeypatch.setattr("handlers.clients.EXPORT_PART_LIMIT", 160 * 1024, raising=False)
    monkeypatch.setattr("handlers.clients.EXPORT_MAX_PARTS", 2, raising=False)
    await start_admin(server)
    db = services_of(app).db
    seed_big(db.path, managers=2, clients=1_000, contacts=12_000, head_id=HANA)
    hana = server.user(HANA, "Hana")
    await hana.send("/export")
    answer = await hana.reply(timeout=60)
    assert "too big to send through Telegram" in answer.text
    assert "more than 2 files of 0.16384 MB" in answer.text
    assert not [c for c in server.calls if c.method == "sendDocument"]
    assert await _emptied(private_tmp) == []


async def test_export_that_fails_leaves_no_temporary_file(
    app: Application,
    server: FakeBotApiServer,
    private_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker that fails half-way: the person hears that nothing was lost, and the
    temporary folder with the half-written file is removed."""

    def broken(database: Path, *, folder: Path, **_: object) -> None:
        (folder / "clients-part1.zip").write_bytes(b"half")
        raise OSError("No space left on device")

    monkeypatch.setattr("bot.services.client_export.write_export", broken)
    mia = await manager(server)
    await mia.send("/export")
    assert "nothing you saved was lost" in (await mia.reply(timeout=20)).text.lower()
    assert await _emptied(private_tmp) == []


async def test_big_import_shows_progress_on_one_message(
    app: Application, server: FakeBotApiServer
) -> None:
    """A 1,200-row file is read off the loop and saved in chunks: one message shows the
    progress, edited as the chunks are saved, and ends as the report."""
    mia = await manager(server)
    await new_client(mia, "Imported 7 Trading Ltd")
    await mia.send_document("big.csv", import_file(1_200))
    reading = await mia.expect("Reading big.csv", timeout=30)
    report = await mia.expect("Import of big.csv", timeout=60)
    assert report.message_id == reading.message_id
    assert "Imported: 1199" in report.text
    assert "Skipped as duplicates: 1 — Imported 7 Trading Ltd (row 9)" in report.text
    steps = [
        event.text
        for event in mia.chat.events
        if event.message_id == reading.message_id and "new clients handled" in event.text
    ]
    assert steps and all("of 1,199 new clients handled" in text for text in steps)
    db = services_of(app).db
    assert await db.fetch_value("SELECT count(*) FROM clients WHERE owner_id = ?", (MIA,)) == 1_200
    chunks = await audit.recent_entries(db, action="client.import", limit=20)
    assert len(chunks) == 12  # 1,199 new clients, 100 per transaction


async def test_client_limit_per_manager_end_to_end(
    e2e_settings: Settings, clock: FrozenClock, server: FakeBotApiServer
) -> None:
    """MAX_CLIENTS_PER_MANAGER: an import past it is refused whole, and /newclient at it is
    refused, each saying what the limit is."""
    settings = e2e_settings.model_copy(update={"max_clients_per_manager": 3})
    async with polling(build_application(settings, clock=clock), poll_timeout=1) as running:
        mia = await manager(server)
        await new_client(mia, "Acme LLC")
        await mia.send_document("three.csv", b"name\nBeta\nGamma\nAcme LLC\nDelta\n")
        refused = (await mia.reply(timeout=20)).text
        assert "This file has 3 new clients, more than fit" in refused
        assert "You have 1 clients; one manager can have at most 3" in refused
        assert "Send at most 2 new clients" in refused
        await mia.send_document("two.csv", b"name\nBeta\nGamma\n")
        assert "Imported: 2" in (await mia.expect("Import of two.csv", timeout=20)).text
        await mia.send("/newclient Delta")
        answer = (await mia.reply()).text
        assert "You have 3 clients; one manager can have at most 3" in answer
        db = services_of(running).db
        assert await db.fetch_value("SELECT count(*) FROM clients") == 3


async def test_a_phone_without_country_code_says_which_region_was_assumed(
    app: Application, server: FakeBotApiServer
) -> None:
    """`(202) 555-0143` in a US team is saved as +1 and the notice says it was read as US;
    a number typed with its country code gets no such note."""
    mia = await manager(server)
    card = await new_client(mia, "Zed Ltd; Anna; (202) 555-0143")
    assumed = "The phone had no country code, so I read it as a United States (US) number"
    assert f"{assumed}: +1 202-555-0143" in card
    card = await new_client(mia, "Acme LLC; Ivan; +44 20 7946 0958")
    assert "no country code" not in card
