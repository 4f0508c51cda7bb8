"""/plan: monthly targets per manager and the progress against them.

Heads and admins set a plan in one line (`/plan @mara contacts 40; meetings 10; new clients
5; won 3; collected 20000 EUR`, any subset, `for 2027-01`, `/plan team …` for every manager)
or guided by buttons (✏️ Set a plan: whose, which month, then each target, typed answers
welcome at every question); `/plan` shows them the team's plans vs actual, `/plan @mara`
one manager's. A manager's `/plan` is their own progress; setting a plan, or seeing
another's, is refused politely (and audited by the service). Every button re-checks who
pressed it.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.services import plans
from bot.services.errors import DomainError
from bot.services.months import Month, month_name, parse_month
from bot.services.plans import METRICS, Metric, PersonPlan, PlanChange, Target
from bot.telegram.context import NextStepContext
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
from bot.views.plans import (
    menu_keyboard,
    metric_question,
    month_keyboard,
    person_keyboard,
    render_draft,
    render_person_plan,
    render_team_plan,
    team_keyboard,
    value_keyboard,
    who_keyboard,
)
from bot.views.render import escape, html
from handlers.common import (
    draft_of,
    edit,
    flow_fallbacks,
    hint,
    message_text,
    new_draft,
    on_refusal,
    pressed,
    query_of,
    reply,
)
from handlers.flow import Flow

WHO, MONTH, MENU, VALUE = range(4)
DRAFT = "plan"


def _today(context: NextStepContext) -> Any:
    return plans.local_today(context.member, context.clock.now())


def _whose(name: str, team: bool) -> str:
    return "every manager" if team else name


# --- Showing ----------------------------------------------------------------------------------


async def _show_person(
    update: Update, context: NextStepContext, plan: PersonPlan, notice: Markup | None = None
) -> None:
    viewer = context.member
    own = plan.manager_id == viewer.telegram_id
    await reply(
        update,
        render_person_plan(plan, viewer, own=own, notice=notice),
        reply_markup=person_keyboard(plan, viewer),
    )


async def _show_team(
    update: Update, context: NextStepContext, month: Month | None, notice: Markup | None = None
) -> None:
    team = await plans.team_plan(context.db, context.clock, actor=context.member, month=month)
    await reply(
        update,
        render_team_plan(team, context.member, notice=notice),
        reply_markup=team_keyboard(team),
    )


def _saved_notice(changes: list[PlanChange], month: Month, locale: str) -> Markup:
    changed = [change for change in changes if change.changed]
    when = month_name(month, locale)
    if not changed:
        return html("Nothing changed: the plan for {month} already says that.", month=when)
    if len(changes) == 1:
        return html(
            "✅ Plan for {name} for {month} saved.", name=changes[0].manager.name, month=when
        )
    return html("✅ Plans for {count} managers for {month} saved.", count=len(changed), month=when)


async def show_plan(update: Update, context: NextStepContext) -> None:
    """/plan [who] [targets] [for month]: see or set plans (see the module's docstring)."""
    viewer = context.member
    text = " ".join(context.args or [])
    request = plans.parse_plan_text(  # a refusal names what it couldn't read
        text,
        today=_today(context),
        locale=viewer.locale,
        default_currency=context.settings.default_currency,
    )
    if request.changes:
        await plans.require_planner(context.db, context.clock, actor=viewer, attempted="plan.set")
        if not request.who:
            raise DomainError("Whose plan? " + plans.LINE_HELP)
        month = request.month or Month.of(_today(context))
        if request.team:
            people = await plans.managers(context.db)
            if not people:
                raise DomainError("There are no managers on the team yet: invite them first.")
        else:
            people = [await plans.find_manager(context.db, request.who)]
        changes = await plans.set_plan(
            context.db,
            context.clock,
            actor=viewer,
            manager_ids=[person.telegram_id for person in people],
            month=month,
            targets=request.targets,
            cleared=request.cleared,
        )
        notice = _saved_notice(changes, month, viewer.locale)
        if request.team:
            await _show_team(update, context, month, notice)
            return
        plan = await plans.person_plan(
            context.db, context.clock, actor=viewer, manager_id=people[0].telegram_id, month=month
        )
        await _show_person(update, context, plan, notice)
        return
    if request.team or (not request.who and viewer.is_lead):
        await _show_team(update, context, request.month)
        return
    if not request.who:
        plan = await plans.own_plan(context.db, context.clock, actor=viewer, month=request.month)
        await _show_person(update, context, plan)
        return
    if not viewer.is_lead and request.who.lstrip("@").casefold() in {
        (viewer.username or "").casefold(),
        "me",
    }:
        plan = await plans.own_plan(context.db, context.clock, actor=viewer, month=request.month)
        await _show_person(update, context, plan)
        return
    person = await plans.find_manager(context.db, request.who) if viewer.is_lead else None
    manager_id = person.telegram_id if person else await _other_for_manager(context, request.who)
    plan = await plans.person_plan(
        context.db, context.clock, actor=viewer, manager_id=manager_id, month=request.month
    )
    await _show_person(update, context, plan)


async def _other_for_manager(context: NextStepContext, who: str) -> int:
    """The id a manager's `/plan <someone>` names (so the refusal is audited against it);
    themselves when the name is their own."""
    viewer = context.member
    try:
        person = await plans.find_manager(context.db, who)
    except DomainError:
        return 0 if who else viewer.telegram_id
    return person.telegram_id


async def pressed_person(update: Update, context: NextStepContext) -> None:
    """A manager's button in the team's plans: their plan and history."""
    values = await pressed(update, PLAN_PERSON)
    if values is None:
        return
    manager_id, month_iso = values
    plan = await plans.person_plan(
        context.db,
        context.clock,
        actor=context.member,
        manager_id=manager_id,
        month=Month.from_iso(month_iso),
    )
    query = query_of(update)
    await query.answer()
    viewer = context.member
    await edit(
        query,
        render_person_plan(plan, viewer, own=manager_id == viewer.telegram_id),
        person_keyboard(plan, viewer),
    )


async def pressed_team(update: Update, context: NextStepContext) -> None:
    """« Team plans, or another month: the team's plans, in place."""
    values = await pressed(update, PLAN_TEAM)
    if values is None:
        return
    team = await plans.team_plan(
        context.db, context.clock, actor=context.member, month=Month.from_iso(values[0])
    )
    query = query_of(update)
    await query.answer()
    await edit(query, render_team_plan(team, context.member), team_keyboard(team))


# --- The guided setting ------------------------------------------------------------------------


async def start_setting(update: Update, context: NextStepContext) -> int:
    """✏️ Set a plan (choose whose) or ✏️ Change this plan (that manager's, that month)."""
    values = await pressed(update, PLAN_NEW)
    if values is None:
        return ConversationHandler.END
    await plans.require_planner(
        context.db, context.clock, actor=context.member, attempted="plan.set"
    )
    manager_id, month_iso = values
    query = query_of(update)
    await query.answer()
    if manager_id:  # ✏️ Change this plan: that manager's, for the month shown
        month = Month.from_iso(month_iso)
        plans.check_month(month, today=_today(context))
        new_draft(context, DRAFT, month=month.iso)
        return await _chose_person(update, context, manager_id)
    new_draft(context, DRAFT)  # ✏️ Set a plan: whose, then which month
    people = await plans.managers(context.db)
    await reply(
        update,
        "Whose plan? Tap a manager or type a name or @username (or <code>team</code> for "
        "every manager).",
        reply_markup=who_keyboard(people),
    )
    return WHO


async def _chose_person(update: Update, context: NextStepContext, manager_id: int) -> int:
    draft = draft_of(context, DRAFT)
    if manager_id:
        plan = await plans.person_plan(
            context.db, context.clock, actor=context.member, manager_id=manager_id
        )
        draft.update(who=manager_id, name=plan.name)
    else:
        draft.update(who=0, name="")
    if draft.get("month"):
        return await _show_menu(update, context)
    current = Month.of(_today(context))
    await reply(
        update,
        "For which month? Tap it or type it (e.g. <code>2027-01</code> or <code>January</code>).",
        reply_markup=month_keyboard(current, context.member.locale),
    )
    return MONTH


async def pressed_who(update: Update, context: NextStepContext) -> int:
    """A manager (or 👥 Whole team) in "Whose plan?"."""
    values = await pressed(update, PLAN_WHO)
    if values is None:
        return WHO
    await query_of(update).answer()
    return await _chose_person(update, context, values[0])


async def typed_who(update: Update, context: NextStepContext) -> int:
    """A name, @username or `team` typed at "Whose plan?"."""
    text = message_text(update).strip()
    if text.casefold() in plans.TEAM_WORDS:
        return await _chose_person(update, context, 0)
    with hint("Tap a manager, or type a name, @username or team."):
        person = await plans.find_manager(context.db, text)
    return await _chose_person(update, context, person.telegram_id)


async def pressed_month(update: Update, context: NextStepContext) -> int:
    """A month in "For which month?"."""
    values = await pressed(update, PLAN_MONTH)
    if values is None:
        return MONTH
    await query_of(update).answer()
    return await _set_month(update, context, Month.from_iso(values[0]))


async def typed_month(update: Update, context: NextStepContext) -> int:
    """A month typed at "For which month?"."""
    with hint("Tap a month or type it, e.g. 2027-01."):
        month = parse_month(
            message_text(update), today=_today(context), locale=context.member.locale
        )
        plans.check_month(month, today=_today(context))
    return await _set_month(update, context, month)


async def _set_month(update: Update, context: NextStepContext, month: Month) -> int:
    draft_of(context, DRAFT)["month"] = month.iso
    return await _show_menu(update, context)


def _draft_targets(draft: dict[str, Any]) -> tuple[list[Target], list[tuple[Metric, str]]]:
    targets = [Target(Metric(m), int(v), str(c)) for m, c, v in draft.get("targets", [])]
    removed = [(Metric(m), str(c)) for m, c in draft.get("cleared", [])]
    return targets, removed


def _put(draft: dict[str, Any], targets: list[Target], removed: list[tuple[Metric, str]]) -> None:
    kept, gone = _draft_targets(draft)
    for target in targets:
        kept = [t for t in kept if t.key != target.key] + [target]
        gone = [key for key in gone if key != target.key]
    for key in removed:
        kept = [t for t in kept if t.key != key]
        if key not in gone:
            gone.append(key)
    order = {metric: index for index, metric in enumerate(METRICS)}
    kept.sort(key=lambda t: (order[t.metric], t.currency))
    draft["targets"] = [[t.metric.value, t.currency, t.target] for t in kept]
    draft["cleared"] = [[m.value, c] for m, c in gone]


async def _show_menu(update: Update, context: NextStepContext) -> int:
    draft = draft_of(context, DRAFT)
    month = Month.from_iso(str(draft["month"]))
    team = not draft.get("who")
    current: list[Target] = []
    if not team:
        plan = await plans.person_plan(
            context.db,
            context.clock,
            actor=context.member,
            manager_id=int(draft["who"]),
            month=month,
        )
        current = [Target(t.metric, t.target, t.currency) for t in plan.targets]
    targets, removed = _draft_targets(draft)
    text = render_draft(
        viewer=context.member,
        whose=_whose(str(draft.get("name", "")), team),
        month=month,
        current=current,
        draft=targets,
        removed=removed,
        team=team,
    )
    await reply(update, text, reply_markup=menu_keyboard(bool(targets or removed)))
    return MENU


async def pressed_metric(update: Update, context: NextStepContext) -> int:
    """A target's button: ask its number."""
    values = await pressed(update, PLAN_METRIC)
    if values is None or "month" not in draft_of(context, DRAFT):
        return MENU
    await query_of(update).answer()
    return await _ask_value(update, context, Metric(values[0]))


async def _ask_value(update: Update, context: NextStepContext, metric: Metric) -> int:
    draft = draft_of(context, DRAFT)
    draft["metric"] = metric.value
    month = Month.from_iso(str(draft["month"]))
    whose = escape(_whose(str(draft.get("name", "")), not draft.get("who")))
    await reply(
        update,
        metric_question(metric, whose, month, context.member.locale),
        reply_markup=value_keyboard(metric, removable=metric is not Metric.COLLECTED),
    )
    return VALUE


def _typed_targets(context: NextStepContext, text: str) -> plans.PlanRequest:
    return plans.parse_plan_text(
        text,
        today=_today(context),
        locale=context.member.locale,
        default_currency=context.settings.default_currency,
    )


async def typed_menu(update: Update, context: NextStepContext) -> int:
    """Targets typed at the plan's menu: `contacts 40; meetings 10; collected 20000 EUR`."""
    with hint("Tap a target, or type them like contacts 40; meetings 10."):
        request = _typed_targets(context, message_text(update))
        if not request.changes or request.who:
            raise DomainError(f"I couldn't read “{message_text(update)[:40]}” as targets.")
    _put(draft_of(context, DRAFT), list(request.targets), list(request.cleared))
    return await _show_menu(update, context)


async def pressed_value(update: Update, context: NextStepContext) -> int:
    """A quick number (or Remove this target) for the target being asked."""
    values = await pressed(update, PLAN_VALUE)
    draft = draft_of(context, DRAFT)
    if values is None or "metric" not in draft:
        return MENU
    await query_of(update).answer()
    metric = Metric(str(draft.pop("metric")))
    if values[0]:
        _put(draft, [Target(metric, values[0])], [])
    else:
        _put(draft, [], [(metric, "")])
    return await _show_menu(update, context)


async def typed_value(update: Update, context: NextStepContext) -> int:
    """The number (or amount and currency) typed for the target being asked."""
    draft = draft_of(context, DRAFT)
    metric = Metric(str(draft.get("metric", Metric.CONTACTS.value)))
    word = "collected" if metric is Metric.COLLECTED else metric.value.replace("_", " ")
    with hint("Tap a number or type it." if metric is not Metric.COLLECTED else ""):
        request = _typed_targets(context, f"{word} {message_text(update)}")
    draft.pop("metric", None)
    _put(draft, list(request.targets), list(request.cleared))
    return await _show_menu(update, context)


async def pressed_save(update: Update, context: NextStepContext) -> int:
    """✅ Save plan: a new version for the manager (or every manager)."""
    query = query_of(update)
    draft = draft_of(context, DRAFT)
    if "month" not in draft:
        await query.answer("Already handled: that plan was saved or left.", show_alert=True)
        return ConversationHandler.END
    targets, removed = _draft_targets(draft)
    month = Month.from_iso(str(draft["month"]))
    team = not draft.get("who")
    people = (
        [person.telegram_id for person in await plans.managers(context.db)]
        if team
        else [int(draft["who"])]
    )
    with on_refusal(MENU):
        changes = await plans.set_plan(
            context.db,
            context.clock,
            actor=context.member,
            manager_ids=people,
            month=month,
            targets=targets,
            cleared=removed,
        )
    await query.answer()
    new_draft(context, DRAFT)
    notice = _saved_notice(changes, month, context.member.locale)
    if team:
        await _show_team(update, context, month, notice)
    else:
        plan = await plans.person_plan(
            context.db, context.clock, actor=context.member, manager_id=people[0], month=month
        )
        await _show_person(update, context, plan, notice)
    return ConversationHandler.END


async def park_plan(context: NextStepContext, state: object, restart: bool) -> str | None:
    """Another flow took over: an unsaved plan is dropped, and the person is told."""
    draft = draft_of(context, DRAFT)
    new_draft(context, DRAFT)
    if restart or not (draft.get("targets") or draft.get("cleared")):
        return None
    whose = _whose(str(draft.get("name", "")), not draft.get("who"))
    return str(html("The plan you were setting for {whose} was not saved.", whose=whose))


def handlers() -> list[tuple[object, int]]:
    """/plan, its buttons, and the guided setting as a flow."""
    text = filters.TEXT & ~filters.COMMAND
    flow = Flow(
        name="plan",
        entry_points=[CallbackQueryHandler(start_setting, pattern=PLAN_NEW.pattern)],
        states={
            WHO: [
                CallbackQueryHandler(pressed_who, pattern=PLAN_WHO.pattern),
                MessageHandler(text, typed_who),
            ],
            MONTH: [
                CallbackQueryHandler(pressed_month, pattern=PLAN_MONTH.pattern),
                MessageHandler(text, typed_month),
            ],
            MENU: [
                CallbackQueryHandler(pressed_metric, pattern=PLAN_METRIC.pattern),
                CallbackQueryHandler(pressed_save, pattern=PLAN_SAVE.pattern),
                MessageHandler(text, typed_menu),
            ],
            VALUE: [
                CallbackQueryHandler(pressed_value, pattern=PLAN_VALUE.pattern),
                CallbackQueryHandler(pressed_metric, pattern=PLAN_METRIC.pattern),
                MessageHandler(text, typed_value),
            ],
        },
        fallbacks=[*flow_fallbacks()],
        park=park_plan,
    )
    return [
        (flow, 0),
        (CommandHandler("plan", show_plan), 0),
        (CallbackQueryHandler(pressed_person, pattern=PLAN_PERSON.pattern), 0),
        (CallbackQueryHandler(pressed_team, pattern=PLAN_TEAM.pattern), 0),
    ]
