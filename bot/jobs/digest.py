"""The weekly digest's delivery: a JobQueue job that sends each head their team digest (the
one-screen summary with its buttons, then the chart; the spreadsheet only when its button
is pressed) and each manager their "Your week" when due, exactly once per person and week.

Every tick (and once at start-up, so a digest due while the bot was down goes out then) asks
the service who is owed what. Each delivery is claimed in `digest_sent` before its first
message is sent; a restart therefore never sends a delivered digest again. The ledger also
counts the messages already sent, so a delivery cut short by a crash resumes with the next
message after a minute: the worst case is one message sent twice (the one in flight at the
crash), never a digest lost. Network failures retry on later ticks (five attempts); a person
who blocked the bot is marked unreachable and the delivery closed.
"""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Bot
from telegram.error import TelegramError

from bot import i18n
from bot.services.access import find_person
from bot.services.digest import figures as digest
from bot.services.digest.figures import DueDigest
from bot.services.model import Delivery, DigestKind, User
from bot.telegram.context import NextStepApplication, NextStepContext, Services
from bot.telegram.notify import send_file, send_text
from bot.views.digest import team_timezone
from bot.workers.digest import Part, plan_parts, prestart, stop_if_idle

logger = logging.getLogger(__name__)

DIGEST_JOB = "weekly-digest"
WORKERS_IDLE_JOB = "digest-workers-idle"
MAX_INTERVAL = 60.0
IDLE_CHECK_SECONDS = 60.0
WARM_AHEAD = dt.timedelta(minutes=3)
"""A head's digest due this soon gets its chart's worker processes started."""


async def send_part(bot: Bot, services: Services, chat_id: int, part: Part) -> bool:
    """Send one part; False when it cannot be delivered (blocked, refused)."""
    db, clock = services.db, services.clock
    if part.kind == "text":
        return bool(await send_text(bot, db, clock, chat_id, part.text, reply_markup=part.markup))
    sent = await send_file(
        bot,
        db,
        clock,
        chat_id,
        kind=part.kind,
        content=part.content,
        filename=part.filename,
        caption=part.text,
    )
    return sent is not None


async def deliver(bot: Bot, services: Services, due: DueDigest, delivery: Delivery) -> None:
    """Send a claimed delivery from where it stopped, recording each message sent."""
    db, clock = services.db, services.clock
    person = await find_person(db, delivery.user_id)
    if (
        person is None
        or not person.active
        or (due.kind is DigestKind.TEAM and not digest.may_see_team(person))
    ):  # gone, or no longer a head since it fell due
        await digest.finish_delivery(db, clock, delivery, delivered=False)
        return
    with i18n.using(person.locale):  # the head's language, whoever's update this runs in
        await _send_parts(bot, services, due, delivery, person)


async def _send_parts(
    bot: Bot, services: Services, due: DueDigest, delivery: Delivery, person: User
) -> None:
    db, clock = services.db, services.clock
    try:
        makers = await plan_parts(db, clock, person, due.kind, due.week, skip=delivery.parts_sent)
        for index, make in enumerate(makers):
            if index < delivery.parts_sent:
                continue
            if not await send_part(bot, services, person.telegram_id, await make()):
                now_person = await find_person(db, person.telegram_id)
                if now_person is None or not now_person.reachable:  # blocked the bot
                    await digest.finish_delivery(db, clock, delivery, delivered=False)
                    return
                # Telegram refused this one message (logged by notify); send the rest.
            await digest.record_progress(db, delivery, index + 1)
    except TelegramError as exc:
        logger.warning(
            "Digest %s %s to %s failed (attempt %s): %s",
            due.kind.value,
            due.week.iso,
            person.telegram_id,
            delivery.attempts,
            exc,
        )
        if digest.out_of_attempts(delivery):
            await digest.finish_delivery(db, clock, delivery, delivered=False)
        return  # otherwise the claim goes stale and a later tick resumes it
    await digest.finish_delivery(db, clock, delivery, delivered=True)
    logger.info("Digest %s %s delivered to %s", due.kind.value, due.week.iso, person.telegram_id)


async def digest_tick(context: NextStepContext) -> None:
    """Deliver every digest that is due and not delivered yet, one person after another;
    start the chart's workers when a head's digest falls due within WARM_AHEAD."""
    services = context.services
    now, zone = services.clock.now(), team_timezone(services.settings)
    owed = await digest.due_digests(services.db, now=now, timezone=zone)
    soon = await digest.due_digests(services.db, now=now + WARM_AHEAD, timezone=zone)
    if any(due.kind is DigestKind.TEAM for due in (*owed, *soon)):
        prestart()
    for due in owed:
        delivery = await digest.claim_delivery(services.db, services.clock, due)
        if delivery is None:
            continue
        try:
            await deliver(context.bot, services, due, delivery)
        except Exception:  # one person's failure must not stop the others' digests
            logger.exception(
                "Digest %s %s to %s crashed", due.kind.value, due.week.iso, delivery.user_id
            )


async def stop_idle_workers(context: NextStepContext) -> None:
    """Stop the worker processes (chart, spreadsheet, big files) once they have been idle
    for 10 minutes, so they hold no memory between digests; the next job starts them."""
    stop_if_idle()


def schedule_digest_jobs(application: NextStepApplication) -> None:
    """Start the digest job: at once (catching up after downtime), then every sweep interval
    (at most a minute); and the check that stops idle worker processes, every minute."""
    services: Services = application.bot_data["services"]
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        digest_tick,
        interval=min(MAX_INTERVAL, services.settings.reminder_sweep_seconds),
        first=1.0,
        name=DIGEST_JOB,
        # The default misfire grace of 1 s would silently skip runs on a busy loop.
        job_kwargs={"misfire_grace_time": 120, "coalesce": True, "max_instances": 1},
    )
    application.job_queue.run_repeating(
        stop_idle_workers,
        interval=IDLE_CHECK_SECONDS,
        first=IDLE_CHECK_SECONDS,
        name=WORKERS_IDLE_JOB,
        job_kwargs={"misfire_grace_time": 120, "coalesce": True, "max_instances": 1},
    )
