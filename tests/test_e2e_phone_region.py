"""End-to-end: the team's phone region. An admin sets it in /settings (a button, or a typed
name or code); heads see it, managers can't reach it; new clients, the phone edit and imports
read numbers without a country code in it and say so."""

from __future__ import annotations

from telegram.ext import Application

from bot.app import services_of
from bot.devtools.sandbox.server import FakeBotApiServer
from tests.e2e_helpers import join, start_admin

HEAD, MANAGER = 8801, 8802


async def test_an_admin_sets_the_region_and_phones_without_a_code_follow_it(
    app: Application, server: FakeBotApiServer
) -> None:
    """The default (DEFAULT_PHONE_REGION, US) until the admin types `Germany`: then a new
    client's `030 901820` is +49 and the card says it was read as German; the phone edit
    asks in and reports the region; after the GB button, an import's `020 7946 0958` is +44
    and the report says so."""
    admin = await start_admin(server)
    mia = await join(server, admin, MANAGER, "Mia")
    await admin.send("/settings")
    card = await admin.expect("Your settings")
    assert "Phones typed without +country: United States (US) (team)" in card.text
    await admin.press("🏢 Team: phone region")
    prompt = await admin.expect("Team: phone region")
    assert "🇬🇧 United Kingdom (GB)" in prompt.labels
    await admin.send("Atlantis")
    refused = await admin.expect("I don't know the region “Atlantis”")
    assert "/cancel leaves it unchanged" in refused.text
    await admin.send("Germany")
    await admin.expect("now read as Germany (DE) numbers")

    await mia.send("/newclient Beta GmbH; Hans Weber; 030 901820")
    saved = await mia.expect("Client saved")
    assert "so I read it as a Germany (DE) number: +49 30 901820" in saved.text
    await mia.press("Edit")
    await mia.expect("What would you like to change for Beta GmbH?")
    await mia.press("Phone number")
    asked = await mia.expect("Send the new phone number")
    assert "without one it is read as a Germany (DE) number" in asked.text
    await mia.send("040 428280")
    updated = await mia.expect("Phone number updated")
    assert "so I read it as a Germany (DE) number: +49 40 428280" in updated.text
    await mia.press("Edit")
    await mia.press("Phone number")
    await mia.send("+44 20 7946 0958")
    updated = await mia.expect("Phone number updated")
    assert "no country code" not in updated.text

    await admin.send("/settings")
    await admin.expect("Phones typed without +country: Germany (DE) (team)")
    await admin.press("🏢 Team: phone region")
    await admin.expect("Team: phone region")
    assert await admin.press("🇬🇧 United Kingdom (GB)") == "Saved"
    await admin.expect("now read as United Kingdom (GB) numbers")

    await mia.send_document(
        "more.csv", b"name,phone\nGamma Ltd,020 7946 0958\nDelta,+49 30 901820\n"
    )
    report = await mia.expect("Import of more.csv", timeout=20)
    assert "1 phone number(s) had no country code; I read them as United Kingdom (GB)" in (
        report.text
    )
    db = services_of(app).db
    phones = await db.fetch_all("SELECT name, phone_e164 FROM clients ORDER BY name")
    assert [tuple(row) for row in phones] == [
        ("Beta GmbH", "+442079460958"),
        ("Delta", "+4930901820"),
        ("Gamma Ltd", "+442079460958"),
    ]


async def test_heads_see_the_region_and_managers_cannot_reach_it(
    app: Application, server: FakeBotApiServer
) -> None:
    """A head's press shows the region and who changes it (the card stays as it was); a
    manager has no such button, and a forged press is refused politely; nothing changes."""
    admin = await start_admin(server)
    head = await join(server, admin, HEAD, "Hal", "Head of sales")
    mia = await join(server, admin, MANAGER, "Mia")
    await head.send("/settings")
    card = await head.expect("Your settings")
    answer = await head.press("🏢 Team: phone region")
    assert answer == (
        "Phone numbers typed without +country are read as United States (US) numbers. "
        "Only an admin can change this."
    )
    assert (
        "🏢 Team: phone region"
        in next(m for m in head.messages if m.message_id == card.message_id).labels
    )
    forged = await head.press_data("set:pr:DE", message_id=card.message_id)
    assert forged == "Only an admin can do that."

    await mia.send("/settings")
    card = await mia.expect("Your settings")
    assert "🏢 Team: phone region" not in card.labels
    assert "Phones typed without +country: United States (US) (team)" in card.text
    answer = await mia.press_data("set:pr", message_id=card.message_id)
    assert answer == "Only a head of sales or an admin sees the team's settings."
    answer = await mia.press_data("set:pr:DE", message_id=card.message_id)
    assert answer is not None and answer.startswith("Only admins and heads"), answer
    db = services_of(app).db
    assert await db.fetch_value("SELECT count(*) FROM team_settings") == 0
