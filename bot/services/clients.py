"""Clients: validation, duplicates, search, the card, reassignment, CSV import and export."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import logging
import re
import sqlite3
import time
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Literal

import phonenumbers

from bot import i18n
from bot.clock import Clock
from bot.services.access import require_lead
from bot.services.client_export import FORMULA_START
from bot.services.errors import DomainError, NotAllowed
from bot.services.ownership import require_client
from bot.services.receivables.aging import ClientReceivables, client_summary
from bot.services.receivables.invoices import move_reminders
from storage import audit, clients, contacts, reminders, steps, users
from storage.clients import Client, ClientFields, ClientListItem, ClientStatus
from storage.contacts import Contact, Outcome
from storage.db import Database, Transaction
from storage.reminders import ReminderSubject
from storage.steps import Step
from storage.users import User

MAX_NAME = 200
MAX_PERSON = 200
MAX_EMAIL = 254
MAX_NOTES = 3000
MAX_TAG = 50
MAX_TAGS = 20
MAX_PAGE = 50
CARD_CONTACTS = 3
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 10_000
IMPORT_CHUNK = 100  # new clients saved per transaction (~5 ms of the write lock)
CHUNK_REST_MAX_S = 0.05
MAX_CLIENTS_PER_MANAGER = 20_000  # the default of the MAX_CLIENTS_PER_MANAGER setting

logger = logging.getLogger(__name__)

ONE_LINE_EXAMPLE = "/newclient Acme LLC; Ivan Petrov; +44 20 7946 0958; ivan@acme.test"


class DuplicateClient(DomainError):
    """The owner already has a client with this name; the UI offers "open it / create anyway"."""

    def __init__(self, name: str, client_id: int, *, message: str | None = None) -> None:
        super().__init__(
            message or f"{name} already exists. Open it, or create another one anyway?"
        )
        self.client_id = client_id


class Keep(Enum):
    """The type of `KEEP`: "leave this field as it is" in `update_client`."""

    KEEP = "keep"


KEEP: Literal[Keep.KEEP] = Keep.KEEP


@dataclass(frozen=True, slots=True)
class ClientPage:
    """One page of a client list; `has_more` says whether a next page exists."""

    items: list[ClientListItem]
    offset: int
    has_more: bool


@dataclass(frozen=True, slots=True)
class ClientCard:
    """What the client card shows."""

    client: Client
    owner_name: str
    recent_contacts: list[Contact]
    # The client's open steps, the earliest due first (a client may have several).
    open_steps: list[Step]
    # Open balance, oldest overdue invoice, trust level, broken promises (None: not loaded).
    receivables: ClientReceivables | None = None
    # The open steps that are a pause's check-back (their contact was "paused until").
    pause_step_ids: frozenset[int] = frozenset()

    @property
    def open_step(self) -> Step | None:
        """The open step due first, if any."""
        return self.open_steps[0] if self.open_steps else None


@dataclass(frozen=True, slots=True)
class QuickLogMatch:
    """`/call <client> <summary>` split: the candidate clients, the name words and the rest.

    One candidate: matched. Several: ask with buttons. None: unknown, ask with a search.
    """

    clients: list[ClientListItem]
    name_text: str
    summary: str


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """A CSV row that was not imported: its number (the header is row 1), name and reason."""

    row: int
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class ImportStop:
    """Why an import stopped early: from `row` on, `not_imported` new clients were not saved."""

    row: int
    not_imported: int
    reason: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did; `stopped` says where and why it stopped early (None: it didn't)."""

    imported: int
    duplicates: list[ImportIssue]
    rejected: list[ImportIssue]
    ignored_columns: list[str]
    rows: int = 0
    stopped: ImportStop | None = None


# --- Normalisation -----------------------------------------------------------------------


_EMOJI_CATEGORIES = frozenset({"So", "Sk"})  # emoji and pictographs; skin-tone modifiers


