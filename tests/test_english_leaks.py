"""The English-leak finder the per-locale end-to-end tests rely on (tests/english_leaks.py)."""

from __future__ import annotations

import pytest

from tests.english_leaks import assert_no_english, english_words


def test_a_translated_text_with_names_codes_and_commands_has_no_english() -> None:
    text = (
        "✅ <b>Записано</b>: звонок с <b>Tundra Outdoor</b>, 5 дек. 2026 г., 10:00\n"
        "Счёт INV-42 на 1 234,50 EUR, /invoices, https://example.com/calendar/x.ics, "
        "@olga, olga@example.com, Google Calendar"
    )
    assert english_words(text, allowed=["Tundra Outdoor"]) == []


@pytest.mark.parametrize(
    ("text", "leaks"),
    [
        ("Записано: call с клиентом", ["call"]),
        ("<b>Next step</b>: звонок", ["Next", "step"]),
        ("कल 10 बजे — Tap a button", ["Tap", "a", "button"]),
    ],
)
def test_english_words_left_are_found(text: str, leaks: list[str]) -> None:
    assert english_words(text) == [word for word in leaks if len(word) > 1]
    with pytest.raises(AssertionError, match="English left"):
        assert_no_english(text)
