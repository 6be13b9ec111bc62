"""twitter-text's own conformance cases for the weighted length of a post.

Source: github.com/twitter/twitter-text, ``conformance/validate.yml`` as of
twitter-text 3.1.0, sections ``WeightedTweetsCounterTest`` (config v2),
``WeightedTweetsWithDiscountedEmojiCounterTest`` and
``UnicodeDirectionalMarkerCounterTest`` (config v3, the one X uses today).
Transcribed from the copy in the fork sayrer/twitter-text (commit cf71bf2),
checked against twitter/twitter-text's ``conformance/tests/validate.yml``
(commit 3b8031c, which lacks only the ``1⃣`` case); the sections hold 20, 22
and 2 cases, as 3.1.0's do.

Copyright 2011 Twitter, Inc. Licensed under the Apache License, Version 2.0
(the "License"); you may not use this file except in compliance with the
License. You may obtain a copy of the License at
http://www.apache.org/licenses/LICENSE-2.0. Distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.

Changes made here (Apache-2.0 §4(b)): the YAML was transcribed into this
Python table; long runs of repeated text are written as ``"..." * n``; escapes
are Python escapes (``A\\u0301`` is the decomposed Á the YAML carries). Every
text's UTF-16 length is checked against its ``displayRangeEnd`` in
tests/test_x_length_conformance.py, so a slip in the transcription fails there.
The "long url with invalid domain labels" text is rebuilt from its pattern
(three URLs of 249 ``somesuperlongurl`` labels); only the total of the
repetitions shows in the expected values, and that total is checked too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class ConformanceCase:
    """One ``validate.yml`` case: a text and what ``parseTweet`` must give for it."""

    description: str
    text: str
    weighted_length: int
    valid: bool
    permillage: int
    display_range_end: int
    valid_range_end: int

    def expected(self) -> dict[str, int | bool]:
        """The case's ``expected`` mapping, keyed as in the YAML (and ``ParsedResult``)."""
        return {
            "weightedLength": self.weighted_length,
            "valid": self.valid,
            "permillage": self.permillage,
            "displayRangeStart": 0,
            "displayRangeEnd": self.display_range_end,
            "validRangeStart": 0,
            "validRangeEnd": self.valid_range_end,
        }


_X10 = "xxxxxxxxxx-"
_POEM = (
    "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。"
    "朱雀桥边野草花，乌衣巷口夕阳斜。旧时王谢堂前燕，飞入寻常百姓家。"
    "朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"
    "泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。"
    "独在异乡为异客，每逢佳节倍思亲。遥知兄弟登高处，遍插茱萸少一人。"
)
_FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦
_PUNCTUATION_HEAD = "This is a tweet with general punctuation characters: "
_PUNCTUATION_TAIL = (
    " \u2010 \u2011 \u2012 \u2013 \u2014 \u2015 \u2016  \u2017 \u2018 \u2019 \u201a"
    " \u201b \u201c \u201d \u201e \u201f \u2032 \u2033 \u2034 \u2035 \u2036 \u2037"
)
LONG_URL_LABEL_REPEATS: Final = 249
_LONG_URL = "https://" + "somesuperlongurl" * LONG_URL_LABEL_REPEATS + ".com/foo"
_LONG_URLS = (
    "Long url with invalid domain labels and a short url: "
    + " ".join([_LONG_URL] * 3)
    + " https://validurl.com"
)
_KANA = "あいうえおかきくけこ"
_SHARED_HEAD: Final = (
    ConformanceCase("Regular Tweet with url", "Hi http://test.co", 26, True, 92, 16, 16),
    ConformanceCase("Just url", "http://test.co", 23, True, 82, 13, 13),
    ConformanceCase(
        "Long tweet, overflow at char index 280",
        "285 chars-" + _X10 * 25,
        285,
        False,
        1017,
        284,
        279,
    ),
    ConformanceCase(
        "Long tweet with url in the middle, overflow at char index 284",
        "285 chars- http://www.twitter.com/jack " + _X10 * 24,
        299,
        False,
        1067,
        302,
        283,
    ),
    ConformanceCase(
        "Long tweet with url at the end, overflow at char index 265",
        _X10 * 24 + " http://www.twitter.com/jack ",
        289,
        False,
        1032,
        292,
        264,
    ),
    ConformanceCase(
        "10 url string, no overflow",
        "https://www.twitter.com/aloha " * 10,
        240,
        True,
        857,
        299,
        299,
    ),
    ConformanceCase("160 CJK char, overflow at char index 140", _POEM, 320, False, 1142, 159, 139),
    ConformanceCase(
        "160 emoji char, overflow at char index 140",
        "\U0001f637" * 160,  # 😷
        320,
        False,
        1142,
        319,
        279,
    ),
    ConformanceCase(
        "3 latin char + 160 CJK char, overflow at char index 141",
        "the" + _POEM,
        323,
        False,
        1153,
        162,
        140,
    ),
)
_URL_TAIL: Final = (
    ConformanceCase(
        "Handle long url with invalid domain labels and short url",
        _LONG_URLS,
        12079,
        False,
        43139,
        12075,
        279,
    ),
    ConformanceCase(
        "Handle a 64 character domain without protocol",
        "randomurl" * 7 + "s.com",
        68,
        True,
        242,
        67,
        67,
    ),
    ConformanceCase(
        "Do not allow > 140 CJK characters by virtue of CJK chars greater than 63 "
        "punycode encoded chars in the host",
        _KANA * 12 + " http://" + _KANA * 5 + "あいう.com",
        358,
        False,
        1278,
        184,
        143,
    ),
    ConformanceCase(
        "Allow > 140 CJK characters by virtue of CJK chars less than 63 punycode "
        "encoded chars in the host",
        _KANA * 12 + " http://" + _KANA * 5 + "あい.com",
        264,
        True,
        942,
        183,
        183,
    ),
)
_NORMALIZED_282 = ConformanceCase(
    "282 chars with a normalized character within valid range but outside 280",
    "282 chars-" + _X10 * 24 + "xxxxxA\u0301x",
    281,
    False,
    1003,
    281,
    280,
)

