"""The text around items that is not theirs, and the items that look like it.

Samples written by hand in the newsletter's style (FORMAT.md §3.5, §3.7, A5, A12):
a description that mentions tipping and a newsletter in passing stays whole; a removed
entry is `deleted` in zh, en and ja; the closing lines between the last item and the
footer ("首发于…", "First published at …", tip jars) never join the last item.
"""

from __future__ import annotations

import pytest

from bot.domain.issue import Issue, Item
from bot.domain.parser import parse_issue
from tests.parser_support import en_issue, zh_issue

ZH_ARTICLES = "## 🦄文章&教程"
EN_ARTICLES = "## 🦄Articles & Tutorials"
JA_ARTICLES = "## 🦄記事＆チュートリアル"


def ja_issue(body: str) -> str:
    return f"# Python トレンド週刊#301：テスト\n\nこんにちは、テストです。\n\n{body}\n"


def _parse(lang: str, body: str) -> Issue:
    wrap = {"zh": zh_issue, "en": en_issue, "ja": ja_issue}[lang]
    return parse_issue(wrap(body), filename=f"{lang}/2031-03-01-weekly.md")


def _articles(lang: str, body: str) -> tuple[Item, ...]:
    heading = {"zh": ZH_ARTICLES, "en": EN_ARTICLES, "ja": JA_ARTICLES}[lang]
    section = _parse(lang, f"{heading}\n\n{body}").section("articles")
    assert section is not None
    return section.items


# --- a description that mentions the newsletter and tipping is still a description ----


@pytest.mark.parametrize(
    ("lang", "header", "description"),
    [
        (
            "zh",
            "1、[一个人运营技术周刊的第三年](https://example.org/indie-weekly)",
            "作者复盘了独立运营一份技术周刊的三年：读者打赏、付费订阅和赞助各占多少收入，"
            "以及怎样坚持每周更新。",
        ),
        (
            "en",
            "1. [Three years of a one-person newsletter](https://example.org/indie-weekly)",
            "The author looks back on running a Python newsletter alone: how much came from "
            "the tip jar, from buy me a coffee buttons and from paid tiers, and what kept it "
            "weekly.",
        ),
    ],
)
def test_a_description_about_tipping_a_newsletter_is_kept(
    lang: str, header: str, description: str
) -> None:
    (item,) = _articles(lang, f"{header}\n\n{description}")
    assert item.description == description
    assert "promo_stripped" not in item.flags


def test_the_tip_jar_after_such_a_description_still_goes() -> None:
    description = "作者复盘了运营技术周刊的三年：读者打赏和付费订阅各占多少收入。"
    (item,) = _articles(
        "zh",
        "1、[一个人运营技术周刊的第三年](https://example.org/indie-weekly)\n\n"
        f"{description}\n\n如果你觉得周刊有价值，请表达小小心意，赞赏一下猫哥吧~~",
    )
    assert item.description == description
    assert "promo_stripped" in item.flags


# --- deleted placeholders, in every language ----------------------------------------


@pytest.mark.parametrize(
    ("lang", "header"),
    [
        ("zh", "2、内容删除"),
        ("zh", "2、原推荐文章因链接失效已删"),
        ("zh", "2、该条目已被移除"),
        ("en", "2. Content deleted."),
        ("en", "2. The originally recommended article has been removed"),
        ("en", "2. Article deleted"),
        ("en", "2、[Deleted]"),
        ("ja", "2、内容削除"),
        ("ja", "2、コンテンツは削除されました"),
        ("ja", "2、元の推薦記事は削除済みです"),
    ],
)
def test_a_removed_entry_is_deleted_in_every_language(lang: str, header: str) -> None:
    first, placeholder, third = _articles(
        lang,
        "1、[First](https://example.org/first)\n\nText.\n\n"
        f"{header}\n\n"
        "3、[Third](https://example.org/third)\n\nText.",
    )
    assert placeholder.flags == {"deleted", "no_link"}
    assert "deleted" not in first.flags | third.flags


