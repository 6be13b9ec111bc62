"""Platform limits: the one place that knows how Telegram and X measure a post.

`x_weighted_length` and `telegram_length` are a stable API that tools outside
the project call; keep their signatures.
"""

from __future__ import annotations

import re
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
# setMyCommands (td/telegram/BotCommand.cpp): a name of a-z, 0-9 and "_", after trimming
TELEGRAM_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
TELEGRAM_COMMAND_NAME_MAX = 32
TELEGRAM_COMMAND_DESCRIPTION_MAX = 256
TELEGRAM_COMMANDS_MAX = 100  # per scope and language
# sendPhoto's photo (the Bot API's and tdlib's inputMessagePhoto): at most 10 MB, width
# and height at most 10000 in total, their ratio at most 20 (`telegram_photo_problem`)
TELEGRAM_PHOTO_MAX_BYTES = 10_000_000
TELEGRAM_PHOTO_SIDES_MAX = 10_000
TELEGRAM_PHOTO_RATIO_MAX = 20

# X (docs.x.com/fundamentals/counting-characters, twitter-text config v3)
X_MAX_WEIGHTED = 280
X_URL_WEIGHT = 23

# GitHub issues (the 422 "is too long (maximum is …)" of POST /repos/{o}/{r}/issues)
GITHUB_TITLE_MAX = 256  # characters
GITHUB_BODY_MAX = 65536  # characters


def x_weighted_length(text: str) -> int:
    """Return X's weighted length of a post, as twitter-text v3 counts it.

    Counted by twitter-text-parser with its default (v3) config, which passes
    every weighted-length case of twitter-text 3.1.0's own conformance data
    (tests/test_x_length_conformance.py). What the wrapper adds, and where the
    library knowingly differs from twitter-text's JavaScript reference:

    - NFC first: the library normalises too; doing it here means callers that
      slice the NFC text agree with the count.
    - ``"\\r\\n"`` counts 1 (the library's own choice, kept): X stores it as
      ``"\\n"`` (twitter/twitter-text#8 and #9, swen128/twitter-text-python#6).
    - Surrogates (`_whole_code_points`): never raises for any ``str``.
    - Emoji sequences newer than Emoji 12.0 (the library's list), such as
      U+2764 U+FE0F U+200D U+1F525, count by code point (5, not 2): an
      overcount, so a post we accept is never too long for X. Not patched:
      that would need our own emoji table.
    """
    normalized = unicodedata.normalize("NFC", _whole_code_points(text))
    return int(parse_tweet(normalized).weightedLength)


_SURROGATE = re.compile("[\\ud800-\\udfff]")


def _whole_code_points(text: str) -> str:
    """Join surrogate pairs into code points and turn lone surrogates into U+FFFD.

    twitter-text-parser raises ``UnicodeEncodeError`` on any surrogate (it
    measures UTF-16 with a strict encode). A lone surrogate cannot be posted
    (X takes UTF-8 JSON, where one is not a character), yet a count must not
    crash a format or a preview. U+FFFD, as a lenient UTF-16 decoder reads it,
    weighs 2: what twitter-text's JavaScript reference gives a lone surrogate
    (a code unit outside every weighted range).
    A pair split across two ``str`` code points (``"\\ud83d\\ude37"``) is the
    character it encodes in UTF-16, so it counts as that character.
    """
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


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


def telegram_entity_count(html: str) -> int:
    """Entities Telegram keeps for an HTML text, to compare with `TELEGRAM_ENTITIES_MAX`.

    Counted after tdlib's fixing (`trim_for_send`), as Telegram applies the cap:
    split pieces count, entities dropped inside code do not.

    Raises:
        ValueError: for HTML that Telegram would refuse.
    """
    return len(trim_for_send(parse_html(html)).entities)


def telegram_caption_fits(html: str) -> bool:
    """The photo-then-text rule: whether `html` can be the caption under a photo.

    A text that fits goes as the photo's caption (one message); one that does not
    follows the photo as a message of its own (up to `TELEGRAM_TEXT_MAX`), the photo
    keeping a short caption. Formatters and the editor's edit both ask here.

    Raises:
        ValueError: for HTML that Telegram would refuse.
    """
    return (
        telegram_length(html) <= TELEGRAM_CAPTION_MAX
        and telegram_entity_count(html) <= TELEGRAM_ENTITIES_MAX
    )


def telegram_photo_problem(size: int, width: int, height: int) -> str | None:
    """Why Telegram refuses this photo (its error text), None when it fits.

    One rule for the fake, which enforces it, and the senders, which check before.
    """
    if size > TELEGRAM_PHOTO_MAX_BYTES:
        return "PHOTO_SAVE_FILE_INVALID"  # webogram#1011: a photo past the size limit
    if width < 1 or height < 1 or width + height > TELEGRAM_PHOTO_SIDES_MAX:
        return "PHOTO_INVALID_DIMENSIONS"
    if max(width, height) > TELEGRAM_PHOTO_RATIO_MAX * min(width, height):
        return "PHOTO_INVALID_DIMENSIONS"
    return None
