"""End-to-end: a client with several open steps; nothing booked disappears unasked.

The clock: Thu 26 Nov 2026, 09:00 UTC; Mara works in London.
"""

from __future__ import annotations

from telegram.ext import Application

from bot.app import services_of
from bot.clock import FrozenClock
from bot.devtools.sandbox.server import FakeBotApiServer
from tests.test_e2e_typed_next_step import mara_with

OPEN = "SELECT kind, substr(due_at, 1, 16) AS due FROM steps WHERE state = 'open' ORDER BY due_at"


async def _open_steps(app: Application) -> list[tuple[str, str]]:
    rows = await services_of(app).db.fetch_all(OPEN)
    return [(row["kind"], row["due"]) for row in rows]


async def test_two_open_steps_are_kept_and_a_contact_says_which_one_it_completed(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A meeting on Friday, then an offer to send on Tuesday: both stay open. The next call
    asks about the one due around now (the other is days ahead), the chosen one is done, the
    other stays, and the confirmation says both; a next step typed at that question is taken
    as "none" and goes on."""
    mara = await mara_with(app, server, clock, "Vortex")
    await mara.send("/call Vortex agreed to meet next: meeting fri 15:00")
    await mara.press("✅ Confirm")
    await mara.expect("Logged")
    await mara.send("/call Vortex asked for an offer next: email tue 10:00")
    await mara.expect("Did it complete this open step of Vortex?")  # Friday's, not yet due
    await mara.press("None — a separate contact")
    confirm = await mara.expect("✉️ Email: Tue 1 Dec 2026, 10:00")
    await mara.press("✅ Confirm", message_id=confirm.message_id)
    logged = await mara.expect("Logged")
    assert "📌 Also open with Vortex: meeting Fri 27 Nov 2026, 15:00" in logged.text
    assert await _open_steps(app) == [
        ("meeting", "2026-11-27T15:00"),
        ("email", "2026-12-01T10:00"),
    ]

    await mara.send("/call Vortex sent the agenda for Friday")
    asked = await mara.expect("Did it complete this open step of Vortex?")
    assert asked.labels == [  # Tuesday's email is too far ahead to ask about
        "✔️ 1. meeting Fri 27 Nov 2026, 15:00",
        "None — a separate contact",
    ]
    await mara.press("None — a separate contact")
    await mara.expect("About your call with Vortex: What is the next step?")
    await mara.send("won")
    await mara.press("✅ Confirm")
    await mara.expect("Logged")
    assert len(await _open_steps(app)) == 2  # a separate contact completed nothing

    await mara.send("/meeting Vortex went through the samples")
    await mara.expect("Did it complete this open step of Vortex?")
    await mara.send("1")  # typed: the step's number
    asked = await mara.expect("What is the next step?")
    assert "✔️ Marked done: the meeting due Fri 27 Nov 2026, 15:00." in asked.text
    await mara.send("call in 2 weeks")
    await mara.press("✅ Confirm")
    done = await mara.expect("Logged")
    assert "✔️ Done: the meeting due Fri 27 Nov 2026, 15:00" in done.text
    assert "📌 Also open with Vortex: email Tue 1 Dec 2026, 10:00" in done.text
    assert await _open_steps(app) == [("email", "2026-12-01T10:00"), ("call", "2026-12-10T10:00")]

    await mara.send("/clients Vortex")
    await mara.press("Vortex")
    card = await mara.expect("🏢 Vortex")
    assert "Next steps" in card.text
    assert "➡️ email on Tue 1 Dec 2026, 10:00" in card.text
    assert "➡️ call on Thu 10 Dec 2026, 10:00" in card.text


async def test_a_step_near_another_asks_keep_both_or_replace_and_typed_answers_work(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A new step within a day of a booked one says so; "keep both" typed keeps both; the
    next time "Replace it" replaces it — never by default."""
    mara = await mara_with(app, server, clock, "Vortex")
    await mara.send("/call Vortex booked next: meeting mon 15:00")
    await mara.press("✅ Confirm")
    await mara.expect("Logged")
    await mara.send("/call Vortex price question next: call mon 11:00")
    await mara.expect("Is that right?")  # Monday's meeting is days away: not asked about
    await mara.press("✅ Confirm")
    ask = await mara.expect(
        "Vortex already has a meeting Mon 30 Nov 2026, 15:00. Keep both, or replace it with "
        "the call Mon 30 Nov 2026, 11:00?"
    )
    assert ask.labels == ["Keep both", "Replace it", "Choose another next step"]
    await mara.send("keep both")
    await mara.expect("Logged")
    assert await _open_steps(app) == [
        ("call", "2026-11-30T11:00"),
        ("meeting", "2026-11-30T15:00"),
    ]

    await mara.send("/call Vortex moved it next: meeting tue 9:00")
    await mara.expect("Is that right?")
    await mara.press("✅ Confirm")
    await mara.expect("Keep both, or replace it")
    await mara.press("Replace it")
    done = await mara.expect("Logged")
    assert "🔁 Replaced: meeting Mon 30 Nov 2026, 15:00" in done.text
    assert await _open_steps(app) == [
        ("call", "2026-11-30T11:00"),
        ("meeting", "2026-12-01T09:00"),
    ]
    await mara.press("↩️ Undo", message_id=done.message_id)
    await mara.expect("Undone")
    assert await _open_steps(app) == [
        ("call", "2026-11-30T11:00"),
        ("meeting", "2026-11-30T15:00"),
    ]


async def test_pausing_a_client_asks_what_happens_to_its_open_steps(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """ "pause until March" with a meeting booked asks keep or cancel; "Cancel them" cancels
    it and the confirmation says which were cancelled."""
    mara = await mara_with(app, server, clock, "Vortex")
    await mara.send("/call Vortex booked next: meeting mon 15:00")
    await mara.press("✅ Confirm")
    await mara.expect("Logged")
    await mara.send("/call Vortex budget frozen next: pause until March")
    await mara.expect("Pause until: Mon 1 Mar 2027")
    await mara.press("✅ Confirm")
    ask = await mara.expect(
        "Vortex has open steps: meeting Mon 30 Nov 2026, 15:00. Keep them or cancel them?"
    )
    assert ask.labels == ["Keep them", "Cancel them", "Choose another next step"]
    await mara.press("Cancel them")
    done = await mara.expect("Logged")
    assert "⏸ Paused until" in done.text
    assert "❎ Cancelled: meeting Mon 30 Nov 2026, 15:00" in done.text
    assert await _open_steps(app) == [("other", "2027-03-01T10:00")]


async def test_a_refusal_asks_what_happens_to_the_open_steps(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """`refused: too expensive` with a call booked for Monday: keep or cancel it? "Cancel
    them" cancels it (no reminder to call a client who said no)."""
    mara = await mara_with(app, server, clock, "Bluebird Catering")
    await mara.send("/call Bluebird Catering intro next: call mon 14:45")
    await mara.press("✅ Confirm")
    await mara.expect("Logged")
    await mara.send("/call Bluebird Catering they said no next: refused: too expensive")
    await mara.expect("Close the contact like this?")
    await mara.press("✅ Confirm")
    ask = await mara.expect(
        "Bluebird Catering has open steps: call Mon 30 Nov 2026, 14:45. Keep them or cancel them?"
    )
    assert ask.labels == ["Keep them", "Cancel them", "Choose another next step"]
    await mara.send("cancel them")
    done = await mara.expect("Logged")
    assert "🚫 Client refused: too expensive" in done.text
    assert "❎ Cancelled: call Mon 30 Nov 2026, 14:45" in done.text
    assert await _open_steps(app) == []


async def test_a_time_typed_before_the_kind_is_kept_and_a_step_typed_at_which_one_goes_on(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """At "What kind of follow-up?" `tomorrow 10:00` then `email`: read back at once, not
    asked for the time again. At "Did it complete …?" typing the next step takes the contact
    as separate and reads the step back."""
    mara = await mara_with(app, server, clock, "Orion Security")
    await mara.send("/call Orion Security prices")
    await mara.press("📅 Schedule follow-up")
    await mara.expect("What kind of follow-up?")
    await mara.send("tomorrow 10:00")
    await mara.expect("What kind of step")
    await mara.send("email")
    await mara.expect("✉️ Email: Fri 27 Nov 2026, 10:00 (Europe/London). Is that right?")
    await mara.press("✅ Confirm")
    await mara.expect("Logged")

    await mara.send("/call Orion Security follow-up on the offer")
    await mara.expect("Did it complete this open step of Orion Security?")
    await mara.send("meeting next friday 15:00")
    await mara.expect("Taken as a separate contact.")
    await mara.expect("🤝 Meeting: Fri 27 Nov 2026, 15:00 (Europe/London). Is that right?")
