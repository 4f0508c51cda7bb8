"""Logging set-up: quiet libraries, and secrets redacted from every record."""

from __future__ import annotations

import logging

REDACTED = "[REDACTED]"


class RedactSecrets(logging.Filter):
    """Replaces secret values (the bot token, the webhook secret) wherever they appear."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, redact it, and drop the arguments."""
        if not self.secrets:
            return True
        message = record.getMessage()
        text = record.exc_text or ""
        if record.exc_info and not text:
            text = logging.Formatter().formatException(record.exc_info)
        for secret in self.secrets:
            message = message.replace(secret, REDACTED)
            text = text.replace(secret, REDACTED)
        record.msg, record.args = message, None
        if text:
            record.exc_text, record.exc_info = text, None
        return True


def setup_logging(level: str, secrets: list[str]) -> None:
    """Log to stderr at `level`, with secrets redacted and HTTP chatter muted."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL, and the URL contains the token.
    for noisy in ("httpx", "httpcore", "apscheduler", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
