"""The next issue's draft: approved links and extra-edition items → the issue's Markdown.

Pure: `DraftEntry`s in (what the store gathered), a frozen `Draft` out, its Markdown in
the newsletter's full form (FORMAT.md §3): an H1 `# Python 潮流周刊#N：…` /
`# Python Trending Weekly #N: …`, a count line, the content sections in their fixed
order (articles → projects → podcasts → discussions) under link-wrapped H2 headings
(`## [🦄文章&教程](https://weekly.pythoncat.top)`, the #56–#109 syntax), each item
`N、[title](url)` (zh) or `N. [title](url)` (en), then one paragraph: the description
and the credit as the newsletter writes it (`（@name 投稿）`, `(Submitted by @name)`).

Choices:
- The credit is `publishers.format_submission.draft_credit`, the one rule (the name by
  the submitter's choice comes from `bot.submissions.intake.credit_of`); anonymous is
  no credit at all.
- Titles, descriptions and the credit are Markdown-escaped (`\\ [ ] * ` < > &`), so a
  title with brackets, pipes or CJK punctuation reads back as written; `_` is not (the
  parser keeps it as written), so `__init__` and `@ada_l` stay readable.
- A submission names no section, so `section_for` picks one from the link (a code
  host's repository or a package index: projects; a video or podcast host: podcasts; a
  forum thread or an issue tracker: discussions; anything else: articles, the
  newsletter's largest section). The editor moves items in the file.
- The draft checks itself with the project's parser: an item whose description would
  make it read back differently (a description the parser takes for a promo, or that
  holds a credit of its own) is written without it, with a warning.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, get_args
from urllib.parse import urlsplit

from bot.domain.issue import SECTION_KINDS, NotAnIssue, SectionKind
from bot.domain.parser import parse_issue
from publishers.format_common import clean_block, clean_line
from publishers.format_submission import SubmittedLinkPost, draft_credit

DraftLang = Literal["zh", "en"]
DRAFT_LANGS: tuple[DraftLang, ...] = get_args(DraftLang)
HEADING_URL = "https://weekly.pythoncat.top"
# The headings as the newsletter writes them (FORMAT.md §3.4); 🐿️ is U+1F43F U+FE0F.
SECTION_NAMES: dict[DraftLang, dict[SectionKind, str]] = {
    "zh": {
        "articles": "🦄文章&教程",
        "projects": "🐿\ufe0f项目&资源",
        "podcasts": "🐢播客&视频",
        "discussions": "🥂讨论&问题",
    },
    "en": {
        "articles": "🦄Articles & Tutorials",
        "projects": "🐿\ufe0fProjects & Resources",
        "podcasts": "🐢Podcasts & Videos",
        "discussions": "🥂Discussion & Questions",
    },
}
DEFAULT_SECTION: SectionKind = "articles"

_CODE_HOSTS = frozenset({"github.com", "gitlab.com", "codeberg.org", "bitbucket.org"})
_PACKAGE_PATHS = (("pypi.org", "/project/"), ("anaconda.org", "/"), ("huggingface.co", "/"))
_VIDEO_HOSTS = frozenset(
    {
        "youtube.com",
        "youtu.be",
        "bilibili.com",
        "b23.tv",
        "vimeo.com",
        "podcasts.apple.com",
        "open.spotify.com",
        "xiaoyuzhoufm.com",
        "talkpython.fm",
        "pythonbytes.fm",
        "realpython.com/podcasts",
    }
)
_FORUM_HOSTS = frozenset(
    {"news.ycombinator.com", "reddit.com", "discuss.python.org", "v2ex.com", "lobste.rs"}
)


@dataclass(frozen=True, slots=True)
class DraftEntry:
    """One link for the draft, as gathered: the submission's or the editor's words."""

    url: str
    title: str
    description: str = ""
    credit: str | None = None  # the name credited (`credit_of`), None: anonymous / an editor's
    handle: bool = False  # `credit` is the Telegram @username
    kind: SectionKind | None = None  # None: `section_for(url)`
    source: str = ""  # `submission:<id>`, `extra:<id>`: where it came from


@dataclass(frozen=True, slots=True)
class DraftItem:
    """One item as written: what the parser must read back."""

    kind: SectionKind
    index: int  # 1-based in its section
    title: str
    url: str
    credit: str  # the credit as written (`（@ada 投稿）`), "" for none
    source: str


@dataclass(frozen=True, slots=True)
class Draft:
    number: int
    lang: DraftLang
    since: dt.date | None
    markdown: str
    items: tuple[DraftItem, ...]
    warnings: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.items

    @property
    def file_name(self) -> str:
        return f"draft-{self.number}.md"

    def counts(self) -> tuple[tuple[SectionKind, int], ...]:
        """Items per section, in section order, sections with none left out."""
        found = [(k, sum(1 for i in self.items if i.kind == k)) for k in SECTION_KINDS]
        return tuple((k, n) for k, n in found if n)


def _host(url: str) -> str:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    return host.removeprefix("www.").removeprefix("m.")


def section_for(url: str) -> SectionKind:
    """The section a link without one goes to, judged from the link alone."""
    host = _host(url)
    try:
        path = urlsplit(url).path
    except ValueError:
        path = ""
    segments = [s for s in path.split("/") if s]
    if host in _CODE_HOSTS:
        if len(segments) >= 3 and segments[2] in ("issues", "discussions", "pull"):
            return "discussions"
        return "projects" if len(segments) >= 2 else DEFAULT_SECTION
    if any(host == h and path.startswith(p) and len(path) > len(p) for h, p in _PACKAGE_PATHS):
        return "projects"
    if host in _VIDEO_HOSTS or f"{host}/{segments[0] if segments else ''}" in _VIDEO_HOSTS:
        return "podcasts"
    if host in _FORUM_HOSTS or (host == "zhihu.com" and segments[:1] == ["question"]):
        return "discussions"
    if host == "stackoverflow.com" and segments[:1] == ["questions"]:
        return "discussions"
    return DEFAULT_SECTION


# CommonMark's backslash escapes for what would be markup in one line of an issue.
_MD_SPECIAL = re.compile(r"([\\\[\]*`<>&])")
# What would start a block at the start of a paragraph: a heading, a fence, a break,
# a list or an item marker (`1、`, `1. `, a circled number), a quote.
_BLOCK_START = re.compile(
    r"^(?:[#>~=+-]|\d{1,3}(?=[、.])|[\u2460-\u2473\u3251-\u325f\u32b1-\u32bf])"
)


def md_text(text: str) -> str:
    """`text` on one line as Markdown that reads back as `text` (markup escaped)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _paragraph(text: str) -> str:
    escaped = md_text(" ".join(text.split()))
    match = _BLOCK_START.match(escaped)
    if match is None:
        return escaped
    if match.group(0).isdigit():
        rest = escaped[match.end() :]
        if rest.startswith("."):  # `1. …` would be an item: `1\. …` is not
            return match.group(0) + "\\" + rest
        # `1、…` has no escape: a word joiner (invisible) after the number breaks the marker
        return match.group(0) + "\u2060" + rest
    return "\\" + escaped


