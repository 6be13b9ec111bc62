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
- A digest is one post, or two: the title, counts and link, then the top items.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.domain.issue import Issue, Item, Lang, Section, SectionKind
from bot.domain.parser import strip_annotations
from publishers.format_common import (
    BRANDS,
    NotPostable,
    circled,
    clean_block,
    clean_line,
    count_line,
    credit_text,
    fit,
    hashtag,
    issue_label,
    listed_items,
    require_postable,
    section_label,
    stars_text,
)
from publishers.limits import X_MAX_WEIGHTED, x_weighted_length
from publishers.posts import XPost
from publishers.templates import PostTemplates, bundled_templates

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
    templates: PostTemplates | None = None,
) -> XPost:
    """Format one item as a single post ending with its link (the `x.item` template).

    `issue_url` is not linked: a second URL costs 23 and would take the card.

    Raises:
        NotPostable: deleted placeholders, containers, items without a link,
            or a link X does not recognise as one and that alone is too long.
    """
    del issue_url  # see docstring: the issue is named, not linked
    words = templates or bundled_templates()
    url = require_postable(item)
    stars = stars_text(item)
    # Highest priority first; dropped from the end.
    extras = [e for e in (hashtag(section_kind, lang), credit_text(item, lang, mention=False)) if e]
    label = issue_label(issue, lang)

    def render(title: str, description: str, with_stars: bool, extras: Sequence[str]) -> str:
        return words.render(
            "x.item",
            lang,
            title=title,
            stars=stars if with_stars else "",
            description=description,
            extras=list(extras),
            url=url,
        )

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


def format_digest_x(
    issue: Issue, *, issue_url: str | None, lang: Lang, templates: PostTemplates | None = None
) -> tuple[XPost, ...]:
    """Say what the issue holds in one post, or two: a thread of every title is too long.

    The first post: the title, the count line ("Shared 12 articles, 12 open-source
    projects") and the link (the issue's full text first, else `issue_url`). When the
    titles do not fit beside it, a reply lists the top items, taken in turn from each
    section (articles ①, projects ①, articles ②, …) while they fit whole. Deleted items
    never appear; titles are not linked (the link of the first post is the issue's).
    The wording is the `x.digest` and `x.digest_section` templates'.
    """
    words = templates or bundled_templates()
    url = issue.full_text_url or issue_url or ""
    counts = count_line(issue, lang)

    def post(title: str, items: str) -> str:
        return words.render("x.digest", lang, title=title, counts=counts, items=items, url=url)

    def head(title: str) -> str:
        return post(title, "")

    def top(taken: int) -> str:
        return _top_items(sections, lang, taken, words)

    title = _fit_x(clean_line(issue.title) or issue_label(issue, lang), lambda t: fits_x(head(t)))
    first = head(title)
    sections = [(section, listed_items(section)) for section in issue.sections]
    everything = top(sum(len(items) for _, items in sections))
    whole = post(title, everything)
    if everything and fits_x(whole):
        return (XPost(text=whole),)
    if not fits_x(first):  # a link X does not shorten, and alone too long
        raise NotPostable(f"issue {issue.number}: its link alone is over {X_MAX_WEIGHTED}")
    best = ""
    for taken in range(1, sum(len(items) for _, items in sections) + 1):
        text = top(taken)
        if not fits_x(text):
            break
        best = text
    if not best and sections and sections[0][1]:
        best = _fit_x(top(1), fits_x)
    return (XPost(text=first), XPost(text=best)) if best else (XPost(text=first),)


def _top_items(
    sections: Sequence[tuple[Section, list[Item]]], lang: Lang, taken: int, words: PostTemplates
) -> str:
    """The first `taken` items, round robin over the sections, listed per section."""
    chosen: dict[int, int] = {}
    rank = 0
    while taken > 0 and any(rank < len(items) for _, items in sections):
        for at, (_, items) in enumerate(sections):
            if taken > 0 and rank < len(items):
                chosen[at] = rank + 1
                taken -= 1
        rank += 1
    blocks = []
    for at, (section, items) in enumerate(sections):
        if at not in chosen:
            continue
        listed = [
            {"mark": circled(n), "title": clean_line(item.title)}
            for n, item in enumerate(items[: chosen[at]], start=1)
        ]
        blocks.append(
            words.render("x.digest_section", lang, label=section_label(section, lang), items=listed)
        )
    return "\n\n".join(blocks)


def format_release_x(issue: Issue, *, url: str, templates: PostTemplates | None = None) -> XPost:
    """One post within 280 weighted characters; the link is last and never cut
    (the `x.release` template)."""
    words = templates or bundled_templates()
    label = issue_label(issue, issue.lang)

    def render(title: str) -> str:
        return words.render("x.release", issue.lang, issue_label=label, title=title, url=url)

    title = clean_line(issue.title)
    if title.startswith(BRANDS[issue.lang]):  # "Python 潮流周刊#60：…" repeats the label
        title = title.removeprefix(BRANDS[issue.lang]).lstrip(" #0123456789：:").strip()
    title = fit(title, lambda t: fits_x(render(t)))
    return XPost(text=render(title))
