"""The Telegram channel publisher: one outbox row is one Bot API call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import httpx
from telegram import Bot, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from publishers.base import Receipt
from publishers.errors import MaybeSent, PublishError, Rejected, RetryLater
from publishers.posts import TelegramPart, TelegramPhoto, TelegramPost

# httpx errors raised before a single byte of the request left this machine.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def classify_telegram_error(exc: TelegramError) -> PublishError:
    """Sort a PTB exception into 'surely not sent' or 'may have been sent'.

    PTB raises `NetworkError` both when Telegram answered a 5xx with an API error
    body (no `__cause__`: the platform refused it) or with a page that is not JSON
    (its parse error is the `__cause__`: answered, so refused too) and when the
    connection broke (the httpx error is the `__cause__`: it may have been processed).
    """
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
        return RetryLater(f"Telegram flood limit: {exc.message}", retry_after=seconds)
    if isinstance(exc, BadRequest | Forbidden | InvalidToken | Conflict | ChatMigrated):
        return Rejected(f"Telegram refused the post: {exc.message}")
    cause = exc.__cause__
    if isinstance(cause, _NEVER_SENT):
        return RetryLater(f"Telegram unreachable: {exc.message}")
    if isinstance(exc, TimedOut):
        return MaybeSent(f"Telegram did not answer in time: {exc.message}")
    if isinstance(exc, NetworkError) and cause is None:
        return RetryLater(f"Telegram server error: {exc.message}")
    if isinstance(exc, NetworkError) and isinstance(cause, TelegramError):
        # An error page that is not an API answer (a 502 from the gateway): the
        # request was answered, so the post was not made.
        return RetryLater(f"Telegram server error: {exc.message.split('.', 1)[0]}")
    return MaybeSent(f"connection to Telegram lost: {exc.message}")


class TelegramPublisher:
    """Posts to the channel through PTB's `Bot`, which the application owns."""

    target = "telegram"
    resend_is_safe = False  # a resend would post twice; editors decide

    def __init__(self, bot: Bot, chat_id: int | str) -> None:
        self._bot = bot
        self._chat_id = chat_id

    async def publish(
        self,
        payload: Mapping[str, Any],
        *,
        reply_to: str | None = None,
        after_doubt: bool = False,
    ) -> Receipt:
        try:
            post = TelegramPost.from_payload(payload)
        except ValueError as exc:
            raise Rejected(f"unreadable outbox payload: {exc}") from exc
        if len(post.parts) != 1:
            raise Rejected(f"an outbox row holds one message, this one has {len(post.parts)}")
        try:
            message = await self._send(post.parts[0])
        except TelegramError as exc:
            raise classify_telegram_error(exc) from exc
        return Receipt(remote_id=str(message.message_id))

    async def _send(self, part: TelegramPart) -> Message:
        if isinstance(part, TelegramPhoto):
            return await self._bot.send_photo(
                self._chat_id,
                part.photo_url,
                caption=part.caption_html or None,
                parse_mode=ParseMode.HTML,
            )
        return await self._bot.send_message(
            self._chat_id,
            part.html,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=part.disable_preview),
        )
