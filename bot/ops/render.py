"""`weeklybot render TEMPLATE [--issue FILE]`: the posts a template makes, as they go out.

The posts are made by the bot's own formatters with the run's templates (the configured
folder over the bundled ones), so what is printed is what would be queued: fitted within
the platforms' limits, the default used (and the problem printed) where an override
fails. Without `--issue` a bundled sample issue (`bot/samples/<lang>/`) is used; the
Sunday roundup's templates show a sample roundup (`sample_roundup`, frozen: the
newsletters' issues of the week after the issue), in the issue's language.

Each template name is shown by one post kind (`SHOWN_BY`); a new post kind adds its
names there (tests/test_templates.py fails for a template nobody shows).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TextIO

from bot.domain.issue import Issue, IssuePages, Lang, NotAnIssue
from bot.domain.parser import parse_issue
from bot.domain.roundup import Roundup, RoundupEntry
from bot.platforms import PLATFORMS, TELEGRAM, Platforms, Post, X
from publishers.format_common import NotPostable
from publishers.format_submission import SubmittedLinkPost
from publishers.format_telegram import ChannelStyle
from publishers.posts import TelegramPhoto, TelegramPost, TelegramText, XPost
from publishers.templates import (
    TEMPLATES,
    PostTemplates,
    TemplateProblem,
    UnknownTemplate,
    load_templates,
)

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2
SAMPLE = "2026-11-21-weekly.md"  # #901, a full issue: its items have links
PAGE = "https://github.com/chinesehuazhou/python-weekly"  # links when none is configured


@dataclass(frozen=True, slots=True)
class Shown:
    """What a showcase prints: a heading per post and the post."""

    posts: Sequence[tuple[str, Post]]


Showcase = Callable[[Platforms, str, Issue, str, ChannelStyle | None], Shown]


def _digest(
    platforms: Platforms, target: str, issue: Issue, url: str, style: ChannelStyle | None
) -> Shown:
    posts = platforms[target].format_digest(issue, url, style)
    return Shown([(f"digest, post {n}/{len(posts)}", p) for n, p in enumerate(posts, start=1)])


def _items(
    platforms: Platforms, target: str, issue: Issue, url: str, style: ChannelStyle | None
) -> Shown:
    shown: list[tuple[str, Post]] = []
    for section, item in issue.items():
        try:
            post = platforms[target].format_item(item, section.kind, issue, url)
        except NotPostable:
            continue
        shown.append((f"item {section.kind} {item.index}", post))
    return Shown(shown)


def _release(
    platforms: Platforms, target: str, issue: Issue, url: str, style: ChannelStyle | None
) -> Shown:
    return Shown([("release", platforms[target].format_release(issue, url))])


def _link(
    platforms: Platforms, target: str, issue: Issue, url: str, style: ChannelStyle | None
) -> Shown:
    """A link post made of the issue's first item with a link (a reader's link looks so)."""
    formatter = platforms[target].format_submission
    first = next((item for _, item in issue.items() if item.postable and item.url), None)
    if formatter is None or first is None or first.url is None:
        return Shown([])
    post = SubmittedLinkPost(
        url=first.url, title=first.title, comment=first.description, credit=first.credit
    )
    return Shown([("link post", formatter(post, None, None))])


def _roundup(
    platforms: Platforms, target: str, issue: Issue, url: str, style: ChannelStyle | None
) -> Shown:
    """The sample roundup of the Sunday after the issue, with the channel's handle."""
    formatter = platforms[target].format_roundup
    if formatter is None:
        return Shown([])
    channel = (style or ChannelStyle()).channel or None
    posts = formatter(sample_roundup(issue.date or dt.date(2026, 11, 21)), issue.lang, channel)
    return Shown([(f"roundup, post {n}/{len(posts)}", p) for n, p in enumerate(posts, start=1)])


def sample_roundup(after: dt.date) -> Roundup:
    """A roundup as the planner makes one, frozen: the Sunday on or after `after` and the
    six days before it, four newsletters' issues (a feed's `&` and `<` in one title)."""
    sunday = after + dt.timedelta(days=(6 - after.weekday()) % 7)
    at = dt.datetime.combine(sunday, dt.time(8, 0), dt.UTC) - dt.timedelta(days=2)
    entries = (
        RoundupEntry(
            "PyCoder's Weekly",
            "PyCoder's Weekly #708: Free-Threading & <Async> Patterns",
            "https://pycoders.com/issues/708",
            at,
            "#708",
            708,
        ),
        RoundupEntry(
            "Python Weekly",
            "Python Weekly #724",
            "https://www.pythonweekly.com/p/python-weekly-issue-724",
            at,
            "#724",
            724,
        ),
        RoundupEntry(
            "Real Python",
            "Real Python: The Real Python Podcast #277",
            "https://realpython.com/podcasts/rpp/277/",
            at,
            "#277",
            277,
        ),
        RoundupEntry(
            "Django News",
            "Django News #311",
            "https://django-news.com/issues/311",
            at,
            "#311",
            311,
        ),
    )
    return Roundup(sunday, sunday - dt.timedelta(days=6), sunday, entries)


