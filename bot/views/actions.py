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
CLIENT_LANGUAGE_MENU = Action("cl", "lgm", Id())
"""The languages a client can be written to in, as buttons."""
CLIENT_LANGUAGE = Action("cl", "lg", Id(), Choice("en", "ru", "hi", "gu", "mgr"))
"""Write to the client in that language ("mgr": their manager's)."""
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
PAUSE_DUE_CODES = ("1m", "3m", "6m")

LOG_NEW = Action("log", "new", Id(), CONTACT_KIND)
"""Log a contact of that kind with the client (from the card)."""
LOG_CLIENT = Action("log", "cl", Id())
"""The client picked while logging."""
LOG_KIND = Action("log", "kind", CONTACT_KIND)
"""The kind picked while logging."""
LOG_WHEN = Action("log", "when")
"""“It was earlier”: ask for the time of the contact."""
LOG_NEW_CLIENT = Action("log", "nc", Choice("make", "rename"))
"""➕ New client (the name the person typed, kept in the flow), or type another name."""
LOG_COMPLETES = Action("log", "done", Id(), Number(0, 999_999_999))
"""The open step of the client this contact completed (contact id, step id; 0: none)."""

NEXT_STEP_CHOICE = Action("ns", Choice(*NEXT_STEP_OPTIONS), Id())
"""One of the ways a contact ends (or the menu of them), for that contact."""
NEXT_STEP_KIND = Action("ns", "kind", Choice(*STEP_KINDS))
"""The follow-up's kind."""
NEXT_STEP_DUE = Action("ns", "due", Choice(*QUICK_DUE_CODES, *PAUSE_DUE_CODES, "pick"))
"""A quick due time, or “Pick a date” (type it)."""
NEXT_STEP_CONFIRM = Action("ns", "ok", Choice("due", "change", "close"))
"""Confirm or change the echoed due time."""
NEXT_STEP_NO_AGENDA = Action("ns", "agenda", "skip")
"""No agenda for the follow-up."""
NEXT_STEP_REPLACE = Action("ns", "replace", Id())
"""The client's other open step nearby gives way to this contact's."""
NEXT_STEP_OTHERS = Action("ns", "oth", Choice("keep", "drop"), Id())
"""The client's other open steps: kept (“Keep both”, “Keep them”) or cancelled for a pause."""
NEXT_STEP_BACK = Action("ns", "back", Id())
"""“Choose another next step”."""
REFUSAL_PRESETS = ("price", "timing", "competitor", "no_need", "no_budget", "quality", "other")
NEXT_STEP_REFUSAL = Action("ns", "why", Choice(*REFUSAL_PRESETS), Id())
"""Why the client refused: a preset reason (“other”: type it), for that contact."""

LOGGED_EDIT = Action("lg", "edit", Id())
"""Correct a just-logged contact's summary."""
LOGGED_UNDO = Action("lg", "undo", Id())
"""Undo a just-logged contact."""
LOGGED_AGENDA = Action("lg", "agenda", Id())
"""Add an agenda to the step a just-logged contact set (step id)."""


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
# The summary's drill-down: each button names its ISO week, so a press on an old week's
# message still shows that week. Every handler re-checks who may see what: a head or admin
# the team, a manager only their own week.
DIGEST_WEEK = Token(r"[0-9]{4}-W[0-9]{2}")  # 2026-W48
DIGEST_PAGES = Number(0, 9_999)  # a page of the managers' buttons
DIGEST_SUMMARY = Action("dg", "sum", DIGEST_WEEK, DIGEST_PAGES)  # « Summary / another page
DIGEST_SECTIONS = ("rcv", "dsc")  # Receivables, Discipline
DIGEST_SECTION = Action("dg", "sec", Choice(*DIGEST_SECTIONS), DIGEST_WEEK)
DIGEST_PERSON = Action("dg", "mgr", DIGEST_WEEK, Id(), DIGEST_PAGES)  # a manager's week
DIGEST_CHART = Action("dg", "chart", DIGEST_WEEK)  # the chart, drawn when pressed
DIGEST_FILE = Action("dg", "xlsx", DIGEST_SCOPE, DIGEST_WEEK)  # the spreadsheet, on request


# --- settings (set) --------------------------------------------------------------------------

