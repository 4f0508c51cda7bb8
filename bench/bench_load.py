"""Load: the real bot process driven through the fake Bot API server by simulated people.

    python -m bench.bench_load [--users 500] [--seconds 300] [--think 1.8]
                               [--echo-seconds 60] [--ceiling-seconds 20] [--skip-echo]

The bot runs as it does in production (`python -m bot run`, its own process, long polling)
against an in-process `FakeBotApiServer` (every request checked against the Bot API spec)
with a fresh database of `--users` managers, each with two clients. Each simulated person
loops: wait a random think time (uniform 0 … 2 × `--think` s), then one of /agenda, /help,
/clients → open a client card (a button), or `/call <client> …` → 🏆 Deal won (a button),
measuring each update's time from being queued at the server to the bot's first answer in
that chat (a message, an edit or the button's answer).

A person sends 1.6 updates per task on average, one task per ~(1.6 × think + 0.1) s plus the
bot's answer times (a closed loop: slow answers lower the load): with 500 people and the
default think time of 1.8 s at most ~270 updates/s are offered, above the target of 200.

Then the same people, with the same think times, drive a minimal python-telegram-bot echo
bot (`bench/echo_bot.py`: echoes text with one button, answers and edits on a press) on the
same harness, twice: on PTB's defaults (httpx, one update at a time: the framework as it
comes) and on NextStep's stack (aiohttp, concurrent chats, 1 ms GIL switch interval: the
ceiling of what NextStep runs on). Finally each runs `--ceiling-seconds` with no think time
(saturation) for the ceiling ratio. Reported: updates/s, p50/p95/p99 latency, 429s
(the fake server has no flood limit here; the bot's own pacing is switched off with
TELEGRAM_MESSAGES_PER_SECOND=0, as the lead's limiter spaces sends to Telegram's ~30/s),
errors (updates with no answer in 10 s, error-handler log lines, spec violations), the
bot process's RSS at the start and the end of the main run, and per 30 s window the p99 and
the bot's CPU per update (a drift over the run shows there). The harness keeps bounded
history (its own garbage collector's pauses would otherwise count as the bot's latency).

Targets on this 2-core machine: >= 200 updates/s, p99 < 250 ms, 0 errors, RSS growth < 20 %.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import gc
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.clock import SystemClock
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.devtools.sandbox.world import BotMessage, Chat
from storage.db import Database
from tests.reliability.seed import seed_managers

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:LOAD-BENCH-TOKEN"
FIRST_ID = 300_000
ANSWER_TIMEOUT = 10.0
TARGET_RATE = 200
TARGET_P99_MS = 250
TARGET_RSS_GROWTH = 0.20
WINDOW_SECONDS = 30  # the p99 is also shown per window, to see drift over the run
# The harness keeps only this much history: a growing heap made its own garbage collector
# pause for up to 0.4 s every ~10 s by the end of a run, which it measured as bot latency.
KEEP_CALLS = 1000
KEEP_MESSAGES = 12  # per chat
# The echo bot on PTB's defaults (httpx, one update at a time), then on NextStep's plumbing.
ECHO_STACKS = (("PTB echo bot", "ptb"), ("echo bot, NextStep stack", "nextstep"))


class LoadServer(FakeBotApiServer):
    """The fake server, telling waiting people as soon as the bot answers in their chat."""

    def __init__(self) -> None:
        super().__init__(token=TOKEN)
        self.calls = collections.deque(maxlen=KEEP_CALLS)  # type: ignore[assignment]
        self.polls = 0
        self.waiters: dict[int, asyncio.Future[float]] = {}
        self.query_chats: dict[str, int] = {}
        publish = self.world._publish

        def published(chat: Chat, message: BotMessage) -> dict[str, object]:
            raw = publish(chat, message)
            self._wake(chat.id)
            return raw

        self.world._publish = published  # type: ignore[method-assign]

    def _wake(self, chat_id: int) -> None:
        waiter = self.waiters.pop(chat_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(time.perf_counter())

    async def _get_updates(self, params: dict, files: dict) -> list[dict]:  # type: ignore[override]
        self.polls += 1
        return await super()._get_updates(params, files)

    async def _answer_callback_query(self, params: dict, files: dict) -> bool:  # type: ignore[override]
        result = await super()._answer_callback_query(params, files)
        chat_id = self.query_chats.pop(params["callback_query_id"], None)
        if chat_id is not None:
            self._wake(chat_id)
        return result

    def expect_answer(self, chat_id: int) -> asyncio.Future[float]:
        """A future resolved (with perf_counter time) by the bot's next output in the chat."""
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[chat_id] = waiter
        return waiter


