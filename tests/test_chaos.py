"""A bounded chaos run: kill -9 the real bot process mid-publish, restart, count.

The full runs (50 kills, 20% faults, the intake's runs) are bench/chaos.py; these kill
once to three times while a small plan goes to the fake channel and the fake X, while
readers send links, while editors approve, and while the extra edition's queue drains.
The fakes live in this process and so keep what they saw across the kills.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import _chaos_intake as intake
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


# ---- the intake: /submit bursts, approvals, the extra edition's queue ---------------------


async def test_kill_9_during_submit_bursts_loses_no_acknowledged_link(tmp_path: Path) -> None:
    run = await intake.run_submits(tmp_path, kills=1, seed=3, scale=10.0, burst=6, say=print)
    assert run.messages >= 6
    assert run.ack_lost == 0, run.details
    assert run.doubled == 0, run.details  # a repeat or a redelivered update: stored once
    assert run.doubled_acks == 0
    assert run.uncarded == 0  # a link stored before a kill still reaches the editors
    assert run.acknowledged + run.stored_unacked + run.absent == run.links


async def test_kill_9_during_approvals_decides_each_link_once(tmp_path: Path) -> None:
    run = await intake.run_approvals(tmp_path, kills=1, seed=6, scale=10.0, links=4, say=print)
    t = run.tally
    assert run.presses >= 1
    assert run.double_presses >= 1  # seeded: a second press of one decision
    assert run.decided_twice == 0
    assert run.undecided == 0
    assert run.rows_missing == run.rows_doubled == 0
    assert t.posts == 2 * run.decided  # the channel and X
    assert t.lost == 0, t.details
    assert t.duplicated == 0, t.details
    assert t.in_doubt_unshown == 0


async def test_kill_9_while_the_extra_queue_drains_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    run = await intake.run_queue(tmp_path, kills=1, seed=11, scale=10.0, items=4, say=print)
    t = run.tally
    assert t.posts == 2 * run.items
    assert t.lost == 0, t.details
    assert t.duplicated == 0, t.details
    assert t.in_doubt <= run.kills
    assert t.in_doubt_unshown == 0
    assert t.delivered == t.posts - t.in_doubt_absent
