"""Links readers submit: validation, the canonical form, dedupe keys, and the SSRF check.

Three layers, each usable alone:

- `parse_submission(text)` is the validation a `/submit` reply needs: http(s) only, at
  most `MAX_URL_LENGTH` characters, a real registrable host (a name under a public
  suffix of the Public Suffix List, not an IP address or a special-use name). A refusal
  is an `InvalidURLError` naming the rule and showing an example.
- `canonical_url(url)` and `dedupe_key(url)` are pure: url-normalize does the RFC 3986
  steps (case, IDNA/UTS-46, default port, dot segments, percent-encoding), this module
  drops the fragment and the tracking parameters (`TRACKING_PARAMS`, the one list) and
  sorts the rest. The key also forgets the scheme, `www.` and a trailing slash, so that
  those spellings of a link are one submission. `item_dedupe_key` keys the links of
  stored issues the same way and never raises.
- `check_public_url(url)` decides whether the bot may connect to a URL at all: it parses
  the host as a browser would (IPv4 in decimal, octal, hex and short forms; Unicode
  digits and dots through UTS-46), resolves it, and refuses unless every address is
  public. It returns the addresses it checked so the fetcher connects to exactly those
  (`bot.submissions.link_preview`). It is synchronous (`socket.getaddrinfo`); async callers use
  `asyncio.to_thread`.

A URL is parsed once, strictly, by `_parse`: backslashes, whitespace, control
characters, user info and percent-encoded hosts are refused rather than interpreted,
because those are where URL parsers disagree (a checker reading one host and a client
connecting to another is the classic SSRF bypass).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import unquote, urlsplit

import idna
from publicsuffixlist import PublicSuffixList
from url_normalize import url_normalize

from bot.domain.issue import Issue

MAX_URL_LENGTH = 2048
EXAMPLE_URL = "https://example.com/article"

# Query parameters that only say where a click came from. The one list: canonical
# URLs, dedupe keys and whatever stores links all strip exactly these. Names are
# compared lower-cased and percent-decoded.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "spm",
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "from",
        "source",
        "share",
        "vd_source",  # bilibili
        "scene",  # WeChat articles (mp.weixin.qq.com keeps __biz, mid, idx, sn)
        "chksm",
        "srcid",
        "mpshare",
        "sharer_sharetime",
        "sharer_shareid",
    }
)
TRACKING_PARAM_PREFIXES = ("utm_", "share_", "spm_")

# Names that are never a public web site, whatever the suffix list says.
_SPECIAL_USE_SUFFIXES = (
    "localhost",
    "local",
    "localdomain",
    "internal",
    "intranet",
    "lan",
    "home",
    "corp",
    "test",
    "invalid",
    "example",
    "onion",
    "arpa",
)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_HEX = frozenset("0123456789abcdef")
_DIGITS = frozenset("0123456789")


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    """The shipped list, parsed on first use (about 70 ms: not at every import)."""
    return PublicSuffixList(accept_unknown=False)


def load_public_suffixes() -> None:
    """Parse the public suffix list now: the bot does at start, so the first reader's
    link (and every update queued behind it) does not wait for it."""
    _public_suffixes()


Rule = Literal["empty", "syntax", "scheme", "length", "host"]


class InvalidURLError(ValueError):
    """A submitted text is not an acceptable link; `str()` is the reply to send."""

    def __init__(self, rule: Rule, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


class UnsafeURLError(ValueError):
    """The bot must not connect to this URL; `reason` says why in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _HostError(ValueError):
    """A host that cannot be read; callers turn it into their own error."""


# --- parsing ---------------------------------------------------------------------------

