"""Logging a call or meeting, and the next step it must end with.

Flow: client → kind → summary (saved at once as "needs next step") → which of the client's
open steps it completed, if that isn't clear → next step: a follow-up (kind → due time: a
tapped one is saved at once, a typed one read back for a tap; "📝 Add agenda" afterwards), a
closure (won / refused / not a target, with a reason where
required) or a pause until a date. A step near another open one asks "keep both or replace
it?", a pause asks whether the client's open steps stay. Every button carries the contact id,
so a button pressed after a restart, a timeout or from /agenda still acts on the right contact.
"""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.i18n import N_
from bot.i18n import gettext as _
from bot.services import (
    clients,
    contacts,
    dates,
    next_step_text,
    refusal_reasons,
    schedule,
    steps,
)
from bot.services.contacts import AlreadyResolved, StepChoice, StepExists, StepsOpenOnPause
from bot.services.errors import DomainError
from bot.services.model import Outcome, Step, StepKind, StepState
from bot.services.refusal_reasons import Preset
from bot.telegram.context import NextStepContext
from bot.timefmt import format_moment
from bot.views.actions import (
    LOG_CLIENT,
    LOG_COMPLETES,
    LOG_KIND,
    LOG_NEW,
    LOG_NEW_CLIENT,
    LOG_WHEN,
    LOGGED_AGENDA,
    LOGGED_EDIT,
    LOGGED_UNDO,
    NEXT_STEP_BACK,
    NEXT_STEP_CHOICE,
    NEXT_STEP_CONFIRM,
    NEXT_STEP_DUE,
    NEXT_STEP_KIND,
    NEXT_STEP_NO_AGENDA,
    NEXT_STEP_OTHERS,
    NEXT_STEP_REFUSAL,
    NEXT_STEP_REPLACE,
    STEP_DONE,
)
from bot.views.agenda import next_step_keyboard
from bot.views.calendar import add_button as add_to_calendar
from bot.views.keyboards import button, grid, keyboard
from bot.views.refusal_reasons import (
    OTHER_QUESTION,
    PRESET_LABELS,
    REASON_QUESTION,
    preset_words,
    reason_keyboard,
)
from bot.views.render import escape, kind_name, render
from bot.views.replies import contact_suggestion
from handlers.common import (
    NOT_VALID,
    clear_buttons,
    draft_of,
    edit,
    flow_fallbacks,
    message_text,
    new_draft,
    on_refusal,
    pressed,
    query_of,
    remember_source,
    reply,
)
from handlers.flow import Flow

(
    PICK_CLIENT,
    PICK_KIND,
    WHEN,
    SUMMARY,
    NEXT_STEP,
    STEP_KIND,
    DUE,
    AGENDA,
    REASON,
    EDIT,
    COMPLETES,
    OTHERS,
    NEW_NAME,
) = range(13)
DRAFT = "log"
CONTACT_KINDS = {  # labels marked for the catalogue, translated where shown
    "call": N_("📞 Call"),
    "meeting": N_("🤝 Meeting"),
    "email": N_("✉️ Email"),
    "message": N_("💬 Message"),
    "visit": N_("🚗 Visit"),
}
STEP_KINDS = {
    "call": N_("📞 Call"),
    "meeting": N_("🤝 Meeting"),
    "email": N_("✉️ Email"),
    "visit": N_("🚗 Visit"),
    "other": N_("📌 Other"),
}
FOLLOW_UP = N_("Follow-up")
PAUSE_QUESTION = N_("Pause until when? I'll bring the client back then.")
CLOSURES = {
    Outcome.WON: N_("🏆 Deal won"),
    Outcome.REFUSED: N_("🚫 Client refused"),
    Outcome.NOT_TARGET: N_("❌ Not a target"),
}
PAUSE_PICKS = ((N_("In 1 month"), "1m"), (N_("In 3 months"), "3m"), (N_("In 6 months"), "6m"))
WORKING_DAY_PICKS = frozenset({"tom10", "3d", "1m", "3m", "6m"})
"""Quick picks that name a day: moved off the person's days off."""
QUICK_DUE = (
    (N_("In 2 hours"), "2h"),
    (N_("Tomorrow 10:00"), "tom10"),
    (N_("In 3 days"), "3d"),
    (N_("Next Monday"), "mon"),
)


# --- drafts -------------------------------------------------------------------------------


def _message_id(update: Update) -> int | None:
    message = update.message
    return message.message_id if message is not None else None


# --- entry points -----------------------------------------------------------------------


async def start_log(update: Update, context: NextStepContext) -> int:
    """/log: choose a recent client or type a name to search."""
    new_draft(context, DRAFT)
    return await _ask_client(update, context, _("Who was the contact with?"))


async def _ask_client(
    update: Update, context: NextStepContext, prompt: str, query: str = ""
) -> int:
    page = await clients.search_clients(context.db, actor=context.member, query=query, limit=8)
    if query and not page.items:
        return await _offer_new_client(update, context, query)
    buttons = [button(item.client.name[:40], LOG_CLIENT, item.client.id) for item in page.items]
    hint = _("Tap a client or type a few letters of the name.")
    await reply(update, f"{prompt}\n{hint}", reply_markup=keyboard(grid(buttons, 2)))
    return PICK_CLIENT


async def _offer_new_client(
    update: Update, context: NextStepContext, name: str, prompt: str = ""
) -> int:
    """No client has that name: offer to create it and go on with the same log."""
    name = " ".join(name.split())[: clients.MAX_NAME]
    draft = draft_of(context, DRAFT)
    draft["new_name"] = name
    shown = escape(name[:100])
    lead = prompt or f"I found no client called “{shown}”."
    await reply(
        update,
        f"{lead}\nTap <b>➕ New client</b> to add it and go on with this log (phone, e-mail "
        "and contact person can be added later from its card), or type a few letters to "
        "search again.",
        reply_markup=keyboard(
            [
                [button(f"➕ New client “{name[:40]}”", LOG_NEW_CLIENT, "make")],
                [button("✏️ Another name", LOG_NEW_CLIENT, "rename")],
            ]
        ),
    )
    return PICK_CLIENT


async def chosen_new_client(update: Update, context: NextStepContext) -> int:
    """ "➕ New client “…”" (create it) or "✏️ Another name" (type it)."""
    values = await pressed(update, LOG_NEW_CLIENT)
    if values is None:
        return PICK_CLIENT
    query = query_of(update)
    name = draft_of(context, DRAFT).get("new_name")
    if not name:
        await query.answer("Already handled: that client was added.", show_alert=True)
        return PICK_CLIENT
    await query.answer()
    await clear_buttons(query)
    if values[0] == "rename":
        await reply(update, "Send the new client's name as it should appear on the card.")
        return NEW_NAME
    return await _create_client(update, context, str(name))


