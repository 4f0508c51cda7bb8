"""/digest: the team's week for heads (this week so far, last week, or `/digest 2026-W47`)
as a one-screen summary with drill-down buttons, a manager's own "Your week"; and the
digest's schedule buttons from /settings (the `dg` actions of bot/views/actions.py).

Every drill-down button names its week and is re-checked here: a head or admin sees the
team, a manager only their own week (a team button or another manager's is refused
politely). Pressing edits the message in place; the chart and the spreadsheet come as new
messages, made when pressed by the worker processes. A refusal (DomainError) is answered
by the error handler."""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Chat, Update
from telegram.constants import ChatAction
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.services.digest import figures as digest
from bot.services.digest.figures import Week
from bot.services.model import DigestKind, Role, User
from bot.telegram.context import NextStepContext
from bot.views.actions import (
    DIGEST_CHART,
    DIGEST_DAY,
    DIGEST_FILE,
    DIGEST_PERIOD,
    DIGEST_PERSON,
    DIGEST_SCHEDULE,
    DIGEST_SECTION,
    DIGEST_SUMMARY,
    DIGEST_TIME,
)
from bot.views.callback_data import any_of
from bot.views.digest import (
    back_keyboard,
    period_keyboard,
    person_keyboard,
    render_discipline,
    render_person,
    render_receivables,
    render_summary,
    schedule_keyboard,
    schedule_text,
    summary_keyboard,
    team_timezone,
)
from bot.workers.digest import Part, chart_maker, make_workbook, plan_parts, prestart
from handlers.common import edit, pressed, query_of, reply, showing_action

logger = logging.getLogger(__name__)

STALE = "That button is not valid any more."
ASK_PERIOD = (
    "📊 <b>Team digest</b>: which week? For an earlier one send its number, "
    "e.g. <code>/digest {example}</code>."
)
SCOPES = {"t": DigestKind.TEAM, "o": DigestKind.OWN}
PERIODS = {"this": 0, "last": -1}


async def _send_part(chat: Chat, update: Update, part: Part) -> None:
    if part.kind == "text":
        await reply(update, part.text, reply_markup=part.markup)
    elif part.kind == "photo":
        await chat.send_photo(part.content, caption=part.text, filename=part.filename)
    else:
        await chat.send_document(part.content, caption=part.text, filename=part.filename)


async def _send(update: Update, context: NextStepContext, kind: DigestKind, week: Week) -> None:
    """Build and send a digest into the chat: the summary (or "Your week"), then the chart."""
    chat = update.effective_chat
    assert chat is not None
    await chat.send_chat_action(ChatAction.TYPING)
    makers = await plan_parts(context.db, context.clock, context.member, kind, week)
    for make in makers:
        await _send_part(chat, update, await make())


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
        prestart()  # the chart's workers start while the head chooses
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


# --- The summary's drill-down ---------------------------------------------------------------


def _week(context: NextStepContext, iso: str, now: dt.datetime) -> Week:
    """The week a button names; one that has not begun is refused (forged data)."""
    return digest.week_for_request(iso, now=now, timezone=team_timezone(context.settings))


async def pressed_summary(update: Update, context: NextStepContext) -> None:
    """« Summary, or another page of the managers' buttons: the summary, in place."""
    values = await pressed(update, DIGEST_SUMMARY)
    if values is None:
        return
    iso, page = values
    viewer = context.member
    digest.require_team_view(viewer)
    now = context.clock.now()
    figures = await digest.build_team_digest(context.db, week=_week(context, iso, now), now=now)
    await query_of(update).answer()
    await edit(query_of(update), render_summary(figures, viewer), summary_keyboard(figures, page))


async def pressed_section(update: Update, context: NextStepContext) -> None:
    """Receivables or Discipline, in place of the summary."""
    values = await pressed(update, DIGEST_SECTION)
    if values is None:
        return
    section, iso = values
    viewer = context.member
    digest.require_team_view(viewer)
    now = context.clock.now()
    week = _week(context, iso, now)
    query = query_of(update)
    if section == "rcv":
        figures = await digest.build_team_digest(context.db, week=week, now=now)
        text = render_receivables(figures, viewer)
    else:
        section_figures = await digest.build_discipline(context.db, week=week, now=now)
        text = render_discipline(section_figures, viewer)
    await query.answer()
    await edit(query, text, back_keyboard(week))


async def pressed_person(update: Update, context: NextStepContext) -> None:
    """A manager's button: their week on one screen with their open items (a head sees any
    manager's; a manager only their own)."""
    values = await pressed(update, DIGEST_PERSON)
    if values is None:
        return
    iso, manager_id, page = values
    viewer = context.member
    manager = await digest.person_for_view(context.db, viewer, manager_id)
    now = context.clock.now()
    week = _week(context, iso, now)
    summary = await digest.build_own_summary(context.db, manager=manager, week=week, now=now)
    own = manager.telegram_id == viewer.telegram_id and not digest.may_see_team(viewer)
    query = query_of(update)
    await query.answer()
    await edit(
        query,
        render_person(summary, viewer, own=own),
        person_keyboard(summary, viewer, own=own, page=page),
    )


async def pressed_chart(update: Update, context: NextStepContext) -> None:
    """📊 Chart: drawn now by a worker process, sent as a photo."""
    values = await pressed(update, DIGEST_CHART)
    if values is None:
        return
    viewer = context.member
    digest.require_team_view(viewer)
    now = context.clock.now()
    week = _week(context, values[0], now)
    query = query_of(update)
    await query.answer("Drawing the chart…")
    chat = update.effective_chat
    assert chat is not None
    async with showing_action(chat, ChatAction.UPLOAD_PHOTO):
        figures = await digest.build_team_digest(context.db, week=week, now=now)
        part = await chart_maker(figures, viewer)()
    await _send_part(chat, update, part)


async def pressed_file(update: Update, context: NextStepContext) -> None:
    """📎 Spreadsheet (.xlsx): the week's data, made when pressed by a worker process (the
    team's for a head, one's own for a manager), "sending a file…" shown meanwhile."""
    values = await pressed(update, DIGEST_FILE)
    if values is None:
        return
    scope, iso = values
    viewer = context.member
    own = SCOPES[scope] is DigestKind.OWN
    if not own:
        digest.require_team_view(viewer)
    now = context.clock.now()
    week = _week(context, iso, now)
    query = query_of(update)
    await query.answer("Making the spreadsheet…")
    chat = update.effective_chat
    assert chat is not None
    async with showing_action(chat, ChatAction.UPLOAD_DOCUMENT):
        part = await make_workbook(context.db, viewer, week, own=own)
    await _send_part(chat, update, part)


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
    # Building a digest takes a moment (the figures, the chart, the spreadsheet): block=False
    # lets the bot go on answering everyone else meanwhile.
    drill_down = (
        (pressed_summary, DIGEST_SUMMARY),
        (pressed_section, DIGEST_SECTION),
        (pressed_person, DIGEST_PERSON),
        (pressed_chart, DIGEST_CHART),
        (pressed_file, DIGEST_FILE),
    )
    return [
        (CommandHandler("digest", show_digest, block=False), 0),
        (CallbackQueryHandler(pressed_period, pattern=DIGEST_PERIOD.pattern, block=False), 0),
        *(
            (CallbackQueryHandler(callback, pattern=action.pattern, block=False), 0)
            for callback, action in drill_down
        ),
        (CallbackQueryHandler(open_schedule, pattern=DIGEST_SCHEDULE.pattern), 0),
        (CallbackQueryHandler(change_schedule, pattern=any_of(DIGEST_DAY, DIGEST_TIME)), 0),
    ]