def _balanced(url: str) -> bool:
    depth = 0
    for ch in url:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def md_url(url: str) -> str:
    """The link destination that reads back as `url` (markdown-it unescapes it)."""
    url = url.replace("\\", "\\\\").replace("&", "\\&")
    if not _balanced(url):
        url = url.replace("(", "\\(").replace(")", "\\)")
    return url.replace(" ", "%20")


def plain_title(entry: DraftEntry) -> str:
    """The title written: the entry's on one line, else the link's host."""
    title = " ".join(clean_line(entry.title).split())
    return title or _host(entry.url) or entry.url


def _heading(lang: DraftLang, kind: SectionKind, heading_url: str) -> str:
    return f"## [{SECTION_NAMES[lang][kind]}]({heading_url})"


def _count_line(lang: DraftLang, counts: Sequence[tuple[SectionKind, int]]) -> str:
    words = {
        "zh": {
            "articles": "{} 篇文章",
            "projects": "{} 个开源项目",
            "podcasts": "{} 则音视频",
            "discussions": "{} 则热门话题",
        },
        "en": {
            "articles": "{} article{}",
            "projects": "{} open-source project{}",
            "podcasts": "{} podcast{}/video{}",
            "discussions": "{} discussion{}",
        },
    }[lang]
    parts = [words[kind].format(n, *(["" if n == 1 else "s"] * 2)) for kind, n in counts]
    if lang == "zh":
        return "本期分享了 " + "，".join(parts) + "。"
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"This issue features {joined}."


def _h1(lang: DraftLang, number: int, subtitle: str) -> str:
    subtitle = " ".join(subtitle.split())
    if lang == "zh":
        return f"# Python 潮流周刊#{number}：{subtitle}"
    return f"# Python Trending Weekly #{number}: {subtitle}"


