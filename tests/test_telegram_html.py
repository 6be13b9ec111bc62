"""Telegram's HTML parse mode as tdlib parses it (PLATFORMS.md §A.7, §D.1)."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publishers.limits import TELEGRAM_TEXT_MAX, telegram_length
from publishers.telegram_html import (
    HTMLParseError,
    MessageEntity,
    ParsedHTML,
    parse_html,
    trim_for_send,
    utf16_length,
    visible_text,
)


def entity(kind: str, offset: int, length: int, **extra: str) -> MessageEntity:
    return MessageEntity(kind, offset, length, **extra)


def rejects(markup: str) -> str:
    with pytest.raises(HTMLParseError) as error:
        parse_html(markup)
    return str(error.value)


# --- telegram_length: the contract other tools rely on ---


def test_telegram_length_counts_visible_code_points() -> None:
    assert telegram_length("<b>a</b> &amp; b") == 5


def test_telegram_length_counts_astral_characters_once() -> None:
    assert telegram_length("😀" * TELEGRAM_TEXT_MAX) == TELEGRAM_TEXT_MAX


def test_telegram_length_trims_leading_whitespace_only_up_to_the_first_entity() -> None:
    # fix_formatted_text: "\r" deleted, trailing " \n " trimmed (the bold is clipped),
    # leading "  \n" trimmed up to the bold at offset 3, whose own space stays: " a\nb".
    assert telegram_length("  \n<b> a\r\nb </b>\n ") == 4


def test_telegram_length_raises_value_error_on_refused_html() -> None:
    with pytest.raises(ValueError, match="Unsupported start tag"):
        telegram_length("a<br>b")


# --- character references ---


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("&lt;&gt;&amp;&quot;", '<>&"'),
        ("&lt &gt", "< >"),  # ';' optional before a non-name character
        ("&ltx", "&ltx"),  # a longer name is not &lt
        ("&nbsp; &ge; &apos;", "&nbsp; &ge; &apos;"),  # other names stay literal
        ("&LT;", "&LT;"),  # names are case-sensitive
        ("a & b", "a & b"),  # a bare & is kept
        ("&#65;&#x42;&#x1F600;", "AB😀"),
        ("&#X41;", "&#X41;"),  # only a lowercase x starts a hex reference
        ("&#1114111;", "&#1114111;"),  # U+10FFFF and above stay as text
        ("&#0;", "&#0;"),
        ("&#;", "&#;"),
        ("&#0000000065;", "&#0000000065;"),  # too long for tdlib's reader
    ],
)
def test_character_references_decode_like_tdlib(markup: str, text: str) -> None:
    assert parse_html(markup).text == text


def test_lone_surrogate_reference_rejects_the_text() -> None:
    assert "surrogate" in rejects("a&#xDFDF;b")


def test_surrogate_pair_references_are_rejected_too() -> None:
    assert "invalid Unicode" in rejects("&#xD83D;&#xDE00;")


# --- tags ---


@pytest.mark.parametrize(
    ("markup", "kind"),
    [
        ("<b>x</b>", "bold"),
        ("<strong>x</strong>", "bold"),
        ("<i>x</i>", "italic"),
        ("<em>x</em>", "italic"),
        ("<u>x</u>", "underline"),
        ("<ins>x</ins>", "underline"),
        ("<s>x</s>", "strikethrough"),
        ("<strike>x</strike>", "strikethrough"),
        ("<del>x</del>", "strikethrough"),
        ("<tg-spoiler>x</tg-spoiler>", "spoiler"),
        ('<span class="tg-spoiler">x</span>', "spoiler"),
        ("<code>x</code>", "code"),
        ("<pre>x</pre>", "pre"),
        ("<blockquote>x</blockquote>", "blockquote"),
        ("<blockquote expandable>x</blockquote>", "expandable_blockquote"),
        ("<blockquote expandable=no>x</blockquote>", "expandable_blockquote"),
    ],
)
def test_each_supported_tag_makes_its_entity(markup: str, kind: str) -> None:
    assert parse_html(markup) == ParsedHTML("x", (entity(kind, 0, 1),))


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("a<br>b", 'Unsupported start tag "br" at byte offset 1'),
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("<DIV>x</DIV>", 'Unsupported start tag "div" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("é<br>", 'Unsupported start tag "br" at byte offset 2'),  # offsets in UTF-8 bytes
        ("😀<x>", 'Unsupported start tag "x" at byte offset 4'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("x</", "Unexpected end tag at byte offset 1"),
        ("<b>x</", "Unclosed end tag at byte offset 4"),
        ("<b", "Unclosed start tag at byte offset 0"),
        (
            "<b>a<i>b</b></i>",
            'Unmatched end tag at byte offset 8, expected "</i>", found "</b>"',
        ),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<span class="bold">x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href="x', "Unclosed start tag at byte offset 0"),
        ("<a href=https://x>t</a>", "Unexpected end of name token at byte offset 8"),
        ('<a "x">t</a>', 'Empty attribute name in the tag "a" at byte offset 0'),
        ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier specified"),
    ],
)
def test_refused_markup_gives_telegrams_message(markup: str, message: str) -> None:
    assert rejects(markup) == message


def test_tag_names_are_case_insensitive() -> None:
    assert parse_html("<B>x</b>").entities == (entity("bold", 0, 1),)


def test_empty_end_tag_closes_the_innermost_tag() -> None:
    assert parse_html("<b><i>x</></>").entities == (entity("bold", 0, 1), entity("italic", 0, 1))


def test_spaces_before_the_end_of_an_end_tag_are_accepted() -> None:
    assert parse_html("<b>x</b  >").entities == (entity("bold", 0, 1),)


def test_unknown_attributes_are_ignored() -> None:
    assert parse_html('<b class="x" data-y=1 hidden>x</b>').entities == (entity("bold", 0, 1),)


def test_unquoted_and_single_quoted_values_are_accepted() -> None:
    unquoted = parse_html("<a href=telegram.org>x</a>")
    single = parse_html("<a href='https://t.me/a?b=1&amp;c=2'>x</a>")
    assert unquoted.entities == (entity("text_link", 0, 1, url="http://telegram.org/"),)
    assert single.entities == (entity("text_link", 0, 1, url="https://t.me/a?b=1&c=2"),)


def test_link_without_href_uses_its_text_when_it_is_a_url() -> None:
    assert parse_html("<a>https://t.me/x</a>").entities == (
        entity("text_link", 0, 14, url="https://t.me/x"),
    )


def test_link_whose_target_is_not_a_url_makes_no_entity() -> None:
    assert parse_html("<a>just words</a>") == ParsedHTML("just words")


def test_empty_tags_are_accepted_and_make_no_entity() -> None:
    assert parse_html("a<b></b>b<i></>") == ParsedHTML("ab")


def test_pre_with_code_language_becomes_one_pre_entity() -> None:
    parsed = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert parsed.entities == (entity("pre", 0, 5, language="python"),)


def test_code_class_without_pre_gives_plain_code() -> None:
    assert parse_html('<code class="language-python">x</code>').entities == (entity("code", 0, 1),)


def test_nothing_nests_inside_pre_or_code_once_sent() -> None:
    # tdlib's parse_html keeps what nests in pre/code (its own test keeps
    # <code><i><b> </b></i></code> as three entities); fix_formatted_text drops it on send.
    parsed = parse_html("<pre>a<b>b</b><code>c</code></pre>")
    assert parsed.entities == (entity("pre", 0, 3), entity("bold", 1, 1), entity("code", 2, 1))
    assert trim_for_send(parsed).entities == (entity("pre", 0, 3),)
    assert trim_for_send(parse_html("<code><i>x</i></code>")).entities == (entity("code", 0, 1),)


def test_blockquotes_do_not_nest_once_sent() -> None:
    parsed = parse_html("<blockquote>a<blockquote>b</blockquote></blockquote>")
    assert parsed.entities == (entity("blockquote", 0, 2), entity("blockquote", 1, 1))
    assert trim_for_send(parsed).entities == (entity("blockquote", 0, 2),)


def test_formatting_nests_in_blockquote_and_link() -> None:
    parsed = parse_html('<blockquote><a href="https://t.me"><b>x</b></a></blockquote>')
    assert parsed.entities == (
        entity("blockquote", 0, 1),
        entity("text_link", 0, 1, url="https://t.me/"),
        entity("bold", 0, 1),
    )


def test_custom_emoji_keeps_its_id() -> None:
    parsed = parse_html('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>')
    assert parsed.entities == (entity("custom_emoji", 0, 2, custom_emoji_id="5368324170671202286"),)


# --- offsets ---


def test_offsets_and_lengths_are_utf16_units() -> None:
    parsed = parse_html("😀 <b>é😀x</b> <i>&#x1F600;</i>")
    assert parsed.text == "😀 é😀x 😀"
    assert parsed.entities == (entity("bold", 3, 4), entity("italic", 8, 2))


def test_entities_are_sorted_by_offset_then_outer_first() -> None:
    parsed = parse_html("<i>a</i><b>b<u>c</u></b>")
    assert [e.type for e in parsed.entities] == ["italic", "bold", "underline"]


def test_to_api_gives_the_bot_api_shape() -> None:
    link = entity("text_link", 1, 2, url="https://t.me/")
    assert link.to_api() == {"type": "text_link", "offset": 1, "length": 2, "url": "https://t.me/"}


# --- trimming on send ---


def test_visible_text_removes_carriage_returns_and_trims() -> None:
    # the tab becomes a space first, so it is trimmed like one
    assert visible_text(" \n a\r\nb \t\n") == "a\nb"


def test_trim_for_send_moves_entities_with_the_text() -> None:
    # "\n  a\r\nb c\n", bold (2, 5): the ltrim stops at the bold, which keeps its space.
    parsed = parse_html("\n <b> a\r\nb</b> <i>c</i>\n")
    assert trim_for_send(parsed) == ParsedHTML(
        " a\nb c", (entity("bold", 0, 4), entity("italic", 5, 1))
    )


def test_trim_for_send_drops_entities_on_trimmed_whitespace() -> None:
    assert trim_for_send(parse_html("x<b> </b>")) == ParsedHTML("x")


def test_utf16_length_counts_surrogate_pairs() -> None:
    assert utf16_length("a😀") == 3


# --- properties ---


@given(st.text())
def test_escaped_text_parses_back_to_itself(text: str) -> None:
    assert parse_html(html.escape(text)) == ParsedHTML(text)


@given(st.text(), st.text())
def test_bold_entity_covers_exactly_the_escaped_part(before: str, inside: str) -> None:
    parsed = parse_html(f"{html.escape(before)}<b>{html.escape(inside)}</b>")
    expected = (entity("bold", utf16_length(before), utf16_length(inside)),) if inside else ()
    assert parsed == ParsedHTML(before + inside, expected)


# --- an editor's pasted formatting, judged by the fake as Telegram judges it today ---

_PASTED_REFUSED = [
    ('<tg-time unix="1647531900" format="hh:mm">22:45</tg-time>', "Invalid date format used"),
    ("<tg-time unix=1>22:45", 'Can\'t find end tag corresponding to start tag "tg-time"'),
    ("<p>hello</p>", 'Unsupported start tag "p" at byte offset 0'),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
]


@pytest.mark.parametrize(("markup", "message"), _PASTED_REFUSED)
async def test_the_fake_refuses_pasted_html_with_telegrams_words(markup: str, message: str) -> None:
    import telegram

    from bot.fakes.telegram import FakeTelegram
    from tests.conftest import CHANNEL_ID, CHANNEL_USERNAME
    from tests.delivery_support import telegram_bot

    async with FakeTelegram(flood_limits=False) as tg:
        tg.add_channel(CHANNEL_ID, CHANNEL_USERNAME, "Python Trending Weekly")
        async with telegram_bot(tg) as bot:
            with pytest.raises(telegram.error.BadRequest):
                await bot.send_message(CHANNEL_ID, markup, parse_mode="HTML")
    (call,) = tg.calls_of("sendMessage")
    assert (call.status, call.description) == (400, f"Bad Request: can't parse entities: {message}")


async def test_the_fake_sends_a_date_time_entity_back_as_the_bot_api_does() -> None:
    import datetime as dt

    from bot.fakes.telegram import FakeTelegram
    from tests.conftest import CHANNEL_ID, CHANNEL_USERNAME
    from tests.delivery_support import telegram_bot

    async with FakeTelegram(flood_limits=False) as tg:
        tg.add_channel(CHANNEL_ID, CHANNEL_USERNAME, "Python Trending Weekly")
        async with telegram_bot(tg) as bot:
            sent = await bot.send_message(
                CHANNEL_ID,
                '<b>Live</b> <tg-time unix="1647531900" format="wDT">22:45</tg-time>',
                parse_mode="HTML",
            )
    assert sent.text == "Live 22:45"
    bold, date = sent.entities
    assert (bold.type, bold.offset, bold.length) == ("bold", 0, 4)
    assert (date.type, date.offset, date.length) == ("date_time", 5, 5)
    assert date.date_time_format == "wDT"
    assert date.unix_time == dt.datetime.fromtimestamp(1647531900, dt.UTC)
