"""telegram_length and the text Telegram keeps on send, rule by rule from tdlib.

Every expected value is worked out from tdlib's source, not from a corpus:
``fix_formatted_text``, ``clean_input_string_with_entities`` and
``remove_invalid_entities`` in ``td/telegram/MessageEntity.cpp``;
``clean_input_string``, ``replace_offending_characters``,
``strip_empty_characters`` and ``is_empty_string`` in ``td/telegram/misc.cpp``;
the 65,536 code point check of ``parseTextEntities`` in
``td/telegram/SynchronousRequests.cpp``; ``utf8_length(text) > *_length_max`` in
``td/telegram/MessageContent.cpp``.
"""

from __future__ import annotations

import html

import pytest
import telegram
from hypothesis import given
from hypothesis import strategies as st
from telegram.error import BadRequest

from bot.fakes.telegram import FakeTelegram
from publishers.limits import TELEGRAM_TEXT_MAX, telegram_entity_count, telegram_length
from publishers.telegram_html import (
    HTMLParseError,
    MessageEntity,
    ParsedHTML,
    is_empty_text,
    parse_html,
    trim_for_send,
    visible_text,
)
from tests.conftest import READER_ID

# (html, expected telegram_length, why)
LENGTHS = [
    # The published contract.
    ("<b>a</b> &amp; b", 5, "tags and escapes do not count: 'a & b'"),
    ("😀", 1, "code points, not UTF-16 units (utf8_length)"),
    # Empty and blank: fix_formatted_text finds no non-blank character, so a
    # caption (allow_empty) becomes ''; telegram_length reports 0 for both.
    ("", 0, "nothing to parse"),
    ("   ", 0, "spaces only"),
    (" \n\t\r ", 0, "tab -> space, '\\r' deleted, then all blank"),
    ("<b> </b>", 0, "an entity does not save a blank text"),
    ("&#32;&#10;", 0, "references decode to blanks first"),
    # clean_input_string: bytes 0-32 except '\n' and '\r' become ' ' (still counted).
    ("a\x01b", 3, "U+0001 -> space inside the text"),
    ("a\x00b", 3, "NUL in the text -> space"),
    ("a\tb", 3, "tab -> space"),
    ("a\x0bb\x0cc", 5, "VT and FF -> spaces"),
    ("a\x1fb", 3, "U+001F -> space"),
    ("\x01a\x1f", 1, "control characters at the ends become spaces, then are trimmed"),
    ("&#1;a&#9;", 1, "the same through numeric references"),
    # '\r' is deleted, never replaced.
    ("a\r\nb", 3, "'a\\nb'"),
    ("a\rb", 2, "'ab'"),
    # U+2028-U+202E are deleted (bytes e2 80 a8..ae).
    ("a\u2028b", 2, "LINE SEPARATOR deleted"),
    ("a\u2029b", 2, "PARAGRAPH SEPARATOR deleted"),
    ("a\u202a\u202b\u202c\u202d\u202eb", 2, "LRE RLE PDF LRO RLO deleted"),
    ("a&#8232;b", 2, "U+2028 through a reference"),
    ("a\u2027b", 3, "U+2027 is outside the range"),
    ("a\u202fb", 3, "U+202F NARROW NO-BREAK SPACE is outside the range and kept"),
    # The "vertical lines" cc 8a / cc b3 / cc bf: U+030A, U+0333, U+033F deleted.
    ("a\u030a", 1, "COMBINING RING ABOVE deleted"),
    ("a\u0333b\u033f", 2, "COMBINING DOUBLE LOW LINE and DOUBLE OVERLINE deleted"),
    ("a\u0301", 2, "other combining marks stay"),
    # Characters tdlib keeps and does not trim: only ' ' and '\n' are trimmed.
    ("\u00a0a\u00a0", 3, "NO-BREAK SPACE is not trimmed"),
    ("\ufeffa", 2, "BOM / ZWNBSP is neither deleted nor trimmed"),
    ("\u3000a\u2003", 3, "Unicode spaces are not trimmed"),
    ("\u200b", 1, "ZERO WIDTH SPACE counts (a message of it alone is refused, not shortened)"),
    ("\u200e\u200f\u200ex", 4, "LRM/RLM runs: all but the last become ZWNJ, same length"),
    # Trailing blanks always go, even inside an entity (which is clipped).
    (" a ", 1, "both ends, no entities"),
    ("\n\na\n\n", 1, "newlines at both ends"),
    ("<b>x </b>", 1, "rtrim ignores entities"),
    ("x<b> </b>", 1, "an entity left only on trimmed blanks is dropped"),
    ("<pre>code\n</pre>", 4, "even in pre"),
    # Leading blanks go only up to the first entity.
    ("<b> x</b>", 2, "the ltrim stops at the bold at offset 0"),
    (" <b> x</b>", 2, "the blank before the bold goes, the bold's own stays"),
    ("<i> </i> x", 3, "a blank-only entity at the start keeps everything after it"),
    ("<code>\n\nx</code>", 3, "code keeps its leading newlines"),
    (' <a href="https://t.me"> x</a>', 2, "a link stops the ltrim too"),
    ("\n<b>x</b>", 1, "blanks before the first entity go"),
    ("  <b>x</b> ", 1, "first entity after the blanks: all of them go"),
    ("<b>\r</b> x", 1, "the bold is empty once '\\r' is deleted, so it no longer stops the ltrim"),
    ("<b></b> x", 1, "an empty tag makes no entity"),
]


