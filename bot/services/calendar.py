"""Next steps in the phone's calendar: one `.ics` file per step (or a client's open steps),
and a personal, revocable subscription feed of a person's open steps.

Events follow RFC 5545 and are written with the `icalendar` library:

- `UID` is stable per step (`step-<id>@nextstep`), so sending a step's file again after a
  snooze or reschedule updates the same event; `SEQUENCE` is the step's revision (its
  snoozes plus reschedules), one more for a cancelled step, whose file is `METHOD:CANCEL`.
- `DTSTART` is in UTC; the length depends on the kind (a call 15 min, a meeting 60, other
  steps 30; each person sets theirs); the alarm comes at the person's heads-up time.
- The description has the agenda, the contact person and the phone as a `tel:` link; never
  an invoice amount.

A feed is a secret link `<PUBLIC_URL>/calendar/<token>.ics`: a 192-bit token stored only as
its SHA-256, listing the open steps due from 30 days back to 180 days ahead (a lead may list
the team's). Its ETag comes from one aggregate query (`FeedFingerprint`), so a calendar
polling every few minutes costs one indexed read and a 304. Serialised events are cached by
everything they show, so a feed with thousands of steps is rebuilt from the few that changed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
import secrets
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from icalendar import Alarm, Calendar, Event

from bot.clock import Clock
from bot.services.errors import DomainError, NotAllowed
from bot.services.ownership import require_client
from bot.services.steps import get_step_view
from storage import audit, calendar_feeds, steps, users
from storage.calendar_feeds import (
    CalendarPrefs,
    CalendarRow,
    CalendarStep,
    Feed,
    FeedFingerprint,
)
from storage.db import Database
from storage.steps import StepKind, StepState
from storage.users import User

__all__ = [
    "CalendarFile",
    "CalendarPrefs",
    "FeedAnswer",
    "FeedStatus",
    "NewFeed",
    "answer_feed",
    "calendar_file",
    "client_file",
    "feed_status",
    "new_feed_link",
    "step_file",
]

TOKEN_BYTES = 24  # 192 bits; token_urlsafe gives 32 characters of A-Z a-z 0-9 _ -
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")
DAYS_BACK = 30
DAYS_AHEAD = 180
PRODID = "-//NextStep//Next steps//EN"
UID_DOMAIN = "nextstep"
REFRESH = dt.timedelta(minutes=15)  # what a feed suggests as its polling interval
FORMAT_VERSION = "1"  # part of every ETag: a change in how events are written shows at once
MIN_MINUTES, MAX_MINUTES = 5, 480
DURATION_GROUPS = ("call", "meeting", "other")
"""Which length a step's kind uses: calls, meetings, and everything else (email, visit,
follow-up) share the third."""
CONTENT_TYPE = "text/calendar; charset=utf-8"
OFF_LOOP_EVENTS = 200
"""A feed needing more new events than this builds them on a thread (a cold feed of 2,000
steps takes ~0.4 s of icalendar's time); fewer are built inline (~0.2 ms each)."""
EVENT_CACHE_SIZE = 50_000
FEED_CACHE_SIZE = 500

SUMMARY_WORDS = {
    StepKind.CALL: "Call",
    StepKind.MEETING: "Meeting",
    StepKind.EMAIL: "Email",
    StepKind.VISIT: "Visit",
    StepKind.OTHER: "Follow-up",
}


@dataclass(frozen=True, slots=True)
class CalendarFile:
    """An `.ics` file to send: its name, bytes and the caption naming what is in it."""

    filename: str
    content: bytes
    caption: str


@dataclass(frozen=True, slots=True)
class NewFeed:
    """A freshly made subscription link; the token is shown once and never stored."""

    token: str
    revoked_old: bool


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """What /calendar shows: whether a live link exists (since when) and the options."""

    feed: Feed | None
    prefs: CalendarPrefs
    may_include_team: bool


@dataclass(frozen=True, slots=True)
class FeedAnswer:
    """The HTTP answer for a feed request: 200 with a body, 304, or 404 (no hint why)."""

    status: int
    etag: str | None = None
    body: bytes = b""


NOT_FOUND = FeedAnswer(status=404, body=b"Not found.\n")


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a feed's token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- preferences ---------------------------------------------------------------------------


def minutes_for(kind: StepKind, prefs: CalendarPrefs) -> int:
    """How long a step of this kind lasts in the calendar."""
    if kind is StepKind.CALL:
        return prefs.call_minutes
    if kind is StepKind.MEETING:
        return prefs.meeting_minutes
    return prefs.other_minutes


async def get_prefs(db: Database, *, actor: User) -> CalendarPrefs:
    """The person's calendar preferences."""
    return await calendar_feeds.get_prefs(db, actor.telegram_id)


_TYPED_DURATION = re.compile(
    r"^\s*(?P<group>calls?|meetings?|others?|other steps?|emails?|visits?|follow-?ups?)"
    r"\s*[:=-]?\s*(?P<amount>\d+(?:[.,]\d+)?)\s*"
    r"(?P<unit>m|min|mins|minutes?|h|hr|hrs|hours?)?\s*$",
    re.IGNORECASE,
)


def parse_duration(text: str) -> tuple[str, int]:
    """A typed length such as `call 20`, `meetings 1.5 h` or `other: 45 min`, as (group,
    minutes); a DomainError saying what to send otherwise."""
    found = _TYPED_DURATION.match(text or "")
    if found is None:
        raise DomainError(
            "Please send the kind and the length, for example “call 20”, “meeting 90” or "
            "“other 1 h”."
        )
    word = found["group"].lower()
    group = "call" if word.startswith("call") else "meeting" if word.startswith("meet") else ""
    amount = float(found["amount"].replace(",", "."))
    unit = (found["unit"] or "m").lower()
    minutes = round(amount * 60) if unit.startswith("h") else round(amount)
    return group or "other", minutes


async def set_duration(
    db: Database, clock: Clock, *, actor: User, group: str, minutes: int
) -> CalendarPrefs:
    """Set how long calls, meetings or other steps last in the person's calendar (5 min to
    8 hours)."""
    if group not in DURATION_GROUPS:
        raise DomainError("That kind of step has no length of its own; choose another.")
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise DomainError(
            f"An event can last from {MIN_MINUTES} minutes to {MAX_MINUTES // 60} hours; "
            "please send another length."
        )
    now = clock.now()
    async with db.transaction() as tx:
        prefs = await calendar_feeds.get_prefs(tx, actor.telegram_id)
        if group == "call":
            changed = replace(prefs, call_minutes=minutes)
        elif group == "meeting":
            changed = replace(prefs, meeting_minutes=minutes)
        else:
            changed = replace(prefs, other_minutes=minutes)
        await calendar_feeds.save_prefs(tx, actor.telegram_id, changed, now=now)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="calendar.duration",
            now=now,
            object_type="user",
            object_id=actor.telegram_id,
            details={"kind": group, "minutes": minutes},
        )
    return changed


