"""What the archive's full-text index holds, and how a searched word is spelled to it.

Pure and shared by both sides, so an item is indexed and a word is looked up by one
rule (ARCHITECTURE.md, The archive). SQLite's `unicode61` tokenizer splits on spaces and
punctuation, which Chinese does not have: a run of CJK characters would be one token,
and `异步` would never match `异步编程`. So the text is prepared here before SQLite sees
it: every CJK run becomes its overlapping character bigrams plus its last character
(`异步编程` → `异步 步编 编程 程`), other text stays as written (unicode61 splits it into
words). A searched CJK word is the phrase of its bigrams (consecutive in the index
exactly where the word is a substring); a single character is a prefix query, which
finds it at any position of a run. Both sides are NFKC-normalised and case-folded.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.domain.issue import SectionKind

# Hiragana, Katakana, CJK ideographs (Ext. A, unified, compatibility, Ext. B…), Hangul.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0002fa1f"
_RUNS = re.compile(rf"([{_CJK}]+)|([^{_CJK}]+)")
_WORDS = re.compile(rf"[^\W_{_CJK}]+")

# Each section's names in both languages, so `项目` or `projects` finds the section
# whatever the issue's heading says (summary headings, translated headings).
SECTION_WORDS: dict[SectionKind, str] = {
    "articles": "articles tutorials 文章 教程",
    "projects": "projects resources 项目 资源",
    "podcasts": "podcasts videos 播客 视频",
    "discussions": "discussions 热门 讨论",
}


def normalize(text: str) -> str:
    """NFKC (full-width Latin and digits to ASCII) and case folding: both sides."""
    return unicodedata.normalize("NFKC", text).casefold()


def cjk_tokens(run: str) -> list[str]:
    """A run of CJK characters as indexed: its bigrams, then its last character."""
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]]


def index_text(text: str) -> str:
    """`text` as the index stores it: CJK runs as bigrams, the rest as written."""
    out: list[str] = []
    for cjk, other in _RUNS.findall(normalize(text)):
        if cjk:
            out += cjk_tokens(cjk)
        else:
            out += _WORDS.findall(other)
    return " ".join(out)


def domain_of(url: str | None) -> str:
    """The link's host without `www.` (`github.com`), '' without a link."""
    if not url:
        return ""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of a searched word: a CJK run or a run of words, searched as a phrase.

    `tokens` are in the index's spelling; `prefix` asks for any token starting with the
    last one (a lone CJK character; a Latin word of three or more letters)."""

    tokens: tuple[str, ...]
    prefix: bool


def query_segments(word: str) -> list[Segment]:
    """A searched word split the way `index_text` splits text, each piece a phrase."""
    segments: list[Segment] = []
    for cjk, other in _RUNS.findall(normalize(word)):
        if cjk:
            if len(cjk) == 1:
                segments.append(Segment((cjk,), prefix=True))
            else:
                segments.append(Segment(tuple(cjk[i : i + 2] for i in range(len(cjk) - 1)), False))
        else:
            words = tuple(_WORDS.findall(other))
            if words:
                segments.append(Segment(words, prefix=len(words[-1]) >= 3))
    return segments


@dataclass(frozen=True, slots=True)
class IndexedItem:
    """One item's row of the index (`item_search`), its columns in their order."""

    title: str
    description: str
    domain: str
    section: str


def indexed_item(
    *,
    title: str,
    description: str,
    url: str | None,
    kind: SectionKind,
    heading: str,
    extra: tuple[str, ...] = (),
) -> IndexedItem:
    """What the index holds of an item: its title, description (with `extra`: the
    titles of its sub-links), its link's domain and its section's names."""
    domain = domain_of(url)
    return IndexedItem(
        title=index_text(title),
        description=index_text(" ".join([description, *extra])),
        domain=index_text(domain),
        section=index_text(f"{kind} {SECTION_WORDS[kind]} {heading}"),
    )
