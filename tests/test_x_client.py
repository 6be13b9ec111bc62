"""XClient over real tweepy and aiohttp, against the loopback fake X API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from tweepy.errors import BadRequest, Forbidden, TooManyRequests, Unauthorized

from bot.fakes.x import (
    CREATE_POST,
    DELETE_POST,
    DUPLICATE_DETAIL,
    USER_POSTS,
    USERS_ME,
    FakeX,
    FaultKind,
    XLimits,
)
from bot.fakes.x_model import QuotaView, WindowView
from publishers.x_client import (
    CreatedPost,
    MediaProcessingError,
    XClient,
    comparable_text,
    endpoint_key,
    unescape_x_text,
)
from publishers.x_quota import RateWindow, XQuota, quota_from_headers
from tests.conftest import X_CREDENTIALS, ManualClock

T0 = 1_800_000_000.0
PNG = b"\x89PNG\r\n\x1a\n" + bytes(500)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(5000)


class SleepRecorder:
    """Stands in for asyncio.sleep between media status polls: no real waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def limits() -> XLimits:
    return XLimits(post_15m=10, post_user_24h=50, post_app_24h=80)


@pytest.fixture
async def fake(clock: ManualClock, limits: XLimits) -> AsyncIterator[FakeX]:
    async with FakeX(**X_CREDENTIALS, clock=clock, limits=limits) as fx:
        yield fx


@pytest.fixture
def sleep() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
async def client(fake: FakeX, sleep: SleepRecorder) -> AsyncIterator[XClient]:
    async with XClient(**X_CREDENTIALS, api_base_url=fake.base_url, timeout=5, sleep=sleep) as c:
        yield c


def as_client_quota(view: QuotaView) -> XQuota:
    def window(w: WindowView | None) -> RateWindow | None:
        return None if w is None else RateWindow(w.limit, w.remaining, w.reset)

    return XQuota(window(view.window_15m), window(view.user_24h), window(view.app_24h))


async def test_create_reply_thread_and_delete(fake: FakeX, client: XClient) -> None:
    first = await client.create_post("1/3 thread")
    second = await client.create_post("2/3 thread", in_reply_to=first.id)
    third = await client.create_post("3/3 thread", in_reply_to=second.id)
    await client.delete_post(third.id)

    assert first == CreatedPost(id=first.id, text="1/3 thread")
    assert [(p.text, p.reply_to, p.deleted) for p in fake.posts()] == [
        ("1/3 thread", None, False),
        ("2/3 thread", first.id, False),
        ("3/3 thread", second.id, True),
    ]


async def test_middleware_retargets_but_keeps_the_original_host(
    fake: FakeX, client: XClient
) -> None:
    await client.create_post("where did it go")
    await client.upload_media(PNG, "image/png")

    post_call, media_call = fake.calls()
    assert post_call.host_header == "api.twitter.com"  # tweepy's host, Host header untouched
    assert post_call.original_url == "https://api.twitter.com/2/tweets"
    assert media_call.host_header == "api.x.com"
    assert media_call.original_url == "https://api.x.com/2/media/upload"
    assert all(call.auth_error is None for call in fake.calls())


async def test_simple_upload_then_post_with_media(fake: FakeX, client: XClient) -> None:
    media_id = await client.upload_media(PNG, "image/png")
    post = await client.create_post("with a picture", media_ids=[media_id])

    (media,) = fake.media()
    assert (media.id, media.chunked, media.state) == (media_id, False, "succeeded")
    assert fake.post(post.id).media_ids == (media_id,)


async def test_chunked_upload_polls_status_until_processed(
    fake: FakeX, client: XClient, sleep: SleepRecorder
) -> None:
    media_id = await client.upload_media(MP4, "video/mp4", category="tweet_video", chunk_size=2048)
    post = await client.create_post("with a video", media_ids=[media_id])

    assert len(fake.calls("media_append")) == 3  # 5016 bytes in 2048-byte chunks
    assert [c.status for c in fake.calls("media_status")] == [200, 200]
    assert sleep.waits == [1.0, 1.0]  # check_after_secs honoured before each poll
    assert fake.post(post.id).media_ids == (media_id,)


async def test_forced_chunked_image(fake: FakeX, client: XClient) -> None:
    media_id = await client.upload_media(PNG, "image/png", chunked=True)
    assert fake.media()[0].chunked
    assert fake.calls("media_status") == []  # images need no processing
    await client.create_post("chunked picture", media_ids=[media_id])


