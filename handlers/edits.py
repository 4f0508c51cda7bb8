"""Edited messages: an edit never creates anything.

Telegram sends `edited_message` when someone fixes a typo in a message they sent. Taken as
new input it would log a call twice or create a second invoice, so no command or flow ever
sees one: this handler comes first in group 0. An edit of a message that just saved a
contact's summary or a client's note (within the undo window) corrects it and says so; any
other edit gets one answer saying that edits aren't applied and what to send instead.
"""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.ext import MessageHandler, filters

from bot.services import clients, contacts, next_step_text, notes
from bot.telegram.context import NextStepContext
from bot.views.render import escape
from handlers.access import refuse
from handlers.common import hint, reply, source_of

TOLD = "edits_told"
TOLD_KEPT = 20
NOT_APPLIED = (
    "I don't apply edits to earlier messages, so nothing was changed or created. "
    "To change something, send it again as a new message{hint}."
)
COMMAND_HINT = " (the whole command)"


async def edited_message(update: Update, context: NextStepContext) -> None:
    """A member edited a message they sent: correct what it just saved, or say why not."""
    message = update.edited_message
    assert message is not None
    if context.actor is None:  # a stranger's edited /start passed the gate
        await refuse(update)
        return
    text = message.text or message.caption or ""
    source = source_of(context, message.message_id)
    if source is not None and source.get("kind") in ("summary", "note"):
        with hint("Your edit was not applied.", sep=" "):  # the refusal says nothing changed
            if source["kind"] == "summary":
                await _correct_summary(update, context, int(source["id"]), text)
            else:
                await _correct_note(update, context, source, text)
        return
    assert context.user_data is not None
    told: list[int] = context.user_data.setdefault(TOLD, [])
    if message.message_id in told:
        return  # said once for this message already
    told.append(message.message_id)
    del told[:-TOLD_KEPT]
    command_hint = COMMAND_HINT if text.startswith("/") else ""
    await reply(update, NOT_APPLIED.format(hint=command_hint))


async def _correct_summary(
    update: Update, context: NextStepContext, contact_id: int, text: str
) -> None:
    user = context.member
    logged = await contacts.describe_contact(
        context.db, context.clock, actor=user, contact_id=contact_id
    )
    summary = text
    if text.startswith("/"):  # `/call Acme summary`: the summary is what follows the client
        rest = text.split(maxsplit=1)[1] if len(text.split(maxsplit=1)) == 2 else ""
        rest, _ = next_step_text.split_next(rest)  # the step part is not the summary
        match = await clients.match_quick_log(context.db, actor=user, text=rest)
        same = [item.client.id for item in match.clients] == [logged.contact.client_id]
        if not same or not match.summary:
            await reply(
                update,
                f"That message logged your {escape(logged.contact.kind.value)} with "
                f"{escape(logged.client_name)}; an edit can only correct its summary, so "
                "nothing was changed. Send a new command for another contact.",
            )
            return
        summary = match.summary
    await contacts.edit_summary(
        context.db, context.clock, actor=user, contact_id=contact_id, summary=summary
    )
    await reply(
        update,
        f"✏️ Corrected the summary of your {escape(logged.contact.kind.value)} with "
        f"{escape(logged.client_name)}: “{escape(summary.strip()[:300])}”.",
    )


async def _correct_note(
    update: Update, context: NextStepContext, source: dict[str, object], text: str
) -> None:
    _, line = await notes.correct_note(
        context.db,
        context.clock,
        actor=context.member,
        client_id=int(str(source["id"])),
        line=str(source["line"]),
        note=text,
        noted_at=dt.datetime.fromisoformat(str(source["at"])),
    )
    source["line"] = line  # a second edit corrects the corrected line
    await reply(
        update,
        f"✏️ Corrected the note on {escape(str(source.get('client', 'the client')))}: "
        f"“{escape(line[:300])}”.",
    )


def handlers() -> list[tuple[object, int]]:
    """First in group 0, so an edited message reaches nothing else."""
    return [(MessageHandler(filters.UpdateType.EDITED_MESSAGE, edited_message), 0)]
