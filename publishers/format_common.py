"""What the Telegram and X formatters share: cleaning, cutting, labels, images.

Cutting is done against a caller's `fits` predicate rather than a character
budget, because each platform measures differently (Telegram counts code points
after HTML parsing, X weighs CJK, emoji and URLs); the predicate is the
platform's own measure, so what is cut is exactly what will be counted.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from twitter_text import extract_urls_with_indices

from bot.domain.issue import DELETED, Issue, Item, Lang, Section, SectionKind
from bot.domain.parser import heading_label

ELLIPSIS = "…"

# Section names and hashtags per language. Hashtags are single words so that
# both Telegram and X link them; `#文章` and `#Articles` are what readers search.
SECTION_NAMES: dict[Lang, dict[SectionKind, str]] = {
    "zh": {"articles": "文章", "projects": "项目", "podcasts": "播客", "discussions": "讨论"},
    "en": {
        "articles": "Articles",
        "projects": "Projects",
        "podcasts": "Podcasts",
        "discussions": "Discussions",
    },
    "ja": {
        "articles": "記事",
        "projects": "プロジェクト",
        "podcasts": "ポッドキャスト",
        "discussions": "ディスカッション",
    },
}
# The newsletter's own section emoji, so the digest looks like the issue.
SECTION_EMOJI: dict[SectionKind, str] = {
    "articles": "🦄",
    "projects": "🐿️",
    "podcasts": "🐢",
    "discussions": "🥂",
}
BRANDS: dict[Lang, str] = {
    "zh": "Python 潮流周刊",
    "en": "Python Trending Weekly",
    "ja": "Python Trending Weekly",
}

_CREDIT_TEMPLATES: dict[Lang, str] = {"zh": "投稿：{}", "en": "via {}", "ja": "投稿：{}"}

# Caps on decoration taken from the source, so a malformed field cannot crowd
# out the title and description.
_CREDIT_MAX = 64
_STARS_MAX = 3
_STAR_TEXT_MAX = 16

# A26: Telegram fetches photos by URL and rejects what it cannot decode as a
# photo; svg, avif, gif (an animation), extension-less and `!post` (an image
# host's style suffix) URLs go out as text only.

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")

# Cut-back window: a cut lands at the start of the word it would split if that
# word is at most this long; a longer "word" (a hash, a path) is cut anyway.
_WORD_BACKOFF_MAX = 24


# The newsletter's own count words (its count line `分享了 12 篇文章，12 个开源项目`, and
# the English "Shared 12 articles, 12 open-source projects" of the editor's script).
_COUNT_WORDS: dict[Lang, dict[SectionKind, tuple[str, str]]] = {
    "zh": {
        "articles": ("{} 篇文章", "{} 篇文章"),
        "projects": ("{} 个开源项目", "{} 个开源项目"),
        "podcasts": ("{} 则音视频", "{} 则音视频"),
        "discussions": ("{} 则热门话题", "{} 则热门话题"),
    },
    "en": {
        "articles": ("{} article", "{} articles"),
        "projects": ("{} open-source project", "{} open-source projects"),
        "podcasts": ("{} audio/video", "{} audio/videos"),
        "discussions": ("{} hot discussion", "{} hot discussions"),
    },
    "ja": {
        "articles": ("記事 {} 本", "記事 {} 本"),
        "projects": ("プロジェクト {} 件", "プロジェクト {} 件"),
        "podcasts": ("ポッドキャスト {} 本", "ポッドキャスト {} 本"),
        "discussions": ("ディスカッション {} 件", "ディスカッション {} 件"),
    },
}
_COUNT_LINES: dict[Lang, tuple[str, str]] = {
    "zh": ("分享了 ", "，"),
    "en": ("Shared ", ", "),
    "ja": ("", "、"),
}
_SECTION_LABEL_MAX = 60
# The issue name before a subtitle: "Python 潮流周刊#159：", "Python Trending Weekly #66: ".
_NUMBERED_PREFIX = r"^[^：:]*?#?\s*(?<!\d){}\s*[：:]\s*"


class NotPostable(ValueError):
    """The item cannot be posted on its own (deleted, a container, no link)."""


def hashtag(kind: SectionKind, lang: Lang) -> str:
    return "#" + SECTION_NAMES[lang][kind]


def section_name(kind: SectionKind, lang: Lang) -> str:
    return SECTION_NAMES[lang][kind]


def issue_label(issue: Issue, lang: Lang) -> str:
    brand = BRANDS[lang]
    return f"{brand} #{issue.number}" if issue.number is not None else brand


def circled(number: int) -> str:
    """The newsletter's item number: ①…⑳, then ㉑…㊿ (Unicode's circled numbers end at 50).

    Past 50 (no section has come near: the parser refuses more than 40) it is
    "51." and so on: plain, but still a number a reader can follow.
    """
    if 1 <= number <= 20:
        return chr(0x2460 + number - 1)
    if 21 <= number <= 35:
        return chr(0x3251 + number - 21)
    if 36 <= number <= 50:
        return chr(0x32B1 + number - 36)
    return f"{number}."


def subtitle(issue: Issue, lang: Lang) -> str:
    """The issue's own title without the newsletter's name and number ("Python 3.15 预览").

    The digest already says which issue it is; a title with nothing after the number
    ("Python Trending Weekly #1 (2023-05-13)") is kept whole.
    """
    title = clean_line(issue.title)
    if issue.number is None:
        return title or issue_label(issue, lang)
    rest = re.sub(_NUMBERED_PREFIX.format(issue.number), "", title, count=1).strip()
    return rest or title or issue_label(issue, lang)


def section_label(section: Section, lang: Lang) -> str:
    """The section's name as the issue writes it (`🦄文章&教程`), or ours with its emoji."""
    label = clean_line(heading_label(section.heading) or "")
    if not label:
        return f"{SECTION_EMOJI[section.kind]} {section_name(section.kind, lang)}"
    return fit(label, lambda t: len(t) <= _SECTION_LABEL_MAX)


