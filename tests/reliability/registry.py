"""What the running Application has registered, found at test time (not a hard-coded list).

Features added later are covered by the reliability tests as soon as they are registered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    InlineQueryHandler,
)


@dataclass(frozen=True)
class Registered:
    """One handler, the group it is in and the conversation (and state) holding it, if any."""

    handler: BaseHandler  # type: ignore[type-arg]
    group: int
    conversation: str | None = None
    state: object = None  # a state key, "entry" or "fallback"


def registered(application: Application) -> Iterator[Registered]:  # type: ignore[type-arg]
    """Every handler, conversations opened up (entry points, states, fallbacks)."""
    for group, handlers in sorted(application.handlers.items()):
        for handler in handlers:
            yield from _open(handler, group, None, None)


def _open(
    handler: BaseHandler,  # type: ignore[type-arg]
    group: int,
    conversation: str | None,
    state: object,
) -> Iterator[Registered]:
    if isinstance(handler, ConversationHandler):
        name = handler.name or repr(handler)
        for inner in handler.entry_points:
            yield from _open(inner, group, name, "entry")
        for key, inners in handler.states.items():
            for inner in inners:
                yield from _open(inner, group, name, key)
        for inner in handler.fallbacks:
            yield from _open(inner, group, name, "fallback")
        return
    yield Registered(handler, group, conversation, state)


def commands(application: Application) -> list[str]:  # type: ignore[type-arg]
    """Every command name some handler answers, sorted."""
    found: set[str] = set()
    for item in registered(application):
        if isinstance(item.handler, CommandHandler):
            found |= set(item.handler.commands)
    return sorted(found)


def callback_patterns(application: Application) -> list[re.Pattern[str]]:  # type: ignore[type-arg]
    """Every distinct callback-data pattern (compiled), in registration order."""
    found: dict[str, re.Pattern[str]] = {}
    for item in registered(application):
        handler = item.handler
        if isinstance(handler, CallbackQueryHandler) and isinstance(handler.pattern, re.Pattern):
            found.setdefault(handler.pattern.pattern, handler.pattern)
    return list(found.values())


def has_inline_mode(application: Application) -> bool:  # type: ignore[type-arg]
    """Whether some handler answers inline queries."""
    return any(isinstance(item.handler, InlineQueryHandler) for item in registered(application))
