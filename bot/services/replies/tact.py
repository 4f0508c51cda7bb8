r"""The tact check: findings about a manager's draft, a softened version, a fitting situation.

The rules are data (`templates/tact/<language>.toml`): phrase lists with their replacements,
the ALL-CAPS exceptions, greeting and closing words, the facts a payment message needs and the
words that turn a refusal into an offer. This module only applies them.

    review(draft: str, locale: str = "en") -> TactReport

Words are whole words in every script: Python's `\w` leaves out the combining marks that
Devanagari and Gujarati write vowels and conjuncts with (ि ् ં ા), so `\b` would find a
"word" बिल inside बिल्कुल. `WORD_CHARS` adds every combining mark (Unicode categories Mn,
Mc, Me) to `\w`, and phrases are bounded by it. Devanagari and Gujarati have no letter case:
the CAPS rule only ever sees Latin-script words (Hinglish "PAYMENT KARO"), and shouting
there is `!!!` or `???`, which the punctuation rule finds in any script. A rule may be a
regular expression (`pattern`) whose replacement reuses its groups, so a softened text
stays grammatical where a verb form must change with the pronoun ("ты забыл" → "вы
забыли", "आपको भुगतान करना होगा" → "कृपया भुगतान कर दीजिए").
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.config import TEMPLATES_DIR
from bot.services.replies.templates import Situation, language_of, load_situations

TACT_DIR = TEMPLATES_DIR / "tact"
MAX_DRAFT = 3000
CLOSING_LINES = 4
DROPPED = "\x00"  # marks a dropped phrase until `_tidy` removes it with its comma
ASKS = "\x01"  # marks a replacement that makes its sentence a question ("could you please")


def _mark_ranges() -> str:
    """Every combining mark (Mn, Mc, Me) as character-class ranges."""
    ranges: list[str] = []
    start = previous = -2
    # Marks live in planes 0 and 1 and among plane 14's variation selectors.
    for code in (*range(0x20000), *range(0xE0000, 0xE1000)):
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me"):
            if code != previous + 1:
                if start >= 0:
                    ranges.append(_range(start, previous))
                start = code
            previous = code
    ranges.append(_range(start, previous))
    return "".join(ranges)


def _range(first: int, last: int) -> str:
    return f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}"


MARKS = _mark_ranges()
WORD_CHARS = rf"\w{MARKS}"
"""A word's characters in any script: `\\w` and the combining marks it leaves out."""
_WORD = re.compile(rf"(?<![{WORD_CHARS}'’])[^\W\d_][{WORD_CHARS}'’-]*(?![{WORD_CHARS}'’])")
_SENTENCE_START = re.compile(r"(?:^|[.!?।]\s+|\n\s*)$")
_REPEATED_MARKS = re.compile(r"[!?]{2,}")


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing to soften: the rule, the phrase as written, and what to write instead."""

    rule: str  # familiar | demanding | blaming | caps | punctuation | greeting | closing |
    # payment_facts | refusal_alternative
    label: str
    quote: str
    suggestion: str
    why: str


@dataclass(frozen=True, slots=True)
class TactReport:
    """The findings (none for a clean draft), the softened text and the matching situation."""

    draft: str
    findings: list[Finding]
    softened: str
    situation: Situation | None
    verdict_clean: str

    @property
    def clean(self) -> bool:
        """Whether nothing was found."""
        return not self.findings


@dataclass(frozen=True, slots=True)
class _Phrase:
    category: str
    pattern: re.Pattern[str]
    replace: str
    question: bool = False


@dataclass(frozen=True, slots=True)
class _Rules:
    data: dict[str, Any]
    phrases: tuple[_Phrase, ...]
    greeting: re.Pattern[str]
    closing: re.Pattern[str]
    payment_triggers: re.Pattern[str]
    due_triggers: re.Pattern[str]
    facts: dict[str, re.Pattern[str]]
    refusal_triggers: re.Pattern[str]
    alternatives: re.Pattern[str]
    allowed_caps: frozenset[str]


def _words_pattern(
    words: list[str], *, anchored: bool = False, regexes: list[str] | None = None
) -> re.Pattern[str]:
    """Whole-word alternatives (literal words longest first, then regular expressions),
    ignoring case; a word ends where no letter or combining mark follows."""
    ordered = sorted(words, key=len, reverse=True)
    parts = [re.escape(word).replace(r"\ ", r"\s+") for word in ordered]
    parts += [f"(?:{regex})" for regex in regexes or ()]
    prefix = r"^\s*" if anchored else rf"(?<![{WORD_CHARS}'’])"
    return re.compile(rf"{prefix}(?:{'|'.join(parts)})(?![{WORD_CHARS}'’])", re.IGNORECASE)


@lru_cache(maxsize=8)
def rules(language: str = "en") -> _Rules:
    """The rules of a language, compiled once."""
    data = tomllib.loads((TACT_DIR / f"{language}.toml").read_text(encoding="utf-8"))
    phrases = tuple(
        _Phrase(
            item["category"],
            _words_pattern(item.get("match", []), regexes=item.get("pattern")),
            item["replace"],
            bool(item.get("question", False)),
        )
        for item in data["phrase"]
    )
    payment = data["payment"]
    return _Rules(
        data=data,
        phrases=phrases,
        greeting=_words_pattern(
            data["greeting"]["words"], anchored=data["greeting"].get("anywhere") is not True
        ),
        closing=_words_pattern(data["closing"]["words"], anchored=True),
        payment_triggers=_words_pattern(payment["triggers"]),
        due_triggers=_words_pattern(payment["due_triggers"]),
        facts={name: re.compile(payment[name], re.IGNORECASE) for name in payment["fact_names"]},
        refusal_triggers=_words_pattern(data["refusal"]["triggers"]),
        alternatives=_words_pattern(data["refusal"]["alternatives"]),
        allowed_caps=frozenset(word.upper() for word in data["caps"]["allowed"]),
    )


def _tact_language(locale: str) -> str:
    language = language_of(locale)
    return language if (TACT_DIR / f"{language}.toml").is_file() else "en"


def _match_case(replacement: str, *, sentence_start: bool) -> str:
    if replacement and sentence_start:
        return replacement[0].upper() + replacement[1:]
    return replacement


def _drop_markers(text: str) -> str:
    """Remove dropped phrases (marked `\x00`) with the comma after them; fix the capitals."""
    text = re.sub(r"[ \t]*,[ \t]*\x00(?=[ \t]*(?:[.!?।]|$))", "", text, flags=re.MULTILINE)

    def fix(match: re.Match[str]) -> str:
        following = match.group("next") or ""
        if match.group("pre") is not None:
            return match.group("pre") + following.upper()
        return following

    return re.sub(
        r"(?P<pre>^|(?<=[.!?।])[ \t]+)?\x00[ \t]*,?[ \t]*(?P<next>\w)?",
        fix,
        text,
        flags=re.MULTILINE,
    )


def _tidy(text: str) -> str:
    """Spaces left by dropped phrases: no doubles, none before punctuation, no leading comma."""
    text = _drop_markers(text)
    text = re.sub(f"{ASKS}([^.!?।\n]*)[.।]", r"\1?", text).replace(ASKS, "")
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r" +([,.!?;:।])", r"\1", text)
    text = re.sub(r"(^|\n)[ \t]*[,;:][ \t]*", r"\1", text)
    text = re.sub(r",([.!?।])", r"\1", text)
    lines = [line.strip() for line in text.split("\n")]
    fixed = []
    for line in lines:
        fixed.append(line[0].upper() + line[1:] if line and line[0].islower() else line)
    return "\n".join(fixed).strip()


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _expand(match: re.Match[str], replace: str) -> str:
    """`replace` with its group references filled from `match`; a group that starts the
    match loses the capital it had only for starting a sentence ("Сможешь" → "сможете")."""

    def group(reference: re.Match[str]) -> str:
        number = int(reference.group(1))
        text = match.group(number) or ""
        if text and match.start(number) == match.start():
            return text[0].lower() + text[1:]
        return text

    return re.sub(r"\\(\d)", group, replace)


def _phrase_findings(rules_: _Rules, text: str) -> tuple[list[Finding], str, set[str]]:
    found: list[tuple[int, Finding]] = []
    seen: set[str] = set()
    covered: list[tuple[int, int]] = []  # what an earlier rule already quoted
    quoted_words: set[str] = set()
    categories = rules_.data["categories"]
    for phrase in rules_.phrases:
        for match in phrase.pattern.finditer(text):
            quote = match.group(0)
            key = quote.casefold()
            quoted_words.update(word.upper() for word in quote.split())
            inside = any(a <= match.start() and match.end() <= b for a, b in covered)
            if key in seen or inside:
                continue
            seen.add(key)
            covered.append(match.span())
            category = categories[phrase.category]
            suggestion = (
                f"“{_expand(match, phrase.replace)}”"
                if phrase.replace
                else rules_.data["wording"]["leave_out"]
            )
            finding = Finding(
                phrase.category, category["label"], quote, suggestion, category["why"]
            )
            found.append((match.start(), finding))
    findings = [finding for _, finding in sorted(found, key=lambda item: item[0])]

    softened = text
    for phrase in rules_.phrases:

        def soften(
            match: re.Match[str], replace: str = phrase.replace, asks: bool = phrase.question
        ) -> str:
            start = _SENTENCE_START.search(match.string[: match.start()]) is not None
            if not replace:
                return DROPPED
            return _match_case(_expand(match, replace), sentence_start=start) + (
                ASKS if asks else ""
            )

        softened = phrase.pattern.sub(soften, softened)
    return findings, softened, quoted_words


def _cased_part(word: str) -> str:
    """The word up to its first letter or mark without case: `PDFમાં` → `PDF` (a Gujarati
    or Hindi suffix written onto a Latin abbreviation), `भुगतान` → ``."""
    for index, char in enumerate(word):
        letter = char.isalpha() or unicodedata.category(char).startswith("M")
        if letter and char.lower() == char.upper():
            return word[:index]
    return word


def _caps(rules_: _Rules, text: str, skip: set[str]) -> list[Finding]:
    spec = rules_.data["caps"]
    found: list[Finding] = []
    seen: set[str] = set()
    for match in _WORD.finditer(text):
        word = _cased_part(match.group(0))
        letters = [ch for ch in word if ch.isalpha()]
        if (
            len(letters) >= spec["min_length"]
            and not any(ch.isdigit() for ch in word)
            and word.isupper()
            and word.upper() not in rules_.allowed_caps
            and word.upper() not in skip
            and word not in seen
        ):
            seen.add(word)
            found.append(Finding("caps", spec["label"], word, f"“{word.lower()}”", spec["why"]))
    return found


def _soften_caps(rules_: _Rules, text: str) -> str:
    def lower(match: re.Match[str]) -> str:
        whole = match.group(0)
        word, rest = _cased_part(whole), whole[len(_cased_part(whole)) :]
        if not (word.isupper() and len(word) >= rules_.data["caps"]["min_length"]):
            return whole
        if any(char.isdigit() for char in word):  # INV-7, B2B: a code, as `_caps` skips it
            return whole
        if word.upper() in rules_.allowed_caps:
            return whole
        start = _SENTENCE_START.search(text[: match.start()]) is not None
        return (word.capitalize() if start else word.lower()) + rest

    return _WORD.sub(lower, text)


def _punctuation(rules_: _Rules, text: str) -> tuple[list[Finding], str]:
    spec = rules_.data["punctuation"]
    found: list[Finding] = []
    runs = list(dict.fromkeys(m.group(0) for m in _REPEATED_MARKS.finditer(text)))
    for run in runs:
        found.append(Finding("punctuation", spec["label"], run, spec["suggestion"], spec["why"]))
    softened = _REPEATED_MARKS.sub(lambda m: "?" if "?" in m.group(0) else "!", text)
    if not runs and text.count("!") > spec["max_exclamations"]:
        found.append(
            Finding(
                "punctuation",
                spec["label"],
                "! " * text.count("!"),
                spec["suggestion"],
                spec["why"],
            )
        )
    if softened.count("!") > spec["max_exclamations"]:
        first = softened.index("!")
        softened = softened[: first + 1] + softened[first + 1 :].replace("!", ".")
    return found, softened


def _greeting_and_closing(rules_: _Rules, text: str) -> tuple[list[Finding], str, str]:
    found: list[Finding] = []
    lines = _lines(text)
    head, tail = "", ""
    if lines and not rules_.greeting.search(lines[0]):
        spec = rules_.data["greeting"]
        quote = lines[0] if len(lines[0]) <= 40 else lines[0][:40].rsplit(" ", 1)[0] + "…"
        start = rules_.data["wording"]["start_with"].format(phrase=spec["suggestion"])
        found.append(Finding("greeting", spec["label"], quote, start, spec["why"]))
        head = spec["suggestion"]
    # The closing may be followed by a name, a company and a phone number.
    if lines and not any(rules_.closing.search(line) for line in lines[-CLOSING_LINES:]):
        spec = rules_.data["closing"]
        quote = lines[-1] if len(lines[-1]) <= 40 else "…" + lines[-1][-40:].split(" ", 1)[-1]
        end = rules_.data["wording"]["end_with"].format(phrase=spec["suggestion"])
        found.append(Finding("closing", spec["label"], quote, end, spec["why"]))
        tail = spec["suggestion"]
    return found, head, tail


def _payment(rules_: _Rules, text: str) -> Finding | None:
    spec = rules_.data["payment"]
    trigger = rules_.payment_triggers.search(text)
    if trigger is None:
        return None
    needed = ["number", "amount"]
    if rules_.due_triggers.search(text):
        needed.append("due_date")
    missing = [spec["fact_names"][name] for name in needed if not rules_.facts[name].search(text)]
    if not missing:
        return None
    wording = rules_.data["wording"]
    what = ", ".join(missing[:-1]) + (wording["and"] if len(missing) > 1 else "") + missing[-1]
    return Finding(
        "payment_facts",
        spec["label"],
        trigger.group(0),
        wording["add_facts"].format(facts=what, example=spec["suggestion"]),
        spec["why"],
    )


def _refusal(rules_: _Rules, text: str) -> Finding | None:
    spec = rules_.data["refusal"]
    trigger = rules_.refusal_triggers.search(text)
    if trigger is None or rules_.alternatives.search(text):
        return None
    return Finding(
        "refusal_alternative",
        spec["label"],
        trigger.group(0),
        rules_.data["wording"]["add"].format(phrase=spec["suggestion"]),
        spec["why"],
    )


def _insert_before_closing(rules_: _Rules, body: str, addition: str) -> str:
    """Add a paragraph after the message itself, before its closing and signature."""
    if not addition:
        return body
    lines = body.split("\n")
    for index in range(len(lines) - 1, max(len(lines) - CLOSING_LINES, 0) - 1, -1):
        if lines[index].strip() and rules_.closing.search(lines[index]):
            head = "\n".join(lines[:index]).rstrip()
            return f"{head}\n\n{addition}\n\n" + "\n".join(lines[index:])
    return f"{body}\n\n{addition}" if body else addition


@lru_cache(maxsize=8)
def _situation_patterns(language: str) -> tuple[tuple[Situation, re.Pattern[str]], ...]:
    return tuple(
        (situation, _words_pattern(list(situation.keywords)))
        for situation in load_situations(language)
        if situation.keywords
    )


def match_situation(text: str, locale: str = "en") -> Situation | None:
    """The situation whose keywords the text mentions most (closing lines left out)."""
    language = _tact_language(locale)
    rules_ = rules(language)
    lines = _lines(text)
    if len(lines) > 1 and rules_.closing.search(lines[-1]):
        lines = lines[:-1]
    body = "\n".join(lines)
    best: tuple[int, Situation] | None = None
    for situation, pattern in _situation_patterns(language_of(locale)):
        hits = len(pattern.findall(body))
        if hits >= rules_.data["situations"]["min_hits"] and (best is None or hits > best[0]):
            best = (hits, situation)
    return best[1] if best else None


def soften(text: str, locale: str = "en") -> str:
    """The text with its phrases, capitals and repeated marks softened (no greeting, closing
    or added sentences): what each rule's examples in the TOML are checked against."""
    rules_ = rules(_tact_language(locale))
    softened = _soften_caps(rules_, _phrase_findings(rules_, text)[1])
    return _tidy(_punctuation(rules_, softened)[1])


def review(draft: str, locale: str = "en") -> TactReport:
    """Check a draft: each finding quotes the phrase and proposes a replacement."""
    rules_ = rules(_tact_language(locale))
    text = draft.strip()[:MAX_DRAFT]
    findings, softened, quoted = _phrase_findings(rules_, text)
    findings += _caps(rules_, text, quoted)
    softened = _soften_caps(rules_, softened)
    marks, softened = _punctuation(rules_, softened)
    findings += marks
    framing, head, tail = _greeting_and_closing(rules_, text)
    findings += framing
    extra: list[str] = []
    for check in (_payment, _refusal):
        finding = check(rules_, text)
        if finding is not None:
            findings.append(finding)
            extra.append(
                rules_.data["payment" if finding.rule == "payment_facts" else "refusal"][
                    "suggestion"
                ]
            )
    body = _insert_before_closing(rules_, _tidy(softened), " ".join(extra))
    parts = [part for part in (head, body, tail) if part]
    return TactReport(
        draft=text,
        findings=findings,
        softened="\n\n".join(parts) if findings else text,
        situation=match_situation(text, locale),
        verdict_clean=rules_.data["verdict"]["clean"],
    )
