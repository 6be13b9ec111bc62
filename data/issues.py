"""Parsed issues in the database: upsert with change detection, and loading them back.

An issue is stored as one `issues` row (issue-level fields and the section list as
JSON) plus one `items` row per item. `content_hash` covers everything parsed, so a
re-fetch that parses to the same issue is recognised as unchanged and writes nothing.
Each item row also keeps its link's `item_dedupe_key`, so a reader's submission is
matched against every item ever stored by one indexed lookup (`data.submissions`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from bot.domain.issue import Form, Image, Issue, Item, Lang, Link, Section, SectionKind
from bot.domain.urls import item_dedupe_key
from data.db import Database, When, to_ts
from data.search import index_item, item_index_row, unindex_issue


@dataclass(frozen=True, slots=True)
class IssueUpsert:
    issue_id: int
    created: bool  # first time this (number, lang) was seen
    changed: bool  # created, or its content differs from what was stored


def _issue_fields(issue: Issue) -> dict[str, Any]:
    fields = {
        "number": issue.number,
        "date": issue.date.isoformat() if issue.date else None,
        "lang": issue.lang,
        "form": issue.form,
        "title": issue.title,
        "intro": list(issue.intro),
        "stated_counts": [[kind, count] for kind, count in issue.stated_counts],
        "warnings": list(issue.warnings),
        "sections": [{"kind": s.kind, "heading": s.heading} for s in issue.sections],
    }
    # Only when there is one, so the hash of an issue stored before the field existed
    # (and without a link) stays what it was.
    if issue.full_text_url is not None:
        fields["full_text_url"] = issue.full_text_url
    return fields


def _item_fields(kind: SectionKind, item: Item) -> dict[str, Any]:
    return {
        "kind": kind,
        "idx": item.index,
        "number_as_written": item.number_as_written,
        "title": item.title,
        "url": item.url,
        "lang_tag": item.lang_tag,
        "description": item.description,
        "description_md": item.description_md,
        "stars": list(item.stars),
        "stars_as_written": list(item.stars_as_written),
        "credit": item.credit,
        "flags": sorted(item.flags),
        "images": [{"url": i.url, "alt": i.alt} for i in item.images],
        "sub_links": _links(item.sub_links),
        "description_links": _links(item.description_links),
        "orphan_text": item.orphan_text,
    }


def _links(links: Sequence[Link]) -> list[dict[str, str]]:
    return [{"title": link.title, "url": link.url} for link in links]


def _canonical_items(issue: Issue) -> list[dict[str, Any]]:
    """Items in the order `load` returns them: by section, then by index."""
    return [
        _item_fields(section.kind, item)
        for section in issue.sections
        for item in sorted(section.items, key=lambda item: item.index)
    ]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def issue_content_hash(issue: Issue) -> str:
    """Hash everything the parser produced, in a canonical form."""
    canonical = _dumps({"issue": _issue_fields(issue), "items": _canonical_items(issue)})
    return hashlib.sha256(canonical.encode()).hexdigest()


_JSON_ITEM_COLUMNS = (
    "stars",
    "stars_as_written",
    "flags",
    "images",
    "sub_links",
    "description_links",
)
_ITEM_COLUMNS = (
    "kind",
    "idx",
    "number_as_written",
    "title",
    "url",
    "lang_tag",
    "description",
    "description_md",
    *_JSON_ITEM_COLUMNS,
    "credit",
    "orphan_text",
)


def _item_from_row(row: Any) -> Item:
    return Item(
        index=row["idx"],
        number_as_written=row["number_as_written"],
        title=row["title"],
        url=row["url"],
        lang_tag=row["lang_tag"],
        description=row["description"],
        description_md=row["description_md"],
        images=tuple(Image(url=i["url"], alt=i["alt"]) for i in json.loads(row["images"])),
        stars=tuple(json.loads(row["stars"])),
        stars_as_written=tuple(json.loads(row["stars_as_written"])),
        credit=row["credit"],
        sub_links=_links_from(row["sub_links"]),
        flags=frozenset(json.loads(row["flags"])),
        description_links=_links_from(row["description_links"]),
        orphan_text=row["orphan_text"],
    )


def _links_from(text: str) -> tuple[Link, ...]:
    return tuple(Link(title=link["title"], url=link["url"]) for link in json.loads(text))


def _issue_from_rows(parsed: dict[str, Any], items: Sequence[Any]) -> Issue:
    by_kind: dict[str, list[Item]] = {}
    for row in items:
        by_kind.setdefault(row["kind"], []).append(_item_from_row(row))
    sections = tuple(
        Section(
            kind=cast(SectionKind, s["kind"]),
            heading=s["heading"],
            items=tuple(sorted(by_kind.get(s["kind"], []), key=lambda item: item.index)),
        )
        for s in parsed["sections"]
    )
    return Issue(
        number=parsed["number"],
        date=dt.date.fromisoformat(parsed["date"]) if parsed["date"] else None,
        lang=cast(Lang, parsed["lang"]),
        form=cast(Form, parsed["form"]),
        title=parsed["title"],
        sections=sections,
        intro=tuple(parsed["intro"]),
        stated_counts=tuple((cast(SectionKind, k), int(n)) for k, n in parsed["stated_counts"]),
        warnings=tuple(parsed["warnings"]),
        full_text_url=parsed.get("full_text_url"),
    )


class IssueStore:
    """Store and load parsed issues of one `Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert(
        self,
        issue: Issue,
        *,
        now: When,
        source_path: str | None = None,
        raw: str | None = None,
    ) -> IssueUpsert:
        """Insert or replace the issue keyed by (number, lang); report whether it changed.

        An unchanged issue (same content hash) is left alone, `raw` and `source_path`
        included, so a re-fetch costs one read.

        Raises:
            ValueError: the issue has no number (nothing to key it by).
        """
        if issue.number is None:
            raise ValueError("an issue without a number cannot be stored")
        at = to_ts(now)
        content_hash = issue_content_hash(issue)
        fields = _issue_fields(issue)
        async with self._db.transaction() as tx:
            existing = await tx.fetchone(
                "SELECT id, content_hash FROM issues WHERE number = ? AND lang = ?",
                (issue.number, issue.lang),
            )
            if existing is not None and existing["content_hash"] == content_hash:
                return IssueUpsert(issue_id=existing["id"], created=False, changed=False)
            values = (
                fields["date"],
                issue.form,
                issue.title,
                source_path,
                content_hash,
                raw,
                _dumps(fields),
                at,
            )
            if existing is None:
                issue_id = await tx.insert(
                    "INSERT INTO issues (date, form, title, source_path, content_hash, raw,"
                    " parsed, updated_at, number, lang, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*values, issue.number, issue.lang, at),
                )
            else:
                issue_id = int(existing["id"])
                await tx.execute(
                    "UPDATE issues SET date = ?, form = ?, title = ?, source_path = ?,"
                    " content_hash = ?, raw = ?, parsed = ?, updated_at = ? WHERE id = ?",
                    (*values, issue_id),
                )
                await unindex_issue(tx, issue_id)
                await tx.execute("DELETE FROM items WHERE issue_id = ?", (issue_id,))
            placeholders = ", ".join("?" for _ in range(len(_ITEM_COLUMNS) + 2))
            headings = {s.kind: s.heading for s in issue.sections}
            for item_fields in _canonical_items(issue):
                # The dedupe key is derived, not parsed: outside the content hash.
                item_id = await tx.insert(
                    f"INSERT INTO items (issue_id, dedupe_key, {', '.join(_ITEM_COLUMNS)})"  # noqa: S608
                    f" VALUES ({placeholders})",
                    (
                        issue_id,
                        item_dedupe_key(item_fields["url"]),
                        *(
                            _dumps(item_fields[c]) if c in _JSON_ITEM_COLUMNS else item_fields[c]
                            for c in _ITEM_COLUMNS
                        ),
                    ),
                )
                # The search index is kept here, the one place items are written.
                kind = item_fields["kind"]
                indexed = item_index_row(kind, headings.get(kind, ""), item_fields)
                if indexed is not None:
                    await index_item(tx, item_id, indexed)
            return IssueUpsert(issue_id=issue_id, created=existing is None, changed=True)

    async def load(self, number: int, lang: Lang) -> Issue | None:
        """Rebuild the stored issue exactly as it was upserted."""
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone(
                "SELECT id, parsed FROM issues WHERE number = ? AND lang = ?", (number, lang)
            )
            if row is None:
                return None
            items = await tx.fetchall(
                "SELECT * FROM items WHERE issue_id = ? ORDER BY id", (row["id"],)
            )
        return _issue_from_rows(json.loads(row["parsed"]), items)

    async def content_hash(self, number: int, lang: Lang) -> str | None:
        """The stored hash, to compare with `issue_content_hash` of a fresh parse."""
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone(
                "SELECT content_hash FROM issues WHERE number = ? AND lang = ?", (number, lang)
            )
        return None if row is None else str(row["content_hash"])

    async def latest_number(self, lang: Lang) -> int | None:
        """The highest stored issue number in `lang`."""
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone("SELECT max(number) AS n FROM issues WHERE lang = ?", (lang,))
        return None if row is None or row["n"] is None else int(row["n"])

    async def number_at(self, paths: Sequence[str]) -> int | None:
        """The number of an issue stored from one of `paths` (the languages of one file
        name), for a file of it that the parser refused."""
        if not paths:
            return None
        marks = ", ".join("?" for _ in paths)
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone(
                f"SELECT number FROM issues WHERE source_path IN ({marks})"  # noqa: S608
                " ORDER BY lang = 'zh' DESC, number DESC LIMIT 1",
                tuple(paths),
            )
        return None if row is None else int(row["number"])

    async def newest_dated(self) -> tuple[int, dt.date] | None:
        """The stored issue with the latest date (any language): number and date."""
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone(
                "SELECT number, date FROM issues WHERE date IS NOT NULL"
                " ORDER BY date DESC, number DESC LIMIT 1"
            )
        if row is None:
            return None
        return int(row["number"]), dt.date.fromisoformat(row["date"])

    async def count_from(self, paths: Sequence[str]) -> tuple[int, int]:
        """How many issues, and items of theirs, are stored from the files at `paths`."""
        row = await self._db.fetchone(
            "SELECT count(*) AS issues,"
            " coalesce(sum((SELECT count(*) FROM items WHERE issue_id = issues.id)), 0) AS items"
            " FROM issues WHERE source_path IN (SELECT value FROM json_each(?))",
            (json.dumps(list(paths)),),
        )
        return (0, 0) if row is None else (int(row["issues"]), int(row["items"]))

    async def stored_form(self, number: int, lang: Lang) -> Form | None:
        """The form of the stored issue (full, summary, special), None if not stored."""
        row = await self._db.fetchone(
            "SELECT form FROM issues WHERE number = ? AND lang = ?", (number, lang)
        )
        return None if row is None else cast(Form, row["form"])
