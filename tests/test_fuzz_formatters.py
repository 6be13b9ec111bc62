"""Fuzzing the formatters with hostile items: every post stays within the limits
(`publishers.limits`) and passes the fake Telegram's own check of a text or caption
(`bot.fakes.telegram_params`, which parses with `publishers.telegram_html`).
"""

from __future__ import annotations

import datetime as dt

from hypothesis import example, given
from hypothesis import strategies as st

from bot.domain.issue import Lang
from bot.domain.roundup import Roundup, RoundupEntry
from bot.fakes.telegram_params import caption_text, message_text
from publishers.format_common import NotPostable
from publishers.format_roundup import format_roundup_telegram
from publishers.format_submission import SubmittedLinkPost, format_submission_telegram
from publishers.format_telegram import (
    format_digest_telegram,
    format_item_telegram,
    format_release_telegram,
)
from publishers.format_x import format_item_x
from publishers.limits import (
    TELEGRAM_CAPTION_MAX,
    TELEGRAM_ENTITIES_MAX,
    TELEGRAM_TEXT_MAX,
    X_MAX_WEIGHTED,
    telegram_entity_count,
    telegram_length,
    x_weighted_length,
)
from publishers.posts import TelegramPhoto, TelegramPost, TelegramText
from tests.factories import ISSUE_URL, make_image, make_issue, make_item
from tests.fuzz_support import FUZZ, hostile_text

LANGS: list[Lang] = ["zh", "en"]
hostile_urls = st.builds(
    lambda tail: "https://example.com/" + tail,
    st.text(st.sampled_from(list("ab/?=&#%\"'<>;:()[]é\u00a0 ")), max_size=80),
)


def assert_accepted(post: TelegramPost) -> None:
    for part in post.parts:
        if isinstance(part, TelegramText):
            sent = message_text({"text": part.html, "parse_mode": "HTML"})  # the fake's check
            assert len(sent.text) <= TELEGRAM_TEXT_MAX
            assert telegram_length(part.html) <= TELEGRAM_TEXT_MAX
            assert telegram_entity_count(part.html) <= TELEGRAM_ENTITIES_MAX
        else:
            assert isinstance(part, TelegramPhoto)
            params = {"caption": part.caption_html, "parse_mode": "HTML"}
            caption_text(params, "caption", "caption_entities")
            assert telegram_length(part.caption_html) <= TELEGRAM_CAPTION_MAX


@FUZZ
@given(hostile_text, hostile_text, hostile_urls, st.booleans(), st.sampled_from(LANGS))
def test_hostile_items_make_posts_telegram_accepts(
    title: str, description: str, url: str, photo: bool, lang: Lang
) -> None:
    item = make_item(
        title=title, description=description, url=url, images=(make_image(),) if photo else ()
    )
    issue = make_issue(
        {"projects": [item, make_item(2, title=title[:50])]}, lang=lang, title=title or None
    )
    try:
        post = format_item_telegram(
            item,
            section_kind="projects",
            issue=issue,
            issue_url=ISSUE_URL,
            lang=lang,
        )
    except NotPostable:
        return
    assert_accepted(post)
    for digest in format_digest_telegram(issue, issue_url=ISSUE_URL, lang=lang):
        assert_accepted(digest)
    assert_accepted(format_release_telegram(issue, url=url))
    x_post = format_item_x(
        item, section_kind="projects", issue=issue, issue_url=ISSUE_URL, lang=lang
    )
    assert x_weighted_length(x_post.text) <= X_MAX_WEIGHTED


@FUZZ
@given(hostile_text, hostile_text, hostile_text, hostile_urls)
# found: escaped, the comment was over 65,536 characters: within() raised "Text is too long"
@example("", '<pre><code class="language-py">' * 1523, "", "https://example.com/")
# found: a title of U+FEFF alone made a post Telegram refuses as empty
@example("\ufeff", "", "", "https://example.com/")
def test_hostile_submissions_and_roundups_make_posts_telegram_accepts(
    title: str, comment: str, credit: str, url: str
) -> None:
    post = SubmittedLinkPost(
        url=url, title=title or None, comment=comment or None, credit=credit or None
    )
    assert_accepted(format_submission_telegram(post))
    when = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
    roundup = Roundup(
        date=when.date(),
        start=when.date(),
        end=when.date(),
        entries=(RoundupEntry(credit or "N", title, url, when, "#1", 1),) * 3,
    )
    for part in format_roundup_telegram(roundup, lang="zh", channel="@weekly"):
        assert_accepted(part)
