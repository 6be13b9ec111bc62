"""The routes of the fake X API v2 and the state they act on: posts, the timeline, media.

No authentication, faults or quotas here: ``bot.fakes.x.FakeX`` runs each route
inside its pipeline (OAuth 1.0a, injected faults, quota, then the route) and
puts the answer on the wire. A route is a method ``(request, endpoint) ->
(status, body)`` that raises ``RequestError`` for X's error answers, and one
line in ``FakeXAPI.routes``; its endpoint name and quota are in ``x_model``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import re
from collections.abc import Callable
from typing import NamedTuple

from aiohttp import web
from twitter_text import extract_urls_with_indices

from bot.fakes.x_http import Json, RequestError, Work, bad_request, json_body, multipart, problem
from bot.fakes.x_media import (
    ASYNC_CATEGORIES,
    CATEGORY_RULES,
    MAX_SEGMENT_BYTES,
    MAX_SEGMENT_INDEX,
    MEDIA_KEY_PREFIX,
    check_media_fits,
    sniff_media_type,
    start_processing,
    upload_data,
)
from bot.fakes.x_model import (
    CREATE_POST,
    DELETE_POST,
    MEDIA_APPEND,
    MEDIA_FINALIZE,
    MEDIA_INITIALIZE,
    MEDIA_STATUS,
    MEDIA_UPLOAD,
    USER_POSTS,
    USERS_ME,
    FakePost,
    MediaState,
    MediaUpload,
    XLimits,
)
from publishers.limits import X_MAX_WEIGHTED, x_weighted_length

# Bodies copied from X (PLATFORMS.md B.7).
DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
TOO_LONG_MESSAGE = (
    "Your Tweet text is too long. For more information on how Twitter determines "
    "text length see https://github.com/twitter/twitter-text."
)
REPLY_TARGET_GONE = "You attempted to reply to a Tweet that is deleted or not visible to you."
INVALID_MEDIA_IDS = "Your media IDs are invalid."

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


class Route(NamedTuple):
    """One X API route: HTTP method, aiohttp path, metered endpoint, its logic."""

    method: str
    path: str
    endpoint: str
    work: Work


class FakeXAPI:
    """What one app's user has on the fake X, and the routes that read and change it."""

    def __init__(
        self,
        *,
        user_id: str,
        username: str,
        name: str,
        limits: XLimits,
        now: Callable[[], float],
    ) -> None:
        self.user_id = user_id
        self.username = username
        self.name = name
        self.limits = limits
        self.now = now
        self.reset()

    def reset(self) -> None:
        """Forget every post and upload."""
        self.posts: dict[str, FakePost] = {}
        self.media: dict[str, MediaUpload] = {}
        self._next_post_id = 1_900_000_000_000_000_000
        self._next_media_id = 1_880_000_000_000_000_000

    def routes(self) -> tuple[Route, ...]:
        """Every X route the fake serves; aiohttp matches them in this order."""
        return (
            Route("POST", "/2/tweets", CREATE_POST, self._create_post),
            Route("DELETE", "/2/tweets/{id}", DELETE_POST, self._delete_post),
            Route("GET", "/2/users/me", USERS_ME, self._users_me),
            Route("GET", "/2/users/{id}/tweets", USER_POSTS, self._user_posts),
            Route("POST", "/2/media/upload/initialize", MEDIA_INITIALIZE, self._media_initialize),
            Route("POST", "/2/media/upload/{id}/append", MEDIA_APPEND, self._media_append),
            Route("POST", "/2/media/upload/{id}/finalize", MEDIA_FINALIZE, self._media_finalize),
            Route("POST", "/2/media/upload", MEDIA_UPLOAD, self._media_upload),
            Route("GET", "/2/media/upload", MEDIA_STATUS, self._media_status),
        )

    # -- posts ---------------------------------------------------------------

    async def _create_post(self, request: web.Request, endpoint: str) -> tuple[int, Json]:
        body = await json_body(request)
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
            for post in self.posts.values()
        ):
            raise RequestError(403, problem(403, "Forbidden", DUPLICATE_DETAIL))
        post_id = self.add_post(text, reply_to=reply_to, media_ids=media_ids)
        return 201, {"data": {"id": post_id, "text": text, "edit_history_tweet_ids": [post_id]}}

    def add_post(
        self, text: str, *, reply_to: str | None = None, media_ids: tuple[str, ...] = ()
    ) -> str:
        """Record a post by the user now, with the next (time-ordered) id; return the id."""
        post_id = str(self._next_post_id)
        self._next_post_id += 1
        self.posts[post_id] = FakePost(
            id=post_id,
            text=text,
            author_id=self.user_id,
            created_at=self.now(),
            reply_to=reply_to,
            media_ids=media_ids,
        )
        return post_id

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
        post = self.posts.get(target)
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
        uploads = [self.media.get(media_id) for media_id in ids]
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
        post = self.posts.get(post_id)
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
        self.posts[post_id] = dataclasses.replace(post, deleted=True)
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
            (p for p in self.posts.values() if p.author_id == user_id and not p.deleted),
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
        self.media[media_id] = upload
        return upload

    def _owned_upload(self, media_id: str) -> MediaUpload:
        upload = self.media.get(media_id)
        if upload is None or upload.owner != self.user_id or self.now() >= upload.expires_at:
            raise bad_request(f"The media_id [{media_id}] is not valid", "media_id", media_id)
        return upload

    async def _media_upload(self, request: web.Request, endpoint: str) -> tuple[int, Json]:
        form = await multipart(request)
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
        check_media_fits(category, media_type, len(data))
        if sniffed != media_type:
            raise bad_request("media type unrecognized", "media", media_type)
        upload = self._new_upload(media_type, category, len(data), chunked=False)
        upload.segments[0] = data
        start_processing(upload, self.limits)
        return 200, {"data": self._upload_data(upload, include_size=True)}

    async def _media_initialize(self, request: web.Request, endpoint: str) -> tuple[int, Json]:
        body = await json_body(request)
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
        check_media_fits(category, media_type, total_bytes)
        upload = self._new_upload(media_type, category, total_bytes, chunked=True)
        return 200, {"data": self._upload_data(upload, include_size=False)}

    async def _media_append(self, request: web.Request, endpoint: str) -> tuple[int, Json]:
        upload = self._owned_upload(request.match_info["id"])
        if upload.state is not MediaState.UPLOADING:
            raise bad_request("The upload was already finalized", "media_id", upload.id)
        form = await multipart(request)
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
        start_processing(upload, self.limits)
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

    def _upload_data(self, upload: MediaUpload, *, include_size: bool) -> Json:
        return upload_data(upload, now=self.now(), limits=self.limits, include_size=include_size)
