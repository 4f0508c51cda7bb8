"""One active question per person: the conversations (flows) know each other.

Every guided flow (logging a contact, a new client, an invoice or payment, a template, a
step's reschedule, the settings) is a `Flow`: a persistent python-telegram-bot
ConversationHandler that, once it is left waiting for an answer, ends every other flow of
the same person. So typed text always answers the newest question, whichever flow was
registered first. A flow that is ended this way first *parks* what it had (the log flow
keeps a call whose summary was never typed, for instance) and says so in one line.

Commands and buttons that start no question (/agenda, a client card, a list page) pass
through an open flow untouched: the question stays open and the next text still answers it.

Old prompts go quiet: the last message with buttons a flow sent or edited while it was left
waiting is its *prompt* (kept in user_data, so it survives a restart). When the flow moves on
(another state, a new prompt, a refusal that moves it), ends, or is ended by another flow,
the previous prompt's buttons are taken off, unless the update itself just edited that
message. Cards, lists and agendas are never prompts: a flow that ends leaves what it sent
as it is. A press that still reaches a quieted prompt (an old client, another device) is
answered "already handled", quoting the prompt's first line (`closed_question`).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from bot.services.clients import fold_text
from bot.telegram.context import NextStepContext
from bot.views.render import escape
from handlers.common import OUTGOING, MessageKey, Outgoing, Refusal, first_line, reply

logger = logging.getLogger(__name__)

PROMPTS = "prompts"
"""user_data key: per flow name, its open prompt as [chat id, message id, first line]."""
CLOSED = "closed_prompts"
"""user_data key: "<chat>:<message>" of recently quieted prompts -> their first line."""
CLOSED_KEPT = 20

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
        typed = self._typed_press(update, context, state)
        if typed is not None:  # the prompt's button whose label was typed: pressed instead
            check = self.check_update(typed)
            if isinstance(check, tuple) and isinstance(check[2], CallbackQueryHandler):
                return await self.handle_update(typed, application, check, context)
        notices: list[str] = []
        restarted = (
            state is not None
            and handler in self.entry_points
            and isinstance(handler, CommandHandler | MessageHandler)
        )
        outgoing = Outgoing()
        token = OUTGOING.set(outgoing)
        try:
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
                await self._quiet_prompts(context, key, state, outgoing, moved=restarted)
                raise
            except ApplicationHandlerStop:
                await self._end_others(update, key, context, notices)
                await self._quiet_prompts(context, key, state, outgoing, moved=restarted)
                raise
            await self._end_others(update, key, context, notices)
            await self._quiet_prompts(context, key, state, outgoing, moved=restarted)
        finally:
            OUTGOING.reset(token)
        return result

    def _typed_press(
        self, update: Update, context: NextStepContext, state: object
    ) -> Update | None:
        """A text that says what one of the waiting prompt's buttons says ("Keep both",
        "tomorrow 10:00", "yes" for ✅ Confirm), as a press of that button; else None."""
        message = update.message
        if state is None or message is None or not message.text or context.user_data is None:
            return None
        if message.text.startswith("/"):
            return None
        prompts = context.user_data.get(PROMPTS)
        prompt = prompts.get(self.name or "") if isinstance(prompts, dict) else None
        if not isinstance(prompt, list) or len(prompt) < 4 or not prompt[3]:
            return None
        data = button_for_text(message.text, [(str(b[0]), str(b[1])) for b in prompt[3]])
        if data is None or message.from_user is None:
            return None
        bot = context.bot
        shown = Message(message_id=int(prompt[1]), date=message.date, chat=message.chat)
        shown.set_bot(bot)
        press = TypedPress(
            id=f"typed-{update.update_id}",
            from_user=message.from_user,
            chat_instance="typed",
            message=shown,
            data=data,
        )
        press.set_bot(bot)
        return Update(update_id=update.update_id, callback_query=press)

    async def _quiet_prompts(
        self,
        context: NextStepContext,
        key: tuple[int | str, ...],
        before: object,
        outgoing: Outgoing,
        *,
        moved: bool,
    ) -> None:
        """After an update: the flow's old prompt loses its buttons if the flow moved on or
        ended (and the update did not edit it); a new prompt of a waiting flow is kept."""
        if context.user_data is None:
            return
        prompts: dict[str, list[Any]] = context.user_data.setdefault(PROMPTS, {})
        after = self._conversations.get(key)
        new = outgoing.prompt if after is not None else None
        if new is None and after == before and not moved:
            return  # nothing asked anew and the question stays where it was
        old = prompts.pop(self.name or "", None)
        if old is not None:
            await _quiet(context, old, outgoing.touched)
        if new is not None:
            prompts[self.name or ""] = [
                new[0],
                new[1],
                outgoing.prompt_line,
                outgoing.prompt_buttons,
            ]

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
                    await other._drop_prompt(context)
        if notices:
            await reply(update, "\n".join(notices))

    async def _drop_prompt(self, context: NextStepContext) -> None:
        """This flow was ended by another: its prompt goes quiet (unless just edited)."""
        prompts = None if context.user_data is None else context.user_data.get(PROMPTS)
        old = prompts.pop(self.name or "", None) if isinstance(prompts, dict) else None
        if old is not None:
            outgoing = OUTGOING.get()
            await _quiet(context, old, outgoing.touched if outgoing else set())


async def _quiet(context: NextStepContext, prompt: list[Any], touched: set[MessageKey]) -> None:
    """Take the buttons off a flow's old prompt and remember it for a stale press."""
    try:
        chat_id, message_id = int(prompt[0]), int(prompt[1])
        line = str(prompt[2]) if len(prompt) > 2 else ""
    except (TypeError, ValueError, IndexError):  # not written by this version: forget it
        return
    if (chat_id, message_id) in touched:
        return  # the press itself just edited it: what it shows now is meant
    try:
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as exc:  # already without buttons, deleted, or too old to edit
        logger.debug("prompt %s:%s left as it was: %s", chat_id, message_id, exc.message)
    except TelegramError as exc:  # the network: the buttons stay, a press is still checked
        logger.warning("could not quiet prompt %s:%s: %s", chat_id, message_id, exc)
    assert context.user_data is not None
    closed: dict[str, str] = context.user_data.setdefault(CLOSED, {})
    closed.pop(f"{chat_id}:{message_id}", None)
    closed[f"{chat_id}:{message_id}"] = line
    for stale in list(closed)[:-CLOSED_KEPT]:
        del closed[stale]


