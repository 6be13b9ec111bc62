"""Issues the corpus does not hold: hand-written fixtures in the newsletter's style.

Each fixture in `tests/fixtures/unseen/` synthesises variants that FORMAT.md documents
for issue ranges kept out of the corpus (zh #14–#45 footers, #49's `## 🦄[…](…)`,
en front matter #57–#63, en #66's stray backslash, en `#108：`, Chinese H1s in en
files, 🐱 sponsors, 赠书 sections, 关联阅读, ⑭ summaries …), plus plausible future
changes (CRLF without a final newline, `#N` and a date in one H1, 16 entries, 3-digit
numbers). The expected values below were written from the grammar, by hand.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.domain.issue import Issue, Item, NotAnIssue, SectionKind
from bot.domain.parser import parse_issue
from bot.domain.parser.cli import EXIT_NOT_AN_ISSUE, EXIT_OK, EXIT_UNREADABLE, run_parse
from tests.parser_support import counts, en_issue, zh_issue

UNSEEN = Path(__file__).resolve().parent / "fixtures" / "unseen"

# path: (number, form, articles/projects/podcasts/discussions, stated counts)
EXPECTED: dict[str, tuple[int, str, tuple[int, int, int, int], dict[str, int]]] = {
    "zh/2023-07-01-weekly.md": (9, "full", (4, 2, 0, 0), {}),
    "zh/2023-09-16-weekly.md": (20, "full", (5, 3, 1, 1), {}),
    "zh/2023-12-09-weekly.md": (30, "full", (3, 2, 1, 0), {}),
    "zh/2024-04-27-weekly.md": (
        48,
        "full",
        (3, 2, 1, 0),
        {"articles": 3, "projects": 2, "podcasts": 1},
    ),
    "zh/2024-05-04-weekly.md": (
        49,
        "full",
        (2, 2, 1, 2),
        {"articles": 2, "projects": 2, "podcasts": 1, "discussions": 2},
    ),
    "zh/2024-06-01-weekly.md": (53, "full", (3, 2, 0, 0), {"articles": 3, "projects": 2}),
    "zh/2024-07-27-weekly.md": (62, "full", (2, 2, 0, 0), {"articles": 2, "projects": 2}),
    "zh/2025-06-21-weekly.md": (107, "full", (2, 1, 0, 0), {"articles": 2, "projects": 1}),
    "zh/2025-12-20-weekly.md": (
        132,
        "summary",
        (14, 13, 2, 3),
        {"articles": 14, "projects": 13, "podcasts": 2, "discussions": 3},
    ),
    "zh/2026-10-17-weekly.md": (
        172,
        "summary",
        (16, 3, 0, 1),
        {"articles": 16, "projects": 3, "discussions": 1},
    ),
    "en/2023-12-09-weekly.md": (30, "full", (3, 3, 2, 1), {}),
    "en/2024-04-06-weekly.md": (45, "full", (3, 1, 1, 1), {}),
    "en/2024-06-22-weekly.md": (
        57,
        "full",
        (3, 2, 1, 1),
        {"articles": 3, "projects": 2, "podcasts": 1, "discussions": 1},
    ),
    "en/2024-08-24-weekly.md": (
        66,
        "full",
        (2, 2, 1, 2),
        {"articles": 2, "projects": 2, "podcasts": 1, "discussions": 2},
    ),
    "en/2025-06-28-weekly.md": (108, "full", (2, 2, 0, 0), {}),
    "en/2026-05-09-weekly.md": (
        150,
        "summary",
        (14, 12, 1, 2),
        {"articles": 14, "projects": 12, "podcasts": 1, "discussions": 2},
    ),
    "en/2027-06-05-weekly.md": (
        210,
        "full",
        (16, 3, 0, 2),
        {"articles": 16, "projects": 3, "discussions": 2},
    ),
    "ja/2024-05-18-weekly.md": (51, "full", (2, 1, 0, 1), {}),
}
NOT_ITEM_TEXT = ("🎁", "赞赏", "support_pythoncat", "订阅", "Subscribe", "往年回顾", "上一期")


def parse(name: str) -> Issue:
    path = UNSEEN / name
    return parse_issue(path.read_bytes().decode("utf-8"), filename=str(path))


def items(issue: Issue, kind: SectionKind) -> tuple[Item, ...]:
    """The items of a section the issue must have."""
    section = issue.section(kind)
    assert section is not None, kind
    return section.items


def item(issue: Issue, kind: SectionKind, index: int) -> Item:
    return items(issue, kind)[index - 1]


def titles(issue: Issue, kind: SectionKind) -> list[str]:
    section = issue.section(kind)
    return [] if section is None else [i.title for i in section.items]


def test_every_fixture_is_listed() -> None:
    on_disk = {p.relative_to(UNSEEN).as_posix() for p in UNSEEN.rglob("*.md")}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_header_counts_and_count_line(name: str) -> None:
    number, form, expected_counts, stated = EXPECTED[name]
    issue = parse(name)
    assert (issue.number, issue.form, issue.lang) == (number, form, name.split("/")[0])
    assert issue.date is not None
    assert issue.date.isoformat() == name[3:13]
    assert counts(issue) == expected_counts
    assert dict(issue.stated_counts) == stated
    assert issue.warnings == ()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invariants_of_every_item(name: str) -> None:
    issue = parse(name)
    for section in issue.sections:
        assert [i.index for i in section.items] == list(range(1, len(section.items) + 1))
        for entry in section.items:
            assert entry.title.strip()
            assert entry.url is None or entry.url.startswith("http")
            text = f"{entry.title}\n{entry.description}"
            assert not any(word in text for word in NOT_ITEM_TEXT), (section.kind, entry.index)
            if issue.form == "summary":
                assert (entry.url, entry.description, entry.images) == (None, "", ())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_line_endings_and_final_newline_do_not_change_the_parse(name: str) -> None:
    text = (UNSEEN / name).read_bytes().decode("utf-8")
    lf = text.replace("\r\n", "\n").rstrip("\n")
    variants = [lf, lf + "\n", lf.replace("\n", "\r\n"), lf.replace("\n", "\r\n") + "\r\n"]
    parsed = [parse_issue(v, filename=str(UNSEEN / name)) for v in variants]
    assert all(p == parsed[0] for p in parsed[1:])


# --- zh full form -------------------------------------------------------------------


def test_zh_9_tags_nested_brackets_container_and_credits() -> None:
    issue = parse("zh/2023-07-01-weekly.md")
    assert issue.title == "Python潮流周刊#9：如何在 Python 中实现单例模式？"
    first, second, third, container = items(issue, "articles")
    assert (first.lang_tag, first.url) == ("(英)", "https://example.org/singleton-seven-ways")
    assert second.title == "[译] 为什么 is 比较有时会出错"
    assert (second.lang_tag, second.credit) == ("（中译）", "@译者甲")
    assert third.lang_tag == "（英文）"  # the `(中英)` in the text is not the header's tag
    assert container.flags == {"container", "no_link"}
    assert [(s.title, s.url) for s in container.sub_links] == [
        ("用 Flask 写一个短链接服务", "https://example.org/flask-shortener"),
        ("用 Tkinter 写一个番茄钟", "https://example.org/tk-pomodoro"),
    ]
    project = item(issue, "projects", 1)
    assert (project.stars, project.credit) == ((320,), "@王宇昕")


def test_zh_20_deleted_placeholder_escapes_stars_and_tip_jar() -> None:
    issue = parse("zh/2023-09-16-weekly.md")
    articles = items(issue, "articles")
    assert articles[0].credit == "@纸牌屋"
    assert articles[1].title == "在 CPython 中追踪 <genexpr> 的一生"
    assert "<genexpr>" in articles[1].description
    assert "\\<genexpr\\>" in articles[1].description_md
    assert articles[2].url is None
    assert articles[2].flags == {"deleted", "no_link"}
    assert articles[3].stars == (860,)  # a bare number, no K
    last = articles[4]
    assert last.credit == "@mine-sweeper"  # `（投稿自@[X](…)）`: the handle is a link
    assert [i.url for i in last.images] == ["https://img.pythoncat.top/2023-09-15-minesweeper.png"]
    assert "promo_stripped" in last.flags
    projects = items(issue, "projects")
    assert [p.stars for p in projects] == [(2300,), (1200,), (915,)]  # `(star 1.2K)` ASCII
    assert projects[1].credit == "@请叫我大萌萌"
    assert projects[2].images[0].url.endswith(".gif")
    assert [s.kind for s in issue.sections] == [
        "articles",
        "projects",
        "podcasts",
        "discussions",
    ]


def test_zh_30_podcast_sponsor_is_not_podcasts_and_blockquote_promo_is_dropped() -> None:
    issue = parse("zh/2023-12-09-weekly.md")
    assert titles(issue, "podcasts") == ["PyCon US 2023 全部演讲视频"]
    last = item(issue, "articles", 3)
    assert last.description == "对流传甚广的“一行提速”技巧做了复现与基准测试。"
    assert "promo_stripped" in last.flags
    assert [p.stars_as_written for p in items(issue, "projects")] == [
        ("3.4K",),
        ("1.1K",),
    ]


def test_zh_48_giveaway_rules_are_not_podcasts() -> None:
    issue = parse("zh/2024-04-27-weekly.md")
    assert titles(issue, "podcasts") == ["并发不是并行：二十分钟讲清楚"]
    assert item(issue, "podcasts", 1).description == "一个通俗的视频讲解。"
    assert item(issue, "projects", 2).stars == (2000,)
    assert any("赠书 3 本" in p for p in issue.intro)


def test_zh_49_emoji_outside_the_heading_link_and_image_only_discussion() -> None:
    issue = parse("zh/2024-05-04-weekly.md")
    assert issue.section("articles").heading.startswith("## 🦄[文章&教程](")  # type: ignore[union-attr]
    # The circled lines of the preamble's own summary are not items.
    assert titles(issue, "articles") == ["免费线程构建的现状", "用 Rust 重写，值得吗？"]
    gilstat = item(issue, "projects", 1)
    assert (gilstat.stars, gilstat.credit) == ((1500,), "@锁匠")
    image_only = item(issue, "discussions", 2)
    assert image_only.url == "https://example.org/gil-meme"
    assert image_only.description == ""
    assert [i.url for i in image_only.images] == ["https://img.pythoncat.top/2024-05-03-gil.png"]


def test_zh_53_text_after_the_image_stays_with_its_item() -> None:
    issue = parse("zh/2024-06-01-weekly.md")
    leak = item(issue, "articles", 3)
    assert leak.description.endswith("画引用图的方法。")
    assert leak.description.startswith("从 RSS 持续上涨开始")
    assert (leak.images[0].alt, leak.flags, leak.orphan_text) == ("内存曲线", frozenset(), "")
    hound = item(issue, "projects", 1)
    assert hound.stars == (780,)
    assert hound.description.endswith("它还支持输出 HTML 报告。")
    assert not hound.images[0].photo_safe  # avif
    assert "往年回顾" not in " ".join(titles(issue, "projects"))


def test_zh_62_code_spans_dunders_and_related_reading() -> None:
    issue = parse("zh/2024-07-27-weekly.md")
    assert titles(issue, "articles") == [
        "不符合常规的 __slots__ 用法",
        "functools.cache 的线程安全问题",
    ]
    slotscheck = item(issue, "projects", 1)
    assert slotscheck.title == "slotscheck：检查 __slots__ 的定义"
    assert (slotscheck.stars, slotscheck.credit) == ((12800,), "@小明")
    assert item(issue, "projects", 2).stars == (3300,)


def test_zh_107_nothing_inside_a_fence_is_a_heading_or_an_item() -> None:
    issue = parse("zh/2025-06-21-weekly.md")
    first, second = items(issue, "articles")
    assert "# 从 PostgreSQL 中提取数据到 CSV 文件" in first.description_md
    assert "2、这不是一个条目" in first.description_md
    assert first.description.endswith("文章还比较了 COPY 命令的性能。")
    assert "1. 这一行也不是条目" in second.description_md
    assert issue.title == "Python 潮流周刊#107：在代码块里藏一个标题"


# --- summaries ----------------------------------------------------------------------


def test_zh_132_summary_with_fourteen_items_and_topic_counts() -> None:
    issue = parse("zh/2025-12-20-weekly.md")
    articles = items(issue, "articles")
    assert (articles[0].title, articles[0].number_as_written) == ("shelve.py 的前世今生", "①")
    assert (articles[13].title, articles[13].number_as_written) == ("2025 年 Python 生态回顾", "⑭")
    assert articles[5].title == "深入理解 __set_name__"
    pyjson5 = item(issue, "projects", 3)
    assert pyjson5.name_and_tagline() == ("pyjson5", "支持 JSON5 的解析器")
    assert item(issue, "projects", 1).name_and_tagline() == ("minidis", "迷你的 Redis 实现")
    assert titles(issue, "discussions")[-1] == "2026 年你最期待 Python 的什么新特性？"
    assert issue.title == "Python 潮流周刊#132：shelve.py 的前世今生"


def test_zh_172_crlf_no_final_newline_trailing_spaces_and_sixteen_items() -> None:
    raw = (UNSEEN / "zh/2026-10-17-weekly.md").read_bytes()
    assert b"\r\n" in raw
    assert not raw.endswith(b"\n")
    issue = parse("zh/2026-10-17-weekly.md")
    assert issue.title == "Python 潮流周刊#172 (2026-10-17)：Python 3.16 的新特性前瞻"
    articles = items(issue, "articles")
    assert [a.number_as_written for a in articles[-2:]] == ["⑮", "⑯"]
    assert articles[-1].title == "Python 之父谈类型"  # trailing spaces gone
    assert item(issue, "projects", 2).name_and_tagline() == ("tsql", "t-string 驱动的 SQL 构建器")
    assert titles(issue, "discussions") == ["Python 3.16 你最期待哪个特性？"]


def test_en_150_chinese_h1_in_an_en_summary() -> None:
    issue = parse("en/2026-05-09-weekly.md")
    assert (issue.lang, issue.title) == ("en", "Python 潮流周刊#150：用 Python 写一个数据库")
    assert item(issue, "articles", 2).title == "用 Python 写一个数据库：B 树篇"
    assert item(issue, "articles", 14).title == "Ten Years of f-strings"
    assert item(issue, "articles", 6).title == "The Hidden Cost of isinstance"
    assert item(issue, "projects", 1).name_and_tagline() == (
        "tinydb2",
        "A document database in pure Python",
    )
    assert item(issue, "projects", 2).name_and_tagline() == ("btreelab", "可视化 B 树的教学工具")
    assert titles(issue, "podcasts") == ["PyCon US 2026 talk videos"]
    # The bare Patreon URL in the preamble is intro, never an item.
    assert any(p.startswith("https://www.patreon.com/posts/") for p in issue.intro)


# --- en full form -------------------------------------------------------------------


def test_en_30_sponsor_named_podcast_split_title_tags_and_credits() -> None:
    issue = parse("en/2023-12-09-weekly.md")
    articles = items(issue, "articles")
    assert [a.lang_tag for a in articles] == ["(English)", "(EN)", "(in English)"]
    assert articles[0].credit == "Yunyun"  # `(Shared by: Yunyun)`: no @ written
    assert "<funcname>" in articles[1].description
    assert "seasons" not in articles[2].description
    assert [p.stars for p in items(issue, "projects")] == [
        (3400,),
        (1100,),
        (860,),
    ]
    split = item(issue, "podcasts", 1)
    assert split.title == "core.py Ep 10: The GIL Is Going Away"
    assert split.url == "https://example.fm/corepy/10"
    assert titles(issue, "podcasts")[1] == "All PyCon US 2023 Talk Videos"
    assert titles(issue, "discussions") == ["Why does Python not have a do-while loop?"]


def test_en_45_book_giveaway_container_and_a7_discussion() -> None:
    issue = parse("en/2024-04-06-weekly.md")
    container = item(issue, "articles", 2)
    assert container.flags == {"container", "no_link"}
    assert [s.url for s in container.sub_links] == [
        "https://example.org/url-shortener",
        "https://example.org/md2html",
        "https://example.org/weather",
    ]
    assert not container.postable
    assert item(issue, "articles", 3).credit == "@Wang Yuxin"
    assert titles(issue, "podcasts") == ["Test & Code #210: Hypothesis in Practice"]
    discussion = item(issue, "discussions", 1)
    assert (discussion.url, discussion.flags) == (None, {"no_link"})
    assert [link.url for link in discussion.description_links] == [
        "https://www.reddit.com/r/Python/comments/example",
        "https://news.ycombinator.com/item?id=1",
    ]


def test_en_57_front_matter_linked_credit_and_github_stars() -> None:
    issue = parse("en/2024-06-22-weekly.md")
    assert issue.title == "Python Trending Weekly #57: Inside the New REPL"
    assert item(issue, "articles", 1).credit == "@luckrnx09"
    assert item(issue, "articles", 2).credit == "Yunyun"
    assert item(issue, "projects", 1).stars == (8000,)
    assert item(issue, "projects", 2).stars_as_written == ("1.9k",)
    assert issue.section("discussions").heading.startswith(  # type: ignore[union-attr]
        "## [🥂Discussion & Question]"
    )


def test_en_66_stray_backslash_in_the_h1_and_discussions_and_issues() -> None:
    issue = parse("en/2024-08-24-weekly.md")
    assert issue.title == "Python Trending Weekly #66: Python's Preprocessor"
    assert item(issue, "articles", 2).title == (
        "Writing a <funcname> Decorator That Keeps the Signature"
    )
    assert item(issue, "projects", 1).stars == (1234,)
    assert item(issue, "projects", 2).stars == (860,)
    empty = items(issue, "discussions")
    assert [d.description for d in empty] == ["", ""]
    assert empty[1].title == "Is from __future__ import annotations going away?"


def test_en_108_full_width_colon_code_span_title_and_xiaobot_image() -> None:
    issue = parse("en/2025-06-28-weekly.md")
    assert issue.title == "Python Trending Weekly #108：Unconventional Uses of __init__"
    init = item(issue, "articles", 1)
    assert init.title == "Unconventional __init__ Usage"
    assert init.images[0].url.endswith("!post")
    assert not init.images[0].photo_safe
    assert item(issue, "articles", 2).title == "A Tour of shelve.py"
    shelfie = item(issue, "projects", 2)
    assert shelfie.name_and_tagline() == ("shelfie", "基于 shelve 的键值存储")
    assert shelfie.stars == (512,)


def test_en_210_future_sixteen_items_three_digit_numbers_and_spacing() -> None:
    issue = parse("en/2027-06-05-weekly.md")
    articles = items(issue, "articles")
    assert articles[15].title == "Article number 16: notes on topic 16"
    assert articles[15].stars == (4500,)
    # `3.12 ` inside a description is a version, never a marker (A10).
    assert "version 3.12" in articles[11].description
    projects = items(issue, "projects")
    assert [p.number_as_written for p in projects] == ["100", "101", "102"]
    assert [p.index for p in projects] == [1, 2, 3]
    assert [p.stars for p in projects] == [(10000,), (11000,), (12000,)]
    typo = item(issue, "discussions", 2)
    assert (typo.description, typo.images[0].url[-8:]) == ("", "typo.svg")


def test_ja_full_width_ampersand_sections() -> None:
    issue = parse("ja/2024-05-18-weekly.md")
    assert item(issue, "projects", 1).stars == (1200,)
    assert item(issue, "discussions", 1).title == "型ヒントは読みやすさを損なうか？"
    assert issue.intro[0].startswith("この記事は")  # the blockquote marker is not text


# --- small future variants, each on its own --------------------------------------


def test_heading_with_no_space_after_the_hashes() -> None:
    issue = parse_issue(zh_issue("##🦄文章&教程\n\n1、[a](https://example.com/a)\n"))
    assert titles(issue, "articles") == ["a"]


def test_bold_only_emoji_heading_without_a_link() -> None:
    body = (
        "**🦄文章&教程**\n\n① 标题一\n\n② 标题二\n\n"
        "**🐿️项目&资源**\n\n① kite：风筝\n\n"
        "**🎁 本期福利**\n\n③ 这不是标题\n"
    )
    issue = parse_issue(zh_issue(body, title="Python 潮流周刊#300：测试"))
    assert counts(issue) == (2, 2, 0, 0)  # a 🎁 bold line is no heading: ③ stays a project


def test_number_glued_dot_marker() -> None:
    issue = parse_issue(
        en_issue("## 🦄Articles & Tutorials\n\n1.[a](https://e.com/a)\n\n3.12 is out.\n")
    )
    only = item(issue, "articles", 1)
    assert (only.title, only.description) == ("a", "3.12 is out.")


@pytest.mark.parametrize(
    ("h1", "number", "title"),
    [
        ("# Python 潮流周刊第 160 期：测试", 160, "Python 潮流周刊第 160 期：测试"),
        ("# Python Trending Weekly Issue 161: Test", 161, "Python Trending Weekly Issue 161: Test"),
        ("# Python Trending Weekly #162: C# for Pythonistas ##", 162, None),
    ],
)
def test_number_variants_in_an_h1(h1: str, number: int, title: str | None) -> None:
    issue = parse_issue(f"{h1}\n\n## 🦄文章&教程\n\n1、[a](https://e.com/a)\n")
    assert issue.number == number
    assert issue.title == (title or "Python Trending Weekly #162: C# for Pythonistas")


def test_a_season_collection_titled_with_an_issue_range_is_still_rejected() -> None:
    with pytest.raises(NotAnIssue):
        parse_issue(
            "# Python Trending Weekly Season 1 (Issue 1~30)\n\n"
            "## 🦄Articles & Tutorials\n\n1、[a](https://e.com/a)\n"
        )


@pytest.mark.parametrize(
    ("line", "kind", "n"),
    [
        (
            "This issue features 12 articles, 11 open-source projects, 2 audio/video pieces.",
            "podcasts",
            2,
        ),
        (
            "This week I'm sharing 12 articles, 12 projects, and 3 trending discussions.",
            "discussions",
            3,
        ),
        ("分享了 12 篇文章，12 个开源项目，2 个热门讨论", "discussions", 2),
        ("本期分享了 12 篇文章，12 个开源项目，1 则播客", "podcasts", 1),
    ],
)
def test_count_line_variants(line: str, kind: str, n: int) -> None:
    issue = parse_issue(
        f"# Python Trending Weekly #300\n\n{line}\n\n## 🦄Articles\n\n1、[a](https://e.com)\n"
    )
    assert dict(issue.stated_counts)[kind] == n


# --- the CLI contract on every fixture and on junk ---------------------------------

TOP_KEYS = {
    "number",
    "date",
    "lang",
    "form",
    "title",
    "sections",
    "intro",
    "stated_counts",
    "warnings",
    "full_text_url",
}
ITEM_KEYS = {
    "index",
    "number_as_written",
    "title",
    "url",
    "lang_tag",
    "description",
    "description_md",
    "images",
    "stars",
    "stars_as_written",
    "credit",
    "sub_links",
    "description_links",
    "orphan_text",
    "flags",
}


def run(path: Path | str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_parse(str(path), as_json=True, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def assert_refusal_output(code: int, out: str) -> dict[str, str]:
    """`--json` on a refused file: one JSON object naming the error when it is not an
    issue (exit 1), nothing on stdout when the file cannot be read at all."""
    if code != EXIT_NOT_AN_ISSUE:
        assert out == ""
        return {}
    assert out.count("\n") == 1
    data: dict[str, str] = json.loads(out)
    assert data["error"] == "not an issue"
    return data


def run_on(tmp_path: Path, content: bytes) -> tuple[int, str, str]:
    """Run the CLI on `content` saved under an issue's file name."""
    path = tmp_path / "2031-05-03-weekly.md"
    path.write_bytes(content)
    return run(path)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_prints_exactly_one_json_object(name: str) -> None:
    code, out, err = run(UNSEEN / name)
    assert (code, err) == (EXIT_OK, "")
    assert out.endswith("\n")
    assert out.count("\n") == 1
    data = json.loads(out)
    assert set(data) == TOP_KEYS
    number, form, expected_counts, _ = EXPECTED[name]
    assert (data["number"], data["form"]) == (number, form)
    assert [len(s["items"]) for s in data["sections"]] == [n for n in expected_counts if n]
    for section in data["sections"]:
        assert set(section) == {"kind", "heading", "items"}
        for entry in section["items"]:
            assert set(entry) == ITEM_KEYS
            assert all(isinstance(s, int) for s in entry["stars"])


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", EXIT_NOT_AN_ISSUE),
        (b"\n\n   \n", EXIT_NOT_AN_ISSUE),
        (b"\x00\x01\x02 hello \x00", EXIT_NOT_AN_ISSUE),
        (bytes(range(256)) * 64, EXIT_UNREADABLE),
        (b"\xef\xbb\xbf# README\n\nJust a readme.\n", EXIT_NOT_AN_ISSUE),
        (b"# Python Weekly #1\n\n\xc3\x28 broken", EXIT_UNREADABLE),
    ],
)
def test_cli_exit_codes_on_junk(tmp_path: Path, content: bytes, code: int) -> None:
    got, out, err = run_on(tmp_path, content)
    assert got == code
    assert_refusal_output(got, out)
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_cli_directory_and_missing_path(tmp_path: Path) -> None:
    for path in (tmp_path, tmp_path / "missing.md"):
        code, out, err = run(path)
        assert (code, out) == (EXIT_UNREADABLE, "")
        assert err.count("\n") == 1