def fold_text(text: str, *, symbols: bool = False) -> str:
    """Fold text for matching: casefold, strip accents, keep letters, marks and digits.

    NFKD splits "é" into "e" + U+0301; the generic combining diacritics (U+0300-U+036F, the
    accents of Latin, Greek and Cyrillic) are dropped, so "Café" matches "cafe" and "Ё" "е".
    Script-specific marks (Gujarati vowel signs, Devanagari viramas) are part of the word
    and kept. With `symbols` (the search copy), emoji and pictographs are kept too.
    Everything else (punctuation) becomes a single space.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = []
    for char in decomposed:
        if 0x300 <= ord(char) < 0x370:
            continue
        category = unicodedata.category(char)
        keep = category[0] in "LMN" or (symbols and category in _EMOJI_CATEGORIES)
        kept.append(char if keep else " ")
    return " ".join(unicodedata.normalize("NFKC", "".join(kept)).split())


def name_key(name: str) -> str:
    """The folded name used to find duplicates and to match `/call <name prefix>`."""
    return fold_text(name)


def normalise_phone(text: str, region: str) -> str:
    """A phone number in E.164 (`+442079460958`); `region` applies to numbers without `+`."""
    raw = " ".join(text.split())
    try:
        number = phonenumbers.parse(raw, region.upper() or None)
    except phonenumbers.NumberParseException:
        raise DomainError(
            f"“{raw}” is not a phone number I can read. "
            "Please write it with the country code, e.g. +44 20 7946 0958."
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise DomainError(
            f"“{raw}” is not a valid phone number. "
            "Please check the digits and the country code, e.g. +44 20 7946 0958."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def assumed_region(text: str | None, region: str) -> str | None:
    """The region a typed phone number was read in when it had no country code, else None.

    `020 7946 0958` typed in a `GB` team is read as a British number: the person is told so.
    """
    if not text:
        return None
    try:
        number = phonenumbers.parse(
            " ".join(text.split()),
            region.upper() or None,
            keep_raw_input=True,
        )
    except phonenumbers.NumberParseException:
        return None
    source = number.country_code_source
    from_default = phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY
    return region.upper() if source == from_default else None


_EMAIL = re.compile(r"^[^\s@\"(),:;<>\[\]\\]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}$")


def validate_email(text: str) -> str:
    """A plausible e-mail address, with the domain in lower case."""
    address = text.strip()
    local, _, domain = address.rpartition("@")
    if (
        len(address) > MAX_EMAIL
        or not _EMAIL.match(address)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
    ):
        raise DomainError(f"“{address}” doesn't look like an e-mail address (name@example.com).")
    return f"{local}@{domain.lower()}"


def normalise_tags(tags: str | Iterable[str] | None) -> tuple[str, ...]:
    """Tags from "VIP, retail ,vip" or a list: trimmed, lower case, no duplicates, in order."""
    if tags is None:
        return ()
    pieces = tags.split(",") if isinstance(tags, str) else [p for t in tags for p in t.split(",")]
    result: list[str] = []
    seen: set[str] = set()
    for piece in pieces:
        tag = one_line(piece).lstrip("#").lower()
        if not tag or fold_text(tag) in seen:
            continue
        if len(tag) > MAX_TAG:
            raise DomainError(f"The tag “{tag[:20]}…” is too long (at most {MAX_TAG} characters).")
        seen.add(fold_text(tag))
        result.append(tag)
    if len(result) > MAX_TAGS:
        raise DomainError(f"A client can have at most {MAX_TAGS} tags.")
    return tuple(result)


def search_key(
    name: str,
    contact_person: str | None = None,
    tags: Iterable[str] = (),
    phone_e164: str | None = None,
) -> str:
    """The folded text search looks in: name, contact person, tags and the phone's digits.

    The phone appears twice: international digits (442079460958) and national digits
    (02079460958), so either way of typing part of it matches.
    """
    parts = [
        fold_text(text, symbols=True) for text in (name, contact_person or "", " ".join(tags))
    ]
    if phone_e164:
        number = phonenumbers.parse(phone_e164, None)
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        parts += [_digits(phone_e164), _digits(national)]
    return " ".join(part for part in parts if part)


def one_line(text: str) -> str:
    """Text as a single line: control characters dropped, runs of whitespace made one space."""
    return " ".join(
        "".join(c for c in text if unicodedata.category(c) != "Cc" or c.isspace()).split()
    )


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def _optional(value: str | None, *, limit: int, label: str, multiline: bool = False) -> str | None:
    text = value or ""
    if multiline:
        text = "".join(c for c in text if unicodedata.category(c) != "Cc" or c in "\n\t")
    cleaned = text.strip() if multiline else one_line(text)
    if len(cleaned) > limit:
        raise DomainError(f"The {label} is too long (at most {limit} characters).")
    return cleaned or None


def _status(value: ClientStatus | str) -> ClientStatus:
    try:
        return ClientStatus(str(value).strip().lower() or ClientStatus.PROSPECT.value)
    except ValueError:
        raise DomainError(
            f"“{value}” is not a status; use prospect, active or inactive."
        ) from None


def prepare_fields(
    *,
    name: str,
    contact_person: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    tags: str | Iterable[str] | None = None,
    status: ClientStatus | str = ClientStatus.PROSPECT,
    notes: str | None = None,
    region: str,
) -> ClientFields:
    """Validate and normalise a client's fields; the first problem raises a DomainError."""
    clean_name = one_line(name)
    if not 1 <= len(clean_name) <= MAX_NAME:
        raise DomainError(f"The client's name must be 1 to {MAX_NAME} characters.")
    person = _optional(contact_person, limit=MAX_PERSON, label="contact person's name")
    phone_text = (phone or "").strip()
    phone_e164 = normalise_phone(phone_text, region) if phone_text else None
    email_text = (email or "").strip()
    clean_email = validate_email(email_text) if email_text else None
    clean_tags = normalise_tags(tags)
    return ClientFields(
        name=clean_name,
        name_key=name_key(clean_name),
        contact_person=person,
        phone_e164=phone_e164,
        email=clean_email,
        tags=clean_tags,
        status=_status(status),
        notes=_optional(notes, limit=MAX_NOTES, label="note", multiline=True),
        search_key=search_key(clean_name, person, clean_tags, phone_e164),
    )


