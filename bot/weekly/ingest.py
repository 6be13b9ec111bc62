"""Turn changed issue files into stored issues and the events the bot announces.

The main events: `NewIssue`: an issue file appeared (normally in summary form).
`FullTextReleased`: a stored summary became a parsed full issue, 50 issues later
(FORMAT.md §1.3); its items come paired with the stored summary items, so the bot can
add links and descriptions without posting an item twice. `LanguageRefused`: the file
of a known issue's language was refused (its preview card shows it). Any other change
(a typo fix in a full issue, an edit of a summary, a file never seen before being
modified, unless a revision of it was refused) is stored and announces nothing. For
the editors: `FileNotice` (a refused or suspicious file revision) and
`BackfillAvailable` (files of old issues).

Exactly once, across crashes. One repository poll runs in this order:

1. ``plan``: parse the files and compare them with the stored issues (reads only);
2. ``deliver(events)``: the caller enqueues the posts (outbox rows keyed by issue,
   language, section and index, so enqueueing twice is a no-op);
3. ``apply``: upsert the issues (one transaction per issue);
4. advance the source cursor to the new revision.

A crash before 3 leaves the store as it was: the next poll plans the same events again,
and the idempotent outbox keys absorb the second delivery. A crash during or after 3
but before 4: the next poll diffs the same revisions again, but every issue already
stored has the same content hash, so it is planned as "no change" and gives no event;
its event was delivered in step 2 of the first run. Issues are keyed by (number, lang),
so no item is ever stored twice. Events are therefore at least once into `deliver`,
which is idempotent, and never re-derived from an issue already stored.

A `FileNotice` has no stored issue to compare with: its delivery records the file
revision as told (`data.notices`, in step 2, chat by chat), and `plan` leaves out a
revision already told, so a replay or a restart tells nobody twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from bot.domain.issue import LANGS, Issue, Lang, NotAnIssue, issue_path, issue_path_lang
from bot.domain.parser import Pairing, pair_summary_full, parse_issue
from bot.weekly.sources.git_repo import ChangedFile, GitError, GitRepoSource
from data.issues import issue_content_hash
from data.store import SourceState, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NewIssue:
    number: int
    date: dt.date | None
    issues: Mapping[Lang, Issue]
    # Languages of the same file name whose file the parser refused, with the reason.
    refused: Mapping[Lang, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class FileNotice:
    """A refused or suspicious issue file: one card to the editors per file revision."""

    path: str
    blob: str  # git's object id: the same revision is never told twice in one plan
    refused: bool  # nothing is stored or published from a refused file
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LanguageRefused:
    """Files of a known issue refused by the parser, with no new language of it.

    The English file often lands days after the Chinese one; when it is refused, the
    issue's preview card shows that language refused with the reason (its `FileNotice`
    tells the editors too). Nothing is queued for its targets.
    """

    number: int
    refused: Mapping[Lang, str]  # language -> why its file was refused


@dataclass(frozen=True, slots=True)
class BackfillAvailable:
    """Files of old issues (older than the newest two) stored quietly, never announced.

    A batch translation of the archive lands like this; the editors get one list with
    a [Backfill] button per issue instead of a preview per file.
    """

    entries: tuple[tuple[int, Lang], ...]  # (number, language), in number order


@dataclass(frozen=True, slots=True)
class FullTextReleased:
    number: int
    issues: Mapping[Lang, Issue]  # the full form, as now stored
    # Stored summary items ↔ full items, per language; the publication audits the counts.
    pairings: Mapping[Lang, Pairing]


IssueEvent = NewIssue | FullTextReleased | LanguageRefused | FileNotice | BackfillAvailable
OLD_ISSUE_DEPTH = 2  # a new file of an issue older than the newest two is a backfill
EventSink = Callable[[Sequence[IssueEvent]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SourceWarning:
    path: str
    message: str


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    issue: Issue
    path: str
    raw: str


@dataclass(frozen=True, slots=True)
class IngestPlan:
    """What one batch of files means: events to deliver, issues to store, warnings."""

    events: tuple[IssueEvent, ...] = ()  # NewIssue, FullTextReleased, LanguageRefused
    writes: tuple[PlannedWrite, ...] = ()
    warnings: tuple[SourceWarning, ...] = ()
    notices: tuple[IssueEvent, ...] = ()  # FileNotice and BackfillAvailable, for the editors


class Ingester:
    """Plan and apply the ingest of changed issue files against one `Store`."""

    def __init__(
        self, store: Store, *, source_name: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.source_name = source_name
        self.clock = clock
        self.parses = 0  # parse_issue calls, for the idle-poll benchmark

    async def plan(
        self, files: Sequence[ChangedFile], *, announce_stored: bool = False
    ) -> IngestPlan:
        """Parse `files` and decide, from the stored issues, what to store and announce.

        `announce_stored`: give a `NewIssue` for added files even when the same content
        is already stored (an explicit backfill asks for it; the outbox dedupes).
        """
        groups: dict[str, dict[Lang, ChangedFile]] = {}
        for changed in files:
            if issue_path_lang(changed.path) is None:  # a season collection, say
                log.info("not an issue file; ignored", extra={"path": changed.path})
                continue
            groups.setdefault(changed.file_name, {})[changed.lang] = changed
        events: list[IssueEvent] = []
        writes: list[PlannedWrite] = []
        warnings: list[SourceWarning] = []
        for name in sorted(groups):
            group_events, group_writes, group_warnings = await self._plan_group(
                groups[name], announce_stored=announce_stored
            )
            events += group_events
            writes += group_writes
            warnings += group_warnings
        if not announce_stored:
            events = await self._quiet_old_issues(events)
        for warning in warnings:
            log.warning("source warning", extra={"path": warning.path, "warning": warning.message})
        told = (FileNotice, BackfillAvailable)
        notices = [e for e in events if isinstance(e, told)]
        return IngestPlan(
            tuple(e for e in events if not isinstance(e, told)),
            tuple(writes),
            tuple(warnings),
            tuple([e for e in notices if not await self._told(e)]),
        )

    async def _told(self, event: IssueEvent) -> bool:
        """A file revision the editors were told of already (a replay, a restart)."""
        if not isinstance(event, FileNotice):
            return False
        return await self.store.file_notices.is_told(event.path, event.blob)

    async def _quiet_old_issues(self, events: list[IssueEvent]) -> list[IssueEvent]:
        """Turn `NewIssue`s older than the newest two into one `BackfillAvailable`."""
        numbers = [e.number for e in events if isinstance(e, NewIssue)]
        if not numbers:
            return events
        stored = [await self.store.issues.latest_number(lang) for lang in LANGS]
        newest = max([n for n in stored if n is not None] + numbers)
        kept: list[IssueEvent] = []
        old: list[tuple[int, Lang]] = []
        for event in events:
            if isinstance(event, NewIssue) and event.number <= newest - OLD_ISSUE_DEPTH:
                old += [(event.number, lang) for lang in sorted(event.issues)]
                log.info("file of an old issue; stored quietly", extra={"number": event.number})
            else:
                kept.append(event)
        if old:
            kept.append(BackfillAvailable(tuple(sorted(old))))
        return kept

    async def _plan_group(
        self, by_lang: Mapping[Lang, ChangedFile], *, announce_stored: bool
    ) -> tuple[list[IssueEvent], list[PlannedWrite], list[SourceWarning]]:
        warnings: list[SourceWarning] = []
        parsed: dict[Lang, Issue] = {}
        refused: dict[Lang, str] = {}
        notices: list[IssueEvent] = []
        for lang, changed in by_lang.items():
            if changed.utf8_error is not None:  # refused as `parse` refuses it
                refused[lang] = changed.utf8_error
                continue
            self.parses += 1
            try:
                parsed[lang] = parse_issue(changed.text, filename=changed.path, lang=lang)
            except NotAnIssue as exc:
                refused[lang] = f"not an issue: {exc}"
            except Exception as exc:  # one bad file must not stop the others
                refused[lang] = f"cannot be parsed: {exc!r}"
            else:
                if parsed[lang].warnings:
                    notices.append(
                        FileNotice(changed.path, revision_id(changed), False, parsed[lang].warnings)
                    )
        # FORMAT.md §3.2: en #94's H1 says #93; the zh file of the same name decides.
        zh = parsed.get("zh")
        reference = zh.number if zh is not None else None
        numbered: dict[Lang, Issue] = {}
        for lang, issue in parsed.items():
            path = by_lang[lang].path
            if reference is not None and issue.number != reference:
                warnings.append(
                    SourceWarning(
                        path, f"title says #{issue.number}, zh says #{reference}; using zh"
                    )
                )
                issue = dataclasses.replace(issue, number=reference)
            if issue.number is None:
                refused[lang] = "no issue number in the title; not stored"
                continue
            numbered[lang] = issue
        for lang, reason in refused.items():
            changed = by_lang[lang]
            warnings.append(SourceWarning(changed.path, reason))
            notices.append(FileNotice(changed.path, revision_id(changed), True, (reason,)))

        new: dict[Lang, Issue] = {}
        released: dict[Lang, Issue] = {}
        pairings: dict[Lang, Pairing] = {}
        writes: list[PlannedWrite] = []
        for lang, issue in numbered.items():
            changed = by_lang[lang]
            number = issue.number
            assert number is not None  # filtered above
            stored_hash = await self.store.issues.content_hash(number, lang)
            if stored_hash == issue_content_hash(issue):
                if announce_stored and changed.change == "added":
                    new[lang] = issue
                continue
            writes.append(PlannedWrite(issue, changed.path, changed.text))
            if stored_hash is None:
                # A fixed file of a refused one lands as modified: it is an arrival too.
                if changed.change == "added" or await self.store.file_notices.was_refused(
                    changed.path
                ):
                    new[lang] = issue
                else:
                    log.info(
                        "modified issue never seen before; stored without announcing",
                        extra={"path": changed.path, "number": number},
                    )
                continue
            stored = await self.store.issues.load(number, lang)
            if stored is not None and stored.form == "summary" and issue.form == "full":
                pairing = pair_summary_full(stored, issue)
                if not pairing.complete:
                    warnings.append(
                        SourceWarning(
                            changed.path,
                            f"full text of #{number} pairs {len(pairing.pairs)} items; "
                            f"{len(pairing.unmatched_summary)} summary and "
                            f"{len(pairing.unmatched_full)} full items are unmatched",
                        )
                    )
                released[lang] = issue
                pairings[lang] = pairing
            else:
                log.info(
                    "issue changed; nothing to announce",
                    extra={"path": changed.path, "number": number, "form": issue.form},
                )
        events: list[IssueEvent] = list(notices)
        if new:
            first = next(iter(new.values()))
            assert first.number is not None
            events.append(
                NewIssue(first.number, first.date, MappingProxyType(new), MappingProxyType(refused))
            )
        elif refused:  # a known issue's language, refused: its preview card shows it
            number = await self._number_of(by_lang, numbered)
            if number is not None:
                events.append(LanguageRefused(number, MappingProxyType(refused)))
        if released:
            first = next(iter(released.values()))
            assert first.number is not None
            events.append(
                FullTextReleased(
                    first.number, MappingProxyType(released), MappingProxyType(pairings)
                )
            )
        return events, writes, warnings

    async def _number_of(
        self, by_lang: Mapping[Lang, ChangedFile], numbered: Mapping[Lang, Issue]
    ) -> int | None:
        """The issue a group of files belongs to: a parsed file of it, else the issue
        stored from a file of the same name (the zh file that landed a week before)."""
        for issue in numbered.values():
            return issue.number
        name = next(iter(by_lang.values())).file_name
        return await self.store.issues.number_at([issue_path(name, lang) for lang in LANGS])

    async def apply(self, plan: IngestPlan) -> None:
        """Store the planned issues and record the warnings in the audit log."""
        now = self.clock()
        for write in plan.writes:
            await self.store.issues.upsert(
                write.issue, now=now, source_path=write.path, raw=write.raw
            )
        for warning in plan.warnings:
            await self.store.append_audit(
                actor=self.source_name,
                action="source.warning",
                subject=warning.path,
                details={"message": warning.message},
                now=now,
            )

    async def ingest(
        self, files: Sequence[ChangedFile], deliver: EventSink, *, announce_stored: bool = False
    ) -> IngestPlan:
        """Plan, deliver the events, then store: the order the module docstring relies on."""
        plan = await self.plan(files, announce_stored=announce_stored)
        if plan.events or plan.notices:
            await deliver(plan.notices + plan.events)
        await self.apply(plan)
        return plan


def revision_id(changed: ChangedFile) -> str:
    """The file revision a notice is about: git's blob id, or the same id computed from
    the text when the source gave none."""
    if changed.blob:
        return changed.blob
    data = changed.text.encode("utf-8")
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


RepoPollStatus = Literal["idle", "baseline", "ingested", "error"]


@dataclass(frozen=True, slots=True)
class RepoPoll:
    status: RepoPollStatus
    revision: str | None = None
    events: tuple[IssueEvent, ...] = ()
    warnings: tuple[SourceWarning, ...] = ()
    error: str | None = None


async def poll_repo(source: GitRepoSource, ingester: Ingester, deliver: EventSink) -> RepoPoll:
    """Fetch once; if the branch moved, ingest what changed, then advance the cursor.

    Never raises for a git failure or a failing `deliver`: the error is logged, kept in
    `source_state` (`last_error`, `consecutive_failures`) and returned; the cursor stays,
    so the next poll retries the same revisions. An idle poll writes nothing.
    """
    store = ingester.store
    try:
        revision = await source.fetch()
    except GitError as exc:
        return await _failed(store, source.name, ingester.clock(), str(exc))
    state = await store.get_source_state(source.name)
    if state is not None and state.cursor == revision:
        if state.consecutive_failures or state.last_error:
            await _succeeded(store, state, revision, ingester.clock())
        return RepoPoll("idle", revision)
    if state is None or state.cursor is None:
        return await _baseline(source, ingester, state or SourceState(source.name), revision)
    try:
        if not await source.has_revision(state.cursor):
            warning = SourceWarning(
                "", f"stored revision {state.cursor} is gone upstream; new baseline {revision}"
            )
            log.warning("repository history rewritten", extra={"source": source.name})
            await _succeeded(store, state, revision, ingester.clock())
            return RepoPoll("baseline", revision, warnings=(warning,))
        files = await source.changed_files(state.cursor, revision)
    except GitError as exc:
        return await _failed(store, source.name, ingester.clock(), str(exc), state)
    try:
        plan = await ingester.ingest(files, deliver)
    except Exception as exc:  # kept in source_state; retried next poll
        log.exception("ingest failed; the cursor stays", extra={"source": source.name})
        return await _failed(store, source.name, ingester.clock(), f"ingest: {exc!r}", state)
    await _succeeded(store, state, revision, ingester.clock())
    return RepoPoll("ingested", revision, plan.events, plan.warnings)


# git's well-known empty tree: diffing from it lists every file of a revision as added.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


async def _baseline(
    source: GitRepoSource, ingester: Ingester, state: SourceState, revision: str
) -> RepoPoll:
    """First run: store every issue already there, silently, and start from `revision`.

    Nothing is announced, but the stored summaries let the bot recognise their
    full-text release 50 issues later; without them those releases would pass unseen.
    """
    log.info("repository baseline", extra={"source": source.name, "revision": revision})
    try:
        files = await source.changed_files(EMPTY_TREE, revision)
    except GitError as exc:
        return await _failed(ingester.store, source.name, ingester.clock(), str(exc), state)
    plan = await ingester.plan(files)
    await ingester.apply(plan)
    await _succeeded(ingester.store, state, revision, ingester.clock())
    return RepoPoll("baseline", revision, warnings=plan.warnings)


async def backfill(
    source: GitRepoSource, ingester: Ingester, number: int, deliver: EventSink
) -> RepoPoll:
    """Ingest issue `number` as it is now on the branch, announcing it as new.

    The source cursor is not touched: a backfill is outside the stream of revisions.
    """
    try:
        await source.fetch()
        files = await source.find_issue(number)
    except GitError as exc:
        return RepoPoll("error", error=str(exc))
    if not files:
        return RepoPoll("error", error=f"no issue #{number} on branch {source.options.branch}")
    plan = await ingester.ingest(files, deliver, announce_stored=True)
    return RepoPoll("ingested", files[0].revision, plan.events, plan.warnings)


async def _succeeded(store: Store, state: SourceState, revision: str, now: float) -> None:
    await store.put_source_state(
        dataclasses.replace(
            state, cursor=revision, last_success_at=now, last_error=None, consecutive_failures=0
        ),
        now=now,
    )


async def _failed(
    store: Store, name: str, now: float, error: str, state: SourceState | None = None
) -> RepoPoll:
    log.warning("repository poll failed", extra={"source": name, "error": error})
    if state is None:
        state = await store.get_source_state(name) or SourceState(name)
    await store.put_source_state(
        dataclasses.replace(
            state, last_error=error, consecutive_failures=state.consecutive_failures + 1
        ),
        now=now,
    )
    return RepoPoll("error", state.cursor, error=error)
