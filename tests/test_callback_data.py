"""The callback-data codec: 64 bytes at most, and untrusted input parsed defensively."""

from __future__ import annotations

import pytest

from bot.callback_data import CallbackDataTooLong, pack, parse_id, unpack


def test_pack_and_unpack() -> None:
    """Parts round-trip through the codec."""
    data = pack("acc", "mgr", 42)
    assert data == "acc:mgr:42"
    assert unpack(data, "acc", 2) == ["mgr", "42"]


def test_limit_is_bytes_not_characters() -> None:
    """Cyrillic letters take two bytes each; 40 of them are over the limit."""
    pack("x", "я" * 31)
    with pytest.raises(CallbackDataTooLong):
        pack("x", "я" * 32)


def test_separators_inside_parts_are_refused() -> None:
    """A part may not smuggle in another field."""
    with pytest.raises(ValueError, match="free of"):
        pack("team", "role:admin")


@pytest.mark.parametrize(
    "data", [None, "", "acc", "acc:mgr", "acc:mgr:1:2", "other:mgr:1", "acc::1", "a" * 65]
)
def test_unpack_rejects_malformed(data: str | None) -> None:
    """Wrong prefix, wrong arity, empty parts or oversize data give None."""
    assert unpack(data, "acc", 2) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("42", 42), ("0", None), ("-1", None), ("1e3", None), ("٣", None), ("9" * 19, None)],
)
def test_parse_id(text: str, expected: int | None) -> None:
    """Only plain positive ASCII integers are ids."""
    assert parse_id(text) == expected
