"""Field invariants over the whole corpus, the zh/en/ja files of an issue as each
other's oracle, and one regression sample per field bug that oracle turned up.

The en and ja files translate the zh file, so an item with the same header URL must
carry the same star counts, a credit on both sides or on neither, and a description
on both sides or on neither. Where the translation really dropped something
(FORMAT.md A3, A23) the URLs no longer pair, so nothing is excused by hand.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.domain.issue import Issue, Item
from bot.domain.parser import parse_issue, strip_annotations
from tests.parser_support import WEEKLY, en_issue, zh_issue

_ISSUE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}-weekly\.md$")
_ESCAPE = re.compile(r"\\[!-/:-@\[-`{-~]")  # a CommonMark backslash escape
_FENCE_LINE = re.compile(r"^[ \t]{0,3}(```|~~~)", re.MULTILINE)
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
# Bold that was not rendered; a lone `**kwargs` is text, escaped in the source or not.
_BOLD = re.compile(r"\*\*[^*\s][^*]*\*\*")


@functools.cache
def _corpus() -> tuple[tuple[Path, Issue], ...]:
    paths = [
        path
        for folder in ("zh", "en", "ja", "history/zh", "history/en")
        for path in sorted((WEEKLY / folder).glob("*.md"))
        if _ISSUE_NAME.match(path.name)
    ]
    return tuple(
        (path, parse_issue(path.read_text(encoding="utf-8"), filename=str(path))) for path in paths
    )


def corpus() -> tuple[tuple[Path, Issue], ...]:
    if not WEEKLY.is_dir():
        pytest.skip(f"shared corpus not found at {WEEKLY}: corpus cross-checks skipped")
    return _corpus()


def corpus_items() -> Iterator[tuple[str, Item]]:
    for path, issue in corpus():
        for section in issue.sections:
            for item in section.items:
                yield f"{path.parent.name}/{path.name} {section.kind} {item.index}", item


def _star_value(written: str) -> int:
    number = written.replace(",", "").rstrip("+")
    if number[-1] in "kK":
        return round(float(number[:-1]) * 1000)
    return round(float(number))


# --- invariants over every corpus item ------------------------------------------------


def _leftover_markdown(text: str) -> bool:
    markup = "](" in text or "![" in text or _ESCAPE.search(text) or _BOLD.search(text)
    return bool(markup or _FENCE_LINE.search(text))


def test_plain_descriptions_hold_no_markdown() -> None:
    bad = [
        where
        for where, item in corpus_items()
        if _leftover_markdown(item.description)
        or item.description != item.description.strip()
        or _TRAILING_SPACE.search(item.description)
    ]
    assert bad == []


def test_titles_are_stripped_plain_text() -> None:
    bad = [
        where
        for where, item in corpus_items()
        if not item.title
        or item.title != item.title.strip()
        or "  " in item.title
        or "](" in item.title
        or _BOLD.search(item.title)
        or _ESCAPE.search(item.title)
    ]
    assert bad == []


def test_every_url_is_http() -> None:
    bad = []
    for where, item in corpus_items():
        urls = [image.url for image in item.images] + [link.url for link in item.sub_links]
        if item.url is not None:
            urls.append(item.url)
        bad.extend(f"{where}: {url}" for url in urls if not url.startswith(("http://", "https://")))
    assert bad == []


def test_stars_are_the_written_counts() -> None:
    for where, item in corpus_items():
        assert item.stars == tuple(_star_value(s) for s in item.stars_as_written), where


def test_credits_keep_the_at_sign_the_source_writes() -> None:
    credits = [(where, item) for where, item in corpus_items() if item.credit]
    assert credits, "the corpus has credits"
    for where, item in credits:
        assert item.credit is not None
        written_with_at = f"@{item.credit.lstrip('@')}" in item.description_md
        assert item.credit.startswith("@") or not written_with_at, where


def test_description_markdown_keeps_what_the_plain_text_drops() -> None:
    for where, item in corpus_items():
        assert len(item.images) == item.description_md.count("!["), where
        assert not _TRAILING_SPACE.search(item.description_md), where
        for link in item.description_links:
            assert link.url in item.description_md or link.url == item.url, where


# --- zh ↔ en ↔ ja -----------------------------------------------------------------------


_ITEM_FLAGS = frozenset({"deleted", "container", "no_link"})


def _by_url(issue: Issue) -> dict[str, Item]:
    """Items keyed by header URL; a URL given twice in one issue pairs nothing."""
    seen: dict[str, list[Item]] = {}
    for _, item in issue.items():
        if item.url:
            seen.setdefault(item.url, []).append(item)
    return {url: items[0] for url, items in seen.items() if len(items) == 1}


def language_pairs() -> Iterator[tuple[str, Issue, Issue]]:
    issues = {(str(path.parent.relative_to(WEEKLY)), path.name): issue for path, issue in corpus()}
    for (lang, name), zh in issues.items():
        if lang != "zh":
            continue
        for other in ("en", "ja"):
            if (other, name) in issues:
                yield f"{other}/{name}", zh, issues[(other, name)]


def test_translations_have_the_same_sections_and_full_form() -> None:
    pairs = list(language_pairs())
    assert len(pairs) >= 30
    for where, zh, other in pairs:
        assert [s.kind for s in zh.sections] == [s.kind for s in other.sections], where
        assert zh.form == other.form, where
        assert zh.date == other.date, where


def test_items_with_the_same_url_agree_across_languages() -> None:
    paired = 0
    disagreements = []
    for where, zh, other in language_pairs():
        theirs = _by_url(other)
        for url, mine in _by_url(zh).items():
            if url not in theirs:
                continue
            paired += 1
            them = theirs[url]
            if mine.stars != them.stars:
                disagreements.append(f"{where} {url}: stars {mine.stars} vs {them.stars}")
            if (mine.credit is None) != (them.credit is None):
                disagreements.append(f"{where} {url}: credit {mine.credit} vs {them.credit}")
            if bool(mine.description) != bool(them.description):
                disagreements.append(f"{where} {url}: one description is empty")
            # glued (A1), orphan (A3) and promo_stripped describe the file, not the item.
            if mine.flags & _ITEM_FLAGS != them.flags & _ITEM_FLAGS:
                disagreements.append(f"{where} {url}: flags {mine.flags} vs {them.flags}")
            if [s.url for s in mine.sub_links] != [s.url for s in them.sub_links]:
                disagreements.append(f"{where} {url}: sub-links differ")
    assert paired > 600
    assert disagreements == []


def test_translations_drop_images_but_never_add_them() -> None:
    """A23: en loses images; an en item with more images than zh was mis-split."""
    for where, zh, other in language_pairs():
        theirs = _by_url(other)
        for url, mine in _by_url(zh).items():
            if url in theirs:
                assert len(theirs[url].images) <= len(mine.images), f"{where} {url}"


# --- regressions, on samples written for these tests -----------------------------------


def _one(body: str, *, en: bool = False) -> Item:
    heading = "## 🦄Articles & Tutorials" if en else "## 🦄文章&教程"
    text = (en_issue if en else zh_issue)(f"{heading}\n\n{body}\n")
    (section,) = parse_issue(text).sections
    (item,) = section.items
    return item


def test_fence_lines_stay_out_of_the_plain_description() -> None:
    item = _one(
        "1、[用 itertools 写管道](https://example.com/pipes)\n\n"
        "一个小例子：\n\n```python\n>>> from itertools import chain\n# 拼接两个列表\n```\n\n"
        "效果很不错。"
    )
    assert item.description == (
        "一个小例子：\n\n>>> from itertools import chain\n# 拼接两个列表\n\n效果很不错。"
    )
    assert "```python" in item.description_md


@pytest.mark.parametrize(
    ("body", "en", "credit"),
    [
        ("一个好用的库。（来自@蜗牛）", False, "@蜗牛"),
        ("A handy library. (From @snail)", True, "@snail"),
        ("A handy library. (via @snail)", True, "@snail"),
        ("A handy library (from the official docs).", True, None),
    ],
)
def test_from_and_via_a_handle_are_credits(body: str, en: bool, credit: str | None) -> None:
    item = _one(f"1、[snail：一个库](https://example.com/snail)\n\n{body}", en=en)
    assert item.credit == credit


def test_praise_in_a_description_is_not_a_tip_jar() -> None:
    praised = _one(
        "1、[模式匹配的十个用法](https://example.com/match)\n\n"
        "作者对新语法的设计深表赞赏，并给出了十个例子。"
    )
    assert praised.description == "作者对新语法的设计深表赞赏，并给出了十个例子。"
    assert "promo_stripped" not in praised.flags

    tipped = _one(
        "1、[模式匹配的十个用法](https://example.com/match)\n\n"
        "给出了十个例子。\n\n如果你觉得周刊有帮助，欢迎赞赏猫哥~~"
    )
    assert tipped.description == "给出了十个例子。"
    assert "promo_stripped" in tipped.flags


@pytest.mark.parametrize(
    ("body", "en", "written", "stars"),
    [
        ("一个热门的库。（star 10K+）", False, ("10K+",), (10000,)),
        ("A popular library. (10k+ stars)", True, ("10k+",), (10000,)),
        ("A popular library. (GitHub stars: 3.4k)", True, ("3.4k",), (3400,)),
        ("A popular library. (1.2K stars on GitHub)", True, ("1.2K",), (1200,)),
    ],
)
def test_star_count_variants(
    body: str, en: bool, written: tuple[str, ...], stars: tuple[int, ...]
) -> None:
    item = _one(f"1、[hive：一个库](https://example.com/hive)\n\n{body}", en=en)
    assert (item.stars_as_written, item.stars) == (written, stars)
    assert strip_annotations(item.description) == body.rsplit(" (", 1)[0].split("（")[0]
