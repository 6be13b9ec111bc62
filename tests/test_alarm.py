"""Silence and failing-source alarms: raised once, quiet while they last, cleared once."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.weekly.alarm import SILENCE, AlarmInputs, check_alarms, decide_alarms
from bot.weekly.settings import PublishingSettings
from data.db import MEMORY, Database
from data.migrations import migrate
from data.store import SourceState, Store
from tests.factories import make_issue

DAY = 86_400.0
ISSUE_DAY = dt.datetime(2025, 6, 7, tzinfo=dt.UTC)
SETTINGS = PublishingSettings(silence_days=10, failing_polls=3, timezone="UTC")


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    async with Database.open(MEMORY) as db:
        await migrate(db, now=0)
        yield Store(db)


class Editors:
    """A recording notifier: what the editors were told."""

    def __init__(self) -> None:
        self.told: list[str] = []

    async def __call__(self, text: str) -> None:
        self.told.append(text)


async def test_silence_fires_once_stays_quiet_and_recovers_once(store: Store) -> None:
    await store.issues.upsert(make_issue(number=106), now=ISSUE_DAY)  # dated 2025-06-07
    editors = Editors()

    async def check(days_after: float) -> None:
        now = ISSUE_DAY + dt.timedelta(days=days_after)
        await check_alarms(store, SETTINGS, notify=editors, now=now)

    await check(9.9)
    assert editors.told == []
    await check(10.5)
    assert len(editors.told) == 1
    assert "No new issue for 10 days" in editors.told[0]
    assert "#106 of 2025-06-07" in editors.told[0]
    for later in (11, 12, 30):
        await check(later)
    assert len(editors.told) == 1  # quiet while it lasts

    # A restart: a new store over the same database remembers the alarm.
    await check(31)
    assert len(editors.told) == 1

    newer = dataclasses.replace(make_issue(number=107), date=dt.date(2025, 7, 8))
    await store.issues.upsert(newer, now=ISSUE_DAY)
    await check(31.5)
    assert len(editors.told) == 2
    assert "New issues arrive again" in editors.told[1]
    assert "#107" in editors.told[1]
    await check(32)
    assert len(editors.told) == 2


async def test_a_failing_source_alarms_at_n_polls_and_clears_once(store: Store) -> None:
    editors = Editors()
    now = ISSUE_DAY
    for failures in (1, 2, 3, 4, 5, 0, 0):
        state = SourceState("github:weekly", consecutive_failures=failures, last_error="<boom>")
        await store.put_source_state(state, now=now)
        await check_alarms(store, SETTINGS, notify=editors, now=now)
    assert len(editors.told) == 2
    assert "github:weekly failed 3 polls in a row" in editors.told[0]
    assert "&lt;boom&gt;" in editors.told[0]  # escaped for Telegram HTML
    assert "works again" in editors.told[1]


async def test_an_empty_database_is_not_late() -> None:
    inputs = AlarmInputs(
        now=100 * DAY, last_issue_at=None, newest_issue=None, sources=(), raised=frozenset()
    )
    assert decide_alarms(inputs, silence_days=10, failing_polls=3) == []


def test_the_last_new_issue_event_counts_even_without_a_dated_issue() -> None:
    inputs = AlarmInputs(
        now=20 * DAY, last_issue_at=15 * DAY, newest_issue=None, sources=(), raised=frozenset()
    )
    assert decide_alarms(inputs, silence_days=10, failing_polls=3) == []
    raised = dataclasses.replace(inputs, raised=frozenset({SILENCE}))
    (change,) = decide_alarms(raised, silence_days=10, failing_polls=3)
    assert (change.name, change.action) == (SILENCE, "clear")
