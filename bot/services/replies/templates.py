"""Tactful reply templates: the values they are filled with, loading, and sandboxed rendering.

Stable API (other features call it; keep the signatures):

    render_reply(template_id: str, values: ReplyValues, locale: str = "en") -> str
        Render a built-in template (`templates/replies/<language>/<template_id>.j2`) as plain
        text. Escape the result (`bot.views.render.escape`) before putting it into a Telegram HTML
        message. A group of values that is missing (`invoice=None`, no last contact, no next
        step, no company name) renders as bracketed placeholders such as "[invoice number]",
        so the manager sees what to fill in; nothing unknown ever reaches a user's message.
        Raises `UnknownTemplate` for an id that does not exist.

    render_source(source: str, values: ReplyValues, locale: str = "en") -> str
        The same for any template text (company templates from the database).
        Raises `TemplateProblems` when the text is not a valid reply template.

    validate_source(source: str) -> list[TemplateProblem]
        What is wrong with a template text, naming the unknown variable or the syntax problem
        and its line; an empty list means it is fine. Checked before a company template is saved.

Values (all plain data; money is never a float):

    ReplyValues(
        client=ClientValues(name="Northwind", contact_person="Anna Schmidt"),
        manager=ManagerValues(name="Alex Morgan", phone="+44 20 7946 0000"),   # phone optional
        company="NextStep Supplies",                 # team_settings.load(db).company_name
        last_contact=LastContactValues(at=<aware datetime>, summary="..."),   # or None
        next_step=NextStepValues(kind="meeting", due_at=<aware datetime>),    # or None
        invoice=InvoiceValues(number="INV-7", amount_minor=123450, currency="EUR",
                              due_date=date(...), days_overdue=12,
                              paid_minor=20000, promised_on=date(...)),      # or None
        timezone="Europe/Berlin",                    # the manager's zone for dates and times
    )
    InvoiceValues.from_decimal(number, Decimal("1234.50"), "EUR", due_date, days_overdue)

Template files: `templates/replies/<language>/<id>.j2`, starting with a TOML header inside a
Jinja comment (`id`, `title`, `situation` from `situations.toml`, `tone`, `variables` = exactly
the variables used, optional `keywords` and `order` among the situation's variants):

    {#
    id = "payment_gentle"
    title = "Payment reminder — gentle"
    situation = "payment_reminder"
    tone = "gentle"
    variables = ["client.first_name", "invoice.number", "signature"]
    #}
    Hello {{ client.first_name }}, ...

Variables a template may use are listed in `VARIABLES` (`client.*`, `manager.*`, `company`,
`signature`, `last_contact.*`, `next_step.*`, `invoice.*`). `check_reply_templates()` is what
`python -m bot check` runs.

Languages: each folder `templates/replies/<language>/` holds every file the English one does
(`situations.toml`, `locale.toml` and one `.j2` per template id; `missing_files()` names any
gap, and a test keeps it empty). A template is filled in its own language: dates and money
follow the folder's locale (`locale.toml`'s `babel_locale`: `ru_RU` "10 ноября 2026 г.",
"1 234,50 €"; `hi_IN` "10 नवंबर 2026", "₹12,34,567.50") unless the person's locale is a
regional form of the same language (`en_GB` keeps British dates in English templates); the
step kind is the language's word (`[kinds]`: "встреча"), and an unknown value's placeholder
is in that language (`[placeholders]`: "[номер счёта]"). English is used only for a file a
language lacks.

Templates run in a `SandboxedEnvironment` with `StrictUndefined`, and
before rendering every template passes `validate_source`: only known variables, `if` blocks and
a few harmless filters are allowed — no loops, calls or arithmetic — and the output is capped at
`MAX_REPLY_LENGTH` characters.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, format_timedelta
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from bot.config import TEMPLATES_DIR
from bot.services.errors import DomainError
from bot.services.receivables import money

REPLIES_DIR = TEMPLATES_DIR / "replies"
FALLBACK_LANGUAGE = "en"
MAX_REPLY_LENGTH = 3000  # leaves room for a heading inside one 4096-character message
MAX_SOURCE_LENGTH = 3000
MAX_RANGE = 20
MAX_DEPTH = 40
"""How deeply a template text may nest (`if` blocks, brackets, `and`/`or` chains)."""
LONG_VALUE = 200
"""Every text value is this long when a template is checked: long client names must fit."""

# Every variable a reply template may use, with what it means; the description in brackets is
# also the placeholder shown when the value is not known for this client.
VARIABLES: dict[str, str] = {
    "client.name": "client name",
    "client.contact_person": "contact person",
    "client.first_name": "first name",
    "manager.name": "your name",
    "manager.phone": "your phone",
    "company": "our company",
    "signature": "your name and company",
    "last_contact.date": "date of our last contact",
    "last_contact.summary": "what we discussed",
    "next_step.kind": "call or meeting",
    "next_step.date": "date",
    "next_step.time": "time",
    "invoice.number": "invoice number",
    "invoice.amount": "amount",
    "invoice.balance": "amount still due",
    "invoice.paid": "amount already paid",
    "invoice.promised_date": "promised payment date",
    "invoice.due_date": "due date",
    "invoice.days_overdue": "days overdue",
}
OPTIONAL: frozenset[str] = frozenset({"invoice.paid", "invoice.promised_date"})
"""Variables that are empty rather than a placeholder when not known: templates write
`{% if invoice.paid %}` (nothing paid yet) and `{% if invoice.promised_date %}` (no promise)."""
GROUPS = ("client", "manager", "last_contact", "next_step", "invoice")
TOP_LEVEL = frozenset(name.split(".")[0] for name in VARIABLES)
ALLOWED_FILTERS = frozenset({"capitalize", "lower", "title", "trim", "upper"})
_ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Getattr,
    nodes.Const,
    nodes.If,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.Compare,
    nodes.Operand,
    nodes.CondExpr,
    nodes.Concat,
    nodes.Filter,
)
_HEADER = re.compile(r"\A\s*\{#(?P<header>.*?)#\}\n?", re.DOTALL)
_ID = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


# --- Values ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientValues:
    """The client's company and the person we write to."""

    name: str
    contact_person: str | None = None

    @property
    def first_name(self) -> str:
        """The contact person's first name, or the company name when nobody is known."""
        if self.contact_person and self.contact_person.split():
            return self.contact_person.split()[0]
        return self.name


