"""Clients: validation, duplicates, search, the card, ownership, import and export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from pathlib import Path
from unittest.mock import ANY

import pytest

from bot.services import clients as service
from bot.services import contacts as contact_service
from bot.services.clients import (
    DuplicateClient,
    fold_text,
    normalise_phone,
    normalise_tags,
    parse_one_line,
    search_key,
    validate_email,
)
from bot.services.errors import DomainError, NotAllowed
from storage import audit, reminders
from storage.clients import ClientStatus
from storage.reminders import ReminderState, ReminderSubject
from storage.users import Role
from tests.factories import make_user

MANAGER, OTHER, HEAD, ADMIN = 10, 11, 20, 1


async def _team(db, clock):
    """A manager, another manager, a head and an admin."""
    return (
        await make_user(db, clock, MANAGER, name="Mia"),
        await make_user(db, clock, OTHER, name="Oleg"),
        await make_user(db, clock, HEAD, Role.HEAD, name="Hana"),
        await make_user(db, clock, ADMIN, Role.ADMIN, name="Ada"),
    )


# --- Pure helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Café Müller", "cafe muller"),
        ("ACME, LLC.", "acme llc"),
        ("Straße", "strasse"),
        ("Соловьёв", "соловьев"),
        ("ООО «Ромашка»", "ооо ромашка"),
        ("કાફે  ગુજરાત", "કાફે ગુજરાત"),
        ("Ｆｕｌｌ－ｗｉｄｔｈ", "full width"),
    ],
)
def test_fold_text(text: str, folded: str) -> None:
    """Case, accents and punctuation are ignored; Gujarati vowel signs are kept."""
    assert fold_text(text) == folded


def test_normalise_phone() -> None:
    """Numbers become E.164; the region applies to numbers without a country code."""
    assert normalise_phone("+44 20 7946 0958", "US") == "+442079460958"
    assert normalise_phone("020 7946 0958", "GB") == "+442079460958"
    assert normalise_phone("(201) 555-0123", "us") == "+12015550123"
    with pytest.raises(DomainError, match="not a valid phone number"):
        normalise_phone("12345", "US")
    with pytest.raises(DomainError, match="not a phone number I can read"):
        normalise_phone("call me", "US")


def test_validate_email() -> None:
    """Plausible addresses pass (domain lower-cased); others get a clear message."""
    assert validate_email(" Ivan@ACME.test ") == "Ivan@acme.test"
    assert validate_email("олег@пример.рф") == "олег@пример.рф"
    for bad in ("ivan", "ivan@", "ivan@acme", "a b@acme.test", "a..b@acme.test", "@acme.test"):
        with pytest.raises(DomainError, match="e-mail address"):
            validate_email(bad)


def test_tags_are_normalised() -> None:
    """Trimmed, lower case, '#' dropped, duplicates (by folded form) removed, order kept."""
    assert normalise_tags(" VIP, retail ,vip,,#Retail, Café") == ("vip", "retail", "café")
    assert normalise_tags(["a,b", "B"]) == ("a", "b")
    assert normalise_tags(None) == ()
    with pytest.raises(DomainError, match="too long"):
        normalise_tags("x" * 51)


def test_search_key_has_every_searchable_part() -> None:
    """Name, contact, tags and both international and national phone digits."""
    key = search_key("Café Noir", "Ivan Petrov", ("vip",), "+442079460958")
    assert key == "cafe noir ivan petrov vip 442079460958 02079460958"


@pytest.mark.parametrize(
    ("line", "fields"),
    [
        (
            "Acme LLC; Ivan Petrov; +44 20 7946 0958; ivan@acme.test",
            {
                "name": "Acme LLC",
                "contact_person": "Ivan Petrov",
                "phone": "+44 20 7946 0958",
                "email": "ivan@acme.test",
            },
        ),
        ("Acme LLC", {"name": "Acme LLC"}),
        ("Acme; ivan@acme.test", {"name": "Acme", "email": "ivan@acme.test"}),
        (
            "Acme; +1 201 555 0123; Ivan",
            {"name": "Acme", "phone": "+1 201 555 0123", "contact_person": "Ivan"},
        ),
        ("Acme; ; ; ; vip, retail", {"name": "Acme", "tags": "vip, retail"}),
        ("Acme;Ivan;;;vip", {"name": "Acme", "contact_person": "Ivan", "tags": "vip"}),
        ("Acme; Ivan; wholesale", {"name": "Acme", "contact_person": "Ivan", "tags": "wholesale"}),
    ],
)
def test_parse_one_line(line: str, fields: dict[str, str]) -> None:
    """Fields by position, with phone and e-mail recognised by their shape."""
    assert parse_one_line(line) == fields


@pytest.mark.parametrize(
    "line",
    ["", " ; Ivan", "A; b; c; d; e; f", "Acme; a@b.test; c@d.test", "Acme; Ivan; x; y; z"],
)
def test_parse_one_line_refusals(line: str) -> None:
    """No name, too many parts, or parts that fit nowhere are refused."""
    with pytest.raises(DomainError):
        parse_one_line(line)


# --- Creating, duplicates, ownership -----------------------------------------------------


async def test_create_client_normalises_and_audits(db, clock) -> None:
    """The one-line form creates a client with normalised fields and an audit entry."""
    manager, *_ = await _team(db, clock)
    fields = parse_one_line("Acme LLC; Ivan Petrov; +44 20 7946 0958; IVAN@Acme.test; VIP")
    client = await service.create_client(db, clock, actor=manager, **fields)
    assert client.owner_id == MANAGER
    assert client.phone_e164 == "+442079460958"
    assert client.email == "IVAN@acme.test"
    assert client.tags == ("vip",)
    assert client.status is ClientStatus.PROSPECT
    assert client.last_contact_at is None
    entry = (await audit.recent_entries(db, action="client.create"))[0]
    assert entry.object_id == str(client.id) and entry.actor_id == MANAGER


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "  "}, "1 to 200"),
        ({"name": "x" * 201}, "1 to 200"),
        ({"name": "Acme", "phone": "123"}, "phone number"),
        ({"name": "Acme", "email": "nope"}, "e-mail"),
        ({"name": "Acme", "status": "lead"}, "not a status"),
        ({"name": "Acme", "notes": "n" * 3001}, "too long"),
    ],
)
async def test_create_client_refuses_bad_fields(db, clock, kwargs, message) -> None:
    """Each bad field gets its own message and nothing is stored."""
    manager, *_ = await _team(db, clock)
    with pytest.raises(DomainError, match=message):
        await service.create_client(db, clock, actor=manager, **kwargs)
    assert await db.fetch_value("SELECT count(*) FROM clients") == 0


async def test_duplicate_names_are_flagged_per_owner(db, clock) -> None:
    """Same folded name for the same owner: DuplicateClient with the existing id."""
    manager, other, *_ = await _team(db, clock)
    first = await service.create_client(db, clock, actor=manager, name="Café Noir")
    with pytest.raises(DuplicateClient) as caught:
        await service.create_client(db, clock, actor=manager, name="CAFE  noir!")
    assert caught.value.client_id == first.id
    assert "already exists" in str(caught.value)
    again = await service.create_client(
        db, clock, actor=manager, name="Cafe Noir", allow_duplicate=True
    )
    assert again.id != first.id
    theirs = await service.create_client(db, clock, actor=other, name="Café Noir")
    assert theirs.owner_id == OTHER


async def test_only_leads_create_for_someone_else(db, clock) -> None:
    """A head may create a client for a manager; a manager may not."""
    manager, _, head, _ = await _team(db, clock)
    client = await service.create_client(db, clock, actor=head, name="Acme", owner_id=MANAGER)
    assert client.owner_id == MANAGER
    with pytest.raises(NotAllowed):
        await service.create_client(db, clock, actor=manager, name="Beta", owner_id=OTHER)
    with pytest.raises(DomainError, match="not an active member"):
        await service.create_client(db, clock, actor=head, name="Gamma", owner_id=999)


async def test_card_shows_last_three_contacts_and_open_step(db, clock) -> None:
    """The card: fields, owner, the three latest contacts, the open step."""
    manager, *_ = await _team(db, clock)
    client = await service.create_client(db, clock, actor=manager, name="Acme")
    logged = []
    for index in range(4):
        clock.advance(dt.timedelta(hours=1))
        contact = await contact_service.log_contact(
            db, clock, actor=manager, client_id=client.id, kind="call", summary=f"Call {index}"
        )
        logged.append(contact)
    step = await contact_service.schedule_next_step(
        db,
        clock,
        actor=manager,
        contact_id=logged[-1].id,
        kind="meeting",
        due_at=clock.now() + dt.timedelta(days=1),
    )
    card = await service.get_card(db, clock, actor=manager, client_id=client.id)
    assert card.owner_name == "Mia"
    assert [c.summary for c in card.recent_contacts] == ["Call 3", "Call 2", "Call 1"]
    assert card.open_step == step
    assert card.client.last_contact_at == logged[-1].happened_at


async def test_forged_card_request_is_refused_and_audited(db, clock) -> None:
    """Another manager's client id: NotAllowed and an access.denied entry; leads may look."""
    manager, other, head, admin = await _team(db, clock)
    client = await service.create_client(db, clock, actor=manager, name="Acme")
    with pytest.raises(NotAllowed):
        await service.get_card(db, clock, actor=other, client_id=client.id)
    denied = await audit.recent_entries(db, action="access.denied")
    assert [(e.actor_id, e.object_type, e.object_id) for e in denied] == [
        (OTHER, "client", str(client.id))
    ]
    for lead in (head, admin):
        card = await service.get_card(db, clock, actor=lead, client_id=client.id)
        assert card.client.id == client.id
    with pytest.raises(DomainError, match="doesn't exist"):
        await service.get_card(db, clock, actor=manager, client_id=9999)


