"""Poll an RSS/Atom feed (the blog, Substack) as a secondary trigger for the repository.

The repository stays canonical: a new feed entry only tells the bot to poll the
repository sooner. So this source returns bare `FeedEntry` values and stores nothing
but its own `source_state` row: ETag and Last-Modified for conditional requests, the
failure count, and in `cursor` a bounded JSON list of the entry ids already seen, so a
restart does not see old entries as new.

Cost of an idle poll: one conditional GET answered 304, no parse, no database write
(the state is cached in memory; it is written only when it changes). The schedule
(`next_poll_at`, with exponential backoff and jitter after errors) lives in memory.

Hostile input: the body is streamed and cut past `max_body_bytes`; the whole request
has one deadline; documents that declare entities (billion laughs) are refused before
any XML parser sees them; a document that is not well-formed XML is refused rather than
read by feedparser's lenient fallback parser.

That fetching (`fetch_feed`, `parse_feed`, `backoff_delay`, `describe_error`) is shared:
the Sunday roundup (`bot.roundup`) reads the other newsletters' feeds with it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import json
import logging
import random
import re
import time
import xml.sax
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import feedparser
import httpx

from data.store import SourceState, Store

log = logging.getLogger(__name__)

# An entity declaration can only appear in a DOCTYPE's internal subset, in the prolog.
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY|<!DOCTYPE[^>\[]*\[", re.IGNORECASE)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """What one feed source needs; the lead maps a settings section onto it."""

    url: str
    title_pattern: str = r"#(\d+)"  # entries whose title does not match are not issues
    poll_seconds: float = 600.0
    timeout_seconds: float = 20.0  # the whole request, body included
    max_body_bytes: int = 5 * 1024 * 1024
    backoff_base_seconds: float = 60.0
    backoff_max_seconds: float = 6 * 3600.0
    backoff_jitter: float = 0.5  # a delay d becomes uniform(d * (1 - jitter), d)
    seen_ids_kept: int = 500  # at least every id still in the feed is always kept
    user_agent: str = "weeklybot (+https://github.com/chinesehuazhou/python-weekly)"

    @property
    def source_name(self) -> str:
        return f"feed:{self.url}"


class FeedError(Exception):
    """The feed could not be fetched or read; the message says why."""


class FeedTimeout(FeedError):
    """No complete answer within the request's deadline."""