async def typed_new_name(update: Update, context: NextStepContext) -> int:
    """The new client's name, typed to correct the proposed one."""
    return await _create_client(update, context, message_text(update))


async def _create_client(update: Update, context: NextStepContext, name: str) -> int:
    draft = draft_of(context, DRAFT)
    with on_refusal(NEW_NAME):  # a bad name (empty, too long, the limit) is asked for again
        try:
            client = await clients.create_client(
                context.db,
                context.clock,
                actor=context.member,
                name=name,
                max_clients=context.settings.max_clients_per_manager,
            )
            notice = f"➕ New client <b>{escape(client.name)}</b> added."
        except clients.DuplicateClient as exc:
            client = (
                await clients.get_card(
                    context.db, context.clock, actor=context.member, client_id=exc.client_id
                )
            ).client
            notice = f"<b>{escape(client.name)}</b> is already a client: logging with it."
    proposed = str(draft.pop("new_name", ""))
    if draft.get("summary") and proposed and name != proposed:
        # "Zephyr" was proposed from "/call Zephyr Logistics discussed…" and corrected to
        # "Zephyr Logistics": the summary loses the name's words.
        typed = f"{proposed} {draft['summary']}"
        draft["summary"] = clients.split_new_name(typed, client.name)
    draft["client_id"] = client.id
    await reply(update, notice)
    return await _after_client(update, context)


NEW_CLIENT_WORDS = ("➕ new client", "new client", "+")


async def search_client(update: Update, context: NextStepContext) -> int:
    """Typed letters while choosing a client; "new client [name]" (or "+") adds one."""
    text = message_text(update).strip()
    for words in NEW_CLIENT_WORDS:
        if text.casefold().startswith(words):
            name = text[len(words) :].strip(" “”\"'") or draft_of(context, DRAFT).get("new_name")
            if name:
                return await _create_client(update, context, str(name))
            await reply(update, "Send the new client's name as it should appear on the card.")
            return NEW_NAME
    return await _ask_client(update, context, "Matching clients:", text)


async def start_quick(update: Update, context: NextStepContext) -> int:
    """`/call <client> <summary>` and `/meeting <client> <summary>`."""
    command = message_text(update).split(maxsplit=1)[0].lstrip("/").split("@")[0].lower()
    kind = "meeting" if command == "meeting" else "call"
    rest = " ".join(context.args or [])
    rest, next_text = next_step_text.split_next(rest)
    draft = new_draft(context, DRAFT, kind=kind)
    if next_text:
        draft["next_text"] = next_text
    if not rest:
        return await _ask_client(update, context, f"Logging a {kind}. Who was it with?")
    match = await clients.match_quick_log(context.db, actor=context.member, text=rest)
    if match.summary:
        draft["summary"] = match.summary
        draft["summary_message"] = _message_id(update)
    if len(match.clients) == 1:
        draft["client_id"] = match.clients[0].client.id
        return await _after_client(update, context)
    if not match.clients:
        return await _offer_new_client(update, context, match.name_text)
    buttons = [button(i.client.name[:40], LOG_CLIENT, i.client.id) for i in match.clients]
    await reply(
        update,
        f"Several clients match “{escape(match.name_text[:100])}”. Which one?",
        reply_markup=keyboard(grid(buttons, 2)),
    )
    return PICK_CLIENT


async def start_from_card(update: Update, context: NextStepContext) -> int:
    """ "Log call" / "Log meeting" on a client card: `log:new:<client id>:<kind>`."""
    values = await pressed(update, LOG_NEW)
    if values is None:
        return ConversationHandler.END
    client_id, kind = values
    card = await clients.get_card(
        context.db, context.clock, actor=context.member, client_id=client_id
    )
    await query_of(update).answer()
    new_draft(context, DRAFT, client_id=card.client.id, kind=kind)
    return await _after_client(update, context)


async def start_from_step(update: Update, context: NextStepContext) -> int:
    """ "Done — log it" on a step reminder: log the contact that completes the step."""
    values = await pressed(update, STEP_DONE)
    if values is None:
        return ConversationHandler.END
    view = await steps.get_step_view(
        context.db, context.clock, actor=context.member, step_id=values[0]
    )
    steps.require_open(view.step, client_name=view.client_name, actor=context.member)
    await query_of(update).answer()
    kind = view.step.kind.value
    draft = new_draft(context, DRAFT, client_id=view.step.client_id, completes=view.step.id)
    if kind in CONTACT_KINDS:
        draft["kind"] = kind
    return await _after_client(update, context)


async def start_forward(update: Update, context: NextStepContext) -> int:
    """A forwarded client message: attach it to a client as a "message" contact."""
    message = update.effective_message
    assert message is not None
    text = message_text(update).strip()
    if not text:
        await reply(update, "I can attach forwarded text messages only. Please forward a text.")
        return ConversationHandler.END
    new_draft(context, DRAFT, kind="message", summary=text[: contacts.MAX_SUMMARY])
    origin = message.forward_origin
    sender = None
    if origin is not None:
        user = getattr(origin, "sender_user", None)
        sender = (
            getattr(origin, "sender_user_name", None)
            or getattr(getattr(origin, "chat", None), "title", None)
            or (user.full_name if user is not None else None)
        )
        if user is not None and user.username:
            found = await clients.search_clients(
                context.db, actor=context.member, query=user.username, limit=8
            )
            if len(found.items) == 1:
                draft_of(context, DRAFT)["client_id"] = found.items[0].client.id
                return await _after_client(update, context)
    if sender:
        found = await clients.search_clients(
            context.db, actor=context.member, query=sender, limit=8
        )
        if found.items:
            buttons = [button(i.client.name[:40], LOG_CLIENT, i.client.id) for i in found.items]
            await reply(
                update,
                f"Attach this message from {escape(sender)} to which client?",
                reply_markup=keyboard(grid(buttons, 2)),
            )
            return PICK_CLIENT
    return await _ask_client(update, context, "Attach this forwarded message to which client?")


async def chosen_client(update: Update, context: NextStepContext) -> int:
    """A client button in the picker."""
    values = await pressed(update, LOG_CLIENT)
    if values is None:
        return PICK_CLIENT
    client_id = values[0]
    await clients.get_card(context.db, context.clock, actor=context.member, client_id=client_id)
    await query_of(update).answer()
    draft_of(context, DRAFT)["client_id"] = client_id
    return await _after_client(update, context)


