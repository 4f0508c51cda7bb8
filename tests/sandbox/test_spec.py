"""The compact Bot API spec is current and has what the validator relies on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.devtools.sandbox import derive_spec
from bot.devtools.sandbox.validate import load_spec


@pytest.mark.skipif(
    not derive_spec.DEFAULT_SOURCE.exists(), reason="../shared/telegram-bot-api is absent"
)
def test_compact_spec_matches_a_fresh_derivation() -> None:
    """botapi_spec.json is what derive_spec makes of the official api.json."""
    api = json.loads(derive_spec.DEFAULT_SOURCE.read_text(encoding="utf-8"))
    fresh = derive_spec.render(derive_spec.derive(api))
    assert derive_spec.COMPACT_PATH.read_text(encoding="utf-8") == fresh, (
        "run: python -m bot.devtools.sandbox.derive_spec"
    )
    assert derive_spec.main(["--check", str(derive_spec.DEFAULT_SOURCE)]) == 0


def test_send_message_requires_chat_id_and_text() -> None:
    """The shipped spec knows sendMessage and its required parameters."""
    spec = load_spec()
    fields = spec.methods["sendMessage"]
    assert fields["chat_id"].required and fields["chat_id"].types == ("Integer", "String")
    assert fields["text"].required and fields["text"].types == ("String",)
    assert not fields["parse_mode"].required
    assert spec.version.startswith("Bot API ")


def test_derive_drops_descriptions_and_keeps_discriminators() -> None:
    """Only names, types, required flags, subtypes and subtype discriminators survive."""
    api = {
        "version": "Bot API 0.1",
        "methods": {
            "ping": {
                "description": ["Pings."],
                "fields": [
                    {"name": "n", "types": ["Integer"], "required": True, "description": "x"}
                ],
            }
        },
        "types": {
            "Scope": {"description": ["A scope."], "subtypes": ["ScopeChat"]},
            "ScopeChat": {
                "description": ["In a chat."],
                "fields": [
                    {
                        "name": "type",
                        "types": ["String"],
                        "required": True,
                        "description": "Scope type, must be chat",
                    }
                ],
            },
        },
    }
    compact = derive_spec.derive(api)
    assert compact["methods"] == {
        "ping": {"fields": {"n": {"types": ["Integer"], "required": True}}}
    }
    assert compact["types"]["Scope"] == {"fields": {}, "subtypes": ["ScopeChat"]}
    assert compact["types"]["ScopeChat"]["fields"]["type"]["const"] == "chat"
    assert "description" not in derive_spec.render(compact)
    assert json.loads(derive_spec.render(compact)) == compact


def test_check_mode_detects_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--check exits 1 when the committed compact file differs."""
    stale = tmp_path / "botapi_spec.json"
    stale.write_text("{}\n", encoding="utf-8")
    source = tmp_path / "api.json"
    source.write_text(json.dumps({"version": "v", "methods": {}, "types": {}}), encoding="utf-8")
    monkeypatch.setattr(derive_spec, "COMPACT_PATH", stale)
    assert derive_spec.main(["--check", str(source)]) == 1
    assert derive_spec.main([str(source)]) == 0
    assert derive_spec.main(["--check", str(source)]) == 0
