"""While the database cannot record (`bot.ops.storage_guard`): refuse the work, once, clearly.

Two places, one answer ("the bot cannot record this right now; nothing was changed"):

- `storage_gate`, a handler of the first group: while the guard is down, every button
  press and the commands that change something (`records=True` in the one registry,
  `handlers.commands`: `/submit`, `/extra`, the editors' `/pause`, `/retry`...) and
  forwarded links are answered the refusal and
  go no further (`ApplicationHandlerStop`), so no handler starts work it cannot record;
- `refuse_unrecordable`, called by the PTB error handler (`bot.app.error_handler`) when a
  handler's write failed with `StorageUnavailable` (the write that tripped the guard, or
  an update the gate let through that turned out to write): its transaction was rolled
  back, so the same answer is true.

Reads (`/help`, `/latest`, `/search`, `/status`...) go on as usual.
"""

from __future__ import annotations

import logging
from typing import cast

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.texts import ChatLang, lang_of_code, text
from handlers.commands import RECORDING_COMMANDS
from handlers.context import App, Context, services

log = logging.getLogger(__name__)

GATE_GROUP = -2  # before every other group (the update log is -1)


def _records_work(update: Update) -> bool:
    if update.callback_query is not None:
        return True  # every button decides or records something
    message = update.effective_message
    if message is None:
        return False
    if message.forward_origin is not None:
        return True  # a forwarded link: the extra edition's queue
    body = message.text or ""
    if not body.startswith("/"):
        return False
    command = body[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(body) > 1 else ""
    return command in RECORDING_COMMANDS


async def refuse_unrecordable(update: object, context: Context) -> None:
    """Answer `update`'s sender that nothing was recorded (best effort), and count it."""
    if not isinstance(update, Update):  # a job's write: nobody to answer, nothing refused
        return
    svc = services(context)
    svc.storage.refusal()
    user = update.effective_user
    lang: ChatLang = "en"
    if user is not None:  # `reader_lang` without its write (which would fail now)
        stored = await svc.store.langs.get(user.id)
        if stored is not None and (stored.chosen or not user.language_code):
            lang = cast(ChatLang, stored.lang)
        else:
            lang = lang_of_code(user.language_code)
    refusal = text("storage.refused", lang)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(refusal, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(refusal)
    except TelegramError as exc:  # already answered, or Telegram is down too: the log has it
        log.warning("storage refusal not sent", extra={"error": f"{type(exc).__name__}: {exc}"})


async def storage_gate(update: Update, context: Context) -> None:
    """While storage is down, refuse work that must be recorded before any handler runs."""
    if services(context).storage.writable or not _records_work(update):
        return
    log.info("refused while storage is down", extra={"update_id": update.update_id})
    await refuse_unrecordable(update, context)
    raise ApplicationHandlerStop


def add_storage_gate(application: App) -> None:
    application.add_handler(TypeHandler(Update, storage_gate), group=GATE_GROUP)
