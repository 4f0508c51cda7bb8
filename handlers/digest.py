"""/digest: the team's week for heads (this week so far, last week, or `/digest 2026-W47`),
a manager's own "Your week"; and the digest's schedule buttons from /settings (the `dg`
actions of bot/views/actions.py). A refusal (DomainError) is answered by the error handler."""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.services.digest import figures as digest
from bot.services.digest.figures import Week
from bot.services.model import DigestKind, Role, User
from bot.telegram.context import NextStepContext
from bot.views.actions import DIGEST_DAY, DIGEST_PERIOD, DIGEST_SCHEDULE, DIGEST_TIME
from bot.views.callback_data import any_of
from bot.views.digest import (
    period_keyboard,
    schedule_keyboard,
    schedule_text,
    team_timezone,
)
from bot.workers.digest import plan_parts
from handlers.common import edit, reply

STALE = "That button is not valid any more."
ASK_PERIOD = (
    "📊 <b>Team digest</b>: which week? For an earlier one send its number, "
    "e.g. <code>/digest {example}</code>."
)
SCOPES = {"t": DigestKind.TEAM, "o": DigestKind.OWN}
PERIODS = {"this": 0, "last": -1}


async def _send(update: Update, context: NextStepContext, kind: DigestKind, week: Week) -> None:
    """Build and send a digest into the chat: text messages, then the chart and the file."""
    chat = update.effective_chat
    assert chat is not None
    viewer = context.member
    await chat.send_chat_action(
        ChatAction.UPLOAD_DOCUMENT if kind is DigestKind.TEAM else ChatAction.TYPING
    )
    makers = await plan_parts(context.db, context.clock, viewer, kind, week)
    markup = period_keyboard(team=kind is DigestKind.TEAM)
    for index, make in enumerate(makers):
        part = await make()
        if part.kind == "text":
            last = index == len(makers) - 1  # the buttons go under the last message
            await reply(update, part.text, reply_markup=markup if last else None)
        elif part.kind == "photo":
            await chat.send_photo(part.content, caption=part.text, filename=part.filename)
        else:
            await chat.send_document(part.content, caption=part.text, filename=part.filename)


def _kind_for(viewer: User) -> DigestKind:
    return DigestKind.TEAM if digest.may_see_team(viewer) else DigestKind.OWN


async def show_digest(update: Update, context: NextStepContext) -> None:
    """/digest [week]: a lead picks the period (or names a week); a manager gets their own."""
    viewer = context.member
    zone = team_timezone(context.settings)
    now = context.clock.now()
    text = " ".join(context.args or [])
    kind = _kind_for(viewer)
    if kind is DigestKind.TEAM and not text:
        example = Week.containing(now, zone).shift(-1).iso
        await reply(
            update, ASK_PERIOD.format(example=example), reply_markup=period_keyboard(team=True)
        )
        return
    week = digest.week_for_request(text, now=now, timezone=zone)  # a refusal quotes the text
    await _send(update, context, kind, week)


async def pressed_period(update: Update, context: NextStepContext) -> None:
    """This week so far / Last week."""
    query = update.callback_query
    assert query is not None
    found = DIGEST_PERIOD.parse(query.data)
    if found is None:
        await query.answer(STALE, show_alert=True)
        return
    scope, period = found
    viewer = context.member
    kind = SCOPES[scope]
    note = None
    if kind is DigestKind.TEAM and not digest.may_see_team(viewer):
        kind = DigestKind.OWN  # a stale button after a role change, or forged data
        note = "Only heads of sales see the team digest; here is your own week."
    await query.answer(note or "Preparing the digest…", show_alert=note is not None)
    now = context.clock.now()
    week = Week.containing(now, team_timezone(context.settings)).shift(PERIODS[period])
    await _send(update, context, kind, week)


# --- Schedule (opened from the /settings card) ---------------------------------------------


def _schedule_kind(viewer: User) -> DigestKind | None:
    if viewer.role is Role.HEAD:
        return DigestKind.TEAM
    if viewer.role is Role.MANAGER:
        return DigestKind.OWN
    return None


async def open_schedule(update: Update, context: NextStepContext) -> None:
    """The settings card's "Weekly digest" button."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    viewer = context.member
    kind = _schedule_kind(viewer)
    if kind is None:
        await edit(
            query,
            "The weekly team digest is sent to heads of sales. "
            "You can see it any time with /digest.",
        )
        return
    prefs = await digest.get_prefs(context.db, viewer)
    await edit(query, schedule_text(viewer, prefs, kind), schedule_keyboard(kind, prefs))


async def change_schedule(update: Update, context: NextStepContext) -> None:
    """A day or a time button of the schedule screen."""
    query = update.callback_query
    assert query is not None
    day, time = DIGEST_DAY.parse(query.data), DIGEST_TIME.parse(query.data)
    found = day or time
    viewer = context.member
    kind = SCOPES[found[0]] if found else None
    if found is None or kind is None or kind is not _schedule_kind(viewer):
        await query.answer(STALE, show_alert=True)
        return
    if day is not None:
        prefs = await digest.set_schedule(
            context.db, context.clock, actor=viewer, kind=kind, day=day[1]
        )
    else:
        hhmm = found[1]
        prefs = await digest.set_schedule(
            context.db,
            context.clock,
            actor=viewer,
            kind=kind,
            time=dt.time(int(hhmm[:2]), int(hhmm[2:])),
        )
    await query.answer("Saved.")
    await edit(
        query, "✅ Saved.\n\n" + schedule_text(viewer, prefs, kind), schedule_keyboard(kind, prefs)
    )


def handlers() -> list[tuple[object, int]]:
    """/digest and its buttons."""
    # Building a digest takes a moment (the chart, the spreadsheet): block=False lets the bot
    # go on answering everyone else meanwhile.
    return [
        (CommandHandler("digest", show_digest, block=False), 0),
        (CallbackQueryHandler(pressed_period, pattern=DIGEST_PERIOD.pattern, block=False), 0),
        (CallbackQueryHandler(open_schedule, pattern=DIGEST_SCHEDULE.pattern), 0),
        (CallbackQueryHandler(change_schedule, pattern=any_of(DIGEST_DAY, DIGEST_TIME)), 0),
    ]