Host = str | ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class _Parts:
    scheme: str
    host: Host  # an ASCII (IDNA) lower-case name, or an address
    port: int | None  # as written; None when absent
    path: str
    query: str
    fragment: str

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else _DEFAULT_PORTS[self.scheme]

    @property
    def host_text(self) -> str:
        """The host as a URL writes it (IPv6 in brackets)."""
        if isinstance(self.host, ipaddress.IPv6Address):
            return f"[{self.host.compressed}]"
        return str(self.host)

    def authority(self) -> str:
        """Host, and the port unless it is the scheme's default."""
        if self.port is None or self.port == _DEFAULT_PORTS[self.scheme]:
            return self.host_text
        return f"{self.host_text}:{self.port}"

    def unsplit(self, *, fragment: bool = True) -> str:
        url = f"{self.scheme}://{self.authority()}{self.path or '/'}"
        if self.query:
            url += f"?{self.query}"
        if fragment and self.fragment:
            url += f"#{self.fragment}"
        return url


def _parse(url: str) -> _Parts:
    """Split an absolute http(s) URL strictly, or raise InvalidURLError saying why."""
    text = url.strip()
    if not text:
        raise InvalidURLError("empty", f"Send a link, for example {EXAMPLE_URL}")
    if _FORBIDDEN_CHARS.search(text):
        raise InvalidURLError(
            "syntax",
            "A link has no spaces, backslashes or control characters; send just the link,"
            f" for example {EXAMPLE_URL}",
        )
    written = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", text)
    scheme = written.group(1).lower() if written else ""
    if scheme and scheme not in _DEFAULT_PORTS:
        raise InvalidURLError(
            "scheme",
            f"Only http:// and https:// links are accepted (got {scheme}:), for example"
            f" {EXAMPLE_URL}",
        )
    if not scheme or not text[len(scheme) + 1 :].startswith("//"):
        raise InvalidURLError(
            "scheme", f"A link starts with https:// or http://, for example {EXAMPLE_URL}"
        )
    rest = text[len(scheme) + 3 :]
    try:
        split = urlsplit(f"{scheme}://{rest}")
    except ValueError:  # an unbalanced "[" or "]": urlsplit's "Invalid IPv6 URL"
        raise InvalidURLError(
            "host",
            f"The host is not a valid name or [IPv6] address; for example {EXAMPLE_URL}",
        ) from None
    netloc = split.netloc
    if "@" in netloc:
        raise InvalidURLError(
            "syntax",
            "A link with a user name or password (user@host) is not accepted; send the page's"
            f" address, for example {EXAMPLE_URL}",
        )
    host_text, port = _split_port(netloc)
    try:
        host = normalize_host(host_text)
    except _HostError as exc:
        raise InvalidURLError("host", f"{exc}; for example {EXAMPLE_URL}") from None
    return _Parts(scheme, host, port, split.path, split.query, split.fragment)


def _split_port(netloc: str) -> tuple[str, int | None]:
    if netloc.startswith("["):
        end = netloc.find("]")
        host, after = (netloc[: end + 1], netloc[end + 1 :]) if end >= 0 else (netloc, "")
    else:
        host, colon, port_text = netloc.rpartition(":")
        if not colon:
            return netloc, None
        after = ":" + port_text
    if not after:
        return host, None
    port_text = after[1:]
    if not after.startswith(":") or not port_text or not set(port_text) <= _DIGITS:
        raise InvalidURLError(
            "syntax",
            f"The port must be a number (got {after!r}), for example {EXAMPLE_URL} or"
            " https://example.com:8443/article",
        )
    port = int(port_text)
    if not 0 < port < 65536:
        raise InvalidURLError(
            "syntax",
            f"The port must be 1 to 65535 (got {port}), for example {EXAMPLE_URL} or"
            " https://example.com:8443/article",
        )
    return host, port


