"""The folders' promises, read from the imports: the domain is a leaf, flow runs one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(package: str, root: Path = ROOT) -> dict[str, set[str]]:
    """Every module a package's files import (absolute imports: the project uses no others)."""
    found: dict[str, set[str]] = {}
    for path in sorted((root / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(root))] = names
    return found


def reaching(package: str, allowed: tuple[str, ...], root: Path = ROOT) -> list[str]:
    """Imports of `bot`, `handlers`, `publishers` or `data` outside `allowed`."""
    ours = ("bot", "handlers", "publishers", "data")
    bad = []
    for file, names in imported_modules(package, root).items():
        for name in sorted(names):
            top = name.split(".")[0]
            if top in ours and not name.startswith(allowed):
                bad.append(f"{file} imports {name}")
    return bad


@pytest.mark.parametrize(
    ("package", "allowed"),
    [
        ("bot/domain", ("bot.domain",)),
        ("publishers", ("publishers", "bot.domain")),
        ("data", ("data", "bot.domain")),
        ("handlers", ("handlers", "bot", "data", "publishers")),
    ],
)
def test_imports_keep_to_their_layer(package: str, allowed: tuple[str, ...]) -> None:
    assert reaching(package, allowed) == []


def test_the_core_never_imports_the_handlers() -> None:
    """Only the wiring (`app`, `cli`) knows the handler layer."""
    bad = [
        f"{file} imports {name}"
        for file, names in imported_modules("bot").items()
        for name in names
        if name.split(".")[0] == "handlers" and file not in ("bot/app.py", "bot/cli.py")
    ]
    assert bad == []


def test_a_stray_import_is_caught(tmp_path: Path) -> None:
    """The checker itself can fail: a domain file importing the app is reported."""
    (tmp_path / "bot" / "domain").mkdir(parents=True)
    (tmp_path / "bot" / "domain" / "issue.py").write_text(
        "import json\nfrom bot.domain.urls import canonical_url\nfrom bot.weekly.ingest import X\n"
    )
    assert reaching("bot/domain", ("bot.domain",), tmp_path) == [
        "bot/domain/issue.py imports bot.weekly.ingest"
    ]


def test_starting_the_bot_loads_no_library_it_has_no_use_for() -> None:
    """X's libraries load with an X target, the pictures' with the first picture, the
    ops server's with its port: an idle bot without them does not carry them (memory,
    bench/search.py). Checked in a fresh interpreter, as `weeklybot run` imports."""
    import subprocess
    import sys

    heavy = ("tweepy", "aiohttp", "requests", "matplotlib", "numpy", "wordcloud", "jieba")
    probe = (
        f"import sys, bot.cli, bot.app; print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == []
