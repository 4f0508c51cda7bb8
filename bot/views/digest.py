"""The digest as Telegram messages: a head's summary on one screen (the attention list, then
the team's headline figures) with its drill-down sections, one person's week, and the
buttons of /digest and of the settings. Texts come from `templates/digest/`."""

from __future__ import annotations

import datetime as dt
import html as stdlib_html
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.dates import format_datetime
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import Settings
from bot.services.digest.figures import (
    WEEKDAYS,
    Attention,
    Change,
    DisciplineSection,
    OwnSummary,
    PersonWeek,
    TeamDigest,
    Week,
    describe_schedule,
)
from bot.services.model import DigestKind, DigestPrefs, User
from bot.services.months import Month, month_name
from bot.services.receivables.money import format_money
from bot.timefmt import format_date, format_moment, local_time
from bot.views.actions import (
    CLIENT_OPEN,
    DIGEST_CHART,
    DIGEST_DAY,
    DIGEST_FILE,
    DIGEST_PERIOD,
    DIGEST_PERSON,
    DIGEST_SCHEDULE,
    DIGEST_SECTION,
    DIGEST_SUMMARY,
    DIGEST_TIME,
    INVOICE_OPEN,
    NEXT_STEP_CHOICE,
    REFUSALS_HOME,
    STEP_OPEN,
)
from bot.views.keyboards import button, grid, keyboard
from bot.views.plans import plan_line
from bot.views.refusal_reasons import PRESET_LABELS
from bot.views.render import MAX_MESSAGE, environment, escape, split_message, telegram_length

logger = logging.getLogger(__name__)

SUMMARY_TEMPLATE = "digest/summary.html.j2"
PERSON_TEMPLATE = "digest/person.html.j2"
RECEIVABLES_TEMPLATE = "digest/receivables.html.j2"
DISCIPLINE_TEMPLATE = "digest/discipline.html.j2"
SUMMARY_LIMIT = 1500
"""Characters the summary may take on screen (one phone screen), whatever the team's size."""
MANAGERS_PER_PAGE = 8
BUCKET_LABELS = {
    "current": "not due",
    "1-30": "1–30 d",
    "31-60": "31–60 d",
    "61-90": "61–90 d",
    "90+": "90+ d",
}
DIGEST_TIMES = ("07:00", "08:00", "09:00", "10:00", "12:00", "14:00", "16:00", "17:00", "18:00")
ITEM_BUTTONS = 4
"""Open items of each kind offered as buttons on a person's week."""
FILE_LABEL = "📎 Spreadsheet (.xlsx)"
SUMMARY_LABEL = "« Summary"
_ATTENTION_TARGETS = {
    "invoice_final": ("💸", "rcv", "Invoices 30+ d"),
    "overdue_step": ("⏰", "dsc", "Steps late 7+ d"),
    "silent": ("🔇", "", ""),
    "discipline": ("📉", "dsc", "Under 80%"),
    "promise_broken": ("🤥", "rcv", "Broken promises"),
    "plan_behind": ("📈", "", ""),
    "refusal_spike": ("🚫", "", "Refusals"),
}
_TAG_OR_ENTITY = re.compile(r"<[^>]+>")
MOMENT = dt.timedelta(microseconds=1)


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


def visible_length(text: str) -> int:
    """What a Telegram HTML text shows, in UTF-16 units (tags dropped, entities read)."""
    return telegram_length(stdlib_html.unescape(_TAG_OR_ENTITY.sub("", text)))


def short(name: str, chars: int) -> str:
    """A name on one line, cut to `chars` with an ellipsis."""
    name = " ".join(name.split())
    return name if len(name) <= chars else name[: chars - 1] + "…"


def _formatters(viewer: User) -> dict[str, Any]:
    zone, locale = viewer.timezone, viewer.locale
    return {
        "fmt_moment": lambda moment: format_moment(moment, zone, locale),
        "fmt_short": lambda moment: format_date(local_time(moment, zone).date(), locale),
        "fmt_clock": lambda moment: local_time(moment, zone).strftime("%H:%M"),
        "fmt_weekday_clock": lambda moment: format_datetime(
            local_time(moment, zone), "EEE HH:mm", tzinfo=ZoneInfo(zone), locale=locale
        ),
        "fmt_date": lambda day: format_date(day, locale),
        "money": lambda minor, currency: format_money(minor, currency, locale),
        "signed_money": lambda minor, currency: _signed_money(minor, currency, locale),
        "bucket_label": lambda bucket: BUCKET_LABELS[bucket.value],
    }


