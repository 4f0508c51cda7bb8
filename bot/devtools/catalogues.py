"""The translation catalogues' health: what `python -m bot check` and tests/test_i18n.py report.

Every text marked in the code is in the catalogue template (`messages.pot`, made by `make
catalogues`), and every language's catalogue translates each of them: not missing, not fuzzy,
every plural form there, the same placeholders and Telegram HTML tags as the English.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot import i18n

LOCALE_DIR = i18n.CATALOGUES
TRANSLATED = tuple(language for language in i18n.LOCALES if language != i18n.SOURCE)
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)s")
TAG = re.compile(r"</?(?:b|i|u|s|code|pre|a|blockquote)>")  # Telegram's HTML

MessageKey = str | tuple[str, ...]


def message_key(msgid: object) -> MessageKey:
    """A catalogue entry's id: its text, or (singular, plural) for a plural."""
    return tuple(msgid) if isinstance(msgid, list | tuple) else str(msgid)


def read_catalogue(path: Path, language: str | None = None) -> Catalog:
    """A .po or .pot file as Babel reads it."""
    with path.open("rb") as source:
        return read_po(source, locale=language)


def template_ids(locale_dir: Path = LOCALE_DIR) -> set[MessageKey]:
    """The texts of the committed catalogue template."""
    pot = read_catalogue(locale_dir / f"{i18n.DOMAIN}.pot")
    return {message_key(message.id) for message in pot if message.id}


def extracted_ids(root: Path) -> set[MessageKey]:
    """The texts the code and templates under `root` mark today (pybabel extract)."""
    pybabel = Path(sys.executable).parent / "pybabel"
    with tempfile.TemporaryDirectory() as folder:
        fresh = Path(folder) / "messages.pot"
        subprocess.run(  # noqa: S603 - the venv's own pybabel, fixed arguments
            [str(pybabel), "--quiet", "extract",
             "-F", str(LOCALE_DIR / "babel.cfg"), "-k", "N_", "--no-location",
             "-o", str(fresh), str(root)],
            check=True, cwd=root,
        )  # fmt: skip
        return {message_key(message.id) for message in read_catalogue(fresh) if message.id}


def catalogue_problems(language: str, locale_dir: Path = LOCALE_DIR) -> list[str]:
    """What is missing, fuzzy or broken in one language's catalogue, one line each."""
    where = f"templates/locale/{language}/LC_MESSAGES/{i18n.DOMAIN}.po"
    path = locale_dir / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    if not path.is_file():
        return [f"{where}: missing (run `make catalogues`)"]
    catalogue = read_catalogue(path, language)
    entries = {message_key(message.id): message for message in catalogue if message.id}
    expected = template_ids(locale_dir)
    problems = [
        f"{where}: not in the catalogue: {key!r}"
        for key in sorted(expected - set(entries), key=str)
    ]
    problems += [f"{where}: obsolete: {key!r}" for key in sorted(set(entries) - expected, key=str)]
    for key, message in entries.items():
        if message.fuzzy:
            problems.append(f"{where}: fuzzy: {key!r}")
        if isinstance(key, tuple):
            forms = tuple(message.string or ())
            if len(forms) != catalogue.num_plurals or not all(forms):
                problems.append(f"{where}: plural forms missing: {key!r}")
                continue
            english = key[-1]
        else:
            forms, english = (str(message.string or ""),), key
            if not message.string:
                problems.append(f"{where}: not translated: {key!r}")
                continue
        for form in forms:
            if sorted(PLACEHOLDER.findall(form)) != sorted(PLACEHOLDER.findall(english)):
                problems.append(f"{where}: placeholders differ: {key!r} → {form!r}")
            if sorted(TAG.findall(form)) != sorted(TAG.findall(english)):
                problems.append(f"{where}: HTML tags differ: {key!r} → {form!r}")
    return problems


def check_catalogues(locale_dir: Path = LOCALE_DIR) -> list[str]:
    """Every translated language's catalogue problems."""
    return [
        problem for language in TRANSLATED for problem in catalogue_problems(language, locale_dir)
    ]
