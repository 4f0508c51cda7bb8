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

from bot.services.model import Role, User
from bot.views.role_commands import GROUP_COMMANDS, Command, commands_for

logger = logging.getLogger(__name__)


def _menu(commands: list[Command] | tuple[Command, ...]) -> list[BotCommand]:
    return [BotCommand(command.name, command.description) for command in commands]


async def publish_default_commands(bot: Bot) -> None:
    """Managers' commands in private chats (most people), /start and /help in groups."""
    try:
        await bot.set_my_commands(
            _menu(commands_for(Role.MANAGER)), scope=BotCommandScopeAllPrivateChats()
        )
        await bot.set_my_commands(_menu(GROUP_COMMANDS), scope=BotCommandScopeAllGroupChats())
    except TelegramError as exc:
        logger.warning("Could not publish the command menu: %s", exc)


async def publish_commands_for(bot: Bot, user: User) -> None:
    """Heads and admins get their own menu in their chat; others fall back to the default."""
    scope = BotCommandScopeChat(user.telegram_id)
    try:
        if user.active and user.is_lead:
            await bot.set_my_commands(_menu(commands_for(user.role)), scope=scope)
        else:
            await bot.delete_my_commands(scope=scope)
    except TelegramError as exc:
        logger.warning("Could not publish the command menu for %s: %s", user.telegram_id, exc)
