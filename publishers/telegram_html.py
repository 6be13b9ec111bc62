"""Telegram's HTML parse mode, as the Bot API server (tdlib) really parses it.

One place for the rule: the formatters measure posts with it and the fake
Telegram server refuses what Telegram refuses with it. The behaviour follows
tdlib's ``parse_html`` (``td/telegram/MessageEntity.cpp``), which is stricter
and, in places, more lenient than the Bot API page says (PLATFORMS.md §A.7):

- only ``&lt; &gt; &amp; &quot;`` are decoded by name (``;`` optional); numeric
  references decode unless they are 0, ≥ U+10FFFF or longer than tdlib reads;
  a decoded surrogate rejects the whole text;
- a tag outside the whitelist, an unclosed or mismatched tag and a stray ``</``
  reject the whole text; errors carry UTF-8 byte offsets into the input;
- ``</>`` closes the innermost tag, unknown attributes are ignored, attribute
  values may be unquoted (a name token, lowercased) or single-quoted;
- tags around nothing produce no entity; entities come out sorted as tdlib
  sorts them, nesting kept as written (``<code><b>x</b></code>`` gives both);
- ``<tg-time unix=N format=F>`` is a ``date_time`` entity: ``unix`` read as
  tdlib's ``to_integer<int32>`` (leading digits, wrapping), no entity unless it
  is > 0; ``format`` is ``r``/``R`` or any run of ``tTdDwW`` (empty: none), else
  the text is refused ("Invalid date format used"); like ``pre`` and ``code``
  nothing is kept inside it and it is part of nothing but a blockquote;
- input of more than 65,536 code points is refused unparsed ("Text is too long").

What happens after parsing, when the text is sent (nothing kept inside
``pre``/``code``, no nested blockquotes, splitting and merging of bold and the
like, cleaning, trimming that stops at the first entity, the emptiness rule),
is `trim_for_send` and `is_empty_text`, after tdlib's ``fix_formatted_text``.

Checked against tdlib's own cases (tests/test_tdlib_conformance.py, from
``test/message_entities.cpp`` of the 2024 sources) and against cases written
from the 2026 ``MessageEntity.cpp`` (``parse_html``, ``get_date_flags``,
``get_pre_entities_mask``, ``remove_empty_entities``), which this follows:
``<tg-time>`` (the ``date_time`` entity) is the tag added since the 2024 port.

Offsets and lengths of entities are in UTF-16 code units, like the Bot API's.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "HTMLParseError",
    "MessageEntity",
    "ParsedHTML",
    "is_empty_text",
    "parse_html",
    "trim_for_send",
    "utf16_length",
    "visible_text",
]

_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "tg-time",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
# tdlib sorts entities by offset, longer first, then by this priority.
_TYPE_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "date_time": 30,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
_BLOCKQUOTES = frozenset({"blockquote", "expandable_blockquote"})
# tdlib's get_pre_entities_mask: nothing nested inside, part of nothing but a blockquote.
_CODE_LIKE = frozenset({"pre", "code", "date_time"})
# Splittable entities in the order tdlib's split_entities flushes them.
_SPLITTABLE_INDEX = {"bold": 0, "italic": 1, "underline": 2, "strikethrough": 3, "spoiler": 4}
_NAMED_ENTITIES = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
# tdlib's is_space; the NUL stands for the end of the C string it reads.
_SPACE_BYTES = frozenset(b" \t\r\n\v\0")
# --- send time: tdlib's fix_formatted_text (td/telegram/MessageEntity.cpp) ---
# clean_input_string (td/telegram/misc.cpp): bytes 0-32 but '\n' and '\r' become a
# space; '\r', U+2028-U+202E and the "vertical lines" U+030A, U+0333, U+033F go.
_DELETED = "\r\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u030a\u0333\u033f"
_CLEAN_TABLE: dict[int, str | None] = {
    **{code: " " for code in range(0x21) if code not in (0x0A, 0x0D)},
    **dict.fromkeys(map(ord, _DELETED)),
}
# replace_offending_characters (misc.cpp): LRM/RLM before another one -> ZWNJ.
_BIDI_MARK_RUN = re.compile("[\u200e\u200f](?=[\u200e\u200f])")
# The only whitespace fix_formatted_text trims (after cleaning, tabs are spaces).
_TRIMMED = " \n"
_SERVER_LIMIT_BYTES = 35000  # fix_formatted_text / clean_input_string LENGTH_LIMIT
# strip_empty_characters (misc.cpp): spaces it blanks out, then what counts as empty
# (tag characters U+E0000-U+E007F are checked apart).
_EMPTY_CHARACTERS = frozenset(
    " \n\u00a0\u200b\u200c\u200d\u200e\u200f\u202e\ufeff"
    "\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u2800\u3000\ufffc"
)
# SynchronousRequests.cpp, parseTextEntities: longer input is refused unparsed.
PARSE_MAX_CODE_POINTS = 65536
_PLAIN_RUN = re.compile(rb"[^&<\0]+")
_NAME_TOKEN = re.compile(rb"[A-Za-z0-9.\-]*")
_LINK_SCHEMES = frozenset({"http", "https", "tg", "ton", "tonsite"})
_HOST = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[^\s/?#@:\[\]]+)(?::\d{1,5})?$")


class HTMLParseError(ValueError):
    """Telegram would refuse the text; the message is what follows
    ``Bad Request: can't parse entities: `` in its answer."""