# --- The one-line form -------------------------------------------------------------------

_PHONE_SHAPE = re.compile(r"^\+?[\d\s().\-/]+$")
_POSITIONS = ("contact_person", "phone", "email", "tags")
_TEXT_FIELDS = ("contact_person", "tags")


def _shape(part: str) -> str | None:
    if "@" in part and " " not in part:
        return "email"
    if _PHONE_SHAPE.match(part) and len(_digits(part)) >= 5:
        return "phone"
    return None


def parse_one_line(text: str) -> dict[str, str]:
    """Split `Acme LLC; Ivan Petrov; +44 20 7946 0958; ivan@acme.test; vip, retail`.

    Parts are name; contact person; phone; e-mail; tags. A part shaped like an e-mail
    address or a phone number goes to that field wherever it stands; other text fills the
    contact person, then the tags. Only the split happens here: `create_client` validates.
    """
    parts = [" ".join(part.split()) for part in text.split(";")]
    if not parts[0]:
        raise DomainError(f"Start with the client's name, e.g. {ONE_LINE_EXAMPLE}")
    if len(parts) > 1 + len(_POSITIONS):
        raise DomainError(
            "That's more than five parts. Write: name; contact person; phone; e-mail; tags."
        )
    fields = {"name": parts[0]}
    for position, part in enumerate(parts[1:]):
        if not part:
            continue
        field = _shape(part)
        if field is None:
            slot = _POSITIONS[position]
            free = [name for name in _TEXT_FIELDS if name not in fields]
            field = slot if slot in _TEXT_FIELDS and slot not in fields else next(iter(free), None)
        if field is None or field in fields:
            raise DomainError(
                f"I can't tell what “{part}” is. Write: name; contact person; phone; e-mail; tags."
            )
        fields[field] = part
    return fields


# --- Creating and changing ---------------------------------------------------------------


def _require_active(actor: User) -> None:
    if not actor.active:
        raise NotAllowed("Your access has been switched off; ask an admin.")


async def _resolve_owner(db: Database, actor: User, owner_id: int | None) -> int:
    """The owner for new clients: the actor, or (for a head or admin) someone else."""
    _require_active(actor)
    owner = actor.telegram_id if owner_id is None else owner_id
    if owner == actor.telegram_id:
        return owner
    require_lead(actor)
    person = await users.get_user(db, owner)
    if person is None or not person.active:
        raise DomainError("That person is not an active member of the team.")
    return owner


