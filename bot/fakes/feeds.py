"""Sample RSS and Atom documents written for the tests and the demo (no real feed copied).

`rss` and `atom` build a feed from `(title, link, published)` entries; `FakeWeb.add_feed`
serves one with an ETag, answering a matching `If-None-Match` with 304.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

Entry = tuple[str, str, dt.datetime]  # title, link, published (aware)


def rss(title: str, entries: Sequence[Entry]) -> bytes:
    """An RSS 2.0 channel; each item's guid is its link."""
    items = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
        f'<guid isPermaLink="true">{escape(link)}</guid>'
        f"<pubDate>{format_datetime(when.astimezone(dt.UTC), usegmt=True)}</pubDate></item>"
        for t, link, when in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://example.com/</link>"
        f"<description>{escape(title)}</description>{items}</channel></rss>"
    ).encode()


def atom(title: str, entries: Sequence[Entry]) -> bytes:
    """An Atom feed; each entry's id is its link."""
    items = "".join(
        f"<entry><title>{escape(t)}</title><link href={quoteattr(link)}/>"
        f"<id>{escape(link)}</id><updated>{when.isoformat()}</updated></entry>"
        for t, link, when in entries
    )
    stamp = max((when for _, _, when in entries), default=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:example:{escape(title)}</id>"
        f"<updated>{stamp.isoformat()}</updated>{items}</feed>"
    ).encode()
