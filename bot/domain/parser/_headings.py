"""Section headings: the five syntaxes of FORMAT.md §3.4 and their classification."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.issue import SectionKind
from bot.domain.parser._inline import spans
from bot.domain.parser._text import is_emoji

_ATX = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
# `##🦄文章&教程`: a missing space is a typo a renderer forgives for nobody, but the intent
# is plain when an emoji follows; only H2 (section level) is accepted this way.
_ATX_NO_SPACE = re.compile(r"^(##)(?!#)\s*(\S.*?)[ \t#]*$")  # \s: also NBSP, U+3000
# Emojis that open section headings (content, sponsor, footer): a bold-only line such as
# `**🦄文章&教程**` is a heading only with one of these, never e.g. a 🎁 promo.
_HEADING_EMOJIS = frozenset("🦄🐿🐢🥂🐱🐼🐧🌱🐡")

# The emoji decides first; 🐢 also marks the book giveaway, so it needs a word too (A13).
_EMOJI_KINDS: dict[str, SectionKind] = {"🦄": "articles", "🐿": "projects", "🥂": "discussions"}
_PODCAST_WORDS = re.compile(r"播客|视频|視頻|podcast|video|ポッドキャスト|動画", re.IGNORECASE)
_KEYWORDS: tuple[tuple[re.Pattern[str], SectionKind], ...] = (
    (re.compile(r"文章|articles?\b|記事", re.IGNORECASE), "articles"),
    (re.compile(r"项目|projects?\b|プロジェクト", re.IGNORECASE), "projects"),
    (_PODCAST_WORDS, "podcasts"),
    (re.compile(r"讨论|討論|discussions?\b|ディスカッション", re.IGNORECASE), "discussions"),
)


# With an emoji the newsletter has not used for a content section, only the full
# two-part section name counts: `🐍项目&资源` is projects, `🎙️播客推荐` (a sponsor) is not.
_SECTION_NAMES: tuple[tuple[re.Pattern[str], SectionKind], ...] = (
    (re.compile(r"文章\s*[&＆]\s*教程|articles?\s*[&＆]\s*tutorials?|記事", re.I), "articles"),
    (
        re.compile(r"项目\s*[&＆]\s*资源|projects?\s*[&＆]\s*resources?|プロジェクト", re.I),
        "projects",
    ),
    (
        re.compile(r"播客\s*[&＆]\s*视频|podcasts?\s*[&＆]\s*videos?|ポッドキャスト", re.I),
        "podcasts",
    ),
    (
        re.compile(r"讨论\s*[&＆]\s*问题|discussions?\s*[&＆]\s*(?:questions?|issues?)", re.I),
        "discussions",
    ),
)
# Emojis of non-content sections (sponsor, footer, look-back, related reading, promos).
_NON_CONTENT_EMOJIS = frozenset("🐱🐼🐧🌱🐡🎁")


@dataclass(frozen=True, slots=True)
class Heading:
    level: int  # 2 for `##`, `**[…](…)**` and bare link lines
    label: str  # markup removed
    kind: SectionKind | None  # None: not a content section
    raw: str


def detect_heading(line: str) -> Heading | None:
    """Return the heading on this (stripped) line, or None for any other line."""
    first = line[:1]
    if first == "#":
        match = _ATX.match(line)
        if not match:
            match = _ATX_NO_SPACE.match(line)
            if not match or not is_emoji(match.group(2)[0]):
                return None
        level = len(match.group(1))
        label = "".join(s.text for s in spans(match.group(2)) if s.kind != "image")
        label = label.replace("*", "").strip()
        return Heading(level, label, classify(label) if level == 2 else None, line)
    if first in "*[" and line.endswith((")", ")**", "**")):
        parts = [s for s in spans(line) if s.kind != "text" or s.text.replace("*", "").strip()]
        if len(parts) == 1 and parts[0].kind == "text" and line.startswith("**"):
            label = parts[0].text.replace("*", "").strip()
            if label and label[0] in _HEADING_EMOJIS and line.rstrip("*").count("**") == 1:
                return Heading(2, label, classify(label), line)
            return None
        if len(parts) != 1 or parts[0].kind != "link":
            return None
        label = parts[0].text.replace("*", "").strip()
        if not label or not is_emoji(label[0]):
            return None  # an ordinary link line, e.g. a collection link in the preamble
        return Heading(2, label, classify(label), line)
    return None


def heading_label(raw: str) -> str | None:
    """The section name as the issue writes it (`🦄文章&教程`), markup removed; None if
    `raw` is not a heading line (a test's made-up section)."""
    heading = detect_heading(raw.strip())
    return heading.label if heading is not None and heading.label else None


def classify(label: str) -> SectionKind | None:
    """Map a heading label to a content kind, or None for sponsor/footer/other sections."""
    if label and is_emoji(label[0]):
        emoji = label[0]
        if emoji in _EMOJI_KINDS:
            return _EMOJI_KINDS[emoji]
        if emoji == "🐢" and _PODCAST_WORDS.search(label):
            return "podcasts"
        if emoji == "🐢" or emoji in _NON_CONTENT_EMOJIS:
            return None
        return next((kind for pattern, kind in _SECTION_NAMES if pattern.search(label)), None)
    for pattern, kind in _KEYWORDS:
        if pattern.search(label):
            return kind
    return None
