"""The project's X client: tweepy's AsyncClient for posts, v2 media upload written here.

tweepy 4.17 has no v2 media upload (PLATFORMS.md B.5), so ``upload_media``
speaks ``/2/media/upload`` itself, signed with the same OAuth 1.0a credentials
through the same ``aiohttp.ClientSession``. One session middleware reads the
rate-limit headers of every response (tweepy hides them on success) and, when
``api_base_url`` is set, retargets ``api.twitter.com``/``api.x.com`` to that
base (a loopback fake) while the signature stays over the original URL (B.2).

Errors, all raised as they are (nothing is wrapped)::

    tweepy.errors.TweepyException
     ├── HTTPException                (X answered with an error status)
     │    ├── BadRequest              400: too long, invalid media ids, bad upload
     │    ├── Unauthorized            401: bad credentials or signature
     │    ├── Forbidden               403: duplicate content, reply target deleted
     │    ├── NotFound                404
     │    ├── TooManyRequests         429: .reset_time = x-rate-limit-reset, the
     │    │                           15-minute window only; when a 24-hour cap ran
     │    │                           out, ``quota.blocked_until()`` says how long
     │    └── TwitterServerError      5xx
     └── MediaProcessingError         X failed (or never finished) processing media
    aiohttp.ClientError, asyncio.TimeoutError
                                      network trouble; X may or may not have acted

Media upload errors are built exactly the way tweepy builds them for posts.

``find_recent_post`` recognises one of the user's own posts by its text. X
shows a post's text changed in two ways (its read endpoints): links rewritten
to ``t.co`` and ``& < >`` as HTML entities; so both sides are compared by
``comparable_text``: entities undone (X's side only), NFC, every link X would
make (twitter-text's URL extraction) replaced by one placeholder, runs of
whitespace collapsed and the ends stripped.
"""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlencode

import aiohttp
import tweepy
from oauthlib.oauth1 import Client as OAuth1Signer  # type: ignore[import-untyped]
from tweepy.asynchronous import AsyncClient
from tweepy.errors import (
    BadRequest,
    Forbidden,
    HTTPException,
    NotFound,
    TooManyRequests,
    TweepyException,
    TwitterServerError,
    Unauthorized,
)
from twitter_text import extract_urls_with_indices
from yarl import URL

from publishers.x_quota import XQuota, quota_from_headers

API_HOSTS: Final = frozenset({"api.twitter.com", "api.x.com"})
MEDIA_BASE: Final = "https://api.x.com"  # docs.x.com writes media upload on api.x.com
DEFAULT_CHUNK_SIZE: Final = 1024 * 1024
ASYNC_STATES: Final = frozenset({"pending", "in_progress"})
TIMELINE_RESULTS: Final = range(5, 101)  # max_results X accepts on GET /2/users/:id/tweets
LINK_PLACEHOLDER: Final = "\x00link\x00"
_WHITESPACE: Final = re.compile(r"\s+")
_X_ENTITIES: Final = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))  # &amp; last

Json = dict[str, Any]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CreatedPost:
    """A post X accepted."""

    id: str
    text: str


class MediaProcessingError(TweepyException):  # type: ignore[misc]
    """X reported media processing as failed, or it did not finish in time."""

    def __init__(self, media_id: str, reason: str) -> None:
        super().__init__(f"media {media_id}: {reason}")
        self.media_id = media_id
        self.reason = reason


def comparable_text(text: str) -> str:
    """Reduce a post's text to what survives X's rewriting (see the module docstring)."""
    normal = unicodedata.normalize("NFC", text)
    pieces: list[str] = []
    end = 0
    for found in extract_urls_with_indices(normal):
        start, stop = found["indices"]
        pieces += [normal[end:start], LINK_PLACEHOLDER]
        end = stop
    pieces.append(normal[end:])
    return _WHITESPACE.sub(" ", "".join(pieces)).strip()


def unescape_x_text(text: str) -> str:
    """Undo the only HTML entities X writes into a post's text: ``&amp; &lt; &gt;``."""
    for entity, char in _X_ENTITIES:
        text = text.replace(entity, char)
    return text


def endpoint_key(method: str, path: str) -> str:
    """Name an endpoint the way X meters it: ids in the path do not matter."""
    version, _, rest = path.lstrip("/").partition("/")
    templated = re.sub(r"(?<![^/])[0-9]+(?=/|$)", "{id}", rest)
    return f"{method.upper()} /{version}/{templated}" if rest else f"{method.upper()} {path}"


