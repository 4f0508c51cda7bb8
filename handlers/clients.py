"""Clients: /newclient, /clients, the client card with its buttons, CSV import and /export.

Thin by design: parse the update, call `bot.services.clients`, render. Every button's data is
untrusted; the services re-check ownership (and audit refusals) on each press.

Callback data: `cl:<action>:<client id>[:<arg>]` for the card and the list, `nc:<action>` for
buttons that only make sense inside the flow (Skip, Create anyway, Clear). The flow is one
persistent conversation that also holds the card's typed inputs (a new field value, a note),
so starting one of them always ends the other instead of leaving a stale question behind.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import phonenumbers
from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ChatAction, FileSizeLimit
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import i18n
from bot.services import clients, notes, team, team_settings
from bot.services.client_export import ExportFiles
from bot.services.clients import ClientCard, DuplicateClient, ImportReport
from bot.services.contacts import client_history, steps_set_by
from bot.services.errors import DomainError
from bot.services.model import ClientStatus, Role, User
from bot.telegram.context import NextStepContext
from bot.timefmt import format_day, format_moment, format_span
from bot.views.actions import (
    CLIENT_BACK,
    CLIENT_EDIT,
    CLIENT_EDIT_FIELD,
    CLIENT_HISTORY,
    CLIENT_LANGUAGE,
    CLIENT_LANGUAGE_MENU,
    CLIENT_NOTE,
    CLIENT_NOTES,
    CLIENT_OPEN,
    CLIENT_PAGE,
    CLIENT_REASSIGN,
    CLIENT_REASSIGN_TO,
    CLIENT_STATUS,
    CLIENT_STATUS_MENU,
    INVOICE_NEW,
    LOG_NEW,
    NEW_CLIENT_CLEAR,
    NEW_CLIENT_DUPLICATE,
    NEW_CLIENT_SKIP,
    TEMPLATES_HOME,
    TRUST_MENU,
)
from bot.views.calendar import client_add_button
from bot.views.callback_data import Action
from bot.views.keyboards import button, grid, keyboard
from bot.views.render import MAX_MESSAGE, escape, render, telegram_length
from bot.workers import files as file_workers
from handlers.common import (
    NOT_AN_ANSWER,
    NOT_VALID,
    draft_of,
    edit,
    flow_fallbacks,
    hint,
    message_text,
    new_draft,
    on_refusal,
    pressed,
    query_of,
    remember_source,
    reply,
    showing_action,
    team_phone_region,
)
from handlers.flow import Flow

FIELD, DUPLICATE, EDIT_VALUE, NOTE = range(4)
DRAFT = "newclient"
LIST_QUERY = "clients_query"
PAGE_SIZE = 8
HISTORY_PAGE = 10
REASSIGN_PAGE = 20
MAX_QUERY = 100
OPTIONAL = ("contact_person", "phone", "email", "tags")
OUTCOMES = {
    "scheduled": "next step set",
    "won": "🏆 deal won",
    "refused": "🚫 refused",
    "not_target": "❌ not a target",
    "paused": "⏸ paused",
}
# Editable text fields: callback key -> (update_client keyword, label, optional?).
EDITABLE = {
    "name": ("name", "name", False),
    "person": ("contact_person", "contact person", True),
    "phone": ("phone", "phone number", True),
    "email": ("email", "e-mail address", True),
    "tags": ("tags", "tags", True),
}
CSV_TYPES = {"text/csv", "text/comma-separated-values", "application/csv"}
ROLE_NAMES = {Role.ADMIN: "admin", Role.HEAD: "head", Role.MANAGER: "manager"}
REPORT_ITEMS = 15
# /export: each file sent stays under Telegram's upload limit; beyond this many, refused.
EXPORT_PART_LIMIT = int(FileSizeLimit.FILESIZE_UPLOAD)
EXPORT_MAX_PARTS = 10
UPLOAD_TIMEOUT_S = 300.0

logger = logging.getLogger(__name__)


# --- small helpers --------------------------------------------------------------------------


async def _region(context: NextStepContext) -> str:
    """The team's phone region (/settings), else DEFAULT_PHONE_REGION."""
    return await team_phone_region(context)


def _assumed(typed: str | None, region: str, e164: str | None, locale: str) -> str:
    """ " The phone had no country code, so I read it as a … number: …" when that happened
    (plain text: the card's template escapes its notice)."""
    assumed = clients.assumed_region(typed, region)
    if not assumed or not e164:
        return ""
    return (
        " The phone had no country code, so I read it as a "
        f"{team_settings.region_name(assumed, locale)} number: {_phone(e164)}."
    )


def _phone(e164: str) -> str:
    """A stored E.164 number as people read it: `+44 20 7946 0958`."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


async def _settle(query: CallbackQuery, note: str) -> None:
    """Replace a pressed question's buttons with a note saying how it was answered."""
    message = query.message
    if isinstance(message, Message) and message.text:
        await edit(query, f"{message.text_html}\n<i>{escape(note)}</i>")


async def _refuse(query: CallbackQuery, message: str = NOT_VALID) -> None:
    await query.answer(message[:200], show_alert=True)


