"""Why clients refuse: the preset reasons, typed words matched to one, and the report.

Telegram-free. A refusal is stored with its words as typed (`outcome_reason`) and one of the
presets (`refusal_reason`): the tapped one, or the one the words clearly mean. The phrases
per preset are data (`templates/refusals/<language>.toml`): a typed reason is matched when
phrases of exactly one preset occur in it as whole words (case, accents and punctuation
aside, a longer phrase winning over the shorter ones inside it, a phrase taken back by "not"
before it or "is fine" after it not counting). Anything else is "other".

The report (`/refusals [month]`) counts a month's refusals per reason and per manager, each
in the manager's own time zone month, against the same part of the previous month (the whole
previous month once this one is over). Heads and admins see the team, managers their own.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import TEMPLATES_DIR
from bot.services.clients import fold_text
from bot.services.errors import NotAllowed
from bot.services.months import Month, month_so_far
from storage import client_refusals as refusal_rows
from storage import users
from storage.client_refusals import RefusalRow
from storage.db import Database
from storage.users import User

REFUSALS_DIR = TEMPLATES_DIR / "refusals"
FILLERS = frozenset({"the", "a", "an", "their", "our", "its", "about", "really", "so"})
"""Words between a negation and the phrase it takes back ("not the price")."""
SWITCHED_OFF = "Your access has been switched off; ask an admin."


class Preset(StrEnum):
    """The preset reasons a refusal is counted under (stored in `contacts.refusal_reason`)."""

    PRICE = "price"
    TIMING = "timing"
    COMPETITOR = "competitor"
    NO_NEED = "no_need"
    NO_BUDGET = "no_budget"
    QUALITY = "quality"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class _Table:
    """A language's phrases, folded into word tuples."""

    phrases: tuple[tuple[tuple[str, ...], Preset], ...]  # longest first
    before: tuple[tuple[str, ...], ...]
    after: tuple[tuple[str, ...], ...]


def _words(text: str) -> tuple[str, ...]:
    return tuple(fold_text(text).split())


@lru_cache(maxsize=8)
def phrase_table(language: str = "en") -> _Table:
    """The phrases of a language (English when it has no file), folded once."""
    path = REFUSALS_DIR / f"{language}.toml"
    if not path.exists():
        path = REFUSALS_DIR / "en.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    phrases = [
        (_words(phrase), Preset(preset))
        for preset, listed in data["phrases"].items()
        for phrase in listed
        if _words(phrase)
    ]
    phrases.sort(key=lambda item: -len(item[0]))
    negations = data.get("negations", {})
    return _Table(
        phrases=tuple(phrases),
        before=tuple(w for phrase in negations.get("before", []) if (w := _words(phrase))),
        after=tuple(w for phrase in negations.get("after", []) if (w := _words(phrase))),
    )


def _language(locale: str) -> str:
    return (locale or "en").replace("-", "_").split("_")[0].lower() or "en"


def _taken_back(words: Sequence[str], start: int, end: int, table: _Table) -> bool:
    """Whether "not" (and the like) comes just before words[start:end], or "is fine" after."""
    head = list(words[max(0, start - 5) : start])
    while head and head[-1] in FILLERS:
        head.pop()
    if any(len(neg) <= len(head) and tuple(head[-len(neg) :]) == neg for neg in table.before):
        return True
    tail = tuple(words[end : end + 5])
    return any(tail[: len(neg)] == neg for neg in table.after)


def presets_meant(text: str, *, locale: str = "en") -> set[Preset]:
    """Every preset whose phrases occur in `text` (not taken back), longer phrases first."""
    words = _words(text)
    found: set[Preset] = set()
    taken = [False] * len(words)
    tables = {phrase_table(_language(locale)), phrase_table("en")}
    for table in tables:
        for phrase, preset in table.phrases:
            size = len(phrase)
            for start in range(len(words) - size + 1):
                if words[start : start + size] != phrase or any(taken[start : start + size]):
                    continue
                for index in range(start, start + size):
                    taken[index] = True
                if not _taken_back(words, start, start + size, table):
                    found.add(preset)
    return found


