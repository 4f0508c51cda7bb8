"""Proactive sends (not replies): split to Telegram's limit, and survive blocked users."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from telegram import Bot, Message
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.clock import Clock
from bot.services import team
from bot.views.render import split_message
from storage.db import Database

logger = logging.getLogger(__name__)


def retry_after_seconds(error: RetryAfter) -> float:
    """`RetryAfter.retry_after` as seconds, whether PTB gives an int or a timedelta."""
    delay: Any = error.retry_after
    return delay.total_seconds() if isinstance(delay, dt.timedelta) else float(delay)


async def send_text(
    bot: Bot,
    db: Database,
    clock: Clock,
    chat_id: int,
    text: str,
    **kwargs: Any,
) -> list[Message]:
    """Send `text` (split if long) to a person; an empty list means it was not delivered.

    A blocked bot (`Forbidden`) marks the person unreachable. `RetryAfter` that outlasts the
    rate limiter's own retries is waited out once more.
    """
    sent: list[Message] = []
    parts = split_message(text)
    for index, part in enumerate(parts):
        extra = kwargs if index == len(parts) - 1 else {}  # buttons go under the last part
        try:
            sent.append(await _send_once(bot, chat_id, part, extra))
        except Forbidden:
            logger.info("Chat %s blocked the bot; marking unreachable", chat_id)
            await team.set_reachable(db, clock, chat_id, reachable=False)
            return []
        except BadRequest as exc:
            logger.warning("Telegram refused a message to %s: %s", chat_id, exc.message)
            return sent
    return sent


async def _send_once(bot: Bot, chat_id: int, text: str, kwargs: dict[str, Any]) -> Message:
    try:
        return await bot.send_message(chat_id, text, **kwargs)
    except RetryAfter as exc:
        await asyncio.sleep(retry_after_seconds(exc))
        return await bot.send_message(chat_id, text, **kwargs)


async def send_file(
    bot: Bot,
    db: Database,
    clock: Clock,
    chat_id: int,
    *,
    kind: str,
    content: bytes,
    filename: str,
    caption: str | None = None,
) -> Message | None:
    """Send a photo (`kind="photo"`) or a document; None means it was not delivered.

    Same policy as `send_text`: `Forbidden` marks the person unreachable, `BadRequest` is
    logged, `RetryAfter` beyond the rate limiter's retries is waited out once more; other
    Telegram errors (network) propagate so the caller can retry later.
    """

    async def once() -> Message:
        if kind == "photo":
            return await bot.send_photo(chat_id, content, caption=caption, filename=filename)
        return await bot.send_document(chat_id, content, caption=caption, filename=filename)

    try:
        try:
            return await once()
        except RetryAfter as exc:
            await asyncio.sleep(retry_after_seconds(exc))
            return await once()
    except Forbidden:
        logger.info("Chat %s blocked the bot; marking unreachable", chat_id)
        await team.set_reachable(db, clock, chat_id, reachable=False)
        return None
    except BadRequest as exc:
        logger.warning("Telegram refused a %s to %s: %s", kind, chat_id, exc.message)
        return None


async def send_quietly(
    bot: Bot, db: Database, clock: Clock, chat_id: int, text: str, **kw: Any
) -> bool:
    """`send_text`, logging instead of raising on any Telegram error; True if delivered."""
    try:
        return bool(await send_text(bot, db, clock, chat_id, text, **kw))
    except TelegramError as exc:
        logger.warning("Could not notify %s: %s", chat_id, exc)
        return False
