"""A reader's search text → a safe FTS5 expression and the filters (pure).

The reader writes words and filters (`asyncio 爬虫 section:projects year:2024`). Words
never reach FTS5's syntax as written: each is cut into the index's own tokens
(`bot.domain.search_text.query_segments`: letters and digits, CJK bigrams) and every
token goes out inside double quotes, which hold only characters the tokens cannot
contain quotes of. So `"foo`, `NEAR(`, `*`, `AND`, `-x` or `title:` are words like any
other (or nothing), never operators, and no input raises. All words must match (AND).
Filters (`section:`, `issue:`, `year:`, `lang:`) become SQL parameters, not FTS text;
a filter whose value is not understood is left out and named in `problems`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.issue import LANGS, SECTION_KINDS, Lang, SectionKind
from bot.domain.search_text import SECTION_WORDS, normalize, query_segments

MAX_QUERY_CHARS = 256  # longer text is cut: a query is a few words
MAX_PHRASES = 16  # more words than this add cost, not precision

FILTER_KEYS = ("section", "issue", "year", "lang")


@dataclass(frozen=True, slots=True)
class ArchiveQuery:
    """What to look for: `match` (an FTS5 expression, None when no words), `title_match`
    (the same words in titles only: the first rank tier), and the filters."""

    words: tuple[str, ...] = ()
    match: str | None = None
    title_match: str | None = None
    section: SectionKind | None = None
    issue: int | None = None
    year: int | None = None
    lang: Lang | None = None
    problems: tuple[str, ...] = ()  # filters left out, as "key:value"

    @property
    def empty(self) -> bool:
        """Nothing to search by: no words and no filter."""
        return self.match is None and not self.has_filters

    @property
    def has_filters(self) -> bool:
        return any(v is not None for v in (self.section, self.issue, self.year, self.lang))

    def text(self) -> str:
        """The query as understood, in one spelling (what a paged search is stored as)."""
        parts = list(self.words)
        for key in FILTER_KEYS:
            value = getattr(self, key)
            if value is not None:
                parts.append(f"{key}:{value}")
        return " ".join(parts)


def _section(value: str) -> SectionKind | None:
    for kind in SECTION_KINDS:
        if value == kind or value in SECTION_WORDS[kind].split():
            return kind
    return None


def _number(value: str, low: int, high: int) -> int | None:
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        return None
    number = int(value)
    return number if low <= number <= high else None


def _phrase(tokens: tuple[str, ...], prefix: bool) -> str:
    # Tokens are letters, digits and CJK only (`_WORDS`, `cjk_tokens`): no quote inside.
    return '"' + " ".join(tokens) + '"' + ("*" if prefix else "")


def parse_query(text: str) -> ArchiveQuery:
    """Read a reader's search text. Never raises; anything unusable is dropped."""
    words: list[str] = []
    phrases: list[str] = []
    filters: dict[str, object] = {}
    problems: list[str] = []
    for raw in normalize(text[:MAX_QUERY_CHARS]).split():
        key, sep, value = raw.partition(":")
        if sep and key in FILTER_KEYS:
            parsed: object | None
            if key == "section":
                parsed = _section(value)
            elif key == "issue":
                parsed = _number(value, 1, 999_999)
            elif key == "year":
                parsed = _number(value, 1900, 2999)
            else:
                parsed = value if value in LANGS else None
            if parsed is None:
                problems.append(raw)
            else:
                filters[key] = parsed
            continue
        found = [_phrase(s.tokens, s.prefix) for s in query_segments(raw)]
        found = [p for p in found if p not in phrases]
        if not found or len(phrases) + len(found) > MAX_PHRASES:
            continue
        words.append(raw)
        phrases += found
    match = " AND ".join(phrases) if phrases else None
    return ArchiveQuery(
        words=tuple(words),
        match=match,
        title_match=None if match is None else f"title : ({match})",
        section=filters.get("section"),  # type: ignore[arg-type]
        issue=filters.get("issue"),  # type: ignore[arg-type]
        year=filters.get("year"),  # type: ignore[arg-type]
        lang=filters.get("lang"),  # type: ignore[arg-type]
        problems=tuple(problems),
    )
