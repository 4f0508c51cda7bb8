"""Calendar events and feeds (bot/services/calendar.py): the fields of an event (UTC start, a
DST week, the length by kind, the alarm), the same UID with a growing SEQUENCE after a snooze
or reschedule, a cancellation, who may get which step, and the feed's contents, window,
ETags and 404s."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar

from bot.clock import FrozenClock
from bot.services import calendar, clients, contacts, schedule, steps, team
from bot.services.contacts import StepChoice
from bot.services.dates import local_to_utc
from bot.services.errors import DomainError, NotAllowed
from bot.services.receivables import invoices
from storage.db import Database
from storage.users import Role, User
from tests.factories import make_user

MANAGER, OTHER, HEAD, ADMIN = 7101, 7102, 7103, 7104


async def step_for(
    db: Database,
    clock: FrozenClock,
    manager: User,
    *,
    client: str = "Tundra Outdoor",
    kind: str = "call",
    due_at: dt.datetime | None = None,
    agenda: str | None = "Send the price list",
) -> int:
    """A client of `manager` with one open step; its id."""
    made = await clients.create_client(
        db,
        clock,
        actor=manager,
        name=client,
        contact_person="Ivan Petrov",
        phone="+44 20 7946 0958",
    )
    contact = await contacts.log_contact(
        db, clock, actor=manager, client_id=made.id, kind="call", summary="Asked for prices"
    )
    step = await contacts.schedule_next_step(
        db,
        clock,
        actor=manager,
        contact_id=contact.id,
        kind=kind,
        due_at=due_at or clock.now() + dt.timedelta(days=2),
        agenda=agenda,
        others=StepChoice.KEEP,
    )
    return step.id


def parse(content: bytes) -> Calendar:
    """The file as a calendar app reads it."""
    return Calendar.from_ical(content)


def only_event(content: bytes):  # type: ignore[no-untyped-def]
    events = parse(content).events
    assert len(events) == 1
    return events[0]


@pytest.fixture
async def mia(db: Database, clock: FrozenClock) -> User:
    return await make_user(db, clock, MANAGER, name="Mia", timezone="Europe/London")


async def test_a_steps_event_has_its_fields(db: Database, clock: FrozenClock, mia: User) -> None:
    """UID, a UTC start, 15 minutes for a call, the summary, the agenda, the contact person
    and a tappable phone, an alarm at the heads-up time (60 min by default)."""
    due = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
    step_id = await step_for(db, clock, mia, due_at=due)
    made = await calendar.step_file(db, clock, actor=mia, step_id=step_id)
    assert made.filename == "call-tundra-outdoor-2026-12-01.ics"
    text = made.content.decode()
    assert "METHOD:PUBLISH" in text
    assert "DTSTART:20261201T150000Z" in text
    event = only_event(made.content)
    assert str(event["UID"]) == f"step-{step_id}@nextstep"
    assert event.decoded("DTSTART") == due
    assert event.decoded("DURATION") == dt.timedelta(minutes=15)
    assert str(event["SUMMARY"]) == "Call: Tundra Outdoor"
    description = str(event["DESCRIPTION"])
    assert "Agenda: Send the price list" in description
    assert "Contact person: Ivan Petrov" in description
    assert "tel:+442079460958" in description
    assert str(event["URL"]) == "tel:+442079460958"
    assert int(event["SEQUENCE"]) == 0
    (alarm,) = event.subcomponents
    assert alarm.name == "VALARM"
    assert alarm.decoded("TRIGGER") == dt.timedelta(minutes=-60)


async def test_start_is_utc_across_the_dst_change(db: Database, clock: FrozenClock) -> None:
    """09:00 in London the Friday before the clocks go back is 08:00Z; the Monday after,
    09:00Z (the week of 25 October 2027, viewed from a clock a few days before it)."""
    clock.set(dt.datetime(2027, 10, 20, 9, 0, tzinfo=dt.UTC))
    ann = await make_user(db, clock, MANAGER, name="Ann", timezone="Europe/London")
    before = local_to_utc(dt.date(2027, 10, 29), dt.time(9, 0), "Europe/London")
    after = local_to_utc(dt.date(2027, 11, 1), dt.time(9, 0), "Europe/London")
    first = await step_for(db, clock, ann, client="Before", due_at=before)
    second = await step_for(db, clock, ann, client="After", due_at=after)
    one = await calendar.step_file(db, clock, actor=ann, step_id=first)
    two = await calendar.step_file(db, clock, actor=ann, step_id=second)
    assert "DTSTART:20271029T080000Z" in one.content.decode()
    assert "DTSTART:20271101T090000Z" in two.content.decode()
    assert only_event(one.content).decoded("DTSTART").utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("kind", "minutes"),
    [("call", 15), ("meeting", 60), ("email", 30), ("visit", 30), ("other", 30)],
)
async def test_the_length_follows_the_kind(
    db: Database, clock: FrozenClock, mia: User, kind: str, minutes: int
) -> None:
    """Calls 15 minutes, meetings 60, every other kind 30 (the defaults)."""
    step_id = await step_for(db, clock, mia, kind=kind)
    event = only_event((await calendar.step_file(db, clock, actor=mia, step_id=step_id)).content)
    assert event.decoded("DURATION") == dt.timedelta(minutes=minutes)


async def test_lengths_and_alarm_are_the_persons(
    db: Database, clock: FrozenClock, mia: User
) -> None:
    """A length set for calls applies to calls only; the alarm follows the heads-up, and a
    heads-up switched off means no alarm."""
    call = await step_for(db, clock, mia, client="A")
    meeting = await step_for(db, clock, mia, client="B", kind="meeting")
    await calendar.set_duration(db, clock, actor=mia, group="call", minutes=20)
    mia = await schedule.set_heads_up(db, clock, actor=mia, minutes=15)
    event = only_event((await calendar.step_file(db, clock, actor=mia, step_id=call)).content)
    assert event.decoded("DURATION") == dt.timedelta(minutes=20)
    assert event.subcomponents[0].decoded("TRIGGER") == dt.timedelta(minutes=-15)
    other = only_event((await calendar.step_file(db, clock, actor=mia, step_id=meeting)).content)
    assert other.decoded("DURATION") == dt.timedelta(minutes=60)
    mia = await schedule.set_heads_up(db, clock, actor=mia, minutes=0)
    event = only_event((await calendar.step_file(db, clock, actor=mia, step_id=call)).content)
    assert event.subcomponents == []
    with pytest.raises(DomainError, match="from 5 minutes to 8 hours"):
        await calendar.set_duration(db, clock, actor=mia, group="call", minutes=600)


async def test_snooze_and_reschedule_update_the_same_event(
    db: Database, clock: FrozenClock, mia: User
) -> None:
    """The same UID each time; SEQUENCE 0, then 1 after a snooze, 2 after a reschedule, and
    the start moves with the step."""
    due = clock.now() + dt.timedelta(minutes=30)
    step_id = await step_for(db, clock, mia, due_at=due)
    first = only_event((await calendar.step_file(db, clock, actor=mia, step_id=step_id)).content)
    clock.advance(dt.timedelta(minutes=31))
    await steps.snooze_step(db, clock, actor=mia, step_id=step_id, code="1h")
    second = only_event((await calendar.step_file(db, clock, actor=mia, step_id=step_id)).content)
    moved = clock.now() + dt.timedelta(days=3)
    await steps.reschedule_step(db, clock, actor=mia, step_id=step_id, due_at=moved)
    third = only_event((await calendar.step_file(db, clock, actor=mia, step_id=step_id)).content)
    assert str(first["UID"]) == str(second["UID"]) == str(third["UID"])
    assert [int(e["SEQUENCE"]) for e in (first, second, third)] == [0, 1, 2]
    assert first.decoded("DTSTART") == due
    assert second.decoded("DTSTART") == (clock.now() + dt.timedelta(hours=1)).replace(
        microsecond=0
    )
    assert third.decoded("DTSTART") == moved.replace(microsecond=0)


async def test_a_cancelled_steps_file_cancels_it(
    db: Database, clock: FrozenClock, mia: User
) -> None:
    """METHOD:CANCEL, STATUS:CANCELLED, the same UID and a higher SEQUENCE."""
    step_id = await step_for(db, clock, mia)
    before = only_event((await calendar.step_file(db, clock, actor=mia, step_id=step_id)).content)
    await steps.cancel_step(db, clock, actor=mia, step_id=step_id, reason="They went quiet")
    made = await calendar.step_file(db, clock, actor=mia, step_id=step_id)
    assert str(parse(made.content)["METHOD"]) == "CANCEL"
    event = only_event(made.content)
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == str(before["UID"])
    assert int(event["SEQUENCE"]) > int(before["SEQUENCE"])
    assert event.subcomponents == []  # no alarm for an event being removed
    assert "was cancelled" in made.caption


async def test_another_managers_step_is_refused(
    db: Database, clock: FrozenClock, mia: User
) -> None:
    """A manager can't get another manager's step or client file (audited); a head can."""
    other = await make_user(db, clock, OTHER, name="Oleg")
    head = await make_user(db, clock, HEAD, Role.HEAD, name="Hana")
    step_id = await step_for(db, clock, other, client="Oleg's client")
    with pytest.raises(NotAllowed):
        await calendar.step_file(db, clock, actor=mia, step_id=step_id)
    client_id = await db.fetch_value("SELECT client_id FROM steps WHERE id = ?", (step_id,))
    with pytest.raises(NotAllowed):
        await calendar.client_file(db, clock, actor=mia, client_id=client_id)
    denied = await db.fetch_value(
        "SELECT count(*) FROM audit_log WHERE action = 'access.denied' AND actor_id = ?",
        (MANAGER,),
    )
    assert denied == 2
    made = await calendar.step_file(db, clock, actor=head, step_id=step_id)
    assert "Call: Oleg's client (Oleg)" in str(only_event(made.content)["SUMMARY"])


async def test_a_clients_file_has_each_open_step(
    db: Database, clock: FrozenClock, mia: User
) -> None:
    """Two open steps of one client: one file, two events; none: a polite refusal."""
    first = await step_for(db, clock, mia, client="Vortex")
    client_id = await db.fetch_value("SELECT client_id FROM steps WHERE id = ?", (first,))
    contact = await contacts.log_contact(
        db, clock, actor=mia, client_id=client_id, kind="email", summary="Sent the offer"
    )
    await contacts.schedule_next_step(
        db,
        clock,
        actor=mia,
        contact_id=contact.id,
        kind="meeting",
        due_at=clock.now() + dt.timedelta(days=9),
        others=StepChoice.KEEP,
    )
    made = await calendar.client_file(db, clock, actor=mia, client_id=client_id)
    summaries = sorted(str(e["SUMMARY"]) for e in parse(made.content).events)
    assert summaries == ["Call: Vortex", "Meeting: Vortex"]
    assert made.filename == "vortex-next-steps.ics"
    bare = await clients.create_client(db, clock, actor=mia, name="Quiet Co")
    with pytest.raises(DomainError, match="Quiet Co has no open step"):
        await calendar.client_file(db, clock, actor=mia, client_id=bare.id)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("call 20", ("call", 20)),
        ("Meetings: 1.5 h", ("meeting", 90)),
        ("other 45 min", ("other", 45)),
        ("email 1 hour", ("other", 60)),
        ("calls=10m", ("call", 10)),
    ],
)
def test_typed_lengths_are_read(typed: str, expected: tuple[str, int]) -> None:
    assert calendar.parse_duration(typed) == expected


@pytest.mark.parametrize("typed", ["", "20", "call", "lunch 20", "call twenty"])
def test_unreadable_lengths_are_refused(typed: str) -> None:
    with pytest.raises(DomainError, match="call 20"):
        calendar.parse_duration(typed)


# --- the feed ------------------------------------------------------------------------------


async def feed_events(db: Database, clock: FrozenClock, token: str) -> list[str]:
    answer = await calendar.answer_feed(db, clock, token=token)
    assert answer.status == 200
    return sorted(str(e["SUMMARY"]) for e in parse(answer.body).events)


async def test_a_feed_lists_only_the_persons_open_steps(
    db: Database, clock: FrozenClock, mia: User
) -> None:
    """Mia's feed: her open steps within the window; never Oleg's, never a done or cancelled
    step, never an invoice amount."""
    oleg = await make_user(db, clock, OTHER, name="Oleg")
    await step_for(db, clock, mia, client="Mine")
    cancelled = await step_for(db, clock, mia, client="Dropped")
    await steps.cancel_step(db, clock, actor=mia, step_id=cancelled, reason="No budget")
    await step_for(db, clock, oleg, client="Olegs")
    mine = await db.fetch_value("SELECT client_id FROM steps WHERE state = 'open' LIMIT 1")
    await invoices.create_invoice(
        db,
        clock,
        actor=mia,
        client_id=mine,
        number="INV-77",
        amount_minor=987_654,
        currency="EUR",
        due_on=dt.date(2026, 12, 20),
    )
    token = (await calendar.new_feed_link(db, clock, actor=mia)).token
    assert await feed_events(db, clock, token) == ["Call: Mine"]
    body = (await calendar.answer_feed(db, clock, token=token)).body.decode()
    assert "9876" not in body and "INV-77" not in body


async def test_the_feed_window_is_30_days_back_to_180_ahead(
    db: Database, clock: FrozenClock, mia: User
) -> None:
    """An open step overdue 29 days is listed, 31 days not; 179 days ahead is, 200 not."""
    start = clock.now()
    await step_for(db, clock, mia, client="Old", due_at=start + dt.timedelta(hours=1))
    await step_for(db, clock, mia, client="Older", due_at=start + dt.timedelta(hours=2))
    clock.set(start - dt.timedelta(days=10))
    await step_for(db, clock, mia, client="Gone", due_at=start - dt.timedelta(days=9))
    clock.set(start + dt.timedelta(days=29))
    await step_for(db, clock, mia, client="Soon", due_at=start + dt.timedelta(days=29 + 179))
    await step_for(db, clock, mia, client="Later", due_at=start + dt.timedelta(days=29 + 200))
    token = (await calendar.new_feed_link(db, clock, actor=mia)).token
    # Now is start + 29 days: "Old"/"Older" are 29 days overdue, "Gone" 38.
    assert await feed_events(db, clock, token) == ["Call: Old", "Call: Older", "Call: Soon"]


async def test_etag_gives_304_until_a_step_changes(
    db: Database, clock: FrozenClock, mia: User
) -> None:
    """The same ETag while nothing changes (304 for it); a snooze, a new step, an edited
    client or a changed length give a new one."""
    due = clock.now() + dt.timedelta(minutes=10)
    step_id = await step_for(db, clock, mia, due_at=due)
    token = (await calendar.new_feed_link(db, clock, actor=mia)).token
    first = await calendar.answer_feed(db, clock, token=token)
    assert first.status == 200 and first.etag
    again = await calendar.answer_feed(db, clock, token=token, if_none_match=first.etag)
    assert (again.status, again.etag, again.body) == (304, first.etag, b"")
    weak = await calendar.answer_feed(db, clock, token=token, if_none_match=f"W/{first.etag}")
    assert weak.status == 304
    etags = {first.etag}
    clock.advance(dt.timedelta(minutes=11))
    await steps.snooze_step(db, clock, actor=mia, step_id=step_id, code="1h")
    etags.add((await calendar.answer_feed(db, clock, token=token)).etag)
    await step_for(db, clock, mia, client="Second")
    etags.add((await calendar.answer_feed(db, clock, token=token)).etag)
    client_id = await db.fetch_value("SELECT client_id FROM steps WHERE id = ?", (step_id,))
    clock.advance(dt.timedelta(seconds=2))
    await clients.update_client(
        db, clock, actor=mia, client_id=client_id, contact_person="Olga Smirnova"
    )
    changed = await calendar.answer_feed(db, clock, token=token)
    etags.add(changed.etag)
    assert "Olga Smirnova" in changed.body.decode()
    await calendar.set_duration(db, clock, actor=mia, group="call", minutes=30)
    etags.add((await calendar.answer_feed(db, clock, token=token)).etag)
    assert len(etags) == 5
    stale = await calendar.answer_feed(db, clock, token=token, if_none_match=first.etag)
    assert stale.status == 200


async def test_unknown_revoked_and_deactivated_get_the_same_404(
    db: Database, clock: FrozenClock, mia: User
) -> None:
    """A malformed or unknown token, the old link after New link, and the link of someone
    deactivated: the same 404 with the same body."""
    admin = await make_user(db, clock, ADMIN, Role.ADMIN, name="Ada")
    await step_for(db, clock, mia)
    old = (await calendar.new_feed_link(db, clock, actor=mia)).token
    new = await calendar.new_feed_link(db, clock, actor=mia)
    assert new.revoked_old
    answers = [
        await calendar.answer_feed(db, clock, token="x" * 32),
        await calendar.answer_feed(db, clock, token="../../etc/passwd"),
        await calendar.answer_feed(db, clock, token=old),
    ]
    assert (await calendar.answer_feed(db, clock, token=new.token)).status == 200
    await team.set_active(db, clock, actor=admin, target_id=MANAGER, active=False)
    answers.append(await calendar.answer_feed(db, clock, token=new.token))
    assert {(a.status, a.body) for a in answers} == {(404, b"Not found.\n")}
    live = await db.fetch_value(
        "SELECT count(*) FROM calendar_feeds WHERE user_id = ? AND revoked_at IS NULL", (MANAGER,)
    )
    assert live == 0
    # Only the hash is stored.
    stored = [r[0] for r in await db.fetch_all("SELECT token_hash FROM calendar_feeds")]
    assert new.token not in stored and calendar.hash_token(new.token) in stored


async def test_a_lead_may_list_the_teams_steps(
    db: Database, clock: FrozenClock, mia: User
) -> None:
    """A head's feed: their own steps, or with the option the whole team's (named with the
    manager, no alarm for others' steps); a manager can't switch it on, and a head made a
    manager loses it."""
    head = await make_user(db, clock, HEAD, Role.HEAD, name="Hana")
    admin = await make_user(db, clock, ADMIN, Role.ADMIN, name="Ada")
    await step_for(db, clock, mia, client="Mias")
    await step_for(db, clock, head, client="Hanas")
    token = (await calendar.new_feed_link(db, clock, actor=head)).token
    assert await feed_events(db, clock, token) == ["Call: Hanas"]
    await calendar.set_include_team(db, clock, actor=head, include=True)
    assert await feed_events(db, clock, token) == ["Call: Hanas", "Call: Mias (Mia)"]
    body = parse((await calendar.answer_feed(db, clock, token=token)).body)
    alarms = {str(e["SUMMARY"]): len(e.subcomponents) for e in body.events}
    assert alarms == {"Call: Hanas": 1, "Call: Mias (Mia)": 0}
    with pytest.raises(NotAllowed):
        await calendar.set_include_team(db, clock, actor=mia, include=True)
    await team.change_role(db, clock, actor=admin, target_id=HEAD, role=Role.MANAGER)
    assert await feed_events(db, clock, token) == ["Call: Hanas"]


async def test_a_big_feed_is_built_off_the_loop_and_cached(
    db: Database, clock: FrozenClock, mia: User
) -> None:
    """More new events than OFF_LOOP_EVENTS are built on a thread; the result is the same
    file as one built inline, and a second request reuses the events."""
    for number in range(calendar.OFF_LOOP_EVENTS + 5):
        await step_for(db, clock, mia, client=f"Client {number:03}", agenda=None)
    token = (await calendar.new_feed_link(db, clock, actor=mia)).token
    calendar.clear_caches()
    cold = await calendar.answer_feed(db, clock, token=token)
    calendar.clear_caches()
    original = calendar.OFF_LOOP_EVENTS
    calendar.OFF_LOOP_EVENTS = 10**9
    try:
        inline = await calendar.answer_feed(db, clock, token=token)
    finally:
        calendar.OFF_LOOP_EVENTS = original
    assert cold.body == inline.body
    assert len(parse(cold.body).events) == calendar.OFF_LOOP_EVENTS + 5
