"""The editor-review kit: who is an editor, what a button carries, how editors are told.

Every card kind (preview, outbox, failure, and the review and queue cards to come)
is built on these three, so each rule has one home:

- `is_editor`: the one check, against the settings' editor ids, made on every press
  of a privileged button and every privileged command;
- `CallbackCodec`: a button's data as ``prefix[:version]:action:id`` (``ob:sent:12``,
  ``pv:ed:telegram:5``, ``sub:1:ap:123``); decoding refuses anything malformed,
  unknown or over Telegram's 64 bytes with one `CallbackDataError`, never a crash;
- `EditorChats`: the one way to send to the editors, the editor chat or each editor
  privately, spaced per chat (`ChatSpacer`), an editor who blocked the bot skipped
  with one warning so the others still hear.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.config import TelegramSettings

log = logging.getLogger(__name__)

# ---- who is an editor ---------------------------------------------------------------


def is_editor(telegram: TelegramSettings, user_id: int | None) -> bool:
    """The one editor check: the user is among the settings' editor ids."""
    return user_id is not None and user_id in telegram.editor_ids


# ---- what a button carries ----------------------------------------------------------

CALLBACK_DATA_MAX = 64  # bytes of UTF-8, Bot API InlineKeyboardButton.callback_data
_PREFIX = re.compile(r"[a-z][a-z0-9]{0,7}")
_WORD = re.compile(r"[a-z][a-z0-9_]{0,31}")
_NUMBER = re.compile(r"0|[1-9][0-9]{0,18}")  # no sign, no leading zero: one spelling each


class CallbackDataError(ValueError):
    """A button's data that this bot did not make (or no longer understands)."""


@dataclass(frozen=True, slots=True)
class Callback:
    """One decoded button: ``action`` may have parts (``ed:telegram``); ``id`` is a row's
    or an issue's number, as the action says."""

    prefix: str
    action: str
    id: int
    version: int | None = None


class CallbackCodec:
    """Encodes and decodes one card kind's buttons: ``prefix[:version]:action:id``.

    ``actions`` (when given) is the closed set the handler understands; ``accepts``
    the versions still decoded (older cards stay in chats), ``version`` the one written.
    """

    def __init__(
        self,
        prefix: str,
        actions: Collection[str] | None = None,
        *,
        version: int | None = None,
        accepts: Collection[int | None] | None = None,
    ) -> None:
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"callback prefix {prefix!r}: 1-8 lowercase letters or digits")
        self.prefix = prefix
        self.version = version
        self.actions = None if actions is None else frozenset(actions)
        for action in self.actions or ():
            _check_action(action)
        self.accepts = frozenset(accepts) if accepts is not None else frozenset({version})

    @property
    def pattern(self) -> str:
        """The `CallbackQueryHandler` pattern that routes this kind's buttons here."""
        return rf"^{self.prefix}:"

    def encode(self, action: str, id: int) -> str:
        """The button's data; `CallbackDataError` if it could not be decoded back."""
        if self.actions is not None and action not in self.actions:
            raise CallbackDataError(f"{self.prefix}: unknown action {action!r}")
        _check_action(action)
        if id < 0:
            raise CallbackDataError(f"{self.prefix}: negative id {id}")
        head = self.prefix if self.version is None else f"{self.prefix}:{self.version}"
        data = f"{head}:{action}:{id}"
        if len(data.encode()) > CALLBACK_DATA_MAX:
            raise CallbackDataError(f"{self.prefix}: callback data over {CALLBACK_DATA_MAX} bytes")
        return data

    def button(self, label: str, action: str, id: int) -> InlineKeyboardButton:
        """An inline button carrying ``encode(action, id)``."""
        return InlineKeyboardButton(label, callback_data=self.encode(action, id))

    def decode(self, data: str | bytes | None) -> Callback:
        """The button behind ``data``; `CallbackDataError` (one line) for anything else."""
        if data is None:
            raise CallbackDataError("no callback data")
        if isinstance(data, bytes):
            if len(data) > CALLBACK_DATA_MAX:
                raise CallbackDataError(f"callback data over {CALLBACK_DATA_MAX} bytes")
            try:
                data = data.decode()
            except UnicodeDecodeError:
                raise CallbackDataError("callback data is not UTF-8") from None
        if len(data.encode(errors="replace")) > CALLBACK_DATA_MAX:
            raise CallbackDataError(f"callback data over {CALLBACK_DATA_MAX} bytes")
        parts = data.split(":")
        if len(parts) < 3 or parts[0] != self.prefix:
            raise CallbackDataError(f"not {self.prefix}:action:id data")
        version: int | None = None
        rest = parts[1:]
        if _NUMBER.fullmatch(rest[0]):
            version, rest = int(rest[0]), rest[1:]
        if version not in self.accepts:
            raise CallbackDataError(f"{self.prefix}: unknown version {version}")
        *words, number = rest
        if not words or not all(_WORD.fullmatch(w) for w in words):
            raise CallbackDataError(f"{self.prefix}: malformed action")
        if not _NUMBER.fullmatch(number):
            raise CallbackDataError(f"{self.prefix}: malformed id")
        action = ":".join(words)
        if self.actions is not None and action not in self.actions:
            raise CallbackDataError(f"{self.prefix}: unknown action {action!r}")
        return Callback(self.prefix, action, int(number), version)


