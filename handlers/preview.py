"""The preview card's buttons and the editor's edit: parse the update, call the core, reply.

The cards themselves are drawn by `bot.editors.preview_cards` and first sent by
`bot.weekly.announce` when a new issue arrives. The decision lives in the database
(`data.previews`): a double press, or two editors at once, decides once. Every press is
answered, on every path: after the quick database decision, so the answer can say what
happened ("Already decided." or the outcome), and before any other Telegram call
(re-rendering the cards, a prompt).

[Edit] offers [Edit Telegram] [Edit X]; the editor's next text message in that chat
becomes that platform's digest, if it fits the platform (else they are told why and
the bot keeps waiting). A text with Telegram formatting (pasted from the preview) is
taken as the HTML of its entities; plain text is read as Telegram HTML; Markdown
`**bold**` and `[text](url)` are taken too (`publishers.format_telegram.editor_html`).
The Telegram text keeps the digest's photo (`bot.weekly.planning.edited_digest`).

Registration (`add_publication_handlers`, called by `bot.app.build_application`):

- ``CallbackQueryHandler(preview_callback, pattern=CALLBACK_PATTERN)``
- ``MessageHandler(EDIT_FILTER, preview_edit_message)`` in group ``EDIT_GROUP``: a
  group of its own, before the default one, so the editor's text is consumed
  (``ApplicationHandlerStop``) only when an edit is pending and left alone otherwise.
"""

from __future__ import annotations

import datetime as dt
import html
from types import MappingProxyType

from telegram import CallbackQuery, ForceReply, Message, MessageEntity, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot.domain.issue import LANGS, Issue, Lang
from bot.editors.preview_cards import (
    DECIDED,
    PREVIEW_BUTTONS,
    decision_keyboard,
    edit_keyboard,
    refresh_cards,
    send_preview_cards,
)
from bot.texts import EDITOR_LANG, text
from bot.weekly.announce import after_enqueue
from bot.weekly.ingest import NewIssue
from bot.weekly.publication import DECISIONS, Publication, validate_digest_text
from handlers.context import App, Context, actor_of, services
from handlers.presses import editor_press
from publishers.format_telegram import editor_html

__all__ = [
    "CALLBACK_PATTERN",
    "add_publication_handlers",
    "preview_callback",
    "preview_edit_message",
]

# The data of `bot.editors.preview_cards.decision_keyboard` and `edit_keyboard`.
CALLBACK_PATTERN = PREVIEW_BUTTONS.pattern
EDIT_GROUP = -2  # runs first; it stops the update only when an edit is pending
EDIT_FILTER = filters.TEXT & ~filters.COMMAND


# ---- buttons ------------------------------------------------------------------------


async def _backfill(
    query: CallbackQuery,
    context: Context,
    publication: Publication,
    number: int,
    *,
    now: dt.datetime,
) -> None:
    """[Backfill #N]: a preview of the stored issue, as if it had just arrived.

    The preview is made once per issue, so a second press (or a second editor) only
    shows the cards again if they never went out.
    """
    svc = services(context)
    found: dict[Lang, Issue] = {}
    for lang in LANGS:
        issue = await svc.store.issues.load(number, lang)
        if issue is not None:
            found[lang] = issue
    if not found:
        await query.answer(text("backfill.not_stored", number=number), show_alert=True)
        return
    first = next(iter(found.values()))
    event = NewIssue(number, first.date, MappingProxyType(found))
    outcome = await publication.on_new_issue(event, now=now)
    if outcome.preview is None:
        await query.answer(outcome.notice or text("backfill.nothing", number=number))
        return
    if not outcome.show_cards:
        await query.answer(
            text("backfill.has_preview", number=number, status=outcome.preview.status)
        )
        return
    await query.answer(text("backfill.coming", number=number))
    chats = svc.settings.telegram.review_chats()
    await send_preview_cards(context.bot, publication, outcome.preview, chats, now=now)
    after_enqueue(svc, context.job_queue, outcome.queued)


