"""Command line: `python -m bot [run|migrate|backup PATH|restore PATH|check]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

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


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one subcommand; returns the exit code."""
    # PTB 22 reports RetryAfter.retry_after as a timedelta with this (the future default).
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    parser = argparse.ArgumentParser(prog="python -m bot", description="NextStep bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="start the bot (default)")
    sub.add_parser("migrate", help="apply database migrations and exit")
    backup = sub.add_parser("backup", help="write a consistent copy of the database")
    backup.add_argument("path", type=Path)
    restore = sub.add_parser("restore", help="replace the database with a backup (bot stopped)")
    restore.add_argument("path", type=Path)
    sub.add_parser("check", help="validate the configuration and all templates")
    args = parser.parse_args(argv)
    command = args.command or "run"

    if command == "check":
        from bot.check import run_checks

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
    return run_bot(settings)


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
    from bot.app import build_application

    asyncio.run(migrate(settings))
    application = build_application(settings)
    if settings.webhook_url:
        assert settings.webhook_secret is not None
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlparse(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
