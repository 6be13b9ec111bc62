"""Format a reader's approved link as a GitHub issue for the editors: pure.

The newsletter's editor collects suggestions as issues of his repository, so the
issue is for him, not for readers of the channel: it carries the link, the page's
description (or the editor's comment), the reader's note and fields, and the credit
as the posts render it (`credit_line`, the one rule). The body ends with a hidden
marker naming the outbox key, `<!-- weeklybot:submission:<id> -->`, which is how a
retry after a doubtful attempt finds the issue already filed
(`publishers.github_probe`).

What a reader wrote is shown, never obeyed: `&`, `<` and `>` become entities (no
HTML, no forged marker: a marker is only ever ours) and an `@` gets a zero-width
space after it, so a note mentions nobody. Long texts are cut to fit GitHub's limits
(`publishers.limits`), the comment first.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from publishers.format_common import clean_block, clean_line, fit
from publishers.format_submission import SubmittedLinkPost, credit_line
from publishers.limits import GITHUB_BODY_MAX, GITHUB_TITLE_MAX
from publishers.posts import GitHubIssue

MARKER_PREFIX = "<!-- weeklybot:"
COMMENT_MAX = 2000  # a page's description is a teaser: more is noise in an issue
NOTE_MAX = 4000


def marker_for(key: str) -> str:
    """The hidden line that names the outbox key; `key` is `submission:<id>`."""
    if not key or any(c in key for c in "<>-\n") or " " in key:
        raise ValueError(f"not an outbox key for a marker: {key!r}")
    return f"{MARKER_PREFIX}{key} -->"


def shown(text: str) -> str:
    """A reader's text as GitHub shows it and nothing more: no HTML, no mention."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("@", "@\u200b").replace("\uff20", "\uff20\u200b")


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def issue_title(post: SubmittedLinkPost, edited: str | None = None) -> str:
    """The editor's title, else the page's, else the host; within GitHub's 256."""
    chosen = edited if edited is not None and clean_line(edited) else post.title
    title = clean_line(chosen or "") or _host(post.url)
    return fit(title, lambda t: len(t) <= GITHUB_TITLE_MAX) or _host(post.url)[:GITHUB_TITLE_MAX]


def render_body(post: SubmittedLinkPost, comment: str, note: str) -> str:
    """The body exactly as given (nothing cut), the marker last."""
    lines = [post.url, ""]
    if comment:
        lines += ["> " + line if line else ">" for line in shown(comment).split("\n")]
        lines.append("")
    if note:
        lines += ["**Note from the reader:**", "", shown(note), ""]
    for label, value in post.fields:
        lines.append(f"- **{label}:** {shown(clean_line(value))}")
    if post.fields:
        lines.append("")
    credit = credit_line(post.credit)
    credited = f", {shown(credit)}" if credit else ""
    lines.append(f"_Sent with /submit to the Telegram bot{credited}._")
    lines += ["", marker_for(post.key)]
    return "\n".join(lines)


def format_submission_github(
    post: SubmittedLinkPost, *, title: str | None = None, comment: str | None = None
) -> GitHubIssue:
    """One issue: `title`/`comment` are the editor's for GitHub (None: the page's).

    Raises:
        ValueError: the post has no outbox key (a marker is what makes it exactly-once).
    """
    marker = marker_for(post.key)
    chosen = clean_block(comment if comment is not None else post.comment or "")
    chosen = fit(chosen, lambda c: len(c) <= COMMENT_MAX)
    note = fit(clean_block(post.note), lambda n: len(n) <= NOTE_MAX)
    body = render_body(post, chosen, note)
    if len(body) > GITHUB_BODY_MAX:  # unreachable with the caps above; kept as the rule
        body = render_body(post, "", "")
    return GitHubIssue(title=issue_title(post, title), body=body, marker=marker)


def edit_problem_github(
    post: SubmittedLinkPost, *, title: str | None, comment: str | None
) -> str | None:
    """Why an editor's title/comment would not be filed as written, or None."""
    if title is not None and len(clean_line(title)) > GITHUB_TITLE_MAX:
        return (
            f"the GitHub title is {len(clean_line(title))} characters;"
            f" at most {GITHUB_TITLE_MAX} fit"
        )
    length = len(clean_block(comment)) if comment is not None else 0
    if length > COMMENT_MAX:
        return f"the GitHub comment is {length} characters; at most {COMMENT_MAX} fit"
    return None