# --- Search ------------------------------------------------------------------------------


async def test_search_is_unicode_aware(db, clock) -> None:
    """Accents, Cyrillic, Gujarati, phone digits and tags all match as people expect."""
    manager, *_ = await _team(db, clock)
    names = {}
    for name, extra in [
        ("Café Noir", {"contact_person": "Zoë Durand"}),
        ("ООО Ромашка", {"contact_person": "Пётр Соловьёв"}),
        ("શાહ ટ્રેડર્સ", {"tags": "ગુજરાત"}),
        ("Acme LLC", {"phone": "+44 20 7946 0958", "tags": "vip, retail"}),
    ]:
        client = await service.create_client(db, clock, actor=manager, name=name, **extra)
        names[client.id] = name

    async def found(query: str) -> list[str]:
        page = await service.search_clients(db, actor=manager, query=query)
        return sorted(names[item.client.id] for item in page.items)

    assert await found("cafe") == ["Café Noir"]
    assert await found("CAFÉ") == ["Café Noir"]
    assert await found("zoe") == ["Café Noir"]
    assert await found("ромашка") == ["ООО Ромашка"]
    assert await found("соловьев") == ["ООО Ромашка"]
    assert await found("РОМ") == ["ООО Ромашка"]
    assert await found("શાહ") == ["શાહ ટ્રેડર્સ"]
    assert await found("ગુજરાત") == ["શાહ ટ્રેડર્સ"]
    assert await found("7946 0958") == ["Acme LLC"]
    assert await found("+44 20 7946") == ["Acme LLC"]
    assert await found("020 7946") == ["Acme LLC"]
    assert await found("retail") == ["Acme LLC"]
    assert await found("acme vip") == ["Acme LLC"]
    assert await found("acme zoe") == []
    assert await found("ll") == ["Acme LLC"]
    assert await found('"; DROP TABLE clients; --') == []
    assert len(await found("")) == 4


