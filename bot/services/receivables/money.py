"""Money: amounts as integer minor units per the currency's ISO 4217 exponent, never floats.

The exponent is ISO 4217's (`ISO_4217` below), not CLDR's display digits: CLDR shows HUF
and IQD without decimals, but a Hungarian invoice can carry fillér and an Iraqi one fils, so
`1250.50 HUF` and `1250.500 IQD` are amounts. Shown amounts use the locale's pattern (babel)
with CLDR's digits when no precision is lost, and all ISO digits otherwise: HUF 1,250 stays
"HUF1,250", HUF 1,250.50 is "HUF1,250.50", never rounded away.

Typed amounts are read in the person's locale (babel's strict number parsing) as well as in
the plain forms people also write (`1250.50`, `1,234.56`, `1.234,56`, `1 234,56`, `12,50`).
When a text is two different amounts in two of these readings (`1,234` for someone whose
decimal sign is a comma), it is refused with both readings named, never guessed.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    NumberFormatError,
    NumberPattern,
    format_currency,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    parse_decimal,
)

from bot.services.errors import DomainError

MAX_MINOR = 10**15
"""Amounts above this many minor units are refused (far beyond any invoice; fits SQLite)."""

ISO_4217: dict[str, int] = {
    # Every active code of ISO 4217 list one with its minor unit (the exponent), including
    # the fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW). Not listed: codes without
    # a minor unit (XAU, XDR, XXX, ...) and withdrawn ones (ANG, BGN, CUC, HRK, SLL, ZWL...).
    "AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2,
    "AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2,
    "BOB": 2, "BOV": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2,
    "CAD": 2, "CDF": 2, "CHE": 2, "CHF": 2, "CHW": 2, "CLF": 4, "CLP": 0, "CNY": 2,
    "COP": 2, "COU": 2, "CRC": 2, "CUP": 2, "CVE": 2, "CZK": 2, "DJF": 0, "DKK": 2,
    "DOP": 2, "DZD": 2, "EGP": 2, "ERN": 2, "ETB": 2, "EUR": 2, "FJD": 2, "FKP": 2,
    "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2, "GNF": 0, "GTQ": 2, "GYD": 2,
    "HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "IQD": 3,
    "IRR": 2, "ISK": 0, "JMD": 2, "JOD": 3, "JPY": 0, "KES": 2, "KGS": 2, "KHR": 2,
    "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2, "KZT": 2, "LAK": 2, "LBP": 2,
    "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3, "MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2,
    "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2, "MVR": 2, "MWK": 2, "MXN": 2,
    "MXV": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2, "NPR": 2,
    "NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2,
    "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2, "RUB": 2, "RWF": 0, "SAR": 2, "SBD": 2,
    "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2, "SLE": 2, "SOS": 2, "SRD": 2,
    "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2, "THB": 2, "TJS": 2, "TMT": 2,
    "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2, "TZS": 2, "UAH": 2, "UGX": 0,
    "USD": 2, "USN": 2, "UYI": 0, "UYU": 2, "UYW": 4, "UZS": 2, "VED": 2, "VES": 2,
    "VND": 0, "VUV": 0, "WST": 2, "XAF": 0, "XCD": 2, "XCG": 2, "XOF": 0, "XPF": 0,
    "YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2,
}  # fmt: skip

_CODE = re.compile(r"^[A-Za-z]{3}$")
_NUMBER = re.compile(r"^[\d.,'’_ ]+$")
_LEADING_CODE = re.compile(r"^([A-Za-z]+)\s*")
_TRAILING_CODE = re.compile(r"\s*([A-Za-z]+)$")
_GROUP_MARKS = "'’_ "
"""Typed between digit groups in any locale: spaces (also NBSP, thin space), apostrophes."""
_PLAIN = (("en", ".", ","), ("de", ",", "."))
"""The forms read besides the person's locale: a decimal point, and a decimal comma."""


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


def currencies_in_use() -> frozenset[str]:
    """The active ISO 4217 codes (not DEM, XAU or XXX)."""
    return frozenset(ISO_4217)