SETTINGS_ASK = Action("set", Choice("ag", "wd", "qh", "hu"))  # offer that setting's choices
SETTINGS_TIMEZONES = Action("set", "tz")
SETTINGS_TIMEZONE = Action("set", "tz", Token(r"[A-Za-z][A-Za-z0-9_+\-/]{0,39}"))  # IANA name
SETTINGS_AGENDA_TIME = Action("set", "ag", Token(HOUR_MINUTE))
SETTINGS_WORKING_DAY = Action("set", "wd", Number(1, 7))  # switch a day on or off
SETTINGS_WORKING_DAYS_SAVE = Action("set", "wd", "save")
SETTINGS_QUIET_HOURS = Action("set", "qh", Token(rf"(?:off|{HOUR_MINUTE}-{HOUR_MINUTE})"))
SETTINGS_LANGUAGES = Action("set", "lang")  # offer the languages
SETTINGS_LANGUAGE = Action("set", "lang", Choice("en", "ru", "hi", "gu"))  # i18n.LOCALES
TEAM_LANGUAGES = Action("set", "tlang")  # the team's language for new people (leads)
TEAM_LANGUAGE = Action("set", "tlang", Choice("en", "ru", "hi", "gu"))
SETTINGS_HEADS_UP = Action("set", "hu", Number(0, 24 * 60))  # minutes before a meeting
TEAM_THRESHOLDS = Action("set", "th")  # the team's overdue alert (heads and admins)
TEAM_THRESHOLD = Action("set", "th", Choice("0", "1000", "5000", "10000", "50000", "100000"))
TEAM_REGIONS = Action("set", "pr")  # the team's phone region (admins change it, heads see it)
TEAM_REGION = Action("set", "pr", Token(r"[A-Z]{2}"))  # a region code, checked by the service


# --- plans (pl) and the refusals report (rf) -------------------------------------------------

MONTH = Token(r"[0-9]{4}-(?:0[1-9]|1[0-2])")  # 2026-11
PLAN_METRICS = ("contacts", "meetings", "new_clients", "won", "collected")  # plans.Metric
PLAN_PERSON = Action("pl", "p", Id(), MONTH)  # a manager's plan and progress
PLAN_TEAM = Action("pl", "team", MONTH)  # the team's plans (heads and admins)
PLAN_NEW = Action("pl", "new", IdOrNone(), MONTH)  # set a plan (a manager, or 0: choose)
PLAN_WHO = Action("pl", "who", IdOrNone())  # the manager whose plan is set (0: the team)
PLAN_MONTH = Action("pl", "mo", MONTH)  # the month it is set for
PLAN_METRIC = Action("pl", "m", Choice(*PLAN_METRICS))  # which target to set next
PLAN_VALUE = Action("pl", "v", Number(0, 100_000))  # a quick number for it (0: remove it)
PLAN_SAVE = Action("pl", "save")  # store the plan as shown

REFUSALS_HOME = Action("rf", "home", MONTH)  # the month's refusals by reason
REFUSALS_REASON = Action("rf", "r", MONTH, Choice(*REFUSAL_PRESETS))  # one reason's clients

# --- the calendar (cal) ----------------------------------------------------------------------

CALENDAR_GROUPS = ("call", "meeting", "other")  # bot/services/calendar.py DURATION_GROUPS
CALENDAR_STEP = Action("cal", "st", Id())
"""📅 Add to calendar: the step's .ics file (its event, or its cancellation)."""
CALENDAR_CLIENT = Action("cal", "cl", Id())
"""📅 Add to calendar on a client card: the client's open steps in one .ics file."""
CALENDAR_NEW_LINK = Action("cal", "new")
"""🔄 New link: a fresh feed link; the old one stops working at once."""
CALENDAR_TEAM = Action("cal", "team", Choice("on", "off"))
"""A lead's feed lists the team's open steps too (on) or only their own (off)."""
CALENDAR_LENGTHS = Action("cal", "len")
"""The settings card's 📅 Calendar events: how long each kind of step lasts."""
CALENDAR_LENGTH = Action("cal", "len", Choice(*CALENDAR_GROUPS), Number(5, 480))
"""That kind of step lasts that many minutes in the calendar."""
