"""End-to-end: at any prompt with buttons, typing what a button says works as the press.

The clock: Thu 26 Nov 2026, 09:00 UTC; Mara works in London.
"""

from __future__ import annotations

import datetime as dt

import pytest
from telegram.ext import Application

from bot.app import services_of
from bot.clock import FrozenClock
from bot.devtools.sandbox.server import FakeBotApiServer
from handlers.flow import button_for_text
from tests.test_e2e_typed_next_step import mara_with

BUTTONS = [("✅ Confirm", "ok"), ("Change", "ch")]


@pytest.mark.parametrize(
    ("typed", "data"),
    [
        ("✅ Confirm", "ok"),
        ("confirm", "ok"),
        ("Yes", "ok"),
        ("ok!", "ok"),
        ("да", "ok"),
        ("change", "ch"),
        ("No", "ch"),
        ("maybe", None),
        ("", None),
        ("confirm change", None),
    ],
)
def test_a_typed_word_names_one_button(typed: str, data: str | None) -> None:
    """The label typed (case, emoji, punctuation aside) or a word meaning it; else none."""
    assert button_for_text(typed, BUTTONS) == data


def test_an_ambiguous_word_names_no_button() -> None:
    """ "no" could be Change or Skip: neither is pressed."""
    assert button_for_text("no", [("Change", "ch"), ("Skip", "sk")]) is None
    assert (
        button_for_text("Tomorrow 10:00", [("In 2 hours", "2h"), ("Tomorrow 10:00", "t")]) == "t"
    )


async def test_yes_confirms_a_read_back_and_a_typed_quick_time_saves(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """ "yes" at "Is that right?" is ✅ Confirm (the read-back loses its buttons); typing
    "tomorrow 10:00" where that button is offered saves it as the tap would."""
    mara = await mara_with(app, server, clock, "Tundra Outdoor")
    await mara.send("/call Tundra Outdoor discussed prices next: call fri 15:00")
    asked = await mara.expect("Is that right?")
    await mara.send("yes")
    await mara.expect("Logged")
    read_back = next(m for m in mara.messages if m.message_id == asked.message_id)
    assert read_back.labels == []
    db = services_of(app).db
    assert await db.fetch_value("SELECT count(*) FROM steps WHERE state = 'open'") == 1

    await mara.send("/call Tundra Outdoor sent samples")
    await mara.expect("Did it complete this open step")
    await mara.send("None — a separate contact")  # the button's label, typed
    await mara.expect("What is the next step?")
    await mara.send("📅 Schedule follow-up")
    await mara.expect("What kind of follow-up?")
    await mara.send("meeting")  # the "🤝 Meeting" button's word
    await mara.expect("When is the follow-up due?")
    await mara.send("In 3 days")
    done = await mara.expect("Logged")
    assert "Next step: meeting on Mon 30 Nov 2026" in done.text  # 3 days is a Sunday


async def test_a_typed_press_that_is_refused_answers_in_the_chat(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A typed "yes" whose press is refused (the time passed meanwhile) gets the refusal as
    a message, and the question stays open."""
    mara = await mara_with(app, server, clock, "Tundra Outdoor")
    await mara.send("/call Tundra Outdoor quick one next: call in 2 minutes")
    await mara.expect("Is that right?")
    clock.advance(dt.timedelta(minutes=3))
    await mara.send("yes")
    await mara.expect("past")
    await mara.send("fri 15:00")
    await mara.expect("Is that right?")
    await mara.send("Confirm")
    await mara.expect("Logged")