async def _after_client(update: Update, context: NextStepContext) -> int:
    draft = draft_of(context, DRAFT)
    if "kind" not in draft:
        buttons = [button(_(label), LOG_KIND, kind) for kind, label in CONTACT_KINDS.items()]
        await reply(
            update, _("What kind of contact was it?"), reply_markup=keyboard(grid(buttons, 3))
        )
        return PICK_KIND
    if draft.get("summary"):
        return await _save_contact(update, context)
    return await _ask_summary(update, context)


async def chosen_kind(update: Update, context: NextStepContext) -> int:
    """Call / Meeting / Email / Message / Visit."""
    values = await pressed(update, LOG_KIND)
    if values is None:
        return PICK_KIND
    await query_of(update).answer()
    draft_of(context, DRAFT)["kind"] = values[0]
    return await _after_client(update, context)


async def _ask_summary(update: Update, context: NextStepContext) -> int:
    draft = draft_of(context, DRAFT)
    when = _("just now")
    if draft.get("happened_at"):
        user = context.member
        when = format_moment(
            dt.datetime.fromisoformat(draft["happened_at"]), user.timezone, user.locale
        )
    await reply(
        update,
        _("What happened? Send a short summary of the {kind} ({when}).").format(
            kind=escape(kind_name(str(draft["kind"]))), when=escape(when)
        ),
        reply_markup=keyboard([[button(_("⏱ It was earlier"), LOG_WHEN)]]),
    )
    return SUMMARY


async def ask_when(update: Update, context: NextStepContext) -> int:
    """ "It was earlier": ask for the time of the contact."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await reply(
        update,
        "When was it? For example <code>yesterday 15:00</code>, <code>today 9:30</code> or "
        "<code>2026-11-20 14:00</code>.",
    )
    return WHEN


async def typed_when(update: Update, context: NextStepContext) -> int:
    """The time of the contact, in natural language, in the person's zone."""
    user = context.member
    happened = dates.parse_happened(  # refused: answered centrally, the question stays open
        message_text(update),
        now=context.clock.now(),
        timezone=user.timezone,
        locale=user.locale,
    )
    draft_of(context, DRAFT)["happened_at"] = happened.isoformat()
    return await _ask_summary(update, context)


async def typed_summary(update: Update, context: NextStepContext) -> int:
    """The summary: save the contact now, then ask for its next step."""
    draft = draft_of(context, DRAFT)
    draft["summary"] = message_text(update)
    draft["summary_message"] = _message_id(update)
    return await _save_contact(update, context)


async def _save_contact(update: Update, context: NextStepContext) -> int:
    draft = draft_of(context, DRAFT)
    happened = draft.get("happened_at")
    summary = draft.pop("summary", "")  # refused, it is asked for again (one from /call too)
    with on_refusal(SUMMARY):
        contact = await contacts.log_contact(
            context.db,
            context.clock,
            actor=context.member,
            client_id=int(draft["client_id"]),
            kind=draft["kind"],
            summary=summary,
            happened_at=dt.datetime.fromisoformat(happened) if happened else None,
            completes=draft.get("completes", "due"),
        )
    if draft.get("summary_message"):
        remember_source(context, int(draft["summary_message"]), "summary", contact.id)
    next_text = draft.get("next_text")
    draft = new_draft(context, DRAFT, contact_id=contact.id)
    if next_text:
        draft["next_text"] = next_text
    open_steps = await contacts.steps_to_complete(
        context.db, context.clock, actor=context.member, contact_id=contact.id
    )
    if open_steps:
        return await _ask_completes(update, context, contact.id, open_steps)
    return await _after_completes(update, context, contact.id, saved=True)


async def _after_completes(
    update: Update, context: NextStepContext, contact_id: int, *, saved: bool, note: str = ""
) -> int:
    """On to the next step: the one typed with `/call … next: …`, else the question."""
    next_text = draft_of(context, DRAFT).pop("next_text", None)
    if next_text:  # `/call Acme discussed prices next: call Tuesday 15:00`
        if saved:
            logged = await contacts.describe_contact(
                context.db, context.clock, actor=context.member, contact_id=contact_id
            )
            note = _("Saved your {kind} with {client}.").format(
                kind=escape(kind_name(logged.contact.kind.value)),
                client=escape(logged.client_name),
            )
        if note:
            await reply(update, note)
        return await _understood(update, context, str(next_text))
    return await _ask_next_step(update, context, contact_id, saved=saved, note=note)


# --- which open step the contact completed ------------------------------------------------


async def _ask_completes(
    update: Update, context: NextStepContext, contact_id: int, open_steps: list[Step]
) -> int:
    logged = await contacts.describe_contact(
        context.db, context.clock, actor=context.member, contact_id=contact_id
    )
    user = context.member
    name = escape(logged.client_name)
    listed = [
        f"{number}. {escape(step.kind.value)} "
        f"{escape(format_moment(step.due_at, user.timezone, user.locale))}"
        for number, step in enumerate(open_steps[:8], start=1)
    ]
    buttons = [
        [button(f"✔️ {line}"[:60], LOG_COMPLETES, contact_id, step.id)]
        for line, step in zip(listed, open_steps[:8], strict=False)
    ]
    buttons.append([button("None — a separate contact", LOG_COMPLETES, contact_id, 0)])
    several = "one of these open steps" if len(open_steps) > 1 else "this open step"
    await reply(
        update,
        f"Saved your {escape(logged.contact.kind.value)} with {name}. "
        f"<b>Did it complete {several} of {name}?</b>\n"
        + "\n".join(listed)
        + "\nTap it (or send its number), or <code>none</code> if it was a separate contact.",
        reply_markup=keyboard(buttons),
    )
    return COMPLETES


async def _completed(
    update: Update, context: NextStepContext, step_id: int, *, note: str = ""
) -> int:
    """Record the answer to "which open step did it complete?" and go on to the next step."""
    contact_id = int(draft_of(context, DRAFT)["contact_id"])
    if step_id:
        with on_refusal(COMPLETES):  # done or moved meanwhile: the question is asked again
            done = await contacts.complete_with(
                context.db,
                context.clock,
                actor=context.member,
                contact_id=contact_id,
                step_id=step_id,
            )
        user = context.member
        when = format_moment(done.due_at, user.timezone, user.locale)
        note = f"✔️ Marked done: the {escape(done.kind.value)} due {escape(when)}."
    return await _after_completes(update, context, contact_id, saved=False, note=note)


