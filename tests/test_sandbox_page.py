"""The sandbox's chat page API: what the page shows and how its actions reach the bot.

Most tests put the page in front of the fake Bot API server alone and play the bot with a
plain PTB `Bot`, so the page is checked independently of the features; the last ones run the
real bot in the sandbox.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
)
from telegram.constants import ParseMode

from bot.clock import SystemClock
from bot.config import ConfigError, Settings
from bot.devtools.demo import PERSONAS, persona
from bot.devtools.sandbox.page import ChatPage, jump_target
from bot.devtools.sandbox.run import running_sandbox, sandbox_settings
from bot.devtools.sandbox.server import FakeBotApiServer
from tests.sandbox_helpers import SANDBOX_START, clock_at, post, settings_in

TOKEN = "123456:PAGE-TEST"
MIA = persona("manager1").telegram_id
BERLIN = "Europe/Berlin"


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB's timedelta `retry_after` (the int form warns, and warnings are errors)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@dataclass
class Bare:
    """The page in front of the fake server, with no bot behind it."""

    server: FakeBotApiServer
    clock: SystemClock
    url: str
    session: aiohttp.ClientSession
    bot: Bot


@pytest.fixture
async def bare() -> AsyncIterator[Bare]:
    """The page and the fake server; a plain PTB Bot plays the bot."""
    clock = clock_at(SANDBOX_START)
    server = FakeBotApiServer(token=TOKEN, clock=clock)

    async def berlin(telegram_id: int) -> str:
        return BERLIN

    page = ChatPage(server, PERSONAS, clock=clock, timezone_of=berlin)
    server.extra_routes.extend(page.routes())
    await server.start()
    url = f"http://127.0.0.1:{server.port}"
    async with (
        aiohttp.ClientSession() as session,
        Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url) as bot,
    ):
        yield Bare(server, clock, url, session, bot)
    await server.stop()
    assert server.violations == []


async def chat(bare: Bare, user_id: int = MIA, since: int = -1) -> dict:
    """The chat as the page reads it."""
    async with bare.session.get(f"{bare.url}/api/chat/{user_id}?since={since}") as response:
        assert response.status == 200
        return await response.json()


async def test_page_and_personas(bare: Bare) -> None:
    """The page is one HTML file; the personas are the demo team and a stranger."""
    async with bare.session.get(bare.url + "/") as response:
        assert response.status == 200
        assert "NextStep sandbox" in await response.text()
    async with bare.session.get(bare.url + "/api/personas") as response:
        data = await response.json()
    assert [p["key"] for p in data["personas"]] == [
        "admin",
        "head",
        "manager1",
        "manager2",
        "manager3",
        "stranger",
    ]
    assert [p["member"] for p in data["personas"]][-1] is False
    assert {j["code"] for j in data["jumps"]} >= {"15m", "1h", "next-0900", "next-monday-0900"}
    assert data["clock"]["local"] == "Thu 26 Nov 2026, 10:00"


async def test_text_and_commands_reach_the_bot(bare: Bare) -> None:
    """What the person types becomes a message update; commands carry their entity."""
    await post(bare.session, bare.url + "/api/send", {"user_id": MIA, "text": "/agenda week"})
    updates = await bare.bot.get_updates()
    message = updates[-1].message
    assert message is not None and message.from_user is not None
    assert message.from_user.id == MIA
    assert message.text == "/agenda week"
    assert message.entities[0].type == "bot_command"
    shown = await chat(bare)
    assert shown["messages"][-1]["mine"] is True


async def test_formatting_buttons_and_edits(bare: Bare) -> None:
    """HTML becomes entities, keyboards become buttons, and an edit replaces the message."""
    sent = await bare.bot.send_message(
        MIA,
        "<b>Due now</b>: call with <i>Acme &amp; Sons</i>",
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("✅ Done", callback_data="d")]]),
    )
    first = (await chat(bare))["messages"]
    assert first[-1]["text"] == "Due now: call with Acme & Sons"
    assert [e["type"] for e in first[-1]["entities"]] == ["bold", "italic"]
    assert first[-1]["buttons"][0][0]["text"] == "✅ Done"
    await bare.bot.edit_message_text("Done ✔", chat_id=MIA, message_id=sent.message_id)
    after = (await chat(bare))["messages"]
    assert len(after) == len(first)
    assert after[-1]["text"] == "Done ✔"
    assert after[-1]["edited"] is True
    assert after[-1]["buttons"] == []


async def test_photos_and_documents(bare: Bare) -> None:
    """Photos are shown from their URL; documents download under their file name."""
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    await bare.bot.send_photo(MIA, photo=png, caption="Your week")
    await bare.bot.send_document(MIA, document=b"a,b\n1,2\n", filename="clients.csv")
    photo, document = (await chat(bare))["messages"][-2:]
    assert photo["text"] == "Your week"
    async with bare.session.get(bare.url + photo["photo"]) as response:
        assert await response.read() == png
    assert document["document"]["name"] == "clients.csv"
    async with bare.session.get(bare.url + document["document"]["url"]) as response:
        assert await response.read() == b"a,b\n1,2\n"
        assert response.headers["Content-Disposition"] == 'attachment; filename="clients.csv"'


async def test_long_poll_returns_on_change(bare: Bare) -> None:
    """With `since`, the chat answers when something changes, not before."""
    revision = (await chat(bare))["revision"]
    waiting = asyncio.create_task(chat(bare, since=revision))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await bare.bot.send_message(MIA, "Good morning")
    shown = await asyncio.wait_for(waiting, 5)
    assert shown["revision"] > revision
    assert shown["messages"][-1]["text"] == "Good morning"


async def test_pressing_a_button_waits_for_the_answer(bare: Bare) -> None:
    """A press is a callback query; the page gets the bot's answer (alert or toast)."""
    sent = await bare.bot.send_message(
        MIA,
        "Pick",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a:1")]]),
    )
    press = asyncio.create_task(
        post(
            bare.session,
            bare.url + "/api/press",
            {"user_id": MIA, "message_id": sent.message_id, "data": "a:1"},
        )
    )
    updates = await bare.bot.get_updates(timeout=5)
    query = updates[-1].callback_query
    assert query is not None and query.data == "a:1"
    await query.answer("Already handled", show_alert=True)
    assert await asyncio.wait_for(press, 5) == {
        "answered": True,
        "text": "Already handled",
        "show_alert": True,
    }