def listed_items(section: Section) -> list[Item]:
    """The items a digest lists: all but the deleted placeholders, in order."""
    return [item for item in section.items if DELETED not in item.flags]


def count_line(issue: Issue, lang: Lang) -> str:
    """ "分享了 12 篇文章，12 个开源项目" / "Shared 12 articles, 12 open-source projects"."""
    counts = [(s.kind, len(listed_items(s))) for s in issue.sections]
    words = [_COUNT_WORDS[lang][kind][n != 1].format(n) for kind, n in counts if n > 0]
    if not words:
        return ""
    lead, separator = _COUNT_LINES[lang]
    return lead + separator.join(words)


def credit_text(item: Item, lang: Lang, *, mention: bool = True) -> str:
    """Return "via @name" or "", without the `@` when `mention` is off.

    The credit is the submitter's handle on GitHub as the newsletter wrote it;
    on another platform the same handle may be somebody else.
    """
    if item.credit is None:
        return ""
    credit = clean_line(item.credit)
    if not mention:
        credit = credit.lstrip("@")
    if not credit:
        return ""
    credit = credit if len(credit) <= _CREDIT_MAX else credit[: _CREDIT_MAX - 1] + ELLIPSIS
    return _CREDIT_TEMPLATES[lang].format(credit)


def stars_text(item: Item) -> str:
    """Return "⭐ 7.2K" as the newsletter wrote it, or "" when there are no stars."""
    written = [clean_line(s)[:_STAR_TEXT_MAX] for s in item.stars_as_written[:_STARS_MAX]]
    written = [s for s in written if s]
    if not written:
        written = [_compact_count(n) for n in item.stars[:_STARS_MAX]]
    return "⭐ " + " / ".join(written) if written else ""


def _compact_count(n: int) -> str:
    if n >= 1000:
        return f"{n / 1000:.1f}".rstrip("0").rstrip(".") + "K"
    return str(n)


def require_postable(item: Item) -> str:
    """Return the item's URL, or raise NotPostable.

    Containers and link-less items are listed in digests (containers with their
    sub-links) but never posted on their own; deleted items never appear.
    """
    if DELETED in item.flags:
        raise NotPostable(f"item {item.index} is a deleted placeholder")
    if not item.postable or item.url is None:
        raise NotPostable(f"item {item.index} has no link of its own (flags {sorted(item.flags)})")
    return item.url


def photo_url(item: Item) -> str | None:
    """Return the first image Telegram can be trusted to fetch as a photo (A26)."""
    for image in item.images:
        if image.photo_safe:
            return image.url
    return None


