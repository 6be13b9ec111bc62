"""The publishers and their error sorting, on real exceptions from real clients.

Every branch of `classify_telegram_error` and `classify_x_error` is fed the
exception PTB or tweepy/aiohttp actually raised against the loopback fakes
(a refused port, a slow answer, a dropped connection, a scripted 429…); only
ChatMigrated and aiohttp's InvalidURL, which the fakes cannot provoke, are built
by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import httpx
import pytest
import telegram
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest
from tweepy.errors import TooManyRequests, TweepyException

from bot.fakes.telegram import FakeTelegram, Fault
from bot.fakes.x import CREATE_POST, USER_POSTS, USERS_ME, FakeX, FaultKind, XLimits
from publishers.errors import (
    AlreadyPosted,
    MaybeSent,
    PublishError,
    Rejected,
    RetryLater,
)
from publishers.pacing import XPacer
from publishers.posts import TelegramPhoto, TelegramPost, TelegramText
from publishers.telegram import TelegramPublisher, classify_telegram_error
from publishers.x import XPublisher, classify_x_error
from publishers.x_client import XClient
from tests.conftest import CHANNEL_ID, CHANNEL_USERNAME, X_CREDENTIALS, ManualClock
from tests.delivery_support import free_port, telegram_payload, x_payload

T0 = 1_800_000_000.0
HIDDEN_CHANNEL = -1001000000002  # the bot is not an admin there


# --- Telegram --------------------------------------------------------------------


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits_scale=100) as fake:
        fake.add_channel(CHANNEL_ID, CHANNEL_USERNAME, "Python Trending Weekly")
        fake.add_channel(HIDDEN_CHANNEL, "hidden", "Not ours", bot_is_admin=False)
        yield fake


def ptb_bot(tg: FakeTelegram, **request: Any) -> telegram.Bot:
    return telegram.Bot(
        tg.token, base_url=tg.base_url, request=HTTPXRequest(connect_timeout=1.0, **request)
    )


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with ptb_bot(tg, read_timeout=0.3) as real_bot:
        yield real_bot


async def raised(call: Awaitable[object]) -> TelegramError:
    with pytest.raises(TelegramError) as info:
        await call
    return info.value


async def test_retry_after_is_retry_later_with_the_announced_wait(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    tg.inject(Fault.retry_after(7), method="sendMessage")
    exc = await raised(bot.send_message(CHANNEL_ID, "hi"))
    assert isinstance(exc, RetryAfter)
    verdict = classify_telegram_error(exc)
    assert isinstance(verdict, RetryLater)
    assert verdict.retry_after == 7.0


@pytest.mark.parametrize(
    ("chat_id", "text", "expected"),
    [
        (CHANNEL_ID, "<b>never closed", BadRequest),
        (CHANNEL_ID, "a" * 4097, BadRequest),
        (-1009999999999, "to nowhere", BadRequest),  # chat not found
        (HIDDEN_CHANNEL, "not an admin here", Forbidden),
    ],
)
async def test_refusals_are_rejected(
    bot: telegram.Bot, chat_id: int, text: str, expected: type[TelegramError]
) -> None:
    exc = await raised(bot.send_message(chat_id, text, parse_mode="HTML"))
    assert type(exc) is expected
    verdict = classify_telegram_error(exc)
    assert type(verdict) is Rejected
    assert exc.message in str(verdict)


async def test_a_wrong_token_is_rejected(tg: FakeTelegram) -> None:
    wrong = telegram.Bot("999:not-the-token", base_url=tg.base_url)
    with pytest.raises(InvalidToken) as info:
        await wrong.initialize()
    await wrong.shutdown()
    assert type(classify_telegram_error(info.value)) is Rejected


async def test_a_conflict_is_rejected(tg: FakeTelegram, bot: telegram.Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook")
    exc = await raised(bot.get_updates(timeout=0))
    assert isinstance(exc, Conflict)
    assert type(classify_telegram_error(exc)) is Rejected


def test_a_migrated_chat_is_rejected() -> None:
    # Only groups migrate; the fake has no supergroup upgrade to provoke it.
    assert type(classify_telegram_error(ChatMigrated(-1001234))) is Rejected


async def test_a_server_error_with_an_api_body_is_retry_later(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    tg.inject(Fault.server_error(500, "Internal Server Error"), method="sendMessage")
    exc = await raised(bot.send_message(CHANNEL_ID, "hi"))
    assert type(exc) is NetworkError
    assert exc.__cause__ is None
    verdict = classify_telegram_error(exc)
    assert type(verdict) is RetryLater
    assert verdict.retry_after is None
    assert tg.sent(CHANNEL_ID) == []


async def test_a_refused_connection_is_retry_later() -> None:
    request = HTTPXRequest(connect_timeout=1.0)
    nowhere = telegram.Bot(
        "123:abc", base_url=f"http://127.0.0.1:{free_port()}/bot", request=request
    )
    exc = await raised(nowhere.send_message(CHANNEL_ID, "hi"))
    await nowhere.shutdown()
    assert isinstance(exc.__cause__, httpx.ConnectError)
    assert type(classify_telegram_error(exc)) is RetryLater


@pytest.mark.slow  # waits out real time
async def test_a_pool_timeout_is_retry_later(tg: FakeTelegram) -> None:
    """No connection was free, so nothing was written."""
    tg.inject(Fault.slow(1.0), method="sendMessage")
    async with ptb_bot(tg, connection_pool_size=1, pool_timeout=0.05) as bot:
        hog = asyncio.create_task(bot.send_message(CHANNEL_ID, "holds the only connection"))
        await asyncio.sleep(0.2)
        exc = await raised(bot.send_message(CHANNEL_ID, "waits for a connection"))
        await hog
    assert isinstance(exc, TimedOut)
    assert isinstance(exc.__cause__, httpx.PoolTimeout)
    assert type(classify_telegram_error(exc)) is RetryLater


async def test_a_read_timeout_may_have_been_sent(tg: FakeTelegram, bot: telegram.Bot) -> None:
    tg.inject(Fault.slow(1.0), method="sendMessage")
    exc = await raised(bot.send_message(CHANNEL_ID, "late"))
    assert isinstance(exc, TimedOut)
    assert isinstance(exc.__cause__, httpx.ReadTimeout)
    assert type(classify_telegram_error(exc)) is MaybeSent
    assert [m.text for m in tg.sent(CHANNEL_ID)] == ["late"]  # it did go out


@pytest.mark.parametrize("fault", [Fault.drop_before(), Fault.drop_after()])
async def test_a_dropped_connection_may_have_been_sent(
    tg: FakeTelegram, bot: telegram.Bot, fault: Fault
) -> None:
    tg.inject(fault, method="sendMessage")
    exc = await raised(bot.send_message(CHANNEL_ID, "hi"))
    assert type(exc) is NetworkError
    assert isinstance(exc.__cause__, httpx.RemoteProtocolError)
    assert type(classify_telegram_error(exc)) is MaybeSent


async def test_publisher_sends_text_and_photo_and_returns_the_message_id(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    publisher = TelegramPublisher(bot, CHANNEL_ID)
    text = await publisher.publish(telegram_payload("<b>bold</b> text"))
    photo_post = TelegramPost(
        parts=(TelegramPhoto("https://img.example.org/a.png", "<i>caption</i>"),)
    )
    photo = await publisher.publish(photo_post.to_payload())

    first, second = tg.sent(CHANNEL_ID)
    assert (text.remote_id, photo.remote_id) == (str(first.message_id), str(second.message_id))
    assert (first.text, second.caption) == ("bold text", "caption")
    assert second.photo is not None
    assert second.photo.ref == "https://img.example.org/a.png"


@pytest.mark.parametrize(
    "payload",
    [
        {"platform": "x", "text": "wrong target"},
        {"platform": "telegram", "parts": [{"type": "video"}]},
        TelegramPost(parts=(TelegramText("one"), TelegramText("two"))).to_payload(),
    ],
)
async def test_publisher_rejects_payloads_it_cannot_send_in_one_call(
    tg: FakeTelegram, bot: telegram.Bot, payload: dict[str, Any]
) -> None:
    with pytest.raises(Rejected):
        await TelegramPublisher(bot, CHANNEL_ID).publish(payload)
    assert tg.calls_of("sendMessage") == []


async def test_publisher_raises_the_sorted_error_with_the_ptb_one_as_cause(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    tg.inject(Fault.retry_after(3), method="sendMessage")
    with pytest.raises(RetryLater) as info:
        await TelegramPublisher(bot, CHANNEL_ID).publish(telegram_payload("hi"))
    assert info.value.retry_after == 3.0
    assert isinstance(info.value.__cause__, RetryAfter)


# --- X ---------------------------------------------------------------------------


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def limits() -> XLimits:
    return XLimits(post_15m=10)


@pytest.fixture
async def fx(clock: ManualClock, limits: XLimits) -> AsyncIterator[FakeX]:
    async with FakeX(**X_CREDENTIALS, clock=clock, limits=limits) as fake:
        yield fake


tight_window = pytest.mark.parametrize("limits", [XLimits(post_15m=2)])


@pytest.fixture
async def client(fx: FakeX) -> AsyncIterator[XClient]:
    async with XClient(**X_CREDENTIALS, api_base_url=fx.base_url, timeout=0.3) as real_client:
        yield real_client


async def x_raised(call: Callable[[], Awaitable[object]]) -> BaseException:
    with pytest.raises((TweepyException, aiohttp.ClientError, TimeoutError)) as info:
        await call()
    return info.value


def classify(exc: BaseException, client: XClient, *, after_doubt: bool = False) -> PublishError:
    return classify_x_error(
        exc, after_doubt=after_doubt, blocked_until=client.quota.blocked_until(), now=T0
    )


@tight_window
async def test_x_429_from_a_spent_window_waits_for_its_reset(client: XClient) -> None:
    await client.create_post("one")
    await client.create_post("two")
    exc = await x_raised(lambda: client.create_post("three"))
    verdict = classify(exc, client)
    assert type(verdict) is RetryLater
    reset = client.quota.blocked_until()
    assert reset == int(T0 + 900)
    assert verdict.retry_after == reset - T0 + 1


async def test_x_429_with_no_spent_window_falls_back_to_tweepys_reset(
    fx: FakeX, client: XClient
) -> None:
    fx.inject(FaultKind.RATE_LIMIT, endpoint=CREATE_POST)
    exc = await x_raised(lambda: client.create_post("refused"))
    assert client.quota.blocked_until() is None
    verdict = classify(exc, client)
    assert type(verdict) is RetryLater
    assert isinstance(exc, TooManyRequests)
    assert exc.reset_time == int(T0 + 900)
    assert verdict.retry_after == exc.reset_time - T0 + 1


@pytest.mark.parametrize(("after_doubt", "expected"), [(False, Rejected), (True, AlreadyPosted)])
async def test_x_duplicate_is_a_refusal_first_and_a_proof_after_doubt(
    client: XClient, after_doubt: bool, expected: type[PublishError]
) -> None:
    await client.create_post("same text")
    exc = await x_raised(lambda: client.create_post("same text"))
    assert type(classify(exc, client, after_doubt=after_doubt)) is expected


async def test_x_refusals_are_rejected_with_xs_words(fx: FakeX, client: XClient) -> None:
    too_long = await x_raised(lambda: client.create_post("x" * 281))
    verdict = classify(too_long, client)
    assert type(verdict) is Rejected
    assert "too long" in str(verdict)

    posted = await client.create_post("to be deleted")
    await client.delete_post(posted.id)
    gone = await x_raised(lambda: client.create_post("reply", in_reply_to=posted.id))
    assert type(classify(gone, client)) is Rejected
    not_found = await x_raised(lambda: client.delete_post(posted.id))
    assert type(classify(not_found, client)) is Rejected


async def test_x_bad_credentials_are_rejected(fx: FakeX) -> None:
    wrong = {**X_CREDENTIALS, "access_token_secret": "not-the-secret"}
    async with XClient(**wrong, api_base_url=fx.base_url, timeout=1) as client:
        exc = await x_raised(lambda: client.create_post("hi"))
        assert type(classify(exc, client)) is Rejected


async def test_x_server_error_is_retry_later(fx: FakeX, client: XClient) -> None:
    fx.inject(FaultKind.SERVER_ERROR, endpoint=CREATE_POST, status=503)
    exc = await x_raised(lambda: client.create_post("hi"))
    verdict = classify(exc, client)
    assert type(verdict) is RetryLater
    assert verdict.retry_after is None


async def test_x_refused_connection_and_bad_url_are_retry_later() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with XClient(**X_CREDENTIALS, api_base_url=url, timeout=1) as client:
        exc = await x_raised(lambda: client.create_post("hi"))
        assert isinstance(exc, aiohttp.ClientConnectorError)
        assert type(classify(exc, client)) is RetryLater
    # aiohttp raises this before connecting; no fake needed to show the branch.
    assert (
        type(
            classify_x_error(
                aiohttp.InvalidURL("::"), after_doubt=False, blocked_until=None, now=T0
            )
        )
        is RetryLater
    )


@pytest.mark.parametrize("fault", [FaultKind.SLOW, FaultKind.DROP_BEFORE, FaultKind.DROP_AFTER])
async def test_x_timeouts_and_dropped_connections_may_have_been_sent(
    fx: FakeX, client: XClient, fault: FaultKind
) -> None:
    fx.inject(fault, endpoint=CREATE_POST, delay=1.0)
    exc = await x_raised(lambda: client.create_post("hi"))
    assert isinstance(exc, TimeoutError | aiohttp.ServerDisconnectedError)
    assert type(classify(exc, client)) is MaybeSent


def test_x_anything_else_may_have_been_sent() -> None:
    verdict = classify_x_error(
        TweepyException("surprise"), after_doubt=False, blocked_until=None, now=T0
    )
    assert type(verdict) is MaybeSent


@tight_window
async def test_x_publisher_threads_replies_and_feeds_the_pacer(
    fx: FakeX, client: XClient, clock: ManualClock
) -> None:
    pacer = XPacer(posts_per_15min=100, posts_per_24h=1000, clock=clock)
    publisher = XPublisher(client, pacer, clock=clock)
    first = await publisher.publish(x_payload("part 1"))
    second = await publisher.publish(x_payload("part 2"), reply_to=first.remote_id)
    assert fx.post(second.remote_id).reply_to == first.remote_id
    assert pacer.ready_at() == int(T0 + 900)  # the window of 2 is spent: hold to its reset
    with pytest.raises(RetryLater) as info:
        await publisher.publish(x_payload("part 3"))
    assert info.value.retry_after == 901.0
    with pytest.raises(Rejected):
        await publisher.publish(telegram_payload("wrong platform"))
    assert [p.text for p in fx.posts()] == ["part 1", "part 2"]


async def test_x_publisher_names_the_post_a_resend_duplicated(fx: FakeX, client: XClient) -> None:
    publisher = XPublisher(client)
    first = await publisher.publish(x_payload("went out once"))
    with pytest.raises(AlreadyPosted) as info:
        await publisher.publish(x_payload("went out once"), after_doubt=True)
    assert info.value.remote_id == first.remote_id
    assert [c.endpoint for c in fx.calls()] == [CREATE_POST, CREATE_POST, USERS_ME, USER_POSTS]


@pytest.mark.parametrize("lookup_fault", [FaultKind.SERVER_ERROR, FaultKind.DROP_BEFORE])
async def test_x_publisher_keeps_already_posted_when_the_lookup_fails(
    fx: FakeX, client: XClient, lookup_fault: FaultKind
) -> None:
    await client.create_post("went out once")
    fx.inject(lookup_fault, endpoint=USER_POSTS)
    with pytest.raises(AlreadyPosted) as info:
        await XPublisher(client).publish(x_payload("went out once"), after_doubt=True)
    assert info.value.remote_id is None
    # aiohttp resends a GET once on a dropped keep-alive connection; the fake
    # refuses the resend's reused nonce, as X may: still a failed lookup.
    assert fx.calls(USER_POSTS)[0].fault == lookup_fault


@pytest.mark.parametrize("limits", [XLimits(post_15m=400)])
async def test_x_publisher_keeps_already_posted_when_the_post_is_not_recent(
    fx: FakeX, client: XClient
) -> None:
    await client.create_post("went out once")
    for n in range(300):  # the lookup reads the 300 newest posts: 3 pages of 100
        await client.create_post(f"later post {n}")
    with pytest.raises(AlreadyPosted) as info:
        await XPublisher(client).publish(x_payload("went out once"), after_doubt=True)
    assert info.value.remote_id is None
    assert len(fx.calls(USER_POSTS)) == 3
