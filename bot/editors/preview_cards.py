"""The preview card of a new issue, and the digests shown before it, as editors see them.

On a new issue each editor chat gets the Telegram digest exactly as it will be sent,
the X thread as text, then a card with [Publish now] [Schedule as planned] [Edit]
[Skip] and each target's schedule in the channel's time zone. The core sends the
first cards (`bot.weekly.announce`); the handlers (`handlers.preview`) re-render them after
an edit or a decision. An editor who blocked the bot is skipped, not an error.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Iterable, Sequence

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from bot.platforms import Platform
from bot.weekly.ingest import BackfillAvailable, FileNotice
from bot.weekly.planning import items_per_day
from bot.weekly.publication import Publication
from data.outbox import NewPost
from data.previews import Preview
from publishers.format_telegram import within
from publishers.limits import TELEGRAM_TEXT_MAX
from publishers.posts import TelegramPhoto, TelegramPost, TelegramText

log = logging.getLogger(__name__)

_EDIT_SHOWN_MAX = 600  # visible characters of an edited text shown on the card


def decision_keyboard(preview_id: int) -> InlineKeyboardMarkup:
    """The decision buttons; `handlers.preview` reads their `pv:` data back."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Publish now", callback_data=f"pv:now:{preview_id}"),
                InlineKeyboardButton("Schedule as planned", callback_data=f"pv:plan:{preview_id}"),
            ],
            [
                InlineKeyboardButton("Edit", callback_data=f"pv:edit:{preview_id}"),
                InlineKeyboardButton("Skip", callback_data=f"pv:skip:{preview_id}"),
            ],
        ]
    )


def file_notice_text(notice: FileNotice) -> str:
    """One message per refused or suspicious file revision: what is wrong, what happens."""
    head = "⛔ <b>File refused</b>" if notice.refused else "⚠️ <b>File parsed with warnings</b>"
    then = (
        "Nothing is stored or published from it; fix the file and push again."
        if notice.refused
        else "It is stored; check the preview before deciding."
    )
    blob = f" (blob {notice.blob[:10]})" if notice.blob else ""
    reasons = "\n".join(f"• {html.escape(r)}" for r in notice.reasons[:10])
    more = len(notice.reasons) - 10
    if more > 0:
        reasons += f"\n… and {more} more"
    return f"{head}: <code>{html.escape(notice.path)}</code>{blob}\n{reasons}\n{then}"


def backfill_text(event: BackfillAvailable) -> str:
    by_number: dict[int, list[str]] = {}
    for number, lang in event.entries:
        by_number.setdefault(number, []).append(lang)
    lines = [f"• #{n}: {', '.join(langs)}" for n, langs in sorted(by_number.items())]
    return (
        "🗄 <b>Files of old issues stored quietly</b> (not announced as new):\n"
        + "\n".join(lines)
        + "\n[Backfill] makes a preview of that issue with what is stored."
    )


BACKFILL_BUTTONS_MAX = 20  # one row each; a longer batch is listed, and the CLI backfills


def backfill_keyboard(event: BackfillAvailable) -> InlineKeyboardMarkup:
    numbers = sorted({number for number, _ in event.entries})[:BACKFILL_BUTTONS_MAX]
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"Backfill #{n}", callback_data=f"pv:bf:{n}")] for n in numbers]
    )


def edit_data(target: str, preview_id: int) -> str:
    """The [Edit <platform>] button's data, `pv:ed:<target>:<id>`; `handlers.preview`
    reads it back and looks the target up in the registry."""
    return f"pv:ed:{target}:{preview_id}"


def edit_keyboard(preview: Preview, publication: Publication) -> InlineKeyboardMarkup:
    """[Edit Telegram] [Edit X] for the platforms the issue goes to, and [Back]."""
    platforms = [
        InlineKeyboardButton(f"Edit {p.display}", callback_data=edit_data(p.name, preview.id))
        for p in publication.platforms
        if p.name in preview.langs
    ]
    back = [InlineKeyboardButton("Back", callback_data=f"pv:back:{preview.id}")]
    return InlineKeyboardMarkup([platforms, back])


