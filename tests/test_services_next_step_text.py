"""Typed next steps: kinds by keyword and synonym, times with dateparser, closures, and the
specific question for whatever is missing."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.services.errors import DomainError
from bot.services.next_step_text import (
    KIND_QUESTION,
    UNTIL_QUESTION,
    WHEN_QUESTION,
    NeedsDetail,
    TypedStep,
    read_next_step,
    split_next,
)
from storage.contacts import Outcome
from storage.steps import StepKind

MONDAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)  # Monday 7 Dec 2026, 09:00 in London
ZONE = "Europe/London"


def utc(*parts: int) -> dt.datetime:
    """A UTC moment."""
    return dt.datetime(*parts, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "meeting next friday 15:00",
            TypedStep(Outcome.SCHEDULED, StepKind.MEETING, utc(2026, 12, 11, 15)),
        ),
        ("call in 2 weeks", TypedStep(Outcome.SCHEDULED, StepKind.CALL, utc(2026, 12, 21, 10))),
        ("email tomorrow", TypedStep(Outcome.SCHEDULED, StepKind.EMAIL, utc(2026, 12, 8, 10))),
        # "next Tuesday" on a Monday is tomorrow (dateparser's reading); the read-back shows it.
        ("call next Tuesday", TypedStep(Outcome.SCHEDULED, StepKind.CALL, utc(2026, 12, 8, 10))),
        ("Call at 16:00", TypedStep(Outcome.SCHEDULED, StepKind.CALL, utc(2026, 12, 7, 16))),
        ("visit 15.12 11:00", TypedStep(Outcome.SCHEDULED, StepKind.VISIT, utc(2026, 12, 15, 11))),
        (
            "phone on 20 December at 14:00",
            TypedStep(Outcome.SCHEDULED, StepKind.CALL, utc(2026, 12, 20, 14)),
        ),
        (
            "call about pricing fri 15:00",
            TypedStep(
                Outcome.SCHEDULED, StepKind.CALL, utc(2026, 12, 11, 15), agenda="about pricing"
            ),
        ),
        (
            "send the offer on tuesday",
            TypedStep(Outcome.SCHEDULED, StepKind.EMAIL, utc(2026, 12, 8, 10), agenda="the offer"),
        ),
        (
            "meeting fri 15:00 about the samples",
            TypedStep(
                Outcome.SCHEDULED,
                StepKind.MEETING,
                utc(2026, 12, 11, 15),
                agenda="about the samples",
            ),
        ),
        ("won", TypedStep(Outcome.WON)),
        ("Deal won", TypedStep(Outcome.WON)),
        ("refused: price", TypedStep(Outcome.REFUSED, reason="price")),
        ("refused: too expensive", TypedStep(Outcome.REFUSED, reason="too expensive")),
        ("lost to a competitor", TypedStep(Outcome.REFUSED, reason="to a competitor")),
        ("not a target", TypedStep(Outcome.NOT_TARGET)),
        ("pause until March", TypedStep(Outcome.PAUSED, until=dt.date(2027, 3, 1))),
        ("on hold until 15 January", TypedStep(Outcome.PAUSED, until=dt.date(2027, 1, 15))),
    ],
)
def test_typed_steps(text: str, expected: TypedStep) -> None:
    """Each phrase means what a person means by it."""
    assert read_next_step(text, now=MONDAY, timezone=ZONE) == expected


@pytest.mark.parametrize(
    ("text", "question", "kind", "outcome"),
    [
        ("call", WHEN_QUESTION, StepKind.CALL, None),
        ("meeting", WHEN_QUESTION, StepKind.MEETING, None),
        ("tomorrow 10:00", KIND_QUESTION, None, Outcome.SCHEDULED),
        ("pause", UNTIL_QUESTION, None, Outcome.PAUSED),
        ("", KIND_QUESTION, None, None),
    ],
)
def test_what_is_missing_is_asked_for(
    text: str, question: str, kind: StepKind | None, outcome: Outcome | None
) -> None:
    """A kind without a time asks "When?"; a time without a kind asks the kind."""
    with pytest.raises(NeedsDetail) as caught:
        read_next_step(text, now=MONDAY, timezone=ZONE)
    assert str(caught.value) == question
    assert (caught.value.kind, caught.value.outcome) == (kind, outcome)


def test_a_known_kind_takes_a_bare_time() -> None:
    """After tapping "Call", "fri 15:00" is enough."""
    step = read_next_step("fri 15:00", now=MONDAY, timezone=ZONE, kind=StepKind.CALL)
    assert step == TypedStep(Outcome.SCHEDULED, StepKind.CALL, utc(2026, 12, 11, 15))


def test_times_in_the_past_and_unreadable_ones_are_refused_specifically() -> None:
    """The past is refused with the moment shown; gibberish asks for the time again."""
    with pytest.raises(DomainError, match="already in the past"):
        read_next_step("meeting yesterday", now=MONDAY, timezone=ZONE)
    with pytest.raises(NeedsDetail, match="I couldn't read the time in “blah blah”"):
        read_next_step("call blah blah", now=MONDAY, timezone=ZONE)
    with pytest.raises(DomainError, match="must end after today"):
        read_next_step("pause until today", now=MONDAY, timezone=ZONE)


def test_the_one_message_form_splits_at_next() -> None:
    """`next:` in any case separates the contact from its step."""
    assert split_next("Acme discussed prices Next: call Tuesday 15:00") == (
        "Acme discussed prices",
        "call Tuesday 15:00",
    )
    assert split_next("Acme discussed prices") == ("Acme discussed prices", "")
