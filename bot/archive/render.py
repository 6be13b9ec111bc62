"""What a reader sees of a search (pure): the /search reply, its page buttons, an inline
result's texts. Words from `bot.texts`, in the reader's language; Telegram HTML."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.archive.search import Found, Result
from bot.domain.issue import SectionKind
from bot.editors.kit import CallbackCodec
from bot.texts import ChatLang, TextKey, text
from publishers.telegram_html import escape, link

PAGE_SIZE = 10  # results per /search reply
MAX_PAGES = 50  # a page button goes this deep at most (500 results)
# `sr:1:p<page>:<query id>`: the query's text is stored once (`data.search`), by id.
SEARCH_BUTTONS = CallbackCodec("sr", [f"p{n}" for n in range(MAX_PAGES)], version=1)

SECTION_NAMES: dict[SectionKind, TextKey] = {
    "articles": "search.section.articles",
    "projects": "search.section.projects",
    "podcasts": "search.section.podcasts",
    "discussions": "search.section.discussions",
}


def meta(result: Result, lang: ChatLang) -> str:
    """`#120 · 2025-09-20 · Projects` (plain text)."""
    return text(
        "search.meta",
        lang,
        issue=result.issue,
        date=result.date or text("search.undated", lang),
        section=text(SECTION_NAMES[result.section], lang),
    )


def linked_title(result: Result) -> str:
    return link(result.url, result.title) if result.url else escape(result.title)


@dataclass(frozen=True, slots=True)
class Reply:
    text: str  # Telegram HTML
    markup: InlineKeyboardMarkup | None


def search_reply(
    query_text: str,
    found: Found,
    lang: ChatLang,
    *,
    page: int,
    query_id: int | None,
    ignored: tuple[str, ...] = (),
) -> Reply:
    """One page of results with its buttons (◀ ▶ when there are pages to go to;
    `query_id` None: no buttons)."""
    lines: list[str] = []
    if ignored:
        lines.append(text("search.ignored", lang, filters=escape(" ".join(ignored))))
    if not found.results:
        lines.append(text("search.none", lang, query=escape(query_text)))
        return Reply("\n".join(lines), None)
    lines.append(text("search.head", lang, query=escape(query_text), page=page + 1))
    for n, result in enumerate(found.results, start=found.offset + 1):
        lines.append(
            text(
                "search.line",
                lang,
                n=n,
                title=linked_title(result),
                meta=escape(meta(result, lang)),
            )
        )
    buttons: list[InlineKeyboardButton] = []
    if query_id is not None:
        if page > 0:
            buttons.append(
                SEARCH_BUTTONS.button(text("button.search.prev", lang), f"p{page - 1}", query_id)
            )
        if found.more and page + 1 < MAX_PAGES:
            buttons.append(
                SEARCH_BUTTONS.button(text("button.search.next", lang), f"p{page + 1}", query_id)
            )
    return Reply("\n".join(lines), InlineKeyboardMarkup([buttons]) if buttons else None)


def inline_message(result: Result, lang: ChatLang) -> str:
    """What a shared inline result posts in the chat (Telegram HTML)."""
    return text("search.shared", lang, title=linked_title(result), meta=escape(meta(result, lang)))
