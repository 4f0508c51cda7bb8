"""Plans as people see them: a manager's plan with progress, the team's plans, the one line
of the morning agenda and the digest, and the buttons of /plan and its guided setting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup
from telegram import InlineKeyboardMarkup

from bot.services.model import User
from bot.services.months import Month, month_name
from bot.services.plans import Metric, PersonPlan, Status, Target, TeamPlan
from bot.services.receivables.money import format_money
from bot.timefmt import format_date, local_time
from bot.views.actions import (
    PLAN_METRIC,
    PLAN_MONTH,
    PLAN_NEW,
    PLAN_PERSON,
    PLAN_SAVE,
    PLAN_TEAM,
    PLAN_VALUE,
    PLAN_WHO,
)
from bot.views.keyboards import button, grid, keyboard
from bot.views.render import render

METRIC_LABELS: dict[Metric, str] = {
    Metric.CONTACTS: "Contacts",
    Metric.MEETINGS: "Meetings",
    Metric.NEW_CLIENTS: "New clients",
    Metric.WON: "Deals won",
    Metric.COLLECTED: "Collected",
}
METRIC_BUTTONS: dict[Metric, str] = {
    Metric.CONTACTS: "📞 Contacts",
    Metric.MEETINGS: "🤝 Meetings",
    Metric.NEW_CLIENTS: "🆕 New clients",
    Metric.WON: "🏆 Deals won",
    Metric.COLLECTED: "💰 Collected",
}
STATUS_WORDS: dict[Status, str] = {
    Status.DONE: "done ✅",
    Status.AHEAD: "ahead",
    Status.ON_PACE: "on pace",
    Status.BEHIND: "behind",
}
QUICK_VALUES: dict[Metric, tuple[int, ...]] = {
    Metric.CONTACTS: (20, 40, 60, 80),
    Metric.MEETINGS: (5, 10, 15, 20),
    Metric.NEW_CLIENTS: (2, 5, 10, 15),
    Metric.WON: (1, 3, 5, 10),
}
MANAGER_BUTTONS = 24
SAVE_LABEL = "✅ Save plan"
TEAM_LABEL = "👥 Whole team"
SET_LABEL = "✏️ Set a plan"
REMOVE_LABEL = "Remove this target"


def figure(metric: Metric, value: int, currency: str, locale: str) -> str:
    """A target or an actual as shown: a count, or money in its currency."""
    return format_money(value, currency, locale) if metric is Metric.COLLECTED else str(value)


def target_name(metric: Metric, currency: str) -> str:
    """`Contacts`, `Collected EUR`."""
    label = METRIC_LABELS[metric]
    return f"{label} {currency}" if currency else label


def plan_formatters(viewer: User) -> dict[str, Any]:
    """The helpers the plan templates use: target names, figures, statuses, months."""
    locale = viewer.locale
    return {
        "name": lambda t: target_name(t.metric, t.currency),
        "fig": lambda t, value: figure(t.metric, value, t.currency, locale),
        "fig_money": lambda amount, currency: format_money(amount, currency, locale),
        "status": lambda s: STATUS_WORDS[s],
        "month_name": lambda month: month_name(month, locale),
        "fmt_date": lambda moment: format_date(local_time(moment, viewer.timezone).date(), locale),
    }


def _version_line(targets: Sequence[Any], locale: str) -> str:
    ordered = sorted(targets, key=lambda t: (list(Metric).index(Metric(t.metric)), t.currency))
    return ", ".join(
        f"{METRIC_LABELS[Metric(t.metric)].lower()}{' ' + t.currency if t.currency else ''} "
        f"{figure(Metric(t.metric), t.target, t.currency, locale)}"
        for t in ordered
    )


def render_person_plan(
    plan: PersonPlan, viewer: User, *, own: bool, notice: Markup | None = None
) -> str:
    """A manager's plan for a month: each target against what was done and its pace, and the
    plan's history (who set or changed it, when)."""
    return render(
        "texts/plan_card.html.j2",
        **plan_formatters(viewer),
        p=plan,
        own=own,
        lead=viewer.is_lead,
        notice=notice or "",
        versions=[
            (
                version,
                plan.setters.get(version.set_by, "?"),
                _version_line(version.targets, viewer.locale),
            )
            for version in plan.history[-5:]
        ],
        earlier=max(0, len(plan.history) - 5),
    )


