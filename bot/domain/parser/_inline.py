"""Inline Markdown of one line, through markdown-it-py's inline rule chain.

A real inline parser gets nested brackets in link texts and parentheses in URLs right
(anomaly A9), which no single regex does.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

# Only lines with one of these can hold inline markup; the rest are taken as written.
_MARKUP_CHARS = re.compile(r"[\[\\*_`<&]")
_EMPHASIS = frozenset({"em_open", "em_close", "strong_open", "strong_close"})


@dataclass(frozen=True, slots=True)
class Span:
    """A run of a line: plain text, a link, or an image (text is the alt for images)."""

    kind: str  # "text" | "link" | "image"
    text: str
    url: str = ""


@functools.cache
def _markdown() -> MarkdownIt:
    """Build the CommonMark parser once, on first use (not at import).

    Raw HTML never occurs in issues (FORMAT.md §3.1), so that rule is off; URLs are kept
    as written (no percent-encoding), which is what a reader and the link checks want.
    """
    md = MarkdownIt("commonmark").disable("html_inline")
    md.normalizeLink = _as_written  # type: ignore[method-assign]
    return md


def _as_written(url: str) -> str:
    return url


def spans(line: str) -> list[Span]:
    """Split one line into text, link and image spans, markup removed from the text."""
    if not _MARKUP_CHARS.search(line):
        return [Span("text", line)]
    tokens = _markdown().parseInline(line)
    children = tokens[0].children if tokens else None
    if not children:
        return [Span("text", line)]
    out: list[Span] = []
    text_parts: list[str] = []
    link_url: str | None = None
    link_parts: list[str] = []
    for token in children:
        kind = token.type
        if kind == "text" or kind == "code_inline" or kind == "html_inline":
            (link_parts if link_url is not None else text_parts).append(token.content)
        elif kind in _EMPHASIS and token.markup in ("_", "__"):
            # `__slots__`, `_private_`: the newsletter never emphasises with underscores,
            # so these are Python names and keep their underscores.
            (link_parts if link_url is not None else text_parts).append(token.markup)
        elif kind == "softbreak" or kind == "hardbreak":
            (link_parts if link_url is not None else text_parts).append(" ")
        elif kind == "link_open":
            if text_parts:
                out.append(Span("text", "".join(text_parts)))
                text_parts = []
            link_url = str(token.attrs.get("href", ""))
            link_parts = []
        elif kind == "link_close":
            out.append(Span("link", "".join(link_parts), link_url or ""))
            link_url = None
        elif kind == "image":
            if link_url is not None:
                continue  # an image inside a link: the link is what counts
            if text_parts:
                out.append(Span("text", "".join(text_parts)))
                text_parts = []
            out.append(Span("image", token.content, str(token.attrs.get("src", ""))))
    if link_url is not None:  # unbalanced: keep the text
        text_parts.extend(link_parts)
    if text_parts:
        out.append(Span("text", "".join(text_parts)))
    return out


def plain(parts: list[Span]) -> str:
    """Return the text a reader sees: link texts kept, images dropped."""
    return "".join(p.text for p in parts if p.kind != "image")
