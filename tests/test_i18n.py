"""Languages: the catalogues are complete and current, and a person's language is chosen well.

A text the bot can send that has no translation in a locale fails here: every entry of every
catalogue must be translated, not fuzzy, with the same placeholders and HTML tags as its
English; and the catalogue template must hold exactly the texts marked in the code today
(`make catalogues` after adding one, then translate it).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import write_po

from bot import i18n
from bot.devtools.catalogues import (
    LOCALE_DIR,
    TRANSLATED,
    catalogue_problems,
    check_catalogues,
    extracted_ids,
    read_catalogue,
    template_ids,
)
from bot.devtools.check import run_checks

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_is_translated_with_its_placeholders_and_tags(language: str) -> None:
    """No missing or fuzzy entry; {name}, %(role)s and <b> kept as in the English."""
    assert catalogue_problems(language) == [], "run `make catalogues` and translate"


def test_the_catalogue_template_holds_the_texts_the_code_marks_today() -> None:
    """Extracting again gives the committed template's texts: none added without it."""
    assert extracted_ids(ROOT) == template_ids(), (
        "run `make catalogues` and translate the new texts"
    )


def test_the_check_reports_missing_fuzzy_and_broken_entries(tmp_path: Path) -> None:
    """`python -m bot check` names each entry a language lacks, a fuzzy one, a lost plural
    form and a placeholder or tag the translation dropped."""
    copy = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    po = copy / "ru" / "LC_MESSAGES" / "messages.po"
    catalogue = read_catalogue(po, "ru")
    singles = [m for m in catalogue if m.id and isinstance(m.id, str) and "{" in m.id]
    plural = next(m for m in catalogue if m.id and isinstance(m.id, list | tuple))
    singles[0].string = ""
    singles[1].flags.add("fuzzy")
    singles[2].string = "без заполнителей"
    forms = tuple(plural.string or ())
    plural.string = (forms[0], forms[1], "")
    with po.open("wb") as out:
        write_po(out, catalogue)
    problems = check_catalogues(copy)
    where = "templates/locale/ru/LC_MESSAGES/messages.po"
    assert f"{where}: not translated: {singles[0].id!r}" in problems
    assert f"{where}: fuzzy: {singles[1].id!r}" in problems
    assert any(p.startswith(f"{where}: placeholders differ: {singles[2].id!r}") for p in problems)
    assert f"{where}: plural forms missing: {tuple(plural.id)!r}" in problems
    assert len(problems) == 4, problems
    assert check_catalogues() == []


def test_python_m_bot_check_includes_the_catalogues_and_each_language_s_texts() -> None:
    """The command's checks cover the catalogues and render every text in every language."""
    problems = run_checks()
    assert not [p for p in problems if "locale" in p or "(ru)" in p or "(hi)" in p or "(gu)" in p]


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
