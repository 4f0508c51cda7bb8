"""Every button's action, declared once: its words, its typed fields, its packing within 64
bytes, its parsing as untrusted input and the pattern its handler is registered with
(bot/views/callback_data.py). Buttons are built with `button(label, ACTION, *values)`;
handlers register `CallbackQueryHandler(callback, pattern=ACTION.pattern)` and read the
values with `ACTION.parse(query.data)`. One section per feature prefix.
"""

from __future__ import annotations

from bot.views.callback_data import Action, Choice, Id, Number, Token

__all__ = ["Action", "Choice", "Id", "Number", "Token"]


# --- access requests (acc) -------------------------------------------------------------------

ACCESS_DECISIONS = ("mgr", "head", "no")
ACCESS_DECIDE = Action("acc", Choice(*ACCESS_DECISIONS), Id())
"""A lead on an access request: approve as manager or head, or decline (request id)."""


# --- away mode (away) ------------------------------------------------------------------------

AWAY_BACK = Action("away", "back")
"""“I'm back”: away mode ends now."""


# --- clients (cl) and the new-client flow (nc) ----------------------------------------------

CLIENT_PAGES = Number(0, 999_999)
CLIENT_STATUSES = ("prospect", "active", "inactive")  # ClientStatus
EDITABLE_FIELDS = ("name", "person", "phone", "email", "tags")
SKIPPABLE_FIELDS = ("contact_person", "phone", "email", "tags")

CLIENT_OPEN = Action("cl", "open", Id())
"""A client's card, as a new message."""
CLIENT_BACK = Action("cl", "back", Id())
"""Back to the card, in place (from Edit, Notes, History)."""
CLIENT_PAGE = Action("cl", "pg", CLIENT_PAGES)
"""Another page of the last /clients search."""
CLIENT_EDIT = Action("cl", "edit", Id())
"""Which field of the client to change."""
CLIENT_EDIT_FIELD = Action("cl", "ef", Id(), Choice(*EDITABLE_FIELDS))
"""Ask for a new value of one text field."""
CLIENT_STATUS_MENU = Action("cl", "stm", Id())
"""Prospect / active / inactive as buttons."""
CLIENT_STATUS = Action("cl", "st", Id(), Choice(*CLIENT_STATUSES))
"""Set the client's status."""
CLIENT_NOTES = Action("cl", "notes", Id())
"""The client's notes."""
CLIENT_NOTE = Action("cl", "note", Id())
"""Ask for a note to add."""
CLIENT_HISTORY = Action("cl", "hist", Id(), CLIENT_PAGES)
"""A page of the client's contacts, the latest first."""
CLIENT_REASSIGN = Action("cl", "rsg", Id(), CLIENT_PAGES)
"""A page of the people who could take the client over."""
CLIENT_REASSIGN_TO = Action("cl", "rto", Id(), Id())
"""Hand the client to that person (client id, new owner's Telegram id)."""

NEW_CLIENT_SKIP = Action("nc", "skip", Choice(*SKIPPABLE_FIELDS))
"""Leave the field being asked for empty."""
NEW_CLIENT_DUPLICATE = Action("nc", "dup")
"""“Create anyway” after a duplicate name."""
NEW_CLIENT_CLEAR = Action("nc", "clear")
"""Empty the optional field being edited."""


# --- logging a contact (log), its next step (ns), undo and edit (lg) -------------------------

CONTACT_KINDS = ("call", "meeting", "email", "message", "visit")  # ContactKind
STEP_KINDS = ("call", "meeting", "email", "visit", "other")  # StepKind
CONTACT_KIND = Choice(*CONTACT_KINDS)
NEXT_STEP_OPTIONS = ("menu", "follow", "won", "refused", "nottarget", "pause")
QUICK_DUE_CODES = ("2h", "tom10", "3d", "mon")

LOG_NEW = Action("log", "new", Id(), CONTACT_KIND)
"""Log a contact of that kind with the client (from the card)."""
LOG_CLIENT = Action("log", "cl", Id())
"""The client picked while logging."""
LOG_KIND = Action("log", "kind", CONTACT_KIND)
"""The kind picked while logging."""
LOG_WHEN = Action("log", "when")
"""“It was earlier”: ask for the time of the contact."""

NEXT_STEP_CHOICE = Action("ns", Choice(*NEXT_STEP_OPTIONS), Id())
"""One of the ways a contact ends (or the menu of them), for that contact."""
NEXT_STEP_KIND = Action("ns", "kind", Choice(*STEP_KINDS))
"""The follow-up's kind."""
NEXT_STEP_DUE = Action("ns", "due", Choice(*QUICK_DUE_CODES, "pick"))
"""A quick due time, or “Pick a date” (type it)."""
NEXT_STEP_CONFIRM = Action("ns", "ok", Choice("due", "change"))
"""Confirm or change the echoed due time."""
NEXT_STEP_NO_AGENDA = Action("ns", "agenda", "skip")
"""No agenda for the follow-up."""
NEXT_STEP_REPLACE = Action("ns", "replace", Id())
"""The client's other open step gives way to this contact's."""
NEXT_STEP_BACK = Action("ns", "back", Id())
"""“Choose another next step”."""

LOGGED_EDIT = Action("lg", "edit", Id())
"""Correct a just-logged contact's summary."""
LOGGED_UNDO = Action("lg", "undo", Id())
"""Undo a just-logged contact."""


# --- scheduled steps and their reminders (st) ------------------------------------------------

SNOOZE_CODES = ("15m", "1h", "tomorrow")
RESCHEDULE_CODES = ("tom10", "3d", "mon")

STEP_OPEN = Action("st", "open", Id())
"""A step's card with its actions."""
STEP_DONE = Action("st", "done", Id())
"""“Done — log it”: log the contact that completes the step."""
STEP_SNOOZE_MENU = Action("st", "snz", Id())
"""Offer the snooze lengths."""
STEP_SNOOZE = Action("st", "sz", Id(), Choice(*SNOOZE_CODES))
"""Snooze the step for that long."""
STEP_RESCHEDULE = Action("st", "rs", Id())
"""Ask for the step's new due time."""
STEP_RESCHEDULE_QUICK = Action("st", "rq", Id(), Choice(*RESCHEDULE_CODES))
"""A quick new due time."""
STEP_CANCEL = Action("st", "cx", Id())
"""Cancel the step (a reason is asked first)."""


# --- invitations (inv) -----------------------------------------------------------------------

ROLE_VALUES = ("admin", "head", "manager")  # Role
ROLE_CHOICE = Choice(*ROLE_VALUES)

INVITE_ROLE = Action("inv", ROLE_CHOICE)
"""Make a one-time invitation link for that role."""
INVITE_LIST = Action("inv", "open")
"""The open invitations."""
INVITE_REVOKE = Action("inv", "rev", Id())
"""Revoke that invitation."""


# --- the team (team) -------------------------------------------------------------------------

TEAM_PAGE = Action("team", "page", Number(0, 999_999))
"""A page of /team."""
TEAM_OPEN = Action("team", "open", Id())
"""A person's card (Telegram id)."""
TEAM_ROLE = Action("team", "role", Id(), ROLE_CHOICE)
"""An admin gives the person that role."""
TEAM_ACCESS = Action("team", Choice("on", "off"), Id())
"""An admin switches the person's access on or off."""


# --- invoices and receivables (iv) -----------------------------------------------------------


# --- reply templates (tp) and the tact check (tc) --------------------------------------------


# --- the weekly digest (dg) ------------------------------------------------------------------


# --- settings (set) --------------------------------------------------------------------------
