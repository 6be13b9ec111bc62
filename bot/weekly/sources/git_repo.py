"""Follow the newsletter's git repository through a local bare mirror.

Why git itself and not the GitHub REST API:

- a local path or ``file://`` URL works exactly like GitHub, so the tests and the
  demo drive a real repository built on the spot instead of a mocked API;
- no rate limits and no token to keep (an anonymous fetch of a public repository);
- ``git diff --name-status old new`` gives exactly the files that changed between two
  revisions, renames and deletions included, however many commits lie between them.

The mirror is created once (``git init --bare``) and then only fetched: one branch,
no tags, into ``refs/heads/<branch>``. The revision fetched is read from FETCH_HEAD,
so an idle poll costs one ``git fetch`` and nothing else. Every git call is an
argument list run without a shell, with a timeout and ``GIT_TERMINAL_PROMPT=0`` (a
private URL fails at once instead of waiting for a password).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from bot.domain.issue import Lang, NotAnIssue, issue_path, issue_path_lang
from bot.domain.parser import parse_issue

log = logging.getLogger(__name__)

_SHA = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64})\b")
# Transports a configured URL may use; `ext::` and friends would run commands.
_ALLOWED_PROTOCOLS = "https:http:ssh:git:file"
# Keep stderr in error messages readable, and never let a chatty git fill the log.
_STDERR_SHOWN = 2000

Change = Literal["added", "modified"]


@dataclass(frozen=True, slots=True)
class RepoOptions:
    """What the repository source needs; the lead maps a settings section onto it."""

    mirror_dir: Path  # the bare mirror, kept with the bot's state (not in the source tree)
    url: str  # `repo.url` of the settings: the one default lives there
    branch: str = "main"
    langs: tuple[Lang, ...] = ("zh", "en")
    git_timeout_seconds: float = 120.0
    git_binary: str = "git"

    @property
    def source_name(self) -> str:
        """The `source_state` key: one row per URL and branch."""
        return f"git:{self.url}#{self.branch}"


class GitError(Exception):
    """A git command failed or timed out; the message carries git's own stderr."""


@dataclass(frozen=True, slots=True)
class ChangedFile:
    """One issue file to ingest, with its text at `revision`."""

    path: str  # "docs/en/2031-01-04-weekly.md"
    lang: Lang
    change: Change
    text: str
    revision: str = ""
    blob: str = ""  # git's object id of this file revision: one editor card per blob
    utf8_error: str | None = None  # why the bytes are not UTF-8; such a file is refused

    @property
    def file_name(self) -> str:
        """The name shared by every language of one issue: pairs zh with en."""
        return PurePosixPath(self.path).name


@dataclass(frozen=True, slots=True)
class Blob:
    sha: str
    text: str
    utf8_error: str | None = None


@dataclass(slots=True)
class GitCounters:
    """How many git processes ran, fetches apart (the idle-poll benchmark reads them)."""

    fetches: int = 0
    other: int = 0


