"""One entry of a content section: header line + body lines → an `Item`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.domain.issue import (
    CONTAINER,
    DELETED,
    GLUED,
    NO_LINK,
    ORPHAN,
    PROMO_STRIPPED,
    Image,
    Item,
    Link,
)
from bot.domain.parser._inline import Span, plain, spans
from bot.domain.parser._text import squash_spaces

# `N、` (spaces may follow) or `N.` + space (A10: `3.12 …` is no marker), or a circled number.
CIRCLED = (
    "\u2460-\u2473"  # ①..⑳
    "\u3251-\u325f"  # ㉑..㉟
    "\u32b1-\u32bf"  # ㊱..㊿
)
# `N.` glued to its link (`1.[title](url)`) is a marker too: no version number is followed by `[`.
ITEM_MARKER = re.compile(
    rf"^[ \t]{{0,3}}(?:(\d{{1,3}})(?:、|\.[ \t]|\.(?=\[))|([{CIRCLED}]))[ \t]*"
)
# An entry glued to the end of an image or link line: `…png)9、[title](url)` (A1).
GLUED_MARKER = re.compile(r"\)[ \t]*(\d{1,3})(?:、|\.[ \t])[ \t]*(?=\[)")

_COUNT = r"(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*[kK]?\+?"  # 7.2K, 860, 1,234, 10K+
_STAR_WORD = r"(?:stars?|⭐\ufe0f?|★)"
_STARS = re.compile(
    rf"[（(]\s*(?:(?:github\s+)?{_STAR_WORD}\s*[:：]?\s*({_COUNT})"
    rf"|({_COUNT})\s*(?:github\s+)?{_STAR_WORD}(?:\s+on\s+github)?)\s*[)）]",
    re.IGNORECASE,
)
_HANDLE = r"(@?\s*[^()（）@\s][^()（）]*?)"
# Credits that close a paragraph, in parentheses. Only `submitted/contributed/shared by`
# may name someone without `@` (`(Shared by: Yunyun)`); `from`/`来自` need the `@`, or
# `(from the official docs)` would be a credit.
_CREDIT_SHARED_BY = re.compile(
    r"[（(]\s*(?:submitted|contributed|shared|recommended)\s+by\s*[:：]?\s*"
    + _HANDLE
    + r"\s*[)）]",
    re.IGNORECASE,
)
_TRAILING_CREDITS = (
    re.compile(r"[（(]\s*@([^()（）]+?)\s*投稿\s*[)）]"),
    re.compile(r"[（(]\s*(?:(?:投稿|分享)(?:自|by)?|来自)\s*[:：]?\s*@\s*([^()（）]+?)\s*[)）]"),
    _CREDIT_SHARED_BY,
    re.compile(r"[（(]\s*(?:from|via)\s*[:：]?\s*@\s*([^()（）@]+?)\s*[)）]", re.IGNORECASE),
)
# `@NoHeartPen 投稿：…` / `@NoHeartPen Contribution: …` opens the paragraph instead.
_PREFIX_CREDIT = re.compile(
    r"^\s*@([^\s:：]+)\s*(?:投稿|contribution|submission)\s*[:：]", re.IGNORECASE | re.MULTILINE
)
_CREDITS = (*_TRAILING_CREDITS, _PREFIX_CREDIT)
# Placeholders of removed entries (A5), in each language an issue is written in:
# zh `内容删除`, `原推荐文章…已删`; en `Content deleted.`, `The original article was removed`;
# ja `内容削除`, `コンテンツは削除されました`. Only a header without a link is tested.
_DELETED_WORDS = re.compile(
    r"内容(?:已)?删除|已被?删|已被?移除"
    r"|^\W*(?:deleted|removed)\b"
    r"|^\W*(?:the\s+)?(?:original(?:ly)?\s+)?(?:recommended\s+)?"
    r"(?:content|article|entry|item|link|post|project)\b.*\b(?:deleted|removed)\W*$"
    r"|(?:内容|コンテンツ|記事|項目|エントリー?|リンク).{0,20}削除|^\W*削除",
    re.IGNORECASE,
)
_LANG_TAG = re.compile(r"[（(]([^()（）\d@]{1,15})[)）]")
_TRAILING_LANG_TAG = re.compile(
    r"\s*[（(](?:英|英文|中译|中英|English|Eng|EN|in English|Chinese)[)）]\s*$", re.IGNORECASE
)
_NOT_LANG = re.compile(r"star|\bby\b|投稿|分享", re.IGNORECASE)
_BULLET = re.compile(r"^[ \t]*[-*+][ \t]+")
_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")
# Promotions and tip jars (FORMAT.md §3.7, A12): never part of an item. These name the
# newsletter's own promos, tip jar and paywall, whatever else the paragraph says.
# The promo patterns below are matched against the lowercased paragraph: written in lower
# case and without re.IGNORECASE, which made them three times slower.
_PROMO_TEXT = re.compile(
    r"^\s*(?:>\s*)?🎁|organi[sz]es its content into seasons|support_pythoncat|wechat_code"
    r"|buymeacoffee\.com/pythoncat|xiaobot\.net/p/python_weekly"
    r"|pythoncat\.top/posts/\d{4}-\d{2}-\d{2}-[a-z]weekly"
)
# Words of a tip jar or a paywall (also the footer's). A paragraph is a promo only when it
# also speaks of the newsletter and asks the reader: a promo is a whole paragraph about
# supporting the newsletter, while a description may mention tipping or a newsletter.
_PROMO_WORDS = re.compile(
    r"赞赏|打赏|买杯咖啡|付费订阅|订阅后|微信关注|サポート|投げ銭|patreon|ko-fi"
    r"|buy me (?:a )?coffee|after subscribing|subscribe at\b"
    r"|\btip(?:ping| jar)\b|\ba (?:small |little )?tip\b|\b(?:leave|send) (?:us |me )?a tip\b"
)
_SELF_REFERENCE = re.compile(r"周刊|猫哥|python\s*猫|pythoncat|newsletter|weekly|本刊|週刊|ネコ")
_READER_CALL = re.compile(
    r"如果你|如果您|欢迎|请(?:随意|表达|支持|赞赏|打赏)|吧[~～]*\s*$|もし|気軽に|ください"
    r"|\bif you\b|\bfeel free\b|\bplease\b|\bconsider\b"
)
# Closing lines before the footer: `首发于我的博客：…`, `First published at …`.
_FIRST_PUBLISHED = re.compile(
    r"^\W*(?:本文|本期|本周刊|周刊)?(?:原文)?首发于"
    r"|^\W*(?:this (?:issue|post|article) (?:was )?)?(?:first|originally) (?:published|posted)"
    r" (?:at|on|in)\b|^\W*(?:この記事は)?.{0,12}(?:初出|で最初に公開)"
)
_OWN_PLACE = re.compile(r"博客|公众号|blog|substack|ブログ|https?://")
_PROMO_IMAGE = re.compile(
    r"img\.pythoncat\.top/(?:support_pythoncat|python_weekly_banner|pythoncat\.|python_cat|wechat_code)"
)


@dataclass(slots=True)
class ItemDraft:
    """An entry while its lines are being collected."""

    number: str
    header: str
    body: list[str] = field(default_factory=list)
    glued: bool = False
    orphan: list[str] = field(default_factory=list)


def _is_http(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _is_promo(paragraph: str) -> bool:
    """Whether a paragraph is the newsletter's own (promo, tip jar, closing line), not an item's."""
    low = paragraph.lower()
    if _PROMO_TEXT.search(low):
        return True
    if _FIRST_PUBLISHED.search(low):
        return bool(_SELF_REFERENCE.search(low) or _OWN_PLACE.search(low))
    return bool(
        _PROMO_WORDS.search(low) and _SELF_REFERENCE.search(low) and _READER_CALL.search(low)
    )


def split_orphan(draft: ItemDraft, next_number: str) -> None:
    """Detach text that follows the last image when the next entry's number skips one (A3)."""
    if not (_arabic(draft.number) and _arabic(next_number)):
        return
    if int(next_number) - int(draft.number) < 2:
        return
    last_image = -1
    for i, line in enumerate(draft.body):
        if line.lstrip().startswith("!["):
            last_image = i
    if last_image < 0:
        return
    tail = draft.body[last_image + 1 :]
    if any(line.strip() for line in tail):
        draft.orphan = tail
        del draft.body[last_image + 1 :]


