"""The house's plan, checked: each layer imports only the layers below it (README, "How it is
built"), and the shell at the top of bot/ stays small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Layer -> the packages it must not import (prefix match on the dotted module name).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "storage": ("bot", "handlers", "telegram"),
    "bot.services": (
        "telegram",
        "handlers",
        "bot.app",
        "bot.telegram",
        "bot.views",
        "bot.jobs",
        "bot.devtools",
    ),
    "bot.views": ("handlers", "bot.app", "bot.jobs", "bot.devtools", "storage"),
    "bot.telegram": ("handlers", "bot.app", "bot.jobs", "bot.devtools", "storage.digest"),
    "bot.jobs": ("handlers", "bot.app", "bot.devtools"),
    "bot.web": ("handlers", "bot.app", "bot.jobs", "bot.devtools", "storage"),
    "bot.workers": ("handlers", "bot.app", "bot.jobs", "bot.devtools", "bot.telegram"),
    "handlers": ("storage", "bot.app", "bot.jobs", "bot.devtools"),
}
ALLOWED = {
    # The inbox, persistence and the database handle are plumbing around storage itself.
    ("bot.telegram", "storage.db"),
    ("bot.telegram", "storage.inbox"),
    ("bot.telegram", "storage.ptb_state"),
}


def modules() -> list[tuple[str, Path]]:
    """Every product module with its dotted name."""
    found = []
    for top in ("bot", "handlers", "storage"):
        for path in sorted((ROOT / top).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found.append((name.removesuffix(".__init__"), path))
    return found


def imported(path: Path) -> set[str]:
    """The modules a file imports (absolute imports only: the project uses no relative ones)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize(("name", "path"), modules(), ids=[name for name, _ in modules()])
def test_each_layer_imports_only_what_lies_below(name: str, path: Path) -> None:
    """Data flows one way: update -> handler -> service -> repository; only app.py wires."""
    layers = [layer for layer in FORBIDDEN if _under(name, layer)]
    if not layers:
        return
    layer = max(layers, key=len)
    wrong = sorted(
        target
        for target in imported(path)
        for banned in FORBIDDEN[layer]
        if _under(target, banned)
        and not any(_under(target, ok) for lyr, ok in ALLOWED if lyr == layer)
    )
    assert not wrong, f"{name} ({layer}) imports {wrong}"


def test_the_shell_at_the_top_of_bot_is_small() -> None:
    """bot/ holds the shell (CLI, composition root, config, clock, logs) and packages."""
    top = sorted(p.name for p in (ROOT / "bot").glob("*.py"))
    assert len(top) <= 8, top


def test_only_the_composition_root_imports_handlers() -> None:
    """Handlers are wired in one place, bot/app.py."""
    importers = sorted(
        name
        for name, path in modules()
        if not _under(name, "handlers") and any(_under(t, "handlers") for t in imported(path))
    )
    assert importers == ["bot.app"], importers
