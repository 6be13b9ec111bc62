"""A loopback fake of the web pages readers submit, for the link preview fetcher.

An aiohttp server on 127.0.0.1 with the pages a preview meets in the wild:

- `/page` and `/page/{name}`: HTML with `og:title`, `og:description` and `<title>`;
  pages added with `add_page()` are served the same way;
- `/plain`: only `<title>` and `<meta name="description">`;
- `/redirect?to=URL` (302) and `/chain/{n}` (n redirects in a row, then `/page`);
- `/big`: an HTML page of `big_bytes` (default 8 MiB) sent in chunks, its head first;
- `/gzip-big`: the same big page gzip-compressed (a few KiB on the wire);
- `/pdf`: a non-HTML body; `/status/{code}`: that status with an HTML body;
- `/slow`: answers only when `release_slow()` is called (or the server closes), so a
  test can prove the fetcher gave up without sleeping;
- `/feed/{name}`: a feed added with `add_feed()` (documents from `bot.fakes.feeds`),
  with an ETag (a matching `If-None-Match` gets 304, counted in `not_modified`), or the
  status `fail_feed()` set (with `Retry-After` when given) for its next `times` requests.

`requests` records every request's path and query, `host_headers` its Host header and,
when served over TLS (`ssl_context`), `sni_names` the name each handshake asked for.

    async with FakeWeb() as web:
        preview = await fetch_preview(web.url("/page"), allow=[web.address])
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import html
import ssl

from aiohttp import web

_CHUNK = 64 * 1024


def _html(title: str, description: str, *, og: bool = True, body: str = "") -> str:
    title_e, description_e = html.escape(title), html.escape(description)
    metas = (
        f'<meta property="og:title" content="{title_e}">\n'
        f'<meta property="og:description" content="{description_e}">\n'
        if og
        else f'<meta name="description" content="{description_e}">\n'
    )
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">\n'
        f"{metas}<title>{title_e} (page title)</title>\n</head>"
        f"<body><h1>{title_e}</h1>{body}</body></html>\n"
    )


class FakeWeb:
    """The fake web server; `address` is the (host, port) pair to allow in the check."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        big_bytes: int = 8 << 20,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._host = host
        self._ssl = ssl_context
        self.sni_names: list[str | None] = []
        if ssl_context is not None:
            ssl_context.sni_callback = self._sni
        self._port = port
        self.big_bytes = big_bytes
        self._runner: web.AppRunner | None = None
        self._slow_release = asyncio.Event()
        self.pages: dict[str, tuple[str, str]] = {
            "page": ("Fake page: 第 1 篇", "A page with Open Graph tags & entities."),
        }
        self.requests: list[str] = []
        self.host_headers: list[str] = []
        self.big_aborted = 0  # `/big` responses the client hung up on
        self.address: tuple[str, int] = (host, port)
        self.feeds: dict[str, bytes] = {}
        self._feed_faults: dict[str, list[int]] = {}
        self.not_modified = 0

    def url(self, path: str, *, host: str | None = None) -> str:
        """A URL of this server, by its address or by a name (`host`) a resolver maps."""
        scheme = "https" if self._ssl is not None else "http"
        return f"{scheme}://{host or self.address[0]}:{self.address[1]}{path}"

    def _sni(self, sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        self.sni_names.append(name)

    def add_page(self, name: str, title: str, description: str) -> str:
        """Serve an HTML page at `/page/{name}`; return its URL."""
        self.pages[name] = (title, description)
        return self.url(f"/page/{name}")

    def add_feed(self, name: str, document: bytes) -> str:
        """Serve (or replace) a feed at `/feed/{name}`; return its URL."""
        self.feeds[name] = document
        return self.url(f"/feed/{name}")

    def fail_feed(self, name: str, status: int, *, times: int = 1_000_000) -> None:
        """Answer the feed's next `times` requests with `status` (then serve it again)."""
        self._feed_faults[name] = [status] * times

    def release_slow(self) -> None:
        self._slow_release.set()

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/page", self._page)
        app.router.add_get("/page/{name}", self._page)
        app.router.add_get("/plain", self._plain)
        app.router.add_get("/redirect", self._redirect)
        app.router.add_get("/chain/{n}", self._chain)
        app.router.add_get("/big", self._big)
        app.router.add_get("/gzip-big", self._gzip_big)
        app.router.add_get("/pdf", self._pdf)
        app.router.add_get("/status/{code}", self._status)
        app.router.add_get("/slow", self._slow)
        app.router.add_get("/feed/{name}", self._feed)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port, ssl_context=self._ssl)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.address = (host, port)
        return self.url("")

    async def close(self) -> None:
        self._slow_release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeWeb:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _record(self, request: web.Request) -> None:
        self.requests.append(request.path_qs)
        self.host_headers.append(request.headers.get("Host", ""))

    async def _page(self, request: web.Request) -> web.Response:
        self._record(request)
        name = request.match_info.get("name", "page")
        if name not in self.pages:
            raise web.HTTPNotFound(text=_html("Not found", "No such page."))
        title, description = self.pages[name]
        return web.Response(text=_html(title, description), content_type="text/html")

    async def _plain(self, request: web.Request) -> web.Response:
        self._record(request)
        page = _html("Plain page", "Described by a plain meta tag.", og=False)
        return web.Response(text=page, content_type="text/html")

    async def _redirect(self, request: web.Request) -> web.Response:
        self._record(request)
        raise web.HTTPFound(request.query.get("to", "/page"))

    async def _chain(self, request: web.Request) -> web.Response:
        self._record(request)
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/chain/{n - 1}" if n > 1 else "/page")

    async def _big(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        response = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
        response.content_length = self.big_bytes
        await response.prepare(request)
        head = _html("Big page", "Megabytes of body after this head.").encode()
        head = head.replace(b"</body></html>\n", b"")
        filler = b"<p>" + b"x" * (_CHUNK - 8) + b"</p>\n"
        sent = 0
        try:
            await response.write(head)
            sent = len(head)
            while sent < self.big_bytes:
                chunk = filler[: self.big_bytes - sent]
                await response.write(chunk)
                sent += len(chunk)
        except ConnectionError:  # the client stopped reading: what a capped fetch does
            self.big_aborted += 1
        return response

    async def _gzip_big(self, request: web.Request) -> web.Response:
        self._record(request)
        page = _html("Gzip page", "Compressed megabytes.").encode()
        body = gzip.compress(page + b" " * self.big_bytes)
        headers = {"Content-Type": "text/html", "Content-Encoding": "gzip"}
        return web.Response(body=body, headers=headers)

    async def _pdf(self, request: web.Request) -> web.Response:
        self._record(request)
        return web.Response(body=b"%PDF-1.7\n" + b"0" * 1024, content_type="application/pdf")

    async def _status(self, request: web.Request) -> web.Response:
        self._record(request)
        code = int(request.match_info["code"])
        page = _html(f"Status {code}", "An error page.")
        return web.Response(status=code, text=page, content_type="text/html")

    async def _slow(self, request: web.Request) -> web.Response:
        self._record(request)
        await self._slow_release.wait()
        return web.Response(text=_html("Slow page", "Late."), content_type="text/html")

    async def _feed(self, request: web.Request) -> web.Response:
        self._record(request)
        name = request.match_info["name"]
        faults = self._feed_faults.get(name)
        if faults:
            status = faults.pop(0)
            headers = {"Retry-After": "0"} if status in (429, 503) else {}
            return web.Response(status=status, text="unavailable", headers=headers)
        if name not in self.feeds:
            raise web.HTTPNotFound(text="no such feed")
        body = self.feeds[name]
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            self.not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=body, headers={"ETag": etag, "Content-Type": "application/rss+xml"}
        )
