"""Check Bot API calls against the compact official spec and Telegram's documented limits.

Each violation is a Telegram-like description, optionally followed by details in brackets,
e.g. `BUTTON_DATA_INVALID (reply_markup.inline_keyboard[0][1].callback_data: 65 bytes)`;
the server answers `Bad Request: <first violation>`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from bot.devtools.sandbox.derive_spec import COMPACT_PATH
from bot.devtools.sandbox.telegram_html import parse_html, utf16_len

PRIMITIVES = ("Integer", "Float", "Boolean", "String")
PARSE_MODES = ("HTML", "MarkdownV2", "Markdown")
ARRAY = "Array of "

# Limits from the descriptions in the official spec (https://core.telegram.org/bots/api):
# sendMessage/editMessageText.text and InputTextMessageContent.message_text: "1-4096 characters
# after entities parsing"; caption: "0-1024 characters after entities parsing";
# InlineKeyboardButton.callback_data: "1-64 bytes"; answerCallbackQuery.text: "0-200
# characters"; answerInlineQuery.results: "No more than 50 results per query are allowed";
# BotCommand.command: "1-32 characters. Can contain only lowercase English letters, digits and
# underscores"; BotCommand.description: "1-256 characters".
TEXT_FIELDS = {
    "sendMessage": "text",
    "editMessageText": "text",
    "InputTextMessageContent": "message_text",
}
TEXT_MAX = 4096
CAPTION_MAX = 1024
CALLBACK_DATA_MAX_BYTES = 64
CALLBACK_ANSWER_MAX = 200
INLINE_RESULTS_MAX = 50
COMMAND = re.compile(r"[a-z0-9_]{1,32}")
COMMAND_DESCRIPTION_MAX = 256
# "Exactly one of the fields other than text, icon_custom_emoji_id, and style must be used".
BUTTON_LOOKS = frozenset({"text", "icon_custom_emoji_id", "style"})


@dataclass(frozen=True)
class Field:
    """One parameter of a method or field of a type."""

    types: tuple[str, ...]
    required: bool
    const: str | None = None


@dataclass(frozen=True)
class TypeSpec:
    """A Bot API type: its fields, or for abstract types the subtypes."""

    fields: Mapping[str, Field]
    subtypes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    """The compact Bot API specification."""

    version: str
    methods: Mapping[str, Mapping[str, Field]]
    types: Mapping[str, TypeSpec]

    def method_name(self, name: str) -> str | None:
        """The spec's spelling of a method name (Telegram ignores case), or None."""
        return next((known for known in self.methods if known.lower() == name.lower()), None)


def _fields(raw: Mapping[str, Any]) -> dict[str, Field]:
    return {
        name: Field(tuple(entry["types"]), entry["required"], entry.get("const"))
        for name, entry in raw.items()
    }


@cache
def load_spec() -> Spec:
    """The compact spec shipped next to this module (`botapi_spec.json`), parsed once."""
    raw = json.loads(COMPACT_PATH.read_text(encoding="utf-8"))
    return Spec(
        version=raw["version"],
        methods={name: _fields(entry["fields"]) for name, entry in raw["methods"].items()},
        types={
            name: TypeSpec(_fields(entry["fields"]), tuple(entry.get("subtypes", ())))
            for name, entry in raw["types"].items()
        },
    )


def decode_params(spec: Spec, method: str, raw: Mapping[str, str]) -> dict[str, Any]:
    """Turn form-encoded values into JSON values as Telegram does, guided by declared types.

    PTB sends strings as they are and everything else JSON-encoded; a value is decoded when
    its JSON reading fits one of the declared non-string types.
    """
    fields = spec.methods.get(spec.method_name(method) or "", {})
    decoded: dict[str, Any] = {}
    for name, text in raw.items():
        declared = fields[name].types if name in fields else ()
        if declared == ("String",):
            decoded[name] = text
            continue
        try:
            value = json.loads(text)
        except ValueError:
            decoded[name] = text
            continue
        others = [t for t in declared if t != "String"]
        fits = any(_shape_fits(spec, t, value) for t in others)
        decoded[name] = text if "String" in declared and not fits else value
    return decoded


def _shape_fits(spec: Spec, type_name: str, value: object) -> bool:
    """Whether `value` has the outer JSON shape of `type_name` (no deep check)."""
    if type_name.startswith(ARRAY):
        return isinstance(value, list)
    if type_name == "InputFile":
        return False
    if type_name in PRIMITIVES:
        return not _primitive_errors(type_name, value, "")
    return isinstance(value, dict)


# python-telegram-bot's shared `_send_message` fills `Defaults(parse_mode=...)` into every
# message edit, including editMessageReplyMarkup, which has no such field; Telegram ignores it.
FILLED_BY_PTB_DEFAULTS = frozenset({("editMessageReplyMarkup", "parse_mode")})


