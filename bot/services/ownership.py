"""Who may act on a client: managers on their own, heads and admins on anyone's.

While a manager is away with a deputy (until `away_until`), the deputy may act on the away
manager's clients too; the right ends by itself when the manager is back.
"""

from __future__ import annotations

import datetime as dt

from bot.clock import Clock
from bot.services.errors import DomainError, NotAllowed
from storage import audit, clients, users
from storage.clients import Client
from storage.db import Database, Queries
from storage.users import User

DENIED = "That client belongs to another manager; you can only work with your own clients."


def may_act_on(actor: User, owner_id: int) -> bool:
    """Whether an active person may see and change data of a client owned by `owner_id`."""
    return actor.active and (actor.is_lead or actor.telegram_id == owner_id)


def is_deputy_for(actor: User, owner: User | None, now: dt.datetime) -> bool:
    """Whether `actor` stands in for `owner` at `now` (owner away, actor their deputy)."""
    return (
        actor.active
        and owner is not None
        and owner.active
        and owner.deputy_id == actor.telegram_id
        and owner.away_until is not None
        and now < owner.away_until
    )


async def may_act_on_client(db: Queries, actor: User, owner_id: int, *, now: dt.datetime) -> bool:
    """`may_act_on`, plus the deputy of an owner who is away at `now`."""
    if may_act_on(actor, owner_id):
        return True
    if not actor.active:
        return False
    return is_deputy_for(actor, await users.get_user(db, owner_id), now)


async def deny(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    attempted: str,
    object_type: str,
    object_id: int,
) -> NotAllowed:
    """Record an `access.denied` audit entry (committed) and return the error to raise."""
    async with db.transaction() as tx:
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="access.denied",
            now=clock.now(),
            object_type=object_type,
            object_id=object_id,
            details={"attempted": attempted},
        )
    return NotAllowed(DENIED)


async def require_client(
    db: Database, clock: Clock, *, actor: User, client_id: int, attempted: str
) -> Client:
    """The client, if it exists and the person may act on it; a refusal is audited."""
    client = await clients.get_client(db, client_id)
    if client is None:
        raise DomainError("That client doesn't exist.")
    if not await may_act_on_client(db, actor, client.owner_id, now=clock.now()):
        raise await deny(
            db, clock, actor=actor, attempted=attempted, object_type="client", object_id=client_id
        )
    return client
