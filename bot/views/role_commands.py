"""The command menu per role: one list drives both /help and Telegram's command menu."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_
from bot.services.model import Role

EVERYONE = frozenset(Role)
LEADS = frozenset({Role.ADMIN, Role.HEAD})


@dataclass(frozen=True, slots=True)
class Command:
    """A slash command, who sees it, and its one-line description (English, marked for the
    catalogue; translated where it is shown)."""

    name: str
    description: str
    roles: frozenset[Role] = EVERYONE


COMMANDS: tuple[Command, ...] = (
    Command("start", N_("Start, or show what I can do")),
    Command("help", N_("What I can do for you")),
    Command("log", N_("Log a call, meeting or message with a client")),
    Command("call", N_("Quick log: /call <client> <what was said>")),
    Command("meeting", N_("Quick log: /meeting <client> <what was agreed>")),
    Command("agenda", N_("What to do now: missing next steps, overdue and today's")),
    Command("digest", N_("The week at a glance: the team's (heads) or your own")),
    Command("plan", N_("Monthly plan and progress: your own, or the team's (heads set them)")),
    Command("refusals", N_("Why clients refused this month, by reason: /refusals [month]")),
    Command("newclient", N_("Add a client (or in one line: name; contact; phone; e-mail)")),
    Command("clients", N_("Your clients, or search: /clients <name, phone or tag>")),
    Command("export", N_("Download your clients and contacts as a CSV file")),
    Command("newinvoice", N_("Add an invoice (or in one line: client; number; amount; due)")),
    Command("invoices", N_("Open invoices, overdue first; /invoices aging for the aging")),
    Command("templates", N_("Tactful reply templates filled with a client's details")),
    Command("tact", N_("Check the wording of a draft: /tact <your text>")),
    Command("away", N_("Away until a date: /away 2026-12-15 [deputy]")),
    Command("back", N_("Back from away: reminders resume")),
    Command("settings", N_("Your time zone and preferences")),
    Command("calendar", N_("Your next steps in your phone's calendar: a private link")),
    Command("invite", N_("Invite a colleague with a one-time link"), LEADS),
    Command("team", N_("People, roles and access"), LEADS),
    Command("cancel", N_("Leave the current step")),
)

GROUP_COMMANDS: tuple[Command, ...] = (
    Command("start", N_("How to use NextStep")),
    Command("help", N_("How to use NextStep")),
)


def commands_for(role: Role) -> list[Command]:
    """The commands a person with this role can use, in menu order."""
    return [command for command in COMMANDS if role in command.roles]
