"""The template library a manager works with: built-in and company templates, the values a
client's templates are filled with, search for inline mode, and company template editing.

Rendering itself is in `bot.services.replies.templates`; this module adds the database: company
templates (`storage.company_templates`), clients, their last contact and next step, and the
company name (team settings).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from itertools import islice

from bot.clock import Clock
from bot.services import team_settings
from bot.services.access import require_lead
from bot.services.clients import fold_text, match_quick_log
from bot.services.errors import DomainError
from bot.services.ownership import require_client
from bot.services.replies.templates import (
    ClientValues,
    InvoiceValues,
    LastContactValues,
    ManagerValues,
    NextStepValues,
    ReplyTemplate,
    ReplyValues,
    Situation,
    TemplateProblems,
    UnknownTemplate,
    builtin_templates,
    language_of,
    load_situations,
    referenced_variables,
    render_template,
    validate_source,
)
from storage import audit, contacts, steps
from storage import company_templates as reply_templates
from storage.clients import Client
from storage.company_templates import CompanyTemplate
from storage.db import Database
from storage.users import User

logger = logging.getLogger(__name__)

MAX_TITLE = 80
MAX_INLINE_RESULTS = 20
MAX_INLINE_CLIENTS = 3
_COMPANY_KEY = re.compile(r"^co\d{1,12}$")


@dataclass(frozen=True, slots=True)
class FilledReply:
    """A template rendered for a client (or with placeholders when `client` is None)."""

    template: ReplyTemplate
    text: str
    client: Client | None


def _from_company(row: CompanyTemplate) -> ReplyTemplate:
    return ReplyTemplate(
        id=row.key,
        title=row.title,
        situation=row.situation,
        tone=row.tone,
        body=row.body,
        locale=row.locale,
        variables=tuple(sorted(referenced_variables(row.body))),
        source="company",
    )


def situations(locale: str) -> tuple[Situation, ...]:
    """The situations, in display order."""
    return load_situations(language_of(locale))


def situation_title(key: str, locale: str) -> str:
    """A situation's title (its key when unknown)."""
    return next((s.title for s in situations(locale) if s.key == key), key)


async def all_templates(db: Database, locale: str) -> list[ReplyTemplate]:
    """Built-in templates of the language, then the company's active ones."""
    language = language_of(locale)
    company = await reply_templates.active_templates(db, locale=language)
    return [*builtin_templates(language), *(_from_company(row) for row in company)]


async def templates_for(db: Database, situation: str, locale: str) -> list[ReplyTemplate]:
    """The templates of one situation (the "variants"), built-in first."""
    return [t for t in await all_templates(db, locale) if t.situation == situation]


async def find_template(db: Database, template_id: str, locale: str) -> ReplyTemplate:
    """A built-in template by id, or an active company template by key."""
    if _COMPANY_KEY.match(template_id):
        row = await reply_templates.get_by_key(db, template_id)
        if row is None or not row.active:
            raise UnknownTemplate(template_id)
        return _from_company(row)
    for template in builtin_templates(language_of(locale)):
        if template.id == template_id:
            return template
    raise UnknownTemplate(template_id)


async def next_variant(db: Database, template: ReplyTemplate, locale: str) -> ReplyTemplate:
    """The next template of the same situation, wrapping around (itself when alone)."""
    variants = await templates_for(db, template.situation, locale)
    ids = [t.id for t in variants]
    if template.id not in ids:
        return variants[0] if variants else template
    return variants[(ids.index(template.id) + 1) % len(variants)]


# --- Values ---------------------------------------------------------------------------------


async def base_values(db: Database, actor: User) -> ReplyValues:
    """Only the manager and the company: everything about a client is a placeholder."""
    settings = await team_settings.load(db)
    return ReplyValues(
        manager=ManagerValues(actor.name),
        company=settings.company_name,
        timezone=actor.timezone,
    )


async def values_for(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    client: Client,
    invoice: InvoiceValues | None = None,
) -> ReplyValues:
    """The values for an already checked client: last contact, open step, company name."""
    base = await base_values(db, actor)
    recent = await contacts.recent_for_client(db, client.id, limit=1)
    due_first = await steps.open_steps_for_client(db, client.id)
    step = due_first[0] if due_first else None
    return ReplyValues(
        client=ClientValues(client.name, client.contact_person),
        manager=base.manager,
        company=base.company,
        last_contact=(
            LastContactValues(recent[0].happened_at, _summary_phrase(recent[0].summary))
            if recent
            else None
        ),
        next_step=NextStepValues(step.kind.value, step.due_at) if step is not None else None,
        invoice=invoice,
        timezone=actor.timezone,
    )


