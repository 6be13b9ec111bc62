"""Whatever the item text, what the formatters produce is accepted by the platforms.

Each post goes through the real publishers (PTB, tweepy) to the strict fakes,
which refuse what Telegram or X would refuse. The fakes measure with the
project's own rules (one place for each), which are tested on their own against
tdlib's behaviour in test_telegram_length; so this proves the whole path
(formatting, payloads, HTTP, validation), not the measures twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib import resources

import pytest
import telegram
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.issue import SectionKind
from bot.domain.parser import parse_issue
from bot.fakes.telegram import FakeTelegram
from bot.fakes.x import FakeX, XLimits
from publishers.format_telegram import COVER_URL, format_digest_telegram, format_item_telegram
from publishers.format_x import format_item_x
from publishers.limits import (
    TELEGRAM_CAPTION_MAX,
    TELEGRAM_TEXT_MAX,
    X_MAX_WEIGHTED,
    telegram_length,
    x_weighted_length,
)
from publishers.posts import TelegramPhoto, TelegramPost, TelegramText
from publishers.telegram import TelegramPublisher
from publishers.x import XPublisher
from publishers.x_client import XClient
from tests.conftest import CHANNEL_ID, CHANNEL_USERNAME, X_CREDENTIALS
from tests.delivery_support import telegram_bot
from tests.factories import ISSUE_URL, any_text, any_url, make_image, make_issue, make_item

_any_text = any_text(max_size=2000, max_repeats=500)
_url = any_url(path_chars="abcXYZ019-_.~/?=&%\"<>'", max_path=200)
_kinds: st.SearchStrategy[SectionKind] = st.sampled_from(["articles", "projects", "podcasts"])
_langs = st.sampled_from(["zh", "en", "ja"])
_examples = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(flood_limits=False) as fake:
        fake.add_channel(CHANNEL_ID, CHANNEL_USERNAME, "Python Trending Weekly")
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with telegram_bot(tg) as real_bot:
        yield real_bot


@pytest.fixture
async def fx() -> AsyncIterator[FakeX]:
    limits = XLimits(post_15m=10_000, post_user_24h=10_000, post_app_24h=10_000)
    async with FakeX(**X_CREDENTIALS, limits=limits) as fake:
        yield fake


@pytest.fixture
async def x_client(fx: FakeX) -> AsyncIterator[XClient]:
    async with XClient(**X_CREDENTIALS, api_base_url=fx.base_url, timeout=5) as client:
        yield client


@_examples
@given(
    title=_any_text,
    description=_any_text,
    url=_url,
    credit=st.none() | _any_text,
    with_image=st.booleans(),
    kind=_kinds,
    lang=_langs,
)
async def test_any_item_is_accepted_by_telegram(
    tg: FakeTelegram,
    bot: telegram.Bot,
    title: str,
    description: str,
    url: str,
    credit: str | None,
    with_image: bool,
    kind: SectionKind,
    lang: str,
) -> None:
    item = make_item(
        title=title,
        description=description,
        url=url,
        credit=credit,
        images=(make_image(),) if with_image else (),
    )
    post = format_item_telegram(
        item, section_kind=kind, issue=make_issue(lang=lang), issue_url=ISSUE_URL, lang=lang
    )
    publisher = TelegramPublisher(bot, CHANNEL_ID)
    for part in post.parts:
        if isinstance(part, TelegramText):
            assert telegram_length(part.html) <= TELEGRAM_TEXT_MAX
        else:
            assert isinstance(part, TelegramPhoto)
            assert telegram_length(part.caption_html) <= TELEGRAM_CAPTION_MAX
        # One part per outbox row, exactly as the planner stores them.
        receipt = await publisher.publish(TelegramPost(parts=(part,)).to_payload())
        message = tg.message(CHANNEL_ID, int(receipt.remote_id))
        shown = message.text if isinstance(part, TelegramText) else message.caption or ""
        limit = TELEGRAM_TEXT_MAX if isinstance(part, TelegramText) else TELEGRAM_CAPTION_MAX
        assert shown is not None
        assert len(shown) <= limit


@_examples
@given(
    title=_any_text,
    description=_any_text,
    url=_url,
    credit=st.none() | _any_text,
    kind=_kinds,
    lang=_langs,
)
async def test_any_item_is_accepted_by_x(
    fx: FakeX,
    x_client: XClient,
    title: str,
    description: str,
    url: str,
    credit: str | None,
    kind: SectionKind,
    lang: str,
) -> None:
    fx.reset()  # examples may repeat a text; X would refuse that as a duplicate
    item = make_item(title=title, description=description, url=url, credit=credit)
    post = format_item_x(
        item, section_kind=kind, issue=make_issue(lang=lang), issue_url=ISSUE_URL, lang=lang
    )
    assert x_weighted_length(post.text) <= X_MAX_WEIGHTED
    receipt = await XPublisher(x_client).publish(post.to_payload())
    assert fx.post(receipt.remote_id).text == post.text


async def test_the_channel_digest_of_a_summary_goes_out_as_the_channels_own_post(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    """The demo's summary issue (#902) through PTB to the fake: one photo with the caption."""
    issue = parse_issue(
        (resources.files("bot") / "samples" / "zh" / "2026-11-28-weekly.md").read_text("utf-8"),
        filename="zh/2026-11-28-weekly.md",
    )
    publisher = TelegramPublisher(bot, CHANNEL_ID)
    for post in format_digest_telegram(issue, issue_url=ISSUE_URL, lang="zh"):
        await publisher.publish(post.to_payload())
    (message,) = tg.messages(CHANNEL_ID)
    assert message.photo is not None
    assert message.photo.ref == COVER_URL
    assert message.caption is not None
    assert message.caption.startswith(
        "#Python潮流周刊\n\n🐱🐱🐱🐱  第 902 期  🐱🐱🐱🐱\n\n演示用的摘要版样刊\n\n"
        "🦄文章&教程\n\n① "
    )
    assert message.caption.endswith("🐱频道 @pythontrendingweekly")
    links = [e.url for e in message.caption_entities if e.url]
    assert links[0] == "https://example.com/paid/902"  # the full text before the GitHub file
    assert [e.type for e in message.caption_entities].count("bold") == 3