def validate_call(
    spec: Spec,
    method: str,
    params: Mapping[str, object],
    files: set[str],
    *,
    strict: bool = True,
) -> list[str]:
    """Violations of one call: unknown method/parameter, missing or mistyped ones, limits.

    `files` names the multipart file parts; `strict=False` tolerates unknown parameters, which
    Telegram itself silently ignores.
    """
    name = spec.method_name(method)
    if name is None:
        return [f"unknown method {method!r}"]
    fields = spec.methods[name]
    parts = frozenset(part for part in files if part in fields)  # others: attach:// targets
    return _Checker(spec, files, strict).check_fields(name, fields, params, "", parts)


def validate_object(spec: Spec, type_name: str, value: object) -> list[str]:
    """Violations of a value that should be of the given Bot API type (e.g. an Update)."""
    return _Checker(spec, set(), strict=True).value((type_name,), value, "")


def _primitive_errors(type_name: str, value: object, path: str) -> list[str]:
    ok = {
        "Integer": isinstance(value, int) and not isinstance(value, bool),
        "Float": isinstance(value, int | float) and not isinstance(value, bool),
        "Boolean": isinstance(value, bool),
        "String": isinstance(value, str),
    }[type_name]
    return [] if ok else [f"wrong type ({path}: expected {type_name}, got {_describe(value)})"]


