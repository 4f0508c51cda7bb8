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
        {"company_name": "", "overdue_alert_threshold": "0"}
    )