@dataclass(frozen=True, slots=True)
class MessageEntity:
    """One formatting entity as the Bot API names it; offsets in UTF-16 units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None
    unix_time: int | None = None  # date_time only
    date_time_format: str | None = None  # date_time only; None: shown as written

    def to_api(self) -> dict[str, object]:
        """Return the Bot API JSON object (what PTB de-jsons)."""
        data: dict[str, object] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.url is not None:
            data["url"] = self.url
        if self.language is not None:
            data["language"] = self.language
        if self.custom_emoji_id is not None:
            data["custom_emoji_id"] = self.custom_emoji_id
        if self.unix_time is not None:
            data["unix_time"] = self.unix_time
        if self.date_time_format is not None:
            data["date_time_format"] = self.date_time_format
        return data


@dataclass(frozen=True, slots=True)
class ParsedHTML:
    """The text a reader sees and the entities that format it."""

    text: str
    entities: tuple[MessageEntity, ...] = ()


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    out_pos: int  # byte position in the decoded output where the tag's text starts
    date: int = 0  # <tg-time unix=...>


def utf16_length(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units (the Bot API's offset unit)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf16_units_of_utf8(chunk: bytes) -> int:
    # One unit per character (lead byte), two for 4-byte sequences.
    lead = sum(1 for byte in chunk if byte & 0xC0 != 0x80)
    return lead + sum(1 for byte in chunk if byte >= 0xF0)


def _decode_entity(data: bytes, pos: int) -> tuple[str, int] | None:
    """Decode the character reference at ``data[pos] == '&'`` as tdlib does.

    Returns the character and the position after the reference, or None when
    tdlib keeps the ``&`` as literal text.
    """
    end = pos + 1
    if data[end] == ord("#"):
        end += 1
        value = 0
        if data[end] == ord("x"):  # tdlib accepts only a lowercase x
            end += 1
            while chr(data[end]) in "0123456789abcdefABCDEF":
                value = value * 16 + int(chr(data[end]), 16)
                end += 1
        else:
            while ord("0") <= data[end] <= ord("9"):
                value = value * 10 + data[end] - ord("0")
                end += 1
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
        char = chr(value)
    else:
        while chr(data[end]).isascii() and chr(data[end]).isalpha():
            end += 1
        named = _NAMED_ENTITIES.get(data[pos + 1 : end])
        if named is None:
            return None
        char = named
    if data[end] == ord(";"):
        end += 1
    return char, end


def _checked_link(url: str) -> str | None:
    """Return the link Telegram would keep for ``url``, or None if it drops it.

    A bare host gets ``http://`` and an empty path ``/``, as tdlib's
    ``LinkManager::get_checked_link`` does (``telegram.org`` → ``http://telegram.org/``).
    """
    if not url or any(char.isspace() for char in url):
        return None
    scheme, sep, rest = url.partition(":")
    scheme = scheme.lower()
    if sep and scheme in _LINK_SCHEMES and scheme not in ("http", "https"):
        return url if rest else None
    if not url.lower().startswith(("http://", "https://")):
        if "://" in url:
            return None
        url = "http://" + url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    if not host or not _HOST.match(host):
        return None
    hostname = parts.hostname or ""
    if "." not in hostname and hostname != "localhost" and ":" not in hostname:
        return None
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return f"{parts.scheme.lower()}://{parts.netloc}{path}{query}{fragment}"


def _error(message: str) -> HTMLParseError:
    return HTMLParseError(message)


def _to_int32(text: str) -> int:
    """tdlib's ``to_integer<int32>``: an optional ``-``, the leading digits (the rest
    ignored), wrapped modulo 2**32 as its unsigned arithmetic does."""
    negative = text.startswith("-")
    value = 0
    for char in text[1:] if negative else text:
        if not "0" <= char <= "9":
            break
        value = (value * 10 + ord(char) - ord("0")) & 0xFFFFFFFF
    if value > 0x7FFFFFFF:
        value = (~value + 1) & 0xFFFFFFFF
        negative = not negative
        if value > 0x7FFFFFFF:
            return -(2**31)
    return -value if negative else value


def _date_time_format(written: str) -> str | None:
    """The Bot API's ``date_time_format`` for a ``<tg-time format=...>``.

    tdlib's ``get_date_flags``: ``r`` or ``R`` alone is relative; otherwise each of
    ``t T d D w W`` sets a flag (repeats allowed), anything else refuses the text. The
    Bot API writes the flags back as ``w``, then the date (``d`` before ``D``), then the
    time (``t`` before ``T``); no flag at all is no format (the text shown as written).
    """
    if written in ("r", "R"):
        return "r"
    if any(char not in "tTdDwW" for char in written):
        raise _error("Invalid date format used")
    week = "w" if "w" in written or "W" in written else ""
    date = "d" if "d" in written else "D" if "D" in written else ""
    time = "t" if "t" in written else "T" if "T" in written else ""
    return (week + date + time) or None


def parse_html(html: str) -> ParsedHTML:
    """Parse Telegram HTML into visible text and Bot API entities.

    Raises:
        HTMLParseError: where Telegram answers 400 ``can't parse entities``.
    """
    try:
        data = html.encode("utf-8") + b"\0"
    except UnicodeEncodeError:
        raise _error("Text must be encoded in UTF-8") from None
    if len(html) > PARSE_MAX_CODE_POINTS:
        raise _error("Text is too long")
    size = len(data) - 1
    out = bytearray()
    utf16_offset = 0
    entities: list[MessageEntity] = []
    open_tags: list[_OpenTag] = []
    has_surrogate = False

    i = 0
    while i < size:
        run = _PLAIN_RUN.match(data, i, size)
        if run is not None:
            chunk = run.group()
            out += chunk
            utf16_offset += _utf16_units_of_utf8(chunk)
            i = run.end()
            continue
        byte = data[i]
        if byte == ord("&"):
            decoded = _decode_entity(data, i)
            if decoded is None:
                out.append(byte)
                utf16_offset += 1
                i += 1
                continue
            char, i = decoded
            if 0xD800 <= ord(char) <= 0xDFFF:
                has_surrogate = True
                continue
            out += char.encode("utf-8")
            utf16_offset += 2 if ord(char) > 0xFFFF else 1
            continue
        if byte != ord("<"):  # a NUL inside the text
            out.append(byte)
            utf16_offset += 1
            i += 1
            continue
        begin = i
        i += 1
        if data[i] != ord("/"):
            i = _parse_start_tag(data, begin, open_tags, utf16_offset, len(out))
        else:
            i = _parse_end_tag(data, begin, open_tags, entities, utf16_offset, out)
    if open_tags:
        name = open_tags[-1].name
        raise _error(f'Can\'t find end tag corresponding to start tag "{name}"')
    if has_surrogate:
        raise _error(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    entities = [
        MessageEntity("code", e.offset, e.length) if e.type == "code" and e.language else e
        for e in entities
    ]
    return ParsedHTML(out.decode("utf-8"), tuple(_sorted(entities)))


def _parse_start_tag(
    data: bytes, begin: int, open_tags: list[_OpenTag], utf16_offset: int, out_pos: int
) -> int:
    i = begin + 1
    while data[i] not in _SPACE_BYTES and data[i] != ord(">"):
        i += 1
    if data[i] == 0:
        raise _error(f"Unclosed start tag at byte offset {begin}")
    name = data[begin + 1 : i].decode("utf-8", "replace").lower()
    if name not in _SUPPORTED_TAGS:
        raise _error(f'Unsupported start tag "{name}" at byte offset {begin}')
    argument = ""
    date = 0
    while data[i] != ord(">"):
        while data[i] != 0 and data[i] in _SPACE_BYTES:
            i += 1
        if data[i] == ord(">"):
            break
        attr_begin = i
        while data[i] not in _SPACE_BYTES and data[i] not in b"=>/\"'":
            i += 1
        attr_name = data[attr_begin:i]
        if not attr_name:
            raise _error(f'Empty attribute name in the tag "{name}" at byte offset {begin}')
        while data[i] != 0 and data[i] in _SPACE_BYTES:
            i += 1
        if data[i] != ord("="):
            if data[i] == 0:
                raise _error(f'Unclosed start tag "{name}" at byte offset {begin}')
            if name == "blockquote" and attr_name == b"expandable":
                argument = "1"
            continue
        i += 1
        while data[i] != 0 and data[i] in _SPACE_BYTES:
            i += 1
        if data[i] == 0:
            raise _error(f'Unclosed start tag "{name}" at byte offset {begin}')
        if data[i] not in b"'\"":
            token = _NAME_TOKEN.match(data, i)
            assert token is not None  # the pattern matches the empty string
            value = token.group().decode("ascii").lower()
            if data[token.end()] not in _SPACE_BYTES and data[token.end()] != ord(">"):
                raise _error(f"Unexpected end of name token at byte offset {i}")
            i = token.end()
        else:
            value, i = _quoted_value(data, i)
        if data[i] == 0:
            raise _error(f"Unclosed start tag at byte offset {begin}")
        if name == "a" and attr_name == b"href":
            argument = value
        elif name == "code" and attr_name == b"class" and value.startswith("language-"):
            argument = value.removeprefix("language-")
        elif name == "span" and attr_name == b"class" and value.startswith("tg-"):
            argument = value.removeprefix("tg-")
        elif name == "tg-emoji" and attr_name == b"emoji-id":
            argument = value
        elif name == "blockquote" and attr_name == b"expandable":
            argument = "1"
        elif name == "tg-time" and attr_name == b"unix":
            date = _to_int32(value)
        elif name == "tg-time" and attr_name == b"format":
            argument = value
    if name == "span" and argument != "spoiler":
        raise _error(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
    open_tags.append(_OpenTag(name, argument, utf16_offset, out_pos, date))
    return i + 1


def _quoted_value(data: bytes, i: int) -> tuple[str, int]:
    quote = data[i]
    i += 1
    value = bytearray()
    while data[i] != quote and data[i] != 0:
        if data[i] == ord("&"):
            decoded = _decode_entity(data, i)
            if decoded is not None:
                char, i = decoded
                value += char.encode("utf-8", "surrogatepass")
                continue
        value.append(data[i])
        i += 1
    if data[i] == quote:
        i += 1
    return value.decode("utf-8", "replace"), i


def _parse_end_tag(
    data: bytes,
    begin: int,
    open_tags: list[_OpenTag],
    entities: list[MessageEntity],
    utf16_offset: int,
    out: bytearray,
) -> int:
    if not open_tags:
        raise _error(f"Unexpected end tag at byte offset {begin}")
    i = begin + 2
    while data[i] not in _SPACE_BYTES and data[i] != ord(">"):
        i += 1
    end_name = data[begin + 2 : i].decode("utf-8", "replace").lower()
    while data[i] != 0 and data[i] in _SPACE_BYTES:
        i += 1
    if data[i] != ord(">"):
        raise _error(f"Unclosed end tag at byte offset {begin}")
    tag = open_tags.pop()
    if end_name and end_name != tag.name:
        raise _error(
            f'Unmatched end tag at byte offset {begin}, expected "</{tag.name}>", '
            f'found "</{end_name}>"'
        )
    length = utf16_offset - tag.utf16_offset
    if length > 0:
        entity = _entity_for(tag, length, out, entities)
        if entity is not None:
            entities.append(entity)
    return i + 1


def _entity_for(
    tag: _OpenTag, length: int, out: bytearray, entities: list[MessageEntity]
) -> MessageEntity | None:
    offset = tag.utf16_offset
    simple = _SIMPLE_TAG_TYPES.get(tag.name)
    if simple is not None:
        return MessageEntity(simple, offset, length)
    if tag.name == "tg-emoji":
        try:
            emoji_id = int(tag.argument)
        except ValueError:
            emoji_id = 0
        if emoji_id == 0 or not -(2**63) <= emoji_id < 2**63:
            raise _error("Invalid custom emoji identifier specified")
        return MessageEntity("custom_emoji", offset, length, custom_emoji_id=str(emoji_id))
    if tag.name == "tg-time":
        date_format = _date_time_format(tag.argument)  # refused even without a date
        if tag.date <= 0:
            return None
        return MessageEntity(
            "date_time", offset, length, unix_time=tag.date, date_time_format=date_format
        )
    if tag.name == "a":
        url = tag.argument or bytes(out[tag.out_pos :]).decode("utf-8", "replace")
        checked = _checked_link(url)
        return None if checked is None else MessageEntity("text_link", offset, length, url=checked)
    last = entities[-1] if entities else None
    same_span = last is not None and last.offset == offset and last.length == length
    if tag.name == "pre":
        # <pre><code class="language-x">: the code closed first, carrying the language.
        if last is not None and same_span and last.type == "code" and last.language:
            entities.pop()
            return MessageEntity("pre", offset, length, language=last.language)
        return MessageEntity("pre", offset, length)
    if tag.name == "code":
        if last is not None and same_span and last.type == "pre" and tag.argument:
            entities.pop()
            return MessageEntity("pre", offset, length, language=tag.argument)
        # The language is kept only until the end of parsing, for a <pre> around it.
        return MessageEntity("code", offset, length, language=tag.argument or None)
    kind = "expandable_blockquote" if tag.argument else "blockquote"
    return MessageEntity(kind, offset, length)


def _priority(entity: MessageEntity) -> int:
    if entity.type == "pre" and entity.language:
        return 10  # tdlib's PreCode sorts before Pre
    return _TYPE_PRIORITY.get(entity.type, 50)


def _sort_key(entity: MessageEntity) -> tuple[int, int, int]:
    # MessageEntity::operator< (td/telegram/MessageEntity.h)
    return (entity.offset, -entity.length, _priority(entity))


def _sorted(entities: Sequence[MessageEntity]) -> list[MessageEntity]:
    return sorted(entities, key=_sort_key)


def _end(entity: MessageEntity) -> int:
    return entity.offset + entity.length


def _kind(entity: MessageEntity) -> str:
    """tdlib's entity type: ``pre`` with a language is its own type (PreCode)."""
    return "pre_code" if entity.type == "pre" and entity.language else entity.type