def render_team_plan(team: TeamPlan, viewer: User, *, notice: Markup | None = None) -> str:
    """Every manager's plan vs actual for a month, one line each."""
    return render(
        "texts/plan_team.html.j2",
        **plan_formatters(viewer),
        t=team,
        notice=notice or "",
        line=lambda p: plan_line(p, viewer, with_name=True),
    )


def plan_line(plan: PersonPlan, viewer: User, *, with_name: bool = False) -> Markup:
    """The plan on one line: `Contacts 12/40 · Meetings 3/10 — 45 % of the month gone,
    behind` (the morning agenda, the digest, the team's list)."""
    text = render(
        "texts/plan_line.html.j2", **plan_formatters(viewer), p=plan, with_name=with_name
    )
    return Markup(" ".join(text.split()))  # noqa: S704 - rendered (escaped) by the template


def person_keyboard(plan: PersonPlan, viewer: User) -> InlineKeyboardMarkup | None:
    """A head's buttons under a manager's plan: change it, and back to the team's plans."""
    if not viewer.is_lead:
        return None
    return keyboard(
        [
            [button("✏️ Change this plan", PLAN_NEW, plan.manager_id, plan.month.iso)],
            [button("« Team plans", PLAN_TEAM, plan.month.iso)],
        ]
    )


def team_keyboard(team: TeamPlan) -> InlineKeyboardMarkup | None:
    """A button per manager (their plan), set a plan, and the next or previous month."""
    people = [
        button(f"{p.name[:28]}", PLAN_PERSON, p.manager_id, team.month.iso)
        for p in team.people[:MANAGER_BUTTONS]
    ]
    return keyboard(
        [
            *grid(people, 2),
            [button(SET_LABEL, PLAN_NEW, 0, team.month.iso)],
            [
                button(
                    "‹ " + month_name(team.month.shift(-1)), PLAN_TEAM, team.month.shift(-1).iso
                ),
                button(month_name(team.month.shift(1)) + " ›", PLAN_TEAM, team.month.shift(1).iso),
            ],
        ]
    )


# --- The guided setting ----------------------------------------------------------------------


def who_keyboard(people: Sequence[User]) -> InlineKeyboardMarkup | None:
    """The managers (and the whole team) to set a plan for."""
    buttons = [button(p.name[:30], PLAN_WHO, p.telegram_id) for p in people[:MANAGER_BUTTONS]]
    return keyboard([*grid(buttons, 2), [button(TEAM_LABEL, PLAN_WHO, 0)]])


def month_keyboard(current: Month, locale: str) -> InlineKeyboardMarkup | None:
    """This month and the next two."""
    return keyboard(
        [
            [button(month_name(current.shift(n), locale), PLAN_MONTH, current.shift(n).iso)]
            for n in range(3)
        ]
    )


def menu_keyboard(has_changes: bool) -> InlineKeyboardMarkup | None:
    """A button per target, then save."""
    buttons = [
        button(label, PLAN_METRIC, metric.value) for metric, label in METRIC_BUTTONS.items()
    ]
    return keyboard([*grid(buttons, 2), [button(SAVE_LABEL, PLAN_SAVE)] if has_changes else []])


def value_keyboard(metric: Metric, *, removable: bool) -> InlineKeyboardMarkup | None:
    """Quick numbers for a count target, and removing it."""
    quick = [button(str(n), PLAN_VALUE, n) for n in QUICK_VALUES.get(metric, ())]
    return keyboard([quick, [button(REMOVE_LABEL, PLAN_VALUE, 0)] if removable else []])


def render_draft(
    *,
    viewer: User,
    whose: str,
    month: Month,
    current: Sequence[Target],
    draft: Sequence[Target],
    removed: Sequence[tuple[Metric, str]],
    team: bool,
) -> str:
    """The plan being set: its targets as they will be saved, what changes, how to go on."""
    return render(
        "texts/plan_draft.html.j2",
        **plan_formatters(viewer),
        whose=whose,
        month=month,
        current=current,
        draft=draft,
        removed=[target_name(metric, currency) for metric, currency in removed],
        team=team,
    )


def metric_question(metric: Metric, whose: str, month: Month, locale: str) -> str:
    """The question for one target's number."""
    when = month_name(month, locale)
    if metric is Metric.COLLECTED:
        return (
            f"How much should {whose} collect in {when}? Send the amount with its currency, "
            "e.g. <code>20000 EUR</code> (several: <code>20000 EUR + 5000 USD</code>; "
            "<code>EUR 0</code> removes one)."
        )
    label = METRIC_LABELS[metric].lower()
    return f"How many {label} for {whose} in {when}? Tap a number or type it (0 removes it)."
