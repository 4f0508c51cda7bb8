"""Monthly plans: targets per manager set by heads and admins, progress counted from what is
recorded, paced on the manager's working days.

Telegram-free. A plan is a manager's targets for a calendar month (their own time zone's):
contacts logged, meetings (visits too), new clients (created, owned by them), deals won and
money collected (payments recorded on their clients' invoices, dated in the month), the last
one per currency: amounts in different currencies are never added or compared. Each change
is a new version with who set it and when, in the audit log too; the latest counts, the
earlier ones are the history.

Pace: the share of the month's working days (the manager's, from /settings) that have ended
before today. A target is done once reached; otherwise ahead, on pace or behind as the
figure compares with target × that share (within 10 % is on pace). A manager is "behind
plan" for the digest's attention list when some target is more than 20 % behind its pace
after the first week of the month.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.services.clients import fold_text
from bot.services.errors import DomainError, NotAllowed
from bot.services.months import Month, Pace, parse_month, working_pace
from bot.services.ownership import deny
from bot.services.receivables.money import parse_money as read_money
from bot.services.receivables.money import read_number
from storage import audit, plans, users
from storage.db import Database, Queries
from storage.plans import Actuals, PeriodOf, PlanVersion, TargetRow
from storage.users import Role, User

MAX_COUNT = 100_000
MONTHS_AHEAD = 12
BEHIND_FLAG = 20
"""Percent behind pace that puts a manager on the digest's attention list."""
FIRST_WEEK_DAYS = 7
"""The attention list waits until this many days of the month are over."""
SWITCHED_OFF = "Your access has been switched off; ask an admin."
LEADS_ONLY = "Only heads of sales and admins set plans. /plan shows your own plan and progress."
OWN_ONLY = "You can see only your own plan: /plan shows it."


class Metric(StrEnum):
    """What a plan counts."""

    CONTACTS = "contacts"
    MEETINGS = "meetings"
    NEW_CLIENTS = "new_clients"
    WON = "won"
    COLLECTED = "collected"


METRICS = tuple(Metric)
# The words of the one-line form, folded (checked longest first), for each metric.
METRIC_WORDS: dict[str, Metric] = {
    "contacts": Metric.CONTACTS,
    "contact": Metric.CONTACTS,
    "calls": Metric.CONTACTS,
    "meetings": Metric.MEETINGS,
    "meeting": Metric.MEETINGS,
    "new clients": Metric.NEW_CLIENTS,
    "new client": Metric.NEW_CLIENTS,
    "clients": Metric.NEW_CLIENTS,
    "won": Metric.WON,
    "wins": Metric.WON,
    "deals won": Metric.WON,
    "deals": Metric.WON,
    "collected": Metric.COLLECTED,
    "collect": Metric.COLLECTED,
    "collections": Metric.COLLECTED,
    "payments": Metric.COLLECTED,
}
CLEAR_WORDS = frozenset({"0", "none", "off", "no", "-", "—", "clear", "remove"})
TEAM_WORDS = frozenset({"team", "everyone", "all", "all managers", "the team"})


class Status(StrEnum):
    """How a target stands against its pace."""

    DONE = "done"
    AHEAD = "ahead"
    ON_PACE = "on_pace"
    BEHIND = "behind"


@dataclass(frozen=True, slots=True)
class Target:
    """One target: a metric (with its currency for collected) and the number (minor units
    for collected)."""

    metric: Metric
    target: int
    currency: str = ""

    @property
    def key(self) -> tuple[Metric, str]:
        """What it replaces in a plan: the metric, and the currency for collected."""
        return self.metric, self.currency


def _order(key: tuple[Metric, str]) -> tuple[int, str]:
    return METRICS.index(key[0]), key[1]


