"""/agenda: what needs doing, most urgent first, each item one tap from being handled."""

from __future__ import annotations

from telegram import InlineKeyboardButton, Update
from telegram.ext import CommandHandler

from bot.context import NextStepContext
from bot.keyboards import button, keyboard
from bot.render import render
from bot.services.agenda import Agenda, build_agenda
from bot.timefmt import format_clock, format_date, format_day, format_moment, format_span
from handlers.common import reply
from storage.users import User

MAX_BUTTONS = 12


def render_agenda(agenda: Agenda, user: User, *, detail: bool) -> str:
    """The agenda as Telegram HTML in the person's zone and language."""
    return render(
        "texts/agenda.html.j2",
        a=agenda,
        detail=detail,
        fmt_time=lambda moment: format_moment(moment, user.timezone, user.locale),
        fmt_day_of=lambda moment: format_day(moment, user.timezone, user.locale),
        fmt_clock=lambda moment: format_clock(moment, user.timezone),
        fmt_date=lambda day: format_date(day, user.locale),
        ago=lambda delta: format_span(delta, user.locale),
    )


def agenda_buttons(agenda: Agenda) -> list[list[InlineKeyboardButton]]:
    """A button per actionable item: set the missing next step, or log the due contact."""
    rows = [
        [button(f"➡️ {p.client_name[:30]}: set next step", "ns", "menu", p.contact.id)]
        for p in agenda.pending
    ]
    steps = [o.entry for o in agenda.overdue] + agenda.today
    rows += [
        [
            button(
                f"✅ {e.client_name[:30]}: log {e.step.kind.value}",
                "log",
                "new",
                e.step.client_id,
                "meeting" if e.step.kind.value in {"meeting", "visit"} else "call",
            )
        ]
        for e in steps
    ]
    return rows[:MAX_BUTTONS]


async def show_agenda(update: Update, context: NextStepContext) -> None:
    """/agenda, or /agenda week for every day in full."""
    user = context.member
    detail = bool(context.args) and context.args[0].lower() == "week"
    agenda = await build_agenda(context.db, user=user, now=context.clock.now(), days=7)
    await reply(
        update,
        render_agenda(agenda, user, detail=detail),
        reply_markup=keyboard(agenda_buttons(agenda)),
    )


def handlers() -> list[tuple[object, int]]:
    """/agenda."""
    return [(CommandHandler("agenda", show_agenda), 0)]