@dataclass
class Stats:
    """Latencies and failures of one phase."""

    latencies: list[float] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)  # perf_counter of each answer
    unanswered: int = 0
    started: float = 0.0
    ended: float = 0.0
    bot_cpu: float = 0.0  # CPU seconds the bot process used during the phase
    bot_cpu_windows: list[float] = field(default_factory=list)  # ... in each window
    harness_cpu: float = 0.0  # ... and this process (fake server and simulated people)

    def cpu_share(self) -> str:
        """Bot and harness CPU as a share of one core."""
        wall = max(self.ended - self.started, 1e-9)
        return f"bot {self.bot_cpu / wall:.0%}, harness {self.harness_cpu / wall:.0%}"

    @property
    def rate(self) -> float:
        """Answered updates per second."""
        return len(self.latencies) / max(self.ended - self.started, 1e-9)

    def percentile(self, share: float) -> float:
        """Latency percentile in ms."""
        return _percentile(self.latencies, share)

    def by_window(self, seconds: float) -> list[tuple[float, float, float]]:
        """(updates/s, p50 ms, p99 ms) of each `seconds`-long window of the run."""
        windows: dict[int, list[float]] = {}
        for at, latency in zip(self.answered_at, self.latencies, strict=True):
            windows.setdefault(int((at - self.started) // seconds), []).append(latency)
        return [
            (len(chunk) / seconds, _percentile(chunk, 0.5), _percentile(chunk, 0.99))
            for _, chunk in sorted(windows.items())
        ]


def _percentile(latencies: list[float], share: float) -> float:
    """The `share` percentile of latencies (s) in ms."""
    if not latencies:
        return float("nan")
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


class Person:
    """One simulated person in a private chat with the bot."""

    def __init__(self, server: LoadServer, telegram_id: int, stats: Stats, think: float) -> None:
        self.server = server
        self.world = server.world
        self.chat = self.world.add_user(telegram_id, f"P{telegram_id}")
        self.id = telegram_id
        self.stats = stats
        self.think = think
        self.rng = random.Random(telegram_id)
        self.serial = 0

    async def _measure(self, push: callable) -> bool:  # type: ignore[valid-type]
        waiter = self.server.expect_answer(self.chat.id)
        start = time.perf_counter()
        push()
        try:
            answered = await asyncio.wait_for(waiter, ANSWER_TIMEOUT)
        except TimeoutError:
            self.server.waiters.pop(self.chat.id, None)
            self.stats.unanswered += 1
            return False
        self.stats.latencies.append(answered - start)
        self.stats.answered_at.append(answered)
        return True

    async def send(self, text: str) -> bool:
        """Send text and wait for the first answer."""
        return await self._measure(lambda: self.world.user_message(self.chat, self.id, text=text))

    async def press(self, label: str) -> bool:
        """Press a button on the newest bot message showing it; wait for the first answer."""
        for message in sorted(self.chat.bot_messages.values(), key=lambda m: -m.message_id):
            button = message.button(label)
            if button is not None and "callback_data" in button and not message.deleted:

                def push(
                    message: BotMessage = message, data: str = button["callback_data"]
                ) -> None:
                    query_id = self.world.callback_query(
                        self.chat, self.id, message.message_id, data
                    )
                    self.server.query_chats[query_id] = self.chat.id

                return await self._measure(push)
        return False

    async def pause(self) -> None:
        """Think for a moment."""
        if self.think > 0:
            await asyncio.sleep(self.rng.uniform(0, 2 * self.think))

    async def settle(self) -> None:
        """Let the rest of the bot's answer (a second message, an edit) arrive."""
        await asyncio.sleep(0.05)

    def forget_old(self) -> None:
        """Keep the chat's newest KEEP_MESSAGES messages (the bot only edits recent ones)."""
        chat = self.chat
        if len(chat.messages) <= KEEP_MESSAGES:
            return
        oldest_kept = sorted(chat.messages)[-KEEP_MESSAGES]
        for messages in (chat.messages, chat.bot_messages):
            for message_id in [i for i in messages if i < oldest_kept]:
                del messages[message_id]
        del chat.events[:-KEEP_MESSAGES]


class Manager(Person):
    """A manager using NextStep: agenda, help, client card, a quick call closed as won."""

    async def step(self) -> None:
        """One short task (one to two updates)."""
        roll = self.rng.random()
        if roll < 0.25:
            await self.send("/agenda")
        elif roll < 0.4:
            await self.send("/help")
        elif roll < 0.7:
            if await self.send("/clients"):
                await self.settle()
                await self.pause()
                await self.press(f"Acme {self.id}")
        else:
            self.serial += 1
            if await self.send(f"/call Acme {self.id} talked about volumes {self.serial}"):
                await self.settle()
                await self.pause()
                await self.press("🏆 Deal won")
        await self.settle()


class EchoPerson(Person):
    """Someone talking to the echo bot: text, then its button."""

    async def step(self) -> None:
        """One or two updates, like a manager's task."""
        self.serial += 1
        if await self.send(f"hello {self.serial}") and self.rng.random() < 0.5:
            await self.settle()
            await self.pause()
            await self.press("👍")
        await self.settle()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(people: list[Person], stats: Stats, seconds: float, pid: int) -> Stats:
    """Every person loops think → task until the time is up."""
    deadline = time.perf_counter() + seconds
    bot_cpu, harness_cpu = cpu_seconds(pid), time.process_time()

    async def loop(person: Person) -> None:
        await asyncio.sleep(person.rng.uniform(0, max(person.think, 0.5)))  # staggered start
        while time.perf_counter() < deadline:
            await person.step()
            person.forget_old()
            await person.pause()

    async def sample_cpu() -> None:
        last = bot_cpu
        while True:
            await asyncio.sleep(WINDOW_SECONDS)
            now = cpu_seconds(pid)
            stats.bot_cpu_windows.append(now - last)
            last = now

    stats.started = time.perf_counter()
    sampler = asyncio.create_task(sample_cpu())
    await asyncio.gather(*(loop(p) for p in people))
    sampler.cancel()
    stats.ended = time.perf_counter()
    stats.bot_cpu = cpu_seconds(pid) - bot_cpu
    stats.harness_cpu = time.process_time() - harness_cpu
    return stats


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def start_process(server: LoadServer, args: list[str], env: dict[str, str], log: Path):
    """Start a bot process and wait until it long-polls the server."""
    seen = server.polls
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    for _ in range(300):
        if server.polls > seen:
            return process
        if process.returncode is not None:
            raise RuntimeError(f"{args} exited with {process.returncode}; see {log}")
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{args} did not start polling; see {log}")


async def stop_process(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then wait."""
    if process.returncode is None:
        process.terminate()
        await process.wait()


@dataclass
class Result:
    """One bot's figures."""

    name: str
    main: Stats
    ceiling: Stats | None
    rss_start: float
    rss_end: float
    errors_logged: int
    violations: int
    count_429: int


async def measure(
    name: str,
    args: list[str],
    env: dict[str, str],
    people_class: type[Person],
    users: int,
    seconds: float,
    ceiling_seconds: float,
    think: float,
    workdir: Path,
) -> Result:
    """Run one bot: warm-up, the main run at `think`, then the ceiling run without think time."""
    server = LoadServer()
    await server.start()
    env = {**env, "TELEGRAM_BASE_URL": server.base_url}
    log = workdir / f"{name}.log"
    process = await start_process(server, args, env, log)
    try:
        people = [people_class(server, FIRST_ID + i, Stats(), think) for i in range(users)]
        warm = Stats()
        for person in people:
            person.stats = warm
        print(f"[{name}] warm-up 5 s …", flush=True)
        await drive(people, warm, 5, process.pid)
        await asyncio.sleep(1)
        gc.collect()
        gc.freeze()  # the harness's set-up is not scanned again by its collector
        rss_start = rss_mb(process.pid)
        main = Stats()
        for person in people:
            person.stats = main
        print(f"[{name}] {users} people for {seconds:.0f} s (think {think} s) …", flush=True)
        await drive(people, main, seconds, process.pid)
        rss_end = rss_mb(process.pid)
        ceiling = None
        if ceiling_seconds > 0:
            ceiling = Stats()
            for person in people:
                person.stats, person.think = ceiling, 0
            print(f"[{name}] ceiling: no think time for {ceiling_seconds:.0f} s …", flush=True)
            await drive(people, ceiling, ceiling_seconds, process.pid)
    finally:
        await stop_process(process)
        await server.stop()
    text = log.read_text(errors="replace")
    errors = text.count("Error while handling update")
    if errors or server.violations:
        print(f"[{name}] {errors} errors logged, {len(server.violations)} spec violations:")
        for line in [*server.violations[:3], *text.splitlines()[-15:]]:
            print(f"    {line[:200]}")
    return Result(
        name, main, ceiling, rss_start, rss_end, errors, len(server.violations), server.count_429
    )


async def seed_database(path: Path, users: int) -> None:
    """`users` managers with their clients, written through the real services."""
    db = Database(path)
    await db.open()
    clock = SystemClock()
    ids = [FIRST_ID + i for i in range(users)]
    await seed_managers(db, clock, ids, lambda _: clock.now() + dt.timedelta(days=2))
    await db.close()


def row(result: Result) -> list[str]:
    """The table row of one bot's main run."""
    main = result.main
    growth = (result.rss_end - result.rss_start) / result.rss_start
    errors = main.unanswered + result.errors_logged + result.violations
    return [
        result.name,
        f"{main.rate:.0f}",
        f"{main.percentile(0.5):.1f}",
        f"{main.percentile(0.95):.1f}",
        f"{main.percentile(0.99):.1f}",
        str(result.count_429),
        str(errors),
        f"{result.rss_start:.0f} → {result.rss_end:.0f} ({growth:+.0%})",
        f"{result.ceiling.rate:.0f}" if result.ceiling else "—",
    ]


def table(results: list[Result]) -> str:
    """The results as a Markdown table, then the ratios and the verdict against the targets."""
    header = [
        "bot",
        "updates/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "429s",
        "errors",
        "RSS MB",
        "ceiling upd/s",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row(r)) + " |" for r in results]
    lines.append("")
    for result in results:
        lines.append(f"CPU, {result.name}: main run {result.main.cpu_share()}")
        windows = result.main.by_window(WINDOW_SECONDS)
        lines.append(
            f"Per {WINDOW_SECONDS} s, {result.name}: p99 ms "
            + " ".join(f"{p99:.0f}" for _, _, p99 in windows)
            + "; bot CPU ms per update "
            + " ".join(
                f"{1000 * cpu / (rate * WINDOW_SECONDS):.1f}"
                for cpu, (rate, _, _) in zip(result.main.bot_cpu_windows, windows, strict=False)
            )
        )
        if result.ceiling:
            lines.append(f"CPU, {result.name}: ceiling run {result.ceiling.cpu_share()}")
    ours = results[0]
    for echo in results[1:]:
        lines.append("")
        lines.append(
            f"NextStep / {echo.name}: {ours.main.rate / echo.main.rate:.2f} of the updates/s "
            f"at the same load, p99 {ours.main.percentile(0.99) / echo.main.percentile(0.99):.1f}×"
        )
        if ours.ceiling and echo.ceiling:
            lines.append(
                f"Ceiling ratio (saturated): {ours.ceiling.rate / echo.ceiling.rate:.2f} "
                f"({ours.ceiling.rate:.0f} vs {echo.ceiling.rate:.0f} updates/s)"
            )
    main = ours.main
    growth = (ours.rss_end - ours.rss_start) / ours.rss_start
    errors = main.unanswered + ours.errors_logged + ours.violations
    checks = [
        (f"updates/s >= {TARGET_RATE}", main.rate >= TARGET_RATE),
        (f"p99 < {TARGET_P99_MS} ms", main.percentile(0.99) < TARGET_P99_MS),
        ("zero errors", errors == 0),
        (f"RSS growth < {TARGET_RSS_GROWTH:.0%}", growth < TARGET_RSS_GROWTH),
    ]
    lines.append("")
    lines += [f"{'✓' if ok else '✗'} {label}" for label, ok in checks]
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> list[Result]:
    """Seed, then measure NextStep and (unless skipped) the echo bot."""
    results = []
    with tempfile.TemporaryDirectory(prefix="nextstep-load-") as tmp:
        workdir = Path(tmp)
        database = workdir / "load.sqlite3"
        print(f"Seeding {args.users} managers …", flush=True)
        await seed_database(database, args.users)
        base_env = {**os.environ, "BOT_TOKEN": TOKEN, "PTB_TIMEDELTA": "1"}
        bot_env = {
            **base_env,
            "DATABASE_URL": f"sqlite:///{database}",
            "TELEGRAM_MESSAGES_PER_SECOND": "0",
            "LOG_LEVEL": "WARNING",
        }
        results.append(
            await measure(
                "NextStep",
                ["-m", "bot", "run"],
                bot_env,
                Manager,
                args.users,
                args.seconds,
                args.ceiling_seconds,
                args.think,
                workdir,
            )
        )
        if not args.skip_echo:
            for name, stack in ECHO_STACKS:
                results.append(
                    await measure(
                        name,
                        ["-m", "bench.echo_bot"],
                        {**base_env, "ECHO_STACK": stack},
                        EchoPerson,
                        args.users,
                        args.echo_seconds,
                        args.ceiling_seconds,
                        args.think,
                        workdir,
                    )
                )
    return results


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=300, help="NextStep's main run")
    parser.add_argument("--think", type=float, default=1.8, help="mean think time, s")
    parser.add_argument("--echo-seconds", type=float, default=60, help="the echo bot's run")
    parser.add_argument("--ceiling-seconds", type=float, default=20, help="0 to skip")
    parser.add_argument("--skip-echo", action="store_true")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    print()
    print(table(results))


if __name__ == "__main__":
    main()