async def set_include_team(
    db: Database, clock: Clock, *, actor: User, include: bool
) -> CalendarPrefs:
    """A head's or admin's feed lists the whole team's open steps (or only their own)."""
    if not actor.is_lead:
        raise NotAllowed("Only a head of sales or an admin can add the team's steps to a feed.")
    now = clock.now()
    async with db.transaction() as tx:
        prefs = await calendar_feeds.get_prefs(tx, actor.telegram_id)
        changed = replace(prefs, include_team=include)
        await calendar_feeds.save_prefs(tx, actor.telegram_id, changed, now=now)
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="calendar.team",
            now=now,
            object_type="user",
            object_id=actor.telegram_id,
            details={"include_team": include},
        )
    return changed


# --- the feed link -------------------------------------------------------------------------


async def feed_status(db: Database, *, actor: User) -> FeedStatus:
    """The person's live link (if any) and feed options."""
    return FeedStatus(
        feed=await calendar_feeds.live_feed_of(db, actor.telegram_id),
        prefs=await calendar_feeds.get_prefs(db, actor.telegram_id),
        may_include_team=actor.is_lead,
    )


async def new_feed_link(db: Database, clock: Clock, *, actor: User) -> NewFeed:
    """Make the person a new secret link; their old one, if any, stops working at once."""
    if not actor.active:
        raise NotAllowed("Your access was switched off.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = clock.now()
    async with db.transaction() as tx:
        revoked = await calendar_feeds.revoke_for_user(tx, actor.telegram_id, now=now)
        feed = await calendar_feeds.insert_feed(
            tx, actor.telegram_id, token_hash=hash_token(token), now=now
        )
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="calendar.link",
            now=now,
            object_type="calendar_feed",
            object_id=feed.id,
            details={"revoked": revoked} if revoked else None,
        )
    return NewFeed(token=token, revoked_old=bool(revoked))


