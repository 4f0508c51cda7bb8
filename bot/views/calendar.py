"""The calendar's texts and buttons: 📅 Add to calendar, /calendar's link and how-to, and the
event lengths under /settings."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.services.calendar import CalendarPrefs, FeedStatus
from bot.services.model import User
from bot.timefmt import format_moment
from bot.views.actions import (
    CALENDAR_CLIENT,
    CALENDAR_LENGTH,
    CALENDAR_LENGTHS,
    CALENDAR_NEW_LINK,
    CALENDAR_STEP,
    CALENDAR_TEAM,
)
from bot.views.keyboards import button, keyboard
from bot.views.render import escape

ADD_LABEL = "📅 Add to calendar"
NEW_LINK_LABEL = "🔄 New link"
LENGTH_CHOICES = {
    "call": (10, 15, 20, 30),
    "meeting": (30, 45, 60, 90),
    "other": (15, 30, 45, 60),
}
LENGTH_ICONS = {"call": "📞", "meeting": "🤝", "other": "📋"}

HOW_TO = (
    "<b>Google Calendar</b>: on a computer, open calendar.google.com, press ＋ next to "
    "“Other calendars”, choose “From URL”, paste the link and press “Add calendar”. It "
    "then shows on your phone too; Google refreshes it every few hours.\n"
    "<b>Apple Calendar</b>: on an iPhone, open Settings → Calendar → Accounts → Add Account "
    "→ Other → Add Subscribed Calendar and paste the link (on a Mac: File → New Calendar "
    "Subscription). Apple refreshes it as often as you choose there."
)


def add_button(step_id: int) -> InlineKeyboardButton:
    """📅 Add to calendar: the step's .ics file."""
    return button(ADD_LABEL, CALENDAR_STEP, step_id)


def client_add_button(client_id: int) -> InlineKeyboardButton:
    """📅 Add to calendar on a client card: all its open steps in one file."""
    return button(ADD_LABEL, CALENDAR_CLIENT, client_id)


def settings_button() -> InlineKeyboardButton:
    """The button on the /settings card that opens the event lengths."""
    return button("📅 Calendar events", CALENDAR_LENGTHS)


def _team_line(status: FeedStatus) -> str:
    if not status.may_include_team:
        return ""
    return (
        "\nAs a head or admin you can have the whole team's open steps in your feed too, "
        "each named with its manager; the button below says which it lists now.\n"
    )


def feed_keyboard(status: FeedStatus) -> InlineKeyboardMarkup | None:
    """🔄 New link, and for a lead the team option (saying what the feed lists now)."""
    rows = [[button(NEW_LINK_LABEL, CALENDAR_NEW_LINK)]]
    if status.may_include_team:
        if status.prefs.include_team:
            rows.append([button("👥 Team's steps: listed — list only mine", CALENDAR_TEAM, "off")])
        else:
            rows.append([button("👤 Only my steps — add the team's", CALENDAR_TEAM, "on")])
    return keyboard(rows)


def new_link_text(url: str, status: FeedStatus, *, revoked_old: bool) -> str:
    """The link (shown this once), what it lists, and how to subscribe to it."""
    old = "\nYour previous link has stopped working.\n" if revoked_old else ""
    return (
        "📅 <b>Your calendar link</b>\n"
        f"<code>{escape(url)}</code>\n"
        f"{old}"
        "It lists your open next steps from 30 days back to 180 days ahead and keeps up with "
        "every change. Keep it to yourself: anyone who has it sees those steps. It is shown "
        "only this once; 🔄 New link makes another and stops this one.\n"
        f"{_team_line(status)}\n"
        f"{HOW_TO}"
    )


def existing_link_text(status: FeedStatus, user: User) -> str:
    """A live link exists: it is never shown again (only its hash is kept)."""
    assert status.feed is not None
    made = format_moment(status.feed.created_at, user.timezone, user.locale)
    return (
        "📅 <b>Your calendar link</b>\n"
        f"You made your calendar link on {escape(made)}. For your safety it was shown only "
        "once. If you need it again, tap 🔄 New link: you get a fresh one and the old one "
        "stops working at once (calendars subscribed to it stop updating).\n"
        f"{_team_line(status)}\n"
        f"{HOW_TO}"
    )


FEED_OFF = (
    "📅 The calendar feed is switched off on this server (an admin set CALENDAR_PORT to 0). "
    "You can still put any step in your calendar with 📅 Add to calendar on its reminder, "
    "its confirmation or the client's card."
)


def lengths_text(prefs: CalendarPrefs, user: User) -> str:
    """How long each kind of step lasts in the calendar, and how to change it."""
    alarm = (
        f"{user.heads_up_minutes} minutes before it starts (your meeting heads-up)"
        if user.heads_up_minutes
        else "none (your meeting heads-up is off)"
    )
    return (
        "📅 <b>Calendar events</b>\n"
        "How long a step lasts in your calendar:\n"
        f"📞 Calls: {prefs.call_minutes} min\n"
        f"🤝 Meetings: {prefs.meeting_minutes} min\n"
        f"📋 Other steps (emails, visits, follow-ups): {prefs.other_minutes} min\n"
        f"Alarm: {alarm}.\n"
        "Tap a length, or send one like <code>call 20</code> or <code>meeting 1.5 h</code>. "
        "Events you already added change the next time you add them or your feed updates."
    )


def _current(prefs: CalendarPrefs, group: str) -> int:
    return {
        "call": prefs.call_minutes,
        "meeting": prefs.meeting_minutes,
        "other": prefs.other_minutes,
    }[group]


def lengths_keyboard(prefs: CalendarPrefs) -> InlineKeyboardMarkup | None:
    """A row per kind: its lengths, the current one ticked."""
    rows = []
    for group, choices in LENGTH_CHOICES.items():
        current = _current(prefs, group)
        rows.append(
            [
                button(
                    f"{'✅' if minutes == current else LENGTH_ICONS[group]} {minutes} min",
                    CALENDAR_LENGTH,
                    group,
                    minutes,
                )
                for minutes in choices
            ]
        )
    return keyboard(rows)
