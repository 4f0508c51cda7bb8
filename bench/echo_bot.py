"""A minimal python-telegram-bot echo bot: the framework's ceiling in `bench.bench_load`.

    BOT_TOKEN=... TELEGRAM_BASE_URL=http://127.0.0.1:PORT/bot python -m bench.echo_bot

Echoes every text with one button under it; a press is answered and edits the message. The
same PTB defaults as PTB's own echobot example (no persistence, no rate limiter). With
ECHO_STACK=nextstep it runs on NextStep's plumbing instead: Bot API calls over aiohttp
(bot/telegram/http.py), different chats' updates concurrently (bot/telegram/updates.py) and the
1 ms GIL switch interval of `python -m bot run`: the ceiling of the stack NextStep itself runs
on.
"""

from __future__ import annotations

import logging
import os
import sys

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

BUTTON = InlineKeyboardMarkup([[InlineKeyboardButton("👍", callback_data="echo:like")]])


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back with a button."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        update.effective_message.text or "", reply_markup=BUTTON
    )


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press and mark the message."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    text = query.message.text if query.message and query.message.text else ""
    await query.edit_message_text(f"{text} 👍")


def main() -> None:
    """Poll the server named by TELEGRAM_BASE_URL."""
    logging.basicConfig(level=logging.WARNING)
    builder = (
        Application.builder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(os.environ.get("TELEGRAM_BASE_URL", "https://api.telegram.org/bot"))
    )
    if os.environ.get("ECHO_STACK") == "nextstep":
        from bot.__main__ import GIL_SWITCH_INTERVAL
        from bot.telegram.http import AiohttpRequest
        from bot.telegram.updates import PerChatUpdateProcessor

        builder = (
            builder.request(AiohttpRequest())
            .get_updates_request(AiohttpRequest(connection_pool_size=1))
            .concurrent_updates(PerChatUpdateProcessor())
        )
        sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_handler(CallbackQueryHandler(pressed))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
