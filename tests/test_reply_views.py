"""The suggestion buttons: which template is offered after which contact."""

from __future__ import annotations

import dataclasses

import pytest

from bot.devtools.samples import sample_contact
from bot.views.callback_data import MAX_BYTES
from bot.views.replies import contact_suggestion, suggestion_button
from storage.contacts import ContactKind, Outcome


@pytest.mark.parametrize(
    ("kind", "outcome", "expected"),
    [
        (ContactKind.CALL, Outcome.REFUSED, "tp:s:refusal:1"),
        (ContactKind.MEETING, Outcome.REFUSED, "tp:s:refusal:1"),
        (ContactKind.MEETING, Outcome.SCHEDULED, "tp:s:follow_up_meeting:1"),
        (ContactKind.VISIT, Outcome.WON, "tp:s:follow_up_meeting:1"),
        (ContactKind.CALL, Outcome.SCHEDULED, None),
        (ContactKind.MEETING, Outcome.NOT_TARGET, None),
    ],
)
def test_contact_suggestion(kind: ContactKind, outcome: Outcome, expected: str | None) -> None:
    contact = dataclasses.replace(sample_contact(outcome), kind=kind)
    found = contact_suggestion(contact)
    assert (found.callback_data if found else None) == expected


def test_suggestion_button_fits_callback_data() -> None:
    found = suggestion_button("payment_thanks", 10**17)
    assert found.text == "✍️ Thank the client for the payment"
    assert len(str(found.callback_data).encode()) <= MAX_BYTES
