"""Scheduled jobs (PTB JobQueue): thin wrappers that call services and send through Telegram."""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot.context import Services
from bot.keyboards import button, keyboard
from bot.notify import retry_after_seconds
from bot.render import render
from bot.services import reminders, team
from bot.services.reminders import Notice

logger = logging.getLogger(__name__)

SWEEP_JOB = "reminder-sweep"


async def reminder_sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Deliver everything that is due: one message per person, retried on failure."""
    services: Services = context.application.bot_data["services"]
    for notice in await reminders.claim_due_notices(services.db, services.clock):
        await deliver(context.bot, services, notice)


async def deliver(bot: Bot, services: Services, notice: Notice) -> None:
    """Send one notice and record the outcome."""
    text = render("texts/reminder_notice.html.j2", n=notice)
    try:
        message = await bot.send_message(
            notice.user.telegram_id, text, reply_markup=notice_keyboard(notice)
        )
    except Forbidden:
        await team.set_reachable(
            services.db, services.clock, notice.user.telegram_id, reachable=False
        )
        await reminders.hold_notice(services.db, notice)
    except RetryAfter as exc:
        delay = dt.timedelta(seconds=retry_after_seconds(exc))
        await reminders.record_failure(services.db, services.clock, notice, retry_after=delay)
    except TelegramError as exc:
        logger.warning("Reminder to %s failed: %s", notice.user.telegram_id, exc)
        await reminders.record_failure(services.db, services.clock, notice)
    else:
        await reminders.record_delivery(
            services.db, services.clock, notice, message_id=message.message_id
        )


def notice_keyboard(notice: Notice) -> InlineKeyboardMarkup | None:
    """One button per contact that needs a next step."""
    rows = [
        [button(f"➡️ {p.client_name[:30]}: set next step", "ns", "menu", p.contact.id)]
        for p in notice.missing_steps[:10]
    ]
    return keyboard(rows) if rows else None


async def schedule_jobs(application: Application) -> None:  # type: ignore[type-arg]
    """Start the repeating sweep; called from post_init after crash recovery."""
    services: Services = application.bot_data["services"]
    recovered = await reminders.recover_interrupted(services.db, services.clock)
    if recovered:
        logger.info("Re-queued %s reminders interrupted by a crash", recovered)
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        reminder_sweep,
        interval=services.settings.reminder_sweep_seconds,
        first=0.5,
        name=SWEEP_JOB,
        # The default misfire grace of 1 s would silently skip runs on a busy loop.
        job_kwargs={"misfire_grace_time": 60, "coalesce": True, "max_instances": 1},
    )
