"""The weekly digest: the team's week at a glance for heads, "Your week" for each manager.

Telegram-free. A week runs from Monday 00:00 to the next Monday 00:00 in the team's time zone
(so a DST week lasts 167 or 169 hours). Every figure comes from an SQL aggregate in
`storage/digest_figures.py`; this module only merges the per-person rows, sums them into team
totals and derives the comparisons and the attention list.

Definitions (the template and the tests rely on them):
- A week's contacts are those that *happened* in the week. Meetings include visits; "other"
  is e-mails and messages.
- Next step "at logging": chosen within 15 minutes of logging the contact (before the nag);
  "later": after that; "missing": none yet. The discipline rate is the share of the week's
  contacts whose next step (or closure) was chosen within 1 hour of the contact itself.
- "Missing at the end of a day": the week's contacts still without a next step at midnight
  (team zone) of the day they were logged.
- Overdue steps, clients (not inactive) without a contact for 30+ days and open receivables
  are as of now; "steps for next week" are the open steps due in the week after the reported
  one (including any already overdue); snoozes and reschedules count for whoever pressed.
- Closures are the outcomes (won / refused / not a target) of the week's contacts.
- "Nothing logged for 3 working days": active managers, not away, counted in their own zone
  and working days, from their latest contact (or the day they joined) to the week's end (or
  now, for this week so far).
- The figures are also merged into team totals; the previous week's activity figures give
  the changes (▲/▼), counted over the same part of that week: a week so far (Monday 12:00)
  against the previous week up to the same wall-clock moment in the team's zone (last
  Monday 12:00, whatever the DST offsets), with next steps as they stood then; a full week
  against the full week before. A contact that was reopened (its step cancelled) counts as
  missing.
- Money is never added, compared or ranked across currencies: each currency has its own
  lines and its own five largest overdue invoices; per person, overdue invoices are counted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.services.access import require_lead
from bot.services.contacts import MISSING_STEP_NAG
from bot.services.dates import local_to_utc
from bot.services.digest import receivables as receivables_digest
from bot.services.digest.receivables import ReceivablesWeek
from bot.services.errors import DomainError, NotAllowed
from bot.services.plans import PersonPlan, digest_plans, own_digest_plan
from bot.services.refusal_reasons import RefusalWeek, digest_refusals
from storage import audit, digest_figures, digest_ledger, digest_rows
from storage.contacts import PendingContact, pending_for_manager
from storage.db import Database, Queries
from storage.digest_figures import PlanItem
from storage.digest_ledger import Delivery, DeliveryState, DigestKind, DigestPrefs, Recipient
from storage.users import Role, User, get_user, list_users

AT_LOGGING = MISSING_STEP_NAG
"""A next step chosen this soon after logging counts as chosen "at logging"."""
DISCIPLINE_WINDOW = dt.timedelta(hours=1)
DISCIPLINE_TARGET = 80
"""Percent; a manager below it is on the attention list."""
LONG_OVERDUE = dt.timedelta(days=7)
IDLE_AFTER = dt.timedelta(days=30)
SILENT_WORKING_DAYS = 3
SILENT_LOOKBACK = dt.timedelta(days=45)
"""How far back the latest contact is looked for; silence beyond it shows as "N+ days"."""
MOST_SNOOZED = 5
WAKING_LISTED = 10
OWN_LISTED = 10
ATTENTION_LINES = 7
CHART_PEOPLE = 150
"""The chart's rows at most: 42 px each keeps the photo within Telegram's 10,000 px."""
NAMES_PER_LINE = 5
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WEEK = re.compile(r"^\s*(\d{4})\s*-?\s*W\s*(\d{1,2})\s*$", re.IGNORECASE)
WEEK_HELP = "Send the week as year and ISO week number, for example /digest 2026-W47."


# --- Weeks --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Week:
    """An ISO week (Monday to Sunday) in a time zone; its bounds are UTC moments."""

    monday: dt.date
    timezone: str
    day_bounds: tuple[dt.datetime, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.monday.isoweekday() != 1:
            raise ValueError(f"{self.monday} is not a Monday")
        bounds = tuple(
            local_to_utc(self.monday + dt.timedelta(days=n), dt.time(0), self.timezone)
            for n in range(8)
        )
        object.__setattr__(self, "day_bounds", bounds)

    @classmethod
    def containing(cls, moment: dt.datetime, timezone: str) -> Week:
        """The week in which `moment` falls, in the zone's wall time."""
        day = moment.astimezone(ZoneInfo(timezone)).date()
        return cls(day - dt.timedelta(days=day.weekday()), timezone)

    @classmethod
    def parse(cls, text: str, timezone: str) -> Week:
        """`2026-W47` (also `2026W47`, `2026-w7`); a DomainError says what to send instead."""
        match = _WEEK.match(text)
        if match is None:
            raise DomainError(f"I can't read “{text.strip()[:20]}” as a week. {WEEK_HELP}")
        year, number = int(match.group(1)), int(match.group(2))
        try:
            monday = dt.date.fromisocalendar(year, number, 1)
        except ValueError:
            raise DomainError(f"{year} has no week {number}. {WEEK_HELP}") from None
        return cls(monday, timezone)

    @property
    def iso(self) -> str:
        """`2026-W47`."""
        year, number, _ = self.monday.isocalendar()
        return f"{year}-W{number:02d}"

    @property
    def number(self) -> int:
        """The ISO week number."""
        return self.monday.isocalendar()[1]

    @property
    def sunday(self) -> dt.date:
        """The last day."""
        return self.monday + dt.timedelta(days=6)

    @property
    def start(self) -> dt.datetime:
        """Monday 00:00 local, in UTC."""
        return self.day_bounds[0]

    @property
    def end(self) -> dt.datetime:
        """The next Monday 00:00 local, in UTC (exclusive)."""
        return self.day_bounds[-1]

    def shift(self, weeks: int) -> Week:
        """The week `weeks` later (earlier when negative)."""
        return Week(self.monday + dt.timedelta(weeks=weeks), self.timezone)

    def day(self, index: int) -> dt.date:
        """The date of day `index` (0 = Monday)."""
        return self.monday + dt.timedelta(days=index)

    def cutoff(self, now: dt.datetime) -> dt.datetime:
        """Where the figures of this week stop: `now` within it, else its end (or start)."""
        return min(max(now, self.start), self.end)

    def same_point_before(self, now: dt.datetime) -> dt.datetime:
        """The moment of the previous week that matches this week's `cutoff(now)` on the wall
        clock of the team's zone: Monday 12:00 for Monday 12:00 (whatever the UTC offsets of
        the two weeks, so across a DST change too); its end for a complete week."""
        cutoff = self.cutoff(now)
        before = self.shift(-1)
        if cutoff >= self.end:
            return before.end
        local = cutoff.astimezone(ZoneInfo(self.timezone))
        days = (local.date() - self.monday).days
        return local_to_utc(before.day(days), local.time(), self.timezone)

    def last_day_until(self, moment: dt.datetime) -> dt.date:
        """The week's last date (team zone) on or before `moment` (for dated money figures)."""
        if moment >= self.end:
            return self.sunday
        local = (moment - dt.timedelta(microseconds=1)).astimezone(ZoneInfo(self.timezone))
        return min(self.sunday, max(self.monday, local.date()))


