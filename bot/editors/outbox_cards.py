"""Editor cards for outbox rows that need a human, and the notices that send them.

A row needs an editor when the bot cannot know whether a post went out (`in_doubt`)
or the platform refused it for good (`failed`); the delivery workers call
`EditorNotices`, and `/outbox` (`handlers.outbox`) shows the same cards again.

Dropping one part of an ordered group (a photo before its text, a digest part,
an X thread part) asks first: send the rest without it, or drop the whole post,
so no later part is left waiting forever. Parts already stranded that way get
the same choice (`stranded_card`). Messages to one chat are spaced
(`CHAT_SPACING`): Telegram allows a burst of about three per chat per second.
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from collections.abc import Mapping, Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import Forbidden

from bot.platforms import PLATFORMS, Platforms
from data.outbox import OutboxRow, OutboxState, OutboxStore

log = logging.getLogger(__name__)

PREVIEW_MAX = 300
# Seconds between messages to one chat: Telegram allows a burst of 3 per second, and
# two a second leave room in it for the bot's other messages to that chat.
CHAT_SPACING = 0.5


def preview(row: OutboxRow, platforms: Platforms = PLATFORMS) -> str:
    """The post's visible text, shortened: enough for an editor to recognise it.

    Its target's platform reads it; an unknown target shows as unreadable."""
    try:
        text = platforms[row.target].visible_text(row.payload)
    except ValueError as exc:
        text = f"(unreadable payload: {exc})"
    return text if len(text) <= PREVIEW_MAX else text[: PREVIEW_MAX - 1] + "…"


def in_doubt_card(row: OutboxRow) -> tuple[str, InlineKeyboardMarkup]:
    text = (
        f"⚠️ <b>May have been posted</b> to {row.target} (outbox #{row.id}).\n"
        f"Reason: {html.escape(row.last_error or 'unknown')}\n\n"
        f"{html.escape(preview(row))}\n\n"
        "Check the channel, then choose."
    )
    buttons = [
        InlineKeyboardButton("Post again", callback_data=f"ob:again:{row.id}"),
        InlineKeyboardButton("Mark as sent", callback_data=f"ob:sent:{row.id}"),
    ]
    return text, InlineKeyboardMarkup([buttons])


def failed_card(row: OutboxRow) -> tuple[str, InlineKeyboardMarkup]:
    text = (
        f"❌ <b>Not posted</b> to {row.target} (outbox #{row.id}).\n"
        f"Reason: {html.escape(row.last_error or 'unknown')}\n\n"
        f"{html.escape(preview(row))}"
    )
    buttons = [
        InlineKeyboardButton("Try again", callback_data=f"ob:retry:{row.id}"),
        InlineKeyboardButton("Drop it", callback_data=f"ob:cancel:{row.id}"),
    ]
    return text, InlineKeyboardMarkup([buttons])


def drop_choice_buttons(row: OutboxRow) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Send the rest without it", callback_data=f"ob:skip:{row.id}")],
            [InlineKeyboardButton("Drop the whole post", callback_data=f"ob:dropall:{row.id}")],
        ]
    )


def stranded_card(row: OutboxRow, waiting: int) -> tuple[str, InlineKeyboardMarkup]:
    """A dropped part with later parts waiting behind it: they never go out alone."""
    text = (
        f"⏸ <b>Waiting behind a dropped part</b> on {row.target} (outbox #{row.id}).\n"
        f"This part was dropped; {waiting} later part(s) of the same post wait for it.\n\n"
        f"{html.escape(preview(row))}\n\n"
        "Send the rest without it, or drop the whole post?"
    )
    return text, drop_choice_buttons(row)


def posted_without_id_card(row: OutboxRow) -> str:
    return (
        f"ℹ️ <b>Posted, but its id was not found</b> on {row.target} (outbox #{row.id}).\n"
        "The platform refused a resend as a duplicate, so the post is there, but it is not "
        "among the account's recent posts. Later parts of its thread go out as posts of "
        "their own; check the account.\n\n"
        f"{html.escape(preview(row))}"
    )


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


class EditorNotices:
    """Sends the cards to the editor chat, or to each editor privately."""

    def __init__(self, bot: Bot, chat_ids: Sequence[int], outbox: OutboxStore) -> None:
        self._bot = bot
        self._chat_ids = tuple(chat_ids)
        self._outbox = outbox
        self._spacer = ChatSpacer()

    async def in_doubt(self, row: OutboxRow) -> None:
        await self._send(*in_doubt_card(row), outbox_id=row.id)

    async def failed(self, row: OutboxRow) -> None:
        await self._send(*failed_card(row), outbox_id=row.id)

    async def stranded(self, row: OutboxRow) -> None:
        waiting = len(await self._outbox.later_parts(row.id))
        await self._send(*stranded_card(row, waiting), outbox_id=row.id)

    async def posted_without_id(self, row: OutboxRow) -> None:
        await self._send(posted_without_id_card(row), None, outbox_id=row.id)

    async def _send(
        self, text: str, markup: InlineKeyboardMarkup | None, *, outbox_id: int
    ) -> None:
        if not self._chat_ids:
            log.warning("no editor chat configured for a card", extra={"outbox_id": outbox_id})
        for chat_id in self._chat_ids:
            await self._spacer.wait(chat_id)
            try:
                await self._bot.send_message(
                    chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
                )
            except Forbidden:  # the editor blocked the bot; the others still hear
                log.warning("editor unreachable", extra={"chat_id": chat_id})


def describe_counts(counts: Mapping[str, Mapping[OutboxState, int]]) -> str:
    """`telegram: 8 sent, 1 in_doubt; x: 10 sent` from `OutboxStore.counts()`."""
    return "; ".join(
        f"{target}: " + ", ".join(f"{n} {state}" for state, n in sorted(states.items()) if n)
        for target, states in sorted(counts.items())
    )
