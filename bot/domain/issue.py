"""Domain types of a weekly issue: what the parser returns and the formatters read.

Frozen and slotted so that a parsed issue can be shared between the store, the
formatters and the tests without anyone changing it underneath the others.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, cast, get_args
from urllib.parse import urlsplit

SectionKind = Literal["articles", "projects", "podcasts", "discussions"]
SECTION_KINDS: tuple[SectionKind, ...] = ("articles", "projects", "podcasts", "discussions")
Form = Literal["full", "summary", "special"]
Lang = Literal["zh", "en", "ja"]  # the one list of languages; settings and parser read it
LANGS: tuple[Lang, ...] = get_args(Lang)

# Item flags (FORMAT.md §7.2). Kept as plain strings so JSON output is stable.
DELETED = "deleted"  # a removed-entry placeholder: never post
CONTAINER = "container"  # header text only; the links are bullets under it
NO_LINK = "no_link"  # no link on the header line
GLUED = "glued"  # found mid-line after an image (anomaly A1)
ORPHAN = "orphan"  # a paragraph that lost its header in translation (A3)
PROMO_STRIPPED = "promo_stripped"  # a promo/tip-jar block was cut from the item's end (A12)
UNPOSTABLE_FLAGS = frozenset({DELETED, CONTAINER, NO_LINK})


def issue_path(file_name: str, lang: Lang) -> str:
    """Where an issue's file sits in the newsletter's repository (FORMAT.md §6.1)."""
    return f"docs/{file_name}" if lang == "zh" else f"docs/{lang}/{file_name}"


# Only dated issue files; season collections (-sweekly, -iweekly, -lweekly) never match.
_ISSUE_PATH = re.compile(
    r"^docs/(?:(" + "|".join(lang for lang in LANGS if lang != "zh") + r")/)?"
    r"(\d{4}-\d{2}-\d{2})-weekly\.md$"
)


def issue_path_lang(path: str) -> Lang | None:
    """The language of an issue file path (`issue_path`'s inverse), or None if not one."""
    match = _ISSUE_PATH.match(path)
    if match is None:
        return None
    return cast(Lang, match.group(1) or "zh")


def issue_file_name(date: dt.date) -> str:
    """The file name every language of a dated issue shares (`2025-12-13-weekly.md`)."""
    return f"{date.isoformat()}-weekly.md"


@dataclass(frozen=True, slots=True)
class IssuePages:
    """Where readers see an issue's file: the repository's web page and the branch.

    Built from the settings (`RepoSettings.pages`), so following a fork or a mirror
    links to it, not to a hard-coded repository.
    """

    web_url: str  # "https://github.com/chinesehuazhou/python-weekly"
    branch: str = "main"

    def url(self, lang: Lang, date: dt.date | None) -> str | None:
        """The file's page (GitHub's `/blob/<branch>/<path>`); None for an undated issue."""
        if date is None:
            return None
        path = issue_path(issue_file_name(date), lang)
        return f"{self.web_url.rstrip('/')}/blob/{self.branch}/{path}"


class NotAnIssue(ValueError):
    """The text is not a weekly issue (a season collection, a README, noise)."""


# sendPhoto takes JPEG/PNG/WebP; svg, avif, gif and extension-less URLs (`…!post`) may be
# rejected, so formatters fall back to a link for them (anomaly A26).
PHOTO_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "webp"})


def is_photo_url(url: str) -> bool:
    """Whether Telegram's sendPhoto can be trusted to fetch `url`: an http(s) URL whose
    last path segment names a format it accepts (the one photo rule: formatters and the
    digest photo setting read it)."""
    if "!" in url or any(ch.isspace() for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    last = parts.path.rsplit("/", 1)[-1]
    if "." not in last:
        return False
    return last.rsplit(".", 1)[1].lower() in PHOTO_EXTENSIONS


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    alt: str = ""

    @property
    def photo_safe(self) -> bool:
        """Whether the URL names a format Telegram's sendPhoto is known to accept."""
        return is_photo_url(self.url)


@dataclass(frozen=True, slots=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Item:
    """One numbered entry of a content section."""

    index: int  # 1-based position in its section, whatever number was written
    number_as_written: str  # "7", "①"
    title: str
    url: str | None
    lang_tag: str | None = None
    description: str = ""  # plain text
    description_md: str = ""  # the Markdown as written
    images: tuple[Image, ...] = ()
    stars: tuple[int, ...] = ()
    stars_as_written: tuple[str, ...] = ()  # "7.2K", shown as written
    credit: str | None = None  # "@Zeeland"
    sub_links: tuple[Link, ...] = ()
    flags: frozenset[str] = frozenset()
    # Added by the parser: links inside the description (a fallback for A7 entries), and
    # text that lost its own header in translation (A3), kept apart from the description.
    description_links: tuple[Link, ...] = ()
    orphan_text: str = ""

    def name_and_tagline(self) -> tuple[str, str | None]:
        """Split `name：tagline` / `name: tagline` (projects; full-width colon too, A25)."""
        cuts = [(at, len(sep)) for sep in ("：", ": ") if (at := self.title.find(sep)) > 0]
        if cuts:
            at, width = min(cuts)
            name, tagline = self.title[:at].strip(), self.title[at + width :].strip()
            if name and tagline:
                return name, tagline
        return self.title, None

    @property
    def postable(self) -> bool:
        """Whether the item can be posted on its own (it has a link and is real)."""
        return self.url is not None and not (self.flags & UNPOSTABLE_FLAGS)


@dataclass(frozen=True, slots=True)
class Section:
    kind: SectionKind
    heading: str  # the heading as written, for diagnostics
    items: tuple[Item, ...] = ()


@dataclass(frozen=True, slots=True)
class Issue:
    number: int | None
    date: dt.date | None
    lang: Lang
    form: Form
    title: str
    sections: tuple[Section, ...] = ()
    intro: tuple[str, ...] = ()  # preamble paragraphs, plain text
    stated_counts: tuple[tuple[SectionKind, int], ...] = ()  # from the count line
    warnings: tuple[str, ...] = field(default=())  # validation notes, never fatal
    # Where the whole issue is read while it is a summary: the paid column's post that
    # the file links as `全文链接` / "read the full text" (FORMAT.md §3.3); None if none.
    full_text_url: str | None = None

    def items(self) -> Iterator[tuple[Section, Item]]:
        for section in self.sections:
            for item in section.items:
                yield section, item

    def section(self, kind: SectionKind) -> Section | None:
        return next((s for s in self.sections if s.kind == kind), None)
