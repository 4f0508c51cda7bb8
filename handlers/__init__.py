"""Telegram handlers, one module per feature; `register` adds them in a deliberate order."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackContext,
    ConversationHandler,
    TypeHandler,
)

from bot.telegram.coalesce import Coalescer
from bot.telegram.persistence import SqlitePersistence
from handlers import (
    access,
    agenda,
    away,
    clients,
    contacts,
    digest,
    edits,
    fallback,
    invites,
    invoices,
    membership,
    refusals,
    reminders,
    settings,
    start,
    team,
    templates,
)
from handlers.flow import Flow

# Order matters: group -1 holds the access gate; within group 0 the first matching handler
# wins, so conversations come before plain commands and the fallback comes last.
FEATURES = (
    refusals,  # group -2: audits every refused button press (handlers/refusals.py)
    access,
    edits,  # first in group 0: an edited message never reaches a command or a flow
    settings,
    contacts,
    clients,
    invoices,
    reminders,
    templates,
    start,
    invites,
    team,
    agenda,
    digest,
    away,
    membership,
    fallback,
)
PERSIST_GROUP = 100
PERSIST_FLUSHER = "persist_flusher"


async def _persist_now(update: Update, context: CallbackContext) -> None:  # type: ignore[type-arg]
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


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add every feature's handlers to the application."""
    flows: list[Flow] = []
    for feature in FEATURES:
        for handler, group in feature.handlers():
            assert isinstance(handler, BaseHandler)
            assert not isinstance(handler, ConversationHandler) or isinstance(handler, Flow), (
                f"{handler!r}: every conversation is a Flow (one active question per person)"
            )
            if isinstance(handler, Flow):
                flows.append(handler)
            application.add_handler(handler, group=group)
    Flow.link(flows)
    application.add_handler(TypeHandler(Update, _persist_now), group=PERSIST_GROUP)
