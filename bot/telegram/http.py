"""python-telegram-bot's HTTP calls made with aiohttp instead of httpx.

Under load the bot spent half of its CPU inside httpx: its connection pool checks every
pooled connection on every request, so a pool of 256 costs ~2.7 ms of CPU per Bot API call,
against ~0.2 ms for aiohttp's client on the same machine (bench/bench_load.py and the
comparison in README "Performance"). `AiohttpRequest` is a `BaseRequest`, the extension point
python-telegram-bot offers for exactly this: same parameters, same timeouts (aiohttp has no
write timeout; the sum of all timeouts bounds a stalled upload), errors mapped to
`TimedOut` / `NetworkError` as `HTTPXRequest` does.
"""

from __future__ import annotations

import io

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# PTB's own defaults for HTTPXRequest.
POOL_SIZE = 256
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
MEDIA_WRITE_TIMEOUT = 20.0
STREAM_ABOVE = 1024 * 1024  # uploads bigger than this are sent from a file object


class AiohttpRequest(BaseRequest):
    """Bot API calls over one aiohttp session with a keep-alive pool of `connection_pool_size`."""

    def __init__(
        self,
        *,
        connection_pool_size: int = POOL_SIZE,
        read_timeout: float | None = READ_TIMEOUT,
        write_timeout: float | None = WRITE_TIMEOUT,
        connect_timeout: float | None = CONNECT_TIMEOUT,
        pool_timeout: float | None = POOL_TIMEOUT,
        media_write_timeout: float | None = MEDIA_WRITE_TIMEOUT,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout, in seconds (PTB adds it to getUpdates' long-poll time)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (inside the running event loop, as aiohttp requires)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

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
        """One HTTP request: the status code and the body."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        write = _given(write_timeout, self._media_write_timeout if files else self._write_timeout)
        timeout = aiohttp.ClientTimeout(
            total=_sum(read, write, connect, pool),
            connect=_sum(connect, pool),  # aiohttp's connect includes waiting for the pool
            sock_connect=connect,
            sock_read=read,
        )
        body: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None:
            body = request_data.json_parameters
            if files:
                form = aiohttp.FormData(body)
                for name, (filename, content, mimetype) in files.items():
                    # A file object is streamed in 64 KB pieces; aiohttp warns about big bytes.
                    # (PTB passes a file handle as it is for `InputFile(read_file_handle=False)`.)
                    value = content
                    if isinstance(content, bytes) and len(content) > STREAM_ABOVE:
                        value = io.BytesIO(content)
                    form.add_field(name, value, filename=filename, content_type=mimetype)
                body = form
        try:
            async with self._session.request(method, url, data=body, timeout=timeout) as answer:
                return answer.status, await answer.read()
        except TimeoutError as err:  # aiohttp's ServerTimeoutError included
            raise TimedOut from err
        except aiohttp.ClientError as err:
            # The URL holds the token: never let it into an error message.
            detail = str(err).replace(url, "<Bot API URL>")
            raise NetworkError(f"aiohttp.{type(err).__name__}: {detail}") from err


def _given(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _sum(*timeouts: float | None) -> float | None:
    """The total of the timeouts, or None (no limit) if any is unlimited."""
    given = [timeout for timeout in timeouts if timeout is not None]
    return sum(given) if len(given) == len(timeouts) else None