async def chosen_completes(update: Update, context: NextStepContext) -> int:
    """A step (or "None — a separate contact") in the "which one did it complete?" question."""
    values = await pressed(update, LOG_COMPLETES)
    if values is None:
        return COMPLETES
    contact_id, step_id = values
    query = query_of(update)
    if int(draft_of(context, DRAFT).get("contact_id", 0)) != contact_id:
        await query.answer("Already handled: that question was answered.", show_alert=True)
        return COMPLETES
    await query.answer()
    await clear_buttons(query)
    return await _completed(update, context, step_id)


NO_STEP_WORDS = frozenset({"none", "no", "neither", "separate", "nothing", "0", "-"})


async def typed_completes(update: Update, context: NextStepContext) -> int:
    """The answer typed: a step's number, its kind ("meeting"), or "none"."""
    contact_id = int(draft_of(context, DRAFT).get("contact_id", 0))
    open_steps = await contacts.steps_to_complete(
        context.db, context.clock, actor=context.member, contact_id=contact_id
    )
    text = message_text(update).strip().lower().rstrip(".!")
    words = set(text.replace(",", " ").split())
    if not open_steps or words & NO_STEP_WORDS or "separate" in text:
        return await _completed(update, context, 0)
    chosen = [
        step
        for number, step in enumerate(open_steps, start=1)
        if text.lstrip("#") == str(number) or (len(words) <= 2 and step.kind.value in words)
    ]
    if len(open_steps) == 1 and words & {"yes", "yep", "done", "it", "yeah", "y"}:
        chosen = open_steps
    if len(chosen) == 1:
        return await _completed(update, context, chosen[0].id)
    if not text.lstrip("#").isdigit() and len(words) > 1:
        # Not an answer but the next step itself ("meeting next friday 15:00"): the contact
        # completed none of them, and the text goes on as its next step.
        draft_of(context, DRAFT)["next_text"] = message_text(update)
        return await _completed(update, context, 0, note="Taken as a separate contact.")
    numbers = f"1–{len(open_steps)}" if len(open_steps) > 1 else "1"
    await reply(
        update,
        f"Which one did it complete? Send its number ({numbers}), or <code>none</code> if it "
        "was a separate contact.",
    )
    return COMPLETES


# --- the next step -----------------------------------------------------------------------


async def _ask_next_step(
    update: Update,
    context: NextStepContext,
    contact_id: int,
    *,
    saved: bool = False,
    note: str = "",
) -> int:
    logged = await contacts.describe_contact(
        context.db, context.clock, actor=context.member, contact_id=contact_id
    )
    values = {
        "kind": escape(kind_name(logged.contact.kind.value)),
        "client": escape(logged.client_name),
    }
    question = (
        _(
            "Saved your {kind} with {client}. <b>What is the next step?</b> Every contact ends "
            "with a follow-up or a closure (tap, or type it: <code>call fri 15:00</code>, "
            "<code>won</code>, <code>refused: price</code>)."
        )
        if saved
        else _(
            "About your {kind} with {client}: <b>What is the next step?</b> Every contact ends "
            "with a follow-up or a closure (tap, or type it: <code>call fri 15:00</code>, "
            "<code>won</code>, <code>refused: price</code>)."
        )
    ).format(**values)
    await reply(
        update,
        f"{note}\n{question}" if note else question,
        reply_markup=next_step_keyboard(contact_id),
    )
    return NEXT_STEP


async def chosen_next_step(update: Update, context: NextStepContext) -> int:
    """One of the next-step buttons (also works from /agenda and after a restart)."""
    values = await pressed(update, NEXT_STEP_CHOICE)
    if values is None:
        return ConversationHandler.END
    action, contact_id = values
    contact = await contacts.get_pending_contact(
        context.db, context.clock, actor=context.member, contact_id=contact_id
    )
    query = query_of(update)
    await query.answer()
    draft = new_draft(context, DRAFT, contact_id=contact.id)
    if action == "menu":
        return await _ask_next_step(update, context, contact.id)
    if action == "follow":
        buttons = [button(_(label), NEXT_STEP_KIND, kind) for kind, label in STEP_KINDS.items()]
        await edit(query, _("What kind of follow-up?"), keyboard(grid(buttons, 3)))
        return STEP_KIND
    if action == "won":
        return await _close(update, context, Outcome.WON, None)
    if action == "pause":
        draft["pause"] = True
        return await _ask_due(update, context, _(PAUSE_QUESTION))
    draft["outcome"] = Outcome.REFUSED.value if action == "refused" else Outcome.NOT_TARGET.value
    if action == "refused":  # a preset reason tapped, or the words typed
        await edit(query, REASON_QUESTION, reason_keyboard(contact.id))
        return REASON
    await edit(query, "Why not a target? Send the reason in a few words.")
    return REASON


async def chosen_refusal_reason(update: Update, context: NextStepContext) -> int:
    """A preset reason of "🚫 Client refused" (its words kept as the reason); "✏️ Other" asks
    for the words."""
    values = await pressed(update, NEXT_STEP_REFUSAL)
    if values is None:
        return ConversationHandler.END
    code, contact_id = values
    contact = await contacts.get_pending_contact(
        context.db, context.clock, actor=context.member, contact_id=contact_id
    )
    query = query_of(update)
    await query.answer()
    new_draft(context, DRAFT, contact_id=contact.id, outcome=Outcome.REFUSED.value)
    preset = Preset(code)
    if preset is Preset.OTHER:
        await edit(query, OTHER_QUESTION)
        return REASON
    await edit(query, f"🚫 Client refused: {escape(preset_words(preset))}.")
    return await _close(update, context, Outcome.REFUSED, preset_words(preset), preset.value)


async def typed_next_step(update: Update, context: NextStepContext) -> int:
    """The next step typed instead of tapped ("meeting fri 15:00", "won", "refused: price",
    "pause until March"): read back for one tap, or the missing part asked for."""
    if "contact_id" not in draft_of(context, DRAFT):
        return ConversationHandler.END
    return await _understood(update, context, message_text(update))


