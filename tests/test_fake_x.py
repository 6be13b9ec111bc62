"""The fake X API is strict where X is: driven by tweepy's own AsyncClient over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from oauthlib.oauth1 import Client as OAuth1Signer
from tweepy.asynchronous import AsyncClient
from tweepy.errors import BadRequest, Forbidden, NotFound, TooManyRequests, TwitterServerError
from yarl import URL

from bot.fakes.x import (
    CREATE_POST,
    DELETE_POST,
    DUPLICATE_DETAIL,
    INVALID_MEDIA_IDS,
    REPLY_TARGET_GONE,
    USER_POSTS,
    USERS_ME,
    FakeX,
    FaultKind,
    XLimits,
    serve_fake_x,
    shown_text,
    sniff_media_type,
)
from bot.fakes.x_model import Fault, FaultPlan
from tests.conftest import X_CREDENTIALS, ManualClock

T0 = 1_800_000_000.0
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(3000)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeX]:
    async with FakeX(**X_CREDENTIALS, clock=clock, limits=XLimits(post_15m=5)) as fx:
        yield fx


@contextlib.asynccontextmanager
async def retargeting_session(base_url: str) -> AsyncIterator[aiohttp.ClientSession]:
    """A session that sends api.twitter.com/api.x.com requests to the fake (PLATFORMS.md B.2)."""
    base = URL(base_url)

    async def retarget(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        request.url = URL.build(
            scheme=base.scheme,
            host=base.raw_host or "",
            port=base.port,
            path=request.url.raw_path,
            query_string=request.url.raw_query_string,
            encoded=True,
        )
        return await handler(request)

    async with aiohttp.ClientSession(middlewares=(retarget,)) as s:
        yield s


@pytest.fixture
async def session(fake: FakeX) -> AsyncIterator[aiohttp.ClientSession]:
    async with retargeting_session(fake.base_url) as s:
        yield s


@pytest.fixture
def tweepy_client(session: aiohttp.ClientSession) -> AsyncClient:
    client = AsyncClient(**X_CREDENTIALS)
    client.session = session
    return client


def signed(method: str, url: str, secret: str = X_CREDENTIALS["consumer_secret"]) -> dict[str, str]:
    signer = OAuth1Signer(
        X_CREDENTIALS["consumer_key"],
        client_secret=secret,
        resource_owner_key=X_CREDENTIALS["access_token"],
        resource_owner_secret=X_CREDENTIALS["access_token_secret"],
    )
    _, headers, _ = signer.sign(url, method)
    return dict(headers)


async def test_create_answers_201_with_xs_shape_and_all_rate_headers(
    fake: FakeX, tweepy_client: AsyncClient
) -> None:
    tweepy_client.return_type = aiohttp.ClientResponse
    response = await tweepy_client.create_tweet(text="hello")
    body = await response.json()

    assert response.status == 201
    post_id = body["data"]["id"]
    assert body == {"data": {"id": post_id, "text": "hello", "edit_history_tweet_ids": [post_id]}}
    assert response.headers["x-rate-limit-limit"] == "5"
    assert response.headers["x-rate-limit-remaining"] == "4"
    assert response.headers["x-rate-limit-reset"] == str(int(T0 + 900))
    assert response.headers["x-user-limit-24hour-remaining"] == "9999"
    assert response.headers["x-app-limit-24hour-reset"] == str(int(T0 + 86400))
    assert fake.post(post_id).author_id == "4242"


async def test_unsigned_request_is_401_and_logged(fake: FakeX) -> None:
    async with aiohttp.ClientSession() as s:
        response = await s.post(f"{fake.base_url}/2/tweets", json={"text": "x"})
        body = await response.json()

    assert response.status == 401
    assert body["title"] == "Unauthorized"
    assert fake.posts() == []
    assert fake.calls()[-1].auth_error == "no OAuth Authorization header"


async def test_signature_is_checked_against_the_original_https_url(fake: FakeX) -> None:
    headers = signed("POST", "https://api.twitter.com/2/tweets")
    url = f"{fake.base_url}/2/tweets"
    async with aiohttp.ClientSession() as s:
        as_loopback = await s.post(url, json={"text": "x"}, headers=headers)
        as_original = await s.post(
            url, json={"text": "x"}, headers={**headers, "X-Original-Host": "api.twitter.com"}
        )
        replayed = await s.post(
            url, json={"text": "y"}, headers={**headers, "X-Original-Host": "api.twitter.com"}
        )

    assert as_loopback.status == 401  # signed for api.twitter.com, not 127.0.0.1
    assert as_original.status == 201
    assert replayed.status == 401
    assert [c.auth_error for c in fake.calls()] == ["bad signature", None, "nonce reused"]


async def test_wrong_secret_is_401(fake: FakeX) -> None:
    headers = signed("POST", "https://api.twitter.com/2/tweets", secret="not-the-secret")
    async with aiohttp.ClientSession() as s:
        response = await s.post(
            f"{fake.base_url}/2/tweets",
            json={"text": "x"},
            headers={**headers, "X-Original-Host": "api.twitter.com"},
        )
    assert response.status == 401


async def test_reply_to_unknown_or_deleted_post_is_forbidden(
    fake: FakeX, tweepy_client: AsyncClient
) -> None:
    first = await tweepy_client.create_tweet(text="first")
    await tweepy_client.delete_tweet(first.data["id"])

    for target in ("1234567890", first.data["id"]):
        with pytest.raises(Forbidden) as caught:
            await tweepy_client.create_tweet(text="reply", in_reply_to_tweet_id=target)
        assert caught.value.api_messages == [REPLY_TARGET_GONE]
    with pytest.raises(BadRequest):
        await tweepy_client.create_tweet(text="reply", in_reply_to_tweet_id="not-an-id")
    assert [p.text for p in fake.live_posts()] == []


async def test_too_long_counts_weighted_length(tweepy_client: AsyncClient) -> None:
    await tweepy_client.create_tweet(text="中" * 140)  # weight 2 each: exactly 280
    await tweepy_client.create_tweet(text="https://example.com/" + "a" * 300)  # a URL is 23

    with pytest.raises(BadRequest) as caught:
        await tweepy_client.create_tweet(text="文" * 141)
    assert "Your Tweet text is too long." in str(caught.value)


async def test_duplicate_window_and_deleted_posts(
    fake: FakeX, tweepy_client: AsyncClient, clock: ManualClock
) -> None:
    first = await tweepy_client.create_tweet(text="same")
    with pytest.raises(Forbidden) as caught:
        await tweepy_client.create_tweet(text="same")
    assert caught.value.api_messages == [DUPLICATE_DETAIL]

    await tweepy_client.delete_tweet(first.data["id"])
    await tweepy_client.create_tweet(text="same")  # a deleted post is no duplicate
    clock.now += 86_400
    await tweepy_client.create_tweet(text="same")  # nor is one past the window
    assert [p.deleted for p in fake.posts()] == [True, False, False]


async def test_fifteen_minute_window_resets(
    fake: FakeX, tweepy_client: AsyncClient, clock: ManualClock
) -> None:
    for i in range(5):
        await tweepy_client.create_tweet(text=f"post {i}")
    with pytest.raises(TooManyRequests) as caught:
        await tweepy_client.create_tweet(text="post 5")

    assert caught.value.reset_time == int(T0 + 900)
    assert fake.quota().window_15m.remaining == 0
    clock.now += 900
    await tweepy_client.create_tweet(text="post 5")
    assert fake.quota().window_15m.remaining == 4
    assert fake.quota().user_24h is not None
    assert fake.quota().user_24h.remaining == 10_000 - 6


async def test_delete_unknown_post_is_not_found(tweepy_client: AsyncClient) -> None:
    with pytest.raises(NotFound):
        await tweepy_client.delete_tweet("1234")


async def upload(
    session: aiohttp.ClientSession, path: str, **fields: object
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    for name, value in fields.items():
        if isinstance(value, bytes):
            form.add_field(name, value, filename="blob", content_type="application/octet-stream")
        else:
            form.add_field(name, str(value))
    url = "https://api.x.com" + path
    return await session.post(url, data=form, headers=signed("POST", url))


async def post_json(
    session: aiohttp.ClientSession, path: str, body: object
) -> aiohttp.ClientResponse:
    url = "https://api.x.com" + path
    return await session.post(url, json=body, headers=signed("POST", url))


async def status(session: aiohttp.ClientSession, media_id: str) -> Any:
    url = f"https://api.x.com/2/media/upload?command=STATUS&media_id={media_id}"
    response = await session.get(URL(url, encoded=True), headers=signed("GET", url))
    assert response.status == 200
    return await response.json()


async def test_media_must_be_processed_before_a_post_uses_it(
    fake: FakeX, session: aiohttp.ClientSession, tweepy_client: AsyncClient
) -> None:
    init = await post_json(
        session,
        "/2/media/upload/initialize",
        {"total_bytes": len(MP4), "media_type": "video/mp4", "media_category": "tweet_video"},
    )
    media_id = (await init.json())["data"]["id"]
    for index, start in enumerate(range(0, len(MP4), 2000)):
        appended = await upload(
            session,
            f"/2/media/upload/{media_id}/append",
            segment_index=index,
            media=MP4[start : start + 2000],
        )
        assert appended.status == 200
    finalized = await (await post_json(session, f"/2/media/upload/{media_id}/finalize", {})).json()
    assert finalized["data"]["processing_info"]["state"] == "pending"
    assert finalized["data"]["media_key"] == f"7_{media_id}"

    with pytest.raises(BadRequest) as caught:
        await tweepy_client.create_tweet(text="too early", media_ids=[media_id])
    assert caught.value.api_messages == [INVALID_MEDIA_IDS]

    states = [(await status(session, media_id))["data"]["processing_info"]["state"] for _ in "12"]
    assert states == ["in_progress", "succeeded"]
    await tweepy_client.create_tweet(text="video", media_ids=[media_id])
    assert fake.live_posts()[-1].media_ids == (media_id,)


async def test_media_is_checked(
    fake: FakeX, session: aiohttp.ClientSession, tweepy_client: AsyncClient, clock: ManualClock
) -> None:
    wrong_type = await upload(
        session, "/2/media/upload", media=PNG, media_category="tweet_image", media_type="image/jpeg"
    )
    video_simple = await upload(session, "/2/media/upload", media=MP4, media_category="tweet_video")
    short = await post_json(
        session,
        "/2/media/upload/initialize",
        {"total_bytes": 10_000, "media_type": "image/png", "media_category": "tweet_image"},
    )
    short_id = (await short.json())["data"]["id"]
    await upload(session, f"/2/media/upload/{short_id}/append", segment_index=0, media=PNG)
    incomplete = await post_json(session, f"/2/media/upload/{short_id}/finalize", {})
    good = await upload(session, "/2/media/upload", media=PNG, media_category="tweet_image")
    good_id = (await good.json())["data"]["id"]

    assert [r.status for r in (wrong_type, video_simple, incomplete, good)] == [400, 400, 400, 200]
    with pytest.raises(BadRequest):
        await tweepy_client.create_tweet(text="unknown media", media_ids=["99"])
    clock.now += 86_400  # media ids expire (expires_after_secs)
    with pytest.raises(BadRequest):
        await tweepy_client.create_tweet(text="expired media", media_ids=[good_id])
    assert fake.live_posts() == []


async def test_scripted_faults(fake: FakeX, tweepy_client: AsyncClient) -> None:
    fake.inject(FaultKind.RATE_LIMIT, endpoint=CREATE_POST)
    fake.inject(FaultKind.SERVER_ERROR, status=503)
    fake.inject(FaultKind.DROP_BEFORE)
    fake.inject(FaultKind.SLOW, delay=0.01)

    with pytest.raises(TooManyRequests):
        await tweepy_client.create_tweet(text="a")
    with pytest.raises(TwitterServerError) as server_error:
        await tweepy_client.create_tweet(text="a")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await tweepy_client.create_tweet(text="a")
    await tweepy_client.create_tweet(text="a")  # slow, then recorded

    assert server_error.value.api_messages == ["Service Unavailable"]
    assert [c.fault for c in fake.calls()] == [
        FaultKind.RATE_LIMIT,
        FaultKind.SERVER_ERROR,
        FaultKind.DROP_BEFORE,
        FaultKind.SLOW,
    ]
    assert [p.text for p in fake.posts()] == ["a"]
    assert fake.quota().window_15m.remaining == 4  # injected failures cost no quota


async def test_a_fault_after_passing_calls_and_posts_from_elsewhere(
    fake: FakeX, tweepy_client: AsyncClient
) -> None:
    """`after` lets calls through first; `elsewhere` lands the user's other posts after it."""
    fake.inject(FaultKind.DROP_AFTER, endpoint=CREATE_POST, after=1, elsewhere=3)
    await tweepy_client.create_tweet(text="first")
    await tweepy_client.get_users_tweets(fake.user_id, user_auth=True)  # not a CREATE_POST
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await tweepy_client.create_tweet(text="second")
    await tweepy_client.create_tweet(text="third")

    assert [c.fault for c in fake.calls(CREATE_POST)] == [None, FaultKind.DROP_AFTER, None]
    assert [p.text for p in fake.posts()] == [
        "first",
        "second",
        "posted elsewhere 1/3",
        "posted elsewhere 2/3",
        "posted elsewhere 3/3",
        "third",
    ]
    assert fake.quota().window_15m.remaining == 5 - 3  # the posts from elsewhere cost none
    with pytest.raises(ValueError, match="negative"):
        fake.inject(FaultKind.SLOW, after=-1)


