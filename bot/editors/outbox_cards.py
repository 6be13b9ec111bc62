"""Editor cards for outbox rows that need a human, and the notices that send them.

A row needs an editor when the bot cannot know whether a post went out (`in_doubt`)
or the platform refused it for good (`failed`); the delivery workers call
`EditorNotices`, and `/outbox` (`handlers.outbox`) shows the same cards again.

Dropping one part of an ordered group (a photo before its text, a digest part,
an X thread part) asks first: send the rest without it, or drop the whole post,
so no later part is left waiting forever. Parts already stranded that way get
the same choice (`stranded_card`). Messages to one chat are spaced
(`bot.editors.kit.CHAT_SPACING`): Telegram allows a burst of about three per chat per second.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence

from telegram import Bot, InlineKeyboardMarkup

from bot.editors.kit import CallbackCodec, EditorChats
from data.outbox import OutboxRow, OutboxState, OutboxStore
from publishers.posts import TelegramPost, TelegramText, XPost
from publishers.telegram_html import parse_html

log = logging.getLogger(__name__)

PREVIEW_MAX = 300
# The cards' buttons; `handlers.outbox` decodes them.
OUTBOX_BUTTONS = CallbackCodec("ob", ("again", "sent", "retry", "cancel", "skip", "dropall"))


def preview(row: OutboxRow) -> str:
    """The post's visible text, shortened: enough for an editor to recognise it."""
    try:
        if row.payload.get("platform") == "x":
            text = XPost.from_payload(row.payload).text
        else:
            part = TelegramPost.from_payload(row.payload).parts[0]
            if isinstance(part, TelegramText):
                text = parse_html(part.html).text
            else:
                text = parse_html(part.caption_html).text or part.photo_url
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
        OUTBOX_BUTTONS.button("Post again", "again", row.id),
        OUTBOX_BUTTONS.button("Mark as sent", "sent", row.id),
    ]
    return text, InlineKeyboardMarkup([buttons])


def failed_card(row: OutboxRow) -> tuple[str, InlineKeyboardMarkup]:
    text = (
        f"❌ <b>Not posted</b> to {row.target} (outbox #{row.id}).\n"
        f"Reason: {html.escape(row.last_error or 'unknown')}\n\n"
        f"{html.escape(preview(row))}"
    )
    buttons = [
        OUTBOX_BUTTONS.button("Try again", "retry", row.id),
        OUTBOX_BUTTONS.button("Drop it", "cancel", row.id),
    ]
    return text, InlineKeyboardMarkup([buttons])


def drop_choice_buttons(row: OutboxRow) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [OUTBOX_BUTTONS.button("Send the rest without it", "skip", row.id)],
            [OUTBOX_BUTTONS.button("Drop the whole post", "dropall", row.id)],
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


class EditorNotices:
    """Sends the cards to the editor chat, or to each editor privately (`EditorChats`)."""

    def __init__(self, bot: Bot, chat_ids: Sequence[int], outbox: OutboxStore) -> None:
        self._chats = EditorChats(bot, chat_ids)
        self._outbox = outbox

    async def in_doubt(self, row: OutboxRow) -> None:
        await self._send(*in_doubt_card(row))

    async def failed(self, row: OutboxRow) -> None:
        await self._send(*failed_card(row))

    async def stranded(self, row: OutboxRow) -> None:
        waiting = len(await self._outbox.later_parts(row.id))
        await self._send(*stranded_card(row, waiting))

    async def posted_without_id(self, row: OutboxRow) -> None:
        await self._send(posted_without_id_card(row), None)

    async def _send(self, text: str, markup: InlineKeyboardMarkup | None) -> None:
        await self._chats.send(text, markup, what="an outbox card")


def describe_counts(counts: Mapping[str, Mapping[OutboxState, int]]) -> str:
    """`telegram: 8 sent, 1 in_doubt; x: 10 sent` from `OutboxStore.counts()`."""
    return "; ".join(
        f"{target}: " + ", ".join(f"{n} {state}" for state, n in sorted(states.items()) if n)
        for target, states in sorted(counts.items())
    )
