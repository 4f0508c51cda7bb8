"""/settings: a person's role and time zone (common zones as buttons, or any IANA name typed)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.callback_data import unpack
from bot.context import NextStepContext
from bot.keyboards import button, grid, keyboard
from bot.render import escape
from bot.services import team
from bot.timefmt import format_moment
from handlers.common import edit, flow_fallbacks, reply
from storage.users import User

CHOOSING_TIMEZONE = 1
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)
ROLE_NAMES = {"admin": "admin", "head": "head of sales", "manager": "manager"}
ASK_ZONE = (
    "Choose your time zone, or send its name — for example <code>Europe/Paris</code>, "
    "<code>America/Sao_Paulo</code> or just <code>Paris</code>:"
)


def _card(user: User, now_text: str) -> str:
    return (
        "<b>Your settings</b>\n"
        f"Role: {ROLE_NAMES[user.role.value]}\n"
        f"Time zone: {escape(user.timezone)} (your time now: {escape(now_text)})"
    )


async def show_settings(update: Update, context: NextStepContext) -> int:
    """/settings: the card with what can be changed."""
    user = context.member
    now_text = format_moment(context.clock.now(), user.timezone, user.locale)
    markup = keyboard([[button("🕘 Time zone", "set", "tz")]])
    await reply(update, _card(user, now_text), reply_markup=markup)
    return ConversationHandler.END


async def ask_timezone(update: Update, context: NextStepContext) -> int:
    """ "Time zone" pressed: offer common zones and wait for a typed name."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    buttons = [button(zone, "set", "tz", zone) for zone in COMMON_ZONES]
    await edit(query, ASK_ZONE, keyboard(grid(buttons, 2)))
    return CHOOSING_TIMEZONE


async def typed_timezone(update: Update, context: NextStepContext) -> int:
    """A zone name was typed: resolve it, or say what to send instead."""
    message = update.effective_message
    assert message is not None and message.text is not None
    zone = team.resolve_timezone(message.text)
    if zone is None:
        shown = escape(message.text.strip()[:100])
        await reply(
            update,
            f"I don't know the time zone “{shown}”. Send a name like <code>Europe/Paris</code>, "
            "<code>America/New_York</code> or <code>Asia/Dubai</code>, or tap a button above. "
            "/cancel leaves it unchanged.",
        )
        return CHOOSING_TIMEZONE
    await reply(update, await _apply(context, zone))
    return ConversationHandler.END


async def chosen_timezone(update: Update, context: NextStepContext) -> int:
    """A zone button was pressed."""
    query = update.callback_query
    assert query is not None
    parts = unpack(query.data, "set", 2)
    zone = team.resolve_timezone(parts[1]) if parts and parts[0] == "tz" else None
    if zone is None:
        await query.answer("That button is not valid any more.", show_alert=True)
        return ConversationHandler.END
    await query.answer()
    await edit(query, await _apply(context, zone))
    return ConversationHandler.END


async def _apply(context: NextStepContext, zone: str) -> str:
    user = await team.set_timezone(context.db, context.clock, actor=context.member, timezone=zone)
    now_text = format_moment(context.clock.now(), user.timezone, user.locale)
    return f"✅ Time zone set to <b>{escape(zone)}</b>. Your time now: {escape(now_text)}."


def handlers() -> list[tuple[object, int]]:
    """/settings as a persistent conversation (it survives a restart mid-way)."""
    zone_buttons = CallbackQueryHandler(chosen_timezone, pattern=r"^set:tz:")
    conversation = ConversationHandler(
        name="settings",
        persistent=True,
        allow_reentry=True,
        entry_points=[
            CommandHandler("settings", show_settings),
            CallbackQueryHandler(ask_timezone, pattern=r"^set:tz$"),
            zone_buttons,
        ],
        states={
            CHOOSING_TIMEZONE: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, typed_timezone),
                zone_buttons,
                CallbackQueryHandler(ask_timezone, pattern=r"^set:tz$"),
            ]
        },
        fallbacks=flow_fallbacks(),
    )
    return [(conversation, 0)]