def tweepy_error(response: aiohttp.ClientResponse, payload: Json) -> HTTPException:
    """Build the exception tweepy's AsyncClient would raise for this response."""
    status = response.status
    if status == 429:
        reset = response.headers.get("x-rate-limit-reset")
        reset_time = int(reset) if reset and reset.isdigit() else None
        return TooManyRequests(response, response_json=payload, reset_time=reset_time)
    by_status: dict[int, type[HTTPException]] = {
        400: BadRequest,
        401: Unauthorized,
        403: Forbidden,
        404: NotFound,
    }
    if status >= 500:
        return TwitterServerError(response, response_json=payload)
    return by_status.get(status, HTTPException)(response, response_json=payload)


class XClient:
    """Posts to X as one user (OAuth 1.0a user context) over one long-lived session.

    Args:
        consumer_key, consumer_secret, access_token, access_token_secret: the
            app's and the user's OAuth 1.0a credentials, as plain strings.
        api_base_url: send every X API request there instead (a loopback fake).
        timeout: total seconds for one HTTP request.
        sleep: awaited between media status polls; tests pass a recorder.
        max_status_polls: give up on media processing after this many polls.
    """

    def __init__(
        self,
        *,
        consumer_key: str,
        consumer_secret: str,
        access_token: str,
        access_token_secret: str,
        api_base_url: str | None = None,
        timeout: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        max_status_polls: int = 60,
    ) -> None:
        self._consumer_key = consumer_key
        self._consumer_secret = consumer_secret
        self._access_token = access_token
        self._access_token_secret = access_token_secret
        self._base = URL(api_base_url) if api_base_url else None
        self._timeout = timeout
        self._sleep = sleep
        self._max_status_polls = max_status_polls
        self._session: aiohttp.ClientSession | None = None
        self._tweepy: AsyncClient | None = None
        self._quotas: dict[str, XQuota] = {}
        self._user_id: str | None = None
        self._user_agent = f"weeklybot tweepy/{tweepy.__version__} aiohttp/{aiohttp.__version__}"

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        """Open the one session every request of this client goes through."""
        if self._session is not None:
            return
        self._session = aiohttp.ClientSession(
            middlewares=(self._middleware,),
            timeout=aiohttp.ClientTimeout(total=self._timeout),
        )
        self._tweepy = AsyncClient(
            consumer_key=self._consumer_key,
            consumer_secret=self._consumer_secret,
            access_token=self._access_token,
            access_token_secret=self._access_token_secret,
        )
        self._tweepy.session = self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None
        self._tweepy = None

    async def __aenter__(self) -> XClient:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- quota -----------------------------------------------------------------

    @property
    def quota(self) -> XQuota:
        """Remaining quota of POST /2/tweets, from the last response's headers."""
        return self.quota_for("POST", "/2/tweets")

    def quota_for(self, method: str, path: str) -> XQuota:
        return self._quotas.get(endpoint_key(method, path), XQuota())

    async def _middleware(
        self,
        request: aiohttp.ClientRequest,
        handler: Callable[[aiohttp.ClientRequest], Awaitable[aiohttp.ClientResponse]],
    ) -> aiohttp.ClientResponse:
        """Retarget to ``api_base_url`` and record the rate-limit headers of every answer."""
        key = endpoint_key(request.method, request.url.path)
        if self._base is not None and request.url.host in API_HOSTS:
            # The Host header (set from the original URL) stays api.twitter.com;
            # X-Original-Host says so explicitly for the fake's signature check.
            request.headers["X-Original-Host"] = request.url.host
            request.url = URL.build(
                scheme=self._base.scheme,
                host=self._base.raw_host or "",
                port=self._base.port,
                path=self._base.raw_path.rstrip("/") + request.url.raw_path,
                query_string=request.url.raw_query_string,
                encoded=True,
            )
        response = await handler(request)
        self._quotas[key] = quota_from_headers(response.headers, self._quotas.get(key, XQuota()))
        return response

    # -- posts -----------------------------------------------------------------

    def _client(self) -> AsyncClient:
        if self._tweepy is None:
            raise RuntimeError("XClient.start() was not awaited")
        return self._tweepy

    async def create_post(
        self,
        text: str,
        *,
        in_reply_to: str | None = None,
        media_ids: Sequence[str] = (),
    ) -> CreatedPost:
        """Create a post; ``in_reply_to`` the previous post's id makes a thread."""
        response = await self._client().create_tweet(
            text=text,
            in_reply_to_tweet_id=in_reply_to,
            media_ids=list(media_ids) or None,
        )
        data = response.data
        return CreatedPost(id=str(data["id"]), text=str(data["text"]))

    async def user_id(self) -> str:
        """The authenticated user's id (GET /2/users/me), asked once per client."""
        if self._user_id is None:
            response = await self._client().get_me(user_auth=True)
            self._user_id = str(response.data.id)
        return self._user_id

    async def find_recent_post(
        self, text: str, *, per_page: int = 100, pages: int = 3
    ) -> str | None:
        """Return the id of the newest of the user's recent posts showing ``text``.

        For a post X has but whose id was lost (a resend refused as a duplicate). The
        timeline is read newest first, ``per_page`` posts a request (X's
        ``max_results``, 5 to 100), following ``next_token`` for at most ``pages``
        requests: a busy account may have posted many times since.
        """
        if per_page not in TIMELINE_RESULTS:
            raise ValueError(f"per_page must be within 5-100, not {per_page}")
        if pages < 1:
            raise ValueError(f"pages must be at least 1, not {pages}")
        user_id = await self.user_id()
        wanted = comparable_text(text)
        token: str | None = None
        for _ in range(pages):
            response = await self._client().get_users_tweets(
                user_id, max_results=per_page, pagination_token=token, user_auth=True
            )
            for post in response.data or ():
                if comparable_text(unescape_x_text(str(post.text))) == wanted:
                    return str(post.id)
            token = (response.meta or {}).get("next_token")
            if token is None:
                break
        return None

    async def delete_post(self, post_id: str) -> None:
        response = await self._client().delete_tweet(post_id)
        if not response.data.get("deleted"):
            raise TweepyException(f"X did not delete post {post_id}")

    # -- media -----------------------------------------------------------------

    async def upload_media(
        self,
        data: bytes,
        media_type: str,
        *,
        category: str = "tweet_image",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        chunked: bool | None = None,
    ) -> str:
        """Upload media and wait until X has processed it; return the media id.

        Images up to ``chunk_size`` go in one request; larger files, videos and
        GIFs (which X only takes chunked) go through initialize/append/finalize,
        then the status is polled while processing is pending.
        """
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        if chunked is None:
            chunked = len(data) > chunk_size or category != "tweet_image"
        if chunked:
            media_id, info = await self._upload_chunked(data, media_type, category, chunk_size)
        else:
            form = aiohttp.FormData()
            form.add_field("media", data, filename="media", content_type="application/octet-stream")
            form.add_field("media_category", category)
            form.add_field("media_type", media_type)
            payload = await self._media_request("POST", "/2/media/upload", form=form)
            media_id = str(payload["data"]["id"])
            info = payload["data"].get("processing_info")
        await self._await_processing(media_id, info)
        return media_id

    async def _upload_chunked(
        self, data: bytes, media_type: str, category: str, chunk_size: int
    ) -> tuple[str, Json | None]:
        init = await self._media_request(
            "POST",
            "/2/media/upload/initialize",
            json_body={
                "total_bytes": len(data),
                "media_type": media_type,
                "media_category": category,
            },
        )
        media_id = str(init["data"]["id"])
        for index, offset in enumerate(range(0, len(data), chunk_size)):
            form = aiohttp.FormData()
            form.add_field("segment_index", str(index))
            form.add_field(
                "media",
                data[offset : offset + chunk_size],
                filename="chunk",
                content_type="application/octet-stream",
            )
            await self._media_request("POST", f"/2/media/upload/{media_id}/append", form=form)
        final = await self._media_request("POST", f"/2/media/upload/{media_id}/finalize")
        return media_id, final["data"].get("processing_info")

    async def _await_processing(self, media_id: str, info: Json | None) -> None:
        polls = 0
        while info is not None and info.get("state") in ASYNC_STATES:
            if polls >= self._max_status_polls:
                raise MediaProcessingError(media_id, f"still {info['state']} after {polls} polls")
            await self._sleep(float(info.get("check_after_secs", 1)))
            polls += 1
            status = await self._media_request(
                "GET", "/2/media/upload", params={"command": "STATUS", "media_id": media_id}
            )
            info = status["data"].get("processing_info")
        if info is not None and info.get("state") != "succeeded":
            error = info.get("error") or {}
            raise MediaProcessingError(media_id, str(error.get("message", info.get("state"))))

    async def _media_request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Json | None = None,
        form: aiohttp.FormData | None = None,
    ) -> Json:
        """Sign like tweepy does (URL and query only; JSON and multipart bodies are not signed)."""
        if self._session is None:
            raise RuntimeError("XClient.start() was not awaited")
        url = MEDIA_BASE + path
        if params:
            url += "?" + urlencode(sorted(params.items()))
        signer = OAuth1Signer(
            self._consumer_key,
            client_secret=self._consumer_secret,
            resource_owner_key=self._access_token,
            resource_owner_secret=self._access_token_secret,
        )
        signed_url, headers, _ = signer.sign(url, method, headers={"User-Agent": self._user_agent})
        async with self._session.request(
            method, URL(signed_url, encoded=True), headers=headers, json=json_body, data=form
        ) as response:
            raw = await response.read()
        try:
            payload = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        if not 200 <= response.status < 300:
            raise tweepy_error(response, payload)
        return payload
