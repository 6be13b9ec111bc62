"""Format issue items and digests for X: 280 weighted characters a post.

Pure functions measured with `publishers.limits.x_weighted_length` (NFC, a URL
weighs 23 whatever its length, CJK and emoji weigh 2).

Choices:
- The item's link is never cut and comes last, so the card X shows is the
  item's. The title is cut only when it alone does not fit beside the link.
- The issue's name ("Python Trending Weekly #106") is added only when the
  description fits whole. Otherwise the description is shortened first, down
  to `DESCRIPTION_MIN_WEIGHT`; below that, extras are dropped instead: credit,
  then hashtag, then stars (last: they say most about a project in least
  space). Below that, the description is cut further, or dropped if only a
  fragment would remain.
- Credits are written without the `@`: the handle is the submitter's on GitHub,
  and an automated mention of whoever owns it on X would be unsolicited.
- A digest is a thread `k/n`; its parts split between items.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.issue import CONTAINER, DELETED, Issue, Item, Lang, SectionKind
from bot.parser import strip_annotations
from publishers.format_common import (
    SECTION_EMOJI,
    Block,
    NotPostable,
    clean_block,
    clean_line,
    credit_text,
    fit,
    hashtag,
    issue_label,
    join_blocks,
    join_nonempty,
    pack_numbered,
    require_postable,
    section_name,
    stars_text,
)
from publishers.limits import X_MAX_WEIGHTED, x_weighted_length
from publishers.posts import XPost

# Below this the description is a fragment; drop an extra rather than cut further.
DESCRIPTION_MIN_WEIGHT = 100
# Longest prefix worth trying when cutting: only a text full of 23-weight URLs
# could keep more than ~280 code points, and twitter-text is slow on long text.
_CUT_WINDOW = 1000


def fits_x(text: str) -> bool:
    return x_weighted_length(text) <= X_MAX_WEIGHTED


def _fit_x(text: str, fits: Callable[[str], bool]) -> str:
    return fit(text, fits, work_limit=_CUT_WINDOW)


def format_item_x(
    item: Item,
    *,
    section_kind: SectionKind,
    issue: Issue,
    issue_url: str | None,
    lang: Lang,
) -> XPost:
    """Format one item as a single post ending with its link.

    `issue_url` is not linked: a second URL costs 23 and would take the card.

    Raises:
        NotPostable: deleted placeholders, containers, items without a link,
            or a link X does not recognise as one and that alone is too long.
    """
    del issue_url  # see docstring: the issue is named, not linked
    url = require_postable(item)
    stars = stars_text(item)
    # Highest priority first; dropped from the end.
    extras = [e for e in (hashtag(section_kind, lang), credit_text(item, lang, mention=False)) if e]
    label = issue_label(issue, lang)

    def render(title: str, description: str, with_stars: bool, extras: Sequence[str]) -> str:
        head = join_nonempty(" ", [title, stars if with_stars else ""])
        tail = join_nonempty("\n", [" · ".join(extras), url])
        return join_nonempty("\n\n", [head, description, tail])

    if not fits_x(render("", "", False, [])):
        raise NotPostable(f"item {item.index}: its link alone is over {X_MAX_WEIGHTED}")
    title = _fit_x(clean_line(item.title), lambda t: fits_x(render(t, "", False, [])))
    description = clean_block(strip_annotations(item.description))
    # (stars?, extras, least description weight kept); the issue name only
    # when the description is whole: it is the least informative extra.
    whole = x_weighted_length(description)
    options = [(stars != "", [*extras, label], whole)]
    options += [
        (stars != "", extras[:k], DESCRIPTION_MIN_WEIGHT) for k in range(len(extras), -1, -1)
    ]
    if stars:
        options.append((False, [], DESCRIPTION_MIN_WEIGHT))
    for with_stars, chosen, least in options:
        if not fits_x(render(title, "", with_stars, chosen)):
            continue
        cut = _fit_x(
            description,
            lambda d: fits_x(render(title, d, with_stars, chosen)),  # noqa: B023
        )
        if cut == description or x_weighted_length(cut) >= least:
            return XPost(text=render(title, cut, with_stars, chosen))
    cut = _fit_x(description, lambda d: fits_x(render(title, d, False, [])))
    if x_weighted_length(cut) < DESCRIPTION_MIN_WEIGHT // 2:
        cut = ""  # a fragment ("An…") says nothing
    return XPost(text=render(title, cut, False, []))


def format_digest_x(issue: Issue, *, issue_url: str | None, lang: Lang) -> tuple[XPost, ...]:
    """Format the issue as a thread of numbered titles with links, `k/n` on each part.

    Deleted items never appear; items without a link appear as plain text;
    containers list their sub-links.
    """
    numbering_room = "999/999\n"
    title = clean_line(issue.title) or issue_label(issue, lang)
    title = _fit_x(
        title, lambda t: fits_x(numbering_room + join_nonempty("\n", [t, issue_url or ""]))
    )
    header = join_nonempty("\n", [title, issue_url or ""])
    blocks = [Block(header), *_digest_blocks(issue, lang)]

    def render(numbering: str, part: Sequence[Block]) -> str:
        return (f"{numbering}\n" if numbering else "") + join_blocks(part)

    parts = pack_numbered(blocks, render, fits_x)
    total = len(parts)
    return tuple(
        XPost(text=render(f"{number}/{total}" if total > 1 else "", part))
        for number, part in enumerate(parts, start=1)
    )


def _digest_blocks(issue: Issue, lang: Lang) -> list[Block]:
    blocks: list[Block] = []
    for section in issue.sections:
        heading = f"{SECTION_EMOJI[section.kind]} {section_name(section.kind, lang)}"
        # Room for the worst numbering and the heading, which rides on the first line.
        room = "999/999\n" + heading + "\n"
        lines: list[str] = []
        number = 0
        for item in section.items:
            if DELETED in item.flags:
                continue
            number += 1
            lines.extend(_digest_lines(item, number, room))
        if not lines:
            continue
        blocks.append(Block(heading + "\n" + lines[0], opens_section=True))
        blocks.extend(Block(line) for line in lines[1:])
    return blocks


def _digest_lines(item: Item, number: int, room: str) -> list[str]:
    """Return the item's line(s), each short enough to fit a post after `room`."""
    if item.url is not None and CONTAINER not in item.flags:
        url = item.url

        def line(title: str) -> str:
            return f"{number}. {title} {url}" if title else f"{number}. {url}"

        title = _fit_x(clean_line(item.title), lambda t: fits_x(room + line(t)))
        if not fits_x(room + line(title)):
            raise NotPostable(f"item {item.index}: its link alone is over {X_MAX_WEIGHTED}")
        return [line(title)]
    title = _fit_x(clean_line(item.title), lambda t: fits_x(f"{room}{number}. {t}"))
    lines = [f"{number}. {title}"]
    for sub in item.sub_links:
        sub_url = sub.url
        sub_title = _fit_x(clean_line(sub.title), lambda t: fits_x(f"{room}- {t} {sub_url}"))  # noqa: B023
        lines.append(f"- {sub_title} {sub_url}" if sub_title else f"- {sub_url}")
    return lines
