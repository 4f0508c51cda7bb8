"""Access rules re-checked where the write happens: stale actors, stale requests, last admin."""

from __future__ import annotations

import asyncio

import pytest

from bot.services import access, invites, team
from bot.services.errors import DomainError, NotAllowed
from bot.services.invites import RedeemOutcome
from storage import users
from storage.users import Role
from tests.factories import make_user

JOIN = {"name": "New Person", "username": "newbie", "timezone": "UTC", "locale": "en"}
PLACE = {"timezone": "UTC", "locale": "en"}


async def _active_admins(db) -> list[int]:
    people = await users.list_users(db, active_only=True)
    return [person.telegram_id for person in people if person.role is Role.ADMIN]


async def test_two_admins_demoting_each_other_leave_one_admin(db, clock) -> None:
    """Each acts on what they saw a moment ago; the second change is refused."""
    first = await make_user(db, clock, 1, Role.ADMIN)
    second = await make_user(db, clock, 2, Role.ADMIN)
    await team.change_role(db, clock, actor=first, target_id=2, role=Role.MANAGER)
    with pytest.raises(NotAllowed):
        await team.change_role(db, clock, actor=second, target_id=1, role=Role.MANAGER)
    assert await _active_admins(db) == [1]


async def test_two_admins_deactivating_each_other_leave_one_admin(db, clock) -> None:
    """Deactivation re-reads the actor too: a just-deactivated admin can't act any more."""
    first = await make_user(db, clock, 1, Role.ADMIN)
    second = await make_user(db, clock, 2, Role.ADMIN)
    await team.set_active(db, clock, actor=first, target_id=2, active=False)
    with pytest.raises(NotAllowed):
        await team.set_active(db, clock, actor=second, target_id=1, active=False)
    assert await _active_admins(db) == [1]


async def test_concurrent_role_changes_keep_an_admin(db, clock) -> None:
    """The same race run concurrently: at least one active admin remains."""
    first = await make_user(db, clock, 1, Role.ADMIN)
    second = await make_user(db, clock, 2, Role.ADMIN)
    results = await asyncio.gather(
        team.change_role(db, clock, actor=first, target_id=2, role=Role.HEAD),
        team.set_active(db, clock, actor=second, target_id=1, active=False),
        return_exceptions=True,
    )
    assert sum(isinstance(r, NotAllowed) for r in results) == 1
    assert len(await _active_admins(db)) == 1


async def test_a_decided_request_is_decided_once_even_concurrently(db, clock) -> None:
    """Two leads decide at the same moment: the second hears it was already decided."""
    admin = await make_user(db, clock, 1, Role.ADMIN)
    head = await make_user(db, clock, 2, Role.HEAD)
    request = await access.request_access(db, clock, telegram_id=9, name="X", username=None)
    results = await asyncio.gather(
        access.decide_access(
            db, clock, actor=admin, request_id=request.request.id, role=Role.HEAD, **PLACE
        ),
        access.decide_access(
            db, clock, actor=head, request_id=request.request.id, role=None, **PLACE
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], DomainError)
    assert "already decided" in str(refused[0]).lower()


async def test_approval_never_touches_an_existing_member(db, clock) -> None:
    """A request whose person is a member (even deactivated) is closed, not applied."""
    head = await make_user(db, clock, 2, Role.HEAD)
    request = await access.request_access(db, clock, telegram_id=9, name="X", username=None)
    await make_user(db, clock, 9, Role.ADMIN)  # joined by another route, unseen by the request
    with pytest.raises(DomainError, match=r"(?i)already decided"):
        await access.decide_access(
            db, clock, actor=head, request_id=request.request.id, role=Role.MANAGER, **PLACE
        )
    person = await users.get_user(db, 9)
    assert person is not None and person.role is Role.ADMIN