def match_reason(text: str | None, *, locale: str = "en") -> Preset | None:
    """The preset the words clearly mean ("too expensive" → price), or None when they name
    none or several."""
    found = presets_meant(text or "", locale=locale)
    return found.pop() if len(found) == 1 else None


def preset_for(text: str | None, *, locale: str = "en") -> Preset:
    """The preset a typed reason is stored under: the one it clearly means, else other."""
    return match_reason(text, locale=locale) or Preset.OTHER


def read_preset(value: str | None) -> Preset | None:
    """A stored or pressed preset's code as a Preset, None for anything else."""
    try:
        return Preset(value or "")
    except ValueError:
        return None


# --- The report --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefusalItem:
    """One refusal: its client, who logged it, when, its preset and words."""

    contact_id: int
    client_id: int
    client_name: str
    manager_id: int
    manager_name: str
    happened_at: dt.datetime
    preset: Preset
    words: str


@dataclass(frozen=True, slots=True)
class ReasonGroup:
    """One preset's refusals in the period, its count before, and per manager."""

    preset: Preset
    items: tuple[RefusalItem, ...]
    before: int
    per_manager: tuple[tuple[str, int], ...]

    @property
    def count(self) -> int:
        """Refusals with this reason in the period."""
        return len(self.items)

    @property
    def change(self) -> int:
        """Against the previous period: positive when more."""
        return self.count - self.before


@dataclass(frozen=True, slots=True)
class RefusalReport:
    """A month's refusals grouped by reason (most first), per manager, against before."""

    month: Month
    complete: bool
    compared_until_day: int  # the previous month's days compared (its whole length if over)
    team: bool
    groups: tuple[ReasonGroup, ...]
    per_manager: tuple[tuple[str, int], ...]
    total_before: int
    previous: Month = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "previous", self.month.shift(-1))

    @property
    def total(self) -> int:
        """Refusals in the period."""
        return sum(group.count for group in self.groups)

    def group(self, preset: Preset) -> ReasonGroup | None:
        """One reason's group, if it had refusals (now or before)."""
        return next((g for g in self.groups if g.preset is preset), None)


def preset_of(row: RefusalRow) -> Preset:
    """A stored refusal's preset; one recorded before presets existed is matched now."""
    return read_preset(row.refusal_reason) or preset_for(row.words)


def _counted(counter: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counter.items(), key=lambda item: (-item[1], item[0].casefold())))


async def refusal_report(
    db: Database, clock: Clock, *, actor: User, month: Month | None = None
) -> RefusalReport:
    """The month's refusals (this month so far by default): a head's or admin's for the team,
    a manager's own; each counted in its manager's time zone month."""
    if not actor.active:
        raise NotAllowed(SWITCHED_OFF)
    now = clock.now()
    month = month or Month.containing(now, actor.timezone)
    team = actor.is_lead
    people = {user.telegram_id: user for user in (await users.list_users(db) if team else [actor])}
    current = month_so_far(month, now, actor.timezone)
    previous = month.shift(-1)
    complete = current.days >= month.length
    compare_days = previous.length if complete else min(current.days, previous.length)
    rows = await refusal_rows.refusals_between(
        db,
        previous.first_utc_bound(),
        month.last_utc_bound(),
        manager_id=None if team else actor.telegram_id,
    )
    now_items: list[RefusalItem] = []
    before: Counter[Preset] = Counter()
    for row in rows:
        person = people.get(row.manager_id)
        zone = person.timezone if person else actor.timezone
        day = row.happened_at.astimezone(ZoneInfo(zone)).date()
        preset = preset_of(row)
        if month.contains(day) and row.happened_at <= now:
            now_items.append(
                RefusalItem(
                    contact_id=row.contact_id,
                    client_id=row.client_id,
                    client_name=row.client_name,
                    manager_id=row.manager_id,
                    manager_name=person.name if person else "?",
                    happened_at=row.happened_at,
                    preset=preset,
                    words=row.words,
                )
            )
        elif previous.contains(day) and day.day <= compare_days:
            before[preset] += 1
    by_preset: dict[Preset, list[RefusalItem]] = {}
    for item in sorted(now_items, key=lambda i: (i.happened_at, i.contact_id), reverse=True):
        by_preset.setdefault(item.preset, []).append(item)
    groups = [
        ReasonGroup(
            preset=preset,
            items=tuple(by_preset.get(preset, [])),
            before=before.get(preset, 0),
            per_manager=_counted(Counter(i.manager_name for i in by_preset.get(preset, []))),
        )
        for preset in Preset
        if by_preset.get(preset) or before.get(preset)
    ]
    groups.sort(key=lambda g: (-g.count, -g.before, list(Preset).index(g.preset)))
    return RefusalReport(
        month=month,
        complete=complete,
        compared_until_day=compare_days,
        team=team,
        groups=tuple(groups),
        per_manager=_counted(Counter(item.manager_name for item in now_items)),
        total_before=sum(before.values()),
    )


