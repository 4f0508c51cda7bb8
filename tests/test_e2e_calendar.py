"""End-to-end: 📅 Add to calendar sends an .ics that icalendar reads to the right start (on
the confirmation, the reminder and the client card); /calendar's link serves the person's
steps and only theirs, with ETag and 304; 🔄 New link revokes the old at once; the event
lengths under /settings; the feed on the webhook server; the README documents it all."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from icalendar import Calendar
from pydantic import SecretStr
from telegram.ext import Application

from bot.app import build_application, polling, serve_web, services_of
from bot.clock import FrozenClock
from bot.config import Settings
from bot.devtools.sandbox.client import ChatUser
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.services import clients, contacts
from bot.telegram.webhook import running_webhook
from bot.views.actions import CALENDAR_CLIENT, CALENDAR_STEP
from bot.web.server import WebServer
from storage.users import Role, User
from tests.factories import make_user

MIA, OLEG, HANA = 6101, 6102, 6103
ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/calendar/[A-Za-z0-9_-]{32}\.ics)")
WEBHOOK_SECRET = "calendar-webhook-secret-0123456789-abcdef"


@pytest.fixture
async def feed_app(
    e2e_settings: Settings, clock: FrozenClock
) -> AsyncIterator[tuple[Application, WebServer]]:
    """The bot with its HTTP server (the calendar feeds) on a free port."""
    application = build_application(e2e_settings, clock=clock)
    web = serve_web(application, port=0)
    assert web is not None
    async with polling(application, poll_timeout=1):
        yield application, web


async def person(
    app: Application, clock: FrozenClock, telegram_id: int, name: str, role: Role = Role.MANAGER
) -> User:
    return await make_user(
        services_of(app).db, clock, telegram_id, role, name=name, timezone="Europe/London"
    )


async def client_with_step(
    app: Application,
    clock: FrozenClock,
    owner: User,
    name: str,
    *,
    due_in: dt.timedelta = dt.timedelta(days=2),
    kind: str = "call",
) -> int:
    """A client of `owner` with one open step; the step's id."""
    db = services_of(app).db
    client = await clients.create_client(
        db, clock, actor=owner, name=name, contact_person="Ivan Petrov", phone="+44 20 7946 0958"
    )
    contact = await contacts.log_contact(
        db, clock, actor=owner, client_id=client.id, kind="call", summary="Talked prices"
    )
    step = await contacts.schedule_next_step(
        db, clock, actor=owner, contact_id=contact.id, kind=kind, due_at=clock.now() + due_in
    )
    return step.id


def events_of(content: bytes) -> list:  # type: ignore[type-arg]
    return list(Calendar.from_ical(content).events)


async def received_file(user: ChatUser, caption: str) -> bytes:
    message = await user.expect(caption)
    assert message.document is not None, message
    assert message.document.filename.endswith(".ics")
    return message.document.content


async def press_for_file(user: ChatUser, data: str, message_id: int) -> bytes:
    """Press `data` on a message; the .ics file the bot sends for it."""
    before = len([m for m in user.messages if m.document is not None])
    await user.press_data(data, message_id=message_id)

    def sent() -> bytes | None:
        files = [m.document for m in user.messages if m.document is not None]
        return files[-1].content if len(files) > before and files[-1] else None

    content = sent() or await user.world.wait_until(sent, 5)
    assert content is not None, "no file was sent"
    return content


