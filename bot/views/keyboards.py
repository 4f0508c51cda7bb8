"""Inline keyboard builders; every button's data goes through the 64-byte codec."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.views.callback_data import Action


def button(label: str, action: Action, *values: object) -> InlineKeyboardButton:
    """A button that sends `action`'s data with these values back to the bot (the action is
    declared in bot/views/actions.py; packing checks its fields and the 64 bytes)."""
    return InlineKeyboardButton(label, callback_data=action.pack(*values))


def url_button(label: str, url: str) -> InlineKeyboardButton:
    """A button that opens a link."""
    return InlineKeyboardButton(label, url=url)


def keyboard(rows: Iterable[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup | None:
    """Markup from rows of buttons (empty rows are dropped); None when there is no button."""
    kept = [list(row) for row in rows if row]
    return InlineKeyboardMarkup(kept) if kept else None


def grid(
    buttons: Sequence[InlineKeyboardButton], columns: int
) -> list[list[InlineKeyboardButton]]:
    """Lay buttons out `columns` per row."""
    return [list(buttons[i : i + columns]) for i in range(0, len(buttons), columns)]
