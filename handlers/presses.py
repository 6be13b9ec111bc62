"""The one way a button press is read: decode its data, check who pressed, refuse.

Every callback handler starts here, so the rule is the same on every card: an editors'
button pressed by anyone else, or data this bot did not make (forged, whoever sends it),
is answered "not allowed", logged and audited, and nothing else happens. A reader's
button that cannot be decoded is "Unknown button." in the reader's language.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from telegram import CallbackQuery

from bot.editors.kit import CALLBACK_DATA_MAX, Callback, CallbackCodec, CallbackDataError
from bot.texts import ChatLang, TextKey, text
from handlers.context import BotServices
from handlers.lang import reader_lang

log = logging.getLogger(__name__)


async def editor_press(
    svc: BotServices,
    query: CallbackQuery,
    codec: CallbackCodec,
    *,
    refusal: TextKey = "review.not_allowed",
    denied: str = "button.denied",
    subject: Callable[[int], str] | None = None,
) -> Callback | None:
    """The decoded button when an editor pressed it; None once refused.

    `denied` is the audit action of a refusal, `subject(id)` its subject (the card's
    row); a press that cannot be decoded is audited under its data's prefix."""
    data = (query.data or "")[:CALLBACK_DATA_MAX]
    try:
        button: Callback | None = codec.decode(query.data)
        why = None
    except CallbackDataError as exc:
        button, why = None, f"forged: {exc}"
    user_id = query.from_user.id
    if button is not None and svc.is_editor(user_id):
        return button
    lang = await reader_lang(svc, query.from_user)
    await query.answer(text(refusal, lang), show_alert=True)
    why = why or "not an editor"
    log.warning("editor button refused", extra={"user_id": user_id, "why": why, "data": data})
    await svc.store.append_audit(
        actor=f"user:{user_id}",
        action=denied,
        subject=(subject(button.id) if button is not None and subject else data.split(":", 1)[0]),
        details={"why": why, "data": data},
        now=time.time(),
    )
    return None


async def reader_press(
    svc: BotServices, query: CallbackQuery, codec: CallbackCodec, *, what: str
) -> tuple[Callback, ChatLang] | None:
    """A reader's button decoded, with the reader's language; None once answered
    "Unknown button." (`what` names the button kind in the log)."""
    lang = await reader_lang(svc, query.from_user)
    try:
        return codec.decode(query.data), lang
    except CallbackDataError as exc:
        log.warning(f"{what} press refused", extra={"user_id": query.from_user.id, "why": str(exc)})
        await query.answer(text("button.unknown", lang))
        return None
