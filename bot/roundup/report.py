"""What the editors read of a roundup: the run's outcome and every newsletter left out.

Plain text (names and titles come from other people's feeds), worded in `bot.texts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.domain.roundup import FeedProblem, Roundup
from bot.texts import text


def problem_line(problem: FeedProblem, *, days: int) -> str:
    """One newsletter left out, and why."""
    name, kind = problem.newsletter, problem.kind
    when = problem.at.isoformat() if problem.at else "?"
    if kind == "failed":
        return text("roundup.problem.failed", name=name, reason=problem.detail)
    if kind == "stale":
        return text("roundup.problem.stale", name=name, days=days, title=problem.detail, date=when)
    if kind == "posted":
        return text("roundup.problem.posted", name=name, title=problem.detail, date=when)
    if kind == "empty":
        return text("roundup.problem.empty", name=name)
    return text("roundup.problem.undated", name=name)


def problems_text(problems: Sequence[FeedProblem], *, days: int) -> str:
    """ "Left out:" and a line per problem; empty when every newsletter is in."""
    if not problems:
        return ""
    lines = [problem_line(p, days=days) for p in problems]
    return "\n".join([text("roundup.left_out"), *lines])


def run_report(roundup: Roundup, *, days: int) -> str:
    """After a slot ran: queued with N newsletters, or nothing posted; then the problems."""
    date = roundup.date.isoformat()
    if roundup.empty:
        head = text("roundup.nothing", date=date, days=days)
    else:
        head = text("roundup.queued", date=date, count=len(roundup.entries))
    rest = problems_text(roundup.problems, days=days)
    return head + ("\n\n" + rest if rest else "")


def preview_head(roundup: Roundup, *, next_slot: dt.datetime, days: int) -> str:
    """The /roundup reply's first line: what the preview is, and when the next one goes."""
    when = next_slot.strftime("%a %Y-%m-%d %H:%M %Z")
    if roundup.empty:
        return text("roundup.preview_nothing", days=days, next=when)
    return text("roundup.preview_head", start=roundup.start, end=roundup.end, next=when)
