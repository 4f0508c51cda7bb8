"""A next step typed in words: "meeting next friday 15:00", "won", "refused: too expensive".

Telegram-free. The kind of step and the closures are read by keyword (and synonyms), the
time with dateparser in the person's zone (bot/services/dates.py); the result is read back
to the person for a one-tap confirmation, so nothing is saved on a guess. What can't be read
raises `NeedsDetail` with the specific question to ask ("When? e.g. fri 15:00").
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.services import dates, refusal_reasons
from bot.services.errors import DomainError
from storage.contacts import Outcome
from storage.steps import StepKind

MAX_TEXT = 300

# First words that name the kind of step, synonyms included (checked longest first).
KIND_WORDS: dict[str, StepKind] = {
    "call": StepKind.CALL,
    "call back": StepKind.CALL,
    "phone": StepKind.CALL,
    "ring": StepKind.CALL,
    "follow up": StepKind.CALL,
    "follow-up": StepKind.CALL,
    "meeting": StepKind.MEETING,
    "meet": StepKind.MEETING,
    "demo": StepKind.MEETING,
    "email": StepKind.EMAIL,
    "e-mail": StepKind.EMAIL,
    "mail": StepKind.EMAIL,
    "send": StepKind.EMAIL,
    "write": StepKind.EMAIL,
    "visit": StepKind.VISIT,
    "other": StepKind.OTHER,
    "task": StepKind.OTHER,
}
# Closures: the words and what follows them (a reason, a date).
WON_WORDS = ("deal won", "won", "signed", "closed won")
REFUSED_WORDS = ("client refused", "refused", "refusal", "declined", "lost", "rejected")
NOT_TARGET_WORDS = ("not a target", "not target", "no fit", "not a fit", "not our client")
PAUSE_WORDS = ("pause until", "paused until", "pause till", "on hold until", "pause", "on hold")

WHEN_QUESTION = "When? e.g. fri 15:00, tomorrow 10:00 or in 2 weeks."
KIND_QUESTION = "What kind of step: a call, a meeting or an email?"
UNTIL_QUESTION = "Until when? e.g. 1 March or in 3 months."
_JOINERS = re.compile(r"^(?:on|at|by|for|in\s+(?=\d))\s+", re.IGNORECASE)
# `15.12 11:00`: a day and month before a time (dateparser alone reads it as a time).
_DAY_MONTH_TIME = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.?(?=\s+\d{1,2}:\d{2}\b)")


class NeedsDetail(DomainError):
    """The text was understood in part; `str(error)` is the question for the missing part.

    `kind`, `outcome`, `due_at` and `agenda` carry what was understood, so the answer can
    complete it ("tomorrow 10:00" typed without a kind keeps its time while the kind is asked).
    """

    def __init__(
        self,
        question: str,
        *,
        kind: StepKind | None = None,
        outcome: Outcome | None = None,
        due_at: dt.datetime | None = None,
        agenda: str | None = None,
    ) -> None:
        super().__init__(question)
        self.kind = kind
        self.outcome = outcome
        self.due_at = due_at
        self.agenda = agenda


@dataclass(frozen=True, slots=True)
class TypedStep:
    """What a typed next step means: a scheduled step, or a closure of the contact."""

    outcome: Outcome
    kind: StepKind | None = None  # a scheduled step's kind
    due_at: dt.datetime | None = None  # a scheduled step's time (UTC)
    until: dt.date | None = None  # a pause's last day
    reason: str | None = None  # a refusal's reason, as typed
    # A refusal's preset reason the words mean (refusal_reasons); derived, not compared.
    preset: str | None = field(default=None, compare=False)
    agenda: str | None = None  # what the step is about ("about pricing"), as typed


def _words(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def _after(text: str, words: tuple[str, ...] | list[str]) -> str | None:
    """The rest of `text` after one of `words` at its start (longest first), or None."""
    lowered = text.lower()
    for word in sorted(words, key=len, reverse=True):
        if lowered == word or lowered.startswith((word + " ", word + ":", word + ",")):
            return text[len(word) :].lstrip(" :,-–—").strip()
    return None


def read_next_step(
    text: str,
    *,
    now: dt.datetime,
    timezone: str,
    locale: str = "en",
    kind: StepKind | None = None,
) -> TypedStep:
    """Read a typed next step (`kind`: already known, e.g. the person tapped "Call" before).

    Raises NeedsDetail with the question for what is missing, or DomainError for a time in
    the past or over a year ahead (dates.validate_due's sentences).
    """
    cleaned = _words(text)[:MAX_TEXT]
    if not cleaned:
        raise NeedsDetail(KIND_QUESTION)
    if (rest := _after(cleaned, NOT_TARGET_WORDS)) is not None:
        return TypedStep(Outcome.NOT_TARGET, reason=rest or None)
    if (rest := _after(cleaned, REFUSED_WORDS)) is not None:
        preset = refusal_reasons.preset_for(rest, locale=locale).value if rest else None
        return TypedStep(Outcome.REFUSED, reason=rest or None, preset=preset)
    if (rest := _after(cleaned, WON_WORDS)) is not None:
        return TypedStep(Outcome.WON, reason=rest or None)
    if (rest := _after(cleaned, PAUSE_WORDS)) is not None:
        if not rest:
            raise NeedsDetail(UNTIL_QUESTION, outcome=Outcome.PAUSED)
        return TypedStep(
            Outcome.PAUSED, until=_until(rest, now=now, timezone=timezone, locale=locale)
        )
    when = cleaned
    if (rest := _after(cleaned, list(KIND_WORDS))) is not None:
        word = cleaned[: len(cleaned) - len(rest)].lower().rstrip(" :,-–—")
        kind = KIND_WORDS[word]
        when = rest
    when = _JOINERS.sub("", when).strip()
    if not when:
        raise NeedsDetail(WHEN_QUESTION, kind=kind)
    agenda, due = _agenda_and_due(when, now=now, timezone=timezone, locale=locale, kind=kind)
    if kind is None:
        raise NeedsDetail(KIND_QUESTION, outcome=Outcome.SCHEDULED, due_at=due, agenda=agenda)
    return TypedStep(Outcome.SCHEDULED, kind=kind, due_at=due, agenda=agenda)


def _agenda_and_due(
    text: str, *, now: dt.datetime, timezone: str, locale: str, kind: StepKind | None
) -> tuple[str | None, dt.datetime]:
    """`about pricing fri 15:00`, `fri 15:00 about pricing`: the words around the time are
    the step's agenda.

    The time is the longest tail of the text that reads as one; a refusal of the whole text
    (a time in the past, say) is kept for when no tail reads at all.
    """
    words = _DAY_MONTH_TIME.sub(r"\1/\2", text).split()
    first_error: DomainError | None = None
    for start in range(min(len(words), 12)):
        if any(char.isdigit() for char in " ".join(words[:start])):
            break  # digits belong to the time: no agenda words before it
        tail = _JOINERS.sub("", " ".join(words[start:])).strip()
        try:
            due = dates.parse_due(tail, now=now, timezone=timezone, locale=locale)
        except DomainError as error:
            first_error = first_error or error
            continue
        agenda = " ".join(words[:start]).strip(" ,:-–—") or None
        return agenda, due
    for end in range(len(words) - 1, 0, -1):  # `fri 15:00 about the samples`
        found = _due_or_none(" ".join(words[:end]), now=now, timezone=timezone, locale=locale)
        if found is None:
            continue
        # dateparser skips some words ("about the"): the shortest head giving the same time.
        while (
            end > 1
            and _due_or_none(" ".join(words[: end - 1]), now=now, timezone=timezone, locale=locale)
            == found
        ):
            end -= 1
        return " ".join(words[end:]).strip(" ,:-–—") or None, found
    if kind is not None and first_error is not None and "past" not in str(first_error):
        raise NeedsDetail(f"I couldn't read the time in “{text[:60]}”. {WHEN_QUESTION}", kind=kind)
    raise first_error or NeedsDetail(WHEN_QUESTION, kind=kind)


def _due_or_none(text: str, *, now: dt.datetime, timezone: str, locale: str) -> dt.datetime | None:
    try:
        return dates.parse_due(text, now=now, timezone=timezone, locale=locale)
    except DomainError:
        return None


def _until(text: str, *, now: dt.datetime, timezone: str, locale: str) -> dt.date:
    """The day a pause ends: a date or a month ("March" is 1 March), after today."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    if re.fullmatch(r"in\s+\d{1,3}\s+\w+", text, flags=re.IGNORECASE):
        return (
            dates.parse_due(text, now=now, timezone=timezone, locale=locale)
            .astimezone(ZoneInfo(timezone))
            .date()
        )
    day = dates.parse_day(text, today=today, locale=locale, prefer="future")
    if day <= today:
        raise DomainError("A pause must end after today. " + UNTIL_QUESTION)
    return day


def understand_next_step(
    text: str,
    *,
    now: dt.datetime,
    timezone: str,
    locale: str = "en",
    kind: StepKind | None = None,
) -> TypedStep | NeedsDetail:
    """`read_next_step`, with a missing part returned (the question to ask) instead of raised;
    a time that can't be used (the past) is still raised as its DomainError."""
    try:
        return read_next_step(text, now=now, timezone=timezone, locale=locale, kind=kind)
    except NeedsDetail as missing:
        return missing


NEXT_SEPARATOR = "next:"


def split_next(text: str) -> tuple[str, str]:
    """`Acme discussed prices next: call Tuesday 15:00` -> (the contact part, the step part);
    the separator in any case, the step part empty when there is none."""
    at = text.lower().find(NEXT_SEPARATOR)
    if at < 0:
        return text.strip(), ""
    return text[:at].strip(), text[at + len(NEXT_SEPARATOR) :].strip()
