"""Reply templates: headers, rendering, placeholders, money and dates, and the sandbox."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from jinja2 import TemplateError
from jinja2.exceptions import SecurityError

from bot.services.replies import templates as replies
from bot.services.replies.tact import review
from bot.services.replies.templates import (
    VARIABLES,
    ClientValues,
    InvoiceValues,
    LastContactValues,
    ManagerValues,
    NextStepValues,
    ReplyValues,
    TemplateProblems,
    UnknownTemplate,
    builtin_templates,
    check_reply_templates,
    parse_header,
    render_reply,
    render_source,
    sample_values,
    validate_source,
)

PAYMENT_IDS = ("payment_gentle", "payment_firm", "payment_final", "payment_thanks")


# --- the shipped library --------------------------------------------------------------------


def test_check_finds_nothing_wrong_with_the_shipped_templates() -> None:
    """`python -m bot check` passes: headers, variables, rendering."""
    assert check_reply_templates() == []


def test_at_least_twenty_templates_cover_every_situation_some_with_variants() -> None:
    templates = builtin_templates("en")
    situations = {situation.key for situation in replies.load_situations("en")}
    counts = Counter(template.situation for template in templates)
    assert len(templates) >= 20
    assert set(counts) == situations
    assert sum(1 for n in counts.values() if n > 1) >= 8
    assert {t.id for t in templates} >= set(PAYMENT_IDS)


@pytest.mark.parametrize("template", builtin_templates("en"), ids=lambda t: t.id)
def test_every_template_renders_short_and_passes_the_tact_check(template) -> None:
    """Filled with sample data: no placeholder left, chat-sized, and polite by our own rules."""
    text = render_reply(template.id, sample_values())
    assert not [label for label in VARIABLES.values() if f"[{label}]" in text]
    assert "{" not in text and "}" not in text
    assert len(text) <= 800
    report = review(text)
    assert report.findings == [], [(f.rule, f.quote) for f in report.findings]


def test_payment_templates_state_the_facts_and_offer_help() -> None:
    for template_id in ("payment_gentle", "payment_firm", "payment_final"):
        text = render_reply(template_id, sample_values())
        assert "INV-2026-017" in text and "€1,234.50" in text and "November 10, 2026" in text
        assert "invoice" in text and "?" in text  # a concrete question: the next step
    assert "16 days overdue" in render_reply("payment_firm", sample_values())
    assert "received your payment of €1,234.50" in render_reply("payment_thanks", sample_values())


def test_unknown_template_id() -> None:
    with pytest.raises(UnknownTemplate):
        render_reply("no_such_template", sample_values())


# --- headers --------------------------------------------------------------------------------


def test_header_is_toml_in_the_leading_comment() -> None:
    header, body = parse_header(
        '{#\nid = "x_y"\ntitle = "T"\nvariables = ["client.name"]\n#}\nHello {{ client.name }}'
    )
    assert header == {"id": "x_y", "title": "T", "variables": ["client.name"]}
    assert body == "Hello {{ client.name }}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hello", "must start with"),
        ("{# id = 'x' = 2 #}\nHello", "not valid TOML"),
    ],
)
def test_bad_headers_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_header(text)


def test_check_reports_header_problems(tmp_path: Path, monkeypatch) -> None:
    """An id that differs from the file name, a wrong variable list, an unknown variable."""
    folder = tmp_path / "en"
    folder.mkdir()
    (folder / "situations.toml").write_text('[[situation]]\nkey = "s"\ntitle = "S"\n')
    header = '{{#\nid = "{}"\ntitle = "T"\nsituation = "s"\ntone = "x"\nvariables = []\n#}}\n'
    (folder / "a.j2").write_text(header.format("b") + "Hi")
    (folder / "c.j2").write_text(header.format("c") + "Hi {{ client.name }}")
    (folder / "d.j2").write_text(header.format("d") + "Hi {{ client.nmae }}")
    monkeypatch.setattr(replies, "REPLIES_DIR", tmp_path)
    replies.load_situations.cache_clear()
    try:
        problems = check_reply_templates()
    finally:
        replies.load_situations.cache_clear()
    assert any("a.j2: id 'b' differs from the file name" in p for p in problems)
    assert any("c.j2: the header lists [] " in p and "client.name" in p for p in problems)
    assert any("d.j2: Line 1: unknown variable {{ client.nmae }}" in p for p in problems)


# --- values, placeholders, babel ------------------------------------------------------------


def test_missing_groups_render_as_placeholders() -> None:
    values = ReplyValues(client=ClientValues("Acme LLC"), manager=ManagerValues("Mia"))
    text = render_reply("payment_gentle", values)
    assert text.startswith("Hello Acme LLC,")  # no contact person: the company's name
    assert "invoice [invoice number] for [amount] was due on [due date]" in text
    assert text.endswith("Kind regards,\nMia")  # no company, no phone: just the name
    assert values.missing() == ["last_contact", "next_step", "invoice", "company"]


def test_first_name_and_signature() -> None:
    values = ReplyValues(
        client=ClientValues("Acme", "  Ivan   Petrov "),
        manager=ManagerValues("Mia Moss", "+44 20 7946 0000"),
        company="NextStep",
    )
    text = render_source(
        "{{ client.first_name }}|{{ client.contact_person }}|{{ signature }}|{{ manager.phone }}",
        values,
    )
    assert text == "Ivan|  Ivan   Petrov |Mia Moss, NextStep|+44 20 7946 0000"


def test_money_is_exact_per_currency_and_locale() -> None:
    yen = InvoiceValues("A-1", 150_000, "JPY", dt.date(2026, 1, 5), 1)
    assert yen.amount == Decimal(150000)
    euro = InvoiceValues.from_decimal("A-2", Decimal("1234.5"), "EUR", dt.date(2026, 1, 5), 2)
    assert euro.amount_minor == 123_450
    body = "{{ invoice.amount }} / {{ invoice.due_date }} / {{ invoice.days_overdue }}"
    assert render_source(body, ReplyValues(invoice=yen)) == "¥150,000 / January 5, 2026 / 1 day"
    german = render_source(body, ReplyValues(invoice=euro), "de_DE")
    assert german == "1.234,50\xa0€ / 5. Januar 2026 / 2 Tage"


def test_dates_are_shown_in_the_managers_zone() -> None:
    late = dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.UTC)
    values = ReplyValues(
        last_contact=LastContactValues(late, "prices"),
        next_step=NextStepValues("call", late),
        timezone="Asia/Tokyo",
    )
    text = render_source(
        "{{ last_contact.date }}; {{ next_step.kind }} {{ next_step.date }} {{ next_step.time }}",
        values,
    )
    assert text == "November 27, 2026; call Friday, November 27, 2026 8:30\u202fAM"


def test_unknown_locale_falls_back_to_english() -> None:
    assert replies.language_of("xx_YY") == "en"
    assert replies.language_of("de_DE") == "en"  # no German templates shipped
    assert render_reply("payment_thanks", sample_values(), "not a locale").startswith("Hello")


# --- validation and the sandbox -------------------------------------------------------------


def test_unknown_variable_is_named_with_its_line() -> None:
    problems = validate_source("Hello {{ client.first_name }},\nsee {{ invoice.numbr }}")
    assert [str(p) for p in problems] == [
        "Line 2: unknown variable {{ invoice.numbr }} (this group has: invoice.number, "
        "invoice.amount, invoice.balance, invoice.paid, invoice.promised_date, "
        "invoice.due_date, invoice.days_overdue)"
    ]


def test_syntax_problem_is_named_with_its_line() -> None:
    problems = validate_source("Hello\n\n{% if client.name %}open")
    assert len(problems) == 1
    assert problems[0].line == 3 and problems[0].message.startswith("syntax problem")


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ client.__class__ }}",
        "{{ client.name.__class__.__mro__[1].__subclasses__() }}",
        "{{ self }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ lipsum.__globals__ }}",
        "{{ config }}",
        "{{ client.name.upper() }}",
        "{{ client['name'] }}",
        "{% for i in range(10**9) %}x{% endfor %}",
        "{% for a in range(99) %}{% for b in range(99) %}{% endfor %}{% endfor %}",
        "{{ 'x' * 100000000 }}",
        "{% set x = 1 %}",
        "{% macro m() %}{% endmacro %}",
        "{% include 'texts/help.html.j2' %}",
        "{{ client.name|attr('__class__') }}",
        "{{ client.name|format('x') }}",
    ],
)
def test_escape_attempts_and_huge_loops_are_refused(source: str) -> None:
    """Loops, calls, internals and other variables never get past validation."""
    assert validate_source(source) != []
    with pytest.raises(TemplateProblems):
        render_source(source, sample_values())


def test_the_sandbox_itself_blocks_internals_and_huge_output() -> None:
    """Even unvalidated (defence in depth): no internals, short ranges, no size blow-up."""
    env = replies.environment()
    with pytest.raises(SecurityError):
        env.from_string("{{ ''.__class__.__mro__[1].__subclasses__() }}").render()
    with pytest.raises(TemplateError):
        env.from_string("{% for i in range(10**6) %}{% endfor %}").render()
    with pytest.raises(TemplateError):
        env.from_string("{{ 'x' * 10**8 }}").render()
    with pytest.raises(TemplateError):
        env.from_string("{{ 9 ** 9 ** 9 }}").render()


def test_output_is_capped() -> None:
    """A long text is refused before it is saved (and never rendered beyond the cap)."""
    problems = validate_source("x" * (replies.MAX_SOURCE_LENGTH + 1))
    assert "over" in str(problems[0])
    tag = "{{ last_contact.summary }}"
    many = tag * (replies.MAX_SOURCE_LENGTH // len(tag))
    moment = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    long_summary = ReplyValues(last_contact=LastContactValues(moment, "y" * 500))
    with pytest.raises(TemplateProblems, match="over"):
        render_source(many, long_summary)


def test_if_and_simple_filters_are_allowed() -> None:
    source = (
        "{% if manager.phone %}Call {{ manager.phone }}{% else %}Write{% endif %} "
        "{{ client.name|upper }}"
    )
    assert validate_source(source) == []
    values = ReplyValues(client=ClientValues("Acme"), manager=ManagerValues("Mia"))
    assert render_source(source, values) == "Write ACME"


PAYMENT_CASES = {
    "nothing paid": {},
    "part paid": {"paid_minor": 23_450},
    "promised": {"promised_on": dt.date(2026, 11, 30)},
    "part paid and promised": {"paid_minor": 23_450, "promised_on": dt.date(2026, 11, 30)},
}


@pytest.mark.parametrize("case", PAYMENT_CASES, ids=list(PAYMENT_CASES))
@pytest.mark.parametrize("template_id", ["payment_gentle", "payment_firm", "payment_final"])
def test_payment_reminders_after_part_payments_and_promises(template_id: str, case: str) -> None:
    """The amount is the invoice's; a part payment is thanked for and the balance named;
    after a promise the promised day is named and nobody asks again when they will pay."""
    sample = sample_values()
    assert sample.invoice is not None
    invoice = dataclasses.replace(sample.invoice, **PAYMENT_CASES[case])
    text = render_reply(template_id, dataclasses.replace(sample, invoice=invoice))
    assert "INV-2026-017 for €1,234.50" in text
    if invoice.paid_minor:
        assert "Thank you for the €234.50 already received; €1,000.00 is still open." in text
    else:
        assert "already received" not in text
    if invoice.promised_on:
        assert "November 30, 2026" in text
        assert "when the payment is planned" not in text
        assert "confirm the payment date" not in text
    assert len(text) <= 800
    report = review(text)
    assert report.findings == [], [(f.rule, f.quote) for f in report.findings]
    assert "[" not in text


def test_paid_and_promised_date_are_empty_without_an_invoice() -> None:
    text = render_source(
        "{% if invoice.paid %}paid{% endif %}{% if invoice.promised_date %}promised{% endif %}"
        "{{ invoice.balance }}",
        ReplyValues(),
    )
    assert text == "[amount still due]"


@pytest.mark.parametrize(
    "source",
    [
        "{{ " + "(" * 1400 + "client.name" + ")" * 1400 + " }}",
        "{{ " + "not " * 700 + "client.name }}",
        "{{ " + " or ".join(["company"] * 270) + " }}",
        "{% if client.name %}" * 95 + "x" + "{% endif %}" * 95,
    ],
    ids=["brackets", "not", "or-chain", "if-blocks"],
)
def test_deep_nesting_is_a_template_problem_not_a_crash(source: str) -> None:
    problems = validate_source(source)
    assert len(problems) == 1 and "nests more than 40 levels deep" in str(problems[0])
    with pytest.raises(TemplateProblems):
        render_source(source, sample_values())


def test_templates_are_checked_with_200_character_values() -> None:
    """A text that fits the sample data but not a client with long details is refused."""
    source = " ".join(["{{ client.name }}"] * 16)
    assert len(render_source(source, sample_values())) < 400
    problems = validate_source(source)
    assert [str(p) for p in problems] == [
        "for a client with long details (200-character names) the text would be over 3000 "
        "characters; please shorten it or use fewer variables"
    ]
    long = replies.long_sample_values()
    assert long.client is not None and len(long.client.name) == 200
    assert long.company and len(long.company) == 200