# --- Figures ------------------------------------------------------------------------------


@dataclass(slots=True)
class PersonWeek:
    """One person's figures (or the team's, summed) for a week."""

    manager_id: int
    name: str
    calls: int = 0
    meetings: int = 0
    other: int = 0
    new_clients: int = 0
    at_logging: int = 0
    later: int = 0
    missing: int = 0
    disciplined: int = 0
    won: int = 0
    refused: int = 0
    not_target: int = 0
    missing_overnight: int = 0
    overdue: int = 0
    overdue_long: int = 0
    oldest_due: dt.datetime | None = None
    oldest_client: str | None = None
    coming: int = 0
    idle_clients: int = 0
    snoozes: int = 0
    reschedules: int = 0
    cancellations: int = 0
    waking: int = 0
    overdue_invoices: int = 0
    silent_days: int | None = None
    silent_more: bool = False  # silent since before the lookback: at least `silent_days`

    @property
    def contacts(self) -> int:
        """Calls, meetings and other contacts."""
        return self.calls + self.meetings + self.other

    @property
    def closures(self) -> int:
        """Won, refused and not-a-target outcomes."""
        return self.won + self.refused + self.not_target

    @property
    def discipline(self) -> int | None:
        """The discipline rate in whole percent (half up); None without contacts."""
        return percent(self.disciplined, self.contacts)

    @property
    def below_target(self) -> bool:
        """Whether the discipline rate is under the target (compared exactly)."""
        return self.contacts > 0 and self.disciplined * 100 < DISCIPLINE_TARGET * self.contacts

    def overdue_days(self, now: dt.datetime) -> int | None:
        """Whole days the oldest overdue step is late."""
        return None if self.oldest_due is None else (now - self.oldest_due).days


_SUMMED = tuple(
    f.name
    for f in fields(PersonWeek)
    if f.name
    not in ("manager_id", "name", "oldest_due", "oldest_client", "silent_days", "silent_more")
)


def percent(part: int, whole: int) -> int | None:
    """`part / whole` in whole percent, rounded half up; None when `whole` is 0."""
    if whole == 0:
        return None
    return int((Decimal(100 * part) / Decimal(whole)).quantize(Decimal(1), ROUND_HALF_UP))


def team_totals(people: Iterable[PersonWeek], name: str = "Team") -> PersonWeek:
    """The sum of everyone's figures; the oldest overdue step is the oldest of all."""
    total = PersonWeek(0, name)
    for person in people:
        for attr in _SUMMED:
            setattr(total, attr, getattr(total, attr) + getattr(person, attr))
        if person.oldest_due is not None and (
            total.oldest_due is None or person.oldest_due < total.oldest_due
        ):
            total.oldest_due, total.oldest_client = person.oldest_due, person.oldest_client
    return total


@dataclass(frozen=True, slots=True)
class Change:
    """A main figure against the previous week: ▲/▼ with the difference."""

    key: str
    label: str
    value: int
    delta: int | None  # None: nothing to compare with (a rate without contacts)
    unit: str = ""

    @property
    def arrow(self) -> str:
        """`▲3`, `▼2`, `=` or empty when there is nothing to compare."""
        if self.delta is None:
            return ""
        if self.delta > 0:
            return f"▲{self.delta}"
        if self.delta < 0:
            return f"▼{-self.delta}"
        return "="


