"""Fuzzing canonical URLs: the canonical of a canonical is itself, and nothing but
the documented `InvalidURLError` ever comes out of `canonical_url`, `dedupe_key` or
`parse_submission`, whatever a reader pastes.

The generated links are built from the pieces that trip URL code: userinfo, ports,
IPv4 in odd spellings, IPv6, full-width and ideographic dots, percent-escapes in the
host, IDNA names, dots where labels should be, and hostile text between them.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from bot.domain.urls import (
    MAX_URL_LENGTH,
    InvalidURLError,
    canonical_url,
    dedupe_key,
    parse_submission,
)
from tests.fuzz_support import FUZZ, hostile_text

SCHEMES = ["https://", "http://", "HTTP://", "https:/", "https:", "ftp://", "//", "", " https://"]
HOSTS = [
    "example.com",
    "Example.COM.",
    "www.example.com",
    "例子.中国",
    "xn--fsqu00a.xn--fiqs8s",
    "bücher.de",
    "ｅｘａｍｐｌｅ．ｃｏｍ",
    "example。com",
    "exa\u200bmple.com",
    "a..b.com",
    ".example.com",
    "xn--.com",
    "xn--zz.com",
    "-a-.com",
    "a" * 64 + ".com",
    ("a" * 60 + ".") * 5 + "com",
    "127.0.0.1",
    "0x7f.1",
    "017700000001",
    "1.2.3.4.5",
    "256.1.1.1",
    "1.2.3",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[fe80::1%25eth0]",
    "[::1",
    "::1",
    "%65xample.com",
    "ex%41mple.com",
    "user:pass@example.com",
    "@example.com",
    "example.com@evil.com",
    "localhost",
    "test",
    "example.local",
    "",
]
PORTS = ["", ":", ":80", ":443", ":0", ":65535", ":65536", ":08080", ":+1", ":１２", ":a", "::80"]
PATHS = [
    "",
    "/",
    "/a/b/",
    "/a/../b",
    "/%7Euser",
    "/%zz",
    "/a b",
    "/a\\b",
    "/é",
    "/(x)",
    "//x",
    "/;p",
]
QUERIES = [
    "",
    "?",
    "?a=1&b=2",
    "?b=2&a=1",
    "?utm_source=x",
    "?UTM_Source=x&q=1",
    "?a",
    "?&&",
    "?%75tm_x=1",
]
FRAGMENTS = ["", "#", "#frag", "#a?b", "#%20"]


@st.composite
def links(draw: st.DrawFn) -> str:
    pieces = [
        draw(st.sampled_from(SCHEMES)),
        draw(st.sampled_from(HOSTS)),
        draw(st.sampled_from(PORTS)),
        draw(st.sampled_from(PATHS)),
        draw(st.sampled_from(QUERIES)),
        draw(st.sampled_from(FRAGMENTS)),
    ]
    for _ in range(draw(st.integers(0, 2))):  # hostile text dropped in somewhere
        at = draw(st.integers(0, len(pieces)))
        pieces.insert(at, draw(hostile_text)[:40])
    return "".join(pieces)


urls = st.one_of(
    links(), hostile_text, st.builds(lambda t: "https://example.com/" + t, hostile_text)
)


@FUZZ
@given(urls)
@example("https://[::1")  # found: urlsplit's ValueError escaped (now the host rule)
@example("https://ｅｘａｍｐｌｅ．ｃｏｍ/")
@example("http://0x7f.1:08080/%7e?b=2&a=1#x")
@example("https://example.com/" + "a" * 3000)
def test_canonical_is_a_fixed_point_or_the_documented_refusal(url: str) -> None:
    rule: str | None = None
    message = ""
    try:
        canonical = canonical_url(url)
    except InvalidURLError as refused:
        rule, message = refused.rule, refused.message
    if rule is not None:
        assert rule in ("empty", "syntax", "scheme", "length", "host")
        assert message
        assert "example" in message  # the reply names an example
        return
    assert canonical.startswith(("http://", "https://"))
    assert canonical_url(canonical) == canonical
    assert "#" not in canonical
    assert dedupe_key(canonical) == dedupe_key(url)


@FUZZ
@given(urls)
def test_a_readers_link_is_accepted_canonical_or_refused_with_a_reply(text: str) -> None:
    reply: str | None = None
    try:
        link = parse_submission(text)
    except InvalidURLError as refused:
        reply = refused.message
    if reply is not None:
        assert reply
        return
    assert len(link.url) <= MAX_URL_LENGTH
    assert canonical_url(link.url) == link.url
    assert parse_submission(link.url) == link
    assert link.host.isascii()
    assert link.host == link.host.lower()
