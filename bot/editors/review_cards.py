"""The review card of a submitted link: what the editors read, and its buttons.

One more card kind beside the preview and outbox cards, on the same kit: the buttons'
data is `REVIEW_BUTTONS` (``sub:1:<action>:<id>``, the submission's id), the cards go
out through `EditorChats` and are remembered on the row (`SubmissionStore.add_cards`)
so a decision re-renders every copy. Rendering is pure (`card_text`, the keyboards);
`send_review_card` and `refresh_review_cards` are the two Telegram calls.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

from telegram import Bot, InlineKeyboardMarkup

from bot.editors.kit import NO_PREVIEW, CallbackCodec, EditorChats, edit_cards
from bot.platforms import PLATFORMS
from bot.submissions.intake import BANNED_REASON, REJECT_REASONS, PostTexts
from bot.texts import EDITOR_LANG, ChatLang, TextKey, text
from data.submissions import Duplicates, Submission

log = logging.getLogger(__name__)

# ap approve, qu approve into the extra edition's queue, dr draft only, ed edit (then
# ed:<target>), rj reject (then rj:<reason>), bn ban, bk back to the decision buttons;
# sv/cx save or drop a proposed edit.
REVIEW_ACTIONS: tuple[str, ...] = (
    "ap",
    "qu",
    "dr",
    "ed",
    "rj",
    "bn",
    "bk",
    "sv",
    "cx",
    *(f"ed:{p.name}" for p in PLATFORMS),
    *(f"rj:{r}" for r in REJECT_REASONS),
)
REVIEW_BUTTONS = CallbackCodec("sub", REVIEW_ACTIONS, version=1)

REASON_BUTTONS: dict[str, TextKey] = {
    "duplicate": "button.reason.duplicate",
    "off_topic": "button.reason.off_topic",
    "low_quality": "button.reason.low_quality",
    "paywalled": "button.reason.paywalled",
    "broken_link": "button.reason.broken_link",
    "other": "button.reason.other",
}
# What the reader is told, per stored reason code ("other: <words>" is their own).
REASON_TEXTS: dict[str, TextKey] = {
    "duplicate": "reason.duplicate",
    "off_topic": "reason.off_topic",
    "low_quality": "reason.low_quality",
    "paywalled": "reason.paywalled",
    "broken_link": "reason.broken_link",
    BANNED_REASON: "reason.banned",
}
STATE_TEXTS: dict[str, TextKey] = {
    "approved": "review.state.approved",
    "draft": "review.state.draft",
    "published": "review.state.published",
    "rejected": "review.state.rejected",
    "banned": "review.state.banned",
    "withdrawn": "review.state.withdrawn",
    "expired": "review.state.expired",
}
_SHOWN_MAX = 300  # characters of a title, description or note shown on the card


def _short(value: str, limit: int = _SHOWN_MAX) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def reason_text(reason: str | None, lang: ChatLang) -> str:
    """The reason as the reader reads it, in `lang` (the card's in `EDITOR_LANG`)."""
    if reason is None:
        return text("reason.unknown", lang)
    if reason.startswith("other:"):
        return text("reason.other", lang, words=reason.removeprefix("other:").strip())
    key = REASON_TEXTS.get(reason)
    return text(key, lang) if key else text("reason.unknown", lang)


def decision_name(submission: Submission) -> str:
    """ "✅ Approved", "📝 Kept for the draft", "🚫 Banned"… for a decided submission."""
    state: str = submission.state
    if state == "approved" and submission.mode == "draft":
        state = "draft"
    elif state == "rejected" and submission.reason == BANNED_REASON:
        state = "banned"
    key = STATE_TEXTS.get(state)
    return text(key) if key else state


def format_when(at: float | None) -> str:
    if at is None:
        return "?"
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def decision_line(submission: Submission) -> str:
    """ "✅ Approved by @cat [2002] at 2026-12-07 12:00 UTC" (plain, escape for HTML)."""
    return text(
        "review.decided",
        decision=decision_name(submission),
        who=submission.decided_by or "?",
        when=format_when(submission.decided_at),
    )


def _dupe_hints(submission: Submission, duplicates: Duplicates) -> str | None:
    hints = [text("review.dupe_issue", number=f.issue_number) for f in duplicates.featured]
    hints += [
        text("review.dupe_submission", id=s.submission_id, state=s.state)
        for s in duplicates.submissions
        if s.submission_id != submission.id
    ]
    return ", ".join(dict.fromkeys(hints)) if hints else None


def card_text(submission: Submission, *, accepted: int, duplicates: Duplicates) -> str:
    """The card (Telegram HTML): the link, what the page says, who sent it, the state."""
    e = html.escape
    title = submission.preview_title
    lines = [
        text("review.head", id=submission.id),
        text("review.title", title=e(_short(title))) if title else text("review.no_title"),
    ]
    if submission.preview_description:
        lines.append(e(_short(submission.preview_description)))
    lines.append("")
    lines.append(
        text(
            "review.urls",
            original=e(submission.original_url),
            canonical=e(submission.canonical_url),
            domain=e(urlsplit(submission.canonical_url).hostname or "?"),
        )
    )
    if submission.note:
        lines.append(text("review.note", note=e(_short(submission.note))))
    fields = submission.fields
    for name, value in (
        ("for", fields.for_whom),
        ("solves", fields.solves),
        ("level", fields.level),
    ):
        if value:
            lines.append(text("review.field", name=name, value=e(value)))
    if submission.credit_as == "anonymous":
        lines.append(text("review.anonymous"))
    if submission.forgotten_at is not None:
        lines.append(text("review.forgotten", user_id=submission.user_id))
    else:
        lines.append(
            text(
                "review.by",
                name=e(submission.display_name or "?"),
                username=f" @{e(submission.username)}" if submission.username else "",
                user_id=submission.user_id,
                accepted=accepted,
            )
        )
    hints = _dupe_hints(submission, duplicates)
    if hints:
        lines.append(text("review.dupes", hints=e(hints)))
    if submission.preview_error:
        lines.append(text("review.fetch_failed", error=e(_short(submission.preview_error, 200))))
    elif submission.previewed_at is not None:
        lines.append(text("review.fetched"))
    else:
        lines.append(text("review.fetch_pending"))
    for target, edit in sorted(submission.edits.items()):
        lines.append(
            text(
                "review.edit_line",
                platform=PLATFORMS.display(target),
                who=e(edit.by or "?"),
                title=e(_short(edit.title or "—", 120)),
                comment=e(_short(edit.comment or "—", 120)),
            )
        )
    lines.append("")
    if submission.state == "pending":
        lines.append(text("review.waiting"))
    else:
        lines.append(e(decision_line(submission)))
        if submission.state == "rejected" and submission.reason:
            lines.append(
                text("review.reason", reason=e(reason_text(submission.reason, EDITOR_LANG)))
            )
    return "\n".join(lines)


# ---- the keyboards -----------------------------------------------------------------------


def decision_keyboard(submission_id: int) -> InlineKeyboardMarkup:
    b = REVIEW_BUTTONS.button
    return InlineKeyboardMarkup(
        [
            [
                b(text("button.approve"), "ap", submission_id),
                b(text("button.queue_sub"), "qu", submission_id),
            ],
            [
                b(text("button.draft_only"), "dr", submission_id),
                b(text("button.edit_sub"), "ed", submission_id),
            ],
            [
                b(text("button.reject"), "rj", submission_id),
                b(text("button.ban"), "bn", submission_id),
            ],
        ]
    )


def reason_keyboard(submission_id: int) -> InlineKeyboardMarkup:
    b = REVIEW_BUTTONS.button
    rows = [
        [b(text(REASON_BUTTONS[reason]), f"rj:{reason}", submission_id)]
        for reason in REJECT_REASONS
    ]
    rows.append([b(text("button.back", EDITOR_LANG), "bk", submission_id)])
    return InlineKeyboardMarkup(rows)


def platform_keyboard(submission_id: int, targets: Sequence[str]) -> InlineKeyboardMarkup:
    b = REVIEW_BUTTONS.button
    return InlineKeyboardMarkup(
        [
            [
                b(
                    text("button.edit_platform", platform=PLATFORMS.display(t)),
                    f"ed:{t}",
                    submission_id,
                )
                for t in targets
                if t in PLATFORMS
            ],
            [b(text("button.back", EDITOR_LANG), "bk", submission_id)],
        ]
    )


def save_keyboard(submission_id: int) -> InlineKeyboardMarkup:
    b = REVIEW_BUTTONS.button
    return InlineKeyboardMarkup(
        [
            [
                b(text("button.save"), "sv", submission_id),
                b(text("button.cancel", EDITOR_LANG), "cx", submission_id),
            ]
        ]
    )


def edit_preview_text(target: str, submission_id: int, texts: PostTexts, x_max: int) -> str:
    """What the [Edit] screen shows before saving: both texts and the X weight (HTML)."""
    return text(
        "review.edit_preview",
        platform=PLATFORMS.display(target),
        id=submission_id,
        telegram=texts.telegram_html,
        weight=texts.x_weight if texts.x_weight is not None else "—",
        max=x_max,
        x=html.escape(texts.x_text) if texts.x_text is not None else text("review.x_cannot"),
    )


# ---- sending and refreshing --------------------------------------------------------------


async def send_review_card(
    editors: EditorChats, submission: Submission, *, accepted: int, duplicates: Duplicates
) -> list[tuple[int, int]]:
    """Send the card to every editor chat; where each one went (chat id, message id)."""
    card = card_text(submission, accepted=accepted, duplicates=duplicates)
    markup = decision_keyboard(submission.id) if submission.state == "pending" else None
    sent = await editors.send(
        card, markup, link_preview=NO_PREVIEW, best_effort=True, what="a review card"
    )
    return [(m.chat_id, m.message_id) for m in sent]


async def refresh_review_cards(
    bot: Bot,
    submission: Submission,
    *,
    accepted: int,
    duplicates: Duplicates,
    markup: InlineKeyboardMarkup | None,
) -> None:
    """Re-render every copy of the card (a decision: `markup` None drops the buttons)."""
    card = card_text(submission, accepted=accepted, duplicates=duplicates)
    await edit_cards(
        bot, submission.cards, card, markup, what="review card", link_preview=NO_PREVIEW
    )
