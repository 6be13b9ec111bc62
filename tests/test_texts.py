"""The text catalogue: every key is used, every call fills exactly its template's fields."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

import pytest

from bot.texts import TEMPLATES, TextError, TextKey, fields, text

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    p
    for folder in ("bot", "handlers", "publishers", "data")
    for p in (ROOT / folder).rglob("*.py")
    if p != ROOT / "bot" / "texts.py"
)
KEYS: frozenset[str] = frozenset(get_args(TextKey))


def _trees() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in SOURCES]


def _text_calls(tree: ast.Module) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "text"
    ]


def _keys_of(node: ast.expr) -> list[str] | None:
    """The key(s) a call's first argument names literally; None when it is computed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _keys_of(node.body), _keys_of(node.orelse)
        if body is not None and orelse is not None:
            return body + orelse
    return None


def _key_tables(tree: ast.Module) -> list[list[str]]:
    """Dict literals whose values are all keys (`OUTCOMES`, `_DECIDED`)."""
    tables = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and node.values:
            values = [v.value for v in node.values if isinstance(v, ast.Constant)]
            if len(values) == len(node.values) and all(v in KEYS for v in values):
                tables.append([str(v) for v in values])
    return tables


def test_every_key_has_one_template_and_every_template_a_key() -> None:
    assert set(TEMPLATES) == KEYS
    assert len(get_args(TextKey)) == len(KEYS)  # no key listed twice


def test_every_key_is_used_somewhere() -> None:
    used = {
        node.value
        for _, tree in _trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert sorted(KEYS - used) == []


def test_every_call_fills_exactly_its_templates_fields() -> None:
    problems = []
    # A table may be imported (`preview_cards.DECIDED` is read by `handlers.preview`).
    tables = [table for _, tree in _trees() for table in _key_tables(tree)]
    for path, tree in _trees():
        for call in _text_calls(tree):
            where = f"{path.relative_to(ROOT)}:{call.lineno}"
            assert call.args, where
            assert not any(k.arg is None for k in call.keywords), f"{where}: no **values"
            given = {k.arg for k in call.keywords if k.arg is not None}
            keys = _keys_of(call.args[0])
            if keys is None:  # a key from a table: every key of some table must fit
                if not any(all(fields(k) == given for k in t) for t in tables):
                    problems.append(f"{where}: computed key, no table of keys fits {given}")
                continue
            for key in keys:
                if key not in KEYS:
                    problems.append(f"{where}: unknown key {key!r}")
                elif fields(key) != given:
                    problems.append(
                        f"{where}: {key} wants {sorted(fields(key))}, got {sorted(given)}"
                    )
    assert problems == []


@pytest.mark.parametrize("key", sorted(KEYS))
def test_every_template_formats(key: TextKey) -> None:
    filled = text(key, **{name: 7 for name in fields(key)})
    assert "{" not in filled
    assert "}" not in filled


def test_a_missing_or_an_unexpected_value_is_refused() -> None:
    assert text("backfill.coming", number=902) == "Preview of #902 coming."
    with pytest.raises(TextError, match="missing \\['number'\\]"):
        text("backfill.coming")
    with pytest.raises(TextError, match="unexpected \\['who'\\]"):
        text("backfill.coming", number=902, who="x")


def test_format_specs_are_the_templates() -> None:
    assert fields("alarm.silence") == {"days", "limit", "newest"}
    assert text("alarm.silence", days=9.6, limit=8.0, newest="#1").startswith(
        "⏰ <b>No new issue for 10 days</b> (more than 8)."
    )