async def create_client(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    name: str,
    contact_person: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    tags: str | Iterable[str] | None = None,
    status: ClientStatus | str = ClientStatus.PROSPECT,
    notes: str | None = None,
    owner_id: int | None = None,
    region: str = "US",
    allow_duplicate: bool = False,
    max_clients: int = MAX_CLIENTS_PER_MANAGER,
) -> Client:
    """Create a client owned by the actor (or, for a head or admin, by `owner_id`).

    A name that the owner already has raises DuplicateClient unless `allow_duplicate`; an
    owner who already has `max_clients` clients gets a DomainError saying so.
    """
    owner = await _resolve_owner(db, actor, owner_id)
    fields = prepare_fields(
        name=name,
        contact_person=contact_person,
        phone=phone,
        email=email,
        tags=tags,
        status=status,
        notes=notes,
        region=region,
    )
    now = clock.now()
    async with db.transaction() as tx:
        await _require_room(tx, owner, by_actor=owner == actor.telegram_id, limit=max_clients)
        if not allow_duplicate:
            existing = await clients.find_by_name_key(tx, owner_id=owner, name_key=fields.name_key)
            if existing is not None:
                raise DuplicateClient(existing.name, existing.id)
        client = await clients.insert_client(tx, owner_id=owner, fields=fields, now=now)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="client.create",
            now=now,
            object_type="client",
            object_id=client.id,
            details={"owner_id": owner, "name": client.name, "duplicate": allow_duplicate},
        )
    return client


async def _require_room(tx: Transaction, owner: int, *, by_actor: bool, limit: int) -> None:
    """Refuse one more client for an owner who has `limit` already."""
    have = await clients.count_for_owner(tx, owner)
    if have >= limit:
        raise DomainError(_limit_message(by_actor, have, limit))


async def set_client_language(
    db: Database, clock: Clock, *, actor: User, client_id: int, language: str | None
) -> Client:
    """The language reply templates to this client are written in (None: the manager's)."""
    if language is not None and language not in i18n.LOCALES:
        raise DomainError(f"Choose one of the languages I write in: {', '.join(i18n.LOCALES)}.")
    client = await require_client(
        db, clock, actor=actor, client_id=client_id, attempted="client.language"
    )
    now = clock.now()
    async with db.transaction() as tx:
        await clients.set_language(tx, client.id, language=language, now=now)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="client.language",
            now=now,
            object_type="client",
            object_id=client.id,
            details={"from": client.language, "to": language},
        )
        updated = await clients.get_client(tx, client.id)
    assert updated is not None
    return updated


def writing_locale(client: Client, manager: User) -> str:
    """The locale a reply to this client is filled in: the client's language, else the
    manager's."""
    return client.language or manager.locale


async def update_client(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    client_id: int,
    name: str | Keep = KEEP,
    contact_person: str | Keep | None = KEEP,
    phone: str | Keep | None = KEEP,
    email: str | Keep | None = KEEP,
    tags: str | Iterable[str] | Keep | None = KEEP,
    status: ClientStatus | str | Keep = KEEP,
    notes: str | Keep | None = KEEP,
    region: str = "US",
    allow_duplicate: bool = False,
) -> Client:
    """Change some fields of a client (KEEP leaves a field; None or "" clears an optional one).

    A rename onto another of the owner's client names raises DuplicateClient unless allowed.
    """
    current = await require_client(
        db, clock, actor=actor, client_id=client_id, attempted="client.update"
    )
    fields = prepare_fields(
        name=current.name if isinstance(name, Keep) else name,
        contact_person=(
            current.contact_person if isinstance(contact_person, Keep) else contact_person
        ),
        phone=current.phone_e164 if isinstance(phone, Keep) else phone,
        email=current.email if isinstance(email, Keep) else email,
        tags=current.tags if isinstance(tags, Keep) else tags,
        status=current.status if isinstance(status, Keep) else status,
        notes=current.notes if isinstance(notes, Keep) else notes,
        region=region,
    )
    changed = [
        field
        for field in ("name", "contact_person", "phone_e164", "email", "tags", "status", "notes")
        if getattr(current, field) != getattr(fields, field)
    ]
    if not changed:
        return current
    now = clock.now()
    async with db.transaction() as tx:
        if not allow_duplicate and fields.name_key != name_key(current.name):
            existing = await clients.find_by_name_key(
                tx, owner_id=current.owner_id, name_key=fields.name_key
            )
            if existing is not None and existing.id != client_id:
                raise DuplicateClient(
                    existing.name,
                    existing.id,
                    message=(
                        f"Another client of the same manager is already called {existing.name}."
                    ),
                )
        await clients.save_client(tx, client_id, fields=fields, now=now)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="client.update",
            now=now,
            object_type="client",
            object_id=client_id,
            details={"fields": changed},
        )
        updated = await clients.get_client(tx, client_id)
    assert updated is not None
    return updated


