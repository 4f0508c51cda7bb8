"""Clients: the companies and people a manager works with."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from storage.contacts import Contact, contact_from_row
from storage.db import Queries, Row, Transaction, from_db_time, optional_time, to_db_time


class ClientStatus(StrEnum):
    """Where the relationship stands."""

    PROSPECT = "prospect"
    ACTIVE = "active"
    INACTIVE = "inactive"


@dataclass(frozen=True, slots=True)
class Client:
    """A client as stored; `tags` are normalised (lower case, no duplicates)."""

    id: int
    owner_id: int
    name: str
    contact_person: str | None
    phone_e164: str | None
    email: str | None
    tags: tuple[str, ...]
    status: ClientStatus
    notes: str | None
    last_contact_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    # The language reply templates to them are written in; None: their manager's.
    language: str | None = None


class ClientFields(NamedTuple):
    """Every writable column, already validated and normalised by the service.

    A named tuple: an import's 10,000 of them cross from a worker process as plain tuples
    (a frozen dataclass took 5x as long to build and unpickle).
    """

    name: str
    name_key: str
    contact_person: str | None
    phone_e164: str | None
    email: str | None
    tags: tuple[str, ...]
    status: ClientStatus
    notes: str | None
    search_key: str


@dataclass(frozen=True, slots=True)
class ClientListItem:
    """A client with its owner's name, as lists and cards show it."""

    client: Client
    owner_name: str


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """One line of the export: a client and one of its contacts (None if it has none)."""

    client: Client
    owner_name: str
    contact: Contact | None


_COLUMNS = (
    "c.id, c.owner_id, c.name, c.contact_person, c.phone_e164, c.email, c.tags, c.status,"
    " c.notes, c.last_contact_at, c.created_at, c.updated_at, c.language"
)
_FROM = "FROM clients c JOIN users u ON u.telegram_id = c.owner_id"
# Most recently contacted first; never contacted (NULL) last, newest first among them.
_ORDER = "ORDER BY c.last_contact_at DESC, c.id DESC"


def _client(row: Row) -> Client:
    return Client(
        id=row["id"],
        owner_id=row["owner_id"],
        name=row["name"],
        contact_person=row["contact_person"],
        phone_e164=row["phone_e164"],
        email=row["email"],
        tags=tuple(tag for tag in row["tags"].split(",") if tag),
        status=ClientStatus(row["status"]),
        notes=row["notes"],
        last_contact_at=optional_time(row["last_contact_at"]),
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        language=row["language"],
    )


def _item(row: Row) -> ClientListItem:
    return ClientListItem(client=_client(row), owner_name=row["owner_name"])


def _values(fields: ClientFields) -> dict[str, object]:
    return {
        "name": fields.name,
        "name_key": fields.name_key,
        "contact_person": fields.contact_person,
        "phone_e164": fields.phone_e164,
        "email": fields.email,
        "tags": ",".join(fields.tags),
        "status": fields.status.value,
        "notes": fields.notes,
        "search_key": fields.search_key,
    }


async def insert_client(
    tx: Transaction, *, owner_id: int, fields: ClientFields, now: dt.datetime
) -> Client:
    """Store a new client for `owner_id`."""
    values = _values(fields)
    columns = ", ".join(values)
    placeholders = ", ".join(f":{key}" for key in values)
    cursor = await tx.execute(
        f"INSERT INTO clients (owner_id, {columns}, created_at, updated_at)"
        f" VALUES (:owner_id, {placeholders}, :now, :now)",
        {**values, "owner_id": owner_id, "now": to_db_time(now)},
    )
    client = await get_client(tx, int(cursor.lastrowid or 0))
    assert client is not None
    return client


async def save_client(
    tx: Transaction, client_id: int, *, fields: ClientFields, now: dt.datetime
) -> None:
    """Overwrite the writable columns of one client."""
    values = _values(fields)
    assignments = ", ".join(f"{key} = :{key}" for key in values)
    await tx.execute(
        f"UPDATE clients SET {assignments}, updated_at = :now WHERE id = :id",
        {**values, "now": to_db_time(now), "id": client_id},
    )


async def set_language(
    tx: Transaction, client_id: int, *, language: str | None, now: dt.datetime
) -> None:
    """Set (or, None, clear) the language a client is written to in."""
    await tx.execute(
        "UPDATE clients SET language = ?, updated_at = ? WHERE id = ?",
        (language, to_db_time(now), client_id),
    )


