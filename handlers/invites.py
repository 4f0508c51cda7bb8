"""/invite: an admin or head picks a role and gets a one-time link for a new colleague."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler
from telegram.helpers import create_deep_linked_url

from bot.callback_data import unpack
from bot.context import NextStepContext
from bot.keyboards import button, keyboard
from bot.render import escape
from bot.services import access, invites
from bot.services.errors import DomainError
from bot.timefmt import format_moment
from handlers.common import edit, reply
from storage.users import Role

ROLE_BUTTONS = {Role.MANAGER: "Manager", Role.HEAD: "Head of sales", Role.ADMIN: "Admin"}


async def invite(update: Update, context: NextStepContext) -> None:
    """/invite: offer the roles this person may hand out."""
    roles = access.invitable_roles(context.member)
    if not roles:
        await reply(update, "Only admins and heads of sales can invite people.")
        return
    buttons = [[button(ROLE_BUTTONS[role], "inv", role.value)] for role in roles]
    await reply(
        update, "Whom are you inviting? Choose their role:", reply_markup=keyboard(buttons)
    )


async def create_link(update: Update, context: NextStepContext) -> None:
    """A role was chosen: create the invitation and show its link once."""
    query = update.callback_query
    assert query is not None
    parts = unpack(query.data, "inv", 1)
    roles = {role.value: role for role in Role}
    if parts is None or parts[0] not in roles:
        await query.answer("That button is not valid any more.", show_alert=True)
        return
    actor = context.member
    try:
        new = await invites.create_invite(
            context.db, context.clock, inviter=actor, role=roles[parts[0]]
        )
    except DomainError as exc:
        await query.answer(str(exc)[:200], show_alert=True)
        return
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


def handlers() -> list[tuple[object, int]]:
    """/invite and its role buttons."""
    return [
        (CommandHandler("invite", invite), 0),
        (CallbackQueryHandler(create_link, pattern=r"^inv:"), 0),
    ]