@pytest.mark.parametrize(("markup", "expected", "why"), LENGTHS, ids=[c[2] for c in LENGTHS])
def test_telegram_length_follows_fix_formatted_text(markup: str, expected: int, why: str) -> None:
    assert telegram_length(markup) == expected, why


# --- the 35,000-byte server limit: two different cuts ---


def test_plain_text_is_cut_where_clean_input_string_stops() -> None:
    # No entities: clean_input_string stops before a character that would start
    # at byte 34,996 (new_size >= LENGTH_LIMIT - 3 after writing a lead byte).
    assert telegram_length("a" * 40_000) == 34_996
    assert telegram_length("😀" * 9_000) == 34_996 // 4  # starts at 0, 4, ..., 34,992


def test_text_with_entities_is_cut_at_35000_bytes_after_trimming() -> None:
    # Entities: clean_input_string_with_entities has no cap; fix_formatted_text
    # cuts the trimmed text to the longest prefix of whole characters <= 35,000 bytes.
    assert telegram_length("<b>" + "a" * 40_000 + "</b>") == 35_000
    assert telegram_length("<b>" + "😀" * 9_000 + "</b>") == 35_000 // 4


def test_the_path_depends_on_the_entities_given_not_those_kept() -> None:
    # The bold covers only '\r': it is dropped once '\r' is deleted, but tdlib chose
    # the path with entities already, so the 35,000-byte cut applies, not 34,996.
    assert telegram_length("<b>\r</b>" + "a" * 40_000) == 35_000


def test_entities_reaching_past_the_cap_are_dropped() -> None:
    parsed = trim_for_send(parse_html("<i>x</i>" + "a" * 35_000 + "<b>yz</b>"))
    assert len(parsed.text) == 35_000
    assert parsed.entities == (MessageEntity("italic", 0, 1),)


# --- what parseTextEntities refuses before parsing ---


def test_html_of_more_than_65536_code_points_is_refused() -> None:
    # The limit is on the input, tags included: the visible text here is shorter.
    with pytest.raises(HTMLParseError, match=r"^Text is too long$"):
        telegram_length("<b>" + "a" * 65_530 + "</b>")


def test_html_of_65536_code_points_is_parsed() -> None:
    assert telegram_length("a" * 65_536) == 34_996  # then clean_input_string's cut


def test_telegram_length_raises_value_error_for_refused_html() -> None:
    with pytest.raises(ValueError, match="Unsupported start tag"):
        telegram_length("a<p>b</p>")


# --- the text and entities kept on send ---


def test_entities_move_over_deleted_characters() -> None:
    parsed = parse_html("<b>a\u2028b</b>\r <i>c</i>")
    assert trim_for_send(parsed) == ParsedHTML(
        "ab c", (MessageEntity("bold", 0, 2), MessageEntity("italic", 3, 1))
    )


def test_entities_move_over_deleted_characters_after_an_astral_one() -> None:
    parsed = parse_html("😀\r<b>x</b>")  # bold at UTF-16 offset 3 -> 2
    assert trim_for_send(parsed) == ParsedHTML("😀x", (MessageEntity("bold", 2, 1),))


def test_leading_blanks_stay_inside_the_first_entity() -> None:
    parsed = parse_html("\n <b> x </b> y\n")
    assert trim_for_send(parsed) == ParsedHTML(" x  y", (MessageEntity("bold", 0, 3),))


def test_entity_in_trailing_blanks_is_clipped_or_dropped() -> None:
    parsed = parse_html("<b>x </b><i> \n</i>")
    assert trim_for_send(parsed) == ParsedHTML("x", (MessageEntity("bold", 0, 1),))


def test_blank_text_comes_back_empty_without_entities() -> None:
    assert trim_for_send(parse_html("<b> \n</b>\t")) == ParsedHTML("")


def test_control_characters_become_spaces_in_the_kept_text() -> None:
    assert visible_text("a\x00b\tc\x1fd") == "a b c d"


def test_bidi_mark_runs_become_zero_width_non_joiners_but_the_last() -> None:
    assert visible_text("\u200e\u200f\u200ex\u200fy") == "\u200c\u200c\u200ex\u200fy"


def test_visible_text_takes_entities_for_the_leading_trim() -> None:
    assert visible_text("  x") == "x"
    assert visible_text("  x", [MessageEntity("bold", 1, 2)]) == " x"


def test_empty_and_invalid_entities_do_not_stop_the_leading_trim() -> None:
    # remove_empty_entities: length 0, a text_link without URL, a custom emoji without id.
    for bad in (
        MessageEntity("bold", 0, 0),
        MessageEntity("text_link", 0, 2),
        MessageEntity("custom_emoji", 0, 2, custom_emoji_id="0"),
    ):
        assert visible_text("  x", [bad]) == "x"


