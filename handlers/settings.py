"""/settings: a person's role and time zone (common zones as buttons, or any IANA name typed),
their agenda and reminders; heads and admins also the team's settings (the phone region:
admins change it, heads see it).

The buttons are the `set` actions of bot/views/actions.py. A refusal (DomainError) is answered
by the error handler; the question it came from stays open.
"""

from __future__ import annotations

from babel import Locale
from babel.dates import get_day_names
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import i18n
from bot.i18n import N_
from bot.i18n import gettext as _
from bot.services import schedule, team, team_settings
from bot.services.access import require_lead
from bot.services.errors import NotAllowed
from bot.services.model import User, clock_text
from bot.telegram.command_menu import publish_commands_for
from bot.telegram.context import NextStepContext
from bot.timefmt import format_moment
from bot.views.actions import (
    SETTINGS_AGENDA_TIME,
    SETTINGS_ASK,
    SETTINGS_HEADS_UP,
    SETTINGS_LANGUAGE,
    SETTINGS_LANGUAGES,
    SETTINGS_QUIET_HOURS,
    SETTINGS_TIMEZONE,
    SETTINGS_TIMEZONES,
    SETTINGS_WORKING_DAY,
    SETTINGS_WORKING_DAYS_SAVE,
    TEAM_LANGUAGE,
    TEAM_LANGUAGES,
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
    message_text,
    reply,
    set_buttons,
    team_phone_region,
)
from handlers.flow import Flow

CHOOSING_TIMEZONE, TYPING_AGENDA_TIME, TYPING_QUIET_HOURS, TYPING_REGION = 1, 2, 3, 4
CHOOSING_LANGUAGE = 5
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
ROLE_NAMES = {"admin": N_("admin"), "head": N_("head of sales"), "manager": N_("manager")}
ASK_ZONE = (
    "Choose your time zone, or send its name — for example <code>Europe/Paris</code>, "
    "<code>America/Sao_Paulo</code> or just <code>Paris</code>:"
)


def _days(user: User) -> str:
    names = get_day_names("abbreviated", locale=user.locale)  # Babel: 0 is Monday
    return ", ".join(names[day - 1] for day in sorted(user.working_days)) or _("none")


def _language_name(locale: str) -> str:
    return i18n.LANGUAGE_NAMES.get(i18n.language_of(locale), locale)


def _card(user: User, now_text: str, region: str) -> str:
    quiet = (
        f"{clock_text(user.quiet_from)}–{clock_text(user.quiet_to)}"
        if user.quiet_from != user.quiet_to
        else _("off")
    )
    heads_up = (
        _("{minutes} min before").format(minutes=user.heads_up_minutes)
        if user.heads_up_minutes
        else _("off")
    )
    lines = [
        _("<b>Your settings</b>"),
        _("Role: {role}").format(role=_(ROLE_NAMES[user.role.value])),
        _("Language: {language}").format(
            language=i18n.LANGUAGE_NAMES.get(user.locale, user.locale)
        ),
        _("Time zone: {zone} (your time now: {now})").format(
            zone=escape(user.timezone), now=escape(now_text)
        ),
        _("Morning agenda: {time} on {days}").format(
            time=clock_text(user.agenda_time), days=escape(_days(user))
        ),
        _("Quiet hours: {hours}").format(hours=escape(quiet)),
        _("Meeting heads-up: {heads_up}").format(heads_up=escape(heads_up)),
    ]
    if user.away_until is not None:
        away = format_moment(user.away_until, user.timezone, user.locale)
        lines.append(_("Away until: {moment}").format(moment=escape(away)))
    lines.append(
        _("Phones typed without +country: {region} (team)").format(
            region=escape(team_settings.region_name(region, user.locale))
        )
    )
    return "\n".join(lines)


SETTINGS_BUTTONS = (
    (N_("🕘 Time zone"), "tz"),
    (N_("☀️ Agenda time"), "ag"),
    (N_("📅 Working days"), "wd"),
    (N_("🌙 Quiet hours"), "qh"),
    (N_("🔔 Meeting heads-up"), "hu"),
)


def _card_markup(user: User | None = None) -> InlineKeyboardMarkup | None:
    rows = grid(
        [
            button(_(label), SETTINGS_TIMEZONES)
            if key == "tz"
            else button(_(label), SETTINGS_ASK, key)
            for label, key in SETTINGS_BUTTONS
        ],
        2,
    )
    rows.append([button(_("🌐 Language"), SETTINGS_LANGUAGES)])
    rows.append([digest_settings_button()])  # handled in handlers/digest.py
    rows.append([calendar_settings_button()])  # handled in handlers/calendar.py
    if user is not None and user.is_lead:
        rows.append([button("🏢 Team: overdue alert", TEAM_THRESHOLDS)])
        rows.append([button("🏢 Team: phone region", TEAM_REGIONS)])
        rows.append([button(_("🏢 Team: language for new people"), TEAM_LANGUAGES)])
    return keyboard(rows)


