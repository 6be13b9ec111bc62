"""The X publisher: one outbox row is one post; thread parts reply to the previous one."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from tweepy.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    TooManyRequests,
    TweepyException,
    TwitterServerError,
    Unauthorized,
)

from publishers.base import Receipt
from publishers.errors import AlreadyPosted, MaybeSent, PublishError, Rejected, RetryLater
from publishers.pacing import XPacer
from publishers.posts import XPost
from publishers.x_client import XClient

log = logging.getLogger(__name__)

DUPLICATE = "duplicate content"

# aiohttp errors raised before the request could be written: X never saw it.
_NEVER_SENT = (aiohttp.ClientConnectorError, aiohttp.InvalidURL)


def classify_x_error(
    exc: BaseException, *, after_doubt: bool, blocked_until: int | None, now: float
) -> PublishError:
    """Sort a tweepy/aiohttp failure into 'surely not sent' or 'may have been sent'.

    A 403 for duplicate content is a refusal on a first attempt, but after an
    attempt that may have gone out it proves that attempt did: X keeps the text.
    """
    if isinstance(exc, TooManyRequests):
        # X sends no Retry-After; the wait is the latest reset of a spent window
        # (the 24-hour caps included). tweepy's reset_time is the 15-minute
        # window's reset whether or not that window is spent, so it is only the
        # fallback when the headers show no spent window.
        reset = blocked_until if blocked_until is not None else exc.reset_time
        wait = reset - now + 1 if reset is not None else None
        return RetryLater(
            "X rate limit reached", retry_after=max(1.0, wait) if wait is not None else None
        )
    if isinstance(exc, Forbidden) and any(DUPLICATE in m for m in exc.api_messages):
        if after_doubt:
            return AlreadyPosted("X already has this post")
        return Rejected("X refused the post as duplicate content")
    if isinstance(exc, BadRequest | Forbidden | Unauthorized | NotFound):
        detail = "; ".join(str(m) for m in exc.api_messages) or str(exc)
        return Rejected(f"X refused the post: {detail}")
    if isinstance(exc, TwitterServerError):
        return RetryLater(f"X server error: {exc}")
    if isinstance(exc, _NEVER_SENT):
        return RetryLater(f"X unreachable: {exc}")
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ClientError):
        return MaybeSent(f"connection to X lost: {exc!r}")
    return MaybeSent(f"unexpected X failure: {exc!r}")


class XPublisher:
    """Posts text to X through `XClient`; feeds the live quota to the pacer."""

    target = "x"
    resend_is_safe = True  # X refuses duplicate text: see classify_x_error

    def __init__(
        self,
        client: XClient,
        pacer: XPacer | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._pacer = pacer
        self._clock = clock

    async def publish(
        self,
        payload: Mapping[str, Any],
        *,
        reply_to: str | None = None,
        after_doubt: bool = False,
    ) -> Receipt:
        try:
            post = XPost.from_payload(payload)
        except ValueError as exc:
            raise Rejected(f"unreadable outbox payload: {exc}") from exc
        if reply_to == "":
            # The previous part went out, X refused its resend as a duplicate and
            # the lookup of its id failed: the thread cannot be continued under it.
            log.warning("thread parent id unknown; posting this part on its own")
        try:
            created = await self._client.create_post(post.text, in_reply_to=reply_to or None)
        except (TimeoutError, TweepyException, aiohttp.ClientError) as exc:
            error = classify_x_error(
                exc,
                after_doubt=after_doubt,
                blocked_until=self._client.quota.blocked_until(),
                now=self._clock(),
            )
            if isinstance(error, AlreadyPosted):
                error = AlreadyPosted(str(error), remote_id=await self._find_posted(post.text))
            raise error from exc
        finally:
            if self._pacer is not None:
                self._pacer.observe(self._client.quota)
        return Receipt(remote_id=created.id)

    async def _find_posted(self, text: str) -> str | None:
        """The id of the post X already has; None (logged) rather than an error.

        The duplicate refusal already proves the post went out: a failed lookup
        must not turn that into a failure, it only leaves the id unknown.
        """
        try:
            found = await self._client.find_recent_post(text)
        except Exception as exc:  # any failure here only loses the id, never the post
            log.warning("could not look up the post X already has: %r", exc)
            return None
        if found is None:
            log.warning("the post X already has is not among its recent posts")
        return found
