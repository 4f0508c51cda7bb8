"""Telegram handlers, one module per feature; `register` adds them in a deliberate order."""

from __future__ import annotations

from telegram.ext import Application, BaseHandler, ConversationHandler

from handlers import (
    access,
    agenda,
    away,
    calendar,
    clients,
    contacts,
    digest,
    edits,
    fallback,
    invites,
    invoices,
    membership,
    plans,
    refusal_reasons,
    refusals,
    reminders,
    settings,
    start,
    team,
    templates,
)
from handlers.flow import Flow

# Order matters: group -1 holds the access gate; within group 0 the first matching handler
# wins, so conversations come before plain commands and the fallback comes last.
FEATURES = (
    refusals,  # group -2: audits every refused button press (handlers/refusals.py)
    access,
    edits,  # first in group 0: an edited message never reaches a command or a flow
    settings,
    contacts,
    clients,
    invoices,
    reminders,
    templates,
    start,
    invites,
    team,
    agenda,
    digest,
    plans,
    refusal_reasons,
    away,
    calendar,
    membership,
    fallback,
)


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add every feature's handlers to the application."""
    flows: list[Flow] = []
    for feature in FEATURES:
        for handler, group in feature.handlers():
            assert isinstance(handler, BaseHandler)
            assert not isinstance(handler, ConversationHandler) or isinstance(handler, Flow), (
                f"{handler!r}: every conversation is a Flow (one active question per person)"
            )
            if isinstance(handler, Flow):
                flows.append(handler)
            application.add_handler(handler, group=group)
    Flow.link(flows)