async def _understood(update: Update, context: NextStepContext, text: str) -> int:
    """Read a typed next step for the draft's contact and read it back (or ask what's missing)."""
    draft = draft_of(context, DRAFT)
    user = context.member
    known = draft.get("step_kind")
    typed = next_step_text.understand_next_step(
        text,
        now=context.clock.now(),
        timezone=user.timezone,
        locale=user.locale,
        kind=StepKind(known) if known else None,
    )
    if isinstance(typed, next_step_text.NeedsDetail):
        return await _ask_missing(update, context, typed)
    if typed.outcome is Outcome.SCHEDULED:
        assert typed.kind is not None and typed.due_at is not None
        # Typed in one go, it is saved on the confirming tap: no separate agenda question.
        draft.update(step_kind=typed.kind.value, agenda=typed.agenda, typed=True)
        return await _confirm_due(update, context, typed.due_at)
    if typed.outcome is Outcome.PAUSED:
        assert typed.until is not None
        draft["pause"] = True
        return await _confirm_due(
            update, context, dates.local_to_utc(typed.until, dates.DEFAULT_TIME, user.timezone)
        )
    draft["outcome"] = typed.outcome.value
    if typed.outcome is Outcome.REFUSED and not typed.reason:
        await reply(
            update, REASON_QUESTION, reply_markup=reason_keyboard(int(draft["contact_id"]))
        )
        return REASON
    if typed.outcome is Outcome.NOT_TARGET and not typed.reason:
        await reply(update, "Why not a target? Send the reason in a few words.")
        return REASON
    draft["reason"] = typed.reason
    label = _(CLOSURES[typed.outcome])  # the same words as the buttons (bot/views/agenda.py)
    reason = f": {escape(typed.reason)}" if typed.reason else ""
    preset = refusal_reasons.read_preset(typed.preset)
    if preset is not None:  # `refused: too expensive` is counted under 💰 Price
        draft["preset"] = preset.value
        reason += f". Reason: {escape(PRESET_LABELS[preset])}"
    await reply(
        update,
        f"{label}{reason}. Close the contact like this?",
        reply_markup=keyboard(
            [
                [
                    button("✅ Confirm", NEXT_STEP_CONFIRM, "close"),
                    button("Change", NEXT_STEP_CHOICE, "menu", int(draft["contact_id"])),
                ]
            ]
        ),
    )
    return NEXT_STEP


async def _ask_missing(
    update: Update, context: NextStepContext, missing: next_step_text.NeedsDetail
) -> int:
    """Ask for the part of a typed next step that was missing, keeping what was understood."""
    draft = draft_of(context, DRAFT)
    if missing.outcome is Outcome.PAUSED:
        draft["pause"] = True
        return await _ask_due(update, context, _(PAUSE_QUESTION))
    if missing.due_at is not None:  # "tomorrow 10:00" without a kind: the time is kept
        draft["pending_due"] = missing.due_at.isoformat()
        if missing.agenda:
            draft["agenda"] = missing.agenda
    if missing.kind is not None:
        draft["step_kind"] = missing.kind.value
        if draft.get("pending_due"):
            draft["typed"] = True
            return await _confirm_due(
                update, context, dt.datetime.fromisoformat(str(draft.pop("pending_due")))
            )
        return await _ask_due(update, context, f"When is the {escape(missing.kind.value)}?")
    buttons = [button(_(label), NEXT_STEP_KIND, kind) for kind, label in STEP_KINDS.items()]
    await reply(update, escape(str(missing)), reply_markup=keyboard(grid(buttons, 3)))
    return STEP_KIND


async def chosen_step_kind(update: Update, context: NextStepContext) -> int:
    """The follow-up's kind."""
    query = query_of(update)
    values = NEXT_STEP_KIND.parse(query.data)
    if values is None or "contact_id" not in draft_of(context, DRAFT):
        await query.answer(NOT_VALID, show_alert=True)
        return STEP_KIND
    await query.answer()
    draft = draft_of(context, DRAFT)
    draft["step_kind"] = values[0]
    if draft.get("pending_due"):  # the time came typed before the kind was tapped
        draft["typed"] = True
        await clear_buttons(query)
        return await _confirm_due(
            update, context, dt.datetime.fromisoformat(str(draft.pop("pending_due")))
        )
    return await _ask_due(update, context, _("When is the follow-up due?"))


async def _ask_due(update: Update, context: NextStepContext, prompt: str) -> int:
    picks = PAUSE_PICKS if draft_of(context, DRAFT).get("pause") else QUICK_DUE
    buttons = [button(_(label), NEXT_STEP_DUE, code) for label, code in picks]
    buttons.append(button(_("🗓 Pick a date"), NEXT_STEP_DUE, "pick"))
    examples = (
        "<code>1 March</code>, <code>in 2 months</code>, <code>15.01.2027</code>"
        if picks is PAUSE_PICKS
        else "<code>fri 15:00</code>, <code>next week</code>, <code>in 2 minutes</code>, "
        "<code>1 Dec 14:30</code>, <code>01.12.2026 14:30</code>"
    )
    text = prompt + "\n" + _("Tap a button or type a time: {examples}.").format(examples=examples)
    query = update.callback_query
    if query is not None:
        await edit(query, text, keyboard(grid(buttons, 2)))
    else:
        await reply(update, text, reply_markup=keyboard(grid(buttons, 2)))
    return DUE


async def quick_due(update: Update, context: NextStepContext) -> int:
    """A quick due-time button."""
    query = query_of(update)
    values = NEXT_STEP_DUE.parse(query.data)
    if values is None or "contact_id" not in draft_of(context, DRAFT):
        await query.answer(NOT_VALID, show_alert=True)
        return DUE
    await query.answer()
    code = values[0]
    if code == "pick":
        await edit(
            query,
            "Type the date and time, for example <code>1 Dec 14:30</code> or "
            "<code>01.12.2026 14:30</code>.",
        )
        return DUE
    user = context.member
    due = dates.quick_due(code, now=context.clock.now(), timezone=user.timezone)
    if code in WORKING_DAY_PICKS:  # "In 3 days" on a Thursday: Monday, not Sunday
        due = schedule.on_a_working_day(due, user)
    # A tapped time needs no read-back: the question becomes its record, and it is saved.
    draft_of(context, DRAFT)["due_at"] = due.isoformat()
    await edit(query, f"{_step_read_back(context, due)}.")
    return await _save_step(update, context)


async def typed_due(update: Update, context: NextStepContext) -> int:
    """A due time in natural language: echo it back as an absolute time to confirm."""
    user = context.member
    due = dates.parse_due(  # refused: answered centrally, the question stays open
        message_text(update),
        now=context.clock.now(),
        timezone=user.timezone,
        locale=user.locale,
    )
    return await _confirm_due(update, context, due)