def test_cli_huge_file_is_refused_as_a_collection(tmp_path: Path) -> None:
    entry = "{n}、[t{n}](https://e.com/{n})\n\n" + "描述" * 100 + "\n\n"
    body = "".join(entry.format(n=n % 30 + 1) for n in range(20_000))
    text = f"# Python 潮流周刊#1：x\n\n## 🦄文章&教程\n\n{body}"
    code, out, err = run_on(tmp_path, text.encode())
    assert code == EXIT_NOT_AN_ISSUE
    assert "too many" in assert_refusal_output(code, out)["reason"]
    assert "too many" in err
    assert err.count("\n") == 1


def test_cli_pathological_brackets_do_not_crash(tmp_path: Path) -> None:
    header = "# Python 潮流周刊#1：x\n\n## 🦄文章&教程\n\n1、"
    text = header + "[" * 20_000 + "x" + "]" * 20_000 + "(https://e.com)\n"
    code, out, _ = run_on(tmp_path, text.encode())
    assert code == EXIT_OK
    assert len(json.loads(out)["sections"][0]["items"]) == 1


def test_a_new_emoji_keeps_a_full_section_name_but_not_a_sponsor_word() -> None:
    projects = parse_issue(zh_issue("## 🐍项目&资源\n\n1、[a](https://e.com/a)\n"))
    assert titles(projects, "projects") == ["a"]
    sponsor = parse_issue(
        zh_issue(
            "## 🦄文章&教程\n\n1、[a](https://e.com/a)\n\n## 🎙️播客推荐\n\n1、[b](https://e.com/b)\n"
        )
    )
    assert counts(sponsor) == (1, 0, 0, 0)


