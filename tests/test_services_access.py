"""Invitations, permissions, access requests and team changes, without Telegram."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.services import access, invites, team
from bot.services.errors import DomainError, NotAllowed
from bot.services.invites import RedeemOutcome, hash_token
from storage import audit, users
from storage.users import Role
from tests.factories import make_user

JOIN = {"name": "New Person", "username": "newbie", "timezone": "UTC", "locale": "en"}


async def test_invite_token_is_random_hashed_and_single_use(db, clock) -> None:
    """The token has 192 bits, only its hash is stored, and it works once."""
    admin = await make_user(db, clock, 1, Role.ADMIN)
    new = await invites.create_invite(db, clock, inviter=admin, role=Role.MANAGER)
    assert len(new.token) == 32
    stored = await db.fetch_all("SELECT token_hash FROM invites")
    assert [row[0] for row in stored] == [hash_token(new.token)]
    assert new.token not in str([tuple(r) for r in await db.fetch_all("SELECT * FROM invites")])

    joined = await invites.redeem_invite(db, clock, token=new.token, telegram_id=50, **JOIN)
    assert joined.outcome is RedeemOutcome.JOINED
    assert joined.user is not None and joined.user.role is Role.MANAGER

    reused = await invites.redeem_invite(db, clock, token=new.token, telegram_id=51, **JOIN)
    assert reused.outcome is RedeemOutcome.USED
    assert await users.get_user(db, 51) is None


async def test_expired_and_forged_tokens_are_refused(db, clock) -> None:
    """After 7 days a link is dead; a made-up token never matches."""
    head = await make_user(db, clock, 2, Role.HEAD)
    new = await invites.create_invite(db, clock, inviter=head, role=Role.MANAGER)
    assert new.expires_at == clock.now() + dt.timedelta(days=7)
    clock.advance(dt.timedelta(days=7, seconds=1))
    expired = await invites.redeem_invite(db, clock, token=new.token, telegram_id=60, **JOIN)
    assert expired.outcome is RedeemOutcome.EXPIRED
    forged = await invites.redeem_invite(db, clock, token="A" * 32, telegram_id=61, **JOIN)
    assert forged.outcome is RedeemOutcome.UNKNOWN
    junk = await invites.redeem_invite(db, clock, token="<script>", telegram_id=62, **JOIN)
    assert junk.outcome is RedeemOutcome.UNKNOWN
    assert await users.get_user(db, 60) is None


async def test_existing_member_does_not_consume_a_token(db, clock) -> None:
    """A member opening someone else's link leaves it usable."""
    admin = await make_user(db, clock, 1, Role.ADMIN)
    new = await invites.create_invite(db, clock, inviter=admin, role=Role.HEAD)
    again = await invites.redeem_invite(db, clock, token=new.token, telegram_id=1, **JOIN)
    assert again.outcome is RedeemOutcome.ALREADY_MEMBER
    fresh = await invites.redeem_invite(db, clock, token=new.token, telegram_id=70, **JOIN)
    assert fresh.outcome is RedeemOutcome.JOINED


@pytest.mark.parametrize(
    ("inviter", "role", "allowed"),
    [
        (Role.ADMIN, Role.ADMIN, True),
        (Role.ADMIN, Role.HEAD, True),
        (Role.HEAD, Role.MANAGER, True),
        (Role.HEAD, Role.HEAD, True),
        (Role.HEAD, Role.ADMIN, False),
        (Role.MANAGER, Role.MANAGER, False),
    ],
)
async def test_who_may_invite_whom(db, clock, inviter: Role, role: Role, allowed: bool) -> None:
    """Admins invite anyone, heads managers and heads, managers nobody."""
    person = await make_user(db, clock, 5, inviter)
    if allowed:
        await invites.create_invite(db, clock, inviter=person, role=role)
    else:
        with pytest.raises(NotAllowed):
            await invites.create_invite(db, clock, inviter=person, role=role)


