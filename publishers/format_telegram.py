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

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.domain.issue import CONTAINER, Issue, Item, Lang, Link, SectionKind
from bot.domain.parser import strip_annotations
from publishers.format_common import (
    Block,
    circled,
    clean_block,
    clean_line,
    credit_text,
    fit,
    hashtag,
    issue_label,
    join_blocks,
    join_nonempty,
    listed_items,
    pack_numbered,
    photo_url,
    require_postable,
    section_label,
    stars_text,
    subtitle,
)
from publishers.limits import (
    TELEGRAM_CAPTION_MAX,
    TELEGRAM_ENTITIES_MAX,
    TELEGRAM_TEXT_MAX,
    telegram_caption_fits,
    telegram_entity_count,
    telegram_length,
)
from publishers.posts import TelegramPhoto, TelegramPost, TelegramText
from publishers.telegram_html import PARSE_MAX_CODE_POINTS, escape, escape_attribute, link  # noqa: F401 (theirs, re-exported)
from publishers.templates import PostTemplates, bundled_templates

# Digest lines are an index, not the item: long titles are cut so that a list
# stays a list (and one line can never outgrow a message).
DIGEST_TITLE_MAX = 200

# The channel's own digest, as the editor's script (`resources/weekly_workflow.py` in
# the newsletter's repository, step 7) sends it; links and handle are settings.
COVER_URL = (
    "https://raw.githubusercontent.com/chinesehuazhou/python-weekly/main/"
    "resources/img/python-weekly.png"
)
CHANNEL_HANDLE = "@pythontrendingweekly"
_EN_SUBSCRIBE = (Link("Patreon", "https://patreon.com/PythonCat666"),)
_SUBSCRIBE: dict[Lang, tuple[Link, ...]] = {
    "zh": (
        Link("小报童", "https://weekly.pythoncat.top/zh/#subscribe-xiaobot"),
        Link("爱发电", "https://weekly.pythoncat.top/zh/#subscribe-afdian"),
    ),
    "en": _EN_SUBSCRIBE,
    "ja": _EN_SUBSCRIBE,
}
_EN_COLLECTIONS = (
    Link("Free Collection Download", "https://pythoncat.top/posts/2025-04-20-sweekly"),
)
_COLLECTIONS: dict[Lang, tuple[Link, ...]] = {
    "zh": (
        Link("1季", "https://pythoncat.top/posts/2023-12-11-weekly"),
        Link("2季", "https://pythoncat.top/posts/2025-04-20-iweekly"),
        Link("3季", "https://pythoncat.top/posts/2026-06-07-iweekly"),
    ),
    "en": _EN_COLLECTIONS,
    "ja": _EN_COLLECTIONS,
}


_MD_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_MD_LINK = re.compile(r"\[([^\[\]\n]+)\]\((https?://[^\s()<>\"]+)\)")


def editor_html(text: str) -> str:
    """An editor's digest text as Telegram HTML: `**bold**` becomes <b>, `[t](url)` a link.

    `text` is HTML already (the entities of a formatted message as PTB's `text_html`
    gives them, or what the editor typed): the editor's script writes its captions in
    Markdown, so its bold and links are taken too. What comes out is validated like
    any edit (a tag left open is refused there, with the reason).
    """
    text = _MD_BOLD.sub(r"<b>\1</b>", text)
    return _MD_LINK.sub(r'<a href="\2">\1</a>', text)