def test_thematic_break_and_html_comment_are_not_description() -> None:
    body = (
        "## 🦄文章&教程\n\n1、[a](https://e.com/a)\n\n描述。\n\n---\n\n结尾的话。\n\n"
        "## 🐿️项目&资源\n\n1、**[b](https://e.com/b)**\n\n描述（⭐ 1.2K）\n\n<!-- more -->\n"
    )
    issue = parse_issue(zh_issue(body))
    assert item(issue, "articles", 1).description == "描述。"
    project = item(issue, "projects", 1)
    assert (project.title, project.description, project.stars) == ("b", "描述（⭐ 1.2K）", (1200,))


def test_full_width_space_after_the_hashes_and_a_long_front_matter() -> None:
    keys = "".join(f"tag{i}: python\n" for i in range(60))
    text = (
        f"---\n{keys}title: 'Python 潮流周刊#301：长头部'\n---\n\n"
        "##\u3000🦄文章&教程\n\n1、[a](https://e.com/a)\n"
    )
    issue = parse_issue(text)
    assert (issue.number, titles(issue, "articles")) == (301, ["a"])


def test_an_inline_numbered_list_of_links_is_not_a_glued_entry() -> None:
    body = (
        "## 🐢播客&视频\n\n1、[core.py 播客](https://e.com/corepy)\n\n"
        "已推出两期节目：1、[核心开发者 Sprint](https://e.com/1) 2、[PEP-703：移除 GIL](https://e.com/2)\n\n"
        "![](https://img.pythoncat.top/a.png)2、[另一期](https://e.com/x)\n"
    )
    first, second = parse_issue(zh_issue(body)).sections[0].items
    assert first.description == "已推出两期节目：1、核心开发者 Sprint 2、PEP-703：移除 GIL"
    assert [link.url for link in first.description_links] == ["https://e.com/1", "https://e.com/2"]
    assert (second.title, second.flags) == ("另一期", {"glued"})


def test_text_after_the_header_link_opens_the_description() -> None:
    body = (
        "## 🦄Articles & Tutorials\n\n"
        "1、[kite](https://e.com/k) (EN): a kite library. (1.2k stars)\n\nMore text.\n\n"
        "2、[b](https://e.com/b)(English)\n\nB. (star 3k)\n"
    )
    first, second = parse_issue(en_issue(body)).sections[0].items
    assert (first.lang_tag, first.stars) == ("(EN)", (1200,))
    assert first.description == "a kite library. (1.2k stars)\n\nMore text."
    assert (second.lang_tag, second.description, second.stars) == (
        "(English)",
        "B. (star 3k)",
        (3000,),
    )
