"""The editors' daily reminder of links waiting for review, and its [Open #id] buttons.

Instead of letting links expire unseen, a daily job (`handlers.reminders`) sends the
editors one digest of the links pending longer than `submissions.remind_after_hours`,
oldest first, each with a button that sends its review card again (with its decision
buttons, remembered on the row like every copy, so a decision re-renders it too). The
links pending longer than `submissions.expire_days` expire first, and their submitters
are told. Rendering is pure (`digest_text`, `digest_keyboard`); the buttons' data is
`REMINDER_BUTTONS` (``rm:1:op:<id>``), an editor's press checked with `is_editor`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from urllib.parse import urlsplit

from telegram import InlineKeyboardMarkup

from bot.editors.kit import CallbackCodec
from bot.texts import text
from data.submissions import Submission
from publishers.limits import TELEGRAM_TEXT_MAX, telegram_length

REMINDER_BUTTONS = CallbackCodec("rm", ("op",), version=1)
DIGEST_MAX_ITEMS = 20  # listed with a button; the rest are counted
BUTTONS_PER_ROW = 4
_TITLE_MAX = 60


def _age(seconds: float) -> str:
    hours = int(seconds // 3600)
    if hours < 48:
        return text("reminder.age_hours", hours=hours)
    return text("reminder.age_days", days=hours // 24)


def _line(row: Submission, now: float) -> str:
    title = " ".join((row.preview_title or "").split())
    if len(title) > _TITLE_MAX:
        title = title[: _TITLE_MAX - 1] + "…"
    return text(
        "reminder.line",
        id=row.id,
        age=_age(now - row.created_at),
        domain=html.escape(urlsplit(row.canonical_url).hostname or "?"),
        title=html.escape(title or text("review.no_title")),
    )


def digest_text(
    rows: Sequence[Submission], *, now: float, after_hours: float, expired: int = 0
) -> str:
    """The digest (Telegram HTML): how many wait, the oldest `DIGEST_MAX_ITEMS` one per
    line, the rest counted; within one message whatever the titles."""
    shown = list(rows[:DIGEST_MAX_ITEMS])
    head = [text("reminder.head", count=len(rows), hours=after_hours)]
    if expired:
        head.append(text("reminder.expired", count=expired))
    lines = [_line(r, now) for r in shown]
    more = len(rows) - len(shown)
    while True:
        tail = [text("reminder.more", count=more)] if more else []
        body = "\n".join([*head, "", *lines, *tail])
        if telegram_length(body) <= TELEGRAM_TEXT_MAX or not lines:
            return body
        lines.pop()  # titles are short; only a flood of long ones gets here
        more += 1


def digest_keyboard(rows: Sequence[Submission]) -> InlineKeyboardMarkup | None:
    """[📥 #id] per listed link, `BUTTONS_PER_ROW` a row."""
    buttons = [
        REMINDER_BUTTONS.button(text("button.reminder.open", id=r.id), "op", r.id)
        for r in rows[:DIGEST_MAX_ITEMS]
    ]
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    )
