"""Find English left in a text meant for a Russian, Hindi or Gujarati reader (issue 19).

`english_words(text, allowed)` lists the English words a translated message still carries,
after what is English in every language is taken out: HTML tags, /commands, links, e-mail
addresses, @usernames, currency and other upper-case codes, the product's and other brands'
names, and the names the test itself typed (clients, people, invoice numbers: `allowed`).
End-to-end tests per locale assert it is empty for every message a person gets.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

ALWAYS_ALLOWED = frozenset(
    {"nextstep", "telegram", "google", "apple", "iphone", "mac", "calendar", "excel", "csv",
     "xlsx", "ics", "pdf", "png", "url", "http", "https", "www", "com", "example", "utc", "gmt",
     "ok", "tel", "mailto", "whatsapp", "email", "e-mail"}
)  # fmt: skip
"""Brands and formats a translated text names as they are (Google Calendar, CSV, UTC)."""

_TAG = re.compile(r"<[^>]+>")
_NOT_WORDS = re.compile(
    r"https?://\S+|\S+@\S+\.\S+|(?<!\w)[/@#]\w+|\b[A-Z]{2,5}\b|\b[A-Z]{2}\d+\b|\S*\d\S*"
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


def english_words(text: str, allowed: Iterable[str] = ()) -> list[str]:
    """The English words in `text` besides tags, commands, links, codes, brands and `allowed`
    (typed names: each of their words is allowed anywhere)."""
    plain = html.unescape(_TAG.sub(" ", text))
    for name in sorted(allowed, key=len, reverse=True):
        plain = re.sub(re.escape(name), " ", plain, flags=re.IGNORECASE)
    plain = _NOT_WORDS.sub(" ", plain)
    return [
        word
        for word in _WORD.findall(plain)
        if word.lower() not in ALWAYS_ALLOWED and len(word) > 1
    ]


def assert_no_english(text: str, allowed: Iterable[str] = ()) -> None:
    """Fail with the English words left when a translated message still has some."""
    leaks = english_words(text, allowed)
    assert not leaks, f"English left in a translated message: {leaks}\n---\n{text}"
