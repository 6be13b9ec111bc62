"""Format issue items and digests for a Telegram channel (HTML parse mode).

Pure functions: an `Item`/`Issue` in, a `TelegramPost` within the limits out.
Lengths and entity counts are measured with `publishers.limits`
(`telegram_length`, `telegram_entity_count`), the same model of tdlib the fake
server validates with, so the measure is the platform's, not a guess.

Choices:
- Item posts keep the link preview (the first link is the item's, so the
  preview shows it); the text after a photo disables it (the photo is the
  picture) and so do digests (a preview of one item would misrepresent a list).
- Everything from the source is escaped; the only markup is ours.
- A caption that cannot hold the whole text becomes photo-then-text: the photo
  with the linked title, then the full message.
- Digests split between items, never inside one; deleted items never appear,
  items without a link appear as plain text, containers list their sub-links.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.issue import CONTAINER, DELETED, Issue, Item, Lang, SectionKind
from bot.parser import strip_annotations
from publishers.format_common import (
    SECTION_EMOJI,
    Block,
    clean_block,
    clean_line,
    credit_text,
    fit,
    hashtag,
    issue_label,
    join_blocks,
    join_nonempty,
    pack_numbered,
    photo_url,
    require_postable,
    section_name,
    stars_text,
)
from publishers.limits import (
    TELEGRAM_CAPTION_MAX,
    TELEGRAM_ENTITIES_MAX,
    TELEGRAM_TEXT_MAX,
    telegram_entity_count,
    telegram_length,
)
from publishers.posts import TelegramPhoto, TelegramPost, TelegramText

# Digest lines are an index, not the item: long titles are cut so that a list
# stays a list (and one line can never outgrow a message).
DIGEST_TITLE_MAX = 200


def escape(text: str) -> str:
    """Escape text for Telegram HTML: only `&`, `<`, `>` are special in text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(value: str) -> str:
    """Escape a double-quoted attribute value (an `href`)."""
    return escape(value).replace('"', "&quot;")


def link(url: str, text: str) -> str:
    return f'<a href="{escape_attribute(url)}">{escape(text)}</a>'


def within(html: str, limit: int) -> bool:
    """Whether `html` parses and stays within `limit` code points and the entity cap."""
    if telegram_length(html) > limit:
        return False
    return telegram_entity_count(html) <= TELEGRAM_ENTITIES_MAX


def format_item_telegram(
    item: Item,
    *,
    section_kind: SectionKind,
    issue: Issue,
    issue_url: str | None,
    lang: Lang,
) -> TelegramPost:
    """Format one item as a text post, a photo post, or photo-then-text.

    Raises:
        NotPostable: deleted placeholders, containers, items without a link.
    """
    url = require_postable(item)
    title = clean_line(item.title) or url
    description = clean_block(strip_annotations(item.description))
    meta = join_nonempty(" · ", [stars_text(item), credit_text(item, lang)])
    label = issue_label(issue, lang)
    footer = (
        hashtag(section_kind, lang)
        + " · "
        + (link(issue_url, label) if issue_url else escape(label))
    )

    def render(title: str, description: str) -> str:
        head = f"<b>{link(url, title)}</b>"
        tail = join_nonempty("\n", [escape(meta), footer])
        return join_nonempty("\n\n", [head, escape(description), tail])

    photo = photo_url(item)
    if photo is not None:
        caption = _fit_item(render, title, description, TELEGRAM_CAPTION_MAX)
        if caption == render(title, description):
            return TelegramPost(parts=(TelegramPhoto(photo_url=photo, caption_html=caption),))
        short_title = fit(title, lambda t: within(f"<b>{link(url, t)}</b>", TELEGRAM_CAPTION_MAX))
        short_caption = f"<b>{link(url, short_title)}</b>" if short_title else ""
        text = _fit_item(render, title, description, TELEGRAM_TEXT_MAX)
        return TelegramPost(
            parts=(
                TelegramPhoto(photo_url=photo, caption_html=short_caption),
                TelegramText(html=text, disable_preview=True),
            )
        )
    text = _fit_item(render, title, description, TELEGRAM_TEXT_MAX)
    return TelegramPost(parts=(TelegramText(html=text, disable_preview=False),))


def _fit_item(render: Callable[[str, str], str], title: str, description: str, limit: int) -> str:
    """Cut the title only if it alone is too long, then the description to what is left."""
    title = fit(title, lambda t: within(render(t, ""), limit))
    description = fit(description, lambda d: within(render(title, d), limit))
    return render(title, description)


def format_digest_telegram(
    issue: Issue, *, issue_url: str | None, lang: Lang
) -> tuple[TelegramPost, ...]:
    """Format the issue as numbered linked titles per section, split between items.

    Every message stays within 4,096 code points after parsing and 100 entities
    (past that Telegram silently drops formatting). When it takes more than one
    message, each header says `(k/n)`.
    """
    title = clean_line(issue.title) or issue_label(issue, lang)
    title = fit(title, lambda t: len(t) <= DIGEST_TITLE_MAX)
    blocks = _digest_blocks(issue, lang)

    heading = link(issue_url, title) if issue_url else escape(title)

    def render(numbering: str, part: Sequence[Block]) -> str:
        header = f"<b>{heading}</b>" + (f" ({numbering})" if numbering else "")
        body = join_blocks(part)
        return header + ("\n\n" + body if body else "")

    parts = pack_numbered(blocks, render, lambda html: within(html, TELEGRAM_TEXT_MAX))
    total = len(parts)
    return tuple(
        TelegramPost(
            parts=(
                TelegramText(
                    html=render(f"{number}/{total}" if total > 1 else "", part),
                    disable_preview=True,
                ),
            )
        )
        for number, part in enumerate(parts, start=1)
    )


def _digest_blocks(issue: Issue, lang: Lang) -> list[Block]:
    blocks: list[Block] = []
    for section in issue.sections:
        lines: list[str] = []
        number = 0
        for item in section.items:
            if DELETED in item.flags:
                continue
            number += 1
            lines.extend(_digest_lines(item, number))
        if not lines:
            continue
        heading = f"<b>{SECTION_EMOJI[section.kind]} {escape(section_name(section.kind, lang))}</b>"
        blocks.append(Block(heading + "\n" + lines[0], opens_section=True))
        blocks.extend(Block(line) for line in lines[1:])
    return blocks


def _digest_lines(item: Item, number: int) -> list[str]:
    title = fit(clean_line(item.title), lambda t: len(t) <= DIGEST_TITLE_MAX)
    stars = stars_text(item)
    suffix = " " + escape(stars) if stars else ""
    if item.url is not None and CONTAINER not in item.flags:
        return [f"{number}. {link(item.url, title or item.url)}{suffix}"]
    lines = [f"{number}. {escape(title)}{suffix}"]
    for sub in item.sub_links:
        sub_title = fit(clean_line(sub.title), lambda t: len(t) <= DIGEST_TITLE_MAX)
        lines.append(f"    • {link(sub.url, sub_title or sub.url)}")
    return lines
