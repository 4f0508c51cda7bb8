"""Nothing a person sent is lost when the bot process dies.

python-telegram-bot confirms updates to Telegram as soon as it fetches the next batch, and a
webhook is answered as soon as the update is queued; an update still waiting in memory (or
being handled) when the process is killed was gone. Now every update is written to the
`inbox` table before it is queued (a polled batch by `UpdatesRequest` as it arrives, a
webhook's update by `DurableUpdateQueue`), marked when a handler starts on it and marked done
once it has been handled (`bot/telegram/updates.py`). After a restart:

- updates never started are handled as if they had just arrived, in their order;
- updates a handler had started on may have been half done (a reply sent, a record saved):
  they are not repeated; the person is told what happened and asked to check.

The inbox's own writes never wait for a lock another process holds: a locked or full
database is reported by the handler ("could not save"), and the update is handled from memory.

Telegram re-sends updates that were fetched but not confirmed (for up to 24 h); handled ones
stay in the table, without their content, for a day, so a re-sent update is recognised by its
id and dropped. Ids are only compared for equality: after a quiet week Telegram starts them
again at a random number.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import sqlite3
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import TelegramError
from telegram.request import RequestData

from bot.clock import Clock
from bot.telegram.coalesce import Coalescer
from bot.telegram.context import NextStepApplication
from bot.telegram.http import AiohttpRequest
from bot.views.render import escape
from storage import inbox as inbox_store
from storage.db import Database

logger = logging.getLogger(__name__)

PREVIEW_CHARS = 80
KEEP_HANDLED = dt.timedelta(days=1)  # Telegram re-sends unconfirmed updates for up to 24 h
PURGE_EVERY = 1000  # handled updates between purges of the old ones
INTERRUPTED = (
    "⚠️ NextStep restarted while it was handling your {what}. It may not have been "
    "finished: please check (/agenda, the client's card) and send it again if needed."
)


class Inbox:
    """Stores received updates until they are handled; replays them after a crash."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._handled: list[int] = []
        self._since_purge = 0
        self._mark_done = Coalescer(self._mark_handled)
        # Updates of a fetched batch already stored by `receive_batch`: id -> new (not re-sent).
        self._arrived: dict[int, bool] = {}

    async def receive_batch(self, raw_updates: list[dict[str, Any]]) -> None:
        """Store a batch fetched from Telegram, as it came, in one write (see UpdatesRequest)."""
        entries = [
            (raw["update_id"], _raw_chat_id(raw), json.dumps(raw, ensure_ascii=False))
            for raw in raw_updates
        ]
        new = await self._store(entries)
        for update_id, _, _ in entries:
            self._arrived[update_id] = update_id in new

    async def receive(self, update: Update) -> bool:
        """Store a new update; False for one already received (re-sent by Telegram)."""
        new = self._arrived.pop(update.update_id, None)
        if new is None:  # not fetched by UpdatesRequest: a webhook's, or replayed by a test
            chat = update.effective_chat
            payload = json.dumps(update.to_dict(), ensure_ascii=False)
            new = bool(await self._store([(update.update_id, chat.id if chat else None, payload)]))
        if not new:
            logger.info("Update %d was received before; dropped", update.update_id)
        return new

    async def _store(self, entries: list[tuple[int, int | None, str]]) -> set[int]:
        """Keep the updates not seen before, in one write; the ids of those."""
        async with self.db.transaction(wait=False) as tx:
            return await inbox_store.store_new(tx, entries, self.clock.now())

    async def started(self, update: Update) -> None:
        """A handler is about to act on `update`."""
        try:
            async with self.db.transaction(wait=False) as tx:
                await inbox_store.mark_started(tx, update.update_id)
        except sqlite3.Error as exc:  # the handler reports its own failure to save
            logger.warning("Update %d not marked as started: %s", update.update_id, exc)

    async def handled(self, update: Update) -> None:
        """`update` was handled: mark it (updates handled together share one write)."""
        self._handled.append(update.update_id)
        try:
            await self._mark_done.run()
        except sqlite3.Error as exc:  # left in the inbox: explained after a restart
            logger.warning("Handled updates not marked in the inbox: %s", exc)

    async def _mark_handled(self) -> None:
        handled, self._handled = self._handled, []
        if not handled:
            return
        try:
            async with self.db.transaction(wait=False) as tx:
                await inbox_store.mark_done(tx, handled)
                self._since_purge += len(handled)
                if self._since_purge >= PURGE_EVERY:
                    await inbox_store.purge(tx, self.clock.now() - KEEP_HANDLED)
                    self._since_purge = 0
        except BaseException:
            self._handled[:0] = handled  # marked with the next batch
            raise

    async def recover(self, application: NextStepApplication) -> tuple[int, int]:
        """After a start: queue the updates never started, explain the interrupted ones.

        Returns (replayed, explained).
        """
        replayed = explained = 0
        queue = application.update_queue
        for entry in await inbox_store.pending(self.db):
            update = Update.de_json(json.loads(entry.payload), application.bot)
            if not entry.started:
                await _queue_stored(queue, update)
                replayed += 1
                continue
            await self._explain(application, update)
            async with self.db.transaction() as tx:
                await inbox_store.mark_done(tx, [entry.update_id])
            explained += 1
        if replayed or explained:
            logger.warning(
                "Recovered after a restart: %d updates handled now, %d people told theirs "
                "was interrupted",
                replayed,
                explained,
            )
        return replayed, explained

    async def _explain(self, application: NextStepApplication, update: Update) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        message = update.message or update.edited_message
        if message is not None and message.text:
            text = (
                message.text
                if len(message.text) <= PREVIEW_CHARS
                else (message.text[: PREVIEW_CHARS - 1] + "…")
            )
            what = f"message “{escape(text)}”"
        elif update.callback_query is not None:
            what = "button press"
        else:
            what = "last message"
        try:
            await application.bot.send_message(chat.id, INTERRUPTED.format(what=what))
        except TelegramError as exc:  # blocked, gone: nothing more to do for this one
            logger.info("Could not tell chat %d about an interrupted update: %s", chat.id, exc)


