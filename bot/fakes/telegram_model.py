"""Records and registry of the fake Telegram: what tests read and what chats exist.

Records are frozen snapshots; the fake keeps its own mutable state and hands
out a new snapshot whenever asked, so a test never sees a record change under it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from publishers.limits import TELEGRAM_CALLBACK_DATA_MAX_BYTES
from publishers.telegram_html import MessageEntity, utf16_length

ChatType = Literal["private", "group", "supergroup", "channel"]
JSON = dict[str, Any]


class BotAPIError(Exception):
    """A Bot API error answer: HTTP status, description, optional retry_after."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        """Return the JSON body Telegram sends with this error."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> BotAPIError:
    return BotAPIError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> BotAPIError:
    return BotAPIError(403, f"Forbidden: {reason}")


class ControlError(ValueError):
    """A control action that could not happen on Telegram (e.g. pressing a missing button)."""


@dataclass(slots=True)
class FakeUser:
    """A person who talks to the bot; ``blocked`` and ``started`` gate private sends."""

    id: int
    first_name: str
    username: str | None = None
    blocked: bool = False
    started: bool = True
    language_code: str | None = None  # the client's IETF tag as Telegram sends it ("zh-hans")

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass(slots=True)
class FakeChat:
    """A chat the fake knows; ``bot_is_admin`` gates channels, ``bot_is_member`` groups."""

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    bot_is_admin: bool = True
    bot_is_member: bool = True
    next_message_id: int = 1

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        if self.title is not None:
            data["title"] = self.title
        if self.username:
            data["username"] = self.username
        if self.first_name is not None:
            data["first_name"] = self.first_name
        return data

    def full_info(self) -> JSON:
        """Return a ChatFullInfo with the fields PTB 22 requires."""
        return {
            **self.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Photo:
    """Where a sent photo came from: ``url``, ``upload`` (a file part) or ``file_id``."""

    source: Literal["url", "upload", "file_id"]
    ref: str  # the URL, the uploaded file's name, or the file_id
    size: int = 0  # bytes, for uploads
    file_id: str = ""  # the file_id the fake assigned
    width: int = 0  # of an upload, read from its header
    height: int = 0
    content: bytes = field(default=b"", repr=False)  # an upload's bytes, as the chat shows


@dataclass(frozen=True, slots=True)
class Document:
    """A sent general file (sendDocument): where it came from and, for uploads, its bytes."""

    source: Literal["upload", "url", "file_id"]
    file_name: str
    content: bytes = b""  # the uploaded bytes (empty for a URL or a file_id)
    file_id: str = ""  # the file_id the fake assigned
    mime_type: str = "application/octet-stream"

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """What a chat shows for one message, after every edit; ``deleted`` once removed."""

    chat_id: int
    message_id: int
    method: str  # the method that created it (sendMessage, sendPhoto, …, or "user")
    date: int
    from_bot: bool
    text: str | None = None
    entities: tuple[MessageEntity, ...] = ()
    caption: str | None = None
    caption_entities: tuple[MessageEntity, ...] = ()
    photo: Photo | None = None
    document: Document | None = None
    reply_markup: JSON | None = None
    media_group_id: str | None = None
    user_id: int | None = None  # the sender, for messages users sent
    forward_origin: JSON | None = None  # set on copies made by forwardMessage
    edits: int = 0
    edit_date: int | None = None
    edit_methods: tuple[str, ...] = ()
    deleted: bool = False
    force_reply: bool = False  # sent with ForceReply (not echoed by Telegram, kept for tests)

    def callback_data(self) -> frozenset[str]:
        """Return the callback data of this message's inline keyboard."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return frozenset(
            button["callback_data"]
            for row in rows
            for button in row
            if isinstance(button, dict) and "callback_data" in button
        )


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One Bot API call as the fake answered it; ``status`` 0 means the connection dropped."""

    method: str
    chat_id: int | str | None
    at: float  # time.time()
    status: int
    description: str | None = None
    fault: str | None = None


@dataclass(frozen=True, slots=True)
class Violation:
    """A send made to a chat before the retry_after announced for it had expired."""

    chat_id: int
    method: str
    at: float
    early_by: float  # seconds left of the announced wait


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """An answerCallbackQuery the bot made."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(frozen=True, slots=True)
class PendingUpdate:
    update_id: int
    kind: str  # message, callback_query, channel_post, …
    payload: JSON = field(hash=False)

    def to_api(self) -> JSON:
        return {"update_id": self.update_id, self.kind: self.payload}


# tdlib's match_bot_commands: '/' not after a word char, '/', '<' or '>'.
_BOT_COMMAND = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")


def command_entities(text: str) -> tuple[MessageEntity, ...]:
    """Return the ``bot_command`` entities Telegram adds to a user's text."""
    return tuple(
        MessageEntity("bot_command", utf16_length(text[: m.start()]), utf16_length(m.group()))
        for m in _BOT_COMMAND.finditer(text)
    )


def inline_keyboard(markup: object) -> JSON | None:
    """Validate a reply_markup like Telegram and return what a message echoes.

    Only inline keyboards are echoed on messages; other keyboards are accepted
    and not echoed.
    """
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in rows:
        for button in row:
            _check_button(button)
    return {"inline_keyboard": rows}


_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def _check_button(button: object) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not any(key in button for key in _BUTTON_ACTIONS):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        # 1-64 bytes (core.telegram.org/bots/api#inlinekeyboardbutton)
        if not isinstance(data, str) or not (
            1 <= len(data.encode("utf-8")) <= TELEGRAM_CALLBACK_DATA_MAX_BYTES
        ):
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise bad_request("BUTTON_URL_INVALID")
