"""Buttons on step reminders: open, snooze, reschedule, cancel (Done — log it is the log flow)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.services import dates, schedule, steps
from bot.services.steps import StepView
from bot.telegram.context import NextStepContext
from bot.timefmt import format_moment
from bot.views.actions import (
    STEP_CANCEL,
    STEP_OPEN,
    STEP_RESCHEDULE,
    STEP_RESCHEDULE_QUICK,
    STEP_SNOOZE,
    STEP_SNOOZE_MENU,
)
from bot.views.agenda import next_step_keyboard, step_keyboard
from bot.views.callback_data import Action
from bot.views.keyboards import button, grid, keyboard
from bot.views.render import escape, html, render
from handlers.common import edit, flow_fallbacks, on_refusal, pressed, query_of, reply, set_buttons
from handlers.flow import Flow

RESCHEDULE, CANCEL_REASON = range(20, 22)
SNOOZES = (("15 min", "15m"), ("1 hour", "1h"), ("Tomorrow morning", "tomorrow"))
QUICK = (("Tomorrow 10:00", "tom10"), ("In 3 days", "3d"), ("Next Monday", "mon"))
KEY = "step"


async def _view(update: Update, context: NextStepContext, action: Action) -> StepView | None:
    """The pressed `st:<action>:<step id>` button's step, if the person may act on it and it
    is still open (a service refusal is answered centrally); None for invalid data."""
    values = await pressed(update, action)
    if values is None:
        return None
    view = await steps.get_step_view(
        context.db, context.clock, actor=context.member, step_id=values[0]
    )
    steps.require_open(view.step, client_name=view.client_name, actor=context.member)
    return view


async def _client_of(context: NextStepContext, step_id: int) -> str:
    """The name of the step's client, for a confirmation that names it (access was checked
    by the service that just changed the step)."""
    view = await steps.step_view(context.db, step_id)
    return view.client_name if view is not None else "The client"


async def open_step(update: Update, context: NextStepContext) -> int:
    """A step's card with its actions."""
    view = await _view(update, context, STEP_OPEN)
    if view is None:
        return ConversationHandler.END
    await query_of(update).answer()
    user = context.member
    text = render(
        "texts/step_card.html.j2",
        v=view,
        due=format_moment(view.step.due_at, user.timezone, user.locale),
    )
    await reply(update, text, reply_markup=step_keyboard(view.step.id))
    return ConversationHandler.END


async def ask_snooze(update: Update, context: NextStepContext) -> int:
    """ "Snooze": offer 15 min / 1 hour / tomorrow morning."""
    view = await _view(update, context, STEP_SNOOZE_MENU)
    if view is None:
        return ConversationHandler.END
    query = query_of(update)
    await query.answer()
    buttons = [button(label, STEP_SNOOZE, view.step.id, code) for label, code in SNOOZES]
    await set_buttons(query, keyboard([buttons]))
    return ConversationHandler.END


async def snooze(update: Update, context: NextStepContext) -> int:
    """A snooze length was chosen."""
    values = await pressed(update, STEP_SNOOZE)
    if values is None:
        return ConversationHandler.END
    step_id, code = values
    step = await steps.snooze_step(
        context.db, context.clock, actor=context.member, step_id=step_id, code=code
    )
    query = query_of(update)
    await query.answer("Snoozed.")
    user = context.member
    shown = format_moment(step.due_at, user.timezone, user.locale)
    client = await _client_of(context, step.id)
    await edit(
        query,
        html(
            "💤 {client}: I'll remind you about the {kind} again <b>{shown}</b>.",
            client=client,
            kind=step.kind.value,
            shown=shown,
        ),
    )
    return ConversationHandler.END


async def ask_reschedule(update: Update, context: NextStepContext) -> int:
    """ "Reschedule": quick picks or a typed time, as when scheduling."""
    view = await _view(update, context, STEP_RESCHEDULE)
    if view is None:
        return ConversationHandler.END
    await query_of(update).answer()
    assert context.user_data is not None
    context.user_data[KEY] = {"step_id": view.step.id}
    buttons = [button(label, STEP_RESCHEDULE_QUICK, view.step.id, code) for label, code in QUICK]
    await reply(
        update,
        f"Move the {escape(view.step.kind.value)} with {escape(view.client_name)} to when? "
        "Tap a button or type a time: <code>fri 15:00</code>, <code>next week</code>, "
        "<code>1 Dec 14:30</code>.",
        reply_markup=keyboard(grid(buttons, 2)),
    )
    return RESCHEDULE


