"""Money: parsing and formatting per ISO 4217 exponent (JPY 0, EUR 2, KWD 3), never floats."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.errors import DomainError
from bot.services.receivables import money
from bot.services.receivables.money import Money


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


# --- ISO 4217 exponents (not CLDR display digits) and amounts written the local way --------


@pytest.mark.parametrize(("currency", "digits"), sorted(money.ISO_4217.items()))
def test_every_iso_currency_reads_and_shows_its_minor_units(currency: str, digits: int) -> None:
    """Each active code takes exactly its ISO exponent of decimals and shows all it has."""
    assert money.exponent(currency) == digits
    assert money.parse_currency(currency.lower()) == currency
    fraction = "".join(str(n % 9 + 1) for n in range(digits))
    text = f"1250.{fraction} {currency}" if digits else f"1250 {currency}"
    value = money.parse_money(text, default_currency="USD")
    minor = 1250 * 10**digits + (int(fraction) if digits else 0)
    assert value == Money(minor, currency)
    shown = value.format("en")
    assert (f"1,250.{fraction}" if digits else "1,250") in shown
    with pytest.raises(DomainError, match="no decimals" if digits == 0 else "at most"):
        money.parse_money(f"1250.{fraction}1 {currency}", default_currency="USD")


@pytest.mark.parametrize(
    ("text", "minor"), [("1250.500 IQD", 1_250_500), ("1250.50 HUF", 125_050), ("0.0001 CLF", 1)]
)
def test_iso_exponents_where_cldr_shows_fewer_digits(text: str, minor: int) -> None:
    assert money.parse_money(text, default_currency="EUR").minor == minor


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "shown"),
    [
        (125_050, "HUF", "en", "HUF1,250.50"),  # fillér are never rounded away
        (125_050, "HUF", "hu", "1\xa0250,50\xa0Ft"),
        (125_000, "HUF", "en", "HUF1,250"),  # whole forints as CLDR shows them
        (1_250_500, "IQD", "en", "IQD1,250.500"),
        (1_250_000, "IQD", "en", "IQD1,250"),
        (1_250_050, "IQD", "en", "IQD1,250.050"),
        (125_000, "EUR", "en", "€1,250.00"),  # EUR keeps its two digits
    ],
)
def test_display_keeps_every_minor_unit(
    minor: int, currency: str, locale: str, shown: str
) -> None:
    assert money.format_money(minor, currency, locale) == shown


@pytest.mark.parametrize(
    ("text", "locale", "minor"),
    [
        ("1.234,56 EUR", "en", 123_456),
        ("1.234,56 EUR", "de", 123_456),
        ("1 234,56", "en", 123_456),
        ("1 234,56", "fr", 123_456),
        ("1\u202f234,56", "fr", 123_456),  # narrow no-break space, as French writes it
        ("1\xa0234,56", "ru", 123_456),  # no-break space
        ("1\u2009234,56", "de", 123_456),  # thin space
        ("12,50", "en", 1_250),
        ("12,50", "de", 1_250),
        ("1,234.56", "en", 123_456),
        ("1,234.56", "de", 123_456),
        ("1250.50", "de", 125_050),
        ("1,234", "en", 123_400),
        ("1'234.50", "de_CH", 123_450),
        ("1.234.567,89", "de", 123_456_789),
    ],
)
def test_amounts_as_people_write_them(text: str, locale: str, minor: int) -> None:
    assert money.parse_money(text, default_currency="EUR", locale=locale).minor == minor


@pytest.mark.parametrize(
    ("text", "locale", "readings"),
    [
        ("1,234", "de", ("1,234 (with “,” as the decimal sign)", "1234 (with “,” grouping")),
        ("1.234", "de", ("1.234 (with “.” as the decimal sign)", "1234 (with “.” grouping")),
        ("1,234", "fr", ("1,234 (with “,” as the decimal sign)", "1234 (with “,” grouping")),
    ],
)
def test_a_text_that_is_two_amounts_is_refused_naming_both(
    text: str, locale: str, readings: tuple[str, str]
) -> None:
    with pytest.raises(DomainError) as caught:
        money.parse_money(f"{text} KWD", default_currency="EUR", locale=locale)
    message = str(caught.value)
    assert all(reading in message for reading in readings), message
    assert "without a thousands separator, e.g. 1234,00" in message


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("€1,250.00", "en", (125000, "EUR")),  # what the bot itself shows, typed back
        ("$99", "en", (9900, "USD")),
        ("$99", "en_CA", (9900, "CAD")),
        ("CA$10", "en", (1000, "CAD")),
        ("£12.5", "en", (1250, "GBP")),
        ("1 250 ₽", "ru", (125000, "RUB")),
        ("1.234,56 €", "de", (123456, "EUR")),
        ("₹1,23,456.50", "en_IN", (12345650, "INR")),
    ],
)
def test_amounts_with_a_currency_symbol(text: str, locale: str, expected: tuple[int, str]) -> None:
    """A symbol before or after the amount names its currency, as the person's locale writes it."""
    value = money.parse_money(text, default_currency="EUR", locale=locale)
    assert (value.minor, value.currency) == expected


def test_a_symbol_and_a_code_together_are_refused() -> None:
    """`€ 5 USD` names two currencies: asked to give one."""
    with pytest.raises(DomainError, match="Give the currency once"):
        money.parse_money("€ 5 USD", default_currency="EUR", locale="en")
