"""The composition root: builds the Application, wires handlers, jobs and lifecycle hooks."""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ContextTypes, Defaults, JobQueue
from telegram.warnings import PTBUserWarning

import handlers
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.jobs.reminders import schedule_jobs
from bot.services import access, clients
from bot.telegram.command_menu import publish_commands_for, publish_default_commands
from bot.telegram.context import NextStepApplication, NextStepContext, Services
from bot.telegram.error_handler import error_handler
from bot.telegram.inbox import DurableUpdateQueue, Inbox, UpdatesRequest
from bot.telegram.persistence import SqlitePersistence, add_persist_handler
from bot.telegram.retry import RetryingRequest
from bot.telegram.updates import PerChatUpdateProcessor
from bot.telegram.webhook import webhook_routes
from bot.web.calendar_feed import calendar_routes
from bot.web.server import WebServer
from bot.workers.pool import shutdown as stop_workers
from storage.db import Database

logger = logging.getLogger(__name__)
INBOX = "inbox"
WEB = "web"

# Flows mix typed text with buttons, so conversations are tracked per chat and user, not per
# message; PTB warns about exactly that choice.
warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)


def build_application(settings: Settings, *, clock: Clock | None = None) -> NextStepApplication:
    """The bot as it runs in production; tests and the sandbox build it the same way."""
    if settings.bot_token is None:
        raise ValueError("BOT_TOKEN is required to build the application")
    db = Database(settings.database_path)
    services = Services(settings=settings, db=db, clock=clock or SystemClock())
    # Every update is kept in the database until handled, and replayed after a crash.
    inbox = Inbox(db, services.clock)
    queue = DurableUpdateQueue()
    processor = PerChatUpdateProcessor()
    queue.inbox = processor.inbox = inbox
    persistence = processor.persistence = SqlitePersistence(db)
    application = (
        Application.builder()
        .token(settings.bot_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.file_base_url)
        # Retries calls lost to the network or a 5xx, a few times with back-off
        # (bot/telegram/retry.py).
        .request(RetryingRequest())
        # getUpdates on aiohttp too (one connection), each batch stored in the inbox before
        # it is handled (bot/telegram/inbox.py); the updater retries it itself.
        .get_updates_request(UpdatesRequest(inbox, connection_pool_size=1))
        # Different people's updates concurrently, each person's in order
        # (bot/telegram/updates.py).
        .concurrent_updates(processor)
        .update_queue(queue)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                tzinfo=ZoneInfo(settings.default_timezone),
            )
        )
        .rate_limiter(rate_limiter(settings.telegram_messages_per_second))
        .persistence(persistence)
        .context_types(ContextTypes(context=NextStepContext))
        .job_queue(JobQueue[NextStepContext]())  # PTB's default one, typed for our context
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data["services"] = services
    application.bot_data[INBOX] = inbox
    handlers.register(application)
    add_persist_handler(application)  # last: each update's state is written once it is handled
    application.add_error_handler(error_handler)
    return application


def rate_limiter(messages_per_second: float) -> AIORateLimiter:
    """Paces every send below Telegram's flood limits and retries a 429 after the time it names.

    PTB's default lets 30 messages through at once after each quiet second, so a burst of
    reminders meets Telegram's 429s; one message every 1/rate s never bursts. 0 = no pacing.
    """
    if messages_per_second == 0:
        return AIORateLimiter(overall_max_rate=0, max_retries=3)
    return AIORateLimiter(
        overall_max_rate=1, overall_time_period=1 / messages_per_second, max_retries=3
    )


def services_of(application: NextStepApplication) -> Services:
    """The services stored by `build_application`."""
    services: Services = application.bot_data["services"]
    return services


def serve_web(
    application: NextStepApplication, *, webhook: bool = False, port: int | None = None
) -> WebServer | None:
    """Have the application run its HTTP server (started by post_init, stopped by
    post_shutdown): the calendar feeds (unless CALENDAR_PORT is 0) and, with `webhook`,
    Telegram's webhook on WEBHOOK_LISTEN:WEBHOOK_PORT; else CALENDAR_LISTEN:CALENDAR_PORT
    (`port` overrides it: 0 for any free one). None when there is nothing to serve."""
    services = services_of(application)
    settings = services.settings
    feeds = settings.calendar_port != 0
    routes = calendar_routes(services) if feeds else []
    if webhook:
        routes += webhook_routes(application, settings)
        host, chosen, variable = settings.webhook_listen, settings.webhook_port, "WEBHOOK_PORT"
    else:
        host, chosen, variable = settings.calendar_listen, settings.calendar_port, "CALENDAR_PORT"
    if not routes:
        return None
    public = settings.public_url
    if public is None and webhook and settings.webhook_url:  # the webhook's public origin
        parsed = urlparse(settings.webhook_url)
        public = f"{parsed.scheme}://{parsed.netloc}"
    server = WebServer(
        routes,
        host=host,
        port=chosen if port is None else port,
        public_url=public,
        port_variable=variable,
    )
    application.bot_data[WEB] = (server, feeds)
    return server


async def post_init(application: NextStepApplication) -> None:
    """Open the database (migrating it), handle what a crash left in the inbox, start the
    HTTP server (if asked for), the jobs, and publish the command menus."""
    services = services_of(application)
    await services.db.open()
    if (web := application.bot_data.get(WEB)) is not None:
        server, feeds = web
        await server.start()
        services.feed_url = server.public_url if feeds else None
    await clients.refresh_search_keys(services.db)
    await application.bot_data[INBOX].recover(application)
    await schedule_jobs(application)
    await publish_default_commands(application.bot)
    for lead in await access.leads(services.db):
        await publish_commands_for(application.bot, lead)
    logger.info("NextStep is running as @%s", application.bot.username)


async def post_shutdown(application: NextStepApplication) -> None:
    """Stop the HTTP server, close the database."""
    if (web := application.bot_data.get(WEB)) is not None:
        await web[0].stop()
    await services_of(application).db.close()
    stop_workers()  # the worker processes (digest chart and spreadsheet, big files), if started


@asynccontextmanager
async def polling(
    application: NextStepApplication,
    *,
    poll_timeout: float = 10.0,
) -> AsyncIterator[NextStepApplication]:
    """Run the bot with long polling inside the caller's event loop (tests, the sandbox).

    The same steps as `Application.run_polling`, which owns the loop and the signals instead.
    """
    await application.initialize()
    if application.post_init:
        await application.post_init(application)
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0,
        timeout=dt.timedelta(seconds=poll_timeout),
        allowed_updates=Update.ALL_TYPES,
    )
    await application.start()
    try:
        yield application
    finally:
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
