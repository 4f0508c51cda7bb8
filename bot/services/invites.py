"""Invitations: one-time, expiring tokens that let a new person join with a role.

An invitation is only as good as its inviter: at redemption the inviter must still be active
with a role that may grant the invitation's role. Deactivating someone revokes their unused
invitations (bot/services/team.py); an admin or the inviter can revoke one from /invite.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from bot.clock import Clock
from bot.services import schedule
from bot.services.access import can_invite, close_requests, require_lead, reread
from bot.services.errors import DomainError, NotAllowed
from storage import audit, invites, users
from storage.db import Database, Transaction
from storage.invites import Invite
from storage.users import Role, User

INVITE_LIFETIME = dt.timedelta(days=7)
TOKEN_BYTES = 24  # 192 bits; token_urlsafe gives 32 characters of A-Z a-z 0-9 _ -
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")


class RedeemOutcome(StrEnum):
    """Why a token did or did not let someone in."""

    JOINED = "joined"
    REJOINED = "rejoined"  # a deactivated person let in again, with the invitation's role
    ALREADY_MEMBER = "already_member"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"  # revoked, or its inviter may no longer grant its role


@dataclass(frozen=True, slots=True)
class NewInvite:
    """A freshly created invitation; the token is shown once and never stored."""

    token: str
    role: Role
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Redemption:
    """The result of `/start <token>`."""

    outcome: RedeemOutcome
    user: User | None = None


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(payload: str) -> bool:
    """Whether a /start payload has the shape of an invitation token."""
    return bool(TOKEN_PATTERN.match(payload))


async def create_invite(db: Database, clock: Clock, *, inviter: User, role: Role) -> NewInvite:
    """Create an invitation to join with `role`, if the inviter (as stored now) may grant it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = clock.now()
    expires_at = now + INVITE_LIFETIME
    async with db.transaction() as tx:
        current = await reread(tx, inviter)
        if not can_invite(current, role):
            raise NotAllowed(f"You can't invite a new {role.value}.")
        invite_id = await invites.insert_invite(
            tx,
            token_hash=hash_token(token),
            role=role,
            created_by=current.telegram_id,
            now=now,
            expires_at=expires_at,
        )
        await audit.record(
            tx,
            actor_id=current.telegram_id,
            action="invite.create",
            now=now,
            object_type="invite",
            object_id=invite_id,
            details={"role": role.value},
        )
    return NewInvite(token=token, role=role, expires_at=expires_at)


async def redeem_invite(
    db: Database,
    clock: Clock,
    *,
    token: str,
    telegram_id: int,
    name: str,
    username: str | None,
    timezone: str,
    locale: str,
) -> Redemption:
    """Let a person join with the token's role; a token works once, within its lifetime.

    Everything is decided in one transaction: the invitation must be unused, unrevoked and
    unexpired, and its inviter still active and allowed to grant its role (otherwise it is
    revoked now). A deactivated person is let in again with the invitation's role; an active
    member leaves the token unused. A pending access request of the person is closed.
    """
    if not looks_like_token(token):
        return Redemption(RedeemOutcome.UNKNOWN)
    now = clock.now()
    async with db.transaction() as tx:
        existing = await users.get_user(tx, telegram_id)
        if existing is not None and existing.active:
            return Redemption(RedeemOutcome.ALREADY_MEMBER, existing)
        invite = await invites.find_invite(tx, hash_token(token))
        refused = await _refusal(tx, invite, now)
        if refused is not None or invite is None:
            return Redemption(refused or RedeemOutcome.UNKNOWN)
        if existing is None:
            outcome = RedeemOutcome.JOINED
            user = await users.insert_user(
                tx,
                telegram_id=telegram_id,
                name=name,
                username=username,
                role=invite.role,
                timezone=timezone,
                locale=locale,
                now=now,
            )
        else:
            outcome = RedeemOutcome.REJOINED
            await users.update_user(tx, telegram_id, now=now, role=invite.role, active=True)
            rejoined = await users.get_user(tx, telegram_id)
            assert rejoined is not None
            user = rejoined
            await schedule.ensure_agenda_reminder(tx, user, now)
        # After the user row exists (used_by references it); open was checked in this very
        # transaction, so the claim can't miss.
        claimed = await invites.claim_invite(tx, invite.id, user_id=telegram_id, now=now)
        assert claimed, "the invitation was checked open in this transaction"
        await close_requests(tx, telegram_id, now=now)
        details: dict[str, object] = {"role": invite.role.value, "invited_by": invite.created_by}
        if existing is not None:
            details["reactivated_from"] = existing.role.value
        await audit.record(
            tx,
            actor_id=telegram_id,
            action="invite.redeem",
            now=now,
            object_type="invite",
            object_id=invite.id,
            details=details,
        )
    return Redemption(outcome, user)