def _signed_money(minor: int, currency: str, locale: str) -> str:
    """`▲€200.00`, `▼$50.00` or `=`."""
    if minor == 0:
        return "="
    return ("▲" if minor > 0 else "▼") + format_money(abs(minor), currency, locale)


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


def _render(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(**context).strip()


SECTION_NAME_CHARS = (32, 22, 14, 8)
"""How long names may be in a drill-down, tried in turn until it fits one message."""


def _render_within(template: str, context: dict[str, Any], limit: int = MAX_MESSAGE) -> str:
    """A drill-down as one message: names are cut shorter until it fits (`cut(name)` in the
    template), so pressing a button edits the message in place, never adds more."""
    text = ""
    for chars in SECTION_NAME_CHARS:
        text = _render(template, {**context, "cut": lambda name, n=chars: short(name, n)})
        if telegram_length(text) <= limit:
            return text
    return split_message(text, limit)[0]


# --- The summary: one screen ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SummaryFit:
    """How much of each list the summary shows (shrunk until it fits one screen)."""

    names: int  # names per attention line
    name_chars: int
    currencies: int


FITS = (
    SummaryFit(3, 28, 5),
    SummaryFit(2, 22, 4),
    SummaryFit(2, 16, 3),
    SummaryFit(1, 16, 3),
    SummaryFit(1, 12, 2),
    SummaryFit(0, 12, 2),
)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _refusal_spike_text(digest: TeamDigest | None, fit: SummaryFit) -> str:
    doubled = digest.refusals.doubled if digest and digest.refusals else ()
    shown = ", ".join(
        f"{PRESET_LABELS[reason.preset]} {reason.count}" for reason in doubled[: max(fit.names, 1)]
    )
    more = f" +{len(doubled) - max(fit.names, 1)} more" if len(doubled) > max(fit.names, 1) else ""
    head = "🚫 Refusals doubled against the previous four weeks"
    return f"{head}: {shown}{more}" if shown else head


def attention_text(item: Attention, fit: SummaryFit, digest: TeamDigest | None = None) -> str:
    """One attention line as plain text, its names cut to fit."""
    if item.kind == "refusal_spike":
        return _refusal_spike_text(digest, fit)
    names = [short(name, fit.name_chars) for name in item.items[: fit.names]]
    more = item.more + len(item.items) - len(names)
    listed = ", ".join(names) + (f" +{more} more" if more and names else "")
    if not names and more:
        listed = f"{more} people" if item.kind in ("silent", "discipline", "plan_behind") else ""
    if item.kind == "invoice_final":
        head = f"💸 {_plural(item.count, 'invoice')} 30+ days overdue"
    elif item.kind == "overdue_step":
        head = f"⏰ {_plural(item.count, 'step')} overdue 7+ days, oldest"
    elif item.kind == "silent":
        head = "🔇 Nothing logged for 3+ working days"
    elif item.kind == "discipline":
        head = "📉 Next-step discipline under 80%"
    elif item.kind == "plan_behind":
        head = "📈 More than 20 % behind the pace of their plan"
    else:
        head = f"🤥 {_plural(item.count, 'promise')} to pay broken"
    return f"{head}: {listed}" if listed else head


def summary_context(digest: TeamDigest, viewer: User, fit: SummaryFit) -> dict[str, Any]:
    """What `digest/summary.html.j2` renders."""
    receivables = digest.receivables
    overdue = receivables.overdue_currencies if receivables else ()
    received = (
        tuple(line for line in receivables.currencies if line.paid_minor or line.paid_before_minor)
        if receivables
        else ()
    )
    return {
        **_formatters(viewer),
        "d": digest,
        "delta": _deltas(digest.changes),
        "week_range": week_range(digest.week, viewer.locale),
        "attention": [attention_text(item, fit, digest) for item in digest.attention],
        "plan_month": month_name(digest.plans[0].month, viewer.locale) if digest.plans else "",
        "plans_behind": sum(1 for plan in digest.plans if plan.behind),
        "plans_on_pace": sum(1 for plan in digest.plans if not plan.behind),
        "refusal_top": [
            (PRESET_LABELS[reason.preset], reason.count)
            for reason in (digest.refusals.reasons if digest.refusals else ())
            if reason.count
        ][:3],
        "overdue_money": overdue[: fit.currencies],
        "overdue_more": max(0, len(overdue) - fit.currencies),
        "received": received[: fit.currencies],
        "received_more": max(0, len(received) - fit.currencies),
    }


def render_summary(digest: TeamDigest, viewer: User) -> str:
    """The head's summary: the attention list, then the team's headline figures with their
    changes; at most SUMMARY_LIMIT characters on screen for any team (lists shrink)."""
    text = ""
    for fit in FITS:
        text = _render(SUMMARY_TEMPLATE, summary_context(digest, viewer, fit))
        if visible_length(text) <= SUMMARY_LIMIT:
            return text
    logger.warning("Digest summary over %s characters: %s", SUMMARY_LIMIT, visible_length(text))
    return text


def _attention_button(digest: TeamDigest, item: Attention) -> InlineKeyboardButton | None:
    emoji, section, label = _ATTENTION_TARGETS[item.kind]
    iso = digest.week.iso
    if item.kind == "refusal_spike":
        month = Month.containing(digest.week.cutoff(digest.now) - MOMENT, digest.week.timezone)
        return button(f"{emoji} {label}", REFUSALS_HOME, month.iso)
    if item.kind in ("silent", "plan_behind"):
        if not item.manager_ids:
            return None
        first = digest.person(item.manager_ids[0])
        name = short(first.name if first else "?", 20)
        return button(f"{emoji} {name}", DIGEST_PERSON, iso, item.manager_ids[0], 0)
    return button(f"{emoji} {label}", DIGEST_SECTION, section, iso)


def _manager_label(person: PersonWeek) -> str:
    flag = (
        "⚠️ "
        if person.below_target or person.overdue_long or (person.silent_days or 0) >= 3
        else ""
    )
    rate = f" · {person.discipline}% on time" if person.discipline is not None else ""
    return f"{flag}{short(person.name, 18)} · {person.contacts} contacts{rate}"


def pages(count: int) -> int:
    """How many pages of managers' buttons."""
    return max(1, -(-count // MANAGERS_PER_PAGE))


def summary_keyboard(digest: TeamDigest, page: int = 0) -> InlineKeyboardMarkup | None:
    """The attention lines' buttons, one per manager (paged beyond 8), the sections, the
    chart and the spreadsheet."""
    iso = digest.week.iso
    attention = [found for item in digest.attention if (found := _attention_button(digest, item))]
    people = [person for person in digest.people if person.manager_id]
    last = pages(len(people)) - 1
    page = min(max(page, 0), last)
    shown = people[page * MANAGERS_PER_PAGE : (page + 1) * MANAGERS_PER_PAGE]
    managers = [
        button(_manager_label(person), DIGEST_PERSON, iso, person.manager_id, page)
        for person in shown
    ]
    paging = []
    if page > 0:
        paging.append(
            button(f"‹ Managers {page * MANAGERS_PER_PAGE - 7}–", DIGEST_SUMMARY, iso, page - 1)
        )
    if page < last:
        paging.append(
            button(
                f"Managers {(page + 1) * MANAGERS_PER_PAGE + 1}– ›", DIGEST_SUMMARY, iso, page + 1
            )
        )
    return keyboard(
        [
            *grid(attention, 3),
            *grid(managers, 2),
            paging,
            [
                button("💰 Receivables", DIGEST_SECTION, "rcv", iso),
                button("✅ Discipline", DIGEST_SECTION, "dsc", iso),
            ],
            [
                button("📊 Chart", DIGEST_CHART, iso),
                button(FILE_LABEL, DIGEST_FILE, "t", iso),
            ],
        ]
    )


def back_keyboard(week: Week, page: int = 0) -> InlineKeyboardMarkup | None:
    """« Summary (and the spreadsheet) under a section."""
    return keyboard(
        [
            [
                button(SUMMARY_LABEL, DIGEST_SUMMARY, week.iso, page),
                button(FILE_LABEL, DIGEST_FILE, "t", week.iso),
            ]
        ]
    )


# --- Sections ---------------------------------------------------------------------------


def receivables_context(digest: TeamDigest, viewer: User) -> dict[str, Any]:
    """What `digest/receivables.html.j2` renders."""
    return {
        **_formatters(viewer),
        "d": digest,
        "r": digest.receivables,
        "week_range": week_range(digest.week, viewer.locale),
        "cut": lambda name: short(name, SECTION_NAME_CHARS[0]),
    }


def render_receivables(digest: TeamDigest, viewer: User) -> str:
    """Receivables: aging per currency and the five largest overdue in each currency."""
    return _render_within(RECEIVABLES_TEMPLATE, receivables_context(digest, viewer))


def discipline_context(section: DisciplineSection, viewer: User) -> dict[str, Any]:
    """What `digest/discipline.html.j2` renders."""
    return {
        **_formatters(viewer),
        "s": section,
        "days_since": _days_since(section.now),
        "week_range": week_range(section.week, viewer.locale),
        "cut": lambda name: short(name, SECTION_NAME_CHARS[0]),
    }


def render_discipline(section: DisciplineSection, viewer: User) -> str:
    """Discipline: contacts without a next step, most-snoozed steps, steps late 7+ days."""
    return _render_within(DISCIPLINE_TEMPLATE, discipline_context(section, viewer))


# --- One person's week (a manager's own, or a head's drill-down) -------------------------


def person_context(summary: OwnSummary, viewer: User, *, own: bool) -> dict[str, Any]:
    """What `digest/person.html.j2` renders."""
    plan_days: dict[dt.date, int] = {}
    for item in summary.plan:
        day = local_time(item.due_at, viewer.timezone).date()
        plan_days[day] = plan_days.get(day, 0) + 1
    receivables = summary.receivables
    return {
        **_formatters(viewer),
        "days_since": _days_since(summary.now),
        "s": summary,
        "own": own,
        "delta": _deltas(summary.changes),
        "week_range": week_range(summary.week, viewer.locale),
        "plan_days": sorted(plan_days.items()),
        "plan_line": None if summary.month_plan is None else plan_line(summary.month_plan, viewer),
        "money_lines": [
            line
            for line in (receivables.currencies if receivables else ())
            if line.open_minor or line.paid_minor or line.paid_before_minor
        ],
        "items_shown": ITEM_BUTTONS,
        "cut": lambda name: short(name, SECTION_NAME_CHARS[0]),
    }


def render_person(summary: OwnSummary, viewer: User, *, own: bool) -> str:
    """A person's week on one screen: figures, and what is open (the items are buttons)."""
    return _render_within(PERSON_TEMPLATE, person_context(summary, viewer, own=own), SUMMARY_LIMIT)


def person_keyboard(
    summary: OwnSummary, viewer: User, *, own: bool, page: int = 0
) -> InlineKeyboardMarkup | None:
    """The person's open items as buttons: a manager's own open the next-step question and
    the step's card; a head's open the client's card; overdue invoices open the invoice.
    Then « Summary (a head) or the spreadsheet and the periods (a manager)."""
    rows: list[list[InlineKeyboardButton]] = []
    for pending in summary.pending[:ITEM_BUTTONS]:
        label = f"➡️ {short(pending.client_name, 26)}: next step?"
        if own:
            rows.append([button(label, NEXT_STEP_CHOICE, "menu", pending.contact.id)])
        else:
            rows.append([button(label, CLIENT_OPEN, pending.contact.client_id)])
    for step in summary.overdue[:ITEM_BUTTONS]:
        late = max(0, (summary.now - step.due_at).days)
        label = f"⏰ {short(step.client_name, 22)} · {step.kind} · {late} d late"
        if own:
            rows.append([button(label, STEP_OPEN, step.step_id)])
        else:
            rows.append([button(label, CLIENT_OPEN, step.client_id)])
    if summary.receivables is not None:
        overdue = sorted(
            summary.receivables.largest_overdue,
            key=lambda item: (-item.days_overdue, item.invoice_id),
        )
        for invoice in overdue[:ITEM_BUTTONS]:
            amount = format_money(invoice.balance_minor, invoice.currency, viewer.locale)
            label = f"💸 {short(invoice.number, 12)} {short(invoice.client_name, 16)} · {amount}"
            rows.append([button(label, INVOICE_OPEN, invoice.invoice_id)])
    iso = summary.week.iso
    if own:
        rows.append([button(FILE_LABEL, DIGEST_FILE, "o", iso)])
        rows.append(
            [
                button("This week so far", DIGEST_PERIOD, "o", "this"),
                button("Last week", DIGEST_PERIOD, "o", "last"),
            ]
        )
    else:
        rows.append([button(SUMMARY_LABEL, DIGEST_SUMMARY, iso, page)])
    return keyboard(rows)


# --- Buttons of /digest and of the settings ---------------------------------------------


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