@dataclass(frozen=True, slots=True)
class SnoozedItem:
    """A step snoozed often this week."""

    client_name: str
    manager_name: str
    snoozes: int
    lifetime_snoozes: int
    open: bool


@dataclass(frozen=True, slots=True)
class WakingItem:
    """A paused client whose check-back is due in the coming week."""

    client_name: str
    manager_name: str
    due_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Attention:
    """One line of the attention list: a kind, the names or items in it, and how many more."""

    # invoice_final | overdue_step | silent | discipline | promise_broken | plan_behind |
    # refusal_spike (its items: the reasons' preset codes)
    kind: str
    items: tuple[str, ...]
    more: int = 0
    count: int = 0
    detail: str = ""
    manager_ids: tuple[int, ...] = ()  # the people named, in order (their buttons)


@dataclass(frozen=True, slots=True)
class ChartRow:
    """One manager on the chart: the week's contacts by kind, their discipline rate, and
    what is slipping now (overdue steps; overdue invoices, counted, never summed in money)."""

    name: str
    calls: int
    meetings: int
    other: int
    discipline: int | None
    below_target: bool
    overdue_steps: int
    overdue_invoices: int

    @property
    def contacts(self) -> int:
        """Calls, meetings and other contacts."""
        return self.calls + self.meetings + self.other


@dataclass(frozen=True, slots=True)
class ChartData:
    """The chart's rows, busiest first; `omitted` people left out of a very large team's."""

    rows: tuple[ChartRow, ...]
    omitted: int = 0

    @property
    def total(self) -> int:
        """All contacts in the chart."""
        return sum(row.contacts for row in self.rows)

    @property
    def empty(self) -> bool:
        """Nothing to draw: no contact, nothing overdue."""
        return not any(
            row.contacts or row.overdue_steps or row.overdue_invoices for row in self.rows
        )


@dataclass(frozen=True, slots=True)
class WaitingItem:
    """A contact still waiting for its next step, as the Discipline section lists it."""

    contact_id: int
    client_id: int
    client_name: str
    manager_id: int
    manager_name: str
    kind: str
    logged_at: dt.datetime


@dataclass(frozen=True, slots=True)
class LateStep:
    """An open step overdue more than a week."""

    step_id: int
    client_id: int
    client_name: str
    manager_id: int
    manager_name: str
    kind: str
    due_at: dt.datetime


@dataclass(frozen=True, slots=True)
class DisciplineSection:
    """The Discipline drill-down: contacts without a next step (now, per contact), the
    week's most-snoozed steps, and steps overdue more than 7 days (per step)."""

    week: Week
    now: dt.datetime
    waiting_total: int
    waiting_per_manager: tuple[tuple[str, int], ...]  # (name, count), most first
    waiting: tuple[WaitingItem, ...]
    most_snoozed: tuple[SnoozedItem, ...]
    late_total: int
    late: tuple[LateStep, ...]
    below_target: tuple[PersonWeek, ...]


@dataclass(frozen=True, slots=True)
class TeamDigest:
    """Everything a head's digest shows for one week."""

    week: Week
    now: dt.datetime
    people: tuple[PersonWeek, ...]
    totals: PersonWeek
    previous: PersonWeek
    changes: tuple[Change, ...]
    most_snoozed: tuple[SnoozedItem, ...]
    waking_total: int
    waking: tuple[WakingItem, ...]
    receivables: ReceivablesWeek | None
    attention: tuple[Attention, ...]
    chart: ChartData
    compared_to: dt.datetime
    """Where the previous week's figures stop: the same point of that week."""
    plans: tuple[PersonPlan, ...] = ()
    """The managers' plans for the month, as of the week's cut-off (those with one)."""
    refusals: RefusalWeek | None = None
    """The week's refusals per reason, with the four weeks before."""

    @property
    def complete(self) -> bool:
        """Whether the week is over (else the figures are "so far")."""
        return self.now >= self.week.end

    def person(self, manager_id: int) -> PersonWeek | None:
        """One person's row."""
        return next((p for p in self.people if p.manager_id == manager_id), None)

    @property
    def no_activity(self) -> bool:
        """Nothing was logged in the week: no contact, client, snooze or money movement."""
        totals = self.totals
        moved = self.receivables is not None and self.receivables.moved
        return not (
            totals.contacts
            or totals.new_clients
            or totals.snoozes
            or totals.reschedules
            or totals.cancellations
            or moved
        )


@dataclass(frozen=True, slots=True)
class OwnSummary:
    """A manager's "Your week": own figures, loose ends and next week's plan."""

    week: Week
    now: dt.datetime
    person: PersonWeek
    changes: tuple[Change, ...]
    pending: tuple[PendingContact, ...]
    overdue_total: int
    overdue: tuple[PlanItem, ...]
    plan_total: int
    plan: tuple[PlanItem, ...]
    receivables: ReceivablesWeek | None
    compared_to: dt.datetime | None = None
    pending_total: int = 0
    month_plan: PersonPlan | None = None
    """The manager's plan for the month, as of the week's cut-off (None without one)."""

    @property
    def complete(self) -> bool:
        """Whether the week is over."""
        return self.now >= self.week.end

    @property
    def no_activity(self) -> bool:
        """The manager logged nothing this week."""
        person = self.person
        return not (person.contacts or person.new_clients or person.snoozes or person.reschedules)


