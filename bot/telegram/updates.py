"""Updates of different people are handled concurrently; one person's updates in order.

python-telegram-bot handles one update at a time by default: while one person's reply waits
on Telegram (or on a retry after a network error), everybody else waits too. Its
`SimpleUpdateProcessor` runs updates concurrently but lets two updates of the same person
overtake each other, which a conversation (and a double tap) cannot allow. This processor
runs different chats concurrently and each chat's updates one after the other, in arrival
order (asyncio locks are fair). With an inbox, each update is marked started before its
handlers run and handled after (bot/telegram/inbox.py), so a crash loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.telegram.inbox import Inbox
from bot.telegram.persistence import SqlitePersistence

logger = logging.getLogger(__name__)

# Updates in progress at once. An update holds its slot until its state and its inbox mark
# are written (after the answer was sent): at 64, under load, new updates waited for slots
# held by updates only waiting for that bookkeeping (bench/bench_load.py).
MAX_CONCURRENT = 256


def serial_key(update: object) -> int | None:
    """The chat (or, without one, the person) whose updates must not overlap."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats (at most `max_concurrent_updates`), sequential within one."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        # Set by the composition root: each update is marked started and handled in the inbox
        # (bot/telegram/inbox.py) and in the persistence (bot/telegram/persistence.py).
        self.inbox: Inbox | None = None
        self.persistence: SqlitePersistence | None = None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Await the update's handling once the chat's earlier updates are done."""
        key = serial_key(update)
        if key is None:
            await self._handle(update, coroutine)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await self._handle(update, coroutine)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # nobody else queued: forget the chat's lock
                del self._waiting[key]
                del self._locks[key]

    async def _handle(self, update: object, coroutine: Awaitable[Any]) -> None:
        if not isinstance(update, Update):
            await coroutine
            return
        if self.inbox is not None:
            await self.inbox.started(update)
        if self.persistence is not None:
            self.persistence.started(update)
        try:
            await coroutine
        finally:
            if self.persistence is not None:
                try:
                    await self.persistence.handled(update)
                except sqlite3.Error as exc:  # the handlers' own flush reported it already
                    logger.warning("State after update %d not saved: %s", update.update_id, exc)
            if self.inbox is not None:
                await self.inbox.handled(update)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
