"""/refusals [month]: why clients refused, grouped by reason with counts, per manager, the
clients behind each reason as buttons to their cards, and the change against the previous
month. Heads and admins see the team's, managers their own; every button re-checks that
(the report is built for whoever pressed)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.services import refusal_reasons
from bot.services.months import Month, parse_month
from bot.services.plans import local_today
from bot.services.refusal_reasons import Preset
from bot.telegram.context import NextStepContext
from bot.views.actions import REFUSALS_HOME, REFUSALS_REASON
from bot.views.refusal_reasons import (
    reason_keyboard_for,
    render_reason,
    render_report,
    report_keyboard,
)
from handlers.common import edit, pressed, query_of, reply

NOT_BEGUN = (
    "{month} hasn't begun yet; send this month or an earlier one, e.g. /refusals {example}."
)


def _month_asked(context: NextStepContext, text: str) -> Month | None:
    if not text.strip():
        return None
    today = local_today(context.member, context.clock.now())
    month = parse_month(text, today=today, locale=context.member.locale)
    return month


async def show_refusals(update: Update, context: NextStepContext) -> None:
    """/refusals [month]: the month's refusals (this month so far by default)."""
    month = _month_asked(context, " ".join(context.args or []))
    today = local_today(context.member, context.clock.now())
    if month is not None and month > Month.of(today):
        await reply(update, NOT_BEGUN.format(month=month.iso, example=Month.of(today).iso))
        return
    report = await refusal_reasons.refusal_report(
        context.db, context.clock, actor=context.member, month=month
    )
    await reply(
        update, render_report(report, context.member), reply_markup=report_keyboard(report)
    )


async def pressed_home(update: Update, context: NextStepContext) -> None:
    """« All reasons: the month's report, in place."""
    values = await pressed(update, REFUSALS_HOME)
    if values is None:
        return
    report = await refusal_reasons.refusal_report(
        context.db, context.clock, actor=context.member, month=Month.from_iso(values[0])
    )
    query = query_of(update)
    await query.answer()
    await edit(query, render_report(report, context.member), report_keyboard(report))


async def pressed_reason(update: Update, context: NextStepContext) -> None:
    """A reason's button: its refusals, the clients as buttons to their cards."""
    values = await pressed(update, REFUSALS_REASON)
    if values is None:
        return
    month_iso, code = values
    report = await refusal_reasons.refusal_report(
        context.db, context.clock, actor=context.member, month=Month.from_iso(month_iso)
    )
    query = query_of(update)
    group = report.group(Preset(code))
    if group is None or not group.count:
        await query.answer("No refusals with that reason in that month any more.")
        await edit(query, render_report(report, context.member), report_keyboard(report))
        return
    await query.answer()
    await edit(
        query,
        render_reason(report, group, context.member),
        reason_keyboard_for(report, group),
    )


def handlers() -> list[tuple[object, int]]:
    """/refusals and its buttons."""
    return [
        (CommandHandler("refusals", show_refusals), 0),
        (CallbackQueryHandler(pressed_home, pattern=REFUSALS_HOME.pattern), 0),
        (CallbackQueryHandler(pressed_reason, pattern=REFUSALS_REASON.pattern), 0),
    ]
