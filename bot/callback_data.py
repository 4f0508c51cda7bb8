"""Callback data: `<feature>:<action>[:<arg>...]`, at most 64 bytes, parsed as untrusted input."""

from __future__ import annotations

from telegram.constants import InlineKeyboardButtonLimit

MAX_BYTES = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
SEPARATOR = ":"


class CallbackDataTooLong(ValueError):
    """Raised when a button would carry more than Telegram's 64 bytes."""


def pack(*parts: object) -> str:
    """Join parts into callback data, refusing separators inside parts and oversize results."""
    texts = [str(part) for part in parts]
    if any(SEPARATOR in text or not text for text in texts):
        raise ValueError(f"callback parts must be non-empty and free of {SEPARATOR!r}: {texts}")
    data = SEPARATOR.join(texts)
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise CallbackDataTooLong(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def unpack(data: str | None, prefix: str, arity: int) -> list[str] | None:
    """Split data that starts with `prefix:` into exactly `arity` parts after it, else None."""
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        return None
    parts = data.split(SEPARATOR)
    if parts[0] != prefix or len(parts) != arity + 1 or not all(parts):
        return None
    return parts[1:]


def parse_id(text: str) -> int | None:
    """A positive database id from callback text, or None for anything else."""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    value = int(text)
    return value if value > 0 else None