async def test_the_confirmation_sends_the_steps_file(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """/call … next: call Tuesday 15:00 → ✅ Confirm → 📅 Add to calendar: a file whose one
    event starts Tue 1 Dec 2026 15:00 London time, i.e. 15:00Z, and lasts 15 minutes."""
    mia_user = await person(app, clock, MIA, "Mia")
    await clients.create_client(services_of(app).db, clock, actor=mia_user, name="Tundra Outdoor")
    mia = server.user(MIA, "Mia")
    await mia.send("/call Tundra Outdoor discussed prices next: call Tuesday 15:00")
    await mia.press("✅ Confirm")
    logged = await mia.expect("Logged")
    assert "📅 Add to calendar" in logged.labels
    await mia.press("📅 Add to calendar", message_id=logged.message_id)
    (event,) = events_of(await received_file(mia, "Call: Tundra Outdoor"))
    assert event.decoded("DTSTART") == dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
    assert event.decoded("DURATION") == dt.timedelta(minutes=15)
    assert str(event["SUMMARY"]) == "Call: Tundra Outdoor"


async def test_the_reminder_file_updates_the_same_event_after_a_snooze(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """The due reminder's 📅 Add to calendar, then snooze 1 hour and the next reminder's:
    the same UID, SEQUENCE 0 then 1, the start an hour later."""
    mia_user = await person(app, clock, MIA, "Mia")
    await client_with_step(app, clock, mia_user, "Acme LLC", due_in=dt.timedelta(hours=1))
    mia = server.user(MIA, "Mia")
    clock.advance(dt.timedelta(hours=1))
    reminder = await mia.expect("Due now", timeout=10)
    await mia.press("📅 Add to calendar", message_id=reminder.message_id)
    (first,) = events_of(await received_file(mia, "Call: Acme LLC"))
    await mia.press("💤 Snooze", message_id=reminder.message_id)
    await mia.press("1 hour")
    await mia.expect("again")
    clock.advance(dt.timedelta(hours=1, minutes=1))
    later = await mia.expect("Due now", timeout=10)
    assert later.message_id != reminder.message_id
    button = later.button("📅 Add to calendar")
    assert button is not None
    (second,) = events_of(await press_for_file(mia, button["callback_data"], later.message_id))
    assert str(first["UID"]) == str(second["UID"])
    assert (int(first["SEQUENCE"]), int(second["SEQUENCE"])) == (0, 1)
    assert second.decoded("DTSTART") - first.decoded("DTSTART") >= dt.timedelta(hours=1)


async def test_the_client_card_sends_every_open_step(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A client with two open steps: the card's one button sends both events."""
    mia_user = await person(app, clock, MIA, "Mia")
    db = services_of(app).db
    await client_with_step(app, clock, mia_user, "Vortex")
    client_id = await db.fetch_value("SELECT id FROM clients WHERE name = 'Vortex'")
    contact = await contacts.log_contact(
        db, clock, actor=mia_user, client_id=client_id, kind="email", summary="Offer sent"
    )
    await contacts.schedule_next_step(
        db,
        clock,
        actor=mia_user,
        contact_id=contact.id,
        kind="meeting",
        due_at=clock.now() + dt.timedelta(days=8),
        others=contacts.StepChoice.KEEP,
    )
    mia = server.user(MIA, "Mia")
    await mia.send("/clients Vortex")
    await mia.press("Vortex")
    await mia.press("📅 Add to calendar")
    content = await received_file(mia, "Vortex: 2 open steps")
    assert sorted(str(e["SUMMARY"]) for e in events_of(content)) == [
        "Call: Vortex",
        "Meeting: Vortex",
    ]


async def test_a_forged_press_for_someone_elses_step_is_refused(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Oleg presses data naming Mia's step and client: refused, no file, audited."""
    mia_user = await person(app, clock, MIA, "Mia")
    await person(app, clock, OLEG, "Oleg")
    step_id = await client_with_step(app, clock, mia_user, "Mias client")
    db = services_of(app).db
    client_id = await db.fetch_value("SELECT client_id FROM steps WHERE id = ?", (step_id,))
    oleg = server.user(OLEG, "Oleg")
    await oleg.send("/agenda")
    shown = await oleg.reply()
    for data in (CALENDAR_STEP.pack(step_id), CALENDAR_CLIENT.pack(client_id)):
        answer = await oleg.press_data(data, message_id=shown.message_id)
        assert answer is not None and "another manager" in answer
    await oleg.no_reply(within=0.3)
    assert not [m for m in oleg.messages if m.document is not None]
    denied = await db.fetch_value(
        "SELECT count(*) FROM audit_log WHERE action = 'access.denied' AND actor_id = ?", (OLEG,)
    )
    assert denied == 2


async def fetch_feed(url: str, etag: str | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {"If-None-Match": etag} if etag else {}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, response.headers.copy(), await response.read()


async def test_calendar_link_serves_only_the_persons_steps(
    feed_app: tuple[Application, WebServer], server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """/calendar: a link (shown once) and how-to; GET it: text/calendar with Mia's steps and
    not Oleg's; its ETag gives 304; 🔄 New link: the old link is 404 at once, the new 200."""
    app, web = feed_app
    mia_user = await person(app, clock, MIA, "Mia")
    oleg_user = await person(app, clock, OLEG, "Oleg")
    await client_with_step(app, clock, mia_user, "Mias client")
    await client_with_step(app, clock, oleg_user, "Olegs client")
    mia = server.user(MIA, "Mia")
    await mia.send("/calendar")
    shown = await mia.expect("Your calendar link")
    assert "Google Calendar" in shown.text and "Apple Calendar" in shown.text
    assert shown.labels == ["🔄 New link"]
    found = LINK.search(shown.text)
    assert found is not None, shown.text
    url = found.group(1)
    assert url.startswith(web.public_url + "/calendar/")
    status, headers, body = await fetch_feed(url)
    assert status == 200
    assert headers["Content-Type"].startswith("text/calendar")
    assert [str(e["SUMMARY"]) for e in events_of(body)] == ["Call: Mias client"]
    assert b"Olegs" not in body
    status, _, empty = await fetch_feed(url, headers["ETag"])
    assert (status, empty) == (304, b"")
    # /calendar again does not show the link (only its hash is kept).
    await mia.send("/calendar")
    again = await mia.expect("shown only once")
    assert LINK.search(again.text) is None
    await mia.press("🔄 New link", message_id=again.message_id)
    renewed = await mia.expect("Your previous link has stopped working")
    new_url = LINK.search(renewed.text)
    assert new_url is not None and new_url.group(1) != url
    gone = await fetch_feed(url)
    unknown = await fetch_feed(web.public_url + "/calendar/" + "A" * 32 + ".ics")
    assert (gone[0], gone[2]) == (unknown[0], unknown[2]) == (404, b"Not found.\n")
    assert (await fetch_feed(new_url.group(1)))[0] == 200


async def test_a_head_adds_the_teams_steps_to_the_feed(
    feed_app: tuple[Application, WebServer], server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A head's /calendar has the team option; switched on, the feed lists Mia's step too."""
    app, _ = feed_app
    await person(app, clock, HANA, "Hana", Role.HEAD)
    mia_user = await person(app, clock, MIA, "Mia")
    await client_with_step(app, clock, mia_user, "Mias client")
    hana = server.user(HANA, "Hana")
    await hana.send("/calendar")
    shown = await hana.expect("Your calendar link")
    url = LINK.search(shown.text).group(1)  # type: ignore[union-attr]
    assert events_of((await fetch_feed(url))[2]) == []
    toast = await hana.press("👤 Only my steps — add the team's")
    assert toast == "Your feed now lists the team's steps too."
    await hana.press("🔄 New link")
    renewed = await hana.expect("Your previous link has stopped working")
    url = LINK.search(renewed.text).group(1)  # type: ignore[union-attr]
    summaries = [str(e["SUMMARY"]) for e in events_of((await fetch_feed(url))[2])]
    assert summaries == ["Call: Mias client (Mia)"]
    assert "👥 Team's steps: listed — list only mine" in renewed.labels


async def test_feed_switched_off_says_so(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Without the feed server (CALENDAR_PORT=0) /calendar says so and makes no link."""
    await person(app, clock, MIA, "Mia")
    mia = server.user(MIA, "Mia")
    await mia.send("/calendar")
    await mia.expect("switched off on this server")
    assert await services_of(app).db.fetch_value("SELECT count(*) FROM calendar_feeds") == 0


async def test_event_lengths_in_settings_tapped_or_typed(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """/settings → 📅 Calendar events: type `call 20`, tap 🤝 90 min; the files follow."""
    mia_user = await person(app, clock, MIA, "Mia")
    step_id = await client_with_step(app, clock, mia_user, "Acme LLC")
    meeting_id = await client_with_step(app, clock, mia_user, "Beta", kind="meeting")
    mia = server.user(MIA, "Mia")
    await mia.send("/settings")
    await mia.press("📅 Calendar events")
    await mia.expect("How long a step lasts in your calendar")
    await mia.send("lunch forever")
    await mia.expect("Please send the kind and the length")
    await mia.send("call 20")
    await mia.expect("📞 Calls: 20 min")
    answer = await mia.press("🤝 90 min")
    assert answer == "Saved.", answer
    shown = await mia.expect("🤝 Meetings: 90 min")
    db = services_of(app).db
    for step, minutes in ((step_id, 20), (meeting_id, 90)):
        content = await press_for_file(mia, CALENDAR_STEP.pack(step), shown.message_id)
        (event,) = events_of(content)
        assert event.decoded("DURATION") == dt.timedelta(minutes=minutes)
    assert await db.fetch_value("SELECT call_minutes FROM calendar_prefs") == 20


async def test_webhook_mode_serves_the_feed_on_the_webhook_server(
    e2e_settings: Settings, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """WEBHOOK_URL set: one aiohttp server takes Telegram's updates (the secret checked)
    and serves the feeds; links start with PUBLIC_URL."""
    settings = e2e_settings.model_copy(
        update={
            "webhook_url": "https://bot.example.com/telegram/hook",
            "webhook_secret": SecretStr(WEBHOOK_SECRET),
            "public_url": "https://bot.example.com",
        }
    )
    application = build_application(settings, clock=clock)
    web = serve_web(application, webhook=True, port=0)
    assert web is not None
    async with running_webhook(application, settings):
        assert server.world.webhook.get("url") == settings.webhook_url
        assert services_of(application).feed_url == "https://bot.example.com"
        mia_user = await person(application, clock, MIA, "Mia")
        await client_with_step(application, clock, mia_user, "Hooked")
        mia = server.user(MIA, "Mia")
        local = f"http://127.0.0.1:{web.port}"
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": server.world.now(),
                "chat": mia.chat.info,
                "from": server.world.users[MIA],
                "text": "/calendar",
                "entities": [{"type": "bot_command", "offset": 0, "length": 9}],
            },
        }
        async with aiohttp.ClientSession() as session:
            hook = f"{local}/telegram/hook"
            headers = {"Content-Type": "application/json"}
            async with session.post(hook, data=json.dumps(update), headers=headers) as refused:
                assert refused.status == 403
            headers["X-Telegram-Bot-Api-Secret-Token"] = WEBHOOK_SECRET
            async with session.post(hook, data=json.dumps(update), headers=headers) as taken:
                assert taken.status == 200
        shown = await mia.expect("Your calendar link")
        found = re.search(
            r"https://bot\.example\.com/calendar/([A-Za-z0-9_-]{32})\.ics", shown.text
        )
        assert found is not None, shown.text
        status, _, body = await fetch_feed(f"{local}/calendar/{found.group(1)}.ics")
        assert status == 200
        assert [str(e["SUMMARY"]) for e in events_of(body)] == ["Call: Hooked"]


def test_readme_documents_the_feed() -> None:
    """The variables, the /calendar row and a reverse-proxy example are in the README, and
    .env.example names the variables."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for variable in ("PUBLIC_URL", "CALENDAR_LISTEN", "CALENDAR_PORT"):
        assert re.search(rf"^\| [^|]*`{variable}`[^|]*\|", readme, re.MULTILINE), variable
        assert f"{variable}=" in (ROOT / ".env.example").read_text(encoding="utf-8"), variable
    assert "| `/calendar` |" in readme
    assert "location /calendar/" in readme  # nginx
    assert "handle /calendar/*" in readme  # Caddy
    assert "bench/bench_calendar.py" in readme
