"""Sample domain objects for rendering every template in `check` and the tests."""

from __future__ import annotations

import datetime as dt

from bot.services.agenda import Agenda, AgendaDay, OverdueStep
from bot.services.contacts import ContactSummary
from bot.services.reminders import Notice, StepItem
from bot.services.steps import StepView
from storage.contacts import Contact, ContactKind, ContactState, Outcome, PendingContact
from storage.steps import Step, StepEntry, StepKind, StepState
from storage.users import Role, User

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
TRICKY = "Acme <b>&</b> Sons «Ёлка» 🎄"


def sample_contact(outcome: Outcome | None = Outcome.SCHEDULED) -> Contact:
    """A logged call."""
    complete = outcome is not None
    return Contact(
        id=1,
        client_id=1,
        manager_id=1,
        kind=ContactKind.CALL,
        happened_at=NOW,
        summary=f"Talked about {TRICKY}",
        state=ContactState.COMPLETE if complete else ContactState.NEEDS_NEXT_STEP,
        outcome=outcome,
        outcome_reason="Budget <frozen>"
        if outcome in (Outcome.REFUSED, Outcome.NOT_TARGET)
        else None,
        logged_at=NOW,
        resolved_at=NOW if complete else None,
    )


def sample_step(
    kind: StepKind = StepKind.MEETING, agenda: str | None = "Prices & <terms>"
) -> Step:
    """An open step due tomorrow."""
    return Step(
        id=1,
        client_id=1,
        manager_id=1,
        created_by_contact_id=1,
        kind=kind,
        due_at=NOW + dt.timedelta(days=1),
        agenda=agenda,
        state=StepState.OPEN,
        done_by_contact_id=None,
        snooze_count=0,
        reschedule_count=0,
        cancel_reason=None,
        created_at=NOW,
        updated_at=NOW,
    )


def sample_summaries() -> list[ContactSummary]:
    """A confirmation for every way a contact can end."""
    return [
        ContactSummary(
            sample_contact(outcome),
            TRICKY,
            sample_step() if outcome in (Outcome.SCHEDULED, Outcome.PAUSED) else None,
        )
        for outcome in Outcome
    ]


def sample_agendas() -> list[Agenda]:
    """An empty agenda and a full one."""
    entry = StepEntry(sample_step(), TRICKY)
    full = Agenda(
        timezone="Europe/London",
        now=NOW,
        today_date=NOW.date(),
        pending=[PendingContact(sample_contact(None), TRICKY)],
        overdue=[OverdueStep(entry, dt.timedelta(days=2))],
        today=[entry],
        upcoming=[AgendaDay(NOW.date() + dt.timedelta(days=1), [entry] * 5)],
    )
    empty = Agenda("UTC", NOW, NOW.date(), [], [], [], [])
    return [empty, full]


def sample_step_views() -> list[StepView]:
    """A step card with everything known, and one with nothing but the client's name."""
    owner = User(
        telegram_id=1,
        name="Mia <Manager>",
        username=None,
        role=Role.MANAGER,
        timezone="Europe/London",
        locale="en",
        active=True,
        reachable=True,
        created_at=NOW,
    )
    return [
        StepView(sample_step(), TRICKY, "Ivan <Petrov>", "+442079460958", sample_contact(), owner),
        StepView(sample_step(StepKind.CALL, None), "Beta", None, None, None, None),
    ]


def sample_notices() -> list[Notice]:
    """One step due, a heads-up for a deputy, a grouped offline catch-up, missing steps."""
    full, bare = sample_step_views()
    assert full.owner is not None
    pending = PendingContact(sample_contact(None), TRICKY)
    return [
        Notice(full.owner, steps=[StepItem(full, heads_up=False, away_owner=None)]),
        Notice(full.owner, steps=[StepItem(full, heads_up=True, away_owner=full.owner)]),
        Notice(
            full.owner,
            steps=[StepItem(v, heads_up=False, away_owner=None) for v in (full, bare)],
            missing_steps=[pending, pending],
            offline=True,
        ),
        Notice(full.owner, missing_steps=[pending]),
    ]