async def test_search_scope_order_and_pages(db, clock) -> None:
    """Managers see their own; leads see all with the owner; latest contact first; pages."""
    manager, other, head, _ = await _team(db, clock)
    mine = []
    for index in range(5):
        mine.append(await service.create_client(db, clock, actor=manager, name=f"Mine {index}"))
    theirs = await service.create_client(db, clock, actor=other, name="Theirs")
    for client in (mine[3], mine[1]):
        clock.advance(dt.timedelta(minutes=5))
        await contact_service.log_contact(
            db, clock, actor=manager, client_id=client.id, kind="call", summary="hi"
        )

    first = await service.search_clients(db, actor=manager, query="", limit=3)
    assert [i.client.name for i in first.items] == ["Mine 1", "Mine 3", "Mine 4"]
    assert first.has_more
    second = await service.search_clients(db, actor=manager, query="", limit=3, offset=3)
    assert [i.client.name for i in second.items] == ["Mine 2", "Mine 0"]
    assert not second.has_more

    everyone = await service.search_clients(db, actor=head, query="", limit=50)
    assert len(everyone.items) == 6
    assert {(i.client.id, i.owner_name) for i in everyone.items if i.client.id == theirs.id} == {
        (theirs.id, "Oleg")
    }
    assert not (await service.search_clients(db, actor=manager, query="theirs")).items