async def _people_figures(
    db: Database,
    week: Week,
    *,
    now: dt.datetime,
    names: dict[int, str],
    manager_id: int | None = None,
    with_state: bool = True,
    until: dt.datetime | None = None,
) -> dict[int, PersonWeek]:
    """Per person, every aggregate for the week merged into one PersonWeek each.

    `until` cuts the week's activity there (the same part of a previous week), and what
    had been decided by then counts: a next step chosen after `until` is still missing."""
    people: dict[int, PersonWeek] = {}
    end = week.end if until is None else min(until, week.end)

    def person(person_id: int) -> PersonWeek:
        if person_id not in people:
            people[person_id] = PersonWeek(person_id, names.get(person_id, f"#{person_id}"))
        return people[person_id]

    for row in await digest_figures.contact_figures(
        db,
        week.day_bounds,
        at_logging=AT_LOGGING,
        discipline=DISCIPLINE_WINDOW,
        manager_id=manager_id,
        until=end,
        as_of=min(now, end),
    ):
        target = person(row.manager_id)
        for name in (
            "calls",
            "meetings",
            "other",
            "at_logging",
            "later",
            "missing",
            "disciplined",
            "won",
            "refused",
            "not_target",
            "missing_overnight",
        ):
            setattr(target, name, getattr(row, name))
    new = await digest_figures.new_clients(db, week.start, end, manager_id=manager_id)
    for person_id, count in new.items():
        person(person_id).new_clients = count
    for events in await digest_figures.event_figures(db, week.start, end, manager_id=manager_id):
        target = person(events.manager_id)
        target.snoozes = events.snoozes
        target.reschedules = events.reschedules
        target.cancellations = events.cancellations
    if not with_state:
        return people
    coming = week.shift(1)
    for steps in await digest_figures.step_figures(
        db,
        now=now,
        long_overdue=LONG_OVERDUE,
        coming_start=coming.start,
        coming_end=coming.end,
        manager_id=manager_id,
    ):
        target = person(steps.manager_id)
        target.overdue = steps.overdue
        target.overdue_long = steps.overdue_long
        target.oldest_due = steps.oldest_due
        target.oldest_client = steps.oldest_client
        target.coming = steps.coming
    for person_id, count in (
        await digest_figures.idle_clients(db, now - IDLE_AFTER, manager_id=manager_id)
    ).items():
        person(person_id).idle_clients = count
    return people


def silent_working_days(
    *,
    last_contact: dt.datetime | None,
    joined: dt.datetime,
    reference: dt.datetime,
    timezone: str,
    working_days: Sequence[int],
    cap: int = 31,
) -> int:
    """Whole working days (the person's, in their zone) after their last contact (or the day
    they joined) and before the day of `reference`, counted up to `cap`."""
    zone = ZoneInfo(timezone)
    since = (last_contact or joined).astimezone(zone).date()
    until = reference.astimezone(zone).date()
    count = 0
    day = since + dt.timedelta(days=1)
    days = set(working_days) or set(range(1, 8))
    while day < until and count < cap:
        if day.isoweekday() in days:
            count += 1
        day += dt.timedelta(days=1)
    return count


def _changes(current: PersonWeek, previous: PersonWeek) -> tuple[Change, ...]:
    """The main figures against the previous week."""

    def change(key: str, label: str, value: int, before: int) -> Change:
        return Change(key, label, value, value - before)

    rate, before_rate = current.discipline, previous.discipline
    return (
        change("contacts", "Contacts", current.contacts, previous.contacts),
        change("calls", "Calls", current.calls, previous.calls),
        change("meetings", "Meetings", current.meetings, previous.meetings),
        change("other", "Other", current.other, previous.other),
        change("new_clients", "New clients", current.new_clients, previous.new_clients),
        change("missing", "Still without a next step", current.missing, previous.missing),
        Change(
            "discipline",
            "Discipline",
            rate if rate is not None else 0,
            None if rate is None or before_rate is None else rate - before_rate,
            "%",
        ),
        change("closures", "Closures", current.closures, previous.closures),
        change("won", "Won", current.won, previous.won),
        change(
            "lost",
            "Refused / not a target",
            current.refused + current.not_target,
            previous.refused + previous.not_target,
        ),
        change(
            "postponed",
            "Snoozes + reschedules",
            current.snoozes + current.reschedules,
            previous.snoozes + previous.reschedules,
        ),
        change(
            "missing_overnight",
            "Left overnight without a next step",
            current.missing_overnight,
            previous.missing_overnight,
        ),
    )


def _names_line(entries: Sequence[str]) -> tuple[tuple[str, ...], int]:
    return tuple(entries[:NAMES_PER_LINE]), max(0, len(entries) - NAMES_PER_LINE)


