"""The reader's buttons under "Received, #id": the optional fields and the credit.

A note can carry `for: … solves: … level: …`; the same fields can be set after the link
with these buttons, on the reader's own receipt, in the reader's language: [For whom]
[Solves] [Level] and the
credit's three choices (@username, display name, anonymous), the same three `/credit`
offers (`credit_buttons`, one renderer): the choice is the reader's, for all their
pending and future links. Their data is `READER_BUTTONS` (``rd:1:<action>:<id>``, the
submission's id), a codec of its own: the handler checks the presser against the
submission's submitter (not the editor list) on every press; `/credit`'s are
`CREDIT_BUTTONS` (``cr:1:<choice>:<user id>``), checked against the presser. Rendering is
pure; the labels show what is set.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.editors.kit import CallbackCodec
from bot.submissions.rules import LEVELS
from bot.texts import ChatLang, TextKey, text
from data.submissions import CREDIT_CHOICES, CreditChoice, Fields

# fo for whom, so solves (each then takes the reader's next message), lv the level menu
# (then lv:<level>), bk back to the main buttons, cr:<choice> the credit (explicit, so a
# double press sets the same thing twice rather than undoing itself). cr:on / cr:off are
# the receipts sent before the three-way choice: still read (name / anonymous).
LEGACY_CREDIT: dict[str, CreditChoice] = {"cr:on": "name", "cr:off": "anonymous"}
READER_ACTIONS: tuple[str, ...] = (
    "fo",
    "so",
    "lv",
    "bk",
    *(f"cr:{choice}" for choice in CREDIT_CHOICES),
    *LEGACY_CREDIT,
    *(f"lv:{level}" for level in LEVELS),
)
READER_BUTTONS = CallbackCodec("rd", READER_ACTIONS, version=1)
CREDIT_BUTTONS = CallbackCodec("cr", CREDIT_CHOICES, version=1)
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


def credit_buttons(
    button: Callable[[str, CreditChoice], InlineKeyboardButton],
    choice: CreditChoice,
    *,
    username: str | None,
    lang: ChatLang,
) -> list[InlineKeyboardButton]:
    """[@username] [My name] [Anonymous] in the reader's language, the chosen one ticked;
    no @username button for a reader without one (they are credited by their name)."""
    labels: dict[CreditChoice, str] = {
        "username": text("button.credit.username", lang, handle=_short(username or "")),
        "name": text("button.credit.name", lang),
        "anonymous": text("button.credit.anonymous", lang),
    }
    shown = [c for c in CREDIT_CHOICES if c != "username" or username]
    if choice == "username" and not username:
        choice = "name"  # what they get: see `bot.submissions.intake.credit_of`
    return [
        button(text("button.credit.chosen", lang, label=labels[c]) if c == choice else labels[c], c)
        for c in shown
    ]


def credit_keyboard(
    user_id: int, choice: CreditChoice, *, username: str | None, lang: ChatLang
) -> InlineKeyboardMarkup:
    """`/credit`'s buttons, in the reader's language."""
    return InlineKeyboardMarkup(
        [
            credit_buttons(
                lambda label, c: CREDIT_BUTTONS.button(label, c, user_id),
                choice,
                username=username,
                lang=lang,
            )
        ]
    )


def reader_keyboard(
    submission_id: int,
    fields: Fields,
    *,
    credit: CreditChoice,
    username: str | None,
    lang: ChatLang,
) -> InlineKeyboardMarkup:
    """[For whom] [Solves] [Level] and the credit's choices, in the reader's language; a
    set field shows its value."""
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
    credits = credit_buttons(
        lambda label, c: b(label, f"cr:{c}", submission_id),
        credit,
        username=username,
        lang=lang,
    )
    return InlineKeyboardMarkup(
        [
            [
                b(for_whom, "fo", submission_id),
                b(solves, "so", submission_id),
                b(level, "lv", submission_id),
            ],
            credits,
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
