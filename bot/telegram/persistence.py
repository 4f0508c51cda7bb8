"""python-telegram-bot persistence in NextStep's own SQLite database.

Conversation states and per-user drafts are written as JSON rows, so a restart (or a crash)
resumes each person where they were. `bot_data` holds live objects and is not persisted.
python-telegram-bot hands over every user's and chat's data it touched, changed or not; a
write that would store what is already stored is skipped. The changes handed over together
(and any arriving while a commit runs) are written in one transaction (bot/telegram/coalesce.py).

A person's conversation state and drafts are written together, once their update's handlers
are done: python-telegram-bot writes every person it has marked whenever any update asks, so
a write triggered by someone else could store one person's half-changed draft with the
conversation state from before (after a crash: "waiting for the summary" with a draft that
no longer names the client). Changes of people with an update in progress are held back
until that update is settled (`started` / `settled`, called by bot/telegram/updates.py and the last
handler group).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    BasePersistence,
    CallbackContext,
    PersistenceInput,
    TypeHandler,
)
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from bot.telegram.coalesce import Coalescer
from bot.telegram.context import Data
from storage import ptb_state
from storage.db import Database, Transaction

USER_TABLE, CHAT_TABLE = "ptb_user_data", "ptb_chat_data"
Save = Callable[[Transaction], Awaitable[None]]


def _owners(update: Update) -> tuple[int, ...]:
    """The person and the chat whose stored state an update may change."""
    ids = {entity.id for entity in (update.effective_user, update.effective_chat) if entity}
    return tuple(sorted(ids))


class SqlitePersistence(BasePersistence[Data, Data, Data]):
    """Stores conversations, user_data and chat_data; writes go straight to the database."""

    def __init__(self, db: Database, update_interval: float = 5) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, callback_data=False),
            update_interval=update_interval,
        )
        self.db = db
        # What each row holds now, as last read or written: (table or conversation, key) -> JSON.
        self._stored: dict[tuple[str, str], str] = {}
        # Changes not yet committed, by row; the latest change of a row wins.
        self._pending: dict[tuple[str, str], Save] = {}
        self._commit = Coalescer(self._commit_pending)
        # People and chats with an update in progress (counted), those updates, and the
        # changes held back until they are settled: row -> (owners, save).
        self._busy: Counter[int] = Counter()
        self._in_progress: dict[int, tuple[int, ...]] = {}
        self._held: dict[tuple[str, str], tuple[tuple[int, ...], Save]] = {}

    def started(self, update: object) -> None:
        """An update's handlers are about to run: hold back its person's and chat's changes."""
        if not isinstance(update, Update) or update.update_id in self._in_progress:
            return
        owners = _owners(update)
        self._in_progress[update.update_id] = owners
        self._busy.update(owners)

    def settled(self, update: object) -> None:
        """The update's handlers are done: its person's held-back changes may be written."""
        if not isinstance(update, Update):
            return
        owners = self._in_progress.pop(update.update_id, None)
        if owners is None:
            return
        self._busy.subtract(owners)
        for owner in owners:
            if self._busy[owner] <= 0:
                del self._busy[owner]
        for slot, (row_owners, save) in list(self._held.items()):
            if not any(self._busy[owner] > 0 for owner in row_owners):
                del self._held[slot]
                self._pending[slot] = save

    async def handled(self, update: object) -> None:
        """After the update (however it ended): write what it left held back."""
        self.settled(update)
        if self._pending:
            await self._commit.run()

    def _unchanged(self, table: str, key: object, value: object) -> bool:
        """Whether `value` is what the row already holds; remembers it as stored if not."""
        encoded = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        slot = (table, str(key))
        if self._stored.get(slot) == encoded:
            return True
        self._stored[slot] = encoded
        return False

    def _forget(self, table: str, key: object) -> None:
        """After a failed write the row's content is unknown: write it next time."""
        self._stored.pop((table, str(key)), None)

    async def _ready(self) -> Database:
        await self.db.open()
        return self.db

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        """Every user's data."""
        data = await ptb_state.load_data(await self._ready(), USER_TABLE)
        for user_id, values in data.items():
            self._unchanged(USER_TABLE, user_id, values)
        return data

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        """Every chat's data."""
        data = await ptb_state.load_data(await self._ready(), CHAT_TABLE)
        for chat_id, values in data.items():
            self._unchanged(CHAT_TABLE, chat_id, values)
        return data

    async def get_bot_data(self) -> dict[Any, Any]:
        """Not persisted: bot_data holds the live services."""
        return {}

    async def get_callback_data(self) -> CDCData | None:
        """Not persisted: callback data is plain text pointing at database ids."""
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        """The stored states of conversation `name`."""
        rows = await ptb_state.load_conversations(await self._ready(), name)
        for key, state in rows.items():
            self._unchanged(name, key, state)
        return {tuple(json.loads(key)): state for key, state in rows.items()}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Store one conversation's new state."""
        encoded_key = json.dumps(list(key))
        await self._write(
            name,
            encoded_key,
            new_state,
            lambda tx: ptb_state.save_conversation(tx, name, encoded_key, new_state),
            owners=tuple(part for part in key if isinstance(part, int)),
        )

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        """Store one user's data."""
        await self._write(
            USER_TABLE,
            user_id,
            data or None,
            lambda tx: ptb_state.save_data(tx, USER_TABLE, user_id, data),
            owners=(user_id,),
        )

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """Store one chat's data."""
        await self._write(
            CHAT_TABLE,
            chat_id,
            data or None,
            lambda tx: ptb_state.save_data(tx, CHAT_TABLE, chat_id, data),
            owners=(chat_id,),
        )

    async def _write(
        self,
        table: str,
        key: object,
        value: object,
        save: Save,
        *,
        owners: tuple[int, ...],
    ) -> None:
        # None and an empty dict both mean "no row"; a row never read nor written counts as
        # absent, so the first empty value of a new person costs nothing either.
        if value is None and (table, str(key)) not in self._stored:
            self._stored[(table, str(key))] = "null"
            return
        if self._unchanged(table, key, value):
            return
        if any(self._busy[owner] > 0 for owner in owners):
            self._held[(table, str(key))] = (owners, save)  # written once they are settled
            self._pending.pop((table, str(key)), None)
            return
        self._held.pop((table, str(key)), None)
        await self._save(table, key, save)

    async def _save(self, table: str, key: object, save: Save) -> None:
        """Queue one row's change and return once it is committed."""
        self._pending[(table, str(key))] = save
        await self._commit.run()

    async def _commit_pending(self) -> None:
        """Write every queued change in one transaction: all of them, or none."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            async with (await self._ready()).transaction() as tx:
                for save in pending.values():
                    await save(tx)
        except BaseException:
            for table, key in pending:  # their rows' content is unknown now
                self._forget(table, key)
            raise

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """Not persisted."""

    async def update_callback_data(self, data: CDCData) -> None:
        """Not persisted."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Forget one chat's data."""
        self._forget(CHAT_TABLE, chat_id)
        self._held.pop((CHAT_TABLE, str(chat_id)), None)
        await self._save(
            CHAT_TABLE, chat_id, lambda tx: ptb_state.drop_data(tx, CHAT_TABLE, chat_id)
        )

    async def drop_user_data(self, user_id: int) -> None:
        """Forget one user's data."""
        self._forget(USER_TABLE, user_id)
        self._held.pop((USER_TABLE, str(user_id)), None)
        await self._save(
            USER_TABLE, user_id, lambda tx: ptb_state.drop_data(tx, USER_TABLE, user_id)
        )

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Nothing to refresh: this process is the only writer."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Nothing to refresh: this process is the only writer."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """Nothing to refresh."""

    async def flush(self) -> None:
        """Commit anything still queued (at shutdown)."""
        await self._commit.run()