def _when(value: object, publication: Publication) -> str:
    if not isinstance(value, dt.datetime):
        return "now"
    return value.astimezone(publication.publishing.zone).strftime("%a %d %b %H:%M")


def _rate(count: int, publication: Publication) -> int:
    publishing = publication.publishing
    return items_per_day(
        count,
        least=publishing.items_per_day,
        spread_days=publishing.spread_days,
        cap=publishing.max_items_per_day,
    )


def schedule_lines(
    posts: Sequence[NewPost], preview: Preview, publication: Publication
) -> list[str]:
    """One line per target: its digest and its items, with times in the channel's zone."""
    lines = []
    for target, lang in preview.langs.items():
        mine = [p for p in posts if p.target == target]
        digest = [p for p in mine if p.kind == "digest"]
        items = [p for p in mine if p.kind == "item"]
        keys = list(dict.fromkeys(p.group_key or p.idempotency_key for p in items))
        parts = []
        if digest:
            edited = " (edited)" if target in preview.edited else ""
            parts.append(
                f"digest{edited} in {len(digest)} post{'s' * (len(digest) > 1)}"
                f" at {_when(digest[0].not_before, publication)}"
            )
        if items:
            first, last = items[0].not_before, items[-1].not_before
            parts.append(
                f"{len(keys)} items, {_rate(len(keys), publication)} a day,"
                f" {_when(first, publication)} → {_when(last, publication)}"
            )
        summary = "; ".join(parts) or "nothing"
        lines.append(f"• {publication.platforms.display(target)} ({lang}): {summary}")
    for route in publication.routes:
        if route.target not in preview.langs:
            name = publication.platforms.display(route.target)
            reason = preview.refused.get(route.lang)
            if reason is not None:
                lines.append(
                    f"• {name} ({route.lang}): the {route.lang} file was refused: {reason};"
                    " a fixed file follows this decision"
                )
                continue
            lines.append(
                f"• {name} ({route.lang}): waiting for the {route.lang} file;"
                " it follows this decision when it lands"
            )
    return lines


def _edited_block(preview: Preview, publication: Publication) -> list[str]:
    blocks = []
    for target, text in preview.edited.items():
        by = html.escape(preview.edited_by.get(target, "an editor"))
        head = f"✏️ <b>{publication.platforms.display(target)} digest</b>, edited by {by}:"
        platform = publication.platforms.get(target)
        shown = text if platform is None else platform.shown_edit(text)
        if len(shown) > _EDIT_SHOWN_MAX:
            shown = shown[: _EDIT_SHOWN_MAX - 1] + "…"
        blocks.append(f"{head}\n<blockquote>{html.escape(shown)}</blockquote>")
    return blocks


def card_text(
    preview: Preview,
    posts: Sequence[NewPost],
    publication: Publication,
    *,
    status: str,
) -> str:
    head = f"📰 <b>New issue #{preview.issue_number}</b> (preview {preview.id})"
    zone = html.escape(publication.publishing.timezone)
    lines = [head, *map(html.escape, schedule_lines(posts, preview, publication))]
    text = "\n".join(lines)
    edits = _edited_block(preview, publication)
    if edits:
        text += "\n\n" + "\n\n".join(edits)
    text += f"\n\nTimes in {zone}.\n{status}"
    if not within(text, TELEGRAM_TEXT_MAX):  # never expected: the edits are shortened
        text = f"{head}\n\n{status}"
    return text


