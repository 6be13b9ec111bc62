"""A bounded chaos run: kill -9 the real bot process mid-publish, restart, count.

The full runs (50 kills, 20% faults) are bench/chaos.py; this one kills three times
while a small plan goes to the fake channel and the fake X, which live in this
process and so keep what they saw across the kills.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.chaos import run_kills

pytestmark = pytest.mark.slow  # real processes started and killed: some seconds


async def test_kill_9_mid_publish_loses_and_doubles_nothing(tmp_path: Path) -> None:
    run = await run_kills(tmp_path, kills=3, seed=7, scale=10.0, items=3, say=print)
    t = run.tally
    assert t.posts >= 6  # 3 items on each of the two targets, per plan
    assert t.lost == 0, t.details
    assert t.duplicated == 0, t.details
    assert t.in_doubt <= run.kills
    assert t.in_doubt_unshown == 0
    assert t.delivered == t.posts - t.in_doubt_absent
