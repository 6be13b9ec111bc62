"""Submitted links: validation replies, canonical URLs, dedupe keys and the SSRF check."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.issue import Issue, Item, Section
from bot.domain.urls import (
    MAX_URL_LENGTH,
    TRACKING_PARAMS,
    InvalidURLError,
    PublicURL,
    UnsafeURLError,
    canonical_url,
    check_public_url,
    dedupe_key,
    issue_link_keys,
    item_dedupe_key,
    parse_allow_list,
    parse_submission,
)
from tests.url_support import Table

PUBLIC = Table(
    {
        "example.com": ["93.184.216.34"],
        "www.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
        "xn--fsqu00a.xn--fiqs8s": ["93.184.216.35"],
        "intranet.example.com": ["10.1.2.3"],
        "sneaky.example.com": ["93.184.216.34", "127.0.0.1"],
        "loopback6.example.com": ["::1"],
        "metadata.example.com": ["169.254.169.254"],
        "mapped.example.com": ["::ffff:192.168.1.1"],
        "weird.example.com": ["not-an-address"],
    }
)


# --- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule", "says"),
    [
        ("", "empty", "Send a link"),
        ("   ", "empty", "Send a link"),
        ("ftp://example.com/file", "scheme", "got ftp:"),
        ("javascript:alert(1)", "scheme", "got javascript:"),
        ("example.com/article", "scheme", "starts with https://"),
        ("https://exa mple.com/", "syntax", "no spaces"),
        ("https://example.com\\@evil.com/", "syntax", "backslashes"),
        ("https://user:pw@example.com/", "syntax", "user name or password"),
        ("https://example.com:99999/", "syntax", "1 to 65535"),
        ("https://example.com:80a/", "syntax", "port must be a number"),
        ("https://localhost/", "host", "not a public web site"),
        ("https://printer.local/", "host", "not a public web site"),
        ("https://foo.notarealtld/", "host", "not a public web site"),
        ("https://co.uk/", "host", "not a public web site"),
        ("https://github.io/", "host", "not a public web site"),
        ("https://93.184.216.34/", "host", "is an IP address"),
        ("https://[2606:2800::1]/", "host", "is an IP address"),
        ("https://1.2.3.4.5/", "host", "not a valid IPv4 address"),
        ("https://exa_mple.com/", "host", "not a valid host name"),
        ("https:///path", "host", "no host name"),
        ("https://example.com/" + "a" * MAX_URL_LENGTH, "length", "at most 2,048"),
    ],
)
def test_bad_links_get_a_reply_naming_the_rule_with_an_example(
    text: str, rule: str, says: str
) -> None:
    with pytest.raises(InvalidURLError) as info:
        parse_submission(text)
    assert info.value.rule == rule
    assert says in str(info.value)
    assert "https://example.com/article" in str(info.value)  # every reply shows an example
    assert "\n" not in str(info.value)


def test_a_link_of_exactly_the_limit_is_accepted() -> None:
    url = "https://example.com/" + "a" * (MAX_URL_LENGTH - len("https://example.com/"))
    assert len(url) == MAX_URL_LENGTH
    assert parse_submission(url).url == url


def test_good_links_come_back_canonical_with_their_key() -> None:
    link = parse_submission("  HTTPS://WWW.Example.com:443/a/b/?utm_source=tg&x=1#top \n")
    assert link.url == "https://www.example.com/a/b/?x=1"
    assert link.key == "example.com/a/b?x=1"
    assert link.host == "www.example.com"
    assert parse_submission("https://user.github.io/blog").host == "user.github.io"
    chinese = parse_submission("https://例子.中国/路径")
    assert chinese.url == "https://xn--fsqu00a.xn--fiqs8s/%E8%B7%AF%E5%BE%84"


# --- canonical URLs and dedupe keys -----------------------------------------------------


def test_the_spellings_of_one_link_share_one_key() -> None:
    spellings = [
        "https://example.com/post",
        "http://example.com/post",
        "https://example.com/post/",
        "https://www.example.com/post",
        "http://WWW.EXAMPLE.COM:80/post/",
        "https://example.com/post?utm_source=twitter&utm_medium=social",
        "https://example.com/post?fbclid=abc&gclid=def#comments",
        "https://example.com/./x/../post?spm=a1&ref=hn&from=timeline&share=1",
        "https://example.com/post?UTM_Campaign=x&share_source=wx",
    ]
    assert {dedupe_key(u) for u in spellings} == {"example.com/post"}


def test_meaningful_query_is_kept_and_sorted() -> None:
    assert canonical_url("https://example.com/s?q=python&page=2&utm_term=x") == (
        "https://example.com/s?page=2&q=python"
    )
    assert dedupe_key("https://example.com/s?page=2&q=python") == dedupe_key(
        "https://example.com/s?q=python&page=2"
    )
    assert dedupe_key("https://example.com/s?q=python") != dedupe_key(
        "https://example.com/s?q=rust"
    )
    wechat = "https://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=2&sn=ab&chksm=zz&scene=21#rd"
    assert canonical_url(wechat) == "https://mp.weixin.qq.com/s?__biz=MzA&idx=2&mid=1&sn=ab"


def test_canonical_form_details() -> None:
    assert canonical_url("HTTPS://Example.COM") == "https://example.com/"
    assert canonical_url("https://example.com:8443/a") == "https://example.com:8443/a"
    assert canonical_url("https://example.com/a%7e%2f") == "https://example.com/a~%2F"
    assert canonical_url("https://bücher.de/") == "https://xn--bcher-kva.de/"
    assert canonical_url("https://example.com/?#") == "https://example.com/"
    # path case is meaningful; only the host is case-insensitive
    assert dedupe_key("https://github.com/Python/CPython") != dedupe_key(
        "https://github.com/python/cpython"
    )


def test_tracking_parameters_are_one_list() -> None:
    for name in ("fbclid", "gclid", "spm", "ref", "from", "share"):
        assert name in TRACKING_PARAMS


def test_stored_issue_links_are_keyed_the_same_way() -> None:
    assert item_dedupe_key("https://www.example.com/post/?utm_source=weekly") == dedupe_key(
        "http://example.com/post"
    )
    assert item_dedupe_key(None) is None
    assert item_dedupe_key("mailto:editor@example.com") is None
    assert item_dedupe_key("docs/2024-01-01-weekly.md") is None
    # a stored link need not be registrable to be keyed (only submissions must be)
    assert item_dedupe_key("http://10.0.0.1/x") == "10.0.0.1/x"


def test_issue_link_keys_cover_every_item() -> None:
    items = (
        Item(1, "1", "One", "https://www.example.com/one/?utm_source=rss"),
        Item(2, "2", "Two", "https://example.org/two"),
        Item(3, "3", "No link", None),
    )
    issue = Issue(
        number=7,
        date=None,
        lang="zh",
        form="full",
        title="#7",
        sections=(Section("articles", "文章", items),),  # type: ignore[arg-type]
    )
    assert issue_link_keys(issue) == {
        "example.com/one": "https://www.example.com/one/?utm_source=rss",
        "example.org/two": "https://example.org/two",
    }


_segment = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs")),
    max_size=8,
)
# A path segment holding "?" or "#" would start the query or fragment itself (then a
# generated "utm_source" is no longer a parameter name); those characters are the
# URL's structure, so only the query and fragment parts are generated with them.
_path_segment = _segment.filter(lambda part: "?" not in part and "#" not in part)
_urls = st.builds(
    lambda scheme, www, host, port, path, query, fragment: (
        f"{scheme}://{www}{host}{port}/{'/'.join(path)}"
        + (("?" + "&".join(f"{k}={v}" for k, v in query)) if query else "")
        + (f"#{fragment}" if fragment else "")
    ),
    st.sampled_from(["http", "https", "HTTPS"]),
    st.sampled_from(["", "www.", "WWW."]),
    st.sampled_from(["example.com", "Example.ORG", "例子.中国", "bücher.de", "a-b.co.uk"]),
    st.sampled_from(["", ":80", ":443", ":8080"]),
    st.lists(_path_segment, max_size=4),
    st.lists(
        st.tuples(st.sampled_from(["q", "utm_source", "page", "ref", "a b", "%41"]), _segment),
        max_size=4,
    ),
    _segment,
)


@settings(max_examples=300, deadline=None)
@given(_urls)
def test_canonical_of_canonical_is_itself(url: str) -> None:
    try:
        canonical = canonical_url(url)
    except InvalidURLError:
        return  # e.g. a segment with a backslash: refused, not canonicalised
    assert canonical_url(canonical) == canonical
    assert dedupe_key(canonical) == dedupe_key(url)
    assert "utm_source=" not in canonical
    assert "#" not in canonical


# --- the SSRF check ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706433/",  # 127.0.0.1 in decimal
        "http://0x7f000001/",  # in hex
        "http://0177.0.0.1/",  # octal
        "http://0x7f.0.0.1/",
        "http://127.1/",  # short form
        "http://0/",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
        "http://[::ffff:7f00:1]/",
        "http://[::127.0.0.1]/",  # IPv4-compatible
        "http://[64:ff9b::10.0.0.1]/",  # NAT64
        "http://[2002:7f00:1::1]/",  # 6to4 of 127.0.0.1
        "http://[2002:a9fe:a9fe::1]/",  # 6to4 of 169.254.169.254
        "http://[fd00:ec2::254]/",  # AWS metadata over IPv6
        "http://[fe80::1]/",
        "http://100.100.100.200/",  # Alibaba metadata
        "http://168.63.129.16/",  # Azure WireServer, a public-looking address
        "http://192.0.0.192/",  # Oracle metadata
        "http://100.64.0.1/",
        "http://192.168.1.1/",
        "http://172.31.255.255/",
        "http://198.18.0.1/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://１２７.０.０.１/",  # full-width digits (UTS-46 maps them)
        "http://127。0。0。1/",  # ideographic full stops
        "http://127.0.0.1./",
        "http://127.0.0.1:80@example.com/",  # userinfo trick
        "http://example.com@127.0.0.1/",
        "http://127.0.0.1\\@example.com/",  # backslash trick
        "http://127.0.0.1\\.example.com/",
        "http://%31%32%37.0.0.1/",  # percent-encoded host
        "http://[fe80::1%25eth0]/",
        "http://intranet.example.com/",  # a name resolving to a private address
        "http://sneaky.example.com/",  # one public and one private address
        "http://loopback6.example.com/",
        "http://metadata.example.com/",
        "http://mapped.example.com/",
        "http://weird.example.com/",
        "http://does-not-resolve.example.com/",
        "gopher://example.com/",
        "file:///etc/passwd",
    ],
)
def test_non_public_destinations_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURLError) as info:
        check_public_url(url, resolver=PUBLIC)
    assert isinstance(info.value, ValueError)
    assert info.value.reason.startswith("refused: ")


def test_refusals_say_why() -> None:
    def reason(url: str) -> str:
        with pytest.raises(UnsafeURLError) as info:
            check_public_url(url, resolver=PUBLIC)
        return info.value.reason

    assert "127.0.0.1 is in 127.0.0.0/8" in reason("http://2130706433/")
    assert "carries 127.0.0.1" in reason("http://[::ffff:127.0.0.1]/")
    assert "intranet.example.com resolves to 10.1.2.3" in reason("http://intranet.example.com/")
    assert "does not resolve" in reason("http://does-not-resolve.example.com/")
    assert "user name or password" in reason("http://a@example.com/")


def test_ip_literals_are_never_looked_up() -> None:
    table = Table({})
    with pytest.raises(UnsafeURLError):
        check_public_url("http://0x7f000001/", resolver=table)
    assert table.lookups == []


def test_a_public_url_carries_the_checked_addresses() -> None:
    checked = check_public_url("https://WWW.example.com:443/a/b?x=1#frag", resolver=PUBLIC)
    assert checked == PublicURL(
        url="https://www.example.com/a/b?x=1",
        scheme="https",
        host="www.example.com",
        port=443,
        target="/a/b?x=1",
        addresses=("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"),
    )
    idn = check_public_url("http://例子.中国/", resolver=PUBLIC)
    assert idn.host == "xn--fsqu00a.xn--fiqs8s"
    assert check_public_url("http://[2002:5db8:d822::1]/").addresses == ("2002:5db8:d822::1",)


def test_allow_needs_host_and_port_to_match() -> None:
    allowed = check_public_url("http://127.0.0.1:8080/page", allow=[("127.0.0.1", 8080)])
    assert allowed.allowed_by_list
    assert allowed.addresses == ("127.0.0.1",)
    with pytest.raises(UnsafeURLError):
        check_public_url("http://127.0.0.1:8081/page", allow=[("127.0.0.1", 8080)])
    with pytest.raises(UnsafeURLError):
        check_public_url("http://127.0.0.2:8080/page", allow=[("127.0.0.1", 8080)])
    # a different spelling of the allowed address is the same address
    assert check_public_url("http://2130706433:8080/", allow=[("127.0.0.1", 8080)])
    six = check_public_url("http://[::1]:9000/", allow=parse_allow_list("[::1]:9000"))
    assert six.addresses == ("::1",)


def test_allow_list_setting_format() -> None:
    assert parse_allow_list("") == ()
    assert parse_allow_list(" 127.0.0.1:8080 , [::1]:9000,Fake.Test:1") == (
        ("127.0.0.1", 8080),
        ("::1", 9000),
        ("fake.test", 1),
    )
    for bad in ("127.0.0.1", "host:0", "host:70000", "::1:80", "a:b"):
        with pytest.raises(ValueError, match="not host:port"):
            parse_allow_list(bad)


def test_the_check_is_reachable_where_issue_12_names_it() -> None:
    """`bot.urls.check_public_url` is the interface outside SSRF suites call."""
    import bot.domain.urls
    import bot.urls

    assert bot.urls.check_public_url is bot.domain.urls.check_public_url
    assert issubclass(bot.urls.UnsafeURLError, ValueError)
    with pytest.raises(bot.urls.UnsafeURLError):
        bot.urls.check_public_url("http://127.0.0.1/")
