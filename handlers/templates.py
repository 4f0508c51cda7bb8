"""Reply templates: /templates, inline mode, suggestions after logging, company templates, /tact.

Thin by design: the library (`bot.services.replies.library`), rendering
(`bot.services.replies.templates`) and the tact check (`bot.services.replies.tact`) do the
work. Every button's data is untrusted: the client is re-checked (own clients; a head's or
admin's any) and company-template changes are re-checked for the role on each press.

Callback data (`tp`, and `tc` for the tact check; each declared in bot/views/actions.py):
    tp:home:<client|0>             the situations (a client preselected from its card)
    tp:sit:<situation>:<client|0>  a situation's templates
    tp:t:<template>:<client|0>     a template: fill it for the client, or ask which client
    tp:c:<template>:<client|0>     fill it for the client chosen in the picker (0: none)
    tp:v:<template>:<client|0>     another variant of the same situation, in place
    tp:s:<situation>:<client>      a suggestion offered after logging (see `suggestion_button`)
    tp:add, tp:as:<situation>      add a company template (heads and admins)
    tp:list, tp:co:<id>, tp:et:<id>, tp:eb:<id>, tp:rt:<id>, tp:rty:<id>
                                   list, show, rename, edit the text of, retire one
    tc:check                       "Check my wording": the next text message is reviewed

Other features call `bot.views.replies.suggestion_button(situation, client_id)` to offer a
template one tap away, and `show_reply(update, context, template_id=..., client_id=...,
invoice=...)` / `start_from_invoice(...)` to open a filled template (e.g. a payment reminder
from an invoice).

A refusal (DomainError) is answered by the error handler; a local catch stays only where the
flow ends.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.services import clients
from bot.services.model import CompanyTemplate
from bot.services.replies import library as reply_library
from bot.services.replies import tact
from bot.services.replies.templates import (
    VARIABLES,
    InvoiceValues,
    TemplateProblems,
    render_source,
    sample_values,
)
from bot.telegram.context import NextStepContext
from bot.views.actions import (
    COMPANY_TEMPLATE,
    COMPANY_TEMPLATE_EDIT,
    COMPANY_TEMPLATE_RETIRE,
    COMPANY_TEMPLATES,
    TACT_CHECK,
    TEMPLATE_ADD,
    TEMPLATE_ADD_SITUATION,
    TEMPLATE_FOR_CLIENT,
    TEMPLATE_OPEN,
    TEMPLATE_SITUATION,
    TEMPLATE_SUGGESTION,
    TEMPLATE_VARIANT,
    TEMPLATES_HOME,
)
from bot.views.keyboards import button, grid, keyboard
from bot.views.render import escape, render
from bot.views.replies import contact_suggestion, suggestion_button
from handlers.common import (
    NOT_AN_ANSWER,
    draft_of,
    edit,
    flow_fallbacks,
    hint,
    message_text,
    new_draft,
    on_refusal,
    reply,
)
from handlers.flow import Flow

__all__ = [
    "contact_suggestion",
    "handlers",
    "show_reply",
    "start_from_invoice",
    "suggestion_button",
]

PICK, TACT, ADD_TITLE, ADD_SITUATION, ADD_BODY, EDIT_TITLE, EDIT_BODY = range(7)
DRAFT = "templates"
NOT_VALID = "That button is not valid any more."
LEADS_ONLY = "Only heads and admins can change company templates."
PICKER_SIZE = 8
INLINE_DESCRIPTION = 120
# "[invoice number]" for an unknown value, "[alternative]" for what the manager writes in.
PLACEHOLDER = re.compile(r"\[[^\[\]\n]{1,60}\]")
PLACEHOLDER_NOTE = "Fill in the [bracketed] parts before sending."


# --- small helpers --------------------------------------------------------------------------


async def _refuse(query: CallbackQuery, message: str = NOT_VALID) -> int:
    await query.answer(message[:200], show_alert=True)
    return ConversationHandler.END


def _invoice_data(invoice: InvoiceValues, client_id: int) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "number": invoice.number,
        "amount_minor": invoice.amount_minor,
        "currency": invoice.currency,
        "due_date": invoice.due_date.isoformat(),
        "days_overdue": invoice.days_overdue,
        "paid_minor": invoice.paid_minor,
        "promised_on": invoice.promised_on.isoformat() if invoice.promised_on else None,
    }


def _stored_invoice(context: NextStepContext, client_id: int) -> InvoiceValues | None:
    """The invoice a template was last opened with for this client (kept for variants)."""
    assert context.user_data is not None
    data = context.user_data.get("templates_invoice")
    if not isinstance(data, dict) or data.get("client_id") != client_id:
        return None
    try:
        return InvoiceValues(
            number=str(data["number"]),
            amount_minor=int(data["amount_minor"]),
            currency=str(data["currency"]),
            due_date=dt.date.fromisoformat(str(data["due_date"])),
            days_overdue=int(data["days_overdue"]),
            paid_minor=int(data.get("paid_minor") or 0),
            promised_on=(
                dt.date.fromisoformat(str(data["promised_on"]))
                if data.get("promised_on")
                else None
            ),
        )
    except (KeyError, TypeError, ValueError):
        return None


# --- a filled template, and the hooks other features call --------------------------------------


def _reply_markup(
    template_id: str, client_id: int, client_name: str | None, variants: int
) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    if variants > 1:
        rows.append([button("Another variant", TEMPLATE_VARIANT, template_id, client_id)])
    query = f"{client_name[:80]} {template_id}" if client_name else template_id
    rows.append([InlineKeyboardButton("Send via chat with client…", switch_inline_query=query)])
    rows.append([button("« Templates", TEMPLATES_HOME, client_id)])
    return keyboard(rows)


async def _filled_view(
    context: NextStepContext,
    template_id: str,
    client_id: int,
    invoice: InvoiceValues | None,
) -> tuple[str, InlineKeyboardMarkup | None, str | None]:
    """(HTML text, buttons, a note when [bracketed] parts remain to be filled in)."""
    filled = await reply_library.fill(
        context.db,
        context.clock,
        actor=context.member,
        template_id=template_id,
        client_id=client_id or None,
        invoice=invoice,
    )
    variants = await reply_library.templates_for(
        context.db, filled.template.situation, context.member.locale
    )
    markup = _reply_markup(
        filled.template.id,
        client_id,
        filled.client.name if filled.client else None,
        len(variants),
    )
    note = PLACEHOLDER_NOTE if PLACEHOLDER.search(filled.text) else None
    return escape(filled.text), markup, note


async def show_reply(
    update: Update,
    context: NextStepContext,
    *,
    template_id: str,
    client_id: int,
    invoice: InvoiceValues | None = None,
) -> None:
    """Send a template filled for a client as its own message, ready to copy or forward.

    Call it from any handler (the caller answers its own callback query). With `invoice`, the
    payment templates name that invoice, also in "Another variant". When the client or the
    template is not available to the person, the service's DomainError goes on to the error
    handler, which tells them why.
    """
    assert context.user_data is not None
    if invoice is not None:
        context.user_data["templates_invoice"] = _invoice_data(invoice, client_id)
    else:
        invoice = _stored_invoice(context, client_id)
    text, markup, note = await _filled_view(context, template_id, client_id, invoice)
    if note:
        await reply(update, f"<i>{escape(note)}</i>")
    await reply(update, text, reply_markup=markup)


async def start_from_invoice(
    update: Update,
    context: NextStepContext,
    *,
    client_id: int,
    invoice: InvoiceValues,
    template_id: str = "payment_gentle",
) -> None:
    """The invoice's "Suggest a reminder" button: a payment reminder naming that invoice."""
    await show_reply(
        update, context, template_id=template_id, client_id=client_id, invoice=invoice
    )


