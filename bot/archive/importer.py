"""`weeklybot import`: every issue file of a checkout (or of the mirror) into the store.

The files go through the weekly's own ingest (`bot.weekly.ingest.Ingester`: plan, then
apply), one issue (the languages of one file name) at a time, and nothing is announced:
the same rules as the bot's first baseline (the zh file's number decides, a refused
file is refused for the same reason, an issue with the same content hash is not
written), so a second import writes nothing. The search index is kept by the store's
own write (`data.search`), as for every other ingest.

A folder may hold an issue in both forms (the corpus' `history/` copies, a sample's
`…-weekly.summary.md`): the full text is what is stored, its summary is paired with
it (`pair_summary_full`, the pairing a full-text release makes) and the pairing is
reported. A summary never replaces a full text already stored.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot.domain.issue import LANGS, Issue, Lang, NotAnIssue, issue_path, issue_path_lang
from bot.domain.parser import pair_summary_full, parse_issue
from bot.weekly.ingest import FileNotice, Ingester
from bot.weekly.sources.git_repo import ChangedFile
from data.store import Store

log = logging.getLogger(__name__)

SUMMARY_SUFFIX = ".summary.md"  # `2025-12-13-weekly.summary.md`: the summary beside the full
Progress = Callable[[int, int], None]  # (files done, files in all)


@dataclass(frozen=True, slots=True)
class Refused:
    path: str  # as found (relative to the folder imported)
    reason: str


@dataclass(frozen=True, slots=True)
class Paired:
    """A summary found beside its full text: the full text is stored, this is how the
    summary's items paired with it."""

    number: int
    lang: Lang
    pairs: int
    unmatched_summary: int
    unmatched_full: int


@dataclass(frozen=True, slots=True)
class ImportSummary:
    files: int  # files looked at
    issues: int  # (number, language) stored from the imported files
    items: int  # their items
    written: int  # issues written by this run (0 on a second run)
    refused: tuple[Refused, ...] = ()
    paired: tuple[Paired, ...] = ()
    kept_full: tuple[str, ...] = ()  # summaries not stored: the full text is stored

    def lines(self) -> list[str]:
        """The summary as printed by `weeklybot import`."""
        out = [
            f"files: {self.files}",
            f"issues: {self.issues} ({self.written} written by this run)",
            f"items: {self.items}",
        ]
        out += [
            f"paired: #{p.number} {p.lang} summary with its full text: {p.pairs} items"
            + (
                f" ({p.unmatched_summary} summary, {p.unmatched_full} full unmatched)"
                if p.unmatched_summary or p.unmatched_full
                else ""
            )
            for p in self.paired
        ]
        out += [f"kept the stored full text; summary not stored: {p}" for p in self.kept_full]
        out.append(f"refused: {len(self.refused)}")
        out += [f"  {r.path}: {r.reason}" for r in self.refused]
        return out


@dataclass(frozen=True, slots=True)
class Candidate:
    """One file found, under the repository path it stands for."""

    found: str  # where it was found
    file: ChangedFile  # path: the repository's (`docs/en/…-weekly.md`)


def _lang_of(parts: Sequence[str]) -> Lang:
    for part in reversed(parts):
        if part in LANGS:
            return part
    return "zh"  # the zh files sit at the top of docs/


def _read(path: Path) -> tuple[str, str | None]:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return raw.decode("utf-8", "replace"), f"not valid UTF-8 (byte {exc.start})"


def folder_files(root: Path) -> tuple[list[Candidate], list[Refused]]:
    """The issue files under `root` (a checkout: `docs/`, `docs/en/`…; or folders named
    by language), each under its repository path, and the files refused by name.

    A Markdown file whose name says `weekly` is looked at; its language is the nearest
    folder named after one (`en/`), else zh.

    Raises:
        ValueError: `root` is not a folder.
    """
    if not root.is_dir():
        raise ValueError(f"{root}: not a folder")
    found: list[Candidate] = []
    refused: list[Refused] = []
    for path in sorted(root.rglob("*.md")):
        if not path.is_file() or "weekly" not in path.name.lower():
            continue
        rel = path.relative_to(root).as_posix()
        lang = _lang_of(PurePosixPath(rel).parts[:-1])
        name = path.name
        if name.endswith(SUMMARY_SUFFIX):
            name = name.removesuffix(SUMMARY_SUFFIX) + ".md"
        repo_path = issue_path(name, lang)
        if issue_path_lang(repo_path) is None:
            refused.append(Refused(rel, "not an issue file name (YYYY-MM-DD-weekly.md)"))
            continue
        try:
            text, utf8_error = _read(path)
        except OSError as exc:
            refused.append(Refused(rel, f"cannot be read: {exc.strerror or exc}"))
            continue
        found.append(
            Candidate(rel, ChangedFile(repo_path, lang, "added", text, "", "", utf8_error))
        )
    return found, refused


