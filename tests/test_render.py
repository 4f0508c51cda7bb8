"""Rendering: escaping, Telegram's 4096 limit, balanced tags, and every template renders."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.devtools.check import check_templates
from bot.views.render import escape, render, split_message, telegram_length


def test_every_template_renders_with_its_samples() -> None:
    """`python -m bot check` finds nothing wrong with the shipped templates."""
    assert check_templates() == []


def test_user_text_is_escaped_in_templates() -> None:
    """A name with markup arrives as text, not as tags."""
    text = render(
        "texts/access_request.html.j2", name="<b>Eve</b> & co", username=None, telegram_id=1
    )
    assert "&lt;b&gt;Eve&lt;/b&gt; &amp; co" in text


def test_escape() -> None:
    """The three characters Telegram HTML cares about are escaped."""
    assert escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"


def test_short_text_is_one_part() -> None:
    """Nothing to split."""
    assert split_message("<b>hi</b>") == ["<b>hi</b>"]


def test_long_text_splits_at_lines_with_tags_balanced() -> None:
    """Parts stay under the limit, and a tag open across a cut is closed and reopened."""
    lines = [f"<b>line {i}</b> " + "x" * 60 for i in range(200)]
    text = "<i>" + "\n".join(lines) + "</i>"
    parts = split_message(text, limit=1000)
    assert len(parts) > 1
    for part in parts:
        assert telegram_length(part) <= 1000
        assert part.count("<i>") == part.count("</i>")
        assert part.count("<b>") == part.count("</b>")


_TAG = re.compile(r"<[^>]*>")


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=0, max_size=12000))
def test_split_never_exceeds_and_never_loses_text(raw: str) -> None:
    """Any escaped text (emoji, RTL marks, control characters) splits losslessly under 4096."""
    html = escape(raw)
    parts = split_message(html)
    assert all(telegram_length(part) <= 4096 for part in parts)
    if html.strip():
        joined = "".join(parts)
        assert _TAG.sub("", joined).replace("\n", "").replace(" ", "") == html.replace(
            "\n", ""
        ).replace(" ", "")