@dataclass(frozen=True, slots=True)
class ManagerValues:
    """The manager who signs the message."""

    name: str
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class LastContactValues:
    """The last logged call or meeting (an aware moment, shown as a date in `timezone`)."""

    at: dt.datetime
    summary: str


@dataclass(frozen=True, slots=True)
class NextStepValues:
    """The agreed next step: its kind (call, meeting, ...) and when (aware moment)."""

    kind: str
    due_at: dt.datetime


@dataclass(frozen=True, slots=True)
class InvoiceValues:
    """An invoice's facts; amounts in minor units of its ISO 4217 currency.

    `amount_minor` is the invoice's amount, `paid_minor` what was received so far (the
    balance is the difference), `promised_on` the day the client promised to pay, if any.
    """

    number: str
    amount_minor: int
    currency: str
    due_date: dt.date
    days_overdue: int = 0
    paid_minor: int = 0
    promised_on: dt.date | None = None

    @property
    def balance_minor(self) -> int:
        """What is still due."""
        return self.amount_minor - self.paid_minor

    @classmethod
    def from_decimal(
        cls, number: str, amount: Decimal, currency: str, due_date: dt.date, days_overdue: int = 0
    ) -> InvoiceValues:
        """Build from a Decimal amount in major units (`Decimal("1234.50")`)."""
        return cls(number, money.to_minor(amount, currency), currency, due_date, days_overdue)

    @property
    def amount(self) -> Decimal:
        """The amount in major units, exact."""
        return money.to_decimal(self.amount_minor, self.currency)


