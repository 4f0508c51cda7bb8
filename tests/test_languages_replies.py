"""Reply templates and tact rules in every language: complete, rendered in the language's own
forms, polite by that language's rules, and every tact rule's examples hold."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.services.replies import tact
from bot.services.replies.tact import review, soften
from bot.services.replies.templates import (
    VARIABLES,
    InvoiceValues,
    NextStepValues,
    ReplyValues,
    builtin_templates,
    formatting_locale,
    language_data,
    missing_files,
    render_reply,
    render_source,
    render_template,
    sample_values,
    template_languages,
)

LANGUAGES = ("en", "ru", "hi", "gu")
SECTION_RULES = {
    "caps": "caps",
    "punctuation": "punctuation",
    "greeting": "greeting",
    "closing": "closing",
    "payment": "payment_facts",
    "refusal": "refusal_alternative",
}


def test_the_four_languages_ship_and_none_lacks_a_file() -> None:
    assert set(template_languages()) >= set(LANGUAGES)
    for language in template_languages():
        assert missing_files(language) == [], language


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_situation_has_the_same_templates_in_the_language(language: str) -> None:
    english = {t.id: t.situation for t in builtin_templates("en")}
    own = {t.id: t.situation for t in builtin_templates(language)}
    assert own == english
    assert {t.locale for t in builtin_templates(language)} == {language}


def test_a_missing_file_falls_back_to_english(tmp_path, monkeypatch) -> None:
    from bot.services.replies import templates

    for folder in ("en", "xx"):
        (tmp_path / folder).mkdir()
    english = templates.REPLIES_DIR / "en"
    for name in ("situations.toml", "locale.toml", "payment_thanks.j2", "reminder_call.j2"):
        (tmp_path / "en" / name).write_text((english / name).read_text())
    for name in ("situations.toml", "payment_thanks.j2"):
        (tmp_path / "xx" / name).write_text((english / name).read_text())
    monkeypatch.setattr(templates, "REPLIES_DIR", tmp_path)
    templates.builtin_templates.cache_clear()
    templates.load_situations.cache_clear()
    try:
        assert missing_files("xx") == ["locale.toml", "reminder_call.j2"]
        locales = {t.id: t.locale for t in templates.builtin_templates("xx")}
        assert locales == {"payment_thanks": "xx", "reminder_call": "en"}
    finally:
        templates.builtin_templates.cache_clear()
        templates.load_situations.cache_clear()


def _rendered() -> list[tuple[str, str]]:
    return [(language, t.id) for language in LANGUAGES for t in builtin_templates(language)]


@pytest.mark.parametrize(("language", "template_id"), _rendered())
def test_every_template_renders_and_passes_its_own_languages_tact_check(
    language: str, template_id: str
) -> None:
    text = render_reply(template_id, sample_values(language), language)
    words = language_data(language)
    assert not [v for v in VARIABLES if words.placeholder(v) in text]
    assert "{" not in text and "}" not in text
    assert len(text) <= 1000
    report = review(text, language)
    assert report.findings == [], [(f.rule, f.quote) for f in report.findings]


@pytest.mark.parametrize("language", ("ru", "hi", "gu"))
def test_unknown_values_are_placeholders_in_the_language(language: str) -> None:
    text = render_reply("payment_gentle", ReplyValues(), language)
    assert language_data(language).placeholder("invoice.number") in text
    assert "[invoice number]" not in text


FILLED = {
    # language: (due date, amount, weekday date and time, overdue, step kind)
    "ru": (
        "10 ноября 2026",
        "1\xa0234,50\xa0€",
        "воскресенье, 29 ноября 2026",
        "13:30",
        "16 дней",
    ),
    "hi": ("10 नवंबर 2026", "₹12,34,567.50", "रविवार, 29 नवंबर 2026", "13:30", "16 दिन"),
    "gu": ("10 નવેમ્બર, 2026", "₹12,34,567.50", "રવિવાર, 29 નવેમ્બર, 2026", "13:30", "16 દિવસ"),
}


@pytest.mark.parametrize("language", sorted(FILLED))
def test_dates_money_and_kind_follow_the_templates_language(language: str) -> None:
    due, amount, day, time, overdue = FILLED[language]
    currency, minor = ("EUR", 1_234_50) if language == "ru" else ("INR", 1_234_567_50)
    values = ReplyValues(
        next_step=NextStepValues("meeting", dt.datetime(2026, 11, 29, 13, 30, tzinfo=dt.UTC)),
        invoice=InvoiceValues("A-1", minor, currency, dt.date(2026, 11, 10), 16),
        timezone="Europe/London",
    )
    body = (
        "{{ invoice.due_date }}|{{ invoice.amount }}|{{ next_step.date }}|{{ next_step.time }}"
        "|{{ invoice.days_overdue }}|{{ next_step.kind }}"
    )
    # The manager's own locale is English: the Russian text still gets Russian forms.
    for person in (language, "en"):
        (template,) = [t for t in builtin_templates(language) if t.id == "payment_thanks"]
        template = type(template)(**{**_fields(template), "body": body})
        got = render_template(template, values, person).split("|")
        assert got[:5] == [due, amount, day, time, overdue]
        assert got[5] == language_data(language).kinds["meeting"]


def _fields(template: object) -> dict[str, object]:
    return {name: getattr(template, name) for name in template.__slots__}  # type: ignore[attr-defined]


def test_formatting_locale() -> None:
    assert formatting_locale("ru", "ru") == "ru_RU"
    assert formatting_locale("en_GB", "en") == "en_GB"
    assert formatting_locale("hi", "en") == "en"  # an English text for a Hindi reader
    assert formatting_locale("en_IN", "gu") == "gu_IN"
    assert formatting_locale("de_DE", "en") == "de_DE"  # no German templates: their own
    assert (
        render_source(
            "{{ invoice.amount }}",
            ReplyValues(invoice=InvoiceValues("A", 100, "EUR", dt.date(2026, 1, 1))),
            "ru",
        )
        == "1,00\xa0€"
    )


# --- the tact rules' own examples -----------------------------------------------------------


def _phrase_examples() -> list[tuple[str, int]]:
    return [
        (language, index)
        for language in LANGUAGES
        for index in range(len(tact.rules(language).data["phrase"]))
    ]


@pytest.mark.parametrize(("language", "index"), _phrase_examples())
def test_every_phrase_rule_flags_its_example_softens_it_and_passes_its_clean_one(
    language: str, index: int
) -> None:
    rules = tact.rules(language)
    item, phrase = rules.data["phrase"][index], rules.phrases[index]
    assert item["examples"] and item["clean"]
    for example in item["examples"]:
        draft = example["draft"]
        assert phrase.pattern.search(draft), draft
        assert any(f.rule == item["category"] for f in review(draft, language).findings)
        assert soften(draft, language) == example["softened"]
    for clean in item["clean"]:
        assert not phrase.pattern.search(clean), clean
        assert not [f for f in review(clean, language).findings if f.rule == item["category"]]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("section", sorted(SECTION_RULES))
def test_every_other_rule_has_a_flagged_and_a_clean_example(language: str, section: str) -> None:
    spec = tact.rules(language).data[section]
    assert spec["flags"] and spec["clean"]
    for draft in spec["flags"]:
        assert any(f.rule == SECTION_RULES[section] for f in review(draft, language).findings)
    for draft in spec["clean"]:
        assert not [
            f for f in review(draft, language).findings if f.rule == SECTION_RULES[section]
        ]


# --- words in three scripts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "text", "found"),
    [
        (["बिल"], "आपका बिल भेज दिया है", True),
        (["बिल"], "यह बिल्कुल ठीक है", False),  # बिल + virama: one word
        (["बिल"], "बिलकुल ठीक", False),
        (["कल"], "कली खिली", False),  # कल + matra ी
        (["બિલ"], "નવી બિલ્ડિંગમાં ઑફિસ", False),
        (["બિલ"], "આપનું બિલ મોકલ્યું", True),
        (["ок"], "Ок, договорились", True),
        (["ок"], "срок оплаты", False),
        (["ty"], "city", False),
    ],
)
def test_whole_words_in_every_script(words: list[str], text: str, found: bool) -> None:
    assert bool(tact._words_pattern(words).search(text)) is found


def test_devanagari_and_gujarati_have_no_caps_but_latin_inside_them_does() -> None:
    assert not [f for f in review("नमस्ते,\nभुगतान कीजिए।\nसादर", "hi").findings if f.rule == "caps"]
    caps = [f.quote for f in review("નમસ્તે,\nPAYMENTમાં વિલંબ.\nસાદર", "gu").findings]
    assert "PAYMENT" in caps
    assert soften("કૃપા કરીને PAYMENTમાં ધ્યાન આપશો.", "gu") == "કૃપા કરીને paymentમાં ધ્યાન આપશો."


def test_a_whole_russian_draft_is_softened_grammatically() -> None:
    draft = "Привет! Ты забыл оплатить счёт INV-7 на 1 250 €, срочно скинь платёжку!!!"
    assert soften(draft, "ru") == (
        "Здравствуйте! Просим вас оплатить счёт INV-7 на 1 250 €, при первой возможности "
        "пришлите, пожалуйста, платёжку!"
    )


def test_suggestions_are_worded_in_the_drafts_language() -> None:
    findings = review("Оплатите, пожалуйста.", "ru").findings
    assert {f.rule for f in findings} >= {"greeting", "closing", "payment_facts"}
    assert all("start with" not in f.suggestion and "add" not in f.suggestion for f in findings)


def test_bot_check_runs_every_languages_tact_check(monkeypatch) -> None:
    from bot.devtools import check

    assert check.check_reply_tact() == []
    impolite = {"gu": "થેન્ક્સ!!!"}
    real = check.render_template
    monkeypatch.setattr(
        check,
        "render_template",
        lambda t, v, loc: impolite.get(t.locale, "") + real(t, v, loc),
    )
    found = check.check_reply_tact()
    assert found and all(line.startswith("templates/replies/gu/") for line in found)