async def test_inline_mode_lists_and_inserts_a_result(bare: Bare) -> None:
    """`@bot query` shows the bot's results; the chosen one appears "via @bot"."""
    asking = asyncio.create_task(
        post(bare.session, bare.url + "/api/inline", {"user_id": MIA, "query": "late payment"})
    )
    updates = await bare.bot.get_updates(timeout=5)
    inline = updates[-1].inline_query
    assert inline is not None and inline.query == "late payment"
    content = InputTextMessageContent("<b>Dear</b> Ivan, a friendly reminder", ParseMode.HTML)
    await inline.answer(
        [InlineQueryResultArticle("r1", "Gentle reminder", content, description="Polite")]
    )
    listed = await asyncio.wait_for(asking, 5)
    assert listed["results"] == [
        {
            "id": "r1",
            "title": "Gentle reminder",
            "description": "Polite",
            "text": "Dear Ivan, a friendly reminder",
        }
    ]
    await post(bare.session, bare.url + "/api/inline/choose", {"user_id": MIA, "id": "r1"})
    inserted = (await chat(bare))["messages"][-1]
    assert inserted["via_bot"] is True and inserted["mine"] is True
    assert inserted["text"] == "Dear Ivan, a friendly reminder"
    assert inserted["entities"][0]["type"] == "bold"
    assert await bare.bot.get_updates(offset=updates[-1].update_id + 1) == ()


