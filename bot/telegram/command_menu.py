"""Publishing the command menu per role with set_my_commands; failures never stop the bot."""

from __future__ import annotations

import logging

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import TelegramError

from bot import i18n
from bot.services.model import Role, User
from bot.views.role_commands import GROUP_COMMANDS, Command, commands_for

logger = logging.getLogger(__name__)


def _menu(commands: list[Command] | tuple[Command, ...], locale: str) -> list[BotCommand]:
    with i18n.using(locale):
        return [
            BotCommand(command.name, i18n.gettext(command.description)) for command in commands
        ]


async def publish_default_commands(bot: Bot) -> None:
    """Managers' commands in private chats (most people), /start and /help in groups, in
    each language: Telegram shows the one of the person's app language (English otherwise)."""
    try:
        for language in i18n.LOCALES:
            code = None if language == i18n.SOURCE else language
            await bot.set_my_commands(
                _menu(commands_for(Role.MANAGER), language),
                scope=BotCommandScopeAllPrivateChats(),
                language_code=code,
            )
            await bot.set_my_commands(
                _menu(GROUP_COMMANDS, language),
                scope=BotCommandScopeAllGroupChats(),
                language_code=code,
            )
    except TelegramError as exc:
        logger.warning("Could not publish the command menu: %s", exc)


async def publish_commands_for(bot: Bot, user: User) -> None:
    """Heads and admins get their own menu in their chat, and so does anyone who chose a
    language other than English in the bot (whatever their app's language); others fall back
    to the default menus."""
    scope = BotCommandScopeChat(user.telegram_id)
    own_language = i18n.language_of(user.locale) != i18n.SOURCE
    try:
        if user.active and (user.is_lead or own_language):
            await bot.set_my_commands(_menu(commands_for(user.role), user.locale), scope=scope)
        else:
            await bot.delete_my_commands(scope=scope)
    except TelegramError as exc:
        logger.warning("Could not publish the command menu for %s: %s", user.telegram_id, exc)