def attention_list(
    people: Sequence[PersonWeek],
    totals: PersonWeek,
    receivables: ReceivablesWeek | None,
    *,
    now: dt.datetime,
    plans: Sequence[PersonPlan] = (),
    refusals: RefusalWeek | None = None,
) -> tuple[Attention, ...]:
    """At most seven lines the head should act on, most urgent first: managers more than
    20 % behind the pace of their plan (after the month's first week) and refusal reasons
    that doubled against the four weeks before come last."""
    lines: list[Attention] = []
    if receivables is not None and receivables.final_stage_total:
        total = receivables.final_stage_total
        items = tuple(item.label for item in receivables.final_stage[:NAMES_PER_LINE])
        lines.append(Attention("invoice_final", items, total - len(items), count=total))
    if totals.overdue_long:
        oldest = [
            person for person in people if person.oldest_due is not None and person.overdue_long
        ]
        oldest.sort(key=lambda person: (person.oldest_due, person.name.casefold()))
        items, more = _names_line(
            [
                f"{person.oldest_client} ({person.name}, {person.overdue_days(now)} days)"
                for person in oldest
            ]
        )
        lines.append(Attention("overdue_step", items, more, count=totals.overdue_long))
    silent = sorted(
        (person for person in people if (person.silent_days or 0) >= SILENT_WORKING_DAYS),
        key=lambda person: (-(person.silent_days or 0), person.name.casefold()),
    )
    if silent:
        items, more = _names_line(
            [f"{p.name} ({p.silent_days}{'+' if p.silent_more else ''} days)" for p in silent]
        )
        ids = tuple(p.manager_id for p in silent[:NAMES_PER_LINE])
        lines.append(Attention("silent", items, more, count=len(silent), manager_ids=ids))
    low = sorted(
        (person for person in people if person.below_target),
        key=lambda person: (person.disciplined / person.contacts, person.name.casefold()),
    )
    if low:
        items, more = _names_line([f"{p.name} {p.discipline}%" for p in low])
        ids = tuple(p.manager_id for p in low[:NAMES_PER_LINE])
        lines.append(Attention("discipline", items, more, count=len(low), manager_ids=ids))
    if receivables is not None and receivables.promises_broken:
        lines.append(
            Attention(
                "promise_broken",
                tuple(receivables.broken_labels[:NAMES_PER_LINE]),
                max(0, receivables.promises_broken - NAMES_PER_LINE),
                count=receivables.promises_broken,
            )
        )
    behind = sorted(
        (plan for plan in plans if plan.far_behind),
        key=lambda plan: (min(t.done_percent for t in plan.far_behind), plan.name.casefold()),
    )
    if behind:
        items, more = _names_line([plan.name for plan in behind])
        ids = tuple(plan.manager_id for plan in behind[:NAMES_PER_LINE])
        lines.append(Attention("plan_behind", items, more, count=len(behind), manager_ids=ids))
    if refusals is not None and refusals.doubled:
        reasons = refusals.doubled
        lines.append(
            Attention(
                "refusal_spike",
                tuple(reason.preset.value for reason in reasons),
                count=sum(reason.count for reason in reasons),
            )
        )
    return tuple(lines[:ATTENTION_LINES])


def _chart(people: Sequence[PersonWeek]) -> ChartData:
    """One row per person with contacts or anything overdue, the busiest first; beyond
    CHART_PEOPLE people only the busiest (Telegram refuses taller photos)."""
    shown = [
        person for person in people if person.contacts or person.overdue or person.overdue_invoices
    ]
    shown.sort(key=lambda person: (-person.contacts, -person.overdue, person.name.casefold()))
    omitted = max(0, len(shown) - CHART_PEOPLE)
    return ChartData(
        rows=tuple(
            ChartRow(
                name=person.name,
                calls=person.calls,
                meetings=person.meetings,
                other=person.other,
                discipline=person.discipline,
                below_target=person.below_target,
                overdue_steps=person.overdue,
                overdue_invoices=person.overdue_invoices,
            )
            for person in shown[:CHART_PEOPLE]
        ),
        omitted=omitted,
    )


