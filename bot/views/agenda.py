"""Rendering shared by handlers and jobs: the agenda and reminder notices, with their buttons."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import gettext as _
from bot.services.agenda import Agenda
from bot.services.model import User
from bot.services.plans import PersonPlan
from bot.timefmt import format_clock, format_date, format_day, format_moment, format_span
from bot.views import calendar as calendar_views
from bot.views.actions import (
    CLIENT_OPEN,
    NEXT_STEP_CHOICE,
    STEP_CANCEL,
    STEP_DONE,
    STEP_OPEN,
    STEP_RESCHEDULE,
    STEP_SNOOZE_MENU,
)
from bot.views.keyboards import button, keyboard
from bot.views.plans import plan_line
from bot.views.render import render

MAX_BUTTONS = 12


def render_agenda(
    agenda: Agenda,
    user: User,
    *,
    detail: bool,
    title: str = "Your agenda",
    plan: PersonPlan | None = None,
) -> str:
    """The agenda as Telegram HTML in the person's zone and language; `plan`: the month's
    plan on one line (the morning agenda of the week's first working day)."""
    return render(
        "texts/agenda.html.j2",
        a=agenda,
        title=title,
        detail=detail,
        plan_line=None if plan is None else plan_line(plan, user),
        fmt_time=lambda moment: format_moment(moment, user.timezone, user.locale),
        fmt_day_of=lambda moment: format_day(moment, user.timezone, user.locale),
        fmt_clock=lambda moment: format_clock(moment, user.timezone),
        fmt_date=lambda day: format_date(day, user.locale),
        ago=lambda delta: format_span(delta, user.locale),
    )


def agenda_keyboard(agenda: Agenda) -> InlineKeyboardMarkup | None:
    """A button per actionable item: set the missing next step, or open the due step."""
    rows: list[list[InlineKeyboardButton]] = [
        [button(f"➡️ {p.client_name[:30]}: set next step", NEXT_STEP_CHOICE, "menu", p.contact.id)]
        for p in agenda.pending
    ]
    steps = [o.entry for o in agenda.overdue] + agenda.today
    rows += [
        [button(f"📌 {e.client_name[:30]}: {e.step.kind.value}", STEP_OPEN, e.step.id)]
        for e in steps
    ]
    rows += [
        [button(f"📇 {q.client.name[:30]}", CLIENT_OPEN, q.client.id)] for q in agenda.gone_quiet
    ]
    return keyboard(rows[:MAX_BUTTONS])


def step_keyboard(step_id: int) -> InlineKeyboardMarkup | None:
    """What a person can do about a due step."""
    return keyboard(
        [
            [button(_("✅ Done — log it"), STEP_DONE, step_id)],
            [
                button(_("💤 Snooze"), STEP_SNOOZE_MENU, step_id),
                button(_("🗓 Reschedule"), STEP_RESCHEDULE, step_id),
            ],
            [button(_("✖️ Cancel step"), STEP_CANCEL, step_id)],
            [calendar_views.add_button(step_id)],
        ]
    )


def next_step_keyboard(contact_id: int) -> InlineKeyboardMarkup | None:
    """The five ways a contact can end."""
    return keyboard(
        [
            [button(_("📅 Schedule follow-up"), NEXT_STEP_CHOICE, "follow", contact_id)],
            [
                button(_("🏆 Deal won"), NEXT_STEP_CHOICE, "won", contact_id),
                button(_("🚫 Client refused"), NEXT_STEP_CHOICE, "refused", contact_id),
            ],
            [
                button(_("❌ Not a target"), NEXT_STEP_CHOICE, "nottarget", contact_id),
                button(_("⏸ Pause until…"), NEXT_STEP_CHOICE, "pause", contact_id),
            ],
        ]
    )
