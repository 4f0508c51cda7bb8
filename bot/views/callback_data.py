"""Callback data: `<feature>:<action>[:<arg>...]`, at most 64 bytes, parsed as untrusted input."""

from __future__ import annotations

import re
from typing import Any

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


# --- typed actions ---------------------------------------------------------------------------


class Field:
    """One typed value in a button's data: its shape (a regex) and how it is read and written."""

    regex: str = ""

    def read(self, text: str) -> object | None:
        """The value `text` stands for, or None when it is not one (untrusted input)."""
        raise NotImplementedError

    def write(self, value: object) -> str:
        """The text a value is packed as."""
        return str(value)


class Id(Field):
    """A positive database id."""

    regex = r"[1-9][0-9]{0,17}"

    def read(self, text: str) -> int | None:
        """The id, or None."""
        return parse_id(text)


class Number(Field):
    """A whole number from `low` to `high` (a page, a count of days, minutes)."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high
        self.regex = r"-?[0-9]{1,9}" if low < 0 else r"[0-9]{1,9}"

    def read(self, text: str) -> int | None:
        """The number, or None outside the range."""
        try:
            value = int(text)
        except ValueError:
            return None
        return value if self.low <= value <= self.high and text == str(value) else None


class Choice(Field):
    """One of a fixed set of words."""

    def __init__(self, *values: str) -> None:
        if not values or any(not v or SEPARATOR in v for v in values):
            raise ValueError(f"choices must be non-empty words: {values}")
        self.values = frozenset(values)
        self.regex = "(?:" + "|".join(re.escape(v) for v in sorted(values)) + ")"

    def read(self, text: str) -> str | None:
        """The word, or None when it is not one of the choices."""
        return text if text in self.values else None


class Token(Field):
    """A short code of safe characters (a template key, an ISO week, a zone's index)."""

    def __init__(self, regex: str = r"[A-Za-z0-9_.+\-/]{1,40}") -> None:
        self.regex = regex
        self._compiled = re.compile(regex)

    def read(self, text: str) -> str | None:
        """The code, or None when it has another shape."""
        return text if self._compiled.fullmatch(text) else None


Part = str | Field


class Action:
    """One kind of button: it owns its data's words and fields, their packing within 64 bytes,
    their parsing as untrusted input, and the pattern its handler is registered with.

    `Action("iv", "pay", Id())` packs as `iv:pay:42`; literal words are fixed, fields typed.
    """

    def __init__(self, *parts: Part) -> None:
        if not parts or not isinstance(parts[0], str):
            raise ValueError("an action starts with its feature's prefix")
        for part in parts:
            if isinstance(part, str) and (not part or SEPARATOR in part):
                raise ValueError(f"literal parts must be non-empty words: {parts}")
        self.parts = parts
        self.fields = tuple(part for part in parts if isinstance(part, Field))
        body = SEPARATOR.join(
            re.escape(part) if isinstance(part, str) else part.regex for part in parts
        )
        self.pattern = re.compile(rf"^{body}\Z")
        self.prefix = parts[0]

    def __repr__(self) -> str:
        return f"Action({self.pattern.pattern!r})"

    def pack(self, *values: object) -> str:
        """The data for these field values, checked against the action's own pattern."""
        if len(values) != len(self.fields):
            raise ValueError(f"{self!r} takes {len(self.fields)} values, got {values!r}")
        given = iter(values)
        texts = [part if isinstance(part, str) else part.write(next(given)) for part in self.parts]
        data = pack(*texts)
        if not self.pattern.match(data) or self.parse(data) is None:
            raise ValueError(f"{values!r} don't fit {self!r}")
        return data

    def parse(self, data: str | None) -> tuple[Any, ...] | None:
        """The field values of data made by this action, or None for anything else."""
        if not data or len(data.encode("utf-8")) > MAX_BYTES or not self.pattern.match(data):
            return None
        texts = data.split(SEPARATOR)
        values: list[object] = []
        for part, text in zip(self.parts, texts, strict=True):
            if isinstance(part, Field):
                value = part.read(text)
                if value is None:
                    return None
                values.append(value)
        return tuple(values)

    def matches(self, data: str | None) -> bool:
        """Whether data has this action's shape and values."""
        return self.parse(data) is not None


def any_of(*actions: Action) -> re.Pattern[str]:
    """The pattern of a handler that takes several actions (it tells them apart by parsing)."""
    if not actions:
        raise ValueError("any_of needs at least one action")
    return re.compile("|".join(f"(?:{action.pattern.pattern})" for action in actions))