def _check_action(action: str) -> None:
    if not action or not all(_WORD.fullmatch(w) for w in action.split(":")):
        raise CallbackDataError(f"malformed callback action {action!r}")


# ---- telling the editors ------------------------------------------------------------

# Seconds between messages to one chat: Telegram allows a burst of 3 per second, and
# two a second leave room in it for the bot's other messages to that chat.
CHAT_SPACING = 0.5


class ChatSpacer:
    """Keeps messages to one chat `CHAT_SPACING` apart (Telegram's per-chat burst)."""

    def __init__(self, spacing: float = CHAT_SPACING) -> None:
        self._spacing = spacing
        self._next: dict[int, float] = {}

    async def wait(self, chat_id: int) -> None:
        now = time.monotonic()
        at = max(now, self._next.get(chat_id, 0.0))
        self._next[chat_id] = at + self._spacing
        if at > now:
            await asyncio.sleep(at - now)


NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def edit_cards(
    bot: Bot,
    cards: Iterable[tuple[int, int]],
    card: str,
    markup: InlineKeyboardMarkup | None,
    *,
    what: str,
    link_preview: LinkPreviewOptions | None = None,
) -> None:
    """Re-render every copy of a card (a decision: `markup` None drops the buttons).

    The decision is already stored, so a copy that cannot be edited is logged, not
    raised: "not modified" is no change, an editor who blocked the bot one warning."""
    for chat_id, message_id in cards:
        try:
            await bot.edit_message_text(
                card,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=link_preview,
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                log.warning(f"{what} not refreshed", extra={"chat_id": chat_id, "error": str(exc)})
        except Forbidden:
            log.warning("editor unreachable", extra={"chat_id": chat_id})


class EditorChats:
    """Sends to the editors' chats: the editor chat, else each editor privately.

    One instance keeps one `ChatSpacer`, so every message it sends to a chat is
    spaced. An editor who blocked the bot (`Forbidden`) is skipped with one warning
    and the others still hear; other errors are the caller's, unless `best_effort`.
    """

    def __init__(
        self, bot: Bot, chat_ids: Iterable[int], *, spacer: ChatSpacer | None = None
    ) -> None:
        self.bot = bot
        self.chat_ids: tuple[int, ...] = tuple(chat_ids)
        self._spacer = spacer or ChatSpacer()

    @classmethod
    def of(
        cls, bot: Bot, telegram: TelegramSettings, *, spacer: ChatSpacer | None = None
    ) -> EditorChats:
        """The review chats the settings name (`TelegramSettings.review_chats`).

        Pass the run's one `spacer` (`BotServices.spacer`) when other senders may write
        to the same chats at once: each instance spaces only what it sends itself.
        """
        return cls(bot, telegram.review_chats(), spacer=spacer)

    async def send(
        self,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        *,
        html: bool = True,
        link_preview: LinkPreviewOptions | None = None,
        best_effort: bool = False,
        what: str = "a message",
    ) -> list[Message]:
        """Send ``text`` to every editor chat; the messages that arrived."""
        if not self.chat_ids:
            log.warning("no editor chat configured", extra={"what": what})
        sent = []
        for chat_id in self.chat_ids:
            message = await self.send_to(
                chat_id,
                text,
                markup,
                html=html,
                link_preview=link_preview,
                best_effort=best_effort,
            )
            if message is not None:
                sent.append(message)
        return sent

    async def send_to(
        self,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        *,
        html: bool = True,
        link_preview: LinkPreviewOptions | None = None,
        best_effort: bool = False,
    ) -> Message | None:
        """Send to one editor chat; None if that editor blocked the bot."""
        extra: dict[str, Any] = {}
        if html:
            extra["parse_mode"] = ParseMode.HTML
        if markup is not None:
            extra["reply_markup"] = markup
        if link_preview is not None:
            extra["link_preview_options"] = link_preview
        await self._spacer.wait(chat_id)
        try:
            return await self.bot.send_message(chat_id, text, **extra)
        except Forbidden:  # the editor blocked the bot; the others still hear
            log.warning("editor unreachable", extra={"chat_id": chat_id})
        except TelegramError:
            if not best_effort:
                raise
            log.warning("could not tell an editor chat", extra={"chat_id": chat_id})
        return None

    async def send_photo_to(self, chat_id: int, url: str, caption: str) -> Message | None:
        """A photo as it will be posted; skipped for an editor who blocked the bot, and
        for a photo Telegram cannot fetch (what follows it still goes out)."""
        await self._spacer.wait(chat_id)
        try:
            return await self.bot.send_photo(
                chat_id, url, caption=caption or None, parse_mode=ParseMode.HTML
            )
        except Forbidden:
            log.warning("editor unreachable", extra={"chat_id": chat_id})
        except BadRequest as exc:
            log.warning("digest photo not shown", extra={"chat_id": chat_id, "error": str(exc)})
        return None