def _is_splittable(entity: MessageEntity) -> bool:
    return entity.type in _SPLITTABLE_INDEX


def _is_continuous(entity: MessageEntity) -> bool:
    return not (
        entity.type in _SPLITTABLE_INDEX or entity.type in _BLOCKQUOTES or entity.type in _CODE_LIKE
    )


def visible_text(text: str, entities: Sequence[MessageEntity] = ()) -> str:
    """Return ``text`` as Telegram stores it when sent (see `trim_for_send`).

    Pass the entities too when there are any: leading whitespace is trimmed
    only up to the first entity.
    """
    return trim_for_send(ParsedHTML(text, tuple(entities))).text


def trim_for_send(parsed: ParsedHTML) -> ParsedHTML:
    """Return the text and entities Telegram keeps when a parsed text is sent.

    A port of tdlib's ``fix_formatted_text`` (``td/telegram/MessageEntity.cpp``)
    as the Bot API server runs it on a message text or caption (trimming on,
    empty allowed; entities tdlib detects by itself, such as URLs and mentions,
    are not added):

    1. check the entities (offsets and lengths within the text, not splitting
       a surrogate pair), drop empty ones, and fix their nesting: nothing
       inside ``pre``/``code``, continuous entities (links, custom emoji) and
       blockquotes do not overlap, bold/italic/underline/strikethrough/spoiler
       are merged where adjacent and split around the others;
    2. clean the text (``clean_input_string``, ``td/telegram/misc.cpp``):
       U+0000-U+0020 except ``\n`` and ``\r`` become a space, ``\r``,
       U+2028-U+202E and U+030A, U+0333, U+033F are deleted, and in a run of
       U+200E/U+200F marks all but the last become U+200C; entities move
       with the text;
    3. trim trailing spaces and ``\n`` (no other character counts as
       whitespace), clipping entities, then leading ones only up to the first
       entity, so ``<b> x</b>`` keeps its space;
    4. cap the text at 35,000 UTF-8 bytes (a server-side limit).

    A text with nothing but spaces and ``\n`` comes back empty with no
    entities, as tdlib returns a caption; for a message text tdlib refuses it
    instead ("Text must be non-empty"), see `is_empty_text`.

    Raises:
        ValueError: for entities tdlib refuses (only explicit entities can be).
    """
    text = parsed.text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("Strings must be encoded in UTF-8") from None
    if not parsed.entities:
        text = _cap_cleaned(_clean(text))
        entities: list[MessageEntity] = []
    else:
        for entity in parsed.entities:
            if not 0 <= entity.offset <= 1_000_000:
                raise ValueError(f"Receive an entity with incorrect offset {entity.offset}")
            if not 0 <= entity.length <= 1_000_000:
                raise ValueError(f"Receive an entity with incorrect length {entity.length}")
        entities = _fix_entities([e for e in parsed.entities if _is_kept(e)])
        text, entities = _clean_with_entities(text, entities)
        entities = [e for e in entities if _is_kept(e)]  # remove_invalid_entities
    end = len(text.rstrip(_TRIMMED))
    if end == 0:
        return ParsedHTML("")
    entities = _fix_entities(entities)  # deletions can make entities adjacent

    text = text[:end]
    total = utf16_length(text)
    while entities and entities[-1].offset >= total:
        entities.pop()
    clipped = [_moved(e, e.offset, min(_end(e), total)) for e in entities]
    entities = _sorted(clipped) if clipped != entities else entities
    # Leading blanks are one UTF-16 unit each, so an entity offset is also an index here.
    first_entity = entities[0].offset if entities else len(text)
    lead = min(len(text) - len(text.lstrip(_TRIMMED)), first_entity)
    if lead:
        text = text[lead:]
        entities = [_moved(e, e.offset - lead, _end(e) - lead) for e in entities]
    if len(text) * 4 > _SERVER_LIMIT_BYTES and len(text.encode("utf-8")) > _SERVER_LIMIT_BYTES:
        text = _utf8_prefix(text, _SERVER_LIMIT_BYTES)
        total = utf16_length(text)
        entities = [e for e in entities if _end(e) <= total]
    return ParsedHTML(text, tuple(entities))


