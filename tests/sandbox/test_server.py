"""The fake Bot API server, driven by a real PTB Bot over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.devtools.sandbox.server import FakeBotApiServer
from bot.devtools.sandbox.validate import load_spec, validate_object

TOKEN = "123456:TEST-TOKEN"


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta `retry_after` (the int form warns, and warnings are errors)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def server() -> AsyncIterator[FakeBotApiServer]:
    """A running fake server."""
    fake = FakeBotApiServer(token=TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot(server: FakeBotApiServer) -> AsyncIterator[Bot]:
    """A plain PTB Bot talking to the fake server."""
    async with Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url) as bot:
        yield bot


async def post_json(server: FakeBotApiServer, method: str, params: dict[str, Any]) -> Any:
    """Call the server with a JSON body (as other Bot API clients do); return the answer."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.base_url}{TOKEN}/{method}", json=params) as response,
    ):
        return await response.json()


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    """One row of callback buttons whose data is the label in lower case."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(x, callback_data=x.lower()) for x in labels]]
    )


async def test_send_message_round_trip(server: FakeBotApiServer, bot: Bot) -> None:
    ann = server.user(42, "Ann", username="ann")
    sent = await bot.send_message(
        42, "<b>Hi</b> &amp; welcome", parse_mode=ParseMode.HTML, reply_markup=keyboard("Go")
    )
    assert sent.text == "Hi & welcome" and sent.chat.username == "ann"
    assert sent.entities[0].type == "bold" and sent.from_user and sent.from_user.is_bot
    reply = await ann.reply()
    assert (reply.text, reply.html, reply.labels) == ("Hi & welcome", sent.text_html, ["Go"])
    assert ann.last_message is not None and ann.last_message.message_id == sent.message_id
    assert server.calls[-1].method == "sendMessage" and server.calls[-1].params["chat_id"] == 42
    assert server.violations == []
    assert (await bot.get_me()).username == "nextstep_test_bot"


async def test_spec_violations_are_answered_400_and_recorded(
    server: FakeBotApiServer, bot: Bot
) -> None:
    server.user(42, "Ann")
    with pytest.raises(BadRequest, match=r'(?i)parse entities: unsupported start tag "br"'):
        await bot.send_message(42, "a<br>b", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(42, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(42, "hi", reply_markup=keyboard("x" * 65))
    assert [v.split(":")[0] for v in server.violations] == ["sendMessage"] * 3
    assert "BUTTON_DATA_INVALID" in server.violations[2]
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(99, "hi")
    assert len(server.violations) == 3, "a Telegram error is not a spec violation"


async def test_unimplemented_method_is_a_violation(server: FakeBotApiServer, bot: Bot) -> None:
    server.user(42, "Ann")
    with pytest.raises(BadRequest, match="not implemented in the fake server"):
        await bot.send_dice(42)
    assert server.violations == ["sendDice: method not implemented in the fake server"]


async def test_json_body_case_insensitive_method_and_wrong_token(
    server: FakeBotApiServer, bot: Bot
) -> None:
    server.user(42, "Ann")
    body = await post_json(server, "SENDMESSAGE", {"chat_id": 42, "text": "json"})
    assert body["ok"] and body["result"]["text"] == "json"
    assert (await post_json(server, "sendMessag", {}))["error_code"] == 404
    assert server.violations == ["sendMessag: unknown method 'sendMessag'"]
    stranger = Bot("1:WRONG", base_url=server.base_url)
    with pytest.raises(InvalidToken, match="rejected by the server"):
        await stranger.initialize()
    await stranger.shutdown()
    json_call = next(call for call in server.calls if call.params.get("text") == "json")
    assert json_call.method == "sendMessage"


async def test_get_updates_long_poll_returns_as_soon_as_a_user_sends(
    server: FakeBotApiServer, bot: Bot
) -> None:
    ann = server.user(42, "Ann")
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)  # let the request reach the server and wait there
    assert not poll.done()
    sent = await ann.send("/start@nextstep_test_bot abc")
    updates = await poll
    assert time.monotonic() - started < 1
    message = updates[0].message
    assert message is not None and message.message_id == sent["message_id"]
    assert message.text == "/start@nextstep_test_bot abc" and message.from_user
    assert message.entities[0].type == "bot_command" and message.entities[0].length == 24
    assert validate_object(load_spec(), "Update", updates[0].to_dict()) == []
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()


async def test_updates_respect_allowed_updates(server: FakeBotApiServer, bot: Bot) -> None:
    ann = server.user(42, "Ann")
    await ann.send("hi")
    await ann.block()
    updates = await bot.get_updates(allowed_updates=["my_chat_member"])
    assert len(updates) == 1 and updates[0].my_chat_member is not None
    member = updates[0].my_chat_member
    assert member.new_chat_member.status == "kicked" and member.old_chat_member.status == "member"


async def test_press_runs_a_real_application(server: FakeBotApiServer, bot: Bot) -> None:
    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer(f"pressed {query.data}")
        await query.edit_message_text(f"You chose {query.data}")

    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    app.add_handler(CallbackQueryHandler(on_press))
    ann = server.user(42, "Ann")
    await bot.send_message(42, "Choose", reply_markup=keyboard("Yes", "No"))
    await ann.reply()
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        try:
            assert await ann.press("No") == "pressed no"
            edited = await ann.reply()
            assert (edited.text, edited.labels, edited.edited) == ("You chose no", [], 1)
            with pytest.raises(AssertionError, match=r"no button 'Maybe'"):
                await ann.press("Maybe", timeout=0.2)
        finally:
            await app.updater.stop()
            await app.stop()
    assert server.violations == []


async def test_press_data_and_inline_without_an_application(
    server: FakeBotApiServer, bot: Bot
) -> None:
    ann = server.user(42, "Ann")
    sent = await ann.send("anything")
    press = asyncio.create_task(ann.press_data("forged", message_id=sent["message_id"]))
    *_, update = await bot.get_updates(timeout=1)
    assert update.callback_query is not None and update.callback_query.data == "forged"
    await update.callback_query.answer()
    assert await press is None
    inline = asyncio.create_task(ann.inline("acme"))
    (update,) = await bot.get_updates(offset=update.update_id + 1, timeout=1)
    assert update.inline_query is not None and update.inline_query.query == "acme"
    await update.inline_query.answer([])
    assert await inline == []
    with pytest.raises(AssertionError, match="did not answer"):
        await ann.press_data("x", message_id=sent["message_id"], timeout=0.05)


async def test_edits_and_deletes(server: FakeBotApiServer, bot: Bot) -> None:
    ann = server.user(42, "Ann")
    sent = await bot.send_message(42, "<i>one</i>", parse_mode="HTML", reply_markup=keyboard("A"))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<i>one</i>", 42, sent.message_id, parse_mode="HTML", reply_markup=keyboard("A")
        )
    await bot.edit_message_reply_markup(42, sent.message_id)
    await bot.edit_message_text("two", 42, sent.message_id)
    assert [(e.text, e.labels) for e in ann.chat.events] == [
        ("one", ["A"]),
        ("one", []),
        ("two", []),
    ]
    # An edit that only took the buttons off is no answer: reply() and expect() pass over it.
    assert [(e.text, e.labels) for e in (await ann.reply(), await ann.reply())] == [
        ("one", ["A"]),
        ("two", []),
    ]
    assert ann.messages[0].edited == 2
    edit_without_text = {"chat_id": 42, "message_id": sent.message_id}
    answer = await post_json(server, "editMessageText", edit_without_text)
    assert answer["description"] == "Bad Request: message text is empty"
    assert await bot.delete_message(42, sent.message_id)
    assert ann.messages == [] and ann.last_message is None
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("three", 42, sent.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(42, sent.message_id)


async def test_reply_expect_and_no_reply(server: FakeBotApiServer, bot: Bot) -> None:
    ann = server.user(42, "Ann")
    for text in ("first", "second", "third"):
        await bot.send_message(42, text)
    assert (await ann.expect("sec")).text == "second"
    assert (await ann.reply()).text == "third"
    await ann.no_reply(within=0.01)
    with pytest.raises(AssertionError, match="no reply in chat 42"):
        await ann.reply(timeout=0.01)
    with pytest.raises(AssertionError, match=r"no message containing 'zzz'.*seen: \[\]"):
        await ann.expect("zzz", timeout=0.01)
    await bot.send_message(42, "fourth")
    with pytest.raises(AssertionError, match="unexpected reply in chat 42: 'fourth'"):
        await ann.no_reply(within=0.01)


async def test_group_messages(server: FakeBotApiServer, bot: Bot) -> None:
    ann = server.user(42, "Ann")
    group = server.group(-500, "Sales floor")
    await group.send(ann, "/help@nextstep_test_bot")
    (update,) = await bot.get_updates()
    message = update.message
    assert message is not None and message.chat.type == "group" and message.chat.title
    assert message.from_user is not None and message.from_user.id == 42
    await bot.send_message(-500, "Write to me privately")
    assert (await group.reply()).text == "Write to me privately"
    await ann.no_reply(within=0.01)


async def test_forwarded_messages(server: FakeBotApiServer, bot: Bot) -> None:
    ann = server.user(42, "Ann")
    await ann.send("hello", forward_from={"id": 7, "first_name": "Client"})
    await ann.send("hidden", forward_sender_name="Somebody")
    first, second = await bot.get_updates()
    assert first.message and first.message.forward_origin
    assert first.message.forward_origin.sender_user.first_name == "Client"  # type: ignore[attr-defined]
    assert second.message and second.message.forward_origin
    assert second.message.forward_origin.sender_user_name == "Somebody"  # type: ignore[attr-defined]


async def test_documents_and_photos(server: FakeBotApiServer, bot: Bot) -> None:
    ann = server.user(42, "Ann")
    await ann.send_document("clients.csv", b"name\nAcme\n", caption="import")
    (update,) = await bot.get_updates()
    assert update.message and update.message.document and update.message.caption == "import"
    received = await bot.get_file(update.message.document.file_id)
    assert await received.download_as_bytearray() == b"name\nAcme\n"

    sent = await bot.send_document(
        42, b"a,b\n", filename="report.csv", caption="<b>Report</b>", parse_mode="HTML"
    )
    assert sent.document and sent.document.file_name == "report.csv"
    assert sent.document.mime_type == "text/csv" and sent.caption == "Report"
    document = (await ann.reply()).document
    assert document is not None and (document.filename, document.content) == (
        "report.csv",
        b"a,b\n",
    )
    back = await bot.get_file(sent.document.file_id)
    assert await back.download_as_bytearray() == b"a,b\n"

    photo = await bot.send_photo(42, b"\x89PNG fake", caption="chart")
    assert photo.photo and photo.photo[0].width > 0
    shown = await ann.reply()
    assert (shown.kind, shown.photo, shown.text) == ("photo", b"\x89PNG fake", "chart")
    with pytest.raises(BadRequest, match="no text in the message"):
        await bot.edit_message_text("x", 42, photo.message_id)
    await bot.edit_message_caption(42, photo.message_id, caption="new chart")
    assert (await ann.reply()).text == "new chart"


async def test_commands_webhook_and_chat(server: FakeBotApiServer, bot: Bot) -> None:
    server.user(42, "Ann", username="ann")
    scope = BotCommandScopeAllPrivateChats()
    assert await bot.set_my_commands([("start", "Start")], scope=scope)
    assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["start"]
    assert await bot.get_my_commands() == ()
    assert await bot.delete_my_commands(scope=scope)
    assert await bot.get_my_commands(scope=scope) == ()
    assert await bot.set_my_description("About") and await bot.set_my_short_description("Short")
    assert await bot.set_chat_menu_button()
    assert await bot.send_chat_action(42, "typing")
    assert (await bot.get_chat(42)).username == "ann"
    assert await bot.set_webhook("https://example.com/hook")
    assert (await bot.get_webhook_info()).url == "https://example.com/hook"
    with pytest.raises(Exception, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert server.violations == []


async def test_fail_next_retry_after(server: FakeBotApiServer, bot: Bot) -> None:
    server.user(42, "Ann")
    server.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 3", retry_after=3
    )
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(42, "hi")
    assert caught.value.retry_after == dt.timedelta(seconds=3)
    assert (await bot.send_message(42, "again")).text == "again"
    server.fail_next(None, status=400, description="Bad Request: chat not found", count=2)
    assert await bot.get_updates() == (), "getUpdates is not matched by None"
    for _ in range(2):
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(42, "hi")
    assert server.count_429 == 1 and server.violations == []


async def test_blocked_chat_is_forbidden(server: FakeBotApiServer, bot: Bot) -> None:
    ann = server.user(42, "Ann")
    server.block_chat(42)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(42, "hi")
    server.unblock_chat(42)
    await bot.send_message(42, "hi")
    await ann.block()
    with pytest.raises(Forbidden):
        await bot.send_message(42, "hi")
    await ann.unblock()
    await bot.send_message(42, "back")


async def test_rate_limit() -> None:
    limited = FakeBotApiServer(token=TOKEN, rate_limit_per_second=2)
    await limited.start()
    try:
        limited.user(42, "Ann")
        async with Bot(TOKEN, base_url=limited.base_url) as fast:
            await fast.send_message(42, "1")
            await fast.send_message(42, "2")
            with pytest.raises(RetryAfter):
                await fast.send_message(42, "3")
        assert limited.count_429 == 1
    finally:
        await limited.stop()
