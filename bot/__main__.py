"""Command line: `python -m bot [run|sandbox|demo-data|migrate|backup PATH|restore PATH|check]`."""

from __future__ import annotations

import argparse
import asyncio
import errno
import gc
import logging
import os
import sys
from pathlib import Path

from telegram import Update

from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging

MISSING_TOKEN_HELP = """\
NextStep needs a Telegram bot token to run, and BOT_TOKEN is not set.
Get one from @BotFather in Telegram: send it /newbot, choose a name and a username, and it
replies with a token like 123456789:AAH...; then put BOT_TOKEN=<that token> into a file named
.env in this folder (copy .env.example to start), or export it in your shell, and run
`make run` again."""  # noqa: S105 - help text, not a secret

logger = logging.getLogger("bot")
GIL_SWITCH_INTERVAL = 0.001  # seconds; see run_bot


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one subcommand; returns the exit code."""
    # PTB 22 reports RetryAfter.retry_after as a timedelta with this (the future default).
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    parser = argparse.ArgumentParser(prog="python -m bot", description="NextStep bot")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="start the bot (default)")
    run.add_argument(
        "--sandbox-without-token",
        action="store_true",
        help="without BOT_TOKEN, start the local sandbox instead of stopping (make run)",
    )
    sandbox = sub.add_parser(
        "sandbox", help="the bot, a local Bot API server and a chat page; no Telegram, no token"
    )
    sandbox.add_argument("--port", type=int, help="port of the chat page (SANDBOX_PORT, 8080)")
    sandbox.add_argument(
        "--no-demo", action="store_true", help="don't add the demo data on first start"
    )
    sub.add_parser("demo-data", help="add the demo team and four weeks of history")
    sub.add_parser("migrate", help="apply database migrations and exit")
    backup = sub.add_parser("backup", help="write a consistent copy of the database")
    backup.add_argument("path", type=Path)
    restore = sub.add_parser("restore", help="replace the database with a backup (bot stopped)")
    restore.add_argument("path", type=Path)
    sub.add_parser("check", help="validate the configuration and all templates")
    args = parser.parse_args(argv)
    command = args.command or "run"

    if command == "check":
        from bot.devtools.check import run_checks

        problems = run_checks()
        for problem in problems:
            print(f"✗ {problem}")
        if not problems:
            print("✓ configuration and templates are valid")
        return 1 if problems else 0
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.secrets())
    if command == "sandbox":
        return run_sandbox(settings, port=args.port, demo=not args.no_demo)
    if command == "demo-data":
        return asyncio.run(add_demo_data(settings))
    if command == "migrate":
        asyncio.run(migrate(settings))
        print(f"Database {settings.database_path} is up to date.")
        return 0
    if command == "backup":
        from storage.backup import backup_database

        pages = backup_database(settings.database_path, args.path)
        print(f"Backed up {settings.database_path} to {args.path} ({pages} pages).")
        return 0
    if command == "restore":
        from storage.backup import restore_database

        restore_database(args.path, settings.database_path)
        print(f"Restored {settings.database_path} from {args.path}.")
        return 0
    if getattr(args, "sandbox_without_token", False) and not _has_token(settings):
        return run_sandbox(settings)
    try:
        return run_bot(settings)
    except ConfigError as exc:  # a port that is taken (bot/web/server.py)
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2


def _has_token(settings: Settings) -> bool:
    return settings.bot_token is not None and bool(settings.bot_token.get_secret_value())


def run_sandbox(settings: Settings, *, port: int | None = None, demo: bool = True) -> int:
    """Start the local sandbox (see bot/devtools/sandbox/run.py) until Ctrl+C."""
    from bot.devtools.sandbox.run import serve

    try:
        asyncio.run(serve(settings, port=port, demo=demo))
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        chosen = port or settings.sandbox_port
        print(
            f"Can't start the sandbox on 127.0.0.1:{chosen} ({exc.strerror or exc}); "
            "set SANDBOX_PORT to a free port.",
            file=sys.stderr,
        )
        return 2
    return 0


async def add_demo_data(settings: Settings) -> int:
    """Add the demo data to the configured database (once)."""
    from bot.clock import SystemClock
    from bot.devtools.demo import demo_present, seed_demo
    from storage.db import Database

    db = Database(settings.database_path)
    await db.open()
    try:
        if await demo_present(db):
            print(f"{settings.database_path} already has the demo data; nothing added.")
            return 0
        summary = await seed_demo(db, SystemClock())
    finally:
        await db.close()
    print(
        f"Added demo data to {settings.database_path}: {summary.people} people, "
        f"{summary.clients} clients, {summary.contacts} contacts, {summary.open_steps} open "
        f"steps, {summary.missing_steps} contacts missing a next step, {summary.invoices} "
        "invoices."
    )
    return 0


async def migrate(settings: Settings) -> None:
    """Create the database if needed and apply pending migrations."""
    from storage.db import Database

    db = Database(settings.database_path)
    await db.open()
    await db.close()


def run_bot(settings: Settings) -> int:
    """Start the bot: webhook mode when WEBHOOK_URL is set, long polling otherwise."""
    if settings.bot_token is None or not settings.bot_token.get_secret_value():
        print(MISSING_TOKEN_HELP, file=sys.stderr)
        return 2
    from bot.app import build_application, serve_web

    asyncio.run(migrate(settings))
    application = build_application(settings)
    # Database calls run on aiosqlite's threads; with Python's default 5 ms switch interval
    # each waited up to 5 ms for the busy event loop to hand over the GIL. 1 ms: p99 under
    # load 305 -> 184 ms, ceiling 285 -> 335 updates/s (bench/bench_load.py).
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    # Everything loaded so far lives as long as the process: keep it out of the collector's
    # full passes, which otherwise walk it all every few seconds under load.
    gc.freeze()
    if settings.webhook_url:
        # Our own aiohttp server: the webhook and the calendar feeds on one port
        # (bot/telegram/webhook.py).
        from bot.telegram.webhook import run_webhook

        serve_web(application, webhook=True)
        asyncio.run(run_webhook(application, settings))
    else:
        serve_web(application)  # the calendar feeds on CALENDAR_LISTEN:CALENDAR_PORT
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