def _step_read_back(context: NextStepContext, due: dt.datetime) -> str:
    """ "📞 Call (agenda): <b>Tue 1 Dec 2026, 10:00</b> (Europe/London)" for the draft."""
    draft = draft_of(context, DRAFT)
    user = context.member
    shown = format_moment(due, user.timezone, user.locale)
    kind = _(STEP_KINDS.get(str(draft.get("step_kind")), FOLLOW_UP))
    what = _("Pause until") if draft.get("pause") else kind
    if draft.get("agenda") and not draft.get("pause"):
        what += f" ({escape(str(draft['agenda'])[:100])})"
    return f"{what}: <b>{escape(shown)}</b> ({escape(user.timezone)})"


async def _confirm_due(update: Update, context: NextStepContext, due: dt.datetime) -> int:
    draft_of(context, DRAFT)["due_at"] = due.isoformat()
    await reply(
        update,
        _("{step}. Is that right?").format(step=_step_read_back(context, due)),
        reply_markup=keyboard(
            [
                [
                    button(_("✅ Confirm"), NEXT_STEP_CONFIRM, "due"),
                    button(_("Change"), NEXT_STEP_CONFIRM, "change"),
                ]
            ]
        ),
    )
    return DUE


async def confirmed_due(update: Update, context: NextStepContext) -> int:
    """Confirm or change the echoed due time."""
    query = query_of(update)
    values = NEXT_STEP_CONFIRM.parse(query.data)
    draft = draft_of(context, DRAFT)
    needed = "outcome" if values is not None and values[0] == "close" else "due_at"
    if values is None or needed not in draft or "contact_id" not in draft:
        await query.answer(NOT_VALID, show_alert=True)
        return DUE
    await query.answer()
    if values[0] == "change":
        return await _ask_due(update, context, "When, then?")
    if values[0] == "close":
        await clear_buttons(query)
        return await _close(
            update, context, Outcome(draft["outcome"]), draft.get("reason"), draft.get("preset")
        )
    await clear_buttons(query)  # the read-back stays as the record, without its buttons
    return await _save_step(update, context)


async def start_agenda(update: Update, context: NextStepContext) -> int:
    """ "📝 Add agenda" on a logged contact: what to prepare or discuss at its step."""
    values = await pressed(update, LOGGED_AGENDA)
    if values is None:
        return ConversationHandler.END
    view = await steps.get_step_view(
        context.db, context.clock, actor=context.member, step_id=values[0]
    )
    steps.require_open(view.step)
    await query_of(update).answer()
    new_draft(context, DRAFT, agenda_step_id=view.step.id)
    user = context.member
    when = format_moment(view.step.due_at, user.timezone, user.locale)
    await reply(
        update,
        f"What to prepare or discuss at the {escape(view.step.kind.value)} with "
        f"{escape(view.client_name)} on {escape(when)}? Send it in a few words.",
    )
    return AGENDA


async def typed_agenda(update: Update, context: NextStepContext) -> int:
    """The agenda of a saved step (📝 Add agenda), or of one still being set (a question
    asked before an upgrade, kept across the restart)."""
    draft = draft_of(context, DRAFT)
    if draft.get("agenda_step_id"):
        with on_refusal(AGENDA, ending=(steps.AlreadyHandled,)):  # too long: asked again
            step = await steps.set_agenda(
                context.db,
                context.clock,
                actor=context.member,
                step_id=int(draft["agenda_step_id"]),
                agenda=message_text(update),
            )
        new_draft(context, DRAFT)
        view = await steps.get_step_view(
            context.db, context.clock, actor=context.member, step_id=step.id
        )
        await reply(
            update,
            f"📝 Agenda saved for the {escape(step.kind.value)} with "
            f"{escape(view.client_name)}: {escape(step.agenda or '')}",
        )
        return ConversationHandler.END
    draft["agenda"] = message_text(update)
    return await _save_step(update, context)


async def skipped_agenda(update: Update, context: NextStepContext) -> int:
    """No agenda."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    draft_of(context, DRAFT).pop("agenda", None)
    return await _save_step(update, context)


async def replace_step(update: Update, context: NextStepContext) -> int:
    """ "Replace it": the client's other open step nearby gives way to this one."""
    return await _others_pressed(update, context, StepChoice.DROP)


async def chosen_others(update: Update, context: NextStepContext) -> int:
    """ "Keep both" / "Keep them" / "Cancel them" for the client's other open steps."""
    values = NEXT_STEP_OTHERS.parse(query_of(update).data)
    choice = StepChoice.KEEP if values is None or values[0] == "keep" else StepChoice.DROP
    return await _others_pressed(update, context, choice, valid=values is not None)


async def _others_pressed(
    update: Update, context: NextStepContext, choice: StepChoice, *, valid: bool = True
) -> int:
    query = query_of(update)
    draft = draft_of(context, DRAFT)
    if not valid or ("due_at" not in draft and "outcome" not in draft):
        await query.answer(NOT_VALID, show_alert=True)  # a query is answered once only
        return ConversationHandler.END
    await query.answer()
    await clear_buttons(query)
    return await _conclude(update, context, choice)


async def _conclude(update: Update, context: NextStepContext, choice: StepChoice) -> int:
    """Finish what the keep / replace / cancel question held up: a step, a pause or a
    refusal."""
    draft = draft_of(context, DRAFT)
    if draft.get("outcome"):
        return await _close(
            update,
            context,
            Outcome(draft["outcome"]),
            draft.get("reason"),
            draft.get("preset"),
            others=choice,
        )
    return await _save_step(update, context, others=choice)


KEEP_WORDS = frozenset({"keep", "both", "stay", "leave"})
DROP_WORDS = frozenset({"replace", "cancel", "drop", "remove"})


async def typed_others(update: Update, context: NextStepContext) -> int:
    """ "keep both" / "replace" (or, for a pause, "keep" / "cancel") typed; any other text is
    read as another time for the new step."""
    words = set(message_text(update).strip().lower().replace(",", " ").split())
    if words & KEEP_WORDS and not words & DROP_WORDS:
        return await _conclude(update, context, StepChoice.KEEP)
    if words & DROP_WORDS and not words & KEEP_WORDS:
        return await _conclude(update, context, StepChoice.DROP)
    if draft_of(context, DRAFT).get("outcome"):
        await reply(update, "Tap a button or type <code>keep</code> or <code>cancel</code>.")
        return OTHERS
    try:
        return await typed_due(update, context)
    except DomainError:
        pause = bool(draft_of(context, DRAFT).get("pause"))
        choices = (
            "<code>keep</code> or <code>cancel</code>"
            if pause
            else ("<code>keep both</code> or <code>replace</code>")
        )
        await reply(update, f"Tap a button or type {choices} (or another time for the step).")
        return OTHERS


