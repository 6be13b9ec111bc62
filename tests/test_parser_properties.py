"""Property tests: whatever the text, the parser either returns a sane Issue or NotAnIssue."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.issue import Issue, NotAnIssue
from bot.domain.parser import parse_issue

# Pieces of the newsletter's grammar, so that generated texts often reach the item code.
FRAGMENTS = [
    "# Python 潮流周刊#12：标题\n",
    "---\ntitle: 'Python Trending Weekly #3'\npubDate: 2031-01-01\n---\n",
    "## 🦄文章&教程\n",
    "## 🐿️Projects & Resources\n",
    "**[🐢播客&视频](https://weekly.pythoncat.top)**\n",
    "[🥂Discussions & Questions](https://weekly.pythoncat.top)\n",
    "### 第 1 期\n",
    "1、",
    "2. ",
    "① ",
    "[",
    "]",
    "(",
    ")",
    "![](https://img.pythoncat.top/x.png)",
    "[t](https://e.com/a_(b))",
    "[](https://e.com)",
    "[t](#anchor)",
    "[t](javascript:alert(1))",
    "（star 1.2K）",
    "(Shared by: x)",
    "```\n",
    "🎁",
    "\\",
    "**",
    "`",
    "\n",
    "\r\n",
    " ",
    "内容删除",
    "- [b](https://e.com/b)\n",
]
texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=40).map("".join),
)


def parse_or_none(text: str) -> Issue | None:
    try:
        return parse_issue(text)
    except NotAnIssue:
        return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_only_not_an_issue_is_ever_raised(text: str) -> None:
    parse_or_none(text)  # any other exception fails the test


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_every_url_is_http_and_no_title_is_empty(text: str) -> None:
    issue = parse_or_none(text)
    if issue is None:
        return
    for _, item in issue.items():
        assert item.title.strip()
        urls = [item.url] if item.url else []
        urls += [i.url for i in item.images]
        urls += [link.url for link in (*item.sub_links, *item.description_links)]
        assert all(u.startswith("http") for u in urls), urls
        assert item.index >= 1
        assert item.flags == frozenset(sorted(item.flags))


@settings(max_examples=150, deadline=None)
@given(texts)
def test_line_endings_never_matter(text: str) -> None:
    lf = text.replace("\r\n", "\n").replace("\r", "\n")
    assert parse_or_none(lf) == parse_or_none(lf.replace("\n", "\r\n"))
