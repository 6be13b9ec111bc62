"""One test per anomaly A1–A26 of FORMAT.md §4, each on a small sample written here."""

from __future__ import annotations

import pytest

from bot.domain.issue import Image, Item, NotAnIssue
from bot.domain.parser import parse_issue
from tests.parser_support import FIXTURES, counts, en_issue, zh_issue


def test_a01_item_glued_to_an_image_line_is_split() -> None:
    text = zh_issue(
        "## 🐿️项目&资源\n\n"
        "1、[kite：风筝](https://github.com/example/kite)\n\n"
        "放风筝的库。\n\n"
        "![](https://img.pythoncat.top/kite.png)2、[pebble：石头](https://github.com/example/pebble)\n\n"
        "鹅卵石。（star 1.8K）\n"
    )
    projects = parse_issue(text).sections[0].items
    assert [i.title for i in projects] == ["kite：风筝", "pebble：石头"]
    assert projects[0].images == (Image("https://img.pythoncat.top/kite.png"),)
    assert projects[1].flags == {"glued"}
    assert projects[1].stars == (1800,)


def test_a02_numbering_gap_and_duplicate_keep_position() -> None:
    body = "## 🐿️项目&资源\n\n" + "\n\n".join(
        f"{n}、[p{i}](https://example.com/{i})" for i, n in enumerate(["1", "2", "2", "4"], 1)
    )
    items = parse_issue(zh_issue(body)).sections[0].items
    assert [i.index for i in items] == [1, 2, 3, 4]
    assert [i.number_as_written for i in items] == ["1", "2", "2", "4"]


def test_a03_paragraph_that_lost_its_header_is_flagged_not_merged() -> None:
    text = en_issue(
        "## 🐿️Projects & Resources\n\n"
        "2. [two](https://example.com/2)\n\nTwo.\n\n"
        "3. [three](https://example.com/3)\n\nThree. (1.6k stars)\n\n"
        "![three](https://img.pythoncat.top/three.png)\n\n"
        "A description whose header was lost. (4.4k stars)\n\n"
        "5. [five](https://example.com/5)\n\nFive.\n"
    )
    items = parse_issue(text).sections[0].items
    assert len(items) == 3
    three = items[1]
    assert "orphan" in three.flags
    assert three.orphan_text == "A description whose header was lost. (4.4k stars)"
    assert "lost" not in three.description
    assert three.stars == (1600,)
    assert any("orphan" in w for w in parse_issue(text).warnings)


def test_a04_title_without_brackets_takes_text_before_the_url() -> None:
    text = en_issue(
        "## 🐿️Projects & Resources\n\n"
        "7. Unwoven: open source looms [https://github.com/example/unwoven](https://github.com/example/unwoven)\n\n"
        "Weaves things. (4.2k stars)\n"
    )
    (item,) = parse_issue(text).sections[0].items
    assert item.title == "Unwoven: open source looms"
    assert item.url == "https://github.com/example/unwoven"
    assert item.stars == (4200,)


@pytest.mark.parametrize(
    "header", ["10、内容删除", "3、原推荐文章因故已删", "10. Content deleted."]
)
def test_a05_deleted_placeholder_is_kept_and_never_postable(header: str) -> None:
    text = zh_issue(f"## 🦄文章&教程\n\n1、[a](https://example.com/a)\n\n{header}\n")
    item = parse_issue(text).sections[0].items[1]
    assert item.flags == {"deleted", "no_link"}
    assert item.url is None
    assert not item.postable


def test_a06_container_entry_offers_its_bullet_links() -> None:
    text = zh_issue(
        "## 🦄文章&教程\n\n"
        "12、三则关于风筝的新闻（英文）\n\n"
        "本周风筝界很热闹。\n\n"
        "- 1.2，风筝节[宣布延期](https://example.com/n1)，原因是没风。\n"
        "- 1.3，[新的线轴标准](https://example.com/n2)发布（这有[一篇评论](https://example.com/c)）\n"
    )
    (item,) = parse_issue(text).sections[0].items
    assert item.flags == {"container", "no_link"}
    assert item.title == "三则关于风筝的新闻"
    assert item.lang_tag == "（英文）"
    assert [link.url for link in item.sub_links] == [
        "https://example.com/n1",
        "https://example.com/n2",
    ]
    assert item.sub_links[0].title == "1.2，风筝节宣布延期，原因是没风。"
    assert not item.postable