def is_empty_text(text: str) -> bool:
    """Tell whether Telegram calls a sent text empty ("Text must be non-empty").

    tdlib's ``is_empty_string`` (``td/telegram/misc.cpp``, via
    ``strip_empty_characters``), checked on message texts after
    `trim_for_send`: a text of only spaces, ``\n``, U+00A0, zero-width
    characters, U+FEFF, the listed Unicode spaces (U+2000-U+200A, U+3000,
    U+2800...) and tag characters is refused. Captions may be empty.
    """
    return all(char in _EMPTY_CHARACTERS or 0xE0000 <= ord(char) <= 0xE007F for char in text)


def _is_kept(entity: MessageEntity) -> bool:
    # tdlib's remove_empty_entities (td/telegram/MessageEntity.cpp)
    if entity.length <= 0:
        return False
    if entity.type == "text_link":
        return bool(entity.url)
    if entity.type == "custom_emoji":
        return entity.custom_emoji_id not in (None, "", "0")
    if entity.type == "date_time":
        return entity.unix_time is not None and entity.unix_time > 0
    return True


def _moved(entity: MessageEntity, start: int, end: int) -> MessageEntity:
    return dataclasses.replace(entity, offset=start, length=end - start)


# --- fix_entities and its helpers (td/telegram/MessageEntity.cpp) ---


