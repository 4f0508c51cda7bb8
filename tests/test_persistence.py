"""Conversation states and drafts survive in the database."""

from __future__ import annotations

from telegram import Update

from bot.telegram.persistence import SqlitePersistence
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


def _update(update_id: int, user_id: int) -> Update:
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": user_id, "type": "private"},
                "from": {"id": user_id, "is_bot": False, "first_name": "A"},
                "text": "x",
            },
        },
        None,
    )


async def test_a_person_with_an_update_in_progress_is_written_once_it_is_settled(
    db: Database,
) -> None:
    """A flush asked for by someone else's update does not store a half-changed draft or a
    conversation state of a person whose update is still being handled; once it settles,
    draft and state are written together. Others are written at once."""
    persistence = SqlitePersistence(db)
    busy = _update(1, 10)
    persistence.started(busy)
    await persistence.update_user_data(10, {"draft": {"contact_id": 7}})
    await persistence.update_conversation("log", (10, 10), 4)
    await persistence.update_user_data(11, {"draft": {"client_id": 3}})  # someone else
    stored = SqlitePersistence(Database(db.path))
    assert await stored.get_user_data() == {11: {"draft": {"client_id": 3}}}
    assert await stored.get_conversations("log") == {}

    await persistence.handled(busy)
    assert await stored.get_user_data() == {
        10: {"draft": {"contact_id": 7}},
        11: {"draft": {"client_id": 3}},
    }
    assert await stored.get_conversations("log") == {(10, 10): 4}
    await stored.db.close()
