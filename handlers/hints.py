"""What to send instead, added to a refusal that the error handler answers.

A service's DomainError says what was wrong; the question a handler asked knows what to send
next ("Please send the amount again, or /cancel."). `with hint(...)` around the call adds
that sentence and lets the error go on to bot/telegram/error_handler.py, which answers it
(escaped, once). The conversation stays in its state, so the question stays open.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bot.services.errors import DomainError


@contextmanager
def hint(text: str, *, sep: str = "\n") -> Iterator[None]:
    """Re-raise a DomainError from the block with `text` (plain, not HTML) after its own."""
    try:
        yield
    except DomainError as exc:
        raise DomainError(f"{exc}{sep}{text}") from exc
