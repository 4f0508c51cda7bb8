"""Who may do what, first admins, and access requests from people without an invitation.

Every rule that guards a write is checked again inside the write's transaction, against the
actor and the object as they are then, not as a handler saw them a moment earlier: a press on
an old message, or two leads pressing at once, can only act on the current state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.clock import Clock
from bot.services.errors import DomainError, NotAllowed
from storage import access_requests, audit, users
from storage.access_requests import AccessRequest
from storage.db import Database, Queries, Transaction
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


class Deactivated(NotAllowed):
    """The person is registered but their access was switched off."""

    def __init__(self) -> None:
        super().__init__(
            "Sorry, your access to NextStep was switched off. If you need it again, ask an "
            "admin: only an admin can switch it back on."
        )


class AlreadyDecided(DomainError):
    """The access request was decided, or its person joined otherwise, before this press."""

    def __init__(self, message: str, request: AccessRequest) -> None:
        super().__init__(message)
        self.request = request


async def reread(tx: Queries, actor: User) -> User:
    """The actor as stored now (inside the caller's transaction); raise if they lost access."""
    current = await users.get_user(tx, actor.telegram_id)
    if current is None or not current.active:
        raise Deactivated
    return current


async def close_requests(tx: Transaction, telegram_id: int, *, now: dt.datetime) -> None:
    """The person joined by some route: their pending access request (if any) is closed."""
    if await access_requests.close_pending_for(tx, telegram_id, now=now):
        await audit.record(
            tx,
            actor_id=telegram_id,
            action="access.closed",
            now=now,
            object_type="user",
            object_id=telegram_id,
        )


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
    """Register a person listed in ADMIN_TELEGRAM_IDS as an admin on their first /start.

    Only a person never registered: the list bootstraps a team, it does not override it. A
    listed admin whom another admin deactivated stays out (Deactivated) until an admin
    reactivates them in /team; one already active is returned as they are.
    """
    now = clock.now()
    async with db.transaction() as tx:
        existing = await users.get_user(tx, telegram_id)
        if existing is not None:
            if not existing.active:
                raise Deactivated
            return existing
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
        await close_requests(tx, telegram_id, now=now)
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
    db: Database,
    clock: Clock,
    *,
    telegram_id: int,
    name: str,
    username: str | None,
    locale: str | None = None,
) -> AccessRequestResult:
    """Open an access request for a stranger, once: repeated /start does not spam the leads.

    Registered people never ask: a deactivated person is refused (Deactivated), since only
    an admin reactivates, and no lead is asked.
    """
    now = clock.now()
    async with db.transaction() as tx:
        known = await users.get_user(tx, telegram_id)
        if known is not None and not known.active:
            raise Deactivated
        if known is not None:
            raise NotAllowed("You are already on the team.")
        pending = await access_requests.pending_request_for(tx, telegram_id)
        if pending is None:
            request = await access_requests.insert_request(
                tx, telegram_id=telegram_id, name=name, username=username, now=now, locale=locale
            )
            await audit.record(
                tx,
                actor_id=telegram_id,
                action="access.request",
                now=now,
                object_type="access_request",
                object_id=request.id,
            )
    leads = await users.list_leads(db)
    if pending is not None:
        return AccessRequestResult(RequestOutcome.ALREADY_PENDING, pending, leads)
    return AccessRequestResult(RequestOutcome.CREATED, request, leads)


@dataclass(frozen=True, slots=True)
class Decision:
    """A decided access request: the request and, when approved, the new user."""

    request: AccessRequest
    approved: bool
    user: User | None


async def _already_decided(tx: Queries, request: AccessRequest) -> AlreadyDecided:
    """The answer to a press on a request that is no longer pending."""
    if request.state == "closed":
        how = f"{request.name} joined the team meanwhile"
    else:
        decider = await users.get_user(tx, request.decided_by) if request.decided_by else None
        by = f" by {decider.name}" if decider else ""
        role = f" as {request.role.value}" if request.role else ""
        how = f"{request.state}{role}{by}"
    return AlreadyDecided(f"Already decided: {how}. Nothing was changed.", request)


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
    """Approve (with a role) or decline (role None) a pending request; the new member starts
    in the language their request was made in (else `locale`).

    Approving only ever creates a new member. In one transaction: the lead is re-read (still
    active, still allowed to grant the role), the request must still be pending, and its
    person must not have joined by another route (then the request is closed, nothing else
    changes, and AlreadyDecided is raised, as for a request another lead decided first).
    """
    now = clock.now()
    outcome: Decision | AlreadyDecided
    async with db.transaction() as tx:
        lead = await reread(tx, actor)
        require_lead(lead)
        if role is not None and not can_invite(lead, role):
            raise NotAllowed(f"You can't approve someone as {role.value}.")
        request = await access_requests.get_request(tx, request_id)
        if request is None:
            raise DomainError("That request no longer exists.")
        if not request.pending:
            raise await _already_decided(tx, request)
        if await users.get_user(tx, request.telegram_id) is not None:
            await close_requests(tx, request.telegram_id, now=now)
            closed = await access_requests.get_request(tx, request_id)
            assert closed is not None
            outcome = await _already_decided(tx, closed)
        else:
            state = "approved" if role is not None else "declined"
            await access_requests.decide_request(
                tx, request_id, state=state, role=role, by=lead.telegram_id, now=now
            )
            user = None
            if role is not None:
                user = await users.insert_user(
                    tx,
                    telegram_id=request.telegram_id,
                    name=request.name,
                    username=request.username,
                    role=role,
                    timezone=timezone,
                    locale=request.locale or locale,
                    now=now,
                )
            await audit.record(
                tx,
                actor_id=lead.telegram_id,
                action=f"access.{state}",
                now=now,
                object_type="access_request",
                object_id=request_id,
                details={
                    "role": role.value if role else None,
                    "telegram_id": request.telegram_id,
                },
            )
            decided = await access_requests.get_request(tx, request_id)
            assert decided is not None
            outcome = Decision(decided, role is not None, user)
    if isinstance(outcome, AlreadyDecided):  # raised after the commit, so the closing is kept
        raise outcome
    return outcome


async def find_person(db: Database, telegram_id: int) -> User | None:
    """The registered person with this Telegram id (active or not), or None for a stranger."""
    return await users.get_user(db, telegram_id)


async def leads(db: Database) -> list[User]:
    """Active admins and heads."""
    return await users.list_leads(db)