def exponent(currency: str) -> int:
    """ISO 4217 digits after the decimal point: JPY 0, EUR 2, HUF 2, KWD 3, CLF 4.

    A code outside the table (a configured default no longer in use) gets CLDR's digits.
    """
    code = currency.upper()
    if code in ISO_4217:
        return ISO_4217[code]
    return int(get_currency_precision(code))


def parse_currency(text: str, *, default: str | None = None) -> str:
    """An ISO 4217 code in upper case; a DomainError names an unknown one.

    `default` (the configured currency) is accepted even if it is not in use any more.
    """
    code = text.strip().upper()
    if _CODE.match(code) and (code in ISO_4217 or code == default):
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


def _normalise(text: str) -> str:
    """Every kind of space (NBSP, thin space, ...) becomes a plain one; no space at the ends."""
    return "".join(" " if char.isspace() else char for char in text).strip()


def parse_amount(text: str, currency: str, *, locale: str = "en") -> int:
    """A positive amount typed by a person, in minor units of `currency`.

    Reads the locale's grouping and decimal signs (`1,250.50` in English, `1.250,50` in
    German, `1 250,50` in French) and the plain forms with a decimal point or comma. Refuses
    text that is not a number, text that is two different amounts in two readings (naming
    both), zero and negative amounts, and more decimals than the currency has, each with its
    own message.
    """
    cleaned = _normalise(text)
    unsigned = cleaned.lstrip("+").lstrip()
    if unsigned.startswith("-"):
        raise DomainError("The amount can't be negative. Send a positive number, e.g. 1250.00.")
    if not unsigned or not _NUMBER.match(unsigned) or not any(c.isdigit() for c in unsigned):
        raise DomainError(
            f"“{text.strip()[:30]}” is not an amount. Send a number such as 1250.00."
        )
    value = read_number(unsigned, locale)
    if value <= 0:
        raise DomainError("The amount must be more than zero.")
    minor = to_minor(value, currency)
    if minor > MAX_MINOR:
        raise DomainError("That amount is too large; please check it.")
    return minor


def read_number(text: str, locale: str = "en") -> Decimal:
    """The number a person wrote, in their locale or a plain form; refuses an ambiguous one.

    The locale's own reading wins over the decimal-comma form, but when the plain
    decimal-point form reads the same text as another number (`1,234` or `1.234` from
    someone whose decimal sign is a comma) the person is asked which one they meant.
    """
    own = _read_in_locale(text, locale)
    point = _read_as(text, *_PLAIN[0])
    if own is not None:
        readings = [own] if point is None or point == own else [own, point]
    else:
        comma = _read_as(text, *_PLAIN[1])
        readings = list(dict.fromkeys(value for value in (point, comma) if value is not None))
    if not readings:
        raise DomainError(
            f"“{text[:30]}” is not an amount I can read. Send it like 1250.00 or 1 250,00."
        )
    if len(readings) > 1:
        sign = "," if "," in text else "."
        small, large = (format(value, "f").replace(".", sign) for value in sorted(readings))
        raise DomainError(
            f"“{text[:30]}” could be {small} (with “{sign}” as the decimal sign) or {large} "
            f"(with “{sign}” grouping thousands). Please send it again without a thousands "
            f"separator, e.g. {_plain_text(max(readings), locale)}{_symbols(locale)[0]}00."
        )
    return readings[0]


def _plain_text(value: Decimal, locale: str) -> str:
    """A reading shown without grouping, with the locale's decimal sign: `1234`, `1,234`."""
    return format(value, "f").replace(".", _symbols(locale)[0])


@lru_cache(maxsize=64)
def _known(locale: str) -> str:
    """The locale if babel knows it, else English."""
    try:
        return str(Locale.parse(locale.replace("-", "_")))
    except (ValueError, TypeError, UnknownLocaleError):
        return "en"


def _symbols(locale: str) -> tuple[str, str]:
    """(decimal sign, group sign) of a locale."""
    known = _known(locale)
    return get_decimal_symbol(known), get_group_symbol(known)


def _read_in_locale(text: str, locale: str) -> Decimal | None:
    """The person's own reading: spaces and apostrophes count as the locale's group sign."""
    return _read_as(text, _known(locale), *_symbols(locale))


