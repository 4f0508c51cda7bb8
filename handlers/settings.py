"""/settings: a person's role and time zone (common zones as buttons, or any IANA name typed),
their agenda and reminders; heads and admins also the team's settings (the phone region:
admins change it, heads see it).

The buttons are the `set` actions of bot/views/actions.py. A refusal (DomainError) is answered
by the error handler; the question it came from stays open.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.services import schedule, team, team_settings
from bot.services.errors import NotAllowed
from bot.services.model import User, clock_text
from bot.telegram.context import NextStepContext
from bot.timefmt import format_moment
from bot.views.actions import (
    SETTINGS_AGENDA_TIME,
    SETTINGS_ASK,
    SETTINGS_HEADS_UP,
    SETTINGS_QUIET_HOURS,
    SETTINGS_TIMEZONE,
    SETTINGS_TIMEZONES,
    SETTINGS_WORKING_DAY,
    SETTINGS_WORKING_DAYS_SAVE,
    TEAM_REGION,
    TEAM_REGIONS,
    TEAM_THRESHOLD,
    TEAM_THRESHOLDS,
)
from bot.views.calendar import settings_button as calendar_settings_button
from bot.views.callback_data import any_of
from bot.views.digest import settings_button as digest_settings_button
from bot.views.keyboards import button, grid, keyboard
from bot.views.render import escape
from handlers.common import (
    NOT_VALID,
    edit,
    flow_fallbacks,
    hint,
    reply,
    set_buttons,
    team_phone_region,
)
from handlers.flow import Flow

CHOOSING_TIMEZONE, TYPING_AGENDA_TIME, TYPING_QUIET_HOURS, TYPING_REGION = 1, 2, 3, 4
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
AGENDA_TIMES = ("07:30", "08:00", "08:30", "09:00", "09:30", "10:00")
QUIET_CHOICES = (("21:00–08:00", "2100-0800"), ("22:00–07:00", "2200-0700"), ("Off", "off"))
HEADS_UP_CHOICES = (("Off", 0), ("15 min", 15), ("30 min", 30), ("1 hour", 60), ("2 hours", 120))
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)
COMMON_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "PL", "IN", "AE", "AU", "CA")
ROLE_NAMES = {"admin": "admin", "head": "head of sales", "manager": "manager"}
ASK_ZONE = (
    "Choose your time zone, or send its name — for example <code>Europe/Paris</code>, "
    "<code>America/Sao_Paulo</code> or just <code>Paris</code>:"
)


def _days(user: User) -> str:
    return ", ".join(DAY_NAMES[day - 1] for day in sorted(user.working_days)) or "none"


def _card(user: User, now_text: str, region: str) -> str:
    quiet = (
        f"{clock_text(user.quiet_from)}–{clock_text(user.quiet_to)}"
        if user.quiet_from != user.quiet_to
        else "off"
    )
    heads_up = f"{user.heads_up_minutes} min before" if user.heads_up_minutes else "off"
    away = ""
    if user.away_until is not None:
        away = (
            f"\nAway until: {escape(format_moment(user.away_until, user.timezone, user.locale))}"
        )
    return (
        "<b>Your settings</b>\n"
        f"Role: {ROLE_NAMES[user.role.value]}\n"
        f"Time zone: {escape(user.timezone)} (your time now: {escape(now_text)})\n"
        f"Morning agenda: {clock_text(user.agenda_time)} on {_days(user)}\n"
        f"Quiet hours: {escape(quiet)}\n"
        f"Meeting heads-up: {heads_up}{away}\n"
        f"Phones typed without +country: {escape(team_settings.region_name(region, user.locale))}"
        " (team)"
    )


SETTINGS_BUTTONS = (
    ("🕘 Time zone", "tz"),
    ("☀️ Agenda time", "ag"),
    ("📅 Working days", "wd"),
    ("🌙 Quiet hours", "qh"),
    ("🔔 Meeting heads-up", "hu"),
)


def _card_markup(user: User | None = None) -> InlineKeyboardMarkup | None:
    rows = grid(
        [
            button(label, SETTINGS_TIMEZONES) if key == "tz" else button(label, SETTINGS_ASK, key)
            for label, key in SETTINGS_BUTTONS
        ],
        2,
    )
    rows.append([digest_settings_button()])  # handled in handlers/digest.py
    rows.append([calendar_settings_button()])  # handled in handlers/calendar.py
    if user is not None and user.is_lead:
        rows.append([button("🏢 Team: overdue alert", TEAM_THRESHOLDS)])
        rows.append([button("🏢 Team: phone region", TEAM_REGIONS)])
    return keyboard(rows)


THRESHOLDS = ("0", "1000", "5000", "10000", "50000", "100000")


async def team_threshold(update: Update, context: NextStepContext) -> None:
    """Heads and admins: the overdue total of one client that alerts heads (presets)."""
    query = update.callback_query
    assert query is not None
    preset = TEAM_THRESHOLD.parse(query.data)
    if preset is None and TEAM_THRESHOLDS.parse(query.data) is None:
        await query.answer(NOT_VALID, show_alert=True)
        return
    chosen = preset[0] if preset else None
    if chosen is not None:
        await team_settings.change(
            context.db,
            context.clock,
            actor=context.member,
            key="overdue_alert_threshold",
            value=chosen,
        )
    elif not context.member.is_lead:
        raise NotAllowed("Only a head of sales or an admin changes team settings.")
    await query.answer("Saved" if chosen is not None else None)
    current = (await team_settings.load(context.db)).get("overdue_alert_threshold")
    shown = "off" if current == "0" else f"{int(float(current)):,} in the invoice's currency"
    text = (
        "<b>Team: overdue alert</b>\nHeads are alerted when one client's overdue total in a "
        f"currency passes this amount (and always at an invoice's final stage).\nNow: {shown}"
    )
    presets = [button("Off" if v == "0" else f"{int(v):,}", TEAM_THRESHOLD, v) for v in THRESHOLDS]
    await edit(query, text, keyboard(grid(presets, 3)))


def _flag(code: str) -> str:
    """A region's flag emoji, from its two letters (regional indicator symbols)."""
    return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in code.upper())