async def test_http_control_scripts_after_and_elsewhere(fake: FakeX) -> None:
    async with aiohttp.ClientSession(base_url=fake.base_url) as control:
        good = await control.post(
            "/_control/faults", json={"kind": "drop_after", "after": 2, "elsewhere": 5}
        )
        bad = await control.post("/_control/faults", json={"kind": "slow", "after": -1})
    assert (good.status, bad.status) == (200, 400)
    assert list(fake._faults.scripted) == [Fault(FaultKind.DROP_AFTER, after=2, elsewhere=5)]


async def test_fault_rate_targets_one_endpoint(fake: FakeX, tweepy_client: AsyncClient) -> None:
    fake.set_fault_rate(1.0, [FaultKind.RATE_LIMIT], endpoint=DELETE_POST, seed=7)
    post = await tweepy_client.create_tweet(text="kept")
    with pytest.raises(TooManyRequests):
        await tweepy_client.delete_tweet(post.data["id"])
    fake.clear_faults()
    await tweepy_client.delete_tweet(post.data["id"])
    assert fake.post(post.data["id"]).deleted


def test_seeded_fault_rate_is_reproducible() -> None:
    def draws(seed: int) -> list[Fault | None]:
        plan = FaultPlan()
        plan.set_rate(
            0.5, [FaultKind.RATE_LIMIT, FaultKind.DROP_AFTER], seed=seed, endpoint=None, delay=0
        )
        return [plan.take(CREATE_POST) for _ in range(40)]

    assert draws(3) == draws(3)
    assert draws(3) != draws(4)
    assert 5 < sum(d is not None for d in draws(3)) < 35


