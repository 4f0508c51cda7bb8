"""Derive the compact Bot API spec (`botapi_spec.json`) from the official `api.json`.

Usage: `python -m bot.devtools.sandbox.derive_spec [--check] [path/to/api.json]`.

The compact file keeps, for every method and type, only the field names, their types, whether
they are required, and the subtypes of abstract types. Descriptions are dropped, except for one
fact the validator needs: the discriminating value of a subtype ("Scope type, must be chat",
"Type of the result, must be article", "always \"creator\""), kept as the field's `const`.
`--check` exits 1 when the committed file differs from a fresh derivation.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

COMPACT_PATH = Path(__file__).with_name("botapi_spec.json")
DEFAULT_SOURCE = Path(__file__).resolve().parents[3].parent / "shared/telegram-bot-api/api.json"

# "Scope type, must be chat" / "Type of the message origin, always \"user\"".
_CONST = re.compile(r"(?:must be|always) [\"“]?([a-z0-9_]+)[\"”]?$")


def _fields(entry: dict[str, Any], discriminated: bool) -> dict[str, dict[str, Any]]:
    fields: dict[str, dict[str, Any]] = {}
    for position, field in enumerate(entry.get("fields", [])):
        compact: dict[str, Any] = {"types": field["types"], "required": field["required"]}
        match = _CONST.search(field.get("description", ""))
        if discriminated and position == 0 and match:
            compact["const"] = match.group(1)
        fields[field["name"]] = compact
    return fields


def derive(api: dict[str, Any]) -> dict[str, Any]:
    """Reduce the official spec to what the validator needs (no descriptions)."""
    subtype_names = {name for entry in api["types"].values() for name in entry.get("subtypes", [])}
    types: dict[str, Any] = {}
    for name, entry in api["types"].items():
        compact: dict[str, Any] = {"fields": _fields(entry, name in subtype_names)}
        if "subtypes" in entry:
            compact["subtypes"] = entry["subtypes"]
        types[name] = compact
    methods = {name: {"fields": _fields(entry, False)} for name, entry in api["methods"].items()}
    return {"version": api["version"], "methods": methods, "types": types}


def render(compact: dict[str, Any]) -> str:
    """Serialise deterministically: sorted keys, one line per method or type."""
    lines = ["{", f' "version": {json.dumps(compact["version"])},']
    for section in ("methods", "types"):
        entries = sorted(compact[section].items())
        lines.append(f' "{section}": {{')
        for index, (name, entry) in enumerate(entries):
            comma = "," if index < len(entries) - 1 else ""
            body = json.dumps(entry, sort_keys=True, ensure_ascii=False)
            lines.append(f"  {json.dumps(name)}: {body}{comma}")
        lines.append(" }," if section == "methods" else " }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Write (or with `--check`, verify) the compact spec; return the exit code."""
    check = "--check" in argv
    paths = [arg for arg in argv if arg != "--check"]
    source = Path(paths[0]) if paths else DEFAULT_SOURCE
    fresh = render(derive(json.loads(source.read_text(encoding="utf-8"))))
    if check:
        current = COMPACT_PATH.read_text(encoding="utf-8") if COMPACT_PATH.exists() else ""
        if current != fresh:
            print(f"{COMPACT_PATH} is out of date; run python -m bot.devtools.sandbox.derive_spec")
            return 1
        return 0
    COMPACT_PATH.write_text(fresh, encoding="utf-8")
    print(f"wrote {COMPACT_PATH} ({compact_summary(fresh)})")
    return 0


def compact_summary(text: str) -> str:
    """A one-line summary of a rendered compact spec."""
    data = json.loads(text)
    return f"{data['version']}: {len(data['methods'])} methods, {len(data['types'])} types"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
