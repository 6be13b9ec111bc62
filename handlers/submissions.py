"""Readers' `/submit` and the review card's buttons: parse the update, call the core, reply.

The intake, the rules and the compare-and-set decisions are `bot.submissions.intake`
and `data.submissions`; the card is drawn by `bot.editors.review_cards`. Here:

- `/submit <url> [note]` in private answers at once with the outcome; `/submit` alone
  (or the `t.me/<bot>?start=submit` deep link) asks for the link with ForceReply and
  takes the next text as it; `/cancel` ends any waiting. In a group the bot points to
  the private chat with a deep-link button.
- After an accepted link, the page preview is fetched (best effort) and the review
  card goes to the editors (`EditorChats`).
- The receipt ("Received, #id") carries the reader's own buttons (`rd:1:`, see
  `bot.submissions.reader_buttons`): for whom, solves, level, credit. Each press is
  checked against the submission's submitter, and works only while it is pending; a
  change re-renders the editors' cards.
- Every press of a review button is checked against the editor list first: anyone
  else, or data this bot did not make, is answered "not allowed", logged and audited,
  and nothing else happens. Every query is answered on every path.
- The submitter hears a rejection or a draft-only approval at once, a publication once
  its channel post is `sent` (`tell_untold`, run after each delivered submission row
  and at start).

What the bot waits for (a link after a bare `/submit`, a reader's field, an editor's
edit text or "other" reason, an edit proposed but not saved) is kept in PTB's `chat_data`, per user,
not in the database: it is a conversation, not a decision, and a restart losing a
prompt only means the user sends `/submit` or presses the button again (the row and
its decisions are in the database and are never lost).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from telegram import (
    Bot,
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.delivery.jobs import schedule_wakeups
from bot.domain.urls import EXAMPLE_URL
from bot.editors.kit import NO_PREVIEW
from bot.editors.review_cards import (
    REVIEW_BUTTONS,
    decision_keyboard,
    decision_name,
    edit_preview_text,
    format_when,
    platform_keyboard,
    reason_keyboard,
    reason_text,
    refresh_review_cards,
    save_keyboard,
    send_review_card,
)
from bot.platforms import TELEGRAM
from bot.submissions.intake import RejectReason, Submitter, edit_problem, post_texts
from bot.submissions.reader_buttons import (
    LEGACY_CREDIT,
    READER_BUTTONS,
    TEXT_FIELDS,
    level_keyboard,
    level_label,
    reader_keyboard,
)
from bot.submissions.rules import (
    FIELD_MAX,
    Accepted,
    BannedUser,
    Disabled,
    Duplicate,
    Outcome,
    OverLimit,
    Refused,
)
from bot.texts import EDITOR_LANG, ChatLang, TextKey, text
from data.outbox import OutboxRow
from data.submissions import (
    SUBMISSION_KIND,
    CreditChoice,
    Decided,
    Edit,
    Submission,
    submission_key,
)
from handlers.context import App, BotServices, Context, actor_of, services
from handlers.extra import queued_answer
from handlers.lang import reader_lang, stored_lang
from handlers.presses import editor_press, reader_press
from handlers.turns import Turn
from publishers.format_common import NotPostable
from publishers.limits import X_MAX_WEIGHTED

log = logging.getLogger(__name__)

TEXT_GROUP = 1  # after the preview's edit reader (-2) and the commands (0)
_WAITING = "weeklybot.submissions.waiting"  # chat_data: {user id: Waiting}
_PROPOSED = "weeklybot.submissions.proposed"  # chat_data: {(user id, id): Proposed}
DEEP_LINK_ARG = "submit"

OVER_LIMIT_TEXTS: dict[str, TextKey] = {
    "cooldown": "submit.over.cooldown",
    "daily_cap": "submit.over.daily_cap",
}
OVER_PENDING_TEXTS: dict[str, TextKey] = {
    "pending_per_user": "submit.over.pending_per_user",
    "pending_total": "submit.over.pending_total",
}
# Why a link or note was refused, per rule, for a reader not reading English.
REFUSED_TEXTS: dict[str, TextKey] = {
    "empty": "refused.empty",
    "syntax": "refused.syntax",
    "scheme": "refused.scheme",
    "length": "refused.length",
    "host": "refused.host",
    "note": "refused.note",
}
# "Already <verb> by … at …", per decided state (see `decision_name` for the card's).
ALREADY_VERBS: dict[str, TextKey] = {
    "approved": "verb.approved",
    "draft": "verb.draft",
    "published": "verb.published",
    "rejected": "verb.rejected",
    "banned": "verb.banned",
    "withdrawn": "verb.withdrawn",
    "expired": "verb.expired",
}


@dataclass(frozen=True, slots=True)
class Waiting:
    """What the bot takes the user's next text in this chat as."""

    kind: Literal["link", "field", "edit", "reason"]
    submission_id: int = 0
    target: str = ""  # a platform (edit), or a `Fields` attribute (field)
    message_id: int = 0  # field: the receipt whose buttons show the value


