"""A crash between delivering events and storing issues: the redo queues nothing twice.

The hardest spot of the ingest order (plan → deliver → store → cursor): the
posts are queued, then the process dies before the issues are stored. The next
poll plans the same events again; the real publication workflow must absorb
them through its idempotency keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.config import Settings, settings_from_values
from bot.weekly.ingest import Ingester, IssueEvent, NewIssue, poll_repo
from bot.weekly.publication import Publication
from data.db import Database
from data.migrations import migrate
from data.store import Store
from tests.test_source_git import (
    SUMMARY_251,
    T0,
    Upstream,
    fixture_text,
    make_source,
)

NOW = dt.datetime.fromtimestamp(T0, dt.UTC)


def settings(tmp_path: Path, *, preview: bool) -> Settings:
    return settings_from_values(
        {
            "telegram": {"token": "123456:TEST-token-for-the-fake", "channel_id": -1001},
            "database_path": tmp_path / "weekly.db",
            "publishing": {"preview": preview},
        }
    )


class PublishingSink:
    """`deliver` as the bot does it: new issues go to the publication workflow."""

    def __init__(self, publication: Publication) -> None:
        self.publication = publication
        self.calls = 0

    async def __call__(self, events: Sequence[IssueEvent]) -> None:
        self.calls += 1
        for event in events:
            if isinstance(event, NewIssue):
                await self.publication.on_new_issue(event, now=NOW)


async def table_count(store: Store, table: str) -> int:
    async with store.db.transaction(write=False) as tx:
        row = await tx.fetchone(f"SELECT count(*) AS n FROM {table}")  # noqa: S608 - fixed names
    assert row is not None
    return int(row["n"])


@pytest.mark.parametrize(("preview", "table"), [(False, "outbox"), (True, "previews")])
async def test_a_crash_after_delivery_before_storing_queues_nothing_twice(
    tmp_path: Path, preview: bool, table: str
) -> None:
    upstream = Upstream(tmp_path / "upstream")
    config = settings(tmp_path, preview=preview)
    async with Database.open(config.database_path) as db:
        await migrate(db, now=T0)
        store = Store(db)
        source = make_source(tmp_path, upstream)
        sink = PublishingSink(Publication(store, config))
        ingester = Ingester(store, source_name=source.name, clock=lambda: T0)
        assert (await poll_repo(source, ingester, sink)).status == "baseline"
        upstream.add_issue(
            SUMMARY_251, fixture_text("zh", SUMMARY_251), fixture_text("en", SUMMARY_251)
        )
        upstream.commit("add weekly 251")
        state = await store.get_source_state(source.name)
        assert state is not None
        assert state.cursor is not None
        # plan → deliver, then the process dies: no issue stored, no cursor moved.
        files = await source.changed_files(state.cursor, await source.fetch())
        plan = await ingester.plan(files)
        await sink(plan.events)
        queued = await table_count(store, table)
        assert queued > 0
        assert await store.issues.latest_number("zh") is None

    async with Database.open(config.database_path) as db:
        store = Store(db)
        sink = PublishingSink(Publication(store, config))
        ingester = Ingester(store, source_name=source.name, clock=lambda: T0)
        result = await poll_repo(make_source(tmp_path, upstream), ingester, sink)
        assert result.status == "ingested"
        assert [type(e) for e in result.events] == [NewIssue]  # planned again…
        assert await table_count(store, table) == queued  # …but nothing queued twice
        assert await store.issues.latest_number("zh") == 251
        again = await poll_repo(make_source(tmp_path, upstream), ingester, sink)
        assert again.status == "idle"
        assert await table_count(store, table) == queued
