"""`weeklybot import` and `weeklybot search`: the archive from the command line."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.archive.importer import (
    ImportSummary,
    Progress,
    folder_files,
    import_candidates,
    mirror_files,
)
from bot.archive.query import parse_query
from bot.archive.search import ArchiveSearch, Found
from bot.config import Settings
from data.db import Database
from data.migrations import migrate
from data.store import Store


async def import_archive(
    settings: Settings, path: Path | None, *, progress: Progress | None = None
) -> ImportSummary:
    """Import every issue file under `path`, or of the configured repository's branch
    (fetched into the mirror) when `path` is None.

    Raises:
        ValueError: `path` is not a folder, or the repository cannot be fetched.
    """
    if path is not None:
        candidates, refused = await asyncio.to_thread(folder_files, path)
    else:
        from bot.weekly.ingest import EMPTY_TREE
        from bot.weekly.sources.git_repo import GitError, GitRepoSource
        from bot.weekly.watch import repo_options

        source = GitRepoSource(repo_options(settings))
        try:
            revision = await source.fetch()
            files = await source.changed_files(EMPTY_TREE, revision)
        except GitError as exc:
            raise ValueError(f"repository {settings.repo.url}: {exc}") from None
        candidates, refused = mirror_files(files), []
    async with Database.open(settings.database_path) as db:
        await migrate(db, now=time.time())
        return await import_candidates(Store(db), candidates, refused=refused, progress=progress)


async def search_archive(settings: Settings, words: str, *, limit: int) -> Found:
    async with Database.open(settings.database_path) as db:
        await migrate(db, now=time.time())
        search = ArchiveSearch(Store(db).search, settings.repo.pages)
        return await search.find(parse_query(words), limit=limit)
