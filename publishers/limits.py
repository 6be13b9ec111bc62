"""Platform limits: the one place that knows how Telegram and X measure a post.

`x_weighted_length` and `telegram_length` are a stable API that tools outside
the project call; keep their signatures.
"""

from __future__ import annotations

import unicodedata

from twitter_text import parse_tweet

from publishers.telegram_html import parse_html, visible_text

# Telegram Bot API (core.telegram.org/bots/api, PTB telegram.constants)
TELEGRAM_TEXT_MAX = 4096  # code points after entity parsing and trimming
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

    Code points of the visible text after parsing and trimming (tdlib counts
    UTF-8 characters, not UTF-16 units); tags and escapes do not count.

    Raises:
        ValueError: (``HTMLParseError``) for HTML that Telegram would refuse.
    """
    return len(visible_text(parse_html(html).text))
