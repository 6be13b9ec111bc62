"""The repository source and `poll_repo` against a real git repository built in the test."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from bot.weekly.ingest import FullTextReleased, Ingester, IssueEvent, NewIssue, backfill, poll_repo
from bot.weekly.sources.git_repo import GitRepoSource, RepoOptions, _parse_name_status
from data.db import Database
from data.migrations import migrate
from data.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
SUMMARY_201 = "2031-01-04-weekly.md"
SUMMARY_251 = "2031-12-20-weekly.md"
T0 = 1_900_000_000.0


def fixture_text(lang: str, name: str) -> str:
    return (FIXTURES / "repo" / lang / name).read_text(encoding="utf-8")


def full_201(lang: str) -> str:
    name = "2031-01-04-weekly.md" if lang == "zh" else "2031-01-04-weekly.en.md"
    return (FIXTURES / "issues" / name).read_text(encoding="utf-8")


class Upstream:
    """A throwaway upstream repository with a test identity and no user config."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        root.mkdir(parents=True)
        self.git("init", "--quiet", "--initial-branch=main")
        self.write("README.md", "# Python Trending Weekly (test copy)\n")
        self.commit("initial")

    def git(self, *args: str) -> str:
        command = [
            "git",
            "-c",
            "user.name=Test Cat",
            "-c",
            "user.email=cat@example.invalid",
            "-c",
            "commit.gpgsign=false",
            *args,
        ]
        done = subprocess.run(  # noqa: S603 - a fixed git argument list
            command, cwd=self.root, env=self.env, check=True, capture_output=True, text=True
        )
        return done.stdout

    def write(self, path: str, text: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def add_issue(self, name: str, zh: str, en: str) -> None:
        self.write(f"docs/{name}", zh)
        self.write(f"docs/en/{name}", en)

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "--quiet", "-m", message)
        return self.git("rev-parse", "HEAD").strip()


