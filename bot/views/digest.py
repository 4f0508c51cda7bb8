"""The digest as Telegram messages: sections rendered from `templates/digest/`, packed into
messages of at most 4096 characters, cut only between sections (or, inside a section longer
than a message, between its entries); the buttons of /digest and of the settings."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date as babel_date
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import Settings
from bot.services.digest.figures import (
    WEEKDAYS,
    Change,
    OwnSummary,
    PersonWeek,
    TeamDigest,
    Week,
    describe_schedule,
)
from bot.services.model import DigestKind, DigestPrefs, User
from bot.services.receivables.money import format_money
from bot.timefmt import format_date, format_moment, local_time
from bot.views.actions import DIGEST_DAY, DIGEST_PERIOD, DIGEST_SCHEDULE, DIGEST_TIME
from bot.views.keyboards import button, grid, keyboard
from bot.views.render import MAX_MESSAGE, environment, escape, split_message, telegram_length

logger = logging.getLogger(__name__)

TEAM_TEMPLATE = "digest/team.html.j2"
OWN_TEMPLATE = "digest/own.html.j2"
TEAM_SECTIONS = ("header", "attention", "team", "managers", "behaviour", "receivables", "footer")
OWN_SECTIONS = ("header", "figures", "pending", "overdue", "plan", "receivables")
PIECE_BREAK = "\n\n"
BUCKET_LABELS = {
    "current": "not due",
    "1-30": "1–30 d",
    "31-60": "31–60 d",
    "61-90": "61–90 d",
    "90+": "90+ d",
}
LISTED = 10
DIGEST_TIMES = ("07:00", "08:00", "09:00", "10:00", "12:00", "14:00", "16:00", "17:00", "18:00")


@dataclass(frozen=True, slots=True)
class TeamView:
    """Lists the team template shows, prepared here to keep the template simple."""

    week_range: str
    postponers: tuple[str, ...]
    postponers_more: int
    overnight: tuple[str, ...]
    overnight_more: int


def team_timezone(settings: Settings) -> str:
    """The zone the team's weeks are counted in: DEFAULT_TIMEZONE."""
    return settings.default_timezone


def week_range(week: Week, locale: str) -> str:
    """`16–22 Nov 2026`, `30 Nov – 6 Dec 2026`."""
    first, last = week.monday, week.sunday
    end = babel_date(last, "d MMM yyyy", locale=locale)
    if first.month == last.month:
        return f"{first.day}–{end}"
    start_format = "d MMM" if first.year == last.year else "d MMM yyyy"
    return f"{babel_date(first, start_format, locale=locale)} – {end}"


def _top(
    people: Sequence[PersonWeek],
    key: Callable[[PersonWeek], int],
    text: Callable[[PersonWeek], str],
) -> tuple[tuple[str, ...], int]:
    chosen = sorted(
        (person for person in people if key(person)),
        key=lambda person: (-key(person), person.name.casefold()),
    )
    return tuple(text(person) for person in chosen[:LISTED]), max(0, len(chosen) - LISTED)


def _formatters(viewer: User) -> dict[str, Any]:
    zone, locale = viewer.timezone, viewer.locale
    return {
        "fmt_moment": lambda moment: format_moment(moment, zone, locale),
        "fmt_short": lambda moment: format_date(local_time(moment, zone).date(), locale),
        "fmt_clock": lambda moment: local_time(moment, zone).strftime("%H:%M"),
        "fmt_date": lambda day: format_date(day, locale),
        "money": lambda minor, currency: format_money(minor, currency, locale),
        "bucket_label": lambda bucket: BUCKET_LABELS[bucket.value],
    }


def _render_sections(template: str, names: Sequence[str], context: dict[str, Any]) -> list[str]:
    """Each named block of the template rendered on its own (empty ones left out)."""
    tmpl = environment().get_template(template)
    sections = []
    for name in names:
        text = "".join(tmpl.blocks[name](tmpl.new_context(context))).strip()
        if text:
            sections.append(text)
    return sections


