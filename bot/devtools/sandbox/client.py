"""The test-driving API: people who write to the bot, press its buttons and read its replies.

Reading is cursor-based: every message the bot sends and every edit it makes is one event
in the chat's log; `reply()` and `expect()` consume events after the cursor.
"""

# The waiting methods take `timeout=` by design: it is the API the end-to-end tests use.
# ruff: noqa: ASYNC109

from __future__ import annotations

from bot.devtools.sandbox.world import BotMessage, CallbackAnswer, Chat, JsonDict, World


class ChatView:
    """What a chat shows of the bot's output, and waiting for more of it."""

    def __init__(self, world: World, chat: Chat) -> None:
        self.world = world
        self.chat = chat
        self.cursor = 0  # index of the next unread event in chat.events

    @property
    def chat_id(self) -> int:
        """The chat id."""
        return self.chat.id

    @property
    def messages(self) -> list[BotMessage]:
        """The bot's messages as they are now (edits applied, deleted ones left out)."""
        found = [m for m in self.chat.bot_messages.values() if not m.deleted]
        return sorted(found, key=lambda m: m.message_id)

    @property
    def last_message(self) -> BotMessage | None:
        """The bot's newest message still in the chat."""
        return self.messages[-1] if self.messages else None

    def _next_event(self) -> BotMessage | None:
        """The next unread event, passing over edits that only took buttons off a message
        (an old prompt going quiet, handlers/flow.py): they are not answers."""
        events = self.chat.events
        while len(events) > self.cursor:
            if not buttons_taken_off(events, self.cursor):
                return events[self.cursor]
            self.cursor += 1
        return None

    async def reply(self, *, timeout: float = 5.0) -> BotMessage:
        """The next send or edit by the bot in this chat (a snapshot); advances the cursor.

        An edit that only took a message's buttons off is passed over (see `_next_event`)."""
        events = self.chat.events
        event = await self.world.wait_until(self._next_event, timeout)
        if event is None:
            raise AssertionError(
                f"no reply in chat {self.chat_id} within {timeout}s; "
                f"seen before: {_texts(events[: self.cursor][-5:])}"
            )
        self.cursor += 1
        return event

    async def expect(self, substring: str, *, timeout: float = 5.0) -> BotMessage:
        """Skip events until one whose text contains `substring`; advances past it (an edit
        that only took a message's buttons off shows nothing new, so it is passed over)."""
        start = self.cursor
        events = self.chat.events

        def find() -> BotMessage | None:
            for index in range(self.cursor, len(events)):
                if substring in events[index].text and not buttons_taken_off(events, index):
                    self.cursor = index + 1
                    return events[index]
            return None

        event = await self.world.wait_until(find, timeout)
        if event is None:
            raise AssertionError(
                f"no message containing {substring!r} in chat {self.chat_id} within "
                f"{timeout}s; seen: {_texts(events[start:])}"
            )
        return event

    async def no_reply(self, within: float = 0.3) -> None:
        """Assert that the bot sends or edits nothing here within a short window (taking
        buttons off an old prompt aside)."""
        event = await self.world.wait_until(self._next_event, within)
        if event is not None:
            raise AssertionError(f"unexpected reply in chat {self.chat_id}: {event.text!r}")


