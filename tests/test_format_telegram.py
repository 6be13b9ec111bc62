"""Telegram formatters: escaping, layout, limits after parsing, digest splitting."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.issue import CONTAINER, DELETED, NO_LINK, Link
from publishers.format_common import NotPostable, is_photo_url
from publishers.format_telegram import (
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


# --- digest -------------------------------------------------------------------


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
    assert len(posts) > 1
    seen: list[str] = []
    for number, post in enumerate(posts, start=1):
        part = _only_text(post)
        assert part.disable_preview is True
        parsed = parse_html(part.html)
        assert telegram_length(part.html) <= TELEGRAM_TEXT_MAX
        assert len(parsed.entities) <= TELEGRAM_ENTITIES_MAX
        assert f"({number}/{len(posts)})" in parsed.text.splitlines()[0]
        seen.extend(e.url or "" for e in parsed.entities if e.type == "text_link")
    item_links = [url for url in seen if "gpustack" in url]
    # Every item once, in order, each link whole: no item was split across messages.
    expected = [f"https://github.com/gpustack/gpustack{i}" for i in range(1, 21)] * 2
    assert item_links == expected


def test_digest_splits_at_100_entities_even_when_short() -> None:
    items = [make_item(i, title=f"t{i}", stars=(), stars_as_written=()) for i in range(1, 151)]
    posts = format_digest_telegram(make_issue({"articles": items}), issue_url=None, lang="en")
    assert len(posts) == 2
    for post in posts:
        html = _only_text(post).html
        assert len(parse_html(html).entities) <= TELEGRAM_ENTITIES_MAX
        assert telegram_length(html) < TELEGRAM_TEXT_MAX


def test_digest_headings_numbering_deleted_container_and_unlinked() -> None:
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
    (post,) = format_digest_telegram(issue, issue_url=ISSUE_URL, lang="zh")
    html = _only_text(post).html
    text = parse_html(html).text
    assert "Gone" not in text
    assert (
        "🦄 文章\n1. First ⭐ 7.2K\n2. Reading list ⭐ 7.2K\n    • One\n    • Two\n3. Plain" in text
    )
    assert "🐿️ 项目\n1. Proj" in text
    assert "<b>🦄 文章</b>" in html
    assert _links(html) == [
        ISSUE_URL,
        "https://github.com/gpustack/gpustack1",
        "https://one.io/a",
        "https://two.io/b",
        "https://github.com/gpustack/gpustack1",
    ]
    assert "(1/1)" not in text


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
@given(titles=st.lists(_any_text, min_size=1, max_size=40), url=_url)
def test_digest_always_parses_within_limits(titles: list[str], url: str) -> None:
    issue = make_issue({"articles": [make_item(i, title=t, url=url) for i, t in enumerate(titles)]})
    posts = format_digest_telegram(issue, issue_url=ISSUE_URL, lang="zh")
    links = 0
    for post in posts:
        html = _only_text(post).html
        assert 0 < telegram_length(html) <= TELEGRAM_TEXT_MAX
        assert len(parse_html(html).entities) <= TELEGRAM_ENTITIES_MAX
        links += html.count(f'<a href="{escape_attribute(url)}">')
    assert links == len(titles)
