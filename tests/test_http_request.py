"""The aiohttp transport for python-telegram-bot: uploads of every shape PTB hands it."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from aiohttp import BodyPartReader, web
from telegram import InputFile
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.telegram.http import STREAM_ABOVE, AiohttpRequest


@pytest.fixture
async def upload_url() -> AsyncIterator[str]:
    """A server that answers each multipart upload with its parts' names and sizes."""

    async def receive(request: web.Request) -> web.Response:
        reader = await request.multipart()
        sizes: dict[str, int] = {}
        async for part in reader:
            assert isinstance(part, BodyPartReader)
            sizes[str(part.name)] = len(await part.read())
        return web.json_response(sizes)

    server = web.Application(client_max_size=4 * STREAM_ABOVE)
    server.router.add_post("/upload", receive)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/upload"
    await runner.cleanup()


@pytest.mark.parametrize(
    ("content", "read_file_handle"),
    [
        (b"small file", True),
        (b"x" * (STREAM_ABOVE + 1), True),  # big bytes are streamed from a BytesIO
        (b"a file handle", False),  # PTB passes the handle itself (read_file_handle=False)
    ],
    ids=["bytes", "big-bytes", "file-handle"],
)
async def test_uploads_bytes_and_file_handles(
    upload_url: str, content: bytes, read_file_handle: bool
) -> None:
    document = InputFile(io.BytesIO(content), filename="a.txt", read_file_handle=read_file_handle)
    data = RequestData([RequestParameter.from_input("document", document)])
    request = AiohttpRequest()
    await request.initialize()
    try:
        status, body = await request.do_request(upload_url, "POST", request_data=data)
    finally:
        await request.shutdown()
    assert status == 200
    assert body == f'{{"document": {len(content)}}}'.encode()
