"""Which items a reader's words match: pure, frozen, no I/O.

A word is read as the reader typed it, NFKC-folded and case-folded (full-width Latin
is Latin, `FastAPI` is `fastapi`). A word with a CJK character in it matches as a
substring (Chinese has no spaces: 爬虫 is found in 网络爬虫框架); any other word
matches whole, between word boundaries of Latin letters and digits (`rust` is not
found in `trust`, `asyncio` is found in `asyncio.TaskGroup` and in `用asyncio写`).
Both look in an item's title and description.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

# What separates words in `/follow a, b 中文`: spaces, commas (also full-width), 、 and ;
_SEPARATORS = re.compile(r"[\s,，、;；]+")
# CJK ideographs, kana and hangul: a word holding one is matched as a substring.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# A Latin word's boundary: not next to another Latin letter, digit or underscore.
_WORDISH = r"0-9a-z_\u00c0-\u024f"
MIN_WORD = 2  # one letter (or one character) would match nearly everything


def fold(value: str) -> str:
    """The form words and texts are compared in."""
    return unicodedata.normalize("NFKC", value).casefold()


def is_cjk(word: str) -> bool:
    return _CJK.search(word) is not None


@dataclass(frozen=True, slots=True)
class WordProblem:
    """A word refused, and why (the handler words the reason)."""

    word: str
    reason: str  # "too_long" | "too_short"


@dataclass(frozen=True, slots=True)
class ParsedWords:
    words: tuple[str, ...]  # folded, in order, each once
    refused: tuple[WordProblem, ...] = ()


def split_words(raw: str) -> tuple[str, ...]:
    """The pieces of `raw`, folded, quotes taken off, empty ones dropped."""
    pieces = (fold(piece).strip("\"'`“”‘’") for piece in _SEPARATORS.split(raw))
    return tuple(piece for piece in pieces if piece)


def parse_words(raw: str, *, max_length: int) -> ParsedWords:
    """The words of `/follow …`: split, folded, de-duplicated; too long or short refused."""
    words: list[str] = []
    refused: list[WordProblem] = []
    for word in split_words(raw):
        if len(word) > max_length:
            refused.append(WordProblem(word, "too_long"))
        elif len(word) < MIN_WORD:
            refused.append(WordProblem(word, "too_short"))
        elif word not in words:
            words.append(word)
    return ParsedWords(tuple(words), tuple(refused))


@cache
def _pattern(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![{_WORDISH}]){re.escape(word)}(?![{_WORDISH}])")


def word_in(word: str, folded_text: str) -> bool:
    """Does `word` (folded) occur in `folded_text` by the rule above?"""
    if is_cjk(word):
        return word in folded_text
    return _pattern(word).search(folded_text) is not None


@dataclass(frozen=True, slots=True)
class Candidate:
    """One item an alert may list: a new issue's item or an extra-edition post."""

    title: str
    url: str | None
    description: str = ""
    section: str = ""  # the section kind ("projects"), "" for an extra post


@dataclass(frozen=True, slots=True)
class Hit:
    candidate: Candidate
    words: tuple[str, ...]  # the reader's words it matched, in the reader's order


@dataclass(frozen=True, slots=True)
class ReaderAlert:
    user_id: int
    hits: tuple[Hit, ...]  # in the candidates' order


def hits_of(words: Sequence[str], candidates: Sequence[Candidate]) -> tuple[Hit, ...]:
    """The candidates that `words` match, each once, with the words that matched it."""
    found = []
    for candidate in candidates:
        haystack = fold(f"{candidate.title}\n{candidate.description}")
        matched = tuple(w for w in words if word_in(w, haystack))
        if matched:
            found.append(Hit(candidate, matched))
    return tuple(found)


def plan_alerts(
    follows: Mapping[int, Sequence[str]], candidates: Sequence[Candidate]
) -> tuple[ReaderAlert, ...]:
    """One alert per reader with at least one hit, in user id order."""
    alerts = []
    for user_id in sorted(follows):
        hits = hits_of(follows[user_id], candidates)
        if hits:
            alerts.append(ReaderAlert(user_id, hits))
    return tuple(alerts)


def group_follows(rows: Iterable[tuple[int, str]]) -> dict[int, tuple[str, ...]]:
    """(user id, word) rows as each reader's words, in the rows' order."""
    grouped: dict[int, list[str]] = {}
    for user_id, word in rows:
        grouped.setdefault(user_id, []).append(word)
    return {user_id: tuple(words) for user_id, words in grouped.items()}