async def _refusal(
    tx: Transaction, invite: Invite | None, now: dt.datetime
) -> RedeemOutcome | None:
    """Why this invitation can't be used now, or None; revoked now if its inviter lost the
    right to grant its role."""
    if invite is None:
        return RedeemOutcome.UNKNOWN
    if invite.used_by is not None:
        return RedeemOutcome.USED
    if invite.revoked_at is not None:
        return RedeemOutcome.REVOKED
    if invite.expires_at <= now:
        return RedeemOutcome.EXPIRED
    inviter = await users.get_user(tx, invite.created_by)
    if inviter is None or not can_invite(inviter, invite.role):
        await invites.revoke_invite(tx, invite.id, by=invite.created_by, now=now)
        await audit.record(
            tx,
            actor_id=None,
            action="invite.revoke",
            now=now,
            object_type="invite",
            object_id=invite.id,
            details={"reason": "inviter may no longer grant the role"},
        )
        return RedeemOutcome.REVOKED
    return None


@dataclass(frozen=True, slots=True)
class OpenInvite:
    """An unused, unrevoked, unexpired invitation as its lister sees it."""

    id: int
    role: Role
    created_by: int
    inviter_name: str
    created_at: dt.datetime
    expires_at: dt.datetime


async def open_invites(db: Database, clock: Clock, *, actor: User) -> list[OpenInvite]:
    """Open invitations, the soonest to expire first: an admin sees everyone's, a head theirs."""
    require_lead(actor)
    mine = None if actor.role is Role.ADMIN else actor.telegram_id
    found = await invites.list_open(db, now=clock.now(), created_by=mine)
    names = {person.telegram_id: person.name for person in await users.list_users(db)}
    return [
        OpenInvite(
            id=invite.id,
            role=invite.role,
            created_by=invite.created_by,
            inviter_name=names.get(invite.created_by, "someone"),
            created_at=invite.created_at,
            expires_at=invite.expires_at,
        )
        for invite in found
    ]


async def revoke_invite(db: Database, clock: Clock, *, actor: User, invite_id: int) -> Invite:
    """Revoke an open invitation: an admin any, a head their own (re-checked in the write)."""
    now = clock.now()
    async with db.transaction() as tx:
        current = await reread(tx, actor)
        require_lead(current)
        invite = await invites.get_invite(tx, invite_id)
        if invite is None:
            raise DomainError("That invitation doesn't exist.")
        if current.role is not Role.ADMIN and invite.created_by != current.telegram_id:
            raise NotAllowed("You can only revoke invitations you made.")
        if invite.used_by is not None:
            raise DomainError("That invitation has already been used; there is nothing to revoke.")
        if invite.revoked_at is not None:
            raise DomainError("That invitation was already revoked.")
        if invite.expires_at <= now:
            raise DomainError("That invitation has already expired; it can't be used any more.")
        await invites.revoke_invite(tx, invite_id, by=current.telegram_id, now=now)
        await audit.record(
            tx,
            actor_id=current.telegram_id,
            action="invite.revoke",
            now=now,
            object_type="invite",
            object_id=invite_id,
            details={"role": invite.role.value, "created_by": invite.created_by},
        )
        revoked = await invites.get_invite(tx, invite_id)
    assert revoked is not None
    return revoked