# --- The digest's refusals line and its attention flag -------------------------------------

SPIKE_WEEKS = 4
SPIKE_MIN = 3
"""A reason is flagged only from this many refusals in the week (1 against 0 is noise)."""


@dataclass(frozen=True, slots=True)
class ReasonWeek:
    """One reason's refusals in the digest's week and in the four weeks before."""

    preset: Preset
    count: int
    previous_weeks: int  # the four weeks before, together

    @property
    def doubled(self) -> bool:
        """At least SPIKE_MIN and at least twice the weekly average of the four weeks before."""
        return self.count >= SPIKE_MIN and self.count * SPIKE_WEEKS >= 2 * self.previous_weeks


@dataclass(frozen=True, slots=True)
class RefusalWeek:
    """The digest's refusals: per reason (most first), and the reasons that doubled."""

    reasons: tuple[ReasonWeek, ...]

    @property
    def total(self) -> int:
        """Refusals in the week."""
        return sum(reason.count for reason in self.reasons)

    @property
    def doubled(self) -> tuple[ReasonWeek, ...]:
        """Reasons at least twice as frequent as in the previous four weeks."""
        return tuple(reason for reason in self.reasons if reason.count and reason.doubled)


def week_refusals(
    rows: Iterable[RefusalRow], *, start: dt.datetime, end: dt.datetime, weeks_before: int = 4
) -> RefusalWeek:
    """Count rows per reason in [start, end) and in the `weeks_before` weeks before start."""
    early = start - dt.timedelta(weeks=weeks_before)
    now_counts: Counter[Preset] = Counter()
    before: Counter[Preset] = Counter()
    for row in rows:
        preset = preset_of(row)
        if start <= row.happened_at < end:
            now_counts[preset] += 1
        elif early <= row.happened_at < start:
            before[preset] += 1
    reasons = [
        ReasonWeek(preset, now_counts.get(preset, 0), before.get(preset, 0))
        for preset in Preset
        if now_counts.get(preset) or before.get(preset)
    ]
    reasons.sort(key=lambda r: (-r.count, list(Preset).index(r.preset)))
    return RefusalWeek(tuple(reasons))


async def digest_refusals(
    db: Database, *, start: dt.datetime, end: dt.datetime, manager_id: int | None = None
) -> RefusalWeek:
    """The refusals of a digest's week [start, end) with the four weeks before, per reason."""
    rows = await refusal_rows.refusals_between(
        db, start - dt.timedelta(weeks=SPIKE_WEEKS), end, manager_id=manager_id
    )
    return week_refusals(rows, start=start, end=end, weeks_before=SPIKE_WEEKS)
