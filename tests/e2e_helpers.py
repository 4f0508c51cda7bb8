"""Steps end-to-end tests share: the first admin, invitations, and joining the team."""

from __future__ import annotations

import asyncio
import re

from bot.devtools.sandbox.client import ChatUser
from bot.devtools.sandbox.server import FakeBotApiServer
from storage.db import Queries
from tests.conftest import ADMIN_ID

INVITE_LINK = re.compile(r"start=([A-Za-z0-9_-]+)")


async def start_admin(server: FakeBotApiServer, name: str = "Alice") -> ChatUser:
    """The configured admin (`ADMIN_ID`) sends /start and becomes an admin."""
    admin = server.user(ADMIN_ID, name)
    await admin.send("/start")
    await admin.expect("You are an admin")
    return admin


async def invite(admin: ChatUser, role_label: str) -> str:
    """The admin creates an invitation for a role and reads the token off the link."""
    await admin.send("/invite")
    await admin.expect("Choose their role")
    await admin.press(role_label)
    message = await admin.expect("It works once")
    match = INVITE_LINK.search(message.text)
    assert match is not None, message.text
    return match.group(1)


async def join(
    server: FakeBotApiServer,
    admin: ChatUser,
    user_id: int,
    name: str,
    role_label: str = "Manager",
) -> ChatUser:
    """Someone joins the team through an invitation the admin made for `role_label`.

    `role_label` is the button on /invite: "Manager" or "Head of sales".
    """
    token = await invite(admin, role_label)
    person = server.user(user_id, name)
    await person.send(f"/start {token}")
    await person.expect(f"Welcome to NextStep, {name}")
    return person


async def eventually(
    db: Queries, sql: str, expected: object, params: tuple[object, ...] = (), within: float = 5
) -> None:
    """Poll a query until it returns `expected`: the bot records a delivery just after sending."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        rows = [tuple(row) if len(row) > 1 else row[0] for row in await db.fetch_all(sql, params)]
        if rows == expected:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{sql!r} gave {rows!r}, expected {expected!r}")
        await asyncio.sleep(0.02)