@dataclass(frozen=True, slots=True)
class Proposed:
    """An edit shown with [Save] [Cancel], not saved yet."""

    target: str
    title: str | None
    comment: str | None


def _chat_state(context: Context, key: str) -> dict[Any, Any]:
    data = context.chat_data
    if data is None:  # no chat in the update: nothing to wait for
        return {}
    found = data.setdefault(key, {})
    assert isinstance(found, dict)
    return found


def _wait(context: Context, user_id: int, waiting: Waiting) -> None:
    _chat_state(context, _WAITING)[user_id] = waiting


def _stop_waiting(context: Context, user_id: int) -> Waiting | None:
    found = _chat_state(context, _WAITING).pop(user_id, None)
    return found if isinstance(found, Waiting) else None


# ---- the reader's side -------------------------------------------------------------------


def _when(at: float | None, lang: ChatLang) -> str:
    if at is None:
        return "?"
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime(text("submit.time_format", lang))


def outcome_text(outcome: Outcome, lang: ChatLang) -> str:
    """The reply to a `/submit`, worded from the catalogue in the reader's language."""
    match outcome:
        case Accepted(submission_id=sid):
            return text("submit.accepted", lang, id=sid)
        case Duplicate() if outcome.featured:
            date = outcome.issue_date.isoformat() if outcome.issue_date else "?"
            url = outcome.issue_url or outcome.item_url
            if url:
                return text(
                    "submit.featured", lang, number=outcome.issue_number, date=date, url=url
                )
            return text("submit.featured_no_link", lang, number=outcome.issue_number, date=date)
        case Duplicate(submission_id=sid, state=state):
            if state == "pending":
                return text("submit.waiting", lang, id=sid)
            return text("submit.taken", lang, id=sid)
        case Refused(rule=rule, message=message, example=example):
            if lang != "en" and rule in REFUSED_TEXTS:  # the rules' own words are English
                message = text(REFUSED_TEXTS[rule], lang, example=example)
            return text("submit.refused", lang, rule=rule, message=message)
        case OverLimit(rule=rule, limit=limit, retry_at=retry_at):
            if rule in OVER_LIMIT_TEXTS:
                return text(
                    OVER_LIMIT_TEXTS[rule], lang, limit=f"{limit:g}", when=_when(retry_at, lang)
                )
            return text(OVER_PENDING_TEXTS[rule], lang, limit=f"{limit:g}")
        case BannedUser():
            return text("submit.banned", lang)
        case Disabled():
            return text("submit.disabled", lang)
    raise AssertionError(f"unknown outcome {outcome!r}")


def _is_private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE


async def ask_for_link(message: Message, context: Context, user: User, lang: ChatLang) -> None:
    """`/submit` alone or `/start submit`: the next text in this chat is the link.

    Blocking (the next update is dispatched once the wait is set), and answered in the
    chat's turn: after the replies to the links sent before it."""
    svc = services(context)
    async with svc.turns.take(message.chat_id):
        if not svc.submissions.settings.enabled:
            await message.reply_text(text("submit.disabled", lang))
            return
        _wait(context, user.id, Waiting("link"))
        await message.reply_text(
            text("submit.ask", lang),
            reply_markup=ForceReply(selective=True, input_field_placeholder=EXAMPLE_URL),
        )


