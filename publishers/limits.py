"""Platform limits: the one place that knows how Telegram and X measure a post.

`x_weighted_length` and `telegram_length` are a stable API that tools outside
the project call; keep their signatures.
"""

from __future__ import annotations

import unicodedata

from twitter_text import parse_tweet

from publishers.telegram_html import parse_html, trim_for_send

# Telegram Bot API (core.telegram.org/bots/api, PTB telegram.constants)
TELEGRAM_TEXT_MAX = 4096  # code points after entity parsing and trimming (telegram_length)
TELEGRAM_CAPTION_MAX = 1024
TELEGRAM_ENTITIES_MAX = 100  # past this Telegram silently drops formatting
TELEGRAM_CALLBACK_DATA_MAX_BYTES = 64
TELEGRAM_MEDIA_GROUP_MIN = 2
TELEGRAM_MEDIA_GROUP_MAX = 10
TELEGRAM_ANSWER_CALLBACK_TEXT_MAX = 200

# X (docs.x.com/fundamentals/counting-characters, twitter-text config v3)
X_MAX_WEIGHTED = 280
X_URL_WEIGHT = 23


def x_weighted_length(text: str) -> int:
    """Return X's weighted length of a post, as twitter-text v3 counts it.

    twitter-text normalises to NFC itself; we do it too so that callers that
    slice the NFC text agree with the count.
    """
    result = parse_tweet(unicodedata.normalize("NFC", text))
    return int(result.weightedLength)


def telegram_length(html: str) -> int:
    """Return the length Telegram checks against its limits for an HTML text.

    Code points (tdlib's ``utf8_length``, not UTF-16 units) of the text left
    after parsing (PLATFORMS.md §A.7) and after tdlib's ``fix_formatted_text``
    (`trim_for_send`): control characters become spaces, ``\r``, U+2028-U+202E
    and a few combining marks are deleted, trailing spaces/newlines go, and
    leading ones go only up to the first entity (``<b> x</b>`` is 2). Tags and
    escapes do not count.

    ``""`` and whitespace-only HTML give 0, not an error: that is what tdlib
    keeps for a caption (``allow_empty``), and refusing an empty message text
    ("message text is empty") is a send-time rule about message texts, not an
    HTML error, so callers check ``1 <= n`` for texts (and `is_empty_text` for
    texts of invisible characters only).

    Raises:
        ValueError: (``HTMLParseError``) for HTML that Telegram would refuse.
    """
    return len(trim_for_send(parse_html(html)).text)
