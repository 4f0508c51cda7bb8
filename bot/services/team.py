"""The team: roles, deactivation, reachability and personal settings."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from bot import i18n
from bot.clock import Clock
from bot.services import schedule
from bot.services.access import INVITABLE_ROLES, require_admin, require_lead, reread
from bot.services.errors import DomainError, NotAllowed
from storage import audit, calendar_feeds, invites, reminders, steps, users
from storage.db import Database, Transaction
from storage.steps import StepEntry
from storage.users import Role, User


async def get_member(db: Database, telegram_id: int) -> User:
    """A registered person, or a DomainError when the id is unknown."""
    user = await users.get_user(db, telegram_id)
    if user is None:
        raise DomainError("That person is not on the team.")
    return user


LAST_ADMIN = (
    "NextStep needs at least one active admin. Make someone else an admin first, "
    "then ask them to change this."
)


async def _admin_and_target(tx: Transaction, actor: User, target_id: int) -> tuple[User, User]:
    """Inside the write: the actor (still an active admin) and the target, as stored now."""
    current = await reread(tx, actor)
    require_admin(current)
    target = await users.get_user(tx, target_id)
    if target is None:
        raise DomainError("That person is not on the team.")
    return current, target


async def _keep_an_admin(tx: Transaction, target: User) -> None:
    """Refuse a change that would take the team's last active admin away."""
    others = await users.count_active_admins(tx, besides=target.telegram_id)
    if target.active and target.role is Role.ADMIN and others == 0:
        raise NotAllowed(LAST_ADMIN)


async def change_role(
    db: Database, clock: Clock, *, actor: User, target_id: int, role: Role
) -> User:
    """An admin gives someone else another role.

    Actor and target are re-read in the write transaction; the last active admin keeps the
    role. Invitations the target made for roles they may no longer grant are revoked.
    """
    now = clock.now()
    async with db.transaction() as tx:
        current, target = await _admin_and_target(tx, actor, target_id)
        if target.telegram_id == current.telegram_id:
            raise NotAllowed("You can't change your own role; ask another admin.")
        if target.role is role:
            return target
        if role is not Role.ADMIN:
            await _keep_an_admin(tx, target)
        await users.update_user(tx, target_id, now=now, role=role)
        lost = [r for r in Role if r not in INVITABLE_ROLES[role]]
        revoked = await invites.revoke_open_by(
            tx, target_id, by=current.telegram_id, now=now, roles=lost
        )
        await audit.record(
            tx,
            actor_id=current.telegram_id,
            action="user.role",
            now=now,
            object_type="user",
            object_id=target_id,
            details={"from": target.role.value, "to": role.value, "revoked_invites": revoked},
        )
        changed = await users.get_user(tx, target_id)
    assert changed is not None
    return changed


async def set_active(
    db: Database, clock: Clock, *, actor: User, target_id: int, active: bool
) -> User:
    """An admin deactivates (their data stays) or reactivates someone else.

    Actor and target are re-read in the write transaction; the last active admin can't be
    deactivated. Deactivating revokes the person's unused invitations.
    """
    now = clock.now()
    async with db.transaction() as tx:
        current, target = await _admin_and_target(tx, actor, target_id)
        if target.telegram_id == current.telegram_id:
            raise NotAllowed("You can't deactivate yourself; ask another admin.")
        if target.active == active:
            return target
        revoked: list[int] = []
        if active:  # reminders of inactive people are dropped; the agenda starts again
            await users.update_user(tx, target_id, now=now, active=True)
            await schedule.ensure_agenda_reminder(tx, target, now)
        else:
            await _keep_an_admin(tx, target)
            await users.update_user(tx, target_id, now=now, active=False)
            revoked = await invites.revoke_open_by(tx, target_id, by=current.telegram_id, now=now)
            await calendar_feeds.revoke_for_user(tx, target_id, now=now)  # their feed: 404
        await audit.record(
            tx,
            actor_id=current.telegram_id,
            action="user.reactivate" if active else "user.deactivate",
            now=now,
            object_type="user",
            object_id=target_id,
            details={"revoked_invites": revoked} if revoked else None,
        )
        changed = await users.get_user(tx, target_id)
    assert changed is not None
    return changed


async def set_reachable(db: Database, clock: Clock, telegram_id: int, *, reachable: bool) -> None:
    """Record that a person blocked (or unblocked) the bot; unknown ids are ignored."""
    user = await users.get_user(db, telegram_id)
    if user is None or user.reachable == reachable:
        return
    now = clock.now()
    async with db.transaction() as tx:
        await users.update_user(tx, telegram_id, now=now, reachable=reachable)
        released = 0
        if reachable:  # what was held while they had blocked the bot arrives now, together
            released = await reminders.release_held(tx, telegram_id, due_at=now)
            await schedule.restart_agenda(tx, user, now)
        await audit.record(
            tx,
            actor_id=None,
            action="user.reachable" if reachable else "user.unreachable",
            now=now,
            object_type="user",
            object_id=telegram_id,
            details={"released": released} if reachable else None,
        )


