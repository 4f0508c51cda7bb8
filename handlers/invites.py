"""/invite: an admin or head picks a role and gets a one-time link for a new colleague, or
lists their open invitations (an admin: everyone's) and revokes one."""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler
from telegram.helpers import create_deep_linked_url

from bot.services import access, invites
from bot.services.model import Role, User
from bot.telegram.context import NextStepContext
from bot.timefmt import format_day, format_moment
from bot.views.actions import INVITE_LIST, INVITE_REVOKE, INVITE_ROLE
from bot.views.callback_data import any_of
from bot.views.keyboards import button, keyboard
from bot.views.render import escape
from handlers.common import edit, pressed, query_of, reply

ROLE_BUTTONS = {Role.MANAGER: "Manager", Role.HEAD: "Head of sales", Role.ADMIN: "Admin"}
MAX_LISTED = 20


OPEN_LABEL = "Open invitations"  # a contract: people are told to press it
INVITE_BUTTONS = any_of(INVITE_ROLE, INVITE_LIST, INVITE_REVOKE)  # one handler dispatches


async def invite(update: Update, context: NextStepContext) -> None:
    """/invite: offer the roles this person may hand out, and their open invitations."""
    roles = access.invitable_roles(context.member)
    if not roles:
        await reply(update, "Only admins and heads of sales can invite people.")
        return
    buttons = [[button(ROLE_BUTTONS[role], INVITE_ROLE, role.value)] for role in roles]
    buttons.append([button(OPEN_LABEL, INVITE_LIST)])
    await reply(
        update, "Whom are you inviting? Choose their role:", reply_markup=keyboard(buttons)
    )


async def create_link(update: Update, context: NextStepContext) -> None:
    """A button under /invite: a role (create its link), Open invitations, or Revoke."""
    query = query_of(update)
    if INVITE_LIST.matches(query.data):
        await _show_open(query, context)
        return
    revoke = INVITE_REVOKE.parse(query.data)
    if revoke is not None:
        await _revoke(query, context, revoke[0])
        return
    values = await pressed(update, INVITE_ROLE)
    if values is None:
        return
    actor = context.member
    new = await invites.create_invite(
        context.db, context.clock, inviter=actor, role=Role(values[0])
    )
    await query.answer()
    link = create_deep_linked_url(context.bot.username, new.token)
    expires = format_moment(new.expires_at, actor.timezone, actor.locale)
    await edit(
        query,
        f"Invitation for a new <b>{escape(ROLE_BUTTONS[new.role].lower())}</b>:\n"
        f"{escape(link)}\n\n"
        f"Send this link to your colleague. It works once and expires on {escape(expires)}. "
        "I show it only now, so copy it before you leave this chat.",
    )


def _open_page(
    found: list[invites.OpenInvite], actor: User, note: str | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The list of open invitations with a Revoke button for each."""
    lines = [f"<b>{OPEN_LABEL}</b>" + ("" if actor.role is Role.ADMIN else " (yours)")]
    if note:
        lines.insert(0, note + "\n")
    rows = []
    for item in found[:MAX_LISTED]:
        role = ROLE_BUTTONS[item.role].lower()
        made = format_day(item.created_at, actor.timezone, actor.locale)
        expires = format_day(item.expires_at, actor.timezone, actor.locale)
        by = f" by {escape(item.inviter_name)}" if item.created_by != actor.telegram_id else ""
        lines.append(f"• #{item.id} {escape(role)} · made {made}{by} · expires {expires}")
        rows.append([button(f"Revoke #{item.id} ({role})", INVITE_REVOKE, item.id)])
    if not found:
        lines.append("None: every link has been used, revoked or has expired.")
    elif len(found) > MAX_LISTED:
        lines.append(f"…and {len(found) - MAX_LISTED} more.")
    return "\n".join(lines), keyboard(rows)


async def _show_open(query: CallbackQuery, context: NextStepContext) -> None:
    """Open invitations pressed: list them."""
    found = await invites.open_invites(context.db, context.clock, actor=context.member)
    await query.answer()
    text, markup = _open_page(found, context.member)
    await edit(query, text, markup)


async def _revoke(query: CallbackQuery, context: NextStepContext, invite_id: int) -> None:
    """Revoke #n pressed: revoke it (the service re-checks who may), then list the rest."""
    actor = context.member
    revoked = await invites.revoke_invite(
        context.db, context.clock, actor=actor, invite_id=invite_id
    )
    await query.answer()
    found = await invites.open_invites(context.db, context.clock, actor=actor)
    role = ROLE_BUTTONS[revoked.role].lower()
    note = f"Invitation #{revoked.id} ({escape(role)}) revoked: its link no longer works."
    text, markup = _open_page(found, actor, note)
    await edit(query, text, markup)


def handlers() -> list[tuple[object, int]]:
    """/invite and its role buttons."""
    return [
        (CommandHandler("invite", invite), 0),
        (CallbackQueryHandler(create_link, pattern=INVITE_BUTTONS), 0),
    ]