async def submit_cmd(update: Update, context: Context) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    parts = (message.text or "").split(maxsplit=1)
    rest = parts[1].strip() if len(parts) > 1 else ""
    if rest and _is_private(message):
        _stop_waiting(context, user.id)
        _take_in_background(update, message, context, user, rest)
        return
    lang = await reader_lang(services(context), user)
    if not _is_private(message):
        link = f"https://t.me/{context.bot.username}?start={DEEP_LINK_ARG}"
        button = InlineKeyboardButton(text("button.submit_private", lang), url=link)
        await message.reply_text(
            text("submit.in_private", lang), reply_markup=InlineKeyboardMarkup([[button]])
        )
        return
    await ask_for_link(message, context, user, lang)


def _take_in_background(
    update: Update,
    message: Message,
    context: Context,
    user: User,
    body: str,
) -> None:
    """Store and answer a link in a task of the Application, not in the update's dispatch.

    So PTB dispatches the next updates at once, and the links of a burst of readers
    are in one group commit (`Database.write_batched`: one fsync for them all) instead
    of each waiting for its own. This is what PTB's `block=False` does
    (`Application.create_task` with the update: an error reaches the error handler,
    `Application.stop` waits for the task); it is done here by hand so that what
    must follow the updates' order is done before it, synchronously, at dispatch:
    the chat's waiting state is changed by the caller, and the chat's `Turn` is
    taken here (the replies in the chat go in the updates' order). Even the reader's
    language is read in the task: a read at dispatch waits behind the group commit's
    fsync on the database's one thread, so each update was dispatched only after the
    one before it had committed, and a burst of 200 links took 200 commits, not a few.
    """
    turn = services(context).turns.take(message.chat_id)
    task = context.application.create_task(
        _take_submission(message, context, user, body, turn),
        update=update,
        name=f"submit-{update.update_id}",
    )
    task.add_done_callback(lambda _: turn.end())  # even if it never started


async def _take_submission(
    message: Message, context: Context, user: User, body: str, turn: Turn
) -> None:
    """The intake's batched write, the reply once it is committed, then the review work."""
    svc = services(context)
    lang = await reader_lang(svc, user)
    submitter = Submitter(
        user_id=user.id,
        display_name=user.full_name,
        username=user.username,
        chat_id=message.chat_id,
    )
    async with turn:
        with svc.submissions.lull.busy():  # the previews and cards wait for the replies
            outcome = await svc.submissions.submit(submitter, body)
            markup = (
                reader_keyboard(
                    outcome.submission_id,
                    outcome.fields,
                    credit=outcome.credit,
                    username=user.username,
                    lang=lang,
                )
                if isinstance(outcome, Accepted)
                else None
            )
            async with svc.replies:  # one at a time, over one kept-alive connection
                await message.reply_text(
                    outcome_text(outcome, lang),
                    link_preview_options=NO_PREVIEW,
                    reply_markup=markup,
                )
    if isinstance(outcome, Accepted):  # in the same task: `Application.stop` waits for it
        await review_after_preview(context.bot, svc, outcome.submission_id)


async def review_after_preview(bot: Bot, svc: BotServices, submission_id: int) -> None:
    """Fetch the page (best effort), then send the review card and remember where."""
    subs = svc.submissions
    submission = await subs.preview_in_background(submission_id)
    if submission is None:
        return
    store = subs.store
    cards = await send_review_card(
        svc.editor_chats(bot),
        submission,
        accepted=await store.accepted_count(submission.user_id),
        duplicates=await store.find_duplicates(submission.dedupe_key, exclude_id=submission.id),
    )
    await store.add_cards(submission.id, cards, now=dt.datetime.now(dt.UTC))
    # A reader's button pressed while the card was on its way re-rendered no card yet.
    fresh = await store.get(submission.id)
    if (
        fresh is not None
        and fresh.state == "pending"
        and (fresh.fields, fresh.credit_as) != (submission.fields, submission.credit_as)
    ):
        await _show_on_cards(bot, svc, fresh)


