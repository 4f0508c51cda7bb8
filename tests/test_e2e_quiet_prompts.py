"""End-to-end: a prompt a flow left behind loses its buttons (handlers/flow.py), whether the
flow moved on, ended, or was ended by another; cards and results keep theirs; a stale press
is answered "already handled", naming what it was about."""

from __future__ import annotations

from telegram.ext import Application

from bot.app import build_application, polling, services_of
from bot.clock import FrozenClock
from bot.config import Settings
from bot.devtools.sandbox.client import ChatUser
from bot.devtools.sandbox.server import FakeBotApiServer
from bot.devtools.sandbox.world import BotMessage
from bot.services import clients
from storage.users import Role
from tests.factories import make_user

MANAGER_ID = 7107


async def mara_with_clients(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> ChatUser:
    """Mara, a manager in London, with Tundra Outdoor and Quartz (Quartz owes INV-1)."""
    db = services_of(app).db
    manager = await make_user(
        db, clock, MANAGER_ID, Role.MANAGER, name="Mara", timezone="Europe/London"
    )
    for name in ("Tundra Outdoor", "Quartz"):
        await clients.create_client(db, clock, actor=manager, name=name)
    return server.user(MANAGER_ID, "Mara")


def now_showing(user: ChatUser, message: BotMessage) -> BotMessage:
    """The message as the chat shows it now (edits applied), not the snapshot `expect` gave."""
    return next(m for m in user.messages if m.message_id == message.message_id)


async def buttons_gone(user: ChatUser, message: BotMessage) -> bool:
    """Whether the message loses its buttons soon (the flow takes them off just after it
    answers)."""
    gone = await user.world.wait_until(
        lambda: True if not now_showing(user, message).buttons else None, 5.0
    )
    return bool(gone)


def data_of(message: BotMessage, label: str) -> str:
    """The callback data of one of the message's buttons."""
    found = message.button(label)
    assert found is not None, message.labels
    return str(found["callback_data"])


async def ask_payment(mara: ChatUser) -> tuple[BotMessage, BotMessage]:
    """Quartz's invoice INV-1 saved; Record payment pressed: (its card, the amount prompt)."""
    await mara.send("/newinvoice Quartz; INV-1; 100 USD; net 30")
    card = await mara.expect("Invoice saved")
    await mara.press("Record payment")
    prompt = await mara.expect("How much was paid?")
    assert prompt.labels == ["Full balance: $100.00"]
    return card, prompt


async def test_a_typed_next_step_quiets_the_question_and_a_stale_press_names_the_client(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """ "What is the next step?" answered by typing: its five buttons go; the read-back loses
    its own on Confirm; "Logged" keeps Edit/Undo; an old "Deal won" press is refused, naming
    the client and the call."""
    mara = await mara_with_clients(app, server, clock)
    await mara.send("/call Tundra Outdoor talked about the spring range")
    question = await mara.expect("What is the next step?")
    won = data_of(question, "🏆 Deal won")
    await mara.send("meeting next friday 15:00")
    await mara.expect("Is that right?")
    assert await buttons_gone(mara, question)
    assert "What is the next step?" in now_showing(mara, question).text  # the text stays
    await mara.press("✅ Confirm")
    logged = await mara.expect("Logged")
    assert "↩️ Undo" in now_showing(mara, logged).labels  # a result, not a prompt

    answer = await mara.press_data(won, message_id=question.message_id)
    assert answer is not None and answer.startswith("Already handled"), answer
    assert "Tundra Outdoor" in answer and "call" in answer, answer
    db = services_of(app).db
    assert await db.fetch_value("SELECT outcome FROM contacts") == "scheduled"


async def test_a_flow_ended_by_another_command_loses_its_buttons_and_cards_keep_theirs(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """The payment question, then `/call`: its "Full balance" goes, the invoice card keeps
    Record payment; the old "Full balance" press says the question was closed, naming it."""
    mara = await mara_with_clients(app, server, clock)
    card, prompt = await ask_payment(mara)
    full = data_of(prompt, "Full balance: $100.00")
    await mara.send("/call Tundra Outdoor")
    await mara.expect("What happened?")
    await mara.expect("The payment on INV-1 was not recorded")
    assert await buttons_gone(mara, prompt)
    assert "Record payment" in now_showing(mara, card).labels

    answer = await mara.press_data(full, message_id=prompt.message_id)
    assert answer is not None and answer.startswith("Already handled"), answer
    assert "INV-1" in answer and "Quartz" in answer, answer
    assert await services_of(app).db.fetch_value("SELECT count(*) FROM payments") == 0


async def test_a_refused_answer_keeps_the_buttons_and_cancel_takes_them_off(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """A typed amount that can't be read leaves the question (and its button) open; /cancel
    closes it and its button goes."""
    mara = await mara_with_clients(app, server, clock)
    _, prompt = await ask_payment(mara)
    await mara.send("a lot")
    await mara.expect("Please send the amount again")
    assert now_showing(mara, prompt).labels == ["Full balance: $100.00"]
    await mara.send("/cancel")
    await mara.expect("Cancelled")
    assert await buttons_gone(mara, prompt)


async def test_a_question_edited_into_a_card_keeps_what_the_press_put_there(
    app: Application, server: FakeBotApiServer, clock: FrozenClock
) -> None:
    """/settings → Time zone turns the card into the zone question; a typed zone answers it
    and the zone buttons go. Picking an agenda time by button edits that very message back
    into the card, whose buttons stay."""
    mara = await mara_with_clients(app, server, clock)
    await mara.send("/settings")
    card = await mara.expect("Your settings")
    await mara.press("🕘 Time zone")
    await mara.expect("Choose your time zone")
    await mara.send("Paris")
    await mara.expect("Time zone set to Europe/Paris")
    assert await buttons_gone(mara, card)

    await mara.send("/settings")
    card = await mara.expect("Your settings")
    await mara.press("☀️ Agenda time")
    await mara.expect("When should your morning agenda arrive?")
    await mara.press("08:30")
    await mara.expect("Morning agenda time saved")
    assert "🕘 Time zone" in now_showing(mara, card).labels


async def test_the_prompt_is_remembered_across_a_restart(
    e2e_settings: Settings, clock: FrozenClock, server: FakeBotApiServer
) -> None:
    """The payment question asked before a restart still loses its button when, after it,
    another flow takes over."""
    first = build_application(e2e_settings, clock=clock)
    async with polling(first, poll_timeout=1):
        mara = await mara_with_clients(first, server, clock)
        _, prompt = await ask_payment(mara)
    second = build_application(e2e_settings, clock=clock)
    async with polling(second, poll_timeout=1):
        await mara.send("/call Tundra Outdoor")
        await mara.expect("What happened?")
        await mara.expect("The payment on INV-1 was not recorded")
        assert await buttons_gone(mara, prompt)
