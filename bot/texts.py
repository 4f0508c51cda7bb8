"""Sample contexts for every bot-text template, so `check` and the tests render each one."""

from __future__ import annotations

from typing import Any

from bot.commands import commands_for
from storage.users import Role

SAMPLE_CONTEXTS: dict[str, list[dict[str, Any]]] = {
    "texts/help.html.j2": [
        {
            "greeting": greeting,
            "role": role.value,
            "role_label": role.value,
            "commands": commands_for(role),
            "timezone": "Europe/Berlin",
        }
        for role in Role
        for greeting in (None, "Hello <Ann>!")
    ],
    "texts/invite_only.html.j2": [{"state": s} for s in ("created", "pending", "nobody")],
    "texts/access_request.html.j2": [
        {"name": "Ann <b>", "username": "ann", "telegram_id": 42},
        {"name": "Bo", "username": None, "telegram_id": 43},
    ],
}