def _region_markup(locale: str) -> InlineKeyboardMarkup | None:
    buttons = [
        button(f"{_flag(code)} {team_settings.region_name(code, locale)}", TEAM_REGION, code)
        for code in COMMON_REGIONS
    ]
    return keyboard(grid(buttons, 2))


async def ask_region(update: Update, context: NextStepContext) -> int:
    """ "Team: phone region": an admin gets common regions and may type any; a head is told
    what it is and who changes it (the card stays); others are refused."""
    query = update.callback_query
    assert query is not None
    user = context.member
    if not user.is_lead:
        raise NotAllowed("Only a head of sales or an admin sees the team's settings.")
    region = team_settings.region_name(await team_phone_region(context), user.locale)
    if user.role.value != "admin":
        await query.answer(
            f"Phone numbers typed without +country are read as {region} numbers. "
            "Only an admin can change this.",
            show_alert=True,
        )
        return ConversationHandler.END
    await query.answer()
    await edit(
        query,
        "<b>Team: phone region</b>\nPhone numbers typed without <code>+country</code> (new "
        f"clients, a phone edit, imports) are read as <b>{escape(region)}</b> numbers.\n"
        "Tap a region or send another: a two-letter code (<code>BR</code>), a calling code "
        "(<code>+55</code>) or a country's name (<code>Brazil</code>). /cancel leaves it.",
        _region_markup(user.locale),
    )
    return TYPING_REGION


async def _set_region(context: NextStepContext, code: str) -> str:
    stored = await team_settings.change(
        context.db,
        context.clock,
        actor=context.member,
        key=team_settings.PHONE_REGION,
        value=code,
    )
    shown = team_settings.region_name(stored, context.member.locale)
    return (
        f"✅ Phone numbers typed without +country are now read as <b>{escape(shown)}</b> "
        "numbers. Numbers already saved keep their country."
    )


async def chosen_region(update: Update, context: NextStepContext) -> int:
    """A region button (an admin's; the service checks the role and the code)."""
    query = update.callback_query
    assert query is not None
    found = TEAM_REGION.parse(query.data)
    if found is None:
        await query.answer(NOT_VALID, show_alert=True)
        return ConversationHandler.END
    text = await _set_region(context, found[0])
    await query.answer("Saved")
    await edit(query, text)
    return ConversationHandler.END


async def typed_region(update: Update, context: NextStepContext) -> int:
    """A typed region: a code, a calling code or a country's name (any it can't place is
    asked again, naming what to send)."""
    message = update.effective_message
    assert message is not None
    with hint("/cancel leaves it unchanged.", sep=" "):
        code = team_settings.resolve_region(message.text or "", context.member.locale)
        text = await _set_region(context, code)
    await reply(update, text)
    return ConversationHandler.END


async def _card_text(context: NextStepContext, user: User) -> str:
    now_text = format_moment(context.clock.now(), user.timezone, user.locale)
    return _card(user, now_text, await team_phone_region(context))


async def show_settings(update: Update, context: NextStepContext) -> int:
    """/settings: the card with what can be changed."""
    user = context.member
    await reply(update, await _card_text(context, user), reply_markup=_card_markup(user))
    return ConversationHandler.END


