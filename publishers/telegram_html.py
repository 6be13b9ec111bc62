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
- tags around nothing produce no entity; nothing survives inside ``pre`` or
  ``code`` and a blockquote inside a blockquote is dropped, as tdlib's entity
  fixing does.

Offsets and lengths of entities are in UTF-16 code units, like the Bot API's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "HTMLParseError",
    "MessageEntity",
    "ParsedHTML",
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
    "text_link": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
_BLOCKQUOTES = frozenset({"blockquote", "expandable_blockquote"})
_CODE_LIKE = frozenset({"pre", "code"})
_NAMED_ENTITIES = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
# tdlib's is_space; the NUL stands for the end of the C string it reads.
_SPACE_BYTES = frozenset(b" \t\r\n\v\0")
# Whitespace Telegram trims around a message (tdlib's is_space, minus NUL).
_TRIMMED = " \t\n\v\f"
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

    def to_api(self) -> dict[str, object]:
        """Return the Bot API JSON object (what PTB de-jsons)."""
        data: dict[str, object] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.url is not None:
            data["url"] = self.url
        if self.language is not None:
            data["language"] = self.language
        if self.custom_emoji_id is not None:
            data["custom_emoji_id"] = self.custom_emoji_id
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


def parse_html(html: str) -> ParsedHTML:
    """Parse Telegram HTML into visible text and Bot API entities.

    Raises:
        HTMLParseError: where Telegram answers 400 ``can't parse entities``.
    """
    try:
        data = html.encode("utf-8") + b"\0"
    except UnicodeEncodeError:
        raise _error("Text must be encoded in UTF-8") from None
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
    return ParsedHTML(out.decode("utf-8"), _fix_nesting(_sorted(entities)))


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
    if name == "span" and argument != "spoiler":
        raise _error(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
    open_tags.append(_OpenTag(name, argument, utf16_offset, out_pos))
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


def _sorted(entities: list[MessageEntity]) -> list[MessageEntity]:
    return sorted(entities, key=lambda e: (e.offset, -e.length, _TYPE_PRIORITY[e.type]))


def _fix_nesting(entities: list[MessageEntity]) -> tuple[MessageEntity, ...]:
    """Drop what tdlib drops: anything inside pre/code, a blockquote in a blockquote."""
    kept: list[MessageEntity] = []
    code_end = -1
    quote_end = -1
    for entity in entities:  # sorted: an enclosing entity comes before what it encloses
        end = entity.offset + entity.length
        if entity.offset < code_end:
            continue
        if entity.type in _BLOCKQUOTES:
            if entity.offset < quote_end:
                continue
            quote_end = end
        if entity.type in _CODE_LIKE:
            code_end = end
        kept.append(entity)
    return tuple(kept)


def visible_text(text: str) -> str:
    """Return the parsed text as Telegram stores it: ``\\r`` removed, trimmed."""
    return text.replace("\r", "").strip(_TRIMMED)


def trim_for_send(parsed: ParsedHTML) -> ParsedHTML:
    """Apply ``visible_text`` to a parsed text and move its entities with it.

    Entities that end up empty are dropped; those reaching into the trimmed
    ends are clipped, as Telegram returns them.
    """
    text = parsed.text
    # new_at[k] = position in the new text of UTF-16 position k of the old one
    new_at: list[int] = []
    kept: list[str] = []
    new_pos = 0
    for char in text:
        units = 2 if ord(char) > 0xFFFF else 1
        new_at.extend([new_pos] * units)
        if char != "\r":
            kept.append(char)
            new_pos += units
    new_at.append(new_pos)
    without_cr = "".join(kept)
    stripped = without_cr.lstrip(_TRIMMED)
    lead = utf16_length(without_cr) - utf16_length(stripped)
    result = stripped.rstrip(_TRIMMED)
    total = utf16_length(result)
    entities = []
    for entity in parsed.entities:
        start = min(max(new_at[entity.offset] - lead, 0), total)
        end = min(max(new_at[entity.offset + entity.length] - lead, 0), total)
        if end > start:
            entities.append(
                MessageEntity(
                    entity.type,
                    start,
                    end - start,
                    entity.url,
                    entity.language,
                    entity.custom_emoji_id,
                )
            )
    return ParsedHTML(result, tuple(entities))
