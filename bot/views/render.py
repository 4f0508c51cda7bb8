"""Jinja2 rendering of bot texts into Telegram HTML, and splitting to Telegram's 4096 limit.

User text is escaped exactly once. A template escapes every plain `str` it is given; a short
piece of the bot's own HTML with user values in it (a notice above a card) is made with
`html()`, which escapes the values and returns `Markup`, inserted by a template as it is.
So a value is never escaped by hand before it goes into a template (that showed
"Balance: <b>€12,100.00</b>" with its tags).
"""

from __future__ import annotations

import html as stdlib_html
import re
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from telegram.constants import MessageLimit

from bot import i18n
from bot.config import TEMPLATES_DIR
from bot.i18n import N_

MAX_MESSAGE = MessageLimit.MAX_TEXT_LENGTH
_TAG = re.compile(r"<(/?)([a-z-]+)([^>]*)>")


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment for bot texts: autoescaped, strict about unknown variables,
    with `{% trans %}` / `_()` in the current person's language (bot/i18n.py)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # Templates ship with the code: no stat() of the file on every render.
        auto_reload=False,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.globals["kind_name"] = kind_name
    return env


KIND_NAMES = {
    "call": N_("call"),
    "meeting": N_("meeting"),
    "email": N_("email"),
    "message": N_("message"),
    "visit": N_("visit"),
    "other": N_("other"),
}
"""A contact's or step's kind as a word of the reader's language (a noun on its own)."""


def kind_name(kind: str) -> str:
    """The kind ("call") in the current person's language."""
    return i18n.gettext(KIND_NAMES.get(kind, kind))


def render(template: str, /, **context: Any) -> str:
    """Render `templates/<template>` with autoescaping (user text is always escaped)."""
    return environment().get_template(template).render(**context).strip()


def html(template: str, /, **values: object) -> Markup:
    """The bot's own HTML `template` ("Balance: <b>{balance}</b>") with each value escaped.

    The result goes into a Jinja2 template as it is (or straight into a message); plain
    strings given to a template are escaped there instead. Never pass `escape()`d values.
    """
    # The template is the bot's own literal text; format() escapes every value.
    return Markup(template).format(**values)  # noqa: S704


def escape(text: object) -> str:
    """Escape any user-provided text for Telegram HTML."""
    return stdlib_html.escape(str(text), quote=False)


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units); raw HTML over-counts, which is safe."""
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split HTML into messages of at most `limit`, at line breaks, keeping tags balanced.

    Open tags at a cut are closed at the end of one part and reopened at the start of the next;
    a single overlong line is cut between words (or, failing that, between characters, never
    inside a tag or an entity).
    """
    parts: list[str] = []
    current = ""
    open_tags: list[tuple[str, str]] = []  # (name, full opening tag)

    def closing() -> str:
        return "".join(f"</{name}>" for name, _ in reversed(open_tags))

    def flush() -> None:
        nonlocal current
        if current.strip():
            parts.append(current.rstrip("\n") + closing())
        current = "".join(tag for _, tag in open_tags)

    for piece in _pieces(text, limit // 2):
        reserve = telegram_length(closing()) + 64  # room for tags this piece may still open
        if current.strip() and telegram_length(current + piece) + reserve > limit:
            flush()
        current += piece
        for match in _TAG.finditer(piece):
            if match.group(1):
                if open_tags and open_tags[-1][0] == match.group(2):
                    open_tags.pop()
            else:
                open_tags.append((match.group(2), match.group(0)))
    if current.strip():
        parts.append(current.rstrip("\n") + closing())
    return parts or [text]


def _pieces(text: str, max_piece: int) -> list[str]:
    """Lines (with their newline); lines longer than `max_piece` cut at safe points."""
    pieces: list[str] = []
    for line in text.splitlines(keepends=True):
        while telegram_length(line) > max_piece:
            cut = _safe_cut(line, max_piece)
            pieces.append(line[:cut])
            line = line[cut:]
        pieces.append(line)
    return pieces


def _safe_cut(line: str, max_piece: int) -> int:
    cut = max_piece
    while telegram_length(line[:cut]) > max_piece:
        cut -= 1
    space = line.rfind(" ", 0, cut)
    if space > max_piece // 2:
        cut = space + 1
    # Step back out of a tag or an entity.
    lt, gt = line.rfind("<", 0, cut), line.rfind(">", 0, cut)
    if lt > gt:
        cut = lt
    amp, semi = line.rfind("&", 0, cut), line.rfind(";", 0, cut)
    if amp > semi and cut - amp < 10:
        cut = amp
    return max(cut, 1)