# --- is_empty_text: strip_empty_characters + is_empty_string ---


@pytest.mark.parametrize(
    ("text", "empty"),
    [
        ("", True),
        (" \n", True),
        ("\u200b", True),  # ZERO WIDTH SPACE
        ("\u200c\u200d\u200e\u200f", True),  # ZWNJ, ZWJ, LRM, RLM
        ("\u00a0\ufeff", True),  # NO-BREAK SPACE, ZWNBSP
        ("\u2800", True),  # BRAILLE PATTERN BLANK
        ("\u2000\u200a\u3000\u1680\u180e\u202f\u205f\ufffc", True),  # spaces it blanks out
        ("\U000e0041\U000e007f", True),  # tag characters (f3 a0 80|81 xx)
        ("a", False),
        ("\u200b a", False),
        ("\u2060", False),  # WORD JOINER is not in tdlib's lists
        ("\U000e0100", False),  # a variation selector, past the tag block
    ],
)
def test_is_empty_text_follows_is_empty_string(text: str, empty: bool) -> None:
    assert is_empty_text(text) is empty


# --- an independent model: tdlib's byte loops transcribed, for plain texts ---


DELETED_E2_80 = range(0xA8, 0xAF)  # \xe2\x80[\xa8-\xae]


def tdlib_plain_length(text: str) -> int:
    """clean_input_string + fix_formatted_text's trims for a text without entities,
    written over UTF-8 bytes the way misc.cpp and MessageEntity.cpp are."""
    data = text.encode("utf-8")
    out = bytearray()
    pos = 0
    while pos < len(data):
        c = data[pos]
        if c <= 32 and c not in (10, 13):
            out.append(0x20)
        elif c == 13:
            pass
        elif (
            c == 0xE2
            and pos + 2 < len(data)
            and data[pos + 1] == 0x80
            and data[pos + 2] in DELETED_E2_80
        ):
            pos += 2
        elif c == 0xCC and pos + 1 < len(data) and data[pos + 1] in (0xB3, 0xBF, 0x8A):
            pos += 1
        else:
            out.append(c)
        if len(out) >= 35_000 - 3 and (out[-1] & 0xC0) != 0x80:
            out.pop()
            break
        pos += 1
    end = len(out)
    while end > 0 and out[end - 1] in (0x20, 0x0A):
        end -= 1
    start = 0
    while start < end and out[start] in (0x20, 0x0A):
        start += 1
    return len(out[start:end].decode("utf-8"))


@given(st.text())
def test_plain_texts_agree_with_the_transcribed_byte_loops(text: str) -> None:
    assert telegram_length(html.escape(text)) == tdlib_plain_length(text)


@given(
    st.text(alphabet=st.sampled_from(" \n\r\t\x01a\u2028\u030a😀\u200e")),
    st.text(alphabet=st.sampled_from(" \n\r\t\x01b\u2029\u0333😀\u200f")),
    st.text(alphabet=st.sampled_from(" \n\rc")),
)
def test_sending_twice_changes_nothing(before: str, inside: str, after: str) -> None:
    once = trim_for_send(parse_html(f"{before}<b>{inside}</b>{after}"))
    assert trim_for_send(once) == once


@given(st.text())
def test_never_longer_than_the_parsed_text(text: str) -> None:
    markup = html.escape(text)
    assert telegram_length(markup) <= len(parse_html(markup).text)


# --- the fake Telegram measures with the same functions ---


async def test_fake_refuses_a_message_of_invisible_characters(fake_telegram: FakeTelegram) -> None:
    async with telegram.Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(READER_ID, "<b>\u200b</b>\u00a0", parse_mode="HTML")


async def test_fake_keeps_the_space_inside_a_leading_entity(fake_telegram: FakeTelegram) -> None:
    async with telegram.Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        message = await bot.send_message(READER_ID, "\n<b> x</b>\u2028", parse_mode="HTML")
    assert message.text == " x"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 0, 2)]


async def test_fake_counts_the_limit_after_cleaning(fake_telegram: FakeTelegram) -> None:
    # 4096 visible characters plus deleted ones and trimmed blanks: accepted.
    text = "\r\u2028" * 10 + "a" * TELEGRAM_TEXT_MAX + " \n" * 10
    async with telegram.Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        message = await bot.send_message(READER_ID, text)
        assert message.text == "a" * TELEGRAM_TEXT_MAX
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            # a control character inside the text becomes a space and counts
            await bot.send_message(READER_ID, "a\x01" + "a" * (TELEGRAM_TEXT_MAX - 1))


def test_entity_count_is_taken_after_tdlib_fixing() -> None:
    # Nested formatting inside code is dropped by Telegram, so it does not count.
    assert telegram_entity_count("<code><i><b>x</b></i></code>") == 1
    assert telegram_entity_count("<b>a</b> <i>b</i>") == 2
    with pytest.raises(ValueError, match="end tag"):
        telegram_entity_count("<b>open")
