"""The tact check: every rule with a positive and a negative example, the softened version."""

from __future__ import annotations

import pytest

from bot.services.replies.tact import match_situation, review, rules

POLITE = "Hello Anna,\n\n{}\n\nKind regards,\nMia"


def rules_found(draft: str) -> list[str]:
    return [finding.rule for finding in review(draft).findings]


def quotes(draft: str, rule: str) -> list[str]:
    return [finding.quote for finding in review(draft).findings if finding.rule == rule]


def test_clean_text_looks_polite_and_clear() -> None:
    report = review(POLITE.format("Thank you for the call today. I will send the offer."))
    assert report.clean and report.findings == []
    assert report.verdict_clean == "Looks polite and clear"
    assert report.softened == report.draft


@pytest.mark.parametrize(
    ("rule", "bad", "good", "quoted", "replacement"),
    [
        ("familiar", "That is cool, no worries.", "That is great, certainly.", "cool", "great"),
        ("familiar", "Thx, see you guys soon.", "Thank you, see you soon.", "Thx", "thank you"),
        ("demanding", "You must sign it ASAP.", "Could you sign it soon?", "You must", "please"),
        ("demanding", "This is urgent.", "This is important for us.", "urgent", "time-sens"),
        (
            "blaming",
            "As I already told you, the price is fixed.",
            "As mentioned earlier, the price is fixed.",
            "As I already told you",
            "as mentioned earlier",
        ),
        (
            "blaming",
            "You failed to send the form.",
            "We have not received the form yet.",
            "You failed to",
            "could you please",
        ),
        (
            "caps",
            "We need the PAYMENT today.",
            "We need the VAT number today.",
            "PAYMENT",
            "“payment”",
        ),
        ("punctuation", "Any news??", "Any news?", "??", "one mark"),
        (
            "punctuation",
            "Great! Thanks! See you!",
            "Great! Thanks, see you.",
            "! ! ! ",
            "one mark",
        ),
    ],
)
def test_phrase_rules(rule: str, bad: str, good: str, quoted: str, replacement: str) -> None:
    """Each finding quotes the phrase as written and proposes a replacement."""
    found = [f for f in review(POLITE.format(bad)).findings if f.rule == rule]
    assert found, rules_found(POLITE.format(bad))
    assert found[0].quote == quoted
    assert replacement in found[0].suggestion
    assert rule not in rules_found(POLITE.format(good))


def test_words_inside_other_words_are_not_flagged() -> None:
    """ "cool" in "cooling", "np" in "input", "ya" in "yard", CAPS with digits, acronyms."""
    text = POLITE.format("Our cooling units need input from your yard team: INV-2026, VAT, PDF.")
    assert rules_found(text) == []


def test_missing_greeting() -> None:
    assert "greeting" in rules_found("Thank you for the call.\nKind regards")
    assert "greeting" not in rules_found("Good morning Anna,\nthank you.\nKind regards")
    assert "greeting" not in rules_found("Dear Mr Smith,\nthank you.\nBest wishes")


def test_missing_closing() -> None:
    assert "closing" in rules_found("Hello Anna,\nThe offer is attached.")
    # The closing may be followed by a signature of up to three lines.
    assert "closing" not in rules_found(
        "Hello Anna,\nThe offer is attached.\nBest regards,\nMia\nNextStep\n+44 20 7946 0000"
    )


def test_payment_without_the_invoice_facts() -> None:
    bad = POLITE.format("Please pay the overdue invoice.")
    finding = next(f for f in review(bad).findings if f.rule == "payment_facts")
    assert finding.quote == "pay"
    assert "the invoice number, the amount and the due date" in finding.suggestion
    good = POLITE.format("Invoice INV-17 for €1,200.00 was due on 10 November. Could you pay?")
    assert "payment_facts" not in rules_found(good)
    # A thank-you for a payment needs the number and the amount, not a due date.
    thanks = POLITE.format("We received your payment of 500 EUR for invoice #1042.")
    assert "payment_facts" not in rules_found(thanks)
    assert "payment_facts" not in rules_found(POLITE.format("See you at the fair."))


def test_refusal_without_an_alternative_or_next_step() -> None:
    bad = POLITE.format("Unfortunately, we cannot offer this discount.")
    assert "refusal_alternative" in rules_found(bad)
    good = POLITE.format(
        "Unfortunately, we cannot offer this discount. Instead, we could extend the terms."
    )
    assert "refusal_alternative" not in rules_found(good)
    assert "refusal_alternative" not in rules_found(POLITE.format("We can do it."))


def test_softened_version_applies_every_replacement() -> None:
    report = review("Hey guys, you must pay invoice ASAP!!! URGENT")
    assert report.softened == (
        "Hello everyone, could you please pay invoice at your earliest convenience! "
        "Time-sensitive\n\nInvoice [number] for [amount] was due on [date].\n\nKind regards,"
    )


def test_softened_version_drops_phrases_cleanly() -> None:
    report = review("Hello,\nobviously, the price is fixed, lol. Thanks, mate\nBest regards")
    assert report.softened.splitlines()[1] == "The price is fixed. Thanks"


def test_refusal_softened_gets_an_alternative_before_the_closing() -> None:
    report = review("Hello Anna,\nUnfortunately we cannot do that.\nKind regards,\nMia")
    lines = report.softened.split("\n\n")
    assert lines[-2].startswith("Instead, I would be glad to suggest an alternative")
    assert lines[-1] == "Kind regards,\nMia"


def test_matching_situation() -> None:
    assert match_situation("Please pay the overdue invoice").key == "payment_reminder"
    assert match_situation("Sorry for the delay with the delivery").key == "apology"
    assert match_situation("Hello\nKind regards") is None


def test_rules_are_data() -> None:
    """Every category has a label and a reason; every phrase a replacement."""
    data = rules("en").data
    for phrase in data["phrase"]:
        assert phrase["category"] in data["categories"]
        assert "replace" in phrase and phrase["match"]
