"""The dry run's mark never pushes a message past Telegram's limits (through the fake).

`DryRunBot` talks HTTP to the fake Telegram, which refuses a text over 4,096 and
a caption over 1,024 as Telegram counts them. A text that fits with the mark is
marked in place; one the mark would push over goes as it is, after a marked note
(an edit: the note replies under it). Explicit entities are never shifted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram
from telegram.constants import ParseMode

from bot.fakes.telegram import FakeTelegram
from bot.ops.dry_run import DRY_RUN_MARK, NOTE_BEFORE, NOTE_EDITED, DryRunBot, fits_marked
from publishers.limits import TELEGRAM_CAPTION_MAX, TELEGRAM_TEXT_MAX, telegram_length
from tests.conftest import EDITOR_ID

PHOTO = "https://example.com/cover.png"
MARK = len(DRY_RUN_MARK)  # code points, as Telegram counts them


@pytest.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[DryRunBot]:
    fake_telegram.api.flood = None  # a burst to one chat; flood limits are not the point
    async with DryRunBot(fake_telegram.token, base_url=fake_telegram.base_url) as dry:
        yield dry


def html_of_length(n: int) -> str:
    """HTML whose text Telegram counts as `n` (tags and escapes do not count)."""
    html = "<b>Issue &amp; 7</b> " + "x" * (n - len("Issue & 7 "))
    assert telegram_length(html) == n
    return html


def shown(tg: FakeTelegram) -> list[str]:
    return [m.text or m.caption or "" for m in tg.sent(EDITOR_ID)]


@pytest.mark.parametrize("length", [TELEGRAM_TEXT_MAX - MARK, TELEGRAM_TEXT_MAX - MARK + 1])
async def test_a_text_is_marked_in_place_only_while_it_fits(
    bot: DryRunBot, fake_telegram: FakeTelegram, length: int
) -> None:
    html = html_of_length(length)
    message = await bot.send_message(EDITOR_ID, html, parse_mode=ParseMode.HTML)

    body = "Issue & 7 " + "x" * (length - len("Issue & 7 "))
    if length + MARK <= TELEGRAM_TEXT_MAX:
        assert shown(fake_telegram) == [DRY_RUN_MARK + body]
    else:
        assert shown(fake_telegram) == [NOTE_BEFORE, body]
    assert message.text is not None
    assert message.text.endswith(body)
    assert [e.type for e in message.entities] == ["bold"]  # the formatting is intact


async def test_a_text_at_the_limit_is_sent_whole_after_a_note(
    bot: DryRunBot, fake_telegram: FakeTelegram
) -> None:
    await bot.send_message(EDITOR_ID, html_of_length(TELEGRAM_TEXT_MAX), parse_mode="HTML")
    note, body = fake_telegram.sent(EDITOR_ID)
    assert note.text == NOTE_BEFORE
    assert len(body.text or "") == TELEGRAM_TEXT_MAX


@pytest.mark.parametrize(
    ("length", "in_place"),
    [(TELEGRAM_CAPTION_MAX - MARK, True), (TELEGRAM_CAPTION_MAX, False)],
)
async def test_a_caption_near_1024_is_never_pushed_over(
    bot: DryRunBot, fake_telegram: FakeTelegram, length: int, in_place: bool
) -> None:
    html = html_of_length(length)
    await bot.send_photo(EDITOR_ID, PHOTO, caption=html, parse_mode=ParseMode.HTML)

    messages = fake_telegram.sent(EDITOR_ID)
    captioned = messages[-1]
    assert captioned.photo is not None
    assert len(captioned.caption or "") == length + (MARK if in_place else 0)
    assert shown(fake_telegram)[:-1] == ([] if in_place else [NOTE_BEFORE])


async def test_an_edit_the_mark_would_push_over_is_noted_under_the_message(
    bot: DryRunBot, fake_telegram: FakeTelegram
) -> None:
    sent = await bot.send_message(EDITOR_ID, "a card", parse_mode=ParseMode.HTML)
    photo = await bot.send_photo(EDITOR_ID, PHOTO, caption="a cover")
    assert shown(fake_telegram) == [DRY_RUN_MARK + "a card", DRY_RUN_MARK + "a cover"]

    await sent.edit_text(html_of_length(TELEGRAM_TEXT_MAX), parse_mode=ParseMode.HTML)
    await photo.edit_caption(html_of_length(TELEGRAM_CAPTION_MAX), parse_mode=ParseMode.HTML)
    await sent.edit_text("short again", parse_mode=ParseMode.HTML)

    card, cover, *notes = fake_telegram.sent(EDITOR_ID)
    assert card.text == DRY_RUN_MARK + "short again"
    assert len(cover.caption or "") == TELEGRAM_CAPTION_MAX
    assert [n.text for n in notes] == [NOTE_EDITED, NOTE_EDITED]


async def test_explicit_entities_are_not_shifted_by_the_mark(
    bot: DryRunBot, fake_telegram: FakeTelegram
) -> None:
    bold = telegram.MessageEntity(telegram.MessageEntity.BOLD, offset=0, length=5)
    message = await bot.send_message(EDITOR_ID, "Issue 7 is out", entities=[bold])

    assert shown(fake_telegram) == [NOTE_BEFORE, "Issue 7 is out"]
    assert message.entities == (bold,)


def test_text_outside_html_is_measured_by_an_upper_bound() -> None:
    """Markup only adds characters, so the raw length never lets an overflow through."""
    assert fits_marked("x" * (TELEGRAM_TEXT_MAX - MARK), None, TELEGRAM_TEXT_MAX)
    assert not fits_marked("x" * (TELEGRAM_TEXT_MAX - MARK + 1), None, TELEGRAM_TEXT_MAX)
    assert fits_marked("<b>" + "x" * (TELEGRAM_TEXT_MAX - MARK) + "</b>", "HTML", 4096)
