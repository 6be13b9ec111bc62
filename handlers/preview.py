"""Preview cards of new issues, their buttons, the editor's edit, and the wake-up jobs.

On a new issue each editor chat gets the Telegram digest exactly as it will be sent,
the X thread as text, then a card with [Publish now] [Schedule as planned] [Edit]
[Skip]. The decision lives in the database (`data.previews`): a double press, or
two editors at once, decides once; every press is answered first, whatever happens.

[Edit] offers [Edit Telegram] [Edit X]; the editor's next text message in that chat
becomes that platform's digest, if it fits the platform (else they are told why and
the bot keeps waiting). A text with Telegram formatting (pasted from the preview) is
taken as the HTML of its entities; plain text is read as Telegram HTML.

Registration (`add_publication_handlers` does all of it):

- ``CallbackQueryHandler(preview_callback, pattern=CALLBACK_PATTERN)``
- ``MessageHandler(EDIT_FILTER, preview_edit_message)`` in group ``EDIT_GROUP``: a
  group of its own, before the default one, so the editor's text is consumed
  (``ApplicationHandlerStop``) only when an edit is pending and left alone otherwise;
- ``run_repeating(alarm_job, interval=publishing.alarm_check_seconds)``;
- at start, ``await rebuild_jobs(application, store)``.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    JobQueue,
    MessageHandler,
    filters,
)

from bot.alarm import check_alarms
from bot.config import Settings
from bot.ingest import FullTextReleased, IssueEvent, NewIssue
from bot.planning import TELEGRAM, X
from bot.publication import (
    DECISIONS,
    Publication,
    Queued,
    validate_digest_text,
)
from data.outbox import NewPost
from data.previews import Preview
from data.store import Store
from handlers.context import App, BotServices, Context, actor_of, services
from publishers.format_telegram import within
from publishers.limits import TELEGRAM_TEXT_MAX
from publishers.posts import TelegramPost, TelegramText, XPost
from publishers.telegram_html import parse_html

log = logging.getLogger(__name__)

CALLBACK_PATTERN = r"^pv:"
CALLBACK = re.compile(r"^pv:(now|plan|skip|edit|back|ed:telegram|ed:x):(\d+)$")
EDIT_GROUP = -2  # before the logging group (-1), whose catch-all would shadow it
EDIT_FILTER = filters.TEXT & ~filters.COMMAND
PLATFORM_NAMES = {TELEGRAM: "Telegram", X: "X"}
WAKE_PREFIX = "wake:"
_EDIT_SHOWN_MAX = 600  # visible characters of an edited text shown on the card

# ---- cards --------------------------------------------------------------------------


def decision_keyboard(preview_id: int) -> InlineKeyboardMarkup:
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


def edit_keyboard(preview: Preview) -> InlineKeyboardMarkup:
    platforms = [
        InlineKeyboardButton(
            f"Edit {PLATFORM_NAMES[target]}", callback_data=f"pv:ed:{target}:{preview.id}"
        )
        for target in (TELEGRAM, X)
        if target in preview.langs
    ]
    back = [InlineKeyboardButton("Back", callback_data=f"pv:back:{preview.id}")]
    return InlineKeyboardMarkup([platforms, back])


def _when(value: object, publication: Publication) -> str:
    if not isinstance(value, dt.datetime):
        return "now"
    return value.astimezone(publication.publishing.zone).strftime("%a %d %b %H:%M")


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
                f"{len(keys)} items, {publication.publishing.items_per_day} a day,"
                f" {_when(first, publication)} → {_when(last, publication)}"
            )
        summary = "; ".join(parts) or "nothing"
        lines.append(f"• {PLATFORM_NAMES.get(target, target)} ({lang}): {summary}")
    return lines


def _edited_block(preview: Preview) -> list[str]:
    blocks = []
    for target, text in preview.edited.items():
        by = html.escape(preview.edited_by.get(target, "an editor"))
        head = f"✏️ <b>{PLATFORM_NAMES.get(target, target)} digest</b>, edited by {by}:"
        shown = parse_html(text).text if target == TELEGRAM else text
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
    edits = _edited_block(preview)
    if edits:
        text += "\n\n" + "\n\n".join(edits)
    text += f"\n\nTimes in {zone}.\n{status}"
    if not within(text, TELEGRAM_TEXT_MAX):  # never expected: the edits are shortened
        text = f"{head}\n\n{status}"
    return text


def x_thread_messages(posts: Sequence[NewPost]) -> list[str]:
    """The X digest thread as plain text, packed into as few messages as fit."""
    texts = [
        XPost.from_payload(p.payload).text for p in posts if p.target == X and p.kind == "digest"
    ]
    if not texts:
        return []
    messages: list[str] = []
    current = f"𝕏 <b>X thread as it will be posted</b> ({len(texts)} post{'s' * (len(texts) > 1)}):"
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


async def _send(bot: Bot, chat_id: int, text: str, **kwargs: object) -> Message | None:
    try:
        return await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, **kwargs)  # type: ignore[arg-type]
    except Forbidden:  # an editor blocked the bot; the others still see the card
        log.warning("editor unreachable", extra={"chat_id": chat_id})
        return None


async def send_preview_cards(
    bot: Bot, publication: Publication, preview: Preview, chats: Iterable[int], *, now: dt.datetime
) -> list[tuple[int, int]]:
    """Show each editor chat the digests as they will look, then the card with buttons."""
    posts = await publication.schedule(publication.planned(preview), now=now, publish_now=False)
    telegram_digest = [p for p in posts if p.target == TELEGRAM and p.kind == "digest"]
    text = card_text(preview, posts, publication, status="Waiting for an editor.")
    cards: list[tuple[int, int]] = []
    for chat_id in chats:
        for post in telegram_digest:
            for part in TelegramPost.from_payload(post.payload).parts:
                if isinstance(part, TelegramText):
                    await _send(
                        bot,
                        chat_id,
                        part.html,
                        link_preview_options=LinkPreviewOptions(is_disabled=True),
                    )
        for message in x_thread_messages(posts):
            await _send(bot, chat_id, message)
        card = await _send(bot, chat_id, text, reply_markup=decision_keyboard(preview.id))
        if card is not None:
            cards.append((card.chat_id, card.message_id))
    await publication.previews.add_cards(preview.id, cards, now=now)
    return cards


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


# ---- events from the sources --------------------------------------------------------


async def publish_event(
    event: IssueEvent,
    *,
    bot: Bot,
    svc: BotServices,
    job_queue: JobQueue[Any] | None,
    now: dt.datetime | None = None,
) -> Queued:
    """React to one ingest event: preview cards, or rows queued and workers woken."""
    now = now or dt.datetime.now(dt.UTC)
    publication = Publication(svc.store, svc.settings)
    if isinstance(event, NewIssue):
        outcome = await publication.on_new_issue(event, now=now)
        if outcome.preview is not None and outcome.show_cards:
            await send_preview_cards(
                bot, publication, outcome.preview, svc.settings.telegram.review_chats(), now=now
            )
        queued = outcome.queued
    else:
        assert isinstance(event, FullTextReleased)
        queued = await publication.on_full_text_released(event, now=now)
    _after_enqueue(svc, job_queue, queued)
    return queued


def event_sink(
    bot: Bot, svc: BotServices, job_queue: JobQueue[Any] | None
) -> Callable[[Sequence[IssueEvent]], Awaitable[None]]:
    """What `bot.ingest` delivers its events to (an `EventSink`)."""

    async def deliver(events: Sequence[IssueEvent]) -> None:
        for event in events:
            await publish_event(event, bot=bot, svc=svc, job_queue=job_queue)

    return deliver


def _after_enqueue(svc: BotServices, job_queue: JobQueue[Any] | None, queued: Queued) -> None:
    if not queued.ids:
        return
    svc.delivery.wake()
    if job_queue is not None:
        schedule_wakeups(job_queue, queued.due)


# ---- buttons ------------------------------------------------------------------------

_DECIDED = {
    "published": "✅ Published now by {who}.",
    "scheduled": "🗓 Scheduled as planned by {who}.",
    "skipped": "⏭ Skipped by {who}: nothing was queued.",
}


async def preview_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    svc = services(context)
    if not svc.is_editor(query.from_user.id):
        await query.answer("Only editors can decide this.", show_alert=True)
        return
    match = CALLBACK.match(query.data)
    if match is None:
        await query.answer("Unknown button.")
        return
    action, preview_id = match.group(1), int(match.group(2))
    publication = Publication(svc.store, svc.settings)
    now = dt.datetime.now(dt.UTC)
    actor = actor_of(query.from_user)
    if action in DECISIONS:
        outcome = await publication.decide(
            preview_id,
            DECISIONS[action],
            actor=actor,
            now=now,
        )
        if outcome is None:
            await query.answer("Already decided.")
            return
        await query.answer(_DECIDED[outcome.preview.status].format(who="you"))
        _after_enqueue(svc, context.job_queue, outcome.queued)
        status = _DECIDED[outcome.preview.status].format(who=html.escape(actor))
        await refresh_cards(
            context.bot,
            publication,
            outcome.preview,
            status=status,
            markup=None,
            posts=outcome.posts or None,
            now=now,
        )
        return
    preview = await publication.previews.get(preview_id)
    if preview is None or preview.status != "pending":
        await query.answer("Already decided.")
        return
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    if action == "edit":
        await query.answer("Which platform's digest?")
        await query.edit_message_reply_markup(edit_keyboard(preview))
    elif action == "back":
        await publication.previews.cancel_edit(chat_id=chat_id, user_id=query.from_user.id)
        await query.answer("Kept as it is.")
        await query.edit_message_reply_markup(decision_keyboard(preview.id))
    else:
        target = action.removeprefix("ed:")
        if target not in preview.langs:
            await query.answer("This issue does not go to that platform.")
            return
        await publication.previews.start_edit(
            preview.id, target, chat_id=chat_id, user_id=query.from_user.id, now=now
        )
        name = PLATFORM_NAMES[target]
        await query.answer(f"Send the new {name} digest.")
        rule = (
            "Telegram HTML, at most 4096 characters"
            if target == TELEGRAM
            else "at most 280 weighted characters (links 23, CJK and emoji 2)"
        )
        await context.bot.send_message(
            chat_id,
            f"Send the new {name} digest of issue #{preview.issue_number} as your next message"
            f" ({rule}). Press Back on the card to keep the current one.",
            reply_markup=ForceReply(selective=True),
        )


def _source_text(message: Message) -> str:
    """Formatting from Telegram's editor arrives as entities: take them as HTML."""
    assert message.text is not None
    formatted = [e for e in message.entities if e.type != MessageEntity.BOT_COMMAND]
    return message.text_html if formatted else message.text


