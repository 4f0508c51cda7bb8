"""The fake Telegram's state: users, chats, messages, the updates queue and files.

Everything is plain data serialised like real Bot API objects, so the HTTP server, the test
driver (`client.py`) and a future browser sandbox share one model. Waiting for a change uses
an asyncio.Event that is replaced on every change.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

JsonDict = dict[str, Any]
Kind = Literal["text", "photo", "document"]
T = TypeVar("T")

_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


@dataclass
class StoredFile:
    """A file known to the fake Telegram: sent by the bot or uploaded by a user."""

    file_id: str
    file_unique_id: str
    file_path: str
    filename: str
    mime_type: str
    content: bytes

    def as_file(self) -> JsonDict:
        """The Bot API File object (what getFile returns)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }

    def as_document(self) -> JsonDict:
        """The Bot API Document object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.filename,
            "mime_type": self.mime_type,
            "file_size": len(self.content),
        }

    def as_photo(self) -> list[JsonDict]:
        """The Bot API array of PhotoSize (one size: the fake server does not decode images)."""
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": len(self.content),
                "width": 800,
                "height": 600,
            }
        ]


@dataclass
class BotMessage:
    """A message the bot sent, as the person sees it (edits applied)."""

    message_id: int
    chat_id: int
    text: str  # plain text after entity parsing; the caption for photos and documents
    html: str  # the text or caption exactly as the bot sent it
    entities: list[JsonDict]
    buttons: list[list[JsonDict]]  # inline keyboard rows
    date: int
    kind: Kind = "text"
    file: StoredFile | None = None
    edited: int = 0
    edit_date: int | None = None
    deleted: bool = False

    @property
    def labels(self) -> list[str]:
        """The texts of all inline buttons, row by row."""
        return [button["text"] for row in self.buttons for button in row]

    @property
    def document(self) -> StoredFile | None:
        """The sent document (filename, content, mime_type), if this is one."""
        return self.file if self.kind == "document" else None

    @property
    def photo(self) -> bytes | None:
        """The sent photo's bytes, if this is one."""
        return self.file.content if self.kind == "photo" and self.file else None

    def button(self, label: str) -> JsonDict | None:
        """The inline button with exactly this text."""
        return next((b for row in self.buttons for b in row if b["text"] == label), None)


@dataclass
class Chat:
    """A private chat or a group, with every message in it and the bot's visible output."""

    info: JsonDict  # the Bot API Chat object
    messages: dict[int, JsonDict] = field(default_factory=dict)  # all, as Message objects
    bot_messages: dict[int, BotMessage] = field(default_factory=dict)
    events: list[BotMessage] = field(default_factory=list)  # snapshots: each send and edit
    blocked: bool = False
    last_message_id: int = 0

    @property
    def id(self) -> int:
        """The chat id."""
        return int(self.info["id"])

    def next_message_id(self) -> int:
        """Allocate the next message id (user and bot messages share the counter)."""
        self.last_message_id += 1
        return self.last_message_id


@dataclass
class CallbackAnswer:
    """How the bot answered a callback query."""

    text: str | None
    show_alert: bool