def build_item(draft: ItemDraft, index: int) -> Item:
    """Turn a draft into an `Item`: header fields first, then the body."""
    flags: set[str] = set()
    header_spans = spans(draft.header)
    title, url, tail, header_links = _read_header(header_spans)
    if draft.glued:
        flags.add(GLUED)
    if draft.orphan:
        flags.add(ORPHAN)

    body_md: list[str] = []
    body_text: list[str] = []
    images: list[Image] = []
    links: list[Link] = list(header_links)
    bullets: list[Link] = []
    in_fence = False
    promo = False
    # A summary entry is one line (FORMAT.md §3.6): what follows it is closing text.
    body = draft.body if _arabic(draft.number) else []
    for line in body:
        if promo:
            break
        if in_fence or _FENCE.match(line):
            body_md.append(line)
            if _FENCE.match(line):
                in_fence = not in_fence  # the ``` lines are Markdown: plain text keeps the code
            else:
                body_text.append(line)
            continue
        stripped = line.strip()
        if not stripped:
            body_md.append("")
            body_text.append("")
            continue
        if _is_promo(stripped):
            promo = True
            flags.add(PROMO_STRIPPED)
            break
        parts = spans(stripped)
        line_images = [p for p in parts if p.kind == "image" and _is_http(p.url)]
        if any(_PROMO_IMAGE.search(p.url) for p in line_images):
            promo = True
            flags.add(PROMO_STRIPPED)
            break
        images.extend(Image(p.url, p.text.strip()) for p in line_images)
        line_links = [Link(squash_spaces(p.text), p.url) for p in parts if p.kind == "link"]
        line_links = [link for link in line_links if _is_http(link.url)]
        links.extend(line_links)
        text = plain(parts).strip()
        if _BULLET.match(stripped) and line_links:
            bullet_text = _BULLET.sub("", text) if _BULLET.match(text) else text
            bullets.append(Link(squash_spaces(bullet_text) or line_links[0].url, line_links[0].url))
        body_md.append(line.rstrip())
        if text:
            body_text.append(text)

    lang_tag = _lang_tag(tail)
    lead = _header_text_after_link(tail, lang_tag) if url is not None else ""
    if lead:  # `1、[title](url)：description` puts the text on the header line
        body_text.insert(0, lead)
        body_md.insert(0, lead)
        if len(body_text) > 1 and body_text[1]:
            body_text.insert(1, "")
            body_md.insert(1, "")
    description = _join_paragraphs(body_text)
    description_md = _join_paragraphs(body_md)
    scan = description if lead else f"{tail}\n{description}"
    stars_written = [(m.group(1) or m.group(2)).replace(" ", "") for m in _STARS.finditer(scan)]
    credit = _credit(scan)

    sub_links: tuple[Link, ...] = ()
    if url is None:
        flags.add(NO_LINK)
        if _arabic(draft.number) and _DELETED_WORDS.search(title):
            flags.add(DELETED)
        elif bullets:
            flags.add(CONTAINER)
            sub_links = tuple(bullets)
    if not title:
        title = url or draft.header.strip()
    return Item(
        index=index,
        number_as_written=draft.number,
        title=title,
        url=url,
        lang_tag=lang_tag,
        description=description,
        description_md=description_md,
        images=tuple(images),
        stars=tuple(_star_value(s) for s in stars_written),
        stars_as_written=tuple(stars_written),
        credit=credit,
        sub_links=sub_links,
        flags=frozenset(flags),
        description_links=tuple(links),
        orphan_text=_join_paragraphs([line.strip() for line in draft.orphan]),
    )


