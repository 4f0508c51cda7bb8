"""Reading a pressed button: its typed values (bot/views/actions.py), or a polite refusal.

A handler is registered with `pattern=ACTION.pattern`, so a press reaches it only with data
of the action's shape; the values are still read with `ACTION.parse` (a number out of its
range has the right shape), and anything that does not parse is answered "not valid any
more" instead of being acted on.
"""

from __future__ import annotations

import re
from typing import Any

from telegram import CallbackQuery, Update

from bot.views.callback_data import Action
from handlers.refusals import NOT_VALID


def query_of(update: Update) -> CallbackQuery:
    """The update's callback query (the handler was registered for presses only)."""
    query = update.callback_query
    assert query is not None
    return query


async def pressed(update: Update, action: Action) -> tuple[Any, ...] | None:
    """The values of the pressed `action` button; None once the press is refused as invalid."""
    query = query_of(update)
    values = action.parse(query.data)
    if values is None:
        await query.answer(NOT_VALID, show_alert=True)
    return values


def any_of(*actions: Action) -> re.Pattern[str]:
    """One handler's pattern for several actions (a handler that dispatches on the data)."""
    return re.compile("|".join(f"(?:{action.pattern.pattern})" for action in actions))