@pytest.mark.parametrize(
    ("lang", "header"),
    [
        ("en", "2. Why was the GIL removed? A discussion"),
        ("en", "2. Why was the GIL removed?"),
        ("zh", "2、Python 3.13 删除了哪些模块？"),
    ],
)
def test_a_header_without_link_that_speaks_of_removal_is_not_a_placeholder(
    lang: str, header: str
) -> None:
    (item,) = _articles(
        lang, f"{header}\n\nSee [the thread](https://example.org/thread) for the answers."
    )
    assert item.flags == {"no_link"}


# --- closing lines between the last item and the footer -----------------------------

ZH_LAST = (
    "12、[用 asyncio 写一个爬虫](https://example.org/asyncio-crawler)\n\n"
    "从零开始，用 asyncio 和 httpx 写一个并发爬虫。"
)
EN_LAST = (
    "12. [Writing a crawler with asyncio](https://example.org/asyncio-crawler)\n\n"
    "Build a concurrent crawler with asyncio and httpx from scratch."
)


@pytest.mark.parametrize(
    ("lang", "last", "closing", "footer"),
    [
        (
            "zh",
            ZH_LAST,
            "首发于我的博客：https://pythoncat.top/posts/2031-03-01-weekly",
            "## 🐼欢迎订阅",
        ),
        (
            "zh",
            ZH_LAST,
            "本文首发于 [Python猫的博客](https://pythoncat.top/posts/2031-03-01-weekly)\n\n"
            "如果你觉得周刊有价值，请表达小小心意，赞赏一下猫哥吧~~",
            "## 🐼欢迎订阅",
        ),
        (
            "en",
            EN_LAST,
            "First published at [pythoncat.top](https://pythoncat.top/posts/2031-03-01-weekly)",
            "## 🐼Subscribe Welcome",
        ),
        (
            "en",
            EN_LAST,
            "If you enjoy the weekly, a small tip keeps the cat writing ~~\n\n"
            "Originally published on my blog: https://pythoncat.top/posts/2031-03-01-weekly",
            "## 🐱 Subscribe",
        ),
    ],
)
def test_closing_lines_are_not_the_last_items_description(
    lang: str, last: str, closing: str, footer: str
) -> None:
    heading = ZH_ARTICLES if lang == "zh" else EN_ARTICLES
    issue = _parse(lang, f"{heading}\n\n{last}\n\n{closing}\n\n{footer}\n\n- [Blog](https://x.y)")
    section = issue.section("articles")
    assert section is not None
    (item,) = section.items
    assert item.description == last.split("\n\n")[1]
    assert "promo_stripped" in item.flags
    assert [s.kind for s in issue.sections] == ["articles"]


def test_closing_lines_after_an_entry_with_no_description() -> None:
    issue = _parse(
        "zh",
        "## 🥂讨论&问题\n\n"
        "1、[你会在生产环境用 Python 3.14 吗？](https://example.org/314-in-prod)\n\n"
        "如果你觉得周刊有价值，请表达小小心意，赞赏一下猫哥吧~~\n\n"
        "首发于我的博客：https://pythoncat.top/posts/2031-03-01-weekly\n\n"
        "## 🐼欢迎订阅",
    )
    section = issue.section("discussions")
    assert section is not None
    (item,) = section.items
    assert item.description == ""


@pytest.mark.parametrize(
    "paragraph",
    [
        "First published in 1994, the paper still explains garbage collection best.",
        "该文首发于作者的博客，后来被 Real Python 转载。",
    ],
)
def test_a_description_that_says_first_published_is_kept(paragraph: str) -> None:
    lang = "zh" if "该文" in paragraph else "en"
    (item,) = _articles(lang, f"1、[GC](https://example.org/gc)\n\n{paragraph}")
    assert item.description == paragraph
