"""End-to-end: people use the real bot through the fake Bot API, as they would on a phone."""

from __future__ import annotations

from telegram.ext import Application

from bot.app import build_application, polling, services_of
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.services import team_settings
from tests.conftest import ADMIN_ID
from tests.e2e_helpers import invite, join, start_admin


async def test_admin_bootstrap(app: Application, server: FakeBotApiServer) -> None:
    """A configured admin id becomes an admin on the first /start, with admin commands."""
    admin = server.user(ADMIN_ID, "Alice", username="alice")
    await admin.send("/start")
    welcome = await admin.reply()
    assert "You are an admin" in welcome.text
    assert "/invite" in welcome.text and "/team" in welcome.text
    scopes = [call.params.get("scope") for call in server.calls if call.method == "setMyCommands"]
    assert any(scope and "all_private_chats" in str(scope) for scope in scopes)


async def test_invite_join_and_reuse(app: Application, server: FakeBotApiServer) -> None:
    """An invited person joins with the chosen role; the same link refuses a second person."""
    admin = await start_admin(server)
    token = await invite(admin, "Manager")

    bob = server.user(2002, "Bob", last_name="Stone", username="bob")
    await bob.send(f"/start {token}")
    welcome = await bob.reply()
    assert "Welcome to NextStep, Bob Stone!" in welcome.text
    assert "Your role: manager" in welcome.text
    assert "/invite" not in welcome.text

    carol = server.user(2003, "Carol")
    await carol.send(f"/start {token}")
    refused = await carol.reply()
    assert "already been used" in refused.text
    await carol.send("/help")
    assert "invite-only" in (await carol.reply()).text

    await admin.send("/team")
    team = await admin.expect("Team")
    assert "Bob Stone" in team.text and "manager · active" in team.text
    assert "Carol" not in team.text


async def test_forged_token_is_refused(app: Application, server: FakeBotApiServer) -> None:
    """A made-up token gets a polite refusal and registers nobody."""
    mallory = server.user(6666, "Mallory")
    await mallory.send("/start " + "x" * 32)
    assert "isn't valid" in (await mallory.reply()).text
    await mallory.send("/settings")
    assert "invite-only" in (await mallory.reply()).text


async def test_stranger_request_approved(app: Application, server: FakeBotApiServer) -> None:
    """A stranger is told the bot is invite-only; a lead approves; the stranger is let in."""
    admin = await start_admin(server)

    dan = server.user(3003, "Dan", username="dan_<b>")
    await dan.send("/start")
    assert "invite-only" in (await dan.reply()).text
    request = await admin.expect("Access request")
    assert "Dan (@dan_&lt;b&gt;)" in request.html
    assert request.labels == ["Approve as manager", "Approve as head", "Decline"]

    await dan.send("/start")  # asking again does not notify the admin twice
    assert "still waiting" in (await dan.reply()).text

    await admin.press("Approve as manager")
    decided = await admin.expect("approved as manager")
    assert decided.labels == []
    assert "approved as manager" in (await dan.expect("Welcome")).text
    await dan.send("/help")
    assert "Your role: manager" in (await dan.reply()).text


async def test_stranger_gets_nothing(app: Application, server: FakeBotApiServer) -> None:
    """Any message, button or inline query from a stranger gets the same refusal, no data."""
    eve = server.user(4004, "Eve")
    await eve.send("hello")
    assert "invite-only" in (await eve.reply()).text
    await eve.send("/team")
    assert "invite-only" in (await eve.reply()).text
    sent = await eve.send("anything")
    answer = await eve.press_data("team:role:1001:manager", message_id=sent["message_id"])
    assert answer is not None and "invite-only" in answer
    assert await eve.inline("acme") == []


async def test_deactivated_user_is_refused(app: Application, server: FakeBotApiServer) -> None:
    """After an admin deactivates someone, everything they send gets the same refusal."""
    admin = await start_admin(server)
    token = await invite(admin, "Manager")
    bob = server.user(2002, "Bob")
    await bob.send(f"/start {token}")
    await bob.reply()

    await admin.send("/team")
    await admin.expect("Team")
    await admin.press("Bob")
    card = await admin.expect("Status: active")
    assert "Deactivate" in card.labels
    await admin.press("Deactivate")
    await admin.expect("Status: deactivated")

    await bob.send("/help")
    assert "switched off" in (await bob.reply()).text
    await bob.send("/start")
    assert "switched off" in (await bob.reply()).text
    await bob.send(f"/start {token}")
    assert "already been used" in (await bob.reply()).text


async def test_manager_cannot_use_lead_commands(
    app: Application, server: FakeBotApiServer
) -> None:
    """Managers get a clear answer, and a forged admin button is refused by the service."""
    admin = await start_admin(server)
    token = await invite(admin, "Manager")
    bob = server.user(2002, "Bob")
    await bob.send(f"/start {token}")
    await bob.reply()
    await bob.send("/invite")
    assert "Only admins and heads" in (await bob.reply()).text
    await bob.send("/team")
    assert "Only admins and heads" in (await bob.reply()).text
    sent = await bob.send("x")
    await bob.reply()
    answer = await bob.press_data(f"team:role:{ADMIN_ID}:manager", message_id=sent["message_id"])
    assert answer == "Only an admin can do that."