class Recorder:
    """The event sink: records what was delivered; can be told to fail once."""

    def __init__(self) -> None:
        self.delivered: list[IssueEvent] = []
        self.fail_next = False

    async def __call__(self, events: Sequence[IssueEvent]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("outbox unavailable")
        self.delivered.extend(events)


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    return Upstream(tmp_path / "upstream")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with Database.open(tmp_path / "weekly.db") as db:
        await migrate(db, now=T0)
        yield Store(db)


def make_source(tmp_path: Path, upstream: Upstream) -> GitRepoSource:
    return GitRepoSource(
        RepoOptions(mirror_dir=tmp_path / "mirror.git", url=upstream.root.as_uri())
    )


def make_ingester(store: Store, source: GitRepoSource) -> Ingester:
    return Ingester(store, source_name=source.name, clock=lambda: T0)


def watching(
    tmp_path: Path, upstream: Upstream, store: Store
) -> tuple[GitRepoSource, Ingester, Recorder]:
    """A source mirroring `upstream`, its ingester into `store`, and a sink that records."""
    source = make_source(tmp_path, upstream)
    return source, make_ingester(store, source), Recorder()


def add_summary(upstream: Upstream, name: str) -> None:
    """Add the summary fixture `name` in both languages, as upstream publishes an issue."""
    upstream.add_issue(name, fixture_text("zh", name), fixture_text("en", name))


def add_full_201(upstream: Upstream) -> None:
    """Add (or replace with) the full text of #201 in both languages."""
    upstream.add_issue(SUMMARY_201, full_201("zh"), full_201("en"))


async def item_count(store: Store) -> int:
    async with store.db.transaction(write=False) as tx:
        row = await tx.fetchone("SELECT count(*) AS n FROM items")
    assert row is not None
    return int(row["n"])


async def test_first_run_sets_the_baseline_stores_silently_and_announces_nothing(
    tmp_path: Path, upstream: Upstream, store: Store
) -> None:
    add_summary(upstream, SUMMARY_201)
    head = upstream.commit("add weekly 201")
    source, ingester, sink = watching(tmp_path, upstream, store)

    result = await poll_repo(source, ingester, sink)

    assert result.status == "baseline"
    assert result.revision == head
    assert sink.delivered == []
    state = await store.get_source_state(source.name)
    assert state is not None
    assert state.cursor == head
    # Stored, not announced: so its full-text release 50 issues later is recognised.
    assert await store.issues.latest_number("zh") == 201


async def test_release_of_an_issue_that_predates_the_baseline_is_detected(
    tmp_path: Path, upstream: Upstream, store: Store
) -> None:
    add_summary(upstream, SUMMARY_201)
    upstream.commit("add weekly 201")
    source, ingester, sink = watching(tmp_path, upstream, store)
    assert (await poll_repo(source, ingester, sink)).status == "baseline"
    add_full_201(upstream)
    upstream.commit("add weekly 251&201")

    result = await poll_repo(source, ingester, sink)

    assert [type(e).__name__ for e in result.events] == ["FullTextReleased"]
    assert [e.number for e in sink.delivered] == [201]


async def test_a_new_issue_is_announced_once_and_an_idle_poll_does_nothing(
    tmp_path: Path, upstream: Upstream, store: Store
) -> None:
    source, ingester, sink = watching(tmp_path, upstream, store)
    await poll_repo(source, ingester, sink)
    add_summary(upstream, SUMMARY_251)
    head = upstream.commit("add weekly 251")

    result = await poll_repo(source, ingester, sink)

    assert result.status == "ingested"
    assert len(sink.delivered) == 1
    event = sink.delivered[0]
    assert isinstance(event, NewIssue)
    assert event.number == 251
    assert str(event.date) == "2031-12-20"
    assert set(event.issues) == {"zh", "en"}
    assert {issue.form for issue in event.issues.values()} == {"summary"}
    assert await store.issues.latest_number("en") == 251

    writes_before = await store.db.total_changes()
    state_before = await store.get_source_state(source.name)
    fetches, others, parses = source.counters.fetches, source.counters.other, ingester.parses
    for _ in range(3):
        again = await poll_repo(source, ingester, sink)
        assert again.status == "idle"
        assert again.revision == head
    assert len(sink.delivered) == 1
    assert await store.db.total_changes() == writes_before
    assert await store.get_source_state(source.name) == state_before
    assert source.counters.fetches == fetches + 3
    assert source.counters.other == others
    assert ingester.parses == parses


async def test_full_text_of_n_minus_50_in_the_same_commit_is_paired(
    tmp_path: Path, upstream: Upstream, store: Store
) -> None:
    source, ingester, sink = watching(tmp_path, upstream, store)
    await poll_repo(source, ingester, sink)
    add_summary(upstream, SUMMARY_201)
    upstream.commit("add weekly 201")
    await poll_repo(source, ingester, sink)
    add_summary(upstream, SUMMARY_251)
    add_full_201(upstream)
    upstream.commit("add weekly 251&201")

    result = await poll_repo(source, ingester, sink)

    assert result.status == "ingested"
    released = [e for e in result.events if isinstance(e, FullTextReleased)]
    new = [e for e in result.events if isinstance(e, NewIssue)]
    assert [e.number for e in new] == [251]
    assert len(released) == 1
    release = released[0]
    assert release.number == 201
    assert set(release.pairings) == {"zh", "en"}
    for lang, pairing in release.pairings.items():
        assert pairing.complete, lang
        assert len(pairing.pairs) == 8
    first = release.pairings["zh"].pairs[0]
    assert first.summary.url is None
    assert first.full.url == "https://example.com/paper-planes"
    stored = await store.issues.load(201, "zh")
    assert stored is not None
    assert stored.form == "full"


async def test_a_typo_fix_in_a_full_issue_announces_nothing(
    tmp_path: Path, upstream: Upstream, store: Store
) -> None:
    add_full_201(upstream)
    upstream.commit("add weekly 201 (full)")
    source, ingester, sink = watching(tmp_path, upstream, store)
    await poll_repo(source, ingester, sink)
    await ingester.ingest(await source.find_issue(201), sink)  # store it as known
    hash_before = await store.issues.content_hash(201, "zh")
    sink.delivered.clear()
    upstream.write(
        f"docs/{SUMMARY_201}", full_201("zh").replace("作者用折纸做比喻", "作者用折纸作比喻")
    )
    upstream.commit("fix a typo in 201")

    result = await poll_repo(source, ingester, sink)

    assert result.status == "ingested"
    assert result.events == ()
    assert sink.delivered == []
    assert await store.issues.content_hash(201, "zh") != hash_before


async def test_a_restart_in_the_middle_of_ingest_duplicates_nothing(
    tmp_path: Path, upstream: Upstream
) -> None:
    db_path = tmp_path / "weekly.db"
    add_summary(upstream, SUMMARY_201)
    upstream.commit("add weekly 201")
    sink = Recorder()
    async with Database.open(db_path) as db:
        await migrate(db, now=T0)
        store = Store(db)
        source = make_source(tmp_path, upstream)
        ingester = make_ingester(store, source)
        await poll_repo(source, ingester, sink)
        add_summary(upstream, SUMMARY_251)
        upstream.commit("add weekly 251")
        # What poll_repo does, stopped before the cursor is stored (the "crash").
        state = await store.get_source_state(source.name)
        assert state is not None
        assert state.cursor is not None
        head = await source.fetch()
        await ingester.ingest(await source.changed_files(state.cursor, head), sink)
        items_after_crash = await item_count(store)
    assert [type(e) for e in sink.delivered] == [NewIssue]

    async with Database.open(db_path) as db:
        store = Store(db)
        source = make_source(tmp_path, upstream)
        result = await poll_repo(source, make_ingester(store, source), sink)
        assert result.status == "ingested"
        assert result.events == ()
        assert await item_count(store) == items_after_crash
        state = await store.get_source_state(source.name)
        assert state is not None
        assert state.cursor == head
    assert len(sink.delivered) == 1


async def test_a_failed_delivery_keeps_the_cursor_and_the_events_come_again(
    tmp_path: Path, upstream: Upstream, store: Store
) -> None:
    source, ingester, sink = watching(tmp_path, upstream, store)
    baseline = await poll_repo(source, ingester, sink)
    add_summary(upstream, SUMMARY_251)
    upstream.commit("add weekly 251")
    sink.fail_next = True

    failed = await poll_repo(source, ingester, sink)

    assert failed.status == "error"
    assert failed.error is not None
    assert "outbox unavailable" in failed.error
    state = await store.get_source_state(source.name)
    assert state is not None
    assert state.cursor == baseline.revision
    assert state.consecutive_failures == 1
    assert await store.issues.latest_number("zh") is None
    retried = await poll_repo(source, ingester, sink)
    assert retried.status == "ingested"
    assert [e.number for e in sink.delivered] == [251]


async def test_a_git_failure_is_a_clear_error_and_the_next_poll_works(
    tmp_path: Path, upstream: Upstream, store: Store
) -> None:
    source, ingester, sink = watching(tmp_path, upstream, store)
    moved = upstream.root.with_name("elsewhere")
    upstream.root.rename(moved)

    result = await poll_repo(source, ingester, sink)

    assert result.status == "error"
    assert result.error is not None
    assert result.error.startswith("git fetch failed (exit 128)")
    assert "does not appear to be a git repository" in result.error
    state = await store.get_source_state(source.name)
    assert state is not None
    assert state.consecutive_failures == 1
    assert state.last_error == result.error
    moved.rename(upstream.root)
    recovered = await poll_repo(source, ingester, sink)
    assert recovered.status == "baseline"
    state = await store.get_source_state(source.name)
    assert state is not None
    assert state.consecutive_failures == 0
    assert state.last_error is None


async def test_a_bad_url_names_the_url_problem(tmp_path: Path, store: Store) -> None:
    source = GitRepoSource(
        RepoOptions(mirror_dir=tmp_path / "m.git", url="file:///nonexistent/nowhere.git")
    )

    result = await poll_repo(source, make_ingester(store, source), Recorder())

    assert result.status == "error"
    assert result.error is not None
    assert "nonexistent/nowhere.git" in result.error


async def test_collections_other_files_and_unfollowed_languages_are_ignored(
    tmp_path: Path, upstream: Upstream, store: Store
) -> None:
    source, ingester, sink = watching(tmp_path, upstream, store)
    await poll_repo(source, ingester, sink)
    collection = (FIXTURES / "issues" / "2031-02-01-sweekly.md").read_text(encoding="utf-8")
    upstream.write("docs/2031-02-01-sweekly.md", collection)
    upstream.write("docs/ja/2031-12-20-weekly.md", fixture_text("zh", SUMMARY_251))
    upstream.write("README.md", "# index\n\n- #251\n")
    upstream.commit("collection, ja and README")

    result = await poll_repo(source, ingester, sink)

    assert result.status == "ingested"
    assert result.events == ()
    assert result.warnings == ()
    assert ingester.parses == 0


async def test_backfill_finds_an_issue_by_number_and_announces_it(
    tmp_path: Path, upstream: Upstream, store: Store
) -> None:
    add_full_201(upstream)
    mentions_201 = fixture_text("zh", SUMMARY_251) + "\n[周刊#201：往期](https://example.com/201)\n"
    upstream.add_issue(SUMMARY_251, mentions_201, fixture_text("en", SUMMARY_251))
    upstream.commit("two issues")
    source, ingester, sink = watching(tmp_path, upstream, store)
    await poll_repo(source, ingester, sink)

    result = await backfill(source, ingester, 201, sink)

    assert result.status == "ingested"
    assert len(sink.delivered) == 1
    event = sink.delivered[0]
    assert isinstance(event, NewIssue)
    assert event.number == 201
    assert set(event.issues) == {"zh", "en"}
    assert {issue.form for issue in event.issues.values()} == {"full"}
    missing = await backfill(source, ingester, 999, sink)
    assert missing.status == "error"
    assert missing.error is not None
    assert "#999" in missing.error


def test_name_status_output_handles_renames_and_deletes() -> None:
    out = b"M\0docs/a-weekly.md\0R097\0docs/old.md\0docs/new.md\0D\0docs/gone.md\0A\0x.md\0"

    parsed = _parse_name_status(out)

    assert parsed == [
        ("M", ["docs/a-weekly.md"]),
        ("R097", ["docs/old.md", "docs/new.md"]),
        ("D", ["docs/gone.md"]),
        ("A", ["x.md"]),
    ]