async def test_joining_by_invitation_closes_the_request(db, clock) -> None:
    """An invitation redeemed by someone who asked for access closes their request."""
    admin = await make_user(db, clock, 1, Role.ADMIN)
    asked = await access.request_access(db, clock, telegram_id=50, name="X", username=None)
    new = await invites.create_invite(db, clock, inviter=admin, role=Role.ADMIN)
    await invites.redeem_invite(db, clock, token=new.token, telegram_id=50, **JOIN)
    with pytest.raises(DomainError, match=r"(?i)already decided"):
        await access.decide_access(
            db, clock, actor=admin, request_id=asked.request.id, role=None, **PLACE
        )


async def test_members_and_deactivated_people_cannot_request_access(db, clock) -> None:
    """Only strangers open access requests."""
    admin = await make_user(db, clock, 1, Role.ADMIN)
    await make_user(db, clock, 5, Role.MANAGER)
    await team.set_active(db, clock, actor=admin, target_id=5, active=False)
    with pytest.raises(NotAllowed):
        await access.request_access(db, clock, telegram_id=5, name="X", username=None)


async def test_stale_lead_cannot_decide(db, clock) -> None:
    """A head deactivated (or demoted) a moment ago can't approve with what the gate saw."""
    admin = await make_user(db, clock, 1, Role.ADMIN)
    head = await make_user(db, clock, 2, Role.HEAD)
    request = await access.request_access(db, clock, telegram_id=9, name="X", username=None)
    await team.change_role(db, clock, actor=admin, target_id=2, role=Role.MANAGER)
    with pytest.raises(NotAllowed):
        await access.decide_access(
            db, clock, actor=head, request_id=request.request.id, role=Role.HEAD, **PLACE
        )
    assert await users.get_user(db, 9) is None


async def test_deactivation_revokes_invitations_and_redemption_rechecks(db, clock) -> None:
    """A deactivated inviter's links are revoked; a demoted one's can't grant what they can't."""
    admin = await make_user(db, clock, 1, Role.ADMIN)
    head = await make_user(db, clock, 2, Role.HEAD)
    other = await make_user(db, clock, 3, Role.ADMIN)
    by_head = await invites.create_invite(db, clock, inviter=head, role=Role.HEAD)
    by_other = await invites.create_invite(db, clock, inviter=other, role=Role.ADMIN)
    await team.set_active(db, clock, actor=admin, target_id=2, active=False)
    assert await invites.open_invites(db, clock, actor=admin) != []
    redeemed = await invites.redeem_invite(db, clock, token=by_head.token, telegram_id=60, **JOIN)
    assert redeemed.outcome is RedeemOutcome.REVOKED
    await team.change_role(db, clock, actor=admin, target_id=3, role=Role.HEAD)
    redeemed = await invites.redeem_invite(db, clock, token=by_other.token, telegram_id=61, **JOIN)
    assert redeemed.outcome is RedeemOutcome.REVOKED
    assert await users.get_user(db, 60) is None and await users.get_user(db, 61) is None


async def test_stale_inviter_cannot_create_or_revoke(db, clock) -> None:
    """Creating and revoking re-read the inviter; a head revokes only their own links."""
    admin = await make_user(db, clock, 1, Role.ADMIN)
    head = await make_user(db, clock, 2, Role.HEAD)
    other_head = await make_user(db, clock, 3, Role.HEAD)
    await invites.create_invite(db, clock, inviter=admin, role=Role.MANAGER)
    mine = await invites.open_invites(db, clock, actor=other_head)
    assert mine == []
    everyone = await invites.open_invites(db, clock, actor=admin)
    with pytest.raises(NotAllowed):
        await invites.revoke_invite(db, clock, actor=head, invite_id=everyone[0].id)
    await team.set_active(db, clock, actor=admin, target_id=2, active=False)
    with pytest.raises(NotAllowed):
        await invites.create_invite(db, clock, inviter=head, role=Role.MANAGER)
    await invites.revoke_invite(db, clock, actor=admin, invite_id=everyone[0].id)
    assert await invites.open_invites(db, clock, actor=admin) == []
    with pytest.raises(DomainError):
        await invites.revoke_invite(db, clock, actor=admin, invite_id=everyone[0].id)
