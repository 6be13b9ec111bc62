"""Small builders of `Item` and `Issue` for tests, and the hypothesis strategies that fill them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from bot.domain.issue import Image, Issue, Item, Lang, Section, SectionKind

ISSUE_URL = "https://pythoncat.top/posts/2025-06-07-weekly"


def make_item(index: int = 1, **overrides: Any) -> Item:
    """Return a plausible project item; keyword arguments replace its fields."""
    fields: dict[str, Any] = {
        "index": index,
        "number_as_written": str(index),
        "title": f"gpustack {index}: a GPU cluster manager for AI models",
        "url": f"https://github.com/gpustack/gpustack{index}",
        "description": "An open-source GPU cluster manager for running AI models.",
        "stars": (7200,),
        "stars_as_written": ("7.2K",),
        "credit": "@Zeeland",
    }
    fields.update(overrides)
    return Item(**fields)


def make_image(url: str = "https://img.pythoncat.top/gpustack.png") -> Image:
    return Image(url=url, alt="screenshot")


def make_issue(
    sections: dict[SectionKind, list[Item]] | None = None,
    *,
    number: int | None = 106,
    lang: Lang = "zh",
    title: str | None = None,
) -> Issue:
    """Return an issue with the given items per section (one project by default)."""
    if sections is None:
        sections = {"projects": [make_item()]}
    if title is None:
        title = (
            f"Python 潮流周刊#{number}：GPU 与 AI"
            if lang == "zh"
            else f"Python Trending Weekly #{number}"
        )
    return Issue(
        number=number,
        date=dt.date(2025, 6, 7),
        lang=lang,
        form="full",
        title=title,
        sections=tuple(
            Section(kind=kind, heading=kind, items=tuple(items)) for kind, items in sections.items()
        ),
    )


def any_text(
    *, max_size: int, max_repeats: int, max_length: int | None = None
) -> st.SearchStrategy[str]:
    """Any text, often long.

    Plain st.text() rarely grows long; repeating a short sample up to `max_repeats`
    times reaches the cutting paths. `max_length` cuts the repeated text: past a
    formatter's cutting window a longer text takes the same path, only slower.
    """
    chars = st.characters(exclude_categories=["Cs"])
    return st.text(chars, max_size=max_size) | st.builds(
        lambda sample, times: (sample * times)[:max_length],
        st.text(chars, min_size=1, max_size=20),
        st.integers(1, max_repeats),
    )


def any_url(*, path_chars: str, max_path: int) -> st.SearchStrategy[str]:
    """An https URL on a made-up host whose path is drawn from `path_chars`."""
    return st.builds(
        lambda host, path: f"https://{host}.com/{path}",
        st.text("abcdefghij", min_size=1, max_size=12),
        st.text(path_chars, max_size=max_path),
    )