async def _show_updated(update: Update, context: NextStepContext, user: User, note: str) -> int:
    text = f"✅ {note}\n\n{await _card_text(context, user)}"
    query = update.callback_query
    if query is not None:
        await edit(query, text, _card_markup(user))
    else:
        await reply(update, text, reply_markup=_card_markup(user))
    return ConversationHandler.END


async def ask_setting(update: Update, context: NextStepContext) -> int:
    """Agenda time / working days / quiet hours / heads-up pressed: offer the choices."""
    query = update.callback_query
    assert query is not None
    found = SETTINGS_ASK.parse(query.data)
    if found is None:
        await query.answer(NOT_VALID, show_alert=True)
        return ConversationHandler.END
    await query.answer()
    (key,) = found
    user = context.member
    if key == "ag":
        buttons = [button(t, SETTINGS_AGENDA_TIME, t.replace(":", "")) for t in AGENDA_TIMES]
        await edit(
            query,
            "When should your morning agenda arrive? Tap a time or type one, e.g. "
            "<code>8:45</code>.",
            keyboard(grid(buttons, 3)),
        )
        return TYPING_AGENDA_TIME
    if key == "wd":
        assert context.user_data is not None
        context.user_data["working_days"] = sorted(user.working_days)
        await edit(query, "Tap days to switch them on or off, then Save.", _days_markup(context))
        return ConversationHandler.END
    if key == "qh":
        buttons = [button(label, SETTINGS_QUIET_HOURS, code) for label, code in QUIET_CHOICES]
        await edit(
            query,
            "Quiet hours hold reminders until they end. Tap a choice or type a range like "
            "<code>22:00-07:30</code>.",
            keyboard([buttons]),
        )
        return TYPING_QUIET_HOURS
    buttons = [button(label, SETTINGS_HEADS_UP, minutes) for label, minutes in HEADS_UP_CHOICES]
    await edit(
        query,
        "How long before a meeting or visit should I remind you?",
        keyboard(grid(buttons, 3)),
    )
    return ConversationHandler.END


def _days_markup(context: NextStepContext) -> InlineKeyboardMarkup | None:
    assert context.user_data is not None
    chosen = set(context.user_data.get("working_days", []))
    buttons = [
        button(("✅ " if day in chosen else "") + name, SETTINGS_WORKING_DAY, day)
        for day, name in enumerate(DAY_NAMES, start=1)
    ]
    return keyboard([*grid(buttons, 4), [button("Save", SETTINGS_WORKING_DAYS_SAVE)]])


async def chosen_setting(update: Update, context: NextStepContext) -> int:
    """A value button: agenda time, a working-day toggle or Save, quiet hours, heads-up."""
    query = update.callback_query
    assert query is not None and context.user_data is not None
    data = query.data
    db, clock, actor = context.db, context.clock, context.member
    # Each branch answers the press only once the value is accepted: a refused (forged)
    # value is answered by the error handler's alert, and a press can be answered only once.
    if (agenda := SETTINGS_AGENDA_TIME.parse(data)) is not None:
        hhmm = agenda[0]
        user = await schedule.set_agenda_time(
            db, clock, actor=actor, text=f"{hhmm[:2]}:{hhmm[2:]}"
        )
        await query.answer()
        return await _show_updated(update, context, user, "Morning agenda time saved.")
    if SETTINGS_WORKING_DAYS_SAVE.parse(data) is not None:
        days = set(context.user_data.pop("working_days", []))
        user = await schedule.set_working_days(db, clock, actor=actor, days=days)
        await query.answer()
        return await _show_updated(update, context, user, "Working days saved.")
    if (day := SETTINGS_WORKING_DAY.parse(data)) is not None:
        chosen = set(context.user_data.get("working_days", []))
        chosen ^= {day[0]}
        context.user_data["working_days"] = sorted(chosen)
        await query.answer()
        await set_buttons(query, _days_markup(context))
        return ConversationHandler.END
    if (quiet := SETTINGS_QUIET_HOURS.parse(data)) is not None:
        start, end = schedule.parse_quiet_range(quiet[0])
        user = await schedule.set_quiet_hours(db, clock, actor=actor, start=start, end=end)
        await query.answer()
        return await _show_updated(update, context, user, "Quiet hours saved.")
    if (heads_up := SETTINGS_HEADS_UP.parse(data)) is not None:
        user = await schedule.set_heads_up(db, clock, actor=actor, minutes=heads_up[0])
        await query.answer()
        return await _show_updated(update, context, user, "Meeting heads-up saved.")
    await query.answer(NOT_VALID, show_alert=True)
    return ConversationHandler.END


