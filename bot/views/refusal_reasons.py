"""Refusal reasons as people see them: the preset buttons of "🚫 Client refused", and the
`/refusals` report with its drill-down per reason (the clients behind it, as buttons)."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.services.model import User
from bot.services.months import month_name
from bot.services.refusal_reasons import Preset, ReasonGroup, RefusalReport
from bot.timefmt import format_date, local_time
from bot.views.actions import CLIENT_OPEN, NEXT_STEP_REFUSAL, REFUSALS_HOME, REFUSALS_REASON
from bot.views.keyboards import button, grid, keyboard
from bot.views.render import render

PRESET_LABELS: dict[Preset, str] = {
    Preset.PRICE: "💰 Price",
    Preset.TIMING: "⏳ Timing",
    Preset.COMPETITOR: "🥊 Competitor",
    Preset.NO_NEED: "🤷 No need",
    Preset.NO_BUDGET: "💸 No budget",
    Preset.QUALITY: "🛠 Quality / returns",
    Preset.OTHER: "✏️ Other",
}
"""The preset reasons' buttons; their words (without the emoji) are kept as the reason."""
REASON_QUESTION = (
    "Why did the client refuse? Tap a reason, or type it in a few words "
    "(your words are kept as well)."
)
OTHER_QUESTION = "What was the reason? Send it in a few words."
CLIENT_BUTTONS = 12
"""Clients offered as buttons under one reason (the most recent refusals first)."""


def preset_words(preset: Preset) -> str:
    """A preset's label without its emoji ("Price", "Quality / returns"): the words kept."""
    return PRESET_LABELS[preset].split(" ", 1)[1]


def reason_keyboard(contact_id: int) -> InlineKeyboardMarkup | None:
    """The seven preset reasons for a contact being closed as refused."""
    buttons = [
        button(label, NEXT_STEP_REFUSAL, preset.value, contact_id)
        for preset, label in PRESET_LABELS.items()
    ]
    return keyboard(grid(buttons, 2))


def _change(now: int, before: int) -> str:
    if now == before:
        return "="
    return f"▲{now - before}" if now > before else f"▼{before - now}"


def report_context(report: RefusalReport, viewer: User) -> dict[str, Any]:
    """What `texts/refusals.html.j2` renders (with `g`: one reason, or None)."""
    return {
        "r": report,
        "month": month_name(report.month, viewer.locale),
        "previous": month_name(report.previous, viewer.locale),
        "label": lambda preset: PRESET_LABELS[preset],
        "change": _change,
        "fmt_date": lambda moment: format_date(
            local_time(moment, viewer.timezone).date(), viewer.locale
        ),
    }


def render_report(report: RefusalReport, viewer: User) -> str:
    """The month's refusals by reason, with counts, per manager and against before."""
    return render("texts/refusals.html.j2", **report_context(report, viewer), g=None)


def render_reason(report: RefusalReport, group: ReasonGroup, viewer: User) -> str:
    """One reason's refusals: each client, who, when and the words."""
    return render("texts/refusals.html.j2", **report_context(report, viewer), g=group)


def report_keyboard(report: RefusalReport) -> InlineKeyboardMarkup | None:
    """A button per reason with refusals this month (its clients behind it)."""
    buttons = [
        button(
            f"{PRESET_LABELS[group.preset]} · {group.count}",
            REFUSALS_REASON,
            report.month.iso,
            group.preset.value,
        )
        for group in report.groups
        if group.count
    ]
    return keyboard(grid(buttons, 2))


def reason_keyboard_for(report: RefusalReport, group: ReasonGroup) -> InlineKeyboardMarkup | None:
    """The clients behind a reason (each opens its card), then « All reasons."""
    seen: dict[int, str] = {}
    for item in group.items:
        seen.setdefault(item.client_id, item.client_name)
    rows: list[list[InlineKeyboardButton]] = grid(
        [
            button(f"📇 {name[:30]}", CLIENT_OPEN, client_id)
            for client_id, name in list(seen.items())[:CLIENT_BUTTONS]
        ],
        2,
    )
    rows.append([button("« All reasons", REFUSALS_HOME, report.month.iso)])
    return keyboard(rows)
