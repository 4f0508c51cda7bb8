"""The schema of clients, contacts, steps and reminders refuses what the rules forbid."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from storage import clients, contacts, reminders, steps
from storage.clients import ClientFields, ClientStatus
from storage.contacts import ContactKind, Outcome
from storage.db import Database, to_db_time
from storage.reminders import ReminderState, ReminderSubject
from storage.steps import StepKind
from storage.users import Role
from tests.factories import make_user

MINUTE = dt.timedelta(minutes=1)


def _fields(name: str, key: str | None = None) -> ClientFields:
    return ClientFields(
        name=name,
        name_key=key or name.lower(),
        contact_person=None,
        phone_e164=None,
        email=None,
        tags=("vip",),
        status=ClientStatus.PROSPECT,
        notes=None,
        search_key=(key or name.lower()) + " vip",
    )


async def _client_and_contact(db: Database, clock) -> tuple[int, int]:
    await make_user(db, clock, 10)
    async with db.transaction() as tx:
        client = await clients.insert_client(
            tx, owner_id=10, fields=_fields("Acme"), now=clock.now()
        )
        contact = await contacts.insert_contact(
            tx,
            client_id=client.id,
            manager_id=10,
            kind=ContactKind.CALL,
            happened_at=clock.now(),
            summary="Talked",
            now=clock.now(),
        )
    return client.id, contact.id


async def _execute(db: Database, sql: str, params: tuple = ()) -> None:
    async with db.transaction() as tx:
        await tx.execute(sql, params)


async def test_complete_contact_needs_an_outcome_and_a_resolution_time(db, clock) -> None:
    """The database itself refuses `complete` without an outcome, or an outcome while pending."""
    _, contact_id = await _client_and_contact(db, clock)
    stamp = to_db_time(clock.now())
    with pytest.raises(sqlite3.IntegrityError):
        await _execute(
            db,
            "UPDATE contacts SET state = 'complete', resolved_at = ? WHERE id = ?",
            (stamp, contact_id),
        )
    with pytest.raises(sqlite3.IntegrityError):
        await _execute(db, "UPDATE contacts SET outcome = 'won' WHERE id = ?", (contact_id,))
    with pytest.raises(sqlite3.IntegrityError):
        await _execute(
            db,
            "UPDATE contacts SET state = 'complete', outcome = 'won' WHERE id = ?",
            (contact_id,),
        )
    async with db.transaction() as tx:
        await contacts.resolve_contact(
            tx, contact_id, outcome=Outcome.WON, reason=None, now=clock.now()
        )
    contact = await contacts.get_contact(db, contact_id)
    assert contact is not None and contact.outcome is Outcome.WON


@pytest.mark.parametrize("outcome", [Outcome.REFUSED, Outcome.NOT_TARGET])
@pytest.mark.parametrize("reason", [None, "", "   "])
async def test_refusal_without_reason_is_refused(db, clock, outcome, reason) -> None:
    """A refusal or "not a target" without a reason never reaches the table."""
    _, contact_id = await _client_and_contact(db, clock)
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await contacts.resolve_contact(
                tx, contact_id, outcome=outcome, reason=reason, now=clock.now()
            )


async def test_unknown_kinds_and_states_are_refused(db, clock) -> None:
    """CHECK constraints keep the enumerations closed."""
    client_id, contact_id = await _client_and_contact(db, clock)
    for sql in (
        "UPDATE contacts SET kind = 'fax' WHERE id = ?",
        "UPDATE contacts SET state = 'lost' WHERE id = ?",
        "UPDATE contacts SET summary = '' WHERE id = ?",
    ):
        with pytest.raises(sqlite3.IntegrityError):
            await _execute(db, sql, (contact_id,))
    with pytest.raises(sqlite3.IntegrityError):
        await _execute(db, "UPDATE clients SET status = 'vip' WHERE id = ?", (client_id,))
    with pytest.raises(sqlite3.IntegrityError):
        await _execute(db, "UPDATE clients SET phone_e164 = '0123' WHERE id = ?", (client_id,))


async def test_at_most_one_open_step_per_client(db, clock) -> None:
    """The partial unique index refuses a second open step; closed ones do not count."""
    client_id, contact_id = await _client_and_contact(db, clock)
    due = clock.now() + dt.timedelta(days=1)

    async def add_step() -> steps.Step:
        async with db.transaction() as tx:
            return await steps.insert_step(
                tx,
                client_id=client_id,
                manager_id=10,
                created_by_contact_id=contact_id,
                kind=StepKind.CALL,
                due_at=due,
                agenda=None,
                now=clock.now(),
            )

    first = await add_step()
    second = await add_step()  # a client may have several open steps
    assert await steps.open_steps_for_client(db, client_id) == [first, second]
    async with db.transaction() as tx:
        await steps.mark_replaced(tx, first.id, by_contact_id=contact_id, now=clock.now())
    assert await steps.open_steps_for_client(db, client_id) == [second]
    assert [step.id for step in await steps.steps_closed_by(db, contact_id)] == [first.id]


async def test_step_done_needs_the_contact_and_cancel_needs_a_reason(db, clock) -> None:
    """`done` only with done_by_contact_id; `cancelled` only with a reason."""
    client_id, contact_id = await _client_and_contact(db, clock)
    async with db.transaction() as tx:
        step = await steps.insert_step(
            tx,
            client_id=client_id,
            manager_id=10,
            created_by_contact_id=contact_id,
            kind=StepKind.MEETING,
            due_at=clock.now() + MINUTE,
            agenda="Prices",
            now=clock.now(),
        )
    with pytest.raises(sqlite3.IntegrityError):
        await _execute(db, "UPDATE steps SET state = 'done' WHERE id = ?", (step.id,))
    with pytest.raises(sqlite3.IntegrityError):
        await _execute(db, "UPDATE steps SET state = 'cancelled' WHERE id = ?", (step.id,))
    async with db.transaction() as tx:
        await steps.complete_step(tx, step.id, contact_id=contact_id, now=clock.now())
    done = await steps.get_step(db, step.id)
    assert done is not None and done.done_by_contact_id == contact_id
    assert await steps.step_done_by(db, contact_id) == done


async def test_search_index_follows_updates(db, clock) -> None:
    """The trigram index is kept in step with search_key by triggers."""
    await make_user(db, clock, 10)
    async with db.transaction() as tx:
        client = await clients.insert_client(
            tx, owner_id=10, fields=_fields("Acme", "acme"), now=clock.now()
        )
    found = await clients.search(
        db, owner_id=10, trigram_terms=["acm"], short_terms=[], limit=5, offset=0
    )
    assert [item.client.id for item in found] == [client.id]
    async with db.transaction() as tx:
        await clients.save_client(
            tx, client.id, fields=_fields("Zenith", "zenith"), now=clock.now()
        )
    for term, expected in (("acm", []), ("nit", [client.id])):
        found = await clients.search(
            db, owner_id=10, trigram_terms=[term], short_terms=[], limit=5, offset=0
        )
        assert [item.client.id for item in found] == expected
    found = await clients.search(
        db, owner_id=None, trigram_terms=[], short_terms=["ze"], limit=5, offset=0
    )
    assert [item.owner_name for item in found] == ["User 10"]


async def test_last_contact_moves_forward_and_is_recomputed(db, clock) -> None:
    """An older contact does not move last_contact_at back; recompute uses what is left."""
    client_id, contact_id = await _client_and_contact(db, clock)
    now = clock.now()
    async with db.transaction() as tx:
        await clients.note_contact(tx, client_id, happened_at=now)
        await clients.note_contact(tx, client_id, happened_at=now - dt.timedelta(days=3))
    client = await clients.get_client(db, client_id)
    assert client is not None and client.last_contact_at == now
    async with db.transaction() as tx:
        await contacts.delete_contact(tx, contact_id)
        await clients.recompute_last_contact(tx, client_id)
    client = await clients.get_client(db, client_id)
    assert client is not None and client.last_contact_at is None


async def test_claim_due_is_atomic_and_ordered(db, clock) -> None:
    """Only due pending rows are claimed, oldest first, and a row is claimed once."""
    await make_user(db, clock, 10, Role.MANAGER)
    now = clock.now()
    async with db.transaction() as tx:
        later = await reminders.insert_reminder(
            tx, user_id=10, subject=ReminderSubject.STEP, subject_id=1, due_at=now, now=now
        )
        earlier = await reminders.insert_reminder(
            tx,
            user_id=10,
            subject=ReminderSubject.MISSING_STEP,
            subject_id=2,
            due_at=now - MINUTE,
            now=now,
        )
        await reminders.insert_reminder(
            tx,
            user_id=10,
            subject=ReminderSubject.STEP,
            subject_id=3,
            due_at=now + MINUTE,
            now=now,
        )
    async with db.transaction() as tx:
        claimed = await reminders.claim_due(tx, now=now)
    assert [r.id for r in claimed] == [earlier, later]
    assert all(r.state is ReminderState.SENDING for r in claimed)
    async with db.transaction() as tx:
        assert await reminders.claim_due(tx, now=now) == []

    async with db.transaction() as tx:
        assert await reminders.mark_sent(tx, earlier, now=now, message_id=77)
        assert not await reminders.mark_sent(tx, earlier, now=now, message_id=78)
        assert await reminders.release(tx, later, retry_at=now + 5 * MINUTE)
    sent = (await reminders.reminders_for(db, ReminderSubject.MISSING_STEP, 2))[0]
    assert sent.state is ReminderState.SENT and sent.message_id == 77 and sent.sent_at == now
    retried = (await reminders.reminders_for(db, ReminderSubject.STEP, 1))[0]
    assert retried.state is ReminderState.PENDING and retried.attempts == 1
    assert retried.due_at == now + 5 * MINUTE


async def test_cancel_and_ensure_never_duplicate_a_sent_reminder(db, clock) -> None:
    """Cancelling leaves sent rows; ensure revives a cancelled row and skips a sent one."""
    await make_user(db, clock, 10)
    now = clock.now()
    due = now + MINUTE
    async with db.transaction() as tx:
        await reminders.insert_reminder(
            tx, user_id=10, subject=ReminderSubject.STEP, subject_id=5, due_at=due, now=now
        )
        assert await reminders.cancel_for_subject(tx, ReminderSubject.STEP, 5) == 1
        await reminders.ensure_reminder(
            tx, user_id=10, subject=ReminderSubject.STEP, subject_id=5, due_at=due, now=now
        )
        await reminders.ensure_reminder(
            tx, user_id=10, subject=ReminderSubject.STEP, subject_id=5, due_at=due, now=now
        )
    rows = await reminders.reminders_for(db, ReminderSubject.STEP, 5)
    assert [r.state for r in rows] == [ReminderState.PENDING]

    async with db.transaction() as tx:
        claimed = await reminders.claim_due(tx, now=due)
        await reminders.mark_sent(tx, claimed[0].id, now=due, message_id=1)
        assert await reminders.cancel_for_subject(tx, ReminderSubject.STEP, 5) == 0
        await reminders.ensure_reminder(
            tx, user_id=10, subject=ReminderSubject.STEP, subject_id=5, due_at=due, now=due
        )
    rows = await reminders.reminders_for(db, ReminderSubject.STEP, 5)
    assert [r.state for r in rows] == [ReminderState.SENT]


async def test_settling_and_recovering_claimed_reminders(db, clock) -> None:
    """Claimed rows can be held or cancelled; rows a crash left in sending come back."""
    await make_user(db, clock, 10)
    now = clock.now()
    async with db.transaction() as tx:
        ids = [
            await reminders.insert_reminder(
                tx, user_id=10, subject=ReminderSubject.STEP, subject_id=n, due_at=now, now=now
            )
            for n in range(3)
        ]
        await reminders.claim_due(tx, now=now)
        assert await reminders.set_state(tx, ids[0], "held")
        assert await reminders.set_state(tx, ids[1], ReminderState.CANCELLED)
        assert not await reminders.set_state(tx, ids[1], "pending")
        with pytest.raises(ValueError, match="mark_sent"):
            await reminders.set_state(tx, ids[2], "sent")
        assert await reminders.release_stale(tx, claimed_before=now) == 0
        assert await reminders.release_stale(tx, claimed_before=now + MINUTE) == 1
        await reminders.claim_due(tx, now=now)
        assert await reminders.release_stale(tx) == 1  # start-up: however recent the claim
    states = [
        (await reminders.reminders_for(db, ReminderSubject.STEP, n))[0].state for n in range(3)
    ]
    assert states == [ReminderState.HELD, ReminderState.CANCELLED, ReminderState.PENDING]


async def test_hot_queries_use_indexes(db, clock) -> None:
    """The card, the agenda, pending contacts and the sweep never scan their whole table."""
    plans = [
        (
            "SELECT * FROM contacts WHERE client_id = 1"
            " ORDER BY happened_at DESC, id DESC LIMIT 3",
            "contacts_client_recent",
        ),
        (
            "SELECT * FROM contacts WHERE manager_id = 1 AND state = 'needs_next_step'"
            " ORDER BY logged_at",
            "contacts_pending",
        ),
        (
            "SELECT 1 FROM contacts WHERE manager_id = 1 AND state = 'needs_next_step'"
            " AND client_id = 2",
            "contacts_pending",
        ),
        (
            "SELECT * FROM steps WHERE manager_id = 1 AND state = 'open' AND due_at < 'x'"
            " ORDER BY due_at",
            "steps_manager_due",
        ),
        (
            "SELECT * FROM steps WHERE client_id = 1 AND state = 'open' ORDER BY due_at",
            "steps_client_open",
        ),
        ("SELECT id FROM reminders WHERE state = 'pending' AND due_at <= 'x'", "reminders_due"),
        (
            "SELECT * FROM clients WHERE owner_id = 1 ORDER BY last_contact_at DESC, id DESC",
            "clients_owner_recent",
        ),
    ]
    for sql, index in plans:
        rows = await db.fetch_all(f"EXPLAIN QUERY PLAN {sql}")
        detail = " ".join(row["detail"] for row in rows)
        assert index in detail, (sql, detail)
        assert "TEMP B-TREE" not in detail, (sql, detail)
