"""The command menu per role: one list drives both /help and Telegram's command menu."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.model import Role

EVERYONE = frozenset(Role)
LEADS = frozenset({Role.ADMIN, Role.HEAD})


@dataclass(frozen=True, slots=True)
class Command:
    """A slash command, who sees it, and its one-line description."""

    name: str
    description: str
    roles: frozenset[Role] = EVERYONE


COMMANDS: tuple[Command, ...] = (
    Command("start", "Start, or show what I can do"),
    Command("help", "What I can do for you"),
    Command("log", "Log a call, meeting or message with a client"),
    Command("call", "Quick log: /call <client> <what was said>"),
    Command("meeting", "Quick log: /meeting <client> <what was agreed>"),
    Command("agenda", "What to do now: missing next steps, overdue and today's"),
    Command("digest", "The week at a glance: the team's (heads) or your own"),
    Command("newclient", "Add a client (or in one line: name; contact; phone; e-mail)"),
    Command("clients", "Your clients, or search: /clients <name, phone or tag>"),
    Command("export", "Download your clients and contacts as a CSV file"),
    Command("newinvoice", "Add an invoice (or in one line: client; number; amount; due)"),
    Command("invoices", "Open invoices, overdue first; /invoices aging for the aging"),
    Command("templates", "Tactful reply templates filled with a client's details"),
    Command("tact", "Check the wording of a draft: /tact <your text>"),
    Command("away", "Away until a date: /away 2026-12-15 [deputy]"),
    Command("back", "Back from away: reminders resume"),
    Command("settings", "Your time zone and preferences"),
    Command("calendar", "Your next steps in your phone's calendar: a private link"),
    Command("invite", "Invite a colleague with a one-time link", LEADS),
    Command("team", "People, roles and access", LEADS),
    Command("cancel", "Leave the current step"),
)

GROUP_COMMANDS: tuple[Command, ...] = (
    Command("start", "How to use NextStep"),
    Command("help", "How to use NextStep"),
)


def commands_for(role: Role) -> list[Command]:
    """The commands a person with this role can use, in menu order."""
    return [command for command in COMMANDS if role in command.roles]
