"""Invitations: one-time, expiring tokens that let a new person join with a role."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from bot.clock import Clock
from bot.services.access import can_invite
from bot.services.errors import NotAllowed
from storage import audit, invites, users
from storage.db import Database
from storage.users import Role, User

INVITE_LIFETIME = dt.timedelta(days=7)
TOKEN_BYTES = 24  # 192 bits; token_urlsafe gives 32 characters of A-Z a-z 0-9 _ -
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")


class RedeemOutcome(StrEnum):
    """Why a token did or did not let someone in."""

    JOINED = "joined"
    ALREADY_MEMBER = "already_member"
    DEACTIVATED = "deactivated"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


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
    """Create an invitation to join with `role`, if the inviter may grant it."""
    if not can_invite(inviter, role):
        raise NotAllowed(f"You can't invite a new {role.value}.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = clock.now()
    expires_at = now + INVITE_LIFETIME
    async with db.transaction() as tx:
        invite_id = await invites.insert_invite(
            tx,
            token_hash=hash_token(token),
            role=role,
            created_by=inviter.telegram_id,
            now=now,
            expires_at=expires_at,
        )
        await audit.record(
            tx,
            actor_id=inviter.telegram_id,
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
    """Let a new person join with the token's role; a token works once, within its lifetime."""
    existing = await users.get_user(db, telegram_id)
    if existing is not None:
        outcome = RedeemOutcome.ALREADY_MEMBER if existing.active else RedeemOutcome.DEACTIVATED
        return Redemption(outcome, existing)
    invite = await invites.find_invite(db, hash_token(token)) if looks_like_token(token) else None
    now = clock.now()
    if invite is None:
        return Redemption(RedeemOutcome.UNKNOWN)
    if invite.used_by is not None:
        return Redemption(RedeemOutcome.USED)
    if invite.expires_at <= now:
        return Redemption(RedeemOutcome.EXPIRED)
    try:
        async with db.transaction() as tx:
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
            if not await invites.claim_invite(tx, invite.id, user_id=telegram_id, now=now):
                raise _ClaimedMeanwhile
            await audit.record(
                tx,
                actor_id=telegram_id,
                action="invite.redeem",
                now=now,
                object_type="invite",
                object_id=invite.id,
                details={"role": invite.role.value, "invited_by": invite.created_by},
            )
    except _ClaimedMeanwhile:
        # Another person redeemed the same link a moment earlier; the rollback undid our insert.
        return Redemption(RedeemOutcome.USED)
    return Redemption(RedeemOutcome.JOINED, user)


class _ClaimedMeanwhile(Exception):
    """Raised inside the transaction to roll it back when the claim fails."""
