"""/team: people with role and status; admins change roles and switch access off or on."""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.services import team
from bot.services.model import Role, User
from bot.telegram.command_menu import publish_commands_for
from bot.telegram.context import NextStepContext
from bot.timefmt import format_day
from bot.views.actions import TEAM_ACCESS, TEAM_OPEN, TEAM_PAGE, TEAM_ROLE
from bot.views.callback_data import any_of
from bot.views.keyboards import button, grid, keyboard
from bot.views.render import escape
from handlers.common import edit, query_of, reply

PAGE_SIZE = 12
ROLE_NAMES = {Role.ADMIN: "admin", Role.HEAD: "head of sales", Role.MANAGER: "manager"}
TEAM_BUTTONS = any_of(TEAM_PAGE, TEAM_OPEN, TEAM_ROLE, TEAM_ACCESS)  # one handler dispatches
NOT_VALID = "That button is not valid any more."


def status_of(user: User, now: dt.datetime | None = None, viewer: User | None = None) -> str:
    """Active, deactivated, unreachable (blocked the bot), or away until a date."""
    if not user.active:
        return "deactivated"
    if not user.reachable:
        return "unreachable (blocked the bot)"
    if now is not None and user.away_until is not None and user.away_until > now:
        shown = viewer or user
        return f"away until {format_day(user.away_until, shown.timezone, shown.locale)}"
    return "active"


def _away_detail(note: team.AwayNote | None) -> str:
    if note is None:
        return ""
    if note.deputy is not None:
        return f", deputy {escape(note.deputy.name)}"
    if not note.due_meanwhile:
        return ", no deputy, nothing falls due"
    names = ", ".join(escape(entry.client_name) for entry in note.due_meanwhile[:3])
    more = f" and {len(note.due_meanwhile) - 3} more" if len(note.due_meanwhile) > 3 else ""
    count = len(note.due_meanwhile)
    return f", no deputy: ⚠️ {count} step{'s' * (count != 1)} fall due meanwhile ({names}{more})"


def _line(user: User, now: dt.datetime, viewer: User, note: team.AwayNote | None) -> str:
    handle = f" @{escape(user.username)}" if user.username else ""
    return (
        f"• <b>{escape(user.name)}</b>{handle} — {ROLE_NAMES[user.role]} · "
        f"{status_of(user, now, viewer)}{_away_detail(note)}"
    )


def _team_page(
    people: list[User],
    page: int,
    actor: User,
    now: dt.datetime,
    notes: dict[int, team.AwayNote],
) -> tuple[str, list[list[InlineKeyboardButton]]]:
    pages = max(1, -(-len(people) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = people[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    title = f"<b>Team</b> ({len(people)} people)"
    if pages > 1:
        title += f", page {page + 1} of {pages}"
    lines = [title, *(_line(user, now, actor, notes.get(user.telegram_id)) for user in shown)]
    rows: list[list[InlineKeyboardButton]] = []
    if actor.role is Role.ADMIN:
        lines.append("\nTap a person to change their role or access.")
        people_buttons = [button(user.name[:40], TEAM_OPEN, user.telegram_id) for user in shown]
        rows.extend(grid(people_buttons, 2))
    nav = []
    if page > 0:
        nav.append(button("« Previous", TEAM_PAGE, page - 1))
    if page < pages - 1:
        nav.append(button("Next »", TEAM_PAGE, page + 1))
    rows.append(nav)
    return "\n".join(lines), rows


def _card(
    user: User, actor: User, now: dt.datetime
) -> tuple[str, list[list[InlineKeyboardButton]]]:
    text = "\n".join(
        [
            f"<b>{escape(user.name)}</b>"
            + (f" @{escape(user.username)}" if user.username else ""),
            f"Role: {ROLE_NAMES[user.role]}",
            f"Status: {status_of(user, now, actor)}",
            f"Time zone: {escape(user.timezone)}",
            f"Joined: {format_day(user.created_at, actor.timezone, actor.locale)}",
        ]
    )
    rows: list[list[InlineKeyboardButton]] = []
    if user.telegram_id != actor.telegram_id:
        rows.append(
            [
                button(f"Make {ROLE_NAMES[role]}", TEAM_ROLE, user.telegram_id, role.value)
                for role in Role
                if role is not user.role
            ]
        )
        action = ("Reactivate", "on") if not user.active else ("Deactivate", "off")
        rows.append([button(action[0], TEAM_ACCESS, action[1], user.telegram_id)])
    rows.append([button("« Back to team", TEAM_PAGE, 0)])
    return text, rows


async def show_team(update: Update, context: NextStepContext) -> None:
    """/team."""
    people = await team.list_team(context.db, actor=context.member)
    now = context.clock.now()
    notes = await team.away_notes(context.db, people, now)
    text, rows = _team_page(people, 0, context.member, now, notes)
    await reply(update, text, reply_markup=keyboard(rows))


async def on_team_button(update: Update, context: NextStepContext) -> None:
    """Paging, opening a person, and an admin's role and access changes."""
    query = query_of(update)
    actor = context.member
    data = query.data
    if (page := TEAM_PAGE.parse(data)) is not None:
        people = await team.list_team(context.db, actor=actor)
        await query.answer()
        now = context.clock.now()
        notes = await team.away_notes(context.db, people, now)
        text, rows = _team_page(people, page[0], actor, now, notes)
        await edit(query, text, keyboard(rows))
        return
    if (opened := TEAM_OPEN.parse(data)) is not None:
        await team.list_team(context.db, actor=actor)  # leads only
        person = await team.get_member(context.db, opened[0])
        changed = False
    elif (role := TEAM_ROLE.parse(data)) is not None:
        person = await team.change_role(
            context.db, context.clock, actor=actor, target_id=role[0], role=Role(role[1])
        )
        changed = True
    elif (access := TEAM_ACCESS.parse(data)) is not None:
        switch, target = access
        person = await team.set_active(
            context.db, context.clock, actor=actor, target_id=target, active=switch == "on"
        )
        changed = True
    else:
        await query.answer(NOT_VALID, show_alert=True)
        return
    await query.answer()
    if changed:
        await publish_commands_for(context.bot, person)
    text, rows = _card(person, actor, context.clock.now())
    markup = keyboard(rows) if actor.role is Role.ADMIN else keyboard([rows[-1]])
    await edit(query, text, markup)


def handlers() -> list[tuple[object, int]]:
    """/team and its buttons."""
    return [
        (CommandHandler("team", show_team), 0),
        (CallbackQueryHandler(on_team_button, pattern=TEAM_BUTTONS), 0),
    ]