class GitRepoSource:
    """Fetch the mirror, list the issue files changed between two revisions, read them."""

    def __init__(self, options: RepoOptions) -> None:
        self.options = options
        self.counters = GitCounters()
        self._initialised = False

    @property
    def name(self) -> str:
        return self.options.source_name

    async def fetch(self) -> str:
        """Update the mirror from the remote and return the branch's revision.

        Raises:
            GitError: the remote is unreachable, the branch is missing, git timed out.
        """
        await self._ensure_mirror()
        branch = self.options.branch
        await self._git(
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-recurse-submodules",
            "--",
            self.options.url,
            f"+refs/heads/{branch}:refs/heads/{branch}",
        )
        fetch_head = self.options.mirror_dir / "FETCH_HEAD"
        try:
            first_line = (await asyncio.to_thread(fetch_head.read_text, "utf-8")).strip()
        except OSError as exc:
            raise GitError(f"git fetch left no FETCH_HEAD in {fetch_head}: {exc}") from exc
        match = _SHA.match(first_line)
        if match is None:
            raise GitError(f"FETCH_HEAD does not start with a revision: {first_line[:80]!r}")
        return match.group(1)

    async def has_revision(self, revision: str) -> bool:
        """Whether the mirror still holds `revision` (a force-push can drop it)."""
        try:
            await self._git("cat-file", "-e", f"{revision}^{{commit}}")
        except GitError:
            return False
        return True

    async def changed_files(self, old: str, new: str) -> list[ChangedFile]:
        """The followed issue files added or modified from `old` to `new`, with their text.

        A rename of an issue file counts as a modification of the renamed file (the
        issue keeps its number); a deletion is logged and otherwise ignored.
        """
        out = await self._git("diff", "--name-status", "-z", "-M", "--no-ext-diff", old, new)
        wanted: list[tuple[str, Lang, Change]] = []
        for status, paths in _parse_name_status(out):
            target = paths[-1]
            lang = issue_path_lang(target)
            kind = status[:1]
            if kind == "D":
                if issue_path_lang(paths[0]) is not None:
                    log.warning("issue file deleted upstream", extra={"path": paths[0]})
                continue
            if lang is None or lang not in self.options.langs:
                continue
            if kind == "A" or kind == "C":
                wanted.append((target, lang, "added"))
            elif kind == "R":
                renamed_issue = issue_path_lang(paths[0]) is not None
                wanted.append((target, lang, "modified" if renamed_issue else "added"))
            elif kind in ("M", "T"):
                wanted.append((target, lang, "modified"))
        blobs = await self.read_blobs(new, [path for path, _, _ in wanted])
        return [
            ChangedFile(path, lang, change, blob.text, new, blob.sha, blob.utf8_error)
            for path, lang, change in wanted
            if (blob := blobs.get(path)) is not None
        ]

    async def read_files(self, revision: str, paths: Sequence[str]) -> dict[str, str]:
        """The text of each path at `revision`, read in one `git cat-file --batch`."""
        return {path: blob.text for path, blob in (await self.read_blobs(revision, paths)).items()}

    async def read_blobs(self, revision: str, paths: Sequence[str]) -> dict[str, Blob]:
        """Each path at `revision`: object id, text, and whether its bytes were UTF-8.

        Bytes that are not UTF-8 are decoded with replacement characters (so the rest
        of the batch is unaffected) and carry the reason, as `parse` reports it.
        """
        if not paths:
            return {}
        request = "".join(f"{revision}:{path}\n" for path in paths).encode()
        out = await self._git("cat-file", "--batch", stdin=request)
        texts: dict[str, Blob] = {}
        at = 0
        for path in paths:
            end = out.index(b"\n", at)
            header = out[at:end].decode("utf-8", "replace").split()
            at = end + 1
            if len(header) != 3 or header[1] != "blob":
                log.warning("not a file at revision", extra={"path": path, "git": header})
                continue
            size = int(header[2])
            raw = out[at : at + size]
            try:
                texts[path] = Blob(header[0], raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                error = f"not valid UTF-8 (byte {exc.start})"
                texts[path] = Blob(header[0], raw.decode("utf-8", "replace"), error)
            at += size + 1  # the blob is followed by a newline
        return texts

    async def find_issue(self, number: int, revision: str | None = None) -> list[ChangedFile]:
        """Every followed language of issue `number` at `revision` (default: the branch).

        `git grep` narrows the files to those that mention `#number`; only those few are
        parsed to confirm the number in the title. The zh file decides the date when zh
        is followed (en #94 says #93), then the other languages come by file name.
        """
        rev = revision or f"refs/heads/{self.options.branch}"
        await self._ensure_mirror()
        pattern = rf"#[[:space:]]*0*{int(number)}([^0-9]|$)"
        out = await self._git(
            "grep", "-l", "-z", "-E", "-e", pattern, rev, "--", "docs/", ok_codes=(0, 1)
        )
        prefix = f"{rev}:"
        candidates = [
            p.removeprefix(prefix) for p in out.decode("utf-8", "replace").split("\0") if p
        ]
        candidates = [p for p in candidates if issue_path_lang(p) in self.options.langs]
        texts = await self.read_files(rev, candidates)
        judges: list[Lang] = ["zh"] if "zh" in self.options.langs else list(self.options.langs)
        names: list[str] = []
        for path, text in texts.items():
            lang = issue_path_lang(path)
            if lang not in judges:
                continue
            try:
                issue = parse_issue(text, filename=path, lang=lang)
            except NotAnIssue:
                continue
            if issue.number == number:
                names.append(PurePosixPath(path).name)
        if not names:
            return []
        paths = [issue_path(name, lang) for name in names for lang in self.options.langs]
        blobs = await self.read_blobs(rev, paths)
        revision_id = rev if revision else await self._rev_parse(rev)
        found: list[ChangedFile] = []
        for name in names:
            for lang in self.options.langs:
                path = issue_path(name, lang)
                if (blob := blobs.get(path)) is not None:  # its blob id keys editor notices
                    found.append(
                        ChangedFile(
                            path, lang, "added", blob.text, revision_id, blob.sha, blob.utf8_error
                        )
                    )
        return found

    async def _rev_parse(self, rev: str) -> str:
        out = await self._git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        return out.decode().strip()

    async def _ensure_mirror(self) -> None:
        if self._initialised:
            return
        mirror = self.options.mirror_dir
        if not (mirror / "HEAD").exists():
            await asyncio.to_thread(mirror.mkdir, parents=True, exist_ok=True)
            await self._git("init", "--quiet", "--bare", str(mirror), in_mirror=False)
        self._initialised = True

    async def _git(
        self,
        *args: str,
        stdin: bytes | None = None,
        in_mirror: bool = True,
        ok_codes: tuple[int, ...] = (0,),
    ) -> bytes:
        """Run one git command and return its stdout; raise GitError with its stderr."""
        command = args[0]
        if command == "fetch":
            self.counters.fetches += 1
        else:
            self.counters.other += 1
        argv = [self.options.git_binary]
        if in_mirror:
            argv += ["--git-dir", str(self.options.mirror_dir)]
        argv += list(args)
        env = {
            **os.environ,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ALLOW_PROTOCOL": _ALLOWED_PROTOCOLS,
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            "LC_ALL": "C",
        }
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
            )
        except OSError as exc:
            raise GitError(f"cannot run {self.options.git_binary!r}: {exc}") from exc
        try:
            async with asyncio.timeout(self.options.git_timeout_seconds):
                out, err = await proc.communicate(stdin)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise GitError(
                f"git {command} timed out after {self.options.git_timeout_seconds:g}s"
            ) from None
        except BaseException:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            raise
        if proc.returncode not in ok_codes:
            message = err.decode("utf-8", "replace").strip()[:_STDERR_SHOWN]
            raise GitError(f"git {command} failed (exit {proc.returncode}): {message}")
        return out


def _parse_name_status(out: bytes) -> list[tuple[str, list[str]]]:
    """Split `--name-status -z` output: a status, then one path (two for R and C)."""
    fields = out.decode("utf-8", "replace").split("\0")
    result: list[tuple[str, list[str]]] = []
    at = 0
    while at < len(fields) and fields[at]:
        status = fields[at]
        count = 2 if status[:1] in ("R", "C") else 1
        result.append((status, fields[at + 1 : at + 1 + count]))
        at += 1 + count
    return result
