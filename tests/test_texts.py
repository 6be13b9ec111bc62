"""The text catalogue: every key is used, every call fills exactly its template's fields,
and every reader's text is in every language with the same placeholders."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

import pytest

from bot.texts import (
    CATALOGUE,
    CHAT_LANGS,
    EDITOR_KEYS,
    TEMPLATES,
    TextError,
    TextKey,
    fields,
    lang_of_code,
    text,
)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    p
    for folder in ("bot", "handlers", "publishers", "data")
    for p in (ROOT / folder).rglob("*.py")
    if p != ROOT / "bot" / "texts.py"
)
KEYS: frozenset[str] = frozenset(get_args(TextKey))
READER_KEYS: frozenset[str] = KEYS - EDITOR_KEYS


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


@pytest.mark.parametrize("lang", CHAT_LANGS)
def test_every_readers_text_is_in_every_language(lang: str) -> None:
    """A reader's key without its template in a language is named here (add it to
    `_ZH`, or list the key in `EDITOR_KEYS` if only editors ever see it)."""
    assert sorted(READER_KEYS - set(CATALOGUE[lang])) == []  # type: ignore[index]


def test_editor_texts_are_english_only_and_every_editor_key_is_known() -> None:
    assert sorted(EDITOR_KEYS - KEYS) == []
    assert sorted(set(CATALOGUE["zh"]) & EDITOR_KEYS) == []  # not half-translated
    assert set(CATALOGUE["en"]) == KEYS


@pytest.mark.parametrize("key", sorted(READER_KEYS))
def test_every_language_has_the_same_placeholders(key: TextKey) -> None:
    for lang in CHAT_LANGS:
        if key in CATALOGUE[lang]:
            assert fields(key, lang) == fields(key, "en"), f"{lang} {key}"


def test_chinese_is_chinese() -> None:
    """A zh template is not the English one copied: each has a CJK character, unless
    it is language-neutral (a name, a format, a placeholder alone)."""
    neutral = {
        "help.line",
        "reason.other",
        "submit.time_format",
        "button.lang.en",
        "button.credit.username",  # 👤 @{handle}
        "button.credit.chosen",  # ✅ {label}
        "mine.line",  # #{id} · {state}, the URL
        "search.line",  # {n}. {title} and its meta line
        "alert.line",  # • {link} · {words}
        "following.line",  # {id}. {word}
        "button.unfollow",  # ✖ {word}
    }
    untranslated = [
        key
        for key in sorted(READER_KEYS - neutral)
        if not any("\u4e00" <= ch <= "\u9fff" for ch in CATALOGUE["zh"].get(key, ""))  # type: ignore[call-overload]
    ]
    assert untranslated == []


def test_a_readers_text_needs_the_readers_language() -> None:
    assert text("submit.accepted", "zh", id=12) == "收到，编号 #12，编辑会尽快查看。"
    assert text("submit.accepted", "en", id=12) == "Received, #12: an editor will look at it."
    with pytest.raises(TextError, match="reader's: pass the reader's language"):
        text("submit.accepted", id=12)
    # An editor's text is English, whoever asks; a `lang` field stays a value.
    assert text("late.target", target="X", lang="zh") == "X (zh)"
    assert text("late.target", "zh", target="X", lang="zh") == "X (zh)"


@pytest.mark.parametrize(
    ("code", "lang"),
    [
        ("zh-hans", "zh"),
        ("zh-hant", "zh"),
        ("zh", "zh"),
        ("ZH-CN", "zh"),
        ("en", "en"),
        ("en-US", "en"),
        ("ru", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_the_language_of_a_telegram_client(code: str | None, lang: str) -> None:
    assert lang_of_code(code) == lang


def test_every_readers_call_passes_a_language() -> None:
    """A reader's text asked for without a language would raise at run time; here the
    call is named before it runs (the second positional argument is the language)."""
    problems = []
    for path, tree in _trees():
        for call in _text_calls(tree):
            keys = _keys_of(call.args[0]) if call.args else None
            if keys and any(k in READER_KEYS for k in keys) and len(call.args) < 2:
                problems.append(f"{path.relative_to(ROOT)}:{call.lineno}: {keys}")
    assert problems == []


@pytest.mark.parametrize("lang", CHAT_LANGS)
@pytest.mark.parametrize("key", sorted(KEYS))
def test_every_template_formats(key: TextKey, lang: str) -> None:
    filled = text(key, lang, **{name: 7 for name in fields(key)})  # type: ignore[arg-type]
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
