"""Small helpers every handler uses to answer: split long texts, edit in place, refuse."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from telegram import CallbackQuery, Chat, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackContext,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.services import team_settings
from bot.services.errors import DomainError
from bot.telegram.context import NextStepContext
from bot.views.callback_data import Action
from bot.views.render import split_message

NOT_ALLOWED = "Sorry, you can't do that."
NOT_VALID = "That button is not valid any more."


# --- what an update sent (handlers/flow.py reads it to quiet the prompts a flow left) --------

MessageKey = tuple[int, int]
"""A bot message as (chat id, message id)."""


@dataclass(slots=True)
class Outgoing:
    """The bot messages one update sent or edited, and the last of them that shows buttons."""

    touched: set[MessageKey] = field(default_factory=set)
    prompt: MessageKey | None = None
    prompt_line: str = ""
    # The prompt's buttons as [label, callback data]: a typed label works as the button.
    prompt_buttons: list[list[str]] = field(default_factory=list)

    def note(self, key: MessageKey, markup: object, text: str = "") -> None:
        """Record a sent or edited message; with inline buttons it is the newest prompt."""
        self.touched.add(key)
        if isinstance(markup, InlineKeyboardMarkup) and markup.inline_keyboard:
            self.prompt, self.prompt_line = key, first_line(text)
            self.prompt_buttons = [
                [button.text, str(button.callback_data)]
                for row in markup.inline_keyboard
                for button in row
                if isinstance(button.callback_data, str)
            ]
        elif self.prompt == key:  # its buttons were just taken off again
            self.prompt, self.prompt_line, self.prompt_buttons = None, "", []


OUTGOING: ContextVar[Outgoing | None] = ContextVar("outgoing", default=None)
"""Set by Flow.handle_update for the update it handles; reply() and edit() record into it."""


def first_line(text: str, limit: int = 80) -> str:
    """A message's first line, shortened: enough to name what it was about."""
    line = (text or "").strip().split("\n", 1)[0].strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _note(message: Message | None, markup: object) -> None:
    outgoing = OUTGOING.get()
    if outgoing is not None and isinstance(message, Message):
        outgoing.note((message.chat_id, message.message_id), markup, message.text or "")


async def reply(update: Update, text: str, **kwargs: Any) -> Message | None:
    """Answer in the update's chat; long texts go as several messages, buttons under the last."""
    chat = update.effective_chat
    if chat is None:
        return None
    parts = split_message(text)
    message = None
    for index, part in enumerate(parts):
        extra = kwargs if index == len(parts) - 1 else {}
        message = await chat.send_message(part, **extra)
        _note(message, extra.get("reply_markup"))
    return message