def _summary_phrase(summary: str) -> str:
    """A logged summary as a phrase inside a sentence: one line, no final full stop."""
    return " ".join(summary.split()).rstrip(".")


async def client_values(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    client_id: int,
    invoice: InvoiceValues | None = None,
) -> tuple[Client, ReplyValues]:
    """The client (if the actor may act on it; refusals are audited) and its values."""
    client = await require_client(
        db, clock, actor=actor, client_id=client_id, attempted="reply template"
    )
    return client, await values_for(db, clock, actor=actor, client=client, invoice=invoice)


async def fill(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    template_id: str,
    client_id: int | None,
    invoice: InvoiceValues | None = None,
) -> FilledReply:
    """A template rendered for a client the actor may work with (placeholders without one),
    in the client's own language when they have one (the same template in that language)."""
    locale = actor.locale
    template = await find_template(db, template_id, locale)
    client: Client | None = None
    if client_id is None:
        values = await base_values(db, actor)
    else:
        client, values = await client_values(
            db, clock, actor=actor, client_id=client_id, invoice=invoice
        )
        template, locale = await _in_client_language(db, template, client, locale)
    return FilledReply(template, render_template(template, values, locale), client)


async def _in_client_language(
    db: Database, template: ReplyTemplate, client: Client, locale: str
) -> tuple[ReplyTemplate, str]:
    """The same template in the client's language (client card → 🌐 Language), if it exists
    there (a company template is written in one language only); else as it was."""
    wanted = client.language
    if not wanted or language_of(wanted) == language_of(locale):
        return template, locale
    try:
        return await find_template(db, template.id, wanted), wanted
    except DomainError:
        return template, locale


# --- Search (inline mode) -------------------------------------------------------------------


def _search_text(template: ReplyTemplate, locale: str) -> set[str]:
    words = " ".join(
        [
            template.title,
            template.situation.replace("_", " "),
            situation_title(template.situation, locale),
            template.tone,
            template.id,
            " ".join(template.keywords),
        ]
    )
    return set(fold_text(words).split())


def search_templates(
    templates: list[ReplyTemplate], words: str, locale: str
) -> list[ReplyTemplate]:
    """Templates whose title, situation, tone or keywords start with every word typed.

    With no words, all templates in library order; the best matches first otherwise.
    """
    folded = fold_text(words)
    terms = folded.split()
    if not terms:
        return list(templates)
    scored: list[tuple[int, int, ReplyTemplate]] = []
    for order, template in enumerate(templates):
        if fold_text(template.id) == folded:  # "Send via chat with client…" names the id
            scored.append((-1000, order, template))
            continue
        vocabulary = _search_text(template, locale)
        hits = sum(1 for term in terms if any(word.startswith(term) for word in vocabulary))
        if hits == len(terms):
            scored.append((-hits, order, template))
    return [template for _, _, template in sorted(scored, key=lambda item: item[:2])]


def _filled_or_none(
    template: ReplyTemplate, values: ReplyValues, locale: str, client: Client | None
) -> FilledReply | None:
    """The template filled for one result, or None (logged) when it can't be rendered for
    these values, e.g. a company template over the length cap for this client's details."""
    try:
        return FilledReply(template, render_template(template, values, locale), client)
    except TemplateProblems as exc:
        logger.warning(
            "Template %s skipped for client %s: %s",
            template.id,
            client.id if client is not None else "-",
            exc,
        )
        return None


