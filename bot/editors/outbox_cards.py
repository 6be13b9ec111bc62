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
from bot.platforms import PLATFORMS, Platforms
from bot.texts import text
from data.outbox import OutboxRow, OutboxState, OutboxStore

log = logging.getLogger(__name__)

PREVIEW_MAX = 300
# The cards' buttons; `handlers.outbox` decodes them.
OUTBOX_BUTTONS = CallbackCodec("ob", ("again", "sent", "retry", "cancel", "skip", "dropall"))


def preview(row: OutboxRow, platforms: Platforms = PLATFORMS) -> str:
    """The post's visible text, shortened: enough for an editor to recognise it.

    Its target's platform reads it; an unknown target shows as unreadable."""
    try:
        shown = platforms[row.target].visible_text(row.payload)
    except ValueError as exc:
        shown = text("card.unreadable", error=exc)
    return shown if len(shown) <= PREVIEW_MAX else shown[: PREVIEW_MAX - 1] + "…"


def _reason(row: OutboxRow) -> str:
    return html.escape(row.last_error or text("card.reason_unknown"))


def in_doubt_card(row: OutboxRow) -> tuple[str, InlineKeyboardMarkup]:
    buttons = [
        OUTBOX_BUTTONS.button(text("button.post_again"), "again", row.id),
        OUTBOX_BUTTONS.button(text("button.mark_sent"), "sent", row.id),
    ]
    card = text(
        "card.in_doubt",
        target=row.target,
        id=row.id,
        reason=_reason(row),
        preview=html.escape(preview(row)),
    )
    return card, InlineKeyboardMarkup([buttons])


def failed_card(row: OutboxRow) -> tuple[str, InlineKeyboardMarkup]:
    buttons = [
        OUTBOX_BUTTONS.button(text("button.try_again"), "retry", row.id),
        OUTBOX_BUTTONS.button(text("button.drop_it"), "cancel", row.id),
    ]
    card = text(
        "card.failed",
        target=row.target,
        id=row.id,
        reason=_reason(row),
        preview=html.escape(preview(row)),
    )
    return card, InlineKeyboardMarkup([buttons])


def drop_choice_buttons(row: OutboxRow) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [OUTBOX_BUTTONS.button(text("button.send_rest"), "skip", row.id)],
            [OUTBOX_BUTTONS.button(text("button.drop_whole"), "dropall", row.id)],
        ]
    )


def stranded_card(row: OutboxRow, waiting: int) -> tuple[str, InlineKeyboardMarkup]:
    """A dropped part with later parts waiting behind it: they never go out alone."""
    card = text(
        "card.stranded",
        target=row.target,
        id=row.id,
        waiting=waiting,
        preview=html.escape(preview(row)),
    )
    return card, drop_choice_buttons(row)


def posted_without_id_card(row: OutboxRow) -> str:
    return text(
        "card.posted_without_id", target=row.target, id=row.id, preview=html.escape(preview(row))
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

    async def _send(self, card: str, markup: InlineKeyboardMarkup | None) -> None:
        await self._chats.send(card, markup, what="an outbox card")


def describe_counts(counts: Mapping[str, Mapping[OutboxState, int]]) -> str:
    """`telegram: 8 sent, 1 in_doubt; x: 10 sent` from `OutboxStore.counts()`."""
    return "; ".join(
        f"{target}: " + ", ".join(f"{n} {state}" for state, n in sorted(states.items()) if n)
        for target, states in sorted(counts.items())
    )
