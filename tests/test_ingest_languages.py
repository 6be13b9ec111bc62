"""Each (issue, language) is its own arrival, through a real git repository.

The real newsletter often gets an issue's English file days after the Chinese one, and
batch translations of the archive months later (issue 10, point 3); refused files are
told to the editors, never published (point 6).
"""

from __future__ import annotations

from pathlib import Path

from bot.weekly.ingest import BackfillAvailable, FileNotice, NewIssue, poll_repo
from bot.weekly.sources.git_repo import issue_path
from data.store import Store
from tests.test_source_git import (
    SUMMARY_201,
    SUMMARY_251,
    Upstream,
    fixture_text,
    store,
    upstream,
    watching,
)

__all__ = ["store", "upstream"]  # fixtures, shared with test_source_git

NAME_202 = "2031-01-11-weekly.md"


def text_202(lang: str) -> str:
    return fixture_text(lang, SUMMARY_201).replace("#201", "#202", 1)


def add(upstream: Upstream, name: str, lang: str, text: str) -> None:
    upstream.write(issue_path(name, lang), text)  # type: ignore[arg-type]


async def test_zh_then_en_a_week_later_are_two_arrivals(
    tmp_path: Path, upstream: Upstream, store: Store
) -> None:
    source, ingester, sink = watching(tmp_path, upstream, store)
    await poll_repo(source, ingester, sink)
    add(upstream, SUMMARY_251, "zh", fixture_text("zh", SUMMARY_251))
    upstream.commit("add weekly 251 (zh)")
    await poll_repo(source, ingester, sink)
    add(upstream, SUMMARY_251, "en", fixture_text("en", SUMMARY_251))
    upstream.commit("translate weekly 251")
    await poll_repo(source, ingester, sink)

    events = [e for e in sink.delivered if isinstance(e, NewIssue)]
    assert [(e.number, sorted(e.issues)) for e in events] == [(251, ["zh"]), (251, ["en"])]
    assert await store.issues.latest_number("en") == 251


async def test_en_first_then_zh(tmp_path: Path, upstream: Upstream, store: Store) -> None:
    source, ingester, sink = watching(tmp_path, upstream, store)
    await poll_repo(source, ingester, sink)
    add(upstream, SUMMARY_251, "en", fixture_text("en", SUMMARY_251))
    upstream.commit("en first")
    await poll_repo(source, ingester, sink)
    add(upstream, SUMMARY_251, "zh", fixture_text("zh", SUMMARY_251))
    upstream.commit("zh later")
    await poll_repo(source, ingester, sink)
    events = [e for e in sink.delivered if isinstance(e, NewIssue)]
    assert [(e.number, sorted(e.issues)) for e in events] == [(251, ["en"]), (251, ["zh"])]


async def test_a_language_not_utf8_is_refused_with_its_reason_and_not_stored(
    tmp_path: Path, upstream: Upstream, store: Store
) -> None:
    source, ingester, sink = watching(tmp_path, upstream, store)
    await poll_repo(source, ingester, sink)
    add(upstream, SUMMARY_251, "zh", fixture_text("zh", SUMMARY_251))
    bad = upstream.root / issue_path(SUMMARY_251, "en")
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"# Python Trending Weekly #251\n\n\xff\xfe broken\n")
    upstream.commit("both in one commit, en broken")
    await poll_repo(source, ingester, sink)

    notices = [e for e in sink.delivered if isinstance(e, FileNotice)]
    assert len(notices) == 1
    assert notices[0].refused
    assert notices[0].path == issue_path(SUMMARY_251, "en")
    assert notices[0].reasons == ("not valid UTF-8 (byte 31)",)
    assert len(notices[0].blob) == 40
    [event] = [e for e in sink.delivered if isinstance(e, NewIssue)]
    assert sorted(event.issues) == ["zh"]
    assert dict(event.refused) == {"en": "not valid UTF-8 (byte 31)"}
    assert await store.issues.load(251, "en") is None


async def test_a_file_without_a_number_is_refused_as_a_notice(
    tmp_path: Path, upstream: Upstream, store: Store
) -> None:
    source, ingester, sink = watching(tmp_path, upstream, store)
    await poll_repo(source, ingester, sink)
    untitled = fixture_text("en", SUMMARY_251).replace("#251", "", 1)
    add(upstream, SUMMARY_251, "en", untitled)
    upstream.commit("en without a number")
    await poll_repo(source, ingester, sink)
    [notice] = sink.delivered
    assert isinstance(notice, FileNotice)
    assert notice.refused
    assert "no issue number" in notice.reasons[0]


async def test_a_batch_of_old_translations_is_stored_quietly_and_listed_once(
    tmp_path: Path, upstream: Upstream, store: Store
) -> None:
    add(upstream, SUMMARY_201, "zh", fixture_text("zh", SUMMARY_201))
    add(upstream, NAME_202, "zh", text_202("zh"))
    add(upstream, SUMMARY_251, "zh", fixture_text("zh", SUMMARY_251))
    upstream.commit("the archive, zh only")
    source, ingester, sink = watching(tmp_path, upstream, store)
    await poll_repo(source, ingester, sink)  # the baseline
    add(upstream, SUMMARY_201, "en", fixture_text("en", SUMMARY_201))
    add(upstream, NAME_202, "en", text_202("en"))
    upstream.commit("translate the archive")
    await poll_repo(source, ingester, sink)

    assert sink.delivered == [BackfillAvailable(((201, "en"), (202, "en")))]
    assert await store.issues.load(201, "en") is not None
    assert await store.issues.load(202, "en") is not None