@dataclass(frozen=True, slots=True)
class _Placed:
    entry: DraftEntry
    kind: SectionKind
    title: str
    description: str
    credit: str


def _render(
    placed: Sequence[_Placed], lang: DraftLang, number: int, subtitle: str, heading_url: str
) -> tuple[str, tuple[DraftItem, ...]]:
    items: list[DraftItem] = []
    by_kind = {k: [p for p in placed if p.kind == k] for k in SECTION_KINDS}
    counts = [(k, len(v)) for k, v in by_kind.items() if v]
    lines = [_h1(lang, number, subtitle), "", _count_line(lang, counts) if counts else "", ""]
    for kind, group in by_kind.items():
        if not group:
            continue
        lines += [_heading(lang, kind, heading_url), ""]
        for index, p in enumerate(group, start=1):
            marker = f"{index}、" if lang == "zh" else f"{index}. "
            lines += [f"{marker}[{md_text(p.title)}]({md_url(p.entry.url)})", ""]
            separator = "" if lang == "zh" or not p.description else " "
            body = _paragraph(p.description) + separator + md_text(p.credit)
            if body:
                lines += [body, ""]
            items.append(DraftItem(kind, index, p.title, p.entry.url, p.credit, p.entry.source))
    return "\n".join(lines).rstrip("\n") + "\n", tuple(items)


def _misread(markdown: str, lang: DraftLang, items: Sequence[DraftItem]) -> set[int] | None:
    """Positions (in `items`) the parser reads back differently; None: not read at all."""
    try:
        issue = parse_issue(markdown, lang=lang)
    except NotAnIssue:
        return None
    read = [(s.kind, it) for s in issue.sections for it in s.items]
    wrong: set[int] = set()
    for at, item in enumerate(items):
        if at >= len(read):
            wrong.add(at)
            continue
        kind, got = read[at]
        expected_credit = expected_credit_of(item.credit)
        if (kind, got.title, got.url, got.credit) != (
            item.kind,
            item.title,
            item.url,
            expected_credit,
        ):
            wrong.add(at)
    if len(read) != len(items):
        wrong.update(range(len(read), len(items)))
    return wrong


_CREDIT_NAME = re.compile(r"^(?:（@(.*) 投稿）|\(Submitted by @(.*)\))$")


def expected_credit_of(credit: str) -> str | None:
    """What the parser reads from a credit the draft wrote: `@name`; None for none."""
    match = _CREDIT_NAME.match(credit)
    if match is None:
        return None
    return "@" + " ".join((match.group(1) or match.group(2) or "").split())


def build_draft(
    entries: Sequence[DraftEntry],
    *,
    number: int,
    lang: DraftLang,
    since: dt.date | None = None,
    subtitle: str | None = None,
    heading_url: str = HEADING_URL,
) -> Draft:
    """The draft of issue `number` in `lang` from `entries`, in the order given within
    each section. No entries: an empty `Draft` (no Markdown), which callers refuse."""
    if not entries:
        return Draft(number, lang, since, "", ())
    placed = [
        _Placed(
            entry=e,
            kind=e.kind or section_for(e.url),
            title=plain_title(e),
            description=clean_block(e.description),
            credit=draft_credit(
                SubmittedLinkPost(url=e.url, credit=e.credit, handle=e.handle), lang
            ),
        )
        for e in entries
    ]
    # Section order decides the item order: keep `placed` in the order it is written.
    placed = [p for k in SECTION_KINDS for p in placed if p.kind == k]
    first = placed[0].title
    chosen = subtitle if subtitle is not None else first
    warnings: list[str] = []
    markdown, items = _render(placed, lang, number, chosen, heading_url)
    wrong = _misread(markdown, lang, items)
    if wrong:
        for at in sorted(wrong):
            if placed[at].description:
                warnings.append(
                    f"{items[at].kind} {items[at].index} ({items[at].url}): its description"
                    " would not read back as written; left out"
                )
                placed[at] = replace(placed[at], description="")
        markdown, items = _render(placed, lang, number, chosen, heading_url)
        wrong = _misread(markdown, lang, items)
    if wrong is None or wrong:
        bad = (
            "the whole draft" if wrong is None else ", ".join(items[at].url for at in sorted(wrong))
        )
        warnings.append(f"the parser does not read back {bad} as written")
    return Draft(number, lang, since, markdown, items, tuple(warnings))
