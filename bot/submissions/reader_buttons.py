"""The reader's buttons under "Received, #id": the optional fields and the credit.

A note can carry `for: … solves: … level: …`; the same fields can be set after the link
with these buttons, on the reader's own receipt, in the reader's language: [For whom]
[Solves] [Level] and a credit toggle. Their data is `READER_BUTTONS`
(``rd:1:<action>:<id>``, the submission's id), a codec of its own: the handler checks
the presser against the submission's submitter (not the editor list) on every press.
Rendering is pure; the labels show what is set.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.editors.kit import CallbackCodec
from bot.submissions.rules import LEVELS
from bot.texts import ChatLang, TextKey, text
from data.submissions import Fields

# fo for whom, so solves (each then takes the reader's next message), lv the level menu
# (then lv:<level>), bk back to the main buttons, cr:on / cr:off credit or anonymous
# (explicit, so a double press sets the same thing twice rather than undoing itself).
READER_ACTIONS: tuple[str, ...] = (
    "fo",
    "so",
    "lv",
    "bk",
    "cr:on",
    "cr:off",
    *(f"lv:{level}" for level in LEVELS),
)
READER_BUTTONS = CallbackCodec("rd", READER_ACTIONS, version=1)
# The text fields a button asks for: action -> the `Fields` attribute it sets.
TEXT_FIELDS: dict[str, str] = {"fo": "for_whom", "so": "solves"}

LEVEL_BUTTONS: dict[str, TextKey] = {
    "beginner": "button.level.beginner",
    "intermediate": "button.level.intermediate",
    "advanced": "button.level.advanced",
}
_LABEL_VALUE_MAX = 24  # characters of a value shown on a button


def _short(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= _LABEL_VALUE_MAX else value[: _LABEL_VALUE_MAX - 1] + "…"


def level_label(level: str, lang: ChatLang) -> str:
    """A level as the reader's language names it; a free-text level (from a note) as is."""
    key = LEVEL_BUTTONS.get(level)
    return text(key, lang) if key else level


def reader_keyboard(
    submission_id: int, fields: Fields, *, credit: bool, lang: ChatLang
) -> InlineKeyboardMarkup:
    """[For whom] [Solves] [Level] and the credit toggle, in the reader's language; a set
    field shows its value."""
    b = READER_BUTTONS.button
    for_whom = (
        text("button.reader.for_set", lang, value=_short(fields.for_whom))
        if fields.for_whom
        else text("button.reader.for", lang)
    )
    solves = (
        text("button.reader.solves_set", lang, value=_short(fields.solves))
        if fields.solves
        else text("button.reader.solves", lang)
    )
    level = (
        text("button.reader.level_set", lang, value=_short(level_label(fields.level, lang)))
        if fields.level
        else text("button.reader.level", lang)
    )
    toggle = (
        b(text("button.reader.anonymous", lang), "cr:off", submission_id)
        if credit
        else b(text("button.reader.credit_me", lang), "cr:on", submission_id)
    )
    return InlineKeyboardMarkup(
        [
            [
                b(for_whom, "fo", submission_id),
                b(solves, "so", submission_id),
                b(level, "lv", submission_id),
            ],
            [toggle],
        ]
    )


def level_keyboard(submission_id: int, *, lang: ChatLang) -> InlineKeyboardMarkup:
    b = READER_BUTTONS.button
    return InlineKeyboardMarkup(
        [
            [b(text(LEVEL_BUTTONS[level], lang), f"lv:{level}", submission_id) for level in LEVELS],
            [b(text("button.back", lang), "bk", submission_id)],
        ]
    )
