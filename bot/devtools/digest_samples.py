"""Sample digests for `python -m bot check` and the tests: the head's team digest and a
manager's "Your week", each full (every section, every attention line, names with markup in
them) and empty, for the week so far and the full week."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from bot.devtools.invoice_samples import sample_user
from bot.devtools.plan_samples import sample_plans
from bot.devtools.samples import NOW, TRICKY, sample_contact
from bot.services.digest.figures import (
    Attention,
    Change,
    ChartData,
    ChartRow,
    DisciplineSection,
    LateStep,
    OwnSummary,
    PersonWeek,
    SnoozedItem,
    TeamDigest,
    WaitingItem,
    WakingItem,
    Week,
)
from bot.services.digest.receivables import CurrencyLine, OverdueInvoice, ReceivablesWeek
from bot.services.receivables.aging import Bucket
from bot.services.refusal_reasons import Preset, ReasonWeek, RefusalWeek
from bot.views.digest import (
    FITS,
    discipline_context,
    person_context,
    receivables_context,
    summary_context,
)
from storage.contacts import PendingContact
from storage.digest_figures import PlanItem
from storage.users import Role

WEEK = Week.containing(NOW, "Europe/London")
AFTER = WEEK.end + dt.timedelta(hours=9)  # Monday 09:00: the full week
ATTENTION_KINDS = (
    "invoice_final",
    "overdue_step",
    "silent",
    "discipline",
    "promise_broken",
    "plan_behind",
    "refusal_spike",
)


def _person(manager_id: int, name: str, *, busy: bool) -> PersonWeek:
    if not busy:
        return PersonWeek(manager_id, name, overdue=1, silent_days=5, silent_more=True)
    return PersonWeek(
        manager_id,
        name,
        calls=12,
        meetings=3,
        other=4,
        new_clients=2,
        at_logging=15,
        later=2,
        missing=2,
        disciplined=14,
        won=1,
        refused=1,
        not_target=1,
        missing_overnight=2,
        overdue=3,
        overdue_long=1,
        oldest_due=NOW - dt.timedelta(days=9),
        oldest_client=TRICKY,
        coming=6,
        idle_clients=4,
        snoozes=3,
        reschedules=1,
        cancellations=1,
        waking=1,
        silent_days=0,
    )


def _changes(*, compared: bool) -> tuple[Change, ...]:
    """Every figure the templates show a change for: up, down, equal, or nothing to compare."""
    keys = (
        "contacts", "calls", "meetings", "other", "new_clients", "missing", "closures", "won",
        "lost", "postponed",
    )  # fmt: skip
    deltas = (3, -2, 0, 1, -1, 2, 1, 0, 2, -4) if compared else (None,) * len(keys)
    changes = [Change(key, key, 5, delta) for key, delta in zip(keys, deltas, strict=True)]
    changes.append(Change("discipline", "Discipline", 74, -6 if compared else None, "%"))
    return tuple(changes)


def _overdue(number: str, days: int) -> OverdueInvoice:
    return OverdueInvoice(7, number, TRICKY, 1, "Mia <M>", "EUR", 1_250_00, days)


def _receivables(*, moved: bool) -> ReceivablesWeek:
    if not moved:
        return ReceivablesWeek((), 0, 0, 0, 0, (), (), 0, ())
    buckets = tuple(zip(Bucket, (10_00, 20_00, 0, 30_00, 1_250_00), strict=True))
    lines = (
        CurrencyLine("EUR", 1_330_00, 1_300_00, buckets, 500_00, 2, 1_000_00, 1),
        CurrencyLine("JPY", 120_000, 0, tuple((bucket, 0) for bucket in Bucket), 5_000, 1),
    )
    overdue = (_overdue("INV-<1042>", 31), _overdue("INV-7&8", 12))
    return ReceivablesWeek(lines, 5, 3, 2, 1, ("INV-<9>",), overdue, 1, overdue[:1])


def sample_team_digests() -> list[TeamDigest]:
    """A busy week so far (every section), the same week complete, and a week with nothing."""
    people = (_person(1, "Mia <M>", busy=True), _person(2, TRICKY, busy=False))
    busy = TeamDigest(
        week=WEEK,
        now=NOW,
        people=people,
        totals=_person(0, "Team", busy=True),
        previous=_person(0, "Team", busy=False),
        changes=_changes(compared=True),
        most_snoozed=(
            SnoozedItem(TRICKY, "Mia <M>", 3, 7, True),
            SnoozedItem("Beta & Co", "Mia <M>", 2, 2, False),
        ),
        waking_total=3,
        waking=(WakingItem(TRICKY, "Mia <M>", NOW + dt.timedelta(days=5)),),
        receivables=_receivables(moved=True),
        attention=tuple(
            Attention(kind, (TRICKY, "Mia <M>"), more=2, count=4) for kind in ATTENTION_KINDS
        ),
        chart=ChartData((ChartRow("Mia <M>", 3, 1, 0, 74, True, 3, 1),)),
        compared_to=NOW - dt.timedelta(days=7),
        plans=tuple(sample_plans()[:1]),
        refusals=RefusalWeek(
            (
                ReasonWeek(Preset.PRICE, 6, 4),
                ReasonWeek(Preset.TIMING, 3, 2),
                ReasonWeek(Preset.COMPETITOR, 1, 8),
                ReasonWeek(Preset.QUALITY, 1, 0),
            )
        ),
    )
    empty = dataclasses.replace(
        busy,
        now=AFTER,
        plans=(),
        refusals=None,
        people=(PersonWeek(1, "Mia <M>"),),
        totals=PersonWeek(0, "Team"),
        previous=PersonWeek(0, "Team"),
        changes=_changes(compared=False),
        most_snoozed=(),
        waking_total=0,
        waking=(),
        receivables=None,
        attention=(),
        chart=ChartData(()),
        compared_to=WEEK.start,
    )
    return [busy, dataclasses.replace(busy, now=AFTER), empty]


def sample_own_summaries() -> list[OwnSummary]:
    """A manager's busy week so far (loose ends, a plan, money) and an empty complete week."""
    plan = tuple(
        PlanItem(n, 3, TRICKY, 1, "call", WEEK.end + dt.timedelta(days=n, hours=10), "<b>")
        for n in range(3)
    )
    busy = OwnSummary(
        week=WEEK,
        now=NOW,
        person=_person(1, "Mia <M>", busy=True),
        changes=_changes(compared=True),
        pending=(PendingContact(sample_contact(None), TRICKY),),
        overdue_total=4,
        overdue=(dataclasses.replace(plan[0], due_at=NOW - dt.timedelta(days=2)),),
        plan_total=5,
        plan=plan,
        receivables=_receivables(moved=True),
        compared_to=NOW - dt.timedelta(days=7),
        pending_total=3,
        month_plan=sample_plans()[0],
    )
    empty = dataclasses.replace(
        busy,
        month_plan=None,
        now=AFTER,
        person=PersonWeek(1, "Mia <M>"),
        changes=_changes(compared=False),
        pending=(),
        overdue_total=0,
        overdue=(),
        plan_total=0,
        plan=(),
        receivables=_receivables(moved=False),
    )
    return [busy, empty]


