"""Telegram formatters: escaping, layout, limits after parsing, digest splitting."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.issue import CONTAINER, DELETED, NO_LINK, Link, Section, is_photo_url
from publishers.format_common import NotPostable, circled
from publishers.format_telegram import (
    COVER_URL,
    ChannelStyle,
    digest_from_html,
    editor_html,
    escape_attribute,
    format_digest_telegram,
    format_item_telegram,
)
from publishers.limits import (
    TELEGRAM_CAPTION_MAX,
    TELEGRAM_ENTITIES_MAX,
    TELEGRAM_TEXT_MAX,
    telegram_length,
)
from publishers.posts import TelegramPhoto, TelegramPost, TelegramText
from publishers.telegram_html import parse_html
from tests.factories import ISSUE_URL, any_text, any_url, make_image, make_issue, make_item


def _item_post(item, *, lang="zh", kind="projects", issue_url=ISSUE_URL):  # type: ignore[no-untyped-def]
    return format_item_telegram(
        item, section_kind=kind, issue=make_issue(lang=lang), issue_url=issue_url, lang=lang
    )


def _only_text(post: TelegramPost) -> TelegramText:
    assert len(post.parts) == 1
    part = post.parts[0]
    assert isinstance(part, TelegramText)
    return part


def _links(html: str) -> list[str | None]:
    return [e.url for e in parse_html(html).entities if e.type == "text_link"]


def test_item_escapes_title_description_and_href() -> None:
    item = make_item(
        title='<script> & "quotes"',
        url='https://example.com/a?x=1&y=<2>&z="3"',
        description="1 < 2 && 3 > 2 &amp; stays literal",
    )
    part = _only_text(_item_post(item))
    parsed = parse_html(part.html)
    assert '<script> & "quotes"' in parsed.text
    assert "1 < 2 && 3 > 2 &amp; stays literal" in parsed.text
    assert _links(part.html)[0] == 'https://example.com/a?x=1&y=<2>&z="3"'


def test_item_shows_stars_credit_hashtag_and_issue_link_zh() -> None:
    part = _only_text(_item_post(make_item()))
    parsed = parse_html(part.html)
    assert "⭐ 7.2K" in parsed.text
    assert "投稿：@Zeeland" in parsed.text
    assert "#项目" in parsed.text
    assert "Python 潮流周刊 #106" in parsed.text
    assert _links(part.html) == ["https://github.com/gpustack/gpustack1", ISSUE_URL]
    # The first link is the item's, so the preview Telegram shows is the item.
    assert part.disable_preview is False


def test_item_labels_in_english() -> None:
    text = parse_html(_only_text(_item_post(make_item(), lang="en", kind="articles")).html).text
    assert "via @Zeeland" in text
    assert "#Articles" in text
    assert "Python Trending Weekly #106" in text


def test_item_without_issue_url_names_the_issue_unlinked() -> None:
    part = _only_text(_item_post(make_item(), issue_url=None))
    assert _links(part.html) == ["https://github.com/gpustack/gpustack1"]
    assert "Python 潮流周刊 #106" in parse_html(part.html).text


def test_long_description_cut_with_ellipsis_at_word_boundary() -> None:
    item = make_item(description="word " * 2000)
    part = _only_text(_item_post(item, lang="en"))
    text = parse_html(part.html).text
    assert telegram_length(part.html) <= TELEGRAM_TEXT_MAX
    assert telegram_length(part.html) > TELEGRAM_TEXT_MAX - 100
    assert "word…" in text
    assert "wor…" not in text
    assert "#Projects" in text


def test_image_with_short_text_is_one_photo_post() -> None:
    post = _item_post(make_item(images=(make_image(),)))
    assert len(post.parts) == 1
    photo = post.parts[0]
    assert isinstance(photo, TelegramPhoto)
    assert photo.photo_url == "https://img.pythoncat.top/gpustack.png"
    assert "投稿：@Zeeland" in parse_html(photo.caption_html).text


def test_image_with_text_over_caption_limit_is_photo_then_text() -> None:
    description = "An open-source GPU cluster manager. " * 40  # ~1,440 characters
    post = _item_post(make_item(images=(make_image(),), description=description), lang="en")
    assert len(post.parts) == 2
    photo, text = post.parts
    assert isinstance(photo, TelegramPhoto)
    assert isinstance(text, TelegramText)
    assert telegram_length(photo.caption_html) <= TELEGRAM_CAPTION_MAX
    assert _links(photo.caption_html) == ["https://github.com/gpustack/gpustack1"]
    assert description.strip() in parse_html(text.html).text  # whole, not cut
    assert text.disable_preview is True  # the photo is already the picture


@pytest.mark.parametrize(
    "image_url",
    [
        "https://img.shields.io/badge/python-3.12-blue.svg",
        "https://img.pythoncat.top/cover.avif",
        "https://img.pythoncat.top/e758891909852b4088d3a6db47a6607ca",
        "https://img.pythoncat.top/cover.png!post",
        "https://img.pythoncat.top/demo.gif",
    ],
)
def test_images_telegram_may_reject_fall_back_to_text(image_url: str) -> None:
    """Anomaly A26."""
    assert not is_photo_url(image_url)
    post = _item_post(make_item(images=(make_image(image_url),)))
    assert _only_text(post).disable_preview is False


def test_first_acceptable_image_is_used() -> None:
    images = (make_image("https://x.org/a.svg"), make_image("https://x.org/b.JPG?w=600"))
    photo = _item_post(make_item(images=images)).parts[0]
    assert isinstance(photo, TelegramPhoto)
    assert photo.photo_url == "https://x.org/b.JPG?w=600"


@pytest.mark.parametrize(
    "overrides",
    [
        {"flags": frozenset({DELETED})},
        {"url": None, "flags": frozenset({CONTAINER}), "sub_links": (Link("a", "https://a.io/"),)},
        {"url": None, "flags": frozenset({NO_LINK})},
    ],
)
def test_unpostable_items_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(NotPostable):
        _item_post(make_item(**overrides))


def test_post_payload_round_trips() -> None:
    post = _item_post(make_item(images=(make_image(),), description="x " * 800))
    assert TelegramPost.from_payload(json.loads(json.dumps(post.to_payload()))) == post
    with pytest.raises(ValueError, match="part type"):
        TelegramPost.from_payload({"platform": "telegram", "parts": [{"type": "video"}]})


# --- the channel's digest -------------------------------------------------------

TEXT_ONLY = ChannelStyle(photo_url=None)


def _summary(**changes):  # type: ignore[no-untyped-def]
    """A summary issue as the newsletter writes one: no links, section names as written."""
    issue = make_issue(
        {
            "articles": [make_item(i, title=f"文章{i}", url=None) for i in range(1, 4)],
            "projects": [make_item(1, title="slotplan：排期", url=None)],
        }
    )
    sections = tuple(
        replace(s, heading=f"**[{name}](https://weekly.pythoncat.top)**")
        for s, name in zip(issue.sections, ("🦄文章&教程", "🐿️项目&资源"), strict=True)
    )
    return replace(issue, form="summary", sections=sections, **changes)


def _caption(post: TelegramPost) -> TelegramPhoto:
    (part,) = post.parts
    assert isinstance(part, TelegramPhoto)
    return part


def test_summary_digest_is_the_channels_own_post_under_the_cover() -> None:
    issue = _summary(full_text_url="https://xiaobot.net/post/106")
    (post,) = format_digest_telegram(issue, issue_url=ISSUE_URL, lang="zh")
    photo = _caption(post)
    assert photo.photo_url == COVER_URL
    assert parse_html(photo.caption_html).text == (
        "#Python潮流周刊\n\n🐱🐱🐱🐱  第 106 期  🐱🐱🐱🐱\n\nGPU 与 AI\n\n"
        "🦄文章&教程\n\n① 文章1\n② 文章2\n③ 文章3\n\n🐿️项目&资源\n\n① slotplan：排期\n\n"
        "在信息洪流中为你淘金，助力 Python 技术视野拓展和职业发展。"
        "现在订阅，每周让自己进步一点点。\n\n"
        "👀 订阅：小报童  爱发电\n\n👀 合集：1季  2季  3季\n\n🐱频道 @pythontrendingweekly"
    )
    assert "<b>🦄文章&amp;教程</b>" in photo.caption_html
    # The title links to the full text before the GitHub file; then the footer's links.
    assert _links(photo.caption_html) == [
        "https://xiaobot.net/post/106",
        "https://weekly.pythoncat.top/zh/#subscribe-xiaobot",
        "https://weekly.pythoncat.top/zh/#subscribe-afdian",
        "https://pythoncat.top/posts/2023-12-11-weekly",
        "https://pythoncat.top/posts/2025-04-20-iweekly",
        "https://pythoncat.top/posts/2026-06-07-iweekly",
    ]
    without = format_digest_telegram(_summary(), issue_url=ISSUE_URL, lang="zh")
    assert _links(_caption(without[0]).caption_html)[0] == ISSUE_URL


def test_settings_replace_photo_links_and_handle() -> None:
    style = ChannelStyle(
        photo_url="https://img.example.com/cover.jpg",
        channel="@demo_channel",
        subscribe_links=(Link("Patreon", "https://patreon.example/x"),),
        collection_links=(),
    )
    (post,) = format_digest_telegram(_summary(), issue_url=ISSUE_URL, lang="en", style=style)
    photo = _caption(post)
    text = parse_html(photo.caption_html).text
    assert photo.photo_url == "https://img.example.com/cover.jpg"
    assert text.startswith("#PythonTrendingWeekly\n\n🐱🐱🐱🐱  Issue 106  🐱🐱🐱🐱")
    assert "👀 Subscribe: Patreon" in text
    assert "Collections" not in text
    assert text.endswith("🐱 Channel @demo_channel")
    bare = ChannelStyle(photo_url=None, channel=None, subscribe_links=(), collection_links=())
    (post,) = format_digest_telegram(_summary(), issue_url=ISSUE_URL, lang="en", style=bare)
    assert parse_html(_only_text(post).html).text.endswith("① slotplan：排期")


def test_over_a_caption_the_text_follows_the_photo() -> None:
    titles = [f"An article title long enough to matter number {i}" for i in range(1, 25)]
    issue = replace(
        _summary(),
        sections=(
            Section(
                "articles",
                "## 🦄Articles & Tutorials",
                tuple(make_item(i, title=t, url=None) for i, t in enumerate(titles, start=1)),
            ),
        ),
    )
    photo_post, text_post = format_digest_telegram(issue, issue_url=ISSUE_URL, lang="en")
    caption = parse_html(_caption(photo_post).caption_html).text
    assert caption == "#PythonTrendingWeekly\n\n🐱🐱🐱🐱  Issue 106  🐱🐱🐱🐱\n\nGPU 与 AI"
    text = parse_html(_only_text(text_post).html).text
    assert text.startswith("🦄Articles & Tutorials\n\n① An article")
    assert "⑳ An article" in text
    assert "㉔ An article" in text
    assert 1024 < telegram_length(_only_text(text_post).html) <= TELEGRAM_TEXT_MAX


def test_numbers_past_twenty() -> None:
    assert [circled(n) for n in (1, 20, 21, 35, 36, 50, 51)] == [
        "①",
        "⑳",
        "㉑",
        "㉟",
        "㊱",
        "㊿",
        "51.",
    ]


def _big_issue():  # type: ignore[no-untyped-def]
    long_title = "A very long article title about asyncio, typing & <generics> " * 3
    return make_issue(
        {
            "articles": [make_item(i, title=f"{i} {long_title}") for i in range(1, 21)],
            "projects": [make_item(i, title=f"{i} {long_title}") for i in range(1, 21)],
        }
    )


def test_digest_of_40_long_items_splits_between_items_within_limits() -> None:
    posts = format_digest_telegram(_big_issue(), issue_url=ISSUE_URL, lang="en")
    photo, *texts = posts
    assert telegram_length(_caption(photo).caption_html) <= TELEGRAM_CAPTION_MAX
    assert len(texts) > 1
    seen: list[str] = []
    for number, post in enumerate(texts, start=1):
        part = _only_text(post)
        assert part.disable_preview is True
        parsed = parse_html(part.html)
        assert telegram_length(part.html) <= TELEGRAM_TEXT_MAX
        assert len(parsed.entities) <= TELEGRAM_ENTITIES_MAX
        assert parsed.text.splitlines()[0] == f"({number}/{len(texts)})"
        seen.extend(e.url or "" for e in parsed.entities if e.type == "text_link")
    item_links = [url for url in seen if "gpustack" in url]
    # Every item once, in order, each link whole: no item was split across messages.
    expected = [f"https://github.com/gpustack/gpustack{i}" for i in range(1, 21)] * 2
    assert item_links == expected


def test_digest_splits_at_100_entities_even_when_short() -> None:
    items = [make_item(i, title=f"t{i}", stars=(), stars_as_written=()) for i in range(1, 151)]
    issue = make_issue({"articles": items})
    posts = format_digest_telegram(issue, issue_url=None, lang="en", style=TEXT_ONLY)
    assert len(posts) == 2
    for post in posts:
        html = _only_text(post).html
        assert len(parse_html(html).entities) <= TELEGRAM_ENTITIES_MAX
        assert telegram_length(html) < TELEGRAM_TEXT_MAX


def test_digest_numbering_deleted_container_and_unlinked() -> None:
    issue = make_issue(
        {
            "articles": [
                make_item(1, title="First"),
                make_item(2, title="Gone", flags=frozenset({DELETED})),
                make_item(
                    3,
                    title="Reading list",
                    url=None,
                    flags=frozenset({CONTAINER}),
                    sub_links=(Link("One", "https://one.io/a"), Link("Two", "https://two.io/b")),
                ),
                make_item(4, title="Plain", url=None, flags=frozenset({NO_LINK})),
            ],
            "projects": [make_item(1, title="Proj")],
        }
    )
    (post,) = format_digest_telegram(issue, issue_url=ISSUE_URL, lang="zh", style=TEXT_ONLY)
    html = _only_text(post).html
    text = parse_html(html).text
    assert "Gone" not in text
    assert "🦄 文章\n\n① First\n② Reading list\n    • One\n    • Two\n③ Plain" in text
    assert "🐿️ 项目\n\n① Proj" in text
    assert _links(html)[:5] == [
        ISSUE_URL,
        "https://github.com/gpustack/gpustack1",
        "https://one.io/a",
        "https://two.io/b",
        "https://github.com/gpustack/gpustack1",
    ]


def test_an_edit_keeps_the_photo_by_the_caption_rule() -> None:
    short = "<b>第 9 期</b>"
    (post,) = digest_from_html(short, COVER_URL)
    assert _caption(post).caption_html == short
    long = "x" * 1025
    photo, text = digest_from_html(long, COVER_URL)
    assert _caption(photo).caption_html == ""
    assert _only_text(text).html == long
    assert digest_from_html(short, None)[0].parts == (TelegramText(short, disable_preview=True),)


@pytest.mark.parametrize(
    ("typed", "html"),
    [
        ("**第 9 期** 标题", "<b>第 9 期</b> 标题"),
        (
            "[全文链接](https://xiaobot.net/post/9)",
            '<a href="https://xiaobot.net/post/9">全文链接</a>',
        ),
        ("<b>already</b> **and** more", "<b>already</b> <b>and</b> more"),
        ("2 ** 3 and a*b*c", "2 ** 3 and a*b*c"),
    ],
)
def test_editor_markdown_becomes_html(typed: str, html: str) -> None:
    assert editor_html(typed) == html


# --- properties ---------------------------------------------------------------

_any_text = any_text(max_size=3000, max_repeats=600)
_url = any_url(path_chars="abcXYZ019-_.~/?=&%\"<>'", max_path=300)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=_any_text,
    description=_any_text,
    url=_url,
    credit=st.none() | _any_text,
    stars=st.lists(_any_text, max_size=3),
    with_image=st.booleans(),
    lang=st.sampled_from(["zh", "en", "ja"]),
)
def test_item_always_parses_within_limits_and_keeps_url(
    title: str,
    description: str,
    url: str,
    credit: str | None,
    stars: list[str],
    with_image: bool,
    lang: str,
) -> None:
    item = make_item(
        title=title,
        description=description,
        url=url,
        credit=credit,
        stars_as_written=tuple(stars),
        images=(make_image(),) if with_image else (),
    )
    post = _item_post(item, lang=lang)
    for part in post.parts:
        if isinstance(part, TelegramText):
            assert 0 < telegram_length(part.html) <= TELEGRAM_TEXT_MAX
            html = part.html
        else:
            assert telegram_length(part.caption_html) <= TELEGRAM_CAPTION_MAX
            html = part.caption_html
        assert len(parse_html(html).entities) <= TELEGRAM_ENTITIES_MAX
    # Intact in what is sent (Telegram itself may normalise `…/?` to `…/`).
    assert f'<a href="{escape_attribute(url)}">' in html


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(titles=st.lists(_any_text, min_size=1, max_size=40), url=_url, photo=st.booleans())
def test_digest_always_parses_within_limits(titles: list[str], url: str, photo: bool) -> None:
    issue = make_issue({"articles": [make_item(i, title=t, url=url) for i, t in enumerate(titles)]})
    style = ChannelStyle() if photo else TEXT_ONLY
    posts = format_digest_telegram(issue, issue_url=ISSUE_URL, lang="zh", style=style)
    links = 0
    for post in posts:
        (part,) = post.parts
        if isinstance(part, TelegramPhoto):
            html, limit = part.caption_html, TELEGRAM_CAPTION_MAX
        else:
            html, limit = part.html, TELEGRAM_TEXT_MAX
        assert 0 < telegram_length(html) <= limit
        assert len(parse_html(html).entities) <= TELEGRAM_ENTITIES_MAX
        links += html.count(f'<a href="{escape_attribute(url)}">')
    assert links == len(titles)