async def test_match_quick_log(db, clock) -> None:
    """`/call <client> <summary>`: longest name prefix; an exact name wins; else ask."""
    manager, other, *_ = await _team(db, clock)
    acme = await service.create_client(db, clock, actor=manager, name="Acme")
    acme_bank = await service.create_client(db, clock, actor=manager, name="Acme Bank")
    await service.create_client(db, clock, actor=manager, name="Beta Group")
    await service.create_client(db, clock, actor=other, name="Betamax")

    match = await service.match_quick_log(db, actor=manager, text="acme bank asked for prices")
    assert [i.client.id for i in match.clients] == [acme_bank.id]
    assert match.summary == "asked for prices"
    match = await service.match_quick_log(db, actor=manager, text="Acme called back")
    assert [i.client.id for i in match.clients] == [acme.id]
    assert match.summary == "called back"
    match = await service.match_quick_log(db, actor=manager, text="Bet agreed")
    assert [i.client.name for i in match.clients] == ["Beta Group"]
    assert match.name_text == "Bet"
    match = await service.match_quick_log(db, actor=manager, text="Zeta hello")
    assert match.clients == [] and match.name_text == "Zeta" and match.summary == "hello"
    await service.create_client(db, clock, actor=manager, name="Acme Logistics")
    match = await service.match_quick_log(db, actor=manager, text="acm hi")
    assert len(match.clients) == 3


# --- Changing and reassigning ------------------------------------------------------------


async def test_update_client(db, clock) -> None:
    """KEEP leaves fields; None clears; renames are checked for duplicates; audited."""
    manager, other, *_ = await _team(db, clock)
    client = await service.create_client(
        db, clock, actor=manager, name="Acme", email="a@acme.test", tags="vip"
    )
    await service.create_client(db, clock, actor=manager, name="Beta")
    updated = await service.update_client(
        db, clock, actor=manager, client_id=client.id, email=None, notes="Likes golf"
    )
    assert updated.email is None and updated.notes == "Likes golf" and updated.tags == ("vip",)
    with pytest.raises(DuplicateClient):
        await service.update_client(db, clock, actor=manager, client_id=client.id, name="beta")
    renamed = await service.update_client(
        db, clock, actor=manager, client_id=client.id, name="Acme Group", status="active"
    )
    assert renamed.name == "Acme Group" and renamed.status is ClientStatus.ACTIVE
    page = await service.search_clients(db, actor=manager, query="group")
    assert [i.client.id for i in page.items] == [client.id]
    entry = (await audit.recent_entries(db, action="client.update"))[0]
    assert entry.details == {"fields": ["name", "status"]}
    with pytest.raises(NotAllowed):
        await service.update_client(db, clock, actor=other, client_id=client.id, notes="mine")


async def test_reassign_moves_the_open_step(db, clock) -> None:
    """Only leads reassign; the open step and its reminder move to the new owner."""
    manager, other, head, _ = await _team(db, clock)
    client = await service.create_client(db, clock, actor=manager, name="Acme")
    contact = await contact_service.log_contact(
        db, clock, actor=manager, client_id=client.id, kind="call", summary="hi"
    )
    with pytest.raises(NotAllowed):
        await service.reassign_client(
            db, clock, actor=manager, client_id=client.id, new_owner_id=OTHER
        )
    with pytest.raises(DomainError, match="waiting for its next step"):
        await service.reassign_client(
            db, clock, actor=head, client_id=client.id, new_owner_id=OTHER
        )
    step = await contact_service.schedule_next_step(
        db,
        clock,
        actor=manager,
        contact_id=contact.id,
        kind="call",
        due_at=clock.now() + dt.timedelta(days=2),
    )
    moved = await service.reassign_client(
        db, clock, actor=head, client_id=client.id, new_owner_id=OTHER
    )
    assert moved.owner_id == OTHER
    card = await service.get_card(db, clock, actor=other, client_id=client.id)
    assert card.open_step is not None and card.open_step.manager_id == OTHER
    live = [
        r
        for r in await reminders.reminders_for(db, ReminderSubject.STEP, step.id)
        if r.state is ReminderState.PENDING
    ]
    assert [r.user_id for r in live] == [OTHER]
    with pytest.raises(NotAllowed):
        await service.get_card(db, clock, actor=manager, client_id=client.id)
    assert (await audit.recent_entries(db, action="client.reassign"))[0].details == {
        "from": MANAGER,
        "to": OTHER,
    }