async def build_team_digest(db: Database, *, week: Week, now: dt.datetime) -> TeamDigest:
    """Every figure of the team's week, as of `now` for the "now" figures."""
    users = await list_users(db)
    names = {user.telegram_id: user.name for user in users}
    by_id = {user.telegram_id: user for user in users}
    current = await _people_figures(db, week, now=now, names=names)
    compared_to = week.same_point_before(now)
    previous_people = await _people_figures(
        db, week.shift(-1), now=now, names=names, with_state=False, until=compared_to
    )
    coming = week.shift(1)
    waking_total, waking_per_manager, waking_rows = await digest_figures.waking_clients(
        db, coming.start, coming.end, limit=WAKING_LISTED
    )
    for person_id, count in waking_per_manager.items():
        current.setdefault(person_id, PersonWeek(person_id, names.get(person_id, "?")))
        current[person_id].waking = count
    # Managers on the team are listed even with nothing to show; anyone else only with figures.
    for member in users:
        if member.active and member.role is Role.MANAGER and member.telegram_id not in current:
            current[member.telegram_id] = PersonWeek(member.telegram_id, member.name)
    reference = min(now, week.end)
    since = reference - SILENT_LOOKBACK
    last = await digest_figures.last_contacts(db, since, reference)
    for person in current.values():
        user = by_id.get(person.manager_id)
        if (
            user is None
            or not user.active
            or user.role is not Role.MANAGER
            or user.created_at >= reference
            or (user.away_until is not None and user.away_until > reference)
        ):
            continue
        person.silent_more = person.manager_id not in last and user.created_at < since
        person.silent_days = silent_working_days(
            last_contact=last.get(person.manager_id),
            joined=max(user.created_at, since),
            reference=reference,
            timezone=user.timezone,
            working_days=user.working_days,
        )
    snoozed = await digest_figures.most_snoozed(
        db, week.start, week.cutoff(now), limit=MOST_SNOOZED
    )
    receivables = await receivables_digest.week_figures(
        db, week=week, now=now, names=names, compare_with=_compare_dates(week, compared_to)
    )
    if receivables is not None:
        for person_id, count in receivables.overdue_per_manager:
            current.setdefault(person_id, PersonWeek(person_id, names.get(person_id, "?")))
            current[person_id].overdue_invoices = count
    people = sorted(current.values(), key=lambda p: (p.name.casefold(), p.manager_id))
    totals = team_totals(people)
    previous = team_totals(previous_people.values())
    cutoff = week.cutoff(now)
    plans = await digest_plans(db, as_of=cutoff, until_cutoff=cutoff >= week.end)
    refusals = await digest_refusals(db, start=week.start, end=cutoff)
    return TeamDigest(
        week=week,
        now=now,
        people=tuple(people),
        totals=totals,
        previous=previous,
        changes=_changes(totals, previous),
        most_snoozed=tuple(
            SnoozedItem(
                client_name=item.client_name,
                manager_name=names.get(item.manager_id, "?"),
                snoozes=item.snoozes,
                lifetime_snoozes=item.lifetime_snoozes,
                open=item.open,
            )
            for item in snoozed
        ),
        waking_total=waking_total,
        waking=tuple(
            WakingItem(row.client_name, names.get(row.manager_id, "?"), row.due_at)
            for row in waking_rows
        ),
        receivables=receivables,
        attention=attention_list(
            people, totals, receivables, now=now, plans=plans, refusals=refusals
        ),
        chart=_chart(people),
        compared_to=compared_to,
        plans=plans,
        refusals=refusals,
    )


def _compare_dates(week: Week, compared_to: dt.datetime) -> tuple[dt.date, dt.date]:
    """The dates of the previous week's same part (for dated figures: payments)."""
    before = week.shift(-1)
    return before.monday, before.last_day_until(compared_to)


async def build_own_summary(
    db: Database, *, manager: User, week: Week, now: dt.datetime
) -> OwnSummary:
    """A manager's own week: their figures, contacts without a next step, overdue steps and
    the plan for the week after `week`."""
    names = {manager.telegram_id: manager.name}
    person_id = manager.telegram_id
    current = await _people_figures(db, week, now=now, names=names, manager_id=person_id)
    compared_to = week.same_point_before(now)
    previous = await _people_figures(
        db,
        week.shift(-1),
        now=now,
        names=names,
        manager_id=person_id,
        with_state=False,
        until=compared_to,
    )
    person = current.get(person_id, PersonWeek(person_id, manager.name))
    before = previous.get(person_id, PersonWeek(person_id, manager.name))
    coming = week.shift(1)
    overdue_total, overdue = await digest_figures.open_steps_between(
        db, person_id, None, now, limit=OWN_LISTED
    )
    plan_total, plan = await digest_figures.open_steps_between(
        db, person_id, max(coming.start, now), coming.end, limit=OWN_LISTED * 2
    )
    pending = await pending_for_manager(db, person_id)
    receivables = await receivables_digest.week_figures(
        db,
        week=week,
        now=now,
        names=names,
        manager_id=person_id,
        compare_with=_compare_dates(week, compared_to),
    )
    if receivables is not None:
        person.overdue_invoices = sum(count for _, count in receivables.overdue_per_manager)
    return OwnSummary(
        week=week,
        now=now,
        person=person,
        changes=_changes(person, before),
        pending=tuple(pending[:OWN_LISTED]),
        overdue_total=overdue_total,
        overdue=tuple(overdue),
        plan_total=plan_total,
        plan=tuple(plan),
        receivables=receivables,
        compared_to=compared_to,
        pending_total=len(pending),
        month_plan=await own_digest_plan(
            db, manager, as_of=week.cutoff(now), until_cutoff=week.cutoff(now) >= week.end
        ),
    )


WAITING_LISTED = 6
LATE_LISTED = 6


