"""/digest: the team's week for heads (this week so far, last week, or `/digest 2026-W47`),
a manager's own "Your week"; and the digest's schedule buttons from /settings (prefix `dg`)."""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.services.digest import figures as digest
from bot.services.digest.figures import Week
from bot.services.errors import DomainError
from bot.services.model import DigestKind, Role, User
from bot.telegram.context import NextStepContext
from bot.views.callback_data import unpack
from bot.views.digest import (
    PREFIX,
    period_keyboard,
    schedule_keyboard,
    schedule_text,
    team_timezone,
)
from bot.views.render import escape
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
    try:
        week = digest.week_for_request(text, now=now, timezone=zone)
    except DomainError as exc:
        await reply(update, escape(str(exc)))  # it quotes what was typed
        return
    await _send(update, context, kind, week)


async def pressed_period(update: Update, context: NextStepContext) -> None:
    """This week so far / Last week."""
    query = update.callback_query
    assert query is not None
    parts = unpack(query.data, PREFIX, 2)
    if parts is None or parts[0] not in SCOPES or parts[1] not in PERIODS:
        await query.answer(STALE, show_alert=True)
        return
    viewer = context.member
    kind = SCOPES[parts[0]]
    note = None
    if kind is DigestKind.TEAM and not digest.may_see_team(viewer):
        kind = DigestKind.OWN  # a stale button after a role change, or forged data
        note = "Only heads of sales see the team digest; here is your own week."
    await query.answer(note or "Preparing the digest…", show_alert=note is not None)
    now = context.clock.now()
    week = Week.containing(now, team_timezone(context.settings)).shift(PERIODS[parts[1]])
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
    parts = unpack(query.data, PREFIX, 3)
    viewer = context.member
    kind = SCOPES.get(parts[1]) if parts else None
    if parts is None or kind is None or kind is not _schedule_kind(viewer):
        await query.answer(STALE, show_alert=True)
        return
    field, value = parts[0], parts[2]
    try:
        if field == "day" and value.isdigit() and 0 <= int(value) <= 7:
            prefs = await digest.set_schedule(
                context.db, context.clock, actor=viewer, kind=kind, day=int(value)
            )
        elif field == "time" and value.isdigit() and len(value) == 4:
            hours, minutes = int(value[:2]), int(value[2:])
            if hours > 23 or minutes > 59:
                raise DomainError(STALE)
            prefs = await digest.set_schedule(
                context.db, context.clock, actor=viewer, kind=kind, time=dt.time(hours, minutes)
            )
        else:
            await query.answer(STALE, show_alert=True)
            return
    except DomainError as exc:
        await query.answer(str(exc)[:200], show_alert=True)
        return
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
        (CallbackQueryHandler(pressed_period, pattern=rf"^{PREFIX}:[to]:", block=False), 0),
        (CallbackQueryHandler(open_schedule, pattern=rf"^{PREFIX}:cfg$"), 0),
        (CallbackQueryHandler(change_schedule, pattern=rf"^{PREFIX}:(day|time):"), 0),
    ]