@dataclass(frozen=True, slots=True)
class ReplyValues:
    """Everything a reply template can be filled with; a `None` group renders as placeholders."""

    client: ClientValues | None = None
    manager: ManagerValues | None = None
    company: str = ""
    last_contact: LastContactValues | None = None
    next_step: NextStepValues | None = None
    invoice: InvoiceValues | None = None
    timezone: str = "UTC"

    def missing(self) -> list[str]:
        """The groups not known here (their variables render as placeholders)."""
        absent = [group for group in GROUPS if getattr(self, group) is None]
        if not self.company.strip():
            absent.append("company")
        return absent


_SAMPLE_PEOPLE: dict[str, tuple[str, str, str, str, str, str]] = {
    # client, contact person, manager, phone, company, what the last contact was about
    "en": (
        "Northwind Traders",
        "Anna Schmidt",
        "Alex Morgan",
        "+44 20 7946 0000",
        "NextStep Supplies",
        "prices for the spring order",
    ),
    "ru": (
        "ООО «Северный ветер»",
        "Анна Смирнова",
        "Алексей Морозов",
        "+7 495 123-45-67",
        "НекстСтеп Снабжение",
        "цены на весенний заказ",
    ),
    "hi": (
        "नॉर्थविंड ट्रेडर्स",
        "अनीता शर्मा",
        "राहुल वर्मा",
        "+91 98765 43210",
        "नेक्स्टस्टेप सप्लाइज़",
        "वसंत के ऑर्डर की कीमतें",
    ),
    "gu": (
        "નોર્થવિન્ડ ટ્રેડર્સ",
        "હેતલ પટેલ",
        "કિરણ શાહ",
        "+91 98250 12345",
        "નેક્સ્ટસ્ટેપ સપ્લાયર્સ",
        "વસંતના ઑર્ડરના ભાવ",
    ),
}


def sample_values(language: str = FALLBACK_LANGUAGE) -> ReplyValues:
    """Complete values for checking every template (and showing a preview); names and the
    last contact's summary are in `language` when samples exist for it."""
    client, person, manager, phone, company, summary = _SAMPLE_PEOPLE.get(
        language, _SAMPLE_PEOPLE[FALLBACK_LANGUAGE]
    )
    now = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC)
    return ReplyValues(
        client=ClientValues(client, person),
        manager=ManagerValues(manager, phone),
        company=company,
        last_contact=LastContactValues(now - dt.timedelta(days=2), summary),
        next_step=NextStepValues("meeting", now + dt.timedelta(days=3, hours=4)),
        invoice=InvoiceValues("INV-2026-017", 1_234_50, "EUR", dt.date(2026, 11, 10), 16),
        timezone="Europe/London",
    )


def long_sample_values() -> ReplyValues:
    """Sample values whose every text is `LONG_VALUE` characters: what a template must fit."""
    sample = sample_values()

    def long(text: str) -> str:
        return (text + " ") * (LONG_VALUE // (len(text) + 1)) + "x" * (
            LONG_VALUE % (len(text) + 1)
        )

    assert sample.last_contact is not None and sample.invoice is not None
    return ReplyValues(
        client=ClientValues(long("Northwind Traders"), long("Anna Schmidt")),
        manager=ManagerValues(long("Alex Morgan"), long("+44 20 7946 0000")),
        company=long("NextStep Supplies"),
        last_contact=LastContactValues(sample.last_contact.at, long("prices")),
        next_step=sample.next_step,
        invoice=InvoiceValues(
            long("INV-2026-017"),
            sample.invoice.amount_minor,
            sample.invoice.currency,
            sample.invoice.due_date,
            sample.invoice.days_overdue,
            paid_minor=234_50,
            promised_on=sample.invoice.due_date + dt.timedelta(days=30),
        ),
        timezone=sample.timezone,
    )


def placeholder(variable: str) -> str:
    """What is shown instead of an unknown value: `[invoice number]`."""
    return f"[{VARIABLES[variable]}]"


# --- Templates ------------------------------------------------------------------------------