def normalize_host(text: str) -> Host:
    """Read a URL's host as a browser does: IPv6 in brackets, IPv4 in any form, or a name.

    Names are mapped with UTS-46 (so full-width digits and dots become ASCII) before the
    IPv4 test, the way the WHATWG URL standard orders it; a name then becomes ASCII with
    IDNA 2008. Raises `_HostError` for anything else.
    """
    if not text:
        raise _HostError("The link has no host name")
    if text.startswith("["):
        if not text.endswith("]"):
            raise _HostError(f"{text!r} is not a valid IPv6 address")
        inner = text[1:-1]
        if "%" in inner:
            raise _HostError("An IPv6 address with a zone (%) is not accepted")
        try:
            return ipaddress.IPv6Address(inner)
        except ValueError:
            raise _HostError(f"{text!r} is not a valid IPv6 address") from None
    if "%" in text:
        raise _HostError("A percent-encoded host name is not accepted")
    if "[" in text or "]" in text:
        raise _HostError(f"{text!r} is not a valid host name")
    try:
        mapped = idna.uts46_remap(text, std3_rules=True, transitional=False)
    except idna.IDNAError:
        raise _HostError(f"{text!r} is not a valid host name") from None
    mapped = mapped.lower()
    if mapped.endswith("."):
        mapped = mapped[:-1]
    if not mapped or "" in mapped.split("."):
        raise _HostError(f"{text!r} is not a valid host name")
    if _ends_in_number(mapped):
        address = _parse_ipv4(mapped)
        if address is None:
            raise _HostError(f"{text!r} is not a valid IPv4 address")
        return address
    try:
        ascii_name = idna.encode(mapped, uts46=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise _HostError(f"{text!r} is not a valid host name") from None
    if len(ascii_name) > 253:
        raise _HostError("The host name is longer than 253 characters")
    return ascii_name.lower()


def _ipv4_number(part: str) -> int | None:
    """One dotted part as WHATWG reads it: 0x… hex, 0… octal, else decimal."""
    if part[:2] in ("0x", "0X"):
        digits = part[2:]
        if digits and not set(digits.lower()) <= _HEX:
            return None
        return int(digits, 16) if digits else 0
    if not part or not set(part) <= _DIGITS:
        return None
    base = 8 if len(part) > 1 and part.startswith("0") else 10
    if base == 8 and not set(part) <= frozenset("01234567"):
        return None
    return int(part, base)


def _ends_in_number(host: str) -> bool:
    last = host.split(".")[-1]
    return bool(last) and (set(last) <= _DIGITS or _ipv4_number(last) is not None)


def _parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    parts = host.split(".")
    if len(parts) > 4:
        return None
    numbers = [_ipv4_number(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        return None
    address = values[-1]
    for i, n in enumerate(values[:-1]):
        address += n * 256 ** (3 - i)
    return ipaddress.IPv4Address(address)


# --- canonical form and dedupe keys ----------------------------------------------------


def _is_tracking(name: str) -> bool:
    key = unquote(name.replace("+", " ")).strip().lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PARAM_PREFIXES)


def _clean_query(query: str) -> str:
    """The query without tracking parameters, pairs sorted (by name, then value)."""
    pairs = [p for p in query.split("&") if p and not _is_tracking(p.partition("=")[0])]
    return "&".join(sorted(pairs, key=lambda p: (p.partition("=")[0], p)))


def canonical_url(url: str) -> str:
    """The one spelling of a link: normalised, no fragment, no tracking, query sorted.

    Raises InvalidURLError when it is not an absolute http(s) URL with a host.
    """
    parts = _parse(url)
    normalized = url_normalize(parts.unsplit(fragment=False))
    if normalized is None:  # pragma: no cover - only for empty input, refused above
        raise InvalidURLError("empty", f"Send a link, for example {EXAMPLE_URL}")
    again = urlsplit(normalized)
    query = _clean_query(again.query)
    return normalized.split("?", 1)[0] + (f"?{query}" if query else "")


def _key_of_canonical(canonical: str) -> str:
    split = urlsplit(canonical)
    host = split.netloc.removeprefix("www.")
    path = split.path.rstrip("/")
    return host + path + (f"?{split.query}" if split.query else "")


def dedupe_key(url: str) -> str:
    """The key two spellings of one link share: `example.com/a?x=1`.

    On top of `canonical_url` it forgets the scheme, a leading `www.` and trailing
    slashes, which readers and the newsletter write either way.
    """
    return _key_of_canonical(canonical_url(url))


def item_dedupe_key(url: str | None) -> str | None:
    """`dedupe_key` for a link found in a stored issue; None when it is not a web link."""
    if url is None:
        return None
    try:
        return dedupe_key(url)
    except InvalidURLError:
        return None


def issue_link_keys(issue: Issue) -> dict[str, str]:
    """Dedupe key -> the link as the issue wrote it, for every item of an issue."""
    keys: dict[str, str] = {}
    for _, item in issue.items():
        key = item_dedupe_key(item.url)
        if key is not None and item.url is not None:
            keys.setdefault(key, item.url)
    return keys


# --- validation of a submission --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubmittedLink:
    """A link that passed validation, in the forms the store and the cards need."""

    url: str  # canonical_url: what the card shows and the store keeps
    key: str  # dedupe_key
    host: str  # ASCII host name


def parse_submission(text: str) -> SubmittedLink:
    """Validate a reader's link, or raise InvalidURLError with the reply to send."""
    stripped = text.strip()
    if len(stripped) > MAX_URL_LENGTH:
        raise InvalidURLError(
            "length",
            f"The link is {len(stripped):,} characters long; at most {MAX_URL_LENGTH:,} are"
            f" accepted. Send the page's address without extra parameters, for example"
            f" {EXAMPLE_URL}",
        )
    parts = _parse(stripped)
    if not isinstance(parts.host, str):
        raise InvalidURLError(
            "host",
            f"{parts.host_text} is an IP address; send the site's name, for example {EXAMPLE_URL}",
        )
    if not is_registrable(parts.host):
        raise InvalidURLError(
            "host",
            f"{parts.host} is not a public web site's name (it needs a registered domain"
            f" under a real top-level domain), for example {EXAMPLE_URL}",
        )
    url = canonical_url(stripped)
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURLError(
            "length",
            f"The link is {len(url):,} characters long once encoded; at most"
            f" {MAX_URL_LENGTH:,} are accepted, for example {EXAMPLE_URL}",
        )
    return SubmittedLink(url=url, key=_key_of_canonical(url), host=parts.host)


def is_registrable(host: str) -> bool:
    """Whether an ASCII host name is under a known public suffix and not special-use."""
    labels = host.split(".")
    if len(labels) < 2 or labels[-1] in _SPECIAL_USE_SUFFIXES:
        return False
    return _public_suffixes().privatesuffix(host) is not None


# --- the SSRF check --------------------------------------------------------------------


class Resolver(Protocol):
    """What `check_public_url` needs of `socket.getaddrinfo` (tests pass a table)."""

    def __call__(
        self,
        host: str,
        port: int,
        family: int = ...,
        type: int = ...,
        proto: int = ...,
        flags: int = ...,
    ) -> Sequence[tuple[Any, ...]]: ...


@dataclass(frozen=True, slots=True)
class PublicURL:
    """A URL the bot may fetch, and the addresses it was checked against.

    Connect to `addresses` (in order), never to whatever a later lookup of `host`
    returns: DNS can answer differently the second time.
    """

    url: str  # rebuilt from the parsed parts: exactly what was checked
    scheme: str
    host: str  # ASCII name or address text (IPv6 without brackets)
    port: int  # effective port
    target: str  # path and query, for the request line
    addresses: tuple[str, ...]
    allowed_by_list: bool = False  # passed because (host, port) is in `allow` (tests)

    @property
    def is_https(self) -> bool:
        return self.scheme == "https"


# Addresses that are not reachable public hosts though `ipaddress` may call them global,
# or that are cloud metadata services on public or shared ranges.
_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",  # shared address space (CGNAT); Alibaba metadata 100.100.100.200
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local; AWS/GCP/Azure/OpenStack metadata 169.254.169.254
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF assignments; Oracle metadata 192.0.0.192
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "168.63.129.16/32",  # Azure platform (WireServer), a public address
    )
)
_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # unspecified, loopback and the deprecated IPv4-compatible addresses
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001:db8::/32",
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # SRv6 SIDs
        "fc00::/7",  # unique local; AWS metadata fd00:ec2::254
        "fe80::/10",
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why the bot must not connect to this address, or None when it is public."""
    if isinstance(address, ipaddress.IPv4Address):
        for network4 in _BLOCKED_V4:
            if address in network4:
                return f"{address} is in {network4}, not a public address"
        if not address.is_global:
            return f"{address} is not a global address"
        return None
    if address.scope_id:
        return f"{address} has a zone: a link-local address"
    embedded = _embedded_ipv4(address)
    for inner in embedded:
        refusal = address_refusal(inner)
        if refusal is not None:
            return f"{address} carries {inner}: {refusal}"
    for network in _BLOCKED_V6:
        if address in network:
            return f"{address} is in {network}, not a public address"
    # ipaddress calls the IPv4-carrying ranges non-global; their IPv4 was checked above.
    if not embedded and not address.is_global:
        return f"{address} is not a global address"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 one carries: mapped, NAT64, 6to4, Teredo, ISATAP."""
    if address.ipv4_mapped is not None:
        return (address.ipv4_mapped,)
    if address in _NAT64:
        return (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF),)
    if address.sixtofour is not None:
        return (address.sixtofour,)
    if address.teredo is not None:
        return address.teredo
    interface_id = int(address) & 0xFFFFFFFFFFFFFFFF
    if interface_id >> 32 in (0x00005EFE, 0x02005EFE):  # ISATAP
        return (ipaddress.IPv4Address(interface_id & 0xFFFFFFFF),)
    return ()


