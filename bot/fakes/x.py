"""A strict loopback fake of the X API v2 (posts, the user's timeline, v2 media upload).

Runs an aiohttp server on 127.0.0.1 so that the real tweepy ``AsyncClient`` and
the project's ``XClient`` talk HTTP to it (PLATFORMS.md B.2). Use it as a
library::

    async with FakeX(consumer_key=..., consumer_secret=...,
                     access_token=..., access_token_secret=...) as fx:
        client = XClient(..., api_base_url=fx.base_url)

or run ``serve_fake_x(host, port, ...)`` as a process (``weeklybot fake-x``).
Tests read what it recorded through ``posts()``, ``calls()``, ``quota()`` or
the HTTP JSON control API under ``/_control/``; faults are injected with
``inject()`` / ``set_fault_rate()`` (or ``POST /_control/faults``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import html
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from twitter_text import extract_urls_with_indices

from bot.fakes.x_auth import OAuthCredentials, original_url, verify_oauth1
from bot.fakes.x_model import (
    CREATE_POST,
    DELETE_POST,
    ENDPOINTS,
    MEDIA_APPEND,
    MEDIA_FINALIZE,
    MEDIA_INITIALIZE,
    MEDIA_STATUS,
    MEDIA_UPLOAD,
    USER_POSTS,
    USERS_ME,
    CallRecord,
    EndpointQuota,
    FakeMedia,
    FakePost,
    Fault,
    FaultKind,
    FaultPlan,
    MediaState,
    MediaUpload,
    QuotaView,
    XLimits,
    build_quotas,
    rate_limit_headers,
)
from publishers.limits import X_MAX_WEIGHTED, x_weighted_length

__all__ = [
    "CREATE_POST",
    "DELETE_POST",
    "MEDIA_APPEND",
    "MEDIA_FINALIZE",
    "MEDIA_INITIALIZE",
    "MEDIA_STATUS",
    "MEDIA_UPLOAD",
    "USERS_ME",
    "USER_POSTS",
    "CallRecord",
    "FakeMedia",
    "FakePost",
    "FakeX",
    "FaultKind",
    "MediaState",
    "QuotaView",
    "XLimits",
    "serve_fake_x",
]

log = logging.getLogger(__name__)

Json = dict[str, Any]
Work = Callable[[web.Request, str], Awaitable[tuple[int, Json]]]

# Bodies copied from X (PLATFORMS.md B.7).
DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
TOO_LONG_MESSAGE = (
    "Your Tweet text is too long. For more information on how Twitter determines "
    "text length see https://github.com/twitter/twitter-text."
)
REPLY_TARGET_GONE = "You attempted to reply to a Tweet that is deleted or not visible to you."
INVALID_MEDIA_IDS = "Your media IDs are invalid."
INVALID_REQUEST_TYPE = "https://api.twitter.com/2/problems/invalid-request"

CREATE_POST_FIELDS = frozenset(
    {
        "text",
        "reply",
        "media",
        "quote_tweet_id",
        "poll",
        "reply_settings",
        "for_super_followers_only",
        "geo",
        "direct_message_deep_link",
        "community_id",
    }
)
MAX_MEDIA_PER_POST = 4
MAX_SEGMENT_INDEX = 999
MAX_SEGMENT_BYTES = 5 * 1024 * 1024
ASYNC_CATEGORIES = frozenset({"tweet_video", "tweet_gif", "amplify_video"})
# media_category -> (accepted media types, maximum bytes); docs.x.com media best practices
CATEGORY_RULES: dict[str, tuple[frozenset[str], int]] = {
    "tweet_image": (
        frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp"}),
        5 * 1024 * 1024,
    ),
    "tweet_gif": (frozenset({"image/gif"}), 15 * 1024 * 1024),
    "tweet_video": (frozenset({"video/mp4", "video/quicktime"}), 512 * 1024 * 1024),
    "amplify_video": (frozenset({"video/mp4", "video/quicktime"}), 512 * 1024 * 1024),
}
MEDIA_KEY_PREFIX = {
    "tweet_image": "3",
    "tweet_gif": "16",
    "tweet_video": "7",
    "amplify_video": "13",
}
DIGITS = re.compile(r"^[0-9]{1,19}$")
TIMELINE_DEFAULT_RESULTS = 10
TIMELINE_MIN_RESULTS = 5
TIMELINE_MAX_RESULTS = 100
TIMELINE_PARAMS = frozenset(
    {
        "max_results",
        "pagination_token",
        "since_id",
        "until_id",
        "start_time",
        "end_time",
        "exclude",
        "expansions",
        "tweet.fields",
        "user.fields",
        "media.fields",
        "place.fields",
        "poll.fields",
    }
)


def sniff_media_type(data: bytes) -> str | None:
    """Return the media type the bytes really are, from their magic number."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"BM"):
        return "image/bmp"
    if data[4:8] == b"ftyp":
        return "video/quicktime" if data[8:10] == b"qt" else "video/mp4"
    return None


