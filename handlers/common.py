"""Small helpers every handler uses to answer: split long texts, edit in place, refuse."""

from __future__ import annotations

from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackContext,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.render import split_message

NOT_ALLOWED = "Sorry, you can't do that."


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
    return message


async def edit(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the pressed message's text and buttons (unchanged content is not an error)."""
    parts = split_message(text)
    try:
        await query.edit_message_text(parts[0], reply_markup=markup if len(parts) == 1 else None)
    except BadRequest as exc:
        if "not modified" not in exc.message:
            raise
        return
    message = query.message
    for index, part in enumerate(parts[1:], start=2):
        if message is not None:
            await message.chat.send_message(
                part, reply_markup=markup if index == len(parts) else None
            )


def display_name(first: str | None, last: str | None = None) -> str:
    """A person's name as Telegram gives it, never empty."""
    name = " ".join(part for part in (first, last) if part).strip()
    return name or "Unnamed"


async def interrupt_flow(update: Update, context: CallbackContext) -> int:  # type: ignore[type-arg]
    """Another command arrived mid-flow: leave the flow, then handle that command normally."""
    context.application.create_task(context.application.process_update(update), update=update)
    return ConversationHandler.END


async def cancel_flow(update: Update, context: CallbackContext) -> int:  # type: ignore[type-arg]
    """/cancel inside a flow."""
    if context.user_data is not None:
        context.user_data.pop("draft", None)
    await reply(update, "Cancelled. Nothing was changed.")
    return ConversationHandler.END


def flow_fallbacks() -> list[BaseHandler]:  # type: ignore[type-arg]
    """What every conversation accepts in any state: /cancel, and any other command."""
    return [
        CommandHandler("cancel", cancel_flow),
        MessageHandler(filters.COMMAND, interrupt_flow),
    ]
