"""`weeklybot import`: a folder (our samples, the shared corpus) or the mirror, twice.

The second run writes nothing and reports the same counts; a bad file is reported with
its reason and the others are stored; a summary beside its full text is paired and
the full text stored; the bot's quiet first baseline fills the search index too.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.archive.importer import ImportSummary, folder_files, import_candidates
from bot.archive.query import parse_query
from bot.cli import main
from bot.config import settings_from_values
from bot.domain.issue import Lang
from bot.ops.archive import import_archive
from bot.weekly.ingest import Ingester, poll_repo
from bot.weekly.sources.git_repo import GitRepoSource, RepoOptions
from data.db import Database
from data.migrations import migrate
from data.store import Store
from tests.archive_support import FILES, ISSUES, ITEMS, write_samples
from tests.conftest import CHANNEL_ID, TOKEN
from tests.parser_support import CORPUS
from tests.test_source_git import Recorder, Upstream


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with Database.open(tmp_path / "db.sqlite") as db:
        await migrate(db, now=0)
        yield Store(db)


async def hits(store: Store, words: str) -> list[tuple[int, str, str]]:
    q = parse_query(words)
    page = await store.search.search(
        match=q.match, title_match=q.title_match, lang=q.lang, limit=50
    )
    return [(h.issue, h.lang, h.title) for h in page.hits]


async def test_samples_twice_the_same_counts_and_the_second_run_writes_nothing(
    store: Store, tmp_path: Path
) -> None:
    root = write_samples(tmp_path / "checkout")
    first = await imported(store, root)
    second = await imported(store, root)
    assert (first.issues, first.items) == (ISSUES, ITEMS)
    assert (second.issues, second.items) == (first.issues, first.items)
    assert first.written == ISSUES
    assert second.written == 0
    assert await store.search.indexed_count() == ITEMS
    assert first.files == second.files == len(FILES) + 2


async def test_a_bad_file_is_reported_with_its_reason_and_the_rest_is_stored(
    store: Store, tmp_path: Path
) -> None:
    summary = await imported(store, write_samples(tmp_path / "checkout"))
    reasons = {r.path: r.reason for r in summary.refused}
    assert reasons == {
        "docs/2031-05-24-weekly.md": "not valid UTF-8 (byte 9)",
        "docs/2031-06-07-lweekly.md": "not an issue file name (YYYY-MM-DD-weekly.md)",
    }
    assert await store.issues.load(304, "zh") is None
    assert await store.issues.load(302, "en") is not None
    assert "  docs/2031-05-24-weekly.md: not valid UTF-8 (byte 9)" in summary.lines()


async def test_a_summary_beside_its_full_text_is_paired_and_the_full_text_stored(
    store: Store, tmp_path: Path
) -> None:
    summary = await imported(store, write_samples(tmp_path / "checkout"))
    assert [(p.number, p.lang, p.pairs, p.unmatched_summary) for p in summary.paired] == [
        (303, "zh", 2, 0)
    ]
    stored = await store.issues.load(303, "zh")
    assert stored is not None
    assert stored.form == "full"
    assert all(item.url for _, item in stored.items())


async def test_a_summary_alone_never_replaces_a_stored_full_text(
    store: Store, tmp_path: Path
) -> None:
    await imported(store, write_samples(tmp_path / "checkout"))
    only_summary = tmp_path / "old"
    (only_summary / "docs").mkdir(parents=True)
    (only_summary / "docs" / "2031-05-17-weekly.md").write_text(
        FILES["history/docs/2031-05-17-weekly.md"], encoding="utf-8"
    )
    again = await imported(store, only_summary)
    assert again.written == 0
    assert again.kept_full == ("docs/2031-05-17-weekly.md",)
    stored = await store.issues.load(303, "zh")
    assert stored is not None
    assert stored.form == "full"


async def test_the_shared_corpus_with_our_samples_twice(store: Store, tmp_path: Path) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}: corpus import skipped")
    corpus_first = await imported(store, CORPUS)
    corpus_second = await imported(store, CORPUS)
    assert corpus_first.written > 60
    assert corpus_second.written == 0
    assert (corpus_second.issues, corpus_second.items) == (
        corpus_first.issues,
        corpus_first.items,
    )
    # The history copies are summaries of #68 (zh) and #109 (zh, en): paired, all items.
    assert sorted((p.number, p.lang, p.unmatched_summary) for p in corpus_first.paired) == [
        (68, "zh", 0),
        (109, "en", 0),
        (109, "zh", 0),
    ]
    langs: tuple[tuple[int, Lang], ...] = ((68, "zh"), (109, "zh"), (109, "en"))
    for number, lang in langs:
        stored = await store.issues.load(number, lang)
        assert stored is not None
        assert stored.form == "full"
    refused = {Path(r.path).name for r in corpus_first.refused}
    assert "2026-06-07-lweekly.md" in refused  # the season collection
    samples = await imported(store, write_samples(tmp_path / "checkout"))
    assert (samples.issues, samples.written) == (ISSUES, ISSUES)
    assert await store.search.indexed_count() <= corpus_first.items + ITEMS


async def test_the_bots_first_baseline_fills_the_search_index(store: Store, tmp_path: Path) -> None:
    upstream = Upstream(tmp_path / "upstream")
    for rel, body in FILES.items():
        if rel.startswith("docs/"):
            upstream.write(rel, body)
    upstream.commit("the archive")
    source = GitRepoSource(
        RepoOptions(mirror_dir=tmp_path / "mirror.git", url=upstream.root.as_uri())
    )
    recorder = Recorder()
    poll = await poll_repo(source, Ingester(store, source_name="repo"), recorder)
    assert poll.status == "baseline"
    assert recorder.delivered == []  # quiet: nothing announced
    assert (302, "zh", "searchlite：嵌入式搜索引擎") in await hits(store, "搜索")
    assert await store.search.indexed_count() == ITEMS


async def test_import_without_a_path_reads_the_configured_mirror(tmp_path: Path) -> None:
    upstream = Upstream(tmp_path / "upstream")
    for rel, body in FILES.items():
        if rel.startswith("docs/"):
            upstream.write(rel, body)
    upstream.commit("the archive")
    settings = settings_from_values(
        {
            "telegram": {"token": TOKEN, "channel_id": CHANNEL_ID},
            "repo": {"url": upstream.root.as_uri(), "mirror_dir": tmp_path / "mirror.git"},
            "feeds": {"urls": ()},
            "database_path": tmp_path / "state" / "weeklybot.db",
        }
    )
    first = await import_archive(settings, None)
    second = await import_archive(settings, None)
    assert (first.issues, first.items, first.written) == (ISSUES, ITEMS, ISSUES)
    assert (second.issues, second.items, second.written) == (ISSUES, ITEMS, 0)


def test_the_command_prints_the_summary_and_survives_a_bad_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_samples(tmp_path / "checkout")
    for name in list(os.environ):
        if name.startswith("WEEKLYBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__TOKEN", TOKEN)
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__CHANNEL_ID", str(CHANNEL_ID))
    monkeypatch.setenv("WEEKLYBOT_REPO__ENABLED", "false")
    monkeypatch.setenv("WEEKLYBOT_DATABASE_PATH", str(tmp_path / "db.sqlite"))
    assert main(["import", str(root)]) == 0
    out = capsys.readouterr().out
    assert f"issues: {ISSUES} ({ISSUES} written by this run)" in out
    assert f"items: {ITEMS}" in out
    assert "refused: 2" in out
    assert main(["import", str(root)]) == 0
    assert f"issues: {ISSUES} (0 written by this run)" in capsys.readouterr().out
    assert main(["import", str(tmp_path / "nowhere")]) == 2
    assert "not a folder" in capsys.readouterr().err


async def imported(store: Store, root: Path) -> ImportSummary:
    candidates, refused = folder_files(root)
    return await import_candidates(store, candidates, refused=refused)