async def test_settings_timezone(app: Application, server: FakeBotApiServer) -> None:
    """A zone is chosen by button or typed; a wrong name gets a specific answer."""
    admin = await start_admin(server)
    await admin.send("/settings")
    card = await admin.expect("Your settings")
    assert "Time zone: Europe/London" in card.text
    await admin.press("🕘 Time zone")
    await admin.expect("Choose your time zone")
    await admin.send("Atlantis")
    assert "I don't know the time zone “Atlantis”" in (await admin.reply()).text
    await admin.send("new york")
    assert "Time zone set to America/New_York" in (await admin.reply()).text
    await admin.send("/settings")
    await admin.expect("Time zone: America/New_York")
    await admin.press("🕘 Time zone")
    await admin.expect("Choose your time zone")
    await admin.press("Asia/Dubai")
    assert "Time zone set to Asia/Dubai" in (await admin.reply()).text


async def test_restart_mid_conversation_resumes(
    e2e_settings, clock, server: FakeBotApiServer
) -> None:
    """A person half-way through /settings finishes it after the bot restarts."""
    admin = server.user(ADMIN_ID, "Alice")
    first = build_application(e2e_settings, clock=clock)
    async with polling(first, poll_timeout=1):
        await admin.send("/start")
        await admin.reply()
        await admin.send("/settings")
        await admin.expect("Your settings")
        await admin.press("🕘 Time zone")
        await admin.expect("Choose your time zone")
    second = build_application(e2e_settings, clock=clock)
    async with polling(second, poll_timeout=1):
        await admin.send("Tokyo")
        assert "Time zone set to Asia/Tokyo" in (await admin.reply()).text


async def test_group_chat_only_points_to_private(
    app: Application, server: FakeBotApiServer
) -> None:
    """In a group the bot answers /start and /help with a pointer, and ignores the rest."""
    admin = server.user(ADMIN_ID, "Alice")
    group = server.group(-500, "Sales floor")
    await group.send(admin, "hello bot")
    await group.send(admin, "/help")
    pointer = await group.reply()
    assert "private chats only" in pointer.text
    await group.no_reply()


async def test_other_command_keeps_the_question_open(
    app: Application, server: FakeBotApiServer
) -> None:
    """Mid-flow, a command that asks nothing is handled at once; the question stays open."""
    admin = await start_admin(server)
    await admin.send("/settings")
    await admin.expect("Your settings")
    await admin.press("🕘 Time zone")
    await admin.expect("Choose your time zone")
    await admin.send("/help")
    assert "Your commands" in (await admin.reply()).text
    await admin.send("Tokyo")
    assert "Time zone set to Asia/Tokyo" in (await admin.reply()).text
    await admin.send("Tokyo")
    assert "didn't understand" in (await admin.reply()).text


async def test_blocked_lead_is_marked_unreachable(
    app: Application, server: FakeBotApiServer
) -> None:
    """A lead who blocked the bot is skipped, shown as unreachable, and others still hear."""
    admin = await start_admin(server)
    token = await invite(admin, "Head of sales")
    head = server.user(2500, "Hana")
    await head.send(f"/start {token}")
    await head.reply()
    await head.block()

    stranger = server.user(7007, "Sam")
    await stranger.send("/start")
    await stranger.reply()
    await admin.expect("Access request")
    await admin.send("/team")
    team = await admin.expect("Team")
    assert "Hana" in team.text and "unreachable" in team.text


async def test_errors_are_apologised_for(app: Application, server: FakeBotApiServer) -> None:
    """When a handler fails, the person hears that nothing was lost instead of silence."""
    admin = await start_admin(server)
    server.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
    await admin.send("/help")
    assert "Nothing you saved was lost" in (await admin.reply()).text


async def test_settings_reminder_preferences(app: Application, server: FakeBotApiServer) -> None:
    """Agenda time, quiet hours and heads-up are set with buttons or typed text."""
    admin = await start_admin(server)
    await admin.send("/settings")
    card = await admin.expect("Your settings")
    assert "Morning agenda: 09:00 on Mon, Tue, Wed, Thu, Fri" in card.text
    assert "Quiet hours: 21:00–08:00" in card.text
    await admin.press("☀️ Agenda time")
    await admin.expect("morning agenda arrive")
    await admin.press("08:30")
    assert "Morning agenda: 08:30" in (await admin.expect("agenda time saved")).text
    await admin.press("🌙 Quiet hours")
    await admin.expect("Quiet hours hold")
    await admin.send("22:30-07:00")
    assert "Quiet hours: 22:30–07:00" in (await admin.expect("Quiet hours saved")).text
    await admin.press("🌙 Quiet hours")
    await admin.expect("Quiet hours hold")
    await admin.press("Off")
    assert "Quiet hours: off" in (await admin.expect("Quiet hours saved")).text
    await admin.press("🔔 Meeting heads-up")
    await admin.expect("How long before")
    await admin.press("15 min")
    assert "Meeting heads-up: 15 min before" in (await admin.expect("heads-up saved")).text


async def test_team_overdue_alert_threshold_for_leads_only(
    app: Application, server: FakeBotApiServer
) -> None:
    """A lead picks the per-team overdue alert; a forged press by a manager is refused."""
    admin = await start_admin(server)
    await admin.send("/settings")
    await admin.expect("Your settings")
    await admin.press("🏢 Team: overdue alert")
    assert "Now: off" in (await admin.expect("Team: overdue alert")).text
    assert await admin.press("10,000") == "Saved"
    assert "Now: 10,000" in (await admin.expect("Now: 10,000")).text
    manager = await join(server, admin, 2002, "Max")
    await manager.send("/settings")
    card = await manager.expect("Your settings")
    assert "🏢 Team: overdue alert" not in card.labels
    assert await manager.press_data("set:th:0", message_id=card.message_id)  # an alert
    stored = await team_settings.load(services_of(app).db)
    assert stored.get("overdue_alert_threshold") == "10000"
