"""The error handler: log first, then tell the person something went wrong and nothing was lost.

A rule that said no (a service's DomainError) is not a failure: its sentence is the person's
answer, in this one place: an alert for a pressed button, a reply for a message. Handlers let
DomainError through unless they do something else than answering with it.

A database that is locked by another process past the busy timeout, or a full disk, gets its
own message: the change was not saved (the transaction rolled back) and retrying later works.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import deque

from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.services import team
from bot.services.errors import DomainError
from bot.telegram.context import NextStepContext
from bot.views.render import escape

logger = logging.getLogger(__name__)

SORRY = (
    "Something went wrong on my side. Nothing you saved was lost. "
    "Please try again; if it keeps happening, tell your admin."
)
COULD_NOT_SAVE = (
    "Could not save — please retry in a minute. Nothing was half-saved: "
    "what you sent last was not stored."
)
NOT_MODIFIED = "message is not modified"
# SQLite result codes that mean "not now" rather than "a bug": busy past the timeout, locked,
# disk full, I/O error (SQLITE_IOERR_* included).
UNAVAILABLE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_FULL", "SQLITE_IOERR")
# Updates already apologised for (kept in the application's bot_data, so two Applications
# in one process never share it): the persistence step after a failed handler usually fails
# the same way, and one apology per update is enough.
APOLOGISED = "apologised_updates"


def storage_unavailable(error: BaseException | None) -> bool:
    """Whether `error` (or what caused it) is a locked or full database, not a bug."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, sqlite3.OperationalError):
            name = getattr(error, "sqlite_errorname", "") or ""
            text = str(error).lower()
            if name.startswith(UNAVAILABLE) or "locked" in text or "disk is full" in text:
                return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


async def answer_refusal(update: Update, error: DomainError) -> None:
    """A rule said no: tell the person why, as an alert on a button or a reply to a message."""
    text = str(error)
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(text[:200], show_alert=True)
            return
        except BadRequest:  # answered already (the handler did before the service refused)
            pass
    if update.inline_query is not None:
        await update.inline_query.answer([], cache_time=0, is_personal=True)
        return
    chat = update.effective_chat
    if chat is not None and chat.type == chat.PRIVATE:
        await chat.send_message(escape(text))


async def error_handler(update: object, context: NextStepContext) -> None:
    """Log the exception with the update id, then apologise to the person (if there is one)."""
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(context.error, DomainError):
        logger.info("Update %s refused: %s", update_id, context.error)
        if isinstance(update, Update):
            await answer_refusal(update, context.error)
        return
    if isinstance(context.error, BadRequest) and NOT_MODIFIED in str(context.error).lower():
        # A button pressed twice redraws the same message: nothing went wrong.
        logger.info("Update %s left a message as it was", update_id)
        return
    unavailable = storage_unavailable(context.error)
    logger.error(
        "Error while handling update %s%s",
        update_id,
        " (database locked or full)" if unavailable else "",
        exc_info=context.error,
    )
    if not isinstance(update, Update):
        return
    chat = update.effective_chat
    if isinstance(context.error, Forbidden) and chat is not None:
        await team.set_reachable(context.db, context.clock, chat.id, reachable=False)
        return
    apologised: deque[int] = context.bot_data.setdefault(APOLOGISED, deque(maxlen=256))
    if update.update_id in apologised:
        return
    apologised.append(update.update_id)
    text = COULD_NOT_SAVE if unavailable else SORRY
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(text[:200], show_alert=True)
            return
        except TelegramError:  # answered already (the handler did so before failing)
            pass
    try:
        if chat is not None and chat.type == chat.PRIVATE:
            await context.bot.send_message(chat.id, text)
    except TelegramError:
        logger.warning("Could not tell update %s's sender about the error", update_id)