def test_a07_header_without_link_keeps_description_links_as_fallback() -> None:
    text = en_issue(
        "## 🥂Discussion & Questions\n\n"
        "2. Three Popular Threads About Kites\n\n"
        "Recent posts: [Why kites?](https://example.com/t/1), [How long a string?](https://example.com/t/2)\n"
    )
    (item,) = parse_issue(text).sections[0].items
    assert item.url is None
    assert item.flags == {"no_link"}
    assert item.description_links[0].url == "https://example.com/t/1"


def test_a08_title_split_over_two_links_is_joined() -> None:
    text = zh_issue(
        "## 🐢播客&视频\n\n"
        "1、[core.py](http://core.py/)[ Ep 10：聊 REPL](https://example.com/ep10)\n\n"
        "2、[pybites：](https://example.com/r)[定期重构的重要性](https://example.com/r) (英)\n"
    )
    first, second = parse_issue(text).sections[0].items
    assert first.title == "core.py Ep 10：聊 REPL"
    assert first.url == "https://example.com/ep10"
    assert second.title == "pybites：定期重构的重要性"
    assert second.lang_tag == "(英)"


def test_a09_nested_brackets_and_parentheses_in_url() -> None:
    text = zh_issue(
        "## 🦄文章&教程\n\n"
        "1、[[吐槽] 风筝线真是太难缠了！](https://example.com/t/1) （英文）\n\n"
        "2、[如何（以及如何不）设计 API](https://example.com/How-to-(and-how-not-to)-design)\n"
    )
    first, second = parse_issue(text).sections[0].items
    assert first.title == "[吐槽] 风筝线真是太难缠了！"
    assert first.url == "https://example.com/t/1"
    assert first.lang_tag == "（英文）"
    assert second.url == "https://example.com/How-to-(and-how-not-to)-design"


def test_a10_version_number_at_line_start_is_not_a_marker() -> None:
    text = zh_issue(
        "## 🦄文章&教程\n\n"
        "1、[新版本](https://example.com/a)\n\n"
        "3.12 版本带来了很多变化。\n\n"
        "2.7 已经停止维护。\n"
    )
    (item,) = parse_issue(text).sections[0].items
    assert "3.12 版本" in item.description


def test_a11_nothing_is_parsed_inside_a_fence() -> None:
    text = en_issue(
        "## 🦄Articles & Tutorials\n\n"
        "1. [Export to CSV](https://example.com/csv)\n\n"
        "```python\n# Extract data from PostgreSQL\n2. not an entry\n## not a heading\n"
        ">>> export()\n```\n\n"
        "2. [Second](https://example.com/2)\n"
    )
    issue = parse_issue(text)
    assert counts(issue) == (2, 0, 0, 0)
    assert "# Extract data from PostgreSQL" in issue.sections[0].items[0].description_md


def test_a12_promo_tip_jar_and_banner_never_join_the_last_item() -> None:
    issue = parse_issue((FIXTURES / "2031-01-04-weekly.md").read_text(encoding="utf-8"))
    for _, item in issue.items():
        for text in (item.description, item.description_md, item.title):
            for word in ("🎁", "赞赏", "support_pythoncat", "banner"):
                assert word not in text
    last_article = issue.sections[0].items[-1]
    assert "promo_stripped" in last_article.flags
    assert last_article.images == ()