async def edit(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the pressed message's text and buttons (unchanged content is not an error)."""
    parts = split_message(text)
    first_markup = markup if len(parts) == 1 else None
    try:
        edited = await query.edit_message_text(parts[0], reply_markup=first_markup)
    except BadRequest as exc:
        if "not modified" not in exc.message:
            raise
        _note(query.message if isinstance(query.message, Message) else None, first_markup)
        return
    _note(edited if isinstance(edited, Message) else None, first_markup)
    message = query.message
    for index, part in enumerate(parts[1:], start=2):
        if message is not None:
            extra = markup if index == len(parts) else None
            _note(await message.chat.send_message(part, reply_markup=extra), extra)


async def set_buttons(query: CallbackQuery, markup: InlineKeyboardMarkup | None) -> None:
    """Replace the pressed message's buttons only (the same ones again is not an error)."""
    edited: object
    try:
        edited = await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message:
            raise
        edited = query.message
    _note(edited if isinstance(edited, Message) else None, markup)


async def clear_buttons(query: CallbackQuery) -> None:
    """Take the buttons off the pressed message: its question is answered."""
    await set_buttons(query, None)


async def team_phone_region(context: NextStepContext) -> str:
    """The region phone numbers typed without +country are read in: the team's setting
    (/settings, admins), else DEFAULT_PHONE_REGION."""
    return await team_settings.phone_region(context.db, context.settings.default_phone_region)


def display_name(first: str | None, last: str | None = None) -> str:
    """A person's name as Telegram gives it, never empty."""
    name = " ".join(part for part in (first, last) if part).strip()
    return name or "Unnamed"


async def cancel_flow(update: Update, context: CallbackContext) -> int:  # type: ignore[type-arg]
    """/cancel inside a flow."""
    if context.user_data is not None:
        context.user_data.pop("draft", None)
    await reply(update, "Cancelled. Nothing was changed.")
    return ConversationHandler.END


NOT_AN_ANSWER = (
    filters.ChatType.PRIVATE
    & filters.UpdateType.MESSAGE
    & ~filters.COMMAND
    & ~filters.Document.ALL
)
"""A message that can't answer a typed question (a sticker, a photo); commands and files pass
on to their own handlers, leaving the question open (handlers/flow.py)."""


def flow_fallbacks() -> list[BaseHandler]:  # type: ignore[type-arg]
    """What every flow accepts in any state: /cancel. Other commands pass through."""
    return [CommandHandler("cancel", cancel_flow)]


SOURCES = "sources"
SOURCES_KEPT = 20


def remember_source(
    context: CallbackContext,  # type: ignore[type-arg]
    message_id: int | None,
    kind: str,
    object_id: int,
    **details: str | int,
) -> None:
    """Note that the person's message `message_id` supplied `kind` of object `object_id`.

    An edit of that message is then a correction of what it saved (handlers/edits.py); the
    newest few are kept, in user_data (stored as JSON, so keys are strings).
    """
    if message_id is None or context.user_data is None:
        return
    sources = context.user_data.setdefault(SOURCES, {})
    sources.pop(str(message_id), None)
    sources[str(message_id)] = {"kind": kind, "id": object_id, **details}
    for old in list(sources)[:-SOURCES_KEPT]:
        del sources[old]


def source_of(context: CallbackContext, message_id: int) -> dict[str, Any] | None:  # type: ignore[type-arg]
    """What the person's message `message_id` saved, if it saved something recently."""
    if context.user_data is None:
        return None
    found = context.user_data.get(SOURCES, {}).get(str(message_id))
    return found if isinstance(found, dict) else None


def draft_of(context: CallbackContext, flow: str) -> dict[str, Any]:  # type: ignore[type-arg]
    """The person's draft for `flow` (plain JSON-friendly data: persistence stores it)."""
    assert context.user_data is not None
    draft: dict[str, Any] = context.user_data.setdefault(flow, {})
    return draft


def new_draft(context: CallbackContext, flow: str, **values: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    """Start a fresh draft for `flow`, dropping what the last one held."""
    assert context.user_data is not None
    context.user_data[flow] = dict(values)
    return context.user_data[flow]  # type: ignore[no-any-return]


def message_text(update: Update) -> str:
    """The text (or a caption) of the update's message, "" for anything else."""
    message = update.effective_message
    return (message.text or message.caption or "") if message is not None else ""


# --- pressed buttons ---------------------------------------------------------------------------


def query_of(update: Update) -> CallbackQuery:
    """The update's callback query (the handler was registered for presses only)."""
    query = update.callback_query
    assert query is not None
    return query


async def pressed(update: Update, action: Action) -> tuple[Any, ...] | None:
    """The values of the pressed `action` button; None once the press is refused as invalid.

    A handler registered with `pattern=ACTION.pattern` only sees data of the action's shape;
    the values are still read with `ACTION.parse` (a number out of its range has the shape).
    """
    query = query_of(update)
    values = action.parse(query.data)
    if values is None:
        await query.answer(NOT_VALID, show_alert=True)
    return values


# --- what to send instead ----------------------------------------------------------------------


class Refusal(DomainError):
    """A DomainError on its way to the error handler, with what the person's flow does next
    (`then`: a state, ConversationHandler.END, or None to stay) and the draft to drop."""

    def __init__(self, text: str, *, then: object, drop: str | None) -> None:
        super().__init__(text)
        self.then = then
        self.drop = drop


@contextmanager
def on_refusal(
    then: object = None,
    *,
    hint: str = "",
    drop: str | None = None,
    ending: tuple[type[DomainError], ...] = (),
    staying: tuple[type[DomainError], ...] = (),
    sep: str = "\n",
) -> Iterator[None]:
    """A DomainError from the block is answered by the error handler (with `hint` after it);
    the flow then goes to `then` (END closes the question, None stays) and `drop`'s draft is
    discarded. Errors of an `ending` type close the question, of a `staying` type keep it
    (handlers/flow.py applies this)."""
    try:
        yield
    except Refusal as refusal:  # an inner refusal keeps what the flow does next
        if not hint:
            raise
        raise Refusal(f"{refusal}{sep}{hint}", then=refusal.then, drop=refusal.drop) from refusal
    except DomainError as exc:
        state = (
            ConversationHandler.END
            if isinstance(exc, ending)
            else None
            if isinstance(exc, staying)
            else then
        )
        text = f"{exc}{sep}{hint}" if hint else str(exc)
        raise Refusal(text, then=state, drop=drop) from exc


def hint(text: str, *, sep: str = "\n") -> AbstractContextManager[None]:
    """A DomainError from the block is answered with `text` (plain, not HTML) after its own,
    and the question stays open: the service says what was wrong, the question a handler
    asked knows what to send next ("Please send the amount again, or /cancel.")."""
    return on_refusal(hint=text, sep=sep)


ACTION_REPEAT_S = 4.0
"""Telegram shows a chat action for 5 s at most: it is sent again this often."""


@asynccontextmanager
async def showing_action(chat: Chat, action: str) -> AsyncIterator[None]:
    """Show a chat action ("sending a file…") until the block ends, repeated every
    ACTION_REPEAT_S (a chart, an export, a spreadsheet being made)."""

    async def keep() -> None:
        while True:
            try:
                await chat.send_chat_action(action)
            except TelegramError as exc:
                logging.getLogger(__name__).info("Could not send the chat action: %s", exc)
            await asyncio.sleep(ACTION_REPEAT_S)

    task = asyncio.create_task(keep())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