async def test_http_control_api(fake: FakeX, tweepy_client: AsyncClient) -> None:
    post = await tweepy_client.create_tweet(text="controlled")
    async with aiohttp.ClientSession(base_url=fake.base_url) as control:
        posts = await (await control.get("/_control/posts")).json()
        quota = await (await control.get("/_control/quota")).json()
        injected = await control.post("/_control/faults", json={"kind": "rate_limit"})
        advanced = await (await control.post("/_control/advance", json={"seconds": 60})).json()
        bad = await control.post("/_control/faults", json={"kind": "meteor"})
        with pytest.raises(TooManyRequests):
            await tweepy_client.create_tweet(text="refused")
        calls = await (await control.get("/_control/calls")).json()

    assert posts["posts"][0]["id"] == post.data["id"]
    assert quota["window_15m"] == {"limit": 5, "remaining": 4, "reset": int(T0 + 900)}
    assert injected.status == 200
    assert bad.status == 400
    assert advanced["now"] == T0 + 60
    assert [c["status"] for c in calls["calls"]] == [201, 429]


async def test_unknown_route_is_xs_404(fake: FakeX) -> None:
    async with aiohttp.ClientSession() as s:
        response = await s.get(f"{fake.base_url}/1.1/statuses/update.json")
        assert response.status == 404
        assert (await response.json())["errors"][0]["code"] == 34


