"""End-to-end: stale access requests, deactivated people, invitations and the last admin."""

from __future__ import annotations

import asyncio

from telegram.ext import Application

from bot.app import services_of
from bot.devtools.sandbox.client import ChatUser
from bot.devtools.sandbox.server import FakeBotApiServer
from storage import users
from storage.users import Role
from tests.conftest import ADMIN_ID
from tests.e2e_helpers import invite, join, start_admin


async def _role_of(app: Application, telegram_id: int) -> tuple[Role, bool] | None:
    person = await users.get_user(services_of(app).db, telegram_id)
    return None if person is None else (person.role, person.active)


async def _switch(admin: ChatUser, name: str, action: str) -> None:
    """An admin opens /team, taps the person and presses Deactivate, Reactivate or Make …."""
    await admin.send("/team")
    await admin.expect("Team")
    await admin.press(name)
    await admin.expect("Role:")
    assert await admin.press(action) is None
    await admin.expect("Status:")


async def test_stale_request_never_changes_a_member(
    app: Application, server: FakeBotApiServer
) -> None:
    """A stranger asks, then joins as admin by invitation; the head's old Approve changes
    nothing and says the request was already decided."""
    admin = await start_admin(server)
    head = await join(server, admin, 2500, "Hana", "Head of sales")

    dan = server.user(3003, "Dan")
    await dan.send("/start")
    await dan.expect("invite-only")
    await admin.expect("Access request")
    await head.expect("Access request")

    token = await invite(admin, "Admin")
    await dan.send(f"/start {token}")
    await dan.expect("Welcome to NextStep, Dan")
    assert await _role_of(app, 3003) == (Role.ADMIN, True)

    answer = await head.press("Approve as manager")
    assert answer is not None and "already decided" in answer.lower()
    assert await _role_of(app, 3003) == (Role.ADMIN, True)
    answer = await admin.press("Decline")
    assert answer is not None and "already decided" in answer.lower()
    assert await _role_of(app, 3003) == (Role.ADMIN, True)
    await dan.send("/help")
    assert "Your role: admin" in (await dan.reply()).text


async def test_two_leads_decide_at_once(app: Application, server: FakeBotApiServer) -> None:
    """Two leads press at the same moment: one decision stands, the other hears it was
    already decided."""
    admin = await start_admin(server)
    head = await join(server, admin, 2500, "Hana", "Head of sales")
    dan = server.user(3003, "Dan")
    await dan.send("/start")
    await admin.expect("Access request")
    await head.expect("Access request")

    answers = await asyncio.gather(
        admin.press("Approve as head"), head.press("Approve as manager")
    )
    refused = [a for a in answers if a is not None]
    assert len(refused) == 1 and "already decided" in refused[0].lower(), answers
    state = await _role_of(app, 3003)
    assert state is not None and state[1]
    await dan.expect("approved as")
    await dan.no_reply()


async def test_deactivated_person_start_asks_nobody(
    app: Application, server: FakeBotApiServer
) -> None:
    """A deactivated person's /start gets one polite refusal and no lead is asked."""
    admin = await start_admin(server)
    head = await join(server, admin, 2500, "Hana", "Head of sales")
    bob = await join(server, admin, 2002, "Bob")
    await _switch(admin, "Bob", "Deactivate")

    await bob.send("/start")
    refusal = await bob.reply()
    assert "switched off" in refusal.text and "admin" in refusal.text
    await bob.send("/help")
    assert "switched off" in (await bob.reply()).text
    await head.no_reply()
    await admin.no_reply()
    assert await _role_of(app, 2002) == (Role.MANAGER, False)
    db = services_of(app).db
    assert await db.fetch_value("SELECT COUNT(*) FROM access_requests") == 0


async def test_deactivated_person_returns_only_by_a_valid_invitation(
    app: Application, server: FakeBotApiServer
) -> None:
    """A deactivated head comes back through a head's invitation with its role (manager)."""
    admin = await start_admin(server)
    hana = await join(server, admin, 2500, "Hana", "Head of sales")
    hugo = await join(server, admin, 2600, "Hugo", "Head of sales")
    await _switch(admin, "Hugo", "Deactivate")

    await hugo.send("/start " + "A" * 32)
    assert "isn't valid" in (await hugo.reply()).text
    token = await invite(hana, "Manager")
    await hugo.send(f"/start {token}")
    welcome = await hugo.expect("Welcome back to NextStep, Hugo!")
    assert "Your role: manager" in welcome.text
    assert await _role_of(app, 2600) == (Role.MANAGER, True)


async def test_listed_admin_deactivated_is_not_reactivated(
    app: Application, server: FakeBotApiServer
) -> None:
    """An id in ADMIN_TELEGRAM_IDS that an admin deactivated stays out on /start."""
    alice = await start_admin(server)
    zoe = await join(server, alice, 2700, "Zoe", "Admin")
    await _switch(zoe, "Alice", "Deactivate")
    await alice.send("/start")
    assert "switched off" in (await alice.reply()).text
    assert await _role_of(app, ADMIN_ID) == (Role.ADMIN, False)
    await zoe.no_reply()


async def test_invitation_dies_with_its_inviter(
    app: Application, server: FakeBotApiServer
) -> None:
    """A head's unused link stops working once the head is deactivated or demoted."""
    admin = await start_admin(server)
    hana = await join(server, admin, 2500, "Hana", "Head of sales")
    first = await invite(hana, "Head of sales")
    second = await invite(hana, "Manager")
    await _switch(admin, "Hana", "Make manager")
    newcomer = server.user(5005, "Nina")
    await newcomer.send(f"/start {first}")
    assert "no longer valid" in (await newcomer.reply()).text
    assert await _role_of(app, 5005) is None

    await _switch(admin, "Hana", "Make head of sales")
    await _switch(admin, "Hana", "Deactivate")
    await newcomer.send(f"/start {second}")
    assert "no longer valid" in (await newcomer.reply()).text
    assert await _role_of(app, 5005) is None


async def test_open_invitations_are_listed_and_revoked(
    app: Application, server: FakeBotApiServer
) -> None:
    """/invite → Open invitations lists the unused links; Revoke kills one."""
    admin = await start_admin(server)
    token = await invite(admin, "Manager")
    await admin.send("/invite")
    await admin.expect("Choose their role")
    await admin.press("Open invitations")
    listing = await admin.expect("Open invitations")
    assert "manager" in listing.text
    revoke = next(label for label in listing.labels if label.startswith("Revoke"))
    assert await admin.press(revoke) is None
    await admin.expect("revoked")
    newcomer = server.user(5005, "Nina")
    await newcomer.send(f"/start {token}")
    assert "no longer valid" in (await newcomer.reply()).text
    assert await _role_of(app, 5005) is None