async def cancel_cmd(update: Update, context: Context) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    waiting = _stop_waiting(context, user.id)
    proposed = _chat_state(context, _PROPOSED)
    dropped = [key for key in proposed if key[0] == user.id]
    for key in dropped:
        del proposed[key]
    done = waiting is not None or dropped
    async with services(context).turns.take(message.chat_id):  # after the links' replies
        lang = await reader_lang(services(context), user)
        answer: TextKey = "submit.cancelled" if done else "submit.nothing_to_cancel"
        await message.reply_text(text(answer, lang))


def _split_edit(body: str) -> tuple[str | None, str | None]:
    """ "title | comment", or the title on the first line and the comment after it."""
    if "|" in body:
        title, comment = body.split("|", 1)
    else:
        title, _, comment = body.partition("\n")
    return title.strip() or None, comment.strip() or None


async def submission_text(update: Update, context: Context) -> None:
    """The text the bot waits for in this chat: a link, a field, an edit, or a reason."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.text is None:
        return
    waiting = _chat_state(context, _WAITING).get(user.id)
    if not isinstance(waiting, Waiting):
        return
    if waiting.kind == "link":
        _stop_waiting(context, user.id)
        _take_in_background(update, message, context, user, message.text)
        return
    async with services(context).turns.take(message.chat_id):  # after the links' replies
        await _waited_text(message, context, user, waiting)


async def _waited_text(message: Message, context: Context, user: User, waiting: Waiting) -> None:
    """A field, an edit or a reason (blocking: the waiting state changes in order)."""
    svc = services(context)
    if waiting.kind == "field":
        await _take_field(message, context, user, waiting, await reader_lang(svc, user))
        return
    if not svc.is_editor(user.id):  # editors may have changed since the press
        _stop_waiting(context, user.id)
        return
    if waiting.kind == "reason":
        _stop_waiting(context, user.id)
        decided = await svc.submissions.reject(
            waiting.submission_id, editor=actor_of(user), reason="other", text=message.text or ""
        )
        if decided is None or not decided.won:
            await message.reply_text(text("review.edit_stale"))
            return
        await message.reply_text(text("review.done", decision=decision_name(decided.submission)))
        await _after_decision(context.bot, svc, decided)
        return
    await _propose_edit(message, context, user, waiting)


async def _propose_edit(message: Message, context: Context, user: User, waiting: Waiting) -> None:
    svc = services(context)
    current = await svc.submissions.store.get(waiting.submission_id)
    if current is None or current.state != "pending":
        _stop_waiting(context, user.id)
        await message.reply_text(text("review.edit_stale"))
        return
    title, comment = _split_edit(message.text or "")
    problem = edit_problem(
        waiting.target, current, title=title, comment=comment, platforms=svc.platforms
    )
    try:
        texts = post_texts(
            current, proposed=(waiting.target, Edit(title, comment)), templates=svc.templates
        )
    except NotPostable as exc:
        problem = problem or str(exc)
        texts = None
    if problem is not None or texts is None:
        await message.reply_text(text("review.edit_problem", problem=problem))
        return  # still waiting for a text that fits
    _stop_waiting(context, user.id)
    _chat_state(context, _PROPOSED)[(user.id, current.id)] = Proposed(
        waiting.target, title, comment
    )
    await message.reply_text(
        edit_preview_text(waiting.target, current.id, texts, X_MAX_WEIGHTED),
        parse_mode=ParseMode.HTML,
        reply_markup=save_keyboard(current.id),
        link_preview_options=NO_PREVIEW,
    )


# ---- the reader's buttons ----------------------------------------------------------------

# What the reader is asked for, and how the field is named back, per `Fields` attribute.
ASK_TEXTS: dict[str, TextKey] = {"for_whom": "reader.ask.for_whom", "solves": "reader.ask.solves"}
FIELD_NAMES: dict[str, TextKey] = {
    "for_whom": "reader.field.for_whom",
    "solves": "reader.field.solves",
}


def _on_own_receipt(query: CallbackQuery, submission: Submission) -> bool:
    """The press came from the submitter's chat (a forged press elsewhere edits nothing)."""
    return query.message is not None and query.message.chat.id == submission.chat_id