def sample_discipline() -> list[DisciplineSection]:
    """The Discipline section full (every list, names with markup) and empty."""
    full = DisciplineSection(
        week=WEEK,
        now=NOW,
        waiting_total=12,
        waiting_per_manager=tuple((f"{TRICKY} {n}", 12 - n) for n in range(10)),
        waiting=(WaitingItem(5, 3, TRICKY, 1, "Mia <M>", "call", NOW - dt.timedelta(days=2)),),
        most_snoozed=(
            SnoozedItem(TRICKY, "Mia <M>", 3, 7, True),
            SnoozedItem("Beta & Co", "Mia <M>", 2, 2, False),
        ),
        late_total=9,
        late=(LateStep(4, 3, TRICKY, 1, "Mia <M>", "call", NOW - dt.timedelta(days=9)),),
        below_target=tuple(_person(n, f"{TRICKY} {n}", busy=True) for n in range(10)),
    )
    empty = DisciplineSection(WEEK, AFTER, 0, (), (), (), 0, (), ())
    return [full, empty]


def digest_samples() -> dict[str, list[dict[str, Any]]]:
    """The digest templates' contexts, as the bot builds them from the samples."""
    head, manager = sample_user(Role.HEAD), sample_user()
    return {
        "digest/summary.html.j2": [
            summary_context(d, head, fit)
            for d in sample_team_digests()
            for fit in FITS[:: len(FITS) - 1]
        ],
        "digest/receivables.html.j2": [
            receivables_context(d, head) for d in sample_team_digests()
        ],
        "digest/discipline.html.j2": [discipline_context(s, head) for s in sample_discipline()],
        "digest/person.html.j2": [
            person_context(s, viewer, own=own)
            for s in sample_own_summaries()
            for viewer, own in ((manager, True), (head, False))
        ],
    }
