"""Keep every test on loopback: refuse, at the socket, any address outside 127.0.0.0/8 and ::1.

The tests promise to run offline against the local fakes; this makes that a
checked fact instead of a hope (as python-telegram-bot's own `OfflineRequest`
does for its test suite, one level lower so that tweepy, aiohttp, httpx and
anything else are covered too). Refused before the real call, so nothing is
sent: `socket.socket.connect`/`connect_ex`/`sendto` (asyncio's
`create_connection` and `sock_connect` end there) and `socket.getaddrinfo`
(asyncio's `loop.getaddrinfo` calls it), which answers only for loopback
names and numeric addresses, since resolving any other name is itself a query
sent outward. AF_UNIX sockets are not touched.

A test that must resolve names (an address checker, say) opts in with the
`fake_dns` fixture: the names it adds resolve to the addresses it gives,
offline; connecting to a non-loopback address stays refused whatever the test
asks. A refusal fails the test even when the code under test swallows the
exception: each one is recorded and checked after the test.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import pytest

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_INET_FAMILIES = (socket.AF_INET, socket.AF_INET6)

_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_sendto = socket.socket.sendto


class NetworkGuard:
    """What the guard refused so far, and the names the current test made resolvable."""

    def __init__(self) -> None:
        self.refused: list[str] = []
        self.names: dict[str, tuple[str, ...]] = {}

    def take_refusals(self) -> list[str]:
        """Return and forget the refusals (the guard's own tests expect some)."""
        refused, self.refused = self.refused, []
        return refused

    def refuse(self, what: str) -> NoReturn:
        message = (
            f"network guard: the test tried to {what}; tests reach only loopback "
            "(127.0.0.0/8, ::1, AF_UNIX): point the client at a local fake"
        )
        self.refused.append(message)
        pytest.fail(message, pytrace=False)


GUARD = NetworkGuard()


def is_loopback(host: str) -> bool:
    """True for a loopback address or name; False for anything else, names included."""
    if host.lower().rstrip(".") in _LOOPBACK_NAMES:
        return True
    address = _numeric(host)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _numeric(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # drop an IPv6 zone
    except ValueError:
        return None


def _host_text(host: Any) -> str:
    return host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)


def _check_address(sock: socket.socket, address: Any, verb: str) -> None:
    if sock.family not in _INET_FAMILIES or not isinstance(address, tuple) or not address:
        return  # AF_UNIX and other local families
    host = _host_text(address[0])
    if not is_loopback(host):
        port = address[1] if len(address) > 1 else "?"
        GUARD.refuse(f"{verb} {host}:{port}")


def _guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    if host is None or host in ("", b""):
        return _real_getaddrinfo(host, port, *args, **kwargs)  # a passive (bind) lookup
    name = _host_text(host)
    if name.lower().rstrip(".") in GUARD.names:
        return [
            info
            for address in GUARD.names[name.lower().rstrip(".")]
            for info in _real_getaddrinfo(address, port, *args, **kwargs)
        ]
    if _numeric(name) is not None or is_loopback(name):
        return _real_getaddrinfo(host, port, *args, **kwargs)  # answered without a query
    GUARD.refuse(f"resolve the name {name!r} (port {port}); add it to the fake_dns fixture")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check_address(self, address, "connect to")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check_address(self, address, "connect to")
    return _real_connect_ex(self, address)


def _guarded_sendto(self: socket.socket, data: Any, *args: Any) -> int:
    _check_address(self, args[-1] if args else None, "send a datagram to")
    return _real_sendto(self, data, *args)


_PATCHES: tuple[tuple[Any, str, Callable[..., Any]], ...] = (
    (socket, "getaddrinfo", _guarded_getaddrinfo),
    (socket.socket, "connect", _guarded_connect),
    (socket.socket, "connect_ex", _guarded_connect_ex),
    (socket.socket, "sendto", _guarded_sendto),
)


def install() -> None:
    """Guard the socket module for the whole session (collection included)."""
    for owner, name, guarded in _PATCHES:
        setattr(owner, name, guarded)


def uninstall() -> None:
    socket.getaddrinfo = _real_getaddrinfo
    socket.socket.connect = _real_connect
    socket.socket.connect_ex = _real_connect_ex
    socket.socket.sendto = _real_sendto


class FakeDNS:
    """Names a test makes resolvable, offline; what they resolve to is still guarded."""

    def add(self, name: str, *addresses: str) -> None:
        """Make `name` resolve to `addresses` (numeric IPv4 or IPv6) for this test."""
        if not addresses or any(_numeric(a) is None for a in addresses):
            raise ValueError(f"fake_dns: {name!r} needs numeric addresses, got {addresses!r}")
        GUARD.names[name.lower().rstrip(".")] = addresses


@contextmanager
def per_test() -> Iterator[NetworkGuard]:
    """Reset the opt-ins around one test; fail it for any refusal it swallowed."""
    GUARD.names.clear()
    GUARD.refused.clear()
    try:
        yield GUARD
    finally:
        GUARD.names.clear()
    refused = GUARD.take_refusals()
    if refused:
        pytest.fail("\n".join(refused), pytrace=False)