# --- The one-line form ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """What `/plan …` asks: whose plan (`who`, or the team), which month (None: the current
    one), the targets to set and the ones to remove (`… contacts 0`)."""

    who: str
    team: bool
    month: Month | None
    targets: tuple[Target, ...]
    cleared: tuple[tuple[Metric, str], ...] = ()

    @property
    def changes(self) -> bool:
        """Whether it sets or removes anything (else it only asks to see a plan)."""
        return bool(self.targets or self.cleared)


_FOR = re.compile(r"(?:^|[\s;,])for\s+", re.IGNORECASE)
_SPLIT_AMOUNTS = re.compile(r"\s*(?:\+|&|\band\b|,\s+)\s*", re.IGNORECASE)
_KEYWORDS = re.compile(
    r"(?<![\w])("
    + "|".join(
        re.escape(word).replace(r"\ ", r"\s+")
        for word in sorted(METRIC_WORDS, key=len, reverse=True)
    )
    + r")(?![\w])",
    re.IGNORECASE,
)
LINE_HELP = (
    "Send it like /plan @mara contacts 40; meetings 10; new clients 5; won 3; "
    "collected 20000 EUR (any of them; add “for 2027-01” for another month)."
)


def _take_month(text: str, *, today: dt.date, locale: str) -> tuple[str, Month | None]:
    """`… for 2027-01` (or `for January`, `for next month`) anywhere: the month, taken out."""
    for match in reversed(list(_FOR.finditer(text))):
        after = text[match.end() :]
        clause = re.split(r"[;\n]", after, maxsplit=1)[0]
        words = clause.split()
        for size in (2, 1):
            if len(words) < size:
                continue
            try:
                month = parse_month(" ".join(words[:size]), today=today, locale=locale)
            except DomainError:
                continue
            used = after.index(words[size - 1]) + len(words[size - 1])
            return (text[: match.start()] + " " + after[used:]).strip(" ;,"), month
        if words:
            raise DomainError(
                f"I can't read “{' '.join(words[:2])[:30]}” as a month. "
                "Send it like “for 2027-01” or “for January”."
            )
    return text, None


def _count(metric: Metric, text: str, locale: str) -> int | None:
    """A count target: a whole number; None for "0", "none", "off" (remove it)."""
    value = text.strip(" :=").strip()
    if value.casefold() in CLEAR_WORDS:
        return None
    label = metric.value.replace("_", " ")
    try:
        number = read_number(value, locale)
    except DomainError:
        raise DomainError(
            f"I couldn't read the number for {label}: “{value[:30]}”. Send it like {label} 40."
        ) from None
    if number != number.to_integral_value() or number < 0:
        raise DomainError(f"The target for {label} must be a whole number, like {label} 40.")
    if number > MAX_COUNT:
        raise DomainError(f"{number} {label} is more than a month can hold; please check it.")
    return int(number) or None


def _money_targets(
    text: str, *, default_currency: str, locale: str
) -> tuple[list[Target], list[tuple[Metric, str]]]:
    """`20000 EUR`, `20000 EUR + 5000 USD`, `EUR 0` (remove EUR): one target per currency."""
    targets: list[Target] = []
    cleared: list[tuple[Metric, str]] = []
    for part in _SPLIT_AMOUNTS.split(text.strip(" :=")):
        if not part.strip():
            continue
        words = part.split()
        if len(words) == 2 and (words[0] in CLEAR_WORDS or words[1] in CLEAR_WORDS):
            code = words[1] if words[0] in CLEAR_WORDS else words[0]
            cleared.append((Metric.COLLECTED, code.upper()))
            continue
        money = read_money(part, default_currency=default_currency, locale=locale)
        if any(t.currency == money.currency for t in targets):
            raise DomainError(
                f"{money.currency} is given twice for collected; give each currency once."
            )
        targets.append(Target(Metric.COLLECTED, money.minor, money.currency))
    if not targets and not cleared:
        raise DomainError(
            "Send the amount to collect with its currency, e.g. collected 20000 EUR."
        )
    return targets, cleared


def parse_plan_text(
    text: str, *, today: dt.date, locale: str = "en", default_currency: str = "EUR"
) -> PlanRequest:
    """`@mara contacts 40; meetings 10; new clients 5; won 3; collected 20000 EUR for 2027-01`.

    The words before the first target name the person (`@username`, a name, or `team`);
    targets are `<what> <number>` separated by `;` (or by the next target's word); "0" or
    "none" removes one. Without targets it asks to see that person's (or month's) plan.
    """
    rest, month = _take_month(" ".join(text.split()), today=today, locale=locale)
    found = list(_KEYWORDS.finditer(rest))
    who = (rest[: found[0].start()] if found else rest).strip(" ;,:")
    targets: list[Target] = []
    cleared: list[tuple[Metric, str]] = []
    for index, match in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(rest)
        word = " ".join(match.group(1).casefold().split())
        metric = METRIC_WORDS[word]
        value = rest[match.end() : end].strip(" ;,")
        if not value:
            label = metric.value.replace("_", " ")
            raise DomainError(f"How many {label}? {LINE_HELP}")
        if metric is Metric.COLLECTED:
            money, removed = _money_targets(
                value, default_currency=default_currency, locale=locale
            )
            targets += money
            cleared += removed
            continue
        count = _count(metric, value, locale)
        if count is None:
            cleared.append((metric, ""))
        else:
            targets.append(Target(metric, count))
    keys = [t.key for t in targets] + cleared
    if len(keys) != len(set(keys)):
        raise DomainError("A target is given twice; give each one once. " + LINE_HELP)
    return PlanRequest(
        who=who,
        team=fold_text(who) in TEAM_WORDS,
        month=month,
        targets=tuple(targets),
        cleared=tuple(cleared),
    )


# --- Who and which month -----------------------------------------------------------------


async def managers(db: Queries) -> list[User]:
    """Active managers, by name: the people plans are for."""
    return [u for u in await users.list_users(db, active_only=True) if u.role is Role.MANAGER]


async def find_manager(db: Queries, who: str) -> User:
    """The active manager `who` names: `@username`, their name, or the start of it."""
    text = who.strip()
    team = await managers(db)
    if text.startswith("@"):
        handle = text[1:].casefold()
        for person in team:
            if person.username and person.username.casefold() == handle:
                return person
        raise DomainError(f"No manager on the team has the username @{text[1:][:40]}.")
    folded = fold_text(text)
    if not folded:
        raise DomainError("Whose plan? Name a manager (@username or name), or say team.")
    exact = [p for p in team if fold_text(p.name) == folded]
    starts = [
        p
        for p in team
        if fold_text(p.name).startswith(folded)
        or any(word.startswith(folded) for word in fold_text(p.name).split())
    ]
    chosen = exact or starts
    if len(chosen) == 1:
        return chosen[0]
    if not chosen:
        others = [u for u in await users.list_users(db, active_only=True) if u not in team]
        if any(fold_text(u.name) == folded for u in others):
            raise DomainError(f"Plans are for managers; {text[:40]} is not a manager.")
        raise DomainError(f"I found no manager called “{text[:40]}” on the team.")
    names = ", ".join(p.name for p in chosen[:5])
    raise DomainError(
        f"Several managers match “{text[:40]}”: {names}. Use a longer name or @username."
    )


def check_month(month: Month, *, today: dt.date) -> None:
    """Plans are set for this month or one of the next twelve."""
    current = Month.of(today)
    if month < current:
        raise DomainError(f"{month.iso} is over; plans are set for this month or a later one.")
    if month > current.shift(MONTHS_AHEAD):
        raise DomainError(f"Plans are set at most {MONTHS_AHEAD} months ahead.")


def local_today(user: User, now: dt.datetime) -> dt.date:
    """The person's date now."""
    return now.astimezone(ZoneInfo(user.timezone)).date()


