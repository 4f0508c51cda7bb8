"""Who may do what, first admins, and access requests from people without an invitation."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.clock import Clock
from bot.services.errors import DomainError, NotAllowed
from storage import access_requests, audit, users
from storage.access_requests import AccessRequest
from storage.db import Database
from storage.users import Role, User

INVITABLE_ROLES: dict[Role, tuple[Role, ...]] = {
    Role.ADMIN: (Role.MANAGER, Role.HEAD, Role.ADMIN),
    Role.HEAD: (Role.MANAGER, Role.HEAD),
    Role.MANAGER: (),
}


def can_invite(inviter: User, role: Role) -> bool:
    """Admins invite anyone; heads invite managers and heads; managers invite nobody."""
    return inviter.active and role in INVITABLE_ROLES[inviter.role]


def invitable_roles(inviter: User) -> tuple[Role, ...]:
    """The roles this person may hand out, in the order buttons show them."""
    return INVITABLE_ROLES[inviter.role] if inviter.active else ()


def require_lead(actor: User) -> None:
    """Raise unless the person is an active admin or head."""
    if not (actor.active and actor.is_lead):
        raise NotAllowed("Only admins and heads of sales can do that.")


def require_admin(actor: User) -> None:
    """Raise unless the person is an active admin."""
    if not (actor.active and actor.role is Role.ADMIN):
        raise NotAllowed("Only an admin can do that.")


async def bootstrap_admin(
    db: Database,
    clock: Clock,
    *,
    telegram_id: int,
    name: str,
    username: str | None,
    timezone: str,
    locale: str,
) -> User:
    """Register a person listed in ADMIN_TELEGRAM_IDS as an admin on their first /start."""
    now = clock.now()
    async with db.transaction() as tx:
        user = await users.insert_user(
            tx,
            telegram_id=telegram_id,
            name=name,
            username=username,
            role=Role.ADMIN,
            timezone=timezone,
            locale=locale,
            now=now,
        )
        await audit.record(
            tx,
            actor_id=telegram_id,
            action="user.bootstrap_admin",
            now=now,
            object_type="user",
            object_id=telegram_id,
        )
    return user


class RequestOutcome(StrEnum):
    """What happened to `/start` from a stranger."""

    CREATED = "created"
    ALREADY_PENDING = "already_pending"


@dataclass(frozen=True, slots=True)
class AccessRequestResult:
    """The request and whether it is new (only new ones are announced to the leads)."""

    outcome: RequestOutcome
    request: AccessRequest
    leads: list[User]


async def request_access(
    db: Database, clock: Clock, *, telegram_id: int, name: str, username: str | None
) -> AccessRequestResult:
    """Open an access request for a stranger, once: repeated /start does not spam the leads."""
    pending = await access_requests.pending_request_for(db, telegram_id)
    leads = await users.list_leads(db)
    if pending is not None:
        return AccessRequestResult(RequestOutcome.ALREADY_PENDING, pending, leads)
    now = clock.now()
    async with db.transaction() as tx:
        request = await access_requests.insert_request(
            tx, telegram_id=telegram_id, name=name, username=username, now=now
        )
        await audit.record(
            tx,
            actor_id=telegram_id,
            action="access.request",
            now=now,
            object_type="access_request",
            object_id=request.id,
        )
    return AccessRequestResult(RequestOutcome.CREATED, request, leads)


@dataclass(frozen=True, slots=True)
class Decision:
    """A decided access request: the request and, when approved, the new user."""

    request: AccessRequest
    approved: bool
    user: User | None


async def decide_access(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    request_id: int,
    role: Role | None,
    timezone: str,
    locale: str,
) -> Decision:
    """Approve (with a role) or decline (role None) a pending request."""
    require_lead(actor)
    if role is not None and not can_invite(actor, role):
        raise NotAllowed(f"You can't approve someone as {role.value}.")
    request = await access_requests.get_request(db, request_id)
    if request is None:
        raise DomainError("That request no longer exists.")
    if request.state != "pending":
        decider = await users.get_user(db, request.decided_by) if request.decided_by else None
        who = decider.name if decider else "someone"
        raise DomainError(f"Already handled: {request.state} by {who}.")
    now = clock.now()
    async with db.transaction() as tx:
        state = "approved" if role is not None else "declined"
        if not await access_requests.decide_request(
            tx, request_id, state=state, role=role, by=actor.telegram_id, now=now
        ):
            raise DomainError("Already handled by another colleague.")
        user = None
        if role is not None:
            existing = await users.get_user(tx, request.telegram_id)
            if existing is None:
                user = await users.insert_user(
                    tx,
                    telegram_id=request.telegram_id,
                    name=request.name,
                    username=request.username,
                    role=role,
                    timezone=timezone,
                    locale=locale,
                    now=now,
                )
            else:
                await users.update_user(tx, request.telegram_id, now=now, role=role, active=True)
                user = await users.get_user(tx, request.telegram_id)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action=f"access.{state}",
            now=now,
            object_type="access_request",
            object_id=request_id,
            details={"role": role.value if role else None, "telegram_id": request.telegram_id},
        )
    decided = await access_requests.get_request(db, request_id)
    assert decided is not None
    return Decision(decided, role is not None, user)


async def find_person(db: Database, telegram_id: int) -> User | None:
    """The registered person with this Telegram id (active or not), or None for a stranger."""
    return await users.get_user(db, telegram_id)


async def leads(db: Database) -> list[User]:
    """Active admins and heads."""
    return await users.list_leads(db)
