"""The Sunday roundup's terms: what one week's roundup of other newsletters holds.

Frozen values shared by the planner (`bot.roundup.planner`), the formatters
(`publishers.format_roundup`) and the store (`data.roundups`), so that none of them
imports another.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

ProblemKind = Literal["failed", "empty", "undated", "stale", "posted"]


@dataclass(frozen=True, slots=True)
class RoundupEntry:
    """One newsletter's issue of the week, as the roundup lists it."""

    newsletter: str
    title: str  # with the newsletter's name in front when the feed's title lacks it
    url: str
    published: dt.datetime
    issue_key: str  # "#153", else the link's dedupe key: what "the same issue" means
    number: int | None = None


@dataclass(frozen=True, slots=True)
class FeedProblem:
    """Why a newsletter (or one of its feeds) gave nothing this week; told to the editors.

    `kind`: the feed could not be read (`failed`, `detail` says why), has no entries
    (`empty`), none with a date (`undated`), none in the window (`stale`: `detail` is
    the latest entry's title, `at` its date), or its latest issue was in an earlier
    roundup (`posted`: `detail` is the title, `at` that roundup's date).
    """

    newsletter: str
    kind: ProblemKind
    detail: str = ""
    at: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Roundup:
    """One week's roundup: the slot's date, the range it covers, what it lists, what not."""

    date: dt.date  # the slot's local date: the roundup's identity (`roundup:<date>`)
    start: dt.date  # first and last local day covered, as the header shows them
    end: dt.date
    entries: tuple[RoundupEntry, ...]
    problems: tuple[FeedProblem, ...] = ()

    @property
    def key(self) -> str:
        """The outbox idempotency key: one roundup per slot, ever."""
        return roundup_key(self.date)

    @property
    def empty(self) -> bool:
        return not self.entries


def roundup_key(date: dt.date) -> str:
    return f"roundup:{date.isoformat()}"
