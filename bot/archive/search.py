"""The archive search the bot, inline mode and `weeklybot search` share.

`ArchiveSearch.find` runs a parsed query (`bot.archive.query`) through the store
(`data.search`) and gives each hit the link a reader follows: the item's own, or for a
summary item (no link) the issue file's page on the repository (`IssuePages`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.archive.query import ArchiveQuery
from bot.domain.issue import IssuePages, Lang, SectionKind
from data.search import SearchStore


@dataclass(frozen=True, slots=True)
class Result:
    item_id: int
    issue: int
    date: str | None
    lang: Lang
    section: SectionKind
    title: str
    url: str | None  # the item's link, else its issue's page, else None
    rank: float

    def to_json(self) -> dict[str, Any]:
        """What `weeklybot search --json` prints for one result."""
        return {
            "issue": self.issue,
            "date": self.date,
            "lang": self.lang,
            "section": self.section,
            "title": self.title,
            "url": self.url,
            "rank": self.rank,
        }


@dataclass(frozen=True, slots=True)
class Found:
    results: tuple[Result, ...]
    offset: int
    more: bool  # another page follows


class ArchiveSearch:
    def __init__(self, store: SearchStore, pages: IssuePages | None = None) -> None:
        self.store = store
        self.pages = pages

    async def find(self, query: ArchiveQuery, *, limit: int = 10, offset: int = 0) -> Found:
        if query.empty:
            return Found((), offset, False)
        page = await self.store.search(
            match=query.match,
            title_match=query.title_match,
            section=query.section,
            issue=query.issue,
            year=query.year,
            lang=query.lang,
            limit=limit,
            offset=offset,
        )
        results = tuple(
            Result(
                item_id=hit.item_id,
                issue=hit.issue,
                date=hit.date,
                lang=hit.lang,
                section=hit.section,
                title=hit.title,
                url=hit.url or self._page(hit.lang, hit.date),
                rank=round(hit.rank, 6),
            )
            for hit in page.hits
        )
        return Found(results, offset, page.more)

    def _page(self, lang: Lang, date: str | None) -> str | None:
        if self.pages is None or date is None:
            return None
        return self.pages.url(lang, dt.date.fromisoformat(date))
