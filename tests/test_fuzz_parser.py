"""Fuzzing the parser with mutated issues: any text is a parsed issue or `NotAnIssue`.

The seeds are the project's own samples (`bot/samples`) and a small issue written
here; the mutations are what editors' files and copy-paste do to Markdown: lines
deleted, duplicated or swapped, brackets and CJK punctuation dropped in, huge lines,
NULs, CRLF, a BOM, a file cut short.
"""

from __future__ import annotations

from importlib import resources

from hypothesis import example, given
from hypothesis import strategies as st

from bot.domain.issue import Issue, NotAnIssue
from bot.domain.parser import pair_summary_full, parse_issue
from tests.fuzz_support import FUZZ, HOSTILE_PIECES

OWN_SAMPLE = """---
title: 'Python 潮流周刊#977：模糊测试'
pubDate: 2031-05-03
---

本期分享了 2 篇文章，1 个开源项目。

## 🦄文章&教程

1、[Hypothesis 入门](https://example.com/hypothesis)

用属性测试找出边界情况。（star 1.2K）

2、[解析 Markdown 的陷阱](https://example.com/markdown_(pitfalls))

![](https://img.example.com/md.png)

## 🐿️项目&资源

1、[fuzzkit：把样例变成变体](https://github.com/example/fuzzkit)

一个小工具。(Shared by: @someone)
"""


def _samples() -> list[tuple[str, str]]:
    found = [("own.md", OWN_SAMPLE)]
    root = resources.files("bot") / "samples"
    for lang in ("zh", "en"):
        for entry in sorted((root / lang).iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".md"):
                found.append((f"{lang}/{entry.name}", entry.read_text(encoding="utf-8")))
    return found


SAMPLES = _samples()
HUGE = "9" * 5000  # past the 4,300 digits int() converts
INSERTS = [
    *HOSTILE_PIECES,
    *("## ", "### ", "# ", "---\n", "1、", "① ", "![](", "- ", "> "),
    *(
        f"（star {HUGE}）",
        f"({HUGE}K stars)",
        f"本期分享了 {HUGE} 篇文章，",
        f"#{HUGE}",
        f"{HUGE}、",
    ),
]
ZH_HEAD = "---\ntitle: 'Python 潮流周刊#1：x'\n---\n"


@st.composite
def mutated(draw: st.DrawFn) -> str:
    name, text = draw(st.sampled_from(SAMPLES))
    del name
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            lines = [""]
        at = draw(st.integers(0, len(lines) - 1))
        how = draw(
            st.sampled_from(["delete", "duplicate", "swap", "insert", "huge", "cut", "blank"])
        )
        if how == "delete":
            del lines[at]
        elif how == "duplicate":
            lines.insert(at, lines[at])
        elif how == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif how == "insert":
            line = lines[at]
            col = draw(st.integers(0, len(line)))
            lines[at] = line[:col] + draw(st.sampled_from(INSERTS)) + line[col:]
        elif how == "huge":
            lines[at] = lines[at] + draw(st.sampled_from(["x", "字", "[", "(", "*", " "])) * 4_000
        elif how == "cut":
            lines = lines[: at + 1]
            lines[-1] = lines[-1][: draw(st.integers(0, len(lines[-1])))]
        else:
            lines[at] = draw(st.sampled_from(["", " ", "\t", "\u3000", "\x00"]))
    out = "\n".join(lines)
    if draw(st.booleans()):
        out = out.replace("\n", "\r\n")
    if draw(st.booleans()):
        out = "\ufeff" + out
    return out


def parse_or_none(text: str, lang: str | None = None) -> Issue | None:
    try:
        return parse_issue(text, lang=lang)
    except NotAnIssue as refused:
        reason = str(refused)
    assert reason  # the editors read the reason
    return None


@FUZZ
@given(mutated(), st.sampled_from([None, "zh", "en"]))
@example("\ufeff---\ntitle: 'Python 潮流周刊#1：x'\n---\n## 🦄文章&教程\n1、[a](", None)
# found: a 5,000-digit star count: float inf, round() raised OverflowError
@example(f"{ZH_HEAD}## 🦄文章&教程\n\n1、[a](https://e.com)（star {HUGE}）\n", None)
# found: a 5,000-digit stated count raised ValueError (int() refuses > 4,300 digits)
@example(
    f"{ZH_HEAD}本期分享了 {HUGE} 篇文章，{HUGE} 个开源项目\n\n## 🦄文章&教程\n\n1、[a](https://e.com)\n",
    None,
)
def test_a_mutated_issue_is_parsed_or_refused_never_a_crash(text: str, lang: str | None) -> None:
    issue = parse_or_none(text, lang=lang)
    if issue is None:
        return
    for _, item in issue.items():
        assert item.title.strip()
        assert item.index >= 1
        urls = [item.url] if item.url else []
        urls += [image.url for image in item.images]
        assert all(u.startswith(("http://", "https://")) for u in urls), urls


@FUZZ
@given(mutated(), mutated())
def test_pairing_mutated_issues_never_crashes(summary_text: str, full_text: str) -> None:
    summary, full = parse_or_none(summary_text), parse_or_none(full_text)
    if summary is None or full is None:
        return
    pair_summary_full(summary, full)