# --- Setting ---------------------------------------------------------------------------------


def _targets_of(version: PlanVersion | None) -> dict[tuple[Metric, str], int]:
    if version is None:
        return {}
    return {(Metric(t.metric), t.currency): t.target for t in version.targets}


@dataclass(frozen=True, slots=True)
class PlanChange:
    """What setting a plan did for one manager: the targets before and after."""

    manager: User
    month: Month
    before: tuple[Target, ...]
    after: tuple[Target, ...]

    @property
    def changed(self) -> bool:
        """Whether a new version was stored."""
        return self.before != self.after


def _as_targets(values: dict[tuple[Metric, str], int]) -> tuple[Target, ...]:
    return tuple(Target(key[0], values[key], key[1]) for key in sorted(values, key=_order))


async def require_planner(db: Database, clock: Clock, *, actor: User, attempted: str) -> None:
    """Heads and admins set plans; anyone else is refused politely, and it is audited."""
    if not actor.active:
        raise NotAllowed(SWITCHED_OFF)
    if not actor.is_lead:
        await deny(db, clock, actor=actor, attempted=attempted, object_type="plan", object_id=0)
        raise NotAllowed(LEADS_ONLY)


async def set_plan(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    manager_ids: Sequence[int],
    month: Month,
    targets: Sequence[Target],
    cleared: Sequence[tuple[Metric, str]] = (),
) -> list[PlanChange]:
    """Set targets of these managers' plans for `month` (others in the plan stay as they
    were; `cleared` ones go): a new version for each manager whose plan changes, with its
    audit entry, in one transaction."""
    await require_planner(db, clock, actor=actor, attempted="plan.set")
    now = clock.now()
    check_month(month, today=local_today(actor, now))
    if not targets and not cleared:
        raise DomainError("Which targets? " + LINE_HELP)
    for target in targets:
        if not 0 < target.target <= (10**15 if target.metric is Metric.COLLECTED else MAX_COUNT):
            raise DomainError("A target must be more than zero; 0 removes it.")
    changes: list[PlanChange] = []
    async with db.transaction() as tx:
        for manager_id in manager_ids:
            manager = await users.get_user(tx, manager_id)
            if manager is None or not manager.active or manager.role is not Role.MANAGER:
                raise DomainError("Plans are for active managers on the team.")
            history = await plans.versions(tx, manager_id, month.iso)
            before = _targets_of(history[-1] if history else None)
            after = dict(before)
            for key in cleared:
                after.pop(key, None)
            for target in targets:
                after[target.key] = target.target
            change = PlanChange(manager, month, _as_targets(before), _as_targets(after))
            changes.append(change)
            if not change.changed:
                continue
            plan_id = await plans.insert_plan(
                tx,
                manager_id=manager_id,
                month=month.iso,
                set_by=actor.telegram_id,
                now=now,
                targets=[TargetRow(t.metric.value, t.currency, t.target) for t in change.after],
            )
            await audit.record(
                tx,
                actor_id=actor.telegram_id,
                action="plan.set",
                now=now,
                object_type="plan",
                object_id=plan_id,
                details={
                    "manager_id": manager_id,
                    "month": month.iso,
                    "before": {_label(t): t.target for t in change.before},
                    "after": {_label(t): t.target for t in change.after},
                },
            )
    return changes


