"""The registry of platforms: what each target is, named in one place.

A target ("telegram", "x", "github") is a `Platform`: its display name, which settings say
its language and what it gets, its pure formatters (item, digest, release), how its
outbox payload reads back and shows to an editor, the rules of an editor's digest
text, and the factory of its publisher, pacer and doubt settler. Planning, the
preview cards and their `pv:ed:<target>:<id>` buttons, the outbox cards and the
worker building loop over a `Platforms` registry (`PLATFORMS` by default, passed in
where a test adds a target); none of them names a platform. A target the registry
does not know is an `UnknownTarget` error, never "else X".

Adding a target is one `Platform` here (and its formatters and publisher in
`publishers/`); `tests/test_platform_registry.py` adds a toy one in a few lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar

import httpx
from telegram import Bot

from bot.config import Settings
from bot.domain.issue import Issue, Item, Lang, SectionKind
from bot.domain.roundup import Roundup
from bot.texts import text
from bot.weekly.settings import PublishingSettings
from publishers.base import DoubtSettler, Publisher
from publishers.format_common import NotPostable
from publishers.format_github import edit_problem_github, format_submission_github
from publishers.format_roundup import format_roundup_telegram
from publishers.format_submission import (
    SubmittedLinkPost,
    edit_problem_telegram,
    edit_problem_x,
    format_submission_telegram,
    format_submission_x,
)
from publishers.format_telegram import (
    ChannelStyle,
    digest_from_html,
    format_digest_telegram,
    format_item_telegram,
    format_release_telegram,
    within,
)
from publishers.format_x import format_digest_x, format_item_x, format_release_x
from publishers.github import GitHubAPI, GitHubPublisher
from publishers.github_probe import GitHubProbe
from publishers.limits import (
    TELEGRAM_CAPTION_MAX,
    TELEGRAM_ENTITIES_MAX,
    TELEGRAM_TEXT_MAX,
    X_MAX_WEIGHTED,
    telegram_caption_fits,
    telegram_entity_count,
    telegram_length,
    x_weighted_length,
)
from publishers.pacing import GitHubPacer, Pacer, TelegramPacer, XPacer
from publishers.posts import GitHubIssue, TelegramPhoto, TelegramPost, TelegramText, XPost
from publishers.telegram import TelegramPublisher
from publishers.telegram_html import parse_html
from publishers.telegram_probe import TelegramProbe
from publishers.templates import PostTemplates

if TYPE_CHECKING:
    from publishers.x_client import XClient


class UnknownTarget(ValueError):
    """A target name no registered platform has: refused, never taken for another."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        super().__init__(f"unknown target {name!r} (known: {', '.join(known)})")
        self.name = name


