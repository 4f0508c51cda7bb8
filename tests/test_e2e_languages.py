"""End-to-end: a person works in their own language (issue 19; the part translated so far:
the welcome, /help, the command menus and /settings with its 🌐 Language choice)."""

from __future__ import annotations

import asyncio
import json

from telegram.ext import Application

from bot.app import services_of
from bot.clock import FrozenClock
from bot.devtools.sandbox.server import FakeBotApiServer
from tests.e2e_helpers import eventually, invite, start_admin

PRIVATE = json.dumps({"type": "all_private_chats"}, sort_keys=True)


async def test_a_russian_speaker_is_welcomed_in_russian_and_can_switch_to_english(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Telegram in Russian: the welcome, help and settings are Russian, dates in Russian;
    🌐 Язык → English switches texts, the settings card and the person's command menu."""
    admin = await start_admin(server)
    token = await invite(admin, "Manager")
    olga = server.user(6001, "Olga", language_code="ru")
    await olga.send(f"/start {token}")
    welcome = await olga.expect("Добро пожаловать в NextStep, Olga!")
    assert "Ваши команды" in welcome.text
    assert "/call — Быстрая запись: /call <клиент> <о чём говорили>" in welcome.text
    assert "Ваша роль: менеджер" in welcome.text
    db = services_of(app).db
    assert await db.fetch_value("SELECT locale FROM users WHERE telegram_id = 6001") == "ru"
    key = (json.dumps({"type": "chat", "chat_id": 6001}, sort_keys=True), "")
    for _ in range(250):  # published just after the welcome (the fake server signals no event)
        if (menu := server.world.commands.get(key)) is not None:
            break
        await asyncio.sleep(0.02)
    assert menu is not None, "Olga's own menu, in her language"
    assert {
        "command": "agenda",
        "description": "Что делать сейчас: нет следующего шага, просрочено, на сегодня",
    } in menu

    await olga.send("/settings")
    card = await olga.expect("Ваши настройки")
    assert "Язык: Русский" in card.text
    assert "пн, вт, ср, чт, пт" in card.text  # working days as Babel names them in Russian
    assert "🌐 Язык" in card.labels
    await olga.press("🌐 Язык")
    asked = await olga.expect("На каком языке мне с вами говорить?")
    assert asked.labels == ["English", "Русский", "हिन्दी", "ગુજરાતી"]
    await olga.press("English")
    switched = await olga.expect("✅ Language: English")
    assert "Your settings" in switched.text and "Mon, Tue, Wed, Thu, Fri" in switched.text
    assert await db.fetch_value("SELECT locale FROM users WHERE telegram_id = 6001") == "en"
    await olga.send("/help")
    assert "Your commands" in (await olga.expect("Your commands")).text


async def test_menus_are_published_in_every_language_and_a_typed_language_name_works(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """The default menus exist for en (no language_code), ru, hi and gu; a Gujarati
    speaker types the language's name instead of tapping it."""
    for code, word in (("", "Log a call"), ("ru", "Записать"), ("hi", "दर्ज"), ("gu", "નોંધો")):
        menu = server.world.commands[(PRIVATE, code)]
        assert any(word in command["description"] for command in menu), (code, menu)
    admin = await start_admin(server)
    await admin.send("/settings")
    await admin.press("🌐 Language")
    await admin.expect("Which language should I use with you?")
    await admin.send("ગુજરાતી")
    changed = await admin.expect("✅ ભાષા: ગુજરાતી")
    assert "આપની સેટિંગ્સ" in changed.text


async def test_a_stranger_hears_their_language_and_each_lead_is_asked_in_theirs(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A Hindi-speaking stranger's /start is answered in Hindi; the English admin and a head
    who chose Russian each get the access request in their own language; the approved
    member starts in Hindi."""
    admin = await start_admin(server)
    token = await invite(admin, "Head of sales")
    oleg = server.user(6002, "Oleg", language_code="ru")
    await oleg.send(f"/start {token}")
    await oleg.expect("Добро пожаловать в NextStep, Oleg!")
    stranger = server.user(6003, "Priya", language_code="hi")
    await stranger.send("/start")
    await stranger.expect("NextStep केवल आमंत्रण से उपलब्ध है।")
    asked = await admin.expect("Access request")
    assert "Priya, Telegram id 6003, wants to use NextStep." in asked.text
    assert asked.labels == ["Approve as manager", "Approve as head", "Decline"]
    russian = await oleg.expect("Запрос на доступ")
    assert "Priya, Telegram id 6003, хочет пользоваться NextStep." in russian.text
    assert russian.labels[0] == "Одобрить как менеджера"
    await admin.press("Approve as manager")
    db = services_of(app).db
    await eventually(db, "SELECT locale FROM users WHERE telegram_id = 6003", ["hi"])
    await stranger.send("/help")
    assert "आपके आदेश" in (await stranger.expect("आपके आदेश")).text


async def test_the_team_language_is_for_new_people_whose_telegram_the_bot_does_not_speak(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """The admin sets the team's language to Gujarati: a German-speaking stranger is refused
    in Gujarati; a Russian-speaking one still in Russian; a manager can't set it."""
    admin = await start_admin(server)
    await admin.send("/settings")
    await admin.press("🏢 Team: language for new people")
    await admin.expect("otherwise in the team's language, now English")
    await admin.press("ગુજરાતી")
    await admin.expect("✅ Team language for new people: ગુજરાતી")
    hans = server.user(6010, "Hans", language_code="de")
    await hans.send("hello")
    await hans.expect("માફ કરશો, NextStep ફક્ત આમંત્રણથી ઉપલબ્ધ છે")
    ivan = server.user(6011, "Ivan", language_code="ru")
    await ivan.send("hello")
    await ivan.expect("К сожалению, NextStep работает только по приглашениям")
    token = await invite(admin, "Manager")
    mia = server.user(6012, "Mia", language_code="en")
    await mia.send(f"/start {token}")
    welcome = await mia.expect("Welcome to NextStep, Mia!")
    answer = await mia.press_data("set:tlang:ru", message_id=welcome.message_id)
    assert answer is not None and "head" in answer.lower()


async def test_a_client_is_written_to_in_their_own_language(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """Card → Edit → 🌐 Language → Русский: the card says so; "Same as mine" clears it; a
    manager can't set it on another manager's client."""
    from bot.services import clients
    from storage.users import Role
    from tests.factories import make_user

    db = services_of(app).db
    mara = await make_user(db, clock, 7101, Role.MANAGER, name="Mara")
    await make_user(db, clock, 7102, Role.MANAGER, name="Tom")
    client = await clients.create_client(db, clock, actor=mara, name="Vostok Trade")
    chat = server.user(7101, "Mara")
    await chat.send("/clients Vostok")
    await chat.press("Vostok Trade")
    await chat.press("Edit")
    await chat.press("🌐 Language")
    await chat.expect("In which language do you write to Vostok Trade?")
    await chat.press("Русский")
    card = await chat.expect("✅ Replies to Vostok Trade: Русский.")
    assert "🌐 Русский" in card.text
    assert await db.fetch_value("SELECT language FROM clients WHERE id = ?", (client.id,)) == "ru"
    tom = server.user(7102, "Tom")
    await tom.send("/start")
    hello = await tom.expect("Hello, Tom!")
    answer = await tom.press_data(f"cl:lg:{client.id}:en", message_id=hello.message_id)
    assert answer is not None and "another manager" in answer
    assert await db.fetch_value("SELECT language FROM clients WHERE id = ?", (client.id,)) == "ru"


async def test_a_template_for_a_russian_client_is_filled_in_russian(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """An English-speaking manager fills a template for a client written to in Russian: the
    same template, in Russian; for a client without a language, in English. Inline mode too."""
    from bot.services import clients
    from bot.services.replies import library
    from storage.users import Role
    from tests.factories import make_user

    db = services_of(app).db
    mara = await make_user(db, clock, 7201, Role.MANAGER, name="Mara")
    vostok = await clients.create_client(
        db, clock, actor=mara, name="Vostok Trade", contact_person="Иван Петров"
    )
    await clients.set_client_language(db, clock, actor=mara, client_id=vostok.id, language="ru")
    acme = await clients.create_client(db, clock, actor=mara, name="Acme", contact_person="Ann")
    russian = await library.fill(
        db, clock, actor=mara, template_id="follow_up_call", client_id=vostok.id
    )
    english = await library.fill(
        db, clock, actor=mara, template_id="follow_up_call", client_id=acme.id
    )
    assert "Здравствуйте" in russian.text and "Иван Петров" in russian.text
    assert "Здравствуйте" not in english.text and "Ann" in english.text
    inline = await library.inline_replies(db, clock, actor=mara, query="Vostok")
    assert inline and all("Здравствуйте" in reply.text for reply in inline[:3])


async def test_a_reminder_reaches_a_russian_manager_in_russian(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A due step's reminder, sent by the job, is in the recipient's language, with Russian
    buttons and the step's kind as a Russian word."""
    import datetime as dt

    from bot.services import team
    from tests.test_e2e_reminders import manager_with_step

    db = services_of(app).db
    manager = await manager_with_step(db, clock, telegram_id=7301, name="Vostok Trade")
    await team.set_language(db, clock, actor=manager, locale="ru")
    ivan = server.user(7301, "Ivan")
    clock.advance(dt.timedelta(hours=2))
    due = await ivan.expect("⏰ Пора: звонок, клиент Vostok Trade", timeout=10)
    assert due.labels[:3] == ["✅ Сделано — записать", "💤 Отложить", "🗓 Перенести"]
    assert "В прошлый раз: Asked for prices" in due.text
    assert "\nСвязь: Ivan Petrov, +442079460958\n" in due.text


async def test_a_russian_manager_logs_a_call_and_its_next_step_in_russian(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """`/call Vostok обсудили цены` → the next-step question, its buttons, the kinds, the
    quick times and the confirmation are Russian, dates too; a typed Russian label works."""
    from bot.services import clients, team
    from storage.users import Role
    from tests.factories import make_user

    db = services_of(app).db
    ivan = await make_user(db, clock, 7401, Role.MANAGER, name="Ivan", timezone="Europe/Moscow")
    await team.set_language(db, clock, actor=ivan, locale="ru")
    await clients.create_client(db, clock, actor=ivan, name="Vostok Trade")
    chat = server.user(7401, "Ivan")
    await chat.send("/call Vostok обсудили цены")
    asked = await chat.expect("Записал: звонок, клиент Vostok Trade. Какой следующий шаг?")
    assert asked.labels[0] == "📅 Назначить следующий шаг"
    await chat.send("📅 Назначить следующий шаг")  # the label typed works as the button
    kinds = await chat.expect("Какой следующий шаг?")
    assert "🤝 Встреча" in kinds.labels
    await chat.press("🤝 Встреча")
    when = await chat.expect("Когда следующий шаг?")
    assert "Завтра в 10:00" in when.labels
    await chat.press("Завтра в 10:00")
    done = await chat.expect("✅ Записано: звонок, клиент Vostok Trade")
    assert "➡️ Следующий шаг: встреча, пт 27 нояб. 2026" in done.text
    assert done.labels[:3] == ["✏️ Исправить", "↩️ Отменить", "📝 Добавить повестку"]
