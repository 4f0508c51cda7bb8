"""The sandbox's chat page: one static HTML/JS file and the JSON endpoints it calls.

The page plays the Telegram client for the personas of the demo data. It reads the same
`World` the fake Bot API server keeps (a chat's messages as Bot API Message objects, edits
applied) and acts through the same test-driving API the end-to-end tests use
(`client.ChatUser`), so what a person does on the page reaches the bot exactly as an update
from Telegram would. Served on 127.0.0.1 only; every POST needs the page's own header, so
another site open in the same browser cannot drive the sandbox.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.clock import SystemClock
from bot.devtools.demo import Persona
from bot.devtools.sandbox.client import ChatUser
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.devtools.sandbox.telegram_html import parse_html
from bot.devtools.sandbox.world import JsonDict
from bot.timefmt import format_moment

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGE_HEADER = "X-NextStep-Sandbox"
LONG_POLL_SECONDS = 25.0
ANSWER_TIMEOUT = 10.0
MAX_MESSAGES = 300
"""The newest messages a chat shows (the page is a sandbox, not an archive)."""
MAX_UPLOAD = 5 * 1024 * 1024
JUMPS = {
    "15m": "+15 min",
    "1h": "+1 hour",
    "1d": "+1 day",
    "next-0900": "to next 09:00",
    "next-monday-0900": "to next Monday 09:00",
}
MORNING = dt.time(9, 0)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})

TimezoneOf = Callable[[int], Awaitable[str]]
AfterJump = Callable[[], Awaitable[None]]


def jump_target(code: str, now: dt.datetime, timezone: str) -> dt.datetime:
    """Where a fast-forward lands: a fixed step ahead, or the next 09:00 (on a Monday) local.

    Raises KeyError for an unknown code.
    """
    if code == "15m":
        return now + dt.timedelta(minutes=15)
    if code == "1h":
        return now + dt.timedelta(hours=1)
    if code == "1d":
        return now + dt.timedelta(days=1)
    if code not in ("next-0900", "next-monday-0900"):
        raise KeyError(code)
    zone = ZoneInfo(timezone)
    day = now.astimezone(zone).date()
    while True:
        moment = dt.datetime.combine(day, MORNING, tzinfo=zone).astimezone(dt.UTC)
        if moment > now and (code == "next-0900" or day.isoweekday() == 1):
            return moment
        day += dt.timedelta(days=1)


class ChatPage:
    """The page and its API, served next to the fake Bot API by the same aiohttp app."""

    def __init__(
        self,
        server: FakeBotApiServer,
        personas: Sequence[Persona],
        *,
        clock: SystemClock,
        timezone_of: TimezoneOf,
        after_jump: AfterJump | None = None,
        locale: str = "en",
    ) -> None:
        self.server = server
        self.world = server.world
        self.personas = {p.telegram_id: p for p in personas}
        self.order = list(personas)
        self.clock = clock
        self.timezone_of = timezone_of
        self.after_jump = after_jump
        self.locale = locale
        self._inline_results: dict[int, list[JsonDict]] = {}
        self._jumped = dt.timedelta(0)  # how far the page has fast-forwarded the clock
        for person in personas:
            server.user(
                person.telegram_id,
                person.first_name,
                last_name=person.last_name,
                username=person.username,
            )

    def routes(self) -> list[web.RouteDef]:
        """The page and its endpoints, to add to the server's application."""
        return [
            web.get("/", self._index),
            web.get("/api/personas", self._personas),
            web.get("/api/chat/{user_id}", self._chat),
            web.post("/api/send", self._send),
            web.post("/api/document", self._document),
            web.post("/api/press", self._press),
            web.post("/api/inline", self._inline),
            web.post("/api/inline/choose", self._inline_choose),
            web.post("/api/clock", self._jump),
            web.get("/api/file/{file_id}", self._file),
        ]

    # --- reading ----------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        self._check_host(request)
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def _personas(self, request: web.Request) -> web.Response:
        self._check_host(request)
        personas = [
            {
                "key": p.key,
                "id": p.telegram_id,
                "name": p.name,
                "title": p.title,
                "member": p.role is not None,
            }
            for p in self.order
        ]
        bot = self.world.bot_user
        return web.json_response(
            {
                "bot": {"name": bot["first_name"], "username": bot["username"]},
                "personas": personas,
                "jumps": [{"code": code, "label": label} for code, label in JUMPS.items()],
                "clock": await self._clock_info(self.order[0].telegram_id),
            }
        )

    async def _chat(self, request: web.Request) -> web.Response:
        """A chat's messages; with `since`, waits until something changed after it."""
        self._check_host(request)
        person = self._person(request.match_info["user_id"])
        try:
            since = int(request.query.get("since", "-1"))
        except ValueError:
            raise _bad("since must be a number") from None
        wait = LONG_POLL_SECONDS if since >= 0 else 0.0
        world = self.world
        await world.wait_until(lambda: True if world.revision != since else None, wait)
        chat = self._user(person).chat
        raw = [chat.messages[key] for key in sorted(chat.messages)][-MAX_MESSAGES:]
        return web.json_response(
            {
                "revision": world.revision,
                "messages": [self._message_json(message) for message in raw],
                "commands": self._commands(person.telegram_id),
                "clock": await self._clock_info(person.telegram_id),
            }
        )

    async def _file(self, request: web.Request) -> web.StreamResponse:
        self._check_host(request)
        stored = self.world.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound(text="no such file")
        disposition = "attachment" if request.query.get("download") else "inline"
        filename = json.dumps(stored.filename, ensure_ascii=True)  # a quoted ASCII string
        return web.Response(
            body=stored.content,
            content_type=stored.mime_type,
            headers={"Content-Disposition": f"{disposition}; filename={filename}"},
        )

    # --- acting -----------------------------------------------------------------------------

    async def _send(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        text = str(body.get("text", "")).strip()
        if not text:
            raise _bad("type a message first")
        if len(text) > 4096:
            raise _bad("a message is at most 4096 characters")
        user = self._user(self._person(body.get("user_id")))
        message = await user.send(text)
        return web.json_response({"message_id": message["message_id"]})

    async def _document(self, request: web.Request) -> web.Response:
        self._check_origin(request)
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            raise _bad("choose a file")
        content = upload.file.read(MAX_UPLOAD + 1)
        if len(content) > MAX_UPLOAD:
            raise _bad("the sandbox takes files up to 5 MB")
        user = self._user(self._person(form.get("user_id")))
        caption = str(form.get("caption") or "") or None
        mime = upload.content_type or "application/octet-stream"
        message = await user.send_document(upload.filename, content, mime, caption)
        return web.json_response({"message_id": message["message_id"]})

    async def _press(self, request: web.Request) -> web.Response:
        """Press an inline button: a callback query, answered (or not) by the bot."""
        body = await self._body(request)
        user = self._user(self._person(body.get("user_id")))
        message_id = body.get("message_id")
        data = body.get("data")
        if not isinstance(data, str) or message_id not in user.chat.messages:
            raise _bad("that button is not in this chat")
        world = self.world
        query_id = world.callback_query(user.chat, user.id, message_id, data)
        answer = await world.wait_until(lambda: world.callback_answers[query_id], ANSWER_TIMEOUT)
        if answer is None:
            return web.json_response({"answered": False})
        return web.json_response(
            {"answered": True, "text": answer.text, "show_alert": answer.show_alert}
        )

    async def _inline(self, request: web.Request) -> web.Response:
        """`@bot query`: the bot's inline results (kept to be chosen from)."""
        body = await self._body(request)
        user = self._user(self._person(body.get("user_id")))
        query = str(body.get("query", ""))[:256]
        try:
            results = await user.inline(query, timeout=ANSWER_TIMEOUT)
        except AssertionError:
            return web.json_response({"answered": False, "results": []})
        self._inline_results[user.id] = results
        return web.json_response({"answered": True, "results": [_result(r) for r in results]})

    async def _inline_choose(self, request: web.Request) -> web.Response:
        """Insert a chosen inline result into the chat as the person's message "via @bot".

        In Telegram it lands in whatever chat the person typed `@bot` in (usually the
        client's); the sandbox has no such chat, so it shows it here without sending the bot
        an update about it, like Telegram when inline feedback is off.
        """
        body = await self._body(request)
        user = self._user(self._person(body.get("user_id")))
        chosen = next(
            (r for r in self._inline_results.get(user.id, []) if r.get("id") == body.get("id")),
            None,
        )
        content = (chosen or {}).get("input_message_content") or {}
        if "message_text" not in content:
            raise _bad("that result is no longer offered; type the query again")
        text, entities = content["message_text"], []
        if content.get("parse_mode") == "HTML":
            parsed = parse_html(text)
            text, entities = parsed.text, parsed.entities
        chat = user.chat
        message: JsonDict = {
            "message_id": chat.next_message_id(),
            "date": self.world.now(),
            "chat": chat.info,
            "from": self.world.users[user.id],
            "via_bot": self.world.bot_user,
            "text": text,
        }
        if entities:
            message["entities"] = entities
        chat.messages[message["message_id"]] = message
        self.world.notify()
        return web.json_response({"message_id": message["message_id"]})

    async def _jump(self, request: web.Request) -> web.Response:
        """Fast-forward the sandbox clock, then let the bot's jobs look at the new time."""
        body = await self._body(request)
        person = self._person(body.get("user_id"))
        code = str(body.get("jump", ""))
        timezone = await self.timezone_of(person.telegram_id)
        now = self.clock.now()
        try:
            target = jump_target(code, now, timezone)
        except KeyError:
            raise _bad(f"unknown jump {code!r}; one of {', '.join(JUMPS)}") from None
        self.clock.advance(target - now)
        self._jumped += target - now
        if self.after_jump is not None:
            await self.after_jump()
        self.world.notify()
        return web.json_response({"clock": await self._clock_info(person.telegram_id)})

    # --- helpers ----------------------------------------------------------------------------

    async def _clock_info(self, telegram_id: int) -> JsonDict:
        timezone = await self.timezone_of(telegram_id)
        now = self.clock.now()
        ahead = int(self._jumped.total_seconds())
        return {
            "now": now.isoformat(),
            "local": format_moment(now, timezone, self.locale),
            "timezone": timezone,
            "ahead_seconds": ahead,
        }

    def _person(self, raw: object) -> Persona:
        try:
            person = self.personas.get(int(str(raw)))
        except ValueError:
            person = None
        if person is None:
            raise _bad("unknown persona; choose one of /api/personas")
        return person

    def _user(self, person: Persona) -> ChatUser:
        return self.server.user(person.telegram_id, person.first_name)

    def _check_host(self, request: web.Request) -> None:
        """Refuse requests for another host name (a DNS-rebinding page reading the chats)."""
        if request.host.rsplit(":", 1)[0] not in LOCAL_HOSTS:
            raise web.HTTPForbidden(text="the sandbox answers on 127.0.0.1 and localhost only")

    def _check_origin(self, request: web.Request) -> None:
        """Only the page itself may act: its header forces a CORS preflight elsewhere."""
        self._check_host(request)
        if request.headers.get(PAGE_HEADER) != "1":
            raise web.HTTPForbidden(text=f"the sandbox API needs the {PAGE_HEADER} header")

    async def _body(self, request: web.Request) -> dict[str, Any]:
        self._check_origin(request)
        try:
            body = await request.json()
        except ValueError:
            raise _bad("send a JSON object") from None
        if not isinstance(body, dict):
            raise _bad("send a JSON object")
        return body

    def _commands(self, chat_id: int) -> list[JsonDict]:
        """The bot's command menu in this private chat, as Telegram picks it (by scope)."""
        for scope in ({"type": "chat", "chat_id": chat_id}, {"type": "all_private_chats"}):
            commands = self.world.commands.get((json.dumps(scope, sort_keys=True), ""))
            if commands is not None:
                return commands
        return self.world.commands.get((json.dumps({"type": "default"}), ""), [])

    def _message_json(self, message: JsonDict) -> JsonDict:
        """A Bot API Message as the page draws it."""
        sender = message.get("from") or {}
        out: JsonDict = {
            "id": message["message_id"],
            "mine": not sender.get("is_bot", False),
            "date": message["date"],
            "edited": "edit_date" in message,
            "via_bot": "via_bot" in message,
            "text": message.get("text", message.get("caption", "")),
            "entities": message.get("entities", message.get("caption_entities", [])),
            "buttons": (message.get("reply_markup") or {}).get("inline_keyboard", []),
        }
        if "photo" in message:
            file_id = message["photo"][-1]["file_id"]
            out["photo"] = f"/api/file/{file_id}"
        if "document" in message:
            document = message["document"]
            out["document"] = {
                "name": document.get("file_name", "file"),
                "size": document.get("file_size", 0),
                "url": f"/api/file/{document['file_id']}?download=1",
            }
        return out


def _result(result: JsonDict) -> JsonDict:
    """An inline result as the page lists it."""
    content = result.get("input_message_content") or {}
    text = content.get("message_text", "")
    if content.get("parse_mode") == "HTML":
        text = parse_html(text).text
    return {
        "id": result.get("id"),
        "title": result.get("title", ""),
        "description": result.get("description", ""),
        "text": text,
    }


def _bad(reason: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": reason}), content_type="application/json")
