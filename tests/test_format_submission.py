"""A reader's link as a channel post and an X post: within limits, credited, edits honoured."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publishers.format_common import NotPostable
from publishers.format_submission import (
    CREDIT_NAME_MAX,
    SubmittedLinkPost,
    credit_line,
    edit_problem_telegram,
    edit_problem_x,
    format_submission_telegram,
    format_submission_x,
)
from publishers.limits import (
    TELEGRAM_TEXT_MAX,
    X_MAX_WEIGHTED,
    telegram_entity_count,
    telegram_length,
    x_weighted_length,
)
from publishers.posts import TelegramPost, TelegramText, XPost

URL = "https://blog.example.org/post/fast-csv"
POST = SubmittedLinkPost(
    url=URL,
    title="Parsing CSV 10× faster",
    comment="How a <stdlib> trick & a C extension beat pandas.",
    credit="Ada <Lovelace>",
)


def html_of(post: TelegramPost) -> str:
    (part,) = post.parts
    assert isinstance(part, TelegramText)
    return part.html


def test_telegram_post_is_the_bold_linked_title_comment_and_credit() -> None:
    html = html_of(format_submission_telegram(POST))
    assert html == (
        f'<b><a href="{URL}">Parsing CSV 10× faster</a></b>\n\n'
        "How a &lt;stdlib&gt; trick &amp; a C extension beat pandas.\n\n"
        "via Ada &lt;Lovelace&gt;"
    )
    # The payload round-trips and keeps the link preview (it shows the page).
    post = format_submission_telegram(POST)
    assert TelegramPost.from_payload(post.to_payload()) == post
    assert post.parts[0] == TelegramText(html=html, disable_preview=False)


def test_x_post_ends_with_the_link_and_credits_without_a_mention() -> None:
    text = format_submission_x(POST).text
    assert text == (
        "Parsing CSV 10× faster\n\n"
        "How a <stdlib> trick & a C extension beat pandas.\n\n"
        f"via Ada <Lovelace>\n{URL}"
    )
    assert XPost.from_payload(format_submission_x(POST).to_payload()).text == text


def test_no_credit_no_preview_falls_back_to_the_host() -> None:
    bare = SubmittedLinkPost(url=URL)
    assert (
        html_of(format_submission_telegram(bare)) == f'<b><a href="{URL}">blog.example.org</a></b>'
    )
    assert format_submission_x(bare).text == f"blog.example.org\n\n{URL}"


def test_the_editors_title_and_comment_replace_the_pages() -> None:
    html = html_of(format_submission_telegram(POST, title="Fast CSV", comment="Worth it."))
    assert html.startswith(f'<b><a href="{URL}">Fast CSV</a></b>\n\nWorth it.\n\nvia Ada')
    text = format_submission_x(POST, title="快速 CSV", comment="").text
    assert text == f"快速 CSV\n\nvia Ada <Lovelace>\n{URL}"  # "" drops the comment


def test_a_long_name_is_cut_in_the_credit() -> None:
    post = SubmittedLinkPost(url=URL, title="t", credit="N" * 300)
    line = format_submission_x(post).text.split("\n")[-2]
    assert line.startswith("via N")
    assert len(line) <= len("via ") + CREDIT_NAME_MAX


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("@elonmusk", "via elonmusk"),
        ("Ada ＠lovelace", "via Ada lovelace"),
        ("Buy at cheap-pills.com", ""),
        ("  Grace\n Hopper ", "via Grace Hopper"),
        ("@", ""),
    ],
)
def test_a_name_mentions_nobody_and_advertises_nothing(name: str, line: str) -> None:
    assert credit_line(name) == line
    text = format_submission_x(SubmittedLinkPost(url=URL, title="t", credit=name)).text
    assert "@" not in text
    assert "＠" not in text
    assert (line in text) if line else ("via" not in text)


def test_a_long_comment_is_cut_first_and_the_link_and_credit_stay() -> None:
    post = SubmittedLinkPost(
        url=URL, title="标题" * 20, comment="很长的描述。" * 2000, credit="读者"
    )
    text = format_submission_x(post).text
    assert x_weighted_length(text) <= X_MAX_WEIGHTED
    assert text.endswith(f"via 读者\n{URL}")
    assert text.startswith("标题" * 20)
    html = html_of(format_submission_telegram(post))
    assert telegram_length(html) <= TELEGRAM_TEXT_MAX
    assert html.endswith("via 读者")
    assert "…" in html


def test_a_link_x_cannot_shorten_and_too_long_is_not_postable() -> None:
    with pytest.raises(NotPostable):
        # twitter-text knows no `.zzzz`: the link weighs its length, not 23.
        format_submission_x(SubmittedLinkPost(url="https://example.zzzz/" + "a" * 300))


def test_edit_problem_refuses_what_would_be_cut() -> None:
    assert edit_problem_x(POST, title="Fast CSV", comment="Short.") is None
    problem = edit_problem_x(POST, title="Fast CSV", comment="长" * 200)
    assert problem is not None
    assert "weighs" in problem
    assert "280" in problem
    assert edit_problem_telegram(POST, title=None, comment="c" * 5000) is not None
    assert edit_problem_telegram(POST, title=None, comment="c" * 100) is None


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(max_size=400),
    comment=st.text(max_size=3000),
    name=st.none() | st.text(max_size=100),
)
def test_any_texts_stay_within_both_platforms_limits(
    title: str, comment: str, name: str | None
) -> None:
    post = SubmittedLinkPost(url=URL, title=title, comment=comment, credit=name)
    html = html_of(format_submission_telegram(post))
    assert 1 <= telegram_length(html) <= TELEGRAM_TEXT_MAX
    assert telegram_entity_count(html) <= 100
    assert f'href="{URL}"' in html
    text = format_submission_x(post).text
    assert x_weighted_length(text) <= X_MAX_WEIGHTED
    assert text.endswith(URL)
