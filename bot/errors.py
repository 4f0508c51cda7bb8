"""The error handler: log first, then tell the person something went wrong and nothing was lost."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.context import NextStepContext
from bot.services import team

logger = logging.getLogger(__name__)

SORRY = (
    "Something went wrong on my side. Nothing you saved was lost. "
    "Please try again; if it keeps happening, tell your admin."
)


async def error_handler(update: object, context: NextStepContext) -> None:
    """Log the exception with the update id, then apologise to the person (if there is one)."""
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("Error while handling update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    chat = update.effective_chat
    if isinstance(context.error, Forbidden) and chat is not None:
        await team.set_reachable(context.db, context.clock, chat.id, reachable=False)
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(SORRY[:200], show_alert=True)
        elif chat is not None and chat.type == chat.PRIVATE:
            await context.bot.send_message(chat.id, SORRY)
    except TelegramError:
        logger.warning("Could not tell update %s's sender about the error", update_id)
