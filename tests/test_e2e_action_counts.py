"""End-to-end: the messages and taps the core loop takes, counted on its three target paths.

Targets (issue 17): an existing client, a call and its next step in one message plus at most
one confirming tap, or the guided way in at most 2 messages and 3 taps; a new client, a
meeting and its next step in at most 4 actions. The figures are printed (`pytest -s`) and
recorded in the README.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from telegram.ext import Application

from bot.app import services_of
from bot.clock import FrozenClock
from bot.devtools.sandbox.client import BotMessage, ChatUser
from bot.devtools.sandbox.server import FakeBotApiServer
from tests.test_e2e_typed_next_step import mara_with

OPEN_STEPS = "SELECT count(*) FROM steps WHERE state = 'open'"


@dataclass
class Counted:
    """A person whose messages and taps are counted."""

    user: ChatUser
    messages: int = 0
    taps: int = 0
    log: list[str] = field(default_factory=list)

    async def send(self, text: str) -> None:
        """Send a message (counted)."""
        self.messages += 1
        self.log.append(f"send {text!r}")
        await self.user.send(text)

    async def press(self, label: str) -> None:
        """Tap a button by its label (counted)."""
        self.taps += 1
        self.log.append(f"tap {label!r}")
        await self.user.press(label)

    async def expect(self, text: str) -> BotMessage:
        """Wait for the bot's message (not counted: reading)."""
        return await self.user.expect(text)


async def _finish(app: Application, who: Counted, path: str, target: str) -> None:
    done = await who.expect("Logged")
    assert "Next step:" in done.text
    assert await services_of(app).db.fetch_value(OPEN_STEPS) == 1
    print(f"\n{path}: {who.messages} message(s) + {who.taps} tap(s) (target {target})")
    print("  " + "; ".join(who.log))


async def test_existing_client_one_message(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """One message and one confirming tap."""
    mara = Counted(await mara_with(app, server, clock, "Tundra Outdoor"))
    await mara.send("/call Tundra Outdoor discussed prices next: call Tuesday 15:00")
    await mara.expect("📞 Call: Tue 1 Dec 2026, 15:00")
    await mara.press("✅ Confirm")
    await _finish(app, mara, "existing client, one message", "1 message + ≤1 tap")
    assert (mara.messages, mara.taps) == (1, 1)


@pytest.mark.parametrize("typed", [False, True], ids=["tapped", "typed"])
async def test_existing_client_guided(
    app: Application, server: FakeBotApiServer, clock: FrozenClock, typed: bool
) -> None:
    """The guided way: the call, then the next step tapped (3 taps) or typed (1 tap)."""
    mara = Counted(await mara_with(app, server, clock, "Tundra Outdoor"))
    await mara.send("/call Tundra Outdoor discussed prices")
    await mara.expect("Saved your call with Tundra Outdoor. What is the next step?")
    if typed:
        await mara.send("call tue 15:00")
        await mara.expect("Is that right?")
        await mara.press("✅ Confirm")
    else:
        await mara.press("📅 Schedule follow-up")
        await mara.press("📞 Call")
        await mara.expect("When is the follow-up due?")
        await mara.press("Tomorrow 10:00")
    path = f"existing client, guided ({'typed step' if typed else 'tapped step'})"
    await _finish(app, mara, path, "≤2 messages + ≤3 taps")
    assert mara.messages <= 2 and mara.taps <= 3


async def test_new_client_meeting_and_next_step(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A client not yet in the bot: ➕ New client on the way, then the step confirmed."""
    mara = Counted(await mara_with(app, server, clock, "Tundra Outdoor"))
    await mara.send("/meeting Zephyr Logistics discussed the pilot next: meeting fri 15:00")
    await mara.expect("I found no client called “Zephyr Logistics”.")
    await mara.press("➕ New client “Zephyr Logistics”")
    await mara.expect("Is that right?")
    await mara.press("✅ Confirm")
    await _finish(app, mara, "new client, a meeting and its next step", "≤4 actions")
    assert mara.messages + mara.taps <= 4
