"""Secrets never reach a log line."""

from __future__ import annotations

import logging

from bot.logs import REDACTED, RedactSecrets


def test_token_is_redacted_from_messages_and_tracebacks() -> None:
    """Both the formatted message and an exception's text are cleaned."""
    token = "123456:AAH-secret-token"
    record_filter = RedactSecrets([token])
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{token}/getMe failed")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "calling %s", (f"/bot{token}/getMe",), sys.exc_info()
        )
    assert record_filter.filter(record)
    formatted = logging.Formatter().format(record)
    assert token not in formatted
    assert REDACTED in formatted
