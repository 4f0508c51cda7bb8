"""The callback context every handler and job receives, with typed access to the services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.clock import Clock
from bot.config import Settings
from bot.services.model import User
from storage.db import Database


@dataclass(slots=True)
class Services:
    """What the handlers and jobs need, created once by the composition root."""

    settings: Settings
    db: Database
    clock: Clock
    # Where calendar feed links start (PUBLIC_URL, or the feed server's own address once it
    # listens); None while no server serves the feeds.
    feed_url: str | None = None


# user_data, chat_data and bot_data: PTB's plain dicts.
Data = dict[Any, Any]


# The bot is an ExtBot whose rate limiter (AIORateLimiter) takes an int: its retries.
class NextStepContext(CallbackContext[ExtBot[int], Data, Data, Data]):
    """CallbackContext plus the services and the acting user (set by the access gate)."""

    actor: User | None = None

    @property
    def services(self) -> Services:
        """The application's services."""
        services: Services = self.application.bot_data["services"]
        return services

    @property
    def db(self) -> Database:
        """The database."""
        return self.services.db

    @property
    def clock(self) -> Clock:
        """The injectable clock."""
        return self.services.clock

    @property
    def settings(self) -> Settings:
        """The configuration."""
        return self.services.settings

    @property
    def member(self) -> User:
        """The active user behind this update; only handlers behind the gate call this."""
        if self.actor is None:
            raise RuntimeError("no active user on this update; is the access gate registered?")
        return self.actor


NextStepApplication = Application[
    ExtBot[int], NextStepContext, Data, Data, Data, JobQueue[NextStepContext]
]
