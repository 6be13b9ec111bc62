"""The roundup's I/O: read the feeds, plan, queue it once, tell the editors.

Reading reuses the weekly's feed fetching (`bot.weekly.sources.feed`: one deadline per
request, the body cap, entities refused, strict XML). On top of it, for a post made
once a week:

- a feed that fails for a moment (a 5xx or 429, a timeout, a broken connection) is
  asked again `retries` times, `retry_seconds` doubling with jitter (`backoff_delay`),
  never sooner than the server's `Retry-After`; a 4xx or a document that is not a feed
  is not asked again;
- each feed's last answer is kept in memory with its ETag/Last-Modified, so the run
  after a `/roundup` preview is a conditional GET (a 304 reuses the entries); a
  restarted bot asks unconditionally;
- the feeds are read at once (one `httpx` client per run, closed after it).

`run(slot)` is the scheduled post: planned as of the slot, recorded with its outbox rows
in one transaction (`data.roundups`), so a slot posts once however often it runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from bot.config import RoundupFeed, Settings
from bot.domain.roundup import Roundup
from bot.platforms import PLATFORMS, Platforms
from bot.roundup.planner import FeedRead, plan_roundup
from bot.weekly.sources.feed import (
    FeedCounters,
    FeedError,
    FeedItem,
    HTTPStatusError,
    backoff_delay,
    describe_error,
    fetch_feed,
    is_transient,
    parse_feed,
)
from data.outbox import NewPost
from data.store import Store
from publishers.posts import TelegramPost

log = logging.getLogger(__name__)

USER_AGENT = "weeklybot roundup (+https://github.com/chinesehuazhou/python-weekly)"
RETRY_JITTER = 0.5
TARGET = "telegram"  # the channel only: see `publishers.format_roundup`


@dataclass(frozen=True, slots=True)
class _Cached:
    etag: str | None
    last_modified: str | None
    items: tuple[FeedItem, ...]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A roundup and its channel posts (none when it lists nothing)."""

    roundup: Roundup
    posts: tuple[TelegramPost, ...]


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a slot's run did: `queued` False when the slot had run before (nothing new)."""

    prepared: Prepared | None  # None: the slot had run already, nothing was read
    queued: bool


def roundup_rows(prepared: Prepared) -> list[NewPost]:
    """The outbox rows: `roundup:<date>`, or its parts `roundup:<date>:k` in order."""
    key = prepared.roundup.key
    payloads = [post.to_payload() for post in prepared.posts]
    if len(payloads) == 1:
        return [NewPost(key, TARGET, "roundup", payloads[0])]
    return [
        NewPost(f"{key}:{seq}", TARGET, "roundup", payload, group_key=key, seq=seq)
        for seq, payload in enumerate(payloads, start=1)
    ]


class RoundupService:
    """The roundup of the settings' feeds over one store; `clock` is "now" for previews.

    Its posts are `platforms`' channel formatter's: the run's (`bot.app.bot_running`
    binds them to its post templates), so `/roundup` and the slot say what the editor's
    `telegram.roundup_*` templates say.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        platforms: Platforms = PLATFORMS,
    ) -> None:
        self.settings = settings
        self.platforms = platforms
        self.options = settings.roundup
        self.store = store
        self.clock = clock
        self.rng = rng or random.Random()  # jitter, not a secret
        self.counters = FeedCounters()
        self._cache: dict[str, _Cached] = {}

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    async def read_feeds(self, *, retries: int) -> list[FeedRead]:
        """Every configured feed, read at once, in the configured order."""
        options = self.options
        async with httpx.AsyncClient(follow_redirects=True, max_redirects=5) as http:
            return list(
                await asyncio.gather(*(self._read(http, feed, retries) for feed in options.feeds))
            )

    async def _read(self, http: httpx.AsyncClient, feed: RoundupFeed, retries: int) -> FeedRead:
        options = self.options
        cached = self._cache.get(feed.url)
        for attempt in range(retries + 1):
            try:
                fetched = await fetch_feed(
                    http,
                    feed.url,
                    etag=cached.etag if cached else None,
                    last_modified=cached.last_modified if cached else None,
                    timeout_seconds=options.timeout_seconds,
                    max_body_bytes=options.max_body_bytes,
                    user_agent=USER_AGENT,
                    counters=self.counters,
                )
                if fetched.not_modified:
                    if cached is None:
                        raise FeedError("answered 304 Not Modified to a plain request")
                    return FeedRead(feed.name, cached.items)
                items = await parse_feed(fetched.body, self.counters)
            except (FeedError, httpx.HTTPError) as exc:
                reason = describe_error(exc)
                if attempt < retries and is_transient(exc):
                    delay = self._retry_delay(attempt + 1, exc)
                    log.info(
                        "roundup feed failed, retrying",
                        extra={"newsletter": feed.name, "error": reason, "retry_in": delay},
                    )
                    await asyncio.sleep(delay)
                    continue
                log.warning("roundup feed failed", extra={"newsletter": feed.name, "error": reason})
                return FeedRead(feed.name, None, reason)
            self._cache[feed.url] = _Cached(fetched.etag, fetched.last_modified, items)
            return FeedRead(feed.name, items)
        raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover

    def _retry_delay(self, failures: int, exc: Exception) -> float:
        base = self.options.retry_seconds
        cap = base * 2.0**self.options.retries
        delay = backoff_delay(failures, base=base, cap=cap, jitter=RETRY_JITTER, rng=self.rng)
        retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
        if retry_after is not None and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), max(cap, base)))
        return round(delay, 3)

    async def prepare(self, now: dt.datetime, *, retries: int = 0) -> Prepared:
        """The roundup as it would be posted at `now`, with its posts (nothing stored)."""
        reads = await self.read_feeds(retries=retries)
        return await self.plan(reads, now)

    async def plan(self, reads: Sequence[FeedRead], now: dt.datetime) -> Prepared:
        options = self.options
        roundup = plan_roundup(
            reads,
            now=now,
            zone=options.zone,
            lookback_days=options.lookback_days,
            posted=await self.store.roundups.posted(),
            number_pattern=options.number_pattern,
        )
        if roundup.empty:
            return Prepared(roundup, ())
        channel = self.settings.publishing.digest_channel or None
        formatter = self.platforms[TARGET].format_roundup
        assert formatter is not None  # the channel's platform always formats one
        made = formatter(roundup, self.settings.telegram.lang, channel)
        posts = tuple(post for post in made if isinstance(post, TelegramPost))
        assert len(posts) == len(made)
        return Prepared(roundup, posts)

    async def run(self, slot: dt.datetime) -> RunResult:
        """The slot's roundup, queued once: a slot that ran before reads nothing."""
        date = slot.astimezone(self.options.zone).date()
        if await self.store.roundups.get(date) is not None:
            log.info("roundup already ran", extra={"date": date.isoformat()})
            return RunResult(None, queued=False)
        prepared = await self.prepare(slot, retries=self.options.retries)
        rows = roundup_rows(prepared) if prepared.posts else []
        # The outbox runs on the wall clock (`clock` only says which slot this is): due now.
        queued = await self.store.roundups.record(prepared.roundup, rows, now=time.time())
        log.info(
            "roundup planned",
            extra={
                "date": date.isoformat(),
                "entries": len(prepared.roundup.entries),
                "problems": len(prepared.roundup.problems),
                "queued": queued and bool(rows),
            },
        )
        return RunResult(prepared if queued else None, queued=queued)
