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


# --- away mode (away) ------------------------------------------------------------------------


# --- clients (cl) and the new-client flow (nc) ----------------------------------------------


# --- logging a contact (log), its next step (ns), undo and edit (lg) -------------------------


# --- scheduled steps and their reminders (st) ------------------------------------------------


# --- invitations (inv) -----------------------------------------------------------------------


# --- the team (team) -------------------------------------------------------------------------


# --- invoices and receivables (iv) -----------------------------------------------------------


# --- reply templates (tp) and the tact check (tc) --------------------------------------------


# --- the weekly digest (dg) ------------------------------------------------------------------


# --- settings (set) --------------------------------------------------------------------------
