"""One active question per person: the conversations (flows) know each other.

Every guided flow (logging a contact, a new client, an invoice or payment, a template, a
step's reschedule, the settings) is a `Flow`: a persistent python-telegram-bot
ConversationHandler that, once it is left waiting for an answer, ends every other flow of
the same person. So typed text always answers the newest question, whichever flow was
registered first. A flow that is ended this way first *parks* what it had (the log flow
keeps a call whose summary was never typed, for instance) and says so in one line.

Commands and buttons that start no question (/agenda, a client card, a list page) pass
through an open flow untouched: the question stays open and the next text still answers it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    BaseHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from bot.telegram.context import NextStepContext
from handlers.common import Refusal, reply

logger = logging.getLogger(__name__)

Park = Callable[[NextStepContext, object, bool], Awaitable[str | None]]
"""Keep what an ended flow had in its state (the flag: it is being started again by a typed
command, so an unsaved form is simply replaced); returns the one line telling the person."""


class Flow(ConversationHandler):  # type: ignore[type-arg]
    """A persistent conversation that is its person's only open question while it waits."""

    def __init__(
        self,
        *,
        name: str,
        entry_points: list[BaseHandler],  # type: ignore[type-arg]
        states: dict[object, list[BaseHandler]],  # type: ignore[type-arg]
        fallbacks: list[BaseHandler],  # type: ignore[type-arg]
        park: Park | None = None,
    ) -> None:
        super().__init__(
            entry_points=entry_points,
            states=states,
            fallbacks=fallbacks,
            name=name,
            persistent=True,
            allow_reentry=True,
        )
        self._park = park
        self._others: tuple[Flow, ...] = ()

    @staticmethod
    def link(flows: Iterable[Flow]) -> None:
        """Let each of these flows end the others (called once by the composition)."""
        every = tuple(flows)
        for flow in every:
            flow._others = tuple(other for other in every if other is not flow)

    def is_waiting(self, key: tuple[int | str, ...]) -> bool:
        """Whether this flow waits for an answer from the person behind `key`."""
        return self._conversations.get(key) is not None

    async def handle_update(
        self,
        update: Update,
        application: Application,  # type: ignore[type-arg]
        check_result: Any,
        context: NextStepContext,
    ) -> object | None:
        """Handle the update; if this flow now waits for an answer, end the person's others.

        A typed command that starts this flow again while it waits (a second `/call`) parks
        what the first one had, as another flow's start would.
        """
        state, key, handler = check_result[0], check_result[1], check_result[2]
        notices: list[str] = []
        restarted = (
            state is not None
            and handler in self.entry_points
            and isinstance(handler, CommandHandler | MessageHandler)
        )
        if restarted:
            await self._park_into(notices, context, state, restart=True)
        try:
            result = await super().handle_update(update, application, check_result, context)
        except Refusal as refusal:  # answered by the error handler; the flow moves on first
            if refusal.drop and context.user_data is not None:
                context.user_data.pop(refusal.drop, None)
            if refusal.then is not None:
                self._update_state(refusal.then, key)
            await self._end_others(update, key, context, notices)
            raise
        except ApplicationHandlerStop:
            await self._end_others(update, key, context, notices)
            raise
        await self._end_others(update, key, context, notices)
        return result

    async def _park_into(
        self, notices: list[str], context: NextStepContext, state: object, *, restart: bool
    ) -> None:
        if self._park is None:
            return
        try:
            notice = await self._park(context, state, restart)
        except Exception:  # the flow ends anyway; what it had is logged
            logger.exception("could not park flow %s in state %s", self.name, state)
            notice = None
        if notice:
            notices.append(notice)

    async def _end_others(
        self,
        update: Update,
        key: tuple[int | str, ...],
        context: NextStepContext,
        notices: list[str],
    ) -> None:
        if self.is_waiting(key):
            for other in self._others:
                state = other._conversations.get(key)
                if state is not None:
                    await other._park_into(notices, context, state, restart=False)
                    other._update_state(self.END, key)
        if notices:
            await reply(update, "\n".join(notices))