async def _save_step(
    update: Update, context: NextStepContext, *, others: StepChoice = StepChoice.ASK
) -> int:
    draft = draft_of(context, DRAFT)
    contact_id = int(draft["contact_id"])
    due = dt.datetime.fromisoformat(draft["due_at"])
    user = context.member
    # The due time (say, now past) is asked for again; a contact resolved meanwhile ends it.
    with on_refusal(DUE, ending=(AlreadyResolved,)):
        try:
            if draft.get("pause"):
                await contacts.pause_until(
                    context.db,
                    context.clock,
                    actor=user,
                    contact_id=contact_id,
                    until=due,
                    others=others,
                )
            else:
                await contacts.schedule_next_step(
                    context.db,
                    context.clock,
                    actor=user,
                    contact_id=contact_id,
                    kind=draft.get("step_kind", "other"),
                    due_at=due,
                    agenda=draft.get("agenda"),
                    others=others,
                )
        except StepExists as exc:
            await reply(
                update,
                escape(str(exc)),
                reply_markup=keyboard(
                    [
                        [
                            button("Keep both", NEXT_STEP_OTHERS, "keep", contact_id),
                            button("Replace it", NEXT_STEP_REPLACE, contact_id),
                        ],
                        [button("Choose another next step", NEXT_STEP_BACK, contact_id)],
                    ]
                ),
            )
            return OTHERS  # the question stays: keep both or replace
        except StepsOpenOnPause as exc:
            await _ask_keep_or_cancel(update, contact_id, str(exc))
            return OTHERS
    return await _done(update, context, contact_id)