async def reassign_client(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    client_id: int,
    new_owner_id: int,
    max_clients: int = MAX_CLIENTS_PER_MANAGER,
) -> Client:
    """A head or admin hands a client, with its open next step, to another member.

    Refused while the old owner has a contact with the client waiting for its next step:
    after the move they could no longer conclude it; and when the new owner already has
    `max_clients` clients.
    """
    require_lead(actor)
    client = await clients.get_client(db, client_id)
    if client is None:
        raise DomainError("That client doesn't exist.")
    new_owner = await users.get_user(db, new_owner_id)
    if new_owner is None or not new_owner.active:
        raise DomainError("That person is not an active member of the team.")
    if client.owner_id == new_owner_id:
        return client
    now = clock.now()
    async with db.transaction() as tx:
        await _require_room(
            tx, new_owner_id, by_actor=new_owner_id == actor.telegram_id, limit=max_clients
        )
        if await contacts.has_pending_by(tx, client_id=client_id, manager_id=client.owner_id):
            raise DomainError(
                f"{client.name} has a contact still waiting for its next step; "
                "resolve it before reassigning the client."
            )
        await clients.set_owner(tx, client_id, owner_id=new_owner_id, now=now)
        for open_step in await steps.open_steps_for_client(tx, client_id):
            await steps.set_manager(tx, open_step.id, manager_id=new_owner_id, now=now)
            await reminders.reassign_for_subject(
                tx, ReminderSubject.STEP, open_step.id, user_id=new_owner_id
            )
        await move_reminders(tx, client_id, from_id=client.owner_id, to_id=new_owner_id)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="client.reassign",
            now=now,
            object_type="client",
            object_id=client_id,
            details={"from": client.owner_id, "to": new_owner_id},
        )
        moved = await clients.get_client(tx, client_id)
    assert moved is not None
    return moved


# --- Reading -----------------------------------------------------------------------------

_PHONE_QUERY = re.compile(r"^[+\d\s().\-/]+$")


def _query_terms(query: str) -> list[str]:
    """Folded search terms; a query that looks like a phone number is one string of digits."""
    text = query.strip()
    if _PHONE_QUERY.match(text) and len(_digits(text)) >= 3:
        return [_digits(text)]
    return list(dict.fromkeys(fold_text(text, symbols=True).split()))[:10]


async def refresh_search_keys(db: Database, *, batch: int = 500) -> int:
    """Make again the search copy of the clients queued for it (after the folding rules
    changed); returns how many. Called at start-up; a batch per transaction."""
    done = 0
    while queued := await clients.queued_for_reindex(db, limit=batch):
        async with db.transaction() as tx:
            for client in queued:
                key = search_key(
                    client.name, client.contact_person, client.tags, client.phone_e164
                )
                await clients.set_search_key(tx, client.id, key)
        done += len(queued)
    return done


async def search_clients(
    db: Database, *, actor: User, query: str = "", limit: int = 10, offset: int = 0
) -> ClientPage:
    """The actor's clients (everyone's for a head or admin) matching every word of `query`.

    Matches name, contact person, tags and phone digits, ignoring case and accents; the
    most recently contacted come first. An empty query lists them all.
    """
    _require_active(actor)
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    terms = _query_terms(query)
    found = await clients.search(
        db,
        owner_id=None if actor.is_lead else actor.telegram_id,
        trigram_terms=[term for term in terms if len(term) >= 3],
        short_terms=[term for term in terms if len(term) < 3],
        limit=limit + 1,
        offset=offset,
    )
    return ClientPage(items=found[:limit], offset=offset, has_more=len(found) > limit)


async def match_quick_log(
    db: Database, *, actor: User, text: str, limit: int = 8
) -> QuickLogMatch:
    """Split `/call <client> <summary>` by the longest run of words that prefixes a name.

    "Acme LLC discussed prices" matches "Acme LLC" (or "Acme LLC Holdings") and leaves
    "discussed prices". When several clients share the prefix and one has exactly that
    name, it wins; otherwise all candidates come back so the user chooses.
    """
    _require_active(actor)
    words = text.split()
    owner_id = None if actor.is_lead else actor.telegram_id
    for count in range(min(len(words), 8), 0, -1):
        prefix = name_key(" ".join(words[:count]))
        if not prefix:
            continue
        found = await clients.by_name_prefix(db, owner_id=owner_id, prefix=prefix, limit=limit)
        if found:
            exact = [item for item in found if name_key(item.client.name) == prefix]
            return QuickLogMatch(
                clients=exact if len(exact) == 1 else found,
                name_text=" ".join(words[:count]),
                summary=" ".join(words[count:]),
            )
    count = _name_words(words)
    return QuickLogMatch(
        clients=[], name_text=" ".join(words[:count]), summary=" ".join(words[count:])
    )