def _fix_entities(entities: list[MessageEntity]) -> list[MessageEntity]:
    """tdlib's ``fix_entities``: sorted, properly nested, splittables resplit."""
    entities = _sorted(entities)
    if _are_entities_valid(entities):
        return entities
    continuous: list[MessageEntity] = []
    quotes: list[MessageEntity] = []
    splittable: list[MessageEntity] = []
    for entity in entities:
        if _is_splittable(entity):
            splittable.append(entity)
        elif entity.type in _BLOCKQUOTES:
            quotes.append(entity)
        else:
            continuous.append(entity)  # pre and code too
    continuous = _remove_intersecting(continuous)
    if quotes:
        quotes = _remove_intersecting(quotes)
        continuous = _sorted(_outside_or_inside_quotes(continuous, quotes) + quotes)
    if not splittable:
        return continuous
    splittable = _split_entities(splittable, continuous)
    return _sorted(continuous + splittable) if continuous else splittable


def _are_entities_valid(entities: list[MessageEntity]) -> bool:
    """tdlib's ``are_entities_valid``: the fast path of ``fix_entities``."""
    last_end = [-1] * len(_SPLITTABLE_INDEX)
    stack: list[MessageEntity] = []
    for entity in entities:
        while stack and entity.offset >= _end(stack[-1]):
            stack.pop()
        if stack:
            parent = stack[-1]
            kinds = {_kind(e) for e in stack}
            if (
                _end(entity) > _end(parent)
                or _kind(entity) in kinds
                or parent.type in _CODE_LIKE
                or (entity.type in _CODE_LIKE and any(e.type not in _BLOCKQUOTES for e in stack))
                or (
                    (_is_continuous(entity) or entity.type in _BLOCKQUOTES)
                    and any(_is_continuous(e) for e in stack)
                )
                or (entity.type in _BLOCKQUOTES and any(e.type in _BLOCKQUOTES for e in stack))
                or any(_is_splittable(e) for e in stack)
            ):
                return False
        if _is_splittable(entity):
            index = _SPLITTABLE_INDEX[entity.type]
            if last_end[index] >= entity.offset:
                return False  # could be merged with the previous one
            last_end[index] = _end(entity)
        stack.append(entity)
    return True


