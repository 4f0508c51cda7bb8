"""Every refused button press is audited, whichever handler refused it, and malformed data is
refused before any handler sees it.

The convention all handlers follow: a press is refused by answering it with an alert
(`query.answer(text, show_alert=True)`); other answers are toasts or nothing. So this module,
in the first group, hands the callback query a recording stand-in for the bot: the alert goes
out as usual and a `callback.refused` entry is written (actor, data, answer). Handlers added
later are covered without a change. Data that no button of ours can carry (over 64 bytes,
control characters, an empty part), or that fits none of its feature's declared actions
(bot/views/actions.py), is refused here, audited the same way, before any handler or flow
sees it. A feature prefix with no declared action yet is left to its handlers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from telegram import Bot, Update
from telegram.constants import InlineKeyboardButtonLimit
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.services.refusals import record_refused_press
from bot.telegram.context import NextStepContext
from bot.views import actions
from bot.views.callback_data import SEPARATOR, Action
from handlers.common import NOT_VALID

REFUSAL_GROUP = -2  # before the access gate (-1): strangers' presses are recorded too


class _RecordingBot:
    """The bot as the callback query sees it: alerts are also written to the audit log."""

    def __init__(self, bot: Bot, context: NextStepContext, actor_id: int, data: str | None):
        self._bot = bot
        self._context = context
        self._actor_id = actor_id
        self._data = data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)

    async def answer_callback_query(self, *args: Any, **kwargs: Any) -> bool:
        """Answer as usual; an alert is a refusal, audited first (a crash can't skip it)."""
        if kwargs.get("show_alert"):
            await record_refused_press(
                self._context.db,
                self._context.clock,
                actor_id=self._actor_id,
                data=self._data,
                answer=kwargs.get("text"),
            )
        return bool(await self._bot.answer_callback_query(*args, **kwargs))


def well_formed(data: str | None) -> bool:
    """Data our own buttons could carry: <= 64 bytes, no control character, no empty part."""
    if not data or len(data.encode("utf-8")) > InlineKeyboardButtonLimit.MAX_CALLBACK_DATA:
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in data):
        return False
    return all(data.split(":"))


def by_prefix(declared: Iterable[object]) -> dict[str, tuple[Action, ...]]:
    """The actions among `declared`, grouped by their feature prefix."""
    found: dict[str, list[Action]] = {}
    for item in declared:
        if isinstance(item, Action):
            found.setdefault(item.prefix, []).append(item)
    return {prefix: tuple(items) for prefix, items in found.items()}


DECLARED = by_prefix(vars(actions).values())


def declared(data: str, registry: Mapping[str, tuple[Action, ...]] = DECLARED) -> bool:
    """Whether data is some declared action's, or has a prefix with no declared action."""
    known = registry.get(data.split(SEPARATOR, 1)[0])
    return known is None or any(action.matches(data) for action in known)


async def watch_press(update: Update, context: NextStepContext) -> None:
    """Install the recording bot on the query; refuse malformed or undeclared data outright."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    query.set_bot(_RecordingBot(query.get_bot(), context, query.from_user.id, query.data))  # type: ignore[arg-type]
    if not well_formed(query.data) or not declared(query.data or ""):
        await query.answer(NOT_VALID, show_alert=True)
        raise ApplicationHandlerStop


def handlers() -> list[tuple[object, int]]:
    """One type handler in its own group, before the access gate."""
    return [(TypeHandler(Update, watch_press), REFUSAL_GROUP)]
