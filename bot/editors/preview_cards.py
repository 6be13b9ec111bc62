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

from telegram import Bot, InlineKeyboardMarkup

from bot.editors.kit import NO_PREVIEW, CallbackCodec, EditorChats, edit_cards
from bot.platforms import Platform
from bot.texts import EDITOR_LANG, TextKey, text
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
# The cards' buttons; `handlers.preview` decodes them. "bf" carries an issue's number.
# The actions are open: `ed:<target>` names any registered platform, and
# `handlers.preview` refuses what it does not know ("Unknown button.").
PREVIEW_BUTTONS = CallbackCodec("pv")


def decision_keyboard(preview_id: int) -> InlineKeyboardMarkup:
    """The decision buttons; `handlers.preview` reads their `pv:` data back."""
    return InlineKeyboardMarkup(
        [
            [
                PREVIEW_BUTTONS.button(text("button.publish_now"), "now", preview_id),
                PREVIEW_BUTTONS.button(text("button.schedule"), "plan", preview_id),
            ],
            [
                PREVIEW_BUTTONS.button(text("button.edit"), "edit", preview_id),
                PREVIEW_BUTTONS.button(text("button.skip"), "skip", preview_id),
            ],
        ]
    )


# A decided card's last line; `handlers.preview` answers the press with the same words.
DECIDED: dict[str, TextKey] = {
    "published": "decided.published",
    "scheduled": "decided.scheduled",
    "skipped": "decided.skipped",
}


def card_status(preview: Preview) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card's last line and buttons: the decision buttons while it waits, else none."""
    if preview.status == "pending":
        return text("preview.waiting"), decision_keyboard(preview.id)
    who = html.escape(preview.decided_by or "an editor")
    return text(DECIDED[preview.status], who=who), None


def file_notice_text(notice: FileNotice) -> str:
    """One message per refused or suspicious file revision: what is wrong, what happens."""
    head = text("file.refused_head" if notice.refused else "file.warnings_head")
    then = text("file.refused_then" if notice.refused else "file.warnings_then")
    blob = text("file.blob", blob=notice.blob[:10]) if notice.blob else ""
    reasons = "\n".join(text("file.reason", reason=html.escape(r)) for r in notice.reasons[:10])
    more = len(notice.reasons) - 10
    if more > 0:
        reasons += text("file.more_reasons", count=more)
    return text(
        "file.notice",
        head=head,
        path=html.escape(notice.path),
        blob=blob,
        reasons=reasons,
        then=then,
    )


def backfill_text(event: BackfillAvailable) -> str:
    by_number: dict[int, list[str]] = {}
    for number, lang in event.entries:
        by_number.setdefault(number, []).append(lang)
    lines = [
        text("backfill.line", number=n, langs=", ".join(langs))
        for n, langs in sorted(by_number.items())
    ]
    return text("backfill.list", lines="\n".join(lines))


BACKFILL_BUTTONS_MAX = 20  # one row each; a longer batch is listed, and the CLI backfills


def backfill_keyboard(event: BackfillAvailable) -> InlineKeyboardMarkup:
    numbers = sorted({number for number, _ in event.entries})[:BACKFILL_BUTTONS_MAX]
    return InlineKeyboardMarkup(
        [[PREVIEW_BUTTONS.button(text("button.backfill", number=n), "bf", n)] for n in numbers]
    )


def edit_data(target: str, preview_id: int) -> str:
    """The [Edit <platform>] button's data, `pv:ed:<target>:<id>`; `handlers.preview`
    reads it back and looks the target up in the registry."""
    return PREVIEW_BUTTONS.encode(f"ed:{target}", preview_id)


def edit_keyboard(preview: Preview, publication: Publication) -> InlineKeyboardMarkup:
    """[Edit Telegram] [Edit X] for the platforms the issue goes to, and [Back]."""
    platforms = [
        PREVIEW_BUTTONS.button(
            text("button.edit_platform", platform=p.display), f"ed:{p.name}", preview.id
        )
        for p in publication.platforms
        if p.name in preview.langs
    ]
    back = [PREVIEW_BUTTONS.button(text("button.back", EDITOR_LANG), "back", preview.id)]
    return InlineKeyboardMarkup([platforms, back])


