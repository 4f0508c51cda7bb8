"""The phone's calendar: 📅 Add to calendar (a step's .ics, or a client's open steps),
/calendar (the personal feed link, 🔄 New link, a lead's team option) and the event lengths
under /settings (📅 Calendar events; a length tapped or typed).

Every press names its step or client by id: the services re-check that the person may act
on it (and audit a refusal), which the error handler answers.
"""

from __future__ import annotations

from telegram import InputFile, Update
from telegram.constants import ChatAction
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.services import calendar
from bot.services.calendar import CalendarFile
from bot.telegram.context import NextStepContext
from bot.views import calendar as views
from bot.views.actions import (
    CALENDAR_CLIENT,
    CALENDAR_LENGTH,
    CALENDAR_LENGTHS,
    CALENDAR_NEW_LINK,
    CALENDAR_STEP,
    CALENDAR_TEAM,
)
from handlers.common import (
    edit,
    flow_fallbacks,
    hint,
    message_text,
    pressed,
    query_of,
    reply,
    set_buttons,
)
from handlers.flow import Flow

TYPING_LENGTH = 1


async def _send(update: Update, made: CalendarFile) -> None:
    chat = update.effective_chat
    assert chat is not None
    await chat.send_action(ChatAction.UPLOAD_DOCUMENT)
    await chat.send_document(
        InputFile(made.content, filename=made.filename, attach=True),
        caption=made.caption,
        parse_mode=None,
    )


async def step_to_calendar(update: Update, context: NextStepContext) -> None:
    """📅 Add to calendar on a step's confirmation, reminder or card: its .ics file."""
    values = await pressed(update, CALENDAR_STEP)
    if values is None:
        return
    made = await calendar.step_file(
        context.db, context.clock, actor=context.member, step_id=values[0]
    )
    await query_of(update).answer()
    await _send(update, made)


async def client_to_calendar(update: Update, context: NextStepContext) -> None:
    """📅 Add to calendar on a client card: the client's open steps in one file."""
    values = await pressed(update, CALENDAR_CLIENT)
    if values is None:
        return
    made = await calendar.client_file(
        context.db, context.clock, actor=context.member, client_id=values[0]
    )
    await query_of(update).answer()
    await _send(update, made)


# --- /calendar -----------------------------------------------------------------------------


async def show_feed(update: Update, context: NextStepContext) -> None:
    """/calendar: a new link the first time; afterwards what the link lists and 🔄 New link
    (the link itself is never shown twice: only its hash is kept)."""
    user = context.member
    base = context.services.feed_url
    if base is None:
        await reply(update, views.FEED_OFF)
        return
    status = await calendar.feed_status(context.db, actor=user)
    if status.feed is not None:
        await reply(
            update,
            views.existing_link_text(status, user),
            reply_markup=views.feed_keyboard(status),
        )
        return
    made = await calendar.new_feed_link(context.db, context.clock, actor=user)
    await reply(
        update,
        views.new_link_text(calendar.feed_url(base, made.token), status, revoked_old=False),
        reply_markup=views.feed_keyboard(status),
    )


async def new_link(update: Update, context: NextStepContext) -> None:
    """🔄 New link: the old link stops working at once; the new one replaces the message."""
    if await pressed(update, CALENDAR_NEW_LINK) is None:
        return
    user = context.member
    query = query_of(update)
    base = context.services.feed_url
    if base is None:
        await query.answer()
        await edit(query, views.FEED_OFF)
        return
    made = await calendar.new_feed_link(context.db, context.clock, actor=user)
    status = await calendar.feed_status(context.db, actor=user)
    await query.answer("New link made; the old one no longer works.")
    await edit(
        query,
        views.new_link_text(
            calendar.feed_url(base, made.token), status, revoked_old=made.revoked_old
        ),
        views.feed_keyboard(status),
    )


async def team_option(update: Update, context: NextStepContext) -> None:
    """A lead's feed lists the team's steps too, or only their own (the link stays)."""
    values = await pressed(update, CALENDAR_TEAM)
    if values is None:
        return
    user = context.member
    await calendar.set_include_team(
        context.db, context.clock, actor=user, include=values[0] == "on"
    )
    status = await calendar.feed_status(context.db, actor=user)
    query = query_of(update)
    await query.answer(
        "Your feed now lists the team's steps too."
        if status.prefs.include_team
        else "Your feed now lists only your own steps."
    )
    # Only the buttons change: the message may be the one showing the link, which stays.
    await set_buttons(query, views.feed_keyboard(status))


# --- the event lengths (/settings → 📅 Calendar events) -------------------------------------


async def ask_lengths(update: Update, context: NextStepContext) -> int:
    """📅 Calendar events: the lengths by kind, to tap or type."""
    if await pressed(update, CALENDAR_LENGTHS) is None:
        return ConversationHandler.END
    query = query_of(update)
    await query.answer()
    user = context.member
    prefs = await calendar.get_prefs(context.db, actor=user)
    await edit(query, views.lengths_text(prefs, user), views.lengths_keyboard(prefs))
    return TYPING_LENGTH


async def chosen_length(update: Update, context: NextStepContext) -> int:
    """A length tapped: saved, and the card shows it (its buttons stay for another)."""
    values = await pressed(update, CALENDAR_LENGTH)
    if values is None:
        return ConversationHandler.END
    group, minutes = values
    user = context.member
    prefs = await calendar.set_duration(
        context.db, context.clock, actor=user, group=group, minutes=minutes
    )
    query = query_of(update)
    await query.answer("Saved.")
    await edit(
        query,
        "✅ Saved.\n\n" + views.lengths_text(prefs, user),
        views.lengths_keyboard(prefs),
    )
    return ConversationHandler.END


async def typed_length(update: Update, context: NextStepContext) -> int:
    """A typed length (`call 20`, `meeting 1.5 h`, `other 45 min`)."""
    user = context.member
    with hint("/cancel leaves the lengths as they are.", sep=" "):
        group, minutes = calendar.parse_duration(message_text(update))
        prefs = await calendar.set_duration(
            context.db, context.clock, actor=user, group=group, minutes=minutes
        )
    await reply(
        update,
        "✅ Saved.\n\n" + views.lengths_text(prefs, user),
        reply_markup=views.lengths_keyboard(prefs),
    )
    return ConversationHandler.END


def handlers() -> list[tuple[object, int]]:
    """The calendar's buttons and /calendar; the lengths as a flow (typed answers)."""
    text = filters.TEXT & ~filters.COMMAND
    length_buttons = [
        CallbackQueryHandler(ask_lengths, pattern=CALENDAR_LENGTHS.pattern),
        CallbackQueryHandler(chosen_length, pattern=CALENDAR_LENGTH.pattern),
    ]
    lengths = Flow(
        name="calendar_lengths",
        entry_points=list(length_buttons),
        states={TYPING_LENGTH: [MessageHandler(text, typed_length), *length_buttons]},
        fallbacks=flow_fallbacks(),
    )
    return [
        (CommandHandler("calendar", show_feed), 0),
        (CallbackQueryHandler(step_to_calendar, pattern=CALENDAR_STEP.pattern), 0),
        (CallbackQueryHandler(client_to_calendar, pattern=CALENDAR_CLIENT.pattern), 0),
        (CallbackQueryHandler(new_link, pattern=CALENDAR_NEW_LINK.pattern), 0),
        (CallbackQueryHandler(team_option, pattern=CALENDAR_TEAM.pattern), 0),
        (lengths, 0),
    ]