class FeedTooLarge(FeedError):
    """The body went past `max_body_bytes`; reading stopped there."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    guid: str  # the entry id, else its link: the dedupe key
    title: str
    link: str | None
    published: dt.datetime | None
    number: int | None  # the title filter's first group, when it has one


FeedStatus = Literal["new", "unchanged", "not_modified", "baseline", "error"]


@dataclass(frozen=True, slots=True)
class FeedPoll:
    status: FeedStatus
    entries: tuple[FeedEntry, ...] = ()
    error: str | None = None
    next_poll_at: float = 0.0


@dataclass(slots=True)
class FeedCounters:
    """What polling cost, for the idle-poll benchmark."""

    requests: int = 0
    parses: int = 0
    last_body_bytes: int = 0


class FeedSource:
    """One feed, polled with conditional requests through an injected httpx client."""

    def __init__(
        self,
        options: FeedOptions,
        store: Store,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.options = options
        self.store = store
        self.http = http
        self.clock = clock
        self.rng = rng or random.Random()  # jitter, not a secret
        self.counters = FeedCounters()
        self.next_poll_at = 0.0
        self._title = re.compile(options.title_pattern)
        self._state: SourceState | None = None

    @property
    def name(self) -> str:
        return self.options.source_name

    def due(self) -> bool:
        return self.clock() >= self.next_poll_at

    async def poll(self) -> FeedPoll:
        """Fetch the feed once; return the entries not seen before. Never raises for
        network, HTTP or content errors: they come back as status "error" with backoff."""
        state = await self._load_state()
        options = self.options
        try:
            fetched = await fetch_feed(
                self.http,
                options.url,
                etag=state.etag,
                last_modified=state.last_modified,
                timeout_seconds=options.timeout_seconds,
                max_body_bytes=options.max_body_bytes,
                user_agent=options.user_agent,
                counters=self.counters,
            )
        except (FeedError, httpx.HTTPError, TimeoutError) as exc:
            retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
            return await self._failed(state, describe_error(exc), retry_after=retry_after)
        if fetched.not_modified:
            return await self._succeeded(state, "not_modified", (), state)
        try:
            entries = list(self._entries(await parse_feed(fetched.body, self.counters)))
        except FeedError as exc:
            return await self._failed(state, str(exc))
        seen = _seen_ids(state.cursor)
        first_run = state.cursor is None
        new = tuple(e for e in entries if e.guid not in seen)
        kept = [e.guid for e in entries]
        kept += [g for g in seen if g not in set(kept)]
        kept = kept[: max(self.options.seen_ids_kept, len(entries))]
        updated = dataclasses.replace(
            state,
            cursor=json.dumps({"seen": kept}, ensure_ascii=False),
            etag=fetched.etag,
            last_modified=fetched.last_modified,
        )
        if first_run:
            return await self._succeeded(state, "baseline", (), updated)
        return await self._succeeded(state, "new" if new else "unchanged", new, updated)

    async def _load_state(self) -> SourceState:
        if self._state is None:
            stored = await self.store.get_source_state(self.name)
            self._state = stored or SourceState(self.name)
        return self._state

    def _entries(self, items: Iterable[FeedItem]) -> Iterable[FeedEntry]:
        for item in items:
            match = self._title.search(item.title)
            if match is None:
                continue
            number = None
            if match.groups() and match.group(1):
                number = issue_number_of(match.group(1))
            yield FeedEntry(item.guid, item.title, item.link, item.published, number)

    async def _succeeded(
        self,
        before: SourceState,
        status: FeedStatus,
        entries: tuple[FeedEntry, ...],
        after: SourceState,
    ) -> FeedPoll:
        if before.consecutive_failures or before.last_error:
            after = dataclasses.replace(after, consecutive_failures=0, last_error=None)
        now = self.clock()
        if _persisted_fields(after) != _persisted_fields(before):
            after = dataclasses.replace(after, last_success_at=now)
            await self._save(after, now)
        self.next_poll_at = now + self.options.poll_seconds
        if entries:
            log.info("new feed entries", extra={"source": self.name, "count": len(entries)})
        return FeedPoll(status, entries, None, self.next_poll_at)

    async def _failed(
        self, state: SourceState, error: str, *, retry_after: str | None = None
    ) -> FeedPoll:
        failures = state.consecutive_failures + 1
        now = self.clock()
        await self._save(
            dataclasses.replace(state, last_error=error, consecutive_failures=failures), now
        )
        delay = self.backoff_delay(failures)
        if retry_after is not None and retry_after.isdigit():  # 429/503: the server's word
            delay = max(delay, min(float(retry_after), self.options.backoff_max_seconds))
        self.next_poll_at = now + delay
        log.warning(
            "feed poll failed",
            extra={"source": self.name, "error": error, "retry_in": round(delay, 1)},
        )
        return FeedPoll("error", (), error, self.next_poll_at)

    def backoff_delay(self, failures: int) -> float:
        """Exponential in the failure count, capped, minus up to `backoff_jitter` of it."""
        options = self.options
        return backoff_delay(
            failures,
            base=options.backoff_base_seconds,
            cap=options.backoff_max_seconds,
            jitter=options.backoff_jitter,
            rng=self.rng,
        )

    async def _save(self, state: SourceState, now: float) -> None:
        await self.store.put_source_state(state, now=now)
        self._state = dataclasses.replace(state, updated_at=now)


# ---- the fetching both feed readers share (this trigger and `bot.roundup`) ----------


class HTTPStatusError(FeedError):
    """The server answered something other than 200 or 304."""

    def __init__(self, status: int, headers: httpx.Headers) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = headers.get("retry-after")

    @property
    def transient(self) -> bool:
        """Worth asking again soon: a 429 or a server error."""
        return self.status == 429 or self.status >= 500


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed as read, before any reader's filter."""

    guid: str  # the entry id, else its link
    title: str
    link: str | None
    published: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Fetched:
    """A feed's answer: a body (200), or `not_modified` (304) for the validators sent."""

    not_modified: bool
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


async def fetch_feed(
    http: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    timeout_seconds: float,
    max_body_bytes: int,
    user_agent: str,
    counters: FeedCounters | None = None,
) -> Fetched:
    """One conditional GET under one deadline, the body streamed and cut at the cap.

    Raises:
        FeedError: a status other than 200/304 (`HTTPStatusError`), a body over the cap
            (`FeedTooLarge`), no complete answer in time.
        httpx.HTTPError: the connection failed.
    """
    counters = counters if counters is not None else FeedCounters()
    headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    cap = max_body_bytes
    counters.requests += 1
    counters.last_body_bytes = 0
    try:
        async with asyncio.timeout(timeout_seconds):
            async with http.stream(
                "GET", url, headers=headers, timeout=timeout_seconds
            ) as response:
                if response.status_code == 304:
                    return Fetched(not_modified=True, etag=etag, last_modified=last_modified)
                if response.status_code != 200:
                    raise HTTPStatusError(response.status_code, response.headers)
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise FeedTooLarge(f"body of {declared} bytes is over the {cap}-byte cap")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    counters.last_body_bytes = size
                    if size > cap:
                        raise FeedTooLarge(f"body is over the {cap}-byte cap; stopped reading")
                    chunks.append(chunk)
                return Fetched(
                    not_modified=False,
                    body=b"".join(chunks),
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                )
    except TimeoutError:
        raise FeedTimeout(f"no complete answer within {timeout_seconds:g}s") from None


