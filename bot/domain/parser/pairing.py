"""Pair the summary form of an issue with its full form, released 50 issues later.

Summary titles are the link texts of the full form, in the same order (FORMAT.md §1.3),
so titles folded to letters and digits match; the bot then adds links without posting
an item twice.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from bot.domain.issue import Issue, Item, SectionKind
from bot.domain.parser._text import title_key

# Close enough to be the same title after an editor's touch-up (a typo, a dropped word).
FUZZY_RATIO = 0.85


@dataclass(frozen=True, slots=True)
class ItemPair:
    kind: SectionKind
    summary: Item
    full: Item
    exact: bool  # False: matched on a close (not identical) title


@dataclass(frozen=True, slots=True)
class Pairing:
    pairs: tuple[ItemPair, ...]
    unmatched_summary: tuple[tuple[SectionKind, Item], ...]
    unmatched_full: tuple[tuple[SectionKind, Item], ...]

    @property
    def complete(self) -> bool:
        return not self.unmatched_summary and not self.unmatched_full


def pair_summary_full(summary: Issue, full: Issue) -> Pairing:
    """Match items by normalised title within each section kind; report the leftovers."""
    pairs: list[ItemPair] = []
    lone_summary: list[tuple[SectionKind, Item]] = []
    lone_full: list[tuple[SectionKind, Item]] = []
    kinds = [s.kind for s in summary.sections]
    kinds += [s.kind for s in full.sections if s.kind not in kinds]
    for kind in kinds:
        s_section, f_section = summary.section(kind), full.section(kind)
        s_items = list(s_section.items) if s_section else []
        f_items = list(f_section.items) if f_section else []
        matched, rest_s, rest_f = _pair_items(s_items, f_items)
        pairs.extend(ItemPair(kind, s, f, exact) for s, f, exact in matched)
        lone_summary.extend((kind, item) for item in rest_s)
        lone_full.extend((kind, item) for item in rest_f)
    return Pairing(tuple(pairs), tuple(lone_summary), tuple(lone_full))


def _pair_items(
    s_items: list[Item], f_items: list[Item]
) -> tuple[list[tuple[Item, Item, bool]], list[Item], list[Item]]:
    f_keys = [title_key(f.title) for f in f_items]
    taken = [False] * len(f_items)
    found: dict[int, tuple[int, bool]] = {}
    for i, s in enumerate(s_items):
        key = title_key(s.title)
        for j, f_key in enumerate(f_keys):
            if not taken[j] and key and key == f_key:
                taken[j] = True
                found[i] = (j, True)
                break
    for i, s in enumerate(s_items):
        if i in found:
            continue
        key = title_key(s.title)
        best, best_ratio = -1, FUZZY_RATIO
        for j, f_key in enumerate(f_keys):
            if taken[j]:
                continue
            ratio = difflib.SequenceMatcher(None, key, f_key).ratio()
            if ratio >= best_ratio:
                best, best_ratio = j, ratio
        if best >= 0:
            taken[best] = True
            found[i] = (best, False)
    matched = [(s_items[i], f_items[j], exact) for i, (j, exact) in sorted(found.items())]
    rest_s = [s for i, s in enumerate(s_items) if i not in found]
    rest_f = [f for j, f in enumerate(f_items) if not taken[j]]
    return matched, rest_s, rest_f
