"""The link preview: a submitted page's title and description, fetched SSRF-safely.

Best effort by design: `fetch_preview` never raises for anything the page or the
network does; a page that cannot be read gives a `Preview` whose `error` says why, and
the submission is reviewed all the same (the card shows the reason).

Safety lives in `PinnedTransport`, an httpx transport every request goes through:

1. every request carries the `PublicURL` that `bot.domain.urls.check_public_url` returned for
   its URL (the fetch loop checks the first URL and each redirect target, in a thread:
   it resolves with `getaddrinfo`); a request without one is checked by the transport;
2. it sends the request to an address that check returned, never to a new lookup of
   the name (DNS rebinding): the request's URL gets the address as its host while
   the `Host` header keeps the name, and for TLS httpcore's `sni_hostname` extension
   keeps the name for SNI and for the certificate check;
3. keep-alive is off, so no connection opened for one name is reused for another
   name that shares the address (its certificate was checked for the first name).

The fetch itself: redirects followed by hand (at most `max_redirects`), one deadline
for the whole fetch, HTML only (by Content-Type, before any body is read), the body
read up to `max_bytes` (gzip and deflate decompressed within the same cap), proxies
from the environment ignored. This module sits beside `bot.domain.urls` rather than in the
submissions package so that it stays a leaf the submission code imports, with nothing
of the store or handlers in it.
"""

from __future__ import annotations

import asyncio
import codecs
import html.parser
import re
import socket
import ssl
import zlib
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from bot.domain.urls import PublicURL, Resolver, UnsafeURLError, check_public_url

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# A request extension carrying the `PublicURL` the caller already checked for this URL,
# so that the transport connects to those addresses without a second lookup.
CHECKED = "weeklybot.checked_url"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_TITLE = 256
MAX_DESCRIPTION = 512
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


@dataclass(frozen=True, slots=True)
class PreviewOptions:
    """Limits of one preview fetch; the defaults suit a review card."""

    timeout_seconds: float = 10.0  # the whole fetch: lookups, redirects and body
    max_bytes: int = 512 * 1024  # of (decompressed) body read; a page's head is early
    max_redirects: int = 3
    user_agent: str = "weeklybot-preview/1 (+https://github.com/chinesehuazhou/python-weekly)"


@dataclass(frozen=True, slots=True)
class Preview:
    """What the review card shows of a submitted page."""

    url: str  # as asked for
    final_url: str  # the last URL requested (after redirects)
    title: str | None = None
    description: str | None = None
    error: str | None = None  # why there is no title or description; None when there is
    status: int | None = None  # the last HTTP status, when one came
    bytes_read: int = 0
    truncated: bool = False  # the body went past `max_bytes`; what came first was read

    @property
    def ok(self) -> bool:
        return self.error is None