async def reader_callback(update: Update, context: Context) -> None:
    """The submitter's [For whom] [Solves] [Level] [credit] buttons, while it is pending."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    user_id = query.from_user.id
    pressed = await reader_press(svc, query, READER_BUTTONS, what="reader")
    if pressed is None:
        return
    button, lang = pressed
    action, sid = button.action, button.id
    subs = svc.submissions
    current = await subs.store.get(sid)
    if current is None:
        await query.answer(text("review.gone", lang))
        return
    if current.user_id != user_id:
        log.warning(
            "reader press refused",
            extra={"user_id": user_id, "why": "not the submitter", "submission_id": sid},
        )
        await query.answer(text("review.not_allowed", lang), show_alert=True)
        return
    own = _on_own_receipt(query, current)
    if current.state != "pending":
        await query.answer(text("reader.decided", lang, id=sid))
        if own:
            await _drop_buttons(query)
        return
    if action in TEXT_FIELDS:
        attr = TEXT_FIELDS[action]
        message_id = query.message.message_id if own and query.message is not None else 0
        _wait(context, user_id, Waiting("field", sid, attr, message_id))
        await query.answer(text("reader.send_it", lang))
        await _prompt(query, context, text(ASK_TEXTS[attr], lang, id=sid))
        return
    if action in ("lv", "bk"):
        await query.answer(text("reader.pick_level", lang) if action == "lv" else None)
        if own:
            markup = (
                level_keyboard(sid, lang=lang)
                if action == "lv"
                else _receipt_keyboard(current, lang)
            )
            await _set_buttons(query, markup)
        return
    if action.startswith("cr:"):
        choice = LEGACY_CREDIT.get(action) or cast(CreditChoice, action.removeprefix("cr:"))
        await _set_credit_from_receipt(query, context, current, choice, own=own, lang=lang)
        return
    level = action.removeprefix("lv:")
    changed = await subs.set_reader_choices(
        sid, user_id=user_id, fields=dataclasses.replace(current.fields, level=level)
    )
    if changed is None:  # decided meanwhile
        await query.answer(text("reader.decided", lang, id=sid))
        return
    await query.answer(text("reader.level_saved", lang, level=level_label(level, lang)))
    if own:
        await _set_buttons(query, _receipt_keyboard(changed, lang))
    await _show_on_cards(context.bot, svc, changed)


def _receipt_keyboard(row: Submission, lang: ChatLang) -> InlineKeyboardMarkup:
    return reader_keyboard(
        row.id, row.fields, credit=row.credit_as, username=row.username, lang=lang
    )


def credit_answer(choice: CreditChoice, *, username: str | None, lang: ChatLang) -> str:
    """What the reader is told their posts will say, in their language."""
    if choice == "anonymous":
        return text("credit.saved_anonymous", lang)
    if choice == "username" and username:
        return text("credit.saved_username", lang, handle=username)
    return text("credit.saved_name", lang)


async def _set_credit_from_receipt(
    query: CallbackQuery,
    context: Context,
    current: Submission,
    choice: CreditChoice,
    *,
    own: bool,
    lang: ChatLang,
) -> None:
    """The receipt's credit buttons: the reader's choice for all their links, as /credit."""
    svc = services(context)
    user = query.from_user
    done = await svc.submissions.set_credit(submitter_of(user), choice)
    await query.answer(credit_answer(choice, username=user.username, lang=lang))
    fresh = next((r for r in done.pending if r.id == current.id), None)
    if own:
        shown = fresh or dataclasses.replace(current, credit_as=choice, username=user.username)
        await _set_buttons(query, _receipt_keyboard(shown, lang))
    await show_credit_on_cards(context.bot, svc, done.pending)


async def show_credit_on_cards(bot: Bot, svc: BotServices, rows: Sequence[Submission]) -> None:
    """Each pending card of theirs shows the new credit (its decision buttons kept)."""
    for row in rows:
        if row.state == "pending":
            await _show_on_cards(bot, svc, row)


def submitter_of(user: User, chat_id: int | None = None) -> Submitter:
    """Who pressed or wrote, as the submissions service takes them."""
    return Submitter(
        user_id=user.id, display_name=user.full_name, username=user.username, chat_id=chat_id
    )


async def _take_field(
    message: Message, context: Context, user: User, waiting: Waiting, lang: ChatLang
) -> None:
    """The reader's next message after [For whom] or [Solves]: that field's value."""
    svc = services(context)
    value = " ".join((message.text or "").split())
    if len(value) > FIELD_MAX:
        await message.reply_text(
            text("reader.field_too_long", lang, length=f"{len(value):,}", limit=FIELD_MAX)
        )
        return  # still waiting for one that fits
    _stop_waiting(context, user.id)
    sid = waiting.submission_id
    current = await svc.submissions.store.get(sid)
    changed = None
    if current is not None and value:
        fields = dataclasses.replace(current.fields, **{waiting.target: value})
        changed = await svc.submissions.set_reader_choices(sid, user_id=user.id, fields=fields)
    if changed is None:  # decided meanwhile (or not theirs: nothing is stored)
        await message.reply_text(text("reader.decided", lang, id=sid))
        return
    key = FIELD_NAMES.get(waiting.target)
    name = text(key, lang) if key else waiting.target
    await message.reply_text(text("reader.field_saved", lang, id=sid, name=name, value=value))
    if waiting.message_id:
        try:
            await context.bot.edit_message_reply_markup(
                chat_id=message.chat_id,
                message_id=waiting.message_id,
                reply_markup=_receipt_keyboard(changed, lang),
            )
        except BadRequest as exc:
            log.info("reader buttons not refreshed", extra={"error": str(exc)})
    await _show_on_cards(context.bot, svc, changed)


async def _show_on_cards(bot: Bot, svc: BotServices, row: Submission) -> None:
    """Re-render every editor's copy of a pending card (the decision buttons again)."""
    store = svc.submissions.store
    await refresh_review_cards(
        bot,
        row,
        accepted=await store.accepted_count(row.user_id),
        duplicates=await store.find_duplicates(row.dedupe_key, exclude_id=row.id),
        markup=decision_keyboard(row.id),
    )


