"""`x_weighted_length` against twitter-text's own conformance data, and on any str.

The cases live in tests/twitter_text_conformance.py (twitter-text 3.1.0,
Apache-2.0). X counts with config v3 (emoji parsing on), so every v3 case goes
through `x_weighted_length`; the v2 section only checks our transcription and
the library, plus its three cases that no v3 case replaces.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twitter_text import parse_tweet
from twitter_text.config import config

from publishers.limits import x_weighted_length
from tests.twitter_text_conformance import (
    DIRECTIONAL_V3,
    WEIGHTED_V2,
    WEIGHTED_V3_EMOJI,
    ConformanceCase,
)

pytestmark = pytest.mark.slow  # a conformance table: `make quick` leaves it to `make test`

V3_CASES = (*WEIGHTED_V3_EMOJI, *DIRECTIONAL_V3)
_V3_DESCRIPTIONS = {case.description for case in V3_CASES}
# Cases without emoji that the v3 section drops: v3 must count them as v2 does.
V2_ONLY_CASES = tuple(case for case in WEIGHTED_V2 if case.description not in _V3_DESCRIPTIONS)
# twitter-text-parser's "version2" config lacks the key its parse_tweet reads.
V2_CONFIG = {**config["version2"], "emoji_parsing_enabled": False}


def _ids(cases: tuple[ConformanceCase, ...]) -> list[str]:
    return [case.description for case in cases]


def test_the_table_holds_every_weighted_case_of_the_yaml() -> None:
    assert (len(WEIGHTED_V2), len(WEIGHTED_V3_EMOJI), len(DIRECTIONAL_V3)) == (20, 22, 2)
    assert _ids(V2_ONLY_CASES) == [
        "'Á' is normalized into 1 char",
        "שּׁ is normalized into 3 chars",
        "Handle General Punctuation Characters with visible spaces(u2000-200A)",
    ]


@pytest.mark.parametrize("case", [*WEIGHTED_V2, *V3_CASES], ids=_ids((*WEIGHTED_V2, *V3_CASES)))
def test_transcribed_text_has_the_yaml_utf16_length(case: ConformanceCase) -> None:
    """displayRangeEnd is the text's UTF-16 length - 1: a slip in copying a text shows here."""
    assert len(case.text.encode("utf-16-le")) // 2 - 1 == case.display_range_end


@pytest.mark.parametrize("case", WEIGHTED_V2, ids=_ids(WEIGHTED_V2))
def test_library_with_config_v2_gives_the_whole_expected_result(case: ConformanceCase) -> None:
    assert parse_tweet(case.text, V2_CONFIG).asdict() == case.expected()


@pytest.mark.parametrize("case", V3_CASES, ids=_ids(V3_CASES))
def test_library_with_its_default_config_gives_the_whole_v3_result(
    case: ConformanceCase,
) -> None:
    assert parse_tweet(case.text).asdict() == case.expected()


@pytest.mark.parametrize("case", V3_CASES, ids=_ids(V3_CASES))
def test_x_weighted_length_passes_the_v3_conformance_cases(case: ConformanceCase) -> None:
    assert x_weighted_length(case.text) == case.weighted_length


@pytest.mark.parametrize("case", V2_ONLY_CASES, ids=_ids(V2_ONLY_CASES))
def test_x_weighted_length_counts_the_emoji_free_v2_cases_as_v2(case: ConformanceCase) -> None:
    assert x_weighted_length(case.text) == case.weighted_length


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("\ud800", "\ufffd"),
        ("a\udfffb", "a\ufffdb"),
        ("\ude37\ud83d", "\ufffd\ufffd"),  # low before high: no pair
        ("\ud83d\ude37", "\U0001f637"),  # a pair split over two code points: 😷
        ("Hi \ud83d\ude37 http://test.co \ud800", "Hi \U0001f637 http://test.co \ufffd"),
    ],
)
def test_surrogates_count_as_utf16_reads_them(text: str, same_as: str) -> None:
    """Lone surrogates count as U+FFFD (2, as twitter-text's JS gives them); pairs join."""
    assert x_weighted_length(text) == x_weighted_length(same_as)


def test_a_lone_surrogate_weighs_two_like_a_cjk_character() -> None:
    assert x_weighted_length("ab\udc80") == 4


def test_crlf_counts_as_the_newline_x_stores() -> None:
    assert x_weighted_length("a\r\nb") == x_weighted_length("a\nb") == 3


_FRAGMENTS = st.sampled_from(
    [
        "http://",
        "https://",
        "www.",
        ".com",
        ".co.jp",
        "t.co/",
        "/path?q=1#x",
        "@user",
        "#tag",
        "\u200d",
        "\ufe0f",
        "\u20e3",
        "\U0001f468",
        "\U0001f3fd",
        "\U000e0067",
        "\u0301",
        "\ufb2c",
        "\r\n",
        "\u202a",
        "\uffff",
        "故",
        "あ",
        "\ud83d",
        "\ude37",
    ]
)
# st.characters() never draws surrogates unless asked for category Cs by name.
_ANY_CHAR = st.characters() | st.characters(categories=["Cs"])
_ANY_STR = st.lists(_FRAGMENTS | _ANY_CHAR, max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_ANY_STR)
def test_x_weighted_length_counts_any_str(text: str) -> None:
    weight = x_weighted_length(text)
    assert isinstance(weight, int)
    assert weight >= 0
    assert (weight == 0) == (text == "")
    assert x_weighted_length(unicodedata.normalize("NFC", text)) == weight


@settings(max_examples=200, deadline=None)
@given(_ANY_STR)
def test_appending_a_spaced_word_adds_its_weight(text: str) -> None:
    """A space ends every URL and emoji, so `` ab`` adds exactly 3, whatever came before."""
    assert x_weighted_length(text + " ab") == x_weighted_length(text) + 3
