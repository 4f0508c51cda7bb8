"""Conversation states and drafts survive in the database."""

from __future__ import annotations

from bot.persistence import SqlitePersistence
from storage.db import Database


async def test_round_trip(db: Database) -> None:
    """What one process writes, the next one reads back; ended conversations are forgotten."""
    persistence = SqlitePersistence(db)
    await persistence.update_conversation("log", (10, 10), 3)
    await persistence.update_conversation("log", (11, 11), 2)
    await persistence.update_conversation("log", (11, 11), None)
    await persistence.update_user_data(10, {"draft": {"client_id": 5, "summary": "Привет"}})
    await persistence.update_user_data(12, {})

    reopened = SqlitePersistence(Database(db.path))
    assert await reopened.get_conversations("log") == {(10, 10): 3}
    assert await reopened.get_user_data() == {10: {"draft": {"client_id": 5, "summary": "Привет"}}}
    await reopened.drop_user_data(10)
    assert await reopened.get_user_data() == {}
    await reopened.db.close()
