"""Tracks whether a person blocked or unblocked the bot (my_chat_member updates)."""

from __future__ import annotations

from telegram import ChatMember, Update
from telegram.constants import ChatType
from telegram.ext import ChatMemberHandler

from bot.services import team
from bot.telegram.context import NextStepContext


async def track_block(update: Update, context: NextStepContext) -> None:
    """A private chat's member status changed: kicked means blocked, member means unblocked."""
    change = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        return
    status = change.new_chat_member.status
    reachable = status not in (ChatMember.BANNED, ChatMember.LEFT)
    await team.set_reachable(context.db, context.clock, change.chat.id, reachable=reachable)


def handlers() -> list[tuple[object, int]]:
    """my_chat_member in private chats."""
    return [(ChatMemberHandler(track_block, ChatMemberHandler.MY_CHAT_MEMBER), 0)]