async def test_sending_a_file(bare: Bare) -> None:
    """A file chosen on the page arrives as a document the bot can download."""
    form = aiohttp.FormData()
    form.add_field("user_id", str(MIA))
    form.add_field("file", b"name\nAcme\n", filename="import.csv", content_type="text/csv")
    async with bare.session.post(
        bare.url + "/api/document", data=form, headers={"X-NextStep-Sandbox": "1"}
    ) as response:
        assert response.status == 200
    updates = await bare.bot.get_updates()
    document = updates[-1].message.document  # type: ignore[union-attr]
    assert document is not None and document.file_name == "import.csv"
    downloaded = await (await bare.bot.get_file(document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"name\nAcme\n"


async def test_other_sites_cannot_drive_or_read_it(bare: Bare) -> None:
    """Actions need the page's header; another host name (DNS rebinding) is refused."""
    async with bare.session.post(
        bare.url + "/api/send", json={"user_id": MIA, "text": "hi"}
    ) as response:
        assert response.status == 403
    async with bare.session.get(
        f"{bare.url}/api/chat/{MIA}", headers={"Host": "evil.example"}
    ) as response:
        assert response.status == 403
    async with bare.session.post(
        bare.url + "/api/send",
        json={"user_id": 42, "text": "hi"},
        headers={"X-NextStep-Sandbox": "1"},
    ) as response:
        assert response.status == 400
        assert "unknown persona" in (await response.json())["error"]
    assert bare.server.world.updates == []


async def test_fast_forward(bare: Bare) -> None:
    """Fast-forward moves the shared clock; new messages are dated by it."""
    answer = await post(
        bare.session, bare.url + "/api/clock", {"user_id": MIA, "jump": "next-monday-0900"}
    )
    assert answer["clock"]["local"] == "Mon 30 Nov 2026, 09:00"
    assert 4 * 86400 - 3600 - 60 < answer["clock"]["ahead_seconds"] <= 4 * 86400 - 3600
    sent = await bare.bot.send_message(MIA, "Your week")
    assert sent.date >= dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
    async with bare.session.post(
        bare.url + "/api/clock",
        json={"user_id": MIA, "jump": "next-year"},
        headers={"X-NextStep-Sandbox": "1"},
    ) as response:
        assert response.status == 400


@pytest.mark.parametrize(
    ("now", "code", "expected"),
    [
        ("2026-11-26T09:00", "15m", "2026-11-26T09:15"),
        ("2026-11-26T09:00", "1h", "2026-11-26T10:00"),
        ("2026-11-26T09:00", "next-0900", "2026-11-27T08:00"),  # Berlin is UTC+1 in winter
        ("2026-11-26T07:30", "next-0900", "2026-11-26T08:00"),
        ("2026-11-26T09:00", "next-monday-0900", "2026-11-30T08:00"),
        ("2026-11-30T08:00", "next-monday-0900", "2026-12-07T08:00"),
        ("2026-03-28T09:00", "next-0900", "2026-03-29T07:00"),  # summer time starts
    ],
)
def test_jump_target(now: str, code: str, expected: str) -> None:
    """Jumps land on the local 09:00 (of a Monday), across a DST change too."""
    moment = dt.datetime.fromisoformat(now).replace(tzinfo=dt.UTC)
    landed = jump_target(code, moment, BERLIN)
    assert landed == dt.datetime.fromisoformat(expected).replace(tzinfo=dt.UTC)


def test_sandbox_never_uses_the_production_database(tmp_path: Path) -> None:
    """SANDBOX_DATABASE_URL equal to DATABASE_URL is refused with the variable named."""
    same = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    settings = Settings(_env_file=None, database_url=same, sandbox_database_url=same)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="SANDBOX_DATABASE_URL"):
        sandbox_settings(settings, "http://127.0.0.1:1/bot")
    default = Settings(_env_file=None)  # type: ignore[call-arg]
    assert default.sandbox_database_url == "sqlite:///data/sandbox.sqlite3"
    assert default.sandbox_port == 8080


async def test_sandbox_bot_answers_on_the_page(tmp_path: Path) -> None:
    """The real bot behind the page: /start from the admin persona makes them admin."""
    settings = settings_in(tmp_path)
    async with (
        running_sandbox(settings, port=0, clock=clock_at(SANDBOX_START), demo=False) as box,
        aiohttp.ClientSession() as session,
    ):
        admin = persona("admin").telegram_id
        await post(session, box.url + "api/send", {"user_id": admin, "text": "/start"})
        seen: list[str] = []
        revision = -1
        for _ in range(20):
            async with session.get(f"{box.url}api/chat/{admin}?since={revision}") as response:
                data = await response.json()
            revision = data["revision"]
            seen = [m["text"] for m in data["messages"] if not m["mine"]]
            if seen:
                break
        assert any("admin" in text for text in seen), seen
    assert (tmp_path / "sandbox.sqlite3").exists()
    assert not (tmp_path / "production.sqlite3").exists()
