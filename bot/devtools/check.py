"""`python -m bot check`: what is wrong with the configuration and the templates."""

from __future__ import annotations

from jinja2 import TemplateError

from bot import i18n
from bot.config import TEMPLATES_DIR, ConfigError, load_settings
from bot.devtools.catalogues import check_catalogues
from bot.devtools.sandbox.telegram_html import parse_telegram_html
from bot.devtools.text_samples import SAMPLE_CONTEXTS
from bot.services.replies.tact import review
from bot.services.replies.templates import (
    builtin_templates,
    check_reply_templates,
    render_template,
    sample_values,
    template_languages,
)
from bot.views.render import environment


def run_checks() -> list[str]:
    """Every problem found, one line each; an empty list means all is well."""
    problems: list[str] = []
    try:
        settings = load_settings()
        if settings.bot_token is None:
            problems.append(
                "BOT_TOKEN is not set: `python -m bot run` needs it to reach Telegram"
                " (`make run` without it starts the sandbox; see .env.example)"
            )
    except ConfigError as exc:
        problems.append(str(exc))
    problems.extend(check_catalogues())
    problems.extend(check_templates())
    problems.extend(check_reply_templates())
    problems.extend(check_reply_tact())
    return problems


def check_reply_tact() -> list[str]:
    """Every built-in reply template of every language, filled with that language's sample
    values, passes the tact check of its own language."""
    problems: list[str] = []
    for language in template_languages():
        values = sample_values(language)
        for template in builtin_templates(language):
            if template.locale != language:
                continue  # an English file standing in for a missing one: reported already
            findings = review(render_template(template, values, language), language).findings
            problems.extend(
                f"templates/replies/{language}/{template.id}.j2: tact: {f.label}: “{f.quote}”"
                for f in findings
            )
    return problems


def check_templates() -> list[str]:
    """Compile every template and render each bot text with its sample context, in every
    language."""
    problems: list[str] = []
    env = environment()
    for path in sorted(TEMPLATES_DIR.rglob("*.j2")):
        name = path.relative_to(TEMPLATES_DIR).as_posix()
        try:
            template = env.get_template(name)
        except TemplateError as exc:
            problems.append(f"templates/{name}: {exc}")
            continue
        samples = SAMPLE_CONTEXTS.get(name, [])
        if name.startswith("texts/") and not samples:
            problems.append(f"templates/{name}: no sample context in bot/devtools/text_samples.py")
        for sample in samples:
            for language in i18n.LOCALES:  # each language's translations must be valid HTML too
                with i18n.using(language):
                    try:
                        text = template.render(**sample)
                    except (TemplateError, KeyError, ValueError) as exc:
                        problems.append(f"templates/{name} ({language}): {exc}")
                        continue
                if name.endswith(".html.j2"):
                    errors = parse_telegram_html(text)[1]
                    problems.extend(
                        f"templates/{name} ({language}): not valid Telegram HTML: {e}"
                        for e in errors
                    )
    missing = sorted(
        set(SAMPLE_CONTEXTS)
        - {p.relative_to(TEMPLATES_DIR).as_posix() for p in TEMPLATES_DIR.rglob("*.j2")}
    )
    problems.extend(
        f"templates/{name}: listed in bot/devtools/text_samples.py but missing" for name in missing
    )
    return problems
