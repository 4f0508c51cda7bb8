"""Team-wide settings with their defaults and validation (heads and admins change them; the
phone region, admins only)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.core import get_global

from bot import i18n
from bot.clock import Clock
from bot.services.access import require_admin, require_lead
from bot.services.errors import DomainError
from storage import audit, team_settings
from storage.db import Database
from storage.users import User

MAX_COMPANY_NAME = 100


def _company_name(value: str) -> str:
    value = " ".join(value.split())
    if not 1 <= len(value) <= MAX_COMPANY_NAME:
        raise DomainError(f"The company name needs 1 to {MAX_COMPANY_NAME} characters.")
    return value


def _amount(value: str) -> str:
    try:
        amount = Decimal(value.strip().replace(" ", "").replace(",", ""))
    except InvalidOperation:
        raise DomainError("Send the threshold as a number, for example 10000.") from None
    if not amount.is_finite() or amount < 0:
        raise DomainError("The threshold must be a positive number, or 0 to switch it off.")
    return str(amount)


PHONE_REGION = "phone_region"
"""The region of phone numbers typed without +country; "" means DEFAULT_PHONE_REGION."""
REGION_EXAMPLES = "a two-letter code such as GB or DE, or a country name such as Germany"


def _phone_region(value: str) -> str:
    code = value.strip().upper()
    if code and code not in phonenumbers.SUPPORTED_REGIONS:
        raise DomainError(f"“{value.strip()[:40]}” is not a phone region; send {REGION_EXAMPLES}.")
    return code


def _fold(text: str) -> str:
    """Case, accents and punctuation set aside: "Côte d’Ivoire" is "cote d ivoire"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = (ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch))
    return " ".join("".join(kept).split())


@cache
def _region_names(locale: str) -> dict[str, str]:
    """Each phone region's name in `locale` (Babel's CLDR data), English where it has none."""
    english = Locale("en").territories
    try:
        local = Locale.parse(locale).territories
    except (UnknownLocaleError, ValueError):
        local = english
    return {
        code: local.get(code) or english.get(code) or code
        for code in sorted(phonenumbers.SUPPORTED_REGIONS)
    }


def region_name(code: str, locale: str = "en") -> str:
    """A region as people read it: "United Kingdom (GB)"."""
    name = _region_names(locale).get(code.upper())
    return f"{name} ({code.upper()})" if name and name != code.upper() else code.upper()


def resolve_region(text: str, locale: str = "en") -> str:
    """The phone region meant by typed text: a code (`GB`, CLDR aliases such as `UK`), a
    calling code (`+44`), or a country's name in the person's language or English, whole or
    its unique beginning; else a DomainError saying what to send."""
    typed = " ".join(text.split())
    code = typed.upper()
    if code in phonenumbers.SUPPORTED_REGIONS:
        return code
    alias = list(get_global("territory_aliases").get(code, []))
    if len(alias) == 1 and alias[0] in phonenumbers.SUPPORTED_REGIONS:
        return str(alias[0])
    if typed.startswith("+") and typed[1:].isdigit():
        found = phonenumbers.region_code_for_country_code(int(typed[1:]))
        if found in phonenumbers.SUPPORTED_REGIONS:
            return found
    wanted = _fold(typed)
    names = {**_region_names("en"), **_region_names(locale)}  # the person's language wins
    both = [
        (code, _fold(name))
        for table in (_region_names("en"), _region_names(locale))
        for code, name in table.items()
    ]
    exact = {code for code, name in both if name == wanted}
    if len(exact) == 1:
        return exact.pop()
    starting = sorted(
        {code for code, name in both if len(wanted) >= 3 and name.startswith(wanted)}
    )
    if not starting and len(wanted) >= 3:  # "korea": South Korea, North Korea
        starting = sorted({code for code, name in both if f" {wanted}" in f" {name}"})
    if len(starting) == 1:
        return starting[0]
    shown = typed[:40]
    if 1 < len(starting) <= 6:
        options = ", ".join(f"{names[code]} ({code})" for code in starting)
        raise DomainError(f"“{shown}” could be {options}. Send the one you mean.")
    raise DomainError(f"I don't know the region “{shown}”. Send {REGION_EXAMPLES}.")


LANGUAGE = "language"
"""The language new people start in when their Telegram's is not one the bot speaks."""


def _language(value: str) -> str:
    code = i18n.language_of(value.strip())
    if code not in i18n.LOCALES:
        raise DomainError(f"Choose one of the languages I speak: {', '.join(i18n.LOCALES)}.")
    return code


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One setting: its default, the function that checks and normalises a new value, and
    whether only admins may change it (heads see it)."""

    default: str
    clean: Callable[[str], str]
    admins_only: bool = False


SPECS: dict[str, SettingSpec] = {
    # Signs reply templates ("... from {{ company }}"); empty until a head sets it.
    "company_name": SettingSpec("", _company_name),
    # Overdue total of one client (in the invoice currency's major units) that alerts heads;
    # "0" switches the alert off.
    "overdue_alert_threshold": SettingSpec("0", _amount),
    # Phone numbers typed without +country are read in this region; "" until an admin sets
    # it: DEFAULT_PHONE_REGION applies. Changing it leaves stored (E.164) numbers as they are.
    PHONE_REGION: SettingSpec("", _phone_region, admins_only=True),
    # New people whose Telegram speaks none of the bot's languages start in this one; ""
    # until a head or admin sets it: DEFAULT_LOCALE applies.
    LANGUAGE: SettingSpec("", _language),
}


@dataclass(frozen=True, slots=True)
class TeamSettings:
    """The effective team settings: stored values over defaults."""

    values: dict[str, str]

    def get(self, key: str) -> str:
        """One setting's value (its default when never set)."""
        return self.values.get(key, SPECS[key].default)

    @property
    def company_name(self) -> str:
        """The company's name for templates; empty when not set."""
        return self.get("company_name")

    def phone_region(self, default: str) -> str:
        """The team's phone region, or `default` (DEFAULT_PHONE_REGION) when never set."""
        return self.get(PHONE_REGION) or default.upper()


async def new_person_locale(db: Database, language_code: str | None, default: str) -> str:
    """A new person's language: their Telegram's when the bot speaks it, else the team's
    (set in /settings), else `default` (DEFAULT_LOCALE)."""
    team_default = (await load(db)).get(LANGUAGE) or default
    return i18n.negotiate(language_code, team_default)


async def phone_region(db: Database, default: str) -> str:
    """The region of phone numbers typed without a country code (`default` when unset)."""
    return (await load(db)).phone_region(default)


async def load(db: Database) -> TeamSettings:
    """The team's settings as stored, defaults filled in."""
    stored = await team_settings.all_values(db)
    return TeamSettings({key: stored.get(key, spec.default) for key, spec in SPECS.items()})


async def change(db: Database, clock: Clock, *, actor: User, key: str, value: str) -> str:
    """A head or admin sets one team setting (an admins-only one: an admin); returns the
    normalised value stored."""
    require_lead(actor)
    spec = SPECS.get(key)
    if spec is None:
        raise DomainError("There is no such team setting.")
    if spec.admins_only:
        require_admin(actor)
    cleaned = spec.clean(value)
    now = clock.now()
    async with db.transaction() as tx:
        await team_settings.set_value(tx, key, cleaned, actor_id=actor.telegram_id, now=now)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="team.setting",
            now=now,
            object_type="team_setting",
            object_id=key,
            details={"value": cleaned},
        )
    return cleaned
