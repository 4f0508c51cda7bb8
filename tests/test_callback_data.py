"""The callback-data codec: 64 bytes at most, and untrusted input parsed defensively."""

from __future__ import annotations

import pytest

from bot.views.callback_data import (
    Action,
    CallbackDataTooLong,
    Choice,
    Id,
    Number,
    Token,
    pack,
    parse_id,
    unpack,
)


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


def test_an_action_packs_parses_and_owns_its_pattern() -> None:
    """`Action("iv", "pay", Id())`: one declaration for the button, the handler and the parse."""
    pay = Action("iv", "pay", Id())
    assert pay.pack(42) == "iv:pay:42"
    assert pay.parse("iv:pay:42") == (42,)
    assert pay.pattern.match("iv:pay:42")
    for forged in ("iv:pay:0", "iv:pay:-1", "iv:pay:4x", "iv:pay:42:1", "iv:pay", "iv:payx:1"):
        assert pay.parse(forged) is None, forged
    assert pay.parse("iv:pay:" + "9" * 19) is None
    assert pay.parse(None) is None


def test_fields_of_every_kind() -> None:
    """Numbers in a range, choices and tokens are read back typed, and refused outside."""
    page = Action("cl", "pg", Number(0, 500), Choice("all", "mine"))
    assert page.pack(3, "mine") == "cl:pg:3:mine"
    assert page.parse("cl:pg:3:mine") == (3, "mine")
    assert page.parse("cl:pg:501:mine") is None
    assert page.parse("cl:pg:03:mine") is None
    assert page.parse("cl:pg:3:theirs") is None
    week = Action("dg", "w", Token(r"[0-9]{4}-W[0-9]{2}"))
    assert week.parse("dg:w:2026-W47") == ("2026-W47",)
    assert week.parse("dg:w:2026-47") is None
    with pytest.raises(ValueError, match="don't fit"):
        page.pack(900, "mine")
    with pytest.raises(ValueError, match="takes 2 values"):
        page.pack(1)


def test_an_oversize_action_is_refused_when_packed() -> None:
    """Packing checks the 64 bytes, like every button."""
    note = Action("x", Token(r".{1,80}"))
    with pytest.raises(CallbackDataTooLong):
        note.pack("y" * 70)
