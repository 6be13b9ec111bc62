"""Item fields (stars, credits, tags), header fields, mojibake and pairing, on small samples."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.domain.issue import NotAnIssue
from bot.domain.parser import pair_summary_full, parse_issue, strip_annotations
from tests.parser_support import FIXTURES, corpus_path, en_issue, zh_issue


def one_item(body: str, *, en: bool = False):  # type: ignore[no-untyped-def]
    heading = "## 🐿️Projects & Resources" if en else "## 🐿️项目&资源"
    text = (en_issue if en else zh_issue)(f"{heading}\n\n1、[p](https://e.com/p)\n\n{body}")
    return parse_issue(text).sections[0].items[0]


@pytest.mark.parametrize(
    ("body", "stars", "written"),
    [
        ("一个库（star 7.2K）", (7200,), ("7.2K",)),
        ("一个库（star 4.9k）（分享自@猫）", (4900,), ("4.9k",)),
        ("一个库(star 950)", (950,), ("950",)),
        ("A library (6.4k stars)", (6400,), ("6.4k",)),
        ("A library (8K GitHub stars)", (8000,), ("8K",)),
        ("A library (star 1.9k) and another (3.1k stars)", (1900, 3100), ("1.9k", "3.1k")),
        ("It uses str.startswith (a star-shaped API)", (), ()),
    ],
)
def test_star_counts(body: str, stars: tuple[int, ...], written: tuple[str, ...]) -> None:
    item = one_item(body)
    assert item.stars == stars
    assert item.stars_as_written == written


@pytest.mark.parametrize(
    ("body", "credit"),
    [
        ("描述。（@Zeeland 投稿）", "@Zeeland"),
        ("描述。（@王宇昕投稿）", "@王宇昕"),
        ("描述。（投稿自@kite）", "@kite"),
        ("描述。（投稿自@[kite](https://github.com/kite)）", "@kite"),
        ("描述。（投稿by@kite）", "@kite"),
        ("描述。（分享自@请叫我大萌萌）", "@请叫我大萌萌"),
        ("@NoHeartPen 投稿：读完之后终于有了思路。", "@NoHeartPen"),
        ("Text. (Submitted by @Zeeland)", "@Zeeland"),
        ("Text. (Contributed by @[luckrnx09](https://github.com/luckrnx09))", "@luckrnx09"),
        ("Text. (Shared by @kite)", "@kite"),
        ("Text. (Submitted by @Wang Yuxin)", "@Wang Yuxin"),
        ("Text. (Shared by: Yunyun)", "Yunyun"),
        ("@NoHeartPen Contribution: after reading it I finally understood.", "@NoHeartPen"),
        ("No credit here (see @home for details) at all.", None),
    ],
)
def test_credits(body: str, credit: str | None) -> None:
    assert one_item(body).credit == credit


def test_description_is_plain_and_markdown_is_kept() -> None:
    item = one_item(r"用 **粗体**、`code` 和 \_\_call\_\_，见[文档](https://e.com/d) \<tag\>。")
    assert item.description == "用 粗体、code 和 __call__，见文档 <tag>。"
    assert (
        item.description_md
        == r"用 **粗体**、`code` 和 \_\_call\_\_，见[文档](https://e.com/d) \<tag\>。"
    )
    assert [link.url for link in item.description_links] == ["https://e.com/d"]


def test_header_fields_from_file_name_and_front_matter() -> None:
    text = (FIXTURES / "2031-01-04-weekly.md").read_text(encoding="utf-8")
    issue = parse_issue(text, filename="some/where/2031-01-04-weekly.md")
    assert issue.number == 201
    assert issue.date == dt.date(2031, 1, 4)
    assert issue.lang == "zh"
    assert issue.title == "Python 潮流周刊#201：用纸飞机测试异步代码"
    assert parse_issue(text, filename="x.md").date == dt.date(2031, 1, 4)  # pubDate
    renamed = parse_issue(text.replace("pubDate: 2031-01-04\n", ""), filename="x.md")
    assert renamed.date is None
    assert renamed.number == 201


def test_date_from_title_when_nothing_else() -> None:
    text = en_issue("## 🦄Articles & Tutorials\n\n1. [a](https://e.com/a)")
    assert parse_issue(text).date == dt.date(2031, 3, 1)


def test_windows_style_path_gives_lang_from_parent_folder() -> None:
    text = en_issue("## 🦄Articles & Tutorials\n\n1. [a](https://e.com/a)")
    assert parse_issue(text, filename=r"C:\docs\ja\2031-03-01-weekly.md").lang == "ja"


def test_mojibake_headings_are_repaired() -> None:
    clean = en_issue(
        "## 🦄Articles & Tutorials\n\n1. [a](https://e.com/a)\n\n"
        "## 🐿️Projects & Resources\n\n1. [p](https://e.com/p)\n\n"
        "## 🐢Podcasts & Videos\n\n1. [v](https://e.com/v)"
    )
    garbled = clean.encode("utf-8").decode("mac_roman")
    assert "## \uf8ffü¶ÑArticles" in garbled
    issue = parse_issue(garbled)
    assert [len(s.items) for s in issue.sections] == [1, 1, 1]
    assert issue.sections[0].heading == "## 🦄Articles & Tutorials"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "just some words\n",
        "# README\n\n- [Weekly #1](docs/1.md)\n",
        "# Notes\n\n## 🦄文章&教程\n\n"
        + "".join(f"{n}、[t](https://e.com)\n" for n in range(1, 60)),
        "# Python 潮流周刊#9：only a title\n\nno sections here\n",
    ],
)
def test_not_an_issue_has_a_reason(text: str) -> None:
    with pytest.raises(NotAnIssue) as raised:
        parse_issue(text)
    assert str(raised.value)


def test_summary_pairs_with_full_and_reports_leftovers() -> None:
    full = parse_issue((FIXTURES / "2031-01-04-weekly.md").read_text(encoding="utf-8"))
    summary = parse_issue((FIXTURES / "2031-01-11-weekly.md").read_text(encoding="utf-8"))
    pairing = pair_summary_full(summary, full)
    paired = {(p.kind, p.summary.index, p.full.index) for p in pairing.pairs}
    assert ("articles", 1, 1) in paired
    assert ("projects", 1, 1) in paired
    assert ("projects", 2, 2) in paired  # ASCII vs full-width colon: same title
    assert ("articles", 2, 2) in paired  # close title: "[译] " prefix dropped
    assert {(k, i.index) for k, i in pairing.unmatched_summary} == {("articles", 3)}
    leftovers = {(k, i.index) for k, i in pairing.unmatched_full}
    assert leftovers == {("articles", 3), ("projects", 3), ("podcasts", 1), ("discussions", 1)}
    assert not pairing.complete


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("单文件、零依赖。（star 4.9K）", "单文件、零依赖。"),
        ("支持 CI。（star 1.2k）（投稿自@demo_editor）", "支持 CI。"),
        ("PEP 810 makes import lazy. (Submitted by @demo_reader)", "PEP 810 makes import lazy."),
        ("@NoHeartPen 投稿：这篇文章很好", "这篇文章很好"),
        ("A (star 2K)\n\nsecond (@X 投稿)", "A\n\nsecond"),
        # mid-sentence counts are part of what the text says; startswith is no star
        ("Two repos (1.9k stars) and (3.1k stars).", "Two repos (1.9k stars) and (3.1k stars)."),
        ("Uses startswith (not a star).", "Uses startswith (not a star)."),
    ],
)
def test_strip_annotations_removes_only_closing_stars_and_credits(
    description: str, expected: str
) -> None:
    assert strip_annotations(description) == expected


_SUMMARY_BODY = (
    "以下是本期标题摘要：\n\n**[🦄文章&教程](https://weekly.pythoncat.top)**\n\n① 标题一"
)


@pytest.mark.parametrize(
    ("preamble", "url"),
    [
        ("去专栏阅读全文：[全文链接](https://xiaobot.net/post/a1)", "https://xiaobot.net/post/a1"),
        (
            "分享了 12 篇文章，12 个开源项目。去专栏阅读全文：[全文链接](https://www.xiaobot.net/post/b2)",
            "https://www.xiaobot.net/post/b2",
        ),
        (
            "订阅后，可免费查看 [第 68 期周刊的全文](https://xiaobot.net/post/c3)",
            "https://xiaobot.net/post/c3",
        ),
        (
            "订阅后，可免费查看 第 9 期周刊的全文：https://xiaobot.net/post/d4。",
            "https://xiaobot.net/post/d4",
        ),
        (
            "订阅后，可免费查看 第 9 期周刊的全文：\nhttps://xiaobot.net/post/e5",
            "https://xiaobot.net/post/e5",
        ),
        ("Read the full text: [link](https://example.com/paid/9)", "https://example.com/paid/9"),
        ("After subscribing, you can view the full text of Issue 9 for free: ", None),
        ("本期分享了 12 篇文章，全文 2100 字。[合集](https://xiaobot.net/post/f6)", None),
        ("```\n阅读全文：https://in.a/fence\n```", None),
    ],
    ids=[
        "link",
        "in-count-line",
        "link-text",
        "bare",
        "next-line",
        "en",
        "empty",
        "word-count",
        "fence",
    ],
)
def test_full_text_link_of_a_summary(preamble: str, url: str | None) -> None:
    issue = parse_issue(zh_issue(f"{preamble}\n\n{_SUMMARY_BODY}"))
    assert issue.form == "summary"
    assert issue.full_text_url == url


def test_full_text_links_of_the_corpus() -> None:
    """Every zh summary links its paid post; no full issue has a full-text link."""
    zh = [parse_issue(p.read_text(encoding="utf-8"), filename=str(p)) for p in _corpus("zh")]
    summaries = [i for i in zh if i.form == "summary"]
    assert len(summaries) >= 5
    for issue in summaries:
        assert issue.full_text_url is not None, issue.number
        assert issue.full_text_url.split("/post/")[0] in (
            "https://xiaobot.net",
            "https://www.xiaobot.net",
        )
    assert all(i.full_text_url is None for i in zh if i.form == "full")
    en = {
        i.number: i
        for p in _corpus("en")
        if (i := parse_issue(p.read_text(encoding="utf-8"), filename=str(p)))
    }
    assert (en[120].full_text_url or "").startswith(
        "https://www.patreon.com/posts/python-trending-"
    )
    assert en[159].full_text_url is None  # "…for free: " with no link after it


def _corpus(lang: str) -> list[Path]:
    return sorted(corpus_path(lang).glob("*-weekly.md"))