class Post(Protocol):
    """A formatted post of any platform: it is stored as an outbox payload."""

    def to_payload(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class TargetSettings:
    """What the settings say of one target: its language and what it gets of an issue."""

    lang: Lang
    digest: bool = True
    items: bool = True
    style: ChannelStyle | None = None  # the channel digest's settings (Telegram only)


@dataclass(frozen=True, slots=True)
class Wiring:
    """What a publisher factory may use; each platform takes what it needs."""

    settings: Settings
    bot: Bot
    x_client: XClient | None = None
    http: httpx.AsyncClient | None = None  # for targets that speak plain HTTP (GitHub)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A target's publisher and pacer (shared by the worker), and its doubt settler."""

    publisher: Publisher
    pacer: Pacer
    settler: DoubtSettler | None = None


DigestFormatter = Callable[[Issue, str | None, ChannelStyle | None], Sequence[Post]]
ItemFormatter = Callable[[Item, SectionKind, Issue, str | None], Post]
ReleaseFormatter = Callable[[Issue, str], Post]
# A reader's link with the editor's title and comment (None: the page's own).
SubmissionFormatter = Callable[[SubmittedLinkPost, str | None, str | None], Post]
SubmissionCheck = Callable[[SubmittedLinkPost, str | None, str | None], str | None]
RoundupFormatter = Callable[[Roundup, Lang, str | None], Sequence[Post]]  # lang, channel


def _single(post: Post) -> Sequence[Post]:
    return (post,)


class NoIssuePosts(ValueError):
    """An issue post was asked of a target that takes none (a wrong route, a bug)."""


def _no_issue_posts(*_: object) -> NoReturn:
    raise NoIssuePosts("this target takes no issue posts")


def no_issue_settings(settings: Settings, publishing: PublishingSettings) -> None:
    """The `settings` of a target that gets nothing of an issue: it is never routed."""
    return None


def always_on(settings: Settings) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Formats:
    """A platform's formatters, bound to one set of templates."""

    digest: DigestFormatter = _no_issue_posts
    item: ItemFormatter = _no_issue_posts
    release: ReleaseFormatter = _no_issue_posts
    submission: SubmissionFormatter | None = None
    submission_problem: SubmissionCheck | None = None
    roundup: RoundupFormatter | None = None


@dataclass(frozen=True, slots=True)
class Wording:
    """How a platform's posts take the run's templates: its formatters as a function of
    the templates (None: the bundled), why a post of it cannot go, and which templates
    word each kind of post (an override among them is told when it fails)."""

    formats: Callable[[PostTemplates | None], Formats]
    fits: Callable[[Sequence[Post]], str | None]
    digest: tuple[str, ...] = ()
    item: tuple[str, ...] = ()
    release: tuple[str, ...] = ()
    submission: tuple[str, ...] = ()
    roundup: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Platform:
    """One target, everything the bot knows of it; formatters and readers are pure.

    A target that takes no issue posts (GitHub: readers' links only) leaves
    `settings` and the digest/item/release fields at their defaults: `routes` never
    routes it, so planning, the preview cards and their buttons never meet it.
    """

    name: str  # the outbox target, and the word in callback data
    display: str  # how cards name it
    read: Callable[[Mapping[str, Any]], Post]  # payload → post; ValueError if not its own
    visible_text: Callable[[Mapping[str, Any]], str]  # what a reader sees first, plain
    pacer: Callable[[Settings], Pacer]
    build: Callable[[Wiring, Pacer], Delivery | None]  # None: not configured
    enabled: Callable[[Settings], bool] = always_on  # configured: it gets a worker
    # What it gets of an issue; None: nothing (off, or a target of readers' links only).
    settings: Callable[[Settings, PublishingSettings], TargetSettings | None] = no_issue_settings
    format_digest: DigestFormatter = _no_issue_posts
    format_item: ItemFormatter = _no_issue_posts  # raises NotPostable for an item it cannot post
    format_release: ReleaseFormatter = _no_issue_posts
    validate: Callable[[str], str | None] = _no_issue_posts  # why an editor's digest text cannot go
    edit_rule: str = ""  # the edit prompt's reminder of the rules
    edited_digest: Callable[[Mapping[str, Any], str], Sequence[Post]] = _no_issue_posts
    split_item: Callable[[Post], Sequence[Post]] = _single  # one outbox row each, ordered
    formatted_edit: bool = False  # the editor's text keeps Telegram formatting (entities)
    shown_edit: Callable[[str], str] = field(default=str)  # an edited text as cards quote it
    badge: str = ""  # before its name where its digest is quoted on a card
    format_submission: SubmissionFormatter | None = None  # None: it takes no reader links
    submission_problem: SubmissionCheck | None = None  # why an edit would be cut, or None
    format_roundup: RoundupFormatter | None = None  # None: it gets no Sunday roundup
    # Its formatters as a function of the templates they render (None: it has none).
    wording: Wording | None = None
    # Its submission post is what readers see (the reader hears "published" once it is
    # out); False: filed for the editors (GitHub), not waited for.
    publishes: bool = True


class Platforms:
    """The registered platforms, in order (the order of cards and workers)."""

    def __init__(self, platforms: Sequence[Platform]) -> None:
        names = [p.name for p in platforms]
        if len(set(names)) != len(names):
            raise ValueError(f"two platforms share a name: {names}")
        self._by_name = {p.name: p for p in platforms}

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Platform:
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownTarget(name, list(self._by_name)) from None

    def get(self, name: str) -> Platform | None:
        return self._by_name.get(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def display(self, name: str) -> str:
        """A target's display name; the raw name for one not registered (old rows)."""
        found = self._by_name.get(name)
        return found.display if found is not None else name

    def with_platform(self, platform: Platform) -> Platforms:
        """A new registry with `platform` added last (tests add a toy target so)."""
        return Platforms([*self, platform])

    def with_templates(self, templates: PostTemplates) -> Platforms:
        """The same targets, their posts worded by `templates` (the run's, loaded once)."""
        return Platforms([p if p.wording is None else templated(p, templates) for p in self])


# ---- Telegram -----------------------------------------------------------------------


def _telegram_settings(settings: Settings, publishing: PublishingSettings) -> TargetSettings:
    """The channel always gets something: `telegram.lang`, `publishing.telegram_*`."""
    return TargetSettings(
        settings.telegram.lang,
        digest=publishing.telegram_digest,
        items=publishing.telegram_items,
        style=publishing.channel_style(),
    )


def _telegram_visible(payload: Mapping[str, Any]) -> str:
    part = TelegramPost.from_payload(payload).parts[0]
    if isinstance(part, TelegramText):
        return parse_html(part.html).text
    return parse_html(part.caption_html).text or part.photo_url


def validate_telegram(digest: str) -> str | None:
    """Telegram HTML within 4,096 characters and 100 entities after parsing."""
    try:
        length = telegram_length(digest)
    except ValueError as exc:
        return text("digest.bad_html", error=exc)
    if length > TELEGRAM_TEXT_MAX:
        return text("digest.too_long_telegram", length=length, max=TELEGRAM_TEXT_MAX)
    if not within(digest, TELEGRAM_TEXT_MAX):
        count = telegram_entity_count(digest)
        return text("digest.too_much_formatting", count=count, max=TELEGRAM_ENTITIES_MAX)
    return None


def _telegram_edited(first: Mapping[str, Any], text: str) -> Sequence[Post]:
    """The text keeps the digest's photo, under it or after it as the caption rule says."""
    (opening,) = TelegramPost.from_payload(first).parts[:1]
    photo = opening.photo_url if isinstance(opening, TelegramPhoto) else None
    return digest_from_html(text, photo)


def _telegram_split(post: Post) -> Sequence[Post]:
    """One row per Telegram message, so a photo that went out is never resent when the
    text after it has to be retried."""
    assert isinstance(post, TelegramPost)
    return [TelegramPost(parts=(part,)) for part in post.parts]


def _telegram_pacer(settings: Settings) -> Pacer:
    tg = settings.telegram
    return TelegramPacer(posts_per_minute=tg.posts_per_minute, min_spacing=tg.min_spacing_seconds)


def _telegram_build(wiring: Wiring, pacer: Pacer) -> Delivery:
    tg = wiring.settings.telegram
    probe = (
        None if tg.log_chat_id is None else TelegramProbe(wiring.bot, tg.channel_id, tg.log_chat_id)
    )
    return Delivery(TelegramPublisher(wiring.bot, tg.channel_id), pacer, probe)


def _telegram_fits(posts: Sequence[Post]) -> str | None:
    """Why a post of the channel would be refused (too long, bad HTML), or None."""
    for post in posts:
        assert isinstance(post, TelegramPost)
        for part in post.parts:
            if isinstance(part, TelegramPhoto):
                if not telegram_caption_fits(part.caption_html):
                    return f"its post's caption is over {TELEGRAM_CAPTION_MAX} characters"
            elif validate_telegram(part.html) is not None:
                return f"its post is over {TELEGRAM_TEXT_MAX} characters or not valid HTML"
            elif telegram_length(part.html) == 0:
                return "its post is empty"
    return None


def _x_fits(posts: Sequence[Post]) -> str | None:
    for post in posts:
        assert isinstance(post, XPost)
        if x_weighted_length(post.text) > X_MAX_WEIGHTED:
            return f"its post weighs over {X_MAX_WEIGHTED} on X"
        if not post.text.strip():
            return "its post is empty"
    return None


_T = TypeVar("_T")


def _guarded(
    words: PostTemplates,
    names: Sequence[str],
    lang: Lang | None,
    fits: Callable[[Sequence[Post]], str | None],
    make: Callable[[PostTemplates], _T],
    posts: Callable[[_T], Sequence[Post]],
) -> _T:
    """`make` with the run's templates, unless an override makes a post that cannot go
    (over a limit even cut, refused HTML, nothing left to post): then that override is
    told once and the bundled default's post goes. The formatters fit; this catches a
    template whose fixed text alone is too long."""
    if not words.overridden(names, lang):
        return make(words)
    try:
        made = make(words)
    except (NotPostable, ValueError) as exc:  # a digest line too long, a link "alone" too long
        fallback = make(words.defaults_only())  # NotPostable here too: the item's own
        words.unfit(names, lang, f"its post cannot be made: {exc}")
        return fallback
    why = fits(posts(made))
    if why is None:
        return made
    words.unfit(names, lang, f"{why}, however cut; the default's post went instead")
    return make(words.defaults_only())


def _bound(platform: Platform, formats: Formats) -> Platform:
    return replace(
        platform,
        format_digest=formats.digest,
        format_item=formats.item,
        format_release=formats.release,
        format_submission=formats.submission,
        submission_problem=formats.submission_problem,
        format_roundup=formats.roundup,
    )


def templated(platform: Platform, words: PostTemplates) -> Platform:
    """`platform` with its posts worded by the run's templates, each kind `_guarded`."""
    wording = platform.wording
    if wording is None:
        return platform

    def run(
        names: Sequence[str],
        lang: Lang | None,
        make: Callable[[Formats], _T],
        posts: Callable[[_T], Sequence[Post]],
    ) -> _T:
        return _guarded(words, names, lang, wording.fits, lambda t: make(wording.formats(t)), posts)

    def digest(issue: Issue, url: str | None, style: ChannelStyle | None) -> Sequence[Post]:
        return run(wording.digest, issue.lang, lambda f: f.digest(issue, url, style), list)

    def item(item: Item, kind: SectionKind, issue: Issue, url: str | None) -> Post:
        return run(wording.item, issue.lang, lambda f: f.item(item, kind, issue, url), _single)

    def release(issue: Issue, url: str) -> Post:
        return run(wording.release, issue.lang, lambda f: f.release(issue, url), _single)

    def submission(post: SubmittedLinkPost, title: str | None, comment: str | None) -> Post:
        def make(f: Formats) -> Post:
            assert f.submission is not None
            return f.submission(post, title, comment)

        return run(wording.submission, None, make, _single)

    def roundup(made: Roundup, lang: Lang, channel: str | None) -> Sequence[Post]:
        def make(f: Formats) -> Sequence[Post]:
            assert f.roundup is not None
            return f.roundup(made, lang, channel)

        return run(wording.roundup, lang, make, list)

    bound = wording.formats(words)
    return _bound(
        platform,
        Formats(
            digest,
            item,
            release,
            submission if bound.submission is not None else None,
            bound.submission_problem,
            roundup if bound.roundup is not None else None,
        ),
    )


def _telegram_formats(t: PostTemplates | None) -> Formats:
    return Formats(
        digest=lambda issue, url, style: format_digest_telegram(
            issue, issue_url=url, lang=issue.lang, style=style, templates=t
        ),
        item=lambda item, kind, issue, url: format_item_telegram(
            item, section_kind=kind, issue=issue, issue_url=url, lang=issue.lang, templates=t
        ),
        release=lambda issue, url: format_release_telegram(issue, url=url, templates=t),
        submission=lambda post, title, comment: format_submission_telegram(
            post, title=title, comment=comment, templates=t
        ),
        submission_problem=lambda post, title, comment: edit_problem_telegram(
            post, title=title, comment=comment, templates=t
        ),
        roundup=lambda made, lang, channel: format_roundup_telegram(
            made, lang=lang, channel=channel, templates=t
        ),
    )


_TELEGRAM_WORDING = Wording(
    _telegram_formats,
    _telegram_fits,
    digest=(
        "telegram.digest_header",
        "telegram.digest_section",
        "telegram.digest_line",
        "telegram.digest_footer",
    ),
    item=("telegram.item",),
    release=("telegram.release",),
    submission=("telegram.link",),
    # The roundup ends with the digest footer's channel line.
    roundup=("telegram.roundup_header", "telegram.roundup_entry", "telegram.digest_footer"),
)

TELEGRAM_PLATFORM = _bound(
    Platform(
        name="telegram",
        display="Telegram",
        settings=_telegram_settings,
        read=TelegramPost.from_payload,
        visible_text=_telegram_visible,
        validate=validate_telegram,
        edit_rule=text("edit.rule.telegram", max=TELEGRAM_TEXT_MAX),
        edited_digest=_telegram_edited,
        pacer=_telegram_pacer,
        build=_telegram_build,
        split_item=_telegram_split,
        formatted_edit=True,
        shown_edit=lambda text: parse_html(text).text,
        wording=_TELEGRAM_WORDING,
    ),
    _telegram_formats(None),
)


# ---- X ------------------------------------------------------------------------------


def _x_settings(settings: Settings, publishing: PublishingSettings) -> TargetSettings | None:
    """X when its keys are configured: `x.lang`, `publishing.x_*`."""
    if not settings.x.enabled:
        return None
    return TargetSettings(settings.x.lang, digest=publishing.x_digest, items=publishing.x_items)


def validate_x(digest: str) -> str | None:
    """At most 280 weighted characters, as X counts them."""
    weight = x_weighted_length(digest)
    if weight > X_MAX_WEIGHTED:
        return text("digest.too_long_x", weight=weight, max=X_MAX_WEIGHTED)
    return None


def _x_pacer(settings: Settings) -> Pacer:
    return XPacer(
        posts_per_15min=settings.x.posts_per_15min, posts_per_24h=settings.x.posts_per_24h
    )


def _x_build(wiring: Wiring, pacer: Pacer) -> Delivery | None:
    if wiring.x_client is None:
        return None
    assert isinstance(pacer, XPacer)  # the publisher feeds X's live quota to it
    from publishers.x import XPublisher  # tweepy and aiohttp: loaded only when X is configured

    return Delivery(XPublisher(wiring.x_client, pacer), pacer)


def _x_formats(t: PostTemplates | None) -> Formats:
    return Formats(
        digest=lambda issue, url, style: format_digest_x(
            issue, issue_url=url, lang=issue.lang, templates=t
        ),
        item=lambda item, kind, issue, url: format_item_x(
            item, section_kind=kind, issue=issue, issue_url=url, lang=issue.lang, templates=t
        ),
        release=lambda issue, url: format_release_x(issue, url=url, templates=t),
        submission=lambda post, title, comment: format_submission_x(
            post, title=title, comment=comment, templates=t
        ),
        submission_problem=lambda post, title, comment: edit_problem_x(
            post, title=title, comment=comment, templates=t
        ),
    )


_X_WORDING = Wording(
    _x_formats,
    _x_fits,
    digest=("x.digest", "x.digest_section"),
    item=("x.item",),
    release=("x.release",),
    submission=("x.link",),
)

X_PLATFORM = _bound(
    Platform(
        name="x",
        display="X",
        enabled=lambda settings: settings.x.enabled,
        settings=_x_settings,
        read=XPost.from_payload,
        visible_text=lambda payload: XPost.from_payload(payload).text,
        validate=validate_x,
        edit_rule=text("edit.rule.x", max=X_MAX_WEIGHTED),
        edited_digest=lambda first, text: (XPost(text=text),),
        pacer=_x_pacer,
        build=_x_build,
        badge="𝕏",
        wording=_X_WORDING,
    ),
    _x_formats(None),
)


# ---- GitHub: readers' links only -------------------------------------------------------


def _github_pacer(settings: Settings) -> Pacer:
    return GitHubPacer(min_spacing=settings.github.min_spacing_seconds)


def _github_build(wiring: Wiring, pacer: Pacer) -> Delivery | None:
    gh = wiring.settings.github
    if gh.repo is None or gh.token is None or wiring.http is None:
        return None
    api = GitHubAPI(
        wiring.http, base_url=gh.api_base_url, repo=gh.repo, token=gh.token.get_secret_value()
    )
    return Delivery(GitHubPublisher(api, label=gh.label, pacer=pacer), pacer, GitHubProbe(api))


def _github_visible(payload: Mapping[str, Any]) -> str:
    return GitHubIssue.from_payload(payload).title


GITHUB_PLATFORM = Platform(
    name="github",
    display="GitHub",
    read=GitHubIssue.from_payload,
    visible_text=_github_visible,
    pacer=_github_pacer,
    build=_github_build,
    enabled=lambda settings: settings.github.enabled,
    publishes=False,
    format_submission=lambda post, title, comment: format_submission_github(
        post, title=title, comment=comment
    ),
    submission_problem=lambda post, title, comment: edit_problem_github(
        post, title=title, comment=comment
    ),
)

PLATFORMS = Platforms([TELEGRAM_PLATFORM, X_PLATFORM, GITHUB_PLATFORM])
# The target names, for tests and tools.
TELEGRAM, X, GITHUB = TELEGRAM_PLATFORM.name, X_PLATFORM.name, GITHUB_PLATFORM.name