async def set_owner(tx: Transaction, client_id: int, *, owner_id: int, now: dt.datetime) -> None:
    """Hand a client to another owner."""
    await tx.execute(
        "UPDATE clients SET owner_id = ?, updated_at = ? WHERE id = ?",
        (owner_id, to_db_time(now), client_id),
    )


async def note_contact(tx: Transaction, client_id: int, *, happened_at: dt.datetime) -> None:
    """Move `last_contact_at` forward to `happened_at` if that is later."""
    stamp = to_db_time(happened_at)
    await tx.execute(
        "UPDATE clients SET last_contact_at = max(coalesce(last_contact_at, ''), ?) WHERE id = ?",
        (stamp, client_id),
    )


async def activate_prospect(tx: Transaction, client_id: int, *, now: dt.datetime) -> bool:
    """A prospect becomes active (a deal won, an invoice): whether it was one."""
    cursor = await tx.execute(
        "UPDATE clients SET status = 'active', updated_at = ?"
        " WHERE id = ? AND status = 'prospect'",
        (to_db_time(now), client_id),
    )
    return cursor.rowcount > 0


async def recompute_last_contact(tx: Transaction, client_id: int) -> None:
    """Set `last_contact_at` from the remaining contacts (after an undo)."""
    await tx.execute(
        "UPDATE clients SET last_contact_at = (SELECT happened_at FROM contacts"
        " WHERE client_id = clients.id ORDER BY happened_at DESC LIMIT 1) WHERE id = ?",
        (client_id,),
    )


async def queued_for_reindex(db: Queries, *, limit: int) -> list[Client]:
    """Clients whose search copy is to be made again (see migration 0011), oldest first."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS} FROM search_reindex r JOIN clients c ON c.id = r.client_id"
        " ORDER BY r.client_id LIMIT ?",
        (limit,),
    )
    return [_client(row) for row in rows]


async def set_search_key(tx: Transaction, client_id: int, search_key: str) -> None:
    """Store a client's new search copy and take it off the re-key queue."""
    await tx.execute("UPDATE clients SET search_key = ? WHERE id = ?", (search_key, client_id))
    await tx.execute("DELETE FROM search_reindex WHERE client_id = ?", (client_id,))


async def get_client(db: Queries, client_id: int) -> Client | None:
    """The client with this id."""
    row = await db.fetch_one(f"SELECT {_COLUMNS} FROM clients c WHERE c.id = ?", (client_id,))
    return None if row is None else _client(row)


async def find_by_name_key(db: Queries, *, owner_id: int, name_key: str) -> Client | None:
    """The owner's oldest client whose folded name equals `name_key` (duplicate check)."""
    row = await db.fetch_one(
        f"SELECT {_COLUMNS} FROM clients c WHERE c.owner_id = ? AND c.name_key = ?"
        " ORDER BY c.id LIMIT 1",
        (owner_id, name_key),
    )
    return None if row is None else _client(row)


async def search(
    db: Queries,
    *,
    owner_id: int | None,
    trigram_terms: list[str],
    short_terms: list[str],
    limit: int,
    offset: int,
) -> list[ClientListItem]:
    """Clients whose search key contains every term, most recently contacted first.

    Terms must be folded like the search key (letters, marks and digits only, so they carry
    no quote or LIKE wildcard). Terms of three or more characters use the trigram index;
    shorter ones are checked with LIKE on the rows that remain. `owner_id` None means all.
    """
    where: list[str] = []
    params: list[object] = []
    if owner_id is not None:
        where.append("c.owner_id = ?")
        params.append(owner_id)
    if trigram_terms:
        where.append("c.id IN (SELECT rowid FROM clients_search WHERE clients_search MATCH ?)")
        params.append(" AND ".join(f'"{term}"' for term in trigram_terms))
    for term in short_terms:
        where.append("c.search_key LIKE ?")
        params.append(f"%{term}%")
    condition = f"WHERE {' AND '.join(where)}" if where else ""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS}, u.name AS owner_name {_FROM} {condition} {_ORDER} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return [_item(row) for row in rows]


async def by_name_prefix(
    db: Queries, *, owner_id: int | None, prefix: str, limit: int
) -> list[ClientListItem]:
    """Clients whose folded name starts with the folded `prefix`, shortest names first."""
    # A range on name_key instead of LIKE: it uses the index and has no wildcards to escape.
    params: list[object] = [prefix, prefix + "\U0010ffff"]
    owner = ""
    if owner_id is not None:
        owner = "AND c.owner_id = ?"
        params.append(owner_id)
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS}, u.name AS owner_name {_FROM}"
        f" WHERE c.name_key >= ? AND c.name_key < ? {owner}"
        " ORDER BY length(c.name_key), c.last_contact_at DESC, c.id DESC LIMIT ?",
        [*params, limit],
    )
    return [_item(row) for row in rows]