@pytest.mark.parametrize("limits", [XLimits(processing_polls=5)])
async def test_processing_that_never_finishes(fake: FakeX, limits: XLimits) -> None:
    impatient = XClient(
        **X_CREDENTIALS, api_base_url=fake.base_url, sleep=SleepRecorder(), max_status_polls=2
    )
    async with impatient:
        with pytest.raises(MediaProcessingError, match="still in_progress after 2 polls"):
            await impatient.upload_media(MP4, "video/mp4", category="tweet_video")
    assert len(fake.calls("media_status")) == 2


async def test_bad_media_raises_tweepys_bad_request(client: XClient) -> None:
    with pytest.raises(BadRequest) as caught:
        await client.upload_media(b"not an image", "image/png")
    assert caught.value.response.status == 400


async def test_duplicate_is_forbidden_with_xs_message(client: XClient) -> None:
    await client.create_post("same text")
    with pytest.raises(Forbidden) as caught:
        await client.create_post("same text")
    assert caught.value.api_messages == [DUPLICATE_DETAIL]
    assert str(caught.value) == f"403 Forbidden\n{DUPLICATE_DETAIL}"


async def test_too_long_is_bad_request(fake: FakeX, client: XClient) -> None:
    with pytest.raises(BadRequest, match="Your Tweet text is too long"):
        await client.create_post("x" * 281)
    assert fake.posts() == []


async def test_wrong_consumer_secret_is_unauthorized(fake: FakeX) -> None:
    wrong = {**X_CREDENTIALS, "consumer_secret": "guessed"}
    async with XClient(**wrong, api_base_url=fake.base_url) as client:
        with pytest.raises(Unauthorized):
            await client.create_post("hello")
        with pytest.raises(Unauthorized):
            await client.upload_media(PNG, "image/png")
    assert [c.auth_error for c in fake.calls()] == ["bad signature", "bad signature"]


async def test_fifteen_minute_quota_exhausted(fake: FakeX, client: XClient) -> None:
    for i in range(10):
        await client.create_post(f"post {i}")
    with pytest.raises(TooManyRequests) as caught:
        await client.create_post("one too many")

    reset_header = caught.value.response.headers["x-rate-limit-reset"]
    assert caught.value.reset_time == int(reset_header) == int(T0 + 900)
    assert client.quota.window_15m == RateWindow(limit=10, remaining=0, reset=int(T0 + 900))
    assert client.quota.blocked_until() == int(T0 + 900)


@pytest.mark.parametrize("limits", [XLimits(post_15m=100, post_user_24h=3)])
async def test_user_24h_cap_exhausted_while_15_minutes_have_room(
    fake: FakeX, client: XClient, clock: ManualClock, limits: XLimits
) -> None:
    for i in range(3):
        await client.create_post(f"post {i}")
        clock.now += 1000  # each in a new 15-minute window
    with pytest.raises(TooManyRequests) as caught:
        await client.create_post("over the daily cap")

    quota = client.quota
    assert quota.window_15m == RateWindow(limit=100, remaining=100, reset=int(clock.now + 900))
    assert quota.user_24h == RateWindow(limit=3, remaining=0, reset=int(T0 + 86_400))
    # tweepy's reset_time is the 15-minute reset; only the 24 h header tells the real wait
    assert caught.value.reset_time == int(clock.now + 900)
    assert quota.blocked_until() == int(T0 + 86_400)
    assert [p.text for p in fake.posts()] == ["post 0", "post 1", "post 2"]


async def test_client_quota_equals_the_fakes(fake: FakeX, client: XClient) -> None:
    posts = [await client.create_post(f"post {i}") for i in range(4)]
    await client.delete_post(posts[0].id)
    with pytest.raises(Forbidden):
        await client.create_post("post 1")  # refused requests still count

    assert client.quota == as_client_quota(fake.quota(CREATE_POST))
    assert client.quota.user_24h == RateWindow(limit=50, remaining=45, reset=int(T0 + 86_400))
    assert client.quota_for("DELETE", f"/2/tweets/{posts[0].id}") == as_client_quota(
        fake.quota(DELETE_POST)
    )


async def test_dropped_after_record_leaves_the_post_and_raises(
    fake: FakeX, client: XClient
) -> None:
    fake.inject(FaultKind.DROP_AFTER, endpoint=CREATE_POST)
    with pytest.raises(aiohttp.ClientConnectionError):
        await client.create_post("did it go out?")
    assert [p.text for p in fake.live_posts()] == ["did it go out?"]


async def test_a_late_answer_times_out_but_the_post_went_out(fake: FakeX) -> None:
    fake.inject(FaultKind.SLOW, endpoint=CREATE_POST, delay=0.5)
    async with XClient(**X_CREDENTIALS, api_base_url=fake.base_url, timeout=0.2) as impatient:
        with pytest.raises(TimeoutError):
            await impatient.create_post("answered too late")
    assert [p.text for p in fake.live_posts()] == ["answered too late"]