class TypedPress(CallbackQuery):
    """A button pressed by typing what it says: Telegram has no query to answer, so an
    answer's text (a refusal's alert) is sent to the chat as a message instead."""

    async def answer(self, text: str | None = None, *args: Any, **kwargs: Any) -> bool:
        """Send the answer's text, if any, as a message (there is no query to answer)."""
        message = self.message
        if text and message is not None:
            await self.get_bot().send_message(message.chat.id, escape(text))
        return True


SAME_AS = {
    "confirm": {"yes", "y", "ok", "okay", "confirm", "correct", "right", "sure", "yep", "да"},
    "change": {"no", "change", "edit", "wrong", "нет"},
    "skip": {"skip", "no", "none", "nothing", "пропустить"},
    "keep both": {"keep", "both", "keep it", "keep them"},
    "keep them": {"keep", "keep both", "keep it"},
    "cancel them": {"cancel", "cancel it", "drop them"},
    "replace it": {"replace"},
}
"""Typed words that mean a button, by the button's folded label (its words, no emoji)."""


def _symbols(text: str) -> set[str]:
    """The emoji and pictographs in a text."""
    return {char for char in text if unicodedata.category(char) in ("So", "Sk")}


def button_for_text(text: str, buttons: list[tuple[str, str]]) -> str | None:
    """The callback data of the one button `text` names: its label typed (case, emoji and
    punctuation aside), else a word that means it (SAME_AS); None when none or several."""
    typed = fold_text(text)
    if not typed:
        return None
    symbols = _symbols(text)  # "new client Ёлка 🎄" says more than the button "Ёлка"
    labels = [(fold_text(label), data, _symbols(label)) for label, data in buttons]
    exact = {data for label, data, marks in labels if label == typed and symbols <= marks}
    if len(exact) == 1:
        return exact.pop()
    meant = {data for label, data, _ in labels if typed in SAME_AS.get(label, ())}
    return meant.pop() if len(meant) == 1 else None


def closed_question(context: NextStepContext, query: CallbackQuery) -> str | None:
    """The answer to a press on a prompt whose question was closed ("already handled",
    naming it by its first line), or None if the pressed message was no such prompt."""
    message = query.message
    closed = None if context.user_data is None else context.user_data.get(CLOSED)
    if message is None or not isinstance(closed, dict):
        return None
    line = closed.get(f"{message.chat.id}:{message.message_id}")
    if line is None:
        return None
    what = f" (“{first_line(line, 100)}”)" if line else ""
    return f"Already handled: that question{what} was answered or closed. Nothing was changed."