# --- CSV import and export ---------------------------------------------------------------


def _csv(rows: list[list[str]], delimiter: str = ",", bom: bool = False) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode("utf-8-sig" if bom else "utf-8")


async def test_import_reports_imported_duplicates_and_rejected(db, clock) -> None:
    """Good rows import; duplicates (existing or earlier rows) skip; bad rows say why."""
    manager, *_ = await _team(db, clock)
    await service.create_client(db, clock, actor=manager, name="Existing Ltd")
    data = _csv(
        [
            ["Company", "Contact", "Phone Number", "E-mail", "Segment", "Extra"],
            ["Acme LLC", "Ivan", "+44 20 7946 0958", "ivan@acme.test", "vip; retail", "x"],
            ["Beta", "", "", "", "", ""],
            ["existing ltd", "", "", "", "", ""],
            ["", "", "", "", "", ""],
            ["Gamma", "", "12345", "", "", ""],
            ["Delta", "", "", "not-an-email", "", ""],
            ["ACME LLC", "", "", "", "", ""],
            ["", "Nobody", "", "", "", ""],
        ],
        bom=True,
    )
    report = await service.import_csv(db, clock, actor=manager, data=data, region="GB")
    assert report.imported == 2
    assert [(i.row, i.name) for i in report.duplicates] == [(4, "existing ltd"), (8, "ACME LLC")]
    assert [(i.row, i.name) for i in report.rejected] == [(6, "Gamma"), (7, "Delta"), (9, "")]
    assert "phone number" in report.rejected[0].reason
    assert "e-mail" in report.rejected[1].reason
    assert report.ignored_columns == ["Extra"]
    page = await service.search_clients(db, actor=manager, query="acme")
    acme = page.items[0].client
    assert acme.phone_e164 == "+442079460958" and acme.tags == ("vip; retail",)
    entry = (await audit.recent_entries(db, action="client.import"))[0]
    assert entry.details == {"rows": [2, 3], "imported": 2, "duplicates": 0}
    assert report.rows == 7 and report.stopped is None  # the blank row is not counted


async def test_import_semicolons_and_head_for_a_manager(db, clock) -> None:
    """Semicolon files (European Excel) work; a head imports into a manager's list."""
    manager, _, head, _ = await _team(db, clock)
    data = _csv([["NAME", "status", "tags"], ["Acme", "Active", "a,b"]], delimiter=";")
    report = await service.import_csv(db, clock, actor=head, data=data, owner_id=MANAGER)
    assert report.imported == 1
    page = await service.search_clients(db, actor=manager, query="")
    client = page.items[0].client
    assert client.status is ClientStatus.ACTIVE and client.tags == ("a", "b")
    with pytest.raises(NotAllowed):
        await service.import_csv(db, clock, actor=manager, data=data, owner_id=OTHER)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"phone,email\n+12015550123,a@b.test\n", "name"),
        ("name\nCafé\n".encode("cp1252"), "UTF-8"),
        (b"name,company\nA,B\n", "same thing"),
        (b"x" * (5 * 1024 * 1024 + 1), "5 MB"),
        (b"name\n" + b"c\n" * 10_001, "10,000 rows"),
        (b'name\n"' + b"a" * 200_000 + b'"\n', "can't be read"),
    ],
)
async def test_import_refusals_leave_nothing(db, clock, data: bytes, message: str) -> None:
    """A file that can't be imported as a whole is refused with a clear message."""
    manager, *_ = await _team(db, clock)
    with pytest.raises(DomainError, match=message):
        await service.import_csv(db, clock, actor=manager, data=data)
    assert await db.fetch_value("SELECT count(*) FROM clients") == 0