async def parse_feed(body: bytes, counters: FeedCounters | None = None) -> tuple[FeedItem, ...]:
    """Every entry of an RSS/Atom body, refusing entity declarations and malformed XML.

    Raises:
        FeedError: the body declares entities, is not well-formed, or is no feed.
    """
    _refuse_entities(body)
    if counters is not None:
        counters.parses += 1
    try:
        parsed = await asyncio.to_thread(
            feedparser.parse, io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False
        )
    except Exception as exc:  # feedparser's own bugs on hostile bytes (e.g. "&#xD800;" in
        # a date raises UnicodeEncodeError): the body is unreadable, not the bot broken
        raise FeedError(f"unreadable feed ({type(exc).__name__}: {exc})") from None
    problem = parsed.get("bozo_exception")
    if parsed.get("bozo") and isinstance(problem, xml.sax.SAXException):
        raise FeedError(f"not well-formed XML: {problem}")
    if not parsed.get("version"):
        raise FeedError("not an RSS or Atom document")
    return tuple(_items(parsed.get("entries", [])))


def _items(raw_entries: Iterable[Mapping[str, Any]]) -> Iterable[FeedItem]:
    for raw in raw_entries:
        title = str(raw.get("title") or "").strip()
        link = raw.get("link") or None
        guid = raw.get("id") or link
        if not guid:
            continue
        yield FeedItem(str(guid), title, link and str(link), _published(raw))


ISSUE_NUMBER_DIGITS_MAX = 9  # no newsletter reaches issue 10**9; a longer run is noise


def issue_number_of(digits: str) -> int | None:
    """The issue number a feed title's digits name, or None when they name none.

    A hostile title's run of thousands of digits would otherwise raise `ValueError`
    (Python refuses to convert more than 4,300 digits) where entries are expected.
    """
    if not digits.isdecimal() or len(digits) > ISSUE_NUMBER_DIGITS_MAX:
        return None
    return int(digits)


def backoff_delay(
    failures: int, *, base: float, cap: float, jitter: float, rng: random.Random
) -> float:
    """Exponential in the failure count, capped, minus up to `jitter` of it."""
    ceiling = min(cap, base * 2.0 ** min(failures - 1, 32))
    return ceiling * (1 - jitter * rng.random())


def is_transient(exc: Exception) -> bool:
    """Whether asking again soon may work: a 429 or 5xx, a timeout, a broken connection."""
    if isinstance(exc, HTTPStatusError):
        return exc.transient
    return isinstance(exc, FeedTimeout | httpx.TransportError)


def describe_error(exc: Exception) -> str:
    """A fetch failure in one line, for the log and the editors."""
    if isinstance(exc, FeedError):
        return str(exc)
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _refuse_entities(body: bytes) -> None:
    """Refuse any entity declaration: feeds have no use for one, bombs need one."""
    head = body
    if body.startswith(_UTF16_BOMS):
        head = body.decode("utf-16", "replace").encode("utf-8")
    if _ENTITY_DECLARATION.search(head):
        raise FeedError("refused: the document declares entities (DOCTYPE internal subset)")


def _seen_ids(cursor: str | None) -> list[str]:
    if not cursor:
        return []
    try:
        value = json.loads(cursor)
    except ValueError:
        return []
    seen = value.get("seen") if isinstance(value, dict) else None
    return [str(g) for g in seen] if isinstance(seen, list) else []


def _persisted_fields(state: SourceState) -> tuple[object, ...]:
    return (state.cursor, state.etag, state.last_modified, state.consecutive_failures)


def _published(raw: Mapping[str, Any]) -> dt.datetime | None:
    for key in ("published", "updated"):
        text = raw.get(key)
        if not text:
            continue
        try:
            value = parsedate_to_datetime(str(text))
        except (TypeError, ValueError):
            try:
                value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
            except ValueError:
                continue
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None
