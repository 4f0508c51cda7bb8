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

# The choices mirror the services' enums (Stage, ListView, TrustLevel) and the handlers'
# presets; tests/test_actions_iv_tp_dg_set.py keeps them in step.
INVOICE_CLIENT = Action("iv", "cl", Id())  # a client in the new invoice's picker
INVOICE_NEW = Action("iv", "new", Id())  # the client card's "Invoice"
INVOICE_ISSUED_TODAY = Action("iv", "iss", "today")
INVOICE_NET = Action("iv", "net", Choice("14", "30", "60"))  # due this many days after issue
INVOICE_SKIP_NOTES = Action("iv", "skip")
INVOICE_PAY = Action("iv", "pay", Id())  # "Record payment"
INVOICE_FULL_BALANCE = Action("iv", "full")
INVOICE_PAID_DAYS_AGO = Action("iv", "pd", Number(0, 1))  # today or yesterday
INVOICE_PROMISE = Action("iv", "prm", Id())  # "Promise to pay"
INVOICE_PROMISED_IN = Action("iv", "pr", Choice("1", "3", "7", "14"))  # days from today
INVOICE_OPEN = Action("iv", "open", Id())
INVOICE_SNOOZE = Action("iv", "snz", Id())
INVOICE_CANCEL = Action("iv", "cx", Id())  # asks first
INVOICE_CANCEL_CONFIRMED = Action("iv", "cxy", Id())
INVOICE_BACK = Action("iv", "back", Id())  # the card again, in place
INVOICE_SUGGEST = Action("iv", "sug", Id(), Choice("gentle", "firm", "final"))  # and its tone
INVOICE_THANKS = Action("iv", "thx", Id())
INVOICE_LIST = Action("iv", "ls", Choice("open", "overdue", "week", "paid"), Number(0, 99_999))
TRUST_MENU = Action("iv", "tr", Id())  # a client's trust level
TRUST_SET = Action("iv", "trs", Id(), Choice("good", "normal", "poor"))


# --- reply templates (tp) and the tact check (tc) --------------------------------------------


class IdOrNone(Id):
    """A positive database id, or 0 for none (a template opened without a client)."""

    regex = r"(?:0|[1-9][0-9]{0,17})"

    def read(self, text: str) -> int | None:
        """The id, 0, or None."""
        return 0 if text == "0" else super().read(text)


TEMPLATE_KEY = r"[a-z][a-z0-9_]{0,39}"  # a situation or template id: `refusal`, `co12`
TEMPLATES_HOME = Action("tp", "home", IdOrNone())  # the situations (client preselected or 0)
TEMPLATE_SITUATION = Action("tp", "sit", Token(TEMPLATE_KEY), IdOrNone())
TEMPLATE_OPEN = Action("tp", "t", Token(TEMPLATE_KEY), IdOrNone())  # fill it, or ask for whom
TEMPLATE_FOR_CLIENT = Action("tp", "c", Token(TEMPLATE_KEY), IdOrNone())  # picked (0: none)
TEMPLATE_VARIANT = Action("tp", "v", Token(TEMPLATE_KEY), IdOrNone())
TEMPLATE_SUGGESTION = Action("tp", "s", Token(TEMPLATE_KEY), Id())  # a situation, a client
TEMPLATE_ADD = Action("tp", "add")  # a company template (heads and admins)
TEMPLATE_ADD_SITUATION = Action("tp", "as", Token(TEMPLATE_KEY))
COMPANY_TEMPLATES = Action("tp", "list")
COMPANY_TEMPLATE = Action("tp", "co", Id())
COMPANY_TEMPLATE_EDIT = Action("tp", Choice("eb", "et"), Id())  # edit the text / rename
COMPANY_TEMPLATE_RETIRE = Action("tp", Choice("rt", "rty"), Id())  # ask / retire
TACT_CHECK = Action("tc", "check")  # "Check my wording": the next text is reviewed


# --- the weekly digest (dg) ------------------------------------------------------------------

HOUR_MINUTE = r"(?:[01][0-9]|2[0-3])[0-5][0-9]"  # a wall time as HHMM: 0730
DIGEST_SCOPE = Choice("t", "o")  # the team's digest, one's own week
DIGEST_PERIOD = Action("dg", DIGEST_SCOPE, Choice("this", "last"))
DIGEST_SCHEDULE = Action("dg", "cfg")  # the settings card's "Weekly digest"
DIGEST_DAY = Action("dg", "day", DIGEST_SCOPE, Number(0, 7))  # 1 Monday .. 7 Sunday, 0 off
DIGEST_TIME = Action("dg", "time", DIGEST_SCOPE, Token(HOUR_MINUTE))


# --- settings (set) --------------------------------------------------------------------------

SETTINGS_ASK = Action("set", Choice("ag", "wd", "qh", "hu"))  # offer that setting's choices
SETTINGS_TIMEZONES = Action("set", "tz")
SETTINGS_TIMEZONE = Action("set", "tz", Token(r"[A-Za-z][A-Za-z0-9_+\-/]{0,39}"))  # IANA name
SETTINGS_AGENDA_TIME = Action("set", "ag", Token(HOUR_MINUTE))
SETTINGS_WORKING_DAY = Action("set", "wd", Number(1, 7))  # switch a day on or off
SETTINGS_WORKING_DAYS_SAVE = Action("set", "wd", "save")
SETTINGS_QUIET_HOURS = Action("set", "qh", Token(rf"(?:off|{HOUR_MINUTE}-{HOUR_MINUTE})"))
SETTINGS_HEADS_UP = Action("set", "hu", Number(0, 24 * 60))  # minutes before a meeting
TEAM_THRESHOLDS = Action("set", "th")  # the team's overdue alert (heads and admins)
TEAM_THRESHOLD = Action("set", "th", Choice("0", "1000", "5000", "10000", "50000", "100000"))