# ---- the editors' buttons ----------------------------------------------------------------


async def review_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    button = await editor_press(
        svc, query, REVIEW_BUTTONS, denied="submission.denied", subject=submission_key
    )
    if button is None:
        return
    action, sid = button.action, button.id
    subs = svc.submissions
    current = await subs.store.get(sid)
    if current is None:
        await query.answer(text("review.gone", EDITOR_LANG))
        return
    if action in ("ap", "qu", "dr", "bn") or (action.startswith("rj:") and action != "rj:other"):
        await _decide(query, context, action, sid)
        return
    if action == "sv":
        await _save(query, context, sid)
        return
    if action == "cx":
        _chat_state(context, _PROPOSED).pop((query.from_user.id, sid), None)
        await query.answer(text("review.edit_dropped"))
        await _drop_buttons(query)
        return
    if current.state != "pending":
        await query.answer(_already(current))
        return
    if action == "rj":
        await query.answer(text("review.pick_reason"))
        await query.edit_message_reply_markup(reason_keyboard(sid))
    elif action == "ed":
        await query.answer(text("review.pick_platform"))
        await query.edit_message_reply_markup(platform_keyboard(sid, subs.targets))
    elif action == "bk":
        await query.answer(text("review.back"))
        await query.edit_message_reply_markup(decision_keyboard(sid))
    elif action == "rj:other":
        _wait(context, query.from_user.id, Waiting("reason", sid))
        await query.answer(text("review.pick_reason"))
        await _prompt(query, context, text("review.reason_prompt", id=sid))
    else:  # ed:<target>
        target = action.removeprefix("ed:")
        if target not in subs.targets:
            await query.answer(text("edit.not_this_platform"))
            return
        _wait(context, query.from_user.id, Waiting("edit", sid, target))
        platform = svc.platforms.display(target)
        await query.answer(text("edit.send_new", platform=platform))
        await _prompt(query, context, text("review.edit_prompt", platform=platform, id=sid))