async def quick_reschedule(update: Update, context: NextStepContext) -> int:
    """A quick reschedule button."""
    values = await pressed(update, STEP_RESCHEDULE_QUICK)
    if values is None:
        return ConversationHandler.END
    step_id, code = values
    await query_of(update).answer()
    user = context.member
    due = schedule.on_a_working_day(
        dates.quick_due(code, now=context.clock.now(), timezone=user.timezone), user
    )  # "In 3 days" on a Thursday: Monday, not Sunday
    return await _reschedule(update, context, step_id, due)


async def typed_reschedule(update: Update, context: NextStepContext) -> int:
    """A typed new due time."""
    message = update.effective_message
    assert message is not None and context.user_data is not None
    user = context.member
    step_id = int(context.user_data.get(KEY, {}).get("step_id", 0))
    due = dates.parse_due(  # refused: answered centrally, the question stays open
        message.text or "",
        now=context.clock.now(),
        timezone=user.timezone,
        locale=user.locale,
    )
    return await _reschedule(update, context, step_id, due)


async def _reschedule(
    update: Update, context: NextStepContext, step_id: int, due: dt.datetime
) -> int:
    # A time in the past (or over a year ahead) is asked for again; else the question ends.
    with on_refusal(ConversationHandler.END, staying=(dates.UnsuitableTime,)):
        step = await steps.reschedule_step(
            context.db, context.clock, actor=context.member, step_id=step_id, due_at=due
        )
    user = context.member
    shown = format_moment(step.due_at, user.timezone, user.locale)
    await reply(
        update,
        html(
            "🗓 {client}: the {kind} is rescheduled to <b>{shown}</b> ({zone}).",
            client=await _client_of(context, step.id),
            kind=step.kind.value,
            shown=shown,
            zone=user.timezone,
        ),
    )
    return ConversationHandler.END


async def ask_cancel(update: Update, context: NextStepContext) -> int:
    """ "Cancel step": a reason first, then a new step or a closure."""
    view = await _view(update, context, STEP_CANCEL)
    if view is None:
        return ConversationHandler.END
    await query_of(update).answer()
    assert context.user_data is not None
    context.user_data[KEY] = {"step_id": view.step.id}
    await reply(
        update,
        f"Why cancel the {escape(view.step.kind.value)} with {escape(view.client_name)}? "
        "Send the reason in a few words.",
    )
    return CANCEL_REASON


async def typed_cancel_reason(update: Update, context: NextStepContext) -> int:
    """The reason: cancel, then ask what happens with the client instead."""
    message = update.effective_message
    assert message is not None and context.user_data is not None
    step_id = int(context.user_data.get(KEY, {}).get("step_id", 0))
    # A missing (or too long) reason is asked for again; else the question ends.
    with on_refusal(ConversationHandler.END, staying=(steps.ReasonNeeded,)):
        contact_id = await steps.cancel_step(
            context.db,
            context.clock,
            actor=context.member,
            step_id=step_id,
            reason=message.text or "",
        )
    context.user_data.pop(KEY, None)
    view = await steps.step_view(context.db, step_id)
    client = view.client_name if view is not None else "the client"
    kind = view.step.kind.value if view is not None else "step"
    if contact_id is None:  # the client's latest contact still has another step open
        await reply(
            update,
            html(
                "✖️ {client}: the {kind} is cancelled. Their other open steps stay as they are.",
                client=client,
                kind=kind,
            ),
        )
        return ConversationHandler.END
    await reply(
        update,
        html(
            "✖️ {client}: the {kind} is cancelled. <b>What happens with {client} instead?</b> "
            "Choose a new step or a closure:",
            client=client,
            kind=kind,
        ),
        reply_markup=next_step_keyboard(contact_id),
    )
    return ConversationHandler.END


def handlers() -> list[tuple[object, int]]:
    """Step buttons; rescheduling and cancelling wait for typed text, so they are a flow."""
    text = filters.TEXT & ~filters.COMMAND
    buttons: list[BaseHandler[Any, Any, Any]] = [
        CallbackQueryHandler(open_step, pattern=STEP_OPEN.pattern),
        CallbackQueryHandler(ask_snooze, pattern=STEP_SNOOZE_MENU.pattern),
        CallbackQueryHandler(snooze, pattern=STEP_SNOOZE.pattern),
        CallbackQueryHandler(ask_reschedule, pattern=STEP_RESCHEDULE.pattern),
        CallbackQueryHandler(quick_reschedule, pattern=STEP_RESCHEDULE_QUICK.pattern),
        CallbackQueryHandler(ask_cancel, pattern=STEP_CANCEL.pattern),
    ]
    conversation = Flow(
        name="step",
        entry_points=buttons,
        states={
            RESCHEDULE: [MessageHandler(text, typed_reschedule), *buttons],
            CANCEL_REASON: [MessageHandler(text, typed_cancel_reason), *buttons],
        },
        fallbacks=flow_fallbacks(),
    )
    return [(conversation, 0)]
