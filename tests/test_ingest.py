"""Ingest of changed issue files: events, numbers, warnings and idempotency."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from bot.domain.issue import Lang
from bot.weekly.ingest import FullTextReleased, Ingester, IssueEvent, NewIssue
from bot.weekly.sources.git_repo import Change, ChangedFile
from data.db import Database
from data.migrations import migrate
from data.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
T0 = 1_900_000_000.0
NAME_201 = "2031-01-04-weekly.md"
NAME_251 = "2031-12-20-weekly.md"


def summary(lang: Lang, name: str) -> str:
    return (FIXTURES / "repo" / lang / name).read_text(encoding="utf-8")


def full_201(lang: Lang) -> str:
    name = NAME_201 if lang == "zh" else "2031-01-04-weekly.en.md"
    return (FIXTURES / "issues" / name).read_text(encoding="utf-8")


def changed(lang: Lang, name: str, text: str, change: Change = "added") -> ChangedFile:
    path = f"docs/{name}" if lang == "zh" else f"docs/{lang}/{name}"
    return ChangedFile(path, lang, change, text, "rev")


class Sink:
    def __init__(self) -> None:
        self.delivered: list[IssueEvent] = []

    async def __call__(self, events: Sequence[IssueEvent]) -> None:
        self.delivered.extend(events)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with Database.open(tmp_path / "weekly.db") as db:
        await migrate(db, now=T0)
        yield Store(db)


@pytest.fixture
def ingester(store: Store) -> Ingester:
    return Ingester(store, source_name="git:test", clock=lambda: T0)


async def test_en_number_that_disagrees_with_zh_takes_the_zh_number(
    ingester: Ingester, store: Store
) -> None:
    wrong_en = summary("en", NAME_251).replace("#251", "#250", 1)
    files = [changed("zh", NAME_251, summary("zh", NAME_251)), changed("en", NAME_251, wrong_en)]

    plan = await ingester.ingest(files, Sink())

    assert [type(e) for e in plan.events] == [NewIssue]
    assert plan.events[0].number == 251
    assert set(plan.events[0].issues) == {"zh", "en"}
    assert await store.issues.load(250, "en") is None
    en = await store.issues.load(251, "en")
    assert en is not None
    assert en.number == 251
    assert [w.message for w in plan.warnings] == ["title says #250, zh says #251; using zh"]


async def test_a_file_that_is_not_an_issue_is_a_warning_not_a_crash(
    ingester: Ingester, store: Store
) -> None:
    collection = (FIXTURES / "issues" / "2031-02-01-sweekly.md").read_text(encoding="utf-8")
    files = [
        changed("zh", "2031-02-01-weekly.md", collection),
        changed("zh", NAME_251, summary("zh", NAME_251)),
    ]

    plan = await ingester.ingest(files, Sink())

    assert [e.number for e in plan.events] == [251]
    assert len(plan.warnings) == 1
    assert plan.warnings[0].path == "docs/2031-02-01-weekly.md"
    assert plan.warnings[0].message.startswith("not an issue:")
    audit = await store.list_audit(action="source.warning")
    assert [entry.subject for entry in audit] == ["docs/2031-02-01-weekly.md"]


async def test_season_collection_file_names_are_skipped_unparsed(ingester: Ingester) -> None:
    collection = (FIXTURES / "issues" / "2031-02-01-sweekly.md").read_text(encoding="utf-8")

    plan = await ingester.plan([changed("zh", "2031-02-01-lweekly.md", collection)])

    assert plan.events == ()
    assert plan.warnings == ()
    assert ingester.parses == 0


async def test_a_modified_file_never_seen_is_stored_silently(
    ingester: Ingester, store: Store
) -> None:
    plan = await ingester.ingest([changed("zh", NAME_201, full_201("zh"), "modified")], Sink())

    assert plan.events == ()
    stored = await store.issues.load(201, "zh")
    assert stored is not None
    assert stored.form == "full"


async def test_summary_then_full_releases_once_with_links(ingester: Ingester, store: Store) -> None:
    sink = Sink()
    await ingester.ingest([changed("zh", NAME_201, summary("zh", NAME_201))], sink)
    release = [changed("zh", NAME_201, full_201("zh"), "modified")]

    first = await ingester.ingest(release, sink)
    second = await ingester.ingest(release, sink)

    assert [type(e) for e in sink.delivered] == [NewIssue, FullTextReleased]
    event = first.events[0]
    assert isinstance(event, FullTextReleased)
    pairing = event.pairings["zh"]
    assert pairing.complete
    assert all(pair.full.url or pair.full.flags for pair in pairing.pairs)
    assert second.events == ()
    assert second.writes == ()


async def test_a_summary_edit_announces_nothing(ingester: Ingester) -> None:
    sink = Sink()
    await ingester.ingest([changed("zh", NAME_251, summary("zh", NAME_251))], sink)
    edited = summary("zh", NAME_251).replace("高效的 RSS 轮询器", "高效的 RSS/Atom 轮询器")

    plan = await ingester.ingest([changed("zh", NAME_251, edited, "modified")], sink)

    assert plan.events == ()
    assert len(plan.writes) == 1
    assert len(sink.delivered) == 1


async def test_plan_writes_nothing_until_apply(ingester: Ingester, store: Store) -> None:
    files = [changed("zh", NAME_251, summary("zh", NAME_251))]

    plan = await ingester.plan(files)
    replanned = await ingester.plan(files)

    assert await store.issues.latest_number("zh") is None
    assert [e.number for e in replanned.events] == [e.number for e in plan.events] == [251]
    await ingester.apply(plan)
    assert (await ingester.plan(files)).events == ()


async def test_backfill_mode_announces_an_issue_already_stored(ingester: Ingester) -> None:
    files = [changed("zh", NAME_251, summary("zh", NAME_251))]
    await ingester.ingest(files, Sink())

    plan = await ingester.plan(files, announce_stored=True)

    assert [type(e) for e in plan.events] == [NewIssue]
    assert plan.writes == ()