def shown_text(text: str) -> str:
    """A post's text as X's read endpoints return it: links as t.co, ``& < >`` escaped.

    The t.co code is derived from the URL, so the same link reads the same.
    """
    pieces: list[str] = []
    end = 0
    for found in extract_urls_with_indices(text):
        start, stop = found["indices"]
        digest = hashlib.sha256(str(found["url"]).encode()).hexdigest()[:10]
        pieces += [text[end:start], f"https://t.co/{digest}"]
        end = stop
    pieces.append(text[end:])
    return html.escape("".join(pieces), quote=False)


def problem(status: int, title: str, detail: str, type_: str = "about:blank") -> Json:
    """An RFC 7807 problem body as X v2 sends it."""
    return {"title": title, "detail": detail, "type": type_, "status": status}


def invalid_request(message: str, parameter: str, value: object) -> Json:
    """X v2's 400 body for a bad parameter; tweepy shows ``errors[].message``."""
    return {
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": INVALID_REQUEST_TYPE,
    }


class RequestError(Exception):
    """Raised by route logic to answer with an X error body."""

    def __init__(self, status: int, body: Json) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def bad_request(message: str, parameter: str, value: object) -> RequestError:
    return RequestError(400, invalid_request(message, parameter, value))


class FakeX:
    """A strict fake X API v2 for one app and one user, on a loopback port.

    Args:
        consumer_key, consumer_secret, access_token, access_token_secret:
            the only OAuth 1.0a credentials accepted.
        user_id: the authenticated user's id; defaults to the numeric prefix of
            ``access_token`` as X issues them (``<user id>-<random>``).
        username, name: what GET /2/users/me shows for that user.
        limits: quotas and media-processing behaviour.
        clock: seconds since the epoch; inject one to move quota windows in tests.
    """

    def __init__(
        self,
        *,
        consumer_key: str,
        consumer_secret: str,
        access_token: str,
        access_token_secret: str,
        user_id: str | None = None,
        username: str = "weeklybot",
        name: str = "Python Trending Weekly",
        limits: XLimits | None = None,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._credentials = OAuthCredentials(
            consumer_key, consumer_secret, access_token, access_token_secret
        )
        prefix = access_token.partition("-")[0]
        self.user_id = user_id or (prefix if prefix.isdigit() else "1")
        self.username = username
        self.name = name
        self.limits = limits or XLimits()
        self._clock = clock
        self._offset = 0.0
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self._reset_state()

    def _reset_state(self) -> None:
        self._posts: dict[str, FakePost] = {}
        self._media: dict[str, MediaUpload] = {}
        self._calls: list[CallRecord] = []
        self._quotas: dict[str, EndpointQuota] = build_quotas(self.limits)
        self._faults = FaultPlan()
        self._nonces: set[tuple[str, str]] = set()
        self._next_post_id = 1_900_000_000_000_000_000
        self._next_media_id = 1_880_000_000_000_000_000

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> str:
        """Start serving; return the base URL (``http://127.0.0.1:<port>``)."""
        app = web.Application(client_max_size=16 * 1024 * 1024)
        self._add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeX:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- control API (Python) ------------------------------------------------

    def now(self) -> float:
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward (on top of the injected clock)."""
        self._offset += seconds

    def posts(self) -> list[FakePost]:
        """Every post ever created, deleted ones included, oldest first."""
        return list(self._posts.values())

    def live_posts(self) -> list[FakePost]:
        return [post for post in self._posts.values() if not post.deleted]

    def post(self, post_id: str) -> FakePost:
        return self._posts[post_id]

    def media(self) -> list[FakeMedia]:
        return [upload.view() for upload in self._media.values()]

    def calls(self, endpoint: str | None = None) -> list[CallRecord]:
        return [c for c in self._calls if endpoint is None or c.endpoint == endpoint]

    def quota(self, endpoint: str = CREATE_POST) -> QuotaView:
        """Remaining quota of an endpoint, as the headers of its next answer would show."""
        return self._quotas[endpoint].view(self.now())

    def inject(
        self,
        kind: FaultKind,
        *,
        times: int = 1,
        endpoint: str | None = None,
        delay: float = 0.0,
        status: int = 503,
    ) -> None:
        """Script the next ``times`` matching calls to fail with ``kind``."""
        if endpoint is not None and endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        self._faults.script(Fault(kind, endpoint, delay, status) for _ in range(times))

    def set_fault_rate(
        self,
        rate: float,
        kinds: Sequence[FaultKind],
        *,
        seed: int = 0,
        endpoint: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Fail a seeded random share of calls with one of ``kinds``."""
        self._faults.set_rate(rate, kinds, seed=seed, endpoint=endpoint, delay=delay)

    def clear_faults(self) -> None:
        self._faults.clear()

    def reset(self) -> None:
        """Forget posts, media, calls, quotas and faults."""
        self._reset_state()

    # -- routing -------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        def metered(
            endpoint: str, work: Work
        ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
            async def handler(request: web.Request) -> web.StreamResponse:
                return await self._serve(request, endpoint, work)

            return handler

        app.router.add_post("/2/tweets", metered(CREATE_POST, self._create_post))
        app.router.add_delete("/2/tweets/{id}", metered(DELETE_POST, self._delete_post))
        app.router.add_get("/2/users/me", metered(USERS_ME, self._users_me))
        app.router.add_get("/2/users/{id}/tweets", metered(USER_POSTS, self._user_posts))
        app.router.add_post(
            "/2/media/upload/initialize", metered(MEDIA_INITIALIZE, self._media_initialize)
        )
        app.router.add_post(
            "/2/media/upload/{id}/append", metered(MEDIA_APPEND, self._media_append)
        )
        app.router.add_post(
            "/2/media/upload/{id}/finalize", metered(MEDIA_FINALIZE, self._media_finalize)
        )
        app.router.add_post("/2/media/upload", metered(MEDIA_UPLOAD, self._media_upload))
        app.router.add_get("/2/media/upload", metered(MEDIA_STATUS, self._media_status))
        app.router.add_get("/_control/posts", self._control_posts)
        app.router.add_get("/_control/media", self._control_media)
        app.router.add_get("/_control/calls", self._control_calls)
        app.router.add_get("/_control/quota", self._control_quota)
        app.router.add_post("/_control/faults", self._control_inject)
        app.router.add_post("/_control/fault_rate", self._control_fault_rate)
        app.router.add_delete("/_control/faults", self._control_clear_faults)
        app.router.add_post("/_control/advance", self._control_advance)
        app.router.add_post("/_control/reset", self._control_reset)
        app.router.add_route("*", "/{tail:.*}", self._not_found)

    async def _not_found(self, request: web.Request) -> web.Response:
        self._record(request, None, 404)
        body = {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}
        return web.json_response(body, status=404)

    def _record(
        self,
        request: web.Request,
        endpoint: str | None,
        status: int | None,
        *,
        fault: FaultKind | None = None,
        auth_error: str | None = None,
    ) -> None:
        host = request.headers.get("X-Original-Host") or request.host
        self._calls.append(
            CallRecord(
                seq=len(self._calls) + 1,
                at=self.now(),
                method=request.method,
                path=request.raw_path,
                host=host,
                host_header=request.host,
                original_url=original_url(host, request.raw_path),
                endpoint=endpoint,
                status=status,
                fault=fault,
                auth_error=auth_error,
            )
        )

    async def _serve(self, request: web.Request, endpoint: str, work: Work) -> web.StreamResponse:
        """Authenticate, inject faults, meter, run ``work``; the order X applies them."""
        form_params: list[tuple[str, str]] = []
        if request.content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            form_params = [(k, v) for k, v in form.items() if isinstance(v, str)]
        failure = verify_oauth1(
            method=request.method,
            host=request.headers.get("X-Original-Host") or request.host,
            raw_path=request.raw_path,
            authorization=request.headers.get("Authorization"),
            form_params=form_params,
            credentials=self._credentials,
            seen_nonces=self._nonces,
        )
        if failure is not None:
            log.info("fake X refused %s %s: %s", request.method, request.path, failure.reason)
            self._record(request, endpoint, 401, auth_error=failure.reason)
            return web.json_response(problem(401, "Unauthorized", "Unauthorized"), status=401)

        quota = self._quotas[endpoint]
        fault = self._faults.take(endpoint)
        if fault is not None:
            early = await self._apply_fault_before(request, endpoint, fault, quota)
            if early is not None:
                return early

        if not quota.try_consume(self.now()):
            self._record(request, endpoint, 429)
            return self._too_many(quota)
        try:
            status, body = await work(request, endpoint)
        except RequestError as error:
            status, body = error.status, error.body
        headers = rate_limit_headers(quota.view(self.now()))
        if fault is not None and fault.kind is FaultKind.DROP_AFTER:
            self._record(request, endpoint, None, fault=fault.kind)
            return self._drop(request)
        self._record(request, endpoint, status, fault=fault.kind if fault else None)
        if fault is not None and fault.kind is FaultKind.SLOW:
            # X acted; only the answer is late (a client timeout cannot tell).
            await asyncio.sleep(fault.delay)
        return web.json_response(body, status=status, headers=headers)

    async def _apply_fault_before(
        self, request: web.Request, endpoint: str, fault: Fault, quota: EndpointQuota
    ) -> web.StreamResponse | None:
        if fault.kind in (FaultKind.SLOW, FaultKind.DROP_AFTER):
            return None  # both act first: see _serve
        self._record(
            request,
            endpoint,
            None if fault.kind is FaultKind.DROP_BEFORE else _fault_status(fault),
            fault=fault.kind,
        )
        if fault.kind is FaultKind.RATE_LIMIT:
            return self._too_many(quota)
        if fault.kind is FaultKind.SERVER_ERROR:
            status = fault.status
            title = "Service Unavailable" if status == 503 else "Internal Server Error"
            return web.json_response(problem(status, title, title), status=status)
        return self._drop(request)

    def _too_many(self, quota: EndpointQuota) -> web.Response:
        return web.json_response(
            problem(429, "Too Many Requests", "Too Many Requests"),
            status=429,
            headers=rate_limit_headers(quota.view(self.now())),
        )

    @staticmethod
    def _drop(request: web.Request) -> web.Response:
        """Close the connection without an answer; the client sees a disconnect."""
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)

    # -- posts ---------------------------------------------------------------

    async def _create_post(self, request: web.Request, endpoint: str) -> tuple[int, Json]:
        body = await _json_body(request)
        unknown = sorted(set(body) - CREATE_POST_FIELDS)
        if unknown:
            raise bad_request(
                f"The `{unknown[0]}` body parameter is not one of the allowed parameters.",
                unknown[0],
                body[unknown[0]],
            )
        text = body.get("text", "")
        if not isinstance(text, str):
            raise bad_request("`text` must be a string", "text", text)
        media_ids = self._check_media(body.get("media"))
        if not text and not media_ids:
            raise bad_request("Post text or media is required.", "text", text)
        if x_weighted_length(text) > X_MAX_WEIGHTED:
            raise bad_request(TOO_LONG_MESSAGE, "text", text)
        reply_to = self._check_reply(body.get("reply"))
        now = self.now()
        if text and any(
            post.text == text
            and not post.deleted
            and post.author_id == self.user_id
            and now - post.created_at < self.limits.duplicate_window
            for post in self._posts.values()
        ):
            raise RequestError(403, problem(403, "Forbidden", DUPLICATE_DETAIL))
        post_id = str(self._next_post_id)
        self._next_post_id += 1
        self._posts[post_id] = FakePost(
            id=post_id,
            text=text,
            author_id=self.user_id,
            created_at=now,
            reply_to=reply_to,
            media_ids=media_ids,
        )
        return 201, {"data": {"id": post_id, "text": text, "edit_history_tweet_ids": [post_id]}}

    def _check_reply(self, reply: object) -> str | None:
        if reply is None:
            return None
        if not isinstance(reply, dict) or set(reply) - {
            "in_reply_to_tweet_id",
            "exclude_reply_user_ids",
        }:
            raise bad_request("`reply` is malformed", "reply", reply)
        target = reply.get("in_reply_to_tweet_id")
        if not isinstance(target, str) or not DIGITS.match(target):
            raise bad_request(
                f"The `reply.in_reply_to_tweet_id` query parameter value [{target}] is not valid",
                "reply.in_reply_to_tweet_id",
                target,
            )
        post = self._posts.get(target)
        if post is None or post.deleted:
            raise RequestError(403, problem(403, "Forbidden", REPLY_TARGET_GONE))
        return target

    def _check_media(self, media: object) -> tuple[str, ...]:
        if media is None:
            return ()
        if not isinstance(media, dict) or set(media) - {"media_ids", "tagged_user_ids"}:
            raise bad_request("`media` is malformed", "media", media)
        ids = media.get("media_ids")
        if (
            not isinstance(ids, list)
            or not 1 <= len(ids) <= MAX_MEDIA_PER_POST
            or not all(isinstance(i, str) for i in ids)
        ):
            raise bad_request(INVALID_MEDIA_IDS, "media.media_ids", ids)
        now = self.now()
        uploads = [self._media.get(media_id) for media_id in ids]
        for media_id, upload in zip(ids, uploads, strict=True):
            if (
                upload is None
                or upload.owner != self.user_id
                or upload.state is not MediaState.SUCCEEDED
                or now >= upload.expires_at
            ):
                raise bad_request(INVALID_MEDIA_IDS, "media.media_ids", media_id)
        if len(ids) > 1 and any(u and u.category in ASYNC_CATEGORIES for u in uploads):
            raise bad_request(INVALID_MEDIA_IDS, "media.media_ids", ids)
        return tuple(ids)

    async def _delete_post(self, request: web.Request, endpoint: str) -> tuple[int, Json]:
        post_id = request.match_info["id"]
        if not DIGITS.match(post_id):
            raise bad_request(
                f"The `id` query parameter value [{post_id}] is not valid", "id", post_id
            )
        post = self._posts.get(post_id)
        if post is None or post.deleted:
            raise RequestError(
                404,
                problem(
                    404,
                    "Not Found Error",
                    f"Could not find tweet with id: [{post_id}].",
                    "https://api.twitter.com/2/problems/resource-not-found",
                ),
            )
        if post.author_id != self.user_id:
            raise RequestError(
                403, problem(403, "Forbidden", "You are not allowed to delete this Tweet.")
            )
        self._posts[post_id] = dataclasses.replace(post, deleted=True)
        return 200, {"data": {"deleted": True}}

    # -- users -----------------------------------------------------------------

    async def _users_me(self, request: web.Request, endpoint: str) -> tuple[int, Json]:
        return 200, {"data": {"id": self.user_id, "name": self.name, "username": self.username}}

    async def _user_posts(self, request: web.Request, endpoint: str) -> tuple[int, Json]:
        """The user's live posts, newest first, one page of ``max_results``."""
        user_id = request.match_info["id"]
        if not DIGITS.match(user_id):
            raise bad_request(
                f"The `id` query parameter value [{user_id}] is not valid", "id", user_id
            )
        unknown = sorted(set(request.query) - TIMELINE_PARAMS)
        if unknown:
            raise bad_request(
                f"The query parameter [{unknown[0]}] is not one of {sorted(TIMELINE_PARAMS)}",
                unknown[0],
                request.query[unknown[0]],
            )
        raw_max = request.query.get("max_results", str(TIMELINE_DEFAULT_RESULTS))
        max_results = int(raw_max) if raw_max.isdigit() else -1
        if not TIMELINE_MIN_RESULTS <= max_results <= TIMELINE_MAX_RESULTS:
            raise bad_request(
                f"The `max_results` query parameter value [{raw_max}] is not between "
                f"{TIMELINE_MIN_RESULTS} and {TIMELINE_MAX_RESULTS}",
                "max_results",
                raw_max,
            )
        token = request.query.get("pagination_token")
        if token is not None and not DIGITS.match(token):
            raise bad_request(
                f"The `pagination_token` query parameter value [{token}] is not valid",
                "pagination_token",
                token,
            )
        timeline = sorted(
            (p for p in self._posts.values() if p.author_id == user_id and not p.deleted),
            key=lambda p: int(p.id),
            reverse=True,
        )
        if token is not None:
            timeline = [p for p in timeline if int(p.id) <= int(token)]
        page, rest = timeline[:max_results], timeline[max_results:]
        meta: Json = {"result_count": len(page)}
        if not page:
            return 200, {"meta": meta}
        meta |= {"newest_id": page[0].id, "oldest_id": page[-1].id}
        if rest:
            meta["next_token"] = rest[0].id
        data = [
            {"id": p.id, "text": shown_text(p.text), "edit_history_tweet_ids": [p.id]} for p in page
        ]
        return 200, {"data": data, "meta": meta}

    # -- media ---------------------------------------------------------------

    def _new_upload(
        self, media_type: str, category: str, total_bytes: int, *, chunked: bool
    ) -> MediaUpload:
        now = self.now()
        media_id = str(self._next_media_id)
        self._next_media_id += 1
        upload = MediaUpload(
            id=media_id,
            media_key=f"{MEDIA_KEY_PREFIX[category]}_{media_id}",
            owner=self.user_id,
            media_type=media_type,
            category=category,
            total_bytes=total_bytes,
            created_at=now,
            expires_at=now + self.limits.media_expires_after,
            chunked=chunked,
        )
        self._media[media_id] = upload
        return upload

    def _owned_upload(self, media_id: str) -> MediaUpload:
        upload = self._media.get(media_id)
        if upload is None or upload.owner != self.user_id or self.now() >= upload.expires_at:
            raise bad_request(f"The media_id [{media_id}] is not valid", "media_id", media_id)
        return upload

    def _upload_data(self, upload: MediaUpload, *, include_size: bool) -> Json:
        data: Json = {
            "id": upload.id,
            "media_key": upload.media_key,
            "expires_after_secs": max(0, int(upload.expires_at - self.now())),
        }
        if include_size:
            data["size"] = upload.total_bytes
        if upload.state in (MediaState.PENDING, MediaState.IN_PROGRESS):
            data["processing_info"] = {
                "state": upload.state.value,
                "check_after_secs": self.limits.check_after_secs,
                "progress_percent": 0 if upload.state is MediaState.PENDING else 50,
            }
        elif upload.state is MediaState.SUCCEEDED and upload.category in ASYNC_CATEGORIES:
            data["processing_info"] = {"state": "succeeded", "progress_percent": 100}
        return data

    def _start_processing(self, upload: MediaUpload) -> None:
        if upload.category in ASYNC_CATEGORIES and self.limits.processing_polls > 0:
            upload.state = MediaState.PENDING
            upload.polls_left = self.limits.processing_polls
        else:
            upload.state = MediaState.SUCCEEDED

    async def _media_upload(self, request: web.Request, endpoint: str) -> tuple[int, Json]:
        form = await _multipart(request)
        media = form.get("media")
        if not isinstance(media, web.FileField):
            raise bad_request("`media` is required", "media", None)
        data = media.file.read()
        category = str(form.get("media_category", ""))
        if category not in CATEGORY_RULES:
            raise bad_request("`media_category` is not valid", "media_category", category)
        if category in ASYNC_CATEGORIES:
            raise bad_request(
                "Video and GIF uploads must use the chunked upload", "media_category", category
            )
        sniffed = sniff_media_type(data)
        declared = form.get("media_type")
        media_type = str(declared) if declared is not None else (sniffed or "")
        _check_media_fits(category, media_type, len(data))
        if sniffed != media_type:
            raise bad_request("media type unrecognized", "media", media_type)
        upload = self._new_upload(media_type, category, len(data), chunked=False)
        upload.segments[0] = data
        self._start_processing(upload)
        return 200, {"data": self._upload_data(upload, include_size=True)}

    async def _media_initialize(self, request: web.Request, endpoint: str) -> tuple[int, Json]:
        body = await _json_body(request)
        total_bytes = body.get("total_bytes")
        media_type = body.get("media_type")
        category = body.get("media_category", "tweet_image")
        if not isinstance(total_bytes, int) or isinstance(total_bytes, bool) or total_bytes <= 0:
            raise bad_request(
                "`total_bytes` must be a positive integer", "total_bytes", total_bytes
            )
        if not isinstance(media_type, str):
            raise bad_request("`media_type` is required", "media_type", media_type)
        if not isinstance(category, str) or category not in CATEGORY_RULES:
            raise bad_request("`media_category` is not valid", "media_category", category)
        _check_media_fits(category, media_type, total_bytes)
        upload = self._new_upload(media_type, category, total_bytes, chunked=True)
        return 200, {"data": self._upload_data(upload, include_size=False)}

    async def _media_append(self, request: web.Request, endpoint: str) -> tuple[int, Json]:
        upload = self._owned_upload(request.match_info["id"])
        if upload.state is not MediaState.UPLOADING:
            raise bad_request("The upload was already finalized", "media_id", upload.id)
        form = await _multipart(request)
        media = form.get("media")
        if not isinstance(media, web.FileField):
            raise bad_request("`media` is required", "media", None)
        raw_index = form.get("segment_index")
        index = int(raw_index) if isinstance(raw_index, str) and raw_index.isdigit() else -1
        if not 0 <= index <= MAX_SEGMENT_INDEX:
            raise bad_request("`segment_index` must be within 0-999", "segment_index", raw_index)
        chunk = media.file.read()
        if not chunk or len(chunk) > MAX_SEGMENT_BYTES:
            raise bad_request("A segment must hold 1 byte to 5 MB", "media", len(chunk))
        previous = upload.segments.get(index, b"")
        if upload.received_bytes() - len(previous) + len(chunk) > upload.total_bytes:
            raise bad_request("More bytes than total_bytes were appended", "media", index)
        upload.segments[index] = chunk
        return 200, {"data": {"expires_at": int(upload.expires_at)}}

    async def _media_finalize(self, request: web.Request, endpoint: str) -> tuple[int, Json]:
        upload = self._owned_upload(request.match_info["id"])
        if upload.state is not MediaState.UPLOADING:
            raise bad_request("The upload was already finalized", "media_id", upload.id)
        if sorted(upload.segments) != list(range(len(upload.segments))):
            raise bad_request("Segments are missing", "media_id", upload.id)
        if upload.received_bytes() != upload.total_bytes:
            raise bad_request(
                "File size does not match total_bytes", "total_bytes", upload.total_bytes
            )
        if sniff_media_type(upload.assembled()) != upload.media_type:
            raise bad_request("media type unrecognized", "media_type", upload.media_type)
        self._start_processing(upload)
        return 200, {"data": self._upload_data(upload, include_size=True)}

    async def _media_status(self, request: web.Request, endpoint: str) -> tuple[int, Json]:
        if request.query.get("command") != "STATUS":
            raise bad_request("`command` must be STATUS", "command", request.query.get("command"))
        upload = self._owned_upload(request.query.get("media_id", ""))
        if upload.state is MediaState.UPLOADING:
            raise bad_request("The upload is not finalized", "media_id", upload.id)
        if upload.state in (MediaState.PENDING, MediaState.IN_PROGRESS):
            upload.polls_left -= 1
            upload.state = (
                MediaState.SUCCEEDED if upload.polls_left <= 0 else MediaState.IN_PROGRESS
            )
        return 200, {"data": self._upload_data(upload, include_size=False)}

    # -- control API (HTTP) ------------------------------------------------

    async def _control_posts(self, request: web.Request) -> web.Response:
        return _control_json({"posts": [dataclasses.asdict(p) for p in self.posts()]})

    async def _control_media(self, request: web.Request) -> web.Response:
        return _control_json({"media": [dataclasses.asdict(m) for m in self.media()]})

    async def _control_calls(self, request: web.Request) -> web.Response:
        return _control_json({"calls": [dataclasses.asdict(c) for c in self.calls()]})

    async def _control_quota(self, request: web.Request) -> web.Response:
        endpoint = request.query.get("endpoint", CREATE_POST)
        if endpoint not in ENDPOINTS:
            return _control_json({"error": f"unknown endpoint {endpoint!r}"}, status=400)
        return _control_json(dataclasses.asdict(self.quota(endpoint)))

    async def _control_inject(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            self.inject(
                FaultKind(body["kind"]),
                times=int(body.get("times", 1)),
                endpoint=body.get("endpoint"),
                delay=float(body.get("delay", 0.0)),
                status=int(body.get("status", 503)),
            )
        except (KeyError, ValueError) as error:
            return _control_json({"error": str(error)}, status=400)
        return _control_json({"ok": True})

    async def _control_fault_rate(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            self.set_fault_rate(
                float(body["rate"]),
                [FaultKind(kind) for kind in body.get("kinds", [])],
                seed=int(body.get("seed", 0)),
                endpoint=body.get("endpoint"),
                delay=float(body.get("delay", 0.0)),
            )
        except (KeyError, ValueError) as error:
            return _control_json({"error": str(error)}, status=400)
        return _control_json({"ok": True})

    async def _control_clear_faults(self, request: web.Request) -> web.Response:
        self.clear_faults()
        return _control_json({"ok": True})

    async def _control_advance(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.advance(float(body["seconds"]))
        return _control_json({"now": self.now()})

    async def _control_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return _control_json({"ok": True})


def _fault_status(fault: Fault) -> int:
    return 429 if fault.kind is FaultKind.RATE_LIMIT else fault.status


def _control_json(body: Json, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda v: json.dumps(v, default=str))


async def _json_body(request: web.Request) -> Json:
    if request.content_type != "application/json":
        raise RequestError(
            400,
            problem(
                400,
                "Invalid Request",
                "The request body must be JSON (Content-Type: application/json).",
                INVALID_REQUEST_TYPE,
            ),
        )
    try:
        body = await request.json()
    except json.JSONDecodeError as error:
        raise RequestError(
            400, problem(400, "Invalid Request", f"Malformed JSON: {error}", INVALID_REQUEST_TYPE)
        ) from error
    if not isinstance(body, dict):
        raise RequestError(
            400, problem(400, "Invalid Request", "The body must be an object", INVALID_REQUEST_TYPE)
        )
    return body


async def _multipart(request: web.Request) -> Any:
    if request.content_type != "multipart/form-data":
        raise RequestError(
            400,
            problem(400, "Invalid Request", "Expected multipart/form-data", INVALID_REQUEST_TYPE),
        )
    return await request.post()


def _check_media_fits(category: str, media_type: str, size: int) -> None:
    accepted, max_bytes = CATEGORY_RULES[category]
    if media_type not in accepted:
        raise bad_request(
            f"media type {media_type} is not valid for {category}", "media_type", media_type
        )
    if size > max_bytes:
        raise bad_request(f"File size exceeds {max_bytes} bytes", "total_bytes", size)


async def serve_fake_x(
    host: str,
    port: int,
    *,
    consumer_key: str,
    consumer_secret: str,
    access_token: str,
    access_token_secret: str,
    limits: XLimits | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve a fake X API until cancelled (the ``weeklybot fake-x`` command)."""
    fake = FakeX(
        consumer_key=consumer_key,
        consumer_secret=consumer_secret,
        access_token=access_token,
        access_token_secret=access_token_secret,
        limits=limits,
        host=host,
        port=port,
    )
    async with fake:
        log.info("fake X API listening on %s", fake.base_url)
        if on_ready is not None:
            on_ready(fake.base_url)
        await asyncio.Event().wait()