def _normalize_allow(allow: Collection[tuple[str, int]]) -> frozenset[tuple[str, int]]:
    entries = set()
    for host, port in allow:
        try:
            parsed = normalize_host(host if ":" not in host else f"[{host.strip('[]')}]")
        except _HostError:
            continue
        entries.add((_plain_host(parsed), int(port)))
    return frozenset(entries)


def _plain_host(host: Host) -> str:
    return host.compressed if not isinstance(host, str) else host


def check_public_url(
    url: str,
    *,
    allow: Collection[tuple[str, int]] = (),
    resolver: Resolver = socket.getaddrinfo,
) -> PublicURL:
    """Check that fetching `url` reaches only public addresses, or raise UnsafeURLError.

    `allow` lists (host, port) pairs that pass without the address check (tests: the
    local fake page server); the host and port must both match. `resolver` is
    `socket.getaddrinfo` or a stand-in with its signature.
    """
    try:
        parts = _parse(url)
    except InvalidURLError as exc:
        raise UnsafeURLError(f"refused: {exc.message}") from None
    host = _plain_host(parts.host)
    port = parts.effective_port
    allowed = (host, port) in _normalize_allow(allow)
    if isinstance(parts.host, str):
        addresses = _resolve(parts.host, port, resolver)
    else:
        addresses = (parts.host,)
    if not allowed:
        for address in addresses:
            refusal = address_refusal(address)
            if refusal is not None:
                shown = parts.host_text
                where = "" if str(address) == host else f" resolves to {address}:"
                raise UnsafeURLError(
                    f"refused: {shown}{where} {refusal}" if where else f"refused: {refusal}"
                )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return PublicURL(
        url=parts.unsplit(fragment=False),
        scheme=parts.scheme,
        host=host,
        port=port,
        target=target,
        addresses=tuple(str(a) for a in addresses),
        allowed_by_list=allowed,
    )


def _resolve(
    host: str, port: int, resolver: Resolver
) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]:
    try:
        infos = resolver(host, port, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeURLError(f"refused: the host {host} does not resolve ({exc})") from None
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for info in infos:
        text = str(info[4][0])
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            raise UnsafeURLError(f"refused: {host} resolves to {text!r}, not an address") from None
        if address not in found:
            found.append(address)
    if not found:
        raise UnsafeURLError(f"refused: the host {host} does not resolve")
    return tuple(found)


def parse_allow_list(text: str | Iterable[str]) -> tuple[tuple[str, int], ...]:
    """`host:port,host:port` (IPv6 as `[::1]:8080`) into pairs; ValueError saying which."""
    items = text.split(",") if isinstance(text, str) else list(text)
    pairs = []
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        match = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[^:\[\]]+):(\d{1,5})", item)
        if match is None or not 0 < int(match.group(2)) < 65536:
            raise ValueError(f"{item!r} is not host:port (like 127.0.0.1:8080 or [::1]:8080)")
        pairs.append((match.group(1).strip("[]").lower(), int(match.group(2))))
    return tuple(pairs)
