"""The local sandbox: the real bot, the fake Bot API server and the chat page, on 127.0.0.1.

`running_sandbox` starts, in the caller's event loop: the fake Bot API server (the one the
end-to-end tests use) with the chat page next to it, the sandbox's own database (seeded with
the demo data on first start), and the bot built exactly as in production but pointed at the
local server and given a clock the page can fast-forward. `serve` runs it until Ctrl+C.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from apscheduler.triggers.interval import IntervalTrigger
from pydantic import SecretStr

from bot.app import build_application, polling, serve_web, services_of
from bot.clock import SystemClock
from bot.config import ConfigError, Settings
from bot.devtools.demo import ADMIN, DEMO_TIMEZONE, PERSONAS, DemoSummary, seed_demo, team_is_empty
from bot.devtools.sandbox.page import ChatPage
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.services import access
from bot.telegram.context import NextStepApplication
from storage.db import Database

logger = logging.getLogger(__name__)

SANDBOX_TOKEN = "100000:SANDBOX-local-only"  # noqa: S105 - the fake server's, not Telegram's
SANDBOX_BOT = "nextstep_sandbox_bot"
HOST = "127.0.0.1"


@dataclass
class Sandbox:
    """A running sandbox."""

    server: FakeBotApiServer
    application: NextStepApplication
    clock: SystemClock
    settings: Settings
    demo: DemoSummary | None

    @property
    def url(self) -> str:
        """The chat page."""
        return f"http://{HOST}:{self.server.port}/"


def sandbox_settings(settings: Settings, base_url: str) -> Settings:
    """The bot's settings in the sandbox: the fake server, the sandbox's database, no webhook.

    Raises ConfigError if SANDBOX_DATABASE_URL names the production database.
    """
    if settings.sandbox_database_path.resolve() == settings.database_path.resolve():
        raise ConfigError(
            "SANDBOX_DATABASE_URL: must not be the production database (DATABASE_URL)"
        )
    update: dict[str, object] = {
        "bot_token": SecretStr(SANDBOX_TOKEN),
        "database_url": settings.sandbox_database_url,
        "telegram_base_url": base_url,
        "telegram_base_file_url": None,
        "admin_telegram_ids": (ADMIN.telegram_id,),
        "reminder_sweep_seconds": 1,
        "webhook_url": None,
        "webhook_secret": None,
    }
    if "default_timezone" not in settings.model_fields_set:
        update["default_timezone"] = DEMO_TIMEZONE
    return settings.model_copy(update=update)


@asynccontextmanager
async def running_sandbox(
    settings: Settings,
    *,
    port: int | None = None,
    clock: SystemClock | None = None,
    demo: bool = True,
) -> AsyncIterator[Sandbox]:
    """Start everything on 127.0.0.1 (`port` 0: any free one; None: SANDBOX_PORT)."""
    clock = clock or SystemClock()
    server = FakeBotApiServer(
        token=SANDBOX_TOKEN, bot_username=SANDBOX_BOT, strict=False, clock=clock
    )
    holder: list[NextStepApplication] = []

    async def timezone_of(telegram_id: int) -> str:
        if holder and services_of(holder[0]).db.is_open:
            person = await access.find_person(services_of(holder[0]).db, telegram_id)
            if person is not None:
                return person.timezone
        return bot_settings.default_timezone

    async def after_jump() -> None:
        """Run the repeating jobs (the sweeps that ask the clock what is due) at once."""
        if not holder or holder[0].job_queue is None:
            return
        for job in holder[0].job_queue.jobs():
            if isinstance(job.job.trigger, IntervalTrigger):
                await job.run(holder[0])

    bot_settings = sandbox_settings(settings, "http://placeholder/bot")
    page = ChatPage(
        server,
        PERSONAS,
        clock=clock,
        timezone_of=timezone_of,
        after_jump=after_jump,
        locale=bot_settings.default_locale,
    )
    server.extra_routes.extend(page.routes())
    await server.start(HOST, settings.sandbox_port if port is None else port)
    try:
        bot_settings = sandbox_settings(settings, server.base_url)
        summary = await _prepare_database(bot_settings, clock, demo=demo)
        application = build_application(bot_settings, clock=clock)
        # The calendar feeds as in production (CALENDAR_PORT; any free port with `port` 0).
        serve_web(application, port=0 if port == 0 else None)
        holder.append(application)
        async with polling(application, poll_timeout=10):
            yield Sandbox(server, application, clock, bot_settings, summary)
    finally:
        await server.stop()
        if server.violations:
            logger.warning("Requests that break the Bot API spec: %s", server.violations[:10])


async def _prepare_database(
    settings: Settings, clock: SystemClock, *, demo: bool
) -> DemoSummary | None:
    """Migrate the sandbox database; on first start (nobody in it) add the demo data."""
    db = Database(settings.database_path)
    await db.open()
    try:
        if demo and await team_is_empty(db):
            logger.info("First start: adding the demo team and four weeks of history")
            return await seed_demo(db, clock)
        return None
    finally:
        await db.close()


async def serve(settings: Settings, *, port: int | None = None, demo: bool = True) -> None:
    """Run the sandbox until SIGINT or SIGTERM, printing where the page is."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with running_sandbox(settings, port=port, demo=demo) as sandbox:
        print(banner(sandbox), flush=True)
        await stop.wait()
    print("Sandbox stopped.", flush=True)


def banner(sandbox: Sandbox) -> str:
    """What `make run` prints when it starts the sandbox."""
    seeded = ""
    if sandbox.demo is not None:
        d = sandbox.demo
        seeded = (
            f"\nFirst start: added demo data ({d.people} people, {d.clients} clients, "
            f"{d.contacts} contacts)."
        )
    feed_url = services_of(sandbox.application).feed_url
    feeds = f"Calendar feeds (/calendar) are served at {feed_url}/calendar/.\n" if feed_url else ""
    return (
        "NextStep SANDBOX — a local Bot API server and a chat page play Telegram; nothing is "
        "sent to Telegram and no token is needed.\n"
        f"Open {sandbox.url} and choose who you are.\n"
        f"Sandbox data: {sandbox.settings.database_path} (never the production database)."
        f"{seeded}\n"
        f"{feeds}"
        "To use the real Telegram, set BOT_TOKEN (see .env.example). Stop with Ctrl+C."
    )