def test_a13_book_giveaway_and_sponsor_podcast_are_not_podcasts() -> None:
    text = zh_issue(
        "## 🐱播客推荐\n\n1、[赞助的播客](https://example.com/sponsor)\n\n"
        "## 🦄文章&教程\n\n1、[a](https://example.com/a)\n\n"
        "## 🐢赠书福利\n\n1、[赠书](https://example.com/book)\n\n"
        "## 🐢播客&视频\n\n1、[真正的播客](https://example.com/pod)\n"
    )
    issue = parse_issue(text)
    assert [s.kind for s in issue.sections] == ["articles", "podcasts"]
    assert issue.sections[1].items[0].url == "https://example.com/pod"


def test_a14_bare_link_line_is_a_heading() -> None:
    text = en_issue(
        "[🦄Articles & Tutorials](https://weekly.pythoncat.top)\n\n"
        "1、[a](https://example.com/a)\n\n"
        "[🐿️Projects & Resources](https://weekly.pythoncat.top)\n\n"
        "1、[p](https://example.com/p)\n\n"
        "[🐧 Past Reviews](https://weekly.pythoncat.top)\n\n"
        "[Weekly#56: an old one](https://example.com/56)\n"
    )
    assert counts(parse_issue(text)) == (1, 1, 0, 0)


def test_a15_bold_inside_a_heading_link_is_ignored() -> None:
    text = en_issue(
        "## [**🥂Discussions & Questions**](https://xiaobot.net/p/python_weekly)\n\n"
        "1、[d](https://example.com/d)\n"
    )
    issue = parse_issue(text)
    assert [s.kind for s in issue.sections] == ["discussions"]


@pytest.mark.parametrize(
    "header",
    [
        "---\ntitle: 'Python 潮流周刊#104：标题'\npubDate: 2031-03-01\nauthor: '猫'\n---",
        '---\ntitle: "Python 潮流周刊#104：标题"\npubDate: 2031-03-01\n---',
        "# Python 潮流周刊#104：标题",
    ],
)
def test_a16_front_matter_or_h1_both_work(header: str) -> None:
    issue = parse_issue(f"{header}\n\n## 🦄文章&教程\n\n1、[a](https://example.com/a)\n")
    assert issue.number == 104
    assert issue.title == "Python 潮流周刊#104：标题"


@pytest.mark.parametrize(
    ("h1", "number"),
    [
        ("Python Weekly #72: A Release", 72),
        ("Python Trending Weekly 40 (2024-03-02)", 40),
        ("Python Trending Weekly #93: another issue's subtitle", 93),
        ("Python Trending Weekly #108：full-width colon", 108),
    ],
)
def test_a17_number_comes_from_the_files_own_title(h1: str, number: int) -> None:
    issue = parse_issue(en_issue("## 🦄Articles & Tutorials\n\n1. [a](https://e.com/a)", title=h1))
    assert issue.number == number


def test_a18_en_file_with_chinese_h1_is_still_english() -> None:
    body = "## 🦄Articles & Tutorials\n\n1. [Objects and types](https://example.com/a)\n\n" + (
        "A long English description of the article and what it explains in detail.\n" * 5
    )
    text = en_issue(body, title="Python 潮流周刊#148：用大模型寻找 Python C 扩展漏洞")
    assert parse_issue(text).lang == "en"
    assert parse_issue(text, filename="docs/en/2031-03-01-weekly.md").lang == "en"
    assert parse_issue(text, filename="docs/zh/2031-03-01-weekly.md").lang == "zh"
    assert parse_issue(text, lang="ja").lang == "ja"


def test_a19_crlf_and_missing_final_newline() -> None:
    lf = zh_issue("## 🦄文章&教程\n\n1、[a](https://example.com/a)\n\n描述。").rstrip("\n")
    crlf = lf.replace("\n", "\r\n")
    assert parse_issue(crlf) == parse_issue(lf) == parse_issue(lf + "\n")
    assert parse_issue(crlf).sections[0].items[0].description == "描述。"


def test_a20_discussion_without_description() -> None:
    text = zh_issue(
        "## 🥂讨论&问题\n\n1、[第一问](https://example.com/q1)\n\n2、[第二问](https://example.com/q2)\n"
    )
    items = parse_issue(text).sections[0].items
    assert [i.description for i in items] == ["", ""]
    assert all(i.postable for i in items)


