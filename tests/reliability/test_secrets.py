"""Secrets stay secret: webhook requests without the right secret token are rejected, and
neither the bot token nor the webhook secret appears in the bot's logs (the SIGKILL and
fault runs scan theirs too)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from bot.devtools.sandbox.server import FakeBotApiServer
from tests.conftest import TOKEN

ROOT = Path(__file__).resolve().parents[2]
SECRET = "webhook-Secret_token-4242-long-enough-32"
PERSON = 7501


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_rejects_requests_without_the_secret(
    server: FakeBotApiServer, tmp_path: Path
) -> None:
    """No header or a wrong one: 403 and nothing handled; the right one: handled. The log
    holds neither the token nor the secret."""
    port = free_port()
    log = tmp_path / "bot.log"
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": server.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'hook.sqlite3'}",
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/hook",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "WEBHOOK_SECRET": SECRET,
        "LOG_LEVEL": "DEBUG",
        "PTB_TIMEDELTA": "1",
    }
    person = server.user(PERSON, "Stranger")
    with log.open("wb") as out:
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        for _ in range(300):
            if server.world.webhook.get("url"):
                break
            await asyncio.sleep(0.1)
        assert server.world.webhook.get("secret_token") == SECRET
        url = f"http://127.0.0.1:{port}/telegram/hook"
        message = {
            "message_id": 1,
            "date": server.world.now(),
            "chat": person.chat.info,
            "from": server.world.users[PERSON],
            "text": "hello",
        }
        async with aiohttp.ClientSession() as session:
            for _ in range(100):  # the webhook server may still be starting
                try:
                    async with session.get(url) as response:
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            for update_id, headers in (
                (1, {}),
                (2, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}),
                (3, {"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1]}),
            ):
                body = json.dumps({"update_id": update_id, "message": message})
                headers = {**headers, "Content-Type": "application/json"}
                async with session.post(url, data=body, headers=headers) as response:
                    assert response.status == 403, update_id
            await person.no_reply(within=1.0)
            body = json.dumps({"update_id": 4, "message": message})
            headers = {
                "X-Telegram-Bot-Api-Secret-Token": SECRET,
                "Content-Type": "application/json",
            }
            async with session.post(url, data=body, headers=headers) as response:
                assert response.status == 200
        assert "invite-only" in (await person.reply(timeout=10)).text
    finally:
        bot.send_signal(signal.SIGTERM)
        await bot.wait()
    text = log.read_text(errors="replace")
    assert "Webhook" in text or "webhook" in text  # the log was written
    for secret in (TOKEN, TOKEN.split(":")[1], SECRET):
        assert secret not in text, f"{secret[:6]}… leaked into the log"
