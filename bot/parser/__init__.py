"""Parse weekly issue Markdown into `bot.issue` types, and pair summary and full forms."""

from bot.issue import NotAnIssue
from bot.parser._core import parse_issue
from bot.parser._headings import heading_label
from bot.parser._items import strip_annotations
from bot.parser.pairing import ItemPair, Pairing, pair_summary_full

__all__ = [
    "ItemPair",
    "NotAnIssue",
    "Pairing",
    "heading_label",
    "pair_summary_full",
    "parse_issue",
    "strip_annotations",
]