def resolve_timezone(text: str) -> str | None:
    """Match what a user typed to an IANA zone: exact, any case, or a unique city name."""
    candidate = text.strip().replace(" ", "_")
    if not candidate:
        return None
    zones = zoneinfo.available_timezones()
    if candidate in zones:
        return candidate
    folded = candidate.casefold()
    by_case = [zone for zone in zones if zone.casefold() == folded]
    if len(by_case) == 1:
        return by_case[0]
    by_city = sorted(
        zone for zone in zones if "/" in zone and zone.rsplit("/", 1)[1].casefold() == folded
    )
    canonical = [zone for zone in by_city if not zone.startswith(("Etc/", "US/", "SystemV/"))]
    return canonical[0] if len(canonical) == 1 else None


async def set_timezone(db: Database, clock: Clock, *, actor: User, timezone: str) -> User:
    """Change a person's own time zone (already resolved to an IANA name)."""
    if timezone not in zoneinfo.available_timezones():
        raise DomainError(f"{timezone} is not a time zone I know.")
    now = clock.now()
    async with db.transaction() as tx:
        await users.update_user(tx, actor.telegram_id, now=now, timezone=timezone)
        moved = await users.get_user(tx, actor.telegram_id)
        assert moved is not None
        await schedule.reschedule_agenda(tx, moved, now)  # 09:00 in the new zone
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="user.timezone",
            now=now,
            object_type="user",
            object_id=actor.telegram_id,
            details={"timezone": timezone},
        )
    return await get_member(db, actor.telegram_id)


async def set_language(db: Database, clock: Clock, *, actor: User, locale: str) -> User:
    """Change the language a person's texts, dates and money are in (one of i18n.LOCALES)."""
    if locale not in i18n.LOCALES:
        raise DomainError(
            f"{locale} is not a language I speak; choose one of {', '.join(i18n.LOCALES)}."
        )
    now = clock.now()
    async with db.transaction() as tx:
        await users.update_user(tx, actor.telegram_id, now=now, locale=locale)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="user.language",
            now=now,
            object_type="user",
            object_id=actor.telegram_id,
            details={"from": actor.locale, "to": locale},
        )
    return await get_member(db, actor.telegram_id)


async def refresh_profile(
    db: Database, clock: Clock, user: User, *, name: str, username: str | None
) -> None:
    """Keep the stored name and username in step with Telegram (no audit: not a user action)."""
    # Stored without a username as "" (NOT NULL): compare "no username" with "no username",
    # or every update of a person without one would rewrite their row.
    if user.name == name and (user.username or None) == (username or None):
        return
    async with db.transaction() as tx:
        await users.update_user(
            tx, user.telegram_id, now=clock.now(), name=name, username=username or ""
        )


async def list_team(db: Database, *, actor: User) -> list[User]:
    """Everyone on the team, for an admin or head."""
    require_lead(actor)
    return await users.list_users(db)


@dataclass(frozen=True, slots=True)
class AwayNote:
    """An away person as a head sees them: until when, who covers, what falls due meanwhile."""

    until: dt.datetime
    deputy: User | None
    due_meanwhile: list[StepEntry]


async def away_notes(db: Database, people: list[User], now: dt.datetime) -> dict[int, AwayNote]:
    """For each away person: their deputy, or (without one) the steps due before the return."""
    notes: dict[int, AwayNote] = {}
    by_id = {person.telegram_id: person for person in people}
    for person in people:
        if not schedule.is_away(person, now):
            continue
        assert person.away_until is not None
        deputy = by_id.get(person.deputy_id) if person.deputy_id is not None else None
        due = (
            []
            if deputy is not None
            else await steps.open_for_manager(db, person.telegram_id, due_before=person.away_until)
        )
        notes[person.telegram_id] = AwayNote(person.away_until, deputy, due)
    return notes


async def find_member(db: Database, text: str) -> User | None:
    """An active person by @username or by unique name (case-insensitive), else None."""
    wanted = text.strip().removeprefix("@").casefold()
    if not wanted:
        return None
    people = await users.list_users(db, active_only=True)
    by_username = [p for p in people if p.username and p.username.casefold() == wanted]
    if by_username:
        return by_username[0]
    by_name = [p for p in people if p.name.casefold() == wanted]
    if len(by_name) == 1:
        return by_name[0]
    by_first = [p for p in people if p.name.casefold().split()[0] == wanted]
    return by_first[0] if len(by_first) == 1 else None