class DurableUpdateQueue(asyncio.Queue[Any]):
    """The application's update queue: each update is in the inbox before it is queued."""

    def __init__(self) -> None:
        super().__init__()
        self.inbox: Inbox | None = None

    async def put(self, item: Any) -> None:
        """Store, then queue; an update received before is dropped.

        If the database refuses the write (locked, full), the update is handled from memory
        all the same: the person gets an answer (the handler's own "could not save").
        """
        if isinstance(item, Update) and self.inbox is not None:
            try:
                if not await self.inbox.receive(item):
                    return
            except sqlite3.Error as exc:
                logger.warning("Update %d not kept in the inbox: %s", item.update_id, exc)
        await super().put(item)


class UpdatesRequest(AiohttpRequest):
    """getUpdates over aiohttp; each batch is stored in the inbox before PTB sees it.

    In one transaction per batch, as Telegram sent it: storing the updates one by one as
    PTB queued them cost a transaction and a re-serialisation (`to_dict`) each, ~10 % of the
    bot's CPU under load (bench/bench_load.py). If the database refuses the write, the
    batch is handled all the same (DurableUpdateQueue.put tries each update once more).
    """

    def __init__(self, inbox: Inbox, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inbox = inbox

    # PTB marks `post` final; this is the one place where a whole getUpdates batch is seen
    # already decoded (overriding `do_request` would decode every batch twice).
    async def post(  # type: ignore[misc]
        self,
        url: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> dict[str, Any] | list[dict[str, Any]] | bool:
        """The Bot API's answer; a non-empty batch of updates is stored first."""
        result = await super().post(
            url, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if url.endswith("/getUpdates") and isinstance(result, list) and result:
            try:
                await self.inbox.receive_batch(result)
            except sqlite3.Error as exc:
                logger.warning("A batch of %d updates not kept in the inbox: %s", len(result), exc)
        return result


def _raw_chat_id(raw: dict[str, Any]) -> int | None:
    """The chat of an update as Telegram sends it (a message's, a button's message's, …)."""
    for body in raw.values():
        if isinstance(body, dict):
            chat = body.get("chat") or (body.get("message") or {}).get("chat")
            chat_id = chat.get("id") if isinstance(chat, dict) else None
            if isinstance(chat_id, int):
                return chat_id
    return None


async def _queue_stored(queue: asyncio.Queue[Any], update: Update) -> None:
    """Queue an update that is in the inbox already."""
    if isinstance(queue, DurableUpdateQueue):
        await asyncio.Queue.put(queue, update)
    else:
        await queue.put(update)