def _read_header(parts: list[Span]) -> tuple[str, str | None, str, list[Link]]:
    """Return (title, url, tail text, other links) of an entry's header line."""
    visible = [p for p in parts if p.kind != "image"]
    while visible and visible[0].kind == "text" and not visible[0].text.strip():
        visible.pop(0)
    if visible and visible[0].kind == "link":
        # One link, or a title split over adjacent links (A8): join texts, keep the last URL.
        texts: list[str] = []
        url = ""
        rest_at = len(visible)
        for i, part in enumerate(visible):
            if part.kind == "link":
                texts.append(part.text)
                url = part.url
            elif part.kind == "text" and not part.text.strip() and i + 1 < len(visible):
                continue
            else:
                rest_at = i
                break
        rest = visible[rest_at:]
        title = squash_spaces("".join(texts))
        extra = [Link(squash_spaces(p.text), p.url) for p in rest if p.kind == "link"]
        tail = plain(rest)
        if _is_http(url):
            return title, url, tail, [e for e in extra if _is_http(e.url)]
        return title, None, tail, [e for e in extra if _is_http(e.url)]
    links = [p for p in visible if p.kind == "link" and _is_http(p.url)]
    if links and links[0].text.strip().startswith("http"):
        # `Title [url](url)` (A4): the text before the bracket is the title.
        first = visible.index(links[0])
        title = squash_spaces(plain(visible[:first]))
        if title:
            tail = plain(visible[first + 1 :])
            other = [Link(squash_spaces(p.text), p.url) for p in links[1:]]
            return title, links[0].url, tail, other
    # No link on the header line (A5, A6, A7): the links, if any, belong to the text.
    title = squash_spaces(plain(visible))
    tag = _TRAILING_LANG_TAG.search(title)
    tail = ""
    if tag and tag.start() > 0:
        title, tail = title[: tag.start()].rstrip(), tag.group(0).strip()
    return title, None, tail, [Link(squash_spaces(p.text), p.url) for p in links]