def _label(target: Target) -> str:
    return f"{target.metric.value}:{target.currency}" if target.currency else target.metric.value


# --- Progress ------------------------------------------------------------------------------


def percent(part: int, whole: int) -> int:
    """`part / whole` in whole percent, half up (0 when whole is 0)."""
    if whole <= 0:
        return 0
    return int((Decimal(100 * part) / Decimal(whole)).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class TargetProgress:
    """One target against what was done, and its pace."""

    metric: Metric
    currency: str
    target: int
    actual: int
    pace: Pace

    @property
    def done_percent(self) -> int:
        """How much of the target is done, in whole percent."""
        return percent(self.actual, self.target)

    def _against_pace(self, numerator: int, denominator: int) -> bool:
        """Whether actual >= target × share gone × numerator / denominator (exactly)."""
        pace = self.pace
        return self.actual * pace.total * denominator >= self.target * pace.gone * numerator

    @property
    def status(self) -> Status:
        """Done, ahead (10 %+ over pace), on pace, or behind (10 %+ under pace)."""
        if self.actual >= self.target:
            return Status.DONE
        if self.pace.gone == 0 or self.pace.total == 0:
            return Status.ON_PACE
        if self._against_pace(11, 10) and self.actual > 0:
            return Status.AHEAD
        if self._against_pace(9, 10):
            return Status.ON_PACE
        return Status.BEHIND

    @property
    def far_behind(self) -> bool:
        """More than BEHIND_FLAG % behind its pace (actual under 80 % of what was due)."""
        if self.actual >= self.target or self.pace.gone == 0:
            return False
        return not self._against_pace(100 - BEHIND_FLAG, 100)


@dataclass(frozen=True, slots=True)
class PersonPlan:
    """A manager's plan for a month with its progress as of `as_of`, and its history."""

    manager_id: int
    name: str
    timezone: str
    month: Month
    as_of: dt.datetime
    today: dt.date
    pace: Pace
    targets: tuple[TargetProgress, ...]
    history: tuple[PlanVersion, ...]
    setters: dict[int, str]
    actuals: Actuals

    @property
    def has_plan(self) -> bool:
        """Whether the month has targets."""
        return bool(self.targets)

    @property
    def gone_percent(self) -> int:
        """The share of the month's working days gone, in whole percent."""
        return percent(self.pace.gone, self.pace.total)

    @property
    def current(self) -> PlanVersion | None:
        """The version that counts."""
        return self.history[-1] if self.history else None

    @property
    def behind(self) -> tuple[TargetProgress, ...]:
        """Targets behind pace."""
        return tuple(t for t in self.targets if t.status is Status.BEHIND)

    @property
    def far_behind(self) -> tuple[TargetProgress, ...]:
        """Targets more than 20 % behind pace, once the month's first week is over."""
        if self.today <= self.month.first + dt.timedelta(days=FIRST_WEEK_DAYS - 1):
            return ()
        return tuple(t for t in self.targets if t.far_behind)

    @property
    def status(self) -> Status | None:
        """The plan's overall standing: behind if any target is, done if all are."""
        if not self.targets:
            return None
        if self.behind:
            return Status.BEHIND
        if all(t.status is Status.DONE for t in self.targets):
            return Status.DONE
        if all(t.status in (Status.DONE, Status.AHEAD) for t in self.targets):
            return Status.AHEAD
        return Status.ON_PACE


def _actual(actuals: Actuals, metric: Metric, currency: str) -> int:
    if metric is Metric.COLLECTED:
        return actuals.collected.get(currency, 0)
    return int(getattr(actuals, metric.value))


def _period(person: User, month: Month, as_of: dt.datetime, *, inclusive: bool) -> PeriodOf:
    start, end = month.bounds(person.timezone)
    # Times are kept to the second: what happened at `as_of` itself counts, unless it is the
    # exclusive end of a period (a digest's complete week).
    until = as_of + dt.timedelta(seconds=1) if inclusive else as_of
    end = max(start, min(end, until))
    zone = ZoneInfo(person.timezone)
    last = min(month.last, (end - dt.timedelta(microseconds=1)).astimezone(zone).date())
    return PeriodOf(person.telegram_id, start, end, month.first, last)


async def progress(
    db: Queries,
    people: Sequence[User],
    *,
    month: Month | None,
    as_of: dt.datetime,
    until_cutoff: bool = False,
) -> list[PersonPlan]:
    """Each person's plan for `month` (None: the month `as_of` falls in, in their own zone)
    with the figures up to `as_of`, in their zone's month and paced on their working days.

    `until_cutoff`: `as_of` is the exclusive end of a period (a complete week ends Monday
    00:00): its month is the one before that moment, and what happened at it is not counted.
    """
    if not people:
        return []
    inside = as_of - dt.timedelta(microseconds=1) if until_cutoff else as_of
    months = {p.telegram_id: month or Month.containing(inside, p.timezone) for p in people}
    versions: dict[int, list[PlanVersion]] = {}
    for one_month in set(months.values()):  # one query per month (usually one)
        versions.update(
            await plans.versions_for_month(
                db,
                one_month.iso,
                [pid for pid, person_month in months.items() if person_month == one_month],
            )
        )
    counted = await plans.actuals(
        db,
        [_period(p, months[p.telegram_id], as_of, inclusive=not until_cutoff) for p in people],
    )
    setter_ids = {v.set_by for history in versions.values() for v in history}
    setters = {}
    for setter_id in setter_ids:
        setter = await users.get_user(db, setter_id)
        setters[setter_id] = setter.name if setter else "?"
    result = []
    for person in people:
        person_month = months[person.telegram_id]
        today = as_of.astimezone(ZoneInfo(person.timezone)).date()
        pace = working_pace(person_month, today=today, days=person.working_days)
        history = versions[person.telegram_id]
        done = counted[person.telegram_id]
        targets = tuple(
            TargetProgress(
                metric=Metric(t.metric),
                currency=t.currency,
                target=t.target,
                actual=_actual(done, Metric(t.metric), t.currency),
                pace=pace,
            )
            for t in sorted(
                history[-1].targets if history else (),
                key=lambda t: _order((Metric(t.metric), t.currency)),
            )
        )
        result.append(
            PersonPlan(
                manager_id=person.telegram_id,
                name=person.name,
                timezone=person.timezone,
                month=person_month,
                as_of=as_of,
                today=today,
                pace=pace,
                targets=targets,
                history=tuple(history),
                setters=setters,
                actuals=done,
            )
        )
    return result


async def own_plan(
    db: Database, clock: Clock, *, actor: User, month: Month | None = None
) -> PersonPlan:
    """The person's own plan and progress (this month in their zone by default)."""
    if not actor.active:
        raise NotAllowed(SWITCHED_OFF)
    return (await progress(db, [actor], month=month, as_of=clock.now()))[0]


async def person_plan(
    db: Database, clock: Clock, *, actor: User, manager_id: int, month: Month | None = None
) -> PersonPlan:
    """A manager's plan: anyone's for heads and admins, only one's own for a manager (another's
    is refused politely, and audited)."""
    if not actor.active:
        raise NotAllowed(SWITCHED_OFF)
    if manager_id != actor.telegram_id and not actor.is_lead:
        await deny(
            db, clock, actor=actor, attempted="plan.view", object_type="plan", object_id=manager_id
        )
        raise NotAllowed(OWN_ONLY)
    person = await users.get_user(db, manager_id)
    if person is None:
        raise DomainError("That person is not on the team any more.")
    return (await progress(db, [person], month=month, as_of=clock.now()))[0]


@dataclass(frozen=True, slots=True)
class TeamPlan:
    """Every active manager's plan for a month with progress (a head's /plan)."""

    month: Month
    people: tuple[PersonPlan, ...]

    @property
    def with_plan(self) -> tuple[PersonPlan, ...]:
        """The managers who have targets this month."""
        return tuple(p for p in self.people if p.has_plan)


async def team_plan(
    db: Database, clock: Clock, *, actor: User, month: Month | None = None
) -> TeamPlan:
    """The team's plans for a month (the viewer's current month by default)."""
    if not actor.active:
        raise NotAllowed(SWITCHED_OFF)
    if not actor.is_lead:
        await deny(db, clock, actor=actor, attempted="plan.team", object_type="plan", object_id=0)
        raise NotAllowed(OWN_ONLY)
    now = clock.now()
    month = month or Month.containing(now, actor.timezone)
    people = await progress(db, await managers(db), month=month, as_of=now)
    return TeamPlan(month, tuple(people))


async def digest_plans(
    db: Queries, *, as_of: dt.datetime, until_cutoff: bool = False
) -> tuple[PersonPlan, ...]:
    """For the weekly digest: every active manager with a plan, as of the week's cut-off
    (each in the month it falls in, in their own zone)."""
    found = await progress(
        db, await managers(db), month=None, as_of=as_of, until_cutoff=until_cutoff
    )
    return tuple(p for p in found if p.has_plan)


async def own_digest_plan(
    db: Queries, manager: User, *, as_of: dt.datetime, until_cutoff: bool = False
) -> PersonPlan | None:
    """For a manager's week in the digest: their plan as of the week's cut-off, if any."""
    found = (await progress(db, [manager], month=None, as_of=as_of, until_cutoff=until_cutoff))[0]
    return found if found.has_plan else None


def first_working_day_of_week(user: User, now: dt.datetime) -> bool:
    """Whether today (the person's date) is their first working day of the ISO week."""
    today = local_today(user, now)
    days = set(user.working_days) or set(range(1, 8))
    if today.isoweekday() not in days:
        return False
    return not any(day in days for day in range(1, today.isoweekday()))


async def agenda_plan(db: Queries, *, user: User, now: dt.datetime) -> PersonPlan | None:
    """The plan line of a morning agenda: a manager's plan on their week's first working
    day, when they have one this month; else None."""
    if user.role is not Role.MANAGER or not first_working_day_of_week(user, now):
        return None
    found = (await progress(db, [user], month=None, as_of=now))[0]
    return found if found.has_plan else None
