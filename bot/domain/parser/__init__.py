"""Parse weekly issue Markdown into `bot.domain.issue` types, and pair summary and full forms."""

from bot.domain.issue import NotAnIssue
from bot.domain.parser._core import parse_issue
from bot.domain.parser._headings import heading_label
from bot.domain.parser._items import strip_annotations
from bot.domain.parser.pairing import ItemPair, Pairing, pair_summary_full

__all__ = [
    "ItemPair",
    "NotAnIssue",
    "Pairing",
    "heading_label",
    "pair_summary_full",
    "parse_issue",
    "strip_annotations",
]
