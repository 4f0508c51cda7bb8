"""End-to-end: /templates, inline mode, suggestions, company templates and /tact."""

from __future__ import annotations

from telegram.ext import Application

from bot.app import services_of
from bot.clock import FrozenClock
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.services import clients, contacts, team_settings
from bot.services.replies import library as reply_library
from storage.users import Role, User
from tests.e2e_helpers import start_admin
from tests.factories import make_user

MIA = 6101
OLEG = 6102
STRANGER = 6199


async def manager_with_client(
    app: Application,
    clock: FrozenClock,
    telegram_id: int = MIA,
    name: str = "Mia",
    client: str = "Acme LLC",
    person: str = "Ivan Petrov",
) -> User:
    """A manager with one client (as an invitation and /newclient would leave them)."""
    db = services_of(app).db
    manager = await make_user(
        db, clock, telegram_id, Role.MANAGER, name=name, timezone="Europe/London"
    )
    await clients.create_client(db, clock, actor=manager, name=client, contact_person=person)
    return manager


async def test_templates_to_a_filled_text_for_a_client(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """/templates → situation → template → client: the text, filled, with its buttons."""
    await manager_with_client(app, clock)
    db = services_of(app).db
    admin = await make_user(db, clock, 6100, Role.ADMIN, name="Ada")
    await team_settings.change(
        db, clock, actor=admin, key="company_name", value="NextStep Supplies"
    )
    mia = server.user(MIA, "Mia")
    await mia.send("/templates")
    home = await mia.expect("Reply templates")
    assert "After a refusal" in home.labels and "🔎 Check my wording" in home.labels
    assert "➕ Add template" not in home.labels  # managers don't edit company templates
    await mia.press("After a refusal")
    await mia.expect("Which wording?")
    await mia.press("After a refusal: keep the door open")
    picker = await mia.expect("Who is it for?")
    assert "Acme LLC" in picker.labels and "Without a client" in picker.labels
    await mia.send("acm")  # typing searches the client list
    found = await mia.expect("Who is it for?")
    assert found.labels[0] == "Acme LLC"
    await mia.press("Acme LLC")
    text = await mia.expect("Hello Ivan,")
    assert "respect your decision" in text.text
    assert "Mia, NextStep Supplies" in text.text
    assert text.labels == ["Another variant", "Send via chat with client…", "« Templates"]
    assert text.button("Send via chat with client…")["switch_inline_query"] == (
        "Acme LLC refusal_keep_door_open"
    )

    await mia.press("Another variant")
    variant = await mia.expect("Hello Ivan,")
    assert "contacted you again on [date]" in variant.text  # no next step yet: a placeholder


async def test_templates_from_the_client_card_are_filled_at_once(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """The card's "Templates" button preselects the client: no picker."""
    await manager_with_client(app, clock)
    mia = server.user(MIA, "Mia")
    await mia.send("/clients")
    await mia.expect("Your clients")
    await mia.press("Acme LLC")
    await mia.expect("Acme LLC")
    await mia.press("Templates")
    home = await mia.expect("For Acme LLC.")
    assert "Payment received" in home.labels
    await mia.press("Thanks, compliments")
    await mia.press("Thanks for the cooperation, with a sincere compliment")
    text = await mia.expect("Hello Ivan,")
    assert "Thank you for your trust in [our company]" in text.text  # company name not set


async def test_another_managers_client_is_refused(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A forged button naming someone else's client gets a polite refusal, no text."""
    await manager_with_client(app, clock)
    await manager_with_client(app, clock, OLEG, "Oleg", client="Globex", person="Hank Scorpio")
    db = services_of(app).db
    globex = await db.fetch_value("SELECT id FROM clients WHERE name = 'Globex'")
    mia = server.user(MIA, "Mia")
    await mia.send("/templates")
    home = await mia.expect("Reply templates")
    answer = await mia.press_data(f"tp:c:payment_gentle:{globex}", message_id=home.message_id)
    assert answer is not None and "another manager" in answer
    await mia.no_reply()


async def test_inline_query_without_and_with_a_client_name(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """`@bot payment` lists templates with placeholders; `@bot Acme payment` fills them."""
    await manager_with_client(app, clock)
    await manager_with_client(app, clock, OLEG, "Oleg", client="Globex", person="Hank Scorpio")
    mia = server.user(MIA, "Mia")

    plain = await mia.inline("payment reminder")
    titles = [result["title"] for result in plain]
    assert titles[:3] == [
        "Payment reminder — gentle",
        "Payment reminder — firm",
        "Payment reminder — final",
    ]
    text = plain[0]["input_message_content"]["message_text"]
    assert "Hello [first name]," in text and "invoice [invoice number]" in text
    answer = next(call for call in server.calls if call.method == "answerInlineQuery")
    assert answer.params["is_personal"] is True and answer.params["cache_time"] == 0

    filled = await mia.inline("acme thanks")
    assert filled and all("— Acme LLC" in result["title"] for result in filled)
    assert all(
        "Hello Ivan," in result["input_message_content"]["message_text"] for result in filled
    )

    # Globex is Oleg's client: for Mia the words only search templates, nothing is filled.
    other = await mia.inline("globex")
    assert all("Hank" not in r["input_message_content"]["message_text"] for r in other)


async def test_a_strangers_inline_query_gets_nothing(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Somebody outside the team sees no templates, and no data."""
    await manager_with_client(app, clock)
    eve = server.user(STRANGER, "Eve")
    assert await eve.inline("acme payment") == []
    assert await eve.inline("") == []


async def test_company_template_bad_variable_refused_then_good_text_saved(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A head's template naming an unknown variable is refused with the line; fixed, it saves."""
    await manager_with_client(app, clock)
    admin = await start_admin(server)
    await admin.send("/templates")
    await admin.expect("Reply templates")
    await admin.press("➕ Add template")
    await admin.expect("Send its title")
    await admin.send("Thanks after the trade fair")
    await admin.expect("In which situation")
    await admin.press("Thanks, compliments")
    await admin.expect("Now send the text")
    await admin.send("Hello {{ client.first_name }},\nthanks for visiting {{ client.nmae }}.")
    refused = await admin.expect("I can't save this text yet")
    assert "Line 2: unknown variable {{ client.nmae }}" in refused.text
    await admin.send("Hello {{ client.first_name }},\n{% if %}")
    syntax = await admin.expect("I can't save this text yet")
    assert "Line 2: syntax problem" in syntax.text
    await admin.send("{{ ''.__class__.__mro__ }}")
    assert "only the listed variables" in (await admin.expect("can't save")).text
    await admin.send(
        "Hello {{ client.first_name }},\n\nThank you for visiting our stand. It was a pleasure "
        "to meet the {{ client.name }} team.\n\nKind regards,\n{{ signature }}"
    )
    saved = await admin.expect("Saved “Thanks after the trade fair”")
    assert "Hello Anna," in saved.text  # the preview uses the sample data

    mia = server.user(MIA, "Mia")
    await mia.send("/templates")
    await mia.expect("Reply templates")
    await mia.press("Thanks, compliments")
    listing = await mia.expect("Which wording?")
    assert "🏢 Thanks after the trade fair" in listing.labels
    await mia.press("🏢 Thanks after the trade fair")
    await mia.press("Acme LLC")
    text = await mia.expect("Hello Ivan,")
    assert "meet the Acme LLC team" in text.text
    # A manager can't reach the company-template buttons, even forged.
    answer = await mia.press_data("tp:add", message_id=text.message_id)
    assert answer == "Only heads and admins can change company templates."
    answer = await mia.press_data("tp:rty:1", message_id=text.message_id)
    assert answer == "Only heads and admins can change company templates."

    await admin.send("/templates")
    await admin.expect("Reply templates")
    await admin.press("🏢 Company")
    await admin.press("Thanks after the trade fair")
    await admin.press("Retire")
    await admin.press("Yes, retire")
    await admin.expect("Retired")
    assert "co1" not in str(await mia.inline("trade fair"))


async def test_suggestion_after_a_refusal_is_one_tap_away(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """After "Client refused" the keep-the-door-open reply is offered, and never sent itself."""
    await manager_with_client(app, clock)
    mia = server.user(MIA, "Mia")
    await mia.send("/log")
    await mia.expect("Who was the contact with?")
    await mia.press("Acme LLC")
    await mia.press("📞 Call")
    await mia.expect("What happened?")
    await mia.send("They chose another supplier")
    await mia.expect("What is the next step?")
    await mia.press("🚫 Client refused")
    await mia.expect("Why did the client refuse?")
    await mia.send("Budget frozen until spring")
    done = await mia.expect("Logged")
    assert done.labels == ["✏️ Edit", "↩️ Undo", "✍️ Keep-the-door-open reply"]
    await mia.no_reply()  # offered, not sent
    await mia.press("✍️ Keep-the-door-open reply")
    text = await mia.expect("Hello Ivan,")
    assert "I fully respect your decision" in text.text


async def test_tact_findings_and_clean_text(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """/tact quotes each phrase with a replacement, softens it and offers the template."""
    await manager_with_client(app, clock)
    mia = server.user(MIA, "Mia")
    await mia.send("/tact Hey guys, you must pay the invoice ASAP!!!")
    report = await mia.expect("to soften")
    for phrase in ("“Hey”", "“you must”", "“ASAP”", "“!!!”"):
        assert phrase in report.text
    assert "Payment without the facts" in report.text
    softened = await mia.reply()
    assert softened.text.startswith("Hello everyone, could you please pay the invoice")
    assert "Template: Payment reminders" in softened.labels

    await mia.send("/tact Hello Ivan,\nThank you for the call today.\nKind regards,\nMia")
    clean = await mia.expect("Looks polite and clear")
    assert "Template:" in " ".join(clean.labels)

    await mia.send("/templates")
    await mia.expect("Reply templates")
    await mia.press("🔎 Check my wording")
    await mia.expect("Send me your draft")
    await mia.send("Unfortunately we cannot do that.")
    refusal = await mia.expect("to soften")
    assert "Refusal without an alternative" in refusal.text


async def test_a_company_template_too_long_for_one_client_is_skipped_inline(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A company template that fits the sample data but not this client's long notes is left
    out of that client's inline answer (and logged); the other templates still come."""
    manager = await manager_with_client(app, clock)
    db = services_of(app).db
    head = await make_user(db, clock, 6150, Role.HEAD, name="Hal")
    body = "Thanks! " + " / ".join(["{{ last_contact.summary }}"] * 5) + "\n\nKind regards"
    await reply_library.add_company_template(
        db, clock, actor=head, title="Recap thanks", situation="thanks", body=body
    )
    acme = await db.fetch_value("SELECT id FROM clients WHERE name = 'Acme LLC'")
    await contacts.log_contact(
        db, clock, actor=manager, client_id=acme, kind="call", summary="long notes " * 180
    )
    mia = server.user(MIA, "Mia")
    found = await mia.inline("acme thanks")
    titles = [result["title"] for result in found]
    assert titles and all("— Acme LLC" in title for title in titles)
    assert "Recap thanks — Acme LLC" not in titles
    # Without a client the company template renders (placeholders) and is listed.
    assert "Recap thanks" in [result["title"] for result in await mia.inline("recap")]


async def test_deeply_nested_company_template_is_a_template_problem(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A head's text nested hundreds of levels deep gets a polite, specific refusal instead of
    breaking validation; so does one that is too long for clients with long names."""
    await manager_with_client(app, clock)
    admin = await start_admin(server)
    await admin.send("/templates")
    await admin.expect("Reply templates")
    await admin.press("➕ Add template")
    await admin.send("Nested")
    await admin.expect("In which situation")
    await admin.press("Thanks, compliments")
    await admin.expect("Now send the text")
    await admin.send("Hello {{ " + "(" * 1300 + "client.name" + ")" * 1300 + " }}")
    refused = await admin.expect("I can't save this text yet")
    assert "the text nests more than 40 levels deep" in refused.text
    await admin.send("Hello {{ " + "not " * 600 + "client.name }}")
    assert "nests more than 40 levels deep" in (await admin.expect("can't save")).text
    await admin.send(" ".join(["{{ client.name }}"] * 16))
    too_long = await admin.expect("can't save")
    assert "for a client with long details (200-character names)" in too_long.text
    await admin.send("Hello {{ client.first_name }}, thank you!\n\nKind regards,\n{{ signature }}")
    await admin.expect("Saved “Nested”")
