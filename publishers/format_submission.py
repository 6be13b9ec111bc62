"""Format a reader's approved link for the channel and for X, within the platforms' limits.

Pure: a `SubmittedLinkPost` (and an editor's title/comment for the target, when they
wrote one) in, a `TelegramPost` or `XPost` out, measured with `publishers.limits`.

Choices:
- The post is the link's: its title (the editor's, else the page's, else the host),
  a comment (the editor's, else the page's description; `""` drops it) and the
  credit "via <name>" when the submitter is credited. The reader's own note is for
  the editors and never posted.
- Telegram: the title is the bold link, the link preview stays on (it shows the page).
  X: the link comes last and is never cut, so X's card is the page's.
- What gives way when it does not fit: the comment first (dropped when only a
  fragment would remain), then the title; the credit is short and promised, so it
  stays. An editor's text that would be cut is reported by `edit_problem` before it
  is saved, so the posted text is the one the editor saw.
- The name is plain text on both (no `tg://` link, its `@` removed): a display name
  is what the reader chose to show, and a mention would reach whoever owns that handle;
  a name holding a link is not credited (`credit_line`). A reader who chose their
  @username (`/credit`) is credited `via @handle` on the channel, where the handle is
  theirs (Telegram gave it with the update); on X it is written without the `@`, as the
  weekly's item credits are, since an X account of that name may be someone else.
- The next issue's draft credits as the newsletter writes it (FORMAT.md §3.5): zh
  `（@name 投稿）`, en `(Submitted by @name)`, the name the handle or the display name
  (the newsletter puts `@` before both); `draft_credit`, read back by the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from twitter_text import extract_urls

from publishers.format_common import (
    ELLIPSIS,
    NotPostable,
    clean_block,
    clean_line,
    fit,
)
from publishers.format_telegram import within
from publishers.format_x import fits_x
from publishers.limits import TELEGRAM_TEXT_MAX, X_MAX_WEIGHTED, telegram_length, x_weighted_length
from publishers.posts import TelegramPost, TelegramText, XPost
from publishers.telegram_html import is_empty_text
from publishers.templates import PostTemplates, bundled_templates

CREDIT_NAME_MAX = 64
# Below this an X comment is a fragment ("An…"): dropped rather than cut further.
COMMENT_MIN_WEIGHT = 40
# Longest text worth measuring for X: only a text full of 23-weight URLs keeps more
# than ~280 code points, and twitter-text is slow on long text.
_X_WINDOW = 1000


@dataclass(frozen=True, slots=True)
class SubmittedLinkPost:
    """What a submission's post is made of, before any editor's change."""

    url: str  # the canonical URL
    title: str | None = None  # the page's title, when the preview found one
    comment: str | None = None  # the page's description, when the preview found one
    credit: str | None = None  # the submitter's name, when they are credited
    handle: bool = False  # `credit` is their Telegram @username (without the @)
    # For targets that file the link for the editors (GitHub), never posted to readers:
    key: str = ""  # the outbox key, `submission:<id>`
    note: str = ""  # the reader's note
    fields: tuple[tuple[str, str], ...] = ()  # (label, value): for whom, solves, level


# A Telegram username: 5-32 letters, digits and underscores (4 for some old ones).
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")


def credit_name(post: SubmittedLinkPost) -> str:
    """The name a post credits, on one line, without `@`, within `CREDIT_NAME_MAX`;
    "" when there is none or it holds a link (a display name is no place for an ad)."""
    if post.credit is None:
        return ""
    plain = clean_line(post.credit.replace("@", "").replace("\uff20", ""))
    if extract_urls(plain):
        return ""
    return fit(plain, lambda n: len(n) <= CREDIT_NAME_MAX)


def _is_handle(post: SubmittedLinkPost) -> bool:
    return post.handle and post.credit is not None and bool(_USERNAME.fullmatch(post.credit))


def credit_line(name: str | None, *, handle: bool = False, mention: bool = True) -> str:
    """`via <name>`, the name on one line and at most `CREDIT_NAME_MAX` characters.

    The name is the reader's to choose, so it must not make the post do something:
    `@` (and the full-width `＠` X also reads) go, so it mentions nobody; a name that
    holds a link gets no credit line at all. Only a real Telegram username the reader
    chose to be credited by (`handle`) keeps its `@`, and only where `mention` (the
    channel: the handle is theirs there).
    """
    post = SubmittedLinkPost(url="", credit=name, handle=handle)
    if _is_handle(post):
        return f"via @{name}" if mention else f"via {name}"
    cleaned = credit_name(post)
    return f"via {cleaned}" if cleaned else ""


def _credit(post: SubmittedLinkPost, *, mention: bool) -> str:
    return credit_line(post.credit, handle=post.handle, mention=mention)


def draft_credit(post: SubmittedLinkPost, lang: str) -> str:
    """The credit the next issue's draft writes after the item, as the newsletter does:
    zh `（@name 投稿）`, en `(Submitted by @name)`; "" for an anonymous submitter.

    Brackets are dropped from the name (the newsletter's credits cannot hold them).
    """
    name = post.credit if _is_handle(post) else credit_name(post)
    name = re.sub(r"[()（）\[\]]", "", name or "").strip()
    if not name:
        return ""
    return f"（@{name} 投稿）" if lang == "zh" else f"(Submitted by @{name})"


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _title(post: SubmittedLinkPost, edited: str | None) -> str:
    chosen = edited if edited is not None and clean_line(edited) else post.title
    title = clean_line(chosen or "")
    # a title of invisible characters (U+FEFF) would make a post Telegram calls empty
    return title if not is_empty_text(title) else _host(post.url)


def _comment(post: SubmittedLinkPost, edited: str | None) -> str:
    return clean_block(edited if edited is not None else post.comment or "")


def render_submission_telegram(
    post: SubmittedLinkPost, title: str, comment: str, templates: PostTemplates | None = None
) -> str:
    """The channel text exactly as given (nothing cut): for the formatter and the edit.

    The wording is the `telegram.link` template's (`templates`, else the bundled one).
    """
    return (templates or bundled_templates()).render(
        "telegram.link",
        None,
        title=title,
        url=post.url,
        comment=comment,
        credit=_credit(post, mention=True),
    )


def render_submission_x(
    post: SubmittedLinkPost, title: str, comment: str, templates: PostTemplates | None = None
) -> str:
    """The X text exactly as given (nothing cut): for the formatter and the edit
    (the `x.link` template)."""
    return (templates or bundled_templates()).render(
        "x.link",
        None,
        title=title,
        comment=comment,
        credit=_credit(post, mention=False),
        url=post.url,
    )


def format_submission_telegram(
    post: SubmittedLinkPost,
    *,
    title: str | None = None,
    comment: str | None = None,
    templates: PostTemplates | None = None,
) -> TelegramPost:
    """One text message within 4,096 characters and 100 entities.

    `title`/`comment` are the editor's for the channel (None: the defaults).
    """
    chosen_title, chosen_comment = _title(post, title), _comment(post, comment)

    def fits(html: str) -> bool:
        return within(html, TELEGRAM_TEXT_MAX)

    def render(title: str, comment: str) -> str:
        return render_submission_telegram(post, title, comment, templates)

    chosen_title = fit(chosen_title, lambda t: fits(render(t, "")))
    chosen_comment = fit(chosen_comment, lambda c: fits(render(chosen_title, c)))
    html = render(chosen_title or _host(post.url), chosen_comment)
    return TelegramPost(parts=(TelegramText(html=html, disable_preview=False),))


def format_submission_x(
    post: SubmittedLinkPost,
    *,
    title: str | None = None,
    comment: str | None = None,
    templates: PostTemplates | None = None,
) -> XPost:
    """One post within 280 weighted characters, ending with the link.

    Raises:
        NotPostable: the link (with the credit) alone is over 280, which happens only
            for a URL X does not recognise as one (it weighs every character then).
    """

    def render(title: str, comment: str) -> str:
        return render_submission_x(post, title, comment, templates)

    if not fits_x(render("", "")):
        raise NotPostable(f"{post.url}: the link alone is over {X_MAX_WEIGHTED} on X")
    chosen_title = fit(
        _title(post, title)[:_X_WINDOW],
        lambda t: fits_x(render(t, "")),
        work_limit=_X_WINDOW,
    )
    whole = _comment(post, comment)
    if len(whole) > _X_WINDOW:  # measuring a long text is slow; no more than this fits
        whole = whole[: _X_WINDOW - 1] + ELLIPSIS
    cut = fit(whole, lambda c: fits_x(render(chosen_title, c)), work_limit=_X_WINDOW)
    if cut != whole and x_weighted_length(cut) < COMMENT_MIN_WEIGHT:
        cut = ""
    return XPost(text=render(chosen_title, cut))


def edit_problem_telegram(
    post: SubmittedLinkPost,
    *,
    title: str | None,
    comment: str | None,
    templates: PostTemplates | None = None,
) -> str | None:
    """Why an editor's title/comment would not be posted as written, or None.

    The card's [Edit] shows the texts and their lengths; this is the check that refuses
    a text the formatter would have to cut.
    """
    html = render_submission_telegram(post, _title(post, title), _comment(post, comment), templates)
    length = telegram_length(html)
    if not within(html, TELEGRAM_TEXT_MAX):
        return f"the Telegram post is {length} characters; at most {TELEGRAM_TEXT_MAX} fit"
    return None


def edit_problem_x(
    post: SubmittedLinkPost,
    *,
    title: str | None,
    comment: str | None,
    templates: PostTemplates | None = None,
) -> str | None:
    """As `edit_problem_telegram`, by X's weighted count."""
    text = render_submission_x(post, _title(post, title), _comment(post, comment), templates)
    weight = x_weighted_length(text)
    if weight > X_MAX_WEIGHTED:
        return f"the X post weighs {weight}; at most {X_MAX_WEIGHTED} fit: shorten it"
    return None
