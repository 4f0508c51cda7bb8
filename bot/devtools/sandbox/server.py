"""A fake Telegram Bot API HTTP server that checks every call against the official spec.

The bot talks to it over real HTTP (`base_url`), tests drive people through `user()` and
`group()` (see `client.py`). Each call is recorded in `calls`; a call that breaks the spec is
recorded in `violations` and answered 400 like Telegram would.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import mimetypes
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.clock import Clock, SystemClock
from bot.devtools.sandbox.client import ChatUser, Group
from bot.devtools.sandbox.telegram_html import parse_html
from bot.devtools.sandbox.validate import decode_params, load_spec, validate_call
from bot.devtools.sandbox.world import (
    BotMessage,
    CallbackAnswer,
    Chat,
    JsonDict,
    Kind,
    StoredFile,
    World,
)

logger = logging.getLogger(__name__)

# Update kinds Telegram sends when allowed_updates is empty or was never set.
DEFAULT_ALLOWED = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
    }
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
BLOCKED = "Forbidden: bot was blocked by the user"
MAX_UPLOAD = 50 * 1000 * 1000 + 64 * 1024  # Telegram's 50 MB, and room for the form's fields
BLOCKABLE_PREFIXES = ("send", "edit", "copy", "forward")


class ApiError(Exception):
    """An error answer: `{"ok": false, "error_code": status, "description": ...}`."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content: bytes
    mime_type: str


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made: method (the spec's spelling), decoded params, file parts."""

    method: str
    params: dict[str, Any]
    files: dict[str, Upload] = field(default_factory=dict)


@dataclass
class _Fault:
    method: str | None
    error: ApiError
    count: int


Handler = Callable[[dict[str, Any], dict[str, Upload]], Awaitable[Any]]


class FakeBotApiServer:
    """An in-process Bot API server for end-to-end tests and the sandbox.

    `strict=True` also reports parameters the spec doesn't know (Telegram ignores them);
    either way every other violation is recorded and answered 400. `rate_limit_per_second`
    answers 429 to send* calls beyond that many in any one-second window. `clock` dates the
    messages (wall clock by default).
    """

    def __init__(
        self,
        *,
        token: str = "123456:TEST-TOKEN",  # noqa: S107 (a fake token)
        bot_username: str = "nextstep_test_bot",
        bot_id: int = 777000,
        strict: bool = True,
        rate_limit_per_second: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.token = token
        self.strict = strict
        self.rate_limit_per_second = rate_limit_per_second
        self.clock = clock or SystemClock()
        self.spec = load_spec()
        self.world = World(bot_id=bot_id, bot_username=bot_username, now=self._now)
        self.calls: list[ApiCall] = []
        self.violations: list[str] = []
        self.count_429 = 0
        self._allowed_updates = DEFAULT_ALLOWED
        self._faults: list[_Fault] = []
        self._recent_sends: deque[float] = deque()
        self._people: dict[int, ChatUser] = {}
        self._groups: dict[int, Group] = {}
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port = 0
        # More routes served next to the Bot API (the sandbox's chat page adds its own).
        self.extra_routes: list[web.AbstractRouteDef] = []
        # aiohttp middlewares in front of every route (bot/devtools/sandbox/faults.py installs
        # one).
        self.middlewares: list[Any] = []
        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "setMyDescription": self._set_my_description,
            "setMyShortDescription": self._set_my_short_description,
            "setChatMenuButton": self._set_chat_menu_button,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "getFile": self._get_file,
            "getChat": self._get_chat,
        }

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on host:port (port 0 picks a free one) in the running event loop."""
        # Telegram takes uploads of up to 50 MB (aiohttp's default stops at 1 MiB); a larger
        # request is answered 413, as Telegram does.
        app = web.Application(middlewares=self.middlewares, client_max_size=MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.add_routes(self.extra_routes)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        self._port = sock.getsockname()[1]
        self._host = host
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        """Answer pending long polls and shut the server down."""
        self._closing = True
        self.world.notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return self._port

    @property
    def base_url(self) -> str:
        """What to pass to PTB's `base_url` (the token is appended by PTB)."""
        return f"http://{self._host}:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        """What to pass to PTB's `base_file_url`."""
        return f"http://{self._host}:{self._port}/file/bot"

    # --- test-driving API -----------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str = "en",
    ) -> ChatUser:
        """A person with a private chat with the bot (the same object for the same id)."""
        if user_id not in self._people:
            chat = self.world.add_user(
                user_id,
                first_name,
                username=username,
                last_name=last_name,
                language_code=language_code,
            )
            self._people[user_id] = ChatUser(self.world, chat, user_id)
        return self._people[user_id]

    def group(self, chat_id: int, title: str) -> Group:
        """A group chat with the bot in it (the same object for the same id)."""
        if chat_id not in self._groups:
            self._groups[chat_id] = Group(self.world, self.world.add_group(chat_id, title))
        return self._groups[chat_id]

    # --- fault injection ------------------------------------------------------------------

    def fail_next(
        self,
        method: str | None,
        *,
        status: int,
        description: str,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next `count` calls of `method` with this error.

        `None` matches any method except getUpdates (which the polling bot calls constantly).
        """
        self._faults.append(_Fault(method, ApiError(status, description, retry_after), count))

    def block_chat(self, chat_id: int) -> None:
        """Sends and edits to this chat answer 403 "bot was blocked by the user"."""
        self._known_chat(chat_id).blocked = True

    def unblock_chat(self, chat_id: int) -> None:
        """Undo `block_chat`."""
        self._known_chat(chat_id).blocked = False

    def _known_chat(self, chat_id: int) -> Chat:
        chat = self.world.chat(chat_id)
        if chat is None:
            raise KeyError(f"unknown chat {chat_id}; create it with user() or group()")
        return chat

    # --- HTTP -----------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        requested = request.match_info["method"]
        method = self.spec.method_name(requested) or requested
        try:
            strings, typed, files = await _read_params(request)
        except ValueError:
            return _error(ApiError(400, "Bad Request: can't parse JSON object"))
        params = {**decode_params(self.spec, method, strings), **typed}
        self.calls.append(ApiCall(method, params, files))
        violations = validate_call(self.spec, method, params, set(files), strict=self.strict)
        if method not in self.spec.methods:
            self._violate(method, violations)
            return _error(ApiError(404, "Not Found"))
        if violations:
            self._violate(method, violations)
            return _error(ApiError(400, f"Bad Request: {violations[0]}"))
        handler = self._handlers.get(method)
        if handler is None:
            self._violate(method, ["method not implemented in the fake server"])
            return _error(ApiError(400, "Bad Request: method not implemented in the fake server"))
        try:
            self._refuse_if_needed(method, params)
            result = await handler(params, files)
        except ApiError as error:
            if error.status == 429:
                self.count_429 += 1
            return _error(error)
        except Exception as error:  # a bug here must fail the test, not make the bot retry
            logger.exception("the fake Bot API server failed on %s", method)
            self._violate(method, [f"the fake server crashed: {error!r}"])
            return _error(ApiError(500, "Internal Server Error"))
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        stored = self.world.file_by_path(request.match_info["path"])
        if stored is None:
            return _error(ApiError(404, "Not Found"))
        return web.Response(body=stored.content, content_type=stored.mime_type)

    def _violate(self, method: str, violations: list[str]) -> None:
        self.violations += [f"{method}: {violation}" for violation in violations]

    def _refuse_if_needed(self, method: str, params: Mapping[str, Any]) -> None:
        """Raise an injected fault, the 403 of a blocked chat, or a 429 beyond the rate."""
        for fault in self._faults:
            if fault.method is None and method == "getUpdates":
                continue
            if fault.method is None or fault.method.lower() == method.lower():
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                raise fault.error
        if method.startswith(BLOCKABLE_PREFIXES):
            chat = self.world.chat(params.get("chat_id"))
            if chat is not None and chat.blocked:
                raise ApiError(403, BLOCKED)
        if method.startswith("send") and self.rate_limit_per_second is not None:
            self._take_send_token(self.rate_limit_per_second)

    def _take_send_token(self, per_second: float) -> None:
        """Admit a send* call, or raise 429 if `per_second` were admitted in the last second."""
        now = time.monotonic()
        while self._recent_sends and now - self._recent_sends[0] >= 1.0:
            self._recent_sends.popleft()
        if len(self._recent_sends) >= per_second:
            wait = 1.0 - (now - self._recent_sends[0])
            raise ApiError(
                429, f"Too Many Requests: retry after {math.ceil(wait)}", math.ceil(wait)
            )
        self._recent_sends.append(now)

    # --- Bot API methods ------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    async def _get_me(self, params: JsonDict, files: dict[str, Upload]) -> JsonDict:
        return {
            **self.world.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JsonDict, files: dict[str, Upload]) -> list[JsonDict]:
        if self.world.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        world = self.world
        offset = params.get("offset", 0)
        if offset < 0:
            world.updates = world.updates[offset:]
        elif offset:
            world.updates = [u for u in world.updates if u["update_id"] >= offset]
        if "allowed_updates" in params:
            self._allowed_updates = frozenset(params["allowed_updates"]) or DEFAULT_ALLOWED
        limit = min(max(params.get("limit", 100), 1), 100)

        def ready() -> list[JsonDict] | None:
            world.updates = [u for u in world.updates if _kind(u) in self._allowed_updates]
            return world.updates[:limit] if world.updates or self._closing else None

        return await world.wait_until(ready, params.get("timeout", 0)) or []

    async def _set_webhook(self, params: JsonDict, files: dict[str, Upload]) -> bool:
        self.world.webhook = dict(params)
        if params.get("drop_pending_updates"):
            self.world.updates.clear()
        return True

    async def _delete_webhook(self, params: JsonDict, files: dict[str, Upload]) -> bool:
        self.world.webhook = {}
        if params.get("drop_pending_updates"):
            self.world.updates.clear()
        return True

    async def _get_webhook_info(self, params: JsonDict, files: dict[str, Upload]) -> JsonDict:
        return {
            "url": self.world.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.world.updates),
        }

    async def _set_my_commands(self, params: JsonDict, files: dict[str, Upload]) -> bool:
        self.world.commands[_scope_key(params)] = params["commands"]
        return True

    async def _delete_my_commands(self, params: JsonDict, files: dict[str, Upload]) -> bool:
        self.world.commands.pop(_scope_key(params), None)
        return True

    async def _get_my_commands(self, params: JsonDict, files: dict[str, Upload]) -> Any:
        return self.world.commands.get(_scope_key(params), [])

    async def _set_my_description(self, params: JsonDict, files: dict[str, Upload]) -> bool:
        language = params.get("language_code", "")
        self.world.descriptions[("description", language)] = params.get("description", "")
        return True

    async def _set_my_short_description(self, params: JsonDict, files: dict[str, Upload]) -> bool:
        language = params.get("language_code", "")
        short = params.get("short_description", "")
        self.world.descriptions[("short_description", language)] = short
        return True

    async def _set_chat_menu_button(self, params: JsonDict, files: dict[str, Upload]) -> bool:
        self.world.menu_buttons[params.get("chat_id")] = params.get(
            "menu_button", {"type": "default"}
        )
        return True

    async def _send_chat_action(self, params: JsonDict, files: dict[str, Upload]) -> bool:
        self._chat(params)
        return True

    async def _send_message(self, params: JsonDict, files: dict[str, Upload]) -> JsonDict:
        chat = self._chat(params)
        return self._send(chat, "text", params, params["text"], None)

    async def _send_photo(self, params: JsonDict, files: dict[str, Upload]) -> JsonDict:
        return await self._send_file(params, files, "photo")

    async def _send_document(self, params: JsonDict, files: dict[str, Upload]) -> JsonDict:
        return await self._send_file(params, files, "document")

    async def _send_file(self, params: JsonDict, files: dict[str, Upload], kind: Kind) -> JsonDict:
        chat = self._chat(params)
        upload = files.get(kind)
        reference = params.get(kind, "")
        if upload is None and reference.startswith("attach://"):
            upload = files.get(reference.removeprefix("attach://"))
        if upload is not None:
            stored = self.world.store_file(upload.filename, upload.content, upload.mime_type, kind)
        elif reference in self.world.files:
            stored = self.world.files[reference]
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return self._send(chat, kind, params, params.get("caption", ""), stored)

    def _send(
        self, chat: Chat, kind: Kind, params: JsonDict, text: str, file: StoredFile | None
    ) -> JsonDict:
        plain, entities = _rendered(text, params.get("parse_mode"))
        message = BotMessage(
            message_id=chat.next_message_id(),
            chat_id=chat.id,
            text=plain,
            html=text,
            entities=entities,
            buttons=_inline_keyboard(params),
            date=self._now(),
            kind=kind,
            file=file,
        )
        return self.world.bot_send(chat, message)

    async def _edit_message_text(self, params: JsonDict, files: dict[str, Upload]) -> JsonDict:
        chat, message = self._message_to_edit(params)
        if message.kind != "text":
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        if "text" not in params:  # the alternative, rich_message, is not supported here
            raise ApiError(400, "Bad Request: message text is empty")
        plain, entities = _rendered(params["text"], params.get("parse_mode"))
        return self._edit(chat, message, params["text"], plain, entities, _inline_keyboard(params))

    async def _edit_message_caption(self, params: JsonDict, files: dict[str, Upload]) -> JsonDict:
        chat, message = self._message_to_edit(params)
        if message.kind == "text":
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = params.get("caption", "")
        plain, entities = _rendered(caption, params.get("parse_mode"))
        return self._edit(chat, message, caption, plain, entities, _inline_keyboard(params))

    async def _edit_message_reply_markup(
        self, params: JsonDict, files: dict[str, Upload]
    ) -> JsonDict:
        chat, message = self._message_to_edit(params)
        buttons = _inline_keyboard(params)
        return self._edit(chat, message, message.html, message.text, message.entities, buttons)

    def _edit(
        self,
        chat: Chat,
        message: BotMessage,
        html: str,
        plain: str,
        entities: list[JsonDict],
        buttons: list[list[JsonDict]],
    ) -> JsonDict:
        if (plain, entities, buttons) == (message.text, message.entities, message.buttons):
            raise ApiError(400, NOT_MODIFIED)
        message.html, message.text = html, plain
        message.entities, message.buttons = entities, buttons
        return self.world.bot_edit(chat, message, self._now())

    async def _delete_message(self, params: JsonDict, files: dict[str, Upload]) -> bool:
        chat = self._chat(params)
        if params["message_id"] not in chat.messages:
            raise ApiError(400, "Bad Request: message to delete not found")
        self.world.bot_delete(chat, params["message_id"])
        return True

    async def _answer_callback_query(self, params: JsonDict, files: dict[str, Upload]) -> bool:
        query_id = params["callback_query_id"]
        answers = self.world.callback_answers
        if query_id not in answers or answers[query_id] is not None:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is "
                "invalid",
            )
        answers[query_id] = CallbackAnswer(params.get("text"), params.get("show_alert", False))
        self.world.notify()
        return True

    async def _answer_inline_query(self, params: JsonDict, files: dict[str, Upload]) -> bool:
        query_id = params["inline_query_id"]
        answers = self.world.inline_answers
        if query_id not in answers or answers[query_id] is not None:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        answers[query_id] = params["results"]
        self.world.notify()
        return True

    async def _get_file(self, params: JsonDict, files: dict[str, Upload]) -> JsonDict:
        stored = self.world.files.get(params["file_id"])
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return stored.as_file()

    async def _get_chat(self, params: JsonDict, files: dict[str, Upload]) -> JsonDict:
        chat = self._chat(params)
        return {
            **chat.info,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _chat(self, params: Mapping[str, Any]) -> Chat:
        chat = self.world.chat(params.get("chat_id"))
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _message_to_edit(self, params: Mapping[str, Any]) -> tuple[Chat, BotMessage]:
        if "inline_message_id" in params:
            raise ApiError(400, "Bad Request: message to edit not found")
        chat = self._chat(params)
        message = chat.bot_messages.get(params.get("message_id", 0))
        if message is None or message.deleted:
            raise ApiError(400, "Bad Request: message to edit not found")
        return chat, message


# --- helpers ------------------------------------------------------------------------------


async def _read_params(
    request: web.Request,
) -> tuple[dict[str, str], dict[str, Any], dict[str, Upload]]:
    """The request's string parameters (query, form), JSON body values, and uploaded files.

    Raises ValueError for a JSON body that is not an object.
    """
    raw: dict[str, str] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("the JSON body must be an object")
        return raw, body, files
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            content_type = value.content_type
            if content_type in ("", "application/octet-stream"):
                content_type = mimetypes.guess_type(value.filename)[0] or content_type
            files[name] = Upload(value.filename, value.file.read(), content_type)
        else:
            raw[name] = value if isinstance(value, str) else value.decode()
    return raw, {}, files


def _error(error: ApiError) -> web.Response:
    body: JsonDict = {"ok": False, "error_code": error.status, "description": error.description}
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    return web.json_response(body, status=error.status)


def _kind(update: JsonDict) -> str:
    return next(key for key in update if key != "update_id")


def _scope_key(params: Mapping[str, Any]) -> tuple[str, str]:
    scope = params.get("scope", {"type": "default"})
    return json.dumps(scope, sort_keys=True), params.get("language_code", "")


def _rendered(text: str, parse_mode: str | None) -> tuple[str, list[JsonDict]]:
    if parse_mode != "HTML":
        return text, []
    parsed = parse_html(text)
    return parsed.text, parsed.entities


def _inline_keyboard(params: Mapping[str, Any]) -> list[list[JsonDict]]:
    markup = params.get("reply_markup") or {}
    return copy.deepcopy(markup.get("inline_keyboard", []))