# Config v2 (no emoji parsing): every code point of an emoji counts.
WEIGHTED_V2: Final = (
    *_SHARED_HEAD,
    ConformanceCase("'Á' is normalized into 1 char", "A\u0301B", 2, True, 7, 2, 2),
    ConformanceCase("שּׁ is normalized into 3 chars", "A\ufb2c", 4, True, 14, 1, 1),
    _NORMALIZED_282,
    ConformanceCase(
        "Count a mix of single byte single word, and double word unicode characters",
        "H\U0001f431\u263a" + _FAMILY,  # H🐱☺👨‍👩‍👧‍👦
        16,
        True,
        57,
        14,
        14,
    ),
    ConformanceCase(
        "Count unicode emoji chars inside the basic multilingual plane",
        "\U0001f637\U0001f47e\U0001f621\U0001f525\U0001f4a9",  # 😷👾😡🔥💩
        10,
        True,
        35,
        9,
        9,
    ),
    ConformanceCase(
        "Count unicode emoji chars outside the basic multilingual plane with skin tone modifiers",
        "\U0001f64b\U0001f3fd\U0001f468\u200d\U0001f3a4",  # 🙋🏽👨‍🎤
        9,
        True,
        32,
        8,
        8,
    ),
    ConformanceCase(
        "Handle General Punctuation Characters with visible spaces(u2000-200A)",
        _PUNCTUATION_HEAD + "".join(map(chr, range(0x2000, 0x200E))) + _PUNCTUATION_TAIL,
        112,
        True,
        400,
        111,
        111,
    ),
    *_URL_TAIL,
)

# Config v3 (emoji parsing enabled): an emoji sequence counts 2, whatever its length.
WEIGHTED_V3_EMOJI: Final = (
    *_SHARED_HEAD,
    _NORMALIZED_282,
    ConformanceCase(
        "Count a mix of single byte single word, and double word unicode characters",
        "H\U0001f431\u263a" + _FAMILY,
        7,
        True,
        25,
        14,
        14,
    ),
    ConformanceCase(
        "Count unicode emoji chars inside the basic multilingual plane",
        "\U0001f637\U0001f47e\U0001f621\U0001f525\U0001f4a9",
        10,
        True,
        35,
        9,
        9,
    ),
    ConformanceCase(
        "Count unicode emoji chars outside the basic multilingual plane with skin tone modifiers",
        "\U0001f64b\U0001f3fd\U0001f468\u200d\U0001f3a4",
        4,
        True,
        14,
        8,
        8,
    ),
    ConformanceCase(
        "Handle General Punctuation Characters with visible spaces(u2000-200A), no ZWJ/ZWNJ",
        _PUNCTUATION_HEAD + "".join(map(chr, range(0x2000, 0x200C))) + _PUNCTUATION_TAIL,
        110,
        True,
        392,
        109,
        109,
    ),
    *_URL_TAIL,
    ConformanceCase("140 family emoji", _FAMILY * 140, 280, True, 1000, 1539, 1539),
    ConformanceCase(
        "Emoji with a leading character in the latin range is counted as 2",
        "1\u20e3",  # 1⃣ (keycap without VS16)
        2,
        True,
        7,
        1,
        1,
    ),
    ConformanceCase(
        "Unicode 10.0 emoji",
        # 🤪; 🧕; 🧕🏾; 🏴󠁧󠁢󠁥󠁮󠁧󠁿 (England: black flag + tag sequence)
        "Unicode 10.0 emoji: \U0001f92a; \U0001f9d5; \U0001f9d5\U0001f3fe; "
        "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        34,
        True,
        121,
        47,
        47,
    ),
    ConformanceCase(
        "Unicode 9.0 emoji",
        "Unicode 9.0 emoji: \U0001f920; \U0001f483; \U0001f483\U0001f3fe",  # 🤠; 💃; 💃🏾
        29,
        True,
        103,
        30,
        30,
    ),
)

# Config v3.
DIRECTIONAL_V3: Final = (
    ConformanceCase("Handle invalid characters", "ABC\u202a\uffffABC\ufffe", 12, False, 42, 8, 3),
    ConformanceCase(
        "Tweet text containing directional characters should be considered valid",
        "\u2066\u202ahttp://foobar.پاکستان/\u202c\u2069",
        31,
        True,
        110,
        25,
        25,
    ),
)
