"""Format the Sunday roundup of other newsletters for the Telegram channel.

Pure: a `Roundup` (and the channel's language and handle) in, `TelegramPost`s within
the limits out, measured with `publishers.limits` through `within`.

Shaped as the editor's script (`resources/weekly_collection.py`) sends it: why the
roundup, the date range (`时间：2026.11.30 - 2026.12.06`), one numbered linked title per
newsletter (①②③…, a blank line between), the channel's handle. The link preview is
off (a preview of one newsletter would misrepresent a list). Titles are the feeds'
(escaped, cut past `DIGEST_TITLE_MAX`); past 4,096 characters or 100 entities the
list is split between entries (`(k/n)`), never inside one.

X gets no roundup: the script posts it to the channel only, and on X six links to
other newsletters would be a thread of link cards under the newsletter's own account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.domain.issue import Lang
from bot.domain.roundup import Roundup
from publishers.format_common import Block, circled, clean_line, fit, join_blocks, pack_numbered
from publishers.format_telegram import DIGEST_TITLE_MAX, channel_line, within
from publishers.limits import TELEGRAM_TEXT_MAX
from publishers.posts import TelegramPost, TelegramText
from publishers.telegram_html import escape, link

_PITCH: dict[Lang, str] = {
    "zh": "Python 社区中有不少优秀的技术周刊，这里把最近一周内发布的周刊汇集起来，"
    "供诸位 Pythonista 们丰富阅读。",
    "en": "The Python community has many fine newsletters: here are the issues they"
    " published this past week, for more good reading.",
    "ja": "Python コミュニティの優れたニュースレターから、この一週間に発行された号をまとめました。",
}
_RANGE: dict[Lang, str] = {"zh": "时间：{} - {}", "en": "Dates: {} - {}", "ja": "期間：{} - {}"}


def date_range(start: dt.date, end: dt.date, lang: Lang) -> str:
    """`时间：2026.11.30 - 2026.12.06`, as the script writes it."""
    return _RANGE[lang].format(start.strftime("%Y.%m.%d"), end.strftime("%Y.%m.%d"))


def format_roundup_telegram(
    roundup: Roundup, *, lang: Lang, channel: str | None
) -> tuple[TelegramPost, ...]:
    """The roundup's posts: one message unless it outgrows Telegram's limits.

    Raises:
        ValueError: the roundup lists nothing (there is nothing to post).
    """
    if roundup.empty:
        raise ValueError("an empty roundup is not posted")
    header = escape(_PITCH[lang]) + "\n\n" + escape(date_range(roundup.start, roundup.end, lang))
    blocks = [Block(header)]
    for number, entry in enumerate(roundup.entries, start=1):
        title = fit(clean_line(entry.title), lambda t: len(t) <= DIGEST_TITLE_MAX) or entry.url
        blocks.append(Block(f"{circled(number)} {link(entry.url, title)}", opens_section=True))
    if channel:
        blocks.append(Block(channel_line(channel, lang), opens_section=True))

    def render(numbering: str, part: Sequence[Block]) -> str:
        return (f"({numbering})\n\n" if numbering else "") + join_blocks(part)

    parts = pack_numbered(blocks, render, lambda html: within(html, TELEGRAM_TEXT_MAX))
    total = len(parts)
    return tuple(
        TelegramPost(
            parts=(
                TelegramText(
                    html=render(f"{n}/{total}" if total > 1 else "", part), disable_preview=True
                ),
            )
        )
        for n, part in enumerate(parts, start=1)
    )
