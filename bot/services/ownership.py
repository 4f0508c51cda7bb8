"""Who may act on a client: managers on their own, heads and admins on anyone's."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.errors import DomainError, NotAllowed
from storage import audit, clients
from storage.clients import Client
from storage.db import Database
from storage.users import User

DENIED = "That client belongs to another manager; you can only work with your own clients."


def may_act_on(actor: User, owner_id: int) -> bool:
    """Whether an active person may see and change data of a client owned by `owner_id`."""
    return actor.active and (actor.is_lead or actor.telegram_id == owner_id)


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
    if not may_act_on(actor, client.owner_id):
        raise await deny(
            db, clock, actor=actor, attempted=attempted, object_type="client", object_id=client_id
        )
    return client
