"""Builders for test data that go through the real repositories."""

from __future__ import annotations

from bot.clock import Clock
from storage import users
from storage.db import Database
from storage.users import Role, User


async def make_user(
    db: Database,
    clock: Clock,
    telegram_id: int,
    role: Role = Role.MANAGER,
    *,
    name: str | None = None,
    timezone: str = "UTC",
) -> User:
    """Register a person directly (as an invitation would)."""
    async with db.transaction() as tx:
        return await users.insert_user(
            tx,
            telegram_id=telegram_id,
            name=name or f"User {telegram_id}",
            username=None,
            role=role,
            timezone=timezone,
            locale="en",
            now=clock.now(),
        )