async def preview_edit_message(update: Update, context: Context) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.text is None:
        return
    svc = services(context)
    if not svc.is_editor(user.id):
        return
    publication = Publication(svc.store, svc.settings)
    edit = await publication.previews.pending_edit(chat_id=message.chat_id, user_id=user.id)
    if edit is None:
        return  # not waiting for this editor: other handlers may want the text
    target_name = PLATFORM_NAMES.get(edit.target, edit.target)
    text = _source_text(message) if edit.target == TELEGRAM else message.text
    problem = validate_digest_text(edit.target, text)
    if problem is not None:
        await message.reply_text(
            f"Not saved. {problem}\nSend a corrected {target_name} text,"
            " or press Back on the card to keep the current one."
        )
        raise ApplicationHandlerStop
    now = dt.datetime.now(dt.UTC)
    preview = await publication.previews.save_edit(edit, text, actor=actor_of(user), now=now)
    if preview is None:
        await message.reply_text("This preview was already decided; the text was not used.")
        raise ApplicationHandlerStop
    await message.reply_text(f"Saved: this is now the {target_name} digest of the card.")
    await refresh_cards(
        context.bot,
        publication,
        preview,
        status="Waiting for an editor.",
        markup=decision_keyboard(preview.id),
        now=now,
    )
    raise ApplicationHandlerStop