async def test_access_request_once_then_decided_once(db, clock) -> None:
    """Repeated /start does not duplicate a request; the second decision is refused."""
    admin = await make_user(db, clock, 1, Role.ADMIN)
    head = await make_user(db, clock, 2, Role.HEAD)
    first = await access.request_access(db, clock, telegram_id=99, name="Zed", username=None)
    again = await access.request_access(db, clock, telegram_id=99, name="Zed", username=None)
    assert first.outcome is access.RequestOutcome.CREATED
    assert again.outcome is access.RequestOutcome.ALREADY_PENDING
    assert [lead.telegram_id for lead in first.leads] == [1, 2]

    decision = await access.decide_access(
        db,
        clock,
        actor=head,
        request_id=first.request.id,
        role=Role.MANAGER,
        timezone="UTC",
        locale="en",
    )
    assert decision.approved and decision.user is not None
    assert decision.user.role is Role.MANAGER
    with pytest.raises(DomainError, match="Already decided: approved as manager"):
        await access.decide_access(
            db,
            clock,
            actor=admin,
            request_id=first.request.id,
            role=None,
            timezone="UTC",
            locale="en",
        )


async def test_manager_cannot_decide_and_head_cannot_make_admins(db, clock) -> None:
    """Decisions are for leads, and only within the roles they may grant."""
    manager = await make_user(db, clock, 3, Role.MANAGER)
    head = await make_user(db, clock, 2, Role.HEAD)
    request = (
        await access.request_access(db, clock, telegram_id=9, name="X", username=None)
    ).request
    with pytest.raises(NotAllowed):
        await access.decide_access(
            db,
            clock,
            actor=manager,
            request_id=request.id,
            role=Role.MANAGER,
            timezone="UTC",
            locale="en",
        )
    with pytest.raises(NotAllowed):
        await access.decide_access(
            db,
            clock,
            actor=head,
            request_id=request.id,
            role=Role.ADMIN,
            timezone="UTC",
            locale="en",
        )


async def test_team_changes_are_admin_only_and_keep_an_admin(db, clock) -> None:
    """Only admins change roles or access; the last admin stays; everything is audited."""
    admin = await make_user(db, clock, 1, Role.ADMIN)
    head = await make_user(db, clock, 2, Role.HEAD)
    manager = await make_user(db, clock, 3, Role.MANAGER)
    with pytest.raises(NotAllowed):
        await team.change_role(db, clock, actor=head, target_id=3, role=Role.HEAD)
    with pytest.raises(NotAllowed):
        await team.set_active(db, clock, actor=admin, target_id=1, active=False)
    promoted = await team.change_role(db, clock, actor=admin, target_id=3, role=Role.HEAD)
    assert promoted.role is Role.HEAD
    off = await team.set_active(
        db, clock, actor=admin, target_id=manager.telegram_id, active=False
    )
    assert not off.active
    second_admin = await team.change_role(db, clock, actor=admin, target_id=2, role=Role.ADMIN)
    await team.change_role(db, clock, actor=second_admin, target_id=1, role=Role.MANAGER)
    demoted_self = await users.get_user(db, 1)
    assert demoted_self is not None and demoted_self.role is Role.MANAGER
    with pytest.raises(NotAllowed, match="yourself"):
        await team.set_active(
            db, clock, actor=await users.get_user(db, 2), target_id=2, active=False
        )
    actions = [entry.action for entry in await audit.recent_entries(db)]
    assert actions.count("user.role") == 3 and "user.deactivate" in actions
    assert head.telegram_id == 2


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Europe/Paris", "Europe/Paris"),
        ("europe/paris", "Europe/Paris"),
        ("Paris", "Europe/Paris"),
        ("new york", "America/New_York"),
        ("UTC", "UTC"),
        ("Atlantis", None),
        ("", None),
    ],
)
def test_resolve_timezone(typed: str, expected: str | None) -> None:
    """Zone names are matched exactly, in any case, or by a unique city."""
    assert team.resolve_timezone(typed) == expected
