"""Buttons on step reminders: open, snooze, reschedule, cancel (Done — log it is the log flow)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.services import dates, steps
from bot.services.errors import DomainError
from bot.telegram.context import NextStepContext
from bot.timefmt import format_moment
from bot.views.agenda import next_step_keyboard, step_keyboard
from bot.views.callback_data import parse_id
from bot.views.keyboards import button, grid, keyboard
from bot.views.render import escape, render
from handlers.common import edit, flow_fallbacks, reply
from handlers.flow import Flow

RESCHEDULE, CANCEL_REASON = range(20, 22)
SNOOZES = (("15 min", "15m"), ("1 hour", "1h"), ("Tomorrow morning", "tomorrow"))
QUICK = (("Tomorrow 10:00", "tom10"), ("In 3 days", "3d"), ("Next Monday", "mon"))
NOT_VALID = "That button is not valid any more."
KEY = "step"


def _parts(update: Update) -> tuple[str, int | None, str | None]:
    query = update.callback_query
    assert query is not None and query.data is not None
    parts = query.data.split(":")
    if len(parts) not in (3, 4) or parts[0] != "st":
        return "", None, None
    return parts[1], parse_id(parts[2]), parts[3] if len(parts) == 4 else None


async def _view(update: Update, context: NextStepContext, step_id: int | None):  # type: ignore[no-untyped-def]
    """The step, if the person may act on it and it is still open; else answer why not."""
    query = update.callback_query
    assert query is not None
    if step_id is None:
        await query.answer(NOT_VALID, show_alert=True)
        return None
    try:
        view = await steps.get_step_view(
            context.db, context.clock, actor=context.member, step_id=step_id
        )
        steps.require_open(view.step)
    except DomainError as exc:
        await query.answer(str(exc)[:200], show_alert=True)
        return None
    return view


async def open_step(update: Update, context: NextStepContext) -> int:
    """A step's card with its actions."""
    _, step_id, _ = _parts(update)
    view = await _view(update, context, step_id)
    if view is None:
        return ConversationHandler.END
    await update.callback_query.answer()  # type: ignore[union-attr]
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
    _, step_id, _ = _parts(update)
    view = await _view(update, context, step_id)
    if view is None:
        return ConversationHandler.END
    query = update.callback_query
    assert query is not None
    await query.answer()
    buttons = [button(label, "st", "sz", view.step.id, code) for label, code in SNOOZES]
    await query.edit_message_reply_markup(keyboard([buttons]))
    return ConversationHandler.END


async def snooze(update: Update, context: NextStepContext) -> int:
    """A snooze length was chosen."""
    query = update.callback_query
    assert query is not None
    _, step_id, code = _parts(update)
    if step_id is None or code not in {c for _, c in SNOOZES}:
        await query.answer(NOT_VALID, show_alert=True)
        return ConversationHandler.END
    try:
        step = await steps.snooze_step(
            context.db, context.clock, actor=context.member, step_id=step_id, code=code
        )
    except DomainError as exc:
        await query.answer(str(exc)[:200], show_alert=True)
        return ConversationHandler.END
    await query.answer("Snoozed.")
    user = context.member
    shown = format_moment(step.due_at, user.timezone, user.locale)
    await edit(query, f"💤 Snoozed: I'll remind you again on <b>{escape(shown)}</b>.")
    return ConversationHandler.END


async def ask_reschedule(update: Update, context: NextStepContext) -> int:
    """ "Reschedule": quick picks or a typed time, as when scheduling."""
    _, step_id, _ = _parts(update)
    view = await _view(update, context, step_id)
    if view is None:
        return ConversationHandler.END
    query = update.callback_query
    assert query is not None
    await query.answer()
    assert context.user_data is not None
    context.user_data[KEY] = {"step_id": view.step.id}
    buttons = [button(label, "st", "rq", view.step.id, code) for label, code in QUICK]
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
    query = update.callback_query
    assert query is not None
    _, step_id, code = _parts(update)
    if step_id is None or code not in {c for _, c in QUICK}:
        await query.answer(NOT_VALID, show_alert=True)
        return ConversationHandler.END
    await query.answer()
    user = context.member
    due = dates.quick_due(code, now=context.clock.now(), timezone=user.timezone)
    return await _reschedule(update, context, step_id, due)


async def typed_reschedule(update: Update, context: NextStepContext) -> int:
    """A typed new due time."""
    message = update.effective_message
    assert message is not None and context.user_data is not None
    user = context.member
    step_id = int(context.user_data.get(KEY, {}).get("step_id", 0))
    try:
        due = dates.parse_due(
            message.text or "",
            now=context.clock.now(),
            timezone=user.timezone,
            locale=user.locale,
        )
    except DomainError as exc:
        await reply(update, escape(str(exc)))
        return RESCHEDULE
    return await _reschedule(update, context, step_id, due)


async def _reschedule(update: Update, context: NextStepContext, step_id: int, due) -> int:  # type: ignore[no-untyped-def]
    try:
        step = await steps.reschedule_step(
            context.db, context.clock, actor=context.member, step_id=step_id, due_at=due
        )
    except DomainError as exc:
        await reply(update, escape(str(exc)))
        return RESCHEDULE if "past" in str(exc) or "year" in str(exc) else ConversationHandler.END
    user = context.member
    shown = format_moment(step.due_at, user.timezone, user.locale)
    await reply(update, f"🗓 Rescheduled to <b>{escape(shown)}</b> ({escape(user.timezone)}).")
    return ConversationHandler.END


async def ask_cancel(update: Update, context: NextStepContext) -> int:
    """ "Cancel step": a reason first, then a new step or a closure."""
    _, step_id, _ = _parts(update)
    view = await _view(update, context, step_id)
    if view is None:
        return ConversationHandler.END
    await update.callback_query.answer()  # type: ignore[union-attr]
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
    try:
        contact_id = await steps.cancel_step(
            context.db,
            context.clock,
            actor=context.member,
            step_id=step_id,
            reason=message.text or "",
        )
    except DomainError as exc:
        await reply(update, escape(str(exc)))
        return CANCEL_REASON if "reason" in str(exc).lower() else ConversationHandler.END
    context.user_data.pop(KEY, None)
    await reply(
        update,
        "Step cancelled. <b>What happens with the client instead?</b> Choose a new step or a "
        "closure:",
        reply_markup=next_step_keyboard(contact_id),
    )
    return ConversationHandler.END


def handlers() -> list[tuple[object, int]]:
    """Step buttons; rescheduling and cancelling wait for typed text, so they are a flow."""
    text = filters.TEXT & ~filters.COMMAND
    buttons = [
        CallbackQueryHandler(open_step, pattern=r"^st:open:"),
        CallbackQueryHandler(ask_snooze, pattern=r"^st:snz:"),
        CallbackQueryHandler(snooze, pattern=r"^st:sz:"),
        CallbackQueryHandler(ask_reschedule, pattern=r"^st:rs:"),
        CallbackQueryHandler(quick_reschedule, pattern=r"^st:rq:"),
        CallbackQueryHandler(ask_cancel, pattern=r"^st:cx:"),
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
