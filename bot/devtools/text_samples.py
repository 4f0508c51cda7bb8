"""Sample contexts for every bot-text template, so `check` and the tests render each one."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from bot.devtools.digest_samples import digest_samples
from bot.devtools.invoice_samples import invoice_samples, sample_user
from bot.devtools.plan_samples import plan_samples, sample_plans
from bot.devtools.samples import (
    NOW,
    TRICKY,
    sample_agendas,
    sample_contact,
    sample_notices,
    sample_step,
    sample_step_views,
    sample_summaries,
)
from bot.services.clients import ClientCard, ImportIssue, ImportStop
from bot.services.replies.tact import review
from bot.timefmt import format_moment
from bot.views.plans import plan_line
from bot.views.role_commands import commands_for
from storage.clients import Client, ClientListItem, ClientStatus
from storage.contacts import Outcome
from storage.users import Role

SAMPLE_CONTEXTS: dict[str, list[dict[str, Any]]] = {
    "texts/help.html.j2": [
        {
            "greeting": greeting,
            "role": role.value,
            "role_label": role.value,
            "commands": [(c.name, c.description) for c in commands_for(role)],
            "timezone": "Europe/Berlin",
        }
        for role in Role
        for greeting in (None, "Hello <Ann>!")
    ],
    "texts/invite_only.html.j2": [{"state": s} for s in ("created", "pending", "nobody")],
    "texts/access_request.html.j2": [
        {"name": "Ann <b>", "username": "ann", "telegram_id": 42},
        {"name": "Bo", "username": None, "telegram_id": 43},
    ],
    "texts/contact_logged.html.j2": [
        {"s": summary, "tz": "Europe/London", "locale": "en", "fmt": format_moment}
        for summary in sample_summaries()
    ],
    "texts/agenda.html.j2": [
        {
            "a": agenda,
            "title": "Your agenda",
            "detail": detail,
            "fmt_time": str,
            "fmt_day_of": str,
            "fmt_clock": str,
            "fmt_date": str,
            "ago": str,
            "plan_line": plan,
        }
        for agenda in sample_agendas()
        for detail in (False, True)
        for plan in (None, plan_line(sample_plans()[0], sample_user()))
    ],
}


# --- Clients (handlers/clients.py) -----------------------------------------------------------


def _sample_client(*, full: bool) -> Client:
    """A client with every field set (`full`), or only its name."""
    return Client(
        id=7,
        owner_id=1,
        name=TRICKY,
        contact_person="Ivan <Petrov>" if full else None,
        phone_e164="+442079460958" if full else None,
        email="ivan@acme.test" if full else None,
        tags=("vip", "<retail>") if full else (),
        status=ClientStatus.ACTIVE if full else ClientStatus.PROSPECT,
        notes="2026-11-20: Prefers calls after 15:00 & <no> e-mails" if full else None,
        last_contact_at=NOW if full else None,
        created_at=NOW,
        updated_at=NOW,
        language="ru" if full else None,
    )


def _client_samples() -> dict[str, list[dict[str, Any]]]:
    """Contexts for the client card, list, history, notes and the import report."""
    outcomes = {outcome.value: outcome.value for outcome in Outcome}
    contacts = [sample_contact(outcome) for outcome in (*Outcome, None)]
    cards = [
        ClientCard(_sample_client(full=True), "Mia <M>", contacts[:3], [sample_step()]),
        ClientCard(_sample_client(full=False), "Mia", [], []),
        ClientCard(  # several open steps, one a pause's check-back
            _sample_client(full=True),
            "Mia",
            contacts[:1],
            [sample_step(), *(replace(sample_step(), id=n) for n in range(2, 8))],
            pause_step_ids=frozenset({3}),
        ),
    ]
    overdue = sample_step().due_at + dt.timedelta(days=2)  # a `now` past the step's due time
    issues = [ImportIssue(3, TRICKY, "already exists"), ImportIssue(4, "", "“x” <bad>")]
    return {
        "texts/client_card.html.j2": [
            {
                "c": card,
                "now": now,
                "notice": notice,
                "show_owner": lead,
                "outcomes": outcomes,
                "phone": str,
                "language_names": {"ru": "Русский"},
                "fmt": str,
                "ago": str,
            }
            for card in cards
            for now, notice, lead in ((NOW, None, False), (overdue, "✅ <Saved>", True))
        ],
        "texts/client_list.html.j2": [
            {
                "items": [
                    ClientListItem(_sample_client(full=f), "Mia <M>") for f in (True, False)
                ],
                "offset": 8,
                "query": query,
                "page": 1,
                "paged": paged,
                "show_owner": lead,
                "fmt_day": str,
            }
            for query, paged, lead in (("", False, False), ("ёлка <b>", True, True))
        ],
        "texts/client_history.html.j2": [
            {
                "name": TRICKY,
                "contacts": found,
                "steps": {},
                "page": 0,
                "paged": bool(found),
                "outcomes": outcomes,
                "fmt": str,
            }
            for found in (contacts, [])
        ],
        "texts/client_notes.html.j2": [
            {"name": TRICKY, "notes": notes, "notice": notice}
            for notes, notice in (("2026-11-20: <Likes> golf & tea", "✅ Added"), (None, None))
        ],
        "texts/import_report.html.j2": [
            {
                "filename": "clients <1>.csv",
                "imported": imported,
                "duplicates": found,
                "more_duplicates": more,
                "rejected": found,
                "more_rejected": more,
                "ignored": ignored,
                "stopped": stopped,
            }
            for imported, found, more, ignored, stopped in (
                (3, issues, 2, ["Fax <no>"], None),
                (0, [], 0, [], None),
                (
                    500,
                    [],
                    0,
                    [],
                    ImportStop(row=502, not_imported=9498, reason="Could not <save>"),
                ),
            )
        ],
    }


SAMPLE_CONTEXTS.update(_client_samples())


def _tact_samples() -> dict[str, list[dict[str, Any]]]:
    """The tact check's answer: a clean draft and one with findings and a situation."""
    drafts = ("Hello Anna,\nThank you.\nKind regards", "Hey <b>guys</b>, pay ASAP!!!")
    return {"texts/tact_report.html.j2": [{"r": review(draft)} for draft in drafts]}


SAMPLE_CONTEXTS.update(_tact_samples())


def _add_invoice_samples() -> None:
    """The receivables templates, and the agenda and client card with their money blocks."""
    for name, extra in invoice_samples(SAMPLE_CONTEXTS).items():
        SAMPLE_CONTEXTS.setdefault(name, []).extend(extra)


_add_invoice_samples()


def _reminder_samples() -> dict[str, list[dict[str, Any]]]:
    """A step's card and the reminder notices (handlers/reminders.py, bot/jobs/reminders.py)."""
    return {
        "texts/step_card.html.j2": [
            {"v": view, "due": "Fri 27 Nov, 10:00"} for view in sample_step_views()
        ],
        "texts/reminder_notice.html.j2": [
            {"n": notice, "fmt": str} for notice in sample_notices()
        ],
    }


SAMPLE_CONTEXTS.update(_reminder_samples())


SAMPLE_CONTEXTS.update(digest_samples())  # the weekly digest (bot/views/digest.py)
SAMPLE_CONTEXTS.update(plan_samples())  # plans and refusals (bot/views/plans.py, refusal_reasons)
