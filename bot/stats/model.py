"""Pure: the facts `data.stats` reads → the frozen summaries `/stats` shows and draws.

`editor_stats`: submissions per week (the last `weeks` weeks, Monday to Sunday in the
channel's time zone, empty weeks counted), the acceptance rate (approved or published
over decided: approved, published and rejected; a link withdrawn or left to expire was
never decided), the top domains of the links submitted, the top submitters named by
their credit choice (`bot.submissions.intake.credit_of`, the rule the posts and the
draft use: a submitter who chose anonymity is counted under "anonymous", never named),
and the posts sent per target.

A season (`season_range`) is `size` consecutive issues, 30 by default: the newsletter's
own season collections are issues 1–30, 31–60 and 61–90 (the corpus's FORMAT.md), so
season N is issues 30·(N−1)+1 … 30·N. `season_stats`: per issue, one language (zh,
else en, else what is stored), its items counted per section in the newsletter's
order; the top domains of its links; and the words of its titles (`bot.stats.words`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.domain.issue import SECTION_KINDS
from bot.submissions.intake import credit_of
from data.stats import SeasonItem, SentCount, SubmissionFact

ACCEPTED = frozenset({"approved", "published"})
DECIDED = ACCEPTED | {"rejected"}
ANONYMOUS = "anonymous"
LANG_PREFERENCE = ("zh", "en")


@dataclass(frozen=True, slots=True)
class Ranked:
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class WeekCount:
    start: dt.date  # the week's Monday
    count: int


@dataclass(frozen=True, slots=True)
class TargetPosts:
    target: str
    sent: int
    by_kind: tuple[Ranked, ...]


@dataclass(frozen=True, slots=True)
class EditorStats:
    weeks: tuple[WeekCount, ...]
    total: int
    by_state: tuple[Ranked, ...]
    accepted: int
    decided: int
    top_domains: tuple[Ranked, ...]
    top_submitters: tuple[Ranked, ...]
    submitters: int  # distinct people who submitted
    posts: tuple[TargetPosts, ...]

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.decided if self.decided else None


@dataclass(frozen=True, slots=True)
class IssueBar:
    number: int
    lang: str
    counts: tuple[int, ...]  # per `SECTION_KINDS`, in that order

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True, slots=True)
class SeasonStats:
    season: int
    first: int
    last: int
    issues: tuple[IssueBar, ...]
    top_domains: tuple[Ranked, ...]
    words: tuple[Ranked, ...]
    linked: int  # items with a link (summary-form issues have none)

    @property
    def items(self) -> int:
        return sum(bar.total for bar in self.issues)

    @property
    def missing(self) -> tuple[int, ...]:
        """The season's issue numbers with nothing stored."""
        have = {bar.number for bar in self.issues}
        return tuple(n for n in range(self.first, self.last + 1) if n not in have)


NAME_MAX = 48  # a ranked name is shown cut past this (the reply stays far below 4096)


def short_name(name: str) -> str:
    return name if len(name) <= NAME_MAX else name[: NAME_MAX - 1] + "…"


def domain_of(url: str | None) -> str | None:
    """The host a link is on, lower case, without a leading `www.`."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.removeprefix("www.")


def top(counts: Counter[str], n: int) -> tuple[Ranked, ...]:
    """The `n` most counted, ties by name (so the order does not depend on input)."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(Ranked(name, count) for name, count in ranked[:n])


def week_start(ts: float, zone: ZoneInfo) -> dt.date:
    day = dt.datetime.fromtimestamp(ts, zone).date()
    return day - dt.timedelta(days=day.weekday())


def submitter_label(fact: SubmissionFact) -> str:
    """How the submitter is named: by their credit choice, as the posts credit them."""
    name, handle = credit_of(fact.credit, display_name=fact.display_name, username=fact.username)
    if name is None:
        return ANONYMOUS
    return f"@{name}" if handle else name


def editor_stats(
    submissions: Sequence[SubmissionFact],
    sent: Iterable[SentCount],
    *,
    now: float,
    zone: ZoneInfo,
    weeks: int = 12,
    top_n: int = 10,
) -> EditorStats:
    this_week = week_start(now, zone)
    starts = [this_week - dt.timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]
    per_week = Counter(week_start(s.created_at, zone) for s in submissions)
    states: Counter[str] = Counter(str(s.state) for s in submissions)
    domains = Counter(d for s in submissions if (d := domain_of(s.canonical_url)))
    # Counted per user id, named by their current choice; one line per name shown (the
    # anonymous are one line; two people of the same display name would share one).
    people: dict[int, str] = {}
    per_person: Counter[int] = Counter()
    for s in submissions:
        people[s.user_id] = submitter_label(s)
        per_person[s.user_id] += 1
    named: Counter[str] = Counter()
    for user_id, count in per_person.items():
        named[people[user_id]] += count
    by_target: dict[str, Counter[str]] = {}
    for row in sent:
        by_target.setdefault(row.target, Counter())[row.kind] += row.count
    posts = tuple(
        TargetPosts(target, kinds.total(), top(kinds, len(kinds)))
        for target, kinds in sorted(by_target.items())
    )
    return EditorStats(
        weeks=tuple(WeekCount(start, per_week.get(start, 0)) for start in starts),
        total=len(submissions),
        by_state=top(states, len(states)),
        accepted=sum(states[s] for s in ACCEPTED),
        decided=sum(states[s] for s in DECIDED),
        top_domains=top(domains, top_n),
        top_submitters=top(named, top_n),
        submitters=len(per_person),
        posts=posts,
    )


def season_range(season: int, size: int = 30) -> tuple[int, int]:
    """The first and last issue numbers of season `season` (1-based)."""
    if season < 1 or size < 1:
        raise ValueError("seasons are numbered from 1")
    return size * (season - 1) + 1, size * season


def season_stats(
    items: Sequence[SeasonItem],
    *,
    season: int,
    size: int = 30,
    top_n: int = 10,
    max_words: int = 80,
    count_words: Callable[[Iterable[str]], Counter[str]] | None = None,
) -> SeasonStats:
    """The season's pictures' data; `count_words` is `bot.stats.words.title_words`
    unless a caller gives its own (it loads jieba's dictionary)."""
    first, last = season_range(season, size)
    langs: dict[int, set[str]] = {}
    for item in items:
        if first <= item.issue <= last:
            langs.setdefault(item.issue, set()).add(item.lang)
    chosen = {
        number: next((lang for lang in LANG_PREFERENCE if lang in have), min(have))
        for number, have in langs.items()
    }
    picked = [i for i in items if chosen.get(i.issue) == i.lang]
    bars = []
    for number in sorted(chosen):
        kinds = Counter(i.kind for i in picked if i.issue == number)
        bars.append(IssueBar(number, chosen[number], tuple(kinds[k] for k in SECTION_KINDS)))
    domains = Counter(d for i in picked if (d := domain_of(i.url)))
    if count_words is None:
        from bot.stats.words import title_words

        count_words = title_words
    words = count_words(i.title for i in picked)
    return SeasonStats(
        season=season,
        first=first,
        last=last,
        issues=tuple(bars),
        top_domains=top(domains, top_n),
        words=top(words, max_words),
        linked=sum(1 for i in picked if i.url),
    )
