"""Fault injection for the fake Bot API server: Telegram on a bad day.

A `FaultInjector` answers a configurable share of the bot's calls with what the real Bot API
and the network in between do now and then: 429 with `retry_after`, 500, 502, a request that
hangs until the client gives up (never processed), a call that is processed but whose answer
comes too late (the bot cannot know it landed), and a connection reset. It is an aiohttp
middleware, so the fake server's own logic and its spec checks stay untouched:

    faults = FaultInjector(share=0.3, seed=7)
    server = FakeBotApiServer(...)
    faults.install(server)  # before server.start()
    ...
    faults.share = 0.1      # change it at any time; 0 switches it off

`getUpdates` is spared by default (a faulty long poll only slows the test down; PTB's polling
loop has its own back-off), and so are the file downloads and any page routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.devtools.sandbox.server import FakeBotApiServer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Fault(StrEnum):
    """One kind of failure."""

    RATE_LIMITED = "429"
    SERVER_ERROR = "500"
    BAD_GATEWAY = "502"
    TIMEOUT = "timeout"  # held until the client gives up; the call is never processed
    LATE = "late"  # processed, but answered only after the client gave up
    RESET = "reset"  # the connection is reset before anything is processed


ALL_FAULTS = tuple(Fault)


@dataclass
class FaultLog:
    """What the injector saw and did, for assertions and reports."""

    calls: Counter[str] = field(default_factory=Counter)  # method -> calls seen
    injected: Counter[Fault] = field(default_factory=Counter)
    by_method: Counter[tuple[str, Fault]] = field(default_factory=Counter)

    @property
    def total_calls(self) -> int:
        """Calls that reached the injector (spared methods are not counted)."""
        return sum(self.calls.values())

    @property
    def total_injected(self) -> int:
        """Calls answered with a fault."""
        return sum(self.injected.values())


class FaultInjector:
    """Answers `share` of the Bot API calls with a fault drawn from `faults`.

    `retry_after` is what a 429 asks for (seconds); `hold` is how long a TIMEOUT or LATE
    answer is held: longer than the bot's read timeout. `methods` limits injection to those
    methods (case-insensitive); `spare` are never touched. The draw is seeded: the same seed
    and the same sequence of calls give the same faults.
    """

    def __init__(
        self,
        *,
        share: float = 0.0,
        faults: Iterable[Fault] = ALL_FAULTS,
        seed: int = 0,
        retry_after: int = 1,
        hold: float = 6.0,
        methods: Iterable[str] | None = None,
        spare: Iterable[str] = ("getUpdates",),
    ) -> None:
        self.share = share
        self.faults = tuple(faults)
        if not self.faults:
            raise ValueError("choose at least one kind of fault")
        self.retry_after = retry_after
        self.hold = hold
        self.methods = None if methods is None else {m.lower() for m in methods}
        self.spare = {m.lower() for m in spare}
        self.log = FaultLog()
        self._random = random.Random(seed)

    def install(self, server: FakeBotApiServer) -> None:
        """Put the injector in front of `server`'s Bot API routes (call before `start`)."""
        server.middlewares.append(self.middleware)

    def applies_to(self, method: str) -> bool:
        """Whether calls of `method` may be answered with a fault."""
        name = method.lower()
        if name in self.spare:
            return False
        return self.methods is None or name in self.methods

    def draw(self, method: str) -> Fault | None:
        """The fault for the next call of `method`, or None to serve it normally."""
        if not self.applies_to(method):
            return None
        self.log.calls[method] += 1
        if self.share <= 0 or self._random.random() >= self.share:
            return None
        fault = self._random.choice(self.faults)
        self.log.injected[fault] += 1
        self.log.by_method[(method, fault)] += 1
        return fault

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The aiohttp middleware: pass the request on, or fail it."""
        method = request.match_info.get("method")
        if method is None or "token" not in request.match_info:
            return await handler(request)  # file downloads, the sandbox page
        fault = self.draw(method)
        if fault is None:
            return await handler(request)
        if fault is Fault.RATE_LIMITED:
            return _error(
                429, f"Too Many Requests: retry after {self.retry_after}", self.retry_after
            )
        if fault is Fault.SERVER_ERROR:
            return _error(500, "Internal Server Error")
        if fault is Fault.BAD_GATEWAY:
            return _error(502, "Bad Gateway")
        if fault is Fault.RESET:
            _reset(request)
            return web.Response(status=500)  # never written: the connection is gone
        if fault is Fault.LATE:
            response = await handler(request)
            await asyncio.sleep(self.hold)
            return response
        await asyncio.sleep(self.hold)  # TIMEOUT: the client has given up by now
        _reset(request)
        return web.Response(status=504)


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, object] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


def _reset(request: web.Request) -> None:
    """Close the connection with a TCP reset (SO_LINGER 0), as a dropped link looks."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