# --- Written after every update ---------------------------------------------------------


PERSIST_GROUP = 100
PERSIST_FLUSHER = "persist_flusher"


async def persist_now(update: Update, context: CallbackContext) -> None:  # type: ignore[type-arg]
    """Write conversation states and drafts after every update, so a crash loses nothing.

    Concurrent updates share one write (bot/telegram/coalesce.py): each returns once a write that
    started after its handlers finished has been committed.
    """
    persistence = context.application.persistence
    if isinstance(persistence, SqlitePersistence):
        persistence.settled(update)  # this update's state may be written now, all of it
    # python-telegram-bot marks the update's person and chat only after the last handler
    # group: mark them now, so this flush writes their drafts with their conversation state.
    context.application.mark_data_for_update_persistence(
        chat_ids=update.effective_chat.id if update.effective_chat else None,
        user_ids=update.effective_user.id if update.effective_user else None,
    )
    flusher = context.bot_data.get(PERSIST_FLUSHER)
    if flusher is None:
        flusher = context.bot_data[PERSIST_FLUSHER] = Coalescer(
            context.application.update_persistence
        )
    await flusher.run()


def add_persist_handler(application: Application) -> None:  # type: ignore[type-arg]
    """Register `persist_now` after every other handler group."""
    application.add_handler(TypeHandler(Update, persist_now), group=PERSIST_GROUP)