def within(html: str, limit: int) -> bool:
    """Whether `html` parses and stays within `limit` code points and the entity cap."""
    if len(html) > PARSE_MAX_CODE_POINTS:  # Telegram refuses it unparsed: it does not fit
        return False
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
    templates: PostTemplates | None = None,
) -> TelegramPost:
    """Format one item as a text post, a photo post, or photo-then-text.

    Its wording is the `telegram.item` template's (`templates`, else the bundled one).

    Raises:
        NotPostable: deleted placeholders, containers, items without a link.
    """
    words = templates or bundled_templates()
    url = require_postable(item)
    title = clean_line(item.title) or url
    description = clean_block(strip_annotations(item.description))
    meta = join_nonempty(" · ", [stars_text(item), credit_text(item, lang)])
    label = issue_label(issue, lang)
    tag = hashtag(section_kind, lang)

    def render(title: str, description: str) -> str:
        return words.render(
            "telegram.item",
            lang,
            title=title,
            url=url,
            description=description,
            meta=meta,
            hashtag=tag,
            issue_label=label,
            issue_url=issue_url,
        )

    text = _fit_item(render, title, description, TELEGRAM_TEXT_MAX)
    photo = photo_url(item)
    if photo is None:
        return TelegramPost(parts=(TelegramText(html=text, disable_preview=False),))
    if telegram_caption_fits(text):
        return TelegramPost(parts=(TelegramPhoto(photo_url=photo, caption_html=text),))
    short_title = fit(title, lambda t: within(f"<b>{link(url, t)}</b>", TELEGRAM_CAPTION_MAX))
    short_caption = f"<b>{link(url, short_title)}</b>" if short_title else ""
    return TelegramPost(
        parts=(
            TelegramPhoto(photo_url=photo, caption_html=short_caption),
            TelegramText(html=text, disable_preview=True),
        )
    )


def _fit_item(render: Callable[[str, str], str], title: str, description: str, limit: int) -> str:
    """Cut the title only if it alone is too long, then the description to what is left."""
    title = fit(title, lambda t: within(render(t, ""), limit))
    description = fit(description, lambda d: within(render(title, d), limit))
    return render(title, description)


@dataclass(frozen=True, slots=True)
class ChannelStyle:
    """What the channel's digest carries besides the issue: its settings, as values.

    `None` links mean the newsletter's own for the digest's language (the footer of
    the editor's script); an empty tuple drops that line. No `photo_url`: text only.
    """

    photo_url: str | None = COVER_URL
    channel: str | None = CHANNEL_HANDLE
    subscribe_links: tuple[Link, ...] | None = None
    collection_links: tuple[Link, ...] | None = None

    def subscribe(self, lang: Lang) -> tuple[Link, ...]:
        return _SUBSCRIBE[lang] if self.subscribe_links is None else self.subscribe_links

    def collections(self, lang: Lang) -> tuple[Link, ...]:
        return _COLLECTIONS[lang] if self.collection_links is None else self.collection_links


def format_digest_telegram(
    issue: Issue,
    *,
    issue_url: str | None,
    lang: Lang,
    style: ChannelStyle | None = None,
    templates: PostTemplates | None = None,
) -> tuple[TelegramPost, ...]:
    """The channel's own weekly post: the cover photo, the issue's items, the footer.

    Shaped as the editor's script sends it (`#Python潮流周刊`, `🐱🐱🐱🐱  第 N 期  🐱🐱🐱🐱`,
    the title, each section's name in bold, items ①②③…, the subscription footer, the
    channel), one message per post: the photo with all of it as its caption when that
    fits (`telegram_caption_fits`), else the photo with the header, then the rest as
    text, split between items (`(k/n)`) past 4,096 characters or 100 entities. The
    title links to the issue's full text (`Issue.full_text_url`, the paid column's post
    a summary names), else to `issue_url`. Items with a link of their own are linked;
    deleted ones never appear. The wording is the `telegram.digest_*` templates'.
    """
    style = style or ChannelStyle()
    words = templates or bundled_templates()
    url = issue.full_text_url or issue_url
    title = fit(subtitle(issue, lang), lambda t: len(t) <= DIGEST_TITLE_MAX)
    header = words.render(
        "telegram.digest_header",
        lang,
        number=issue.number,
        issue_label=issue_label(issue, lang),
        title=title,
        url=url,
    )
    body = [*_digest_blocks(issue, lang, words), *_footer_blocks(style, lang, words)]
    whole = join_blocks([Block(header), *body])
    if style.photo_url is not None and telegram_caption_fits(whole):
        return (
            TelegramPost(parts=(TelegramPhoto(photo_url=style.photo_url, caption_html=whole),)),
        )
    posts: list[TelegramPost] = []
    if style.photo_url is not None:
        posts.append(
            TelegramPost(parts=(TelegramPhoto(photo_url=style.photo_url, caption_html=header),))
        )
    else:
        body = [Block(header), *body]
    posts.extend(_texts(body))
    return tuple(posts)