async def build_discipline(db: Database, *, week: Week, now: dt.datetime) -> DisciplineSection:
    """The Discipline drill-down of the team's digest: contacts without a next step now
    (counted per contact), the week's most-snoozed steps, steps overdue more than 7 days
    (per step), and who is under the discipline target this week."""
    names = {user.telegram_id: user.name for user in await list_users(db)}
    per_manager, waiting = await digest_figures.contacts_waiting(db, limit=WAITING_LISTED)
    late_total, late = await digest_figures.steps_overdue_before(
        db, now - LONG_OVERDUE, limit=LATE_LISTED
    )
    snoozed = await digest_figures.most_snoozed(
        db, week.start, week.cutoff(now), limit=MOST_SNOOZED
    )
    people = await _people_figures(db, week, now=now, names=names, with_state=False)
    low = sorted(
        (person for person in people.values() if person.below_target),
        key=lambda person: (person.disciplined / person.contacts, person.name.casefold()),
    )
    return DisciplineSection(
        week=week,
        now=now,
        waiting_total=sum(per_manager.values()),
        waiting_per_manager=tuple(
            sorted(
                ((names.get(pid, "?"), n) for pid, n in per_manager.items()),
                key=lambda item: (-item[1], item[0].casefold()),
            )
        ),
        waiting=tuple(
            WaitingItem(
                contact_id=item.contact_id,
                client_id=item.client_id,
                client_name=item.client_name,
                manager_id=item.manager_id,
                manager_name=names.get(item.manager_id, "?"),
                kind=item.kind,
                logged_at=item.logged_at,
            )
            for item in waiting
        ),
        most_snoozed=tuple(
            SnoozedItem(
                client_name=item.client_name,
                manager_name=names.get(item.manager_id, "?"),
                snoozes=item.snoozes,
                lifetime_snoozes=item.lifetime_snoozes,
                open=item.open,
            )
            for item in snoozed
        ),
        late_total=late_total,
        late=tuple(
            LateStep(
                step_id=item.step_id,
                client_id=item.client_id,
                client_name=item.client_name,
                manager_id=item.manager_id,
                manager_name=names.get(item.manager_id, "?"),
                kind=item.kind,
                due_at=item.due_at,
            )
            for item in late
        ),
        below_target=tuple(low),
    )


@dataclass(frozen=True, slots=True)
class WeekRecords:
    """The raw rows behind a digest, for the spreadsheet."""

    contacts: tuple[digest_rows.ContactRecord, ...]
    steps: tuple[digest_rows.StepRecord, ...]
    movements: tuple[digest_rows.InvoiceMovement, ...]

    @property
    def empty(self) -> bool:
        """No row at all."""
        return not (self.contacts or self.steps or self.movements)


async def week_records(db: Queries, *, week: Week, manager_id: int | None = None) -> WeekRecords:
    """The week's contacts, steps (set by them or due in the week) and invoice movements
    (through the bot's database, or a worker's `storage.digest_rows.read_only` connection)."""
    return WeekRecords(
        contacts=tuple(
            await digest_rows.contact_records(db, week.start, week.end, manager_id=manager_id)
        ),
        steps=tuple(
            await digest_rows.step_records(db, week.start, week.end, manager_id=manager_id)
        ),
        movements=tuple(await receivables_digest.movements(db, week=week, manager_id=manager_id)),
    )


# --- Access ------------------------------------------------------------------------------


def may_see_team(actor: User) -> bool:
    """Heads and admins see the team's digest; managers only their own summary."""
    return actor.active and actor.is_lead


TEAM_ONLY = (
    "Only heads of sales see the team's digest. /digest shows your own week, with its spreadsheet."
)
OWN_ONLY = "You can see only your own week: /digest shows it."


def require_team_view(actor: User) -> None:
    """Raise (politely) unless the person may see the team's digest."""
    if not may_see_team(actor):
        raise NotAllowed(TEAM_ONLY)


async def person_for_view(db: Database, actor: User, manager_id: int) -> User:
    """The person whose week `actor` asked to see: anyone on the team for a head or an
    admin, only themselves for a manager (another's button is refused politely)."""
    if manager_id == actor.telegram_id and actor.active:
        return actor
    if not may_see_team(actor):
        raise NotAllowed(OWN_ONLY)
    person = await get_user(db, manager_id)
    if person is None:
        raise DomainError("That person is not on the team any more.")
    return person


def week_for_request(text: str | None, *, now: dt.datetime, timezone: str) -> Week:
    """The week a person asked for: empty = this week; refuses weeks that have not begun."""
    current = Week.containing(now, timezone)
    if not text or not text.strip():
        return current
    week = Week.parse(text, timezone)
    if week.start > now:
        raise DomainError(
            f"Week {week.iso} hasn't started yet; the latest is {current.iso}. {WEEK_HELP}"
        )
    return week


# --- Scheduling ----------------------------------------------------------------------------

STALE_CLAIM = dt.timedelta(minutes=1)
"""A claim this old whose delivery is unfinished belonged to a crashed or failed attempt."""
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class DueDigest:
    """A digest owed to someone: which kind, for which week, due since when."""

    recipient: Recipient
    kind: DigestKind
    week: Week
    due_at: dt.datetime


def _schedule(recipient: Recipient) -> tuple[DigestKind, int, dt.time, int] | None:
    """(kind, weekday, local time, reported week offset from the anchor week) or None."""
    prefs = recipient.prefs
    if recipient.role == Role.HEAD.value:
        return DigestKind.TEAM, prefs.digest_day, prefs.digest_time, -1
    if recipient.role == Role.MANAGER.value:
        return DigestKind.OWN, prefs.week_summary_day, prefs.week_summary_time, 0
    return None


