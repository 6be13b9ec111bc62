"""Format the Sunday roundup of other newsletters for the Telegram channel.

Pure: a `Roundup` (and the channel's language and handle) in, `TelegramPost`s within
the limits out, measured with `publishers.limits` through `within`.

Shaped as the editor's script (`resources/weekly_collection.py`) sends it: why the
roundup, the date range (`时间：2026.11.30 - 2026.12.06`), one numbered linked title per
newsletter (①②③…, a blank line between), the channel's handle. The wording is the
templates' (`telegram.roundup_header`, `telegram.roundup_entry`, and the channel line
of `telegram.digest_footer`, as the digest ends); what fits stays here. The link
preview is off (a preview of one newsletter would misrepresent a list). Titles are the
feeds' (escaped, cut past `DIGEST_TITLE_MAX`); past 4,096 characters or 100 entities
the list is split between entries (`(k/n)`), never inside one.

X gets no roundup: the script posts it to the channel only, and on X six links to
other newsletters would be a thread of link cards under the newsletter's own account.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.issue import Lang
from bot.domain.roundup import Roundup
from publishers.format_common import Block, circled, clean_line, fit, join_blocks, pack_numbered
from publishers.format_telegram import DIGEST_TITLE_MAX, channel_line, within
from publishers.limits import TELEGRAM_TEXT_MAX
from publishers.posts import TelegramPost, TelegramText
from publishers.templates import PostTemplates, bundled_templates

DATE_FORMAT = "%Y.%m.%d"  # the range as the script writes it: 2026.11.30


def format_roundup_telegram(
    roundup: Roundup,
    *,
    lang: Lang,
    channel: str | None,
    templates: PostTemplates | None = None,
) -> tuple[TelegramPost, ...]:
    """The roundup's posts: one message unless it outgrows Telegram's limits.

    Its wording is the `telegram.roundup_*` templates' (`templates`, else the bundled).

    Raises:
        ValueError: the roundup lists nothing (there is nothing to post), or a
            template's own text does not fit a message.
    """
    if roundup.empty:
        raise ValueError("an empty roundup is not posted")
    words = templates or bundled_templates()
    header = words.render(
        "telegram.roundup_header",
        lang,
        start=roundup.start.strftime(DATE_FORMAT),
        end=roundup.end.strftime(DATE_FORMAT),
    ).strip()
    blocks = [Block(header)]
    for number, entry in enumerate(roundup.entries, start=1):
        title = fit(clean_line(entry.title), lambda t: len(t) <= DIGEST_TITLE_MAX) or entry.url
        line = words.render(
            "telegram.roundup_entry",
            lang,
            mark=circled(number),
            title=title,
            url=entry.url,
            newsletter=entry.newsletter,
        ).strip()
        blocks.append(Block(line, opens_section=True))
    if channel:
        blocks.append(Block(channel_line(channel, lang, words), opens_section=True))

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