class PinnedTransport(httpx.AsyncBaseTransport):
    """Checks every request with `check_public_url` and connects to a checked address."""

    def __init__(
        self,
        *,
        allow: Collection[tuple[str, int]] = (),
        resolver: Resolver = socket.getaddrinfo,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._allow = tuple(allow)
        self._resolver = resolver
        self._inner = httpx.AsyncHTTPTransport(
            verify=verify,
            trust_env=False,
            retries=0,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self.checked: list[PublicURL] = []  # every URL let through, in order

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        extensions = dict(request.extensions)
        public = extensions.pop(CHECKED, None)
        if not (isinstance(public, PublicURL) and _same_origin(public, request.url)):
            public = await asyncio.to_thread(
                check_public_url, str(request.url), allow=self._allow, resolver=self._resolver
            )
        self.checked.append(public)
        if public.is_https:
            extensions["sni_hostname"] = public.host
        request.extensions = extensions
        error: httpx.ConnectError | None = None
        for address in public.addresses:
            # The Host header was set from the name when the request was built.
            request.url = request.url.copy_with(host=address)
            try:
                return await self._inner.handle_async_request(request)
            except httpx.ConnectError as exc:  # try the next checked address
                error = exc
        assert error is not None  # addresses is never empty
        raise error

    async def aclose(self) -> None:
        await self._inner.aclose()


def _same_origin(public: PublicURL, url: httpx.URL) -> bool:
    """Whether a request goes where `public` was checked for (else check it again)."""
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    host = url.raw_host.decode("ascii").lower()
    return (url.scheme, host, port) == (public.scheme, public.host, public.port)


async def fetch_preview(
    url: str,
    *,
    allow: Collection[tuple[str, int]] = (),
    resolver: Resolver = socket.getaddrinfo,
    options: PreviewOptions = PreviewOptions(),
    verify: ssl.SSLContext | bool = True,
) -> Preview:
    """Fetch a page's `og:title`/`og:description`/`<title>`; never raises for the page.

    `allow` and `resolver` go to `check_public_url` for every request; `verify` is the
    TLS trust (tests pass a context trusting their own certificate).
    """
    state = _State(url)
    transport = PinnedTransport(allow=allow, resolver=resolver, verify=verify)
    client = httpx.AsyncClient(
        transport=transport,
        trust_env=False,
        follow_redirects=False,
        timeout=options.timeout_seconds,
        headers={
            "User-Agent": options.user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
            "Accept-Encoding": "gzip, deflate",
        },
    )

    async def check(url: str) -> PublicURL:
        return await asyncio.to_thread(check_public_url, url, allow=allow, resolver=resolver)

    try:
        async with client, asyncio.timeout(options.timeout_seconds):
            return await _fetch(client, state, options, check)
    except UnsafeURLError as exc:
        return state.failed(str(exc))
    except (TimeoutError, httpx.TimeoutException):
        return state.failed(f"the page did not answer within {options.timeout_seconds:g} s")
    except httpx.ConnectError as exc:
        return state.failed(f"could not connect to the site ({_short(exc)})")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return state.failed(f"the fetch failed ({type(exc).__name__}: {_short(exc)})")


@dataclass(slots=True)
class _State:
    url: str
    current: str = ""
    status: int | None = None

    def __post_init__(self) -> None:
        self.current = self.url

    def failed(self, error: str) -> Preview:
        return Preview(self.url, self.current, error=error, status=self.status)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 160 else text[:159] + "…"


async def _fetch(
    client: httpx.AsyncClient,
    state: _State,
    options: PreviewOptions,
    check: Callable[[str], Awaitable[PublicURL]],
) -> Preview:
    for hop in range(options.max_redirects + 1):
        public = await check(state.current)
        request = client.build_request("GET", public.url, extensions={CHECKED: public})
        response = await client.send(request, stream=True)
        try:
            state.status = response.status_code
            location = response.headers.get("location")
            if response.status_code in REDIRECT_STATUSES and location:
                if hop == options.max_redirects:
                    return state.failed(f"more than {options.max_redirects} redirects")
                state.current = urljoin(public.url, location.strip())
                continue
            if not 200 <= response.status_code < 300:
                return state.failed(f"the page answered HTTP {response.status_code}")
            content_type = response.headers.get("content-type", "")
            kind = content_type.split(";", 1)[0].strip().lower()
            if kind not in HTML_TYPES:
                return state.failed(f"not an HTML page ({kind or 'no content type'})")
            body, truncated = await _read_capped(response, options.max_bytes)
            if body is None:
                encoding = response.headers.get("content-encoding", "")
                return state.failed(f"the page is compressed with {encoding}, not read")
            return _preview_from_html(state, body, response.charset_encoding, truncated)
        finally:
            await response.aclose()
    raise AssertionError("unreachable")  # pragma: no cover


async def _read_capped(response: httpx.Response, cap: int) -> tuple[bytes | None, bool]:
    """Up to `cap` bytes of the decoded body, and whether there was more."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    decoder: zlib._Decompress | None = None
    if encoding in ("gzip", "x-gzip", "deflate"):
        decoder = zlib.decompressobj(wbits=47 if encoding != "deflate" else zlib.MAX_WBITS)
    elif encoding not in ("", "identity"):
        return None, False
    body = bytearray()
    async for raw in response.aiter_raw():
        if decoder is None:
            body += raw
        else:
            body += decoder.decompress(raw, cap + 1 - len(body))
        if len(body) > cap:
            return bytes(body[:cap]), True
    return bytes(body), False


def _preview_from_html(
    state: _State, body: bytes, declared: str | None, truncated: bool
) -> Preview:
    text = body.decode(_encoding(body, declared), errors="replace")
    reader = _HeadReader()
    try:
        reader.feed(text)
        reader.close()
    except AssertionError:  # html.parser's own sanity checks on hostile markup
        pass
    title = _clean(reader.meta.get("og:title") or reader.title or reader.meta.get("twitter:title"))
    description = _clean(
        reader.meta.get("og:description")
        or reader.meta.get("description")
        or reader.meta.get("twitter:description"),
        MAX_DESCRIPTION,
    )
    error = None if title or description else "the page has no title or description"
    return Preview(
        state.url,
        state.current,
        title=title,
        description=description,
        error=error,
        status=state.status,
        bytes_read=len(body),
        truncated=truncated,
    )


def _encoding(body: bytes, declared: str | None) -> str:
    candidates = [declared]
    match = _META_CHARSET.search(body[:4096])
    if match:
        candidates.append(match.group(1).decode("ascii"))
    for name in candidates:
        if not name:
            continue
        try:
            return codecs.lookup(name).name
        except LookupError:
            continue
    return "utf-8"


def _clean(value: str | None, limit: int = MAX_TITLE) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split())
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _HeadReader(html.parser.HTMLParser):
    """Collects `<title>` and the `<meta>` tags a preview uses."""

    _NAMES = frozenset(
        {"og:title", "og:description", "description", "twitter:title", "twitter:description"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title: str | None = None
        self._in_title = False
        self._title_parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            values = {k.lower(): v for k, v in attrs if v is not None}
            name = (values.get("property") or values.get("name") or "").strip().lower()
            if name in self._NAMES and "content" in values:
                self.meta.setdefault(name, values["content"])
        elif tag == "title" and self.title is None:
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
            self.title = "".join(self._title_parts)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title_parts.append(data)
