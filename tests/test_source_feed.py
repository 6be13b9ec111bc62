"""The feed source against a loopback aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import random
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from xml.sax.saxutils import escape

import httpx
import pytest
from aiohttp import web

from bot.weekly.sources.feed import FeedOptions, FeedSource
from data.db import Database
from data.migrations import migrate
from data.store import Store
from tests.conftest import ManualClock

T0 = 1_900_000_000.0
ETAG = '"v1"'
LAST_MODIFIED = "Sat, 04 Jan 2031 12:00:00 GMT"
CHUNK = 64 * 1024
HUGE = 50 * 1024 * 1024

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>Python Weekly #1: &lol9;</title><link>https://example.com/1</link></item>
</channel></rss>"""


def rss(entries: list[tuple[str, str]]) -> bytes:
    """An RSS 2.0 document with (title, link) items; the guid is the link."""
    items = "".join(
        f"<item><title>{escape(title)}</title><link>{link}</link>"
        f'<guid isPermaLink="true">{link}</guid>'
        "<pubDate>Sat, 04 Jan 2031 00:00:00 GMT</pubDate></item>"
        for title, link in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Python猫</title><link>https://example.com</link>{items}</channel></rss>"
    ).encode()


ISSUE_201 = (
    "Python 潮流周刊#201：用纸飞机测试异步代码",
    "https://example.com/posts/2031-01-04-weekly",
)
ISSUE_202 = ("Python 潮流周刊#202：折纸与并发", "https://example.com/posts/2031-01-11-weekly")
OTHER_POST = ("聊聊 Python 的 GIL", "https://example.com/posts/gil")


