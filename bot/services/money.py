"""Money: amounts as integer minor units per the currency's ISO 4217 exponent, never floats.

Parsing goes through `Decimal` (and babel's locale-aware number parsing), formatting through
babel, so "1,250.00" is read and shown the way a person of that locale writes it, JPY has no
decimals, EUR two and KWD three.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale
from babel.numbers import (
    NumberFormatError,
    format_currency,
    get_currency_precision,
    get_territory_currencies,
    parse_decimal,
)

from bot.services.errors import DomainError

MAX_MINOR = 10**15
"""Amounts above this many minor units are refused (far beyond any invoice; fits SQLite)."""

_CODE = re.compile(r"^[A-Za-z]{3}$")
_NUMBER = re.compile(r"^[+-]?[\d\s.,'’_]+$")
_LEADING_CODE = re.compile(r"^([A-Za-z]+)\s*")
_TRAILING_CODE = re.compile(r"\s*([A-Za-z]+)$")


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of a currency (`Money(125000, "EUR")` is €1,250.00)."""

    minor: int
    currency: str

    @property
    def decimal(self) -> Decimal:
        """The amount in major units, exactly."""
        return to_decimal(self.minor, self.currency)

    def format(self, locale: str = "en") -> str:
        """The amount as a person of `locale` reads it: `€1,250.00`, `¥1,250`."""
        return format_money(self.minor, self.currency, locale)


@lru_cache(maxsize=1)
def currencies_in_use() -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere today (not DEM, XAU or XXX)."""
    codes: set[str] = set()
    for territory in Locale.parse("en").territories:
        if territory.isalpha() and len(territory) == 2:
            codes.update(get_territory_currencies(territory, tender=True))
    return frozenset(codes)


def exponent(currency: str) -> int:
    """Digits after the decimal point for the currency: JPY 0, EUR 2, KWD 3."""
    return int(get_currency_precision(currency))


def parse_currency(text: str, *, default: str | None = None) -> str:
    """An ISO 4217 code in upper case; a DomainError names an unknown one.

    `default` (the configured currency) is accepted even if it is not in use any more.
    """
    code = text.strip().upper()
    if _CODE.match(code) and (code in currencies_in_use() or code == default):
        return code
    raise DomainError(
        f"“{text.strip()[:20]}” is not a currency I know. Use a three-letter ISO 4217 code "
        "such as EUR, USD, GBP or JPY."
    )


def to_minor(amount: Decimal, currency: str) -> int:
    """Exact major units to minor units; refuses more decimals than the currency has."""
    digits = exponent(currency)
    scaled = amount.scaleb(digits)
    if scaled != scaled.to_integral_value():
        if digits == 0:
            raise DomainError(f"{currency} amounts have no decimals; send a whole number.")
        raise DomainError(
            f"{currency} amounts have at most {digits} decimal"
            f"{'s' if digits != 1 else ''}; please round it."
        )
    return int(scaled)


def to_decimal(minor: int, currency: str) -> Decimal:
    """Minor units back to an exact Decimal in major units."""
    return Decimal(minor).scaleb(-exponent(currency))


def parse_amount(text: str, currency: str, *, locale: str = "en") -> int:
    """A positive amount typed by a person, in minor units of `currency`.

    Reads the locale's grouping and decimal signs (`1,250.50` in English, `1.250,50` in
    German) and also plain `1250.50`. Refuses text that is not a number, zero and negative
    amounts, and more decimals than the currency has, each with its own message.
    """
    cleaned = "".join(text.split())
    if not cleaned or not _NUMBER.match(cleaned) or not any(c.isdigit() for c in cleaned):
        raise DomainError(
            f"“{text.strip()[:30]}” is not an amount. Send a number such as 1250.00."
        )
    if cleaned.startswith("-"):
        raise DomainError("The amount can't be negative. Send a positive number, e.g. 1250.00.")
    value = _decimal(cleaned.lstrip("+"), locale)
    if value is None or not value.is_finite():
        raise DomainError(
            f"“{text.strip()[:30]}” is not an amount I can read. Send it like 1250.00."
        )
    if value <= 0:
        raise DomainError("The amount must be more than zero.")
    minor = to_minor(value, currency)
    if minor > MAX_MINOR:
        raise DomainError("That amount is too large; please check it.")
    return minor


def _decimal(text: str, locale: str) -> Decimal | None:
    """The number in `text`: the locale's format first, then a plain decimal point."""
    text = text.replace("_", "").replace("'", "").replace("’", "")
    try:
        return parse_decimal(text, locale=locale, strict=True)
    except (NumberFormatError, ValueError):
        pass
    if "," in text and "." not in text and text.count(",") == 1:
        text = text.replace(",", ".")  # "1250,50" typed by someone used to a decimal comma
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def parse_money(text: str, *, default_currency: str, locale: str = "en") -> Money:
    """`1250.00 EUR`, `EUR 1250`, `1250` (the default currency): an amount and its currency."""
    rest = text.strip()
    if not any(char.isdigit() for char in rest):
        raise DomainError(
            f"“{rest[:30]}” is not an amount. Send a number such as 1250.00, "
            "optionally with the currency: 1250.00 EUR."
        )
    codes = []
    if leading := _LEADING_CODE.match(rest):
        codes.append(leading.group(1))
        rest = rest[leading.end() :]
    if trailing := _TRAILING_CODE.search(rest):
        codes.append(trailing.group(1))
        rest = rest[: trailing.start()]
    if len(codes) > 1:
        raise DomainError("Give the currency once, e.g. 1250.00 EUR.")
    currency = parse_currency(codes[0], default=default_currency) if codes else default_currency
    return Money(parse_amount(rest, currency, locale=locale), currency)


def format_money(minor: int, currency: str, locale: str = "en") -> str:
    """Minor units as a person of `locale` reads the amount: `€1,250.00`, `KWD1.234`."""
    return format_currency(to_decimal(minor, currency), currency, locale=locale)


def format_totals(totals: dict[str, int], locale: str = "en") -> list[str]:
    """One formatted amount per currency, by currency code (never summed across currencies)."""
    return [format_money(totals[code], code, locale) for code in sorted(totals)]
