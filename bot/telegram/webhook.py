"""Webhook mode on the bot's own aiohttp server (bot/web/server.py), beside the calendar feeds.

python-telegram-bot's `run_webhook` runs a tornado server of its own, which can't serve
other paths; this route does what its handler does: only JSON POSTs carrying the secret
token Telegram was given (403 otherwise, compared in constant time), an update that can't
be read is a 400, and each update goes to the application's update queue (which stores it
in the inbox first, bot/telegram/inbox.py). `running_webhook` is `run_webhook`'s lifecycle
inside the caller's event loop, like `bot.app.polling`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update
from telegram.ext import ExtBot

from bot.config import Settings
from bot.telegram.context import NextStepApplication

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


def webhook_path(settings: Settings) -> str:
    """The path Telegram posts to: WEBHOOK_URL's (`/` when it has none)."""
    assert settings.webhook_url is not None
    return "/" + urlparse(settings.webhook_url).path.strip("/")


def webhook_routes(application: NextStepApplication, settings: Settings) -> list[web.RouteDef]:
    """The webhook's route (with and without a trailing slash, as PTB's)."""
    assert settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value().encode("utf-8")

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if request.content_type != "application/json" or not hmac.compare_digest(given, secret):
            logger.debug("Webhook request refused: wrong content type or secret token")
            return web.Response(status=403)
        try:
            data = json.loads(await request.text())
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError) as exc:
            logger.error("Webhook: an update that could not be read was refused: %s", exc)
            return web.Response(status=400)
        if isinstance(application.bot, ExtBot):
            application.bot.insert_callback_data(update)
        await application.update_queue.put(update)
        return web.json_response({})

    path = webhook_path(settings)
    routes = [web.post(path, receive)]
    if path != "/":
        routes.append(web.post(path + "/", receive))
    return routes


@asynccontextmanager
async def running_webhook(
    application: NextStepApplication, settings: Settings
) -> AsyncIterator[NextStepApplication]:
    """Start the application (post_init starts the HTTP server with the webhook route), tell
    Telegram the webhook, and stop everything on exit."""
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        await application.bot.set_webhook(
            url=settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,
        )
        await application.start()
        yield application
    finally:
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


async def run_webhook(application: NextStepApplication, settings: Settings) -> None:
    """Webhook mode until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with running_webhook(application, settings):
        await stop.wait()
