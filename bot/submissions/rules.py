"""The rules of a `/submit`, pure: the note's fields, the limits, what counts as a duplicate.

`judge` is what `SubmissionStore.create` runs inside its write transaction, on what it
read there (ban, counts, duplicates), so the rules and the insert cannot be raced. The
outcomes are data, not texts: the handler words them from the message catalogue.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from bot.domain.urls import EXAMPLE_URL
from data.submissions import CreditChoice, FeaturedIn, Fields, Gate, SubmissionState

DAY_SECONDS = 24 * 60 * 60
NOTE_MAX = 1000  # characters of the reader's note, fields included
FIELD_MAX = 200  # characters of one field's value
EXAMPLE_NOTE = "for: beginners solves: slow CSV parsing level: intermediate"
# What the reader's [Level] button offers (a note's `level:` may say anything).
LEVELS: tuple[str, ...] = ("beginner", "intermediate", "advanced")

# `for: … solves: … level: …`, anywhere in the note, in any order; each value runs to
# the next label. The Chinese labels are what a zh reader would type.
_LABELS = {
    "for": "for_whom",
    "适合": "for_whom",
    "solves": "solves",
    "解决": "solves",
    "level": "level",
    "难度": "level",
}
_LABEL = re.compile(
    r"(?:(?<=\s)|^)(" + "|".join(map(re.escape, _LABELS)) + r")\s*[:：]", re.IGNORECASE
)
_SPACES = re.compile(r"\s+")


# ---- outcomes ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Accepted:
    """Stored, waiting for review: the reply says "received, #id"."""

    submission_id: int
    canonical_url: str
    fields: Fields = field(default_factory=Fields)  # as the note set them: buttons show them
    credit: CreditChoice = "name"  # the submitter's choice, on their receipt's buttons


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The link is known: featured in an issue, or submitted and not turned down.

    `issue_number` set: "already featured in issue #N (date)" with `issue_url`;
    else `submission_id`/`state`: "already submitted, waiting for review" (or approved).
    """

    canonical_url: str
    issue_number: int | None = None
    issue_date: dt.date | None = None
    issue_url: str | None = None
    item_url: str | None = None  # the link as the issue wrote it
    submission_id: int | None = None
    state: SubmissionState | None = None
    yours: bool = False  # the earlier submission is the same reader's

    @property
    def featured(self) -> bool:
        return self.issue_number is not None


@dataclass(frozen=True, slots=True)
class Refused:
    """The text is not an acceptable submission; `message` names the rule."""

    rule: str  # "empty", "syntax", "scheme", "length", "host" (bot.domain.urls), "note"
    message: str
    example: str = EXAMPLE_URL


LimitRule = Literal["cooldown", "daily_cap", "pending_per_user", "pending_total"]


@dataclass(frozen=True, slots=True)
class OverLimit:
    """A limit says not now. `retry_at` (Unix seconds) when a time is known; for the
    pending caps it is "once an editor has looked at what is waiting"."""

    rule: LimitRule
    limit: float
    retry_at: float | None = None


@dataclass(frozen=True, slots=True)
class BannedUser:
    """The reader is banned: a polite refusal, nothing stored."""


@dataclass(frozen=True, slots=True)
class Disabled:
    """Submissions are switched off."""


Outcome = Accepted | Duplicate | Refused | OverLimit | BannedUser | Disabled


# ---- the note ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Note:
    text: str  # what is left once the fields are taken out
    fields: Fields


def parse_note(text: str) -> Note | Refused:
    """Split `for: … solves: … level: …` out of a note; a refusal when it is too long."""
    stripped = text.strip()
    if len(stripped) > NOTE_MAX:
        return Refused(
            "note",
            f"The note is {len(stripped):,} characters long; at most {NOTE_MAX:,} are"
            f" accepted. Keep it short, for example: {EXAMPLE_NOTE}",
            example=EXAMPLE_NOTE,
        )
    matches = list(_LABEL.finditer(stripped))
    values: dict[str, str] = {}
    for at, match in enumerate(matches):
        end = matches[at + 1].start() if at + 1 < len(matches) else len(stripped)
        value = _SPACES.sub(" ", stripped[match.end() : end]).strip()
        name = _LABELS[match.group(1).lower()]
        if len(value) > FIELD_MAX:
            return Refused(
                "note",
                f"The {match.group(1)}: field is {len(value):,} characters long; at most"
                f" {FIELD_MAX} are accepted, for example: {EXAMPLE_NOTE}",
                example=EXAMPLE_NOTE,
            )
        if value:
            values[name] = value
    note = stripped[: matches[0].start()].strip() if matches else stripped
    return Note(
        text=note,
        fields=Fields(
            for_whom=values.get("for_whom"), solves=values.get("solves"), level=values.get("level")
        ),
    )


# ---- the limits and duplicates ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limits:
    daily_cap: int = 5
    cooldown_seconds: float = 60
    max_pending_per_user: int = 3
    max_pending_total: int = 200


def over_limit(gate: Gate, limits: Limits, *, now: float) -> OverLimit | None:
    """The first limit the submitter is over, with when to try again; None if none."""
    counts = gate.counts
    if counts.last_at is not None and now - counts.last_at < limits.cooldown_seconds:
        return OverLimit(
            "cooldown", limits.cooldown_seconds, counts.last_at + limits.cooldown_seconds
        )
    recent = [t for t in counts.recent if t > now - DAY_SECONDS]
    if len(recent) >= limits.daily_cap:
        # Free again once enough of the day's submissions have aged out of the window.
        return OverLimit(
            "daily_cap", limits.daily_cap, recent[len(recent) - limits.daily_cap] + DAY_SECONDS
        )
    if counts.pending_for_user >= limits.max_pending_per_user:
        return OverLimit("pending_per_user", limits.max_pending_per_user)
    if counts.pending_total >= limits.max_pending_total:
        return OverLimit("pending_total", limits.max_pending_total)
    return None


IssueLink = Callable[[FeaturedIn], "str | None"]


def duplicate_of(
    gate: Gate, *, canonical_url: str, user_id: int, issue_link: IssueLink
) -> Duplicate | None:
    """The stored issue that featured the link first, else a live earlier submission.

    `issue_link` gives an issue's link (the caller knows where issues live).
    Rejected, withdrawn and expired submissions do not block: a reason to turn a
    link down once (a broken page) may be gone; the card shows them as hints.
    """
    found = gate.duplicates
    if found.featured:
        first = found.featured[0]
        return Duplicate(
            canonical_url=canonical_url,
            issue_number=first.issue_number,
            issue_date=first.date,
            issue_url=issue_link(first),
            item_url=first.url,
        )
    if found.active:
        earlier = found.active[0]
        return Duplicate(
            canonical_url=canonical_url,
            submission_id=earlier.submission_id,
            state=earlier.state,
            yours=earlier.user_id == user_id,
        )
    return None


def judge(
    gate: Gate,
    limits: Limits,
    *,
    now: float,
    canonical_url: str,
    user_id: int,
    issue_link: IssueLink,
) -> Outcome | None:
    """Banned, then the limits, then duplicates: the refusal to give, or None to store."""
    if gate.banned is not None:
        return BannedUser()
    limited = over_limit(gate, limits, now=now)
    if limited is not None:
        return limited
    return duplicate_of(gate, canonical_url=canonical_url, user_id=user_id, issue_link=issue_link)