async def test_serve_fake_x_runs_until_cancelled() -> None:
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve_fake_x("127.0.0.1", 0, **X_CREDENTIALS, on_ready=ready.set_result)
    )
    base_url = await asyncio.wait_for(ready, timeout=5)
    async with aiohttp.ClientSession() as s:
        body = json.loads(await (await s.get(f"{base_url}/_control/posts")).text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert body == {"posts": []}


def test_sniff_media_type() -> None:
    assert sniff_media_type(PNG) == "image/png"
    assert sniff_media_type(MP4) == "video/mp4"
    assert sniff_media_type(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert sniff_media_type(b"plain text") is None


async def test_users_me_names_the_token_holder_with_rate_headers(
    fake: FakeX, tweepy_client: AsyncClient
) -> None:
    tweepy_client.return_type = aiohttp.ClientResponse
    response = await tweepy_client.get_me(user_auth=True)

    assert response.status == 200
    assert await response.json() == {
        "data": {"id": "4242", "name": "Python Trending Weekly", "username": "weeklybot"}
    }
    assert response.headers["x-rate-limit-limit"] == "75"
    assert response.headers["x-rate-limit-remaining"] == "74"
    assert response.headers["x-rate-limit-reset"] == str(int(T0 + 900))
    assert [c.endpoint for c in fake.calls()] == [USERS_ME]


async def test_user_timeline_is_live_posts_newest_first_with_xs_shape(
    fake: FakeX, tweepy_client: AsyncClient
) -> None:
    ids = [(await tweepy_client.create_tweet(text=f"post {n}")).data["id"] for n in range(3)]
    await tweepy_client.delete_tweet(ids[1])
    tweepy_client.return_type = aiohttp.ClientResponse

    response = await tweepy_client.get_users_tweets("4242", max_results=5, user_auth=True)

    assert response.status == 200
    assert await response.json() == {
        "data": [
            {"id": ids[2], "text": "post 2", "edit_history_tweet_ids": [ids[2]]},
            {"id": ids[0], "text": "post 0", "edit_history_tweet_ids": [ids[0]]},
        ],
        "meta": {"result_count": 2, "newest_id": ids[2], "oldest_id": ids[0]},
    }
    assert response.headers["x-rate-limit-limit"] == "900"
    assert response.headers["x-rate-limit-remaining"] == "899"
    assert fake.quota(USER_POSTS).window_15m.remaining == 899


async def test_user_timeline_pages_and_shows_text_as_x_does(
    fake: FakeX, clock: ManualClock, tweepy_client: AsyncClient
) -> None:
    for n in range(6):
        clock.now += 300  # the fixture allows 5 posts per 15 minutes
        await tweepy_client.create_tweet(text=f"post {n} & <more> at https://example.com/{n}")

    first = await tweepy_client.get_users_tweets("4242", max_results=5, user_auth=True)
    second = await tweepy_client.get_users_tweets(
        "4242", max_results=5, pagination_token=first.meta["next_token"], user_auth=True
    )
    other_user = await tweepy_client.get_users_tweets("77", user_auth=True)

    assert [t.text.split(" &amp;")[0] for t in first.data] == [f"post {n}" for n in (5, 4, 3, 2, 1)]
    assert [t.text.split(" &amp;")[0] for t in second.data] == ["post 0"]
    assert "next_token" not in second.meta
    assert first.data[0].text.startswith("post 5 &amp; &lt;more&gt; at https://t.co/")
    assert other_user.data is None
    assert other_user.meta == {"result_count": 0}


def test_shown_text_rewrites_links_the_same_way_each_time() -> None:
    once = shown_text("see example.com/a and https://python.org")
    assert once == shown_text("see example.com/a and https://python.org")
    assert once.startswith("see https://t.co/")
    assert "python.org" not in once
    assert shown_text("a < b & c") == "a &lt; b &amp; c"


@pytest.mark.parametrize("max_results", [4, 101, "ten"])
async def test_user_timeline_max_results_must_be_5_to_100(
    fake: FakeX, tweepy_client: AsyncClient, max_results: object
) -> None:
    with pytest.raises(BadRequest) as caught:
        await tweepy_client.get_users_tweets("4242", max_results=max_results, user_auth=True)
    assert "max_results" in caught.value.api_messages[0]
    assert fake.calls(USER_POSTS)[-1].status == 400


async def test_user_timeline_refuses_unknown_params_and_bad_ids(fake: FakeX) -> None:
    async with aiohttp.ClientSession() as s:
        statuses = []
        for path in ("/2/users/4242/tweets?shoe_size=9", "/2/users/me/tweets"):
            headers = signed("GET", f"https://api.twitter.com{path}")
            response = await s.get(
                f"{fake.base_url}{path}", headers={**headers, "X-Original-Host": "api.twitter.com"}
            )
            statuses.append(response.status)
    assert statuses == [400, 400]


@pytest.mark.parametrize("path", ["/2/users/me", "/2/users/4242/tweets?max_results=5"])
async def test_user_endpoints_need_oauth(fake: FakeX, path: str) -> None:
    async with aiohttp.ClientSession() as s:
        unsigned = await s.get(f"{fake.base_url}{path}")
        wrong_secret = await s.get(
            f"{fake.base_url}{path}",
            headers={
                **signed("GET", f"https://api.twitter.com{path}", secret="not-the-secret"),
                "X-Original-Host": "api.twitter.com",
            },
        )
        good = await s.get(
            f"{fake.base_url}{path}",
            headers={
                **signed("GET", f"https://api.twitter.com{path}"),
                "X-Original-Host": "api.twitter.com",
            },
        )

    assert (unsigned.status, wrong_secret.status, good.status) == (401, 401, 200)
    assert [c.auth_error for c in fake.calls()] == [
        "no OAuth Authorization header",
        "bad signature",
        None,
    ]


async def test_user_timeline_quota_runs_out_into_429(
    clock: ManualClock, tweepy_client: AsyncClient
) -> None:
    async with (
        FakeX(**X_CREDENTIALS, clock=clock, limits=XLimits(user_posts_15m=2)) as fx,
        retargeting_session(fx.base_url) as s,
    ):
        client = AsyncClient(**X_CREDENTIALS)
        client.session = s
        for _ in range(2):
            await client.get_users_tweets("4242", user_auth=True)
        with pytest.raises(TooManyRequests) as caught:
            await client.get_users_tweets("4242", user_auth=True)
        clock.now += 900
        await client.get_users_tweets("4242", user_auth=True)

    assert caught.value.reset_time == int(T0 + 900)
    assert [c.status for c in fx.calls(USER_POSTS)] == [200, 200, 429, 200]