def clean_line(text: str) -> str:
    """NFC, no control characters, one line, single spaces: for titles and labels."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text.replace("\r", "").replace("\n", " "))
    return _SPACES.sub(" ", text).strip()


def clean_block(text: str) -> str:
    """NFC, no control characters, at most one blank line in a row: for descriptions."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


# A text this many cut windows long, with no whitespace past the window's edge,
# is searched for URLs whole; a longer one is not cut inside that run.
_FULL_SCAN = 16


def fit(text: str, fits: Callable[[str], bool], *, work_limit: int = 4200) -> str:
    """Return `text`, or its longest cut with "…" that `fits`, or "" if none does.

    Cuts fall on grapheme boundaries and never inside a URL; a cut that would
    split a word backs off to the word's start. The punctuation trimmed before
    "…" is never a URL's own (`https://a.com/-` keeps its `-`: without it X
    would link another page). `fits` need not be monotone (X weighs `a.co` as
    a 23-character URL but `a.c` as 3): every returned value has been checked.
    """
    if fits(text):
        return text
    work, cuts, url_ends = _cut_window(text, work_limit)

    def kept(cut: int) -> str:
        return _trim_end(work[:cut], keep=_last_url_end(url_ends, cut))

    def candidate(cut: int) -> str:
        return kept(cut) + ELLIPSIS

    best = -1
    lo, hi = 0, len(cuts) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if kept(cuts[mid]) and fits(candidate(cuts[mid])):
            best = mid
            lo = mid + 1
        else:
            hi = mid - 1
    if best < 0:
        return ""
    cut = cuts[best]
    word_start = _word_start(work, cut)
    if word_start != cut and word_start in set(cuts):
        tidier = candidate(word_start)
        if kept(word_start) and fits(tidier):
            return tidier
    return candidate(cut)


def _last_url_end(url_ends: Sequence[int], cut: int) -> int:
    """The end of the last URL that ends at or before `cut` (0 if none): trimming stops there."""
    at = bisect_right(url_ends, cut)
    return url_ends[at - 1] if at else 0


def _cut_window(text: str, limit: int) -> tuple[str, list[int], list[int]]:
    """The text a cut is taken from, its cut points, all within `limit`, and where
    its URLs end (sorted).

    Neither platform takes more than ~4,100 units, so megabytes are not scanned;
    but the window's edge may fall inside a URL, which the first `limit` code
    points alone would show as ending there (or, cut in its host, not as a URL
    at all). URLs hold no whitespace, so the URLs are found in the text up to
    the first whitespace past the edge: exact. When there is none within another
    `limit` (CJK text, one giant token), in the whole text while it is short
    (`_FULL_SCAN` windows), else no cut falls after the start of that run.
    """
    if len(text) <= limit:
        spans = _url_spans(text)
        return text, [c for c in _cuts_outside(text, spans) if c > 0], [e for _, e in spans]
    stop = next((i for i in range(limit, min(len(text), 2 * limit)) if text[i].isspace()), None)
    run_start = limit
    if stop is not None:
        wider = text[:stop]
    elif len(text) <= _FULL_SCAN * limit:
        wider = text
    else:
        wider = text[: 2 * limit]
        while run_start > 0 and not text[run_start - 1].isspace():
            run_start -= 1
    spans = _url_spans(wider)
    cuts = [c for c in _cuts_outside(wider, spans, upto=limit) if c > 0]
    if len(wider) < len(text) and stop is None:
        cuts = [c for c in cuts if c <= run_start]
    return wider, cuts, [e for _, e in spans]


def cut_points(text: str, *, upto: int | None = None) -> list[int]:
    """Return the indices (up to `upto`) where `text` may be cut: grapheme
    boundaries outside URLs."""
    return _cuts_outside(text, _url_spans(text), upto=upto)


