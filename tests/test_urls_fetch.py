"""The link preview against the loopback fake web server, and what it refuses to touch.

"No connection made" is asserted on listening sockets on loopback addresses that are
not in `allow`: a connection the fetcher made would sit in their accept queue.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.fakes.web import FakeWeb
from bot.submissions.link_preview import PreviewOptions, fetch_preview
from tests.url_support import Table


class Listeners:
    """Listening sockets the fetcher must never connect to."""

    def __init__(self) -> None:
        self.sockets: dict[str, socket.socket] = {}
        for host in ("127.0.0.1", "127.0.0.2"):
            self._listen(socket.AF_INET, host)
        if socket.has_ipv6:
            try:
                self._listen(socket.AF_INET6, "::1")
            except OSError as exc:  # no IPv6 loopback in this sandbox
                print(f"no [::1] listener: {exc}")

    def _listen(self, family: int, host: str) -> None:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.bind((host, 0))
        sock.listen(8)
        sock.setblocking(False)
        self.sockets[host] = sock

    def port(self, host: str) -> int:
        return int(self.sockets[host].getsockname()[1])

    def accepted(self) -> list[str]:
        """The listeners that got a connection."""
        hit = []
        for host, sock in self.sockets.items():
            try:
                conn, _ = sock.accept()
            except BlockingIOError:
                continue
            conn.close()
            hit.append(host)
        return hit

    def close(self) -> None:
        for sock in self.sockets.values():
            sock.close()


@pytest.fixture
async def fake_web() -> AsyncIterator[FakeWeb]:
    async with FakeWeb(big_bytes=4 << 20) as server:
        yield server


@pytest.fixture
def listeners() -> Iterator[Listeners]:
    guards = Listeners()
    yield guards
    guards.close()


async def test_open_graph_title_and_description(fake_web: FakeWeb) -> None:
    preview = await fetch_preview(fake_web.url("/page"), allow=[fake_web.address])
    assert preview.ok
    assert preview.title == "Fake page: 第 1 篇"
    assert preview.description == "A page with Open Graph tags & entities."
    assert preview.status == 200


async def test_title_tag_and_plain_description_when_there_is_no_open_graph(
    fake_web: FakeWeb,
) -> None:
    preview = await fetch_preview(fake_web.url("/plain"), allow=[fake_web.address])
    assert (preview.title, preview.description) == (
        "Plain page (page title)",
        "Described by a plain meta tag.",
    )


async def test_up_to_three_redirects_are_followed(fake_web: FakeWeb) -> None:
    preview = await fetch_preview(fake_web.url("/chain/3"), allow=[fake_web.address])
    assert preview.ok
    assert preview.final_url == fake_web.url("/page")
    too_many = await fetch_preview(fake_web.url("/chain/4"), allow=[fake_web.address])
    assert too_many.error == "more than 3 redirects"
    assert fake_web.requests[-4:] == ["/chain/4", "/chain/3", "/chain/2", "/chain/1"]


async def test_a_big_page_is_read_only_up_to_the_cap(fake_web: FakeWeb) -> None:
    options = PreviewOptions(max_bytes=64 * 1024)
    for path in ("/big", "/gzip-big"):
        preview = await fetch_preview(fake_web.url(path), allow=[fake_web.address], options=options)
        assert preview.ok, preview.error
        assert preview.truncated
        assert preview.bytes_read == 64 * 1024  # decompressed bytes count against the cap
    assert preview.title == "Gzip page"


async def test_a_page_that_is_not_html_is_not_read(fake_web: FakeWeb) -> None:
    preview = await fetch_preview(fake_web.url("/pdf"), allow=[fake_web.address])
    assert preview.error == "not an HTML page (application/pdf)"
    assert preview.bytes_read == 0


async def test_an_error_status_says_so(fake_web: FakeWeb) -> None:
    preview = await fetch_preview(fake_web.url("/status/404"), allow=[fake_web.address])
    assert preview.error == "the page answered HTTP 404"
    assert preview.status == 404


async def test_a_slow_page_times_out_and_the_preview_says_why(fake_web: FakeWeb) -> None:
    options = PreviewOptions(timeout_seconds=0.3)
    preview = await fetch_preview(fake_web.url("/slow"), allow=[fake_web.address], options=options)
    assert preview.error == "the page did not answer within 0.3 s"
    assert "/slow" in fake_web.requests  # it did ask: the page was slow, not refused


async def test_an_unresolvable_name_gives_a_reason_not_an_exception() -> None:
    preview = await fetch_preview("https://nowhere.example.com/", resolver=Table({}))
    assert preview.error is not None
    assert "does not resolve" in preview.error


def _private_targets(guards: Listeners) -> list[str]:
    p1, p2 = guards.port("127.0.0.1"), guards.port("127.0.0.2")
    targets = [
        f"http://127.0.0.1:{p1}/",  # the fake's address, but not its port
        f"http://127.0.0.2:{p2}/",
        f"http://2130706434:{p2}/",  # 127.0.0.2 in decimal
        f"http://0x7f000002:{p2}/",
        f"http://0177.0.0.2:{p2}/",
        f"http://127.2:{p2}/",
        f"http://[::ffff:127.0.0.2]:{p2}/",
        f"http://１２７.０.０.２:{p2}/",
        f"http://intranet.example.com:{p2}/",  # a name resolving to 127.0.0.2
        f"http://example.com@127.0.0.2:{p2}/",
    ]
    if "::1" in guards.sockets:
        targets.append(f"http://[::1]:{guards.port('::1')}/")
    return targets


async def test_private_destinations_are_refused_without_a_connection(
    fake_web: FakeWeb, listeners: Listeners
) -> None:
    resolver = Table({"intranet.example.com": ["127.0.0.2"]})
    errors = {}
    for url in _private_targets(listeners):
        preview = await fetch_preview(url, allow=[fake_web.address], resolver=resolver)
        errors[url] = preview.error or ""
    assert listeners.accepted() == []
    assert fake_web.requests == []
    assert [url for url, error in errors.items() if not error.startswith("refused: ")] == []


async def test_a_redirect_from_the_allowed_page_to_a_private_address_is_refused(
    fake_web: FakeWeb, listeners: Listeners
) -> None:
    resolver = Table({"intranet.example.com": ["127.0.0.2"]})
    p2 = listeners.port("127.0.0.2")
    # Only loopback targets: a regression must not send traffic anywhere else.
    targets = (
        f"http://127.0.0.2:{p2}/admin",
        f"http://intranet.example.com:{p2}/admin",
        f"http://0x7f000002:{p2}/admin",
        f"http://[::ffff:127.0.0.2]:{p2}/admin",
    )
    previews = {}
    for target in targets:
        url = fake_web.url(f"/redirect?to={target}")
        previews[target] = await fetch_preview(url, allow=[fake_web.address], resolver=resolver)
    assert listeners.accepted() == []
    assert len(fake_web.requests) == len(targets)  # the allowed page itself was fetched
    for target, preview in previews.items():
        assert (preview.error or "").startswith("refused: "), target
        assert preview.status == 302
        assert preview.final_url.endswith(f":{p2}/admin")  # as the Location said


async def test_the_connection_goes_to_the_checked_address_with_the_real_host_name(
    fake_web: FakeWeb, listeners: Listeners
) -> None:
    # First lookup: the fake page's address. Any later lookup would say 127.0.0.2 (a
    # rebinding attack); the fetcher must not ask again between check and connect.
    answers = iter([["127.0.0.1"]])

    def rebinding(host: str, port: int, *args: int) -> list[tuple[Any, ...]]:
        addresses = next(answers, ["127.0.0.2"])
        return Table({host: addresses})(host, port)

    port = fake_web.address[1]
    url = fake_web.url("/page", host="site.example.com")
    preview = await fetch_preview(url, allow=[("site.example.com", port)], resolver=rebinding)
    assert preview.ok, preview.error
    assert fake_web.host_headers == [f"site.example.com:{port}"]
    assert listeners.accepted() == []


async def test_one_lookup_per_request_even_for_a_non_ascii_path(fake_web: FakeWeb) -> None:
    fake_web.add_page("路径", "Unicode path", "Found by its encoded path.")
    resolver = Table({"site.example.com": ["127.0.0.1"]})
    port = fake_web.address[1]
    url = fake_web.url("/page/路径?q=日本", host="site.example.com")
    preview = await fetch_preview(url, allow=[("site.example.com", port)], resolver=resolver)
    assert preview.title == "Unicode path"
    assert resolver.lookups == ["site.example.com"]
    assert fake_web.requests == ["/page/%E8%B7%AF%E5%BE%84?q=%E6%97%A5%E6%9C%AC"]


def _self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: cannot make a test certificate")
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


async def test_tls_keeps_the_real_name_for_sni_and_the_certificate(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path, "tls.example.com")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    trust = ssl.create_default_context(cafile=str(cert))
    resolver = Table({"tls.example.com": ["127.0.0.1"], "other.example.com": ["127.0.0.1"]})
    async with FakeWeb(ssl_context=server_context) as server:
        port = server.address[1]
        allow = [("tls.example.com", port), ("other.example.com", port)]
        good = await fetch_preview(
            server.url("/page", host="tls.example.com"),
            allow=allow,
            resolver=resolver,
            verify=trust,
        )
        assert good.ok, good.error
        assert server.sni_names == ["tls.example.com"]
        # Connected to 127.0.0.1 both times; the certificate is checked against the name.
        wrong = await fetch_preview(
            server.url("/page", host="other.example.com"),
            allow=allow,
            resolver=resolver,
            verify=trust,
        )
        assert wrong.error is not None
        assert "could not connect" in wrong.error
        assert "certificate" in wrong.error.lower() or "hostname" in wrong.error.lower()
        assert server.requests == ["/page"]
