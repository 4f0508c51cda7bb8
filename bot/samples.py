"""Sample domain objects for rendering every template in `check` and the tests."""

from __future__ import annotations

import datetime as dt

from bot.services.agenda import Agenda, AgendaDay, OverdueStep
from bot.services.contacts import ContactSummary
from storage.contacts import Contact, ContactKind, ContactState, Outcome, PendingContact
from storage.steps import Step, StepEntry, StepKind, StepState

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