def _url_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each URL X would link in `text`, in order."""
    return [(url["indices"][0], url["indices"][1]) for url in extract_urls_with_indices(text)]


def _cuts_outside(
    text: str, spans: Sequence[tuple[int, int]], *, upto: int | None = None
) -> list[int]:
    inside_url: set[int] = set()
    for start, end in spans:
        inside_url.update(range(start + 1, end))
    last = len(text) if upto is None else min(len(text), upto)
    return [i for i in range(last + 1) if i not in inside_url and is_grapheme_boundary(text, i)]


def is_grapheme_boundary(text: str, i: int) -> bool:
    """Approximate UAX #29 well enough not to split what displays as one symbol.

    Covers combining marks, ZWJ emoji sequences, variation selectors, skin-tone
    modifiers, keycaps, tag sequences (flags of regions) and regional-indicator
    pairs (flags); Python's `re` has no `\\X`.
    """
    if i <= 0 or i >= len(text):
        return True
    before, after = text[i - 1], text[i]
    if before == "\u200d" or _extends(after):
        return False
    if _is_regional_indicator(after) and _is_regional_indicator(before):
        run = 0
        j = i - 1
        while j >= 0 and _is_regional_indicator(text[j]):
            run += 1
            j -= 1
        return run % 2 == 0
    return True


def _extends(ch: str) -> bool:
    cp = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or cp == 0x200D
        or 0xFE00 <= cp <= 0xFE0F
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
        or 0xE0100 <= cp <= 0xE01EF
        or 0x1160 <= cp <= 0x11FF  # Hangul medial vowels and final consonants
    )


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _is_word_char(ch: str) -> bool:
    """A letter or digit of a script that separates words with spaces."""
    return (ch.isalnum() or ch in "_'-") and unicodedata.east_asian_width(ch) not in ("W", "F")


def _word_start(text: str, cut: int) -> int:
    if cut <= 0 or cut >= len(text):
        return cut
    if not (_is_word_char(text[cut - 1]) and _is_word_char(text[cut])):
        return cut
    start = cut
    while start > 0 and _is_word_char(text[start - 1]) and cut - start <= _WORD_BACKOFF_MAX:
        start -= 1
    if start == 0 or cut - start > _WORD_BACKOFF_MAX:
        return cut
    return start


_TRAILING = " \t\n,，、;；:：-–—(（[【\u200d"


def _trim_end(text: str, *, keep: int = 0) -> str:
    """Drop trailing spaces and punctuation that would look odd before "…",
    but not the first `keep` code points (a URL's own `-` or `:`)."""
    trimmed = text.rstrip(_TRAILING)
    return trimmed if len(trimmed) >= keep else text[:keep]


def join_nonempty(separator: str, pieces: Sequence[str]) -> str:
    return separator.join(piece for piece in pieces if piece)


@dataclass(frozen=True, slots=True)
class Block:
    """One digest line (or a section heading with its first line), never split."""

    text: str
    opens_section: bool = False


def join_blocks(blocks: Sequence[Block]) -> str:
    """Lines one per row; a blank line before each section."""
    text = ""
    for block in blocks:
        separator = ("\n\n" if block.opens_section else "\n") if text else ""
        text += separator + block.text
    return text


def pack_numbered(
    blocks: Sequence[Block],
    render: Callable[[str, Sequence[Block]], str],
    fits: Callable[[str], bool],
) -> list[list[Block]]:
    """Split `blocks` greedily into parts that fit once numbered `k/n`.

    `render(numbering, part)` builds a part; packing measures it with the widest
    numbering of its digit count ("9/9", "99/99", …) and repacks when the count
    of parts needs more digits.

    Raises:
        ValueError: a block does not fit a part on its own.
    """
    digits = 1
    while True:
        widest = "9" * digits + "/" + "9" * digits
        parts = _pack(blocks, partial(_fits_numbered, render, fits, widest))
        if len(str(len(parts))) <= digits:
            return parts
        digits = len(str(len(parts)))


def _fits_numbered(
    render: Callable[[str, Sequence[Block]], str],
    fits: Callable[[str], bool],
    numbering: str,
    part: Sequence[Block],
) -> bool:
    return fits(render(numbering, part))


def _pack(blocks: Sequence[Block], fits: Callable[[Sequence[Block]], bool]) -> list[list[Block]]:
    parts: list[list[Block]] = []
    current: list[Block] = []
    for block in blocks:
        if fits([*current, block]):
            current.append(block)
            continue
        if not current or not fits([block]):
            raise ValueError("a digest line does not fit an empty message")
        parts.append(current)
        current = [block]
    parts.append(current)
    return parts
