"""/agenda: what needs doing, most urgent first, each item one tap from being handled."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.services.agenda import build_agenda
from bot.telegram.context import NextStepContext
from bot.views.agenda import agenda_keyboard, render_agenda
from handlers.common import reply


async def show_agenda(update: Update, context: NextStepContext) -> None:
    """/agenda, or /agenda week for every day in full."""
    user = context.member
    words = context.args or []
    detail = bool(words) and words[0].lower() == "week"
    agenda = await build_agenda(context.db, user=user, now=context.clock.now(), days=7)
    await reply(
        update, render_agenda(agenda, user, detail=detail), reply_markup=agenda_keyboard(agenda)
    )


def handlers() -> list[tuple[object, int]]:
    """/agenda."""
    return [(CommandHandler("agenda", show_agenda), 0)]
