"""Scripted account managers for the fault, SIGKILL and load runs.

Each `ScriptedManager` works through short scenarios as a person would (log a call and its
next step, a quick call closed as won, a refusal with its reason, a new client, an invoice
and a payment, snoozing a due reminder) and writes down what the bot *acknowledged*: a write
counts only once its confirmation arrived. When a reply does not come (the bot was killed, a
call failed) the person does what people do: /cancel, look at the answer, start again. The
ledger then tells the harness what must be in the database.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from bot.devtools.sandbox.client import ChatUser, buttons_taken_off
from bot.devtools.sandbox.world import BotMessage
from bot.telegram.error_handler import COULD_NOT_SAVE, SORRY


class Disrupted(Exception):
    """The reply a scenario waited for did not come."""


@dataclass(frozen=True)
class Ack:
    """A write the bot confirmed to the person."""

    kind: str  # contact | complete | client | invoice | payment | snooze
    key: str  # the unique marker the person typed (summary token, client name, number)
    detail: str = ""
    at: float = 0.0  # time.monotonic() when the confirmation arrived


@dataclass
class Ledger:
    """What one person saw: confirmed writes, disruptions and how they were resolved."""

    acks: list[Ack] = field(default_factory=list)
    scenarios: Counter[str] = field(default_factory=Counter)  # completed, by name
    disruptions: int = 0
    recovered_with_message: int = 0  # after a disruption, /cancel got an answer
    recovered_silently: int = 0  # ... and /cancel sent twice got none (must not happen)
    lost_in_flight: int = 0  # a /cancel that got no answer the first time
    cancel_updates: list[int] = field(default_factory=list)  # their update ids
    latencies: list[float] = field(default_factory=list)  # seconds from send to reply


@dataclass(frozen=True)
class Scenario:
    """A named scenario and its weight in the random mix."""

    name: str
    weight: int


SCENARIOS = (
    Scenario("log_follow_up", 3),
    Scenario("quick_won", 3),
    Scenario("refused", 2),
    Scenario("new_client", 2),
    Scenario("snooze", 2),
    Scenario("invoice", 2),
)


class ScriptedManager:
    """One manager with two clients: `work_client` for logging, `due_client` with a due step.

    `timeout` is how long the person waits for each reply; `invoices` enables the invoice
    scenario (when the feature is registered).
    """

    def __init__(
        self,
        person: ChatUser,
        *,
        work_client: str,
        due_client: str,
        rng: random.Random,
        timeout: float = 5.0,
        recover_timeout: float = 10.0,
        invoices: bool = False,
        pause: tuple[float, float] = (0.0, 0.05),
    ) -> None:
        self.person = person
        self.work_client = work_client
        self.due_client = due_client
        self.rng = rng
        self.timeout = timeout
        self.recover_timeout = recover_timeout
        self.invoices = invoices
        self.pause = pause
        self.ledger = Ledger()
        self.snoozed_at: int | None = None  # chat events before the first snooze
        self._serial = 0

    # --- primitives -----------------------------------------------------------------------

    def _token(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}{self.person.id}x{self._serial}"

    async def send(self, text: str) -> float:
        """Send text; returns the monotonic send time (for latencies)."""
        sent_at = time.monotonic()
        await self.person.send(text)
        return sent_at

    async def expect(self, text: str, *, sent_at: float | None = None) -> BotMessage:
        """The next message containing `text`; an apology or silence is a disruption."""
        try:
            message = await self.person.expect(text, timeout=self.timeout)
        except AssertionError as exc:
            raise Disrupted(f"waited for {text!r}") from exc
        if sent_at is not None:
            self.ledger.latencies.append(time.monotonic() - sent_at)
        return message

    async def logged(self, token: str, *, sent_at: float | None = None) -> None:
        """The "Logged" confirmation of this contact (it quotes the summary); one naming
        another contact is a late answer to an earlier request, replayed after a crash."""
        message = await self.expect("Logged", sent_at=sent_at)
        # The summary is the second line; a closing reason carries the token too, so a press
        # on an older contact's late "next step?" message would otherwise pass for this one.
        lines = message.text.splitlines()
        if len(lines) < 2 or token not in lines[1]:
            raise Disrupted(f"{token} not confirmed")

    async def press(self, label: str) -> None:
        """Press a button on the newest message that shows it."""
        try:
            await self.person.press(label, timeout=self.timeout)
        except AssertionError as exc:
            raise Disrupted(f"pressing {label!r}") from exc

    async def press_starting(self, prefix: str) -> None:
        """Press the newest button whose label starts with `prefix` (labels with dates)."""
        for message in reversed(self.person.messages):
            for label in message.labels:
                if label.startswith(prefix):
                    return await self.press(label)
        raise Disrupted(f"no button starting with {prefix!r}")

    def ack(self, kind: str, key: str, detail: str = "") -> None:
        """Write down a confirmed write."""
        self.ledger.acks.append(Ack(kind, key, detail, time.monotonic()))

    @property
    def apologies(self) -> int:
        """How many times the bot apologised to this person (the error handler's messages)."""
        events = self.person.chat.events
        return sum(SORRY in event.text or COULD_NOT_SAVE in event.text for event in events)

    @property
    def reminder_copies(self) -> int:
        """How often the due step's first reminder arrived (before any snooze moved it)."""
        events = self.person.chat.events[: self.snoozed_at]
        return sum(
            "Due now" in event.text and self.due_client in event.text and not event.edited
            for event in events
        )

    def skip_unread(self) -> None:
        """Forget older replies, so a late one can't pass for the answer to a new request."""
        self.person.cursor = len(self.person.chat.events)

    # --- scenarios ------------------------------------------------------------------------

    async def log_follow_up(self) -> None:
        """/log → client → Call → summary (saved) → follow-up meeting tomorrow → Logged."""
        token = self._token("F")
        sent = await self.send("/log")
        await self.expect("Who was the contact with?", sent_at=sent)
        await self.press(self.work_client)
        await self.expect("What kind of contact")
        await self.press("📞 Call")
        await self.expect("What happened?")
        sent = await self.send(f"Talked about the order {token}")
        await self._next_step_question(sent)
        self.ack("contact", token)
        await self.press("📅 Schedule follow-up")
        await self.expect("What kind of follow-up?")
        await self.press("🤝 Meeting")
        await self.expect("When is the follow-up due?")
        await self.press("Tomorrow 10:00")  # a tapped time is saved at once
        reply = await self._either("Logged", "Keep both, or replace it")
        if "Keep both" in reply.text:
            await self.press("Replace it")
            await self.logged(token)
        elif len(lines := reply.text.splitlines()) < 2 or token not in lines[1]:
            raise Disrupted(f"{token} not confirmed")
        self.ack("complete", token, "scheduled")

    async def quick_won(self) -> None:
        """`/call <client> <summary>` → Deal won → Logged."""
        token = self._token("W")
        sent = await self.send(f"/call {self.work_client} signed the contract {token}")
        await self._next_step_question(sent)
        self.ack("contact", token)
        await self.press("🏆 Deal won")
        await self.logged(token)
        self.ack("complete", token, "won")

    async def refused(self) -> None:
        """A meeting closed as refused, with its reason."""
        token = self._token("R")
        sent = await self.send(f"/meeting {self.work_client} presented the offer {token}")
        await self._next_step_question(sent)
        self.ack("contact", token)
        await self.press("🚫 Client refused")
        await self.expect("Why did the client refuse?")
        sent = await self.send(f"No budget this year {token}")
        await self.logged(token, sent_at=sent)
        self.ack("complete", token, "refused")

    async def new_client(self) -> None:
        """`/newclient <name>; <person>` in one line → Client saved."""
        name = self._token("Client N")
        sent = await self.send(f"/newclient {name}; Ivan Petrov")
        await self.expect("Client saved", sent_at=sent)
        self.ack("client", name)

    async def snooze(self) -> None:
        """Snooze the due step's reminder (if it came) by 15 minutes."""
        due = [m for m in self.person.messages if "Due now" in m.text and m.button("💤 Snooze")]
        if not due:
            sent = await self.send("/agenda")
            await self.expect("agenda", sent_at=sent)
            return
        if self.snoozed_at is None:
            self.snoozed_at = len(self.person.chat.events)
        await self.press("💤 Snooze")
        await self.press("15 min")
        await self.expect("I'll remind you about the call again")
        self.ack("snooze", self.due_client)

    async def invoice(self) -> None:
        """An invoice in one line, then a payment of part of it."""
        if not self.invoices:
            return await self.quick_won()
        number = self._token("INV-")
        sent = await self.send(f"/newinvoice {self.work_client}; {number}; 100 EUR")
        saved = await self.expect("Invoice saved", sent_at=sent)
        if number not in saved.text:  # a late answer to an earlier request, replayed
            raise Disrupted(f"{number} not confirmed")
        self.ack("invoice", number)
        await self.press("Record payment")
        await self.expect("How much was paid?")
        sent = await self.send("40")
        await self.expect("When was it paid?", sent_at=sent)
        await self.press_starting("Today")
        await self.expect(f"for {number}")
        self.ack("payment", number, "4000")

    async def _next_step_question(self, sent: float) -> None:
        """Up to "What is the next step?"; a "did it complete …?" on the way is answered
        with the client's first open step (so open steps don't pile up)."""
        reply = await self._either("What is the next step?", "Did it complete")
        self.ledger.latencies.append(time.monotonic() - sent)
        if "Did it complete" in reply.text:
            await self.press(reply.labels[0])
            await self.expect("What is the next step?")

    async def _either(self, *texts: str) -> BotMessage:
        person = self.person

        def find() -> BotMessage | None:
            for index in range(person.cursor, len(person.chat.events)):
                if buttons_taken_off(person.chat.events, index):
                    continue  # an old prompt going quiet is no answer
                if any(text in person.chat.events[index].text for text in texts):
                    person.cursor = index + 1
                    return person.chat.events[index]
            return None

        found = await person.world.wait_until(find, self.timeout)
        if found is None:
            raise Disrupted(f"waited for one of {texts!r}")
        return found

    # --- the loop -------------------------------------------------------------------------

    async def recover(self) -> None:
        """After a disruption: /cancel and wait for an answer, as a person would.

        A message the bot had fetched but not handled when it was killed is gone (Telegram
        and python-telegram-bot confirm updates when they are fetched); the person then
        sends /cancel once more. Only a second silence counts as not recovered.
        """
        self.ledger.disruptions += 1
        for attempt in range(2):
            self.skip_unread()
            await self.person.send("/cancel")
            self.ledger.cancel_updates.append(self.person.world._last_update_id)
            try:
                await self.person.reply(timeout=self.recover_timeout)
            except AssertionError:
                if attempt == 0:
                    self.ledger.lost_in_flight += 1
                    continue
                self.ledger.recovered_silently += 1
            else:
                self.ledger.recovered_with_message += 1
            break
        self.skip_unread()

    async def run(self, until: float) -> None:
        """Play random scenarios until `time.monotonic()` passes `until`."""
        names = [s.name for s in SCENARIOS]
        weights = [s.weight for s in SCENARIOS]
        while time.monotonic() < until:
            name = self.rng.choices(names, weights)[0]
            try:
                await getattr(self, name)()
            except Disrupted:
                await self.recover()
            else:
                self.ledger.scenarios[name] += 1
            await asyncio.sleep(self.rng.uniform(*self.pause))
