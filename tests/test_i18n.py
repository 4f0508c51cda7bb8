"""Languages: the catalogues are complete and current, and a person's language is chosen well.

A text the bot can send that has no translation in a locale fails here: every entry of every
catalogue must be translated, not fuzzy, with the same placeholders and HTML tags as its
English; and the catalogue template must hold exactly the texts marked in the code today
(`make catalogues` after adding one, then translate it).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot import i18n

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "templates" / "locale"
TRANSLATED = [language for language in i18n.LOCALES if language != i18n.SOURCE]
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)s")
TAG = re.compile(r"</?(?:b|i|u|s|code|pre|a|blockquote)>")  # Telegram's HTML


def _catalogue(language: str):  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


def _template_ids() -> set[str | tuple[str, ...]]:
    with (LOCALE_DIR / "messages.pot").open("rb") as pot:
        return {_key(message.id) for message in read_po(pot) if message.id}


def _key(msgid: object) -> str | tuple[str, ...]:
    return tuple(msgid) if isinstance(msgid, list | tuple) else str(msgid)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_is_translated_with_its_placeholders_and_tags(language: str) -> None:
    """No missing or fuzzy entry; {name}, %(role)s and <b> kept as in the English."""
    catalogue = _catalogue(language)
    entries = {_key(message.id): message for message in catalogue if message.id}
    assert set(entries) == _template_ids(), "run `make catalogues` and translate"
    for msgid, message in entries.items():
        assert not message.fuzzy, f"{language}: fuzzy translation for {msgid!r}"
        if isinstance(msgid, tuple):  # a plural: every form of the language, each complete
            forms = tuple(message.string)
            assert len(forms) == catalogue.num_plurals and all(forms), f"{language}: {msgid!r}"
            english = msgid[-1]
        else:
            forms, english = (message.string,), msgid
            assert message.string, f"{language}: no translation for {msgid!r}"
        for form in forms:
            assert sorted(PLACEHOLDER.findall(form)) == sorted(PLACEHOLDER.findall(english))
            assert sorted(TAG.findall(form)) == sorted(TAG.findall(english)), msgid


def test_the_catalogue_template_holds_the_texts_the_code_marks_today(tmp_path: Path) -> None:
    """Extracting again gives the committed template's texts: none added without it."""
    fresh = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(  # noqa: S603 - the venv's own pybabel, fixed arguments
        [str(pybabel), "--quiet", "extract",
         "-F", str(LOCALE_DIR / "babel.cfg"), "-k", "N_", "--no-location",
         "-o", str(fresh), str(ROOT)],
        check=True, cwd=ROOT,
    )  # fmt: skip
    with fresh.open("rb") as pot:
        extracted = {_key(message.id) for message in read_po(pot) if message.id}
    assert extracted == _template_ids(), "run `make catalogues` and translate the new texts"


@pytest.mark.parametrize(
    ("code", "default", "chosen"),
    [
        ("ru", "en", "ru"),
        ("ru-RU", "en", "ru"),
        ("en-GB", "ru", "en"),
        ("hi", "en", "hi"),
        ("gu", "en", "gu"),
        ("pt-br", "en", "en"),
        ("pt-br", "ru", "ru"),
        (None, "gu", "gu"),
        ("de", "de", "en"),  # German formats stay the team's default; texts fall back to English
    ],
)
def test_a_new_person_s_language_comes_from_telegram(
    code: str | None, default: str, chosen: str
) -> None:
    """Telegram's language_code on its primary subtag when the bot speaks it, else default."""
    assert i18n.negotiate(code, default) == chosen


def test_texts_follow_the_current_person_and_plurals_have_their_forms() -> None:
    """gettext reads the context's locale; a job writing to someone else uses `using()`."""
    with i18n.using("ru"):
        assert i18n.gettext("Your commands") == "Ваши команды"
        with i18n.using("gu"):
            assert i18n.gettext("Your commands") == "આપના આદેશો"
        assert i18n.gettext("Your commands") == "Ваши команды"
    assert i18n.gettext("Your commands") == "Your commands"
    assert i18n.translations("ru").ngettext("x", "y", 5) == "y"  # unknown: the English forms
    plural = (
        "⏰ %(count)s contact still needs a next step:",
        "⏰ %(count)s contacts still need a next step:",
    )
    with i18n.using("ru"):  # three forms: 1, 2-4, 5+ (21 takes the first again)
        forms = [i18n.ngettext(*plural, n) % {"count": n} for n in (1, 3, 5, 21)]
    assert forms == [
        "⏰ 1 контакту нужен следующий шаг:",
        "⏰ 3 контактам нужен следующий шаг:",
        "⏰ 5 контактам нужен следующий шаг:",
        "⏰ 21 контакту нужен следующий шаг:",
    ]