class ChatUser(ChatView):
    """A person in their private chat with the bot (chat id == user id)."""

    def __init__(self, world: World, chat: Chat, user_id: int) -> None:
        super().__init__(world, chat)
        self.id = user_id

    async def send(
        self,
        text: str,
        *,
        forward_from: JsonDict | None = None,
        forward_sender_name: str | None = None,
    ) -> JsonDict:
        """Send a text message (commands get a bot_command entity); returns the Message."""
        content: JsonDict = {"text": text}
        if forward_from is not None:
            sender = {"is_bot": False, **forward_from}
            origin = {"type": "user", "date": self.world.now(), "sender_user": sender}
            content["forward_origin"] = origin
        elif forward_sender_name is not None:
            origin = {
                "type": "hidden_user",
                "date": self.world.now(),
                "sender_user_name": forward_sender_name,
            }
            content["forward_origin"] = origin
        return self.world.user_message(self.chat, self.id, **content)

    async def edit(self, message: JsonDict, text: str) -> JsonDict:
        """Edit the text of a message this person sent (Telegram's `edited_message`)."""
        return self.world.user_edit(self.chat, self.id, int(message["message_id"]), text)

    async def send_document(
        self,
        filename: str,
        content: bytes,
        mime_type: str = "text/csv",
        caption: str | None = None,
    ) -> JsonDict:
        """Send a file as a document; returns the Message (the bot can getFile it)."""
        stored = self.world.store_file(filename, content, mime_type, "document")
        extra: JsonDict = {"document": stored.as_document()}
        if caption is not None:
            extra["caption"] = caption
        return self.world.user_message(self.chat, self.id, **extra)

    async def press(
        self, label: str, *, message_id: int | None = None, timeout: float = 5.0
    ) -> str | None:
        """Press the inline button with exactly this text on the newest message showing it.

        Waits (up to `timeout`) for such a button: a bot often answers the callback query
        before it edits the buttons in. Then waits for the bot's answerCallbackQuery and
        returns its text (None without text).
        """

        def showing() -> BotMessage | None:
            candidates = (m for m in reversed(self.messages) if message_id in (None, m.message_id))
            return next((m for m in candidates if m.button(label)), None)

        message = showing() or await self.world.wait_until(showing, timeout)
        if message is None:
            labels = [m.labels for m in self.messages if m.labels]
            raise AssertionError(f"no button {label!r} in chat {self.chat_id}; buttons: {labels}")
        button = message.button(label) or {}
        if "callback_data" not in button:
            raise AssertionError(f"button {label!r} has no callback_data: {button}")
        return await self.press_data(
            button["callback_data"], message_id=message.message_id, timeout=timeout
        )

    async def press_data(self, data: str, *, message_id: int, timeout: float = 5.0) -> str | None:
        """Send a callback query with arbitrary data on a message; return the answer text."""
        if message_id not in self.chat.messages:
            raise AssertionError(f"no message {message_id} in chat {self.chat_id}")
        query_id = self.world.callback_query(self.chat, self.id, message_id, data)
        answers = self.world.callback_answers
        answer: CallbackAnswer | None = await self.world.wait_until(
            lambda: answers[query_id], timeout
        )
        if answer is None:
            raise AssertionError(f"the bot did not answer the callback {data!r} in {timeout}s")
        return answer.text

    async def inline(self, query: str, *, timeout: float = 5.0) -> list[JsonDict]:
        """Type `@bot query`; wait for answerInlineQuery and return its results."""
        query_id = self.world.inline_query(self.id, query)
        answers = self.world.inline_answers
        results = await self.world.wait_until(lambda: answers[query_id], timeout)
        if results is None:
            raise AssertionError(f"the bot did not answer the inline query {query!r}")
        return results

    async def block(self) -> None:
        """Block the bot: sends here answer 403, and the bot gets a my_chat_member update."""
        self.world.member_update(self.chat, self.id, blocked=True)

    async def unblock(self) -> None:
        """Unblock the bot (restart it): a my_chat_member update back to member."""
        self.world.member_update(self.chat, self.id, blocked=False)


class Group(ChatView):
    """A group chat with the bot in it."""

    async def send(self, user: ChatUser, text: str) -> JsonDict:
        """`user` sends a text message in the group; returns the Message."""
        return self.world.user_message(self.chat, user.id, text=text)


def buttons_taken_off(events: list[BotMessage], index: int) -> bool:
    """Whether event `index` is an edit that only removed its message's buttons."""
    event = events[index]
    if not event.edited or event.buttons:
        return False
    earlier = (e for e in reversed(events[:index]) if e.message_id == event.message_id)
    before = next(earlier, None)
    return before is not None and bool(before.buttons) and before.html == event.html


def _texts(events: list[BotMessage]) -> list[str]:
    return [event.text[:80] for event in events]
