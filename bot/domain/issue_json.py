"""The JSON shape of a parsed issue: the contract of `weeklybot parse --json`."""

from __future__ import annotations

from typing import Any

from bot.domain.issue import Issue, Item, Section


def issue_to_json(issue: Issue) -> dict[str, Any]:
    """Return a JSON-ready dict; keys beyond the contract are additions, never renames."""
    return {
        "number": issue.number,
        "date": issue.date.isoformat() if issue.date else None,
        "lang": issue.lang,
        "form": issue.form,
        "title": issue.title,
        "sections": [section_to_json(s) for s in issue.sections],
        "intro": list(issue.intro),
        "stated_counts": {kind: n for kind, n in issue.stated_counts},
        "warnings": list(issue.warnings),
        "full_text_url": issue.full_text_url,
    }


def section_to_json(section: Section) -> dict[str, Any]:
    return {
        "kind": section.kind,
        "heading": section.heading,
        "items": [item_to_json(i) for i in section.items],
    }


def item_to_json(item: Item) -> dict[str, Any]:
    return {
        "index": item.index,
        "number_as_written": item.number_as_written,
        "title": item.title,
        "url": item.url,
        "lang_tag": item.lang_tag,
        "description": item.description,
        "description_md": item.description_md,
        "images": [{"url": i.url, "alt": i.alt} for i in item.images],
        "stars": list(item.stars),
        "stars_as_written": list(item.stars_as_written),
        "credit": item.credit,
        "sub_links": [{"title": link.title, "url": link.url} for link in item.sub_links],
        "description_links": [
            {"title": link.title, "url": link.url} for link in item.description_links
        ],
        "orphan_text": item.orphan_text,
        "flags": sorted(item.flags),
    }
