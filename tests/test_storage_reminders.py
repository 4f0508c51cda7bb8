"""The reminder queue's storage: the sweep's index range scan and the helpers it uses."""

from __future__ import annotations

import datetime as dt

from storage import reminders, steps
from storage.db import to_db_time
from storage.reminders import ReminderState, ReminderSubject
from tests.factories import make_user

MINUTE = dt.timedelta(minutes=1)


async def _queue(db, clock, user_id: int, *offsets: dt.timedelta) -> list[int]:
    async with db.transaction() as tx:
        return [
            await reminders.insert_reminder(
                tx,
                user_id=user_id,
                subject=ReminderSubject.MISSING_STEP,
                subject_id=index,
                due_at=clock.now() + offset,
                now=clock.now(),
            )
            for index, offset in enumerate(offsets)
        ]


async def test_claim_select_is_an_index_range_scan(db, clock) -> None:
    """The claim's inner SELECT searches the (state, due_at) index, reads nothing else and
    needs no sort: its cost is the due rows, not the table."""
    plan = await db.fetch_all(
        f"EXPLAIN QUERY PLAN {reminders.DUE_SELECT}", (to_db_time(clock.now()), 50)
    )
    details = [row["detail"] for row in plan]
    assert details == [
        "SEARCH reminders USING COVERING INDEX reminders_due (state=? AND due_at<?)"
    ], details
    update = "UPDATE reminders SET state = 'sending', claimed_at = ? WHERE id IN "
    claim = await db.fetch_all(
        f"EXPLAIN QUERY PLAN {update}({reminders.DUE_SELECT})", ("x", to_db_time(clock.now()), 50)
    )
    claim_details = " | ".join(row["detail"] for row in claim)
    assert "COVERING INDEX reminders_due (state=? AND due_at<?)" in claim_details
    assert "SCAN reminders" not in claim_details
    assert "TEMP B-TREE" not in claim_details


async def test_count_pending_and_postpone(db, clock) -> None:
    """count_pending counts the queue (optionally what is due); postpone re-queues a claimed
    row for later without counting an attempt."""
    await make_user(db, clock, 1)
    ids = await _queue(db, clock, 1, -MINUTE, dt.timedelta(0), MINUTE)
    assert await reminders.count_pending(db) == 3
    assert await reminders.count_pending(db, due_by=clock.now()) == 2
    async with db.transaction() as tx:
        claimed = await reminders.claim_due(tx, now=clock.now())
        assert [r.id for r in claimed] == ids[:2]
        assert await reminders.postpone(tx, ids[0], due_at=clock.now() + 5 * MINUTE)
        await reminders.mark_sent(tx, ids[1], now=clock.now(), message_id=7)
        assert not await reminders.postpone(tx, ids[1], due_at=clock.now())
    assert await reminders.count_pending(db) == 2
    [row] = await reminders.reminders_for(db, ReminderSubject.MISSING_STEP, 0)
    assert (row.state, row.due_at, row.attempts) == (
        ReminderState.PENDING,
        clock.now() + 5 * MINUTE,
        0,
    )


async def test_get_step_of_a_missing_id(db) -> None:
    """get_step answers None for an unknown id."""
    assert await steps.get_step(db, 12345) is None
