"""Reading Bot API parameters and building Bot API objects, for the fake Telegram."""

from __future__ import annotations

import time

from bot.fakes.telegram_model import JSON, BotAPIError, FakeChat, Photo, bad_request
from publishers.limits import TELEGRAM_CAPTION_MAX, TELEGRAM_TEXT_MAX
from publishers.telegram_html import (
    HTMLParseError,
    MessageEntity,
    ParsedHTML,
    is_empty_text,
    parse_html,
    trim_for_send,
)


def now() -> int:
    return int(time.time())


def too_many(retry_after: int) -> BotAPIError:
    return BotAPIError(
        429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
    )


def required_int(params: JSON, name: str) -> int:
    value = params.get(name)
    if value is None or value == "":
        raise bad_request(
            f"{name} is empty" if name != "message_id" else "message identifier is not specified"
        )
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


def formatted_text(params: JSON, text_key: str, entities_key: str) -> ParsedHTML:
    """Parse a text (or caption) per parse_mode and trim it as Telegram does on send."""
    raw = params.get(text_key)
    if raw is None:
        return ParsedHTML("")
    text = str(raw)
    mode = params.get("parse_mode")
    if mode in (None, ""):
        entities = params.get(entities_key)
        parsed = ParsedHTML(text, explicit_entities(entities))
    elif str(mode).lower() == "html":
        try:
            parsed = parse_html(text)
        except HTMLParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    else:
        raise bad_request(f"unsupported parse_mode {mode!r}: this fake implements HTML only")
    try:
        return trim_for_send(parsed)
    except ValueError as error:  # explicit entities that do not fit the text
        raise bad_request(f"can't parse entities: {error}") from None


def message_text(params: JSON) -> ParsedHTML:
    """The text of sendMessage/editMessageText, refused when empty or too long.

    Lengths are code points of the text as sent (tdlib checks ``utf8_length``
    after ``fix_formatted_text``); a text of invisible characters only is empty
    to tdlib too (``is_empty_string``).
    """
    if not params.get("text"):  # the Bot API refuses an empty parameter before parsing
        raise bad_request("message text is empty")
    parsed = formatted_text(params, "text", "entities")
    if not parsed.text or is_empty_text(parsed.text):
        raise bad_request("message text is empty")
    if len(parsed.text) > TELEGRAM_TEXT_MAX:
        raise bad_request("message is too long")
    return parsed


def caption_text(params: JSON, text_key: str, entities_key: str) -> ParsedHTML:
    """A caption as sent; it may be empty (tdlib passes ``allow_empty``)."""
    caption = formatted_text(params, text_key, entities_key)
    if len(caption.text) > TELEGRAM_CAPTION_MAX:
        raise bad_request("message caption is too long")
    return caption


def explicit_entities(value: object) -> tuple[MessageEntity, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise bad_request("can't parse entities JSON object")
    try:
        return tuple(
            MessageEntity(
                str(e["type"]),
                int(e["offset"]),
                int(e["length"]),
                e.get("url"),
                e.get("language"),
                e.get("custom_emoji_id"),
                None if e.get("unix_time") is None else int(e["unix_time"]),
                e.get("date_time_format"),
            )
            for e in value
        )
    except (KeyError, TypeError, ValueError):
        raise bad_request("can't parse entities JSON object") from None


def photo_sizes(photo: Photo) -> list[JSON]:
    unique = photo.file_id[-12:]
    return [
        {"file_id": photo.file_id + "s", "file_unique_id": unique + "s", "width": 90, "height": 60},
        {
            "file_id": photo.file_id,
            "file_unique_id": unique,
            "width": photo.width or 1280,
            "height": photo.height or 853,
            "file_size": photo.size or 120_000,
        },
    ]


def administrator_member(bot_user: JSON, chat: FakeChat) -> JSON:
    rights = dict.fromkeys(
        (
            "can_manage_chat",
            "can_delete_messages",
            "can_invite_users",
            "can_post_messages",
            "can_edit_messages",
        ),
        True,
    )
    rights.update(
        dict.fromkeys(
            (
                "can_be_edited",
                "is_anonymous",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_promote_members",
                "can_change_info",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
            ),
            False,
        )
    )
    return {"status": "administrator", "user": dict(bot_user), **rights}
