"""What the next issue's draft is made of: the links decided since a time, read only.

Approved submissions (`approved` or `published`, either mode: a draft-only approval is
meant for exactly this) and the editors' own extra-edition links (`queued` or
`posted`; a queued submission is a submission here, not an extra), decided at or after
`since`, each leaving out a link an issue already stored has (`items.dedupe_key`), in
one read transaction. Oldest decision first.
"""

from __future__ import annotations

from dataclasses import dataclass

from data.db import Database
from data.extras import ExtraItem, _item
from data.submissions import Submission, _submission

_SUBMISSIONS = """
SELECT s.* FROM submissions s
WHERE s.state IN ('approved', 'published') AND s.decided_at >= ?
  AND NOT EXISTS (SELECT 1 FROM items it WHERE it.dedupe_key = s.dedupe_key)
ORDER BY s.decided_at, s.id
LIMIT ?
"""

_EXTRAS = """
SELECT x.* FROM extra_queue x
WHERE x.source = 'link' AND x.state IN ('queued', 'posted')
  AND COALESCE(x.decided_at, x.created_at) >= ?
  AND NOT EXISTS (SELECT 1 FROM items it WHERE it.dedupe_key = x.dedupe_key)
ORDER BY COALESCE(x.decided_at, x.created_at), x.id
LIMIT ?
"""

# More than a few issues' worth: what an editor would still call one draft.
DRAFT_MAX_LINKS = 200


@dataclass(frozen=True, slots=True)
class DraftSources:
    submissions: tuple[Submission, ...]
    extras: tuple[ExtraItem, ...]


class DraftStore:
    """Reads for `bot.draft`; it writes nothing."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def sources(self, *, since: float, limit: int = DRAFT_MAX_LINKS) -> DraftSources:
        async with self._db.transaction(write=False) as tx:
            subs = await tx.fetchall(_SUBMISSIONS, (since, limit))
            extras = await tx.fetchall(_EXTRAS, (since, limit))
        return DraftSources(
            submissions=tuple(_submission(r) for r in subs),
            extras=tuple(_item(r) for r in extras),
        )