def _remove_intersecting(entities: list[MessageEntity]) -> list[MessageEntity]:
    """Keep each entity that starts after the end of the last one kept."""
    kept: list[MessageEntity] = []
    last_end = 0
    for entity in entities:
        if entity.offset >= last_end:
            last_end = _end(entity)
            kept.append(entity)
    return kept


def _outside_or_inside_quotes(
    entities: list[MessageEntity], quotes: list[MessageEntity]
) -> list[MessageEntity]:
    """tdlib's ``remove_entities_intersecting_blockquote``."""
    kept: list[MessageEntity] = []
    index = 0
    for entity in entities:
        while index < len(quotes) and _end(quotes[index]) <= entity.offset:
            index += 1
        if index < len(quotes):
            quote = quotes[index]
            if _end(quote) < _end(entity) or entity.offset < quote.offset < _end(entity):
                continue
        kept.append(entity)
    return kept


def _split_entities(
    splittable: list[MessageEntity], others: list[MessageEntity]
) -> list[MessageEntity]:
    """tdlib's ``split_entities``: merge overlapping or adjacent entities of a
    type, cut them at the bounds of the others and drop their parts in pre/code."""
    begin = [0] * len(_SPLITTABLE_INDEX)
    end = [0] * len(_SPLITTABLE_INDEX)
    result: list[MessageEntity] = []
    position = 0

    def flush(offset: int) -> None:
        for index, kind in enumerate(_SPLITTABLE_INDEX):
            if end[index] != 0 and begin[index] < offset:
                if end[index] <= offset:
                    result.append(MessageEntity(kind, begin[index], end[index] - begin[index]))
                    begin[index] = end[index] = 0
                else:
                    result.append(MessageEntity(kind, begin[index], offset - begin[index]))
                    begin[index] = offset

    def add_entities(end_offset: int) -> None:
        nonlocal position
        while position < len(splittable) and splittable[position].offset < end_offset:
            entity = splittable[position]
            index = _SPLITTABLE_INDEX[entity.type]
            if entity.offset <= end[index] and end[index] != 0:
                end[index] = max(end[index], _end(entity))
            else:
                flush(entity.offset)
                begin[index] = entity.offset
                end[index] = _end(entity)
            position += 1
        flush(end_offset)

    stack: list[MessageEntity] = []

    def add_offset(offset: int) -> None:
        while stack and offset >= _end(stack[-1]):
            before = len(result)
            add_entities(_end(stack[-1]))
            if stack[-1].type in _CODE_LIKE:
                del result[before:]
            stack.pop()
        add_entities(offset)

    for other in others:
        add_offset(other.offset)
        stack.append(other)
    add_offset(2**31 - 1)
    return _sorted(result)


