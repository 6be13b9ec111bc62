"""X formatters: 280 weighted characters, whole links, cuts at boundaries, threads."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from twitter_text import extract_urls_with_indices

from bot.domain.issue import CONTAINER, DELETED, Item
from publishers.format_common import NotPostable, fit
from publishers.format_x import (
    _CUT_WINDOW,
    DESCRIPTION_MIN_WEIGHT,
    fits_x,
    format_digest_x,
    format_item_x,
)
from publishers.limits import X_MAX_WEIGHTED, x_weighted_length
from publishers.posts import XPost
from tests.factories import ISSUE_URL, any_text, any_url, make_issue, make_item

ZH_DESCRIPTION = (
    "一个开源的 GPU 集群管理器，用于运行大语言模型等 AI 模型。它支持多种推理后端，"
    "可以在 Linux、Windows 和 macOS 上的各种 GPU 上运行，并提供与 OpenAI 兼容的 API，"
    "方便开发者把现有应用迁移过来。"
)
EN_DESCRIPTION = (
    "An open-source GPU cluster manager for running large language models and other AI "
    "models. It supports several inference backends, runs on all kinds of GPUs on Linux, "
    "Windows and macOS, and offers an OpenAI-compatible API so that existing applications "
    "can move over with few changes."
)


def _post(item: Item, *, lang: str = "en", kind: str = "projects") -> XPost:
    return format_item_x(
        item, section_kind=kind, issue=make_issue(lang=lang), issue_url=ISSUE_URL, lang=lang
    )


def test_short_item_keeps_everything_and_ends_with_the_link() -> None:
    post = _post(make_item(description="Small."))
    assert post.text == (
        "gpustack 1: a GPU cluster manager for AI models ⭐ 7.2K\n\nSmall.\n\n"
        "#Projects · via Zeeland · Python Trending Weekly #106\n"
        "https://github.com/gpustack/gpustack1"
    )


def test_credit_has_no_mention_on_x() -> None:
    assert "@" not in _post(make_item()).text


def test_long_zh_description_is_cut_at_a_character_with_ellipsis() -> None:
    item = make_item(title="gpustack：GPU 集群管理器", description=ZH_DESCRIPTION * 2)
    text = _post(item, lang="zh").text
    assert x_weighted_length(text) <= X_MAX_WEIGHTED
    assert x_weighted_length(text) >= X_MAX_WEIGHTED - 3  # CJK cut: close to full
    (description,) = [p for p in text.split("\n\n") if p.endswith("…")]
    assert (ZH_DESCRIPTION * 2).startswith(description[:-1])
    assert text.endswith("https://github.com/gpustack/gpustack1")
    assert "#项目" in text
    assert "Python 潮流周刊 #106" not in text  # named only beside a whole description


def test_long_en_description_is_cut_at_a_word_with_ellipsis() -> None:
    text = _post(make_item(description=EN_DESCRIPTION)).text
    assert x_weighted_length(text) <= X_MAX_WEIGHTED
    (description,) = [p for p in text.split("\n\n") if p.endswith("…")]
    stem = description[:-1]
    assert EN_DESCRIPTION.startswith(stem)
    assert EN_DESCRIPTION[len(stem)] in " ,."  # the next character ends a word
    assert x_weighted_length(stem) >= DESCRIPTION_MIN_WEIGHT


def test_extras_are_dropped_before_description_falls_below_minimum() -> None:
    item = make_item(title="T" * 120, description=EN_DESCRIPTION, credit="@" + "c" * 40)
    text = _post(item).text
    assert x_weighted_length(text) <= X_MAX_WEIGHTED
    assert "Python Trending Weekly" not in text  # the first extra to go
    assert "⭐ 7.2K" in text  # the last
    (description,) = [p for p in text.split("\n\n") if p.endswith("…")]
    assert x_weighted_length(description) >= DESCRIPTION_MIN_WEIGHT


def test_url_of_300_characters_counts_23_and_stays_whole() -> None:
    url = "https://example.com/" + "a" * 280
    text = _post(make_item(url=url, description=EN_DESCRIPTION)).text
    assert x_weighted_length(url) == 23
    assert text.endswith("\n" + url)
    assert x_weighted_length(text) <= X_MAX_WEIGHTED


def test_only_a_title_too_long_alone_is_cut() -> None:
    title = "Understanding " + "asynchronous " * 40 + "Python"
    item = make_item(title=title, description=EN_DESCRIPTION)
    text = _post(item).text
    shown_title, url = text.split("\n\n")  # no room left for a description or extras
    assert shown_title.endswith("asynchronous…")
    assert title.startswith(shown_title[:-1])
    assert url == "https://github.com/gpustack/gpustack1"
    assert x_weighted_length(text) <= X_MAX_WEIGHTED


def test_title_that_fits_is_never_cut() -> None:
    title = "T" * 200
    text = _post(make_item(title=title, description=EN_DESCRIPTION)).text
    assert text.startswith(title)


def test_cuts_do_not_split_emoji_sequences_or_urls() -> None:
    family = "👨\u200d👩\u200d👧"
    flag = "🇯🇵"
    text = (family + flag + "x") * 30
    cut = fit(text, lambda t: len(t) <= 50)
    assert cut.endswith("…")
    assert cut[:-1].endswith((family, flag, "x"))
    with_url = "see https://example.com/" + "p" * 60 + " now"
    cut = fit(with_url, lambda t: len(t) <= 30)
    assert cut == "see…"


def test_decomposed_text_is_normalised_before_counting() -> None:
    decomposed = "e\u0301" * 200  # é as e + combining acute
    text = _post(make_item(title="t", description=decomposed)).text
    assert "\u0301" not in text
    assert x_weighted_length(text) <= X_MAX_WEIGHTED


def test_deleted_and_container_items_are_refused() -> None:
    with pytest.raises(NotPostable):
        _post(make_item(flags=frozenset({DELETED})))
    with pytest.raises(NotPostable):
        _post(make_item(url=None, flags=frozenset({CONTAINER})))


def test_payload_round_trips() -> None:
    post = XPost(text="hi https://a.io/")
    assert XPost.from_payload(json.loads(json.dumps(post.to_payload()))) == post
    with pytest.raises(ValueError, match="not an X payload"):
        XPost.from_payload({"platform": "telegram", "text": "x"})


# --- digest thread ------------------------------------------------------------


def test_a_long_digest_is_two_posts_title_counts_link_then_top_items() -> None:
    long_title = "A very long article title about asyncio, typing and generics " * 2
    issue = make_issue(
        {
            "articles": [make_item(i, title=f"{i} {long_title}") for i in range(1, 21)],
            "projects": [make_item(i, title=f"p{i}") for i in range(1, 21)],
        },
        lang="en",
    )
    first, top = format_digest_x(issue, issue_url=ISSUE_URL, lang="en")
    assert first.text == (
        "Python Trending Weekly #106\n\nShared 20 articles, 20 open-source projects\n\n" + ISSUE_URL
    )
    assert x_weighted_length(top.text) <= X_MAX_WEIGHTED
    # Round robin: the first project comes right after the first article.
    assert "① 1 A very long" in top.text
    assert "🐿️ Projects\n① p1" in top.text
    full = replace(issue, full_text_url="https://www.patreon.com/posts/106")
    assert format_digest_x(full, issue_url=ISSUE_URL, lang="en")[0].text.endswith(
        "https://www.patreon.com/posts/106"
    )


def test_small_digest_is_one_post() -> None:
    issue = make_issue(
        {
            "articles": [
                make_item(1, title="First"),
                make_item(2, title="Gone", flags=frozenset({DELETED})),
                make_item(3, title="Second", url=None),
            ]
        },
        lang="zh",
    )
    (post,) = format_digest_x(issue, issue_url=ISSUE_URL, lang="zh")
    assert post.text == (
        "Python 潮流周刊#106：GPU 与 AI\n\n分享了 2 篇文章\n\n"
        f"🦄 文章\n① First\n② Second\n\n{ISSUE_URL}"
    )


# --- properties ---------------------------------------------------------------

# Random texts stop at 700 code points: over the limit whatever their script,
# so every cutting path runs, and twitter-text (~9 µs a code point, several
# measures an example) stays cheap. Past the formatter's cutting window a text
# takes the same path as its first _CUT_WINDOW code points; the explicit
# examples go past it, and cover what random text rarely is: dense URLs,
# emoji sequences, decomposed marks, blank text.
_LONG = _CUT_WINDOW * 3 // 2
_any_text = any_text(max_size=700, max_repeats=600, max_length=700)
_url = any_url(path_chars="abcXYZ019-_/=&%~", max_path=300)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=_any_text,
    description=_any_text,
    url=_url,
    credit=st.none() | _any_text,
    lang=st.sampled_from(["zh", "en", "ja"]),
)
@example(  # "a.co" weighs 23 as a URL, "a.c" 3: fits is not monotone, no cut inside one
    title="t", description="a.co " * 300, url="https://a.com/x", credit=None, lang="en"
)
@example(  # a CJK title too long alone, all extras
    title="长" * 300, description="", url="https://a.com/", credit="@c" * 20, lang="zh"
)
@example(  # 7-code-point ZWJ families past the window
    title="🧑‍🧑‍🧒‍🧒 x", description="👨‍👩‍👧‍👦" * 150, url="https://a.com/y", credit="c", lang="ja"
)
@example(  # NFC halves it: measured after normalising, cut between whole letters
    title="e\u0301" * 400,
    description="e\u0301 " * 400,
    url="https://a.com/",
    credit=None,
    lang="en",
)
@example(  # blank after cleaning, and a description of one long word
    title=" \n\t" * 300,
    description="x" * _LONG,
    url="https://a.com/" + "a" * 300,
    credit="",
    lang="en",
)
def test_item_always_within_280_and_keeps_url(
    title: str, description: str, url: str, credit: str | None, lang: str
) -> None:
    post = _post(make_item(title=title, description=description, url=url, credit=credit), lang=lang)
    assert x_weighted_length(post.text) <= X_MAX_WEIGHTED
    assert post.text.endswith("\n" + url) or post.text == url


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(titles=st.lists(_any_text, min_size=1, max_size=30), url=_url)
def test_digest_is_one_or_two_posts_within_280(titles: list[str], url: str) -> None:
    issue = make_issue({"articles": [make_item(i, title=t, url=url) for i, t in enumerate(titles)]})
    thread = format_digest_x(issue, issue_url=ISSUE_URL, lang="en")
    assert 1 <= len(thread) <= 2
    for post in thread:
        assert x_weighted_length(post.text) <= X_MAX_WEIGHTED
    assert ISSUE_URL in thread[0].text


def _links(text: str) -> list[tuple[int, int]]:
    return [tuple(found["indices"]) for found in extract_urls_with_indices(text)]  # type: ignore[misc]


def _splits_a_link(original: str, cut: str) -> bool:
    """Whether `cut` (a prefix of `original` with "…") ends inside one of its links."""
    kept = len(cut.removesuffix("…"))
    return any(start < kept < end for start, end in _links(original))


def test_a_url_across_the_cut_window_is_never_split() -> None:
    """Links weigh 23 each, so a description of long links keeps ~1,000 code points."""
    links = [f"https://example.com/{n:02d}/" + "p" * 80 for n in range(12)]
    description = " ".join(links)  # the 10th link straddles code point 1,000
    start, end = _links(description)[9]
    assert start < _CUT_WINDOW < end
    cut = fit(description, fits_x, work_limit=_CUT_WINDOW)
    assert cut == " ".join(links[:9]) + "…"
    text = _post(
        make_item(title="Links", description=description, url="https://github.com/o/r")
    ).text
    assert x_weighted_length(text) <= X_MAX_WEIGHTED
    assert not _splits_a_link(description, text.split("\n\n")[1])


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(
        st.one_of(_url, st.text("ab 长", min_size=1, max_size=8)), min_size=1, max_size=30
    ),
    window=st.integers(10, 120),
    budget=st.integers(5, 280),
)
# Found by hypothesis: the cut fell at the first URL's end, then the trim before "…"
# took its "-" as punctuation, leaving "https://a.com/…" (another page).
@example(words=["https://a.com/-", "https://a.com/"], window=15, budget=25)
def test_a_cut_never_ends_inside_a_link(words: list[str], window: int, budget: int) -> None:
    text = " ".join(words)
    cut = fit(text, lambda t: x_weighted_length(t) <= budget, work_limit=window)
    assert x_weighted_length(cut) <= budget
    assert cut == text or not _splits_a_link(text, cut)


@pytest.mark.parametrize("window", [15, 4200])  # the window's edge at the URL's end; none
def test_the_trim_before_the_ellipsis_keeps_a_links_own_punctuation(window: int) -> None:
    text = "https://a.com/- https://a.com/"
    cut = fit(text, lambda t: x_weighted_length(t) <= 25, work_limit=window)
    assert cut == "https://a.com/-…"
    assert [found["url"] for found in extract_urls_with_indices(cut)] == ["https://a.com/-"]
    # What follows a link is trimmed as before; so is punctuation that is no link's.
    cut = fit("see https://a.com/x - and more", lambda t: len(t) <= 24)
    assert cut == "see https://a.com/x…"
    assert fit("one, two", lambda t: len(t) <= 6) == "one…"


@pytest.mark.parametrize("length", [300, 3000])  # within 16 windows: scanned whole; past: not
def test_a_link_in_a_run_with_no_space_past_the_window_is_cut_before(length: int) -> None:
    head = "word https://example.com/" + "p" * 20
    text = head + "中文" * ((length - len(head)) // 2)
    cut = fit(text, lambda t: len(t) <= 60, work_limit=20)
    assert cut == "word…"
