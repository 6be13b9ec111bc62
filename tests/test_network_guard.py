"""The guard in conftest keeps every test on loopback, and refuses before anything is sent."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import network_guard
from tests.network_guard import FakeDNS, NetworkGuard

OUTSIDE = "192.0.2.1"  # TEST-NET-1: never routed


@pytest.fixture
def guard(network_guard_for_each_test: NetworkGuard) -> Iterator[NetworkGuard]:
    """The guard, checked empty before the test and emptied after (its refusals are expected)."""
    assert network_guard_for_each_test.refused == []
    yield network_guard_for_each_test
    network_guard_for_each_test.take_refusals()


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.create_server(("127.0.0.1", 0))
    with server:
        yield server


def test_a_connect_outside_fails_naming_the_address_and_never_starts(
    guard: NetworkGuard, listener: socket.socket
) -> None:
    with socket.socket() as sock:
        sock.settimeout(2)  # without the guard: a TimeoutError, not a hang
        with pytest.raises(pytest.fail.Exception, match=re.escape(f"connect to {OUTSIDE}:80")):
            sock.connect((OUTSIDE, 80))
        # A socket whose connect had started would say EALREADY/EISCONN here.
        sock.connect(listener.getsockname())
        assert sock.getpeername() == listener.getsockname()
    assert len(guard.take_refusals()) == 1


def test_connect_ex_and_ipv6_are_guarded_too(guard: NetworkGuard) -> None:
    with socket.socket() as sock:
        sock.setblocking(False)  # without the guard: EINPROGRESS, not a hang
        with pytest.raises(pytest.fail.Exception, match=re.escape(OUTSIDE)):
            sock.connect_ex((OUTSIDE, 443))
    if socket.has_ipv6:
        with socket.socket(socket.AF_INET6) as sock6:
            sock6.setblocking(False)
            with pytest.raises(pytest.fail.Exception, match=re.escape("2001:db8::1")):
                sock6.connect(("2001:db8::1", 443, 0, 0))
    assert len(guard.take_refusals()) == (2 if socket.has_ipv6 else 1)


def test_a_public_name_is_not_even_resolved(guard: NetworkGuard) -> None:
    with pytest.raises(pytest.fail.Exception, match=re.escape("resolve the name 'example.com'")):
        socket.create_connection(("example.com", 80), timeout=1)
    assert len(guard.take_refusals()) == 1


async def test_asyncio_and_httpx_are_refused_the_same_way(guard: NetworkGuard) -> None:
    with pytest.raises(pytest.fail.Exception, match=re.escape(f"connect to {OUTSIDE}:80")):
        async with asyncio.timeout(2):  # without the guard: a TimeoutError, not a hang
            await asyncio.open_connection(OUTSIDE, 80)
    refused_name = re.escape("resolve the name 'api.telegram.org'")
    with pytest.raises(pytest.fail.Exception, match=refused_name):
        await asyncio.get_running_loop().getaddrinfo("api.telegram.org", 443)
    async with httpx.AsyncClient(timeout=2) as client:
        with pytest.raises(BaseExceptionGroup) as caught:  # anyio's task group wraps it
            await client.get(f"http://{OUTSIDE}/")
    assert caught.group_contains(pytest.fail.Exception, match=re.escape(f"connect to {OUTSIDE}:80"))
    assert len(guard.take_refusals()) == 3


def test_a_refusal_the_code_swallowed_still_fails_the_test(guard: NetworkGuard) -> None:
    def careless() -> None:
        with contextlib.suppress(BaseException):  # what the guard must survive
            socket.create_connection((OUTSIDE, 80))

    # per_test() is what conftest wraps around every test.
    with (
        pytest.raises(pytest.fail.Exception, match=re.escape(f"connect to {OUTSIDE}:80")),
        network_guard.per_test(),
    ):
        careless()
    assert guard.refused == []


async def test_loopback_and_unix_sockets_are_allowed(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    for name in ("127.0.0.1", "localhost"):
        _, writer = await asyncio.open_connection(name, port)
        assert writer.get_extra_info("peername")[1] == port
        writer.close()
        await writer.wait_closed()
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "s")
        with socket.socket(socket.AF_UNIX) as server, socket.socket(socket.AF_UNIX) as client:
            server.bind(path)
            server.listen()
            client.connect(path)
            assert client.getpeername() == path


def test_fake_dns_resolves_a_test_name_offline_but_never_connects_outward(
    guard: NetworkGuard, fake_dns: FakeDNS, listener: socket.socket
) -> None:
    fake_dns.add("inside.test", "127.0.0.1")
    fake_dns.add("outside.test", OUTSIDE, "2001:db8::1")
    port = listener.getsockname()[1]
    resolved = {info[4][0] for info in socket.getaddrinfo("outside.test", 80)}
    assert resolved <= {OUTSIDE, "2001:db8::1"}
    assert OUTSIDE in resolved
    with socket.create_connection(("inside.test", port), timeout=1) as sock:
        assert sock.getpeername()[0] == "127.0.0.1"
    with pytest.raises(pytest.fail.Exception, match=re.escape(f"connect to {OUTSIDE}:80")):
        socket.create_connection(("outside.test", 80), timeout=1)
    with pytest.raises(ValueError, match="numeric addresses"):
        fake_dns.add("bad.test", "not-an-address")
    assert len(guard.take_refusals()) == 1
