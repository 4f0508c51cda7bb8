"""The person's language: gettext catalogues (managed with Babel) and the locale of each text.

The bot speaks English (the source language), Russian, Hindi and Gujarati. The catalogues are
`templates/locale/<language>/LC_MESSAGES/messages.po` in the repository; `make` compiles them
to `.mo` (`pybabel compile`), and a catalogue whose `.mo` is missing or older than its `.po`
is compiled in memory instead, so a fresh checkout never speaks a stale language.

The locale of the person an update or a job is for lives in a context variable: the access
gate sets it for each update (the member's choice, or Telegram's `language_code` for a
stranger), jobs set it per recipient with `using()`. `gettext()` / `ngettext()` (and Jinja's
i18n extension, see bot/views/render.py) read it, so a text is translated where it is made.
A fifth language is a catalogue and a folder of templates, not code: add it to LOCALES.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.config import TEMPLATES_DIR

CATALOGUES = TEMPLATES_DIR / "locale"
DOMAIN = "messages"
SOURCE = "en"
LOCALES = ("en", "ru", "hi", "gu")
"""The languages every text exists in; English is the source."""
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "hi": "हिन्दी", "gu": "ગુજરાતી"}
"""Each language's name in itself, as the language buttons show it."""

_current: ContextVar[str] = ContextVar("locale", default=SOURCE)


def language_of(locale: str) -> str:
    """The primary language subtag of a locale or IETF tag: "ru_RU", "en-GB" → "ru", "en"."""
    return (locale or SOURCE).replace("-", "_").split("_", 1)[0].lower()


def negotiate(language_code: str | None, default: str = SOURCE) -> str:
    """A new person's language: Telegram's `language_code` when it is one of LOCALES (on its
    primary subtag: "pt-br" → pt, "en-GB" → en), else `default`."""
    language = language_of(language_code) if language_code else None
    if language in LOCALES:
        return str(language)
    fallback = language_of(default)
    return fallback if fallback in LOCALES else SOURCE


@lru_cache(maxsize=len(LOCALES) + 1)
def translations(language: str) -> stdlib_gettext.NullTranslations:
    """The catalogue of a language (English: the texts as written)."""
    if language == SOURCE or language not in LOCALES:
        return stdlib_gettext.NullTranslations()
    folder = CATALOGUES / language / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as compiled:
            return stdlib_gettext.GNUTranslations(compiled)
    if not po.is_file():
        return stdlib_gettext.NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return stdlib_gettext.GNUTranslations(buffer)


def current_locale() -> str:
    """The locale of the person the current update or job is for."""
    return _current.get()


def set_locale(locale: str) -> None:
    """Make `locale` the current one for the rest of this update (the access gate)."""
    _current.set(locale or SOURCE)


@contextmanager
def using(locale: str) -> Iterator[None]:
    """Texts made inside are in `locale` (a job writing to one person after another)."""
    token = _current.set(locale or SOURCE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """`message` in the current person's language."""
    return translations(language_of(_current.get())).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form for `count` in the current person's language (ru has three, hi and gu two)."""
    return translations(language_of(_current.get())).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark a text for the catalogue without translating it yet (a constant translated where
    it is shown, in the reader's language)."""
    return message


_ = gettext