_EXPORT_SQL = (
    f"SELECT {_COLUMNS}, u.name AS owner_name,"
    " t.id AS t_id, t.client_id AS t_client_id, t.manager_id AS t_manager_id,"
    " t.kind AS t_kind, t.happened_at AS t_happened_at, t.summary AS t_summary,"
    " t.state AS t_state, t.outcome AS t_outcome, t.outcome_reason AS t_outcome_reason,"
    " t.logged_at AS t_logged_at, t.resolved_at AS t_resolved_at"
    f" {_FROM} LEFT JOIN contacts t ON t.client_id = c.id {{owner}}"
    " ORDER BY c.name_key, c.id, t.happened_at, t.id"
)
EXPORT_BATCH = 1000


def iter_export_records(
    conn: sqlite3.Connection, *, owner_id: int | None
) -> Iterator[ExportRecord]:
    """Clients (one owner's, or all) each with their contacts, oldest contact first, streamed.

    For a worker thread or process with a connection of its own (`storage.db.
    read_only_connection`): one statement, so one consistent snapshot, read in batches, so
    memory stays flat whatever the size. A client's fields are decoded once for all its rows.
    """
    owner = "WHERE c.owner_id = ?" if owner_id is not None else ""
    params = (owner_id,) if owner_id is not None else ()
    cursor = conn.execute(_EXPORT_SQL.format(owner=owner), params)
    try:
        client: Client | None = None
        while rows := cursor.fetchmany(EXPORT_BATCH):
            for row in rows:
                if client is None or client.id != row["id"]:
                    client = _client(row)
                contact = None if row["t_id"] is None else contact_from_row(row, prefix="t_")
                yield ExportRecord(client=client, owner_name=row["owner_name"], contact=contact)
    finally:
        cursor.close()


async def count_export_rows(db: Queries, *, owner_id: int | None) -> int:
    """How many rows an export has: a row per contact, and one per client without any."""
    owner = "WHERE c.owner_id = ?" if owner_id is not None else ""
    params = (owner_id,) if owner_id is not None else ()
    value = await db.fetch_value(
        "SELECT coalesce(sum(max(1, (SELECT count(*) FROM contacts t WHERE t.client_id = c.id))),"
        f" 0) FROM clients c {owner}",
        params,
    )
    return int(value or 0)


async def count_for_owner(db: Queries, owner_id: int) -> int:
    """How many clients the owner has (the per-manager limit)."""
    value = await db.fetch_value("SELECT count(*) FROM clients WHERE owner_id = ?", (owner_id,))
    return int(value or 0)


async def name_keys(db: Queries, owner_id: int) -> set[str]:
    """The folded names of all the owner's clients (an import's duplicate check up front)."""
    rows = await db.fetch_all("SELECT name_key FROM clients WHERE owner_id = ?", (owner_id,))
    return {row[0] for row in rows}


async def insert_clients(
    tx: Transaction, *, owner_id: int, fields: Sequence[ClientFields], now: dt.datetime
) -> None:
    """Store many new clients for `owner_id` in one statement (an import's chunk)."""
    if not fields:
        return
    names = list(_values(fields[0]))
    columns = ", ".join(names)
    placeholders = ", ".join(f":{key}" for key in names)
    stamp = to_db_time(now)
    await tx.executemany(
        f"INSERT INTO clients (owner_id, {columns}, created_at, updated_at)"
        f" VALUES (:owner_id, {placeholders}, :now, :now)",
        ({**_values(item), "owner_id": owner_id, "now": stamp} for item in fields),
    )


async def gone_quiet(
    db: Queries, *, owner_id: int, silent_since: dt.datetime, limit: int
) -> list[ClientListItem]:
    """An owner's clients with no contact since `silent_since` (or never, if added before it)
    and nothing planned, quietest first: who to call when the day is empty."""
    rows = await db.fetch_all(
        f"SELECT {_COLUMNS}, u.name AS owner_name {_FROM}"
        " WHERE c.owner_id = ? AND c.status <> 'inactive'"
        " AND coalesce(c.last_contact_at, c.created_at) < ?"
        " AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.client_id = c.id AND s.state = 'open')"
        " ORDER BY coalesce(c.last_contact_at, c.created_at), c.id LIMIT ?",
        (owner_id, to_db_time(silent_since), limit),
    )
    return [_item(row) for row in rows]