# --- cleaning (td/telegram/misc.cpp, MessageEntity.cpp) ---


def _clean(text: str) -> str:
    """tdlib's character rules of ``clean_input_string`` (no length cap)."""
    return _BIDI_MARK_RUN.sub("\u200c", text.translate(_CLEAN_TABLE))


def _clean_with_entities(
    text: str, entities: list[MessageEntity]
) -> tuple[str, list[MessageEntity]]:
    """tdlib's ``clean_input_string_with_entities``: clean, move entity bounds.

    Entities must be sorted and properly nested (`_fix_entities`).
    """
    # new_at[k]: where UTF-16 position k of the old text lands in the new one;
    # None inside a surrogate pair.
    new_at: list[int | None] = []
    byte_at: list[int] = []  # UTF-8 offset of each UTF-16 position, for errors
    position = 0
    size = 0
    for char in text:
        new_at.append(position)
        byte_at.append(size)
        if ord(char) > 0xFFFF:
            new_at.append(None)
            byte_at.append(size + 4)
        if char not in _DELETED:
            position += 2 if ord(char) > 0xFFFF else 1
        size += _utf8_width(char)
    new_at.append(position)
    byte_at.append(size)
    total = len(new_at) - 1
    moved: list[MessageEntity] = []
    for entity in entities:
        if entity.offset > total:
            raise ValueError(
                f"Entity begins after the end of the text at UTF-16 offset {entity.offset}"
            )
        start = new_at[entity.offset]
        if start is None:
            raise ValueError(
                "Entity begins in a middle of a UTF-16 symbol at byte offset "
                f"{byte_at[entity.offset]}"
            )
        if _end(entity) > total:
            raise ValueError(
                f"Entity beginning at UTF-16 offset {entity.offset} ends after the end "
                f"of the text at UTF-16 offset {_end(entity)}"
            )
        stop = new_at[_end(entity)]
        if stop is None:
            raise ValueError(
                f"Entity beginning at UTF-16 offset {entity.offset} ends in a middle of "
                f"a UTF-16 symbol at byte offset {byte_at[_end(entity)]}"
            )
        moved.append(_moved(entity, start, stop))
    return _clean(text), moved


def _cap_cleaned(text: str) -> str:
    """Apply ``clean_input_string``'s own cap: it stops before a character that
    would start at byte 34,996 or later of its output."""
    if len(text) * 4 < _SERVER_LIMIT_BYTES - 4:  # cannot reach the cap
        return text
    size = 0
    for index, char in enumerate(text):
        if size >= _SERVER_LIMIT_BYTES - 4:
            return text[:index]
        size += _utf8_width(char)
    return text


def _utf8_prefix(text: str, limit: int) -> str:
    """Return the longest prefix of whole characters within ``limit`` UTF-8 bytes."""
    size = 0
    for index, char in enumerate(text):
        size += _utf8_width(char)
        if size > limit:
            return text[:index]
    return text


def _utf8_width(char: str) -> int:
    code = ord(char)
    return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4


# ---- writing it: the one escaping rule of the formatters and the post templates ----


def escape(text: str) -> str:
    """Escape text for Telegram HTML: only `&`, `<`, `>` are special in text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(value: str) -> str:
    """Escape a double-quoted attribute value (an `href`)."""
    return escape(value).replace('"', "&quot;")


def link(url: str, text: str) -> str:
    return f'<a href="{escape_attribute(url)}">{escape(text)}</a>'