def test_a21_special_issue_has_no_content_sections() -> None:
    text = (
        "---\ntitle: 'Python 潮流周刊#55：分享 3 个信息源'\npubDate: 2024-06-10\n---\n\n"
        "## 1、Awesome Kite Weekly\n\n[Kites](https://example.com/kites)\n\n"
        "## 2、String Theory News\n\n1、[not a content item](https://example.com/s)\n"
    )
    issue = parse_issue(text)
    assert issue.form == "special"
    assert issue.sections == ()
    assert issue.number == 55


def test_a22_count_line_is_a_warning_not_the_truth() -> None:
    body = "分享了 2 篇文章，1 个开源项目\n\n**[🦄文章&教程](https://weekly.pythoncat.top)**\n\n"
    body += "\n\n".join(f"{c} 标题{c}" for c in "①②③")
    body += "\n\n**[🐿️项目&资源](https://weekly.pythoncat.top)**\n\n① 项目"
    issue = parse_issue(zh_issue(body))
    assert counts(issue) == (3, 1, 0, 0)
    assert issue.form == "summary"
    assert dict(issue.stated_counts) == {"articles": 2, "projects": 1}
    assert issue.warnings == ("count line says 2 articles, found 3",)


def test_a23_en_without_images_and_links_still_matches_by_position_and_url() -> None:
    zh = parse_issue((FIXTURES / "2031-01-04-weekly.md").read_text(encoding="utf-8"))
    en = parse_issue((FIXTURES / "2031-01-04-weekly.en.md").read_text(encoding="utf-8"))
    assert counts(zh) == counts(en)
    assert [i.url for _, i in zh.items()] == [i.url for _, i in en.items()]
    zh_two = zh.sections[0].items[1]
    en_two = en.sections[0].items[1]
    assert zh_two.description_links != ()
    assert en_two.title != zh_two.title


def test_a24_collections_are_rejected_on_content() -> None:
    fixture = (FIXTURES / "2031-02-01-sweekly.md").read_text(encoding="utf-8")
    with pytest.raises(NotAnIssue, match="collection"):
        parse_issue(fixture, filename="docs/2031-02-01-weekly.md")
    with_number = fixture.replace("第9季（241~270）精华合集", "#241")
    with pytest.raises(NotAnIssue, match="below H2"):
        parse_issue(with_number, filename="docs/2031-02-01-weekly.md")
    many = zh_issue(
        "## 🦄文章&教程\n\n" + "\n\n".join(f"{n}、[t{n}](https://e.com/{n})" for n in range(1, 80))
    )
    with pytest.raises(NotAnIssue, match="too many"):
        parse_issue(many)


def test_a25_untranslated_project_title_splits_on_full_width_colon() -> None:
    text = en_issue("## 🐿️Projects & Resources\n\n1、[kite-lint：给风筝写的检查器](https://e.com/k)")
    (item,) = parse_issue(text).sections[0].items
    assert item.title == "kite-lint：给风筝写的检查器"
    assert item.name_and_tagline() == ("kite-lint", "给风筝写的检查器")
    assert Item(1, "1", "pebble: a database", None).name_and_tagline() == ("pebble", "a database")


def test_a26_images_telegram_may_reject_are_kept_and_marked() -> None:
    urls = [
        "https://img.pythoncat.top/diagram.svg",
        "https://img.pythoncat.top/shot.avif",
        "https://r2.pythoncat.top/no-extension",
        "https://static.xiaobot.net/file/2031/abc.png!post",
        "https://img.pythoncat.top/ok.PNG",
    ]
    lines = "\n\n".join(f"![]({u})" for u in urls)
    text = zh_issue(f"## 🐿️项目&资源\n\n1、[p](https://e.com/p)\n\n描述。\n\n{lines}")
    (item,) = parse_issue(text).sections[0].items
    assert [i.url for i in item.images] == urls
    assert [i.photo_safe for i in item.images] == [False, False, False, False, True]
