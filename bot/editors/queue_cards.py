"""The extra edition's cards: an editor's link as each target will post it, and `/queue`.

One more card kind on the kit: every button's data is `QUEUE_BUTTONS`
(``xq:1:<action>:<id>``, the extra item's id). The link card carries [Post now]
[Queue] [Edit] [Drop]; the `/queue` list carries, per item, ⬆ ⬇ (move), 🕒 (give a
time) and ✖ (cancel). Rendering is pure; `refresh_item_cards` is the Telegram call.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from telegram import Bot, InlineKeyboardMarkup

from bot.editors.kit import NO_PREVIEW, CallbackCodec, edit_cards
from bot.extra.queue import Shown
from bot.texts import TextKey, text
from data.extras import ExtraItem, InQueue

log = logging.getLogger(__name__)

# now post now, q queue, ed edit, dr drop (the card); up/dn move, at give a time,
# cx cancel (the /queue list).
QUEUE_ACTIONS: tuple[str, ...] = ("now", "q", "ed", "dr", "up", "dn", "at", "cx")
QUEUE_BUTTONS = CallbackCodec("xq", QUEUE_ACTIONS, version=1)
LISTED_MAX = 10  # items with buttons on one /queue message (Telegram's keyboard stays small)

STATE_TEXTS: dict[str, TextKey] = {
    "posted": "extra.state.posted",
    "queued": "extra.state.queued",
    "dropped": "extra.state.dropped",
    "cancelled": "extra.state.cancelled",
}


def format_at(at: float | None, zone: ZoneInfo) -> str:
    """A planned time in the channel's zone: "2026-12-08 09:30 Asia/Shanghai"."""
    if at is None:
        return "?"
    return dt.datetime.fromtimestamp(at, zone).strftime("%Y-%m-%d %H:%M ") + str(zone)


def item_text(item: ExtraItem, shown: Sequence[Shown], *, zone: ZoneInfo) -> str:
    """The card (Telegram HTML): the link, each target's post, and the decision."""
    e = html.escape
    lines = [
        text("extra.card.head", id=item.id),
        text("extra.card.url", url=e(item.canonical_url)),
        "",
    ]
    for post in shown:
        if post.html is None:
            lines.append(
                text("extra.card.cannot", platform=e(post.display), problem=e(post.problem or "?"))
            )
        else:
            lines.append(text("extra.card.post", platform=e(post.display), post=post.html))
        lines.append("")
    if item.state == "draft":
        lines.append(text("extra.card.waiting"))
    else:
        decision = text(STATE_TEXTS[item.state]) if item.state in STATE_TEXTS else item.state
        when = format_at(item.decided_at, zone)
        lines.append(
            e(text("extra.card.decided", decision=decision, who=item.decided_by or "?", when=when))
        )
    return "\n".join(lines)


def item_keyboard(item_id: int) -> InlineKeyboardMarkup:
    b = QUEUE_BUTTONS.button
    return InlineKeyboardMarkup(
        [
            [
                b(text("button.extra.now"), "now", item_id),
                b(text("button.extra.queue"), "q", item_id),
            ],
            [
                b(text("button.extra.edit"), "ed", item_id),
                b(text("button.extra.drop"), "dr", item_id),
            ],
        ]
    )


def _label(item: ExtraItem) -> str:
    return item.title or item.canonical_url


def queue_text(entries: Sequence[InQueue], *, zone: ZoneInfo, per_day: int) -> str:
    """The `/queue` list (Telegram HTML): positions, titles, planned times."""
    if not entries:
        return text("extra.queue.empty")
    e = html.escape
    lines = [text("extra.queue.head", count=len(entries), per_day=per_day, zone=str(zone))]
    for position, entry in enumerate(entries[:LISTED_MAX], start=1):
        item = entry.item
        source = text("extra.queue.from_reader") if item.source == "submission" else ""
        lines.append(
            text(
                "extra.queue.line_pinned" if item.pinned_at is not None else "extra.queue.line",
                position=position,
                title=e(_label(item)[:80]),
                url=e(item.canonical_url),
                when=format_at(entry.at, zone),
                source=source,
            )
        )
    if len(entries) > LISTED_MAX:
        lines.append(text("extra.queue.more", count=len(entries) - LISTED_MAX))
    return "\n".join(lines)


def queue_keyboard(entries: Sequence[InQueue]) -> InlineKeyboardMarkup | None:
    """Per listed item: its position, ⬆ ⬇ 🕒 ✖."""
    if not entries:
        return None
    b = QUEUE_BUTTONS.button
    rows = []
    for position, entry in enumerate(entries[:LISTED_MAX], start=1):
        item_id = entry.item.id
        rows.append(
            [
                b(text("button.queue.up", position=position), "up", item_id),
                b(text("button.queue.down", position=position), "dn", item_id),
                b(text("button.queue.at", position=position), "at", item_id),
                b(text("button.queue.cancel", position=position), "cx", item_id),
            ]
        )
    return InlineKeyboardMarkup(rows)


async def refresh_item_cards(
    bot: Bot, item: ExtraItem, card: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Re-render every copy of an item's card (a decision: `markup` None drops the buttons)."""
    await edit_cards(bot, item.cards, card, markup, what="extra card", link_preview=NO_PREVIEW)