def latest_due(recipient: Recipient, *, now: dt.datetime, timezone: str) -> DueDigest | None:
    """The most recent digest this person was due to get by `now`, if any.

    Their day and time are read on the calendar of the team's current week (and of the week
    before, for a time not reached yet), in their own zone. A head's digest reports the team
    week before that calendar week, so it is never sent before the reported week is over; a
    manager's "Your week" reports the calendar week itself. A head east of the team gets it
    once the team's week is over (the calendar week has begun). A person who joined after
    the moment is not owed it.
    """
    schedule = _schedule(recipient)
    if schedule is None:
        return None
    kind, weekday, time, offset = schedule
    if weekday == 0:
        return None
    anchor = Week.containing(now, timezone)
    for candidate in (anchor, anchor.shift(-1)):
        due_at = local_to_utc(candidate.day(weekday - 1), time, recipient.timezone)
        if due_at <= now:
            week = candidate.shift(offset)
            if recipient.created_at > due_at:
                return None  # joined after it was due: not owed
            return DueDigest(recipient, kind, week, due_at)
    return None


async def due_digests(db: Database, *, now: dt.datetime, timezone: str) -> list[DueDigest]:
    """Digests owed by `now` that are not delivered yet (new, or an unfinished claim that has
    gone stale), for every active head and manager."""
    owed = [
        due
        for recipient in await digest_ledger.recipients(db)
        if (due := latest_due(recipient, now=now, timezone=timezone)) is not None
    ]
    result: list[DueDigest] = []
    for kind in DigestKind:
        wanted = [due for due in owed if due.kind is kind]
        if not wanted:
            continue
        rows = await digest_ledger.ledger(db, kind, sorted({due.week.iso for due in wanted}))
        for due in wanted:
            row = rows.get((due.recipient.telegram_id, due.week.iso))
            if row is None or (
                row.state is DeliveryState.SENDING
                and row.claimed_at <= now - STALE_CLAIM
                and row.attempts < MAX_ATTEMPTS
            ):
                result.append(due)
    return result


async def claim_delivery(db: Database, clock: Clock, due: DueDigest) -> Delivery | None:
    """Take the right to deliver: recorded before anything is sent, so a restart never sends
    a delivered digest again. None if it is delivered or being delivered."""
    now = clock.now()
    async with db.transaction() as tx:
        return await digest_ledger.claim(
            tx,
            due.recipient.telegram_id,
            due.kind,
            due.week.iso,
            now=now,
            stale_before=now - STALE_CLAIM,
            max_attempts=MAX_ATTEMPTS,
        )


async def record_progress(db: Database, delivery: Delivery, parts_sent: int) -> None:
    """The first `parts_sent` messages of a delivery are out."""
    async with db.transaction() as tx:
        await digest_ledger.record_part(
            tx, delivery.user_id, delivery.kind, delivery.iso_week, parts_sent=parts_sent
        )


async def finish_delivery(
    db: Database, clock: Clock, delivery: Delivery, *, delivered: bool
) -> None:
    """Close a delivery: sent, or failed for good (blocked, or out of attempts)."""
    async with db.transaction() as tx:
        await digest_ledger.finish(
            tx,
            delivery.user_id,
            delivery.kind,
            delivery.iso_week,
            state=DeliveryState.SENT if delivered else DeliveryState.FAILED,
            now=clock.now(),
        )


def out_of_attempts(delivery: Delivery) -> bool:
    """Whether a failed attempt was the last one allowed."""
    return delivery.attempts >= MAX_ATTEMPTS


# --- Settings ------------------------------------------------------------------------------


async def get_prefs(db: Database, user: User) -> DigestPrefs:
    """A person's digest settings."""
    return await digest_ledger.get_prefs(db, user.telegram_id)


def describe_schedule(day: int, time: dt.time) -> str:
    """`Mon 09:00`, or `off`."""
    return "off" if day == 0 else f"{WEEKDAYS[day - 1]} {time.strftime('%H:%M')}"


async def set_schedule(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    kind: DigestKind,
    day: int | None = None,
    time: dt.time | None = None,
) -> DigestPrefs:
    """Change when the person's team digest (heads and admins) or "Your week" arrives.

    `day` is an ISO weekday (Mon=1) or 0 to switch it off; `time` a local wall time.
    """
    if kind is DigestKind.TEAM:
        try:
            require_lead(actor)
        except NotAllowed:
            raise NotAllowed("Only heads of sales receive the team digest.") from None
    if day is not None and not 0 <= day <= 7:
        raise DomainError("Choose a day from Monday to Sunday, or Off.")
    if time is not None:
        time = time.replace(second=0, microsecond=0, tzinfo=None)
    now = clock.now()
    async with db.transaction() as tx:
        if kind is DigestKind.TEAM:
            await digest_ledger.set_prefs(
                tx, actor.telegram_id, now=now, digest_day=day, digest_time=time
            )
        else:
            await digest_ledger.set_prefs(
                tx, actor.telegram_id, now=now, week_summary_day=day, week_summary_time=time
            )
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="digest.schedule",
            now=now,
            object_type="user",
            object_id=actor.telegram_id,
            details={
                "kind": kind.value,
                "day": day,
                "time": None if time is None else time.strftime("%H:%M"),
            },
        )
    return await digest_ledger.get_prefs(db, actor.telegram_id)