async def typed_agenda_time(update: Update, context: NextStepContext) -> int:
    """A typed agenda time."""
    message = update.effective_message
    assert message is not None
    with hint("/cancel leaves it unchanged.", sep=" "):
        user = await schedule.set_agenda_time(
            context.db, context.clock, actor=context.member, text=message.text or ""
        )
    return await _show_updated(update, context, user, "Morning agenda time saved.")


async def typed_quiet_hours(update: Update, context: NextStepContext) -> int:
    """Typed quiet hours."""
    message = update.effective_message
    assert message is not None
    with hint("/cancel leaves them unchanged.", sep=" "):
        start, end = schedule.parse_quiet_range(message.text or "")
        user = await schedule.set_quiet_hours(
            context.db, context.clock, actor=context.member, start=start, end=end
        )
    return await _show_updated(update, context, user, "Quiet hours saved.")


async def ask_timezone(update: Update, context: NextStepContext) -> int:
    """ "Time zone" pressed: offer common zones and wait for a typed name."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    buttons = [button(zone, SETTINGS_TIMEZONE, zone) for zone in COMMON_ZONES]
    await edit(query, ASK_ZONE, keyboard(grid(buttons, 2)))
    return CHOOSING_TIMEZONE


async def typed_timezone(update: Update, context: NextStepContext) -> int:
    """A zone name was typed: resolve it, or say what to send instead."""
    message = update.effective_message
    assert message is not None and message.text is not None
    zone = team.resolve_timezone(message.text)
    if zone is None:
        shown = escape(message.text.strip()[:100])
        await reply(
            update,
            f"I don't know the time zone “{shown}”. Send a name like <code>Europe/Paris</code>, "
            "<code>America/New_York</code> or <code>Asia/Dubai</code>, or tap a button above. "
            "/cancel leaves it unchanged.",
        )
        return CHOOSING_TIMEZONE
    await reply(update, await _apply(context, zone))
    return ConversationHandler.END


async def chosen_timezone(update: Update, context: NextStepContext) -> int:
    """A zone button was pressed."""
    query = update.callback_query
    assert query is not None
    found = SETTINGS_TIMEZONE.parse(query.data)
    zone = team.resolve_timezone(found[0]) if found else None
    if zone is None:
        await query.answer(NOT_VALID, show_alert=True)
        return ConversationHandler.END
    await query.answer()
    await edit(query, await _apply(context, zone))
    return ConversationHandler.END


async def _apply(context: NextStepContext, zone: str) -> str:
    user = await team.set_timezone(context.db, context.clock, actor=context.member, timezone=zone)
    now_text = format_moment(context.clock.now(), user.timezone, user.locale)
    return f"✅ Time zone set to <b>{escape(zone)}</b>. Your time now: {escape(now_text)}."


def handlers() -> list[tuple[object, int]]:
    """/settings as a persistent conversation (it survives a restart mid-way)."""
    text = filters.TEXT & ~filters.COMMAND
    zone_buttons = CallbackQueryHandler(chosen_timezone, pattern=SETTINGS_TIMEZONE.pattern)
    other_buttons = [
        CallbackQueryHandler(ask_setting, pattern=SETTINGS_ASK.pattern),
        CallbackQueryHandler(
            chosen_setting,
            pattern=any_of(
                SETTINGS_AGENDA_TIME,
                SETTINGS_WORKING_DAY,
                SETTINGS_WORKING_DAYS_SAVE,
                SETTINGS_QUIET_HOURS,
                SETTINGS_HEADS_UP,
            ),
        ),
    ]
    region_buttons = [
        CallbackQueryHandler(ask_region, pattern=TEAM_REGIONS.pattern),
        CallbackQueryHandler(chosen_region, pattern=TEAM_REGION.pattern),
    ]
    conversation = Flow(
        name="settings",
        entry_points=[
            CommandHandler("settings", show_settings),
            CallbackQueryHandler(ask_timezone, pattern=SETTINGS_TIMEZONES.pattern),
            zone_buttons,
            *other_buttons,
            *region_buttons,
        ],
        states={
            CHOOSING_TIMEZONE: [
                MessageHandler(text, typed_timezone),
                zone_buttons,
                CallbackQueryHandler(ask_timezone, pattern=SETTINGS_TIMEZONES.pattern),
                *other_buttons,
            ],
            TYPING_AGENDA_TIME: [MessageHandler(text, typed_agenda_time), *other_buttons],
            TYPING_QUIET_HOURS: [MessageHandler(text, typed_quiet_hours), *other_buttons],
            TYPING_REGION: [MessageHandler(text, typed_region), *region_buttons, *other_buttons],
        },
        fallbacks=flow_fallbacks(),
    )
    threshold = CallbackQueryHandler(
        team_threshold, pattern=any_of(TEAM_THRESHOLDS, TEAM_THRESHOLD)
    )
    return [(threshold, 0), (conversation, 0)]