async def _prompt(query: CallbackQuery, context: Context, prompt: str) -> None:
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    await context.bot.send_message(chat_id, prompt, reply_markup=ForceReply(selective=True))


async def _set_buttons(query: CallbackQuery, markup: InlineKeyboardMarkup) -> None:
    """Show `markup` on the pressed message; a double tap's "not modified" is no error."""
    try:
        await query.edit_message_reply_markup(markup)
    except BadRequest as exc:
        log.info("buttons not changed", extra={"error": str(exc)})


async def _drop_buttons(query: CallbackQuery) -> None:
    try:
        await query.edit_message_reply_markup(None)
    except BadRequest as exc:
        log.info("buttons not dropped", extra={"error": str(exc)})


def _already(submission: Submission) -> str:
    state: str = submission.state
    if state == "approved" and submission.mode == "draft":
        state = "draft"
    elif state == "rejected" and submission.reason == "banned":
        state = "banned"
    verb = text(ALREADY_VERBS[state], EDITOR_LANG) if state in ALREADY_VERBS else state
    return text(
        "review.already",
        decision=verb,
        who=submission.decided_by or "?",
        when=format_when(submission.decided_at),
    )


async def _decide(query: CallbackQuery, context: Context, action: str, sid: int) -> None:
    svc = services(context)
    subs = svc.submissions
    editor = actor_of(query.from_user)
    decided: Decided | None
    due: tuple[float, ...] = ()
    if action == "ap":
        decided = await subs.approve(sid, editor=editor)
    elif action == "qu":  # approved into the extra edition's queue, timed by its pace
        decided, due = await svc.extra.queue_submission(sid, editor=editor)
    elif action == "dr":
        decided = await subs.draft_only(sid, editor=editor)
    elif action == "bn":
        decided = await subs.ban(sid, editor=editor)
    else:
        reason: RejectReason = action.removeprefix("rj:")  # type: ignore[assignment]
        decided = await subs.reject(sid, editor=editor, reason=reason)
    if decided is None:
        await query.answer(text("review.gone", EDITOR_LANG))
        return
    if not decided.won:
        await query.answer(_already(decided.submission))
        return
    if decided.outbox_ids:
        svc.delivery.wake()  # due now: the workers post it, paced only by the platforms
        if due and context.job_queue is not None:
            schedule_wakeups(context.job_queue, due, svc.delivery)
    if action == "qu":
        await query.answer(await queued_answer(svc, submission_key(sid)))
    else:
        await query.answer(text("review.done", decision=decision_name(decided.submission)))
    await _after_decision(context.bot, svc, decided)


async def _after_decision(bot: Bot, svc: BotServices, decided: Decided) -> None:
    """Show the decision on every card (no buttons left) and tell the submitter(s)."""
    row = decided.submission
    store = svc.submissions.store
    await refresh_review_cards(
        bot,
        row,
        accepted=await store.accepted_count(row.user_id),
        duplicates=await store.find_duplicates(row.dedupe_key, exclude_id=row.id),
        markup=None,
    )
    for other in decided.also_rejected:
        # One message to a banned reader is enough: theirs are told by the one below.
        await store.mark_told(other, now=dt.datetime.now(dt.UTC))
        found = await store.get(other)
        if found is not None:
            await refresh_review_cards(
                bot,
                found,
                accepted=0,
                duplicates=await store.find_duplicates(found.dedupe_key, exclude_id=found.id),
                markup=None,
            )
    if row.state == "rejected" or row.mode == "draft":
        await tell(bot, svc, row)


async def _save(query: CallbackQuery, context: Context, sid: int) -> None:
    svc = services(context)
    proposed = _chat_state(context, _PROPOSED).pop((query.from_user.id, sid), None)
    if not isinstance(proposed, Proposed):
        await query.answer(text("review.edit_stale"))
        await _drop_buttons(query)
        return
    saved = await svc.submissions.save_edit(
        sid,
        proposed.target,
        title=proposed.title,
        comment=proposed.comment,
        editor=actor_of(query.from_user),
    )
    if saved is None:
        await query.answer(text("review.edit_stale"))
        await _drop_buttons(query)
        return
    if isinstance(saved, str):
        await query.answer(text("review.edit_problem", problem=saved)[:200], show_alert=True)
        return
    await query.answer(text("review.edit_saved"))
    await _drop_buttons(query)
    await _show_on_cards(context.bot, svc, saved)