NEW_NAME_WORDS = 4
"""At most this many leading words are taken for a new client's name from `/call <text>`."""


def _looks_like_a_name(word: str) -> bool:
    first = word[0]
    # Capitalised, a digit, a symbol (an emoji, "&"), or a script without case (Devanagari).
    return not first.islower()


def _name_words(words: Sequence[str]) -> int:
    """How many leading words of `/call <text>` name a client not yet known: the run of
    capitalised (or caseless) words, at most NEW_NAME_WORDS, at least one."""
    count = 0
    for word in words[:NEW_NAME_WORDS]:
        if not _looks_like_a_name(word):
            break
        count += 1
    return max(1, min(count, len(words))) if words else 0


def split_new_name(text: str, name: str) -> str:
    """The summary left of `text` once a client's `name` (typed to correct the proposed one)
    is taken off its start; `text` unchanged when it does not start with the name."""
    words, named = text.split(), name_key(name).split()
    for count in range(len(words), 0, -1):
        if name_key(" ".join(words[:count])).split() == named:
            return " ".join(words[count:])
    return text


async def get_card(db: Database, clock: Clock, *, actor: User, client_id: int) -> ClientCard:
    """The client card: fields, owner, last three contacts and the open next steps.

    A manager asking for another manager's client gets NotAllowed, and the attempt is
    audited as `access.denied` (hence the clock).
    """
    client = await require_client(db, clock, actor=actor, client_id=client_id, attempted="card")
    owner = await users.get_user(db, client.owner_id)
    open_steps = await steps.open_steps_for_client(db, client_id)
    pause_step_ids: set[int] = set()
    for step in open_steps:
        set_by = await contacts.get_contact(db, step.created_by_contact_id)
        if set_by is not None and set_by.outcome is Outcome.PAUSED:
            pause_step_ids.add(step.id)
    return ClientCard(
        pause_step_ids=frozenset(pause_step_ids),
        client=client,
        owner_name=owner.name if owner else "?",
        recent_contacts=await contacts.recent_for_client(db, client_id, limit=CARD_CONTACTS),
        open_steps=open_steps,
        receivables=await client_summary(
            db,
            client_id=client_id,
            timezone=owner.timezone if owner else actor.timezone,
            now=clock.now(),
            locale=actor.locale,
        ),
    )


# --- CSV import and export ---------------------------------------------------------------

_HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": (
        "name",
        "company",
        "company name",
        "client",
        "client name",
        "organisation",
        "organization",
        "account",
        "account name",
    ),
    "contact_person": ("contact person", "contact", "contact name", "person", "full name"),
    "phone": ("phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "phone e164"),
    "email": ("email", "e mail", "email address", "e mail address", "mail"),
    "tags": ("tags", "tag", "segment", "segments", "labels"),
    "status": ("status",),
    "notes": ("notes", "note", "comments", "comment", "description"),
}
_HEADER_FIELDS = {alias: field for field, names in _HEADER_ALIASES.items() for alias in names}


