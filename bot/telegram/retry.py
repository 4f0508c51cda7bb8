"""Bounded retries of Bot API calls that failed on the way (network, 5xx), with back-off.

python-telegram-bot retries nothing but a 429 (in `AIORateLimiter`): a reply lost to a
connection reset or a 502 would surface as an error in the handler, after its data was saved,
and the person would see an apology instead of the answer. `RetryingRequest` retries such
failures a few times with exponential back-off and jitter, logging each retry, then gives up
(the error handler takes over). 4xx answers other than the special cases below and 429s are
passed on unchanged: the rate limiter owns 429.

A retry may repeat a call that did land (the answer was lost, not the request): a message can
arrive twice, never not at all. A retried `answerCallbackQuery` that Telegram reports as
already answered did land, and is reported as a success.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from http import HTTPStatus

from telegram._utils.types import ODVInput
from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

from bot.telegram.http import AiohttpRequest

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({500, 502, 503, 504})
ATTEMPTS = 4
BASE_DELAY = 0.5  # seconds before the first retry; doubled each time
MAX_DELAY = 8.0
READ_TIMEOUT = 5.0  # PTB's default; the fault tests shorten it
# Errors that prove an earlier attempt of the same call landed.
ALREADY_DONE = {
    "answerCallbackQuery": "query is too old",
}
DONE_BODY = json.dumps({"ok": True, "result": True}).encode()


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based), with ±25 % jitter."""
    delay = min(BASE_DELAY * 2.0 ** (attempt - 1), MAX_DELAY)
    return delay * random.uniform(0.75, 1.25)


class RetryingRequest(AiohttpRequest):
    """The bot's HTTP client (aiohttp, bot/telegram/http.py), retrying transient failures."""

    def __init__(self, *, attempts: int = ATTEMPTS, read_timeout: float | None = None) -> None:
        super().__init__(read_timeout=READ_TIMEOUT if read_timeout is None else read_timeout)
        self.attempts = attempts

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One Bot API call, retried on network errors and 5xx answers."""
        endpoint = url.rsplit("/", 1)[-1]  # never log the URL: it contains the token
        attempt = 1
        while True:
            try:
                code, payload = await super().do_request(
                    url,
                    method,
                    request_data,
                    read_timeout=read_timeout,
                    write_timeout=write_timeout,
                    connect_timeout=connect_timeout,
                    pool_timeout=pool_timeout,
                )
            except NetworkError as exc:  # TimedOut included
                if attempt >= self.attempts:
                    logger.error(
                        "Telegram %s failed %d times, giving up: %s", endpoint, attempt, exc
                    )
                    raise
                reason = str(exc) or type(exc).__name__
            else:
                if attempt > 1 and _already_done(endpoint, code, payload):
                    logger.info("Telegram %s had landed before its answer was lost", endpoint)
                    return HTTPStatus.OK, DONE_BODY
                if code not in RETRY_STATUSES or attempt >= self.attempts:
                    if code in RETRY_STATUSES:
                        logger.error(
                            "Telegram %s answered %d %d times, giving up", endpoint, code, attempt
                        )
                    return code, payload
                reason = f"HTTP {code}"
            delay = backoff(attempt)
            logger.warning(
                "Telegram %s failed (%s); retry %d of %d in %.1f s",
                endpoint,
                reason,
                attempt,
                self.attempts - 1,
                delay,
            )
            await asyncio.sleep(delay)
            attempt += 1


def _already_done(endpoint: str, code: int, payload: bytes) -> bool:
    marker = ALREADY_DONE.get(endpoint)
    return (
        marker is not None
        and code == HTTPStatus.BAD_REQUEST
        and marker in payload.decode("utf-8", "replace")
    )
