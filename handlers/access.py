"""The access gate (nobody gets in uninvited) and the decisions on access requests."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, TypeHandler

from bot import i18n
from bot.i18n import N_
from bot.i18n import gettext as _
from bot.services import access, team, team_settings
from bot.services.access import Deactivated
from bot.services.model import Role
from bot.telegram.command_menu import publish_commands_for
from bot.telegram.context import NextStepContext
from bot.views.actions import ACCESS_DECIDE
from bot.views.keyboards import keyboard, url_button
from bot.views.render import escape
from handlers.common import display_name, edit, pressed, query_of

logger = logging.getLogger(__name__)

REFUSAL = N_(
    "Sorry, NextStep is invite-only and you don't have access. "
    "Ask your admin or head of sales for an invitation link."
)
SWITCHED_OFF = N_(
    "Sorry, your access to NextStep was switched off. If you need it again, ask an "
    "admin: only an admin can switch it back on."
)
assert str(Deactivated()) == SWITCHED_OFF  # the same words wherever it is said
PRIVATE_ONLY = N_("I work in private chats only. Please write to me directly.")
DECISIONS = {"mgr": Role.MANAGER, "head": Role.HEAD, "no": None}


def command_of(update: Update) -> str | None:
    """The bare command of a message (`/start@nextstep_bot x` -> `start`), if it is one."""
    message = update.effective_message
    text = message.text if message is not None else None
    if not text or not text.startswith("/"):
        return None
    return text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower()


async def gate(update: Update, context: NextStepContext) -> None:
    """Let active users through with `context.actor` set; refuse everybody else politely."""
    person = update.effective_user
    chat = update.effective_chat
    if update.my_chat_member is not None:
        return  # blocks and unblocks are tracked for anybody (handlers/membership.py)
    if person is None or person.is_bot:
        raise ApplicationHandlerStop
    i18n.set_locale(i18n.SOURCE)  # nothing of the previous update's person carries over
    if chat is not None and chat.type != ChatType.PRIVATE:
        if command_of(update) in {"start", "help"}:
            i18n.set_locale(i18n.negotiate(person.language_code, context.settings.default_locale))
            me = context.bot.username
            await chat.send_message(
                _(PRIVATE_ONLY),
                reply_markup=keyboard(
                    [[url_button(_("Open a private chat"), f"https://t.me/{me}")]]
                ),
            )
        raise ApplicationHandlerStop
    actor = await access.find_person(context.db, person.id)
    if actor is not None and actor.active:
        i18n.set_locale(actor.locale)
        context.actor = actor
        name = display_name(person.first_name, person.last_name)
        await team.refresh_profile(
            context.db, context.clock, actor, name=name, username=person.username
        )
        if not actor.reachable:
            await team.set_reachable(context.db, context.clock, actor.telegram_id, reachable=True)
        return
    # Not (or no longer) a member: the language their Telegram is in, else the team's.
    i18n.set_locale(
        await team_settings.new_person_locale(
            context.db, person.language_code, context.settings.default_locale
        )
    )
    if command_of(update) == "start" and (actor is None or _has_payload(update)):
        # handlers/start.py: invitations, first admins and strangers' access requests. A
        # deactivated person only gets through with a link (a valid invitation lets them in
        # again); never to an access request, and ADMIN_TELEGRAM_IDS does not override a
        # deactivation: only an admin reactivates, in /team.
        return
    await refuse(update, REFUSAL if actor is None else SWITCHED_OFF)
    raise ApplicationHandlerStop


def _has_payload(update: Update) -> bool:
    """Whether a /start carries a deep-link payload (`/start <token>`)."""
    message = update.effective_message
    return bool(message and message.text and len(message.text.split(maxsplit=1)) == 2)


async def refuse(update: Update, text: str = REFUSAL) -> None:
    """The one polite refusal a stranger or a deactivated person gets, whatever they sent
    (in the language their Telegram is in, when the bot speaks it)."""
    text = _(text)
    if update.callback_query is not None:
        await update.callback_query.answer(text[:200], show_alert=True)
    elif update.inline_query is not None:
        await update.inline_query.answer([], cache_time=0, is_personal=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


async def decide_request(update: Update, context: NextStepContext) -> None:
    """A lead pressed Approve as manager / Approve as head / Decline on an access request."""
    values = await pressed(update, ACCESS_DECIDE)
    if values is None:
        return
    decision_word, request_id = values
    role = DECISIONS[decision_word]
    query = query_of(update)
    try:
        decision = await access.decide_access(
            context.db,
            context.clock,
            actor=context.member,
            request_id=request_id,
            role=role,
            timezone=context.settings.default_timezone,
            locale=context.settings.default_locale,
        )
    except access.AlreadyDecided as exc:  # decided by another lead, or the person joined
        await query.answer(str(exc)[:200], show_alert=True)
        await edit(query, f"{escape(exc.request.name)}'s access request: {escape(str(exc))}")
        return
    await query.answer()
    request = decision.request
    who = escape(request.name)
    if decision.approved and role is not None:
        outcome = f"✅ {who} approved as {role.value} by {escape(context.member.name)}."
        note = (
            f"Welcome to NextStep! You've been approved as {role.value}. "
            "Send /help to see what you can do."
        )
    else:
        outcome = f"❌ {who}'s request declined by {escape(context.member.name)}."
        note = "Sorry, your request to use NextStep was declined."
    await edit(query, outcome)
    if decision.user is not None:
        await publish_commands_for(context.bot, decision.user)
    try:
        await context.bot.send_message(request.telegram_id, note)
    except TelegramError:  # the requester may have blocked the bot; the decision stands
        logger.warning("Could not tell %s about the decision", request.telegram_id)


def handlers() -> list[tuple[object, int]]:
    """The gate runs first (group -1); decisions in the default group."""
    return [
        (TypeHandler(Update, gate), -1),
        (CallbackQueryHandler(decide_request, pattern=ACCESS_DECIDE.pattern), 0),
    ]