def _describe(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class _Checker:
    def __init__(self, spec: Spec, files: set[str], strict: bool) -> None:
        self.spec = spec
        self.files = files
        self.strict = strict

    def check_fields(
        self,
        owner: str,
        fields: Mapping[str, Field],
        value: Mapping[str, object],
        path: str,
        parts: frozenset[str] = frozenset(),
    ) -> list[str]:
        """Check a method's parameters or a typed object's fields (`parts`: uploaded ones)."""
        errors: list[str] = []
        for name in sorted(set(value) | parts):
            where = _join(path, name)
            if name not in fields:
                if self.strict and (owner, name) not in FILLED_BY_PTB_DEFAULTS:
                    errors.append(f"unknown parameter ({where} is not a field of {owner})")
                continue
            if name in parts:
                if "InputFile" not in fields[name].types:
                    errors.append(f"wrong type ({where}: a file was uploaded, not allowed)")
                continue
            field = fields[name]
            if field.const is not None and value[name] != field.const:
                errors.append(f"wrong value ({where} must be {field.const!r})")
            errors += self.value(field.types, value[name], where)
        for name, field in fields.items():
            if field.required and name not in value and name not in parts:
                errors.append(_missing(owner, name, _join(path, name)))
        return errors + _limits(owner, fields, value, path)

    def value(self, types: tuple[str, ...], value: object, path: str) -> list[str]:
        """Check a value against alternative types; report the closest alternative's errors."""
        if "InputFile" in types and isinstance(value, str) and value.startswith("attach://"):
            part = value.removeprefix("attach://")
            if part not in self.files:
                return [f"wrong type ({path}: no file part named {part!r} was uploaded)"]
            return []
        attempts = [self.one(type_name, value, path) for type_name in types]
        if any(not errors for errors in attempts):
            return []
        shaped = [
            errors
            for type_name, errors in zip(types, attempts, strict=True)
            if _shape_fits(self.spec, type_name, value)
        ]
        if shaped:
            return min(shaped, key=len)
        if len(types) == 1:
            return attempts[0]
        expected = " or ".join(types)
        return [f"wrong type ({path}: expected {expected}, got {_describe(value)})"]

    def one(self, type_name: str, value: object, path: str) -> list[str]:
        """Check a value against one type expression."""
        if type_name.startswith(ARRAY):
            if not isinstance(value, list):
                return [f"wrong type ({path}: expected {type_name}, got {_describe(value)})"]
            item = type_name.removeprefix(ARRAY)
            return [e for i, v in enumerate(value) for e in self.value((item,), v, f"{path}[{i}]")]
        if type_name in PRIMITIVES:
            return _primitive_errors(type_name, value, path)
        if type_name == "InputFile":  # an attach:// reference was accepted by value()
            return [f"wrong type ({path}: expected an uploaded file or attach://<part>)"]
        spec_type = self.spec.types[type_name]
        if spec_type.subtypes:
            return self.abstract(spec_type.subtypes, value, path)
        if not isinstance(value, dict):
            return [f"wrong type ({path}: expected {type_name}, got {_describe(value)})"]
        return self.check_fields(type_name, spec_type.fields, value, path)

    def abstract(self, subtypes: tuple[str, ...], value: object, path: str) -> list[str]:
        """Check against the subtypes whose discriminating field (e.g. `type`) matches."""
        candidates = list(subtypes)
        if isinstance(value, dict):
            consts = {
                s: (name, f.const)
                for s in subtypes
                if s in self.spec.types
                for name, f in self.spec.types[s].fields.items()
                if f.const is not None
            }
            matching = [s for s, (name, const) in consts.items() if value.get(name) == const]
            if consts and not matching:
                field = next(iter(consts.values()))[0]
                allowed = ", ".join(sorted({const for _, const in consts.values()}))
                where = _join(path, field)
                return [f"wrong value ({where} must be one of {allowed})"]
            candidates = matching or candidates
        return self.value(tuple(candidates), value, path)


def _missing(owner: str, name: str, path: str) -> str:
    if name in ("text", "message_text") and owner in TEXT_FIELDS:
        return "message text is empty"
    return f"parameter {path} is required"


def _limits(
    owner: str, fields: Mapping[str, Field], value: Mapping[str, object], path: str
) -> list[str]:
    """The documented limits that the bare types don't express."""
    errors: list[str] = []
    parse_mode = value.get("parse_mode")
    if parse_mode is not None and parse_mode not in PARSE_MODES:
        errors.append(f"unsupported parse_mode ({_join(path, 'parse_mode')}={parse_mode!r})")
        parse_mode = None
    text_field = TEXT_FIELDS.get(owner)
    if text_field and isinstance(value.get(text_field), str):
        errors += _text_errors(str(value[text_field]), parse_mode, _join(path, text_field))
    if isinstance(value.get("caption"), str):
        errors += _caption_errors(str(value["caption"]), parse_mode, _join(path, "caption"))
    if owner == "InlineKeyboardButton":
        errors += _button_errors(fields, value, path)
    if owner == "answerCallbackQuery" and isinstance(value.get("text"), str):
        length = utf16_len(str(value["text"]))
        if length > CALLBACK_ANSWER_MAX:
            errors.append(f"MESSAGE_TOO_LONG (text: {length} > {CALLBACK_ANSWER_MAX})")
    results = value.get("results")
    if owner == "answerInlineQuery" and isinstance(results, list):
        count = len(results)
        if count > INLINE_RESULTS_MAX:
            errors.append(f"RESULTS_TOO_MUCH ({count} results > {INLINE_RESULTS_MAX})")
    if owner == "BotCommand":
        errors += _command_errors(value, path)
    return errors


def _plain(text: str, parse_mode: object, path: str) -> tuple[str, list[str]]:
    if parse_mode != "HTML":
        return text, []
    parsed = parse_html(text)
    return parsed.text, [f"can't parse entities: {e} ({path})" for e in parsed.errors]


def _text_errors(text: str, parse_mode: object, path: str) -> list[str]:
    plain, errors = _plain(text, parse_mode, path)
    if errors:
        return errors
    if not plain.strip():
        return [f"message text is empty ({path})"]
    if utf16_len(plain) > TEXT_MAX:
        return [f"message is too long ({path}: {utf16_len(plain)} > {TEXT_MAX} characters)"]
    return []


def _caption_errors(caption: str, parse_mode: object, path: str) -> list[str]:
    plain, errors = _plain(caption, parse_mode, path)
    if errors:
        return errors
    if utf16_len(plain) > CAPTION_MAX:
        length = utf16_len(plain)
        return [f"message caption is too long ({path}: {length} > {CAPTION_MAX} characters)"]
    return []


def _button_errors(
    fields: Mapping[str, Field], button: Mapping[str, object], path: str
) -> list[str]:
    errors: list[str] = []
    data = button.get("callback_data")
    if isinstance(data, str):
        size = len(data.encode("utf-8"))
        if not 1 <= size <= CALLBACK_DATA_MAX_BYTES:
            where = _join(path, "callback_data")
            errors.append(f"BUTTON_DATA_INVALID ({where}: {size} bytes, 1-64 allowed)")
    actions = sorted(name for name in button if name in fields and name not in BUTTON_LOOKS)
    if len(actions) != 1:
        errors.append(f"BUTTON_TYPE_INVALID ({path}: needs exactly one action, has {actions})")
    return errors


def _command_errors(command: Mapping[str, object], path: str) -> list[str]:
    errors: list[str] = []
    name = command.get("command")
    if isinstance(name, str) and not COMMAND.fullmatch(name):
        errors.append(f"BOT_COMMAND_INVALID ({_join(path, 'command')}={name!r})")
    description = command.get("description")
    if isinstance(description, str):
        length = utf16_len(description)
        if not 1 <= length <= COMMAND_DESCRIPTION_MAX or not description.strip():
            where = _join(path, "description")
            errors.append(f"BOT_COMMAND_DESCRIPTION_INVALID ({where}: {length} characters)")
    return errors