# Which post kind shows each template, and on which target.
SHOWN_BY: Mapping[str, tuple[str, Showcase]] = {
    "telegram.item": (TELEGRAM, _items),
    "telegram.digest_header": (TELEGRAM, _digest),
    "telegram.digest_section": (TELEGRAM, _digest),
    "telegram.digest_line": (TELEGRAM, _digest),
    "telegram.digest_footer": (TELEGRAM, _digest),
    "telegram.release": (TELEGRAM, _release),
    "telegram.link": (TELEGRAM, _link),
    "telegram.roundup_header": (TELEGRAM, _roundup),
    "telegram.roundup_entry": (TELEGRAM, _roundup),
    "x.item": (X, _items),
    "x.digest": (X, _digest),
    "x.digest_section": (X, _digest),
    "x.release": (X, _release),
    "x.link": (X, _link),
}


def try_overrides(templates: PostTemplates, platforms: Platforms) -> int:
    """Render each overridden template once on the bundled samples (zh, en), at start.

    A template that fails on them is reported now (once, by its `report`), before a
    post of its kind is due; one that fails only on some issue is reported at that
    issue. Returns how many templates were tried; nothing is posted.
    """
    tried = 0
    for name, (target, showcase) in SHOWN_BY.items():
        if target not in platforms:
            continue
        for lang in ("zh", "en"):
            if not templates.overridden([name], lang):
                continue
            issue = sample_issue(lang)
            url = IssuePages(PAGE).url(issue.lang, issue.date) or PAGE
            showcase(platforms, target, issue, url, None)
            tried += 1
    return tried


def sample_issue(lang: Lang) -> Issue:
    """The bundled sample issue in `lang`."""
    folder = resources.files("bot").joinpath("samples").joinpath(lang)
    text = folder.joinpath(SAMPLE).read_text(encoding="utf-8")
    return parse_issue(text, filename=f"{lang}/{SAMPLE}")


def format_post(post: Post) -> str:
    """A post as text: each Telegram part's HTML (a photo's URL first), or X's text."""
    if isinstance(post, XPost):
        return post.text
    assert isinstance(post, TelegramPost)
    parts = []
    for part in post.parts:
        if isinstance(part, TelegramPhoto):
            parts.append(f"[photo {part.photo_url}]\n{part.caption_html}".rstrip())
        else:
            assert isinstance(part, TelegramText)
            parts.append(part.html)
    return "\n\n".join(parts)


def run_render(
    name: str,
    *,
    issue_file: Path | None,
    lang: Lang,
    templates_dir: Path | None,
    style: ChannelStyle | None = None,
    pages: IssuePages | None = None,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
) -> int:
    """Print what template `name` produces; the exit status (1: an override not used)."""
    if name not in TEMPLATES:
        print(f"error: {UnknownTemplate(name)}", file=stderr)
        return EXIT_USAGE
    problems: dict[tuple[str, str], TemplateProblem] = {}

    def report(problem: TemplateProblem) -> None:
        problems.setdefault(problem.key, problem)

    try:
        issue = _issue(issue_file, lang)
    except (OSError, UnicodeDecodeError, NotAnIssue) as exc:
        reason = " ".join(str(exc).split())
        print(f"error: {issue_file}: {reason}", file=stderr)
        return EXIT_USAGE
    templates = load_templates(templates_dir, report=report)
    platforms = PLATFORMS.with_templates(templates)
    target, showcase = SHOWN_BY[name]
    url = (pages or IssuePages(PAGE)).url(issue.lang, issue.date) or PAGE
    print(f"# {name} from {templates.source_of(name, issue.lang)}", file=stdout)
    for heading, post in showcase(platforms, target, issue, url, style).posts:
        print(f"\n── {heading} ──\n{format_post(post)}", file=stdout)
    for problem in problems.values():
        print(
            f"template {problem.name} ({problem.digest or '-'}) not used: {problem.error}",
            file=stderr,
        )
    return EXIT_PROBLEM if problems else EXIT_OK


def _issue(path: Path | None, lang: Lang) -> Issue:
    if path is None:
        return sample_issue(lang)
    return parse_issue(path.read_text(encoding="utf-8"), filename=str(path))
