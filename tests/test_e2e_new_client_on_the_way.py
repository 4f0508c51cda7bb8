"""End-to-end: a meeting with a client not yet in the bot, logged on the way (issue 17).

The clock: Thu 26 Nov 2026, 09:00 UTC; Mara works in London.
"""

from __future__ import annotations

from telegram.ext import Application

from bot.app import services_of
from bot.clock import FrozenClock
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.services import clients
from storage import clients as client_rows
from tests.test_e2e_typed_next_step import mara_with


async def test_a_new_client_a_meeting_and_its_next_step_in_three_actions(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """`/meeting Zephyr Logistics discussed the pilot next: meeting fri 15:00` offers
    ➕ New client “Zephyr Logistics”; one tap creates it and saves the meeting, one more
    confirms the step: 1 message + 2 taps."""
    mara = await mara_with(app, server, clock, "Tundra Outdoor")
    await mara.send("/meeting Zephyr Logistics discussed the pilot next: meeting fri 15:00")
    offer = await mara.expect("I found no client called “Zephyr Logistics”.")
    assert offer.labels == ["➕ New client “Zephyr Logistics”", "✏️ Another name"]
    await mara.press("➕ New client “Zephyr Logistics”")
    await mara.expect("➕ New client Zephyr Logistics added.")
    await mara.expect("🤝 Meeting: Fri 27 Nov 2026, 15:00 (Europe/London). Is that right?")
    await mara.press("✅ Confirm")
    done = await mara.expect("Logged")
    assert "meeting with Zephyr Logistics" in done.text
    assert "discussed the pilot" in done.text
    db = services_of(app).db
    row = await db.fetch_one(
        "SELECT c.name, c.status, t.kind, t.summary FROM contacts t"
        " JOIN clients c ON c.id = t.client_id"
    )
    assert row is not None
    assert (row["name"], row["kind"], row["summary"]) == (
        "Zephyr Logistics",
        "meeting",
        "discussed the pilot",
    )
    assert await db.fetch_value("SELECT count(*) FROM steps WHERE state = 'open'") == 1


async def test_the_proposed_name_can_be_corrected_and_the_summary_follows(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """`/call zephyr logistics asked about rates` (lower case: only "zephyr" is proposed);
    "✏️ Another name" → "Zephyr Logistics Ltd": the summary loses the name's words."""
    mara = await mara_with(app, server, clock, "Tundra Outdoor")
    await mara.send("/call zephyr logistics asked about rates")
    await mara.expect("I found no client called “zephyr”.")
    await mara.press("✏️ Another name")
    await mara.expect("Send the new client's name")
    await mara.send("Zephyr Logistics")
    await mara.expect("➕ New client Zephyr Logistics added.")
    await mara.expect("Saved your call with Zephyr Logistics. What is the next step?")
    db = services_of(app).db
    assert await db.fetch_value("SELECT summary FROM contacts") == "asked about rates"


async def test_typed_new_client_in_the_log_picker(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """In /log, letters that match nothing offer the new client; typing `new client Ёлка 🎄`
    creates it (the typed answer works as the button would)."""
    mara = await mara_with(app, server, clock, "Tundra Outdoor")
    await mara.send("/log")
    await mara.expect("Who was the contact with?")
    await mara.send("Ёлка")
    await mara.expect("I found no client called “Ёлка”.")
    await mara.send("new client Ёлка 🎄")
    await mara.expect("➕ New client Ёлка 🎄 added.")
    await mara.expect("What kind of contact was it?")


async def test_search_finds_emoji_and_names_in_any_script(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """/clients 🚀 finds “🚀 Rocket Labs”; Gujarati and Cyrillic names are found by their
    letters; a client stored before emoji were kept is re-keyed at start-up."""
    mara = await mara_with(app, server, clock, "🚀 Rocket Labs")
    db = services_of(app).db
    manager = await db.fetch_one("SELECT telegram_id FROM users")
    assert manager is not None
    for name in ("શ્રી ટ્રેડર્સ", "Ёлка"):
        await clients.create_client(db, clock, actor=await _member(app), name=name)
    await mara.send("/clients 🚀")
    found = await mara.expect("Rocket Labs")
    assert "🚀 Rocket Labs" in found.labels
    await mara.send("/clients ટ્રેડ")
    assert "શ્રી ટ્રેડર્સ" in (await mara.expect("ટ્રેડ")).labels
    await mara.send("/clients елка")  # ё folds to е
    assert "Ёлка" in (await mara.expect("елка")).labels

    # An old search copy without the emoji (as stored before migration 0011) is made again.
    rocket = await db.fetch_value("SELECT id FROM clients WHERE name = '🚀 Rocket Labs'")
    async with db.transaction() as tx:
        await tx.execute("UPDATE clients SET search_key = 'rocket labs' WHERE id = ?", (rocket,))
        await tx.execute("INSERT INTO search_reindex (client_id) VALUES (?)", (rocket,))
    assert await clients.refresh_search_keys(db) == 1
    refreshed = await client_rows.get_client(db, int(rocket))
    assert refreshed is not None
    assert await db.fetch_value("SELECT search_key FROM clients WHERE id = ?", (rocket,)) == (
        "🚀 rocket labs"
    )
    assert await db.fetch_value("SELECT count(*) FROM search_reindex") == 0


async def _member(app: Application):  # type: ignore[no-untyped-def]
    from storage import users

    db = services_of(app).db
    user = await users.get_user(db, 7007)
    assert user is not None
    return user