def mirror_files(files: Sequence[ChangedFile]) -> list[Candidate]:
    """The mirror's files (every issue file of its branch), as candidates."""
    return [Candidate(f.path, dataclasses.replace(f, change="added")) for f in files]


def _parsed(file: ChangedFile) -> Issue | None:
    if file.utf8_error is not None:
        return None
    try:
        return parse_issue(file.text, filename=file.path, lang=file.lang)
    except NotAnIssue:
        return None
    except Exception:  # the ingest refuses it with the reason; here only the form counts
        return None


async def import_candidates(
    store: Store,
    candidates: Sequence[Candidate],
    *,
    refused: Sequence[Refused] = (),
    progress: Progress | None = None,
    clock: Callable[[], float] = time.time,
) -> ImportSummary:
    """Store every candidate quietly, one file name (its languages) at a time."""
    ingester = Ingester(store, source_name="import", clock=clock)
    by_path: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_path.setdefault(candidate.file.path, []).append(candidate)
    groups: dict[str, list[str]] = {}
    for repo_path in by_path:
        groups.setdefault(PurePosixPath(repo_path).name, []).append(repo_path)
    refusals = list(refused)
    paired: list[Paired] = []
    kept_full: list[str] = []
    written = 0
    done, total = 0, len(candidates)
    for name in sorted(groups):
        chosen: list[ChangedFile] = []
        found_at: dict[str, str] = {}
        for repo_path in groups[name]:
            pick, group_paired, kept = await _choose(store, by_path[repo_path])
            paired += group_paired
            kept_full += kept
            if pick is not None:
                chosen.append(pick.file)
                found_at[pick.file.path] = pick.found
        plan = await ingester.plan(chosen)
        # Quiet, as the baseline: no event is delivered and no audit row written, so a
        # second import changes nothing; the summary reports what the audit would hold.
        await ingester.apply(dataclasses.replace(plan, warnings=()))
        written += len(plan.writes)
        for notice in plan.notices:
            if isinstance(notice, FileNotice) and notice.refused:
                refusals.append(Refused(found_at.get(notice.path, notice.path), *notice.reasons))
        done += sum(len(by_path[p]) for p in groups[name])
        if progress is not None:
            progress(done, total)
    issues, items = await store.issues.count_from(sorted(by_path))
    return ImportSummary(
        files=len(candidates) + len(refused),
        issues=issues,
        items=items,
        written=written,
        refused=tuple(refusals),
        paired=tuple(paired),
        kept_full=tuple(kept_full),
    )


async def _choose(
    store: Store, candidates: Sequence[Candidate]
) -> tuple[Candidate | None, list[Paired], list[str]]:
    """Of the files standing for one repository path, the one to store: the full text
    when there is one (its summaries paired with it), else the last found. A summary
    is not stored over a full text already in the store."""
    if len(candidates) == 1 and candidates[0].file.utf8_error is not None:
        return candidates[0], [], []  # refused by the ingest, with its reason
    parsed = [(c, _parsed(c.file)) for c in candidates]
    full = next(((c, i) for c, i in parsed if i is not None and i.form == "full"), None)
    paired: list[Paired] = []
    if full is not None:
        full_issue = full[1]
        for c, issue in parsed:
            if issue is None or issue.form != "summary" or full_issue.number is None:
                continue
            pairing = pair_summary_full(issue, full_issue)
            paired.append(
                Paired(
                    full_issue.number,
                    full_issue.lang,
                    len(pairing.pairs),
                    len(pairing.unmatched_summary),
                    len(pairing.unmatched_full),
                )
            )
            log.info("summary paired with its full text", extra={"path": c.found})
        return full[0], paired, []
    pick, issue = parsed[-1]
    if issue is not None and issue.form == "summary" and issue.number is not None:
        stored = await store.issues.stored_form(issue.number, issue.lang)
        if stored == "full":
            return None, [], [pick.found]
    return pick, [], []