async def test_import_drops_control_characters(db, clock) -> None:
    """A NUL or other control character in a cell does not reach the database."""
    manager, *_ = await _team(db, clock)
    data = b'name,notes\n"Ac\x00me\x1b","line 1\nline\x002"\n'
    assert (await service.import_csv(db, clock, actor=manager, data=data)).imported == 1
    client = (await service.search_clients(db, actor=manager, query="acme")).items[0].client
    assert client.name == "Acme" and client.notes == "line 1\nline2"


async def test_import_saves_chunks_each_in_its_own_transaction(db, clock, monkeypatch) -> None:
    """A chunk that can't be saved stops the import: the chunks before it stay (whole rows,
    each with its audit entry), nothing of it or after it is saved, and the report says from
    which row on; the same file sent again imports the rest, the rest skipped as duplicates."""
    manager, *_ = await _team(db, clock)
    original = service.clients.insert_clients
    calls = 0

    async def failing(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 3:
            raise sqlite3.OperationalError("database or disk is full")
        return await original(*args, **kwargs)

    monkeypatch.setattr(service.clients, "insert_clients", failing)
    data = _csv([["name"], *[[f"Client {n:02d}"] for n in range(10)]])
    seen: list[service.ImportProgress] = []

    async def progress(step: service.ImportProgress) -> None:
        seen.append(step)
        # Each chunk is committed before the next starts: another connection sees it.
        assert await db.fetch_value("SELECT count(*) FROM clients") == step.imported

    report = await service.import_parsed(
        db,
        clock,
        actor=manager,
        parsed=service.parse_csv(data),
        chunk_rows=3,
        progress=progress,
    )
    assert report.imported == 6
    assert report.stopped == service.ImportStop(row=8, not_imported=4, reason=ANY)
    assert "could not save" in report.stopped.reason
    assert [(s.done, s.imported) for s in seen] == [(3, 3), (6, 6)]
    names = [row[0] for row in await db.fetch_all("SELECT name FROM clients ORDER BY name")]
    assert names == [f"Client {n:02d}" for n in range(6)]
    entries = await audit.recent_entries(db, action="client.import")
    assert sorted(e.details["rows"] for e in entries) == [[2, 4], [5, 7]]

    monkeypatch.setattr(service.clients, "insert_clients", original)
    again = await service.import_csv(db, clock, actor=manager, data=data, chunk_rows=3)
    assert again.imported == 4 and len(again.duplicates) == 6 and again.stopped is None
    assert await db.fetch_value("SELECT count(*) FROM clients") == 10


async def test_client_limit_per_manager(db, clock) -> None:
    """A manager's clients are capped: /newclient, an import and a reassignment beyond the
    limit are refused with the reason, and nothing is saved."""
    manager, other, head, _ = await _team(db, clock)
    for name in ("A", "B"):
        await service.create_client(db, clock, actor=manager, name=name, max_clients=3)
    data = _csv([["name"], ["C"], ["D"], ["a"]])
    with pytest.raises(DomainError, match=r"2 new clients, more than fit.*at most 3.*at most 1"):
        await service.import_csv(db, clock, actor=manager, data=data, max_clients=3)
    assert await db.fetch_value("SELECT count(*) FROM clients") == 2
    await service.create_client(db, clock, actor=manager, name="C", max_clients=3)
    with pytest.raises(DomainError, match="You have 3 clients; one manager can have at most 3"):
        await service.create_client(db, clock, actor=manager, name="D", max_clients=3)
    theirs = await service.create_client(db, clock, actor=other, name="E")
    with pytest.raises(DomainError, match="That manager has 3 clients"):
        await service.reassign_client(
            db, clock, actor=head, client_id=theirs.id, new_owner_id=MANAGER, max_clients=3
        )
    assert await db.fetch_value("SELECT count(*) FROM clients WHERE owner_id = ?", (MANAGER,)) == 3


async def test_import_stops_at_the_limit_reached_meanwhile(db, clock) -> None:
    """Clients added while a file is being imported count too: the chunk that would pass the
    limit is not saved, and the report says so."""
    manager, *_ = await _team(db, clock)
    data = _csv([["name"], *[[f"Row {n}"] for n in range(4)]])

    async def meanwhile(step: service.ImportProgress) -> None:
        await service.create_client(db, clock, actor=manager, name=f"Typed {step.done}")

    report = await service.import_parsed(
        db,
        clock,
        actor=manager,
        parsed=service.parse_csv(data),
        chunk_rows=2,
        max_clients=4,
        progress=meanwhile,
    )
    assert report.imported == 2 and report.stopped is not None
    assert report.stopped.row == 4 and report.stopped.not_imported == 2
    assert "You have 3 clients; one manager can have at most 4" in report.stopped.reason


async def _export(db, clock, actor, folder: Path, **limits) -> bytes:
    """The export made as the bot makes it (off the loop), as plain CSV bytes."""
    from bot.workers import files as file_workers

    made = await file_workers.make_export(db, clock, actor=actor, folder=folder, **limits)
    assert [path.name for path in made.parts] == ["clients.csv"]
    return made.parts[0].read_bytes()


async def test_export_neutralises_formulas_and_round_trips(db, clock, tmp_path) -> None:
    """Export: one row per contact, local times, formula cells prefixed, importable again."""
    manager = await make_user(db, clock, MANAGER, timezone="Europe/Berlin")
    other = await make_user(db, clock, OTHER)
    evil = await service.create_client(
        db, clock, actor=manager, name='=HYPERLINK("http://x")', phone="+12015550123"
    )
    plain = await service.create_client(db, clock, actor=manager, name="Plain", notes="@home")
    await service.create_client(db, clock, actor=other, name="Not mine")
    for summary in ("-5% discount asked", "+1 more seat"):
        await contact_service.log_contact(
            db, clock, actor=manager, client_id=evil.id, kind="call", summary=summary
        )

    data = await _export(db, clock, manager, tmp_path)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 3
    by_summary = {row["summary"]: row for row in rows}
    assert by_summary["'-5% discount asked"]["name"] == '\'=HYPERLINK("http://x")'
    assert by_summary["'+1 more seat"]["phone"] == "'+12015550123"
    assert by_summary["'+1 more seat"]["happened (Europe/Berlin)"] == "2026-11-26 10:00"
    assert by_summary[""]["client_id"] == str(plain.id)
    assert by_summary[""]["notes"] == "'@home"
    assert (await audit.recent_entries(db, action="client.export"))[0].details == {"rows": 3}

    fresh = await make_user(db, clock, 12)
    report = await service.import_csv(db, clock, actor=fresh, data=data)
    assert report.imported == 2 and len(report.duplicates) == 1 and report.rejected == []
    page = await service.search_clients(db, actor=fresh, query="hyperlink")
    assert page.items[0].client.name == '=HYPERLINK("http://x")'
    assert page.items[0].client.phone_e164 == "+12015550123"


async def test_export_for_a_head_covers_everyone(db, clock, tmp_path) -> None:
    """A head's export has every manager's clients with the owner's name."""
    manager, other, head, _ = await _team(db, clock)
    await service.create_client(db, clock, actor=manager, name="A")
    await service.create_client(db, clock, actor=other, name="B")
    rows = list(
        csv.DictReader(io.StringIO((await _export(db, clock, head, tmp_path)).decode("utf-8-sig")))
    )
    assert sorted((row["name"], row["owner"]) for row in rows) == [("A", "Mia"), ("B", "Oleg")]


def test_a_stopped_import_says_from_which_row_nothing_was_saved() -> None:
    """The report of an import cut short names the row, the reason and what to do."""
    from handlers.clients import import_report_text

    report = service.ImportReport(
        imported=250,
        duplicates=[],
        rejected=[],
        ignored_columns=[],
        rows=1000,
        stopped=service.ImportStop(row=252, not_imported=750, reason="Could not <save>"),
    )
    text = import_report_text(report, "big.csv")
    assert "Stopped at row 252: Could not &lt;save&gt;." in text
    assert "The 750 new clients from that row on were not saved" in text


def test_the_region_a_phone_was_read_in_when_it_had_no_country_code() -> None:
    """Only a number without `+` or `00` is read in the team's region, and that is said."""
    assert service.assumed_region("020 7946 0958", "GB") == "GB"
    assert service.assumed_region("(202) 555-0143", "us") == "US"
    assert service.assumed_region("+44 20 7946 0958", "GB") is None
    assert service.assumed_region("0044 20 7946 0958", "GB") is None
    assert service.assumed_region(None, "US") is None
