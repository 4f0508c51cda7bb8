"""Sample plans and refusal reports for `python -m bot check` and the tests: a plan with
every target (two currencies), behind and done, one without targets, the team's plans, the
refusals report and one reason's drill-down, names with markup in them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.devtools.invoice_samples import sample_user
from bot.devtools.samples import NOW, TRICKY
from bot.services.months import Month, Pace
from bot.services.plans import Metric, PersonPlan, Target, TargetProgress, TeamPlan
from bot.services.refusal_reasons import Preset, ReasonGroup, RefusalItem, RefusalReport
from bot.views.plans import plan_formatters, plan_line
from bot.views.refusal_reasons import report_context
from storage.plans import Actuals, PlanVersion, TargetRow
from storage.users import Role

MONTH = Month(2026, 11)
PACE = Pace(total=21, gone=18)


def sample_plans() -> list[PersonPlan]:
    """A plan with every target (behind, done, two currencies) and changed once; none."""
    targets = (
        TargetProgress(Metric.CONTACTS, "", 40, 12, PACE),
        TargetProgress(Metric.MEETINGS, "", 10, 10, PACE),
        TargetProgress(Metric.NEW_CLIENTS, "", 5, 4, PACE),
        TargetProgress(Metric.WON, "", 3, 0, PACE),
        TargetProgress(Metric.COLLECTED, "EUR", 2_000_000, 1_250_050, PACE),
        TargetProgress(Metric.COLLECTED, "USD", 500_000, 0, PACE),
    )
    rows = tuple(TargetRow(t.metric.value, t.currency, t.target) for t in targets)
    history = (
        PlanVersion(1, 7, MONTH.iso, 5, NOW - dt.timedelta(days=20), rows[:2]),
        PlanVersion(2, 7, MONTH.iso, 5, NOW - dt.timedelta(days=5), rows),
    )
    actuals = Actuals(12, 10, 4, 0, {"EUR": 1_250_050})
    full = PersonPlan(
        7, TRICKY, "Europe/London", MONTH, NOW, NOW.date(), PACE, targets, history,
        {5: "Hanna <H>"}, actuals,
    )  # fmt: skip
    empty = PersonPlan(
        8, "Tom", "Europe/London", MONTH, NOW, NOW.date(), PACE, (), (), {}, Actuals()
    )
    return [full, empty]


def sample_reports() -> list[RefusalReport]:
    """A month so far with refusals for several reasons (and one only before); an empty one."""
    when = [NOW - dt.timedelta(days=n) for n in range(4)]
    words = "<b>too</b> expensive"
    items = tuple(
        RefusalItem(n, n, f"{TRICKY} {n}", 7, "Mia <M>", when[n], preset, words)
        for n, preset in enumerate((Preset.PRICE, Preset.PRICE, Preset.COMPETITOR), start=1)
    )
    groups = (
        ReasonGroup(Preset.PRICE, items[:2], 1, (("Mia <M>", 2),)),
        ReasonGroup(Preset.COMPETITOR, items[2:], 0, (("Mia <M>", 1),)),
        ReasonGroup(Preset.TIMING, (), 2, ()),
    )
    full = RefusalReport(MONTH, False, 26, True, groups, (("Mia <M>", 3),), 3)
    empty = RefusalReport(MONTH.shift(-1), True, 31, False, (), (), 0)
    return [full, empty]


def plan_samples() -> dict[str, list[dict[str, Any]]]:
    """The plan and refusals templates' contexts."""
    head, manager = sample_user(Role.HEAD), sample_user()
    plans = sample_plans()
    team = TeamPlan(MONTH, tuple(plans))
    reports = sample_reports()
    return {
        "texts/plan_card.html.j2": [
            {
                **plan_formatters(viewer),
                "p": plan,
                "own": own,
                "lead": viewer.is_lead,
                "notice": notice,
                "versions": [(v, "Hanna <H>", "contacts 40") for v in plan.history],
                "earlier": 3,
            }
            for plan in plans
            for viewer, own in ((manager, True), (head, False))
            for notice in ("", "✅ Saved")
        ],
        "texts/plan_team.html.j2": [
            {**plan_formatters(head), "t": t, "notice": "", "line": lambda p: plan_line(p, head)}
            for t in (team, TeamPlan(MONTH, ()))
        ],
        "texts/plan_line.html.j2": [
            {**plan_formatters(manager), "p": plan, "with_name": with_name}
            for plan in plans[:1]
            for with_name in (False, True)
        ],
        "texts/plan_draft.html.j2": [
            {
                **plan_formatters(head),
                "whose": TRICKY,
                "month": MONTH,
                "current": current,
                "draft": draft,
                "removed": removed,
                "team": team_flag,
            }
            for current, draft, removed, team_flag in (
                (
                    [Target(Metric.CONTACTS, 40)],
                    [Target(Metric.COLLECTED, 150_000, "EUR")],
                    ["Deals won"],
                    False,
                ),
                ([], [], [], True),
                ([], [], [], False),
            )
        ],
        "texts/refusals.html.j2": [
            {**report_context(report, viewer), "g": group}
            for report in reports
            for viewer in (head, manager)
            for group in (None, *report.groups[:1])
        ],
    }