class World:
    """All state of the fake Telegram."""

    def __init__(self, *, bot_id: int, bot_username: str, now: Callable[[], int]) -> None:
        self.now = now
        self.bot_user: JsonDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "NextStep",
            "username": bot_username,
        }
        self.users: dict[int, JsonDict] = {}
        self.chats: dict[int, Chat] = {}
        self.updates: list[JsonDict] = []
        self.files: dict[str, StoredFile] = {}
        self.callback_answers: dict[str, CallbackAnswer | None] = {}  # None: not answered yet
        self.inline_answers: dict[str, list[JsonDict] | None] = {}
        # The bot's own settings, as set through the Bot API.
        self.webhook: JsonDict = {}
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}  # (scope JSON, language)
        self.descriptions: dict[tuple[str, str], str] = {}  # (kind, language)
        self.menu_buttons: dict[int | None, JsonDict] = {}  # chat id (None: default)
        self._ids = itertools.count(1)
        self._last_update_id = 0
        self._changed = asyncio.Event()
        self.revision = 0  # grows on every change: the sandbox page polls with it

    # --- change notification --------------------------------------------------------------

    def notify(self) -> None:
        """Wake everything waiting for a change."""
        self.revision += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], T | None], within: float) -> T | None:
        """Wait until `predicate()` returns something other than None, at most `within` s."""
        try:
            async with asyncio.timeout(within):
                while (result := predicate()) is None:
                    await self._changed.wait()
                return result
        except TimeoutError:
            return predicate()

    # --- people and chats -----------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str = "en",
    ) -> Chat:
        """Register a person and their private chat with the bot (chat id == user id)."""
        user: JsonDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        chat: JsonDict = {"id": user_id, "type": "private", "first_name": first_name}
        for key, value in (("last_name", last_name), ("username", username)):
            if value is not None:
                user[key] = chat[key] = value
        user["language_code"] = language_code
        self.users[user_id] = user
        return self.chats.setdefault(user_id, Chat(chat))

    def add_group(self, chat_id: int, title: str) -> Chat:
        """Register a group chat the bot is a member of."""
        return self.chats.setdefault(
            chat_id, Chat({"id": chat_id, "type": "group", "title": title})
        )

    def chat(self, chat_id: object) -> Chat | None:
        """A known chat by id (an integer or its decimal string)."""
        if isinstance(chat_id, str) and re.fullmatch(r"-?\d+", chat_id):
            chat_id = int(chat_id)
        return self.chats.get(chat_id) if isinstance(chat_id, int) else None

    # --- updates from people --------------------------------------------------------------

    def push_update(self, kind: str, payload: JsonDict) -> JsonDict:
        """Queue an update of the given kind ("message", "callback_query", ...)."""
        self._last_update_id += 1
        update = {"update_id": self._last_update_id, kind: payload}
        self.updates.append(update)
        self.notify()
        return update

    def user_message(self, chat: Chat, user_id: int, **content: Any) -> JsonDict:
        """A person sends a message (text or document) in a chat; queued as an update."""
        message: JsonDict = {
            "message_id": chat.next_message_id(),
            "date": self.now(),
            "chat": chat.info,
            "from": self.users[user_id],
            **content,
        }
        text = content.get("text", "")
        command = _COMMAND.match(text)
        if command:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        chat.messages[message["message_id"]] = message
        self.push_update("message", message)
        return message

    def user_edit(self, chat: Chat, user_id: int, message_id: int, text: str) -> JsonDict:
        """A person edits the text of a message they sent; queued as an `edited_message`."""
        original = chat.messages.get(message_id)
        if original is None or original.get("from", {}).get("id") != user_id:
            raise ValueError(f"user {user_id} sent no message {message_id} in chat {chat.id}")
        message: JsonDict = {
            key: value for key, value in original.items() if key not in {"text", "entities"}
        }
        message["text"] = text
        message["edit_date"] = self.now()
        command = _COMMAND.match(text)
        if command:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        chat.messages[message_id] = message
        self.push_update("edited_message", message)
        return message

    def callback_query(self, chat: Chat, user_id: int, message_id: int, data: str) -> str:
        """A person presses an inline button; returns the callback query id."""
        query_id = str(4_000_000_000_000 + next(self._ids))
        self.callback_answers[query_id] = None
        query = {
            "id": query_id,
            "from": self.users[user_id],
            "chat_instance": str(-(10**12) - chat.id),
            "message": chat.messages[message_id],
            "data": data,
        }
        self.push_update("callback_query", query)
        return query_id

    def inline_query(self, user_id: int, query: str) -> str:
        """A person types `@bot query`; returns the inline query id."""
        query_id = str(5_000_000_000_000 + next(self._ids))
        self.inline_answers[query_id] = None
        payload = {
            "id": query_id,
            "from": self.users[user_id],
            "query": query,
            "offset": "",
            "chat_type": "sender",
        }
        self.push_update("inline_query", payload)
        return query_id

    def member_update(self, chat: Chat, user_id: int, *, blocked: bool) -> None:
        """The person blocks (or unblocks) the bot: a my_chat_member update."""
        chat.blocked = blocked
        member: JsonDict = {"status": "member", "user": self.bot_user}
        kicked: JsonDict = {"status": "kicked", "user": self.bot_user, "until_date": 0}
        old, new = (member, kicked) if blocked else (kicked, member)
        payload = {
            "chat": chat.info,
            "from": self.users[user_id],
            "date": self.now(),
            "old_chat_member": old,
            "new_chat_member": new,
        }
        self.push_update("my_chat_member", payload)

    # --- files ----------------------------------------------------------------------------

    def store_file(self, filename: str, content: bytes, mime_type: str, kind: Kind) -> StoredFile:
        """Keep a file and give it Telegram-like identifiers and a download path."""
        number = next(self._ids)
        prefix = "AgAC" if kind == "photo" else "BQAC"
        stored = StoredFile(
            file_id=f"{prefix}AgIAAxkBAAI{number:06d}",
            file_unique_id=f"AQAD{number:06d}",
            file_path=f"{kind}s/file_{number}{_suffix(filename)}",
            filename=filename,
            mime_type=mime_type,
            content=content,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, file_path: str) -> StoredFile | None:
        """A stored file by its download path."""
        return next((f for f in self.files.values() if f.file_path == file_path), None)

    # --- the bot's output -----------------------------------------------------------------

    def bot_send(self, chat: Chat, message: BotMessage) -> JsonDict:
        """Record a message the bot sent; returns it as a Bot API Message."""
        chat.bot_messages[message.message_id] = message
        return self._publish(chat, message)

    def bot_edit(self, chat: Chat, message: BotMessage, date: int) -> JsonDict:
        """Record an edit already applied to `message`; returns the edited Message."""
        message.edited += 1
        message.edit_date = date
        return self._publish(chat, message)

    def bot_delete(self, chat: Chat, message_id: int) -> None:
        """Delete a message (the bot's or a person's) from a chat."""
        chat.messages.pop(message_id)
        if message_id in chat.bot_messages:
            chat.bot_messages[message_id].deleted = True
        self.notify()

    def _publish(self, chat: Chat, message: BotMessage) -> JsonDict:
        raw = self.message_object(chat, message)
        chat.messages[message.message_id] = raw
        chat.events.append(copy.deepcopy(message))
        self.notify()
        return raw

    def message_object(self, chat: Chat, message: BotMessage) -> JsonDict:
        """A bot message as the Bot API Message object."""
        raw: JsonDict = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": chat.info,
            "from": self.bot_user,
        }
        text_key, entities_key = ("text", "entities")
        if message.kind != "text":
            text_key, entities_key = ("caption", "caption_entities")
        if message.text or message.kind == "text":
            raw[text_key] = message.text
        if message.entities:
            raw[entities_key] = message.entities
        if message.file and message.kind == "document":
            raw["document"] = message.file.as_document()
        elif message.file and message.kind == "photo":
            raw["photo"] = message.file.as_photo()
        if message.buttons:
            raw["reply_markup"] = {"inline_keyboard": message.buttons}
        if message.edit_date is not None:
            raw["edit_date"] = message.edit_date
        return raw


def _suffix(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:] if dot > 0 else ""
