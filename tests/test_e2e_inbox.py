"""A crash loses no update: the inbox replays what was never started and explains the rest."""

from __future__ import annotations

import datetime as dt
import json

from telegram import Update

from bot.app import build_application, polling
from bot.clock import FrozenClock
from bot.config import Settings
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.telegram.inbox import Inbox
from storage import inbox as inbox_store
from storage.db import Database
from tests.e2e_helpers import eventually, start_admin


async def test_updates_left_by_a_crash_are_replayed_or_explained(
    e2e_settings: Settings, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Two updates a killed bot had fetched (so Telegram will not send them again): one no
    handler had touched is handled after the restart; one a handler had started on is not
    repeated, and the person is told, quoting their message. The inbox is empty after."""
    first = build_application(e2e_settings, clock=clock)
    async with polling(first, poll_timeout=1):
        admin = await start_admin(server)
    # The bot is down; two messages arrive, which the dead process had fetched and stored.
    world = server.world
    untouched = world.user_message(admin.chat, admin.id, text="/help")
    interrupted = world.user_message(admin.chat, admin.id, text="/call Acme <b>big</b> order")
    fetched = world.updates[-2:]
    del world.updates[-2:]
    db = Database(e2e_settings.database_path)
    await db.open()
    async with db.transaction() as tx:
        await inbox_store.store_new(
            tx,
            [(u["update_id"], admin.chat.id, json.dumps(u)) for u in fetched],
            clock.now(),
        )
        await inbox_store.mark_started(tx, fetched[1]["update_id"])
    await db.close()
    assert untouched["text"] == "/help" and interrupted["message_id"]

    admin.cursor = len(admin.chat.events)
    second = build_application(e2e_settings, clock=clock)
    async with polling(second, poll_timeout=1):
        note = await admin.expect("NextStep restarted while it was handling your message")
        assert "“/call Acme &lt;b&gt;big&lt;/b&gt; order”" in note.html
        assert "“/call Acme <b>big</b> order”" in note.text
        await admin.expect("/log")  # the help text: the untouched /help was handled
        await admin.send("/agenda")
        await admin.reply()
        # Each update leaves the inbox just after its handlers are done.
        await eventually(
            second.bot_data["services"].db, "SELECT count(*) FROM inbox WHERE done = 0", [0]
        )


async def test_a_resent_update_is_dropped(db: Database, clock: FrozenClock) -> None:
    """Telegram re-sends updates fetched but not confirmed before a crash: one received
    before (handled or not) is not handled twice, across restarts. Ids are compared for
    equality only (after a quiet week Telegram restarts them at a random number); handled
    ones are forgotten after a day."""
    payload = {
        "update_id": 41,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "A"},
            "text": "hi",
        },
    }
    update = Update.de_json(payload, None)
    inbox = Inbox(db, clock)
    assert await inbox.receive(update)
    assert not await inbox.receive(update)
    assert await Inbox(db, clock).receive(Update.de_json({**payload, "update_id": 7}, None))
    await inbox.handled(update)
    assert not await Inbox(db, clock).receive(update)  # handled, then re-sent
    assert [entry.update_id for entry in await inbox_store.pending(db)] == [7]

    async with db.transaction() as tx:
        await inbox_store.purge(tx, clock.now() + dt.timedelta(days=1, seconds=1))
    assert await Inbox(db, clock).receive(update)  # a day later the id may come back


async def test_a_fetched_batch_is_stored_as_sent(db: Database, clock: FrozenClock) -> None:
    """A batch from getUpdates is stored in one write, exactly as Telegram sent it, with each
    update's chat; a re-sent one in the batch is recognised when PTB queues it."""
    message = {
        "update_id": 50,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "Ann"},
            "text": "<b>hi</b> «ok»",
        },
    }
    press = {
        "update_id": 51,
        "callback_query": {
            "id": "q1",
            "chat_instance": "c",
            "from": {"id": 6, "is_bot": False, "first_name": "Bo"},
            "message": {**message["message"], "chat": {"id": 6, "type": "private"}},
            "data": "x:1",
        },
    }
    inbox = Inbox(db, clock)
    assert await inbox.receive(Update.de_json(message, None))  # stored one by one before
    await inbox.receive_batch([message, press])
    assert not await inbox.receive(Update.de_json(message, None))  # the re-sent copy
    assert await inbox.receive(Update.de_json(press, None))
    entries = {entry.update_id: entry for entry in await inbox_store.pending(db)}
    assert entries[51].chat_id == 6 and json.loads(entries[51].payload) == press
    assert entries[50].chat_id == 5
    assert not inbox._arrived  # nothing left behind