# --- /templates: situations, templates, client picker -----------------------------------------


async def _home_view(
    context: NextStepContext, client_id: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    user = context.member
    text = (
        "<b>Reply templates</b>\nChoose the situation. I fill the text with the client's "
        "details; you copy or forward it."
    )
    if client_id:
        client, _ = await reply_library.client_values(
            context.db, context.clock, actor=user, client_id=client_id
        )
        text += f"\nFor <b>{escape(client.name)}</b>."
    buttons = [
        button(situation.title, TEMPLATE_SITUATION, situation.key, client_id)
        for situation in reply_library.situations(user.locale)
    ]
    rows = [*grid(buttons, 2), [button("🔎 Check my wording", TACT_CHECK)]]
    if user.is_lead:
        rows.append(
            [button("➕ Add template", TEMPLATE_ADD), button("🏢 Company", COMPANY_TEMPLATES)]
        )
    return text, keyboard(rows)


async def start_templates(update: Update, context: NextStepContext) -> int:
    """/templates: the situations."""
    new_draft(context, DRAFT)
    text, markup = await _home_view(context, 0)
    await reply(update, text, reply_markup=markup)
    return ConversationHandler.END


async def pressed_home(update: Update, context: NextStepContext) -> int:
    """`tp:home:<client|0>` (also "Templates" on a client card): the situations, in place."""
    query = update.callback_query
    assert query is not None
    found = TEMPLATES_HOME.parse(query.data)
    if found is None:
        return await _refuse(query)
    (client_id,) = found
    text, markup = await _home_view(context, client_id)
    await query.answer()
    new_draft(context, DRAFT)
    if client_id:  # from the card: keep the card, answer below it
        await reply(update, text, reply_markup=markup)
    else:
        await edit(query, text, markup)
    return ConversationHandler.END


async def pressed_situation(update: Update, context: NextStepContext) -> int:
    """`tp:sit:<situation>:<client|0>`: the situation's templates, company ones marked."""
    query = update.callback_query
    assert query is not None
    found = TEMPLATE_SITUATION.parse(query.data)
    if found is None:
        return await _refuse(query)
    situation, client_id = found
    locale = context.member.locale
    templates = await reply_library.templates_for(context.db, situation, locale)
    if not templates:
        return await _refuse(query)
    await query.answer()
    buttons = [
        [
            button(
                ("🏢 " if template.source == "company" else "") + template.title[:60],
                TEMPLATE_OPEN,
                template.id,
                client_id,
            )
        ]
        for template in templates
    ]
    title = reply_library.situation_title(situation, locale)
    await edit(
        query,
        f"<b>{escape(title)}</b>\nWhich wording?",
        keyboard([*buttons, [button("« Situations", TEMPLATES_HOME, client_id)]]),
    )
    return ConversationHandler.END


async def _picker(
    update: Update, context: NextStepContext, template_id: str, search: str = ""
) -> int:
    """Recent clients (own; a lead's everyone's), or those matching the typed letters."""
    page = await clients.search_clients(
        context.db, actor=context.member, query=search, limit=PICKER_SIZE
    )
    buttons = [
        button(item.client.name[:40], TEMPLATE_FOR_CLIENT, template_id, item.client.id)
        for item in page.items
    ]
    if search and not page.items:
        hint = f"No client matches “{escape(search[:100])}”. Try other letters."
    else:
        hint = "Tap a client or type a few letters of the name."
    rows = [*grid(buttons, 2), [button("Without a client", TEMPLATE_FOR_CLIENT, template_id, 0)]]
    await reply(update, f"Who is it for?\n{hint}", reply_markup=keyboard(rows))
    return PICK


async def pressed_template(update: Update, context: NextStepContext) -> int:
    """`tp:t:<template>:<client|0>`: fill it for the preselected client, or ask which."""
    query = update.callback_query
    assert query is not None
    found = TEMPLATE_OPEN.parse(query.data)
    if found is None:
        return await _refuse(query)
    template_id, client_id = found
    await reply_library.find_template(context.db, template_id, context.member.locale)
    await query.answer()
    if client_id:
        await show_reply(update, context, template_id=template_id, client_id=client_id)
        return ConversationHandler.END
    new_draft(context, DRAFT, template_id=template_id)
    return await _picker(update, context, template_id)


async def typed_client_search(update: Update, context: NextStepContext) -> int:
    """Letters typed while choosing the client."""
    template_id = draft_of(context, DRAFT).get("template_id")
    if not template_id:
        await reply(update, "That choice is no longer open. Send /templates to start again.")
        return ConversationHandler.END
    return await _picker(update, context, str(template_id), message_text(update).strip()[:100])


async def pressed_client(update: Update, context: NextStepContext) -> int:
    """`tp:c:<template>:<client|0>`: the filled text as its own message."""
    query = update.callback_query
    assert query is not None
    found = TEMPLATE_FOR_CLIENT.parse(query.data)
    if found is None:
        return await _refuse(query)
    template_id, client_id = found
    text, markup, note = await _filled_view(
        context, template_id, client_id, _stored_invoice(context, client_id)
    )
    await query.answer(note)
    new_draft(context, DRAFT)
    await reply(update, text, reply_markup=markup)
    return ConversationHandler.END


async def pressed_variant(update: Update, context: NextStepContext) -> int:
    """`tp:v:<template>:<client|0>`: the next wording of the same situation, in place."""
    query = update.callback_query
    assert query is not None
    found = TEMPLATE_VARIANT.parse(query.data)
    if found is None:
        return await _refuse(query)
    template_id, client_id = found
    locale = context.member.locale
    current = await reply_library.find_template(context.db, template_id, locale)
    following = await reply_library.next_variant(context.db, current, locale)
    text, markup, note = await _filled_view(
        context, following.id, client_id, _stored_invoice(context, client_id)
    )
    await query.answer(note or following.title[:200])
    await edit(query, text, markup)
    return ConversationHandler.END


async def pressed_suggestion(update: Update, context: NextStepContext) -> int:
    """`tp:s:<situation>:<client>`: the situation's first template, filled for the client."""
    query = update.callback_query
    assert query is not None
    found = TEMPLATE_SUGGESTION.parse(query.data)
    if found is None:
        return await _refuse(query)
    situation, client_id = found
    templates = await reply_library.templates_for(context.db, situation, context.member.locale)
    if not templates:
        return await _refuse(query)
    text, markup, note = await _filled_view(
        context, templates[0].id, client_id, _stored_invoice(context, client_id)
    )
    await query.answer(note)
    await reply(update, text, reply_markup=markup)
    return ConversationHandler.END


# --- inline mode ----------------------------------------------------------------------------


async def inline_query(update: Update, context: NextStepContext) -> None:
    """`@bot <words>` / `@bot <client> <words>`: filled templates as text articles.

    Only active team members get here (the access gate answers strangers with no results).
    """
    query = update.inline_query
    assert query is not None
    found = await reply_library.inline_replies(
        context.db, context.clock, actor=context.member, query=query.query
    )
    results = []
    for filled in found:
        client = filled.client
        title = filled.template.title + (f" — {client.name}" if client else "")
        description = " ".join(filled.text.split())
        results.append(
            InlineQueryResultArticle(
                id=f"{filled.template.id}:{client.id if client else 0}",
                title=title[:100],
                description=description[:INLINE_DESCRIPTION],
                input_message_content=InputTextMessageContent(filled.text, parse_mode=None),
            )
        )
    await query.answer(results, cache_time=0, is_personal=True)


# --- the tact check -------------------------------------------------------------------------


async def _review(update: Update, context: NextStepContext, draft: str) -> int:
    report = tact.review(draft, context.member.locale)
    rows: list[list[InlineKeyboardButton]] = []
    if report.situation is not None:
        rows.append(
            [
                button(
                    f"Template: {report.situation.title}",
                    TEMPLATE_SITUATION,
                    report.situation.key,
                    0,
                )
            ]
        )
    rows.append([button("🔎 Check another draft", TACT_CHECK)])
    text = render("texts/tact_report.html.j2", r=report)
    if report.clean:
        await reply(update, text, reply_markup=keyboard(rows))
    else:
        await reply(update, text)
        await reply(update, escape(report.softened), reply_markup=keyboard(rows))
    return ConversationHandler.END


async def start_tact(update: Update, context: NextStepContext) -> int:
    """`/tact <draft>`: review it now; `/tact` alone: ask for the draft."""
    parts = message_text(update).split(maxsplit=1)
    if len(parts) == 2 and parts[1].strip():
        return await _review(update, context, parts[1])
    return await _ask_draft(update, context)


async def _ask_draft(update: Update, context: NextStepContext) -> int:
    new_draft(context, DRAFT)
    await reply(
        update,
        "Send me your draft as one message. I'll point out phrases that may irritate a "
        "client and suggest a softer version.",
    )
    return TACT


async def pressed_check(update: Update, context: NextStepContext) -> int:
    """`tc:check` ("Check my wording"): the next text message is the draft."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    return await _ask_draft(update, context)


async def typed_draft(update: Update, context: NextStepContext) -> int:
    """The draft to review."""
    draft = message_text(update)
    if not draft.strip():
        await reply(update, "The draft is empty. Please send the text, or /cancel.")
        return TACT
    return await _review(update, context, draft)


# --- company templates ----------------------------------------------------------------------


def _variables_help() -> str:
    lines = [
        f"<code>{{{{ {name} }}}}</code> — {escape(meaning)}" for name, meaning in VARIABLES.items()
    ]
    return "\n".join(lines)


async def pressed_add(update: Update, context: NextStepContext) -> int:
    """`tp:add`: a head or admin starts a company template: the title first."""
    query = update.callback_query
    assert query is not None
    if not context.member.is_lead:
        return await _refuse(query, LEADS_ONLY)
    await query.answer()
    new_draft(context, DRAFT)
    await reply(
        update,
        "<b>New company template</b>\nSend its title, e.g. <i>Price update for regular "
        f"clients</i> (up to {reply_library.MAX_TITLE} characters).",
    )
    return ADD_TITLE


async def typed_title(update: Update, context: NextStepContext) -> int:
    """The new template's title; then its situation."""
    with hint("Please send it again, or /cancel.", sep=" "):
        title = reply_library.clean_title(message_text(update))
    draft_of(context, DRAFT)["title"] = title
    buttons = [
        button(situation.title, TEMPLATE_ADD_SITUATION, situation.key)
        for situation in reply_library.situations(context.member.locale)
    ]
    await reply(
        update,
        f"In which situation is “{escape(title)}” used?",
        reply_markup=keyboard(grid(buttons, 2)),
    )
    return ADD_SITUATION


async def pressed_add_situation(update: Update, context: NextStepContext) -> int:
    """`tp:as:<situation>`: then the text."""
    query = update.callback_query
    assert query is not None
    found = TEMPLATE_ADD_SITUATION.parse(query.data)
    draft = draft_of(context, DRAFT)
    known = {s.key for s in reply_library.situations(context.member.locale)}
    if not context.member.is_lead:
        return await _refuse(query, LEADS_ONLY)
    if found is None or found[0] not in known or not draft.get("title"):
        return await _refuse(query)
    (situation,) = found
    await query.answer()
    draft["situation"] = situation
    await edit(
        query,
        f"Situation: <b>{escape(reply_library.situation_title(situation, context.member.locale))}"
        "</b>.\n\nNow send the text. Put the client's details in double braces:\n"
        f"{_variables_help()}\n\nFor example: <code>Hello {{{{ client.first_name }}}}, thank you "
        "for your order.</code>\nI check it with sample data before saving.",
    )
    return ADD_BODY


def _problems_text(exc: TemplateProblems) -> str:
    items = "\n".join(f"• {escape(str(problem))}" for problem in exc.problems[:10])
    return (
        f"I can't save this text yet:\n{items}\n\nPlease fix it and send the whole text again, "
        "or /cancel."
    )


def _preview(body: str, context: NextStepContext) -> str:
    """The text rendered with the sample data, escaped."""
    return escape(render_source(body, sample_values(), context.member.locale))


async def typed_body(update: Update, context: NextStepContext) -> int:
    """The new template's text: checked in the sandbox, then saved."""
    draft = draft_of(context, DRAFT)
    if not draft.get("title") or not draft.get("situation"):
        await reply(update, "That template draft is gone. Open /templates → Add template again.")
        return ConversationHandler.END
    again = "Send /templates to start again."  # refused otherwise, the flow ends
    with on_refusal(ConversationHandler.END, hint=again, drop=DRAFT):
        try:
            row = await reply_library.add_company_template(
                context.db,
                context.clock,
                actor=context.member,
                title=draft["title"],
                situation=draft["situation"],
                body=message_text(update),
            )
        except TemplateProblems as exc:  # listed one per line, with its own hint
            await reply(update, _problems_text(exc))
            return ADD_BODY
    new_draft(context, DRAFT)
    situation = reply_library.situation_title(row.situation, context.member.locale)
    await reply(
        update,
        f"✅ Saved “{escape(row.title)}”. The team finds it under <b>{escape(situation)}</b>."
        f"\n\nPreview with sample data:\n\n{_preview(row.body, context)}",
        reply_markup=keyboard([[button("« Templates", TEMPLATES_HOME, 0)]]),
    )
    return ConversationHandler.END


async def pressed_list(update: Update, context: NextStepContext) -> int:
    """`tp:list`: the company's templates, for heads and admins to manage."""
    query = update.callback_query
    assert query is not None
    if not context.member.is_lead:
        return await _refuse(query, LEADS_ONLY)
    await query.answer()
    templates = [
        t
        for t in await reply_library.all_templates(context.db, context.member.locale)
        if t.source == "company"
    ]
    rows = [[button(t.title[:60], COMPANY_TEMPLATE, int(t.id[2:]))] for t in templates]
    rows.append(
        [button("➕ Add template", TEMPLATE_ADD), button("« Templates", TEMPLATES_HOME, 0)]
    )
    text = (
        "<b>Company templates</b>\nTap one to edit or retire it."
        if templates
        else "<b>Company templates</b>\nNone yet. Add the first one."
    )
    await edit(query, text, keyboard(rows))
    return ConversationHandler.END


async def _pressed_company(
    query: CallbackQuery, context: NextStepContext, template_id: int | None
) -> CompanyTemplate | None:
    """The company template a lead pressed (None: malformed data), or None once refused."""
    if template_id is None:
        await _refuse(query)
        return None
    if not context.member.is_lead:
        await _refuse(query, LEADS_ONLY)
        return None
    row = await reply_library.company_template(context.db, f"co{template_id}")
    if row is None:
        await _refuse(query, "That company template is no longer available.")
        return None
    return row


async def pressed_company(update: Update, context: NextStepContext) -> int:
    """`tp:co:<id>`: one company template with Edit text / Rename / Retire."""
    query = update.callback_query
    assert query is not None
    found = COMPANY_TEMPLATE.parse(query.data)
    row = await _pressed_company(query, context, found[0] if found else None)
    if row is None:
        return ConversationHandler.END
    await query.answer()
    situation = reply_library.situation_title(row.situation, context.member.locale)
    await edit(
        query,
        f"🏢 <b>{escape(row.title)}</b> · {escape(situation)}\n\n<pre>{escape(row.body)}</pre>",
        keyboard(
            [
                [
                    button("Edit text", COMPANY_TEMPLATE_EDIT, "eb", row.id),
                    button("Rename", COMPANY_TEMPLATE_EDIT, "et", row.id),
                    button("Retire", COMPANY_TEMPLATE_RETIRE, "rt", row.id),
                ],
                [button("« Company templates", COMPANY_TEMPLATES)],
            ]
        ),
    )
    return ConversationHandler.END


async def pressed_edit(update: Update, context: NextStepContext) -> int:
    """`tp:eb:<id>` / `tp:et:<id>`: ask for the new text or title."""
    query = update.callback_query
    assert query is not None
    found = COMPANY_TEMPLATE_EDIT.parse(query.data)
    action = found[0] if found else None
    row = await _pressed_company(query, context, found[1] if found else None)
    if row is None:
        return ConversationHandler.END
    await query.answer()
    new_draft(context, DRAFT, edit_id=row.id)
    if action == "et":
        await reply(update, f"Send the new title for “{escape(row.title)}”, or /cancel.")
        return EDIT_TITLE
    await reply(
        update,
        f"Send the new text for “{escape(row.title)}” (the current one is below to copy), or "
        f"/cancel.\n\n<code>{escape(row.body)}</code>",
    )
    return EDIT_BODY


async def _apply_edit(update: Update, context: NextStepContext, field: str) -> int:
    template_id = int(draft_of(context, DRAFT).get("edit_id") or 0)
    if not template_id:
        await reply(update, "That edit is no longer open. Send /templates to start again.")
        return ConversationHandler.END
    text = message_text(update)
    with hint("Please send it again, or /cancel.", sep=" "):
        try:
            row = await reply_library.edit_company_template(
                context.db,
                context.clock,
                actor=context.member,
                template_id=template_id,
                title=text if field == "title" else None,
                body=text if field == "body" else None,
            )
        except TemplateProblems as exc:  # listed one per line, with its own hint
            await reply(update, _problems_text(exc))
            return EDIT_BODY
    new_draft(context, DRAFT)
    await reply(
        update,
        f"✅ Updated “{escape(row.title)}”.\n\nPreview with sample data:\n\n"
        f"{_preview(row.body, context)}",
        reply_markup=keyboard([[button("« Company templates", COMPANY_TEMPLATES)]]),
    )
    return ConversationHandler.END


async def typed_new_title(update: Update, context: NextStepContext) -> int:
    """The company template's new title."""
    return await _apply_edit(update, context, "title")


async def typed_new_body(update: Update, context: NextStepContext) -> int:
    """The company template's new text (checked in the sandbox)."""
    return await _apply_edit(update, context, "body")


async def pressed_retire(update: Update, context: NextStepContext) -> int:
    """`tp:rt:<id>` asks to confirm; `tp:rty:<id>` retires."""
    query = update.callback_query
    assert query is not None
    found = COMPANY_TEMPLATE_RETIRE.parse(query.data)
    row = await _pressed_company(query, context, found[1] if found else None)
    if found is None or row is None:
        return ConversationHandler.END
    if found[0] == "rt":
        await query.answer()
        await edit(
            query,
            f"Retire “{escape(row.title)}”? The team will no longer see it.",
            keyboard(
                [
                    [
                        button("Yes, retire", COMPANY_TEMPLATE_RETIRE, "rty", row.id),
                        button("Keep", COMPANY_TEMPLATE, row.id),
                    ]
                ]
            ),
        )
        return ConversationHandler.END
    await reply_library.retire_company_template(
        context.db, context.clock, actor=context.member, template_id=row.id
    )
    await query.answer("Retired.")
    await edit(
        query,
        f"Retired “{escape(row.title)}”.",
        keyboard([[button("« Company templates", COMPANY_TEMPLATES)]]),
    )
    return ConversationHandler.END


async def not_text(update: Update, context: NextStepContext) -> int | None:
    """A sticker or photo while a typed answer is expected."""
    await reply(update, "I need that as a text message. Please type it, or /cancel to stop.")
    return None


async def typed_while_choosing(update: Update, context: NextStepContext) -> int:
    """Text while the situation buttons of a new template are shown."""
    await reply(update, "Please tap one of the situations above, or /cancel.")
    return ADD_SITUATION


# --- wiring ---------------------------------------------------------------------------------


async def park_template(context: NextStepContext, state: object, restart: bool) -> str | None:
    """Another flow took over: say so if a company template was half written."""
    draft = draft_of(context, DRAFT)
    new_draft(context, DRAFT)
    if state in (ADD_SITUATION, ADD_BODY) and draft.get("title"):
        return f"The template “{escape(str(draft['title']))}” you were adding was not saved."
    return None


def handlers() -> list[tuple[object, int]]:
    """One persistent conversation for everything that waits for typed text, plus inline."""
    text = filters.TEXT & ~filters.COMMAND
    buttons = [
        CallbackQueryHandler(pressed_home, pattern=TEMPLATES_HOME.pattern),
        CallbackQueryHandler(pressed_situation, pattern=TEMPLATE_SITUATION.pattern),
        CallbackQueryHandler(pressed_template, pattern=TEMPLATE_OPEN.pattern),
        CallbackQueryHandler(pressed_client, pattern=TEMPLATE_FOR_CLIENT.pattern),
        CallbackQueryHandler(pressed_variant, pattern=TEMPLATE_VARIANT.pattern),
        CallbackQueryHandler(pressed_suggestion, pattern=TEMPLATE_SUGGESTION.pattern),
        CallbackQueryHandler(pressed_add, pattern=TEMPLATE_ADD.pattern),
        CallbackQueryHandler(pressed_add_situation, pattern=TEMPLATE_ADD_SITUATION.pattern),
        CallbackQueryHandler(pressed_list, pattern=COMPANY_TEMPLATES.pattern),
        CallbackQueryHandler(pressed_company, pattern=COMPANY_TEMPLATE.pattern),
        CallbackQueryHandler(pressed_edit, pattern=COMPANY_TEMPLATE_EDIT.pattern),
        CallbackQueryHandler(pressed_retire, pattern=COMPANY_TEMPLATE_RETIRE.pattern),
        CallbackQueryHandler(pressed_check, pattern=TACT_CHECK.pattern),
    ]
    conversation = Flow(
        name="templates",
        # Every button is an entry point, so pressing one always leaves a pending question.
        entry_points=[
            CommandHandler("templates", start_templates),
            CommandHandler("tact", start_tact),
            *buttons,
        ],
        states={
            PICK: [MessageHandler(text, typed_client_search)],
            TACT: [MessageHandler(text, typed_draft)],
            ADD_TITLE: [MessageHandler(text, typed_title)],
            ADD_SITUATION: [MessageHandler(text, typed_while_choosing)],
            ADD_BODY: [MessageHandler(text, typed_body)],
            EDIT_TITLE: [MessageHandler(text, typed_new_title)],
            EDIT_BODY: [MessageHandler(text, typed_new_body)],
        },
        fallbacks=[
            *flow_fallbacks(),
            MessageHandler(NOT_AN_ANSWER, not_text),
        ],
        park=park_template,
    )
    return [(conversation, 0), (InlineQueryHandler(inline_query), 0)]
