"""The archive's search: an FTS5 index over the stored items, and the paged queries.

`item_search` (migration 14) holds one row per stored item, its rowid the item's id,
its columns the texts `bot.domain.search_text.indexed_item` prepares (CJK as bigrams).
It is written only where items are written, `IssueStore.upsert` (through
`index_issue_items` and `unindex_issue`, in the same transaction), so the bot's quiet
first baseline, a poll, a backfill and `weeklybot import` all keep it by one path.

Ranking: an item whose title holds every word comes first; then bm25 with the title
weighted above the description, the domain and the section; then newer issues first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from bot.domain.issue import DELETED, Lang, SectionKind
from bot.domain.search_text import IndexedItem, indexed_item
from data.db import Database, Tx, When, to_ts

# bm25 weights of (title, description, domain, section): a title hit counts most.
BM25_WEIGHTS = (10.0, 2.0, 1.0, 1.0)

SEARCH_DDL = """
CREATE VIRTUAL TABLE item_search USING fts5(
    title, description, domain, section,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE search_queries (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE,       -- the query as understood (ArchiveQuery.text)
    created_at REAL NOT NULL
) STRICT;
"""


@dataclass(frozen=True, slots=True)
class SearchHit:
    item_id: int
    issue: int
    date: str | None  # ISO date of the issue
    lang: Lang
    section: SectionKind
    title: str
    url: str | None  # the item's link; None for a summary item
    rank: float  # bm25, lower is better; 0.0 for a search by filters only
    in_title: bool  # every word is in the title


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: tuple[SearchHit, ...]
    more: bool  # another page follows


def _row_text(row: IndexedItem) -> tuple[str, str, str, str]:
    return (row.title, row.description, row.domain, row.section)


def item_index_row(kind: SectionKind, heading: str, fields: dict[str, Any]) -> IndexedItem | None:
    """The index row of one item (`fields` as `data.issues` stores them: its title,
    description, orphan text, url, flags and sub-links); None: not indexed (a deleted
    entry's placeholder)."""
    if DELETED in fields["flags"]:
        return None
    return indexed_item(
        title=fields["title"],
        description=fields["description"] or fields["orphan_text"],
        url=fields["url"],
        kind=kind,
        heading=heading,
        extra=tuple(link["title"] for link in fields["sub_links"]),
    )


async def index_item(tx: Tx, item_id: int, row: IndexedItem) -> None:
    await tx.execute(
        "INSERT INTO item_search (rowid, title, description, domain, section)"
        " VALUES (?, ?, ?, ?, ?)",
        (item_id, *_row_text(row)),
    )


async def unindex_issue(tx: Tx, issue_id: int) -> None:
    """Drop an issue's items from the index (before its items are replaced)."""
    await tx.execute(
        "DELETE FROM item_search WHERE rowid IN (SELECT id FROM items WHERE issue_id = ?)",
        (issue_id,),
    )


async def build_index(tx: Tx) -> int:
    """Index every stored item (migration 14, for items stored before it); the count."""
    issues = await tx.fetchall("SELECT id, parsed FROM issues")
    count = 0
    for issue_row in issues:
        parsed = json.loads(issue_row["parsed"])
        # An issue stored in an older shape may lack its sections: its items are still
        # indexed, without the section's heading.
        headings = {s["kind"]: s["heading"] for s in parsed.get("sections", [])}
        items = await tx.fetchall(
            "SELECT id, kind, title, url, description, orphan_text, flags, sub_links"
            " FROM items WHERE issue_id = ?",
            (issue_row["id"],),
        )
        for item in items:
            kind = cast(SectionKind, item["kind"])
            fields = {
                **dict(item),
                "flags": json.loads(item["flags"]),
                "sub_links": json.loads(item["sub_links"]),
            }
            row = item_index_row(kind, headings.get(kind, ""), fields)
            if row is None:
                continue
            await index_item(tx, int(item["id"]), row)
            count += 1
    return count


class SearchStore:
    """Search the archive of one `Database`; remember paged queries by id."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def search(
        self,
        *,
        match: str | None,
        title_match: str | None = None,
        section: SectionKind | None = None,
        issue: int | None = None,
        year: int | None = None,
        lang: Lang | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> SearchPage:
        """One page of hits, best first. `match` is an FTS5 expression made by
        `bot.archive.query.parse_query` (never a reader's text); None: filters only."""
        where: list[str] = []
        params: list[Any] = []
        if match is not None:
            where.append("item_search MATCH ?")
            params.append(match)
        if section is not None:
            where.append("i.kind = ?")
            params.append(section)
        if issue is not None:
            where.append("s.number = ?")
            params.append(issue)
        if year is not None:
            where.append("s.date >= ? AND s.date < ?")
            params += [f"{year:04d}-01-01", f"{year + 1:04d}-01-01"]
        if lang is not None:
            where.append("s.lang = ?")
            params.append(lang)
        cols = "i.id AS item_id, s.number, s.date, s.lang, i.kind, i.title, i.url, i.idx"
        if match is not None:
            weights = ", ".join(str(w) for w in BM25_WEIGHTS)
            tier = (
                "item_search.rowid IN (SELECT rowid FROM item_search WHERE item_search MATCH ?)"
                if title_match is not None
                else "0"
            )
            sql = (
                f"SELECT {cols}, bm25(item_search, {weights}) AS rank, {tier} AS in_title"  # noqa: S608
                " FROM item_search JOIN items i ON i.id = item_search.rowid"
                " JOIN issues s ON s.id = i.issue_id"
                f" WHERE {' AND '.join(where)}"
                " ORDER BY in_title DESC, rank, s.date DESC, s.number DESC, i.id"
                " LIMIT ? OFFSET ?"
            )
            if title_match is not None:
                params.insert(0, title_match)
        else:
            sql = (
                f"SELECT {cols}, 0.0 AS rank, 0 AS in_title"  # noqa: S608
                " FROM items i JOIN issues s ON s.id = i.issue_id"
                " JOIN item_search ON item_search.rowid = i.id"
                f" WHERE {' AND '.join(where) or '1'}"
                " ORDER BY s.date DESC, s.number DESC, s.lang, i.id"
                " LIMIT ? OFFSET ?"
            )
        params += [limit + 1, offset]
        rows = await self._db.fetchall(sql, tuple(params))
        hits = tuple(
            SearchHit(
                item_id=int(r["item_id"]),
                issue=int(r["number"]),
                date=r["date"],
                lang=cast(Lang, r["lang"]),
                section=cast(SectionKind, r["kind"]),
                title=r["title"],
                url=r["url"],
                rank=float(r["rank"]),
                in_title=bool(r["in_title"]),
            )
            for r in rows[:limit]
        )
        return SearchPage(hits, more=len(rows) > limit)

    async def indexed_count(self) -> int:
        row = await self._db.fetchone("SELECT count(*) AS n FROM item_search")
        return int(row["n"]) if row else 0

    async def remember(self, text: str, *, now: When) -> int:
        """The id of a query's text, stored once: what a page button carries."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO search_queries (text, created_at) VALUES (?, ?)"
                " ON CONFLICT (text) DO NOTHING",
                (text, to_ts(now)),
            )
            row = await tx.fetchone("SELECT id FROM search_queries WHERE text = ?", (text,))
        assert row is not None
        return int(row["id"])

    async def recall(self, query_id: int) -> str | None:
        row = await self._db.fetchone("SELECT text FROM search_queries WHERE id = ?", (query_id,))
        return None if row is None else str(row["text"])
