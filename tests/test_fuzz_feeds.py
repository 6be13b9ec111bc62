"""Fuzzing feed parsing with mutated feeds: a clear `FeedError` or entries, never a crash.

The seeds are the RSS and Atom documents the fakes serve (`bot.fakes.feeds`); the
mutations are what a broken or hostile server sends: bytes cut, dropped or doubled,
markup and entities inserted, a DOCTYPE, another encoding declared, a BOM, NULs, huge
titles and issue numbers, odd dates. What the feed gives then goes on to the two
readers of it: the weekly's trigger (`FeedSource`'s entries) and the roundup's planner.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import cast
from zoneinfo import ZoneInfo

import httpx
from hypothesis import example, given
from hypothesis import strategies as st

from bot.fakes.feeds import atom, rss
from bot.roundup.planner import FeedRead, plan_roundup
from bot.weekly.sources.feed import FeedError, FeedItem, FeedOptions, FeedSource, parse_feed
from data.store import Store
from tests.fuzz_support import FUZZ, HOSTILE_PIECES

WHEN = dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)
ENTRIES = [
    ("Python 潮流周刊 #901：A", "https://example.com/901", WHEN),
    ("Weekly #902 & more <b>", "https://example.com/902?a=1&b=2", WHEN + dt.timedelta(days=1)),
]
SEEDS = [rss("Weekly", ENTRIES), atom("Weekly", ENTRIES)]
INSERTS = [
    *(piece.encode() for piece in HOSTILE_PIECES),
    b"<item>",
    b"</item>",
    b"<entry>",
    b"<title>",
    b"</title>",
    b"<![CDATA[",
    b"]]>",
    b"<!DOCTYPE rss>",
    b'<!DOCTYPE x [<!ENTITY a "b">]>',
    b"&a;",
    b"&#x0;",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\x80",
    b"\xe4\xbd",
    b'<?xml version="1.0" encoding="gb2312"?>',
    b'encoding="utf-16"',
    b"<pubDate>Mon, 31 Feb 99999 25:61:00 +9999</pubDate>",
    b"<updated>0000-00-00T99:00:00Z</updated>",
    b"<pubDate>2026-13-01</pubDate>",
    b"#" + b"9" * 5000,
    b"#" + b"\xd9\xa1\xd9\xa2",  # Arabic-Indic digits
    b"<link>javascript:alert(1)</link>",
    b"<guid></guid>",
    b"x" * 20_000,
]


@st.composite
def mutated_feeds(draw: st.DrawFn) -> bytes:
    body = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(body)))
        how = draw(st.sampled_from(["insert", "insert", "delete", "double", "cut", "byte"]))
        if how == "insert":
            body[at:at] = draw(st.sampled_from(INSERTS))
        elif how == "delete":
            del body[at : at + draw(st.integers(1, 40))]
        elif how == "double":
            body[at:at] = body[at : at + draw(st.integers(1, 200))]
        elif how == "cut":
            del body[at:]
        else:
            body[at:at] = bytes([draw(st.integers(0, 255))])
    return bytes(body)


def _source() -> FeedSource:
    # Only the title filter is used here: no store or HTTP is reached.
    return FeedSource(
        FeedOptions(url="https://example.com/feed"), cast(Store, None), httpx.AsyncClient()
    )


SOURCE = _source()


def items_or_error(body: bytes) -> tuple[FeedItem, ...] | None:
    try:
        items = asyncio.run(parse_feed(body))
    except FeedError as refused:
        reason = str(refused)
    else:
        return items
    assert reason  # the editors and the log read it
    return None


@FUZZ
@given(mutated_feeds())
# found: a title's 5,000-digit "#N" raised ValueError (int() refuses > 4,300 digits)
@example(rss("W", [("Weekly #" + "9" * 5000, "https://example.com/x", WHEN)]))
@example(atom("W", [("Weekly #" + "9" * 5000, "https://example.com/x", WHEN)]))
# found: feedparser raised UnicodeEncodeError for a surrogate reference in a date
@example(SEEDS[0].replace(b"<pubDate>", b"<pubDate>&#xD800;"))
def test_a_mutated_feed_is_entries_or_a_clear_error(body: bytes) -> None:
    items = items_or_error(body)
    if items is None:
        return
    for item in items:
        assert item.guid
        assert item.published is None or item.published.tzinfo is not None
    for entry in SOURCE._entries(items):
        assert entry.number is None or entry.number >= 0
    roundup = plan_roundup(
        [FeedRead("Weekly", items), FeedRead("Other", None, "unreadable")],
        now=WHEN + dt.timedelta(days=2),
        zone=ZoneInfo("Asia/Shanghai"),
        lookback_days=7,
        posted={},
    )
    assert len(roundup.entries) <= 1