async def inline_replies(
    db: Database, clock: Clock, *, actor: User, query: str
) -> list[FilledReply]:
    """`@bot <words>` or `@bot <client name> <words>`: the matching templates, filled.

    The leading words that start a client name the actor may work with (own clients; a
    head's or admin's any) choose the client; the rest searches the templates. When no client
    matches, every word searches the templates and the texts keep their placeholders.
    """
    locale = actor.locale
    templates = await all_templates(db, locale)
    query = " ".join(query.split())[:200]
    found: list[FilledReply] = []
    if query:
        match = await match_quick_log(db, actor=actor, text=query, limit=MAX_INLINE_CLIENTS)
        chosen = search_templates(templates, match.summary, locale) if match.clients else []
        for item in match.clients[:MAX_INLINE_CLIENTS]:
            values = await values_for(db, clock, actor=actor, client=item.client)
            for template in chosen:
                own, language = await _in_client_language(db, template, item.client, locale)
                if filled := _filled_or_none(own, values, language, item.client):
                    found.append(filled)
        if found:
            return found[:MAX_INLINE_RESULTS]
    values = await base_values(db, actor)
    plain = (
        _filled_or_none(template, values, locale, None)
        for template in search_templates(templates, query, locale)
    )
    return list(islice((filled for filled in plain if filled is not None), MAX_INLINE_RESULTS))


# --- Company templates ----------------------------------------------------------------------


def clean_title(title: str) -> str:
    """A company template's title, whitespace collapsed; refused when empty or too long."""
    title = " ".join(title.split())
    if not 1 <= len(title) <= MAX_TITLE:
        raise DomainError(f"The title needs 1 to {MAX_TITLE} characters.")
    return title


def _clean_situation(situation: str, locale: str) -> str:
    if situation not in {s.key for s in situations(locale)}:
        raise DomainError("Choose one of the situations shown.")
    return situation


def check_body(body: str) -> str:
    """The template text if it renders in the sandbox with sample data; else the problems."""
    body = body.strip("\n")
    problems = validate_source(body)
    if problems:
        raise TemplateProblems(problems)
    return body


async def _require_company_template(db: Database, template_id: int) -> CompanyTemplate:
    row = await reply_templates.get_template(db, template_id)
    if row is None or not row.active:
        raise DomainError("That company template is no longer available.")
    return row


async def add_company_template(
    db: Database, clock: Clock, *, actor: User, title: str, situation: str, body: str
) -> CompanyTemplate:
    """A head or admin adds a template for the whole team (checked in the sandbox first)."""
    require_lead(actor)
    locale = language_of(actor.locale)
    title = clean_title(title)
    situation = _clean_situation(situation, locale)
    body = check_body(body)
    now = clock.now()
    async with db.transaction() as tx:
        row = await reply_templates.insert_template(
            tx,
            locale=locale,
            title=title,
            situation=situation,
            tone="company",
            body=body,
            created_by=actor.telegram_id,
            now=now,
        )
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="template.add",
            now=now,
            object_type="reply_template",
            object_id=row.key,
            details={"title": title, "situation": situation},
        )
    return row


async def edit_company_template(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    template_id: int,
    title: str | None = None,
    body: str | None = None,
) -> CompanyTemplate:
    """A head or admin changes a company template's title or text."""
    require_lead(actor)
    current = await _require_company_template(db, template_id)
    new_title = clean_title(title) if title is not None else current.title
    new_body = check_body(body) if body is not None else current.body
    now = clock.now()
    async with db.transaction() as tx:
        await reply_templates.update_template(
            tx,
            template_id,
            title=new_title,
            situation=current.situation,
            body=new_body,
            updated_by=actor.telegram_id,
            now=now,
        )
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="template.edit",
            now=now,
            object_type="reply_template",
            object_id=current.key,
            details={"title": new_title, "text_changed": body is not None},
        )
    updated = await reply_templates.get_template(db, template_id)
    assert updated is not None
    return updated


async def retire_company_template(
    db: Database, clock: Clock, *, actor: User, template_id: int
) -> CompanyTemplate:
    """A head or admin retires a company template; it disappears from every list."""
    require_lead(actor)
    current = await _require_company_template(db, template_id)
    now = clock.now()
    async with db.transaction() as tx:
        changed = await reply_templates.set_active(
            tx, template_id, active=False, updated_by=actor.telegram_id, now=now
        )
        if not changed:
            raise DomainError("That company template is no longer available.")
        await audit.record(
            tx,
            actor_id=actor.telegram_id,
            action="template.retire",
            now=now,
            object_type="reply_template",
            object_id=current.key,
        )
    return current


async def company_template(db: Database, key: str) -> CompanyTemplate | None:
    """An active company template by its key (`co<id>`)."""
    if not _COMPANY_KEY.match(key):
        return None
    row = await reply_templates.get_by_key(db, key)
    return row if row is not None and row.active else None
