"""What nothing else handled: /cancel outside a flow, unknown commands and stray text."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.telegram.context import NextStepContext
from handlers.common import NOT_VALID, reply
from handlers.flow import closed_question


async def nothing_to_cancel(update: Update, context: NextStepContext) -> None:
    """/cancel when no flow is open."""
    await reply(update, "There's nothing to cancel. /help lists what I can do.")


async def unknown(update: Update, context: NextStepContext) -> None:
    """Anything else from a member: say so and point to /help, never stay silent."""
    await reply(update, "Sorry, I didn't understand that. /help lists what I can do.")


async def stale_button(update: Update, context: NextStepContext) -> None:
    """A button no handler recognises (old, or forged): say so instead of spinning (on a
    prompt whose question was closed: "already handled", naming it)."""
    query = update.callback_query
    assert query is not None
    await query.answer(closed_question(context, query) or NOT_VALID, show_alert=True)


def handlers() -> list[tuple[object, int]]:
    """Registered last in group 0, so they only see what nothing else took."""
    return [
        (CommandHandler("cancel", nothing_to_cancel), 0),
        (MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE, unknown), 0),
        (CallbackQueryHandler(stale_button), 0),
    ]