async def _load_card(context: NextStepContext, client_id: int) -> ClientCard:
    """The card, if the person may see it (a refusal is answered by the error handler)."""
    return await clients.get_card(
        context.db, context.clock, actor=context.member, client_id=client_id
    )


async def _pressed_card(
    update: Update, context: NextStepContext, action: Action
) -> tuple[CallbackQuery, ClientCard | None]:
    """The card named by a pressed `cl:<action>:<id>` button; None once the press is refused."""
    query = query_of(update)
    values = await pressed(update, action)
    if values is None:
        return query, None
    return query, await _load_card(context, values[0])


# --- the client card ------------------------------------------------------------------------


def card_text(card: ClientCard, user: User, now: dt.datetime, notice: str | None = None) -> str:
    """The card as Telegram HTML, times in the viewer's zone."""
    return render(
        "texts/client_card.html.j2",
        c=card,
        now=now,
        notice=notice,
        show_owner=user.is_lead,
        outcomes=OUTCOMES,
        phone=_phone,
        fmt=lambda moment: format_moment(moment, user.timezone, user.locale),
        ago=lambda delta: format_span(delta, user.locale),
        language_names=i18n.LANGUAGE_NAMES,
    )


def card_keyboard(card: ClientCard, user: User) -> InlineKeyboardMarkup | None:
    """Log call / Log meeting, Edit / Notes / History, and Reassign for heads and admins."""
    client_id = card.client.id
    rows = [
        [
            button("Log call", LOG_NEW, client_id, "call"),
            button("Log meeting", LOG_NEW, client_id, "meeting"),
        ],
        [
            button("Edit", CLIENT_EDIT, client_id),
            button("Notes", CLIENT_NOTES, client_id),
            button("History", CLIENT_HISTORY, client_id, 0),
        ],
        [button("Templates", TEMPLATES_HOME, client_id)],
        [
            button("Invoice", INVOICE_NEW, client_id),
            button("Trust level", TRUST_MENU, client_id),
        ],
    ]
    if card.open_steps:  # one file with every open step (a client may have several)
        rows.append([client_add_button(client_id)])
    if user.is_lead:
        rows.append([button("Reassign", CLIENT_REASSIGN, client_id, 0)])
    return keyboard(rows)


def _back(client_id: int) -> list[InlineKeyboardButton]:
    return [button("« Back to the card", CLIENT_BACK, client_id)]


async def _reply_card(
    update: Update, context: NextStepContext, client_id: int, notice: str | None = None
) -> None:
    """Send the card as a new message (after a typed input)."""
    card = await clients.get_card(
        context.db, context.clock, actor=context.member, client_id=client_id
    )
    user = context.member
    await reply(
        update,
        card_text(card, user, context.clock.now(), notice),
        reply_markup=card_keyboard(card, user),
    )


async def _edit_card(
    query: CallbackQuery, context: NextStepContext, card: ClientCard, notice: str | None = None
) -> None:
    """Show the card in place of the pressed message."""
    user = context.member
    await edit(
        query, card_text(card, user, context.clock.now(), notice), card_keyboard(card, user)
    )


async def open_card(update: Update, context: NextStepContext) -> None:
    """`cl:open:<id>`: the card as a new message (the list it came from stays)."""
    query, card = await _pressed_card(update, context, CLIENT_OPEN)
    if card is None:
        return
    await query.answer()
    user = context.member
    await reply(
        update, card_text(card, user, context.clock.now()), reply_markup=card_keyboard(card, user)
    )


async def back_to_card(update: Update, context: NextStepContext) -> None:
    """`cl:back:<id>`: from History, Notes or Edit back to the card, in place."""
    query, card = await _pressed_card(update, context, CLIENT_BACK)
    if card is None:
        return
    await query.answer()
    await _edit_card(query, context, card)


# --- /clients -------------------------------------------------------------------------------