async def back_to_next_step(update: Update, context: NextStepContext) -> int:
    """ "Choose another next step"."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    contact_id = int(draft_of(context, DRAFT).get("contact_id", 0))
    if not contact_id:
        return ConversationHandler.END
    return await _ask_next_step(update, context, contact_id)


async def typed_reason(update: Update, context: NextStepContext) -> int:
    """The reason for a refusal or "not a target"."""
    draft = draft_of(context, DRAFT)
    if "outcome" not in draft:
        return ConversationHandler.END
    return await _close(update, context, Outcome(draft["outcome"]), message_text(update))


async def _close(
    update: Update,
    context: NextStepContext,
    outcome: Outcome,
    reason: str | None,
    preset: str | None = None,
    *,
    others: StepChoice = StepChoice.ASK,
) -> int:
    draft = draft_of(context, DRAFT)
    contact_id = int(draft["contact_id"])
    with on_refusal(ending=(AlreadyResolved,)):  # resolved meanwhile: nothing left to answer
        try:
            await contacts.close_contact(
                context.db,
                context.clock,
                actor=context.member,
                contact_id=contact_id,
                outcome=outcome,
                reason=reason,
                others=others,
                preset=preset,
            )
        except StepsOpenOnPause as exc:  # a refusal: the client's open steps go, or stay?
            draft.update(outcome=outcome.value, reason=reason, preset=preset)
            await _ask_keep_or_cancel(update, contact_id, str(exc))
            return OTHERS
    return await _done(update, context, contact_id)


async def _ask_keep_or_cancel(update: Update, contact_id: int, question: str) -> None:
    await reply(
        update,
        escape(question),
        reply_markup=keyboard(
            [
                [
                    button("Keep them", NEXT_STEP_OTHERS, "keep", contact_id),
                    button("Cancel them", NEXT_STEP_OTHERS, "drop", contact_id),
                ],
                [button("Choose another next step", NEXT_STEP_BACK, contact_id)],
            ]
        ),
    )


async def _done(update: Update, context: NextStepContext, contact_id: int) -> int:
    summary = await contacts.describe_contact(
        context.db, context.clock, actor=context.member, contact_id=contact_id
    )
    user = context.member
    # A fitting reply template, one tap away (never sent by itself).
    suggestion = contact_suggestion(summary.contact)
    await reply(
        update,
        render(
            "texts/contact_logged.html.j2",
            s=summary,
            tz=user.timezone,
            locale=user.locale,
            fmt=format_moment,
        ),
        reply_markup=keyboard(
            [
                [
                    button(_("✏️ Edit"), LOGGED_EDIT, contact_id),
                    button(_("↩️ Undo"), LOGGED_UNDO, contact_id),
                ],
                [button(_("📝 Add agenda"), LOGGED_AGENDA, summary.step.id)]
                if summary.step is not None
                and summary.step.state is StepState.OPEN
                and summary.contact.outcome is Outcome.SCHEDULED
                and not summary.step.agenda
                else [],
                [suggestion] if suggestion else [],
                [add_to_calendar(summary.step.id)]
                if summary.step is not None and summary.step.state is StepState.OPEN
                else [],
            ]
        ),
    )
    new_draft(context, DRAFT)
    return ConversationHandler.END


# --- undo and edit ------------------------------------------------------------------------


async def undo(update: Update, context: NextStepContext) -> int:
    """ "Undo" within 10 minutes of logging."""
    values = await pressed(update, LOGGED_UNDO)
    if values is None:
        return ConversationHandler.END
    logged = await contacts.describe_contact(
        context.db, context.clock, actor=context.member, contact_id=values[0]
    )
    await contacts.undo_contact(
        context.db, context.clock, actor=context.member, contact_id=values[0]
    )
    query = query_of(update)
    await query.answer("Undone.")
    await edit(
        query,
        f"↩️ Undone: the {escape(logged.contact.kind.value)} with "
        f"{escape(logged.client_name)} and its next step were removed.",
    )
    return ConversationHandler.END


async def start_edit(update: Update, context: NextStepContext) -> int:
    """ "Edit" within 10 minutes of logging: ask for the new summary."""
    values = await pressed(update, LOGGED_EDIT)
    if values is None:
        return ConversationHandler.END
    await query_of(update).answer()
    new_draft(context, DRAFT, edit_contact_id=values[0])
    await reply(update, "Send the corrected summary.")
    return EDIT


async def typed_edit(update: Update, context: NextStepContext) -> int:
    """The corrected summary."""
    contact_id = int(draft_of(context, DRAFT).get("edit_contact_id", 0))
    with on_refusal(ending=(contacts.EditWindowClosed,)):  # past the window: question closed
        edited = await contacts.edit_summary(
            context.db,
            context.clock,
            actor=context.member,
            contact_id=contact_id,
            summary=message_text(update),
        )
    new_draft(context, DRAFT)
    logged = await contacts.describe_contact(
        context.db, context.clock, actor=context.member, contact_id=edited.id
    )
    await reply(
        update,
        f"✏️ Summary of your {escape(edited.kind.value)} with {escape(logged.client_name)} "
        "updated.",
    )
    return ConversationHandler.END


async def cancel_log(update: Update, context: NextStepContext) -> int:
    """/cancel mid-log: a saved contact stays saved and still needs its next step."""
    draft = draft_of(context, DRAFT)
    if draft.get("contact_id"):
        text = (
            "Stopped. The contact is saved and still needs a next step: I'll remind you in "
            "15 minutes, and it stays at the top of /agenda until you choose one."
        )
    else:
        text = "Cancelled. Nothing was saved."
    new_draft(context, DRAFT)
    await reply(update, text)
    return ConversationHandler.END


NO_SUMMARY = "(no summary)"


async def park_log(context: NextStepContext, state: object, restart: bool) -> str | None:
    """Another flow took over: keep the contact if it happened, and say what became of it.

    Started again by a typed command (a second `/call`), only a saved contact still waiting
    for its next step is mentioned: the new command replaces an unsaved one.
    """
    draft = draft_of(context, DRAFT)
    new_draft(context, DRAFT)
    user = context.member
    if state == EDIT:
        return None if restart else "✏️ The summary was left as it was."
    if draft.get("contact_id"):
        summary = await contacts.describe_contact(
            context.db, context.clock, actor=user, contact_id=int(draft["contact_id"])
        )
        return (
            f"The {escape(summary.contact.kind.value)} with {escape(summary.client_name)} is "
            "saved and still needs a next step; it's on your /agenda."
        )
    kind = draft.get("kind") or "contact"
    if restart:
        return None
    if not draft.get("client_id"):
        if draft.get("summary"):
            return f"The {escape(kind)} you were logging wasn't saved: no client was chosen."
        return None
    card = await clients.get_card(
        context.db, context.clock, actor=user, client_id=int(draft["client_id"])
    )
    name = escape(card.client.name)
    if state not in (SUMMARY, WHEN) or "kind" not in draft:
        return f"Logging a {escape(kind)} with {name} was left; nothing was saved."
    happened = draft.get("happened_at")
    try:
        await contacts.log_contact(
            context.db,
            context.clock,
            actor=user,
            client_id=card.client.id,
            kind=draft["kind"],
            summary=draft.get("summary") or NO_SUMMARY,
            happened_at=dt.datetime.fromisoformat(happened) if happened else None,
        )
    except DomainError as exc:
        return f"The {escape(kind)} with {name} could not be kept: {escape(str(exc))}"
    return f"The {escape(kind)} with {name} is kept without a summary; it's on your /agenda."


def handlers() -> list[tuple[object, int]]:
    """The log flow as one persistent conversation."""
    text = filters.TEXT & ~filters.COMMAND
    next_step_buttons = CallbackQueryHandler(chosen_next_step, pattern=NEXT_STEP_CHOICE.pattern)
    conversation = Flow(
        name="log",
        entry_points=[
            CommandHandler("log", start_log),
            CommandHandler(["call", "meeting"], start_quick),
            CallbackQueryHandler(start_from_card, pattern=LOG_NEW.pattern),
            CallbackQueryHandler(start_from_step, pattern=STEP_DONE.pattern),
            next_step_buttons,
            CallbackQueryHandler(chosen_refusal_reason, pattern=NEXT_STEP_REFUSAL.pattern),
            CallbackQueryHandler(undo, pattern=LOGGED_UNDO.pattern),
            CallbackQueryHandler(start_edit, pattern=LOGGED_EDIT.pattern),
            CallbackQueryHandler(start_agenda, pattern=LOGGED_AGENDA.pattern),
            MessageHandler(filters.FORWARDED & filters.ChatType.PRIVATE, start_forward),
        ],
        states={
            PICK_CLIENT: [
                MessageHandler(text, search_client),
                CallbackQueryHandler(chosen_client, pattern=LOG_CLIENT.pattern),
                CallbackQueryHandler(chosen_new_client, pattern=LOG_NEW_CLIENT.pattern),
            ],
            NEW_NAME: [MessageHandler(text, typed_new_name)],
            PICK_KIND: [CallbackQueryHandler(chosen_kind, pattern=LOG_KIND.pattern)],
            SUMMARY: [
                MessageHandler(text, typed_summary),
                CallbackQueryHandler(ask_when, pattern=LOG_WHEN.pattern),
            ],
            WHEN: [MessageHandler(text, typed_when)],
            NEXT_STEP: [
                next_step_buttons,
                MessageHandler(text, typed_next_step),
                CallbackQueryHandler(confirmed_due, pattern=NEXT_STEP_CONFIRM.pattern),
            ],
            STEP_KIND: [
                CallbackQueryHandler(chosen_step_kind, pattern=NEXT_STEP_KIND.pattern),
                MessageHandler(text, typed_next_step),
            ],
            DUE: [
                MessageHandler(text, typed_due),
                CallbackQueryHandler(quick_due, pattern=NEXT_STEP_DUE.pattern),
                CallbackQueryHandler(confirmed_due, pattern=NEXT_STEP_CONFIRM.pattern),
            ],
            OTHERS: [
                MessageHandler(text, typed_others),
                CallbackQueryHandler(chosen_others, pattern=NEXT_STEP_OTHERS.pattern),
                CallbackQueryHandler(replace_step, pattern=NEXT_STEP_REPLACE.pattern),
                CallbackQueryHandler(back_to_next_step, pattern=NEXT_STEP_BACK.pattern),
                CallbackQueryHandler(confirmed_due, pattern=NEXT_STEP_CONFIRM.pattern),
            ],
            COMPLETES: [
                MessageHandler(text, typed_completes),
                CallbackQueryHandler(chosen_completes, pattern=LOG_COMPLETES.pattern),
            ],
            AGENDA: [
                MessageHandler(text, typed_agenda),
                CallbackQueryHandler(skipped_agenda, pattern=NEXT_STEP_NO_AGENDA.pattern),
            ],
            REASON: [MessageHandler(text, typed_reason)],
            EDIT: [MessageHandler(text, typed_edit)],
        },
        fallbacks=[CommandHandler("cancel", cancel_log), *flow_fallbacks(), next_step_buttons],
        park=park_log,
    )
    return [(conversation, 0)]
