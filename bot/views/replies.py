"""Buttons that offer a reply template one tap away (shared by handlers and jobs).

`suggestion_button(situation, client_id)` opens the situation's first template filled for the
client (`TEMPLATE_SUGGESTION` in bot/views/actions.py, `tp:s:<situation>:<client id>`, handled
in handlers/templates.py, which re-checks that the person may work with the client). Nothing
is ever sent by itself: the manager gets the text to copy or forward.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton

from bot.services.model import Contact, ContactKind, Outcome
from bot.views.actions import TEMPLATE_SUGGESTION
from bot.views.keyboards import button

# What the suggestion says, per situation (templates/replies/<lang>/situations.toml keys).
SUGGESTION_LABELS = {
    "follow_up_meeting": "✍️ Send a follow-up summary",
    "refusal": "✍️ Keep-the-door-open reply",
    "payment_thanks": "✍️ Thank the client for the payment",
    "payment_reminder": "✍️ Suggest a reminder to the client",
}
MEETING_KINDS = frozenset({ContactKind.MEETING, ContactKind.VISIT})


def suggestion_button(situation: str, client_id: int) -> InlineKeyboardButton:
    """A button opening the fitting template for a client, e.g. "payment_thanks"."""
    label = SUGGESTION_LABELS.get(situation, "✍️ Suggested reply")
    return button(label, TEMPLATE_SUGGESTION, situation, client_id)


def contact_suggestion(contact: Contact) -> InlineKeyboardButton | None:
    """After a logged contact: a refusal → keep the door open; a meeting → its summary."""
    if contact.outcome is Outcome.REFUSED:
        return suggestion_button("refusal", contact.client_id)
    if contact.kind in MEETING_KINDS and contact.outcome in (
        Outcome.SCHEDULED,
        Outcome.WON,
        Outcome.PAUSED,
    ):
        return suggestion_button("follow_up_meeting", contact.client_id)
    return None