async def test_dropped_before_record_leaves_nothing(fake: FakeX, client: XClient) -> None:
    fake.inject(FaultKind.DROP_BEFORE, endpoint=CREATE_POST)
    with pytest.raises(aiohttp.ClientConnectionError):
        await client.create_post("lost")
    assert fake.posts() == []


async def test_media_rate_limit_is_tweepys_too_many_requests(fake: FakeX, client: XClient) -> None:
    fake.inject(FaultKind.RATE_LIMIT, endpoint="media_upload")
    with pytest.raises(TooManyRequests) as caught:
        await client.upload_media(PNG, "image/png")
    assert caught.value.reset_time == fake.quota("media_upload").window_15m.reset


async def test_unstarted_client_says_so() -> None:
    client = XClient(**X_CREDENTIALS)
    with pytest.raises(RuntimeError, match="start"):
        await client.create_post("x")


def test_quota_from_headers_merges_present_windows() -> None:
    previous = XQuota(user_24h=RateWindow(5, 4, 100))
    merged = quota_from_headers(
        {"x-rate-limit-limit": "10", "x-rate-limit-remaining": "9", "x-rate-limit-reset": "50"},
        previous,
    )
    assert merged == XQuota(window_15m=RateWindow(10, 9, 50), user_24h=RateWindow(5, 4, 100))
    assert quota_from_headers({"x-rate-limit-limit": "oops"}, merged) == merged


def test_endpoint_key_ignores_ids() -> None:
    assert endpoint_key("delete", "/2/tweets/123") == "DELETE /2/tweets/{id}"
    assert endpoint_key("POST", "/2/media/upload/9/append") == "POST /2/media/upload/{id}/append"
    assert endpoint_key("POST", "/2/tweets") == "POST /2/tweets"
    assert endpoint_key("GET", "/2/users/by/username/x2") == "GET /2/users/by/username/x2"


async def test_find_recent_post_finds_the_id_despite_xs_rewriting(
    fake: FakeX, client: XClient
) -> None:
    wanted = await client.create_post("Café & <tools> https://example.com/weekly/42")
    await client.create_post("another post")

    found = await client.find_recent_post("Cafe\u0301 & <tools>   https://example.com/weekly/42")

    assert found == wanted.id
    assert [c.endpoint for c in fake.calls()][-2:] == [USERS_ME, USER_POSTS]
    assert client.quota_for("GET", "/2/users/4242/tweets").window_15m == RateWindow(
        900, 899, int(T0 + 900)
    )
    assert client.quota_for("GET", "/2/users/me").window_15m == RateWindow(75, 74, int(T0 + 900))


async def test_find_recent_post_asks_for_the_user_once_and_returns_none_when_absent(
    fake: FakeX, client: XClient
) -> None:
    await client.create_post("the only post")
    posted = await client.create_post("deleted later")
    await client.delete_post(posted.id)

    assert await client.find_recent_post("never posted") is None
    assert await client.find_recent_post("deleted later") is None
    assert await client.user_id() == "4242"
    assert len(fake.calls(USERS_ME)) == 1
    assert [c.path for c in fake.calls(USER_POSTS)] == ["/2/users/4242/tweets?max_results=100"] * 2


async def test_find_recent_post_follows_next_token_as_far_as_pages(
    fake: FakeX, client: XClient
) -> None:
    oldest = await client.create_post("old post")
    for n in range(7):
        await client.create_post(f"newer post {n}")

    # Eight posts, five a page: the oldest is on the second page.
    assert await client.find_recent_post("old post", per_page=5, pages=1) is None
    assert await client.find_recent_post("old post", per_page=5, pages=2) == oldest.id
    paths = [c.path for c in fake.calls(USER_POSTS)]
    assert paths[-1].startswith("/2/users/4242/tweets?max_results=5&pagination_token=")
    # The end of the timeline stops the search before the page budget is spent.
    assert await client.find_recent_post("never posted", per_page=5, pages=10) is None
    assert len(fake.calls(USER_POSTS)) == len(paths) + 2
    with pytest.raises(ValueError, match="5-100"):
        await client.find_recent_post("old post", per_page=101)
    with pytest.raises(ValueError, match="at least 1"):
        await client.find_recent_post("old post", pages=0)


def test_comparable_text_rule() -> None:
    assert comparable_text("a  b\n https://x.com/1 ") == comparable_text("a b https://t.co/Zz9")
    assert comparable_text("e\u0301") == comparable_text("\u00e9")
    assert comparable_text("post 1") != comparable_text("post 2")
    assert unescape_x_text("&amp;lt; &lt;b&gt; &amp;") == "&lt; <b> &"
