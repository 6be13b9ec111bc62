"""Did a doubtful channel post go out? Ask the channel itself, by message id.

A send that timed out, lost its connection after writing, or whose worker died
mid-call may or may not have reached the channel; resending blindly could post
twice, so by default the editors decide ([Post again] / [Mark as sent]). This
check settles most such rows without them:

- Message ids in a channel are sequential: every new message takes the next id
  and an id is never reused. The outbox knows the ids of the rows it recorded
  as sent; the highest one recorded before the doubtful attempt began (the
  *floor*) is older than anything that attempt can have made. So if the post
  went out, it holds an id above the floor.
- The Bot API cannot read a channel's history, but `forwardMessage` from the
  channel to a private log chat returns the full Message (text or caption,
  entities), where `copyMessage` would return only an id. Each candidate id
  above the floor is forwarded and its visible text compared with the row's
  text as Telegram stores it (`parse_html` then `trim_for_send` of the payload
  HTML). Ids the outbox knows belong to other rows are skipped; the copies are
  deleted from the log chat afterwards.
- Exactly one match proves the post went out, with that id ("sent"). The first
  "message to forward not found" above every known id is the channel's end:
  with no match before it and no hole below it, the post never went out
  ("not_sent"), and a resend is safe.
- Anything else is "unknown" and the card stays the fallback: no log chat,
  an unreadable payload, an API error, two identical texts (ambiguous), a
  missing id below a known one (a deleted message could have been ours), or
  the bound of `max_ids` candidates reached (someone posted a lot by hand).

A request Telegram received but has not processed yet could still land after
the check looked; `quiet_seconds` waits from the start of the doubtful attempt
before looking, which is far longer than the Bot API takes to act on a send.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from telegram import Bot, Message
from telegram.error import BadRequest, TelegramError

from publishers.base import KnownPosts, Settlement
from publishers.posts import TelegramPhoto, TelegramPost
from publishers.telegram_html import HTMLParseError, parse_html, trim_for_send

log = logging.getLogger(__name__)

_NOT_FOUND = "message to forward not found"


def expected_text(payload: Mapping[str, Any]) -> tuple[str, bool]:
    """The text (or caption) Telegram stores for this payload, and whether it is a photo.

    Raises:
        ValueError: the payload is not one readable Telegram message.
    """
    post = TelegramPost.from_payload(payload)
    if len(post.parts) != 1:
        raise ValueError(f"an outbox row holds one message, this one has {len(post.parts)}")
    part = post.parts[0]
    html = part.caption_html if isinstance(part, TelegramPhoto) else part.html
    try:
        return trim_for_send(parse_html(html)).text, isinstance(part, TelegramPhoto)
    except HTMLParseError as exc:
        raise ValueError(f"unparsable HTML: {exc}") from exc


def candidate_window(known: KnownPosts) -> tuple[int, frozenset[int]]:
    """The floor (last id surely older than the attempt) and the known ids above it."""
    ids = [(int(remote_id), at) for remote_id, at in known.sent if remote_id.isdigit()]
    floor = max((i for i, at in ids if at <= known.claimed_at), default=0)
    return floor, frozenset(i for i, _ in ids if i > floor)


class TelegramProbe:
    """Settles a doubtful channel post by forwarding candidate ids to a log chat."""

    def __init__(
        self,
        bot: Bot,
        channel_id: int | str,
        log_chat_id: int,
        *,
        max_ids: int = 20,
        quiet_seconds: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bot = bot
        self._channel_id = channel_id
        self._log_chat_id = log_chat_id
        self._max_ids = max_ids
        self._quiet = quiet_seconds
        self._clock = clock

    async def settle(self, payload: Mapping[str, Any], known: KnownPosts) -> Settlement:
        try:
            text, is_photo = expected_text(payload)
        except ValueError as exc:
            return Settlement("unknown", f"payload not comparable: {exc}")
        wait = known.claimed_at + self._quiet - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)
        copies: list[int] = []
        try:
            return await self._look(text, is_photo, known, copies)
        finally:
            await self._clean_up(copies)

    async def _look(
        self, text: str, is_photo: bool, known: KnownPosts, copies: list[int]
    ) -> Settlement:
        floor, others = candidate_window(known)
        last_known = max(others, default=floor)
        matches: list[int] = []
        holes: list[int] = []
        for message_id in range(floor + 1, floor + 1 + self._max_ids):
            if message_id in others:
                continue
            try:
                copy = await self._bot.forward_message(
                    self._log_chat_id,
                    self._channel_id,
                    message_id,
                    disable_notification=True,
                )
            except BadRequest as exc:
                if _NOT_FOUND not in exc.message.lower():
                    return Settlement("unknown", f"forwarding id {message_id}: {exc.message}")
                if message_id > last_known:
                    return self._verdict(matches, holes, end=message_id)
                holes.append(message_id)
                continue
            except TelegramError as exc:
                return Settlement("unknown", f"forwarding id {message_id}: {exc.message}")
            copies.append(copy.message_id)
            if _shows(copy, text, is_photo):
                matches.append(message_id)
        return Settlement("unknown", f"no end of the channel within {self._max_ids} ids")

    @staticmethod
    def _verdict(matches: list[int], holes: list[int], *, end: int) -> Settlement:
        if len(matches) == 1:
            return Settlement("sent", f"found as message {matches[0]}", str(matches[0]))
        if matches:
            return Settlement("unknown", f"the same text is in messages {matches}")
        if holes:
            return Settlement("unknown", f"messages {holes} are gone; one may have been it")
        return Settlement("not_sent", f"not in the channel, whose next id is {end}")

    async def _clean_up(self, copies: list[int]) -> None:
        """Delete the forwarded copies; a leftover in a private log chat harms no one."""
        for message_id in copies:
            try:
                await self._bot.delete_message(self._log_chat_id, message_id)
            except TelegramError as exc:
                log.warning(
                    "probe copy not deleted",
                    extra={"message_id": message_id, "error": exc.message},
                )


def _shows(message: Message, text: str, is_photo: bool) -> bool:
    if is_photo:
        return bool(message.photo) and (message.caption or "") == text
    return message.text == text