def _decode(data: bytes) -> str:
    if len(data) > MAX_IMPORT_BYTES:
        raise DomainError(
            f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB; "
            "please split it into smaller files."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(
            "The file is not UTF-8 text. In Excel choose “Save as → CSV UTF-8”, "
            "then send it again."
        ) from None


def _read_rows(text: str) -> list[list[str]]:
    """All records of the CSV, split on the commonest of comma, semicolon and tab in the header."""
    header_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > MAX_IMPORT_ROWS + 1:
                raise DomainError(
                    f"The file has more than {MAX_IMPORT_ROWS:,} rows; "
                    "please split it into smaller files."
                )
    except csv.Error as error:
        raise DomainError(f"Row {len(rows) + 1} can't be read as CSV: {error}.") from None
    return rows


def _map_header(header: list[str]) -> tuple[dict[str, int], list[str]]:
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, title in enumerate(header):
        field = _HEADER_FIELDS.get(fold_text(title))
        if field is None:
            if title.strip():
                ignored.append(title.strip())
            continue
        if field in columns:
            raise DomainError(f"Two columns mean the same thing ({field}); keep only one.")
        columns[field] = index
    if "name" not in columns:
        raise DomainError(
            "The first row must name the columns, including one for the client's name "
            "(name, company or client)."
        )
    return columns, ignored


def _cell(cells: list[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    value = cells[index].strip()
    # Undo the export's formula guard, so an exported file imports as it was.
    if value.startswith("'") and value[1:2] and value[1] in FORMULA_START:
        return value[1:]
    return value


@dataclass(frozen=True, slots=True)
class ParsedImport:
    """A CSV file read and validated (`parse_csv`), before anything is saved.

    `candidates` are the valid rows, first of their name in the file: (row number, fields).
    """

    candidates: list[tuple[int, ClientFields]]
    duplicates: list[ImportIssue]
    rejected: list[ImportIssue]
    ignored_columns: list[str]
    rows: int  # data rows read (blank ones not counted)
    assumed_phones: int = 0  # candidates' phones without a country code, read in `region`
    region: str = ""


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """How far an import is: `done` of `total` valid rows handled, `imported` saved."""

    done: int
    total: int
    imported: int


def parse_csv(data: bytes, region: str = "US") -> ParsedImport:
    """Read and validate a CSV file of clients (UTF-8 with or without BOM; comma, semicolon
    or tab), without the database: CPU-bound, so the bot runs it off its event loop.

    The first row names the columns (any of the client fields, common aliases accepted, any
    case). A row is a candidate, a duplicate of an earlier row, or rejected with its reason.
    A file that can't be imported as a whole raises DomainError. At most 5 MB, 10,000 rows.
    """
    rows = _read_rows(_decode(data))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise DomainError("The file is empty; the first row must name the columns.")
    columns, ignored = _map_header(rows[0])
    candidates: list[tuple[int, ClientFields]] = []
    duplicates: list[ImportIssue] = []
    rejected: list[ImportIssue] = []
    seen: set[str] = set()
    count = assumed = 0
    for number, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        count += 1
        values = {field: _cell(cells, columns.get(field)) for field in _HEADER_ALIASES}
        try:
            fields = prepare_fields(**values, region=region)
        except DomainError as error:
            rejected.append(ImportIssue(number, values["name"], str(error)))
            continue
        if fields.name_key in seen:
            duplicates.append(ImportIssue(number, fields.name, "already exists"))
            continue
        seen.add(fields.name_key)
        candidates.append((number, fields))
        phone = (values["phone"] or "").strip()
        if phone and not phone.startswith("+") and assumed_region(phone, region):
            assumed += 1
    return ParsedImport(candidates, duplicates, rejected, ignored, count, assumed, region.upper())


def _limit_message(owner_is_actor: bool, have: int, limit: int) -> str:
    who = "You have" if owner_is_actor else "That manager has"
    return (
        f"{who} {have:,} clients; one manager can have at most {limit:,}. "
        "A head or admin can hand some of them to a colleague (Reassign on the client card)."
    )


async def import_parsed(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    parsed: ParsedImport,
    owner_id: int | None = None,
    max_clients: int = MAX_CLIENTS_PER_MANAGER,
    chunk_rows: int = IMPORT_CHUNK,
    progress: Callable[[ImportProgress], Awaitable[None]] | None = None,
) -> ImportReport:
    """Save a parsed file's new clients, `chunk_rows` at a time, each chunk in a transaction.

    Other people's writes run between the chunks, so a big file never holds the write lock
    for long. What is saved is always whole rows: a chunk is saved with its audit entry, or
    not at all. If a chunk can't be saved (the database is locked or full), the chunks before
    it stay saved and the report says from which row on nothing was imported
    (`ImportReport.stopped`); if the bot stops meanwhile, the saved chunks stay too. Sending
    the same file again then imports the rest: rows already imported count as duplicates.

    A file that would take the owner past `max_clients` is refused before anything is
    saved; each chunk checks the limit again (clients may be added meanwhile) and stops
    the import there if it would pass it.
    """
    owner = await _resolve_owner(db, actor, owner_id)
    by_actor = owner == actor.telegram_id
    have = await clients.count_for_owner(db, owner)
    existing = await clients.name_keys(db, owner)
    fresh = [item for item in parsed.candidates if item[1].name_key not in existing]
    duplicates = list(parsed.duplicates)
    duplicates += [
        ImportIssue(row, fields.name, "already exists")
        for row, fields in parsed.candidates
        if fields.name_key in existing
    ]
    if have + len(fresh) > max_clients:
        room = max(max_clients - have, 0)
        raise DomainError(
            f"This file has {len(fresh):,} new clients, more than fit: "
            + _limit_message(by_actor, have, max_clients)
            + f" Send at most {room:,} new clients."
        )
    imported = 0
    stopped: ImportStop | None = None
    done = 0
    chunks = [fresh[i : i + chunk_rows] for i in range(0, len(fresh), chunk_rows)] or [[]]
    for chunk in chunks:
        now = clock.now()
        began = time.perf_counter()
        try:
            saved, skipped, over = await _import_chunk(
                db, actor=actor, owner=owner, chunk=chunk, max_clients=max_clients, now=now
            )
        except sqlite3.Error as exc:
            row = chunk[0][0] if chunk else parsed.rows + 1
            logger.warning("Import stopped at row %d: %s", row, exc)
            stopped = ImportStop(
                row=row,
                not_imported=len(fresh) - done,
                reason="the database could not save them (busy or full)",
            )
            break
        if over:
            stopped = ImportStop(
                row=chunk[0][0],
                not_imported=len(fresh) - done,
                reason=_limit_message(by_actor, over, max_clients),
            )
            break
        imported += saved
        duplicates += skipped
        done += len(chunk)
        if progress is not None and len(chunks) > 1:
            await progress(ImportProgress(done, len(fresh), imported))
        # Everyone else's updates run between the chunks: a reply takes several turns of the
        # loop, so a bare yield would let the next chunk in after one of them; resting as long
        # as the chunk took keeps the import to at most half of the loop's time.
        await asyncio.sleep(min(time.perf_counter() - began, CHUNK_REST_MAX_S))
    duplicates.sort(key=lambda issue: issue.row)
    return ImportReport(
        imported, duplicates, parsed.rejected, parsed.ignored_columns, parsed.rows, stopped
    )


async def _import_chunk(
    db: Database,
    *,
    actor: User,
    owner: int,
    chunk: list[tuple[int, ClientFields]],
    max_clients: int,
    now: dt.datetime,
) -> tuple[int, list[ImportIssue], int]:
    """One chunk in one transaction: (saved, duplicates found now, 0 or the count over the
    limit when the chunk would pass it and nothing was saved)."""
    async with db.transaction() as tx:
        skipped: list[ImportIssue] = []
        new: list[ClientFields] = []
        for row, fields in chunk:  # clients added since the file was checked
            if await _owner_has(tx, owner, fields.name_key):
                skipped.append(ImportIssue(row, fields.name, "already exists"))
            else:
                new.append(fields)
        have = await clients.count_for_owner(tx, owner)
        if have + len(new) > max_clients:
            return 0, [], have
        await clients.insert_clients(tx, owner_id=owner, fields=new, now=now)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="client.import",
            now=now,
            object_type="user",
            object_id=owner,
            details={
                "rows": [chunk[0][0], chunk[-1][0]] if chunk else [],
                "imported": len(new),
                "duplicates": len(skipped),
            },
        )
    return len(new), skipped, 0


async def import_csv(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    data: bytes,
    owner_id: int | None = None,
    region: str = "US",
    max_clients: int = MAX_CLIENTS_PER_MANAGER,
    chunk_rows: int = IMPORT_CHUNK,
) -> ImportReport:
    """`parse_csv` then `import_parsed`, the parsing on the calling thread (tests, tools; the
    bot parses off its event loop, see `bot.workers.files`)."""
    await _resolve_owner(db, actor, owner_id)
    return await import_parsed(
        db,
        clock,
        actor=actor,
        parsed=parse_csv(data, region),
        owner_id=owner_id,
        max_clients=max_clients,
        chunk_rows=chunk_rows,
    )


async def _owner_has(tx: Transaction, owner_id: int, key: str) -> bool:
    return await clients.find_by_name_key(tx, owner_id=owner_id, name_key=key) is not None


def export_owner(actor: User) -> int | None:
    """Whose clients the actor's export holds: their own, or everyone's (None) for a lead."""
    _require_active(actor)
    return None if actor.is_lead else actor.telegram_id


async def record_export(db: Database, clock: Clock, *, actor: User, rows: int) -> None:
    """Audit an export the actor was sent."""
    now = clock.now()
    async with db.transaction() as tx:
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="client.export",
            now=now,
            object_type="user",
            object_id=actor.telegram_id,
            details={"rows": rows},
        )
