"""`make run` without a token: the sandbox serves its page and the bot answers, quickly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bot.devtools.demo import persona

ROOT = Path(__file__).resolve().parent.parent
START_WITHIN = 20.0  # seconds, from starting the process to the bot's first reply


def make_run_command() -> list[str]:
    """The arguments of `python` in the Makefile's `run` recipe (so this runs that path)."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("run: $(STAMP)"))
    recipe = lines[start + 1].split()
    assert recipe[0] == "$(PY)", recipe
    return recipe[1:]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str, body: dict | None = None, timeout: float = 5.0) -> bytes:
    """GET (or POST JSON to) the sandbox, as the page does."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data)  # noqa: S310 - http://127.0.0.1 only
    if body is not None:
        request.add_header("Content-Type", "application/json")
        request.add_header("X-NextStep-Sandbox", "1")
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return response.read()


def test_make_run_without_token_starts_the_sandbox(tmp_path: Path) -> None:
    """In a fresh folder with no token: the page is served and /start is answered in 20 s,
    and the sandbox's own database appears under data/."""
    port, calendar_port = free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"BOT_TOKEN", "DATABASE_URL", "SANDBOX_DATABASE_URL", "WEBHOOK_URL"}
    }
    env |= {"SANDBOX_PORT": str(port), "PYTHONPATH": str(ROOT), "PTB_TIMEDELTA": "1"}
    env |= {"CALENDAR_PORT": str(calendar_port)}
    env.pop("PUBLIC_URL", None)
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, *make_run_command()],
        cwd=tmp_path,  # a fresh clone's state: no .env, no data/
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        page = b""
        while time.monotonic() - started < START_WITHIN and process.poll() is None:
            try:
                page = fetch(url + "/")
                break
            except OSError:
                time.sleep(0.2)
        assert b"NextStep sandbox" in page, "the page was not served"
        admin = persona("admin").telegram_id
        fetch(url + "/api/send", {"user_id": admin, "text": "/start"})
        replies: list[str] = []
        revision = -1
        while not replies and time.monotonic() - started < START_WITHIN:
            left = START_WITHIN - (time.monotonic() - started)
            chat = json.loads(fetch(f"{url}/api/chat/{admin}?since={revision}", timeout=left + 1))
            revision = chat["revision"]
            replies = [m["text"] for m in chat["messages"] if not m["mine"]]
        assert replies, f"no reply to /start within {START_WITHIN} s"
        assert "NextStep" in replies[0] or "admin" in replies[0]
        # The sandbox serves the calendar feeds too: an unknown link is a bare 404.
        feeds = f"http://127.0.0.1:{calendar_port}"
        try:
            fetch(f"{feeds}/calendar/{'x' * 32}.ics")
        except urllib.error.HTTPError as refused:
            assert refused.code == 404
        else:
            raise AssertionError("an unknown calendar link was served")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert "SANDBOX" in output and f"http://127.0.0.1:{port}/" in output, output
    assert f"Calendar feeds (/calendar) are served at {feeds}/calendar/" in output, output
    assert process.returncode == 0, output
    assert (tmp_path / "data" / "sandbox.sqlite3").exists()
    assert not (tmp_path / "data" / "nextstep.sqlite3").exists()
