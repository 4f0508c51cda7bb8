"""The template library: client values, inline search and ownership, company templates."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.services import clients, contacts, team_settings
from bot.services.errors import DomainError, NotAllowed
from bot.services.replies import library as reply_library
from bot.services.replies.templates import TemplateProblems, UnknownTemplate
from storage import audit
from storage.users import Role
from tests.factories import make_user


async def _team(db, clock):
    head = await make_user(db, clock, 1, Role.HEAD, name="Hanna")
    mia = await make_user(db, clock, 2, name="Mia", timezone="Europe/London")
    oleg = await make_user(db, clock, 3, name="Oleg")
    await team_settings.change(db, clock, actor=head, key="company_name", value="NextStep")
    acme = await clients.create_client(
        db, clock, actor=mia, name="Acme LLC", contact_person="Ivan Petrov"
    )
    globex = await clients.create_client(
        db, clock, actor=oleg, name="Globex", contact_person="Hank Scorpio"
    )
    return head, mia, oleg, acme, globex


async def test_values_hold_the_last_contact_the_next_step_and_the_company(db, clock) -> None:
    _, mia, _, acme, _ = await _team(db, clock)
    contact = await contacts.log_contact(
        db, clock, actor=mia, client_id=acme.id, kind="meeting", summary="Spring order.\n"
    )
    await contacts.schedule_next_step(
        db,
        clock,
        actor=mia,
        contact_id=contact.id,
        kind="call",
        due_at=clock.now() + dt.timedelta(days=1),
        agenda=None,
    )
    client, values = await reply_library.client_values(db, clock, actor=mia, client_id=acme.id)
    assert client.name == "Acme LLC" and values.company == "NextStep"
    assert values.last_contact is not None and values.last_contact.summary == "Spring order"
    assert values.next_step is not None and values.next_step.kind == "call"
    filled = await reply_library.fill(
        db, clock, actor=mia, template_id="follow_up_meeting", client_id=acme.id
    )
    assert "Thank you for meeting with us on November 26, 2026" in filled.text
    assert "• Spring order\n• Next step: a call on Friday, November 27, 2026" in filled.text


async def test_a_manager_cannot_fill_another_managers_client(db, clock) -> None:
    _, mia, _, _, globex = await _team(db, clock)
    with pytest.raises(NotAllowed):
        await reply_library.fill(
            db, clock, actor=mia, template_id="payment_gentle", client_id=globex.id
        )
    denied = await audit.recent_entries(db, action="access.denied")
    assert denied[0].details == {"attempted": "reply template"}


async def test_inline_fills_own_clients_only_and_a_head_any(db, clock) -> None:
    head, mia, _, _, _ = await _team(db, clock)
    own = await reply_library.inline_replies(db, clock, actor=mia, query="acme payment")
    assert own and {r.client.name for r in own if r.client} == {"Acme LLC"}
    assert own[0].template.id == "payment_gentle"
    other = await reply_library.inline_replies(db, clock, actor=mia, query="globex")
    assert all(r.client is None for r in other)  # Globex is Oleg's: nothing filled
    lead = await reply_library.inline_replies(db, clock, actor=head, query="globex thanks")
    assert lead and all(r.client is not None and r.client.name == "Globex" for r in lead)
    assert "Hello Hank," in lead[0].text


async def test_inline_without_words_lists_everything_and_exact_id_wins(db, clock) -> None:
    _, mia, *_ = await _team(db, clock)
    everything = await reply_library.inline_replies(db, clock, actor=mia, query="")
    assert len(everything) == reply_library.MAX_INLINE_RESULTS
    exact = await reply_library.inline_replies(
        db, clock, actor=mia, query="Acme LLC follow_up_call"
    )
    assert exact[0].template.id == "follow_up_call"
    assert await reply_library.inline_replies(db, clock, actor=mia, query="zzzz") == []


async def test_company_template_lifecycle(db, clock) -> None:
    head, mia, *_ = await _team(db, clock)
    with pytest.raises(TemplateProblems) as refused:
        await reply_library.add_company_template(
            db,
            clock,
            actor=head,
            title="Fair",
            situation="thanks",
            body="Hello {{ client.first_name }},\n{{ manager.nmae }}",
        )
    assert "Line 2: unknown variable {{ manager.nmae }}" in str(refused.value)
    with pytest.raises(NotAllowed):
        await reply_library.add_company_template(
            db, clock, actor=mia, title="X", situation="thanks", body="Hello"
        )
    with pytest.raises(DomainError, match="situations"):
        await reply_library.add_company_template(
            db, clock, actor=head, title="X", situation="nope", body="Hello"
        )
    row = await reply_library.add_company_template(
        db,
        clock,
        actor=head,
        title="  Thanks   after the fair ",
        situation="thanks",
        body="Hello {{ client.first_name }},\nthank you.\nKind regards,\n{{ signature }}",
    )
    assert (row.key, row.title) == ("co1", "Thanks after the fair")
    listed = await reply_library.templates_for(db, "thanks", "en")
    assert listed[-1].id == "co1" and listed[-1].source == "company"
    assert await reply_library.find_template(db, "co1", "en")

    with pytest.raises(NotAllowed):
        await reply_library.edit_company_template(
            db, clock, actor=mia, template_id=row.id, title="Mine"
        )
    edited = await reply_library.edit_company_template(
        db, clock, actor=head, template_id=row.id, body="Dear {{ client.contact_person }}"
    )
    assert edited.body == "Dear {{ client.contact_person }}"
    await reply_library.retire_company_template(db, clock, actor=head, template_id=row.id)
    with pytest.raises(UnknownTemplate):
        await reply_library.find_template(db, "co1", "en")
    with pytest.raises(DomainError, match="no longer available"):
        await reply_library.retire_company_template(db, clock, actor=head, template_id=row.id)
    actions = [entry.action for entry in await audit.recent_entries(db)]
    assert actions[:3] == ["template.retire", "template.edit", "template.add"]

    second = await reply_library.add_company_template(
        db, clock, actor=head, title="Again", situation="thanks", body="Hi"
    )
    assert second.key == "co2"  # keys are never reused


async def test_next_variant_wraps_around(db, clock) -> None:
    payment = await reply_library.find_template(db, "payment_final", "en")
    following = await reply_library.next_variant(db, payment, "en")
    assert following.id == "payment_gentle"
