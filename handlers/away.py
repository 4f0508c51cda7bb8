"""/away <date> [deputy]: no reminders until then; a deputy gets them and may act meanwhile."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.services import dates, schedule, team
from bot.services.errors import DomainError
from bot.telegram.context import NextStepContext
from bot.timefmt import format_moment
from bot.views.actions import AWAY_BACK
from bot.views.keyboards import button, keyboard
from bot.views.render import escape
from handlers.common import edit, reply

USAGE = (
    "Send <code>/away DATE [deputy]</code>, for example <code>/away 15 Dec</code> or "
    "<code>/away 2026-12-15 @olga</code>. Until that date you get no reminders; a deputy (an "
    "active manager) gets them instead and may act on your clients."
)


async def away(update: Update, context: NextStepContext) -> None:
    """Set away mode, or show it with an "I'm back" button."""
    user = context.member
    words = context.args or []
    if not words:
        if user.away_until is not None and user.away_until > context.clock.now():
            shown = format_moment(user.away_until, user.timezone, user.locale)
            await reply(
                update,
                f"You are away until <b>{escape(shown)}</b>.\n\n{USAGE}",
                reply_markup=keyboard([[button("I'm back", AWAY_BACK)]]),
            )
        else:
            await reply(update, USAGE)
        return
    try:
        until, deputy_text = dates.parse_away(
            words, now=context.clock.now(), timezone=user.timezone, locale=user.locale
        )
        deputy_id = None
        if deputy_text:
            deputy = await team.find_member(context.db, deputy_text)
            if deputy is None:
                raise DomainError(
                    f"I can't find a colleague called “{deputy_text}”. Use their "
                    "@username or the name shown in /team."
                )
            deputy_id = deputy.telegram_id
        updated = await schedule.set_away(
            context.db, context.clock, actor=user, until=until, deputy_id=deputy_id
        )
    except DomainError as exc:  # answered with the usage, which is HTML
        await reply(update, f"{escape(str(exc))}\n\n{USAGE}")
        return
    shown = format_moment(until, updated.timezone, updated.locale)
    note = f"Enjoy! You're away until <b>{escape(shown)}</b>; no reminders until then."
    if deputy_id is not None and deputy_text:
        note += f" Your reminders go to {escape(deputy_text)}, who may act on your clients."
    await reply(update, note, reply_markup=keyboard([[button("I'm back", AWAY_BACK)]]))


async def back(update: Update, context: NextStepContext) -> None:
    """ "I'm back" (or /back)."""
    await schedule.clear_away(context.db, context.clock, actor=context.member)
    text = "Welcome back! Reminders come to you again."
    if update.callback_query is not None:
        await update.callback_query.answer()
        await edit(update.callback_query, text)
    else:
        await reply(update, text)


def handlers() -> list[tuple[object, int]]:
    """/away, /back and the "I'm back" button."""
    return [
        (CommandHandler("away", away), 0),
        (CommandHandler("back", back), 0),
        (CallbackQueryHandler(back, pattern=AWAY_BACK.pattern), 0),
    ]
