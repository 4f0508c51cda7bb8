"""/start (invitations, first admins, access requests) and /help."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot import i18n
from bot.i18n import N_
from bot.i18n import gettext as _
from bot.services import access, invites, team_settings
from bot.services.access import RequestOutcome
from bot.services.invites import RedeemOutcome
from bot.services.model import Role, User
from bot.telegram.command_menu import publish_commands_for
from bot.telegram.context import NextStepContext
from bot.telegram.notify import send_quietly
from bot.views.actions import ACCESS_DECIDE
from bot.views.keyboards import button, keyboard
from bot.views.render import render
from bot.views.role_commands import commands_for
from handlers.access import SWITCHED_OFF
from handlers.common import display_name, reply

ROLE_LABELS = {
    Role.ADMIN: N_("admin"),
    Role.HEAD: N_("head of sales"),
    Role.MANAGER: N_("manager"),
}
REDEEM_REFUSALS = {
    RedeemOutcome.UNKNOWN: N_(
        "Sorry, that invitation link isn't valid. Please ask for a new one, and open it "
        "exactly as you received it."
    ),
    RedeemOutcome.USED: N_(
        "Sorry, that invitation link has already been used. Each link works once; "
        "please ask for a new one."
    ),
    RedeemOutcome.EXPIRED: N_(
        "Sorry, that invitation link has expired (links last 7 days). Please ask for a new one."
    ),
    RedeemOutcome.REVOKED: N_(
        "Sorry, that invitation link is no longer valid: it was revoked, or whoever made it "
        "can't invite people any more. Please ask an admin or head of sales for a new one."
    ),
}


def help_text(user: User, greeting: str | None = None) -> str:
    """The role's introduction and command list."""
    return render(
        "texts/help.html.j2",
        greeting=greeting,
        role=user.role.value,
        role_label=_(ROLE_LABELS[user.role]),
        # Translated here: a plain string is escaped by the template ("/call <client> …").
        commands=[(command.name, _(command.description)) for command in commands_for(user.role)],
        timezone=user.timezone,
    )


async def start(update: Update, context: NextStepContext) -> None:
    """Greet members; let invited people and configured admins in; queue strangers' requests.

    A deactivated person only gets back in with a valid invitation; otherwise they hear that
    their access was switched off, and no lead is asked (only an admin reactivates, in /team).
    """
    person = update.effective_user
    assert person is not None
    payload = context.args[0] if context.args else None
    if context.actor is not None:
        greeting = _("Hello, {name}!").format(name=context.actor.name)
        await reply(update, help_text(context.actor, greeting=greeting))
        return
    name = display_name(person.first_name, person.last_name)
    settings = context.settings
    # A new person speaks the language their Telegram is in, if the bot has it.
    locale = await team_settings.new_person_locale(
        context.db, person.language_code, settings.default_locale
    )
    if payload is not None:
        redemption = await invites.redeem_invite(
            context.db,
            context.clock,
            token=payload,
            telegram_id=person.id,
            name=name,
            username=person.username,
            timezone=settings.default_timezone,
            locale=locale,
        )
        joined = redemption.user
        if redemption.outcome in {RedeemOutcome.JOINED, RedeemOutcome.REJOINED} and joined:
            again = redemption.outcome is RedeemOutcome.REJOINED
            greeting = (
                _("Welcome back to NextStep, {name}!")
                if again
                else _("Welcome to NextStep, {name}!")
            ).format(name=joined.name)
            await reply(update, help_text(joined, greeting=greeting))
            await publish_commands_for(context.bot, joined)
            return
        if redemption.outcome in REDEEM_REFUSALS:
            await reply(update, _(REDEEM_REFUSALS[redemption.outcome]))
            return
    known = await access.find_person(context.db, person.id)
    if known is not None and not known.active:
        await reply(update, _(SWITCHED_OFF))
        return
    if known is None and person.id in settings.admin_telegram_ids:
        # Switched off a moment ago: Deactivated, answered by the error handler (the list
        # never overrides an admin).
        admin = await access.bootstrap_admin(
            context.db,
            context.clock,
            telegram_id=person.id,
            name=name,
            username=person.username,
            timezone=settings.default_timezone,
            locale=locale,
        )
        greeting = _("Welcome, {name}! You are an admin.").format(name=admin.name)
        await reply(update, help_text(admin, greeting=greeting))
        await publish_commands_for(context.bot, admin)
        return
    await ask_for_access(update, context, name)


async def ask_for_access(update: Update, context: NextStepContext, name: str) -> None:
    """Tell a stranger the bot is invite-only and ask every lead to approve or decline them."""
    person = update.effective_user
    assert person is not None
    # A deactivated person is refused (Deactivated, answered by the error handler): no lead
    # is asked.
    result = await access.request_access(
        context.db,
        context.clock,
        telegram_id=person.id,
        name=name,
        username=person.username,
        locale=await team_settings.new_person_locale(
            context.db, person.language_code, context.settings.default_locale
        ),
    )
    if not result.leads:
        state = "nobody"
    else:
        state = "created" if result.outcome is RequestOutcome.CREATED else "pending"
    await reply(update, render("texts/invite_only.html.j2", state=state))
    if result.outcome is not RequestOutcome.CREATED:
        return
    request = result.request
    for lead in result.leads:
        with i18n.using(lead.locale):  # each lead is asked in their own language
            text = render(
                "texts/access_request.html.j2",
                name=request.name,
                username=request.username,
                telegram_id=request.telegram_id,
            )
            buttons = [button(_("Approve as manager"), ACCESS_DECIDE, "mgr", request.id)]
            if Role.HEAD in access.invitable_roles(lead):
                buttons.append(button(_("Approve as head"), ACCESS_DECIDE, "head", request.id))
            markup = keyboard([buttons, [button(_("Decline"), ACCESS_DECIDE, "no", request.id)]])
        await send_quietly(
            context.bot, context.db, context.clock, lead.telegram_id, text, reply_markup=markup
        )


async def show_help(update: Update, context: NextStepContext) -> None:
    """/help: the role's introduction and commands."""
    await reply(update, help_text(context.member))


def handlers() -> list[tuple[object, int]]:
    """/start and /help."""
    return [(CommandHandler("start", start), 0), (CommandHandler("help", show_help), 0)]