class FeedServer:
    """Serves feeds with the behaviours under test and counts what it saw and sent."""

    def __init__(self) -> None:
        self.entries = [ISSUE_201, OTHER_POST]
        self.etag = ETAG
        self.failing = False
        self.hits: dict[str, int] = {}
        self.conditional: list[str] = []
        self.huge_sent = 0
        self.huge_done = asyncio.Event()
        self.release = asyncio.Event()
        self.base = ""
        app = web.Application()
        app.router.add_get("/etag", self.etag_feed)
        app.router.add_get("/lm", self.lm_feed)
        app.router.add_get("/fail", self.fail)
        app.router.add_get("/flaky", self.flaky)
        app.router.add_get("/slow", self.slow)
        app.router.add_get("/huge", self.huge)
        app.router.add_get("/declared-huge", self.declared_huge)
        app.router.add_get("/malformed", self.malformed)
        app.router.add_get("/bomb", self.bomb)
        self.runner = web.AppRunner(app)

    def url(self, path: str) -> str:
        return self.base + path

    def _count(self, request: web.Request) -> None:
        self.hits[request.path] = self.hits.get(request.path, 0) + 1

    async def etag_feed(self, request: web.Request) -> web.Response:
        self._count(request)
        if request.headers.get("If-None-Match") == self.etag:
            self.conditional.append("etag")
            return web.Response(status=304)
        return web.Response(body=rss(self.entries), headers={"ETag": self.etag})

    async def lm_feed(self, request: web.Request) -> web.Response:
        self._count(request)
        if request.headers.get("If-Modified-Since") == LAST_MODIFIED:
            self.conditional.append("last-modified")
            return web.Response(status=304)
        return web.Response(body=rss(self.entries), headers={"Last-Modified": LAST_MODIFIED})

    async def fail(self, request: web.Request) -> web.Response:
        self._count(request)
        return web.Response(status=500, text="boom")

    async def flaky(self, request: web.Request) -> web.Response:
        self._count(request)
        if self.failing:
            return web.Response(status=503, text="down")
        return web.Response(body=rss(self.entries))

    async def slow(self, request: web.Request) -> web.Response:
        self._count(request)
        await self.release.wait()
        return web.Response(body=rss(self.entries))

    async def huge(self, request: web.Request) -> web.StreamResponse:
        self._count(request)
        response = web.StreamResponse()
        response.content_type = "application/rss+xml"
        await response.prepare(request)
        chunk = b"<!-- " + b"x" * (CHUNK - 9) + b" -->\n"
        try:
            while self.huge_sent < HUGE:
                await response.write(chunk)
                self.huge_sent += len(chunk)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.huge_done.set()
        return response

    async def declared_huge(self, request: web.Request) -> web.Response:
        self._count(request)
        return web.Response(body=b"<rss/>", headers={"Content-Length": str(HUGE)})

    async def malformed(self, request: web.Request) -> web.Response:
        self._count(request)
        return web.Response(body=b"<rss version='2.0'><channel><item><title>#1</channel></rss>")

    async def bomb(self, request: web.Request) -> web.Response:
        self._count(request)
        return web.Response(body=BOMB)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    feeds = FeedServer()
    await feeds.runner.setup()
    site = web.TCPSite(feeds.runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    feeds.base = f"http://127.0.0.1:{port}"
    yield feeds
    feeds.release.set()
    await feeds.runner.cleanup()


@pytest.fixture
async def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "weekly.db"
    async with Database.open(path) as db:
        await migrate(db, now=T0)
    return path


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    async with Database.open(db_path) as db:
        yield Store(db)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def source(store: Store, http: httpx.AsyncClient, url: str, **options: object) -> FeedSource:
    return FeedSource(
        FeedOptions(url=url, **options),  # type: ignore[arg-type]
        store,
        http,
        clock=ManualClock(T0),
        rng=random.Random(7),
    )


@pytest.mark.parametrize(("path", "validator"), [("/etag", "etag"), ("/lm", "last-modified")])
async def test_an_unchanged_feed_costs_one_conditional_request(
    server: FeedServer, store: Store, http: httpx.AsyncClient, path: str, validator: str
) -> None:
    feed = source(store, http, server.url(path))
    first = await feed.poll()
    assert first.status == "baseline"
    writes, parses, state = await store.db.total_changes(), feed.counters.parses, feed._state

    for _ in range(3):
        again = await feed.poll()
        assert again.status == "not_modified"
        assert again.entries == ()

    assert server.hits[path] == 4
    assert server.conditional == [validator] * 3
    assert feed.counters.parses == parses
    assert await store.db.total_changes() == writes
    assert feed._state == state


async def test_new_entries_pass_the_title_filter_and_carry_the_number(
    server: FeedServer, store: Store, http: httpx.AsyncClient
) -> None:
    feed = source(store, http, server.url("/etag"))
    await feed.poll()
    server.entries = [
        ISSUE_202,
        ("Python 潮流周刊 特别篇", "https://example.com/x"),
        *server.entries,
    ]
    server.etag = '"v2"'

    result = await feed.poll()

    assert result.status == "new"
    assert [(e.number, e.link) for e in result.entries] == [(202, ISSUE_202[1])]
    entry = result.entries[0]
    assert entry.guid == ISSUE_202[1]
    assert entry.published is not None
    assert entry.published.isoformat() == "2031-01-04T00:00:00+00:00"


async def test_a_custom_title_filter(
    server: FeedServer, store: Store, http: httpx.AsyncClient
) -> None:
    feed = source(store, http, server.url("/etag"), title_pattern=r"GIL")
    await feed.poll()
    server.entries = [("GIL 的未来", "https://example.com/gil-2"), ISSUE_202]
    server.etag = '"v2"'

    result = await feed.poll()

    assert [(e.title, e.number) for e in result.entries] == [("GIL 的未来", None)]


async def test_seen_entries_stay_seen_across_restarts(
    server: FeedServer, db_path: Path, http: httpx.AsyncClient
) -> None:
    async with Database.open(db_path) as db:
        await source(Store(db), http, server.url("/etag")).poll()
    server.etag = '"v2"'  # same entries, new validator: a full 200 after the restart

    async with Database.open(db_path) as db:
        restarted = source(Store(db), http, server.url("/etag"))
        unchanged = await restarted.poll()
        server.entries = [ISSUE_202, *server.entries]
        server.etag = '"v3"'
        fresh = await restarted.poll()

    assert unchanged.status == "unchanged"
    assert unchanged.entries == ()
    assert [e.number for e in fresh.entries] == [202]


async def test_server_errors_back_off_exponentially_with_jitter(
    server: FeedServer, store: Store, http: httpx.AsyncClient
) -> None:
    feed = source(store, http, server.url("/fail"), backoff_base_seconds=10, backoff_jitter=0.5)
    delays = []
    for failures in (1, 2, 3, 4):
        result = await feed.poll()
        assert result.status == "error"
        assert result.error == "HTTP 500"
        delays.append(result.next_poll_at - T0)
        state = await store.get_source_state(feed.name)
        assert state is not None
        assert state.consecutive_failures == failures

    for n, delay in enumerate(delays):
        ceiling = 10 * 2**n
        assert ceiling * 0.5 <= delay <= ceiling
    assert delays == sorted(delays)


async def test_the_failure_count_resets_after_a_success(
    server: FeedServer, store: Store, http: httpx.AsyncClient
) -> None:
    feed = source(store, http, server.url("/flaky"))
    server.failing = True
    await feed.poll()
    await feed.poll()
    server.failing = False

    result = await feed.poll()

    assert result.status == "baseline"
    assert result.next_poll_at == T0 + feed.options.poll_seconds
    state = await store.get_source_state(feed.name)
    assert state is not None
    assert state.consecutive_failures == 0
    assert state.last_error is None


async def test_a_slow_server_times_out_and_the_source_keeps_working(
    server: FeedServer, store: Store, http: httpx.AsyncClient
) -> None:
    slow = source(store, http, server.url("/slow"), timeout_seconds=0.2)

    result = await slow.poll()

    assert result.status == "error"
    assert result.error is not None
    assert "0.2s" in result.error or "timed out" in result.error
    slow.options = FeedOptions(url=server.url("/etag"))
    assert (await slow.poll()).status in ("baseline", "new", "unchanged")


async def test_a_50_mb_body_is_cut_at_the_cap(
    server: FeedServer, store: Store, http: httpx.AsyncClient
) -> None:
    cap = 1024 * 1024
    feed = source(store, http, server.url("/huge"), max_body_bytes=cap)

    result = await feed.poll()

    assert result.status == "error"
    assert result.error is not None
    assert "cap" in result.error
    assert cap < feed.counters.last_body_bytes <= cap + 4 * CHUNK
    assert feed.counters.parses == 0
    await asyncio.wait_for(server.huge_done.wait(), timeout=10)
    assert server.huge_sent < 20 * 1024 * 1024


async def test_a_declared_length_over_the_cap_is_refused_unread(
    server: FeedServer, store: Store, http: httpx.AsyncClient
) -> None:
    feed = source(store, http, server.url("/declared-huge"), max_body_bytes=1024)

    result = await feed.poll()

    assert result.status == "error"
    assert result.error == f"body of {HUGE} bytes is over the 1024-byte cap"
    assert feed.counters.last_body_bytes == 0


async def test_malformed_xml_is_a_clear_error(
    server: FeedServer, store: Store, http: httpx.AsyncClient
) -> None:
    feed = source(store, http, server.url("/malformed"))

    result = await feed.poll()

    assert result.status == "error"
    assert result.error is not None
    assert result.error.startswith("not well-formed XML:")
    assert await store.get_source_state(feed.name) is not None


async def test_an_entity_expansion_bomb_is_refused_before_parsing(
    server: FeedServer, store: Store, http: httpx.AsyncClient
) -> None:
    feed = source(store, http, server.url("/bomb"))
    tracemalloc.start()
    started = time.process_time()
    try:
        result = await feed.poll()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.status == "error"
    assert result.error is not None
    assert "declares entities" in result.error
    assert feed.counters.parses == 0
    assert peak < 5 * 1024 * 1024
    assert time.process_time() - started < 2.0
