"""Refusal reasons: typed words matched to a preset (a table of phrases per preset), the
report by reason against the previous month, and the digest's refusals and attention."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from bot.clock import FrozenClock
from bot.devtools.invoice_samples import sample_user
from bot.services import clients, contacts, next_step_text, plans
from bot.services.digest.figures import Week, build_team_digest
from bot.services.model import Role
from bot.services.months import Month
from bot.services.refusal_reasons import (
    REFUSALS_DIR,
    Preset,
    match_reason,
    preset_for,
    refusal_report,
)
from bot.views.digest import render_summary
from storage.db import Database
from tests.factories import make_user

UTC = dt.UTC

MEANT = {
    Preset.PRICE: ["too expensive", "Price too high", "they found it costly", "need a discount"],
    Preset.TIMING: ["not now", "call back next year", "maybe after the holidays", "bad time"],
    Preset.COMPETITOR: [
        "went with a competitor",
        "they already have a supplier",
        "signed with another vendor",
    ],
    Preset.NO_NEED: ["no need", "don't need it", "not interested", "they have enough stock"],
    Preset.NO_BUDGET: ["no budget this year", "can't afford it", "budget cuts"],
    Preset.QUALITY: ["quality issues", "too many returns", "late deliveries last time"],
}


@pytest.mark.parametrize(
    ("words", "preset"), [(w, p) for p, listed in MEANT.items() for w in listed]
)
def test_typed_words_that_clearly_mean_a_preset(words: str, preset: Preset) -> None:
    """Each phrase means its preset (case, apostrophes and punctuation aside)."""
    assert match_reason(words) is preset


@pytest.mark.parametrize(
    "words",
    [
        "too expensive and no budget",  # two presets: not clear
        "the price was fine",  # taken back
        "not the price",
        "they just said no",  # none
        "",
    ],
)
def test_words_that_mean_none_or_several_stay_other(words: str) -> None:
    """Not clear: no preset (stored as other, with the words)."""
    assert match_reason(words) is None
    assert preset_for(words) is Preset.OTHER


def test_the_phrase_table_is_data_with_every_preset() -> None:
    """templates/refusals/en.toml lists phrases for every preset but other."""
    data = tomllib.loads((REFUSALS_DIR / "en.toml").read_text(encoding="utf-8"))
    assert set(data["phrases"]) == {p.value for p in Preset if p is not Preset.OTHER}
    assert all(data["phrases"][key] for key in data["phrases"])


def test_a_typed_refused_next_step_carries_its_preset() -> None:
    """`refused: too expensive` → price, the words kept as typed."""
    typed = next_step_text.read_next_step(
        "refused: too expensive", now=dt.datetime(2026, 11, 26, 9, tzinfo=UTC), timezone="UTC"
    )
    assert (typed.reason, typed.preset) == ("too expensive", "price")


async def _refuse(db: Database, clock: FrozenClock, manager, client_id: int, words: str) -> None:  # type: ignore[no-untyped-def]
    contact = await contacts.log_contact(
        db, clock, actor=manager, client_id=client_id, kind="call", summary="talked"
    )
    await contacts.close_contact(
        db, clock, actor=manager, contact_id=contact.id, outcome="refused", reason=words
    )


async def test_the_report_groups_by_reason_against_the_same_days_before(
    db: Database, clock: FrozenClock
) -> None:
    """Two price refusals this month (one legacy row without a preset, matched when read),
    one in October within the same days, one in October after them (not compared)."""
    head = await make_user(db, clock, 1, Role.HEAD, name="Hanna")
    mara = await make_user(db, clock, 2, name="Mara")
    tom = await make_user(db, clock, 3, name="Tom")
    acme = await clients.create_client(db, clock, actor=mara, name="Acme")
    beta = await clients.create_client(db, clock, actor=tom, name="Beta")
    clock.set(dt.datetime(2026, 10, 5, 10, tzinfo=UTC))
    await _refuse(db, clock, mara, acme.id, "too expensive")
    clock.set(dt.datetime(2026, 10, 28, 10, tzinfo=UTC))
    await _refuse(db, clock, mara, acme.id, "no budget")  # after day 26: not compared
    clock.set(dt.datetime(2026, 11, 3, 10, tzinfo=UTC))
    await _refuse(db, clock, mara, acme.id, "price")
    await _refuse(db, clock, tom, beta.id, "went with a competitor")
    clock.set(dt.datetime(2026, 11, 20, 10, tzinfo=UTC))
    await _refuse(db, clock, tom, beta.id, "costly")
    async with db.transaction() as tx:  # a refusal recorded before presets existed
        await tx.execute(
            "UPDATE contacts SET refusal_reason = NULL WHERE outcome_reason = 'costly'"
        )
    clock.set(dt.datetime(2026, 11, 26, 9, tzinfo=UTC))
    report = await refusal_report(db, clock, actor=head)
    assert report.month == Month(2026, 11) and not report.complete
    assert report.compared_until_day == 26
    assert [(g.preset, g.count, g.before) for g in report.groups] == [
        (Preset.PRICE, 2, 1),
        (Preset.COMPETITOR, 1, 0),
    ]
    assert report.group(Preset.PRICE).per_manager == (("Mara", 1), ("Tom", 1))  # type: ignore[union-attr]
    assert report.per_manager == (("Tom", 2), ("Mara", 1))
    own = await refusal_report(db, clock, actor=mara)
    assert [(g.preset, g.count) for g in own.groups if g.count] == [(Preset.PRICE, 1)]
    october = await refusal_report(db, clock, actor=head, month=Month(2026, 10))
    assert october.complete and october.total == 2


async def test_the_digest_flags_doubled_reasons_and_managers_behind_plan(
    db: Database, clock: FrozenClock
) -> None:
    """Week 48: price refused 4 times against 2 in the four weeks before (doubled); Mara 2 of
    40 contacts with 81 % of November's working days gone (20 %+ behind), Tom on pace."""
    head = await make_user(db, clock, 1, Role.HEAD, name="Hanna", timezone="Europe/London")
    mara = await make_user(db, clock, 2, name="Mara", timezone="Europe/London")
    tom = await make_user(db, clock, 3, name="Tom", timezone="Europe/London")
    acme = await clients.create_client(db, clock, actor=mara, name="Acme")
    clock.set(dt.datetime(2026, 11, 3, 10, tzinfo=UTC))
    for words in ("price", "too expensive"):
        await _refuse(db, clock, mara, acme.id, words)
    clock.set(dt.datetime(2026, 11, 23, 10, tzinfo=UTC))  # week 48
    for words in ("price", "costly", "too expensive", "discount", "not now"):
        await _refuse(db, clock, mara, acme.id, words)
    await plans.set_plan(
        db, clock, actor=head, manager_ids=[2], month=Month(2026, 11),
        targets=[plans.Target(plans.Metric.CONTACTS, 40)],
    )  # fmt: skip
    await plans.set_plan(
        db, clock, actor=head, manager_ids=[3], month=Month(2026, 11),
        targets=[plans.Target(plans.Metric.CONTACTS, 3)],
    )  # fmt: skip
    beta = await clients.create_client(db, clock, actor=tom, name="Beta")
    for _ in range(3):
        await contacts.log_contact(
            db, clock, actor=tom, client_id=beta.id, kind="call", summary="fine"
        )
    clock.set(dt.datetime(2026, 11, 30, 9, tzinfo=UTC))
    digest = await build_team_digest(
        db, week=Week.parse("2026-W48", "Europe/London"), now=clock.now()
    )
    assert digest.refusals is not None
    assert [(r.preset, r.count, r.previous_weeks) for r in digest.refusals.reasons] == [
        (Preset.PRICE, 4, 2),
        (Preset.TIMING, 1, 0),
    ]
    kinds = {line.kind: line for line in digest.attention}
    assert kinds["refusal_spike"].items == ("price",)
    assert kinds["plan_behind"].items == ("Mara",)  # Mara 7/40 contacts; Tom done
    assert [p.name for p in digest.plans] == ["Mara", "Tom"]
    text = render_summary(digest, sample_user(Role.HEAD))
    assert "🚫 Refusals doubled against the previous four weeks: 💰 Price 4" in text
    assert "📈 More than 20 % behind the pace of their plan: Mara" in text
    assert "📈 Plans for November 2026: 1 on pace or ahead · 1 behind (/plan)" in text
    assert "🚫 Refusals: 💰 Price 4 · ⏳ Timing 1 (/refusals)" in text
    # In the month's first week nobody is flagged, however far behind: Thu 5 Nov, Mara has
    # 2 of 40 contacts with 3 of 21 working days gone.
    early = await build_team_digest(
        db,
        week=Week.parse("2026-W45", "Europe/London"),
        now=dt.datetime(2026, 11, 5, 12, tzinfo=UTC),
    )
    mara_early = next(p for p in early.plans if p.name == "Mara")
    assert mara_early.targets[0].actual == 2 and mara_early.targets[0].far_behind
    assert "plan_behind" not in {line.kind for line in early.attention}