def _when(value: object, publication: Publication) -> str:
    if not isinstance(value, dt.datetime):
        return text("preview.now")
    return value.astimezone(publication.publishing.zone).strftime(text("preview.when_format"))


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
            parts.append(
                text(
                    "preview.digest",
                    edited=text("preview.edited") if target in preview.edited else "",
                    count=len(digest),
                    plural="s" * (len(digest) > 1),
                    when=_when(digest[0].not_before, publication),
                )
            )
        if items:
            first, last = items[0].not_before, items[-1].not_before
            parts.append(
                text(
                    "preview.items",
                    count=len(keys),
                    rate=_rate(len(keys), publication),
                    first=_when(first, publication),
                    last=_when(last, publication),
                )
            )
        summary = "; ".join(parts) or text("preview.nothing")
        platform = publication.platforms.display(target)
        lines.append(text("preview.target_line", platform=platform, lang=lang, summary=summary))
    for route in publication.routes:
        if route.target not in preview.langs:
            name = publication.platforms.display(route.target)
            reason = preview.refused.get(route.lang)
            if reason is not None:
                lines.append(
                    text("preview.target_refused", platform=name, lang=route.lang, reason=reason)
                )
                continue
            lines.append(text("preview.target_waiting", platform=name, lang=route.lang))
    return lines


def _edited_block(preview: Preview, publication: Publication) -> list[str]:
    blocks = []
    for target, edited in preview.edited.items():
        by = html.escape(preview.edited_by.get(target, text("who.an_editor")))
        name = publication.platforms.display(target)
        head = text("preview.edited_head", platform=name, who=by)
        platform = publication.platforms.get(target)
        shown = edited if platform is None else platform.shown_edit(edited)
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
    head = text("preview.head", number=preview.issue_number, id=preview.id)
    zone = html.escape(publication.publishing.timezone)
    lines = [head, *map(html.escape, schedule_lines(posts, preview, publication))]
    card = "\n".join(lines)
    edits = _edited_block(preview, publication)
    if edits:
        card += "\n\n" + "\n\n".join(edits)
    card += "\n\n" + text("preview.footer", zone=zone, status=status)
    if not within(card, TELEGRAM_TEXT_MAX):  # never expected: the edits are shortened
        card = f"{head}\n\n{status}"
    return card


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
    current = text(
        "preview.thread_head",
        badge=badge,
        platform=html.escape(platform.display),
        count=len(texts),
        plural="s" * (len(texts) > 1),
    )
    for post in texts:
        block = f"<blockquote>{html.escape(post)}</blockquote>"
        candidate = current + "\n\n" + block
        if within(candidate, TELEGRAM_TEXT_MAX):
            current = candidate
        else:
            messages.append(current)
            current = block
    messages.append(current)
    return messages


async def send_preview_cards(
    bot: Bot, publication: Publication, preview: Preview, chats: Iterable[int], *, now: dt.datetime
) -> list[tuple[int, int]]:
    """Show each editor chat the digests as they will look, then the card with buttons."""
    posts = await publication.schedule(publication.planned(preview), now=now, publish_now=False)
    card_html = card_text(preview, posts, publication, status=text("preview.waiting"))
    editors = EditorChats(bot, chats)
    cards: list[tuple[int, int]] = []
    for chat_id in editors.chat_ids:
        for platform in publication.platforms:
            await _show_digest(editors, chat_id, posts, platform)
        card = await editors.send_to(chat_id, card_html, decision_keyboard(preview.id))
        if card is not None:
            cards.append((card.chat_id, card.message_id))
    await publication.previews.add_cards(preview.id, cards, now=now)
    return cards


async def _show_digest(
    editors: EditorChats, chat_id: int, posts: Sequence[NewPost], platform: Platform
) -> None:
    """A digest in Telegram's own form is sent as the channel will show it; any other
    platform's is quoted as text (`quoted_digest_messages`)."""
    digest = [p for p in posts if p.target == platform.name and p.kind == "digest"]
    shown = [platform.read(p.payload) for p in digest]
    if not all(isinstance(post, TelegramPost) for post in shown):
        for message in quoted_digest_messages(posts, platform):
            await editors.send_to(chat_id, message)
        return
    for post in shown:
        assert isinstance(post, TelegramPost)
        for part in post.parts:
            if isinstance(part, TelegramPhoto):
                await editors.send_photo_to(chat_id, part.photo_url, part.caption_html)
            elif isinstance(part, TelegramText):
                await editors.send_to(chat_id, part.html, link_preview=NO_PREVIEW)


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
    card = card_text(preview, posts, publication, status=status)
    await edit_cards(bot, preview.cards, card, markup, what="preview card")


async def refresh_preview(
    bot: Bot, publication: Publication, preview: Preview, *, now: dt.datetime
) -> None:
    """Re-render every card of the preview as it stands (a language arrived or was
    refused after the cards went out): its status, its buttons, each target's line."""
    status, markup = card_status(preview)
    posts = await publication.card_posts(preview, now=now)
    await refresh_cards(
        bot, publication, preview, status=status, markup=markup, posts=posts, now=now
    )