def feed_url(base_url: str, token: str) -> str:
    """The subscription link for a token under the server's public address."""
    return f"{base_url.rstrip('/')}/calendar/{token}.ics"


# --- events --------------------------------------------------------------------------------


def uid_of(step_id: int) -> str:
    """The event's UID: the same for a step however often its file is sent."""
    return f"step-{step_id}@{UID_DOMAIN}"


def summary_of(step: CalendarStep, *, with_manager: bool = False) -> str:
    """ "Call: Tundra Outdoor" (and whose step it is, in a lead's team feed)."""
    text = f"{SUMMARY_WORDS[step.kind]}: {step.client_name}"
    return f"{text} ({step.manager_name})" if with_manager else text


def description_of(step: CalendarStep, *, with_manager: bool = False) -> str:
    """The agenda, who to ask for and the phone (a `tel:` link phones let you tap)."""
    lines = []
    if step.agenda:
        lines.append(f"Agenda: {step.agenda}")
    if step.contact_person:
        lines.append(f"Contact person: {step.contact_person}")
    if step.phone:
        lines.append(f"Phone: tel:{step.phone}")
    if with_manager:
        lines.append(f"Manager: {step.manager_name}")
    lines.append("Scheduled in NextStep.")
    return "\n".join(lines)


def build_event(
    step: CalendarStep,
    *,
    minutes: int,
    alarm_minutes: int,
    with_manager: bool = False,
    cancelled: bool = False,
) -> Event:
    """One step as a VEVENT: UTC start, its length, an alarm `alarm_minutes` before (0:
    none), and for a cancelled step STATUS:CANCELLED with the next SEQUENCE."""
    event = Event()
    event.add("uid", uid_of(step.id))
    event.add("dtstamp", step.updated_at.astimezone(dt.UTC))
    event.add("last-modified", step.updated_at.astimezone(dt.UTC))
    event.add("dtstart", step.due_at.astimezone(dt.UTC))
    event.add("duration", dt.timedelta(minutes=minutes))
    event.add("sequence", step.revision + (1 if cancelled else 0))
    summary = summary_of(step, with_manager=with_manager)
    event.add("summary", summary)
    event.add("description", description_of(step, with_manager=with_manager))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if step.phone:
        event.add("url", f"tel:{step.phone}", parameters={"VALUE": "URI"})
    if alarm_minutes and not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", dt.timedelta(minutes=-alarm_minutes))
        event.add_component(alarm)
    return event


