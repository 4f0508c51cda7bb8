"""Scheduled jobs (PTB JobQueue): thin wrappers that call services and send through Telegram."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot import i18n
from bot.jobs.digest import schedule_digest_jobs
from bot.services import plans, reminders, schedule, team
from bot.services.reminders import Notice
from bot.telegram.context import Services
from bot.telegram.notify import retry_after_seconds
from bot.timefmt import format_moment
from bot.views import invoices as invoice_views
from bot.views.actions import NEXT_STEP_CHOICE, STEP_OPEN
from bot.views.agenda import MAX_BUTTONS, agenda_keyboard, render_agenda, step_keyboard
from bot.views.keyboards import button, keyboard
from bot.views.render import render, split_message

logger = logging.getLogger(__name__)

SWEEP_JOB = "reminder-sweep"
CLAIM_BATCH = 50
IN_FLIGHT = 8


async def reminder_sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Deliver everything that is due: one message per person, retried on failure."""
    services: Services = context.application.bot_data["services"]
    if released := await reminders.release_stuck(services.db, services.clock):
        logger.warning("Re-queued %s reminders whose send never came back", released)
    await drain_due(context.bot, services)


async def drain_due(bot: Bot, services: Services, *, in_flight: int = IN_FLIGHT) -> int:
    """Claim and deliver due notices until none is left; returns how many were delivered.

    The next batch is claimed while the current one is being sent, and several notices are in
    flight at once, so neither a claim nor one message's round trip leaves the rate limiter
    idle when thousands fall due together. The queue is short: claimed rows are sent within
    seconds, and a crash leaves at most that many to re-send at start-up.
    """
    queue: asyncio.Queue[Notice | None] = asyncio.Queue(maxsize=in_flight * 2)
    delivered = 0

    async def claim() -> None:
        try:
            while True:
                notices = await reminders.claim_due_notices(
                    services.db, services.clock, limit=CLAIM_BATCH
                )
                if not notices:
                    break
                for notice in notices:
                    await queue.put(notice)
        finally:
            for _ in range(in_flight):
                await queue.put(None)

    async def send() -> None:
        nonlocal delivered
        while (notice := await queue.get()) is not None:
            try:
                await deliver(bot, services, notice)
            except Exception:  # one bad notice must not strand the rest of the queue
                logger.exception("Reminder to %s failed unexpectedly", notice.user.telegram_id)
                await reminders.record_failure(services.db, services.clock, notice)
            else:
                delivered += 1

    await asyncio.gather(claim(), *(send() for _ in range(in_flight)))
    return delivered


async def deliver(bot: Bot, services: Services, notice: Notice) -> None:
    """Send one person's notice (the morning agenda as its own message) and record it; in
    that person's language."""
    with i18n.using(notice.user.locale):
        await _deliver(bot, services, notice)


async def _deliver(bot: Bot, services: Services, notice: Notice) -> None:
    user = notice.user
    try:
        message_id = None
        if notice.agenda is not None:
            # The week's first working day: the month's plan on one line (managers with one).
            plan = await plans.agenda_plan(services.db, user=user, now=services.clock.now())
            text = render_agenda(
                notice.agenda, user, detail=False, title="Good morning! Today", plan=plan
            )
            sent = await bot.send_message(
                user.telegram_id, text, reply_markup=agenda_keyboard(notice.agenda)
            )
            message_id = sent.message_id
        if notice.steps or notice.missing_steps:
            text = render(
                "texts/reminder_notice.html.j2",
                n=notice,
                fmt=lambda moment: format_moment(moment, user.timezone, user.locale),
            )
            sent = await bot.send_message(
                user.telegram_id, text, reply_markup=notice_keyboard(notice)
            )
            message_id = sent.message_id
        if notice.invoices:
            parts = split_message(invoice_views.render_notice(notice.invoices, user))
            for index, part in enumerate(parts, start=1):
                markup = invoice_views.notice_keyboard(notice.invoices)
                sent = await bot.send_message(
                    user.telegram_id, part, reply_markup=markup if index == len(parts) else None
                )
            message_id = sent.message_id
    except Forbidden:
        await team.set_reachable(services.db, services.clock, user.telegram_id, reachable=False)
        await reminders.hold_notice(services.db, notice)
    except RetryAfter as exc:
        delay = dt.timedelta(seconds=retry_after_seconds(exc))
        await reminders.record_failure(services.db, services.clock, notice, retry_after=delay)
    except TelegramError as exc:
        logger.warning("Reminder to %s failed: %s", user.telegram_id, exc)
        await reminders.record_failure(services.db, services.clock, notice)
    else:
        await reminders.record_delivery(services.db, services.clock, notice, message_id=message_id)


def notice_keyboard(notice: Notice) -> InlineKeyboardMarkup | None:
    """One step: its four actions. Several items: one button each to open it."""
    if len(notice.steps) == 1 and not notice.missing_steps:
        return step_keyboard(notice.steps[0].view.step.id)
    rows = [
        [
            button(
                f"📌 {item.view.client_name[:30]}: {item.view.step.kind.value}",
                STEP_OPEN,
                item.view.step.id,
            )
        ]
        for item in notice.steps
    ]
    rows += [
        [button(f"➡️ {p.client_name[:30]}: set next step", NEXT_STEP_CHOICE, "menu", p.contact.id)]
        for p in notice.missing_steps
    ]
    return keyboard(rows[:MAX_BUTTONS])


async def schedule_jobs(application: Application) -> None:  # type: ignore[type-arg]
    """Start the repeating sweep; called from post_init after crash recovery."""
    services: Services = application.bot_data["services"]
    recovered = await reminders.recover_interrupted(services.db)
    if recovered:
        logger.info("Re-queued %s reminders interrupted by a crash", recovered)
    await schedule.ensure_all_agenda_reminders(services.db, services.clock)
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        reminder_sweep,
        interval=services.settings.reminder_sweep_seconds,
        first=0.5,
        name=SWEEP_JOB,
        # The default misfire grace of 1 s would silently skip runs on a busy loop.
        job_kwargs={"misfire_grace_time": 60, "coalesce": True, "max_instances": 1},
    )
    schedule_digest_jobs(application)  # weekly digest and "Your week" (bot/jobs/digest.py)
