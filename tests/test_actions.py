"""The declared button actions (bot/views/actions.py): each fits 64 bytes with the largest
values, no two claim the same data, and their words agree with what the handlers and the
services accept."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services import dates
from bot.services.model import ClientStatus, ContactKind, Role, StepKind
from bot.views import actions
from bot.views.callback_data import Action, Choice, Id, Number, Token
from handlers import clients, contacts, reminders
from handlers.refusals import DECLARED, by_prefix, declared

EVERY = [value for value in vars(actions).values() if isinstance(value, Action)]
BIGGEST_ID = 10**18 - 1


def largest(field: object) -> object:
    """The longest value a field can carry."""
    if isinstance(field, Id):
        return BIGGEST_ID
    if isinstance(field, Number):
        return field.high
    if isinstance(field, Choice):
        return max(field.values, key=len)
    assert isinstance(field, Token)
    pytest.skip("a token's longest value depends on its regex")


@pytest.mark.parametrize("action", EVERY, ids=repr)
def test_every_action_packs_its_largest_values_within_64_bytes(action: Action) -> None:
    """Packing checks the 64-byte limit itself; the data parses back to the same values."""
    values = [largest(field) for field in action.fields]
    data = action.pack(*values)
    assert action.parse(data) == tuple(values)


@settings(max_examples=300, deadline=None)
@given(data=st.sampled_from(EVERY).flatmap(lambda a: st.from_regex(a.pattern, fullmatch=True)))
def test_no_data_belongs_to_two_actions(data: str) -> None:
    """Whatever an action's pattern admits, no other action's pattern admits too."""
    claimed = [action for action in EVERY if action.pattern.match(data)]
    assert len(claimed) == 1, (data, claimed)


def test_the_words_are_the_enums_values() -> None:
    """The literal choices in actions.py follow the domain's enums."""
    assert set(actions.CONTACT_KINDS) == {kind.value for kind in ContactKind}
    assert set(actions.STEP_KINDS) == {kind.value for kind in StepKind}
    assert set(actions.CLIENT_STATUSES) == {status.value for status in ClientStatus}
    assert set(actions.ROLE_VALUES) == {role.value for role in Role}


def test_the_words_are_what_the_handlers_offer() -> None:
    """Each button a handler builds is one its action declares, and nothing more."""
    assert set(actions.EDITABLE_FIELDS) == set(clients.EDITABLE)
    assert set(actions.SKIPPABLE_FIELDS) == set(clients.OPTIONAL)
    assert set(actions.CONTACT_KINDS) == set(contacts.CONTACT_KINDS)
    assert set(actions.STEP_KINDS) == set(contacts.STEP_KINDS)
    assert set(actions.QUICK_DUE_CODES) == {code for _, code in contacts.QUICK_DUE}
    assert set(actions.SNOOZE_CODES) == {code for _, code in reminders.SNOOZES}
    assert set(actions.RESCHEDULE_CODES) == {code for _, code in reminders.QUICK}


@pytest.mark.parametrize(
    "code",
    sorted({*actions.QUICK_DUE_CODES, *actions.PAUSE_DUE_CODES, *actions.RESCHEDULE_CODES}),
)
def test_every_quick_due_code_is_one_the_service_reads(code: str) -> None:
    """A quick pick the button may carry never reaches "no longer available"."""
    now = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    assert dates.quick_due(code, now=now, timezone="Europe/London") > now


@pytest.mark.parametrize(
    ("action", "data", "values"),
    [
        (actions.NEXT_STEP_CHOICE, "ns:won:42", ("won", 42)),
        (actions.NEXT_STEP_CHOICE, "ns:nottarget:7", ("nottarget", 7)),
        (actions.NEXT_STEP_CHOICE, "ns:kind:7", None),
        (actions.NEXT_STEP_CHOICE, "ns:won:0", None),
        (actions.ACCESS_DECIDE, "acc:head:3", ("head", 3)),
        (actions.ACCESS_DECIDE, "acc:admin:3", None),
        (actions.TEAM_ACCESS, "team:off:1001", ("off", 1001)),
        (actions.TEAM_ACCESS, "team:page:1", None),
        (actions.TEAM_ROLE, "team:role:1001:head", (1001, "head")),
        (actions.TEAM_ROLE, "team:role:1001:boss", None),
        (actions.TEAM_PAGE, "team:page:0", (0,)),
        (actions.TEAM_PAGE, "team:page:01", None),
        (actions.CLIENT_PAGE, "cl:pg:999999", (999999,)),
        (actions.CLIENT_PAGE, "cl:pg:1000000", None),
        (actions.CLIENT_HISTORY, "cl:hist:5:2", (5, 2)),
        (actions.CLIENT_STATUS, "cl:st:5:active", (5, "active")),
        (actions.CLIENT_STATUS, "cl:st:5:deleted", None),
        (actions.CLIENT_EDIT_FIELD, "cl:ef:5:person", (5, "person")),
        (actions.CLIENT_EDIT_FIELD, "cl:ef:5:owner_id", None),
        (actions.NEW_CLIENT_SKIP, "nc:skip:phone", ("phone",)),
        (actions.NEW_CLIENT_SKIP, "nc:skip:name", None),  # the name is never skipped
        (actions.LOG_NEW, "log:new:5:meeting", (5, "meeting")),
        (actions.STEP_SNOOZE, "st:sz:9:1h", (9, "1h")),
        (actions.STEP_SNOOZE, "st:sz:9:2h", None),
        (actions.INVITE_ROLE, "inv:manager", ("manager",)),
        (actions.INVITE_ROLE, "inv:open", None),
        (actions.INVITE_LIST, "inv:open", ()),
        (actions.CLIENT_REASSIGN_TO, "cl:rto:5:123456789012", (5, 123456789012)),
    ],
)
def test_parses(action: Action, data: str, values: tuple[object, ...] | None) -> None:
    """Choices in the action's place, ranges and words are read typed, or refused."""
    assert action.parse(data) == values


def test_refusals_know_the_declared_prefixes_and_skip_the_rest() -> None:
    """Data is refused up front only for a prefix that has declared actions."""
    assert {"acc", "away", "cl", "nc", "log", "ns", "lg", "st", "inv", "team"} <= set(DECLARED)
    assert declared("cl:open:5")
    assert not declared("cl:open:0")
    assert not declared("cl:zap:1")
    registry = by_prefix([actions.CLIENT_OPEN])
    assert declared("zz:anything:at:all", registry)  # a feature not declared yet
    assert not declared("cl:back:5", registry)
