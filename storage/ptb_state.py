"""Conversation states and per-user/per-chat drafts of python-telegram-bot, as JSON rows."""

from __future__ import annotations

import json
from typing import Any

from storage.db import Queries, Transaction


async def load_conversations(db: Queries, name: str) -> dict[str, Any]:
    """All stored states of one conversation, keyed by the JSON-encoded conversation key."""
    rows = await db.fetch_all("SELECT key, state FROM ptb_conversations WHERE name = ?", (name,))
    return {row["key"]: json.loads(row["state"]) for row in rows}


async def save_conversation(tx: Transaction, name: str, key: str, state: Any) -> None:
    """Store a state, or forget the key when the state is None (conversation ended)."""
    if state is None:
        await tx.execute("DELETE FROM ptb_conversations WHERE name = ? AND key = ?", (name, key))
    else:
        await tx.execute(
            "INSERT INTO ptb_conversations (name, key, state) VALUES (?, ?, ?)"
            " ON CONFLICT (name, key) DO UPDATE SET state = excluded.state",
            (name, key, json.dumps(state)),
        )


async def load_data(db: Queries, table: str) -> dict[int, dict[str, Any]]:
    """Every row of `ptb_user_data` or `ptb_chat_data`."""
    key = _key_column(table)
    rows = await db.fetch_all(f"SELECT {key}, data FROM {table}")
    return {row[0]: json.loads(row["data"]) for row in rows}


async def save_data(tx: Transaction, table: str, owner_id: int, data: dict[str, Any]) -> None:
    """Store (or, when empty, drop) one user's or chat's data."""
    key = _key_column(table)
    if not data:
        await tx.execute(f"DELETE FROM {table} WHERE {key} = ?", (owner_id,))
        return
    await tx.execute(
        f"INSERT INTO {table} ({key}, data) VALUES (?, ?)"
        f" ON CONFLICT ({key}) DO UPDATE SET data = excluded.data",
        (owner_id, json.dumps(data, ensure_ascii=False)),
    )


async def drop_data(tx: Transaction, table: str, owner_id: int) -> None:
    """Forget one user's or chat's data."""
    await tx.execute(f"DELETE FROM {table} WHERE {_key_column(table)} = ?", (owner_id,))


def _key_column(table: str) -> str:
    columns = {"ptb_user_data": "user_id", "ptb_chat_data": "chat_id"}
    if table not in columns:
        raise ValueError(f"unknown data table {table!r}")
    return columns[table]
