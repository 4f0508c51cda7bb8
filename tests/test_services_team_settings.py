"""Team settings: defaults, validation, who may change them, and the audit entry."""

from __future__ import annotations

import pytest

from bot.services import team_settings
from bot.services.errors import DomainError, NotAllowed
from storage import audit
from storage.users import Role
from tests.factories import make_user


async def test_defaults_until_changed(db, clock) -> None:
    settings = await team_settings.load(db)
    assert settings.company_name == ""
    assert settings.get("overdue_alert_threshold") == "0"


async def test_head_changes_company_name_normalised_and_audited(db, clock) -> None:
    head = await make_user(db, clock, 20, Role.HEAD)
    stored = await team_settings.change(
        db, clock, actor=head, key="company_name", value="  Acme   Trading  "
    )
    assert stored == "Acme Trading"
    assert (await team_settings.load(db)).company_name == "Acme Trading"
    entries = await audit.recent_entries(db, action="team.setting")
    assert entries[0].object_id == "company_name"


async def test_manager_may_not_change_team_settings(db, clock) -> None:
    manager = await make_user(db, clock, 10)
    with pytest.raises(NotAllowed):
        await team_settings.change(db, clock, actor=manager, key="company_name", value="X")


@pytest.mark.parametrize(
    ("key", "value"),
    [("company_name", "   "), ("overdue_alert_threshold", "-5"), ("overdue_alert_threshold", "a")],
)
async def test_bad_values_refused_with_a_message(db, clock, key: str, value: str) -> None:
    head = await make_user(db, clock, 20, Role.HEAD)
    with pytest.raises(DomainError):
        await team_settings.change(db, clock, actor=head, key=key, value=value)
    assert await team_settings.load(db) == team_settings.TeamSettings(
        {"company_name": "", "overdue_alert_threshold": "0", "phone_region": "", "language": ""}
    )


# --- the phone region ---------------------------------------------------------------------


async def test_phone_region_defaults_to_the_configured_one_until_an_admin_sets_it(
    db, clock
) -> None:
    """DEFAULT_PHONE_REGION applies until an admin chooses; a head and a manager are refused
    (nothing stored), an admin's choice is stored and audited."""
    assert await team_settings.phone_region(db, "us") == "US"
    head = await make_user(db, clock, 20, Role.HEAD)
    manager = await make_user(db, clock, 10)
    for person in (head, manager):
        with pytest.raises(NotAllowed):
            await team_settings.change(
                db, clock, actor=person, key=team_settings.PHONE_REGION, value="DE"
            )
    assert await team_settings.phone_region(db, "US") == "US"
    admin = await make_user(db, clock, 30, Role.ADMIN)
    stored = await team_settings.change(
        db, clock, actor=admin, key=team_settings.PHONE_REGION, value="gb"
    )
    assert stored == "GB"
    assert await team_settings.phone_region(db, "US") == "GB"
    entries = await audit.recent_entries(db, action="team.setting")
    assert entries[0].object_id == "phone_region"
    with pytest.raises(DomainError, match="is not a phone region"):
        await team_settings.change(
            db, clock, actor=admin, key=team_settings.PHONE_REGION, value="EU"
        )


@pytest.mark.parametrize(
    ("typed", "locale", "region"),
    [
        ("de", "en", "DE"),
        ("UK", "en", "GB"),  # CLDR's alias
        ("+44", "en", "GB"),
        ("+1", "en", "US"),
        ("Germany", "en", "DE"),
        ("germ", "en", "DE"),
        ("  united   kingdom ", "en", "GB"),
        ("Allemagne", "fr", "DE"),
        ("Германия", "ru", "DE"),
        ("Germany", "ru", "DE"),  # English names work in every language
        ("cote d'ivoire", "en", "CI"),
        ("south korea", "en", "KR"),
        ("Guinea", "en", "GN"),  # a whole name beats the longer ones it begins
    ],
)
def test_a_typed_region_is_a_code_a_calling_code_or_a_name(
    typed: str, locale: str, region: str
) -> None:
    assert team_settings.resolve_region(typed, locale) == region


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("korea", "“korea” could be North Korea (KP), South Korea (KR)."),
        ("united", "United Arab Emirates (AE), United Kingdom (GB), United States (US)"),
        ("Atlantis", "I don't know the region “Atlantis”. Send a two-letter code"),
        ("EU", "I don't know the region “EU”"),  # a code, but not one of a phone region
        ("+999", "I don't know the region “+999”"),
    ],
)
def test_a_region_it_cannot_place_gets_a_specific_answer(typed: str, answer: str) -> None:
    with pytest.raises(DomainError) as refused:
        team_settings.resolve_region(typed)
    assert answer in str(refused.value)


def test_a_region_is_named_in_the_reader_s_language() -> None:
    assert team_settings.region_name("gb") == "United Kingdom (GB)"
    assert team_settings.region_name("DE", "ru") == "Германия (DE)"