def _read_as(text: str, locale: str, decimal: str, group: str) -> Decimal | None:
    """Read `text` in `locale`, whose signs are `decimal` and `group` (spaces group too)."""
    if decimal in _GROUP_MARKS:
        return None
    marked = "".join(group if char in _GROUP_MARKS else char for char in text)
    return _strict(marked, locale)


def _strict(text: str, locale: str) -> Decimal | None:
    try:
        value = parse_decimal(text, locale=locale, strict=True)
    except NumberFormatError:
        return None
    return value if value.is_finite() else None


@lru_cache(maxsize=32)
def _currency_symbols(locale: str, default_currency: str) -> dict[str, str]:
    """Currency symbols a person of `locale` may type (`€`, `£`, `₹`, `CA$`), to ISO codes.

    The locale's own symbols win over English ones, and the default currency's over both, so
    `$` is USD in `en`, CAD in `en_CA`, and the team's currency when that is written `$`.
    """
    found: dict[str, str] = {}
    for place in ("en", _babel_locale(locale)):
        for code in ISO_4217:
            symbol = get_currency_symbol(code, locale=place)
            if symbol != code and not symbol.isalpha():
                found[symbol] = code
    found[get_currency_symbol(default_currency, locale=_babel_locale(locale))] = default_currency
    return found


def _babel_locale(locale: str) -> str:
    try:
        return str(Locale.parse(locale))
    except (ValueError, UnknownLocaleError):
        return "en"


def _symbol_code(rest: str, locale: str, default_currency: str) -> tuple[str | None, str]:
    """A currency symbol before or after the amount (`€1,250.00`, `1 250 ₽`), taken off."""
    symbols = _currency_symbols(locale, default_currency)
    for symbol in sorted(symbols, key=len, reverse=True):
        if rest.startswith(symbol):
            return symbols[symbol], rest[len(symbol) :].strip()
        if rest.endswith(symbol):
            return symbols[symbol], rest[: -len(symbol)].strip()
    return None, rest


def parse_money(text: str, *, default_currency: str, locale: str = "en") -> Money:
    """`1250.00 EUR`, `EUR 1250`, `€1,250.00`, `1250` (the default currency): an amount and
    its currency."""
    rest = _normalise(text)
    if not any(char.isdigit() for char in rest):
        raise DomainError(
            f"“{rest[:30]}” is not an amount. Send a number such as 1250.00, "
            "optionally with the currency: 1250.00 EUR."
        )
    symbol_code, rest = _symbol_code(rest, locale, default_currency)
    codes = [symbol_code] if symbol_code else []
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


def display_digits(minor: int, currency: str) -> int:
    """Decimals shown: CLDR's display digits when nothing is lost, else all ISO digits.

    HUF 1,250.00 is shown as `HUF1,250` (CLDR shows forints whole), HUF 1,250.50 as
    `HUF1,250.50`; EUR always with 2, JPY with none, IQD 1,250.500 with 3.
    """
    digits = exponent(currency)
    cldr = min(int(get_currency_precision(currency.upper())), digits)
    return cldr if minor % 10 ** (digits - cldr) == 0 else digits


@lru_cache(maxsize=256)
def _pattern(locale: str, digits: int) -> NumberPattern:
    """The locale's currency pattern with exactly `digits` decimals."""
    pattern: NumberPattern = copy.copy(Locale.parse(locale).currency_formats["standard"])
    pattern.frac_prec = (digits, digits)
    return pattern


def format_money(minor: int, currency: str, locale: str = "en") -> str:
    """Minor units as a person of `locale` reads the amount: `€1,250.00`, `KWD1.234`."""
    code = currency.upper()
    pattern = _pattern(locale, display_digits(minor, code))
    return format_currency(
        to_decimal(minor, code), code, format=pattern, locale=locale, currency_digits=False
    )


def format_totals(totals: dict[str, int], locale: str = "en") -> list[str]:
    """One formatted amount per currency, by currency code (never summed across currencies)."""
    return [format_money(totals[code], code, locale) for code in sorted(totals)]
