"""Fuzzing the button decoders: any bytes or text is a decoded button or one clean
`CallbackDataError` ("Unknown button."), never another exception.

Every codec the bot registers is checked (`kit.CallbackCodec` and each card's), with
what a forger sends: random bytes and text, and near misses of real data (leading
zeros, signs, non-ASCII digits, extra colons, other prefixes, over 64 bytes).
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.editors.kit import CALLBACK_DATA_MAX, Callback, CallbackCodec, CallbackDataError
from bot.editors.outbox_cards import OUTBOX_BUTTONS
from bot.editors.preview_cards import PREVIEW_BUTTONS
from bot.editors.queue_cards import QUEUE_BUTTONS
from bot.editors.reminders import REMINDER_BUTTONS
from bot.editors.review_cards import REVIEW_BUTTONS
from bot.submissions.reader_buttons import CREDIT_BUTTONS, READER_BUTTONS
from handlers.lang import LANG_BUTTONS
from handlers.submitters import FORGET_BUTTONS
from tests.fuzz_support import FUZZ

CODECS = {
    codec.prefix: codec
    for codec in (
        OUTBOX_BUTTONS,
        PREVIEW_BUTTONS,
        QUEUE_BUTTONS,
        REMINDER_BUTTONS,
        REVIEW_BUTTONS,
        READER_BUTTONS,
        CREDIT_BUTTONS,
        LANG_BUTTONS,
        FORGET_BUTTONS,
    )
}
codecs = st.sampled_from(sorted(CODECS)).map(CODECS.__getitem__)
WORDS = ["sent", "ed", "telegram", "x", "ap", "op", "zh", "en", "ok", "now", "bf", "A", "a-b", ""]
NUMBERS = ["0", "1", "12", "007", "-1", "+1", "1e3", "١٢", "１２", "9" * 19, "9" * 20, "1 ", " 1"]


@st.composite
def near_misses(draw: st.DrawFn) -> str:
    codec = draw(codecs)
    parts = [draw(st.sampled_from([codec.prefix, codec.prefix.upper(), "ob", "pv", "x", ""]))]
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(["1", "2", "0", "01"])))
    actions = sorted(codec.actions or {"now", "ed:telegram"})
    for _ in range(draw(st.integers(0, 3))):
        parts.append(draw(st.sampled_from(actions + WORDS)))
    parts.append(draw(st.sampled_from(NUMBERS)))
    text = ":".join(parts)
    return text + draw(st.sampled_from(["", "\n", ":", "\x00", "é", "x" * 60]))


def decode_or_refuse(codec: CallbackCodec, data: str | bytes | None) -> Callback | None:
    try:
        return codec.decode(data)
    except CallbackDataError as refused:
        reason = str(refused)
    assert reason  # one line for the log
    assert "\n" not in reason
    return None


@FUZZ
@given(codecs, st.one_of(st.none(), st.text(max_size=80), st.binary(max_size=80), near_misses()))
@example(PREVIEW_BUTTONS, "pv:ed:telegram:5")
@example(OUTBOX_BUTTONS, "ob:sent:" + "9" * 19)
@example(REVIEW_BUTTONS, "sub:1:ap:\ud800")  # a lone surrogate: JSON can carry one
@example(LANG_BUTTONS, b"lang:1:zh:\xff")
def test_any_data_is_a_button_or_one_clean_refusal(
    codec: CallbackCodec, data: str | bytes | None
) -> None:
    button = decode_or_refuse(codec, data)
    if button is None:
        return
    text = data.decode() if isinstance(data, bytes) else data
    assert text is not None
    assert len(text.encode()) <= CALLBACK_DATA_MAX
    assert button.prefix == codec.prefix
    assert button.version in codec.accepts
    assert codec.actions is None or button.action in codec.actions
    if button.version == codec.version:  # one spelling: what decodes is what encode writes
        assert codec.encode(button.action, button.id) == text


@FUZZ
@given(codecs, st.data())
def test_every_button_a_card_can_make_decodes_back(
    codec: CallbackCodec, data: st.DataObject
) -> None:
    actions = sorted(codec.actions) if codec.actions else ["now", "ed:telegram", "bf", "back"]
    action = data.draw(st.sampled_from(actions))
    ident = data.draw(st.integers(0, 10**15))
    encoded = codec.encode(action, ident)
    assert codec.decode(encoded) == Callback(codec.prefix, action, ident, codec.version)
    assert codec.decode(encoded.encode()) == codec.decode(encoded)


@pytest.mark.parametrize("prefix", sorted(CODECS))
def test_no_codec_decodes_another_kinds_buttons(prefix: str) -> None:
    codec = CODECS[prefix]
    for other in CODECS.values():
        if other.prefix == prefix:
            continue
        action = sorted(other.actions)[0] if other.actions else "now"
        with pytest.raises(CallbackDataError):
            codec.decode(other.encode(action, 1))