def digest_from_html(html: str, photo_url: str | None) -> tuple[TelegramPost, ...]:
    """An editor's own digest text, sent as the formatted one is: under the photo when it
    fits a caption, else after it (`telegram_caption_fits`); text only without a photo."""
    text = TelegramPost(parts=(TelegramText(html=html, disable_preview=True),))
    if photo_url is None:
        return (text,)
    if telegram_caption_fits(html):
        return (TelegramPost(parts=(TelegramPhoto(photo_url=photo_url, caption_html=html),)),)
    return (TelegramPost(parts=(TelegramPhoto(photo_url=photo_url),)), text)


def _texts(blocks: Sequence[Block]) -> list[TelegramPost]:
    def render(numbering: str, part: Sequence[Block]) -> str:
        return (f"({numbering})\n\n" if numbering else "") + join_blocks(part)

    parts = pack_numbered(blocks, render, lambda html: within(html, TELEGRAM_TEXT_MAX))
    total = len(parts)
    return [
        TelegramPost(
            parts=(
                TelegramText(
                    html=render(f"{number}/{total}" if total > 1 else "", part),
                    disable_preview=True,
                ),
            )
        )
        for number, part in enumerate(parts, start=1)
    ]


def _digest_blocks(issue: Issue, lang: Lang, words: PostTemplates) -> list[Block]:
    """Per section: its name in bold, a blank line, one line per item (as the script)."""
    blocks: list[Block] = []
    for section in issue.sections:
        lines: list[str] = []
        for number, item in enumerate(listed_items(section), start=1):
            lines.extend(_digest_lines(item, number, lang, words))
        if not lines:
            continue
        heading = words.render(
            "telegram.digest_section", lang, label=section_label(section, lang), kind=section.kind
        )
        blocks.append(Block(heading + "\n\n" + lines[0], opens_section=True))
        blocks.extend(Block(line) for line in lines[1:])
    return blocks


def _digest_lines(item: Item, number: int, lang: Lang, words: PostTemplates) -> list[str]:
    """An item's lines in the digest (a container's sub-links one each: never split)."""
    linked = item.url is not None and CONTAINER not in item.flags
    rendered = words.render(
        "telegram.digest_line",
        lang,
        mark=circled(number),
        title=fit(clean_line(item.title), lambda t: len(t) <= DIGEST_TITLE_MAX),
        url=item.url if linked else None,
        sub_links=[]
        if linked
        else [
            {
                "title": fit(clean_line(sub.title), lambda t: len(t) <= DIGEST_TITLE_MAX),
                "url": sub.url,
            }
            for sub in item.sub_links
        ],
    )
    return [line for line in rendered.split("\n") if line.strip()]


_PARAGRAPHS = re.compile(r"\n[ \t]*\n")


def _footer_blocks(style: ChannelStyle, lang: Lang, words: PostTemplates) -> list[Block]:
    """The script's footer: why subscribe, where (the paid column, the tip jar), the
    free collections, and the channel's handle; a line without links is left out."""
    rendered = words.render(
        "telegram.digest_footer",
        lang,
        subscribe=style.subscribe(lang),
        collections=style.collections(lang),
        channel=style.channel or None,
    )
    paragraphs = (p.strip() for p in _PARAGRAPHS.split(rendered))
    return [Block(p, opens_section=True) for p in paragraphs if p]


def format_release_telegram(
    issue: Issue, *, url: str, templates: PostTemplates | None = None
) -> TelegramPost:
    """One message: the issue is free to read now, with its linked title
    (the `telegram.release` template)."""
    words = templates or bundled_templates()
    label = issue_label(issue, issue.lang)
    title = fit(clean_line(issue.title) or label, lambda t: len(t) <= DIGEST_TITLE_MAX)

    def render(title: str) -> str:
        return words.render("telegram.release", issue.lang, issue_label=label, title=title, url=url)

    title = fit(title, lambda t: within(render(t), TELEGRAM_TEXT_MAX))
    # The link preview is wanted here: it shows the issue the notice is about.
    return TelegramPost(parts=(TelegramText(html=render(title), disable_preview=False),))


def channel_line(channel: str, lang: Lang, templates: PostTemplates | None = None) -> str:
    """The channel's handle line (`🐱频道 @…`) that ends the digest and the roundup: the
    digest footer's template with nothing but the channel, so both say it one way."""
    words = templates or bundled_templates()
    return words.render(
        "telegram.digest_footer", lang, subscribe=[], collections=[], channel=channel
    ).strip()