def quoted_digest_messages(posts: Sequence[NewPost], platform: Platform) -> list[str]:
    """A platform's digest (the X thread) as plain text, packed into as few messages as fit."""
    texts = [
        platform.visible_text(p.payload)
        for p in posts
        if p.target == platform.name and p.kind == "digest"
    ]
    if not texts:
        return []
    messages: list[str] = []
    badge = f"{platform.badge} " if platform.badge else ""
    current = (
        f"{badge}<b>{html.escape(platform.display)} thread as it will be posted</b>"
        f" ({len(texts)} post{'s' * (len(texts) > 1)}):"
    )
    for text in texts:
        block = f"<blockquote>{html.escape(text)}</blockquote>"
        candidate = current + "\n\n" + block
        if within(candidate, TELEGRAM_TEXT_MAX):
            current = candidate
        else:
            messages.append(current)
            current = block
    messages.append(current)
    return messages


async def send_html(bot: Bot, chat_id: int, text: str, **kwargs: object) -> Message | None:
    """Send to one editor chat; None if that editor blocked the bot."""
    try:
        return await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, **kwargs)  # type: ignore[arg-type]
    except Forbidden:  # an editor blocked the bot; the others still see the card
        log.warning("editor unreachable", extra={"chat_id": chat_id})
        return None


async def send_photo(bot: Bot, chat_id: int, url: str, caption: str) -> None:
    """The channel digest's photo as it will be sent; skipped for an editor who blocked
    the bot, and for a photo Telegram cannot fetch (the card still goes out)."""
    try:
        await bot.send_photo(chat_id, url, caption=caption or None, parse_mode=ParseMode.HTML)
    except Forbidden:
        log.warning("editor unreachable", extra={"chat_id": chat_id})
    except BadRequest as exc:
        log.warning("digest photo not shown", extra={"chat_id": chat_id, "error": str(exc)})


async def send_preview_cards(
    bot: Bot, publication: Publication, preview: Preview, chats: Iterable[int], *, now: dt.datetime
) -> list[tuple[int, int]]:
    """Show each editor chat the digests as they will look, then the card with buttons."""
    posts = await publication.schedule(publication.planned(preview), now=now, publish_now=False)
    text = card_text(preview, posts, publication, status="Waiting for an editor.")
    cards: list[tuple[int, int]] = []
    for chat_id in chats:
        for platform in publication.platforms:
            await _show_digest(bot, chat_id, posts, platform)
        card = await send_html(bot, chat_id, text, reply_markup=decision_keyboard(preview.id))
        if card is not None:
            cards.append((card.chat_id, card.message_id))
    await publication.previews.add_cards(preview.id, cards, now=now)
    return cards


async def _show_digest(
    bot: Bot, chat_id: int, posts: Sequence[NewPost], platform: Platform
) -> None:
    """A digest in Telegram's own form is sent as the channel will show it; any other
    platform's is quoted as text (`quoted_digest_messages`)."""
    digest = [p for p in posts if p.target == platform.name and p.kind == "digest"]
    shown = [platform.read(p.payload) for p in digest]
    if not all(isinstance(post, TelegramPost) for post in shown):
        for message in quoted_digest_messages(posts, platform):
            await send_html(bot, chat_id, message)
        return
    for post in shown:
        assert isinstance(post, TelegramPost)
        for part in post.parts:
            if isinstance(part, TelegramPhoto):
                await send_photo(bot, chat_id, part.photo_url, part.caption_html)
            elif isinstance(part, TelegramText):
                await send_html(
                    bot,
                    chat_id,
                    part.html,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )


async def refresh_cards(
    bot: Bot,
    publication: Publication,
    preview: Preview,
    *,
    status: str,
    markup: InlineKeyboardMarkup | None,
    posts: Sequence[NewPost] | None = None,
    now: dt.datetime,
) -> None:
    """Re-render every card of the preview (after an edit or a decision)."""
    if posts is None:
        posts = await publication.schedule(publication.planned(preview), now=now, publish_now=False)
    text = card_text(preview, posts, publication, status=status)
    for chat_id, message_id in preview.cards:
        try:
            await bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
        except Forbidden:
            log.warning("editor unreachable", extra={"chat_id": chat_id})
