"""Private messages to readers (keyword alerts): one outbox row is one `sendMessage`
to the chat its payload names.

The target is `readers`, beside the channel's `telegram`: its own worker and pacer,
so a burst of alerts never delays the channel's posts (and a paused channel does not
hold the alerts). A reader who blocked the bot (403) or whose chat is gone is
`Unreachable`: the publisher tells `gone` (their follows are deleted) and the row
fails without troubling the editors (`bot.alerts.delivery.ReaderNotices`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from publishers.base import Receipt
from publishers.errors import Rejected
from publishers.telegram import classify_telegram_error

READERS_TARGET = "readers"
UNREACHABLE = "reader unreachable"  # how a pruned reader's failed row begins

# A chat that will never take a message again: Telegram's descriptions (Bot API).
_GONE = ("bot was blocked by the user", "user is deactivated", "chat not found")


class Unreachable(Rejected):
    """The reader blocked the bot or is gone: never retried."""


@dataclass(frozen=True, slots=True)
class ReaderMessage:
    """One HTML message to one reader's private chat."""

    chat_id: int
    html: str

    def to_payload(self) -> dict[str, Any]:
        return {"platform": READERS_TARGET, "chat_id": self.chat_id, "html": self.html}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ReaderMessage:
        if payload.get("platform") != READERS_TARGET:
            raise ValueError(f"not a reader message: {payload.get('platform')!r}")
        chat_id, html = payload.get("chat_id"), payload.get("html")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool) or chat_id <= 0:
            raise ValueError("a reader message needs a private chat id")
        if not isinstance(html, str) or not html:
            raise ValueError("a reader message needs its text")
        return cls(chat_id, html)


class ReaderPublisher:
    target = READERS_TARGET
    resend_is_safe = False  # a resend would say it twice

    def __init__(self, bot: Bot, *, gone: Callable[[int], Awaitable[object]]) -> None:
        self._bot = bot
        self._gone = gone

    async def publish(
        self, payload: Mapping[str, Any], *, reply_to: str | None = None, after_doubt: bool = False
    ) -> Receipt:
        try:
            message = ReaderMessage.from_payload(payload)
        except ValueError as exc:
            raise Rejected(f"unreadable outbox payload: {exc}") from exc
        try:
            sent = await self._bot.send_message(
                message.chat_id,
                message.html,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except (Forbidden, BadRequest) as exc:
            if any(reason in exc.message.lower() for reason in _GONE):
                await self._gone(message.chat_id)
                raise Unreachable(f"{UNREACHABLE}: {exc.message}") from exc
            raise classify_telegram_error(exc) from exc
        except TelegramError as exc:
            raise classify_telegram_error(exc) from exc
        return Receipt(remote_id=str(sent.message_id))