# ---- jobs ---------------------------------------------------------------------------


async def wake_job(context: Context) -> None:
    """A scheduled row is due: wake the delivery workers (the rows stay in the outbox)."""
    services(context).delivery.wake()


def schedule_wakeups(job_queue: JobQueue[Any], due: Iterable[float]) -> int:
    """One `run_once` wake-up per distinct due second; returns how many were added."""
    added = 0
    for ts in sorted(set(due)):
        name = f"{WAKE_PREFIX}{ts:.0f}"
        if job_queue.get_jobs_by_name(name):
            continue
        job_queue.run_once(wake_job, when=dt.datetime.fromtimestamp(ts, dt.UTC), name=name)
        added += 1
    return added


async def rebuild_jobs(application: App, store: Store, *, now: float | None = None) -> int:
    """Add a wake-up job for every future due time of queued rows; returns how many.

    Call once at start (after migrations, before or after `Application.start`): the
    outbox persists `next_attempt_at`, so a restart loses no scheduled post, and the
    jobs make the workers look at once when a row becomes due. Rows already due need
    no job: the workers take them on their first look.
    """
    if application.job_queue is None:
        return 0
    at = dt.datetime.now(dt.UTC).timestamp() if now is None else now
    due = [
        row.next_attempt_at
        for row in await store.outbox.list_by_state("queued", limit=100_000)
        if row.next_attempt_at > at
    ]
    return schedule_wakeups(application.job_queue, due)


async def alarm_job(context: Context) -> None:
    """Check the silence and failing-source alarms; tell the editors of any change."""
    svc = services(context)
    bot = context.bot

    async def notify(text: str) -> None:
        for chat_id in svc.settings.telegram.review_chats():
            await _send(bot, chat_id, text)

    await check_alarms(
        svc.store,
        svc.settings.publishing,
        notify=notify,
        now=dt.datetime.now(dt.UTC),
    )


def add_publication_handlers(application: App, settings: Settings) -> None:
    """Register the preview buttons, the edit reader and the periodic alarm check."""
    application.add_handler(CallbackQueryHandler(preview_callback, pattern=CALLBACK_PATTERN))
    application.add_handler(MessageHandler(EDIT_FILTER, preview_edit_message), group=EDIT_GROUP)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            alarm_job,
            interval=settings.publishing.alarm_check_seconds,
            first=60,
            name="alarms",
        )
