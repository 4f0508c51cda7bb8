"""Team-wide settings with their defaults and validation (heads and admins change them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.clock import Clock
from bot.services.access import require_lead
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


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One setting: its default and the function that checks and normalises a new value."""

    default: str
    clean: Callable[[str], str]


SPECS: dict[str, SettingSpec] = {
    # Signs reply templates ("... from {{ company }}"); empty until a head sets it.
    "company_name": SettingSpec("", _company_name),
    # Overdue total of one client (in the invoice currency's major units) that alerts heads;
    # "0" switches the alert off.
    "overdue_alert_threshold": SettingSpec("0", _amount),
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


async def load(db: Database) -> TeamSettings:
    """The team's settings as stored, defaults filled in."""
    stored = await team_settings.all_values(db)
    return TeamSettings({key: stored.get(key, spec.default) for key, spec in SPECS.items()})


async def change(db: Database, clock: Clock, *, actor: User, key: str, value: str) -> str:
    """A head or admin sets one team setting; returns the normalised value stored."""
    require_lead(actor)
    spec = SPECS.get(key)
    if spec is None:
        raise DomainError("There is no such team setting.")
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
