"""Pure: the summaries as the plain-text replies of `/stats` and `/stats season N`.

Plain text (no parse mode): submitters' names and domains go in as they are, with
nothing to escape. Editor texts, English (`bot.texts` EDITOR_KEYS).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.stats.model import EditorStats, Ranked, SeasonStats, short_name
from bot.texts import TextKey, text


def _ranking(title: TextKey, ranked: Sequence[Ranked]) -> list[str]:
    lines = [text("stats.section", title=text(title))]
    if not ranked:
        return [*lines, text("stats.none")]
    return lines + [
        text("stats.rank_line", position=k, name=short_name(r.name), count=r.count)
        for k, r in enumerate(ranked, 1)
    ]


def editor_summary(stats: EditorStats) -> str:
    lines = [text("stats.head", total=stats.total, people=stats.submitters)]
    rate = stats.acceptance_rate
    if rate is None:
        lines.append(text("stats.no_decision"))
    else:
        lines.append(
            text(
                "stats.acceptance",
                accepted=stats.accepted,
                decided=stats.decided,
                rate=f"{rate:.0%}",
            )
        )
    if stats.by_state:
        states = ", ".join(f"{r.name} {r.count}" for r in stats.by_state)
        lines.append(text("stats.states", states=states))
    if stats.weeks:
        lines.append(
            text(
                "stats.weeks",
                count=len(stats.weeks),
                since=stats.weeks[0].start.isoformat(),
                counts=" ".join(str(w.count) for w in stats.weeks),
            )
        )
    lines += ["", *_ranking("stats.title.domains", stats.top_domains)]
    lines += ["", *_ranking("stats.title.submitters", stats.top_submitters)]
    lines += ["", text("stats.section", title=text("stats.title.posts"))]
    if not stats.posts:
        lines.append(text("stats.none"))
    for post in stats.posts:
        kinds = ", ".join(f"{k.name} {k.count}" for k in post.by_kind)
        lines.append(text("stats.posts_line", target=post.target, sent=post.sent, kinds=kinds))
    return "\n".join(lines)


def season_summary(season: SeasonStats, *, words: int = 10) -> str:
    lines = [
        text(
            "stats.season_head",
            season=season.season,
            first=season.first,
            last=season.last,
            issues=len(season.issues),
            items=season.items,
            linked=season.linked,
        )
    ]
    if season.missing:
        lines.append(text("stats.season_missing", numbers=_spans(season.missing)))
    if season.words:
        top_words = ", ".join(f"{short_name(w.name)} {w.count}" for w in season.words[:words])
        lines.append(text("stats.season_words", words=top_words))
    lines += ["", *_ranking("stats.title.season_domains", season.top_domains)]
    return "\n".join(lines)


def _spans(numbers: Sequence[int]) -> str:
    """1, 2, 3, 5 → "#1–#3, #5"."""
    spans: list[tuple[int, int]] = []
    for n in numbers:
        if spans and spans[-1][1] == n - 1:
            spans[-1] = (spans[-1][0], n)
        else:
            spans.append((n, n))
    return ", ".join(f"#{a}" if a == b else f"#{a}–#{b}" for a, b in spans)