def _calendar(*, method: str | None = None, name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method is not None:
        calendar.add("method", method)
    if name is not None:
        calendar.add("name", name)
        calendar.add("x-wr-calname", name)
        calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", REFRESH)
    return calendar


def calendar_file(items: Sequence[CalendarStep], *, prefs: CalendarPrefs, owner: User) -> bytes:
    """A file with these steps' events for `owner` (their lengths and alarm). All cancelled
    (or replaced): METHOD:CANCEL, which removes the events; otherwise METHOD:PUBLISH with the
    open (and done) steps."""
    gone = [s for s in items if s.state in (StepState.CANCELLED, StepState.REPLACED)]
    cancel = bool(items) and len(gone) == len(items)
    calendar = _calendar(method="CANCEL" if cancel else "PUBLISH")
    for step in items if cancel else [s for s in items if s not in gone]:
        calendar.add_component(
            build_event(
                step,
                minutes=minutes_for(step.kind, prefs),
                alarm_minutes=owner.heads_up_minutes,
                with_manager=step.manager_id != owner.telegram_id,
                cancelled=cancel,
            )
        )
    return bytes(calendar.to_ical())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")


def _filename(step: CalendarStep, owner: User, *, several: bool = False) -> str:
    day = step.due_at.astimezone(dt.UTC).date().isoformat()
    client = _slug(step.client_name)
    if several:
        return f"{client or 'client'}-next-steps.ics"
    return "-".join(part for part in (step.kind.value, client, day) if part) + ".ics"


async def step_file(db: Database, clock: Clock, *, actor: User, step_id: int) -> CalendarFile:
    """A step's `.ics` file for a person who may act on its client (NotAllowed otherwise,
    audited): its event, or a cancellation if the step was cancelled or replaced."""
    view = await get_step_view(db, clock, actor=actor, step_id=step_id)
    found = await calendar_feeds.calendar_steps(db, [view.step.id])
    if not found:
        raise DomainError("That step no longer exists (the contact that set it was undone).")
    step = found[0]
    prefs = await calendar_feeds.get_prefs(db, actor.telegram_id)
    content = calendar_file(found, prefs=prefs, owner=actor)
    what = summary_of(step)
    if step.state in (StepState.CANCELLED, StepState.REPLACED):
        caption = (
            f"📅 {what}: this step was {step.state.value}. Open the file to remove it from "
            "your calendar."
        )
    else:
        caption = f"📅 {what}. Open the file to add it to your calendar (or update it there)."
    return CalendarFile(_filename(step, actor), content, caption)


async def client_file(db: Database, clock: Clock, *, actor: User, client_id: int) -> CalendarFile:
    """The client's open steps in one `.ics` file (a calendar adds each event)."""
    client = await require_client(
        db, clock, actor=actor, client_id=client_id, attempted="calendar"
    )
    open_ids = [s.id for s in await steps.open_steps_for_client(db, client.id)]
    found = await calendar_feeds.calendar_steps(db, open_ids)
    if not found:
        raise DomainError(f"{client.name} has no open step to add to a calendar.")
    prefs = await calendar_feeds.get_prefs(db, actor.telegram_id)
    content = calendar_file(found, prefs=prefs, owner=actor)
    if len(found) == 1:
        caption = f"📅 {summary_of(found[0])}. Open the file to add it to your calendar."
        return CalendarFile(_filename(found[0], actor), content, caption)
    caption = (
        f"📅 {client.name}: {len(found)} open steps. Open the file to add them to your calendar."
    )
    return CalendarFile(_filename(found[0], actor, several=True), content, caption)


# --- the feed ------------------------------------------------------------------------------


class _Lru(OrderedDict[object, object]):
    """A small least-recently-used map."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def take(self, key: object) -> object | None:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def keep(self, key: object, value: object) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


_events = _Lru(EVENT_CACHE_SIZE)
"""Serialised VEVENTs by everything they show (the step row, length, alarm, manager shown)."""
_feeds = _Lru(FEED_CACHE_SIZE)
"""Feed id -> (ETag, body) of its latest answer."""


def clear_caches() -> None:
    """Forget every cached event and feed body (benchmarks measure cold builds with it)."""
    _events.clear()
    _feeds.clear()


def feed_window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the steps a feed lists: from 30 days back to 180 days ahead, by whole
    UTC days (so the list, and its ETag, only move with time once a day)."""
    today = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - dt.timedelta(days=DAYS_BACK), today + dt.timedelta(days=DAYS_AHEAD + 1)


def _etag(
    owner: User,
    prefs: CalendarPrefs,
    team: bool,
    window: tuple[dt.datetime, dt.datetime],
    fingerprint: FeedFingerprint,
) -> str:
    parts = (
        FORMAT_VERSION,
        owner.telegram_id,
        owner.name,
        owner.heads_up_minutes,
        prefs,
        team,
        window[0].isoformat(),
        fingerprint,
    )
    return '"' + hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names this ETag (weak or strong, in a list, or *)."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        value = candidate.strip()
        if value == "*" or value.removeprefix("W/") == etag:
            return True
    return False


def _event_bytes(row: CalendarRow, minutes: int, alarm: int, with_manager: bool) -> bytes:
    step = calendar_feeds.calendar_step(row)
    event = build_event(step, minutes=minutes, alarm_minutes=alarm, with_manager=with_manager)
    return bytes(event.to_ical())


def _build_events(jobs: Iterable[tuple[CalendarRow, int, int, bool]]) -> list[bytes]:
    return [_event_bytes(*job) for job in jobs]


async def _feed_body(owner: User, prefs: CalendarPrefs, rows: list[CalendarRow]) -> bytes:
    """The feed: header and footer by icalendar, events from the cache or built now (rows
    whose event is cached are never decoded)."""
    lengths = {
        StepKind.CALL.value: prefs.call_minutes,
        StepKind.MEETING.value: prefs.meeting_minutes,
    }
    me, heads_up = owner.telegram_id, owner.heads_up_minutes
    keys = []
    for row in rows:
        mine = row[7] == me  # the step's manager (CalendarRow's order)
        minutes = lengths.get(row[1], prefs.other_minutes)  # its kind
        keys.append((row, minutes, heads_up if mine else 0, not mine))  # no alarms for others'
    missing = [key for key in keys if key not in _events]
    if len(missing) > OFF_LOOP_EVENTS:
        built = await asyncio.to_thread(_build_events, missing)
    else:
        built = _build_events(missing)
    for key, value in zip(missing, built, strict=True):
        _events.keep(key, value)
    events = [_events.take(key) for key in keys]
    name = f"NextStep: {owner.name}"
    head = bytes(_calendar(name=name).to_ical())
    end = b"END:VCALENDAR\r\n"
    assert head.endswith(end)
    return head[: -len(end)] + b"".join(e for e in events if isinstance(e, bytes)) + end


async def answer_feed(
    db: Database, clock: Clock, *, token: str, if_none_match: str | None = None
) -> FeedAnswer:
    """The answer to `GET /calendar/<token>.ics`: the person's open steps, 304 when the
    caller's ETag is current, 404 for a malformed, unknown or revoked token or a person
    whose access was switched off (the same 404 in each case)."""
    if not TOKEN_PATTERN.fullmatch(token):
        return NOT_FOUND
    feed = await calendar_feeds.find_live_feed(db, hash_token(token))
    if feed is None:
        return NOT_FOUND
    owner = await users.get_user(db, feed.user_id)
    if owner is None or not owner.active:
        return NOT_FOUND
    prefs = await calendar_feeds.get_prefs(db, owner.telegram_id)
    team = prefs.include_team and owner.is_lead
    manager = None if team else owner.telegram_id
    window = feed_window(clock.now())
    fingerprint = await calendar_feeds.fingerprint_between(
        db, manager, start=window[0], end=window[1]
    )
    etag = _etag(owner, prefs, team, window, fingerprint)
    if etag_matches(if_none_match, etag):
        return FeedAnswer(status=304, etag=etag)
    cached = _feeds.take(feed.id)
    if isinstance(cached, tuple) and cached[0] == etag:
        return FeedAnswer(status=200, etag=etag, body=cached[1])
    rows = await calendar_feeds.open_step_rows_between(db, manager, start=window[0], end=window[1])
    body = await _feed_body(owner, prefs, rows)
    _feeds.keep(feed.id, (etag, body))
    return FeedAnswer(status=200, etag=etag, body=body)
