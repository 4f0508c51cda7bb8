"""Money: parsing and formatting per ISO 4217 exponent (JPY 0, EUR 2, KWD 3), never floats."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services import money
from bot.services.errors import DomainError
from bot.services.money import Money


@pytest.mark.parametrize(
    ("currency", "digits"), [("JPY", 0), ("EUR", 2), ("USD", 2), ("KWD", 3), ("BHD", 3)]
)
def test_exponent_per_currency(currency: str, digits: int) -> None:
    assert money.exponent(currency) == digits


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1250", "JPY", 1250),
        ("1,250", "JPY", 1250),
        ("1250.00", "EUR", 125000),
        ("1250.5", "EUR", 125050),
        ("0.01", "EUR", 1),
        ("1 250,50", "EUR", 125050),
        ("1.234", "KWD", 1234),
        ("0.001", "KWD", 1),
        ("12", "KWD", 12000),
    ],
)
def test_parse_amount_in_minor_units(text: str, currency: str, minor: int) -> None:
    assert money.parse_amount(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("10.5", "JPY", "JPY amounts have no decimals"),
        ("1250.505", "EUR", "at most 2 decimals"),
        ("1.2345", "KWD", "at most 3 decimals"),
    ],
)
def test_too_many_decimals_for_the_currency(text: str, currency: str, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        money.parse_amount(text, currency)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "is not an amount"),
        ("12abc", "not a currency I know"),
        ("-5", "can't be negative"),
        ("- 5 EUR", "can't be negative"),
        ("0", "more than zero"),
        ("0.00 EUR", "more than zero"),
        ("1e5", "is not an amount"),
        ("1250 XYZ", "not a currency I know"),
        ("1250 DEM", "not a currency I know"),
        ("EUR 5 USD", "Give the currency once"),
    ],
)
def test_bad_amounts_get_their_own_message(text: str, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        money.parse_money(text, default_currency="USD")


def test_parse_money_currency_before_after_or_default() -> None:
    assert money.parse_money("1250.00 EUR", default_currency="USD") == Money(125000, "EUR")
    assert money.parse_money("eur 1250", default_currency="USD") == Money(125000, "EUR")
    assert money.parse_money("1250JPY", default_currency="USD") == Money(1250, "JPY")
    assert money.parse_money("1250", default_currency="KWD") == Money(1250000, "KWD")


def test_locale_grouping_and_decimal_signs() -> None:
    assert money.parse_amount("1.250,50", "EUR", locale="de") == 125050
    assert money.parse_amount("1,250.50", "EUR", locale="en") == 125050


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "shown"),
    [
        (125000, "EUR", "en", "€1,250.00"),
        (125050, "EUR", "de", "1.250,50\xa0€"),
        (1250, "JPY", "en", "¥1,250"),
        (1234, "KWD", "en", "KWD1.234"),
        (5, "KWD", "en", "KWD0.005"),
    ],
)
def test_format_per_exponent_and_locale(
    minor: int, currency: str, locale: str, shown: str
) -> None:
    assert money.format_money(minor, currency, locale) == shown


def test_decimals_are_exact_never_float() -> None:
    value = money.to_decimal(1234, "KWD")
    assert isinstance(value, Decimal)
    assert value == Decimal("1.234")
    assert Money(1, "EUR").decimal == Decimal("0.01")


def test_totals_are_per_currency_and_sorted() -> None:
    assert money.format_totals({"USD": 100, "EUR": 250, "JPY": 7}) == ["€2.50", "¥7", "$1.00"]


def test_unknown_currency_but_the_configured_default_is_accepted() -> None:
    with pytest.raises(DomainError, match="not a currency I know"):
        money.parse_currency("XAU")
    assert money.parse_currency("eur") == "EUR"
    assert money.parse_currency("HRK", default="HRK") == "HRK"


@given(
    minor=st.integers(min_value=1, max_value=10**12),
    currency=st.sampled_from(["JPY", "EUR", "KWD", "USD", "BHD"]),
)
def test_round_trip_through_text(minor: int, currency: str) -> None:
    """Any amount written out in major units reads back to the same minor units."""
    text = str(money.to_decimal(minor, currency))
    assert money.parse_amount(text, currency) == minor