def pack_sections(sections: Sequence[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Messages of at most `limit` (UTF-16 units of the raw HTML, which over-counts).

    Whole sections share a message while they fit; a section that does not fit in what is
    left starts a new message; one longer than a message is cut between its entries (blank
    lines), and an entry longer than a message by `split_message`.
    """
    messages: list[str] = []
    current = ""

    def fits(text: str) -> bool:
        return telegram_length(text) <= limit

    def add(piece: str) -> None:
        nonlocal current
        if current and fits(current + PIECE_BREAK + piece):
            current += PIECE_BREAK + piece
            return
        if current:
            messages.append(current)
        current = piece

    for section in sections:
        if fits(section):
            add(section)
            continue
        if current:
            messages.append(current)
            current = ""
        for piece in section.split(PIECE_BREAK):
            if not piece.strip():
                continue
            for part in split_message(piece, limit) if not fits(piece) else [piece]:
                add(part)
    if current:
        messages.append(current)
    return messages


def team_context(digest: TeamDigest, viewer: User) -> dict[str, Any]:
    """What `digest/team.html.j2` renders, in the viewer's zone and language."""
    postponers, postponers_more = _top(
        digest.people,
        lambda p: p.snoozes + p.reschedules,
        lambda p: f"{p.name} {p.snoozes}/{p.reschedules}",
    )
    overnight, overnight_more = _top(
        digest.people, lambda p: p.missing_overnight, lambda p: f"{p.name} {p.missing_overnight}"
    )
    view = TeamView(
        week_range=week_range(digest.week, viewer.locale),
        postponers=postponers,
        postponers_more=postponers_more,
        overnight=overnight,
        overnight_more=overnight_more,
    )
    return {
        **_formatters(viewer),
        "days_since": _days_since(digest.now),
        "d": digest,
        "delta": _deltas(digest.changes),
        "v": view,
    }


def render_team_digest(digest: TeamDigest, viewer: User) -> list[str]:
    """The head's digest as Telegram messages, in the viewer's zone and language."""
    context = team_context(digest, viewer)
    return pack_sections(_render_sections(TEAM_TEMPLATE, TEAM_SECTIONS, context))


def own_context(summary: OwnSummary, viewer: User) -> dict[str, Any]:
    """What `digest/own.html.j2` renders, in the viewer's zone and language."""
    plan_days: dict[dt.date, list[Any]] = {}
    for item in summary.plan:
        plan_days.setdefault(local_time(item.due_at, viewer.timezone).date(), []).append(item)
    return {
        **_formatters(viewer),
        "days_since": _days_since(summary.now),
        "s": summary,
        "delta": _deltas(summary.changes),
        "week_range": week_range(summary.week, viewer.locale),
        "plan_days": sorted(plan_days.items()),
    }


def render_own_summary(summary: OwnSummary, viewer: User) -> list[str]:
    """A manager's "Your week" as Telegram messages."""
    context = own_context(summary, viewer)
    return pack_sections(_render_sections(OWN_TEMPLATE, OWN_SECTIONS, context))


def _deltas(changes: Sequence[Change]) -> Callable[[str], str]:
    """`delta(key)`: ` (▲3)`, ` (▼2 pts)`, ` (=)` or nothing, for the template."""
    by_key = {change.key: change for change in changes}

    def delta(key: str) -> str:
        change = by_key[key]
        if not change.arrow:
            return ""
        unit = " pts" if change.unit == "%" and change.delta else ""
        return f" ({change.arrow}{unit})"

    return delta


def _days_since(now: dt.datetime) -> Callable[[dt.datetime], str]:
    def days_since(moment: dt.datetime) -> str:
        days = (now - moment).days
        return "less than a day" if days < 1 else f"{days} day{'s' if days != 1 else ''}"

    return days_since


def period_keyboard(*, team: bool) -> InlineKeyboardMarkup | None:
    """This week so far / Last week (the team's digest for leads, one's own for managers)."""
    scope = "t" if team else "o"
    return keyboard(
        [
            [
                button("This week so far", DIGEST_PERIOD, scope, "this"),
                button("Last week", DIGEST_PERIOD, scope, "last"),
            ]
        ]
    )


def settings_button() -> InlineKeyboardButton:
    """The button on the /settings card that opens the digest schedule."""
    return button("📊 Weekly digest", DIGEST_SCHEDULE)


def schedule_text(user: User, prefs: DigestPrefs, kind: DigestKind) -> str:
    """What the digest schedule screen says."""
    if kind is DigestKind.TEAM:
        now = describe_schedule(prefs.digest_day, prefs.digest_time)
        return (
            f"<b>Weekly team digest</b>: {now} (your time, {escape(user.timezone)}).\n"
            "It reports the last full week. Choose the day, then the time:"
        )
    now = describe_schedule(prefs.week_summary_day, prefs.week_summary_time)
    return (
        f"<b>“Your week” summary</b>: {now} (your time, {escape(user.timezone)}).\n"
        "Your figures, loose ends and next week's plan. Choose the day, then the time:"
    )


def schedule_keyboard(kind: DigestKind, prefs: DigestPrefs) -> InlineKeyboardMarkup | None:
    """Days (the chosen one ticked) and Off, then times."""
    code = "t" if kind is DigestKind.TEAM else "o"
    day = prefs.digest_day if kind is DigestKind.TEAM else prefs.week_summary_day
    time = prefs.digest_time if kind is DigestKind.TEAM else prefs.week_summary_time
    days = [
        button(("✅ " if day == number else "") + name, DIGEST_DAY, code, number)
        for number, name in enumerate(WEEKDAYS, start=1)
    ]
    days.append(button(("✅ " if day == 0 else "") + "Off", DIGEST_DAY, code, 0))
    current = time.strftime("%H:%M")
    times = [
        button(
            ("✅ " if current == text else "") + text,
            DIGEST_TIME,
            code,
            text.replace(":", ""),
        )
        for text in DIGEST_TIMES
    ]
    return keyboard([*grid(days, 4), *grid(times, 3)])