_WORD = re.compile(r"[^\W_]")


def _header_text_after_link(tail: str, lang_tag: str | None) -> str:
    """Text after the header link other than its language tag (none in the archive so far)."""
    if lang_tag:
        tail = tail.replace(lang_tag, "", 1)
    tail = tail.strip(" \t:：-–—")
    return tail if _WORD.search(tail) else ""


def _join_paragraphs(lines: list[str]) -> str:
    """Join lines: one newline inside a paragraph, a blank line between paragraphs."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    return "\n\n".join(paragraphs)


_TRAILING_ANNOTATIONS = tuple(
    re.compile(rf"\s*(?:{p.pattern})\s*$", p.flags) for p in (_STARS, *_TRAILING_CREDITS)
)


def strip_annotations(description: str) -> str:
    """The description without the star counts and credits that close a paragraph.

    Posts show those on their own line (`⭐ 7.2K`, `via @X`), so the text would
    say them twice. Only trailing annotations (and the `@X 投稿：` prefix) go: a
    star count in the middle of a sentence is part of what it says. Same
    patterns as the parser reads them with.
    """
    paragraphs = []
    for paragraph in description.split("\n\n"):
        paragraph = _PREFIX_CREDIT.sub("", paragraph)
        previous = None
        while previous != paragraph:
            previous = paragraph
            for pattern in _TRAILING_ANNOTATIONS:
                paragraph = pattern.sub("", paragraph)
        paragraphs.append(paragraph.strip())
    return "\n\n".join(p for p in paragraphs if p)


STARS_MAX = 10**12  # more than any repository has: a longer count is capped, not a crash


def _star_value(written: str) -> int:
    """The count a written star number means, at most `STARS_MAX` (a run of hundreds
    of digits is `inf` as a float, which `round` refuses)."""
    written = written.replace(",", "").rstrip("+")  # `10K+` counts as 10K
    value = float(written[:-1]) * 1000 if written[-1] in "kK" else float(written)
    return round(min(value, STARS_MAX))


def _credit(text: str) -> str | None:
    for pattern in _CREDITS:
        match = pattern.search(text)
        if match:
            handle = squash_spaces(match.group(1).strip())
            if handle.startswith("@"):
                handle = "@" + handle[1:].strip()
            elif pattern is not _CREDIT_SHARED_BY:
                handle = "@" + handle
            return handle or None
    return None


def _lang_tag(tail: str) -> str | None:
    for match in _LANG_TAG.finditer(tail):
        inner = match.group(1).strip()
        if inner and not _NOT_LANG.search(inner):
            return match.group(0).strip()
    return None


def _arabic(number: str) -> bool:
    """Whether a written number is ASCII digits (`"①".isdigit()` is True in Python)."""
    return number.isascii() and number.isdigit()