async def preview_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    svc = services(context)
    button = await editor_press(svc, query, PREVIEW_BUTTONS, refusal="editors_only.decide")
    if button is None:
        return
    action, preview_id = button.action, button.id
    publication = svc.publication
    now = dt.datetime.now(dt.UTC)
    actor = actor_of(query.from_user)
    target = action.removeprefix("ed:") if action.startswith("ed:") else None
    known = action in DECISIONS or action in ("edit", "back", "bf")
    if not known and (target is None or target not in publication.platforms):
        await query.answer(text("button.unknown", EDITOR_LANG))
        return
    if action == "bf":  # the number is an issue's here, from `backfill_keyboard`
        await _backfill(query, context, publication, preview_id, now=now)
        return
    if action in DECISIONS:
        outcome = await publication.decide(
            preview_id,
            DECISIONS[action],
            actor=actor,
            now=now,
        )
        if outcome is None:
            await query.answer(text("decided.already"))
            return
        decided = DECIDED[outcome.preview.status]
        await query.answer(text(decided, who=text("who.you")))
        after_enqueue(svc, context.job_queue, outcome.queued)
        status = text(decided, who=html.escape(actor))
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
        await query.answer(text("decided.already"))
        return
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    if action == "edit":
        await query.answer(text("edit.which"))
        await query.edit_message_reply_markup(edit_keyboard(preview, publication))
    elif action == "back":
        await publication.previews.cancel_edit(chat_id=chat_id, user_id=query.from_user.id)
        await query.answer(text("edit.kept"))
        await query.edit_message_reply_markup(decision_keyboard(preview.id))
    else:
        assert target is not None
        platform = publication.platforms[target]
        if target not in preview.langs:
            await query.answer(text("edit.not_this_platform"))
            return
        started = await publication.previews.start_edit(
            preview.id, target, chat_id=chat_id, user_id=query.from_user.id, now=now
        )
        if not started:  # decided since the read above
            await query.answer(text("decided.already"))
            return
        name = platform.display
        await query.answer(text("edit.send_new", platform=name))
        rule = platform.edit_rule
        await context.bot.send_message(
            chat_id,
            text("edit.prompt", platform=name, number=preview.issue_number, rule=rule),
            reply_markup=ForceReply(selective=True),
        )


def _source_text(message: Message) -> str:
    """Formatting from Telegram's editor arrives as entities: take them as HTML; then
    Markdown `**bold**` and `[text](url)` (how the editor's script writes) as well."""
    assert message.text is not None
    formatted = [e for e in message.entities if e.type != MessageEntity.BOT_COMMAND]
    return editor_html(message.text_html if formatted else message.text)


async def preview_edit_message(update: Update, context: Context) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.text is None:
        return
    svc = services(context)
    if not svc.is_editor(user.id):
        return
    publication = svc.publication
    edit = await publication.previews.pending_edit(chat_id=message.chat_id, user_id=user.id)
    if edit is None:
        return  # not waiting for this editor: other handlers may want the text
    platform = publication.platforms[edit.target]
    target_name = platform.display
    digest = _source_text(message) if platform.formatted_edit else message.text
    problem = validate_digest_text(edit.target, digest, publication.platforms)
    if problem is not None:
        await message.reply_text(text("edit.not_saved", problem=problem, platform=target_name))
        raise ApplicationHandlerStop
    now = dt.datetime.now(dt.UTC)
    preview = await publication.previews.save_edit(edit, digest, actor=actor_of(user), now=now)
    if preview is None:
        await message.reply_text(text("edit.too_late"))
        raise ApplicationHandlerStop
    await message.reply_text(text("edit.saved", platform=target_name))
    await refresh_cards(
        context.bot,
        publication,
        preview,
        status=text("preview.waiting"),
        markup=decision_keyboard(preview.id),
        now=now,
    )
    raise ApplicationHandlerStop


def add_publication_handlers(application: App) -> None:
    """Register the preview buttons and the edit reader."""
    application.add_handler(CallbackQueryHandler(preview_callback, pattern=CALLBACK_PATTERN))
    application.add_handler(MessageHandler(EDIT_FILTER, preview_edit_message), group=EDIT_GROUP)