async def ask_language(update: Update, context: NextStepContext) -> int:
    """ "🌐 Language": the languages, each in its own name (the name typed works too)."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    buttons = [button(name, SETTINGS_LANGUAGE, code) for code, name in i18n.LANGUAGE_NAMES.items()]
    await edit(
        query,
        _("Which language should I use with you? Dates and amounts follow it too."),
        keyboard(grid(buttons, 2)),
    )
    return CHOOSING_LANGUAGE


async def ask_team_language(update: Update, context: NextStepContext) -> int:
    """ "Team: language for new people" (heads and admins): the languages as buttons."""
    query = update.callback_query
    assert query is not None
    require_lead(context.member)  # managers have no such button; a forged press is refused
    current = (await team_settings.load(context.db)).get(team_settings.LANGUAGE)
    shown = _language_name(current or context.settings.default_locale)
    await query.answer()
    buttons = [button(name, TEAM_LANGUAGE, code) for code, name in i18n.LANGUAGE_NAMES.items()]
    await edit(
        query,
        _(
            "New people start in the language their Telegram is in when I speak it; "
            "otherwise in the team's language, now {language}. Choose it:"
        ).format(language=escape(shown)),
        keyboard(grid(buttons, 2)),
    )
    return ConversationHandler.END


async def chosen_team_language(update: Update, context: NextStepContext) -> int:
    """A team language chosen (a manager's forged press is refused by the service)."""
    query = update.callback_query
    assert query is not None
    found = TEAM_LANGUAGE.parse(query.data)
    if found is None:
        await query.answer(NOT_VALID, show_alert=True)
        return ConversationHandler.END
    code = await team_settings.change(  # a refusal is answered on the button, as an alert
        context.db,
        context.clock,
        actor=context.member,
        key=team_settings.LANGUAGE,
        value=str(found[0]),
    )
    await query.answer()
    note = _("Team language for new people: {language}").format(language=_language_name(code))
    return await _show_updated(update, context, context.member, note)


async def typed_language(update: Update, context: NextStepContext) -> int:
    """A language typed: its code, or its name in itself or in any of the bot's languages."""
    typed = " ".join(message_text(update).split()).casefold()
    for code in i18n.LOCALES:
        names = {code, *(Locale.parse(code).get_display_name(other) for other in i18n.LOCALES)}
        if typed in {name.casefold() for name in names if name}:
            return await _set_language(update, context, code)
    listed = ", ".join(i18n.LANGUAGE_NAMES.values())
    await reply(
        update, _("I speak {languages}. Tap one, or send its name.").format(languages=listed)
    )
    return CHOOSING_LANGUAGE


async def chosen_language(update: Update, context: NextStepContext) -> int:
    """A language: texts, buttons, dates, money and the command menu switch to it."""
    query = update.callback_query
    assert query is not None
    found = SETTINGS_LANGUAGE.parse(query.data)
    if found is None:
        await query.answer(NOT_VALID, show_alert=True)
        return ConversationHandler.END
    await query.answer()
    return await _set_language(update, context, str(found[0]))


async def _set_language(update: Update, context: NextStepContext, code: str) -> int:
    user = await team.set_language(context.db, context.clock, actor=context.member, locale=code)
    i18n.set_locale(user.locale)  # this very answer is already in the new language
    await publish_commands_for(context.bot, user)
    name = i18n.LANGUAGE_NAMES[user.locale]
    return await _show_updated(
        update, context, user, _("Language: {language}").format(language=name)
    )


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
    language_buttons = [
        CallbackQueryHandler(ask_language, pattern=SETTINGS_LANGUAGES.pattern),
        CallbackQueryHandler(chosen_language, pattern=SETTINGS_LANGUAGE.pattern),
        CallbackQueryHandler(ask_team_language, pattern=TEAM_LANGUAGES.pattern),
        CallbackQueryHandler(chosen_team_language, pattern=TEAM_LANGUAGE.pattern),
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
            *language_buttons,
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
            CHOOSING_LANGUAGE: [
                MessageHandler(text, typed_language),
                *language_buttons,
                *other_buttons,
            ],
        },
        fallbacks=flow_fallbacks(),
    )
    threshold = CallbackQueryHandler(
        team_threshold, pattern=any_of(TEAM_THRESHOLDS, TEAM_THRESHOLD)
    )
    return [(threshold, 0), (conversation, 0)]
