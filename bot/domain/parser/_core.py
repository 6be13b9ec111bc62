"""`parse_issue`: a line-based block scan with fence state, then items per section."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.domain.issue import SECTION_KINDS, Form, Issue, NotAnIssue, Section, SectionKind
from bot.domain.parser._header import (
    full_text_url,
    issue_date,
    issue_lang,
    issue_number,
    read_header,
)
from bot.domain.parser._headings import detect_heading
from bot.domain.parser._inline import plain, spans
from bot.domain.parser._items import GLUED_MARKER, ITEM_MARKER, ItemDraft, build_item, split_orphan
from bot.domain.parser._text import normalise

_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")
_COLLECTION_TITLE = re.compile(r"第\s*\d+\s*季|season\s*\d|合集|精华|纯链接|collection", re.I)
# No issue has had more than 16 entries in a section; collections have hundreds.
MAX_ITEMS_PER_SECTION = 40
# A thematic break ends the entry above it; a full-line HTML comment (`<!-- more -->`,
# a blog excerpt marker) is never text. Neither occurs in the archive so far.
_BREAK_OR_COMMENT = re.compile(r"^[ ]{0,3}(?:([-*_])[ \t]*(?:\1[ \t]*){2,}|<!--.*-->[ \t]*)$")
_QUOTE_MARKS = re.compile(r"^\s*(?:>\s?)+")  # blockquote markers (ja translation notes, 🎁)
_HOT = r"(?:hot|trending|popular)\s+"
_STATED_DIGITS_MAX = 6
# Each count starts where its digits do ((?<!\d)): a search then reads a run of digits
# once, not once per digit (a 5,000-digit line took seconds).
_STATED = (
    ("articles", re.compile(r"(?<!\d)(\d+)\s*(?:篇文章|articles?\b)", re.I)),
    (
        "projects",
        re.compile(r"(?<!\d)(\d+)\s*(?:个开源项目|(?:open[- ]source\s+)?projects?\b)", re.I),
    ),
    (
        "podcasts",
        re.compile(
            r"(?<!\d)(\d+)\s*(?:[则个](?:音视频|视频|播客)|(?:podcasts?|videos?|audio)\b)", re.I
        ),
    ),
    (
        "discussions",
        # `2 hot discussions`, `2 trending discussions`, `2 hot topics` (en), 则/个热门讨论/话题
        re.compile(
            rf"(?<!\d)(\d+)\s*(?:[则个]热门(?:讨论|话题)|(?:{_HOT})?discussions?\b|{_HOT}topics?\b)",
            re.I,
        ),
    ),
)


@dataclass(slots=True)
class _SectionDraft:
    kind: SectionKind | None
    heading: str
    items: list[ItemDraft] = field(default_factory=list)


def parse_issue(text: str, *, filename: str | None = None, lang: str | None = None) -> Issue:
    """Parse one weekly issue (full, summary or special form) from its Markdown text.

    Raises:
        NotAnIssue: the text is not a weekly issue; the message says why.
    """
    text = normalise(text)
    lines = text.split("\n")
    header = read_header(lines)
    number = issue_number(header.title)
    if header.title and number is None and _COLLECTION_TITLE.search(header.title):
        raise NotAnIssue(f"title {header.title!r} names a season collection, not an issue")
    preamble: list[str] = []
    sections: list[_SectionDraft] = []
    current: _SectionDraft | None = None
    item: ItemDraft | None = None
    in_fence = False
    deep_headings = 0
    h2_count = 0

    for line in lines[header.body_start :]:
        if in_fence:
            if _FENCE.match(line):
                in_fence = False
            if item is not None:
                item.body.append(line)
            continue
        if _FENCE.match(line):
            in_fence = True
            if item is not None:
                item.body.append(line)
            continue
        stripped = line.strip()
        if stripped[:1] in ("-", "*", "_", "<") and _BREAK_OR_COMMENT.match(line):
            item = None
            continue
        if stripped[:1] in ("#", "*", "["):
            heading = detect_heading(stripped)
            if heading is not None:
                if heading.level >= 3:
                    deep_headings += 1
                    continue
                if heading.level == 2:
                    h2_count += 1
                    item = None
                    current = _SectionDraft(heading.kind, heading.raw)
                    sections.append(current)
                    continue
        if current is None:
            preamble.append(line)
            continue
        if current.kind is None:
            continue
        marker = ITEM_MARKER.match(line)
        if marker and line[marker.end() :].strip():
            item = ItemDraft(marker.group(1) or marker.group(2), line[marker.end() :])
            current.items.append(item)
            continue
        if item is None:
            continue  # text between a heading and its first entry is not an entry
        glued = GLUED_MARKER.search(line) if "![" in line else None
        if glued and _only_images(line[: glued.start() + 1]):
            item.body.append(line[: glued.start() + 1])
            item = ItemDraft(glued.group(1), line[glued.end() :], glued=True)
            current.items.append(item)
            continue
        item.body.append(line)

    content = [s for s in sections if s.kind is not None]
    _reject_non_issues(number, content, deep_headings, h2_count)

    built: list[Section] = []
    for draft in _merge_same_kind(content):
        for this, following in zip(draft.items, draft.items[1:], strict=False):
            split_orphan(this, following.number)
        items = tuple(build_item(d, i) for i, d in enumerate(draft.items, start=1))
        built.append(Section(draft.kind or "articles", draft.heading, items))

    form: Form
    if not built:
        form = "special"
    elif not any(it.number_as_written.isascii() for s in built for it in s.items):
        form = "summary"
    else:
        form = "full"
    intro = _paragraphs(preamble)
    stated = _stated_counts(intro)
    warnings = _check_counts(stated, built)
    warnings.extend(
        f"{s.kind} {it.index}: text after its image has no header (orphan)"
        for s in built
        for it in s.items
        if it.orphan_text
    )
    return Issue(
        number=number,
        date=issue_date(header, filename),
        lang=issue_lang(filename, lang, text[:4000]),
        form=form,
        title=header.title or "",
        sections=tuple(built),
        intro=tuple(intro),
        stated_counts=stated,
        warnings=tuple(warnings),
        full_text_url=full_text_url(lines[header.body_start :]),
    )


def _reject_non_issues(
    number: int | None,
    content: list[_SectionDraft],
    deep_headings: int,
    h2_count: int,
) -> None:
    """Raise NotAnIssue for collections, indexes and noise; the content decides."""
    if deep_headings:
        raise NotAnIssue(f"{deep_headings} headings below H2: a collection, not an issue")
    for draft in content:
        if len(draft.items) > MAX_ITEMS_PER_SECTION:
            raise NotAnIssue(
                f"{len(draft.items)} entries under {draft.heading.strip()!r}: "
                "too many for one issue (a collection?)"
            )
    if not content:
        if number is None:
            raise NotAnIssue("no issue number in a title and no content sections")
        if h2_count == 0:
            raise NotAnIssue(f"issue #{number} has no sections at all")


def _only_images(text: str) -> bool:
    """Whether `text` holds images and nothing else: A1 glues an entry to an image line.

    A marker after an ordinary link is an inline list (`节目：1、[…](…) 2、[…](…)`).
    """
    parts = spans(text.strip())
    return all(p.kind == "image" or not p.text.strip() for p in parts) and any(
        p.kind == "image" for p in parts
    )


def _merge_same_kind(drafts: list[_SectionDraft]) -> list[_SectionDraft]:
    """Keep one section per kind, in file order; a repeated heading continues its section."""
    merged: dict[SectionKind, _SectionDraft] = {}
    for draft in drafts:
        assert draft.kind is not None
        if draft.kind in merged:
            merged[draft.kind].items.extend(draft.items)
        else:
            merged[draft.kind] = _SectionDraft(draft.kind, draft.heading, list(draft.items))
    return list(merged.values())


def _paragraphs(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        stripped = _QUOTE_MARKS.sub("", line).strip()
        if stripped:
            text = plain(spans(stripped)).strip()
            if text:
                out.append(text)
    return out


def _stated_counts(intro: list[str]) -> tuple[tuple[SectionKind, int], ...]:
    for paragraph in intro:
        found: list[tuple[SectionKind, int]] = []
        for kind, pattern in _STATED:
            match = pattern.search(paragraph)
            # a "count" of more than 6 digits is not one (and past 4,300 int() raises)
            if match and len(match.group(1)) <= _STATED_DIGITS_MAX:
                found.append((kind, int(match.group(1))))  # type: ignore[arg-type]
        if len(found) >= 2:
            return tuple(found)
    return ()


def _check_counts(stated: tuple[tuple[SectionKind, int], ...], built: list[Section]) -> list[str]:
    """Compare the count line with the entries found (A22: a warning, never the truth)."""
    found = {s.kind: len(s.items) for s in built}
    return [
        f"count line says {n} {kind}, found {found.get(kind, 0)}"
        for kind, n in stated
        if kind in SECTION_KINDS and found.get(kind, 0) != n
    ]