async def _list_view(
    context: NextStepContext, query_text: str, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    user = context.member
    found = await clients.search_clients(
        context.db, actor=user, query=query_text, limit=PAGE_SIZE, offset=page * PAGE_SIZE
    )
    if not found.items and page > 0:  # the list shrank since the button was made
        page = 0
        found = await clients.search_clients(
            context.db, actor=user, query=query_text, limit=PAGE_SIZE
        )
    if not found.items:
        if query_text:
            text = (
                f"No client matches “{escape(query_text)}”. Try fewer letters, part of the "
                "phone number or a tag, or send /clients to see them all."
            )
        elif user.is_lead:
            text = "Nobody on the team has clients yet. Add one with /newclient."
        else:
            text = (
                "You have no clients yet. Add one with /newclient, or send me a .csv file "
                "to import your list."
            )
        return text, None
    text = render(
        "texts/client_list.html.j2",
        items=found.items,
        offset=page * PAGE_SIZE,
        query=query_text,
        page=page,
        paged=page > 0 or found.has_more,
        show_owner=user.is_lead,
        fmt_day=lambda moment: format_day(moment, user.timezone, user.locale),
    )
    buttons = [button(item.client.name[:40], CLIENT_OPEN, item.client.id) for item in found.items]
    nav = []
    if page > 0:
        nav.append(button("« Prev", CLIENT_PAGE, page - 1))
    if found.has_more:
        nav.append(button("Next »", CLIENT_PAGE, page + 1))
    return text, keyboard([*grid(buttons, 2), nav])


async def list_clients(update: Update, context: NextStepContext) -> None:
    """/clients [query]: own clients (everyone's for a lead), most recently contacted first."""
    assert context.user_data is not None
    query_text = " ".join(context.args or []).strip()[:MAX_QUERY]
    context.user_data[LIST_QUERY] = query_text
    text, markup = await _list_view(context, query_text, 0)
    await reply(update, text, reply_markup=markup)


async def list_page(update: Update, context: NextStepContext) -> None:
    """`cl:pg:<page>`: another page of the last /clients search (the query is in user_data)."""
    assert context.user_data is not None
    values = await pressed(update, CLIENT_PAGE)
    if values is None:
        return
    (page,) = values
    query = query_of(update)
    await query.answer()
    text, markup = await _list_view(context, str(context.user_data.get(LIST_QUERY, "")), page)
    await edit(query, text, markup)


# --- /newclient -----------------------------------------------------------------------------


def _prompt(field: str, values: dict[str, str], region: str) -> str:
    name = escape(values.get("name", ""))
    if field == "name":
        return "What is the client's name? A company or a person, up to 200 characters."
    if field == "contact_person":
        return f"Who is your contact person at <b>{name}</b>? Send their name, or tap Skip."
    if field == "phone":
        return (
            "Their phone number? With the country code, e.g. <code>+44 20 7946 0958</code> "
            "(numbers without one are read as "
            f"{escape(team_settings.region_name(region))} numbers). Or tap Skip."
        )
    if field == "email":
        return "Their e-mail address? Or tap Skip."
    return "Tags or segment, separated by commas (e.g. <code>vip, retail</code>)? Or tap Skip."


def _field_markup(field: str) -> InlineKeyboardMarkup | None:
    return None if field == "name" else keyboard([[button("Skip", NEW_CLIENT_SKIP, field)]])


def _problem(field: str, value: str, region: str) -> str | None:
    """The service's objection to one field's value, or None when it is fine."""
    try:
        if field == "name":
            clients.prepare_fields(name=value, region=region)
        else:
            clients.prepare_fields(name="-", region=region, **{field: value})
    except DomainError as exc:  # the objection is the value asked for, not an answer
        return str(exc)
    return None


async def _ask(update: Update, context: NextStepContext, prefix: str = "") -> int:
    """Ask for the first pending field; save when nothing is pending."""
    draft = draft_of(context, DRAFT)
    if not draft.get("pending"):
        return await _save(update, context)
    field = draft["pending"][0]
    text = prefix + _prompt(field, draft["values"], await _region(context))
    await reply(update, text, reply_markup=_field_markup(field))
    return FIELD


async def start_newclient(update: Update, context: NextStepContext) -> int:
    """/newclient: the guided flow, or the one-line form when text follows the command."""
    parts = message_text(update).split(maxsplit=1)
    if len(parts) == 2:
        return await _one_line(update, context, parts[1])
    new_draft(context, DRAFT, values={}, pending=["name", *OPTIONAL])
    tip = (
        "\n\n<i>Tip: next time send it in one line: "
        f"<code>{escape(clients.ONE_LINE_EXAMPLE)}</code></i>"
    )
    await reply(update, f"<b>New client</b>\n{_prompt('name', {}, await _region(context))}{tip}")
    return FIELD


async def _one_line(update: Update, context: NextStepContext, text: str) -> int:
    """`/newclient Acme LLC; Ivan Petrov; +44 20 7946 0958; ivan@acme.test`: save at once.

    A part the service refuses is asked again (with the service's reason); the others stay.
    """
    with on_refusal(ConversationHandler.END):  # a /newclient that replaced a draft parked it
        values = clients.parse_one_line(text)
    region = await _region(context)
    problems = {
        field: problem
        for field in ("name", *OPTIONAL)
        if field in values and (problem := _problem(field, values[field], region))
    }
    for field in problems:
        values.pop(field)
    pending = [field for field in ("name", *OPTIONAL) if field in problems]
    new_draft(context, DRAFT, values=values, pending=pending)
    if pending:
        first = escape(problems[pending[0]])
        return await _ask(update, context, prefix=f"{first}\n\n")
    return await _save(update, context)


async def typed_field(update: Update, context: NextStepContext) -> int:
    """The answer to the current question of the flow: checked by the service, then kept."""
    draft = draft_of(context, DRAFT)
    if not draft.get("pending"):
        return await _save(update, context)
    field = draft["pending"][0]
    value = message_text(update)
    problem = _problem(field, value, await _region(context))
    if problem is not None:
        again = (
            "Please send it again." if field == "name" else "Please send it again, or tap Skip."
        )
        await reply(update, f"{escape(problem)}\n{again}", reply_markup=_field_markup(field))
        return FIELD
    draft["values"][field] = value
    draft["pending"].pop(0)
    return await _ask(update, context)


async def skip_field(update: Update, context: NextStepContext) -> int:
    """`nc:skip:<field>`: leave that field empty (only for the question being asked)."""
    query = query_of(update)
    values = NEW_CLIENT_SKIP.parse(query.data)
    pending = draft_of(context, DRAFT).get("pending") or []
    if values is None or not pending or values[0] != pending[0]:
        await _refuse(query, "That question was already answered.")
        return FIELD if pending else ConversationHandler.END
    await query.answer()
    await _settle(query, "Skipped.")
    draft_of(context, DRAFT)["values"].pop(pending[0], None)
    pending.pop(0)
    return await _ask(update, context)


async def _save(update: Update, context: NextStepContext) -> int:
    draft = draft_of(context, DRAFT)
    values = dict(draft.get("values") or {})
    if not values.get("name"):
        await reply(update, "That client draft is gone. Send /newclient to start again.")
        return ConversationHandler.END
    # Refused, the draft is dropped and the flow ends, saying what to do.
    with on_refusal(ConversationHandler.END, hint="Send /newclient to try again.", drop=DRAFT):
        try:
            client = await clients.create_client(
                context.db,
                context.clock,
                actor=context.member,
                region=await _region(context),
                allow_duplicate=bool(draft.get("anyway")),
                max_clients=context.settings.max_clients_per_manager,
                **values,
            )
        except DuplicateClient as exc:
            existing = await clients.get_card(
                context.db, context.clock, actor=context.member, client_id=exc.client_id
            )
            markup = keyboard(
                [
                    [button(f"Open {existing.client.name[:40]}", CLIENT_OPEN, exc.client_id)],
                    [button("Create anyway", NEW_CLIENT_DUPLICATE)],
                ]
            )
            await reply(update, escape(str(exc)), reply_markup=markup)
            return DUPLICATE
    new_draft(context, DRAFT)
    notice = "✅ Client saved." + _assumed(
        values.get("phone"), await _region(context), client.phone_e164, context.member.locale
    )
    await _reply_card(update, context, client.id, notice=notice)
    return ConversationHandler.END


async def create_anyway(update: Update, context: NextStepContext) -> int:
    """ "Create anyway" after a duplicate name."""
    query = update.callback_query
    assert query is not None
    if not (draft_of(context, DRAFT).get("values") or {}).get("name"):
        await _refuse(query)
        return ConversationHandler.END
    await query.answer()
    await _settle(query, "Creating another one anyway.")
    draft_of(context, DRAFT)["anyway"] = True
    return await _save(update, context)


async def typed_while_duplicate(update: Update, context: NextStepContext) -> int:
    """Text while the duplicate question is open."""
    await reply(
        update,
        "Please tap “Open …” to see the existing client or “Create anyway” to add another "
        "one, or /cancel to drop it.",
    )
    return DUPLICATE


async def open_existing(update: Update, context: NextStepContext) -> int:
    """“Open …” on the duplicate question: that answers it; the new client is not made.

    A card that can't be opened (refused by the service) leaves the question open."""
    await open_card(update, context)
    new_draft(context, DRAFT)
    return ConversationHandler.END


async def not_text(update: Update, context: NextStepContext) -> int | None:
    """A sticker, photo or the like while a typed answer is expected."""
    await reply(update, "I need that as a text message. Please type it, or /cancel to stop.")
    return None


# --- Edit -----------------------------------------------------------------------------------


async def edit_menu(update: Update, context: NextStepContext) -> None:
    """`cl:edit:<id>`: which field to change."""
    query, card = await _pressed_card(update, context, CLIENT_EDIT)
    if card is None:
        return
    await query.answer()
    client_id = card.client.id
    buttons = [
        button(label.capitalize(), CLIENT_EDIT_FIELD, client_id, key)
        for key, (_, label, _) in EDITABLE.items()
    ]
    buttons.append(button("Status", CLIENT_STATUS_MENU, client_id))
    buttons.append(button("🌐 Language", CLIENT_LANGUAGE_MENU, client_id))
    await edit(
        query,
        f"What would you like to change for <b>{escape(card.client.name)}</b>?",
        keyboard([*grid(buttons, 3), _back(client_id)]),
    )


def _current_value(card: ClientCard, key: str) -> str | None:
    client = card.client
    values = {
        "name": client.name,
        "person": client.contact_person,
        "phone": _phone(client.phone_e164) if client.phone_e164 else None,
        "email": client.email,
        "tags": ", ".join(client.tags) or None,
    }
    return values[key]


async def ask_field_value(update: Update, context: NextStepContext) -> int:
    """`cl:ef:<id>:<field>`: ask for the new value of a text field."""
    values = await pressed(update, CLIENT_EDIT_FIELD)
    if values is None:
        return ConversationHandler.END
    client_id, key = values
    card = await _load_card(context, client_id)
    query = query_of(update)
    await query.answer()
    _, label, optional = EDITABLE[key]
    current = _current_value(card, key)
    new_draft(context, DRAFT, client_id=card.client.id, field=key)
    text = f"Send the new {label} for <b>{escape(card.client.name)}</b>."
    if key == "phone":
        region = team_settings.region_name(await _region(context), context.member.locale)
        text += (
            " With the country code, e.g. <code>+44 20 7946 0958</code>; without one it is "
            f"read as a {escape(region)} number."
        )
    if current:
        text += f"\nNow: {escape(current)}"
    rows = []
    if optional and current:
        rows.append([button(f"Clear the {label}", NEW_CLIENT_CLEAR)])
    rows.append(_back(card.client.id))
    await edit(query, text, keyboard(rows))
    return EDIT_VALUE


async def _apply_edit(update: Update, context: NextStepContext, value: str | None) -> int:
    draft = draft_of(context, DRAFT)
    key = draft.get("field")
    if key not in EDITABLE or not draft.get("client_id"):
        await reply(update, "That edit is no longer open. Open the client card and tap Edit.")
        return ConversationHandler.END
    keyword, label, _ = EDITABLE[key]
    client_id = int(draft["client_id"])
    change: dict[str, Any] = {keyword: value}
    region = await _region(context)
    # Refused, it is asked again (after a clear button's press too), with what to send.
    with on_refusal(EDIT_VALUE, hint="Please send it again, or /cancel."):
        client = await clients.update_client(
            context.db,
            context.clock,
            actor=context.member,
            client_id=client_id,
            region=region,
            **change,
        )
    new_draft(context, DRAFT)
    done = "cleared" if value is None else "updated"
    notice = f"✅ {label.capitalize()} {done}."
    if key == "phone":
        notice += _assumed(value, region, client.phone_e164, context.member.locale)
    await _reply_card(update, context, client_id, notice=notice)
    return ConversationHandler.END


async def typed_field_value(update: Update, context: NextStepContext) -> int:
    """The new value of the field being edited, validated by `update_client`."""
    return await _apply_edit(update, context, message_text(update))


async def clear_field(update: Update, context: NextStepContext) -> int:
    """`nc:clear`: empty the optional field being edited."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    return await _apply_edit(update, context, None)


async def status_menu(update: Update, context: NextStepContext) -> None:
    """`cl:stm:<id>`: prospect / active / inactive as buttons."""
    query, card = await _pressed_card(update, context, CLIENT_STATUS_MENU)
    if card is None:
        return
    await query.answer()
    client = card.client
    buttons = [
        button(
            ("✓ " if status is client.status else "") + status.value,
            CLIENT_STATUS,
            client.id,
            status.value,
        )
        for status in ClientStatus
    ]
    await edit(
        query,
        f"Status of <b>{escape(client.name)}</b> (now {client.status.value}):",
        keyboard([buttons, _back(client.id)]),
    )


async def language_menu(update: Update, context: NextStepContext) -> None:
    """`cl:lgm:<id>`: the language replies to the client are written in."""
    query, card = await _pressed_card(update, context, CLIENT_LANGUAGE_MENU)
    if card is None:
        return
    await query.answer()
    client = card.client
    buttons = [
        button(("✓ " if client.language == code else "") + name, CLIENT_LANGUAGE, client.id, code)
        for code, name in i18n.LANGUAGE_NAMES.items()
    ]
    mine = ("✓ " if client.language is None else "") + "Same as mine"
    await edit(
        query,
        f"In which language do you write to <b>{escape(client.name)}</b>? Reply templates "
        "for them are filled in it.",
        keyboard(
            [
                *grid(buttons, 2),
                [button(mine, CLIENT_LANGUAGE, client.id, "mgr")],
                _back(client.id),
            ]
        ),
    )


async def set_language(update: Update, context: NextStepContext) -> None:
    """`cl:lg:<id>:<language>` ("mgr": the manager's)."""
    values = await pressed(update, CLIENT_LANGUAGE)
    if values is None:
        return
    client_id, code = values
    language = None if code == "mgr" else str(code)
    await clients.set_client_language(
        context.db, context.clock, actor=context.member, client_id=client_id, language=language
    )
    card = await _load_card(context, client_id)
    query = query_of(update)
    await query.answer()
    shown = i18n.LANGUAGE_NAMES[language] if language else "the same as yours"
    await _edit_card(query, context, card, notice=f"✅ Replies to {card.client.name}: {shown}.")


async def set_status(update: Update, context: NextStepContext) -> None:
    """`cl:st:<id>:<status>`."""
    values = await pressed(update, CLIENT_STATUS)
    if values is None:
        return
    client_id, status = values
    await clients.update_client(
        context.db, context.clock, actor=context.member, client_id=client_id, status=status
    )
    card = await _load_card(context, client_id)
    query = query_of(update)
    await query.answer()
    await _edit_card(query, context, card, notice=f"✅ Status: {status}.")


# --- Notes ----------------------------------------------------------------------------------


def _notes_view(
    card: ClientCard, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    text = render(
        "texts/client_notes.html.j2", name=card.client.name, notes=card.client.notes, notice=notice
    )
    rows = [[button("Add a note", CLIENT_NOTE, card.client.id)], _back(card.client.id)]
    return text, keyboard(rows)


async def show_notes(update: Update, context: NextStepContext) -> None:
    """`cl:notes:<id>`: the client's notes."""
    query, card = await _pressed_card(update, context, CLIENT_NOTES)
    if card is None:
        return
    await query.answer()
    text, markup = _notes_view(card)
    await edit(query, text, markup)


async def ask_note(update: Update, context: NextStepContext) -> int:
    """`cl:note:<id>`: ask for a note to append."""
    query, card = await _pressed_card(update, context, CLIENT_NOTE)
    if card is None:
        return ConversationHandler.END
    await query.answer()
    new_draft(context, DRAFT, client_id=card.client.id)
    await reply(
        update,
        f"Send the note for <b>{escape(card.client.name)}</b>; I'll add it with today's date. "
        "/cancel leaves the notes as they are.",
    )
    return NOTE


async def typed_note(update: Update, context: NextStepContext) -> int:
    """The note: appended as a dated line, validated by `update_client`."""
    client_id = int(draft_of(context, DRAFT).get("client_id") or 0)
    if not client_id:
        await reply(update, "That note is no longer open. Open the client card and tap Notes.")
        return ConversationHandler.END
    user = context.member
    with hint("Please send it again, or /cancel."):  # the note is asked for again
        _, line = await notes.add_note(
            context.db, context.clock, actor=user, client_id=client_id, note=message_text(update)
        )
        card = await clients.get_card(context.db, context.clock, actor=user, client_id=client_id)
    message = update.effective_message
    remember_source(
        context,
        message.message_id if message else None,
        "note",
        client_id,
        line=line,
        at=context.clock.now().isoformat(),
        client=card.client.name,
    )
    new_draft(context, DRAFT)
    text, markup = _notes_view(card, notice="✅ Note added.")
    await reply(update, text, reply_markup=markup)
    return ConversationHandler.END


# --- History --------------------------------------------------------------------------------


async def show_history(update: Update, context: NextStepContext) -> None:
    """`cl:hist:<id>:<page>`: ten contacts per page, the latest first, with their outcome."""
    values = await pressed(update, CLIENT_HISTORY)
    if values is None:
        return
    client_id, page = values
    card = await _load_card(context, client_id)
    user = context.member
    found = await client_history(
        context.db,
        context.clock,
        actor=user,
        client_id=card.client.id,
        limit=HISTORY_PAGE + 1,
        offset=page * HISTORY_PAGE,
    )
    query = query_of(update)
    await query.answer()
    has_more = len(found) > HISTORY_PAGE
    shown = found[:HISTORY_PAGE]
    text = render(
        "texts/client_history.html.j2",
        name=card.client.name,
        contacts=shown,
        steps=await steps_set_by(context.db, shown),
        page=page,
        paged=page > 0 or has_more,
        outcomes=OUTCOMES,
        fmt=lambda moment: format_moment(moment, user.timezone, user.locale),
    )
    nav = []
    if page > 0:
        nav.append(button("« Newer", CLIENT_HISTORY, card.client.id, page - 1))
    if has_more:
        nav.append(button("Older »", CLIENT_HISTORY, card.client.id, page + 1))
    await edit(query, text, keyboard([nav, _back(card.client.id)]))


# --- Reassign -------------------------------------------------------------------------------


async def pick_new_owner(update: Update, context: NextStepContext) -> None:
    """`cl:rsg:<id>:<page>`: a head or admin chooses who takes the client over."""
    values = await pressed(update, CLIENT_REASSIGN)
    if values is None:
        return
    client_id, page = values
    people = await team.list_team(context.db, actor=context.member)
    card = await _load_card(context, client_id)
    query = query_of(update)
    await query.answer()
    client = card.client
    candidates = [p for p in people if p.active and p.telegram_id != client.owner_id]
    if not candidates:
        await edit(
            query,
            "There is nobody else on the team to hand this client to. Invite a colleague "
            "with /invite first.",
            keyboard([_back(client.id)]),
        )
        return
    pages = -(-len(candidates) // REASSIGN_PAGE)
    page = min(page, pages - 1)
    shown = candidates[page * REASSIGN_PAGE : (page + 1) * REASSIGN_PAGE]
    buttons = [
        button(
            f"{p.name[:30]} ({ROLE_NAMES[p.role]})", CLIENT_REASSIGN_TO, client.id, p.telegram_id
        )
        for p in shown
    ]
    nav = []
    if page > 0:
        nav.append(button("« Prev", CLIENT_REASSIGN, client.id, page - 1))
    if page < pages - 1:
        nav.append(button("Next »", CLIENT_REASSIGN, client.id, page + 1))
    await edit(
        query,
        f"Hand <b>{escape(client.name)}</b> (now with {escape(card.owner_name)}) to whom? "
        "Its open next step moves along.",
        keyboard([*grid(buttons, 2), nav, _back(client.id)]),
    )


async def reassign(update: Update, context: NextStepContext) -> None:
    """`cl:rto:<id>:<new owner id>`: `reassign_client` checks the role and the new owner."""
    values = await pressed(update, CLIENT_REASSIGN_TO)
    if values is None:
        return
    client_id, new_owner = values
    await clients.reassign_client(
        context.db,
        context.clock,
        actor=context.member,
        client_id=client_id,
        new_owner_id=new_owner,
        max_clients=context.settings.max_clients_per_manager,
    )
    card = await _load_card(context, client_id)
    query = query_of(update)
    await query.answer("Reassigned.")
    await _edit_card(query, context, card, notice=f"✅ Now managed by {card.owner_name}.")


# --- Import and export ----------------------------------------------------------------------


def import_report_text(report: ImportReport, filename: str) -> str:
    """The import report, cut so that it fits one Telegram message."""
    items = REPORT_ITEMS
    while True:
        duplicates = [
            clients.ImportIssue(d.row, _cut(d.name, 40), d.reason)
            for d in report.duplicates[:items]
        ]
        rejected = [
            clients.ImportIssue(r.row, _cut(r.name, 40), _cut(r.reason, 160))
            for r in report.rejected[:items]
        ]
        text = render(
            "texts/import_report.html.j2",
            filename=_cut(filename, 60),
            imported=report.imported,
            duplicates=duplicates,
            more_duplicates=len(report.duplicates) - len(duplicates),
            rejected=rejected,
            more_rejected=len(report.rejected) - len(rejected),
            ignored=[_cut(title, 30) for title in report.ignored_columns[:10]],
            stopped=report.stopped,
        )
        if telegram_length(text) <= MAX_MESSAGE or items == 0:
            return text
        items //= 2


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _progress_text(filename: str, done: int, total: int, imported: int) -> str:
    return (
        f"📥 Importing <b>{escape(_cut(filename, 60))}</b>… {done:,} of {total:,} new clients "
        f"handled, {imported:,} saved so far."
    )


async def _edit_progress(message: Message, text: str) -> None:
    """Edit the import's progress message; a failed edit never stops the import."""
    try:
        await message.edit_text(text)
    except TelegramError as exc:
        logger.info("Could not edit the import's progress message: %s", exc)


async def import_document(update: Update, context: NextStepContext) -> None:
    """A .csv document: import its rows as the sender's clients, and report what happened.

    The file is read and validated off the event loop (`bot.workers.files`) and saved in
    short chunks; a big file gets one message that shows the progress and ends as the
    report. The chunks saved before a failure (or a restart) stay saved; the report says
    so, and sending the file again imports the rest.
    """
    message = update.effective_message
    assert message is not None and message.document is not None
    document = message.document
    filename = document.file_name or "the file"
    is_csv = filename.lower().endswith(".csv") or (document.mime_type or "") in CSV_TYPES
    if not is_csv:
        await reply(
            update,
            "I can import clients from a <b>.csv</b> file only. In Excel or Google Sheets "
            "choose “Download/Save as → CSV (UTF-8)”, then send me that file.",
        )
        return
    limit = clients.MAX_IMPORT_BYTES
    if document.file_size is not None and document.file_size > limit:
        size = document.file_size / (1024 * 1024)
        await reply(
            update,
            f"{escape(filename)} is {size:.1f} MB; I can import files up to "
            f"{limit // (1024 * 1024)} MB. Please split it into smaller files.",
        )
        return
    data = bytes(await (await document.get_file()).download_as_bytearray())
    progress: Message | None = None
    if len(data) > file_workers.THREAD_IMPORT_BYTES:
        progress = await reply(update, f"📥 Reading <b>{escape(_cut(filename, 60))}</b>…")

    async def answer(text: str) -> None:
        if progress is None:
            await reply(update, text)
        else:
            await _edit_progress(progress, text)

    shown = 0

    async def on_progress(step: clients.ImportProgress) -> None:
        nonlocal shown
        quarter = step.done * 4 // max(step.total, 1)
        if progress is not None and shown < quarter < 4:
            shown = quarter
            await _edit_progress(
                progress, _progress_text(filename, step.done, step.total, step.imported)
            )

    try:
        parsed = await file_workers.parse_import(data, await _region(context))
        report = await clients.import_parsed(
            context.db,
            context.clock,
            actor=context.member,
            parsed=parsed,
            max_clients=context.settings.max_clients_per_manager,
            progress=on_progress,
        )
    except DomainError as exc:  # the answer may be the progress message, edited
        await answer(f"I couldn't import {escape(filename)}: {escape(str(exc))}")
        return
    text = import_report_text(report, filename)
    if parsed.assumed_phones:
        region = team_settings.region_name(parsed.region, context.member.locale)
        text += (
            f"\n📞 {parsed.assumed_phones:,} phone number(s) had no country code; I read them "
            f"as {escape(region)} numbers."
        )
    await answer(text)


def _export_caption(user: User, made: ExportFiles, number: int) -> str:
    whose = "Everyone's clients" if user.is_lead else "Your clients"
    text = (
        f"{whose} and their contacts, one row per contact ({made.rows:,} rows); times in "
        f"{escape(user.timezone)}. Opens in Excel, Numbers or Google Sheets."
    )
    if len(made.parts) > 1:
        return (
            f"Part {number} of {len(made.parts)}: {text} Each part is a zipped CSV with the "
            "column titles; together they hold every row."
        )
    if made.parts[0].suffix == ".zip":
        return f"{text} Zipped: open the file to get clients.csv."
    return text


async def export(update: Update, context: NextStepContext) -> None:
    """/export: the person's clients (everyone's for a lead) and contacts as CSV.

    Made off the event loop into a temporary folder (removed afterwards, also after an
    error): a plain clients.csv when small, else zipped, in parts under Telegram's upload
    limit; refused with a reason when even that would be too many files.
    """
    user = context.member
    chat = update.effective_chat
    assert chat is not None
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="nextstep-export-"))
    try:
        async with showing_action(chat, ChatAction.UPLOAD_DOCUMENT):
            made = await file_workers.make_export(
                context.db,
                context.clock,
                actor=user,
                folder=folder,
                part_limit=EXPORT_PART_LIMIT,
                max_parts=EXPORT_MAX_PARTS,
            )
            if made.too_big:
                megabytes = EXPORT_PART_LIMIT / 1_000_000
                await reply(
                    update,
                    f"Your export is too big to send through Telegram: even zipped it needs "
                    f"more than {EXPORT_MAX_PARTS} files of {megabytes:g} MB "
                    f"(over {made.rows:,} rows). Please ask an admin for a copy of the "
                    "database instead (<code>python -m bot backup</code>).",
                )
                return
            for number, path in enumerate(made.parts, start=1):
                content = await asyncio.to_thread(path.read_bytes)
                await chat.send_document(
                    InputFile(content, filename=path.name),
                    caption=_export_caption(user, made, number),
                    write_timeout=UPLOAD_TIMEOUT_S,
                )
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)


async def park_newclient(context: NextStepContext, state: object, restart: bool) -> str | None:
    """Another flow took over: say so if a new client's details were being typed."""
    draft = draft_of(context, DRAFT)
    new_draft(context, DRAFT)
    if restart:  # /newclient again replaces the unsaved one
        return None
    name = (draft.get("values") or {}).get("name")
    if state in (FIELD, DUPLICATE) and name:
        return f"The new client “{escape(str(name))}” was not saved."
    return None


# --- wiring ---------------------------------------------------------------------------------


def handlers() -> list[tuple[object, int]]:
    """The client flow as one persistent conversation, then the card's stateless buttons."""
    text = filters.TEXT & ~filters.COMMAND
    conversation = Flow(
        name="newclient",
        entry_points=[
            CommandHandler("newclient", start_newclient),
            CallbackQueryHandler(ask_field_value, pattern=CLIENT_EDIT_FIELD.pattern),
            CallbackQueryHandler(ask_note, pattern=CLIENT_NOTE.pattern),
        ],
        states={
            FIELD: [
                MessageHandler(text, typed_field),
                CallbackQueryHandler(skip_field, pattern=NEW_CLIENT_SKIP.pattern),
            ],
            DUPLICATE: [
                CallbackQueryHandler(create_anyway, pattern=NEW_CLIENT_DUPLICATE.pattern),
                CallbackQueryHandler(open_existing, pattern=CLIENT_OPEN.pattern),
                MessageHandler(text, typed_while_duplicate),
            ],
            EDIT_VALUE: [
                MessageHandler(text, typed_field_value),
                CallbackQueryHandler(clear_field, pattern=NEW_CLIENT_CLEAR.pattern),
            ],
            NOTE: [MessageHandler(text, typed_note)],
        },
        fallbacks=[
            *flow_fallbacks(),
            MessageHandler(NOT_AN_ANSWER, not_text),
        ],
        park=park_newclient,
    )
    return [
        (conversation, 0),
        (CommandHandler("clients", list_clients), 0),
        (CommandHandler("export", export), 0),
        (CallbackQueryHandler(list_page, pattern=CLIENT_PAGE.pattern), 0),
        (CallbackQueryHandler(open_card, pattern=CLIENT_OPEN.pattern), 0),
        (CallbackQueryHandler(back_to_card, pattern=CLIENT_BACK.pattern), 0),
        (CallbackQueryHandler(edit_menu, pattern=CLIENT_EDIT.pattern), 0),
        (CallbackQueryHandler(status_menu, pattern=CLIENT_STATUS_MENU.pattern), 0),
        (CallbackQueryHandler(language_menu, pattern=CLIENT_LANGUAGE_MENU.pattern), 0),
        (CallbackQueryHandler(set_language, pattern=CLIENT_LANGUAGE.pattern), 0),
        (CallbackQueryHandler(set_status, pattern=CLIENT_STATUS.pattern), 0),
        (CallbackQueryHandler(show_notes, pattern=CLIENT_NOTES.pattern), 0),
        (CallbackQueryHandler(show_history, pattern=CLIENT_HISTORY.pattern), 0),
        (CallbackQueryHandler(pick_new_owner, pattern=CLIENT_REASSIGN.pattern), 0),
        (CallbackQueryHandler(reassign, pattern=CLIENT_REASSIGN_TO.pattern), 0),
        (MessageHandler(filters.Document.ALL & filters.ChatType.PRIVATE, import_document), 0),
    ]