class UnknownTemplate(DomainError):
    """No template has that id (any more)."""

    def __init__(self, template_id: str) -> None:
        super().__init__("That template no longer exists; open /templates to choose another.")
        self.template_id = template_id


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """One thing wrong with a template text; `line` is 1-based within the text."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}" if self.line else self.message


class TemplateProblems(DomainError):
    """A template text is not valid; `problems` says where and why."""

    def __init__(self, problems: list[TemplateProblem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class ReplyTemplate:
    """A reply template: built-in (from a file) or the company's own (from the database)."""

    id: str
    title: str
    situation: str
    tone: str
    body: str
    locale: str = FALLBACK_LANGUAGE
    variables: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    source: str = "builtin"  # builtin | company
    order: int = 50  # position among its situation's variants (then by id)
    path: Path | None = field(default=None, compare=False)

    @property
    def uses(self) -> frozenset[str]:
        """The variables the body refers to."""
        return referenced_variables(self.body)


@dataclass(frozen=True, slots=True)
class Situation:
    """A kind of moment a manager writes to a client in; templates are grouped by it."""

    key: str
    title: str
    keywords: tuple[str, ...] = ()


def parse_header(text: str) -> tuple[dict[str, Any], str]:
    """Split a template file into its TOML header (the first `{# ... #}` block) and body."""
    match = _HEADER.match(text)
    if match is None:
        raise ValueError("the file must start with a {# ... #} header")
    try:
        header = tomllib.loads(match.group("header"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"the header is not valid TOML: {exc}") from None
    return header, text[match.end() :]


def _template_from_file(path: Path, language: str) -> ReplyTemplate:
    header, body = parse_header(path.read_text(encoding="utf-8"))
    missing = [key for key in ("id", "title", "situation", "tone") if key not in header]
    if missing:
        raise ValueError(f"the header lacks {', '.join(missing)}")
    if header["id"] != path.stem:
        raise ValueError(f"id {header['id']!r} differs from the file name {path.stem!r}")
    return ReplyTemplate(
        id=str(header["id"]),
        title=str(header["title"]),
        situation=str(header["situation"]),
        tone=str(header["tone"]),
        body=body.strip("\n"),
        locale=language,
        variables=tuple(header.get("variables", ())),
        keywords=tuple(header.get("keywords", ())),
        order=int(header.get("order", 50)),
        path=path,
    )


@dataclass(frozen=True, slots=True)
class LanguageData:
    """A template language's `locale.toml`: how its templates show values."""

    language: str
    babel_locale: str
    kinds: dict[str, str]
    placeholders: dict[str, str]
    time_format: str = "short"
    date_format: str = "long"
    weekday_date_format: str = "full"

    def placeholder(self, variable: str) -> str:
        """What is shown instead of an unknown value, in this language: `[номер счёта]`."""
        return f"[{self.placeholders.get(variable, VARIABLES[variable])}]"


@lru_cache(maxsize=8)
def language_data(language: str = FALLBACK_LANGUAGE) -> LanguageData:
    """The language's `locale.toml` (English's words for anything it does not list)."""
    path = REPLIES_DIR / language / "locale.toml"
    data = tomllib.loads(path.read_text("utf-8")) if path.is_file() else {}
    return LanguageData(
        language=language,
        babel_locale=str(data.get("babel_locale", language)),
        kinds={str(k): str(v) for k, v in data.get("kinds", {}).items()},
        placeholders={str(k): str(v) for k, v in data.get("placeholders", {}).items()},
        time_format=str(data.get("formats", {}).get("time", "short")),
        date_format=str(data.get("formats", {}).get("date", "long")),
        weekday_date_format=str(data.get("formats", {}).get("weekday_date", "full")),
    )


def formatting_locale(locale: str, language: str) -> str:
    """The babel locale a `language` template is filled in for a person of `locale`.

    The person's own locale when it is a regional form of that language (`en_GB`,
    `ru_RU`); the template language's own when the person's language has templates of its
    own but this text is in another one (`ru` → `ru_RU`; an English file filled for a
    Russian client by a Hindi-speaking manager gets English dates), so a Russian text never
    carries English month names nor an English one Hindi ones. A person whose language has
    no templates (`de_DE`) keeps their locale: their team's own templates are in it.
    """
    own = _formatting_locale(locale)
    parsed = Locale.parse(own)
    if parsed.language == language:
        return own if parsed.territory else language_data(language).babel_locale
    if (REPLIES_DIR / parsed.language).is_dir():
        return language_data(language).babel_locale
    return own


def language_of(locale: str) -> str:
    """The template language for a locale (`en_GB` → `en`), falling back to English."""
    try:
        language = Locale.parse(locale.replace("-", "_")).language
    except (ValueError, UnknownLocaleError):
        return FALLBACK_LANGUAGE
    return language if (REPLIES_DIR / language).is_dir() else FALLBACK_LANGUAGE


def _formatting_locale(locale: str) -> str:
    try:
        return str(Locale.parse(locale.replace("-", "_")))
    except (ValueError, UnknownLocaleError):
        return FALLBACK_LANGUAGE


@lru_cache(maxsize=8)
def load_situations(language: str = FALLBACK_LANGUAGE) -> tuple[Situation, ...]:
    """The situations in display order (`templates/replies/<language>/situations.toml`)."""
    data = tomllib.loads((REPLIES_DIR / language / "situations.toml").read_text("utf-8"))
    return tuple(
        Situation(item["key"], item["title"], tuple(item.get("keywords", ())))
        for item in data["situation"]
    )


def missing_files(language: str) -> list[str]:
    """The English folder's files that `language`'s folder lacks (empty when complete)."""
    folder = REPLIES_DIR / language
    return sorted(
        path.name
        for path in (REPLIES_DIR / FALLBACK_LANGUAGE).iterdir()
        if path.is_file() and not (folder / path.name).is_file()
    )


def template_languages() -> tuple[str, ...]:
    """Every language with a folder of reply templates, English first."""
    others = sorted(
        path.name
        for path in REPLIES_DIR.iterdir()
        if path.is_dir() and path.name != FALLBACK_LANGUAGE
    )
    return (FALLBACK_LANGUAGE, *others)


@lru_cache(maxsize=8)
def builtin_templates(language: str = FALLBACK_LANGUAGE) -> tuple[ReplyTemplate, ...]:
    """Every built-in template of a language, sorted by situation order, then file name.

    A template id the language has no file for is the English file (locale `en`), so no
    situation goes missing while a translation is incomplete.
    """
    order = {situation.key: n for n, situation in enumerate(load_situations(language))}
    folder = REPLIES_DIR / language
    templates = [_template_from_file(path, language) for path in sorted(folder.glob("*.j2"))]
    if language != FALLBACK_LANGUAGE:
        templates += [
            _template_from_file(path, FALLBACK_LANGUAGE)
            for path in sorted((REPLIES_DIR / FALLBACK_LANGUAGE).glob("*.j2"))
            if not (folder / path.name).is_file()
        ]
    return tuple(
        sorted(templates, key=lambda t: (order.get(t.situation, len(order)), t.order, t.id))
    )


def get_template(template_id: str, locale: str = FALLBACK_LANGUAGE) -> ReplyTemplate:
    """The built-in template with that id in the locale's language (or English)."""
    for language in dict.fromkeys((language_of(locale), FALLBACK_LANGUAGE)):
        for template in builtin_templates(language):
            if template.id == template_id:
                return template
    raise UnknownTemplate(template_id)


# --- Validation -----------------------------------------------------------------------------


class _ReplyEnvironment(SandboxedEnvironment):
    """The sandbox: no internals, a short `range`, no size-multiplying operators."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise TemplateError("powers are not allowed in reply templates")
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, str | list | tuple) and len(result) > MAX_REPLY_LENGTH:
            raise TemplateError("the text would be too long")
        return result


def _limited_range(*args: int) -> range:
    span = range(*args)
    if len(span) > MAX_RANGE:
        raise TemplateError(f"range() is limited to {MAX_RANGE} items in reply templates")
    return span


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    """The sandboxed, strict, plain-text environment for reply templates."""
    env = _ReplyEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.globals = {"range": _limited_range}
    env.filters = {name: env.filters[name] for name in ALLOWED_FILTERS}
    env.tests = {}
    return env


def _dotted(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        base = _dotted(node.node)
        return None if base is None else f"{base}.{node.attr}"
    return None


class _TooDeep(Exception):
    """The text nests deeper than `MAX_DEPTH`."""

    def __init__(self, line: int | None) -> None:
        super().__init__(line)
        self.line = line


def _too_deep(line: int | None) -> TemplateProblem:
    return TemplateProblem(
        line,
        f"the text nests more than {MAX_DEPTH} levels deep (if blocks inside if blocks, "
        "brackets or long and/or chains); please write it more simply",
    )


def _walk(
    node: nodes.Node, found: dict[str, int], problems: list[TemplateProblem], depth: int = 0
) -> None:
    """Collect the variables used (with their first line) and anything not allowed."""
    if depth > MAX_DEPTH:
        raise _TooDeep(getattr(node, "lineno", None))
    if not isinstance(node, _ALLOWED_NODES):
        what = {
            nodes.For: "loops",
            nodes.Call: "function calls",
            nodes.Macro: "macros",
            nodes.Assign: "assignments",
            nodes.Getitem: "[...] lookups",
        }.get(type(node), f"`{type(node).__name__}`")
        problems.append(TemplateProblem(node.lineno, f"{what} are not allowed here"))
        return
    if isinstance(node, nodes.Name | nodes.Getattr):
        name = _dotted(node)
        if name is None:
            problems.append(
                TemplateProblem(
                    node.lineno, "only the listed variables may be used, such as {{ client.name }}"
                )
            )
            return
        if name not in VARIABLES:
            problems.append(
                TemplateProblem(node.lineno, f"unknown variable {{{{ {name} }}}}{_hint(name)}")
            )
            return
        found.setdefault(name, node.lineno)
        return
    if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
        problems.append(TemplateProblem(node.lineno, f"the filter `{node.name}` is not allowed"))
        return
    for child in node.iter_child_nodes():
        _walk(child, found, problems, depth + 1)


def _hint(name: str | None) -> str:
    if name is None:
        return ""
    group = name.split(".")[0]
    options = [v for v in VARIABLES if v.split(".")[0] == group and "." in v]
    if options and group in TOP_LEVEL:
        return f" (this group has: {', '.join(options)})"
    return ""


@lru_cache(maxsize=512)
def _analyse(source: str) -> tuple[tuple[TemplateProblem, ...], tuple[tuple[str, int], ...]]:
    problems: list[TemplateProblem] = []
    found: dict[str, int] = {}
    if len(source) > MAX_SOURCE_LENGTH:
        return (TemplateProblem(None, f"the text is over {MAX_SOURCE_LENGTH} characters"),), ()
    try:
        tree = environment().parse(source)
    except TemplateSyntaxError as exc:
        return (TemplateProblem(exc.lineno, f"syntax problem: {exc.message}"),), ()
    except RecursionError:  # Jinja's parser recurses once per nesting level
        return (_too_deep(None),), ()
    try:
        _walk(tree, found, problems)
    except _TooDeep as exc:
        return (_too_deep(exc.line),), ()
    return tuple(problems), tuple(found.items())


def validate_source(source: str) -> list[TemplateProblem]:
    """What is wrong with a reply template text; empty when it may be saved and rendered."""
    problems = list(_analyse(source)[0])
    if not problems and not source.strip():
        problems.append(TemplateProblem(None, "the text is empty"))
    if not problems:
        try:
            render_source(source, sample_values())
        except TemplateProblems as exc:
            problems.extend(exc.problems)
    if not problems:
        try:
            render_source(source, long_sample_values())
        except TemplateProblems:
            problems.append(
                TemplateProblem(
                    None,
                    f"for a client with long details ({LONG_VALUE}-character names) the text "
                    f"would be over {MAX_REPLY_LENGTH} characters; please shorten it or use "
                    "fewer variables",
                )
            )
    return problems


def referenced_variables(source: str) -> frozenset[str]:
    """The known variables a template text uses (empty for an invalid text)."""
    return frozenset(name for name, _ in _analyse(source)[1])


@lru_cache(maxsize=512)
def _compiled(source: str) -> Any:
    problems = _analyse(source)[0]
    if problems:
        raise TemplateProblems(list(problems))
    try:
        return environment().from_string(source)
    except (RecursionError, SyntaxError):  # Python's own nesting limits, past our checks
        raise TemplateProblems([_too_deep(None)]) from None


# --- Rendering ------------------------------------------------------------------------------


def _context(values: ReplyValues, locale: str, language: str) -> dict[str, Any]:
    """Plain strings for every variable (dates and money in babel's `locale`); unknown
    groups become placeholders in the template's `language`."""
    zone = ZoneInfo(values.timezone)
    words = language_data(language)
    filled: dict[str, str] = {
        name: "" if name in OPTIONAL else words.placeholder(name) for name in VARIABLES
    }
    if values.client is not None:
        filled["client.name"] = values.client.name
        filled["client.contact_person"] = values.client.contact_person or values.client.name
        filled["client.first_name"] = values.client.first_name
    if values.manager is not None:
        filled["manager.name"] = values.manager.name
        # The phone is optional: templates write `{% if manager.phone %}`.
        filled["manager.phone"] = values.manager.phone or ""
    if values.company.strip():
        filled["company"] = values.company.strip()
    if values.manager is not None:
        filled["signature"] = values.manager.name + (
            f", {values.company.strip()}" if values.company.strip() else ""
        )
    if values.last_contact is not None:
        day = values.last_contact.at.astimezone(zone).date()
        filled["last_contact.date"] = format_date(day, words.date_format, locale=locale)
        filled["last_contact.summary"] = values.last_contact.summary
    if values.next_step is not None:
        moment = values.next_step.due_at.astimezone(zone)
        kind = values.next_step.kind
        filled["next_step.kind"] = words.kinds.get(kind, language_data().kinds.get(kind, kind))
        filled["next_step.date"] = format_date(
            moment.date(), words.weekday_date_format, locale=locale
        )
        filled["next_step.time"] = format_time(moment, words.time_format, locale=locale)
    if values.invoice is not None:
        invoice = values.invoice
        filled["invoice.number"] = invoice.number
        filled["invoice.amount"] = money.format_money(
            invoice.amount_minor, invoice.currency, locale
        )
        filled["invoice.balance"] = money.format_money(
            invoice.balance_minor, invoice.currency, locale
        )
        if invoice.paid_minor > 0:
            filled["invoice.paid"] = money.format_money(
                invoice.paid_minor, invoice.currency, locale
            )
        if invoice.promised_on is not None:
            filled["invoice.promised_date"] = format_date(
                invoice.promised_on, words.date_format, locale=locale
            )
        filled["invoice.due_date"] = format_date(
            invoice.due_date, words.date_format, locale=locale
        )
        filled["invoice.days_overdue"] = format_timedelta(
            dt.timedelta(days=max(invoice.days_overdue, 0)),
            granularity="day",
            threshold=100_000,
            locale=locale,
        )
    context: dict[str, Any] = {}
    for name, text in filled.items():
        if "." in name:
            group, attribute = name.split(".")
            context.setdefault(group, {})[attribute] = text
        else:
            context[name] = text
    return {
        key: SimpleNamespace(**value) if isinstance(value, dict) else value
        for key, value in context.items()
    }


def _bounded(chunks: Iterator[str]) -> str:
    text: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_REPLY_LENGTH:
            raise TemplateProblems(
                [TemplateProblem(None, f"the text would be over {MAX_REPLY_LENGTH} characters")]
            )
        text.append(chunk)
    return "".join(text)


def render_source(
    source: str, values: ReplyValues, locale: str = "en", *, language: str | None = None
) -> str:
    """Render any reply template text as plain text (see the module docstring).

    `language` is the text's own language (a company template's locale); by default the
    language of `locale`. Dates, money, the step kind and placeholders follow it.
    """
    language = language or language_of(locale)
    template = _compiled(source)
    context = _context(values, formatting_locale(locale, language), language)
    try:
        text = _bounded(template.generate(context))
    except TemplateProblems:
        raise
    except TemplateError as exc:
        raise TemplateProblems([TemplateProblem(None, str(exc))]) from None
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def render_reply(template_id: str, values: ReplyValues, locale: str = "en") -> str:
    """Render the built-in template `template_id` as plain text (see the module docstring)."""
    template = get_template(template_id, locale)
    return render_source(template.body, values, locale, language=template.locale)


def render_template(template: ReplyTemplate, values: ReplyValues, locale: str = "en") -> str:
    """Render a built-in or company template object as plain text, in its own language."""
    language = template.locale if (REPLIES_DIR / template.locale).is_dir() else None
    return render_source(template.body, values, locale, language=language)


def check_reply_templates() -> list[str]:
    """`python -m bot check` for reply templates: headers, variables, rendering; one line each.

    Every file of every language must parse, name a known situation, list exactly the
    variables it uses, pass `validate_source` and render both with the sample values and with
    nothing known (placeholders).
    """
    problems: list[str] = []
    for folder in sorted(path for path in REPLIES_DIR.iterdir() if path.is_dir()):
        try:
            situations = {situation.key for situation in load_situations(folder.name)}
        except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
            problems.append(f"templates/replies/{folder.name}/situations.toml: {exc}")
            continue
        seen: set[str] = set()
        for path in sorted(folder.glob("*.j2")):
            name = f"templates/replies/{folder.name}/{path.name}"
            try:
                template = _template_from_file(path, folder.name)
            except (ValueError, OSError) as exc:
                problems.append(f"{name}: {exc}")
                continue
            if template.id in seen:
                problems.append(f"{name}: the id {template.id!r} is used twice")
            seen.add(template.id)
            if template.situation not in situations:
                problems.append(f"{name}: unknown situation {template.situation!r}")
            found = validate_source(template.body)
            problems.extend(f"{name}: {problem}" for problem in found)
            if found:
                continue
            declared, used = set(template.variables), set(template.uses)
            if declared != used:
                problems.append(
                    f"{name}: the header lists {sorted(declared - used)} that the text does not "
                    f"use, and misses {sorted(used - declared)}"
                )
            try:
                render_source(template.body, ReplyValues(), folder.name, language=folder.name)
            except TemplateProblems as exc:
                problems.append(f"{name}: {exc}")
    problems.extend(_check_languages())
    return problems


def _check_languages() -> list[str]:
    """Every language has every English file, the same situations, and each template id in
    the same situation as in English; its `locale.toml` names every kind and placeholder."""
    problems: list[str] = []
    english = {t.id: t.situation for t in builtin_templates(FALLBACK_LANGUAGE)}
    english_situations = [s.key for s in load_situations(FALLBACK_LANGUAGE)]
    english_kinds = set(language_data(FALLBACK_LANGUAGE).kinds)
    for language in template_languages():
        where = f"templates/replies/{language}"
        problems.extend(
            f"{where}/{name}: missing (the English file is used instead)"
            for name in missing_files(language)
        )
        if language == FALLBACK_LANGUAGE:
            continue
        try:
            situations = [s.key for s in load_situations(language)]
            words = language_data(language)
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            continue  # reported above
        if situations != english_situations:
            problems.append(f"{where}/situations.toml: the situations differ from English's")
        for template in builtin_templates(language):
            if template.locale == language and english.get(template.id) != template.situation:
                problems.append(
                    f"{where}/{template.id}.j2: situation {template.situation!r}, English "
                    f"has {english.get(template.id)!r}"
                )
        if lacking := sorted(english_kinds - set(words.kinds)):
            problems.append(f"{where}/locale.toml: [kinds] lacks {', '.join(lacking)}")
        if lacking := sorted(set(VARIABLES) - set(words.placeholders)):
            problems.append(f"{where}/locale.toml: [placeholders] lacks {', '.join(lacking)}")
        try:
            Locale.parse(words.babel_locale)
        except (ValueError, UnknownLocaleError):
            problems.append(f"{where}/locale.toml: unknown babel_locale {words.babel_locale!r}")
    return problems