# ---- telling the submitter ---------------------------------------------------------------


async def channel_base(bot: Bot, svc: BotServices) -> str | None:
    """`https://t.me/<channel>` (`…/c/<id>` for a private one): what post links start with."""
    channel = svc.settings.telegram.channel_id
    if isinstance(channel, str):
        return f"https://t.me/{channel.removeprefix('@')}"
    try:
        username = (await bot.get_chat(channel)).username
    except TelegramError as exc:
        log.warning("channel not read for a post link", extra={"error": str(exc)})
        return None
    if username:
        return f"https://t.me/{username}"
    return f"https://t.me/c/{str(channel).removeprefix('-100')}"


async def channel_post_link(bot: Bot, svc: BotServices, submission_id: int) -> str | None:
    """t.me/<channel>/<message id> of the submission's channel post, once it is sent."""
    row = await svc.store.outbox.get_by_key(TELEGRAM, submission_key(submission_id))
    if row is None or row.state != "sent" or not row.remote_id:
        return None
    base = await channel_base(bot, svc)
    return None if base is None else f"{base}/{row.remote_id}"


async def tell(bot: Bot, svc: BotServices, submission: Submission) -> None:
    """Tell the submitter the outcome, once: `mark_told` first (two hooks racing tell
    once), then the message; a submitter who blocked the bot is skipped with a log line."""
    if not await svc.submissions.store.mark_told(submission.id, now=dt.datetime.now(dt.UTC)):
        return
    lang = await stored_lang(svc, submission.user_id)  # no update of theirs: the stored one
    if submission.state == "published":
        link = await channel_post_link(bot, svc, submission.id)
        message = (
            text("told.published", lang, id=submission.id, link=link)
            if link
            else text("told.published_no_link", lang, id=submission.id)
        )
    elif submission.state == "approved":
        message = text("told.draft", lang, id=submission.id)
    elif submission.state == "expired":
        message = text("told.expired", lang, id=submission.id)
    else:
        reason = reason_text(submission.reason, lang)
        message = text("told.rejected", lang, id=submission.id, reason=reason)
    try:
        await bot.send_message(submission.chat_id, message)
    except Forbidden:
        log.info("submitter unreachable", extra={"submission_id": submission.id})
    except TelegramError as exc:
        log.warning("submitter not told", extra={"submission_id": submission.id, "error": str(exc)})


async def tell_untold(bot: Bot, svc: BotServices) -> int:
    """Mark published what is all out, then tell every decided, untold submitter."""
    await svc.submissions.published()
    untold = await svc.submissions.store.untold()
    for submission in untold:
        await tell(bot, svc, submission)
    return len(untold)


def after_sent_hook(application: App, svc: BotServices) -> Callable[[OutboxRow], Awaitable[None]]:
    """The delivery workers' hook: a submission's row went out, tell its submitter
    (in a task of its own, so the worker goes on with the next send)."""

    async def after_sent(row: OutboxRow) -> None:
        if row.kind == SUBMISSION_KIND:
            application.create_task(_tell_quietly(application.bot, svc), name="tell-submitters")

    return after_sent


async def _tell_quietly(bot: Bot, svc: BotServices) -> None:
    try:
        await tell_untold(bot, svc)
    except Exception:  # a sweep: the next sent row (or the next start) tries again
        log.exception("telling submitters failed")


def add_submission_handlers(application: App) -> None:
    """Register /submit, /cancel, the review and reader buttons and the text reader."""
    application.add_handler(CommandHandler("submit", submit_cmd))
    application.add_handler(CommandHandler("cancel", cancel_cmd))
    application.add_handler(CallbackQueryHandler(review_callback, pattern=REVIEW_BUTTONS.pattern))
    application.add_handler(CallbackQueryHandler(reader_callback, pattern=READER_BUTTONS.pattern))
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND, submission_text), group=TEXT_GROUP
    )
