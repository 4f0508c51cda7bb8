"""End-to-end: typed button data (bot/views/actions.py) and refusals answered in one place.

A refused press is an answer, not the end of the person's open question; data that fits
none of a feature's declared actions is refused before any handler or flow sees it.
"""

from __future__ import annotations

import datetime as dt

from telegram.ext import Application, ChatMemberHandler, TypeHandler

from bot.app import services_of
from bot.clock import FrozenClock
from bot.devtools.sandbox.server import FakeBotApiServer
from storage import audit
from tests.reliability import registry
from tests.test_e2e_reminders import manager_with_step

MIA, OLGA = 5005, 5010
NOT_VALID = "That button is not valid any more."


async def test_a_refused_step_button_leaves_the_reschedule_question_open(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Mid-reschedule, a press on another manager's step is refused with the reason; the
    time typed next still reschedules Mia's own step (the refusal ended nothing)."""
    db = services_of(app).db
    await manager_with_step(db, clock, telegram_id=MIA)
    await manager_with_step(db, clock, telegram_id=OLGA, name="Globex")
    olgas = await db.fetch_value("SELECT id FROM steps WHERE manager_id = ?", (OLGA,))
    mia = server.user(MIA, "Mia")
    clock.advance(dt.timedelta(hours=2))
    reminder = await mia.expect("Due now", timeout=10)
    await mia.press("🗓 Reschedule")
    await mia.expect("to when?")
    answer = await mia.press_data(f"st:open:{olgas}", message_id=reminder.message_id)
    assert answer is not None and "another manager" in answer
    await mia.send("in 3 days 15:00")
    assert "the call is rescheduled to" in (await mia.expect("rescheduled")).text
    assert await db.fetch_value("SELECT due_at FROM steps WHERE id = ?", (olgas,)) is not None


async def test_data_fitting_no_declared_action_reaches_no_handler(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """`cl:pg:1000000` has a page's shape but no page's value, `cl:zap:1` no action at all:
    both are refused (and audited) before any handler runs, a flow's included."""
    db = services_of(app).db
    await manager_with_step(db, clock, telegram_id=MIA)
    called: list[str] = []
    for item in registry.registered(app):
        if isinstance(item.handler, TypeHandler | ChatMemberHandler):
            continue
        original = item.handler.callback

        async def spy(update, context, original=original, item=item):  # type: ignore[no-untyped-def]
            called.append(f"{item.conversation}/{item.state}: {item.handler}")
            return await original(update, context)

        item.handler.callback = spy  # type: ignore[assignment]
    mia = server.user(MIA, "Mia")
    forged = ["cl:pg:1000000", "cl:zap:1", "ns:won:0", "team:page:01", "st:sz:1:2h"]
    anchor = await mia.send("hi")
    await mia.reply()
    called.clear()
    for data in forged:
        assert await mia.press_data(data, message_id=anchor["message_id"]) == NOT_VALID, data
    assert called == []
    refused = await audit.recent_entries(db, action="callback.refused", limit=100)
    assert sorted(entry.details["data"] for entry in refused) == sorted(forged)
